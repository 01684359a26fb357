"""The sink task loop: consumer -> converters -> transforms -> SinkTask.put(), and commits.

The consumer group is ``connect-<connector>``; auto-commit is off. Every
``offset.flush.interval.ms`` (and before partitions are revoked, and on stop) the loop asks the
task which offsets are safe (``pre_commit``, which flushes by default) and commits those, so an
offset is never committed before the sink has the records below it.

No consumed record is dropped unseen: a batch put() refused with RetriableException is kept
and put again, and until then every assigned partition is paused (those a rebalance brings
too), so consume() returns nothing new; one that still comes back is rewound. A rebalance
removes the revoked partitions' records from the pending batch, commits what was delivered
for them, then closes them in the task; their next owner reads on from that commit. Lost
partitions are closed without a commit: another member may own them already.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, KafkaException
from confluent_kafka import TopicPartition as KafkaTopicPartition

from kconnect.api.errors import ConnectException, RetriableException
from kconnect.api.records import Headers, SinkRecord, TimestampType
from kconnect.api.task import ErrantRecordReporter, SinkTask, SinkTaskContext
from kconnect.api.topic_partition import TopicPartition
from kconnect.runtime.errors.error_handler import SKIPPED, Skipped, Stage, class_name_of
from kconnect.runtime.log_context import CLIENT_LOGGER
from kconnect.runtime.metrics.client_statistics import client_settings
from kconnect.runtime.metrics.task_metrics import SinkTaskMetrics
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
    metrics_class = SinkTaskMetrics
    metrics: SinkTaskMetrics
    #: times in a row put() refused the pending batch with RetriableException; while it is
    #: not 0 every assigned partition stays paused. A class default, as pausing reads it and
    #: must work on a runner built without __init__ (the pause tests do that).
    _put_retries: int = 0

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
        self._last_index: dict[tuple[str, int | None, int], Any] | None = None
        #: converted records waiting for put(): a rebalance callback may remove some
        self._batch: list[SinkRecord] = []
        self._put_failing_since: float | None = None
        #: whether the group hands out partitions incrementally (cooperative-sticky, or
        #: group.protocol=consumer): the assignment is then taken with incremental_assign()
        self._incremental = False

    def initialize_task(self) -> None:
        self.task.initialize(RuntimeSinkTaskContext(self))
        config = dict(self.consumer_config)
        # librdkafka's log lines are served by consume() on this thread: they get the context.
        config["logger"] = CLIENT_LOGGER
        config.update(client_settings(self.worker_config, self.metrics.client))
        self.consumer = Consumer(config)
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
        strategy = str(self.consumer_config.get("partition.assignment.strategy", ""))
        protocol = str(self.consumer_config.get("group.protocol", "classic"))
        self._incremental = "cooperative" in strategy or protocol.strip().lower() == "consumer"
        self.consumer.subscribe(
            subscription,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )

    # -- loop ------------------------------------------------------------------------------------
    def execute(self) -> None:
        consumer = self.consumer
        assert consumer is not None
        next_commit = time.monotonic() + self.flush_interval_s
        while not self.stopping:
            if self.paused:
                if not self.await_unpaused(idle=self._poll_held):
                    break
            self._apply_seeks()
            if not self._batch:
                messages = consumer.consume(self.max_poll_records, 0.5)
                if messages:
                    self.metrics.records_read += len(messages)
                    self._last_messages, self._last_index = messages, None
                    self._batch = self._convert(messages)
            elif self._put_retries:
                # put() asked for a pause before the same batch is tried again. The wait ends
                # early when a rebalance took every record of the batch away.
                deadline = time.monotonic() + self.retry_timeout_s
                while self._put_retries and not self.stopping:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._poll_held(min(0.5, remaining))
            if self._batch or self._batch_offsets:
                self._deliver()
            if self.commit_requested or time.monotonic() >= next_commit:
                self.commit_offsets()
                self.commit_requested = False
                next_commit = time.monotonic() + self.flush_interval_s

    def on_pause(self) -> None:
        self.pause_partitions(tuple(self.assignment))

    def on_resume(self) -> None:
        if not self._put_retries:  # a batch waiting to be put again keeps everything paused
            self.resume_partitions(tuple(self.assignment - self._paused_by_task))

    def _poll_held(self, timeout: float = 0.2) -> None:
        """consume() while no new records are wanted (the task is paused, or a batch waits to
        be put again), to stay in the group and to run the rebalance callbacks. Every assigned
        partition is paused then. A record that comes back anyway is not dropped but rewound
        to: the task resumed its partition (paused again here), or a rebalance in this call
        ended the retry and assigned the partition (read by the next consume())."""
        consumer = self.consumer
        assert consumer is not None
        messages: list[Any] = consumer.consume(1, timeout)
        for message in messages:
            error = message.error()
            if error is not None:
                self._consumer_error(error)
                continue
            unread = KafkaTopicPartition(message.topic(), message.partition(), message.offset())
            try:
                if self._put_retries or self.paused:
                    consumer.pause([unread])
                consumer.seek(unread)
            except KafkaException as seek_error:  # a partition revoked meanwhile: not ours
                log.warning("%s Could not rewind %s: %s", self, unread, seek_error)

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
                guarded = self._convert_guarded(message)
                if guarded is None:
                    continue
                record = guarded
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
        # Narrowed for the type checker: SKIPPED returned above (this is the error path only).
        assert not isinstance(key, Skipped) and not isinstance(value, Skipped)
        assert not isinstance(headers, Skipped)
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

    def _deliver(self) -> None:
        """put() the pending batch; it stays pending when the task asked to be called again
        with it later."""
        batch = self._batch
        if not batch:  # every record of the polled batch was filtered out or skipped
            self.current_offsets.update(self._batch_offsets)
            self._batch_offsets = {}
            return
        started = time.monotonic()
        try:
            self.task.put(batch)
        except RetriableException as error:
            self._put_failed_retriably(batch, error)
            return
        except Exception as error:
            self._failed = True
            raise ConnectException(
                f"Exiting WorkerSinkTask due to unrecoverable exception: {type(error).__name__}: {error}"
            ) from error
        if self._put_retries:
            self._end_retry()
        self.current_offsets.update(self._batch_offsets)
        self._batch_offsets = {}
        self._batch = []
        self.records_put += len(batch)
        self.metrics.put_done(len(batch), time.monotonic() - started)

    def _end_retry(self) -> None:
        """No batch waits to be put again any more: resume what the retry paused, unless the
        connector is paused, and except what the task paused itself."""
        self._put_retries = 0
        self._put_failing_since = None
        self.retry_timeout_s = 0.0
        if not self.paused:
            self.resume_partitions(tuple(self.assignment - self._paused_by_task))

    def _put_failed_retriably(self, batch: list[SinkRecord], error: RetriableException) -> None:
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
            self._end_retry()
            self.current_offsets.update(self._batch_offsets)
            self._batch_offsets = {}
            self._batch = []
            return
        log.warning("%s RetriableException from SinkTask; will retry the batch: %s", self, error)
        if self.requested_timeout_s:
            self.retry_timeout_s = self.requested_timeout_s
        else:
            self.retry_timeout_s = max(0.1, handler.backoff.delay_ms(self._put_retries) / 1000)
        # Nothing new may arrive while the batch waits: consume() keeps running meanwhile.
        self.pause_partitions(tuple(self.assignment))

    # -- offsets -----------------------------------------------------------------------------
    def commit_offsets(
        self, partitions: set[TopicPartition] | None = None, closing: bool = False
    ) -> None:
        """Commit what the task says is safe (pre_commit), for ``partitions`` or all assigned.

        As Kafka, an offset the task returns is ignored for a partition not asked about, and
        past what put() was given. ``closing``: the partitions are going away, so a failed
        pre_commit rewinds nothing."""
        consumer = self.consumer
        if consumer is None:
            return
        started = time.monotonic()
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
            if closing:
                log.exception("%s Offset commit failed during close", self)
            else:
                log.exception("%s Offset commit failed, rewinding to last committed offsets", self)
                self._rewind_to_committed(current)
            self.metrics.offset_commit_skips += 1
            self.metrics.commit_failed()
            return
        to_commit = []
        for tp, offset in (committable or {}).items():
            consumed = current.get(tp)
            if consumed is None or tp not in self.assignment:
                continue
            if offset > consumed:
                log.warning(
                    "%s Ignoring invalid task provided offset %s/%s -- not yet consumed, "
                    "currentOffset=%s",
                    self,
                    tp,
                    offset,
                    consumed,
                )
                continue
            if self.last_committed.get(tp) != offset:
                to_commit.append(KafkaTopicPartition(tp.topic, tp.partition, int(offset)))
        if not to_commit:
            # Nothing moved since the last commit: complete, as Kafka counts it.
            self.metrics.offset_commit_completions += 1
            self.metrics.commit_succeeded(time.monotonic() - started)
            return
        try:
            consumer.commit(offsets=to_commit, asynchronous=False)
        except Exception as error:  # noqa: BLE001 - a failed commit is retried next interval
            log.error("%s Commit of offsets failed: %s", self, error)
            self.metrics.commit_failed()
            return
        self.metrics.offset_commit_completions += 1
        self.metrics.commit_succeeded(time.monotonic() - started)
        for committed in to_commit:
            self.last_committed[TopicPartition(committed.topic, committed.partition)] = (
                committed.offset
            )
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
        # As Kafka: the task's own pauses only name partitions it has.
        self._paused_by_task &= self.assignment
        if partitions:
            for p in consumer.committed(partitions, timeout=10):
                if p.offset != OFFSET_INVALID and p.offset >= 0:
                    tp = TopicPartition(p.topic, p.partition)
                    self.last_committed[tp] = p.offset
                    self.current_offsets[tp] = p.offset
            self.task.open(assigned)
            # Where open() asked to start: librdkafka refuses to seek a partition that is not
            # fetching yet, but takes the offset with the assignment.
            for p in partitions:
                tp = TopicPartition(p.topic, p.partition)
                if tp in self.pending_seeks:
                    p.offset = int(self.pending_seeks.pop(tp))
                    self.current_offsets[tp] = p.offset
        self._take_assignment(consumer, partitions)
        # Set both ways: librdkafka keeps a partition's pause through an unassign and assign.
        if self.paused or self._put_retries:
            # All of them, not just the new ones: open() may have resumed some.
            self.pause_partitions(tuple(self.assignment))
        else:
            self.pause_partitions([tp for tp in assigned if tp in self._paused_by_task])
            self.resume_partitions([tp for tp in assigned if tp not in self._paused_by_task])

    def _take_assignment(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        """Assign now, not after the callback as confluent-kafka would: a pause asked for before
        does not hold for a partition new to the consumer, and one left unpaused while a batch
        is retried would be fetched."""
        if self._incremental:
            take, other = consumer.incremental_assign, consumer.assign
        else:
            take, other = consumer.assign, consumer.incremental_assign
        try:
            take(partitions)
        except KafkaException as error:
            if error.args[0].code() != KafkaError._STATE:
                raise
            # The group's protocol is not the one the settings suggested: librdkafka refuses
            # the wrong call with this state error. The other call raises if that was not it.
            other(partitions)
            self._incremental = not self._incremental

    def _on_revoke(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        # Only what this runner still holds: close() already closed everything before the
        # consumer's own close revokes the assignment once more.
        revoked = {TopicPartition(p.topic, p.partition) for p in partitions} & self.assignment
        if not revoked:
            return
        try:
            if not self._failed and self.state is not State.FAILED:
                self.commit_offsets(revoked, closing=True)
            self.task.close(revoked)
        finally:
            self._forget(revoked)

    def _on_lost(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        """The partitions were taken without a revocation (the session timed out): another
        member may own them and have committed already, so nothing is committed for them."""
        lost = {TopicPartition(p.topic, p.partition) for p in partitions} & self.assignment
        if not lost:
            return
        try:
            self.task.close(lost)
        finally:
            self._forget(lost)

    def _forget(self, partitions: set[TopicPartition]) -> None:
        """The partitions are no longer this task's: their records leave the pending batch
        (whoever gets them next reads them again from the committed offset), with their
        offsets. A batch left empty by that ends its retry."""
        self.assignment -= partitions
        for tp in partitions:
            self.current_offsets.pop(tp, None)
            self.last_committed.pop(tp, None)
            self._batch_offsets.pop(tp, None)
            self.pending_seeks.pop(tp, None)
        if self._batch:
            gone = {(tp.topic, tp.partition) for tp in partitions}
            self._batch = [
                r for r in self._batch if (r.original_topic, r.original_kafka_partition) not in gone
            ]
            if not self._batch and self._put_retries:
                self._end_retry()

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
                self.commit_offsets(closing=True)
            if self.assignment:
                self.task.close(set(self.assignment))
        finally:
            self.assignment = set()
            self.consumer = None
            try:
                consumer.close()
            except Exception:  # noqa: BLE001
                log.exception("%s Error closing consumer", self)
