"""A sink task's side of a consumer-group rebalance: its partitions come and go.

The callbacks run inside consume(), on the task's own thread, so they change the runner's
state directly. Assigned partitions start where the group committed, or where the task's
open() asked; they are paused at once when the connector is paused or a batch waits to be put
again, so nothing new is fetched for them meanwhile. Revoked partitions first get a commit of
what put() took for them, then close() in the task, and then leave the pending batch: their
next owner reads on from that commit. Lost partitions (the session timed out) are closed
without a commit, as another member may own them and have committed already.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, KafkaException
from confluent_kafka import TopicPartition as KafkaTopicPartition

from kconnect.api.topic_partition import TopicPartition
from kconnect.runtime.states import State

if TYPE_CHECKING:
    from kconnect.runtime.worker.sink_task_runner import SinkTaskRunner


class SinkRebalanceListener:
    """The consumer's on_assign/on_revoke/on_lost for one SinkTaskRunner."""

    def __init__(self, runner: SinkTaskRunner, incremental: bool):
        self._runner = runner
        #: whether the group hands out partitions incrementally (cooperative-sticky, or
        #: group.protocol=consumer): the assignment is then taken with incremental_assign()
        self.incremental = incremental

    def on_assign(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        runner = self._runner
        assigned = [TopicPartition(p.topic, p.partition) for p in partitions]
        runner.assignment.update(assigned)
        # As Kafka: the task's own pauses only name partitions it has.
        runner._paused_by_task &= runner.assignment
        if partitions:
            for p in consumer.committed(partitions, timeout=10):
                if p.offset != OFFSET_INVALID and p.offset >= 0:
                    tp = TopicPartition(p.topic, p.partition)
                    runner.last_committed[tp] = p.offset
                    runner.current_offsets[tp] = p.offset
            runner.task.open(assigned)
            # Where open() asked to start: librdkafka refuses to seek a partition that is not
            # fetching yet, but takes the offset with the assignment.
            for p in partitions:
                tp = TopicPartition(p.topic, p.partition)
                if tp in runner.pending_seeks:
                    p.offset = int(runner.pending_seeks.pop(tp))
                    runner.current_offsets[tp] = p.offset
        self._take_assignment(consumer, partitions)
        # Set both ways: librdkafka keeps a partition's pause through an unassign and assign.
        if runner.paused or runner._put_retries:
            # All of them, not just the new ones: open() may have resumed some.
            runner.pause_partitions(tuple(runner.assignment))
        else:
            runner.pause_partitions([tp for tp in assigned if tp in runner._paused_by_task])
            runner.resume_partitions([tp for tp in assigned if tp not in runner._paused_by_task])

    def _take_assignment(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        """Assign now, not after the callback as confluent-kafka would: a pause asked for before
        does not hold for a partition new to the consumer, and one left unpaused while a batch
        is retried would be fetched."""
        if self.incremental:
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
            self.incremental = not self.incremental

    def on_revoke(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        runner = self._runner
        # Only what this runner still holds: close() already closed everything before the
        # consumer's own close revokes the assignment once more.
        revoked = {TopicPartition(p.topic, p.partition) for p in partitions} & runner.assignment
        if not revoked:
            return
        try:
            if not runner._failed and runner.state is not State.FAILED:
                runner.commit_offsets(revoked, closing=True)
            runner.task.close(revoked)
        finally:
            self._forget(revoked)

    def on_lost(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        """The partitions were taken without a revocation (the session timed out): another
        member may own them and have committed already, so nothing is committed for them."""
        runner = self._runner
        lost = {TopicPartition(p.topic, p.partition) for p in partitions} & runner.assignment
        if not lost:
            return
        try:
            runner.task.close(lost)
        finally:
            self._forget(lost)

    def _forget(self, partitions: set[TopicPartition]) -> None:
        """The partitions are no longer this task's: their records leave the pending batch
        (whoever gets them next reads them again from the committed offset), with their
        offsets. A batch left empty by that ends its retry."""
        runner = self._runner
        runner.assignment -= partitions
        for tp in partitions:
            runner.current_offsets.pop(tp, None)
            runner.last_committed.pop(tp, None)
            runner._batch_offsets.pop(tp, None)
            runner.pending_seeks.pop(tp, None)
        if runner._batch:
            gone = {(tp.topic, tp.partition) for tp in partitions}
            runner._batch = [
                r
                for r in runner._batch
                if (r.original_topic, r.original_kafka_partition) not in gone
            ]
            if not runner._batch and runner._put_retries:
                runner._end_retry()
