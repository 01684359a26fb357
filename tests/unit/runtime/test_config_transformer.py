"""${provider:path:key} variables: the built-in providers, the transformer, and the reverse
transform that keeps stored task configs free of resolved values."""

from __future__ import annotations

from pathlib import Path

import pytest
from kconnect.api import ConfigData, ConfigProvider
from kconnect.api.errors import ConfigException
from kconnect.plugins import registry
from kconnect.runtime.config_transformer import (
    ConfigTransformer,
    WorkerConfigTransformer,
    hide_resolved_values,
    providers_from_worker_config,
)
from kconnect_builtins.config_providers import (
    DirectoryConfigProvider,
    EnvVarConfigProvider,
    FileConfigProvider,
)


@pytest.fixture
def secrets_file(tmp_path: Path) -> Path:
    path = tmp_path / "secrets.properties"
    path.write_text("db.password=s3cret\ntopic = orders-topic\nescaped=a\\:b\n", encoding="utf-8")
    return path


def test_file_provider_reads_a_properties_file(secrets_file: Path) -> None:
    provider = FileConfigProvider()
    provider.configure({})
    assert provider.get(str(secrets_file)).data == {
        "db.password": "s3cret",
        "topic": "orders-topic",
        "escaped": "a:b",
    }
    assert provider.get(str(secrets_file), {"topic", "missing"}).data == {"topic": "orders-topic"}
    assert provider.get("").data == {}


def test_file_provider_names_only_the_path_when_it_cannot_read(tmp_path: Path) -> None:
    provider = FileConfigProvider()
    with pytest.raises(
        ConfigException, match=f"^Could not read properties from file {tmp_path}/nope$"
    ):
        provider.get(str(tmp_path / "nope"), {"k"})


