"""Apache Kafka Connect's own Java worker runs beside kconnect on the test broker.

These tests check the harness itself (start, REST, stop, kill, the internal-topic dump) with
the scenario every other comparison builds on: a FileStreamSource copying a file to a topic.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kconnect.testing import KafkaCluster, read_topic, wait_until
from kconnect.testing.java_connect import (
    JavaConnectError,
    JavaConnectWorker,
    describe_internal_topics,
    dump_internal_topics,
)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def worker(kafka_cluster: KafkaCluster, tmp_path: Path) -> Iterator[JavaConnectWorker]:
    suffix = uuid.uuid4().hex[:8]
    with JavaConnectWorker(
        kafka_cluster.bootstrap_servers,
        tmp_path / "java-connect",
        group_id=f"java-connect-{suffix}",
        config_topic=f"java-connect-configs-{suffix}",
        offset_topic=f"java-connect-offsets-{suffix}",
        status_topic=f"java-connect-status-{suffix}",
    ) as started:
        yield started


def _connector_running(worker: JavaConnectWorker, name: str) -> bool:
    _, status = worker.request("GET", f"/connectors/{name}/status", expect=(200, 404))
    if not isinstance(status, dict) or "connector" not in status:
        return False
    states = [status["connector"]["state"], *(t["state"] for t in status["tasks"])]
    return len(states) > 1 and all(state == "RUNNING" for state in states)


def test_file_source_copies_lines_to_a_topic(
    worker: JavaConnectWorker, bootstrap_servers: str, unique_topic: str, tmp_path: Path
) -> None:
    source_file = tmp_path / "input.txt"
    lines = [f"line {i}" for i in range(5)]
    source_file.write_text("".join(f"{line}\n" for line in lines))
    _, root = worker.request("GET", "/")
    assert root["version"]

    status, created = worker.request(
        "PUT",
        "/connectors/file-source/config",
        {
            "connector.class": "FileStreamSource",
            "tasks.max": "1",
            "file": str(source_file),
            "topic": unique_topic,
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        },
    )

    assert status == 201
    assert created["name"] == "file-source"
    wait_until(lambda: _connector_running(worker, "file-source"), what="the connector to run")
    messages = read_topic(bootstrap_servers, unique_topic, expected=len(lines))
    assert [m.value().decode() for m in messages] == lines

    # What Java wrote to its internal topics is readable with the dump helper.
    def last_committed_offset() -> dict[str, object] | None:
        records = dump_internal_topics(bootstrap_servers, [worker.offset_topic])
        offsets = records[worker.offset_topic]
        end = {"position": source_file.stat().st_size}
        return offsets[-1] if offsets and json.loads(str(offsets[-1]["value"])) == end else None

    offset = wait_until(last_committed_offset, what="the whole file's offset to be committed")
    assert json.loads(str(offset["key"])) == ["file-source", {"filename": str(source_file)}]
    configs = dump_internal_topics(bootstrap_servers, [worker.config_topic])[worker.config_topic]
    keys = [record["key"] for record in configs]
    assert {"connector-file-source", "task-file-source-0", "commit-file-source"} <= set(keys)
    described = describe_internal_topics(bootstrap_servers, [worker.config_topic])
    assert described[worker.config_topic]["configs"]["cleanup.policy"] == "compact"

    with pytest.raises(JavaConnectError) as missing:
        worker.request("GET", "/connectors/no-such-connector")
    assert missing.value.status == 404

    pid = worker.pid
    assert pid is not None
    worker.stop()
    assert not worker.is_running()
    assert worker.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert "Kafka Connect stopped" in worker.log_text()


def test_kill_ends_the_jvm_at_once(
    kafka_cluster: KafkaCluster, bootstrap_servers: str, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    worker = JavaConnectWorker(
        bootstrap_servers,
        tmp_path,
        f"kill-{suffix}",
        f"kill-configs-{suffix}",
        f"kill-offsets-{suffix}",
        f"kill-status-{suffix}",
    )
    worker.start()
    pid = worker.pid
    assert pid is not None
    assert worker.rest_url.startswith("http://127.0.0.1:")

    worker.kill()

    assert not worker.is_running()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    worker.stop()  # stopping a killed worker is a no-op
