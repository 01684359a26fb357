"""A two-worker cluster with Basic authentication on: requests a follower forwards to the leader
carry the caller's ``Authorization`` header (as Kafka's RestClient does), and the signed
inter-worker requests (task configs sent to the leader) pass without a user of their own."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests
from kconnect.testing.distributed_worker import DistributedCluster, all_running, wait_for
from kconnect.testing.distributed_worker import verifiable_source_config as source_config

KAFKA_EXTENSION = (
    "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
)
MODULE = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
USER = ("ops", "cluster-s3cret")


@pytest.fixture
def cluster(tmp_path: Path, bootstrap_servers: str):
    users = tmp_path / "users.properties"
    users.write_text(f"{USER[0]}: {USER[1]}\n")
    jaas = tmp_path / "jaas.conf"
    jaas.write_text(f'KafkaConnect {{ {MODULE} required file="{users}"; }};\n')
    cluster = DistributedCluster(
        tmp_path,
        bootstrap_servers,
        group_id=f"auth-{uuid.uuid4().hex[:8]}",
        extra={
            "rest.extension.classes": KAFKA_EXTENSION,
            "rest.basic.auth.jaas.config.file": str(jaas),
        },
    )
    yield cluster
    cluster.stop_all()


def test_connectors_created_through_either_worker_with_auth_on(
    cluster: DistributedCluster, unique_topic: str, tmp_path: Path
):
    workers = [cluster.worker(), cluster.worker()]
    for worker in workers:
        worker.session.auth = USER
        worker.start()
    for worker in workers:
        worker.wait_until_ready()
    wait_for(
        lambda: all(len(w.get("/connectors")) == 0 for w in workers), 60, "both workers serving"
    )
    # Whichever worker is not the leader forwards its writes; create through both, four
    # connectors so that each worker owns some and sends their task configs to the leader.
    names = [f"auth-{i}" for i in range(4)]
    for i, name in enumerate(names):
        worker = workers[i % 2]
        config = source_config(unique_topic, str(tmp_path / f"{name}.jsonl"), 1)
        unauthenticated = requests.put(
            f"{worker.rest_url}/connectors/{name}/config", json=config, timeout=30
        )
        assert unauthenticated.status_code == 401
        created = worker.put(f"/connectors/{name}/config", config)
        assert created.status_code == 201, created.text
    for name in names:
        wait_for(lambda n=name: all_running(workers[0], n, 1), 90, f"{name} RUNNING")
    owners = {
        workers[1].get(f"/connectors/{name}/status")["tasks"][0]["worker_id"] for name in names
    }
    assert owners == {w.worker_id for w in workers}, owners
    # Changes and deletes through the follower reach the leader too.
    for worker in workers:
        assert (
            worker.delete(f"/connectors/{names[0 if worker is workers[0] else 1]}").status_code
            == 204
        )
    wait_for(lambda: set(workers[0].get("/connectors")) == set(names[2:]), 30, "deleted")
    for worker in workers:
        assert "cluster-s3cret" not in worker.log_text()