def test_allowed_paths_limit_what_file_and_dir_providers_read(
    secrets_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "sub"
    other.mkdir()
    for provider in (FileConfigProvider(), DirectoryConfigProvider()):
        provider.configure({"allowed.paths": str(other)})
    file_provider = FileConfigProvider()
    file_provider.configure({"allowed.paths": str(other)})
    assert file_provider.get(str(secrets_file)).data == {}
    assert file_provider.get(str(other / ".." / "secrets.properties")).data == {}
    file_provider.configure({"allowed.paths": str(tmp_path)})
    assert file_provider.get(str(secrets_file), {"topic"}).data == {"topic": "orders-topic"}
    with pytest.raises(ConfigException, match="is not absolute"):
        FileConfigProvider().configure({"allowed.paths": "relative/dir"})


def test_env_provider_reads_variables_with_an_empty_path() -> None:
    provider = EnvVarConfigProvider({"DB_PASSWORD": "pw", "HOME": "/root"})
    provider.configure({})
    assert provider.get("", {"DB_PASSWORD", "NOPE"}).data == {"DB_PASSWORD": "pw"}
    provider.configure({"allowlist.pattern": "^DB_"})
    assert provider.get("").data == {"DB_PASSWORD": "pw"}
    with pytest.raises(
        ConfigException, match="Path is not supported for EnvVarConfigProvider, invalid value '/x'"
    ):
        provider.get("/x", {"HOME"})


def test_directory_provider_maps_file_names_to_contents(tmp_path: Path) -> None:
    (tmp_path / "db-password").write_text("pw\n", encoding="utf-8")
    (tmp_path / "user").write_text("app", encoding="utf-8")
    (tmp_path / "nested").mkdir()
    provider = DirectoryConfigProvider()
    provider.configure({})
    assert provider.get(str(tmp_path)).data == {"db-password": "pw\n", "user": "app"}
    assert provider.get(str(tmp_path), {"user", "nested"}).data == {"user": "app"}
    assert provider.get(str(tmp_path / "user")).data == {}  # not a directory


def test_builtin_providers_are_found_by_kafka_and_short_names() -> None:
    found = registry()
    assert (
        found.find("config_provider", "org.apache.kafka.common.config.provider.FileConfigProvider")
        is FileConfigProvider
    )
    assert found.find("config_provider", "EnvVarConfigProvider") is EnvVarConfigProvider
    assert found.find("config_provider", "DirectoryConfigProvider") is DirectoryConfigProvider


class Vault(ConfigProvider):
    def __init__(self) -> None:
        self.calls: list[tuple[str, frozenset[str]]] = []

    def get(self, path: str, keys: object = None) -> ConfigData:
        self.calls.append((path, frozenset(keys or ())))
        return ConfigData(
            {"user": "admin", "password": "pw"}, ttl=5000 if path == "short" else None
        )


def test_transformer_resolves_known_variables_and_leaves_others() -> None:
    vault = Vault()
    result = ConfigTransformer({"vault": vault}).transform(
        {
            "a": "${vault:db:user}",
            "b": "jdbc://${vault:db:user}:${vault:db:password}@host",
            "c": "${vault:db:missing}",
            "d": "${other:x:y}",
            "e": "plain",
            "f": "${vault:short:user}",
        }
    )
    assert result.data == {
        "a": "admin",
        "b": "jdbc://admin:pw@host",
        "c": "${vault:db:missing}",
        "d": "${other:x:y}",
        "e": "plain",
        "f": "admin",
    }
    assert sorted(vault.calls) == [
        ("db", frozenset({"user", "password", "missing"})),
        ("short", frozenset({"user"})),
    ]
    assert result.ttls == {"short": 5000}


def test_env_style_variable_without_path() -> None:
    transformer = ConfigTransformer({"env": EnvVarConfigProvider({"TOPIC": "t1"})})
    assert transformer.transform({"topic": "${env:TOPIC}"}).data == {"topic": "t1"}


def test_worker_config_names_providers_with_params(secrets_file: Path, tmp_path: Path) -> None:
    providers = providers_from_worker_config(
        {
            "config.providers": "file,dir",
            "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
            "config.providers.dir.class": "DirectoryConfigProvider",
            "config.providers.dir.param.allowed.paths": str(tmp_path),
        },
        registry(),
    )
    assert isinstance(providers["file"], FileConfigProvider)
    assert providers["dir"]._allowed.paths == [str(tmp_path)]
    with pytest.raises(
        ConfigException, match='Missing required configuration "config.providers.x.class"'
    ):
        providers_from_worker_config({"config.providers": "x"}, registry())


def test_reverse_transform_puts_variables_back_into_task_configs(secrets_file: Path) -> None:
    transformer = WorkerConfigTransformer({"file": FileConfigProvider()})
    raw = {"topic": f"${{file:{secrets_file}:topic}}", "file": "/tmp/in"}
    resolved = transformer.transform(raw)
    assert resolved["topic"] == "orders-topic"
    tasks = transformer.reverse_transform(
        raw, resolved, [{"topic": "orders-topic", "file": "/tmp/in", "x": "1"}]
    )
    assert tasks == [{"topic": raw["topic"], "file": "/tmp/in", "x": "1"}]


def test_no_providers_means_configs_pass_unchanged() -> None:
    transformer = WorkerConfigTransformer({})
    assert transformer.transform({"a": "${file:/x:y}"}) == {"a": "${file:/x:y}"}


def test_validation_answers_hide_resolved_values() -> None:
    raw = {"password": "${file:/s:pw}", "name": "c"}
    resolved = {"password": "hunter2", "name": "c"}
    infos = {
        "configs": [
            {
                "value": {
                    "name": "password",
                    "value": "hunter2",
                    "errors": ["Invalid value hunter2 for configuration password: too short"],
                }
            },
            {"value": {"name": "name", "value": "c", "errors": []}},
        ]
    }
    hidden = hide_resolved_values(infos, raw, resolved)
    assert hidden["configs"][0]["value"]["value"] == "${file:/s:pw}"
    assert hidden["configs"][0]["value"]["errors"] == [
        "Invalid value ${file:/s:pw} for configuration password: too short"
    ]
    assert "hunter2" not in repr(hidden)
