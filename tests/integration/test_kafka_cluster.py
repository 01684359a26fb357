"""The local Kafka cluster really runs Kafka: clients talk to it, and stop() leaves nothing."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psutil
import pytest
from confluent_kafka import Consumer, Producer
from kconnect.testing import KafkaCluster


def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i, value in enumerate(values):
        producer.produce(topic, key=str(i).encode(), value=value)
    assert producer.flush(30) == 0


def _consume(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    received: list[bytes] = []
    try:
        for _ in range(60):
            for message in consumer.consume(num_messages=count, timeout=1.0):
                assert message.error() is None, message.error()
                received.append(message.value())
            if len(received) >= count:
                break
    finally:
        consumer.close()
    return received


def test_produce_and_consume_through_the_session_cluster(
    kafka_cluster: KafkaCluster, bootstrap_servers: str, unique_topic: str
) -> None:
    kafka_cluster.create_topic(unique_topic, partitions=1)
    values = [f"message-{i}".encode() for i in range(5)]

    _produce(bootstrap_servers, unique_topic, values)

    assert _consume(bootstrap_servers, unique_topic, len(values)) == values


def test_bootstrap_servers_are_loopback_only(bootstrap_servers: str) -> None:
    hosts = {server.rsplit(":", 1)[0] for server in bootstrap_servers.split(",")}
    assert hosts == {"127.0.0.1"}


def test_unique_topic_differs_per_test(unique_topic: str) -> None:
    # The test's own name keeps topics traceable; the random suffix keeps them apart.
    assert unique_topic.startswith("test-test_unique_topic_differs_per_test-")


@pytest.fixture(scope="module")
def three_broker_cluster() -> Iterator[KafkaCluster]:
    with KafkaCluster(brokers=3) as cluster:
        yield cluster


def test_three_brokers_serve_a_topic_replicated_three_times(
    three_broker_cluster: KafkaCluster,
) -> None:
    cluster = three_broker_cluster
    metadata = cluster.admin().list_topics(timeout=10)
    assert sorted(metadata.brokers) == [0, 1, 2]

    cluster.create_topic("replicated", partitions=3, replication_factor=3)
    partitions = cluster.admin().list_topics("replicated", timeout=10).topics["replicated"]
    assert all(sorted(p.replicas) == [0, 1, 2] for p in partitions.partitions.values())

    values = [f"v{i}".encode() for i in range(10)]
    _produce(cluster.bootstrap_servers, "replicated", values)
    assert sorted(_consume(cluster.bootstrap_servers, "replicated", len(values))) == sorted(values)


def test_a_replicated_topic_survives_a_broker_crash(three_broker_cluster: KafkaCluster) -> None:
    cluster = three_broker_cluster
    cluster.create_topic("survivor", partitions=1, replication_factor=3)
    _produce(cluster.bootstrap_servers, "survivor", [b"before"])

    cluster.kill_broker(2)
    _produce(cluster.bootstrap_servers, "survivor", [b"during"])
    cluster.restart_broker(2)

    assert len(cluster.pids) == 3
    assert _consume(cluster.bootstrap_servers, "survivor", 2) == [b"before", b"during"]


def test_stop_removes_processes_and_data_dir() -> None:
    cluster = KafkaCluster(brokers=1).start()
    data_dir = cluster.data_dir
    pids = cluster.pids
    assert data_dir is not None and data_dir.is_dir()
    assert len(pids) == 1 and all(psutil.pid_exists(pid) for pid in pids)

    cluster.stop()

    assert not data_dir.exists()
    assert cluster.data_dir is None
    assert not any(
        psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        for pid in pids
    )
    cluster.stop()  # a second stop is harmless
    assert os.path.isdir(data_dir.parent)


def test_a_cluster_id_starting_with_a_dash_still_formats(monkeypatch):
    # Random ids are URL-safe base64 and start with "-" about 1 time in 64; the storage tool's
    # argument parser once took such an id for an option.
    from kconnect.testing import kafka_cluster as module

    monkeypatch.setattr(module, "new_cluster_id", lambda: "-" + "A" * 21)
    with module.KafkaCluster() as cluster:
        assert cluster.cluster_id == "-" + "A" * 21
