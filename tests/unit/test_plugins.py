"""Plugin discovery through entry points and lookup by every name a plugin answers to."""

from __future__ import annotations

import pytest
from kconnect.api.connector import SinkConnector, SourceConnector
from kconnect.plugins import PluginNotFoundError, PluginRegistry, registry


@pytest.fixture(scope="module")
def plugins() -> PluginRegistry:
    return registry()


@pytest.mark.parametrize(
    "name",
    [
        "FileStreamSource",
        "FileStreamSourceConnector",
        "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "kconnect_builtins.file.source.FileStreamSourceConnector",
        "kconnect_builtins.file.source:FileStreamSourceConnector",
    ],
)
def test_a_connector_is_found_by_each_of_its_names(plugins, name):
    cls = plugins.find("connector", name)
    assert cls.__name__ == "FileStreamSourceConnector"
    assert issubclass(cls, SourceConnector)


def test_sink_connector_by_kafka_short_alias(plugins):
    assert issubclass(plugins.find("connector", "FileStreamSink"), SinkConnector)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("org.apache.kafka.connect.json.JsonConverter", "JsonConverter"),
        ("org.apache.kafka.connect.storage.StringConverter", "StringConverter"),
        ("JsonConverter", "JsonConverter"),
        ("Json", "JsonConverter"),
        ("org.apache.kafka.connect.converters.ByteArrayConverter", "ByteArrayConverter"),
    ],
)
def test_converters_by_java_and_short_names(plugins, name, expected):
    assert plugins.find("converter", name).__name__ == expected


def test_unknown_name_suggests_the_closest_plugins(plugins):
    with pytest.raises(PluginNotFoundError) as error:
        plugins.find("connector", "FileStreamSorce")
    message = str(error.value)
    assert "which name matches FileStreamSorce" in message
    assert "Did you mean: FileStreamSource" in message


def test_unknown_java_name_suggests_by_simple_name(plugins):
    with pytest.raises(PluginNotFoundError) as error:
        plugins.find("connector", "org.apache.kafka.connect.file.FileStreamSinkConector")
    assert "FileStreamSinkConnector" in str(error.value)


def test_plain_python_path_that_is_not_registered_is_imported(plugins):
    cls = plugins.find("connector", "kconnect_builtins.file.sink.FileStreamSinkConnector")
    assert cls.__name__ == "FileStreamSinkConnector"


def test_a_plugin_that_fails_to_import_is_listed_as_broken_and_others_load(monkeypatch):
    from importlib.metadata import EntryPoint

    import stevedore

    good = EntryPoint(
        "FileStreamSource",
        "kconnect_builtins.file.source:FileStreamSourceConnector",
        "kconnect.test_broken",
    )
    bad = EntryPoint("Broken", "no_such_module_anywhere:Thing", "kconnect.test_broken")

    original = stevedore.ExtensionManager.list_entry_points

    def fake_list(self):
        if self.namespace == "kconnect.test_broken":
            return [good, bad]
        return original(self)

    monkeypatch.setattr(stevedore.ExtensionManager, "list_entry_points", fake_list)
    reg = PluginRegistry({"connector": "kconnect.test_broken"})
    assert [d.entry_point for d in reg.plugins("connector")] == ["FileStreamSource"]
    assert [(b.entry_point, b.target) for b in reg.broken] == [
        ("Broken", "no_such_module_anywhere:Thing")
    ]
    assert "No module named 'no_such_module_anywhere'" in reg.broken[0].error
    with pytest.raises(PluginNotFoundError) as error:
        reg.find("connector", "Broken")
    assert "failed to load" in str(error.value)


def test_every_builtin_entry_point_loads(plugins):
    assert plugins.broken == []


def test_short_names_shared_by_two_plugins_are_not_aliases(plugins):
    # Cast$Key and Flatten$Key are both "Key" in Java; "Key" must not pick one at random.
    with pytest.raises(PluginNotFoundError):
        plugins.find("transform", "Key")
    assert (
        plugins.find("transform", "org.apache.kafka.connect.transforms.Cast$Key").__qualname__
        == "Cast.Key"
    )


def test_standard_library_modules_are_never_imported_by_name(plugins):
    with pytest.raises(PluginNotFoundError):
        plugins.find("connector", "antigravity.Thing")
    with pytest.raises(PluginNotFoundError):
        plugins.find("connector", "os.path.Thing")


def test_a_python_path_of_the_wrong_kind_is_refused(plugins):
    # A real, importable class that is not a Connector.
    with pytest.raises(PluginNotFoundError):
        plugins.find("connector", "kconnect_builtins.converters.string.StringConverter")
