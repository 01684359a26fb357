"""Connector, task and topic statuses of a cluster in its status topic (Kafka Connect's
KafkaStatusBackingStore).

Each worker writes the statuses of what it runs and reads everyone's. Writes do not wait: the
cache changes only when a record is read back, so every worker shows the same statuses in
topic order.

Invariants:

* a *safe* write is dropped when the cache holds a status of another worker with a newer
  generation: a worker that lost a task in a rebalance cannot hide the status of the worker
  that took it over; a failed write is retried only while that still holds and no newer write
  for the same key was made since;
* a DESTROYED status is written as a tombstone, and reading a connector's tombstone forgets
  the connector and all its tasks, as Kafka does;
* reading an UNASSIGNED task status of a generation not newer than a known RUNNING one is
  ignored: it is a late report from a rebalance that already finished.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError, Message

from kconnect.api.errors import ConnectException
from kconnect.runtime.states import State, Status, TaskId
from kconnect.storage import status_records as records
from kconnect.storage.config_records import MalformedRecord
from kconnect.storage.kafka_based_log import KafkaBasedLog
from kconnect.storage.status_backing_store import StatusBackingStore, TopicStatus
from kconnect.storage.topic_admin import client_id_base, status_topic

log = logging.getLogger(__name__)


class _Entry:
    """The cached status of one connector or task and the count of writes made for it."""

    __slots__ = ("deleted", "sequence", "status")

    def __init__(self) -> None:
        self.status: Status | None = None
        self.sequence = 0
        self.deleted = False

    def can_write_safely(self, status: Status, sequence: int | None = None) -> bool:
        current = self.status
        allowed = (
            current is None
            or current.worker_id == status.worker_id
            or current.generation <= status.generation
        )
        return allowed and (sequence is None or sequence == self.sequence)


class KafkaStatusBackingStore(StatusBackingStore):
    """Worker keys: ``status.storage.topic`` (required), ``status.storage.partitions`` (5),
    ``status.storage.replication.factor`` (3; -1: broker default), ``status.storage.*`` topic
    settings, ``default.api.timeout.ms`` (60000: topic creation and start),
    ``bootstrap.servers`` and the worker's security settings."""

    def __init__(self) -> None:
        self._log: KafkaBasedLog | None = None
        self._lock = threading.Lock()
        self._connectors: dict[str, _Entry] = {}
        self._tasks: dict[str, dict[int, _Entry]] = {}
        self._topics: dict[str, dict[str, TopicStatus]] = {}
        self._generation = 0
        self.flush_timeout_s = 30.0

    # -- lifecycle ------------------------------------------------------------------------------
    def configure(self, worker_config: Mapping[str, Any]) -> None:
        props = dict(worker_config)
        self._log = KafkaBasedLog(
            status_topic(props), props, client_id_base(props) + "statuses", self._on_record
        )

    @property
    def log(self) -> KafkaBasedLog:
        if self._log is None:
            raise ConnectException("KafkaStatusBackingStore: configure() was not called")
        return self._log

    def start(self) -> None:
        # start() reads to the end, so REST shows the latest statuses from the first request.
        self.log.start()

    def stop(self) -> None:
        if self._log is not None:
            self._log.stop()

    def flush(self) -> None:
        try:
            self.log.flush(self.flush_timeout_s)
        except TimeoutError as error:
            log.warning("Status writes not acknowledged: %s", error)

    # -- writes ---------------------------------------------------------------------------------
    def put_connector(self, connector: str, status: Status, safe: bool = False) -> None:
        with self._lock:
            entry = self._connectors.setdefault(connector, _Entry())
        self._send(records.connector_status_key(connector), status, entry, safe)

    def put_task(self, task: TaskId, status: Status, safe: bool = False) -> None:
        with self._lock:
            entry = self._tasks.setdefault(task.connector, {}).setdefault(task.task, _Entry())
        self._send(records.task_status_key(task), status, entry, safe)

    def remove_connector(self, connector: str) -> None:
        """Tombstones for the connector's status and every task status known for it."""
        with self._lock:
            tasks = sorted(self._tasks.get(connector, {}))
            # Newer than any write in flight: a retry of an older status must not outlive this.
            for entry in [
                self._connectors.get(connector),
                *self._tasks.get(connector, {}).values(),
            ]:
                if entry is not None:
                    entry.sequence += 1
        for n in tasks:
            self._log_send(records.task_status_key(TaskId(connector, n)), None)
        self._log_send(records.connector_status_key(connector), None)

    def put_topic(self, status: TopicStatus) -> None:
        key = records.topic_status_key(status.connector, status.topic)
        self._log_send(key, records.serialize_topic_status(status))

    def delete_topic(self, connector: str, topic: str) -> None:
        self._log_send(records.topic_status_key(connector, topic), None)

    def _send(self, key: str, status: Status, entry: _Entry, safe: bool) -> None:
        with self._lock:
            self._generation = status.generation
            if safe and not entry.can_write_safely(status):
                log.debug("Not writing %s %s: a newer generation owns it", key, status.state)
                return
            entry.sequence += 1
            sequence = entry.sequence
        value = (
            None
            if status.state is State.DESTROYED
            else records.serialize_status(status, status.version)
        )

        def on_delivery(error: KafkaError | None, _message: Message) -> None:
            if error is None:
                return
            with self._lock:
                still_current = (
                    not entry.deleted
                    and status.generation == self._generation
                    and (not safe or entry.can_write_safely(status, sequence))
                )
            if error.retriable() and still_current:
                log.warning("Retrying status write %s after: %s", key, error.str())
                self._log_send(key, value, on_delivery)
            else:
                log.error("Failed to write status update %s: %s", key, error.str())

        self._log_send(key, value, on_delivery)

    def _log_send(self, key: str, value: bytes | None, on_delivery: Any = None) -> None:
        def log_failure(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                log.error("Failed to write status update %s: %s", key, error.str())

        self.log.send(key, value, on_delivery or log_failure)

    # -- queries --------------------------------------------------------------------------------
    def connector(self, connector: str) -> Status | None:
        with self._lock:
            entry = self._connectors.get(connector)
            return entry.status if entry is not None else None

    def task(self, task: TaskId) -> Status | None:
        with self._lock:
            entry = self._tasks.get(task.connector, {}).get(task.task)
            return entry.status if entry is not None else None

    def tasks(self, connector: str) -> dict[int, Status]:
        with self._lock:
            entries = self._tasks.get(connector, {})
            return {n: e.status for n, e in entries.items() if e.status is not None}

    def connectors(self) -> set[str]:
        with self._lock:
            return set(self._connectors)

    def topics(self, connector: str) -> list[TopicStatus]:
        with self._lock:
            return list(self._topics.get(connector, {}).values())

    # -- reading (reader thread) ----------------------------------------------------------------
    def _on_record(self, message: Message) -> None:
        raw_key = message.key()
        key = raw_key.decode("utf-8", "replace") if raw_key is not None else ""
        try:
            record = records.parse_status_record(key, message.value())
        except MalformedRecord as error:
            log.warning("Discarding status record: %s", error)
            return
        with self._lock:
            if isinstance(record, records.ConnectorStatusRecord):
                self._read_connector(record)
            elif isinstance(record, records.TaskStatusRecord):
                self._read_task(record)
            else:
                self._read_topic(record)

    def _read_connector(self, record: records.ConnectorStatusRecord) -> None:
        if record.status is None:
            removed = self._connectors.pop(record.connector, None)
            if removed is not None:
                removed.deleted = True
            for entry in self._tasks.pop(record.connector, {}).values():
                entry.deleted = True
            return
        self._connectors.setdefault(record.connector, _Entry()).status = record.status

    def _read_task(self, record: records.TaskStatusRecord) -> None:
        task = record.task
        if record.status is None:
            removed = self._tasks.get(task.connector, {}).pop(task.task, None)
            if removed is not None:
                removed.deleted = True
            return
        entry = self._tasks.setdefault(task.connector, {}).setdefault(task.task, _Entry())
        current = entry.status
        if (
            record.status.state is State.UNASSIGNED
            and current is not None
            and current.state is State.RUNNING
            and current.generation >= record.status.generation
        ):
            log.debug(
                "Ignoring stale status %s of %s in favour of %s", record.status, task, current
            )
            return
        entry.status = record.status

    def _read_topic(self, record: records.TopicStatusRecord) -> None:
        if record.status is None:
            self._topics.get(record.connector, {}).pop(record.topic, None)
            return
        self._topics.setdefault(record.connector, {})[record.topic] = record.status
