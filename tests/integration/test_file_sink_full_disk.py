"""FileStreamSink on a full disk, in a real worker process against the real broker: the task
fails with a message naming the file; once space is freed and the task restarted, the output
holds every record exactly once, with no cut-off line glued to a replayed one.

A full disk without root: RLIMIT_FSIZE set on the running worker's processes (``prlimit`` on
processes of the same user needs no privilege). Python ignores SIGXFSZ, so a write past the
limit is cut short and the next one fails with EFBIG, as writes on a full disk do (ENOSPC).
Raising the limit again is freeing the space."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pytest
import requests
from confluent_kafka import KafkaException, Producer
from kconnect.testing import committed_offset, wait_until
from kconnect.testing.standalone_worker import StandaloneWorker

pytestmark = pytest.mark.skipif(
    not hasattr(resource, "prlimit") or not os.path.isdir("/proc"), reason="needs Linux prlimit"
)

FIRST = 20_000  # flushed and committed before the disk fills: never cut
SECOND = 40_000  # runs into the limit
LIMIT = 1_000_003  # bytes; inside the second batch of lines, mid-line


def _value(i: int) -> str:
    return f"rec-{i:06d}-" + "z" * (i % 19)


def _produce(bootstrap: str, topic: str, start: int, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for i in range(start, start + count):
        producer.produce(topic, _value(i).encode())
        if i % 10_000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0


def _session_pids(leader: int) -> list[int]:
    """The worker's processes: the gunicorn arbiter and the worker that runs the tasks."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == leader:
                    pids.append(int(entry))
            except ProcessLookupError:
                pass
    return pids


def _set_file_size_limit(leader: int, soft: int) -> None:
    for pid in _session_pids(leader):
        _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))


def _committed(bootstrap: str, topic: str) -> int | None:
    try:
        return committed_offset(bootstrap, "connect-snk", topic)
    except KafkaException:  # the group's coordinator is still being set up
        return None


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().split("\n")[:-1]
    except FileNotFoundError:
        return []


def _task_state(worker: StandaloneWorker) -> dict:
    response = requests.get(f"{worker.rest_url}/connectors/snk/status", timeout=10)
    tasks = response.json().get("tasks", []) if response.status_code == 200 else []
    return tasks[0] if tasks else {}


def test_sink_file_after_a_full_disk_and_a_restart_has_every_record_once(
    tmp_path, kafka_cluster, unique_topic
):
    bootstrap = kafka_cluster.bootstrap_servers
    kafka_cluster.create_topic(unique_topic, partitions=1)
    output = tmp_path / "out.txt"
    props = {
        "bootstrap.servers": bootstrap,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": tmp_path / "connect.offsets",
        "offset.flush.interval.ms": 500,
    }
    with StandaloneWorker(tmp_path, props) as worker:
        worker.wait_for(
            lambda: _get(f"{worker.rest_url}/connectors") == [], timeout_s=60, what="REST"
        )
        assert worker.process is not None
        _set_file_size_limit(worker.process.pid, LIMIT)
        _produce(bootstrap, unique_topic, 0, FIRST)
        response = requests.post(
            f"{worker.rest_url}/connectors",
            json={
                "name": "snk",
                "config": {
                    "connector.class": "FileStreamSink",
                    "file": str(output),
                    "topics": unique_topic,
                },
            },
            timeout=30,
        )
        assert response.status_code == 201, response.text
        wait_until(
            lambda: _committed(bootstrap, unique_topic) == FIRST,
            what="the first records flushed and committed",
        )
        committed_size = output.stat().st_size

        _produce(bootstrap, unique_topic, FIRST, SECOND)
        failed = wait_until(
            lambda: _task_state(worker).get("state") == "FAILED" and _task_state(worker),
            what="the sink task to fail on the full disk",
        )
        assert f"Could not write to {output}: [Errno 27] File too large" in failed["trace"]
        # Rolled back to the last flush: complete lines only, the committed ones all kept.
        data = output.read_bytes()
        assert committed_size <= len(data) < LIMIT and data.endswith(b"\n")

        _set_file_size_limit(worker.process.pid, resource.RLIM_INFINITY)  # space freed
        restart = requests.post(f"{worker.rest_url}/connectors/snk/tasks/0/restart", timeout=30)
        assert restart.status_code == 204, restart.text
        total = FIRST + SECOND
        worker.wait_for(
            lambda: len(_lines(output)) >= total, timeout_s=120, what="every record in the file"
        )
        wait_until(
            lambda: _committed(bootstrap, unique_topic) == total,
            what="every record committed",
        )
        assert _task_state(worker).get("state") == "RUNNING"
    assert _lines(output) == [_value(i) for i in range(total)]


def _get(url: str) -> object:
    try:
        response = requests.get(url, timeout=2)
    except requests.ConnectionError:
        return None
    return response.json() if response.status_code == 200 else None
