"""Bad input gets a clear error, in bounded time, and the worker keeps what it can running."""

from __future__ import annotations

import os
import time
from pathlib import Path

from kconnect.testing import read_topic, running_herder, wait_until
from kconnect.testing.standalone_worker import StandaloneWorker


def _worker_props(bootstrap: str, tmp_path: Path) -> dict:
    return {
        "bootstrap.servers": bootstrap,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": tmp_path / "offsets",
        "offset.flush.interval.ms": 1000,
    }


def _run_to_exit(worker: StandaloneWorker, timeout_s: float = 60) -> tuple[int | None, str]:
    worker.start()
    code = worker.wait(timeout_s)
    if code is None:
        worker.stop()
    return code, worker.log_text()


def test_malformed_properties_file_names_the_file_and_line(tmp_path, bootstrap_servers):
    bad = tmp_path / "worker.properties"
    bad.write_text(f"bootstrap.servers={bootstrap_servers}\nkey.converter=\\uZZZZ\n")
    code, log = _run_to_exit(StandaloneWorker(tmp_path, bad))
    assert code == 1
    assert str(bad) in log and "malformed at line 2" in log and "\\uZZZZ" in log


def test_unknown_connector_class_names_the_closest_plugins(tmp_path, bootstrap_servers):
    connector = {
        "name": "typo",
        "connector.class": "FileStreamSorce",
        "topic": "t",
        "file": tmp_path / "x",
    }
    code, log = _run_to_exit(
        StandaloneWorker(tmp_path, _worker_props(bootstrap_servers, tmp_path), [connector])
    )
    assert code == 3
    assert (
        "Failed to find any class that implements connector and which name matches FileStreamSorce"
        in log
    )
    assert "Did you mean: FileStreamSource" in log


def test_missing_required_key_is_reported_in_kafkas_words(tmp_path, bootstrap_servers):
    connector = {"name": "no-topic", "connector.class": "FileStreamSource", "file": "in.txt"}
    code, log = _run_to_exit(
        StandaloneWorker(tmp_path, _worker_props(bootstrap_servers, tmp_path), [connector])
    )
    assert code == 3
    assert "Connector configuration is invalid and contains the following 1 error(s):" in log
    assert 'Missing required configuration "topic" which has no default value.' in log


def test_unreachable_bootstrap_servers_fail_in_bounded_time(tmp_path):
    props = _worker_props("127.0.0.1:1", tmp_path)
    props["admin.default.api.timeout.ms"] = 3000
    started = time.monotonic()
    code, log = _run_to_exit(StandaloneWorker(tmp_path, props), timeout_s=60)
    assert code not in (None, 0)
    assert time.monotonic() - started < 45
    assert "Failed to connect to and describe Kafka cluster" in log
    assert "bootstrap.servers=127.0.0.1:1" in log


def test_unwritable_sink_file_fails_the_task_and_the_worker_runs_on(
    tmp_path, kafka_cluster, unique_topic
):
    with running_herder(_worker_props(kafka_cluster.bootstrap_servers, tmp_path)) as herder:
        source_file = tmp_path / "in.txt"
        source_file.write_text("a\nb\n")
        herder.put_connector_config(
            "bad-sink",
            {
                "connector.class": "FileStreamSink",
                "file": "/nonexistent-dir/out.txt",
                "topics": unique_topic,
            },
            allow_replace=False,
        )
        herder.put_connector_config(
            "good-source",
            {
                "connector.class": "FileStreamSource",
                "file": str(source_file),
                "topic": unique_topic,
            },
            allow_replace=False,
        )
        wait_until(
            lambda: (
                [t["state"] for t in herder.connector_status("bad-sink")["tasks"]] == ["FAILED"]
            ),
            what="the sink task to fail",
        )
        status = herder.connector_status("bad-sink")
        assert status["connector"]["state"] == "RUNNING"
        trace = status["tasks"][0]["trace"]
        assert (
            "Couldn't find or create file '/nonexistent-dir/out.txt' for FileStreamSinkTask"
            in trace
        )
        assert "Traceback" in trace
        # The worker runs on: the source still copies its file.
        wait_until(
            lambda: herder.connector_status("good-source")["tasks"][0]["state"] == "RUNNING",
            what="the source to run",
        )
        assert _topic_values(kafka_cluster.bootstrap_servers, unique_topic, 2) == [b"a", b"b"]


def test_source_file_that_disappears_keeps_what_was_read(tmp_path, kafka_cluster, unique_topic):
    with running_herder(_worker_props(kafka_cluster.bootstrap_servers, tmp_path)) as herder:
        source_file = tmp_path / "vanishing.txt"
        source_file.write_text("".join(f"v{i}\n" for i in range(500)))
        herder.put_connector_config(
            "vanishing",
            {
                "connector.class": "FileStreamSource",
                "file": str(source_file),
                "topic": unique_topic,
            },
            allow_replace=False,
        )
        assert len(_topic_values(kafka_cluster.bootstrap_servers, unique_topic, 500)) == 500
        os.unlink(source_file)
        time.sleep(1.5)
        assert herder.connector_status("vanishing")["tasks"][0]["state"] == "RUNNING"
        # A new file at the same path is a new file: its lines come too.
        source_file.write_text("again\n")
        values = _topic_values(kafka_cluster.bootstrap_servers, unique_topic, 501)
        assert values[:500] == [f"v{i}".encode() for i in range(500)] and values[500] == b"again"


def test_missing_source_file_waits_for_it(tmp_path, kafka_cluster, unique_topic):
    with running_herder(_worker_props(kafka_cluster.bootstrap_servers, tmp_path)) as herder:
        source_file = tmp_path / "later.txt"
        herder.put_connector_config(
            "later",
            {
                "connector.class": "FileStreamSource",
                "file": str(source_file),
                "topic": unique_topic,
            },
            allow_replace=False,
        )
        time.sleep(1.5)
        assert herder.connector_status("later")["tasks"][0]["state"] == "RUNNING"
        source_file.write_text("finally\n")
        assert _topic_values(kafka_cluster.bootstrap_servers, unique_topic, 1) == [b"finally"]


def _topic_values(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    return [m.value() for m in read_topic(bootstrap, topic, expected, timeout=30)]


def test_sink_started_before_its_topic_exists_waits_for_it(tmp_path, kafka_cluster, unique_topic):
    from confluent_kafka import Producer

    with running_herder(_worker_props(kafka_cluster.bootstrap_servers, tmp_path)) as herder:
        output = tmp_path / "early.txt"
        herder.put_connector_config(
            "early-sink",
            {
                "connector.class": "FileStreamSink",
                "file": str(output),
                "topics": unique_topic,
            },
            allow_replace=False,
        )
        time.sleep(2)  # long enough for the consumer to see that the topic is missing
        assert herder.connector_status("early-sink")["tasks"][0]["state"] == "RUNNING"
        producer = Producer({"bootstrap.servers": kafka_cluster.bootstrap_servers})
        producer.produce(unique_topic, b"finally here")
        producer.flush(10)
        wait_until(
            lambda: output.exists() and output.read_text() == "finally here\n",
            timeout=60,
            what="the record in the file",
        )
