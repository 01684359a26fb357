"""A real ``connect-standalone`` worker (gunicorn over HTTP on loopback) against the session's
Kafka broker, and small helpers to talk to it and read topics."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from confluent_kafka import Consumer

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2, what: str = ""
) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what or predicate}; last value {last!r}"
    )


class Worker:
    """One connect-standalone process and a requests session to its REST API."""

    def __init__(
        self,
        workdir: Path,
        bootstrap: str,
        extra: dict[str, str] | None = None,
        connector_files: list[Path] | None = None,
    ):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.properties = workdir / f"worker-{self.port}.properties"
        settings = {
            "bootstrap.servers": bootstrap,
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            "offset.storage.file.filename": str(workdir / "connect.offsets"),
            "config.storage.file.filename": str(workdir / "connect.configs"),
            "offset.flush.interval.ms": "500",
            "listeners": f"http://127.0.0.1:{self.port}",
            "rest.request.timeout.ms": "10000",
            "task.shutdown.graceful.timeout.ms": "5000",
            **(extra or {}),
        }
        self.properties.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        self.connector_files = connector_files or []
        self.session = requests.Session()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"worker-{self.port}.log"

    def start(self, timeout: float = 60.0) -> Worker:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        }
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "kconnect.cli",
                    "standalone",
                    str(self.properties),
                    *map(str, self.connector_files),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.workdir,
                start_new_session=True,
            )
        wait_for(self._healthy, timeout, what=f"worker health (log: {self.log})")
        return self

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(
                f"worker exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}"
            )
        try:
            return self.session.get(self.url + "/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            raise AssertionError(f"worker did not stop within {timeout}s") from None

    # -- REST ---------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.url + path, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def state(self, name: str) -> tuple[str, list[str]]:
        status = self.get(f"/connectors/{name}/status").json()
        return status["connector"]["state"], [t["state"] for t in status["tasks"]]

    def wait_state(
        self, name: str, connector: str, tasks: list[str] | None = None, timeout: float = 30
    ) -> None:
        def matches() -> bool:
            state, task_states = self.state(name)
            return state == connector and (tasks is None or task_states == tasks)

        wait_for(matches, timeout, what=f"{name} to be {connector} {tasks}")


@pytest.fixture
def worker_factory(tmp_path: Path, bootstrap_servers: str) -> Iterator[Callable[..., Worker]]:
    workers: list[Worker] = []

    def make(
        extra: dict[str, str] | None = None,
        connector_files: list[Path] | None = None,
        start: bool = True,
    ) -> Worker:
        worker = Worker(tmp_path, bootstrap_servers, extra, connector_files)
        workers.append(worker)
        return worker.start() if start else worker

    yield make
    for worker in workers:
        worker.stop()


@pytest.fixture
def worker(worker_factory: Callable[..., Worker]) -> Worker:
    return worker_factory()


class TopicReader:
    """Reads every value of a topic from the beginning, incrementally."""

    def __init__(self, bootstrap: str, topic: str):
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"reader-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        self.consumer.subscribe([topic])
        self.values: list[str] = []

    def poll(self, seconds: float = 1.0) -> list[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in self.consumer.consume(500, 0.2):
                if message.error() is None:
                    self.values.append(message.value().decode())
        return self.values

    def wait_count(self, count: int, timeout: float = 30.0) -> list[str]:
        wait_for(
            lambda: len(self.poll(0.3)) >= count,
            timeout,
            what=f"{count} records (have {len(self.values)})",
        )
        return self.values

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def topic_reader(bootstrap_servers: str) -> Iterator[Callable[[str], TopicReader]]:
    readers: list[TopicReader] = []

    def make(topic: str) -> TopicReader:
        reader = TopicReader(bootstrap_servers, topic)
        readers.append(reader)
        return reader

    yield make
    for reader in readers:
        reader.close()
