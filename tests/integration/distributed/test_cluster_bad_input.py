"""A cluster meets bad input: a worker configured with another config topic under the same
group.id, an internal topic that is not compacted, a broker that goes away for 30 s. Each gets a
clear error and nothing is lost."""

from __future__ import annotations

import time
import uuid

import pytest
from kconnect.testing.distributed_worker import DistributedCluster, all_running, wait_for
from kconnect.testing.distributed_worker import verifiable_source_config as source_config
from kconnect.testing.kafka_cluster import KafkaCluster
from kconnect.testing.verifiable import verifiable_seqnos


@pytest.fixture
def cluster(tmp_path, bootstrap_servers):
    cluster = DistributedCluster(tmp_path, bootstrap_servers, group_id=f"g-{uuid.uuid4().hex[:8]}")
    yield cluster
    cluster.stop_all()


def test_worker_with_another_config_topic_in_the_group_is_refused_and_others_run_on(
    cluster, unique_topic, tmp_path
):
    workers = cluster.start_workers(2)
    output = tmp_path / "source.jsonl"
    assert (
        workers[0]
        .post(
            "/connectors", {"name": "s", "config": source_config(unique_topic, str(output), 2, 50)}
        )
        .status_code
        == 201
    )
    wait_for(lambda: all_running(workers[0], "s", 2), 90, "s RUNNING")
    stray = cluster.worker(**{"config.storage.topic": f"{cluster.group_id}-other-configs"}).start()
    stray.wait_for(
        lambda: (
            "Every worker of a group must use the same config.storage.topic" in stray.log_text()
        ),
        90,
        "the stray worker to say what is wrong",
    )
    assert f"{cluster.group_id}-other-configs" in stray.log_text()
    # The stray worker runs nothing and the others keep the connector running.
    time.sleep(3)
    status = wait_for(lambda: all_running(workers[1], "s", 2), 60, "s RUNNING on the others")
    owners = {status["connector"]["worker_id"], *(t["worker_id"] for t in status["tasks"])}
    assert stray.worker_id not in owners
    assert stray.returncode is None, "the stray worker keeps running, out of the group"
    for task, seen in verifiable_seqnos(output).items():
        assert not seen.gaps, f"task {task} lost {seen.gaps[:10]}"


def test_non_compacted_internal_topic_is_refused_with_the_fix(cluster, kafka_cluster, tmp_path):
    topic = f"{cluster.group_id}-status"
    kafka_cluster.create_topic(topic, partitions=5, config={"cleanup.policy": "delete"})
    worker = cluster.worker().start()
    code = worker.wait(90)
    log = worker.log_text()
    assert code == 1, log[-3000:]
    assert topic in log and "cleanup.policy=compact" in log, log[-3000:]


def test_broker_away_for_30s_then_back_nothing_lost(tmp_path):
    with KafkaCluster(brokers=1) as kafka:
        cluster = DistributedCluster(tmp_path, kafka.bootstrap_servers, group_id="outage")
        try:
            workers = cluster.start_workers(2)
            output = tmp_path / "source.jsonl"
            topic = f"outage-{uuid.uuid4().hex[:6]}"
            assert (
                workers[0]
                .post(
                    "/connectors", {"name": "s", "config": source_config(topic, str(output), 2, 50)}
                )
                .status_code
                == 201
            )
            wait_for(lambda: all_running(workers[0], "s", 2), 90, "s RUNNING")
            wait_for(lambda: len(verifiable_seqnos(output)) == 2, 60, "records committed")
            kafka.stop_broker(0)
            time.sleep(30)
            for worker in workers:
                assert worker.returncode is None, worker.log_text()[-3000:]
            kafka.start_broker(0)
            before = {t: max(s.seqnos) for t, s in verifiable_seqnos(output).items()}
            wait_for(lambda: all_running(workers[1], "s", 2), 120, "s RUNNING after the outage")
            wait_for(
                lambda: all(
                    max(s.seqnos) > before[t] + 50 for t, s in verifiable_seqnos(output).items()
                ),
                120,
                "every task producing again",
            )
            for task, seen in verifiable_seqnos(output).items():
                assert not seen.gaps, f"task {task} lost {seen.gaps[:10]}"
        finally:
            cluster.stop_all()
