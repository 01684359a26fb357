"""A two-worker cluster whose REST listeners are https with ``ssl.client.auth=required``: workers
talk to each other with the listener's own keystore as client certificate and its truststore as
CAs (as Kafka's RestClient does), so requests a follower forwards to the leader, and the signed
task configs a follower sends it, get through."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests
from kconnect.testing.distributed_worker import DistributedCluster, all_running, wait_for
from kconnect.testing.distributed_worker import verifiable_source_config as source_config
from kconnect.testing.tls import TlsFiles, generate_tls


def _client_pem(tls: TlsFiles) -> tuple[str, str]:
    """The test client's certificate and unencrypted key as PEM files, for requests."""
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        pkcs12,
    )

    key, cert, _ = pkcs12.load_key_and_certificates(
        tls.client_pkcs12.read_bytes(), tls.password.encode()
    )
    assert key is not None and cert is not None
    cert_file, key_file = tls.directory / "test-client.crt", tls.directory / "test-client.key"
    cert_file.write_bytes(cert.public_bytes(Encoding.PEM))
    key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return generate_tls(tmp_path / "tls")


@pytest.fixture
def cluster(tmp_path: Path, bootstrap_servers: str, tls: TlsFiles):
    # The stores Kafka users have: a PKCS12 keystore (a certificate for 127.0.0.1 usable as
    # server and as client) and a PKCS12 truststore holding the CA, both with passwords.
    cluster = DistributedCluster(
        tmp_path,
        bootstrap_servers,
        group_id=f"https-{uuid.uuid4().hex[:8]}",
        scheme="https",
        extra={
            "listeners.https.ssl.keystore.location": str(tls.broker_keystore),
            "listeners.https.ssl.keystore.password": tls.password,
            "listeners.https.ssl.key.password": tls.password,
            "listeners.https.ssl.keystore.type": "PKCS12",
            "listeners.https.ssl.truststore.location": str(tls.truststore_pkcs12),
            "listeners.https.ssl.truststore.password": tls.password,
            "listeners.https.ssl.truststore.type": "PKCS12",
            "listeners.https.ssl.client.auth": "required",
        },
    )
    yield cluster
    cluster.stop_all()


def test_follower_forwards_and_sends_task_configs_over_https_with_client_auth(
    cluster: DistributedCluster, tls: TlsFiles, unique_topic: str, tmp_path: Path
):
    client_cert = _client_pem(tls)
    workers = [cluster.worker(), cluster.worker()]
    for worker in workers:
        # Not the CA bundle of REQUESTS_CA_BUNDLE, which would override session.verify.
        worker.session.trust_env = False
        worker.session.verify = str(tls.ca_pem)
        worker.session.cert = client_cert
        worker.start()
    for worker in workers:
        worker.wait_until_ready(60)
    wait_for(
        lambda: all(len(w.get("/connectors")) == 0 for w in workers), 30, "both workers serving"
    )
    # The listeners really demand a certificate: a worker presenting none would be refused.
    with pytest.raises((requests.exceptions.SSLError, requests.ConnectionError)):
        requests.get(workers[0].rest_url + "/", verify=str(tls.ca_pem), timeout=10)

    # One of the two is a follower: the writes sent to it are forwarded to the leader. Four
    # connectors, so that each worker owns some and the follower sends their task configs,
    # signed, to the leader.
    names = [f"tls-{i}" for i in range(4)]
    for i, name in enumerate(names):
        config = source_config(unique_topic, str(tmp_path / f"{name}.jsonl"), 1)
        created = workers[i % 2].put(f"/connectors/{name}/config", config)
        assert created.status_code == 201, created.text
    for name in names:
        wait_for(lambda n=name: all_running(workers[0], n, 1), 30, f"{name} RUNNING")
    statuses = [workers[1].get(f"/connectors/{name}/status") for name in names]
    everyone = {w.worker_id for w in workers}
    assert {s["connector"]["worker_id"] for s in statuses} == everyone, statuses
    assert {s["tasks"][0]["worker_id"] for s in statuses} == everyone, statuses

    # A task request answered by the task's owner: forwarded whenever it lands elsewhere.
    for worker in workers:
        for name in names:
            restarted = worker.post(f"/connectors/{name}/tasks/0/restart")
            assert restarted.status_code == 204, restarted.text
    for worker in workers:
        assert tls.password not in worker.log_text()
