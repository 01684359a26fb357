"""Requests a herder must refuse, without a broker: task ids the connector does not have (also
when a reconfiguration removes the task while the request waits for the herder thread), names
REST could not address, a tasks.max above the worker's limit, and malformed offsets."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from falcon import testing
from kconnect.api.errors import ConfigException, ConnectException, NotFoundException
from kconnect.api.storage import freeze
from kconnect.api.topic_partition import TopicPartition
from kconnect.rest.app import create_app
from kconnect.runtime.connector_names import MAX_NAME_LENGTH, name_problem, render_name
from kconnect.runtime.connector_offsets import (
    ConnectorOffsets,
    OffsetRequestError,
    _parse_sink_offsets,
)
from kconnect.runtime.distributed.herder import DistributedHerder
from kconnect.runtime.herder import ConflictError
from kconnect.runtime.standalone.herder import StandaloneHerder
from kconnect.runtime.states import State, Status, TaskId
from kconnect.runtime.worker_config import DistributedWorkerConfig, WorkerConfig
from kconnect.storage.config_backing_store import ClusterConfigState
from kconnect_builtins.file.source import FileStreamSourceConnector

SOURCE = {"connector.class": "FileStreamSource", "topic": "t", "file": "/dev/null", "name": "c"}
WORKER = {
    "bootstrap.servers": "127.0.0.1:1",
    "key.converter": "StringConverter",
    "value.converter": "StringConverter",
    "rest.request.timeout.ms": "5000",
}


def snapshot_with_tasks(count: int, config: dict[str, str] = SOURCE) -> ClusterConfigState:
    return ClusterConfigState(
        offset=1,
        connector_configs={"c": config},
        task_configs={TaskId("c", n): {"task.class": "x"} for n in range(count)},
        task_counts={"c": count},
    )


@pytest.fixture
def standalone(tmp_path) -> StandaloneHerder:
    """Never started: validation and the herder-thread checks need no broker."""
    offsets = str(tmp_path / "offsets")
    config = {**WORKER, "offset.storage.file.filename": offsets, "tasks.max.limit": "8"}
    return StandaloneHerder(WorkerConfig(config))


# -- task ids ------------------------------------------------------------------------------------
def test_a_task_removed_while_its_restart_waits_for_the_herder_is_404(standalone, monkeypatch):
    """The race: the REST thread saw 3 tasks, a reconfiguration left 1 before the herder thread
    ran the restart. Before, the herder restarted (or started) a task that no longer exists."""
    snapshots = iter([snapshot_with_tasks(3)])
    monkeypatch.setattr(standalone, "snapshot", lambda: next(snapshots, snapshot_with_tasks(1)))
    restarted: list[Any] = []
    monkeypatch.setattr(standalone, "_restart_task", lambda *args: restarted.append(args))
    with pytest.raises(NotFoundException, match="^Task c-2 not found$"):
        standalone.restart_task("c", 2)
    assert restarted == []
    standalone.restart_task("c", 0)
    assert restarted == [("c", 0)]


def test_negative_and_removed_task_ids_are_404_in_a_cluster(monkeypatch):
    herder = DistributedHerder(
        DistributedWorkerConfig(
            {
                **WORKER,
                "group.id": "g",
                "config.storage.topic": "g-c",
                "offset.storage.topic": "g-o",
                "status.storage.topic": "g-s",
                "listeners": "http://127.0.0.1:18083",
            }
        )
    )
    monkeypatch.setattr(herder, "snapshot", lambda: snapshot_with_tasks(1))
    for task in (-1, 1):
        with pytest.raises(NotFoundException, match=f"^Unknown task: c-{task}$"):
            herder._restart_task_request("c", task)


def test_status_of_a_task_the_connector_no_longer_has_is_404(standalone, monkeypatch):
    monkeypatch.setattr(standalone, "snapshot", lambda: snapshot_with_tasks(1))
    # A status left behind by the task before a reconfiguration (as the status topic keeps it).
    standalone.status_store.put_task(TaskId("c", 1), Status(State.RUNNING, "w"))
    standalone.status_store.put_task(TaskId("c", 0), Status(State.RUNNING, "w"))
    assert standalone.task_status("c", 0)["state"] == "RUNNING"
    with pytest.raises(NotFoundException, match="^No status found for task c-1$"):
        standalone.task_status("c", 1)


def test_negative_task_ids_never_reach_the_herder(standalone, monkeypatch):
    called: list[str] = []
    monkeypatch.setattr(standalone, "restart_task", lambda *a: called.append("restart"))
    monkeypatch.setattr(standalone, "task_status", lambda *a: called.append("status"))
    client = testing.TestClient(create_app(standalone, standalone.config))
    restart = client.simulate_post("/connectors/c/tasks/-1/restart")
    assert (restart.status_code, restart.json["message"]) == (404, "Task c--1 not found")
    status = client.simulate_get("/connectors/c/tasks/-1/status")
    assert status.json == {"error_code": 404, "message": "No status found for task c--1"}
    assert called == []


def test_patch_never_recreates_a_deleted_connector_nor_loses_a_concurrent_change(
    standalone, monkeypatch
):
    changed = dict(SOURCE, topic="other")
    snapshots = iter([snapshot_with_tasks(1)])
    monkeypatch.setattr(standalone, "validate", lambda config: {"error_count": 0})
    monkeypatch.setattr(
        standalone, "snapshot", lambda: next(snapshots, snapshot_with_tasks(1, changed))
    )
    with pytest.raises(ConflictError, match="changed while the patch was applied"):
        standalone.patch_connector_config("c", {"tasks.max": "2"})
    snapshots = iter([snapshot_with_tasks(1)])
    monkeypatch.setattr(standalone, "snapshot", lambda: next(snapshots, ClusterConfigState()))
    with pytest.raises(NotFoundException, match="^Connector c not found$"):
        standalone.patch_connector_config("c", {"tasks.max": "2"})
    assert not standalone.config_store.contains("c")


# -- names ---------------------------------------------------------------------------------------
ODD_BUT_VALID = ["ünï cödé ☃", "with space", "50%", "what?", "#hash", "a+b", "a..b", "..x", "😀"]


@pytest.mark.parametrize("name", ODD_BUT_VALID + [" padded ", "x" * MAX_NAME_LENGTH])
def test_odd_names_that_rest_can_address_are_accepted(name):
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "String may not be empty"),
        ("   ", "String may not be empty"),
        ("a\nb", "control sequences but had the following ASCII chars: 10"),
        ("a\tb\x00", "the following ASCII chars: 9, 0"),
        ("a\x85", "the following ASCII chars: 133"),
        ("a/b", "may not contain '/'"),
        ("../../etc", "may not contain '/'"),
        ("..", "may not be '.' or '..'"),
        ("x" * (MAX_NAME_LENGTH + 1), f"at most {MAX_NAME_LENGTH} characters"),
    ],
)
def test_names_rest_could_not_address_are_refused(name, reason):
    problem = name_problem(name)
    assert problem is not None and reason in problem


def test_names_in_messages_stay_on_one_line_and_short():
    assert render_name("a\nb\x00") == "a\\nb\\u0000"
    assert render_name("y" * 10_000) == "y" * 60 + "... (10000 characters)"


@pytest.mark.parametrize(
    ("path_name", "expected"),
    [
        ("a%2Fb", "Invalid value a/b for configuration name: Connector names may not contain '/'"),
        ("a%0Ab", "Invalid value a\\nb for configuration name: String may not contain control"),
        ("%20", "Invalid value   for configuration name: String may not be empty"),
        ("", "Invalid value  for configuration name: String may not be empty"),
        ("x" * 300, "Invalid value " + "x" * 60 + "... (300 characters) for configuration name"),
    ],
)
def test_put_with_a_bad_name_is_400_naming_the_problem(standalone, path_name, expected):
    client = testing.TestClient(create_app(standalone, standalone.config))
    config = {k: v for k, v in SOURCE.items() if k != "name"}
    result = client.simulate_put(f"/connectors/{path_name}/config", json=config)
    assert result.status_code == 400, result.text
    assert expected in result.json["message"]
    assert standalone.connectors() == []


def test_post_with_a_bad_name_and_validate_name_the_problem(standalone):
    client = testing.TestClient(create_app(standalone, standalone.config))
    config = {k: v for k, v in SOURCE.items() if k != "name"}
    result = client.simulate_post("/connectors", json={"name": "a/b", "config": config})
    assert result.status_code == 400
    assert "Connector names may not contain '/'" in result.json["message"]
    infos = client.simulate_put(
        "/connector-plugins/FileStreamSource/config/validate", json={**config, "name": "a\tb"}
    ).json
    errors = {c["value"]["name"]: c["value"]["errors"] for c in infos["configs"]}
    assert infos["error_count"] == 1
    assert errors["name"] == [
        "Invalid value a\\tb for configuration name: String may not contain control sequences "
        "but had the following ASCII chars: 9"
    ]


def test_a_stored_invalid_name_is_reported_once_on_one_line(standalone, caplog):
    caplog.set_level(logging.WARNING)
    standalone._warn_of_invalid_name("ok name")
    for _ in range(2):
        standalone._warn_of_invalid_name("bad\nname/x")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Connector name 'bad\\nname/x' is invalid" in warnings[0] and "\n" not in warnings[0]


def test_encoded_slash_in_a_url_reaches_a_stored_name(standalone, monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr(standalone, "connector_status", lambda name: seen.append(name) or {})
    monkeypatch.setattr(standalone, "delete_connector", lambda name: seen.append(name))
    client = testing.TestClient(create_app(standalone, standalone.config))
    extras = {"RAW_URI": "/connectors/..%2F..%2Fetc/status"}
    assert client.simulate_get("/connectors/../../etc/status", extras=extras).status_code == 200
    extras = {"RAW_URI": "/connectors/a%2Fb"}
    assert client.simulate_delete("/connectors/a/b", extras=extras).status_code == 204
    assert seen == ["../../etc", "a/b"]


def test_connector_file_with_a_bad_name_is_refused_naming_the_file(tmp_path):
    from kconnect.cli.standalone import load_standalone_configs

    worker = tmp_path / "worker.properties"
    props = {**WORKER, "offset.storage.file.filename": tmp_path / "offsets"}
    worker.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    connector = tmp_path / "bad.properties"
    connector.write_text("name=a/b\nconnector.class=FileStreamSource\ntopic=t\n")
    with pytest.raises(ConfigException) as raised:
        load_standalone_configs(str(worker), [str(connector)])
    assert str(connector) in str(raised.value)
    assert "Connector names may not contain '/'" in str(raised.value)


# -- tasks.max ------------------------------------------------------------------------------------
def test_tasks_max_above_the_worker_limit_is_400_naming_limit_and_key(standalone):
    client = testing.TestClient(create_app(standalone, standalone.config))
    config = {k: v for k, v in SOURCE.items() if k != "name"}
    result = client.simulate_put("/connectors/c/config", json={**config, "tasks.max": "9"})
    assert result.status_code == 400
    message = result.json["message"]
    assert "Invalid value 9 for configuration tasks.max" in message
    assert "at most 8 tasks per connector (worker setting tasks.max.limit=8" in message
    infos = client.simulate_put(
        "/connector-plugins/FileStreamSource/config/validate",
        json={**config, "name": "c", "tasks.max": 300},
    ).json
    assert infos["error_count"] == 1
    entry = next(c for c in infos["configs"] if c["definition"]["name"] == "tasks.max")
    assert "tasks.max.limit=8" in entry["value"]["errors"][0]


def test_tasks_max_limit_has_a_documented_default():
    props = {**WORKER, "offset.storage.file.filename": "/tmp/o"}
    assert WorkerConfig(props).get("tasks.max.limit") == 256
    with pytest.raises(ConfigException):
        WorkerConfig({**props, "tasks.max.limit": "0"})


# -- offsets --------------------------------------------------------------------------------------
def sink_entry(topic: Any = "t", partition: Any = 0, offset: Any = 5) -> list[Any]:
    return [
        (
            {"kafka_topic": topic, "kafka_partition": partition},
            None if offset is None else {"kafka_offset": offset},
        )
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (sink_entry(partition=-1), "Kafka partitions must be between 0 and 2147483647, but "),
        (sink_entry(partition=2**31), "'kafka_partition' is 2147483648"),
        (sink_entry(partition="x"), "Partition values for sink connectors need to be integers"),
        (sink_entry(offset=-7), "but 'kafka_offset' for t-0 is -7"),
        (sink_entry(offset=2**63), "Kafka offsets must be between 0 and 9223372036854775807"),
        (sink_entry(offset=1.5), "Offset values for sink connectors need to be integers"),
        (sink_entry(topic=""), "in 'kafka_topic': Kafka topic names may not be empty"),
        (sink_entry(topic="a b"), "may only contain ASCII alphanumerics"),
        (sink_entry(topic=".."), "cannot be '.' or '..'"),
    ],
)
def test_bad_sink_offsets_name_the_field(entry, message):
    with pytest.raises(OffsetRequestError) as raised:
        _parse_sink_offsets(entry)
    assert message in str(raised.value)


def test_good_sink_offsets_parse_as_before():
    assert _parse_sink_offsets(sink_entry(partition="3", offset="10")) == {
        TopicPartition("t", 3): 10
    }
    assert _parse_sink_offsets(sink_entry(offset=None)) == {TopicPartition("t", 0): None}


class FakeAdmin:
    def __init__(self, topics: dict[str, int]):
        self.topics = topics

    def list_topics(self, timeout: float) -> Any:
        return SimpleNamespace(
            topics={
                name: SimpleNamespace(error=None, partitions=dict.fromkeys(range(count)))
                for name, count in self.topics.items()
            }
        )


def test_offsets_for_partitions_that_do_not_exist_are_refused():
    offsets = ConnectorOffsets(SimpleNamespace(plugin_call_timeout_s=1.0))
    admin = FakeAdmin({"t": 2})
    offsets._require_partitions(admin, [TopicPartition("t", 1)])  # type: ignore[arg-type]
    with pytest.raises(OffsetRequestError, match="Topic 'nope' .* does not exist"):
        offsets._require_partitions(admin, [TopicPartition("nope", 0)])  # type: ignore[arg-type]
    with pytest.raises(OffsetRequestError, match="Partition 2 .* the topic has 2 partition"):
        offsets._require_partitions(admin, [TopicPartition("t", 2)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        ({"position": -5}, "should be a non-negative value, but was -5"),
        ({"position": "abc"}, "expected to be a Long value, but was 'abc'"),
        ({"position": 1e30}, "expected to be a Long value, but was 1e+30"),
        ({"position": 2**63}, "expected to be a Long value"),
        ({"pos": 1}, "Offset objects should either be null or contain the key 'position'"),
    ],
)
def test_file_source_refuses_bad_positions_as_a_bad_request(offset, message):
    connector = FileStreamSourceConnector()
    worker = SimpleNamespace(
        plugin_call_timeout_s=5.0, connector_class=lambda name: FileStreamSourceConnector
    )
    offsets = ConnectorOffsets(worker)
    with pytest.raises(OffsetRequestError) as raised:
        offsets._call(
            "c", "alter_offsets", connector.alter_offsets, {}, {freeze({"filename": "f"}): offset}
        )
    assert str(raised.value).startswith("Connector c refused the offsets: ")
    assert message in str(raised.value)
    assert connector.alter_offsets({}, {freeze({"filename": "f"}): {"position": 7}})


def test_a_connector_that_cannot_alter_offsets_is_not_a_bad_request():
    offsets = ConnectorOffsets(SimpleNamespace(plugin_call_timeout_s=5.0))

    def unsupported(*args: Any) -> bool:
        raise NotImplementedError

    with pytest.raises(ConnectException, match="doesn't support external modification") as raised:
        offsets._call("c", "alter_offsets", unsupported)
    assert not isinstance(raised.value, OffsetRequestError)
