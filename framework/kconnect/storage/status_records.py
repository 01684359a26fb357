"""The records of the status topic, byte-compatible with Apache Kafka Connect.

=========================================  =================================================
``status-connector-<c>``                   ``{"state":"RUNNING","trace":null,
                                           "worker_id":"host:8083","generation":5,
                                           "version":null}`` (tombstone: forgotten)
``status-task-<c>-<n>``                    same shape as a connector status
``status-topic-<topic>:connector-<c>``     ``{"topic":{"name":"<topic>","connector":"<c>",
                                           "task":0,"discoverTimestamp":<ms>}}``
=========================================  =================================================

``trace`` and ``version`` are always present, null when unknown, as Kafka's struct writes
them; ``version`` (the plugin version, Kafka 4.1+) is absent in records of older workers.

Invariant: for every record Kafka Connect writes, ``parse_status_record`` followed by
``serialize_status_record`` gives back the same bytes; invalid records raise
:class:`~kconnect.storage.config_records.MalformedRecord`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from kconnect.runtime.states import State, Status, TaskId
from kconnect.storage.config_records import MalformedRecord, parse_task_key
from kconnect.storage.java_json import dumps
from kconnect.storage.status_backing_store import TopicStatus

CONNECTOR_STATUS_PREFIX = "status-connector-"
TASK_STATUS_PREFIX = "status-task-"
TOPIC_STATUS_PREFIX = "status-topic-"
TOPIC_STATUS_SEPARATOR = ":connector-"


def connector_status_key(connector: str) -> str:
    return CONNECTOR_STATUS_PREFIX + connector


def task_status_key(task: TaskId) -> str:
    return f"{TASK_STATUS_PREFIX}{task.connector}-{task.task}"


def topic_status_key(connector: str, topic: str) -> str:
    return f"{TOPIC_STATUS_PREFIX}{topic}{TOPIC_STATUS_SEPARATOR}{connector}"


@dataclass(frozen=True)
class ConnectorStatusRecord:
    connector: str
    status: Status | None  # None: tombstone
    version: str | None = None
    #: False for records of workers older than Kafka 4.1, which had no "version" field
    has_version: bool = True

    @property
    def key(self) -> str:
        return connector_status_key(self.connector)


@dataclass(frozen=True)
class TaskStatusRecord:
    task: TaskId
    status: Status | None  # None: tombstone
    version: str | None = None
    has_version: bool = True

    @property
    def key(self) -> str:
        return task_status_key(self.task)


@dataclass(frozen=True)
class TopicStatusRecord:
    connector: str
    topic: str
    status: TopicStatus | None  # None: tombstone

    @property
    def key(self) -> str:
        return topic_status_key(self.connector, self.topic)


StatusRecord = ConnectorStatusRecord | TaskStatusRecord | TopicStatusRecord


# -- writing ----------------------------------------------------------------------------------
def serialize_status(status: Status, version: str | None = None, has_version: bool = True) -> bytes:
    """A connector or task status value. DESTROYED is never written: it is a tombstone."""
    fields: dict[str, Any] = {
        "state": status.state.value,
        "trace": status.trace,
        "worker_id": status.worker_id,
        "generation": int(status.generation),
    }
    if has_version:
        fields["version"] = version
    return dumps(fields)


def serialize_topic_status(status: TopicStatus) -> bytes:
    return dumps(
        {
            "topic": {
                "name": status.topic,
                "connector": status.connector,
                "task": int(status.task),
                "discoverTimestamp": int(status.discover_timestamp_ms),
            }
        }
    )


def serialize_status_record(record: StatusRecord) -> bytes | None:
    """The value bytes of ``record`` (None for a tombstone)."""
    if isinstance(record, TopicStatusRecord):
        return None if record.status is None else serialize_topic_status(record.status)
    if record.status is None or record.status.state is State.DESTROYED:
        return None
    return serialize_status(record.status, record.version, record.has_version)


# -- reading ----------------------------------------------------------------------------------
def parse_status_record(key: str, value: bytes | None) -> StatusRecord:
    if key.startswith(CONNECTOR_STATUS_PREFIX):
        connector = key[len(CONNECTOR_STATUS_PREFIX) :]
        if not connector:
            raise MalformedRecord(f"invalid connector status key {key}")
        if value is None:
            return ConnectorStatusRecord(connector, None)
        status, version, has_version = _status(key, value)
        return ConnectorStatusRecord(connector, status, version, has_version)
    if key.startswith(TASK_STATUS_PREFIX):
        task = parse_task_key(key, TASK_STATUS_PREFIX)
        if task is None:
            raise MalformedRecord(f"invalid task status key {key}")
        if value is None:
            return TaskStatusRecord(task, None)
        status, version, has_version = _status(key, value)
        return TaskStatusRecord(task, status, version, has_version)
    if key.startswith(TOPIC_STATUS_PREFIX):
        return _topic_status(key, value)
    raise MalformedRecord(f"record with invalid key {key}")


def _decode(key: str, value: bytes) -> dict[str, Any]:
    try:
        decoded = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise MalformedRecord(f"status {key} is not valid JSON: {error}") from error
    if not isinstance(decoded, dict):
        raise MalformedRecord(f"invalid status type {type(decoded).__name__} for {key}")
    return decoded


def _status(key: str, value: bytes) -> tuple[Status, str | None, bool]:
    fields = _decode(key, value)
    state, trace, worker_id = fields.get("state"), fields.get("trace"), fields.get("worker_id")
    generation, version = fields.get("generation"), fields.get("version")
    try:
        parsed_state = State(state)
    except ValueError:
        raise MalformedRecord(f"invalid state {state!r} in {key}") from None
    if not isinstance(worker_id, str):
        raise MalformedRecord(f"'worker_id' of {key} should be a String")
    if isinstance(generation, bool) or not isinstance(generation, int):
        raise MalformedRecord(f"'generation' of {key} should be an integer")
    if trace is not None and not isinstance(trace, str):
        raise MalformedRecord(f"'trace' of {key} should be a String")
    if version is not None and not isinstance(version, str):
        raise MalformedRecord(f"'version' of {key} should be a String")
    status = Status(parsed_state, worker_id, trace, generation, version=version)
    return status, version, "version" in fields


def _topic_status(key: str, value: bytes | None) -> TopicStatusRecord:
    rest = key[len(TOPIC_STATUS_PREFIX) :]
    # Kafka splits at the first ':' (topic names cannot contain one; connector names can).
    topic, colon, connector_part = rest.partition(":")
    if not colon or not topic:
        raise MalformedRecord(f"invalid topic status key {key}")
    if not (":" + connector_part).startswith(TOPIC_STATUS_SEPARATOR):
        raise MalformedRecord(f"invalid topic status key {key}")
    connector = connector_part[len(TOPIC_STATUS_SEPARATOR) - 1 :]
    if not connector:
        raise MalformedRecord(f"invalid topic status key containing empty connector {key}")
    if value is None:
        return TopicStatusRecord(connector, topic, None)
    inner = _decode(key, value).get("topic")
    if not isinstance(inner, dict):
        raise MalformedRecord(f"invalid topic status value for field topic in {key}")
    name, owner = inner.get("name"), inner.get("connector")
    task, discovered = inner.get("task"), inner.get("discoverTimestamp")
    if not isinstance(name, str) or not isinstance(owner, str):
        raise MalformedRecord(f"'name' and 'connector' of {key} should be Strings")
    for number in (task, discovered):
        if isinstance(number, bool) or not isinstance(number, int):
            raise MalformedRecord(f"'task' and 'discoverTimestamp' of {key} should be integers")
    return TopicStatusRecord(
        connector, topic, TopicStatus(name, owner, int(task or 0), int(discovered or 0))
    )
