"""Connector and task configs of a cluster in its config topic (Kafka Connect's
KafkaConfigBackingStore).

Every worker reads the one-partition config topic in order and builds the same snapshot. Task
configs are held back per connector until ``commit-<connector>`` names how many there are; a
commit whose task configs are incomplete (compaction removed some, or the leader died while
writing them) marks the connector *inconsistent* and it gets no tasks until the next complete
commit. Task configs read after a commit wait for the next one.

Invariants:

* the snapshot only changes from records read back from the topic, on the reader thread, and
  the listener hears of each change there, after the snapshot shows it (never during start:
  what was in the topic before is the starting point, not news);
* writes follow Kafka's order (``target-state`` before ``connector`` on creation, all
  ``task-*`` records acknowledged and read back before their ``commit``), so a reader never
  applies half a change;
* only a worker that claimed write privileges (the leader) may write configs, task configs,
  session keys and restart requests; any worker may write a target state, as in Kafka.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from confluent_kafka import Message

from kconnect.api.errors import ConfigException, ConnectException
from kconnect.runtime.states import TargetState, TaskId
from kconnect.storage import config_records as records
from kconnect.storage.config_backing_store import (
    ClusterConfigState,
    ConfigBackingStore,
    RestartRequest,
    SessionKeyRecord,
)
from kconnect.storage.kafka_based_log import KafkaBasedLog
from kconnect.storage.topic_admin import client_id_base, config_topic

log = logging.getLogger(__name__)

#: Kafka Connect's bound on one write (sends, acknowledgements and reading them back).
WRITE_TIMEOUT_S = 30.0


class PrivilegedWriteException(ConnectException):
    """A leader-only write by a worker that holds no write privileges."""


class KafkaConfigBackingStore(ConfigBackingStore):
    """Worker keys: ``config.storage.topic`` (required), ``config.storage.replication.factor``
    (3; -1: broker default), ``config.storage.*`` topic settings, ``default.api.timeout.ms``
    (60000: topic creation and start), ``bootstrap.servers`` and the worker's security
    settings. The topic always has one partition; one with more is refused."""

    def __init__(self) -> None:
        self._log: KafkaBasedLog | None = None
        self._lock = threading.Lock()
        self._started = False
        self._may_write = False
        self.write_timeout_s = WRITE_TIMEOUT_S
        self._offset = -1
        self._connector_configs: dict[str, dict[str, Any]] = {}
        self._target_states: dict[str, TargetState] = {}
        self._task_configs: dict[TaskId, dict[str, Any]] = {}
        self._task_counts: dict[str, int] = {}
        self._inconsistent: set[str] = set()
        self._deferred: dict[str, dict[TaskId, dict[str, Any]]] = {}
        self._session_key: SessionKeyRecord | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def configure(self, worker_config: Mapping[str, Any]) -> None:
        props = dict(worker_config)
        self._log = KafkaBasedLog(
            config_topic(props), props, client_id_base(props) + "configs", self._on_record
        )

    @property
    def log(self) -> KafkaBasedLog:
        if self._log is None:
            raise ConnectException("KafkaConfigBackingStore: configure() was not called")
        return self._log

    def start(self) -> None:
        log.info("Starting KafkaConfigBackingStore")
        self.log.start()
        if self.log.partition_count > 1:
            topic = self.log.topic.name
            count = self.log.partition_count
            self.log.stop()
            raise ConfigException(
                f"Topic '{topic}' supplied via the 'config.storage.topic' property is required "
                "to have a single partition in order to guarantee consistency of connector "
                f"configurations, but found {count} partitions.",
                name="config.storage.topic",
            )
        self._started = True
        log.info("Started KafkaConfigBackingStore")

    def stop(self) -> None:
        log.info("Closing KafkaConfigBackingStore")
        self._started = False
        self._may_write = False
        if self._log is not None:
            self._log.stop()
        log.info("Closed KafkaConfigBackingStore")

    def claim_write_privileges(self) -> None:
        self._may_write = True

    def relinquish_write_privileges(self) -> None:
        self._may_write = False

    # -- queries --------------------------------------------------------------------------------
    def snapshot(self) -> ClusterConfigState:
        with self._lock:
            return ClusterConfigState(
                offset=self._offset,
                connector_configs=dict(self._connector_configs),
                target_states=dict(self._target_states),
                task_configs=dict(self._task_configs),
                task_counts=dict(self._task_counts),
                inconsistent=frozenset(self._inconsistent),
                session_key=self._session_key,
            )

    def contains(self, connector: str) -> bool:
        with self._lock:
            return connector in self._connector_configs

    def refresh(self, timeout_s: float) -> None:
        self.log.read_to_end(timeout_s)

    # -- writes ---------------------------------------------------------------------------------
    def put_connector_config(
        self, connector: str, config: Mapping[str, str], target_state: TargetState | None = None
    ) -> None:
        self._check_privileges("write the config of connector " + connector)
        writes: list[tuple[str | bytes, bytes | None]] = []
        if target_state is not None:
            # First, so that the connector never runs before its initial state is known.
            key = records.target_state_key(connector)
            writes.append((key, records.serialize_target_state(target_state)))
        writes.append((records.connector_key(connector), records.serialize_properties(config)))
        self._write("Error writing connector configuration to Kafka", writes, read_back=True)

    def remove_connector_config(self, connector: str) -> None:
        self._check_privileges("remove connector " + connector)
        writes: list[tuple[str | bytes, bytes | None]] = [
            (records.connector_key(connector), None),
            (records.target_state_key(connector), None),
        ]
        self._write("Error removing connector configuration from Kafka", writes, read_back=True)

    def put_task_configs(self, connector: str, configs: Sequence[Mapping[str, str]]) -> None:
        self._check_privileges("write the task configs of connector " + connector)
        deadline = time.monotonic() + self.write_timeout_s
        what = "Error writing task configurations to Kafka"

        def left() -> float:
            return deadline - time.monotonic()

        # Be at the end of the log first: nothing stale may be pending behind our writes.
        self._run(what, lambda: self.log.read_to_end(left()))
        tasks = [
            (records.task_key(TaskId(connector, n)), records.serialize_properties(c))
            for n, c in enumerate(configs)
        ]
        if tasks:
            self._run(what, lambda: self.log.send_and_wait(list(tasks), left()))
            # Every task config must be read back before the commit that applies them.
            self._run(what, lambda: self.log.read_to_end(left()))
        commit = [(records.commit_key(connector), records.serialize_commit(len(configs)))]
        self._run(what, lambda: self.log.send_and_wait(commit, left()))
        self._run(what, lambda: self.log.read_to_end(left()))

    def put_target_state(self, connector: str, state: TargetState) -> None:
        # Any worker may pause, resume or stop (Kafka does not forward these to the leader).
        writes: list[tuple[str | bytes, bytes | None]] = [
            (records.target_state_key(connector), records.serialize_target_state(state))
        ]
        self._write("Error writing target state to Kafka", writes, read_back=False)

    def put_session_key(self, key: SessionKeyRecord) -> None:
        self._check_privileges("write a session key")
        writes: list[tuple[str | bytes, bytes | None]] = [
            (records.SESSION_KEY_KEY, records.serialize_session_key(key))
        ]
        self._write("Error writing session key to Kafka", writes, read_back=True)

    def put_restart_request(self, request: RestartRequest) -> None:
        self._check_privileges("write a restart request for connector " + request.connector)
        writes: list[tuple[str | bytes, bytes | None]] = [
            (records.restart_key(request.connector), records.serialize_restart_request(request))
        ]
        self._write(f"Error writing {request} to Kafka", writes, read_back=True)

    def put_logger_level(self, namespace: str, level: str) -> None:
        # Any worker may write it, and no worker waits to read it back: as Kafka.
        writes: list[tuple[str | bytes, bytes | None]] = [
            (
                records.LOGGER_CLUSTER_PREFIX + namespace,
                records.serialize_config_record(records.LoggerLevelRecord(namespace, level)),
            )
        ]
        self._write("Error writing logger level to Kafka", writes, read_back=False)

    def _check_privileges(self, action: str) -> None:
        if not self._may_write:
            raise PrivilegedWriteException(
                f"Cannot {action}: only the leader writes to the config topic, and this worker "
                "has not claimed write privileges (claim_write_privileges())"
            )

    def _write(
        self, what: str, writes: list[tuple[str | bytes, bytes | None]], read_back: bool
    ) -> None:
        deadline = time.monotonic() + self.write_timeout_s
        self._run(what, lambda: self.log.send_and_wait(writes, deadline - time.monotonic()))
        if read_back:
            self._run(what, lambda: self.log.read_to_end(deadline - time.monotonic()))

    @staticmethod
    def _run(what: str, step: Callable[[], None]) -> None:
        try:
            step()
        except TimeoutError as error:
            raise ConnectException(f"{what}: {error}") from error
        except ConnectException as error:
            raise ConnectException(f"{what}: {error}") from error

    # -- reading (reader thread) ----------------------------------------------------------------
    def _on_record(self, message: Message) -> None:
        raw_key = message.key()
        key = raw_key.decode("utf-8", "replace") if raw_key is not None else ""
        try:
            record = records.parse_config_record(key, message.value())
        except records.MalformedRecord as error:
            log.error("Ignoring config topic record at offset %s: %s", message.offset(), error)
            with self._lock:
                self._offset = int(message.offset() or 0) + 1
            return
        with self._lock:
            # The offset of the *next* record, as consumer positions count.
            self._offset = int(message.offset() or 0) + 1
            notify = self._apply(record)
        if notify is not None and self._started:
            listener = getattr(self, "listener", None)
            if listener is not None:
                try:
                    notify(listener)
                except Exception:  # noqa: BLE001 - a failing listener must not stop the reader
                    log.exception("The config update listener failed on %s", key)

    def _apply(self, record: records.ConfigRecord) -> Callable[[Any], None] | None:
        """Apply ``record`` to the state (lock held); the listener call it calls for, if any."""
        if isinstance(record, records.TargetStateRecord):
            return self._apply_target_state(record)
        if isinstance(record, records.ConnectorConfigRecord):
            name = record.connector
            if record.properties is None:
                self._remove_connector(name)
                log.info("Successfully processed removal of connector '%s'", name)
                return lambda listener: listener.on_connector_config_remove(name)
            self._connector_configs[name] = dict(record.properties)
            # Connectors created by workers that wrote no target state start as STARTED.
            self._target_states.setdefault(name, TargetState.STARTED)
            return lambda listener: listener.on_connector_config_update(name)
        if isinstance(record, records.TaskConfigRecord):
            deferred = self._deferred.setdefault(record.task.connector, {})
            deferred[record.task] = dict(record.properties)
            return None
        if isinstance(record, records.TaskCommitRecord):
            return self._apply_commit(record)
        if isinstance(record, records.SessionKeyUpdate):
            session_key = self._session_key = record.session_key
            return lambda listener: listener.on_session_key_update(session_key)
        if isinstance(record, records.RestartRecord):
            request = record.request
            return lambda listener: listener.on_restart_request(request)
        if isinstance(record, records.LoggerLevelRecord):
            # Levels are for the workers running when the record was written: one read while
            # starting is history, as in Kafka (only records read after start notify).
            namespace, level = record.namespace, record.level
            return lambda listener: _notify_logging_level(listener, namespace, level)
        # tasks-fencing-* (exactly-once source) is a feature kconnect does not have: read,
        # never acted on.
        return None

    def _apply_target_state(
        self, record: records.TargetStateRecord
    ) -> Callable[[Any], None] | None:
        name = record.connector
        if record.state is None:
            # Written with the connector's tombstone, which is what the listener hears about.
            self._target_states.pop(name, None)
            if name in self._connector_configs:
                self._target_states[name] = TargetState.STARTED
            return None
        previous = self._target_states.get(name)
        self._target_states[name] = record.state
        # Not news for a connector that does not exist yet (created with an initial state).
        if record.state is previous or name not in self._connector_configs:
            return None
        return lambda listener: listener.on_connector_target_state_change(name)

    def _apply_commit(self, record: records.TaskCommitRecord) -> Callable[[Any], None] | None:
        name, count = record.connector, record.task_count
        if name not in self._connector_configs:
            # The connector was deleted and compaction removed both its config and tombstone.
            self._remove_connector(name)
            log.debug("Ignoring task configs for deleted connector %s", name)
            return None
        deferred = self._deferred.pop(name, {})
        present = {task.task for task in deferred}
        updated: list[TaskId] = []
        if not all(n in present for n in range(count)):
            # Only compacted history or a leader that died mid-write leaves a commit without
            # all its task configs: no tasks until a complete set is committed.
            log.debug("Incomplete set of task configs for connector '%s' at its commit", name)
            self._inconsistent.add(name)
        else:
            for task in [t for t in self._task_configs if t.connector == name and t.task >= count]:
                del self._task_configs[task]
            for task, config in sorted(deferred.items(), key=lambda item: item[0].task):
                if task.task < count:
                    self._task_configs[task] = config
                    updated.append(task)
            self._inconsistent.discard(name)
        self._task_counts[name] = count
        return lambda listener: listener.on_task_config_update(updated)

    def _remove_connector(self, name: str) -> None:
        self._connector_configs.pop(name, None)
        self._task_counts.pop(name, None)
        self._deferred.pop(name, None)
        self._inconsistent.discard(name)
        for task in [t for t in self._task_configs if t.connector == name]:
            del self._task_configs[task]


def _notify_logging_level(listener: Any, namespace: str, level: str) -> None:
    on_update = getattr(listener, "on_logging_level_update", None)
    if on_update is not None:
        on_update(namespace, level)
