"""The sink task loop: consumer -> converters -> transforms -> SinkTask.put(), and commits.

The consumer group is ``connect-<connector>``; auto-commit is off. Every
``offset.flush.interval.ms`` (and before partitions are revoked, and on stop) the loop asks the
task which offsets are safe (``pre_commit``, which flushes by default) and commits those, so an
offset is never committed before the sink has the records below it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError
from confluent_kafka import TopicPartition as KafkaTopicPartition

from kconnect.api.errors import ConnectException, RetriableException
from kconnect.api.records import Headers, SinkRecord, TimestampType
from kconnect.api.task import ErrantRecordReporter, SinkTask, SinkTaskContext
from kconnect.api.topic_partition import TopicPartition
from kconnect.runtime.errors.error_handler import SKIPPED, Stage, class_name_of
from kconnect.runtime.states import State
from kconnect.runtime.worker.task_runner import TaskRunner

log = logging.getLogger(__name__)

# confluent-kafka's timestamp type codes (TIMESTAMP_NOT_AVAILABLE, _CREATE_TIME, _LOG_APPEND_TIME)
_TIMESTAMP_TYPE_BY_CODE = (
    TimestampType.NO_TIMESTAMP_TYPE,
    TimestampType.CREATE_TIME,
    TimestampType.LOG_APPEND_TIME,
)


class RuntimeSinkTaskContext(SinkTaskContext):
    def __init__(self, runner: SinkTaskRunner):
        self._runner = runner

    def configs(self) -> dict[str, str]:
        return dict(self._runner.task_config)

    def offset(self, offsets: Mapping[TopicPartition, int]) -> None:
        self._runner.pending_seeks.update(offsets)

    def timeout(self, timeout_ms: int) -> None:
        self._runner.requested_timeout_s = timeout_ms / 1000

    def assignment(self) -> set[TopicPartition]:
        return set(self._runner.assignment)

    def pause(self, *partitions: TopicPartition) -> None:
        # Remembered, so resuming the connector (or retrying after a RetriableException) does
        # not resume what the task itself paused.
        self._runner._paused_by_task.update(partitions)
        self._runner.pause_partitions(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self._runner._paused_by_task.difference_update(partitions)
        self._runner.resume_partitions(partitions)

    def request_commit(self) -> None:
        self._runner.commit_requested = True

    def errant_record_reporter(self) -> ErrantRecordReporter | None:
        return self._runner.errant_record_reporter


class SinkTaskRunner(TaskRunner):
    """Runs one SinkTask on its own thread."""

    task: SinkTask

    def __init__(
        self,
        *args: Any,
        consumer_config: dict[str, Any],
        max_poll_records: int = 500,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.consumer_config = consumer_config
        self.max_poll_records = max_poll_records
        self.consumer: Consumer | None = None
        self.assignment: set[TopicPartition] = set()
        self.current_offsets: dict[TopicPartition, int] = {}
        self.last_committed: dict[TopicPartition, int] = {}
        self.pending_seeks: dict[TopicPartition, int] = {}
        self.retry_timeout_s = 0.0
        self.requested_timeout_s = 0.0
        self.commit_requested = False
        self.errant_record_reporter: ErrantRecordReporter | None = None
        self._paused_by_task: set[TopicPartition] = set()
        self.flush_interval_s = (
            float(self.worker_config.get("offset.flush.interval.ms", 60000)) / 1000
        )
        self.records_put = 0
        #: topics this task consumed from since the last reset (GET /connectors/{c}/topics)
        self.active_topics: set[str] = set()
        self._batch_offsets: dict[TopicPartition, int] = {}
        self._reported_consumer_errors: set[str] = set()
        self._failed = False
        # The last polled messages: where a reported record's raw bytes are found.
        self._last_messages: list[Any] = []
        self._last_index: dict[tuple[str, int, int], Any] | None = None
        self._put_retries = 0
        self._put_failing_since: float | None = None

    def initialize_task(self) -> None:
        self.task.initialize(RuntimeSinkTaskContext(self))
        self.consumer = Consumer(self.consumer_config)
        topics = [
            t.strip() for t in str(self.task_config.get("topics", "")).split(",") if t.strip()
        ]
        regex = str(self.task_config.get("topics.regex", "") or "")
        if regex:
            re.compile(regex)  # a clear error for a bad pattern, before librdkafka sees it
            subscription = ["^" + regex]
        elif topics:
            subscription = topics
        else:
            raise ConnectException("Sink tasks require a list of topics or a topics.regex")
        self.consumer.subscribe(
            subscription,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )

    # -- loop ------------------------------------------------------------------------------------
    def execute(self) -> None:
        consumer = self.consumer
        assert consumer is not None
        next_commit = time.monotonic() + self.flush_interval_s
        batch: list[SinkRecord] = []
        while not self.stopping:
            if self.paused:
                if not self.await_unpaused(idle=lambda: consumer.consume(1, 0.2)):
                    break
            self._apply_seeks()
            if not batch:
                messages = consumer.consume(self.max_poll_records, 0.5)
                if messages:
                    self._last_messages, self._last_index = messages, None
                    batch = self._convert(messages)
            elif self.retry_timeout_s:
                # put() asked for a pause before the same batch is tried again.
                deadline = time.monotonic() + self.retry_timeout_s
                while time.monotonic() < deadline and not self.stopping:
                    consumer.consume(1, min(0.5, max(0.0, deadline - time.monotonic())))
            if batch or self._batch_offsets:
                if self._deliver(batch):
                    batch = []
            if self.commit_requested or time.monotonic() >= next_commit:
                self.commit_offsets()
                self.commit_requested = False
                next_commit = time.monotonic() + self.flush_interval_s

    def on_pause(self) -> None:
        self.pause_partitions(tuple(self.assignment))

    def on_resume(self) -> None:
        self.resume_partitions(tuple(self.assignment - self._paused_by_task))

    def _convert(self, messages: list[Any]) -> list[SinkRecord]:
        """Messages -> SinkRecords. The per-record hot path: locals for every lookup, and the
        next offsets gathered under plain tuple keys, turned into TopicPartitions per batch."""
        records: list[SinkRecord] = []
        append = records.append
        key_to = self.plugins.key_converter.to_connect_data
        value_to = self.plugins.value_converter.to_connect_data
        chain = self.plugins.transformations
        apply_chain = chain.apply if chain else None
        convert_headers = self._convert_headers
        timestamp_types = _TIMESTAMP_TYPE_BY_CODE
        next_offsets: dict[tuple[str, int], int] = {}
        for message in messages:
            if message.error() is not None:
                self._consumer_error(message.error())
                continue
            topic = message.topic()
            partition = message.partition()
            offset = message.offset()
            next_offsets[(topic, partition)] = offset + 1
            try:
                raw_headers = message.headers()
                headers = convert_headers(topic, raw_headers) if raw_headers else None
                key = key_to(topic, message.key(), headers)
                value = value_to(topic, message.value(), headers)
                ts_type, ts = message.timestamp()
                record = SinkRecord(
                    topic,
                    partition,
                    key[0],
                    key[1],
                    value[0],
                    value[1],
                    offset,
                    ts if ts_type else None,
                    timestamp_types[ts_type],
                    headers,
                )
                if apply_chain is not None:
                    record = apply_chain(record)
                    if record is None:
                        continue
            except Exception:  # noqa: BLE001 - the guarded path decides what the error means
                record = self._convert_guarded(message)
                if record is None:
                    continue
            append(record)
        # Counted as consumed only once put() took the batch (see _deliver).
        for (topic, partition), offset in next_offsets.items():
            self._batch_offsets[TopicPartition(topic, partition)] = offset
            self.active_topics.add(topic)
        return records

    def _consumer_error(self, error: KafkaError) -> None:
        """librdkafka reports most consumer errors as events it recovers from by itself (a
        subscribed topic that does not exist yet, a broker that went away); only a fatal one
        ends the task. The others are logged once each, as the Java consumer just waits."""
        if error.code() == KafkaError._PARTITION_EOF:
            return
        if error.fatal():
            raise ConnectException(f"Consumer error: {error.str()}")
        text = error.str()
        if text not in self._reported_consumer_errors:
            self._reported_consumer_errors.add(text)
            log.warning("%s Consumer error (the consumer retries by itself): %s", self, text)

    def _convert_guarded(self, message: Any) -> SinkRecord | None:
        """Run the stages one by one under the error policy; None when the record is skipped."""
        handler = self.plugins.error_handler
        topic = message.topic()
        raw_headers = message.headers()
        headers = None
        if raw_headers:
            headers = handler.execute(
                Stage.HEADER_CONVERTER, self._convert_headers, topic, raw_headers, record=message
            )
            if headers is SKIPPED:
                return None
        key = handler.execute(
            Stage.KEY_CONVERTER,
            self.plugins.key_converter.to_connect_data,
            topic,
            message.key(),
            headers,
            record=message,
        )
        if key is SKIPPED:
            return None
        value = handler.execute(
            Stage.VALUE_CONVERTER,
            self.plugins.value_converter.to_connect_data,
            topic,
            message.value(),
            headers,
            record=message,
        )
        if value is SKIPPED:
            return None
        ts_type, ts = message.timestamp()
        record = SinkRecord(
            topic,
            message.partition(),
            key.schema,
            key.value,
            value.schema,
            value.value,
            message.offset(),
            ts if ts_type else None,
            _TIMESTAMP_TYPE_BY_CODE[ts_type],
            headers,
        )
        transformed = handler.execute_transformations(self.plugins.transformations, record, message)
        if transformed is SKIPPED or transformed is None:
            return None
        return transformed

    def original_message(self, record: SinkRecord) -> Any:
        """The consumed message ``record`` was made from, while it is among the last polled."""
        index = self._last_index
        if index is None:
            index = self._last_index = {
                (m.topic(), m.partition(), m.offset()): m
                for m in self._last_messages
                if m.error() is None
            }
        return index.get(
            (record.original_topic, record.original_kafka_partition, record.original_kafka_offset)
        )

    def _convert_headers(self, topic: str, raw: list[tuple[str, bytes | None]]) -> Headers:
        converter = self.plugins.header_converter
        headers = Headers()
        for key, value in raw:
            converted = converter.to_connect_header(topic, key, value)
            headers.add(key, converted.value, converted.schema)
        return headers

    def _deliver(self, batch: list[SinkRecord]) -> bool:
        """put() the batch; False when the task asked to be called again with it later."""
        if not batch:  # every record of the polled batch was filtered out or skipped
            self.current_offsets.update(self._batch_offsets)
            self._batch_offsets = {}
            return True
        try:
            self.task.put(batch)
        except RetriableException as error:
            return self._put_failed_retriably(batch, error)
        except Exception as error:
            self._failed = True
            raise ConnectException(
                f"Exiting WorkerSinkTask due to unrecoverable exception: {type(error).__name__}: {error}"
            ) from error
        if self.retry_timeout_s or self._put_retries:
            self.retry_timeout_s = 0.0
            self._put_retries = 0
            self._put_failing_since = None
            self.resume_partitions(tuple(self.assignment - self._paused_by_task))
        self.current_offsets.update(self._batch_offsets)
        self._batch_offsets = {}
        self.records_put += len(batch)
        return True

    def _put_failed_retriably(self, batch: list[SinkRecord], error: RetriableException) -> bool:
        """put() asked to be called again with the batch. The wait is the task's
        ``context.timeout()`` when it set one (Kafka's behaviour), else the error policy's
        exponential backoff; with ``errors.retry.timeout`` > 0 the retries end when it runs out:
        the batch is then reported and skipped (``errors.tolerance=all``) or the task fails."""
        handler = self.plugins.error_handler
        now = time.monotonic()
        if self._put_failing_since is None:
            self._put_failing_since = now
        self._put_retries += 1
        limit_ms = handler.retry_timeout_ms
        if limit_ms > 0 and (now - self._put_failing_since) * 1000 >= limit_ms:
            for record in batch:
                handler.failed(
                    Stage.TASK_PUT, error, self.original_message(record), class_name_of(self.task)
                )
            self._put_retries = 0
            self._put_failing_since = None
            self.retry_timeout_s = 0.0
            self.resume_partitions(tuple(self.assignment - self._paused_by_task))
            self.current_offsets.update(self._batch_offsets)
            self._batch_offsets = {}
            return True
        log.warning("%s RetriableException from SinkTask; will retry the batch: %s", self, error)
        if self.requested_timeout_s:
            self.retry_timeout_s = self.requested_timeout_s
        else:
            self.retry_timeout_s = max(0.1, handler.backoff.delay_ms(self._put_retries) / 1000)
        self.pause_partitions(tuple(self.assignment))
        return False

    # -- offsets -----------------------------------------------------------------------------
    def commit_offsets(self, partitions: set[TopicPartition] | None = None) -> None:
        """Commit what the task says is safe (pre_commit), for ``partitions`` or all assigned."""
        consumer = self.consumer
        if consumer is None:
            return
        current = {
            tp: o
            for tp, o in self.current_offsets.items()
            if partitions is None or tp in partitions
        }
        if not current:
            return
        # Records sent to the dead letter queue must be there before offsets pass them.
        self.plugins.error_handler.flush()
        try:
            committable = self.task.pre_commit(dict(current))
        except Exception:  # noqa: BLE001 - as Kafka: skip this commit, keep the last committed offsets
            log.exception("%s Offset commit failed, rewinding to last committed offsets", self)
            self._rewind_to_committed(current)
            return
        to_commit = [
            KafkaTopicPartition(tp.topic, tp.partition, int(offset))
            for tp, offset in (committable or {}).items()
            if tp in self.assignment and self.last_committed.get(tp) != offset
        ]
        if not to_commit:
            return
        try:
            consumer.commit(offsets=to_commit, asynchronous=False)
        except Exception as error:  # noqa: BLE001 - a failed commit is retried next interval
            log.error("%s Commit of offsets failed: %s", self, error)
            return
        for tp in to_commit:
            self.last_committed[TopicPartition(tp.topic, tp.partition)] = tp.offset
        log.debug("%s Committed offsets %s", self, to_commit)

    def _rewind_to_committed(self, current: dict[TopicPartition, int]) -> None:
        for tp in current:
            if tp in self.last_committed:
                self.pending_seeks[tp] = self.last_committed[tp]

    def _apply_seeks(self) -> None:
        if not self.pending_seeks or self.consumer is None:
            return
        seeks, self.pending_seeks = self.pending_seeks, {}
        for tp, offset in seeks.items():
            try:
                self.consumer.seek(KafkaTopicPartition(tp.topic, tp.partition, int(offset)))
                self.current_offsets[tp] = int(offset)
            except Exception as error:  # noqa: BLE001 - the partition may not be assigned yet
                log.warning("%s Could not seek %s to %s: %s", self, tp, offset, error)

    # -- rebalance callbacks (run inside consume() on this thread) ---------------------------
    def _on_assign(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        assigned = [TopicPartition(p.topic, p.partition) for p in partitions]
        self.assignment.update(assigned)
        committed = consumer.committed(partitions, timeout=10)
        for p in committed:
            if p.offset != OFFSET_INVALID and p.offset >= 0:
                tp = TopicPartition(p.topic, p.partition)
                self.last_committed[tp] = p.offset
                self.current_offsets.setdefault(tp, p.offset)
        self.task.open(assigned)
        if self.paused:
            consumer.pause(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        revoked = {TopicPartition(p.topic, p.partition) for p in partitions}
        if not revoked:
            return
        if not self._failed and self.state is not State.FAILED:
            self.commit_offsets(revoked)
        try:
            self.task.close(revoked)
        finally:
            self.assignment -= revoked
            for tp in revoked:
                self.current_offsets.pop(tp, None)
                self.last_committed.pop(tp, None)

    # -- pause/resume ------------------------------------------------------------------------
    def pause_partitions(self, partitions: tuple[TopicPartition, ...] | Any) -> None:
        if self.consumer is not None and partitions:
            self.consumer.pause([KafkaTopicPartition(tp.topic, tp.partition) for tp in partitions])

    def resume_partitions(self, partitions: tuple[TopicPartition, ...] | Any) -> None:
        if self.consumer is not None and partitions:
            self.consumer.resume([KafkaTopicPartition(tp.topic, tp.partition) for tp in partitions])

    def close(self) -> None:
        consumer = self.consumer
        if consumer is None:
            return
        try:
            if not self._failed and self.state is not State.FAILED:
                # As Kafka: a failed task commits nothing more, so no offset passes a record
                # the sink did not take.
                self.commit_offsets()
            if self.assignment:
                self.task.close(set(self.assignment))
        finally:
            self.consumer = None
            try:
                consumer.close()
            except Exception:  # noqa: BLE001
                log.exception("%s Error closing consumer", self)
