"""A compacted Kafka topic used as a shared log (Kafka Connect's KafkaBasedLog).

Every worker reads the whole topic from the beginning on a reader thread of its own (all
partitions assigned, no consumer group, nothing committed) and hands each record to a callback
on that thread; writes go through an idempotent ``acks=all`` producer whose partitioner is
Java's (murmur2 of the key), so a key lands in the partition a Java worker would choose and
compaction keeps one value per key whichever implementation wrote it.

Invariant: when :meth:`KafkaBasedLog.read_to_end` returns, every record that was acknowledged
before it was called has been passed to the callback. It flushes this log's producer, asks the
brokers for the end offsets (high watermarks) of all partitions, then waits until the reader's
position reaches them. Positions advance with each record *after* its callback ran, and with
partition-EOF events, which also step over transaction markers that are never delivered as
records. Every wait is bounded; an unreachable cluster raises instead of hanging.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from confluent_kafka import (
    Consumer,
    KafkaError,
    Message,
    Producer,
    TopicPartition,
)

from kconnect.api.errors import ConnectException
from kconnect.runtime.worker.client_configs import create_client, to_librdkafka
from kconnect.storage.topic_admin import (
    InternalTopic,
    TopicAdmin,
    api_timeout_s,
    internal_client_props,
)

log = logging.getLogger(__name__)
# librdkafka's own log lines (broker connections, retries) go to logging, not to stderr.
_client_log = logging.getLogger("kconnect.storage.librdkafka")

RecordCallback = Callable[[Message], None]
DeliveryCallback = Callable[[KafkaError | None, Message], None]

# How long the reader blocks in consume(); also how quickly it notices stop().
_POLL_S = 0.1
_BATCH = 500


class KafkaBasedLog:
    """One internal topic: created and checked on start, read to the end, then tailed."""

    def __init__(
        self,
        topic: InternalTopic,
        worker_props: Mapping[str, Any],
        client_id: str,
        on_record: RecordCallback,
    ):
        self.topic = topic
        self.client_id = client_id
        self.on_record = on_record
        self.timeout_s = api_timeout_s(worker_props)
        self._client_props = internal_client_props(worker_props)
        self.partition_count = 0
        self._admin: TopicAdmin | None = None
        self._producer: Producer | None = None
        self._consumer: Consumer | None = None
        self._partitions: list[int] = []
        #: next offset to read per partition; guarded by _progress
        self._positions: dict[int, int] = {}
        self._progress = threading.Condition()
        self._reader_error: str | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Create or check the topic, then read it to the end; ConnectException on failure
        (within ``default.api.timeout.ms``, never a hang)."""
        log.info("Starting KafkaBasedLog with topic %s", self.topic.name)
        deadline = time.monotonic() + self.timeout_s
        self._admin = TopicAdmin(self._client_props, self.client_id)
        try:
            self.partition_count = self._admin.ensure_topic(self.topic, self.timeout_s)
            self._partitions = list(range(self.partition_count))
            self._producer = create_client(
                Producer, self._producer_config(), self._name("producer")
            )
            self._consumer = create_client(
                Consumer, self._consumer_config(), self._name("consumer")
            )
            # From the beginning, always: this log is the whole topic, never a group's share.
            # Offset 0 rather than OFFSET_BEGINNING: librdkafka first looks the symbolic offset
            # up (0.5-1 s per topic, measured); 0 out of range falls back to the earliest.
            self._consumer.assign([TopicPartition(self.topic.name, p, 0) for p in self._partitions])
            self._stopping.clear()
            with self._progress:
                self._positions = {}
            self._reader_error = None
            for target, role in ((self._read_loop, "reader"), (self._deliver_loop, "delivery")):
                thread = threading.Thread(
                    target=target, name=f"KafkaBasedLog {role} - {self.topic.name}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
            self.read_to_end(max(deadline - time.monotonic(), 1.0))
        except TimeoutError as error:
            self.stop()
            raise ConnectException(
                f"Could not read topic '{self.topic.name}' to its end within "
                f"{self.timeout_s:.0f} s: {error}"
            ) from error
        except BaseException:
            self.stop()
            raise
        log.info("Finished reading KafkaBasedLog for topic %s", self.topic.name)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop reading, deliver what was sent (bounded), close the clients."""
        log.info("Stopping KafkaBasedLog for topic %s", self.topic.name)
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=5.0)
        self._threads = []
        if self._producer is not None:
            remaining = self._producer.flush(timeout_s)
            if remaining:
                log.warning(
                    "%d records to topic %s were not delivered before stop",
                    remaining,
                    self.topic.name,
                )
            self._producer = None
        if self._consumer is not None:
            try:
                self._consumer.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                log.debug("Error closing the consumer of %s", self.topic.name, exc_info=True)
            self._consumer = None
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        log.info("Stopped KafkaBasedLog for topic %s", self.topic.name)

    # -- writing --------------------------------------------------------------------------------
    def send(
        self,
        key: str | bytes | None,
        value: bytes | None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Write one record (None value: a tombstone). ``on_delivery(error, message)`` runs on
        a client thread once the broker acknowledged it or the write failed. Blocks only while
        the client's local queue is full, at most ``default.api.timeout.ms`` (as Java's
        ``max.block.ms``), then raises ConnectException."""
        producer = self._producer
        if producer is None:
            raise ConnectException(f"The log of topic {self.topic.name} is not started")
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                producer.produce(self.topic.name, value=value, key=key, on_delivery=on_delivery)
                return
            except BufferError:
                # The local queue is full: wait for deliveries rather than fail at once.
                if time.monotonic() >= deadline:
                    raise ConnectException(
                        f"Could not write to topic {self.topic.name}: the producer's queue stayed "
                        f"full for {self.timeout_s:.0f} s (are the brokers reachable?)"
                    ) from None
                producer.poll(0.1)

    def send_and_wait(
        self, records: Sequence[tuple[str | bytes, bytes | None]], timeout_s: float
    ) -> None:
        """Write ``records`` in order and return once the broker acknowledged all of them;
        ConnectException if one fails, TimeoutError if not acknowledged within ``timeout_s``."""
        acks = _Acks(len(records))
        for key, value in records:
            self.send(key, value, acks.on_delivery)
        acks.wait(timeout_s, self.topic.name)

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until everything sent so far was acknowledged (or failed); TimeoutError after
        ``timeout_s`` (default ``default.api.timeout.ms``)."""
        producer = self._producer
        if producer is None:
            return
        if timeout_s is None:
            timeout_s = self.timeout_s
        remaining = producer.flush(max(timeout_s, 0.0))
        if remaining:
            raise TimeoutError(
                f"{remaining} records to topic {self.topic.name} not acknowledged within "
                f"{timeout_s:.1f} s"
            )

    # -- reading --------------------------------------------------------------------------------
    def read_to_end(self, timeout_s: float) -> None:
        """Return once everything written before the call has been read (see module doc);
        TimeoutError when that takes longer than ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        admin = self._admin
        if admin is None:
            raise ConnectException(f"The log of topic {self.topic.name} is not started")
        self.flush(deadline - time.monotonic())
        ends = admin.end_offsets(self.topic.name, self._partitions, deadline - time.monotonic())
        with self._progress:
            while True:
                behind = {p: e for p, e in ends.items() if self._positions.get(p, 0) < e}
                if not behind:
                    return
                left = deadline - time.monotonic()
                if left <= 0 or self._stopping.is_set():
                    detail = (
                        f"; last reader error: {self._reader_error}" if self._reader_error else ""
                    )
                    raise TimeoutError(
                        f"Reading topic {self.topic.name} to its end offsets {ends} did not "
                        f"finish within {timeout_s:.1f} s (at {dict(self._positions)}){detail}"
                    )
                self._progress.wait(left)

    def _read_loop(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while not self._stopping.is_set():
            try:
                # consume() with a timeout waits for a full batch or the whole timeout; poll()
                # returns with the first record, then consume(timeout=0) takes what else is
                # already there. A record written by another worker is seen within milliseconds.
                first = consumer.poll(_POLL_S)
                messages = [] if first is None else [first, *consumer.consume(_BATCH, 0)]
            except Exception as error:  # noqa: BLE001 - the reader must outlive broker trouble
                self._note_error(f"consume failed: {error}")
                time.sleep(_POLL_S)
                continue
            if not messages:
                continue
            advanced: dict[int, int] = {}
            for message in messages:
                partition, offset = int(message.partition() or 0), int(message.offset() or 0)
                kafka_error = message.error()
                if kafka_error is not None:
                    if kafka_error.code() == KafkaError._PARTITION_EOF:
                        # The fetch position at the end: past any transaction markers too.
                        advanced[partition] = max(advanced.get(partition, 0), offset)
                    else:
                        self._note_error(kafka_error.str())
                    continue
                try:
                    self.on_record(message)
                except Exception:  # noqa: BLE001 - one bad record must not stop the log
                    log.exception("Error handling a record of topic %s", self.topic.name)
                advanced[partition] = offset + 1
            with self._progress:
                for partition, position in advanced.items():
                    if position > self._positions.get(partition, 0):
                        self._positions[partition] = position
                self._progress.notify_all()

    def _deliver_loop(self) -> None:
        # Delivery callbacks only run inside poll()/flush(); this thread makes them run as soon
        # as the broker answers, whoever wrote.
        while not self._stopping.is_set():
            producer = self._producer
            if producer is None:
                return
            producer.poll(_POLL_S)

    def _note_error(self, text: str) -> None:
        if text != self._reader_error:
            log.warning("Reading topic %s: %s", self.topic.name, text)
        self._reader_error = text

    # -- client settings ------------------------------------------------------------------------
    def _producer_config(self) -> dict[str, Any]:
        config = to_librdkafka(self._client_props, self._name("producer"))
        config.update(
            {
                "client.id": self.client_id,
                "logger": _client_log,
                "enable.idempotence": True,
                "acks": "all",
                # Java's default partitioner for keyed records: murmur2, positive, modulo.
                "partitioner": "murmur2_random",
            }
        )
        return config

    def _consumer_config(self) -> dict[str, Any]:
        config = to_librdkafka(self._client_props, self._name("consumer"))
        config.update(
            {
                "client.id": self.client_id,
                "logger": _client_log,
                # librdkafka wants a group id even for assign(); it is never joined or committed.
                "group.id": f"{self.client_id}-log",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "enable.partition.eof": True,
                "allow.auto.create.topics": False,
            }
        )
        return config

    def _name(self, client: str) -> str:
        return f"{client} of topic {self.topic.name}"


class _Acks:
    """Counts the acknowledgements of a batch of writes."""

    def __init__(self, expected: int):
        self.remaining = expected
        self.errors: list[str] = []
        self._done = threading.Condition()

    def on_delivery(self, error: KafkaError | None, _message: Message) -> None:
        with self._done:
            self.remaining -= 1
            if error is not None:
                self.errors.append(error.str())
            self._done.notify_all()

    def wait(self, timeout_s: float, topic: str) -> None:
        with self._done:
            if not self._done.wait_for(lambda: self.remaining <= 0, timeout=max(timeout_s, 0.0)):
                raise TimeoutError(
                    f"{self.remaining} records to topic {topic} not acknowledged within "
                    f"{timeout_s:.1f} s"
                )
        if self.errors:
            raise ConnectException(f"Failed to write to topic {topic}: {self.errors[0]}")
