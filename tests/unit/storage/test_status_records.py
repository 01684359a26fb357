"""Status-topic records: the exact bytes Apache Kafka Connect 4.3.1 writes.

Expected values come from ``KafkaStatusBackingStore``'s own serializers (called through
reflection on Kafka Connect 4.3.1), and every status record a real Java cluster wrote
(tests/data/java_connect_internal_topics.json) is parsed and written back byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kconnect.runtime.states import State, Status, TaskId
from kconnect.storage import status_records as sr
from kconnect.storage.config_records import MalformedRecord
from kconnect.storage.status_backing_store import TopicStatus

CAPTURE = Path(__file__).parents[2] / "data" / "java_connect_internal_topics.json"


def test_keys_are_kafkas():
    assert sr.connector_status_key("src") == "status-connector-src"
    assert sr.task_status_key(TaskId("my-src", 0)) == "status-task-my-src-0"
    assert sr.topic_status_key("src", "orders") == "status-topic-orders:connector-src"


def test_connector_status_bytes_have_null_trace_and_version():
    value = (
        b'{"state":"RUNNING","trace":null,"worker_id":"worker1:8083","generation":5,"version":null}'
    )
    status = Status(State.RUNNING, "worker1:8083", None, 5)
    assert sr.serialize_status(status) == value
    record = sr.parse_status_record("status-connector-src", value)
    assert isinstance(record, sr.ConnectorStatusRecord)
    assert record.connector == "src"
    assert (record.status.state, record.status.worker_id, record.status.generation) == (
        State.RUNNING,
        "worker1:8083",
        5,
    )
    assert record.status.trace is None


def test_failed_task_status_bytes_escape_the_trace():
    value = (
        b'{"state":"FAILED","trace":"org.X: boom\\n\\tat a.b(C.java:1)\\n",'
        b'"worker_id":"worker1:8083","generation":7,"version":null}'
    )
    status = Status(State.FAILED, "worker1:8083", "org.X: boom\n\tat a.b(C.java:1)\n", 7)
    assert sr.serialize_status(status) == value
    record = sr.parse_status_record("status-task-src-0", value)
    assert record.task == TaskId("src", 0)
    assert record.status.trace == "org.X: boom\n\tat a.b(C.java:1)\n"


def test_status_with_plugin_version():
    value = (
        b'{"state":"RUNNING","trace":null,"worker_id":"worker2:8083","generation":7,'
        b'"version":"4.3.1"}'
    )
    record = sr.parse_status_record("status-task-src-1", value)
    assert record.version == "4.3.1"
    assert sr.serialize_status_record(record) == value


def test_status_of_a_worker_before_kafka_4_1_has_no_version():
    value = b'{"state":"PAUSED","trace":null,"worker_id":"w:8083","generation":1}'
    record = sr.parse_status_record("status-connector-src", value)
    assert record.has_version is False
    assert sr.serialize_status_record(record) == value


def test_topic_status_bytes():
    value = (
        b'{"topic":{"name":"orders","connector":"src","task":0,"discoverTimestamp":1700000000456}}'
    )
    status = TopicStatus("orders", "src", 0, 1700000000456)
    assert sr.serialize_topic_status(status) == value
    record = sr.parse_status_record("status-topic-orders:connector-src", value)
    assert record == sr.TopicStatusRecord("src", "orders", status)


def test_connector_names_may_hold_colons_and_dashes():
    record = sr.parse_status_record("status-topic-t:connector-a:b", None)
    assert (record.topic, record.connector, record.status) == ("t", "a:b", None)
    record = sr.parse_status_record("status-task-a-b-c-10", None)
    assert record.task == TaskId("a-b-c", 10)


def test_destroyed_and_tombstones():
    assert sr.parse_status_record("status-connector-src", None) == sr.ConnectorStatusRecord(
        "src", None
    )
    destroyed = sr.TaskStatusRecord(TaskId("c", 0), Status(State.DESTROYED, "w", None, 1))
    assert sr.serialize_status_record(destroyed) is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("status-connector-", b"{}"),
        ("status-task-src", None),
        ("status-topic-nocolon", None),
        ("status-topic-:connector-c", None),
        ("status-connector-c", b'{"state":"SLEEPING","worker_id":"w","generation":1}'),
        ("status-connector-c", b'{"state":"RUNNING","worker_id":"w","generation":"1"}'),
        ("status-connector-c", b"[1]"),
        ("other-key", b"{}"),
    ],
)
def test_invalid_records(key, value):
    with pytest.raises(MalformedRecord):
        sr.parse_status_record(key, value)


def test_every_captured_java_status_record_round_trips():
    if not CAPTURE.exists():
        pytest.skip(f"{CAPTURE} is missing")
    data = json.loads(CAPTURE.read_text())
    records = (
        data["topics"]["connect-status"] + data["exactly_once"]["topics"]["connect-eos-status"]
    )
    assert len(records) > 50
    kinds = set()
    for captured in records:
        value = None if captured["value"] is None else captured["value"].encode()
        record = sr.parse_status_record(captured["key"], value)
        kinds.add(type(record).__name__)
        assert record.key == captured["key"]
        assert sr.serialize_status_record(record) == value, captured
    assert kinds == {"ConnectorStatusRecord", "TaskStatusRecord", "TopicStatusRecord"}
