"""Apache Kafka Connect's own distributed worker (Java), for tests and benchmarks beside kconnect.

It serves as the reference implementation: a test can run a Java worker and a kconnect
worker on the same broker, compare REST answers, or read what Java writes to its internal
topics (:func:`dump_internal_topics`) and check that kconnect writes the same bytes.

    with JavaConnectWorker(bootstrap_servers, tmp_path, "java-connect",
                           "jc-configs", "jc-offsets", "jc-status") as worker:
        worker.request("PUT", "/connectors/src/config", {...})

The jars (``connect-runtime`` and friends, with Jetty, Jersey, Jackson and log4j2) come from
Maven into ``$KCONNECT_CACHE/connect-<version>/libs`` exactly as the broker's do
(:func:`kconnect.testing.kafka_jars.maven_libs`), or from ``$KAFKA_HOME/libs``. Nothing of
Java lives in the repository.

A worker JVM never outlives the Python process that started it: it is stopped at interpreter
exit, and on Linux the kernel kills it when its parent dies (``PR_SET_PDEATHSIG``), as with
:class:`kconnect.testing.kafka_cluster.KafkaCluster`. The REST server listens on 127.0.0.1
only.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Self

from kconnect.testing import processes
from kconnect.testing.kafka_cluster import _render_properties
from kconnect.testing.kafka_jars import (
    LOG4J_ARTIFACTS,
    KafkaSetupError,
    java_executable,
    maven_libs,
)
from kconnect.testing.processes import LOOPBACK as _HOST
from kconnect.testing.processes import PortTaken

log = logging.getLogger(__name__)

#: The Apache Kafka Connect release the Java worker runs, unless ``KCONNECT_CONNECT_VERSION``
#: says otherwise. (4.4.0's ``connect-file`` jar is not served by the registry used here.)
CONNECT_VERSION = "4.3.1"
#: The main class of ``bin/connect-distributed.sh``.
MAIN_CLASS = "org.apache.kafka.connect.cli.ConnectDistributed"

_BIND_ERRORS = ("Address already in use", "BindException", "Failed to bind")
_START_ATTEMPTS = 3
_CONNECT_MODULES = ("connect-runtime", "connect-file", "connect-json", "connect-transforms")
_LOG4J2_PROPERTIES = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log_file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c:%L)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
# The clients' config dumps (hundreds of lines per client) drown what matters.
logger.clientconfig.name = org.apache.kafka.common.config.AbstractConfig
logger.clientconfig.level = WARN
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
"""


def connect_version() -> str:
    """The Apache Kafka Connect version the Java worker runs: ``KCONNECT_CONNECT_VERSION``
    or the pinned :data:`CONNECT_VERSION` (``KAFKA_HOME``'s own jars, when used, win)."""
    return os.environ.get("KCONNECT_CONNECT_VERSION") or CONNECT_VERSION


def connect_libs(version: str | None = None) -> Path:
    """Return a directory of jars that can run ``ConnectDistributed`` (``java -cp <dir>/*``).

    ``$KAFKA_HOME/libs`` when it holds ``connect-runtime``; otherwise Maven fetches
    ``connect-runtime``, ``connect-file``, ``connect-json``, ``connect-transforms`` and
    ``connect-api`` of ``version`` (with everything they need at run time, and log4j2 as the
    slf4j backend) once into the cache, under the same lock and completeness marker as the
    broker's jars.
    """
    home = os.environ.get("KAFKA_HOME")
    if home and any((Path(home) / "libs").glob("connect-runtime-*.jar")):
        return Path(home) / "libs"
    version = version or connect_version()
    artifacts = [
        ("org.apache.kafka", module, version) for module in (*_CONNECT_MODULES, "connect-api")
    ]
    return maven_libs(
        f"connect-{version}",
        [*artifacts, *LOG4J_ARTIFACTS],
        expect_glob="connect-runtime-*.jar",
        what=f"Apache Kafka Connect {version}",
    )


