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

Messages become records in ``sink_record_converter``; the rebalance callbacks live in
``sink_rebalance``; this module keeps the loop, the put() retries and the commits.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException
from confluent_kafka import TopicPartition as KafkaTopicPartition

from kconnect.api.errors import ConnectException, RetriableException
from kconnect.api.records import SinkRecord
from kconnect.api.task import ErrantRecordReporter, SinkTask, SinkTaskContext
from kconnect.api.topic_partition import TopicPartition
from kconnect.runtime.errors.error_handler import Stage, class_name_of
from kconnect.runtime.log_context import CLIENT_LOGGER
from kconnect.runtime.metrics.client_statistics import client_settings
from kconnect.runtime.metrics.task_metrics import SinkTaskMetrics
from kconnect.runtime.states import State
from kconnect.runtime.worker.sink_rebalance import SinkRebalanceListener
from kconnect.runtime.worker.sink_record_converter import SinkRecordConverter
from kconnect.runtime.worker.task_runner import TaskRunner

log = logging.getLogger(__name__)


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
        self.converter = SinkRecordConverter(self.plugins, self._consumer_error)
        self.rebalance: SinkRebalanceListener | None = None
        self._paused_by_task: set[TopicPartition] = set()
        self.flush_interval_s = (
            float(self.worker_config.get("offset.flush.interval.ms", 60000)) / 1000
        )
        self.records_put = 0
        #: topics this task consumed from since the last reset (GET /connectors/{c}/topics)
        self.active_topics: set[str] = set()
        self._batch_offsets: dict[TopicPartition, int] = {}
        self._reported_consumer_errors: set[str] = set()
        self._consumer_errors_in_poll = 0  # error events among the last consumed messages
        self._failed = False
        #: converted records waiting for put(): a rebalance callback may remove some
        self._batch: list[SinkRecord] = []
        self._put_failing_since: float | None = None

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
        incremental = "cooperative" in strategy or protocol.strip().lower() == "consumer"
        self.rebalance = rebalance = SinkRebalanceListener(self, incremental)
        self.consumer.subscribe(
            subscription,
            on_assign=rebalance.on_assign,
            on_revoke=rebalance.on_revoke,
            on_lost=rebalance.on_lost,
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
                    self._consumer_errors_in_poll = 0
                    self._batch = self._convert(messages)
                    # Error events (a topic not created yet, a broker away) arrive as messages
                    # too; they are not records read.
                    self.metrics.records_read += len(messages) - self._consumer_errors_in_poll
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
        """Messages -> SinkRecords (``sink_record_converter``), their offsets kept aside."""
        records, next_offsets = self.converter.convert(messages)
        # Counted as consumed only once put() took the batch (see _deliver).
        for (topic, partition), offset in next_offsets.items():
            self._batch_offsets[TopicPartition(topic, partition)] = offset
            self.active_topics.add(topic)
        return records

    def original_message(self, record: SinkRecord) -> Any:
        """The consumed message ``record`` was made from, while it is among the last polled."""
        return self.converter.original_message(record)

    def _consumer_error(self, error: KafkaError) -> None:
        """librdkafka reports most consumer errors as events it recovers from by itself (a
        subscribed topic that does not exist yet, a broker that went away); only a fatal one
        ends the task. The others are logged once each, as the Java consumer just waits."""
        self._consumer_errors_in_poll += 1
        if error.code() == KafkaError._PARTITION_EOF:
            return
        if error.fatal():
            raise ConnectException(f"Consumer error: {error.str()}")
        text = error.str()
        if text not in self._reported_consumer_errors:
            self._reported_consumer_errors.add(text)
            log.warning("%s Consumer error (the consumer retries by itself): %s", self, text)

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
