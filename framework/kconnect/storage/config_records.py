"""The records of the config topic, byte-compatible with Apache Kafka Connect.

Keys are plain UTF-8 strings; values are what Kafka's ``JsonConverter`` (schemas.enable=false)
writes for the config store's structs, fields in schema order, null for a tombstone:

=================================  ========================================================
``connector-<c>``                  ``{"properties":{...}}`` (tombstone: connector deleted)
``task-<c>-<n>``                   ``{"properties":{...}}``, applied at the next commit
``commit-<c>``                     ``{"tasks":N}``
``target-state-<c>``               ``{"state":"PAUSED","state.v2":"STOPPED"}``: ``state`` is
                                   what workers without STOPPED understand, so STOPPED is
                                   written there as PAUSED (tombstone: connector deleted)
``session-key``                    ``{"key":"<base64>","algorithm":"HmacSHA256",
                                   "creation-timestamp":<ms>}``
``restart-connector-<c>``          ``{"include-tasks":true,"only-failed":false}``
``tasks-fencing-<c>``              ``{"task-count":N}`` (exactly-once source; read only)
``logger-cluster-<namespace>``     ``{"level":"DEBUG"}`` (cluster log levels; read only)
=================================  ========================================================

Invariant: for every record Kafka Connect writes, ``parse_config_record`` followed by
``serialize_config_record`` gives back the same bytes; a record that is not valid raises
:class:`MalformedRecord` (the store logs it and reads on, as Kafka does).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from kconnect.runtime.states import TargetState, TaskId
from kconnect.storage.config_backing_store import RestartRequest, SessionKeyRecord
from kconnect.storage.java_json import dumps

CONNECTOR_PREFIX = "connector-"
TASK_PREFIX = "task-"
COMMIT_TASKS_PREFIX = "commit-"
TARGET_STATE_PREFIX = "target-state-"
SESSION_KEY_KEY = "session-key"
RESTART_PREFIX = "restart-connector-"
TASK_COUNT_RECORD_PREFIX = "tasks-fencing-"
LOGGER_CLUSTER_PREFIX = "logger-cluster-"

# Java parses the task number with Integer.parseInt after splitting the key on "-".
_TASK_NUMBER = re.compile(r"\+?[0-9]{1,10}")


class MalformedRecord(ValueError):
    """A config or status record that Kafka Connect would log and skip."""


def connector_key(connector: str) -> str:
    return CONNECTOR_PREFIX + connector


def task_key(task: TaskId) -> str:
    return f"{TASK_PREFIX}{task.connector}-{task.task}"


def commit_key(connector: str) -> str:
    return COMMIT_TASKS_PREFIX + connector


def target_state_key(connector: str) -> str:
    return TARGET_STATE_PREFIX + connector


def restart_key(connector: str) -> str:
    return RESTART_PREFIX + connector


# -- records ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConnectorConfigRecord:
    connector: str
    properties: Mapping[str, str | None] | None  # None: the connector was deleted

    @property
    def key(self) -> str:
        return connector_key(self.connector)


@dataclass(frozen=True)
class TaskConfigRecord:
    task: TaskId
    properties: Mapping[str, str | None]

    @property
    def key(self) -> str:
        return task_key(self.task)


@dataclass(frozen=True)
class TaskCommitRecord:
    connector: str
    task_count: int

    @property
    def key(self) -> str:
        return commit_key(self.connector)


@dataclass(frozen=True)
class TargetStateRecord:
    connector: str
    state: TargetState | None  # None: tombstone
    #: False for records of workers older than Kafka 3.5, which wrote only "state"
    has_v2: bool = True

    @property
    def key(self) -> str:
        return target_state_key(self.connector)


@dataclass(frozen=True)
class SessionKeyUpdate:
    session_key: SessionKeyRecord

    @property
    def key(self) -> str:
        return SESSION_KEY_KEY


@dataclass(frozen=True)
class RestartRecord:
    request: RestartRequest

    @property
    def key(self) -> str:
        return restart_key(self.request.connector)


@dataclass(frozen=True)
class TaskCountRecord:
    connector: str
    task_count: int

    @property
    def key(self) -> str:
        return TASK_COUNT_RECORD_PREFIX + self.connector


@dataclass(frozen=True)
class LoggerLevelRecord:
    namespace: str
    level: str

    @property
    def key(self) -> str:
        return LOGGER_CLUSTER_PREFIX + self.namespace


ConfigRecord = (
    ConnectorConfigRecord
    | TaskConfigRecord
    | TaskCommitRecord
    | TargetStateRecord
    | SessionKeyUpdate
    | RestartRecord
    | TaskCountRecord
    | LoggerLevelRecord
)


# -- writing ----------------------------------------------------------------------------------
def serialize_properties(properties: Mapping[str, str | None]) -> bytes:
    """A connector or task config value (``CONNECTOR_CONFIGURATION_V0``)."""
    return dumps({"properties": dict(properties)})


def serialize_commit(task_count: int) -> bytes:
    return dumps({"tasks": int(task_count)})


def serialize_target_state(state: TargetState, has_v2: bool = True) -> bytes:
    # Workers older than Kafka 3.5 know no STOPPED; to them the connector is PAUSED.
    legacy = TargetState.PAUSED.value if state is TargetState.STOPPED else state.value
    if not has_v2:
        return dumps({"state": legacy})
    return dumps({"state": legacy, "state.v2": state.value})


def serialize_session_key(key: SessionKeyRecord) -> bytes:
    return dumps(
        {
            "key": base64.b64encode(key.key).decode("ascii"),
            "algorithm": key.algorithm,
            "creation-timestamp": int(key.creation_timestamp_ms),
        }
    )


def serialize_restart_request(request: RestartRequest) -> bytes:
    return dumps(
        {"include-tasks": bool(request.include_tasks), "only-failed": bool(request.only_failed)}
    )


def serialize_config_record(record: ConfigRecord) -> bytes | None:
    """The value bytes of ``record`` (None for a tombstone)."""
    if isinstance(record, ConnectorConfigRecord):
        return None if record.properties is None else serialize_properties(record.properties)
    if isinstance(record, TaskConfigRecord):
        return serialize_properties(record.properties)
    if isinstance(record, TaskCommitRecord):
        return serialize_commit(record.task_count)
    if isinstance(record, TargetStateRecord):
        return None if record.state is None else serialize_target_state(record.state, record.has_v2)
    if isinstance(record, SessionKeyUpdate):
        return serialize_session_key(record.session_key)
    if isinstance(record, RestartRecord):
        return serialize_restart_request(record.request)
    if isinstance(record, TaskCountRecord):
        return dumps({"task-count": int(record.task_count)})
    if isinstance(record, LoggerLevelRecord):
        return dumps({"level": record.level})
    raise TypeError(f"not a config record: {record!r}")


# -- reading ----------------------------------------------------------------------------------
def parse_config_record(key: str, value: bytes | None) -> ConfigRecord:
    """The record a config-topic key and value stand for; MalformedRecord when Kafka Connect
    would discard it."""
    # Checked in Kafka's order; no prefix is a prefix of another ("tasks-" is not "task-").
    if key.startswith(TARGET_STATE_PREFIX):
        return _target_state(key[len(TARGET_STATE_PREFIX) :], value)
    if key.startswith(CONNECTOR_PREFIX):
        connector = key[len(CONNECTOR_PREFIX) :]
        if value is None:
            return ConnectorConfigRecord(connector, None)
        return ConnectorConfigRecord(connector, _properties(f"connector '{connector}'", value))
    if key.startswith(TASK_PREFIX):
        task = parse_task_key(key)
        if task is None:
            raise MalformedRecord(f"{key} couldn't be parsed as a task config key")
        if value is None:
            raise MalformedRecord(f"task configuration for task {task} is unexpectedly null")
        return TaskConfigRecord(task, _properties(f"task {task}", value))
    if key.startswith(COMMIT_TASKS_PREFIX):
        connector = key[len(COMMIT_TASKS_PREFIX) :]
        fields = _object(f"connector tasks configuration commit for connector '{connector}'", value)
        return TaskCommitRecord(connector, _int(fields, "tasks", key))
    if key.startswith(RESTART_PREFIX):
        connector = key[len(RESTART_PREFIX) :]
        fields = _object("restart request", value)
        # Kafka defaults a flag that is missing or not a boolean to false.
        include_tasks = fields.get("include-tasks")
        only_failed = fields.get("only-failed")
        return RestartRecord(
            RestartRequest(
                connector,
                include_tasks=include_tasks if isinstance(include_tasks, bool) else False,
                only_failed=only_failed if isinstance(only_failed, bool) else False,
            )
        )
    if key.startswith(TASK_COUNT_RECORD_PREFIX):
        connector = key[len(TASK_COUNT_RECORD_PREFIX) :]
        fields = _object(f"task count record for connector '{connector}'", value)
        return TaskCountRecord(connector, _int(fields, "task-count", key))
    if key == SESSION_KEY_KEY:
        return _session_key(value)
    if key.startswith(LOGGER_CLUSTER_PREFIX):
        namespace = key[len(LOGGER_CLUSTER_PREFIX) :]
        fields = _object(f"logging level for namespace {namespace}", value)
        level = fields.get("level")
        if not isinstance(level, str):
            raise MalformedRecord(f"'level' field of {key} should be a String")
        return LoggerLevelRecord(namespace, level)
    raise MalformedRecord(f"config update record with invalid key: {key}")


def parse_task_key(key: str, prefix: str = TASK_PREFIX) -> TaskId | None:
    """``<prefix><connector>-<n>`` -> TaskId; None when the key has no task number."""
    connector, dash, number = key[len(prefix) :].rpartition("-")
    if not dash or not _TASK_NUMBER.fullmatch(number) or int(number) > 2**31 - 1:
        return None
    return TaskId(connector, int(number))


def _decode(what: str, value: bytes | None) -> Any:
    if value is None:
        raise MalformedRecord(f"{what} is unexpectedly null")
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise MalformedRecord(f"{what} is not valid JSON: {error}") from error


def _object(what: str, value: bytes | None) -> dict[str, Any]:
    decoded = _decode(what, value)
    if not isinstance(decoded, dict):
        raise MalformedRecord(f"{what} is in the wrong format: {type(decoded).__name__}")
    return decoded


def _properties(what: str, value: bytes) -> dict[str, str | None]:
    properties = _object(what, value).get("properties")
    if not isinstance(properties, dict):
        raise MalformedRecord(f"'properties' field of {what} should be a Map")
    return properties


def _int(fields: Mapping[str, Any], name: str, key: str) -> int:
    number = fields.get(name)
    if isinstance(number, bool) or not isinstance(number, int):
        raise MalformedRecord(f"'{name}' field of {key} should be an integer")
    return number


def _target_state(connector: str, value: bytes | None) -> TargetStateRecord:
    if value is None:
        return TargetStateRecord(connector, None)
    fields = _object(f"target state for connector '{connector}'", value)
    has_v2 = "state.v2" in fields
    # "state.v2" (Kafka 3.5+) knows STOPPED; older records only have "state".
    state = fields.get("state.v2")
    if not isinstance(state, str):
        state = fields.get("state")
    if not isinstance(state, str):
        raise MalformedRecord(f"'state' field of the target state of '{connector}' is no String")
    try:
        return TargetStateRecord(connector, TargetState(state), has_v2)
    except ValueError:
        raise MalformedRecord(
            f"invalid target state for connector '{connector}': {state}"
        ) from None


def _session_key(value: bytes | None) -> SessionKeyUpdate:
    fields = _object("session key", value)
    key, algorithm = fields.get("key"), fields.get("algorithm")
    created = fields.get("creation-timestamp")
    if not isinstance(key, str):
        raise MalformedRecord("'key' field of the session key should be a String")
    if not isinstance(algorithm, str):
        raise MalformedRecord("'algorithm' field of the session key should be a String")
    if isinstance(created, bool) or not isinstance(created, int):
        raise MalformedRecord("'creation-timestamp' field of the session key should be a long")
    try:
        raw = base64.b64decode(key, validate=True)
    except binascii.Error as error:
        raise MalformedRecord(f"session key is not base64: {error}") from error
    return SessionKeyUpdate(SessionKeyRecord(raw, algorithm, created))