def worker_properties(
    bootstrap_servers: str,
    group_id: str,
    config_topic: str,
    offset_topic: str,
    status_topic: str,
    rest_port: int,
    extra_props: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The ``connect-distributed.properties`` of a loopback Java worker.

    JSON converters without schemas, internal topics with replication factor 1 (the test
    broker is usually alone), offsets flushed every second so tests need not wait long, and
    plugins found only through their service manifests (Kafka's own jars have them), which
    starts the worker seconds faster than scanning the classpath. ``extra_props`` override.
    """
    props: dict[str, str] = {
        "bootstrap.servers": bootstrap_servers,
        "group.id": group_id,
        "config.storage.topic": config_topic,
        "offset.storage.topic": offset_topic,
        "status.storage.topic": status_topic,
        "config.storage.replication.factor": "1",
        "offset.storage.replication.factor": "1",
        "status.storage.replication.factor": "1",
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "key.converter.schemas.enable": "false",
        "value.converter.schemas.enable": "false",
        "offset.flush.interval.ms": "1000",
        "listeners": f"http://{_HOST}:{rest_port}",
        "rest.advertised.host.name": _HOST,
        "rest.advertised.port": str(rest_port),
        "rest.advertised.listener": "http",
        "plugin.discovery": "service_load",
    }
    for key, value in (extra_props or {}).items():
        props[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return props


class JavaConnectError(RuntimeError):
    """A REST call to the Java worker answered with an error status."""

    def __init__(self, status: int, body: Any, method: str, path: str) -> None:
        super().__init__(f"{method} {path} -> HTTP {status}: {body}")
        self.status = status
        self.body = body


class JavaConnectWorker(processes.Service):
    """One Apache Kafka Connect distributed worker JVM, with its REST API on 127.0.0.1.

    ``work_dir`` receives ``connect-distributed.properties``, ``log4j2.properties``, the
    worker's log ``connect.log`` and its raw stdout/stderr ``connect.out``; it is not deleted.
    Workers that share ``group_id`` and the three topics form one Connect cluster.
    ``extra_classpath`` (jars or directories of jars) follows the worker's own jars on the
    classpath: plugins in ``org.apache.kafka.connect`` packages that Connect never isolates,
    such as ``connect-test-plugins``' VerifiableSourceConnector, load only from there.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        work_dir: Path | str,
        group_id: str,
        config_topic: str,
        offset_topic: str,
        status_topic: str,
        rest_port: int | None = None,
        extra_props: Mapping[str, Any] | None = None,
        *,
        heap: str = "512m",
        start_timeout: float = 120.0,
        stop_timeout: float = 30.0,
        extra_classpath: Iterable[Path | str] = (),
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.work_dir = Path(work_dir)
        self.group_id = group_id
        self.config_topic = config_topic
        self.offset_topic = offset_topic
        self.status_topic = status_topic
        self.extra_props = dict(extra_props or {})
        self.heap = heap
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.extra_classpath = [Path(entry) for entry in extra_classpath]
        self._requested_port = rest_port
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()

    # -- properties ---------------------------------------------------------------------

    @property
    def config_file(self) -> Path:
        """The worker's ``connect-distributed.properties``."""
        return self.work_dir / "connect-distributed.properties"

    @property
    def log_file(self) -> Path:
        """The worker's log4j2 log."""
        return self.work_dir / "connect.log"

    @property
    def stdout_file(self) -> Path:
        """The JVM's own stdout and stderr (crashes, ``-version`` noise, early errors)."""
        return self.work_dir / "connect.out"

    @property
    def rest_port(self) -> int:
        """The REST port of the running (or last started) worker."""
        if self._port is None:
            raise RuntimeError("the Java Connect worker has not been started")
        return self._port

    @property
    def rest_url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        return f"http://{_HOST}:{self.rest_port}"

    @property
    def pid(self) -> int | None:
        """The JVM's process id while it runs, else None."""
        return self._process.pid if self.is_running() else None  # type: ignore[union-attr]

    def is_running(self) -> bool:
        """Whether the JVM has been started and has not exited."""
        return processes.is_running(self._process)

    def log_text(self) -> str:
        """The worker's log so far, followed by anything the JVM printed itself."""
        parts = []
        for path in (self.log_file, self.stdout_file):
            with contextlib.suppress(OSError):
                text = path.read_text(errors="replace")
                if text:
                    parts.append(text)
        return "\n".join(parts)

    def _log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(no log)"

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> Self:
        """Start the JVM and wait until it is ready: ``GET /health`` answers 200 once the
        worker has joined its group and read the config topic.

        Raises :class:`KafkaSetupError` with the tail of the log if the worker exits or is not
        ready within ``start_timeout`` seconds. A no-op if it already runs.
        """
        with self._lock:
            if self.is_running():
                return self
            java = java_executable()  # fail fast, before any file or process exists
            libs = connect_libs()
            self.work_dir.mkdir(parents=True, exist_ok=True)
            processes.stop_at_exit(self, lambda worker: worker.stop(timeout=5))
            attempts = 1 if self._requested_port is not None else _START_ATTEMPTS
            for attempt in range(1, attempts + 1):
                self._port = self._requested_port or processes.free_port()
                try:
                    self._launch(java, libs)
                    self._wait_until_ready(time.monotonic() + self.start_timeout)
                    return self
                except PortTaken:
                    self.kill()
                    if attempt == attempts:
                        raise KafkaSetupError(
                            f"Java Connect could not bind REST port {self._port}:\n"
                            f"{self._log_tail()}"
                        ) from None
                except BaseException:
                    self.kill()
                    raise
        return self  # pragma: no cover - the loop always returns or raises

    def _java_command(self, java: str, libs: Path) -> list[str]:
        return [
            java,
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.work_dir / 'log4j2.properties'}",
            "-cp",
            os.pathsep.join(
                f"{entry}{os.sep}*" if entry.is_dir() else str(entry)
                for entry in (libs, *self.extra_classpath)
            ),
            MAIN_CLASS,
            str(self.config_file),
        ]

    def _launch(self, java: str, libs: Path) -> None:
        props = worker_properties(
            self.bootstrap_servers,
            self.group_id,
            self.config_topic,
            self.offset_topic,
            self.status_topic,
            self.rest_port,
            self.extra_props,
        )
        self.config_file.write_text(_render_properties(props))
        # log4j2 reads backslashes in a properties file as escapes, as Java does.
        log_path = str(self.log_file).replace("\\", "\\\\")
        (self.work_dir / "log4j2.properties").write_text(
            _LOG4J2_PROPERTIES.format(log_file=log_path)
        )
        self._process = processes.launch(
            self._java_command(java, libs), log_file=self.stdout_file, cwd=self.work_dir
        )
        log.debug("started Java Connect worker, pid %d, REST %s", self._process.pid, self.rest_url)

    def _wait_until_ready(self, deadline: float) -> None:
        # GET / answers as soon as Jetty runs, and GET /connectors reads a snapshot without
        # waiting for the herder; GET /health (KIP-1017, Kafka 3.9+) says 200 only once the
        # worker has joined its group and read the config topic.
        assert self._process is not None
        process = self._process
        root_answered = False

        def check_alive() -> None:
            if process.poll() is not None:
                tail = self._log_tail()
                if any(marker in tail for marker in _BIND_ERRORS):
                    raise PortTaken()
                raise KafkaSetupError(
                    f"Java Connect exited with code {process.returncode} while "
                    f"starting; last lines of its log ({self.work_dir}):\n{tail}"
                )

        def probe() -> str | None:
            nonlocal root_answered
            # Jetty answers 404 to everything until Jersey has registered the resources.
            path = "/health" if root_answered else "/"
            try:
                status, body = self.request("GET", path, timeout=2, expect=range(600))
            except OSError as exc:
                return f"GET {path}: {exc}"
            if not root_answered and status == 200:
                root_answered = True
                return probe()
            if root_answered and status in (200, 404):  # 404 now: a Connect before 3.9
                return None
            return f"GET {path}: {status} {body}"

        def timed_out(last_error: str) -> KafkaSetupError:
            return KafkaSetupError(
                f"Java Connect was not ready within {self.start_timeout:.0f} s "
                f"({last_error}); last lines of its log ({self.work_dir}):\n{self._log_tail()}"
            )

        processes.wait_until_ready(probe, deadline, check_alive=check_alive, timed_out=timed_out)

    def stop(self, timeout: float | None = None) -> None:
        """Shut the worker down cleanly (SIGTERM, as ``kill`` on connect-distributed.sh does),
        and SIGKILL it if it has not exited after ``timeout`` (default ``stop_timeout``) s.

        Safe to call more than once; also runs at interpreter exit.
        """
        with self._lock:
            processes.stop(self._process, self.stop_timeout if timeout is None else timeout)
            self._process = None

    def kill(self) -> None:
        """Kill the worker with SIGKILL, as a crash would: nothing is flushed or handed over."""
        with self._lock:
            processes.stop(self._process, signum=signal.SIGKILL)
            self._process = None

    # -- REST -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        timeout: float = 30.0,
        expect: Iterable[int] | None = None,
    ) -> tuple[int, Any]:
        """Call the worker's REST API; returns ``(status, decoded JSON body or None)``.

        ``body`` is sent as JSON. Raises :class:`JavaConnectError` for a status outside
        ``expect`` (by default any 4xx or 5xx), and ``OSError`` when nothing answers.
        """
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.rest_url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        decoded = None
        if raw:
            try:
                decoded = json.loads(raw)
            except ValueError:
                decoded = raw.decode(errors="replace")
        ok = status < 400 if expect is None else status in set(expect)
        if not ok:
            raise JavaConnectError(status, decoded, method, path)
        return status, decoded

    def __repr__(self) -> str:
        state = self.rest_url if self.is_running() else "stopped"
        return f"JavaConnectWorker(group_id={self.group_id!r}, {state})"


