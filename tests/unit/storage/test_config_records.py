"""Config-topic records: the exact bytes Apache Kafka Connect 4.3.1 writes.

The expected values were produced by Kafka Connect's own classes (``JsonConverter`` with
``schemas.enable=false`` and the ``KafkaConfigBackingStore`` schemas), and the captured
records of a real Java cluster (tests/data/java_connect_internal_topics.json) are parsed and
written back byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kconnect.runtime.states import TargetState, TaskId
from kconnect.storage import config_records as cr
from kconnect.storage.config_backing_store import RestartRequest, SessionKeyRecord

CAPTURE = Path(__file__).parents[2] / "data" / "java_connect_internal_topics.json"

# {"properties":...} written by Java for a LinkedHashMap with these entries, in this order.
JAVA_CONNECTOR = (
    b'{"properties":{"connector.class":"FileStreamSource","tasks.max":"1",'
    b'"file":"/tmp/in\\u0001\\u000B.txt","topic":"t\xc3\xa9\\uD83D\\uDE00","name":"src",'
    b'"nullable":null}}'
)
SESSION_KEY_BYTES = bytes((i * 7 + 250) & 0xFF for i in range(32))


def test_keys_are_kafkas():
    assert cr.connector_key("src") == "connector-src"
    assert cr.task_key(TaskId("my-conn", 3)) == "task-my-conn-3"
    assert cr.commit_key("src") == "commit-src"
    assert cr.target_state_key("src") == "target-state-src"
    assert cr.restart_key("src") == "restart-connector-src"
    assert cr.SESSION_KEY_KEY == "session-key"


def test_connector_config_bytes_keep_order_nulls_and_javas_escapes():
    props = {
        "connector.class": "FileStreamSource",
        "tasks.max": "1",
        "file": "/tmp/in\x01\x0b.txt",
        "topic": "té😀",
        "name": "src",
        "nullable": None,
    }
    assert cr.serialize_properties(props) == JAVA_CONNECTOR
    record = cr.parse_config_record("connector-src", JAVA_CONNECTOR)
    assert record == cr.ConnectorConfigRecord("src", props)


def test_task_config_bytes():
    value = b'{"properties":{"task.class":"X","file":"a\\"b\\\\c\\n"}}'
    assert cr.serialize_properties({"task.class": "X", "file": 'a"b\\c\n'}) == value
    record = cr.parse_config_record("task-src-0", value)
    assert record == cr.TaskConfigRecord(TaskId("src", 0), {"task.class": "X", "file": 'a"b\\c\n'})


def test_commit_bytes():
    assert cr.serialize_commit(2) == b'{"tasks":2}'
    assert cr.parse_config_record("commit-src", b'{"tasks":2}') == cr.TaskCommitRecord("src", 2)


@pytest.mark.parametrize(
    ("state", "value"),
    [
        (TargetState.STARTED, b'{"state":"STARTED","state.v2":"STARTED"}'),
        (TargetState.PAUSED, b'{"state":"PAUSED","state.v2":"PAUSED"}'),
        # Workers before Kafka 3.5 read only "state": to them a STOPPED connector is PAUSED.
        (TargetState.STOPPED, b'{"state":"PAUSED","state.v2":"STOPPED"}'),
    ],
)
def test_target_state_bytes(state, value):
    assert cr.serialize_target_state(state) == value
    assert cr.parse_config_record("target-state-src", value) == cr.TargetStateRecord("src", state)


def test_target_state_of_an_old_worker_has_only_state():
    record = cr.parse_config_record("target-state-src", b'{"state":"PAUSED"}')
    assert record == cr.TargetStateRecord("src", TargetState.PAUSED, has_v2=False)
    assert cr.serialize_config_record(record) == b'{"state":"PAUSED"}'


def test_state_v2_wins_and_bad_v2_falls_back_to_state():
    record = cr.parse_config_record("target-state-c", b'{"state":"PAUSED","state.v2":"STOPPED"}')
    assert record.state is TargetState.STOPPED
    record = cr.parse_config_record("target-state-c", b'{"state":"PAUSED","state.v2":7}')
    assert record.state is TargetState.PAUSED


def test_session_key_bytes():
    value = (
        b'{"key":"+gEIDxYdJCsyOUBHTlVcY2pxeH+GjZSboqmwt77FzNM=","algorithm":"HmacSHA256",'
        b'"creation-timestamp":1700000000123}'
    )
    key = SessionKeyRecord(SESSION_KEY_BYTES, "HmacSHA256", 1700000000123)
    assert cr.serialize_session_key(key) == value
    assert cr.parse_config_record("session-key", value) == cr.SessionKeyUpdate(key)


def test_restart_request_bytes_and_defaults():
    value = b'{"include-tasks":true,"only-failed":false}'
    request = RestartRequest("src", include_tasks=True, only_failed=False)
    assert cr.serialize_restart_request(request) == value
    assert cr.parse_config_record("restart-connector-src", value) == cr.RestartRecord(request)
    # As Kafka: a flag that is missing or not a boolean means false.
    odd = cr.parse_config_record("restart-connector-src", b'{"only-failed":"yes"}')
    assert odd == cr.RestartRecord(RestartRequest("src"))


def test_records_kconnect_only_reads():
    fencing = cr.parse_config_record("tasks-fencing-src", b'{"task-count":3}')
    assert fencing == cr.TaskCountRecord("src", 3)
    assert cr.serialize_config_record(fencing) == b'{"task-count":3}'
    logger = cr.parse_config_record("logger-cluster-org.apache.kafka", b'{"level":"DEBUG"}')
    assert logger == cr.LoggerLevelRecord("org.apache.kafka", "DEBUG")
    assert cr.serialize_config_record(logger) == b'{"level":"DEBUG"}'


def test_tombstones():
    assert cr.parse_config_record("connector-src", None) == cr.ConnectorConfigRecord("src", None)
    assert cr.parse_config_record("target-state-src", None) == cr.TargetStateRecord("src", None)
    assert cr.serialize_config_record(cr.ConnectorConfigRecord("src", None)) is None


def test_task_keys_with_dashes_in_connector_names():
    record = cr.parse_config_record("task-my-conn-12", b'{"properties":{}}')
    assert record.task == TaskId("my-conn", 12)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("task-src", b'{"properties":{}}'),  # no task number
        ("task-src-x", b'{"properties":{}}'),
        ("task-src-0", None),  # a task config is never a tombstone
        ("connector-src", b'{"properties":"nope"}'),
        ("connector-src", b"not json"),
        ("commit-src", b'{"tasks":"2"}'),
        ("session-key", b'{"key":"AA==","algorithm":"HmacSHA256","creation-timestamp":1.5}'),
        ("target-state-src", b'{"state":"RUNNING"}'),
        ("something-else", b"{}"),
    ],
)
def test_invalid_records_are_reported_not_applied(key, value):
    with pytest.raises(cr.MalformedRecord):
        cr.parse_config_record(key, value)


def _captured_config_records():
    if not CAPTURE.exists():
        pytest.skip(f"{CAPTURE} is missing")
    data = json.loads(CAPTURE.read_text())
    records = list(data["topics"]["connect-configs"])
    records += data["exactly_once"]["topics"]["connect-eos-configs"]
    return records


def test_every_captured_java_config_record_round_trips():
    records = _captured_config_records()
    assert len(records) > 20
    kinds = set()
    for captured in records:
        value = None if captured["value"] is None else captured["value"].encode()
        record = cr.parse_config_record(captured["key"], value)
        kinds.add(type(record).__name__)
        assert record.key == captured["key"]
        assert cr.serialize_config_record(record) == value, captured
    # The capture covers every record kind Kafka writes to the config topic but one.
    assert kinds >= {
        "ConnectorConfigRecord",
        "TaskConfigRecord",
        "TaskCommitRecord",
        "TargetStateRecord",
        "SessionKeyUpdate",
        "RestartRecord",
        "TaskCountRecord",
        "LoggerLevelRecord",
    }
