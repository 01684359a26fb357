"""Worker processes for end-to-end tests: ``connect-standalone`` (:class:`StandaloneWorker`)
and, in ``distributed_worker``, ``connect-distributed``.

    with StandaloneWorker(tmp_path, {"bootstrap.servers": servers, ...}, [source, sink]) as worker:
        worker.wait_for(lambda: output.exists())

The worker runs in its own process group so that tests can kill it like a crash (SIGKILL) or
stop it like an operator (SIGTERM).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_properties(path: Path, props: Mapping[str, Any]) -> Path:
    """Write a Java properties file (values are plain ASCII/UTF-8 here; no escaping needed)."""
    path.write_text("".join(f"{k}={v}\n" for k, v in props.items()), encoding="utf-8")
    return path


class WorkerProcess:
    """Runs ``kconnect <mode> worker.properties [c1.properties …]`` as a child process."""

    mode = "standalone"

    def __init__(
        self,
        workdir: Path,
        worker_props: Mapping[str, Any] | Path,
        connectors: Sequence[Mapping[str, Any] | Path] = (),
        rest_port: int | None = None,
        name: str = "worker",
    ):
        self.workdir = Path(workdir)
        self.rest_port = rest_port or free_port()
        if isinstance(worker_props, Path):
            self.worker_file = worker_props  # used as it is (e.g. Kafka's own sample file)
        else:
            props = {"listeners": f"http://127.0.0.1:{self.rest_port}", **worker_props}
            self.worker_file = write_properties(self.workdir / f"{name}.properties", props)
        self.connector_files: list[Path] = []
        for i, connector in enumerate(connectors):
            if isinstance(connector, Path):
                self.connector_files.append(connector)
            else:
                self.connector_files.append(
                    write_properties(self.workdir / f"{name}-connector-{i}.properties", connector)
                )
        self.log_path = self.workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    def start(self) -> Self:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kconnect.cli",
                self.mode,
                str(self.worker_file),
                *map(str, self.connector_files),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the worker's whole process group."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """Crash the worker: SIGKILL, nothing gets to clean up."""
        self.signal(signal.SIGKILL)
        self.wait(30)

    def stop(self, timeout_s: float = 60) -> int | None:
        """Stop it as an operator would (SIGTERM) and wait; SIGKILL after ``timeout_s``."""
        if self.process is None:
            return None
        self.signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            return self.process.wait(30)

    def wait(self, timeout_s: float) -> int | None:
        assert self.process is not None
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for(
        self, condition: Callable[[], bool], timeout_s: float = 120, what: str = "condition"
    ) -> None:
        """Poll ``condition`` until true; fail with the worker's log tail when time runs out or
        the worker dies."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            if self.returncode is not None:
                raise AssertionError(
                    f"worker exited with {self.returncode} while waiting for {what}:\n"
                    + self.log_text()[-5000:]
                )
            time.sleep(0.2)
        raise AssertionError(
            f"timed out after {timeout_s}s waiting for {what}:\n" + self.log_text()[-5000:]
        )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class StandaloneWorker(WorkerProcess):
    """Runs ``kconnect standalone worker.properties c1.properties …`` as a child process."""

    mode = "standalone"
