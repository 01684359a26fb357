"""A two-worker kconnect cluster on a real broker: ``PUT /admin/loggers/{l}?scope=cluster`` sent
to one worker sets the level on both (through a ``logger-cluster-<namespace>`` record in the
config topic, as Kafka writes it), ``?scope=worker`` only on the one asked; and each worker's
``/metrics`` shows the group's rebalance metrics."""

from __future__ import annotations

from pathlib import Path

import orjson
from confluent_kafka import Consumer, TopicPartition
from kconnect.testing.distributed_worker import DistributedCluster, wait_for
from prometheus_client.parser import text_string_to_metric_families

NAMESPACE = "kconnect.storage"


def _level(worker, name: str) -> str | None:
    response = worker.request("GET", f"/admin/loggers/{name}")
    return response.json().get("level") if response.status_code == 200 else None


def _config_topic_record(bootstrap: str, topic: str, key: str) -> bytes | None:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "check-config", "enable.auto.commit": False}
    )
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        found = None
        for _ in range(40):
            for message in consumer.consume(100, 0.5):
                if message.error() is None and message.key() == key.encode():
                    found = message.value()
            if found is not None:
                return found
        return found
    finally:
        consumer.close()


def test_cluster_scope_logger_level_applies_on_both_workers(
    tmp_path: Path, bootstrap_servers: str, unique_topic: str
) -> None:
    cluster = DistributedCluster(tmp_path, bootstrap_servers, group_id=f"loggers-{unique_topic}")
    try:
        first, second = cluster.start_workers(2)

        # Both joined one group: each reports a completed rebalance and the same epoch.
        def epochs() -> set[float] | None:
            values = set()
            for worker in (first, second):
                page = worker.session.get(worker.rest_url + "/metrics", timeout=10).text
                samples = {
                    s.name: s.value
                    for family in text_string_to_metric_families(page)
                    for s in family.samples
                }
                if samples.get("kafka_connect_worker_rebalance_completed_rebalances_total", 0) < 1:
                    return None
                values.add(samples["kafka_connect_worker_rebalance_epoch"])
            return values if len(values) == 1 else None

        wait_for(epochs, 60, "both workers to report the same rebalance epoch")

        assert _level(first, NAMESPACE) != "DEBUG" and _level(second, NAMESPACE) != "DEBUG"
        worker_scope = first.put(f"/admin/loggers/{NAMESPACE}?scope=worker", {"level": "DEBUG"})
        assert worker_scope.status_code == 200
        assert _level(first, NAMESPACE) == "DEBUG"
        assert _level(second, NAMESPACE) != "DEBUG"

        cluster_scope = second.put(f"/admin/loggers/{NAMESPACE}?scope=cluster", {"level": "ERROR"})
        assert cluster_scope.status_code == 204
        assert cluster_scope.content == b""
        wait_for(
            lambda: _level(first, NAMESPACE) == "ERROR" and _level(second, NAMESPACE) == "ERROR",
            30,
            "the cluster-scope level on both workers",
        )
        child = f"{NAMESPACE}.kafka_config_store"
        assert _level(first, child) == "ERROR" and _level(second, child) == "ERROR"
        assert isinstance(first.get(f"/admin/loggers/{NAMESPACE}")["last_modified"], int)

        record = _config_topic_record(
            bootstrap_servers, cluster.props["config.storage.topic"], f"logger-cluster-{NAMESPACE}"
        )
        assert record is not None and orjson.loads(record) == {"level": "ERROR"}
    finally:
        cluster.stop_all()


def test_a_worker_joining_later_does_not_apply_older_cluster_levels(
    tmp_path: Path, bootstrap_servers: str, unique_topic: str
) -> None:
    cluster = DistributedCluster(tmp_path, bootstrap_servers, group_id=f"late-{unique_topic}")
    try:
        (first,) = cluster.start_workers(1)
        namespace = "kconnect.runtime.distributed"
        assert first.put(f"/admin/loggers/{namespace}?scope=cluster", {"level": "FATAL"}).ok
        wait_for(lambda: _level(first, namespace) == "FATAL", 30, "the level on the first worker")
        # The record is in the config topic the late worker reads from the start ...
        record = _config_topic_record(
            bootstrap_servers, cluster.props["config.storage.topic"], f"logger-cluster-{namespace}"
        )
        assert record is not None and orjson.loads(record) == {"level": "FATAL"}
        late = cluster.worker().start().wait_until_ready()
        # ... but it was written before that worker started: as in Kafka, it does not apply.
        assert _level(late, namespace) != "FATAL"
    finally:
        cluster.stop_all()
