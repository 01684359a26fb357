"""Source offsets in a compacted Kafka topic (Kafka Connect's KafkaOffsetBackingStore).

Keys and values are the bytes Kafka Connect writes (``["<connector>",{partition}]`` and the
offset as JSON, see :mod:`kconnect.storage.offset_storage`), placed by Java's partitioner, so
a kconnect cluster and a Java Connect cluster can share or hand over an offsets topic.

Invariant: the in-memory map only ever holds what was read back from the topic. ``set()``
returns once the broker acknowledged every write (the source task runner commits offsets only
then); ``get()`` and ``all()`` first read the topic to its end, so they see every write
acknowledged before the call, by this worker or any other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import Message

from kconnect.api.errors import ConnectException
from kconnect.storage.kafka_based_log import KafkaBasedLog
from kconnect.storage.offset_backing_store import OffsetBackingStore
from kconnect.storage.topic_admin import client_id_base, offset_topic

log = logging.getLogger(__name__)

#: Kafka Connect's bound on a read of the offsets topic for get()/all().
READ_TIMEOUT_S = 30.0


class KafkaOffsetBackingStore(OffsetBackingStore):
    """Worker keys: ``offset.storage.topic`` (required), ``offset.storage.partitions`` (25),
    ``offset.storage.replication.factor`` (3; -1: broker default), ``offset.storage.*`` topic
    settings, ``offset.flush.timeout.ms`` (5000: how long ``set()`` waits for the broker),
    ``default.api.timeout.ms`` (60000: topic creation and start), ``bootstrap.servers`` and
    the worker's security settings."""

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._lock = threading.Lock()
        self._log: KafkaBasedLog | None = None
        self.write_timeout_s = 5.0
        self.read_timeout_s = READ_TIMEOUT_S

    def configure(self, worker_config: Mapping[str, Any]) -> None:
        props = dict(worker_config)
        topic = offset_topic(props)
        self.write_timeout_s = int(props.get("offset.flush.timeout.ms", 5000)) / 1000
        self._log = KafkaBasedLog(topic, props, client_id_base(props) + "offsets", self._on_record)

    @property
    def log(self) -> KafkaBasedLog:
        if self._log is None:
            raise ConnectException("KafkaOffsetBackingStore: configure() was not called")
        return self._log

    def start(self) -> None:
        log.info("Starting KafkaOffsetBackingStore")
        self.log.start()
        log.info("Finished reading offsets topic and starting KafkaOffsetBackingStore")

    def stop(self) -> None:
        log.info("Stopping KafkaOffsetBackingStore")
        if self._log is not None:
            self._log.stop()
        log.info("Stopped KafkaOffsetBackingStore")

    def _on_record(self, message: Message) -> None:
        key = message.key()
        if key is None:
            return
        value = message.value()
        with self._lock:
            if value is None:
                self._data.pop(key, None)
            else:
                self._data[key] = value

    def _read_to_end(self) -> None:
        try:
            self.log.read_to_end(self.read_timeout_s)
        except TimeoutError as error:
            raise ConnectException(f"Failed to fetch offsets: {error}") from error

    def get(self, keys: Iterable[bytes]) -> dict[bytes, bytes]:
        self._read_to_end()
        with self._lock:
            return {k: self._data[k] for k in keys if k in self._data}

    def set(self, values: Mapping[bytes, bytes | None]) -> None:
        if not values:
            return
        try:
            self.log.send_and_wait(list(values.items()), self.write_timeout_s)
        except TimeoutError as error:
            raise ConnectException(f"Failed to write offsets: {error}") from error

    def all(self) -> dict[bytes, bytes]:
        self._read_to_end()
        with self._lock:
            return dict(self._data)