# -- internal topics ------------------------------------------------------------------------


def dump_internal_topics(
    bootstrap_servers: str, topics: Iterable[str], timeout: float = 30.0
) -> dict[str, list[dict[str, Any]]]:
    """Every record of each topic, from the beginning up to its current end, as plain data.

    Each record is ``{"partition", "offset", "key", "value", "headers"}`` in partition and
    offset order: ``key`` and ``value`` are UTF-8 text, or base64 text with ``"key_base64":
    true`` / ``"value_base64": true`` when they are not valid UTF-8; ``value`` is None for a
    tombstone (``key`` None for a null key); ``headers`` is a list of ``[name, value]`` pairs
    in the same encoding (``value_base64`` is not set for headers: they are text here).
    Reads with an unsubscribed consumer (``assign``) and commits nothing.
    """
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"kconnect-dump-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
            # See transactional writes (exactly-once source offsets) only once committed.
            "isolation.level": "read_committed",
            "logger": logging.getLogger("kconnect.testing.librdkafka"),
        }
    )
    result: dict[str, list[dict[str, Any]]] = {}
    try:
        for topic in topics:
            metadata = consumer.list_topics(topic, timeout=timeout).topics[topic]
            if metadata.error is not None:
                raise RuntimeError(f"cannot read topic {topic!r}: {metadata.error}")
            ends: dict[int, int] = {}
            for partition in sorted(metadata.partitions):
                _low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=timeout
                )
                if high > 0:
                    ends[partition] = high
            records: list[dict[str, Any]] = []
            if ends:
                consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
                deadline = time.monotonic() + timeout
                remaining = set(ends)
                while remaining:
                    if time.monotonic() >= deadline:
                        raise TimeoutError(f"reading {topic!r} did not reach its end in time")
                    for msg in consumer.consume(500, 0.5):
                        if msg.error() is not None:
                            continue
                        if msg.offset() < ends[msg.partition()]:
                            records.append(_record_as_data(msg))
                    # Control records of transactions take offsets without being delivered,
                    # so "done" means the position reached the end, not the last record seen.
                    for tp in consumer.position([TopicPartition(topic, p) for p in remaining]):
                        if tp.offset >= ends[tp.partition]:
                            remaining.discard(tp.partition)
                consumer.unassign()
            records.sort(key=lambda r: (r["partition"], r["offset"]))
            result[topic] = records
    finally:
        consumer.close()
    return result


