"""The source task loop: poll -> transforms -> converters -> producer, and offset commits.

Offsets are committed only for records Kafka acknowledged: every ``offset.flush.interval.ms``
the loop takes a snapshot of the newest offsets handed to the producer, flushes the producer
(bounded by ``offset.flush.timeout.ms``) and, only if every record was delivered, writes the
snapshot to the offset store. A crash therefore repeats at most the records of the last
uncommitted interval and never skips one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError, Producer

from kconnect.api.errors import ConnectException, RetriableException
from kconnect.api.records import SourceRecord
from kconnect.api.storage import OffsetStorageReader
from kconnect.api.task import RecordMetadata, SourceTask, SourceTaskContext
from kconnect.runtime.errors.error_handler import SKIPPED, Stage
from kconnect.runtime.log_context import CLIENT_LOGGER
from kconnect.runtime.metrics.client_statistics import client_settings
from kconnect.runtime.metrics.task_metrics import SourceTaskMetrics
from kconnect.runtime.plugin_calls import call_with_timeout
from kconnect.runtime.worker.task_runner import TaskRunner
from kconnect.storage.offset_storage import ConnectorOffsetWriter

log = logging.getLogger(__name__)


def _note_offset(offsets: dict[int, tuple[Any, Any]], record: SourceRecord) -> None:
    partition = record.source_partition
    if partition is not None:
        # Keyed by identity (cheap); popping first keeps the order of last update, so two equal
        # partition dicts that are different objects still end with the newest offset.
        key = id(partition)
        offsets.pop(key, None)
        offsets[key] = (partition, record.source_offset)


class RuntimeSourceTaskContext(SourceTaskContext):
    def __init__(self, configs: Mapping[str, str], reader: OffsetStorageReader):
        self._configs = dict(configs)
        self._reader = reader

    def configs(self) -> dict[str, str]:
        return dict(self._configs)

    def offset_storage_reader(self) -> OffsetStorageReader:
        return self._reader


class SourceTaskRunner(TaskRunner):
    """Runs one SourceTask on its own thread."""

    task: SourceTask
    metrics_class = SourceTaskMetrics
    metrics: SourceTaskMetrics

    def __init__(
        self,
        *args: Any,
        producer_config: dict[str, Any],
        offset_reader: OffsetStorageReader,
        offset_writer: ConnectorOffsetWriter,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.producer_config = producer_config
        self.offset_reader = offset_reader
        self.offset_writer = offset_writer
        self.producer: Producer | None = None
        self._send_error: tuple[KafkaError, Any] | None = None
        # commit_record() needs a delivery report per record; when the task keeps the no-op
        # default, librdkafka reports only failures, which saves a Python callback per record.
        self._wants_commit_record = type(self.task).commit_record is not SourceTask.commit_record
        self.flush_interval_s = (
            float(self.worker_config.get("offset.flush.interval.ms", 60000)) / 1000
        )
        self.flush_timeout_s = float(self.worker_config.get("offset.flush.timeout.ms", 5000)) / 1000
        self.records_sent = 0
        #: topics this task produced to since the last reset (GET /connectors/{c}/topics)
        self.active_topics: set[str] = set()

    def initialize_task(self) -> None:
        self.task.initialize(RuntimeSourceTaskContext(self.task_config, self.offset_reader))
        config = dict(self.producer_config)
        # librdkafka's log lines are served by poll() on this thread: they get the task's context.
        config["logger"] = CLIENT_LOGGER
        config.update(client_settings(self.worker_config, self.metrics.client))
        if not self._wants_commit_record:
            config["delivery.report.only.error"] = True
            config["on_delivery"] = self._on_error_report
        self.producer = Producer(config)

    # -- loop ------------------------------------------------------------------------------------
    def execute(self) -> None:
        assert self.producer is not None
        producer = self.producer
        metrics = self.metrics
        monotonic = time.monotonic
        next_commit = monotonic() + self.flush_interval_s
        try:
            while not self.stopping:
                if self.paused:
                    if not self.await_unpaused():
                        break
                    continue
                polled_at = monotonic()
                records = self._poll()
                if records:
                    metrics.polled(len(records), monotonic() - polled_at)
                    self._send(records)
                producer.poll(0)
                self._raise_send_error()
                if monotonic() >= next_commit:
                    self.commit_offsets()
                    next_commit = monotonic() + self.flush_interval_s
        except Exception:
            self._commit_offsets_of_a_failed_task()
            raise
        self.commit_offsets()

    def _commit_offsets_of_a_failed_task(self) -> None:
        """As Kafka's WorkerSourceTask: when poll(), a transform or a converter fails, the
        records Kafka already took keep their offsets, so a restart does not read them again.
        After a failed send nothing is committed (which records Kafka took is then unknown)."""
        if self._send_error is not None:
            return
        try:
            self.commit_offsets()
        except Exception:  # noqa: BLE001 - the task's own failure is what gets reported
            log.exception("%s Failed to commit offsets of the failed task", self)

    def _poll(self) -> list[SourceRecord] | None:
        try:
            return self.task.poll()
        except RetriableException as error:
            # As Kafka's WorkerSourceTask: a retriable poll failure is logged and poll() is
            # simply called again on the next turn of the loop; the task keeps running.
            log.warning("%s failed to poll records. Will retry: %s", self, error)
            return None
        except Exception as error:
            if self.stopping:
                log.debug("%s poll() failed while stopping: %s", self, error)
                return None
            raise

    def _send(self, records: list[SourceRecord]) -> None:
        """Transform, convert and produce one polled batch. This is the per-record hot path:
        locals instead of attribute lookups, positional produce() arguments (keywords cost a
        dict per call), and the offsets of a batch handed to the writer once, at the end."""
        producer = self.producer
        assert producer is not None
        produce = producer.produce
        chain = self.plugins.transformations
        apply_chain = chain.apply if chain else None
        key_from = self.plugins.key_converter.from_connect_data
        value_from = self.plugins.value_converter.from_connect_data
        convert_headers = self._convert_headers
        on_delivery = self._on_delivery if self._wants_commit_record else None
        record_done = self._record_done
        # The offset of the last record handled per source partition. Consecutive records
        # usually share one partition object, so only a change of object costs a dict update.
        offsets: dict[int, tuple[Any, Any]] = {}
        current: SourceRecord | None = None
        active_topics = self.active_topics
        last_topic = None
        dropped = 0  # filtered or skipped: not written
        try:
            for record in records:
                if current is not None and record.source_partition is not current.source_partition:
                    _note_offset(offsets, current)
                try:
                    transformed = apply_chain(record) if apply_chain else record
                    if transformed is None:
                        record_done(record, None)
                        current = record
                        dropped += 1
                        continue
                    topic = transformed.topic
                    record_headers = transformed._headers
                    headers = convert_headers(transformed) if record_headers else None
                    key = key_from(topic, transformed.key_schema, transformed.key, record_headers)
                    value = value_from(
                        topic, transformed.value_schema, transformed.value, record_headers
                    )
                except Exception:  # noqa: BLE001 - the guarded path decides what the error means
                    converted = self._convert_guarded(record)
                    if converted is None:
                        record_done(record, None)
                        current = record
                        dropped += 1
                        continue
                    transformed, topic, key, value, headers = converted
                partition = transformed.kafka_partition
                callback = (
                    (lambda err, msg, r=record: on_delivery(err, msg, r)) if on_delivery else None
                )
                args = (
                    topic,
                    value,
                    key,
                    -1 if partition is None else partition,
                    callback,
                    None,
                    transformed.timestamp or 0,
                    headers,
                )
                try:
                    # Positional on purpose (the hot path); confluent-kafka's stubs type it loosely.
                    produce(*args)  # type: ignore[arg-type]
                except BufferError:
                    self._produce_when_room(args)
                current = record
                if topic is not last_topic:
                    active_topics.add(topic)
                    last_topic = topic
        finally:
            if current is not None:
                _note_offset(offsets, current)
            write_offset = self.offset_writer.offset
            for partition_dict, offset in offsets.values():
                write_offset(partition_dict, offset)
        self.records_sent += len(records)
        self.metrics.records_written += len(records) - dropped

    def _produce_when_room(self, args: tuple) -> None:
        """The producer's local queue is full: serve delivery reports until there is room."""
        producer = self.producer
        assert producer is not None
        while True:
            # Short waits: with delivery.report.only.error there are no events to end poll()
            # early, so a long timeout would idle while the queue has long drained.
            producer.poll(0.005)
            self._raise_send_error()
            try:
                producer.produce(*args)
                return
            except BufferError:
                continue

    def _convert_guarded(self, record: SourceRecord) -> tuple[Any, str, Any, Any, Any] | None:
        """Run the stages one by one under the error policy; None when the record is skipped."""
        handler = self.plugins.error_handler
        transformed = handler.execute_transformations(self.plugins.transformations, record, record)
        if transformed is SKIPPED or transformed is None:
            return None
        topic = transformed.topic
        headers = None
        if transformed._headers:
            headers = handler.execute(
                Stage.HEADER_CONVERTER, self._convert_headers, transformed, record=record
            )
            if headers is SKIPPED:
                return None
        key = handler.execute(
            Stage.KEY_CONVERTER,
            self.plugins.key_converter.from_connect_data,
            topic,
            transformed.key_schema,
            transformed.key,
            transformed.headers,
            record=record,
        )
        if key is SKIPPED:
            return None
        value = handler.execute(
            Stage.VALUE_CONVERTER,
            self.plugins.value_converter.from_connect_data,
            topic,
            transformed.value_schema,
            transformed.value,
            transformed.headers,
            record=record,
        )
        if value is SKIPPED:
            return None
        return transformed, topic, key, value, headers

    def _convert_headers(self, record: SourceRecord) -> list[tuple[str, bytes | None]]:
        converter = self.plugins.header_converter
        return [
            (h.key, converter.from_connect_header(record.topic, h.key, h.schema, h.value))
            for h in record.headers
        ]

    # -- delivery ----------------------------------------------------------------------------
    def _on_error_report(self, error: KafkaError | None, message: Any) -> None:
        if error is not None and self._send_error is None:
            self._send_error = (error, message)

    def _on_delivery(self, error: KafkaError | None, message: Any, record: SourceRecord) -> None:
        if error is not None:
            self._on_error_report(error, message)
            return
        ts_type, ts = message.timestamp()
        self._record_done(
            record, RecordMetadata(message.topic(), message.partition(), message.offset(), ts)
        )

    def _record_done(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        if self._wants_commit_record:
            try:
                self.task.commit_record(record, metadata)
            except Exception:  # noqa: BLE001 - as Kafka, a failing commitRecord is only logged
                log.exception("%s Exception thrown while calling task.commitRecord()", self)

    def _raise_send_error(self) -> None:
        if self._send_error is not None:
            error, message = self._send_error
            topic = message.topic() if message is not None else "?"
            raise ConnectException(
                f"Unrecoverable exception from producer send callback: topic {topic}: {error.str()}"
            )

    # -- offsets -----------------------------------------------------------------------------
    def commit_offsets(self) -> bool:
        """Flush the producer and store the offsets of everything it delivered."""
        producer = self.producer
        if producer is None:
            return False
        started = time.monotonic()
        snapshot = self.offset_writer.snapshot()
        remaining = producer.flush(self.flush_timeout_s)
        if remaining > 0:
            log.error(
                "%s Failed to flush, timed out while waiting for producer to flush outstanding "
                "%d messages",
                self,
                remaining,
            )
            self.offset_writer.restore(snapshot)
            self.metrics.commit_failed()
            return False
        if self._send_error is not None:
            # Never store an offset past a record Kafka did not take.
            self.offset_writer.restore(snapshot)
            self.metrics.commit_failed()
            self._raise_send_error()
        try:
            self.offset_writer.commit(snapshot)
        except Exception:
            log.exception("%s Failed to commit offsets", self)
            self.offset_writer.restore(snapshot)
            self.metrics.commit_failed()
            return False
        self.metrics.commit_succeeded(time.monotonic() - started)
        try:
            self.task.commit()
        except Exception:  # noqa: BLE001 - as Kafka: logged, the task goes on
            log.exception("%s Exception thrown while calling task.commit()", self)
        if snapshot:
            log.debug("%s Committed offsets for %d partitions", self, len(snapshot))
        return True

    def on_stop_requested(self) -> None:
        # Kafka calls SourceTask.stop() from the herder while poll() may be blocked, so the
        # task can unblock it. A stop() that blocks itself must not hang the herder: it gets
        # the graceful shutdown time, then the herder moves on.
        timeout_s = float(self.worker_config.get("task.shutdown.graceful.timeout.ms", 5000)) / 1000
        try:
            call_with_timeout(f"Task {self.id} stop()", timeout_s, self.stop_task_once)
        except Exception:  # noqa: BLE001
            log.exception("%s Error while stopping task", self)

    def close(self) -> None:
        if self.producer is not None:
            remaining = self.producer.flush(self.flush_timeout_s)
            if remaining:
                log.warning(
                    "%s %d records were not delivered before the producer closed", self, remaining
                )
            self.producer = None
