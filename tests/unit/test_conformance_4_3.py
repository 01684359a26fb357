"""Kafka Connect 4.3 conformance, where the logic lives (the REST-level checks against a real
worker are in tests/integration/rest/test_conformance_4_3.py)."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from kconnect.api.converter import Converter
from kconnect.api.data import Date, Schema, Time, Type
from kconnect.api.errors import ConfigException
from kconnect.api.records import Headers, SourceRecord
from kconnect.cli import read_connector_file
from kconnect.plugins import registry
from kconnect.rest.http import string_map
from kconnect.runtime.config_json import config_strings, loads_keeping_numbers
from kconnect.runtime.config_validation import _definition_json, validate_connector_config
from kconnect.runtime.connector_config import common_definition, sink_definition
from kconnect.runtime.states import State, Status, TaskId
from kconnect.runtime.status_reporter import StatusReporter
from kconnect.runtime.version_range import InvalidVersionRange, parse_requirement, unmet_message
from kconnect.runtime.worker_config import WorkerConfig
from kconnect.runtime.worker_plugins import check_worker_converters
from kconnect.storage.memory_status_store import MemoryStatusBackingStore
from kconnect.storage.status_records import parse_status_record, serialize_status
from kconnect_builtins.converters.simple_header import SimpleHeaderConverter
from kconnect_builtins.file.sink import CONFIG_DEF as SINK_CONFIG_DEF
from kconnect_builtins.file.sink import FileStreamSinkTask
from kconnect_builtins.transforms.insert_header import InsertHeader

SINK_CLASS = "kconnect_builtins.file.sink.FileStreamSinkConnector"


# -- FileStreamSink: "file" is optional ----------------------------------------------------------
def test_file_sink_file_is_optional_and_means_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SINK_CONFIG_DEF.config_keys["file"].has_default()
    assert SINK_CONFIG_DEF.validate({})[0].error_messages == []
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    task = FileStreamSinkTask()
    task.start({"topics": "t"})
    assert task.filename is None and task.stream is out


# -- /validate without "name" ----------------------------------------------------------------------
def test_validate_without_name_reports_it_on_the_name_entry() -> None:
    infos = validate_connector_config(registry(), {"connector.class": "FileStreamSink"})
    errors = {c["value"]["name"]: c["value"]["errors"] for c in infos["configs"]}
    assert errors["name"] == ['Missing required configuration "name" which has no default value.']
    assert infos["error_count"] == 1


# -- ConfigKeyInfo ---------------------------------------------------------------------------------
def test_config_key_info_names_the_group_order_as_kafka_does() -> None:
    key = common_definition().config_keys["tasks.max"]
    entry = _definition_json(key, "tasks.max")
    assert list(entry) == [
        "name",
        "type",
        "required",
        "default_value",
        "importance",
        "documentation",
        "group",
        "order_in_group",
        "width",
        "display_name",
        "dependents",
    ]
    assert entry["order_in_group"] == 4
    assert _definition_json(None, "undeclared")["order_in_group"] == -1


def test_connector_keys_are_numbered_as_in_kafka_4_3() -> None:
    keys = sink_definition("1.0").config_keys
    orders = {name: (key.group, key.order_in_group) for name, key in keys.items()}
    assert orders["name"] == ("Common", 1)
    assert orders["connector.class"] == ("Common", 2)
    assert orders["connector.plugin.version"] == ("Common", 3)
    assert orders["tasks.max"] == ("Common", 4)
    assert orders["key.converter"] == ("Common", 6)
    assert orders["transforms"] == ("Transforms", 12)
    assert orders["config.action.reload"] == ("Common", 14)
    assert orders["errors.retry.timeout"] == ("Error Handling", 1)
    assert orders["errors.log.include.messages"] == ("Error Handling", 5)
    assert orders["errors.deadletterqueue.topic.name"] == ("Error Handling", 6)
    assert keys["connector.plugin.version"].default_value == "1.0"


# -- connector.plugin.version (KIP-891) ------------------------------------------------------------
@pytest.mark.parametrize(
    ("requirement", "printed"),
    [
        ("9.9.9", "[9.9.9,9.9.9]"),
        ("[1.5]", "[1.5,1.5]"),
        ("[1.0,2.0)", "[1.0,2.0)"),
        ("(,1.0],[1.2,)", "(,1.0],[1.2,)"),
    ],
)
def test_version_requirements_read_and_print_as_maven_ranges(
    requirement: str, printed: str
) -> None:
    parsed = parse_requirement(requirement)
    assert parsed is not None and str(parsed) == printed


def test_version_requirements_match_the_installed_version() -> None:
    assert parse_requirement("latest") is None and parse_requirement(None) is None
    assert unmet_message("C", "[0.1,1.0)", "0.1.0") is None
    assert unmet_message("C", "0.1", "0.1.0") is None  # 0.1 is 0.1.0
    assert unmet_message("C", "(,0.1.0)", "0.1.0") == (
        "Plugin C not found that matches the version range (,0.1.0), available versions: [0.1.0]"
    )
    with pytest.raises(InvalidVersionRange, match=r"Unbounded range: \[5.0"):
        parse_requirement("[5.0")


def test_validate_reports_an_unmet_plugin_version_on_both_keys() -> None:
    installed = registry().descriptor("connector", "FileStreamSink").version
    config = {"connector.class": "FileStreamSink", "name": "s", "connector.plugin.version": "9.9"}
    infos = validate_connector_config(registry(), config)
    message = (
        f"Plugin {SINK_CLASS} not found that matches the version range [9.9,9.9], "
        f"available versions: [{installed}]"
    )
    values = {c["value"]["name"]: c["value"] for c in infos["configs"]}
    assert infos["error_count"] == 2
    assert values["connector.class"]["errors"] == [message]
    assert values["connector.plugin.version"]["errors"] == [message]
    assert values["connector.plugin.version"]["recommended_values"] == [installed]
    assert "file" not in values  # the connector itself is not asked, as in Kafka

    fine = validate_connector_config(registry(), {**config, "connector.plugin.version": installed})
    assert fine["error_count"] == 0
    default = validate_connector_config(
        registry(), {"connector.class": "FileStreamSink", "name": "s"}
    )
    entry = next(c for c in default["configs"] if c["value"]["name"] == "connector.plugin.version")
    assert entry["definition"]["default_value"] == installed
    assert entry["value"]["value"] == installed
    with pytest.raises(ConfigException, match="Unbounded range"):
        validate_connector_config(registry(), {**config, "connector.plugin.version": "[1.0"})


# -- "version" in statuses ---------------------------------------------------------------------------
def test_statuses_carry_the_version_of_their_connector_or_task() -> None:
    store = MemoryStatusBackingStore()
    reporter = StatusReporter("w:8083", store)
    reporter.version_of = lambda key: "2.0" if isinstance(key, TaskId) else "1.0"
    reporter.on_connector_state("c", State.RUNNING)
    reporter.on_task_state(TaskId("c", 0), State.RUNNING)
    assert store.connector("c").to_json() == {
        "state": "RUNNING",
        "worker_id": "w:8083",
        "version": "1.0",
    }
    assert store.task(TaskId("c", 0)).to_json()["version"] == "2.0"
    assert Status(State.UNASSIGNED, "w:8083").to_json()["version"] is None


def test_status_records_keep_the_version() -> None:
    value = serialize_status(Status(State.RUNNING, "w:8083", version="1.0"), "1.0")
    record = parse_status_record("status-connector-c", value)
    assert record.status.version == "1.0"  # type: ignore[union-attr]


# -- one literal parser ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("literal", "schema", "value"),
    [
        ("2019-08-23", Date.SCHEMA, datetime.date(2019, 8, 23)),
        ("3.40282356e38", Schema.FLOAT32_SCHEMA, 3.40282356e38),
        ("14:34:54.346Z", Time.SCHEMA, datetime.time(14, 34, 54, 346000)),
    ],
)
def test_insert_header_types_literals_as_values_parse_string(literal, schema, value) -> None:
    header = _inserted(literal)
    assert (header.schema, header.value) == (schema, value)


def test_insert_header_and_simple_header_converter_read_literals_alike() -> None:
    array = _inserted("[1,2]")
    assert array.schema.type is Type.ARRAY and array.value == [1, 2]
    converter = SimpleHeaderConverter()
    converter.configure({})
    for literal in ("2019-08-23", "[1,2]", "3.40282356e38", "{a:1}", "12:30", "true", "x y"):
        parsed = converter.to_connect_header("t", "h", literal.encode())
        header = _inserted(literal)
        assert (header.schema, header.value) == (parsed.schema, parsed.value), literal


def _inserted(literal: str):
    xform = InsertHeader()
    xform.configure({"header": "h", "value.literal": literal})
    record = SourceRecord(None, None, "t", None, None, None, "v", headers=Headers())
    return xform.apply(record).headers.last_with_name("h")


# -- JSON configs give the same strings however they arrive -------------------------------------------
DOCUMENT = (
    '{"flag": true, "off": false, "ratio": 1.50, "big": 1E20, "n": -0, "s": "x", "gone": null}'
)
STRINGS = {"flag": "true", "off": "false", "ratio": "1.50", "big": "1E20", "n": "-0", "s": "x"}


def test_json_numbers_keep_their_text_and_booleans_are_lower_case() -> None:
    assert config_strings(loads_keeping_numbers(DOCUMENT)) == {**STRINGS, "gone": None}
    with pytest.raises(ValueError, match="NaN"):
        loads_keeping_numbers('{"x": NaN}')
    with pytest.raises(TypeError, match="'x' must be a string, not a JSON object"):
        config_strings({"x": {"y": 1}})


def test_json_file_and_rest_body_give_the_same_strings(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"name": "c", "config": ' + DOCUMENT + "}")
    from_file = read_connector_file(str(path))
    from_rest = string_map(loads_keeping_numbers(DOCUMENT), "Connector config")
    assert from_file == {**STRINGS, "name": "c"}
    assert {k: v for k, v in from_rest.items() if v is not None} == STRINGS
    assert all(type(v) is str for v in from_file.values())


# -- converters a worker cannot find stop it --------------------------------------------------------
WORKER = {
    "bootstrap.servers": "127.0.0.1:1",
    "offset.storage.file.filename": "/tmp/offsets",
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter": "StringConverter",
}


@pytest.mark.parametrize("key", ["key.converter", "value.converter", "header.converter"])
def test_a_worker_converter_that_cannot_be_found_is_refused_naming_the_key(key: str) -> None:
    with pytest.raises(ConfigException) as refused:
        check_worker_converters(WorkerConfig({**WORKER, key: "com.nope.Missing"}))
    message = str(refused.value)
    assert message.startswith(
        f"Invalid value com.nope.Missing for configuration {key}: Class com.nope.Missing could "
        "not be found."
    )
    # An unregistered Python path is not imported unless the operator allows its module.
    assert "plugin.import.allowed.prefixes" in message
    assert refused.value.name == key
    check_worker_converters(WorkerConfig(WORKER))  # the defaults and aliases are found


class UnregisteredConverter(Converter):
    """A converter no entry point registers: reachable only by its Python path."""


def test_an_unregistered_python_path_converter_needs_its_module_allowed() -> None:
    props = {**WORKER, "value.converter": f"{__name__}.UnregisteredConverter"}
    with pytest.raises(ConfigException, match="plugin.import.allowed.prefixes"):
        check_worker_converters(WorkerConfig(props))
    allowed = {**props, "plugin.import.allowed.prefixes": __name__}
    check_worker_converters(WorkerConfig(allowed))


def test_a_connector_converter_that_cannot_be_found_is_an_error_on_its_key():
    from kconnect.plugins import registry
    from kconnect.runtime.config_validation import validate_connector_config

    infos = validate_connector_config(
        registry(),
        {
            "name": "odd-converter",
            "connector.class": "FileStreamSource",
            "topic": "t",
            "file": "/dev/null",
            "value.converter": "this.Zen",
            "header.converter": "NoSuchHeaderConverter",
            "key.converter": "StringConverter",
        },
    )
    errors = {
        entry["value"]["name"]: entry["value"]["errors"]
        for entry in infos["configs"]
        if entry["value"]["errors"]
    }
    assert set(errors) == {"value.converter", "header.converter"}
    assert errors["value.converter"][0].startswith(
        "Invalid value this.Zen for configuration value.converter: Class this.Zen could not be found."
    )
    assert infos["error_count"] == 2
