"""A sink task through rebalances that happen while put() is being retried, on a real broker.

The task refuses every batch with RetriableException for a while. Meanwhile another member of
the sink's consumer group (``connect-<name>``) leaves, handing the task partitions it never
had, or joins and takes partitions away, while more records arrive. At the end every record
of the topic was put at least once, put() never saw a record of a partition the task did not
own, partitions taken away had exactly their delivered offsets committed when they left, and
no offset was ever committable past a record the task did not take. Each scenario runs with
the eager and the cooperative assignment protocols.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as KafkaTopicPartition
from kconnect.api import SinkConnector, SinkRecord, SinkTask
from kconnect.api.errors import RetriableException
from kconnect.api.topic_partition import TopicPartition
from kconnect.runtime.standalone.herder import StandaloneHerder
from kconnect.testing import (
    KafkaCluster,
    committed_offset,
    herder_worker_props,
    running_herder,
    wait_until,
)

PARTITIONS = 4
PER_PARTITION = 25  # records per partition in each round of produce


@dataclass
class SinkLog:
    """What one connector's task saw, shared with the test (the worker builds the task)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    refusing: threading.Event = field(default_factory=threading.Event)
    #: the context.timeout() the task asks for with each refusal
    retry_ms: int = 100
    refusals: int = 0
    delivered: dict[int, set[int]] = field(default_factory=dict)
    puts: int = 0
    opened: list[set[int]] = field(default_factory=list)
    closed: list[set[int]] = field(default_factory=list)
    #: pre_commit offsets with a record below them that put() never took
    premature: list[tuple[int, int]] = field(default_factory=list)
    #: records put() was given of partitions the task was not assigned then
    not_owned: list[tuple[int | None, int]] = field(default_factory=list)

    def delivered_count(self) -> int:
        with self.lock:
            return sum(len(offsets) for offsets in self.delivered.values())


LOGS: dict[str, SinkLog] = {}


