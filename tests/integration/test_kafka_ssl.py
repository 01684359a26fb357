"""Kafka clients over TLS with the stores users already have: a broker with an SSL listener
that requires client certificates (made by the test fixture), and worker processes whose every
client (admin, task producers and consumers, the distributed group member and internal topics)
reaches it with JKS, PKCS12 or PEM keystores and truststores from their Java settings."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import javaproperties
import pytest
import requests
from confluent_kafka import Producer
from kconnect.testing.distributed_worker import DistributedCluster, wait_for
from kconnect.testing.kafka_cluster import KafkaCluster
from kconnect.testing.standalone_worker import StandaloneWorker, free_port
from kconnect.testing.tls import TlsFiles, generate_tls

LINES = 2_000


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return generate_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def ssl_cluster(tls: TlsFiles) -> Iterator[KafkaCluster]:
    """A broker of its own whose SSL listener requires a client certificate signed by the CA."""
    with KafkaCluster(ssl_listener=tls.broker_ssl_config(client_auth="required")) as cluster:
        yield cluster


def write_worker_file(path: Path, props: dict[str, str]) -> Path:
    # javaproperties escapes the newlines of PEM strings, as a user's file would carry them.
    path.write_text(javaproperties.dumps(props, timestamp=False), encoding="utf-8")
    return path


def file_pipeline(tmp_path: Path, topic: str) -> tuple[Path, Path, list[dict[str, str]]]:
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("".join(f"line {i} über TLS\n" for i in range(LINES)), encoding="utf-8")
    connectors = [
        {
            "name": "tls-source",
            "connector.class": "FileStreamSource",
            "tasks.max": "1",
            "file": str(source),
            "topic": topic,
        },
        {
            "name": "tls-sink",
            "connector.class": "FileStreamSink",
            "tasks.max": "1",
            "file": str(sink),
            "topics": topic,
        },
    ]
    return source, sink, connectors


def standalone_worker(
    tmp_path: Path, cluster: KafkaCluster, tls_props: dict[str, str], connectors: list
) -> StandaloneWorker:
    port = free_port()
    props = {
        "bootstrap.servers": cluster.ssl_bootstrap_servers,
        "listeners": f"http://127.0.0.1:{port}",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": str(tmp_path / "offsets"),
        "offset.flush.interval.ms": "1000",
        **tls_props,
    }
    worker_file = write_worker_file(tmp_path / "worker.properties", props)
    return StandaloneWorker(tmp_path, worker_file, connectors, rest_port=port)


def line_count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize(
    ("keystore", "truststore"),
    [("PKCS12", "JKS"), ("JKS", "PKCS12"), ("PEM", "PEM"), ("PEM-STRINGS", "PEM-STRINGS")],
    ids=[
        "pkcs12-keystore-jks-truststore",
        "jks-keystore-pkcs12-truststore",
        "pem-files",
        "pem-strings",
    ],
)
def test_standalone_worker_moves_every_line_over_ssl(
    tmp_path, ssl_cluster, tls, keystore, truststore
):
    topic = f"tls-{keystore.lower()}-{uuid.uuid4().hex[:8]}"
    source, sink, connectors = file_pipeline(tmp_path, topic)
    props = tls.client_props(keystore=keystore, truststore=truststore)
    with standalone_worker(tmp_path, ssl_cluster, props, connectors) as worker:
        worker.wait_for(lambda: line_count(sink) >= LINES, 120, f"{LINES} lines in the sink")
        time.sleep(1)  # nothing more may arrive
    assert sink.read_text(encoding="utf-8") == source.read_text(encoding="utf-8")
    # The topic exists only on the SSL cluster: the data went through it.
    assert topic in ssl_cluster.admin().list_topics(timeout=10).topics


def test_client_prefixes_and_connector_overrides_choose_the_stores(tmp_path, ssl_cluster, tls):
    """The worker's own clients use PKCS12/JKS; ``producer.`` keys give the source task a JKS
    keystore, and the sink's ``consumer.override.`` keys a PEM one. Each prefixed store is
    needed: the worker-level keystore password is wrong for the JKS and PEM stores."""
    topic = f"tls-prefixes-{uuid.uuid4().hex[:8]}"
    source, sink, connectors = file_pipeline(tmp_path, topic)
    worker_props = tls.client_props(keystore="PKCS12", truststore="JKS")
    for key, value in tls.client_props(keystore="JKS", truststore="PKCS12").items():
        worker_props[f"producer.{key}"] = value
    worker_props["connector.client.config.override.policy"] = "All"
    # Without its override the sink's consumer would inherit the worker's PKCS12 keystore,
    # which works too; so the consumer's worker-level prefix names a store that cannot open,
    # and only the connector's override makes the sink run.
    worker_props["consumer.ssl.keystore.password"] = "not-the-password"
    for key, value in tls.client_props(keystore="PEM", truststore="PEM").items():
        connectors[1][f"consumer.override.{key}"] = value
    connectors[1]["consumer.override.ssl.keystore.password"] = ""
    with standalone_worker(tmp_path, ssl_cluster, worker_props, connectors) as worker:
        worker.wait_for(lambda: line_count(sink) >= LINES, 120, f"{LINES} lines in the sink")
    assert sink.read_text(encoding="utf-8") == source.read_text(encoding="utf-8")


def test_wrong_keystore_password_stops_the_worker_naming_key_and_file(tmp_path, ssl_cluster, tls):
    wrong = f"wrong-{uuid.uuid4().hex[:6]}"
    props = tls.client_props(keystore="PKCS12", truststore="JKS")
    props["ssl.keystore.password"] = wrong
    worker = standalone_worker(tmp_path, ssl_cluster, props, [])
    with worker:
        code = worker.wait(90)
    log_text = worker.log_text()
    assert code not in (None, 0), log_text[-3000:]
    assert "ssl.keystore.password" in log_text
    assert str(tls.client_pkcs12) in log_text
    assert wrong not in log_text
    assert tls.password not in log_text


def test_distributed_workers_form_a_group_and_move_data_over_ssl(tmp_path, ssl_cluster, tls):
    """Group membership (kafka-python) and the internal topics, config/offset/status stores
    (librdkafka) all on the SSL listener with a JKS keystore and a PKCS12 truststore."""
    group = f"tls-{uuid.uuid4().hex[:8]}"
    cluster = DistributedCluster(
        tmp_path,
        ssl_cluster.ssl_bootstrap_servers,
        group,
        extra={
            **tls.client_props(keystore="JKS", truststore="PKCS12"),
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        },
    )
    topic = f"tls-distributed-{uuid.uuid4().hex[:8]}"
    source, sink, connectors = file_pipeline(tmp_path, topic)
    try:
        workers = cluster.start_workers(2)
        for connector in connectors:
            name = connector.pop("name")
            response = workers[0].put(f"/connectors/{name}/config", connector)
            assert response.status_code in (200, 201), response.text
        wait_for(lambda: line_count(sink) >= LINES, 120, f"{LINES} lines in the sink")
        assert sink.read_text(encoding="utf-8") == source.read_text(encoding="utf-8")

        # One group of two members: the leader spread the work over both workers.
        def owners() -> set[str] | None:
            found = set()
            for name in ("tls-source", "tls-sink"):
                status = workers[1].get(f"/connectors/{name}/status")
                entries = [status["connector"], *status["tasks"]]
                if any(e["state"] != "RUNNING" for e in entries):
                    return None
                found.update(e["worker_id"] for e in entries)
            return found

        assert wait_for(owners, 60, "running connectors") == {w.worker_id for w in workers}
    except requests.RequestException as error:
        raise AssertionError(f"REST call failed: {error}") from error
    finally:
        cluster.stop_all()


def test_sink_offsets_of_one_partition_are_removed_over_ssl(tmp_path, ssl_cluster, tls):
    """Removing one partition's sink offsets uses kafka-python's admin client (OffsetDelete):
    it too reaches the SSL listener with the worker's stores."""
    topic = f"tls-offsets-{uuid.uuid4().hex[:8]}"
    ssl_cluster.create_topic(topic, partitions=2)
    producer = Producer({"bootstrap.servers": ssl_cluster.bootstrap_servers})  # PLAINTEXT
    for i in range(20):
        producer.produce(topic, f"record {i}".encode(), partition=i % 2)
    assert producer.flush(30) == 0
    sink = tmp_path / "out.txt"
    connector = {
        "name": "tls-drain",
        "connector.class": "FileStreamSink",
        "tasks.max": "1",
        "file": str(sink),
        "topics": topic,
    }
    props = tls.client_props(keystore="PKCS12", truststore="JKS")
    with standalone_worker(tmp_path, ssl_cluster, props, [connector]) as worker:
        worker.wait_for(lambda: line_count(sink) >= 20, 120, "20 lines in the sink")
        url = f"{worker.rest_url}/connectors/tls-drain"

        def committed() -> list | None:
            offsets = requests.get(f"{url}/offsets", timeout=10).json()["offsets"]
            return offsets if sum(o["offset"]["kafka_offset"] for o in offsets) == 20 else None

        wait_for(committed, 60, "committed sink offsets")
        assert requests.put(f"{url}/stop", timeout=30).status_code in (202, 204)
        wait_for(
            lambda: (
                requests.get(f"{url}/status", timeout=10).json()["connector"]["state"] == "STOPPED"
            ),
            60,
            "the connector to stop",
        )
        removed = requests.patch(
            f"{url}/offsets",
            json={
                "offsets": [
                    {"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": None}
                ]
            },
            timeout=60,
        )
        assert removed.status_code == 200, removed.text
        offsets = requests.get(f"{url}/offsets", timeout=10).json()["offsets"]
        assert offsets == [
            {
                "partition": {"kafka_topic": topic, "kafka_partition": 1},
                "offset": {"kafka_offset": 10},
            }
        ]
