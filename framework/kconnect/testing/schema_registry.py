"""A real schema registry speaking Confluent's REST API, on loopback, for tests and benchmarks.

Confluent's Schema Registry cannot be fetched here; Apicurio Registry 2.4.2.Final can, as Maven
artifacts, and it serves Confluent's API under ``/apis/ccompat/v7``. The published jar is a
library, so a small Maven project shipped next to this module (``schema_registry_build/``)
packages it into a runnable Quarkus application. That build runs once (about a minute and
~220 MB of downloads on a fresh ``~/.m2``) into ``$KCONNECT_CACHE/schema-registry-<version>/``
(default ``~/.cache/kconnect``); later runs start the cached application in ~3 s, offline.

Invariants, as for :class:`~kconnect.testing.kafka_cluster.KafkaCluster`: it listens on
127.0.0.1 only, its data lives in a temporary directory removed by :meth:`stop`, and the JVM
dies with the Python process (its own process group, PDEATHSIG on Linux, atexit). Its storage
is an H2 database *file* in that directory, so :meth:`kill` followed by :meth:`start` brings
back the same subjects and schema ids on the same port: "the registry went away and came back".

Known differences from Confluent's registry: an unknown subject answers 404 with error_code
40402 (Confluent: 40401), and schema ids are global across subjects.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Self

from kconnect.testing import processes
from kconnect.testing.kafka_jars import (
    KafkaSetupError,
    _file_lock,
    _maven_executable,
    cache_dir,
    java_executable,
)
from kconnect.testing.processes import LOOPBACK as _HOST

log = logging.getLogger(__name__)

APICURIO_VERSION = "2.4.2.Final"
#: The path under which Apicurio serves Confluent's API; append it to the base URL.
CCOMPAT_PATH = "/apis/ccompat/v7"
_COMPLETE_MARKER = ".complete"
_BUILD_TIMEOUT_S = 1200
_RUNNER_JAR = "schema-registry-app-0-runner.jar"


class SchemaRegistrySetupError(KafkaSetupError):
    """The registry cannot be built or did not start; the message says what to do."""


def registry_is_built() -> bool:
    """Whether the runnable registry is already in the cache (starting it needs no build)."""
    return (
        cache_dir() / f"schema-registry-apicurio-{APICURIO_VERSION}" / _COMPLETE_MARKER
    ).exists()


def registry_app_dir() -> Path:
    """The directory holding the runnable registry (a Quarkus runner jar and its ``lib/``).

    Builds it with Maven on first use; safe when several processes ask at once (they serialize
    on a lock file, and the result is renamed into place only when complete).
    """
    name = f"schema-registry-apicurio-{APICURIO_VERSION}"
    target = cache_dir() / name
    app = target / "app"
    if (target / _COMPLETE_MARKER).exists():
        return app
    mvn = _maven_executable()
    cache_dir().mkdir(parents=True, exist_ok=True)
    with _file_lock(cache_dir() / f"{name}.lock"):
        if (target / _COMPLETE_MARKER).exists():
            return app
        staging = Path(tempfile.mkdtemp(prefix=f"{name}.", dir=cache_dir()))
        try:
            project = staging / "build"
            _copy_build_project(project)
            _run_maven(mvn, project)
            # Quarkus' legacy-jar layout (the app jar's own packaging setting): a runner jar
            # whose manifest names its dependencies under lib/.
            built = project / "app" / "target"
            (staging / "app").mkdir()
            shutil.move(str(built / "lib"), staging / "app" / "lib")
            shutil.move(str(built / _RUNNER_JAR), staging / "app" / _RUNNER_JAR)
            shutil.rmtree(project)
            (staging / _COMPLETE_MARKER).write_text(f"apicurio-registry {APICURIO_VERSION}\n")
            if target.exists():  # a leftover of an interrupted build
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return app


def _copy_build_project(destination: Path) -> None:
    source = resources.files("kconnect.testing").joinpath("schema_registry_build")
    with resources.as_file(source) as path:
        # Leftovers of a build run inside the source tree must not leak into the copy.
        shutil.copytree(path, destination, ignore=shutil.ignore_patterns("target"))


def _run_maven(mvn: str, project: Path) -> None:
    cmd = [mvn, "-q", "-B", "package", "-DskipTests"]
    try:
        result = subprocess.run(
            cmd, cwd=project, capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise SchemaRegistrySetupError(
            f"Maven did not build the schema registry within {_BUILD_TIMEOUT_S} s."
        ) from exc
    if result.returncode != 0 or not (project / "app" / "target" / _RUNNER_JAR).exists():
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        raise SchemaRegistrySetupError(
            f"Maven could not build Apicurio Registry {APICURIO_VERSION} (exit "
            f"{result.returncode}). Check that Maven can reach its repository (proxy/mirror "
            f"settings in ~/.m2/settings.xml).\n{tail}"
        )


class SchemaRegistry(processes.Service):
    """A throwaway schema registry (Apicurio Registry, Confluent-compatible API) on 127.0.0.1.

    Use it as a context manager::

        with SchemaRegistry() as registry:
            client = SchemaRegistryClient({"url": registry.url})

    :attr:`url` already ends with :data:`CCOMPAT_PATH`, ready for ``schema.registry.url``.
    """

    def __init__(self, *, start_timeout: float = 120.0, heap: str = "256m") -> None:
        self.start_timeout = start_timeout
        self.heap = heap
        self._port: int | None = None
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/apis/ccompat/v7``: the value for ``schema.registry.url``."""
        if self._port is None:
            raise RuntimeError("the schema registry has not been started")
        return f"http://{_HOST}:{self._port}{CCOMPAT_PATH}"

    @property
    def pid(self) -> int | None:
        """The process id of the running registry JVM, or None."""
        return self._process.pid if self.is_running() else None  # type: ignore[union-attr]

    @property
    def log_file(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("the schema registry has not been started")
        return self._workdir / "registry.log"

    def is_running(self) -> bool:
        return processes.is_running(self._process)

    def start(self) -> Self:
        """Start the registry (again, after :meth:`kill`, on the same port and data) and wait
        until it answers. Raises :class:`SchemaRegistrySetupError` with its log's tail."""
        with self._lock:
            if self.is_running():
                return self
            java = java_executable()
            app = registry_app_dir()
            processes.stop_at_exit(self, SchemaRegistry.stop)
            if self._workdir is None:
                self._workdir = Path(tempfile.mkdtemp(prefix="kconnect-registry-"))
                self._port = processes.free_port()
            try:
                self._launch(java, app)
                self._wait_until_ready(time.monotonic() + self.start_timeout)
            except BaseException:
                self.stop()
                raise
            return self

    def _launch(self, java: str, app: Path) -> None:
        assert self._workdir is not None and self._port is not None
        database = self._workdir / "registry"
        cmd = [
            java,
            f"-Xmx{self.heap}",
            "-XX:+UseSerialGC",
            # C1 only: the registry answers a few requests per test, and starts faster this way.
            "-XX:TieredStopAtLevel=1",
            "-XX:+ExitOnOutOfMemoryError",
            f"-Dquarkus.http.host={_HOST}",
            f"-Dquarkus.http.port={self._port}",
            # A file, so that a killed and restarted registry still has its schemas and ids.
            f"-Dquarkus.datasource.jdbc.url=jdbc:h2:file:{database};DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0",
            "-Dquarkus.datasource.jdbc.min-size=1",
            "-Dquarkus.datasource.jdbc.initial-size=1",
            "-Dquarkus.datasource.jdbc.max-size=8",
            "-Dquarkus.log.console.format=%d{HH:mm:ss} %p [%c{2.}] %m%n",
            "-jar",
            str(app / _RUNNER_JAR),
        ]
        self._process = processes.launch(
            cmd, log_file=self._workdir / "registry.log", cwd=self._workdir
        )
        log.debug("started schema registry, pid %d, port %d", self._process.pid, self._port)

    def _wait_until_ready(self, deadline: float) -> None:
        subjects = f"{self.url}/subjects"

        def check_alive() -> None:
            if self._process is not None and self._process.poll() is not None:
                raise SchemaRegistrySetupError(
                    f"The schema registry exited with code {self._process.returncode} while "
                    f"starting; last lines of {self.log_file}:\n{self._log_tail()}"
                )

        def probe() -> str | None:
            try:
                with urllib.request.urlopen(subjects, timeout=2) as response:
                    return None if response.status == 200 else f"HTTP {response.status}"
            except (OSError, urllib.error.URLError) as exc:
                return str(exc)

        def timed_out(last_error: str) -> SchemaRegistrySetupError:
            return SchemaRegistrySetupError(
                f"The schema registry did not answer within {self.start_timeout:.0f} s "
                f"({last_error}); last lines of {self.log_file}:\n{self._log_tail()}"
            )

        processes.wait_until_ready(probe, deadline, check_alive=check_alive, timed_out=timed_out)

    def _log_tail(self, lines: int = 40) -> str:
        if self._workdir is None:
            return "(no log)"
        return processes.file_tail(self.log_file, lines)

    def kill(self) -> None:
        """Kill the registry with SIGKILL, as a crash would; :meth:`start` brings it back with
        the same port and data."""
        with self._lock:
            processes.stop(self._process, signum=signal.SIGKILL)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the registry (SIGTERM, then SIGKILL) and delete its data. Safe to repeat."""
        with self._lock:
            processes.stop(self._process, timeout)
            self._process = None
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None
            self._port = None

    def __repr__(self) -> str:
        return f"SchemaRegistry({self.url if self._port else 'stopped'})"


def main(argv: list[str] | None = None) -> int:
    """``python3 -m kconnect.testing.schema_registry --build``: build the registry into the cache
    now (CI does this before pytest, so no test waits for Maven)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python3 -m kconnect.testing.schema_registry")
    parser.add_argument(
        "--build", action="store_true", help="build the registry into the cache if missing"
    )
    args = parser.parse_args(argv)
    if not args.build:
        parser.print_help()
        return 2
    try:
        app = registry_app_dir()
    except KafkaSetupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
