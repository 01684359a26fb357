"""A sink task across rebalances that happen while put() is being retried.

The runner runs on the test's thread against a fake consumer that behaves as confluent-kafka
and librdkafka do where it matters here (checked against a broker): rebalance callbacks run
inside consume(); the client takes the assignment itself after on_assign unless the callback
did; an assigned partition starts from its committed offset; a pause of a partition new to the
consumer has no effect before it is assigned, and a pause outlives an unassign and a new
assign; revoked partitions are unassigned after on_revoke/on_lost. Each test asserts exactly
which records reached put() and which offsets were committed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Collection, Mapping
from typing import Any

import pytest
from confluent_kafka import OFFSET_INVALID, KafkaError, KafkaException
from confluent_kafka import TopicPartition as KafkaTopicPartition
from kconnect.api.errors import RetriableException
from kconnect.api.records import SinkRecord
from kconnect.api.task import SinkTask
from kconnect.api.topic_partition import TopicPartition
from kconnect.runtime.errors.error_handler import ErrorHandler
from kconnect.runtime.states import State, TargetState, TaskId
from kconnect.runtime.worker import sink_task_runner
from kconnect.runtime.worker.sink_task_runner import SinkTaskRunner
from kconnect.runtime.worker.task_runner import TaskPlugins
from kconnect.runtime.worker.transformation_chain import TransformationChain
from kconnect_builtins.converters.string import StringConverter

TOPIC = "t"
P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)

Key = tuple[int, int]  # (partition, offset)


class FakeMessage:
    def __init__(self, partition: int, offset: int) -> None:
        self._partition = partition
        self._offset = offset

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return TOPIC

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> None:
        return None

    def value(self) -> bytes:
        return f"{self._partition}-{self._offset}".encode()

    def headers(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (0, 0)


def _state_error() -> KafkaException:
    return KafkaException(KafkaError(KafkaError._STATE))


class FakeConsumer:
    """One group member. ``events`` run one per consume() call, before it fetches: that is
    where a test makes a rebalance happen, as librdkafka runs the callbacks there."""

    def __init__(
        self, log_sizes: Mapping[int, int], cooperative: bool, journal: list[tuple[str, Any]]
    ) -> None:
        self.log_sizes = dict(log_sizes)
        self.cooperative = cooperative
        self.committed_offsets: dict[int, int] = {}
        self.assignment: set[int] = set()
        self.positions: dict[int, int] = {}
        self.paused: set[int] = set()
        self.known: set[int] = set()  # partitions this consumer was ever assigned
        self.events: deque[Callable[[], None]] = deque()
        self.journal = journal  # commits go in with the task's calls
        self.deadline = time.monotonic() + 10
        self._took_assignment = False

    # -- what the runner calls -----------------------------------------------------------------
    def subscribe(self, topics: list[str], on_assign: Any, on_revoke: Any, on_lost: Any) -> None:
        assert topics == [TOPIC]
        self.on_assign, self.on_revoke, self.on_lost = on_assign, on_revoke, on_lost

    def consume(self, num_messages: int, timeout: float) -> list[FakeMessage]:
        assert time.monotonic() < self.deadline, "the scenario never finished"
        if self.events:
            self.events.popleft()()
        # Round robin over the partitions, as a fetch of several partitions comes back.
        ready = sorted(p for p in self.assignment if p not in self.paused)
        messages: list[FakeMessage] = []
        while ready and len(messages) < num_messages:
            for p in list(ready):
                if self.positions[p] >= self.log_sizes[p]:
                    ready.remove(p)
                    continue
                messages.append(FakeMessage(p, self.positions[p]))
                self.positions[p] += 1
                if len(messages) == num_messages:
                    break
        if not messages:
            time.sleep(min(timeout, 0.0005))
        return messages

    def assign(self, partitions: list[KafkaTopicPartition]) -> None:
        if self.cooperative:
            raise _state_error()
        self._took_assignment = True
        self.assignment = set()
        self._add(partitions)

    def incremental_assign(self, partitions: list[KafkaTopicPartition]) -> None:
        if not self.cooperative:
            raise _state_error()
        self._took_assignment = True
        self._add(partitions)

    def _add(self, partitions: list[KafkaTopicPartition]) -> None:
        for tp in partitions:
            self.assignment.add(tp.partition)
            self.known.add(tp.partition)
            start = tp.offset if tp.offset >= 0 else self.committed_offsets.get(tp.partition, 0)
            self.positions[tp.partition] = start

    def pause(self, partitions: list[KafkaTopicPartition]) -> None:
        self.paused.update(tp.partition for tp in partitions if tp.partition in self.known)

    def held(self) -> set[int]:
        """The assigned partitions that are paused."""
        return self.paused & self.assignment

    def resume(self, partitions: list[KafkaTopicPartition]) -> None:
        self.paused.difference_update(tp.partition for tp in partitions)

    def seek(self, tp: KafkaTopicPartition) -> None:
        if tp.partition not in self.assignment:
            raise _state_error()
        self.positions[tp.partition] = tp.offset

    def committed(
        self, partitions: list[KafkaTopicPartition], timeout: float
    ) -> list[KafkaTopicPartition]:
        return [
            KafkaTopicPartition(
                tp.topic, tp.partition, self.committed_offsets.get(tp.partition, OFFSET_INVALID)
            )
            for tp in partitions
        ]

    def commit(self, offsets: list[KafkaTopicPartition], asynchronous: bool) -> None:
        assert not asynchronous
        for tp in offsets:
            assert tp.partition in self.assignment, f"commit for unassigned {tp}"
            self.committed_offsets[tp.partition] = tp.offset
        self.journal.append(("commit", {tp.partition: tp.offset for tp in offsets}))

    def close(self) -> None:
        self.revoke(sorted(self.assignment))

    # -- what the tests call (from events) -----------------------------------------------------
    def assign_by_group(self, partitions: list[int]) -> None:
        """The group gives this member ``partitions`` (all of its assignment when eager)."""
        tps = [KafkaTopicPartition(TOPIC, p) for p in partitions]
        self._took_assignment = False
        self.on_assign(self, tps)
        if not self._took_assignment:  # confluent-kafka assigns after the callback
            (self.incremental_assign if self.cooperative else self.assign)(tps)

    def eager_rebalance(self, partitions: list[int]) -> None:
        """The eager protocol: everything is revoked, then ``partitions`` assigned."""
        self.revoke(sorted(self.assignment))
        self.assign_by_group(partitions)

    def revoke(self, partitions: list[int], lost: bool = False) -> None:
        tps = [KafkaTopicPartition(TOPIC, p) for p in partitions]
        (self.on_lost if lost else self.on_revoke)(self, tps)
        for p in partitions:
            self.assignment.discard(p)
            self.positions.pop(p, None)


class ScriptedSinkTask(SinkTask):
    """Records what it is given; ``script`` decides what each put() call does."""

    def __init__(self, journal: list[tuple[str, Any]]) -> None:
        self.script: Callable[[int, list[Key]], None] | None = None
        self.puts: list[list[Key]] = []
        #: what pre_commit returns, given the offsets it was asked about
        self.pre_commit_offsets: Callable[[dict[TopicPartition, int]], dict[TopicPartition, int]]
        self.pre_commit_offsets = dict
        self.journal = journal

    def start(self, props: Mapping[str, str]) -> None:
        pass

    def put(self, records: Collection[SinkRecord]) -> None:
        batch = [(int(r.kafka_partition or 0), r.kafka_offset) for r in records]
        self.puts.append(batch)
        if self.script is not None:
            self.script(len(self.puts), batch)

    def refuse(self) -> None:
        """Refuse the batch being put: it is to be put again in 50 ms."""
        self.context.timeout(50)
        raise RetriableException("sink unavailable")

    def pre_commit(
        self, current_offsets: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        offsets = dict(current_offsets)
        self.journal.append(("pre_commit", {tp.partition: o for tp, o in offsets.items()}))
        return self.pre_commit_offsets(offsets)

    def open(self, partitions: Collection[TopicPartition]) -> None:
        self.journal.append(("open", {tp.partition for tp in partitions}))

    def close(self, partitions: Collection[TopicPartition]) -> None:
        self.journal.append(("close", {tp.partition for tp in partitions}))

    def stop(self) -> None:
        pass


class _Listener:
    def on_task_state(self, task_id: TaskId, state: State, trace: str | None = None) -> None:
        pass


class Harness:
    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        log_sizes: Mapping[int, int],
        initial: list[int],
        cooperative: bool,
        strategy: str | None = None,
        max_poll_records: int = 4,
    ) -> None:
        #: the task's pre_commit/open/close calls and the consumer's commits, in order
        self.journal: list[tuple[str, Any]] = []
        self.consumer = FakeConsumer(log_sizes, cooperative, self.journal)
        self.consumer.events.append(lambda: self.consumer.assign_by_group(initial))
        monkeypatch.setattr(sink_task_runner, "Consumer", lambda config: self.consumer)
        self.task = ScriptedSinkTask(self.journal)
        converter = StringConverter()
        plugins = TaskPlugins(
            self.task,
            converter,
            converter,
            converter,
            TransformationChain([]),
            ErrorHandler({}, "sink", 0),
        )
        if strategy is None:
            strategy = "cooperative-sticky" if cooperative else "range,roundrobin"
        self.runner = SinkTaskRunner(
            TaskId("sink", 0),
            {"topics": TOPIC},
            {},
            plugins,
            {"offset.flush.interval.ms": "3600000"},  # only rebalances and close() commit
            _Listener(),
            consumer_config={"group.id": "connect-sink", "partition.assignment.strategy": strategy},
            max_poll_records=max_poll_records,
        )

    def run(self, script: Callable[[int, list[Key]], None]) -> None:
        """Run the task on this thread until ``script`` (called with each put()'s number,
        from 1, and batch) stops it; fail the test if the task failed."""
        self.task.script = script
        self.runner._run()
        assert self.runner.state is not State.FAILED, self.runner.trace

    def then(self, *events: Callable[[], None]) -> None:
        """Make ``events`` happen in the next consume() calls, one per call."""
        self.consumer.events.extend(events)


def keys(partition: int, *offsets: int) -> list[Key]:
    return [(partition, o) for o in offsets]


def interleave(*lists: list[Key]) -> list[Key]:
    out: list[Key] = []
    for group in zip(*lists, strict=True):
        out.extend(group)
    return out


# -- the tests ---------------------------------------------------------------------------------


def test_partitions_assigned_during_a_retry_stay_paused_until_the_batch_is_put(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness(monkeypatch, {0: 2, 1: 2, 2: 3}, initial=[0, 1], cooperative=True)
    first = interleave(keys(0, 0, 1), keys(1, 0, 1))

    def script(call: int, batch: list[Key]) -> None:
        if call == 1:
            h.then(lambda: h.consumer.assign_by_group([2]))  # mid-retry, p2 joins
            h.task.refuse()
        if call in (2, 3):
            # The retried batch is the same; partition 2 is held back (and fetched nothing).
            assert h.consumer.held() == {0, 1, 2}
            assert h.consumer.positions[2] == 0
            if call == 2:
                h.task.refuse()
        if call == 4:
            h.runner.stop()

    h.run(script)

    assert h.task.puts == [first, first, first, keys(2, 0, 1, 2)]
    assert h.consumer.committed_offsets == {0: 2, 1: 2, 2: 3}


def test_revoked_partitions_leave_the_retried_batch_and_their_delivered_offsets_are_committed_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness(monkeypatch, {0: 4, 1: 4}, initial=[0, 1], cooperative=True)

    def script(call: int, batch: list[Key]) -> None:
        if call == 2:
            h.then(lambda: h.consumer.revoke([1]))
            h.task.refuse()
        if call == 3:
            h.runner.stop()

    h.run(script)

    assert h.task.puts == [
        interleave(keys(0, 0, 1), keys(1, 0, 1)),
        interleave(keys(0, 2, 3), keys(1, 2, 3)),
        keys(0, 2, 3),  # partition 1's records left the batch with the partition
    ]
    revocation = h.journal[1:4]
    assert revocation == [
        ("pre_commit", {1: 2}),  # only the revoked partition, only what put() took
        ("commit", {1: 2}),
        ("close", {1}),
    ]
    # Records 1-2 and 1-3 were never delivered: the next owner of partition 1 reads them.
    assert h.consumer.committed_offsets == {0: 4, 1: 2}


def test_an_eager_rebalance_mid_retry_drops_the_batch_and_reads_again_from_the_commits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness(monkeypatch, {0: 4, 1: 4}, initial=[0, 1], cooperative=False)

    def script(call: int, batch: list[Key]) -> None:
        if call == 2:
            # Eager: everything is revoked, then this member gets partition 0 back.
            h.then(lambda: h.consumer.eager_rebalance([0]))
            h.task.refuse()
        if call == 3:
            assert h.consumer.held() == set()  # the retry ended with its batch
            h.runner.stop()

    h.run(script)

    assert h.task.puts == [
        interleave(keys(0, 0, 1), keys(1, 0, 1)),
        interleave(keys(0, 2, 3), keys(1, 2, 3)),
        keys(0, 2, 3),  # read again from the committed offset
    ]
    assert h.journal[1:5] == [
        ("pre_commit", {0: 2, 1: 2}),
        ("commit", {0: 2, 1: 2}),
        ("close", {0, 1}),
        ("open", {0}),
    ]
    assert h.consumer.committed_offsets == {0: 4, 1: 2}


def test_lost_partitions_are_closed_without_a_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness(monkeypatch, {0: 4, 1: 4}, initial=[0, 1], cooperative=True)

    def script(call: int, batch: list[Key]) -> None:
        if call == 2:
            h.then(lambda: h.consumer.revoke([1], lost=True))
            h.task.refuse()
        if call == 3:
            h.runner.stop()

    h.run(script)

    assert h.task.puts[2] == keys(0, 2, 3)
    assert h.journal[1] == ("close", {1})
    assert not [d for what, d in h.journal if what in ("pre_commit", "commit") and 1 in d]
    assert h.consumer.committed_offsets == {0: 4}


def test_a_partition_the_task_paused_stays_paused_when_a_rebalance_assigns_it_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness(monkeypatch, {0: 4, 1: 4}, initial=[0, 1], cooperative=False)

    def script(call: int, batch: list[Key]) -> None:
        if call == 1:
            h.task.context.pause(P1)
            h.then(lambda: h.consumer.eager_rebalance([0, 1]))
        if call == 2:
            assert h.consumer.held() == {1}
            h.runner.stop()

    h.run(script)

    assert h.task.puts == [
        interleave(keys(0, 0, 1), keys(1, 0, 1)),
        keys(0, 2, 3),
    ]
    assert h.consumer.committed_offsets == {0: 4, 1: 2}


def test_partitions_assigned_while_the_connector_is_paused_stay_paused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness(monkeypatch, {0: 2, 2: 2}, initial=[0], cooperative=True)
    held: list[set[int]] = []

    def script(call: int, batch: list[Key]) -> None:
        if call == 1:
            h.runner.transition_to(TargetState.PAUSED)
            h.then(
                lambda: h.consumer.assign_by_group([2]),
                lambda: held.append(h.consumer.held()),
                lambda: h.runner.transition_to(TargetState.STARTED),
            )
        if call == 2:
            h.runner.stop()

    h.run(script)

    assert held == [{0, 2}]
    assert h.task.puts == [keys(0, 0, 1), keys(2, 0, 1)]


def test_a_record_fetched_during_the_retry_wait_is_read_again_not_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness(monkeypatch, {0: 6, 1: 4}, initial=[0, 1], cooperative=True)

    def resume_once_flushed(offsets: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
        # A task that paused a partition while its buffer was full resumes it on flush.
        h.task.context.resume(P0)
        return offsets

    def script(call: int, batch: list[Key]) -> None:
        if call == 2:
            h.task.pre_commit_offsets = resume_once_flushed
            h.task.context.request_commit()
            h.task.refuse()
        if call == 3:
            h.task.pre_commit_offsets = dict
        if call == 4:
            h.runner.stop()

    h.run(script)

    second = interleave(keys(0, 2, 3), keys(1, 2, 3))
    assert h.task.puts == [
        interleave(keys(0, 0, 1), keys(1, 0, 1)),
        second,
        second,
        keys(0, 4, 5),  # 0-4 came back during the wait: rewound, not lost
    ]
    assert h.consumer.committed_offsets == {0: 6, 1: 4}


def test_an_offset_the_task_returns_past_what_put_took_is_not_committed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness(monkeypatch, {0: 2}, initial=[0], cooperative=True)
    h.task.pre_commit_offsets = lambda offsets: {P0: 100}

    def script(call: int, batch: list[Key]) -> None:
        h.runner.stop()

    h.run(script)

    assert h.task.puts == [keys(0, 0, 1)]
    assert h.consumer.committed_offsets == {}


@pytest.mark.parametrize("cooperative", [False, True], ids=["eager", "cooperative"])
def test_the_assignment_is_taken_with_the_call_the_groups_protocol_wants(
    monkeypatch: pytest.MonkeyPatch, cooperative: bool
) -> None:
    # The settings say the other protocol than the group's (e.g. one chosen broker-side).
    strategy = "range" if cooperative else "cooperative-sticky"
    h = Harness(monkeypatch, {0: 2, 1: 2}, initial=[0], cooperative=cooperative, strategy=strategy)

    def rebalance() -> None:
        if cooperative:
            h.consumer.assign_by_group([1])
        else:
            h.consumer.eager_rebalance([0, 1])

    def script(call: int, batch: list[Key]) -> None:
        if call == 1:
            h.then(rebalance)
            h.task.refuse()
        if call == 2 and cooperative:
            assert h.consumer.held() == {0, 1}  # partition 1 came during the retry
        if call == (3 if cooperative else 2):
            h.runner.stop()

    h.run(script)

    if cooperative:
        assert h.task.puts == [keys(0, 0, 1), keys(0, 0, 1), keys(1, 0, 1)]
    else:  # the batch went with the revocation, and is read again
        assert h.task.puts == [keys(0, 0, 1), interleave(keys(0, 0, 1), keys(1, 0, 1))]
    assert h.consumer.committed_offsets == {0: 2, 1: 2}