class RefusingSinkTask(SinkTask):
    """Takes every batch, except while its log says ``refusing``."""

    def start(self, props: Mapping[str, str]) -> None:
        self.log = LOGS[props["name"]]

    def put(self, records: Collection[SinkRecord]) -> None:
        log = self.log
        owned = {tp.partition for tp in self.context.assignment()}
        with log.lock:
            log.puts += 1
            log.not_owned.extend(
                (r.kafka_partition, r.kafka_offset)
                for r in records
                if r.kafka_partition not in owned
            )
            if records and log.refusing.is_set():
                log.refusals += 1
                self.context.timeout(log.retry_ms)
                raise RetriableException("the sink system is unavailable")
            for record in records:
                assert record.kafka_partition is not None
                log.delivered.setdefault(record.kafka_partition, set()).add(record.kafka_offset)

    def pre_commit(
        self, current_offsets: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        log = self.log
        with log.lock:
            for tp, offset in current_offsets.items():
                taken = log.delivered.get(tp.partition, set())
                if any(o not in taken for o in range(offset)):
                    log.premature.append((tp.partition, offset))
        return dict(current_offsets)

    def open(self, partitions: Collection[TopicPartition]) -> None:
        with self.log.lock:
            self.log.opened.append({tp.partition for tp in partitions})

    def close(self, partitions: Collection[TopicPartition]) -> None:
        with self.log.lock:
            self.log.closed.append({tp.partition for tp in partitions})

    def stop(self) -> None:
        pass


class RefusingSinkConnector(SinkConnector):
    def start(self, props: Mapping[str, str]) -> None:
        self.props = dict(props)

    def task_class(self) -> type[SinkTask]:
        return RefusingSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def stop(self) -> None:
        pass


@pytest.fixture(params=["range", "cooperative-sticky"], ids=["eager", "cooperative"])
def strategy(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def herder(tmp_path: Path, bootstrap_servers: str, strategy: str) -> Iterator[StandaloneHerder]:
    props = herder_worker_props(
        bootstrap_servers,
        tmp_path,
        {
            # Only rebalances and the task's stop commit, so the test sees which commit
            # came from which.
            "offset.flush.interval.ms": "600000",
            "consumer.partition.assignment.strategy": strategy,
            # RefusingSinkConnector is named by Python path: this module must be allowed.
            "plugin.import.allowed.prefixes": __name__,
        },
    )
    with running_herder(props) as running:
        yield running


class Member:
    """Another consumer in the sink's group, polling on a thread of its own (so it takes part
    in every rebalance); it commits nothing."""

    def __init__(self, bootstrap_servers: str, group: str, topic: str, strategy: str) -> None:
        self.assigned: set[int] = set()
        #: the group's committed offset of each partition when this member got it
        self.committed_on_assign: dict[int, int | None] = {}
        self._stop = threading.Event()
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                "group.id": group,
                "partition.assignment.strategy": strategy,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        self.consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        self._thread = threading.Thread(target=self._poll, name="group-member", daemon=True)
        self._thread.start()

    def _on_assign(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        for tp in consumer.committed(partitions, timeout=10):
            self.committed_on_assign[tp.partition] = tp.offset if tp.offset >= 0 else None
        self.assigned |= {tp.partition for tp in partitions}

    def _on_revoke(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        self.assigned -= {tp.partition for tp in partitions}

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.consumer.consume(100, 0.1)

    def leave(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.consumer.close()


class Scenario:
    """One refusing sink connector on a fresh topic, and what the test does around it."""

    def __init__(
        self,
        herder: StandaloneHerder,
        kafka_cluster: KafkaCluster,
        bootstrap_servers: str,
        topic: str,
        strategy: str,
    ) -> None:
        self.herder = herder
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.strategy = strategy
        self.name = f"refusing-{topic[-8:]}"
        self.group = f"connect-{self.name}"
        self.log = LOGS[self.name] = SinkLog()
        self.rounds = 0
        kafka_cluster.create_topic(topic, partitions=PARTITIONS)

    def member(self) -> Member:
        return Member(self.bootstrap_servers, self.group, self.topic, self.strategy)

    def start_sink(self) -> None:
        self.herder.put_connector_config(
            self.name,
            {"connector.class": f"{__name__}.RefusingSinkConnector", "topics": self.topic},
            allow_replace=False,
        )

    def produce_round(self) -> None:
        producer = Producer({"bootstrap.servers": self.bootstrap_servers})
        for partition in range(PARTITIONS):
            for i in range(PER_PARTITION):
                producer.produce(self.topic, value=f"{partition}-{i}".encode(), partition=partition)
        assert producer.flush(30) == 0
        self.rounds += 1

    def opened_since(self, mark: int) -> set[int]:
        with self.log.lock:
            return set().union(*self.log.opened[mark:])

    def retry_goes_on(self, refusals: int = 2) -> None:
        """Wait for put() to be refused ``refusals`` more times."""
        before = self.log.refusals
        wait_until(lambda: self.log.refusals >= before + refusals, what="the retry to go on")

    def finish(self) -> None:
        """The sink system comes back: every record must be put, and committed on stop."""
        log = self.log
        log.refusing.clear()
        total = self.rounds * PER_PARTITION
        wait_until(lambda: log.delivered_count() == PARTITIONS * total, what="every record put")
        self.herder.delete_connector(self.name)  # the task's stop commits what it put

        def all_committed() -> bool:
            return all(
                committed_offset(self.bootstrap_servers, self.group, self.topic, p) == total
                for p in range(PARTITIONS)
            )

        wait_until(all_committed, what="every partition's offsets committed")
        with log.lock:
            assert log.delivered == {p: set(range(total)) for p in range(PARTITIONS)}, (
                "records were lost"
            )
            assert log.not_owned == [], "put() was given records of partitions taken away"
            assert log.premature == [], "offsets were committable past records put() never took"


@pytest.fixture
def scenario(
    herder: StandaloneHerder,
    kafka_cluster: KafkaCluster,
    bootstrap_servers: str,
    unique_topic: str,
    strategy: str,
) -> Scenario:
    return Scenario(herder, kafka_cluster, bootstrap_servers, unique_topic, strategy)


def test_partitions_new_to_the_task_in_the_middle_of_a_retry_are_held_and_lose_nothing(
    scenario: Scenario,
) -> None:
    log = scenario.log
    first = scenario.member()
    try:
        wait_until(lambda: len(first.assigned) == PARTITIONS, what="the member to own all")
        scenario.start_sink()
        wait_until(lambda: len(first.assigned) == PARTITIONS // 2, what="the task to join")
        scenario.produce_round()
        wait_until(
            lambda: log.delivered_count() == PARTITIONS // 2 * PER_PARTITION,
            what="the task's half of the first round put",
        )
        # Long waits between retries: a consumer has time to fetch what it is assigned.
        log.retry_ms = 1000
        log.refusing.set()
        scenario.produce_round()
        scenario.retry_goes_on(refusals=1)
        theirs = set(first.assigned)
        mark = len(log.opened)
    finally:
        first.leave()

    # The member's partitions go to the task while it retries: its consumer never had them.
    wait_until(lambda: scenario.opened_since(mark) >= theirs, what="the member's partitions")
    scenario.produce_round()
    scenario.retry_goes_on()
    scenario.finish()


def test_partitions_revoked_in_the_middle_of_a_retry_leave_the_batch_after_a_commit(
    scenario: Scenario,
) -> None:
    log = scenario.log
    scenario.produce_round()
    scenario.start_sink()
    wait_until(
        lambda: log.delivered_count() == PARTITIONS * PER_PARTITION, what="the first round put"
    )
    log.refusing.set()
    scenario.produce_round()
    scenario.retry_goes_on()

    second = scenario.member()
    try:
        wait_until(lambda: second.assigned, what="the member to take partitions")
        taken = set(second.assigned)
        # The task committed what it had put of those partitions before letting them go:
        # the whole first round, nothing of the refused second.
        assert second.committed_on_assign == {p: PER_PARTITION for p in taken}
        with log.lock:
            assert any(taken <= closed for closed in log.closed)
        # Records the retried batch does not hold: nothing may fetch and drop them.
        scenario.produce_round()
        scenario.retry_goes_on()
        mark = len(log.opened)
    finally:
        second.leave()

    wait_until(lambda: scenario.opened_since(mark) >= taken, what="the partitions back")
    scenario.retry_goes_on()
    scenario.finish()