def _record_as_data(msg: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"partition": msg.partition(), "offset": msg.offset()}
    for field, raw in (("key", msg.key()), ("value", msg.value())):
        text, is_base64 = _as_text(raw)
        record[field] = text
        if is_base64:
            record[f"{field}_base64"] = True
    record["headers"] = [[name, _as_text(value)[0]] for name, value in (msg.headers() or [])]
    return record


def _as_text(raw: bytes | None) -> tuple[str | None, bool]:
    if raw is None:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def describe_internal_topics(
    bootstrap_servers: str, topics: Iterable[str], timeout: float = 30.0
) -> dict[str, dict[str, Any]]:
    """How each topic was created: ``{"partitions", "replication_factor", "configs"}``, where
    ``configs`` holds only what was set on the topic itself (not broker or default values)."""
    from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource

    admin = AdminClient(
        {
            "bootstrap.servers": bootstrap_servers,
            "logger": logging.getLogger("kconnect.testing.librdkafka"),
        }
    )
    names = list(topics)
    described: dict[str, dict[str, Any]] = {}
    metadata = admin.list_topics(timeout=timeout)
    resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in names]
    futures = admin.describe_configs(resources, request_timeout=timeout)
    for resource, future in futures.items():
        name = resource.name
        partitions = metadata.topics[name].partitions
        configs = {
            entry.name: entry.value
            for entry in future.result(timeout=timeout).values()
            if entry.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
        }
        described[name] = {
            "partitions": len(partitions),
            "replication_factor": len(next(iter(partitions.values())).replicas),
            "configs": dict(sorted(configs.items())),
        }
    return {name: described[name] for name in names}
