"""A real Apache Kafka cluster (KRaft mode) on loopback, for tests, benchmarks and the quickstart."""

from __future__ import annotations

import base64
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from kconnect.testing import processes
from kconnect.testing.kafka_jars import KafkaSetupError, java_executable, kafka_libs
from kconnect.testing.processes import LOOPBACK as _HOST
from kconnect.testing.processes import PortTaken, free_port

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient

log = logging.getLogger(__name__)

_BIND_ERRORS = ("Address already in use", "BindException")
_START_ATTEMPTS = 3
_LOG4J2_PROPERTIES = """\
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
# Per-request and state-change chatter would drown what matters when a test fails.
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
"""


def new_cluster_id() -> str:
    """A KRaft cluster id: a random UUID as 22 characters of URL-safe base64, as Kafka wants."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")


def broker_properties(
    node_id: int,
    brokers: int,
    broker_ports: list[int],
    controller_ports: list[int],
    data_dir: Path,
    overrides: Mapping[str, Any] | None = None,
    ssl_ports: list[int] | None = None,
    ssl_listener: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The ``server.properties`` of one combined broker+controller node of a loopback cluster.

    With ``ssl_ports`` the node also has an ``SSL`` listener on its port there, configured by
    ``ssl_listener`` (Kafka's ``ssl.*`` broker keys, e.g. ``ssl.keystore.location``, applied as
    ``listener.name.ssl.*``); brokers keep talking to each other over PLAINTEXT."""
    # Internal topics can only be as replicated as there are brokers; with three, min ISR 2
    # keeps them writable while one broker is down (kill_broker/restart_broker tests).
    internal_rf = min(brokers, 3)
    internal_min_isr = max(1, internal_rf - 1)
    voters = ",".join(f"{i}@{_HOST}:{port}" for i, port in enumerate(controller_ports))
    props: dict[str, str] = {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{_HOST}:{broker_ports[node_id]},"
        f"CONTROLLER://{_HOST}:{controller_ports[node_id]}",
        "advertised.listeners": f"PLAINTEXT://{_HOST}:{broker_ports[node_id]}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "auto.create.topics.enable": "true",
        "delete.topic.enable": "true",
        "group.initial.rebalance.delay.ms": "0",
        "offsets.topic.replication.factor": str(internal_rf),
        "transaction.state.log.replication.factor": str(internal_rf),
        "transaction.state.log.min.isr": str(internal_min_isr),
        "share.coordinator.state.topic.replication.factor": str(internal_rf),
        "share.coordinator.state.topic.min.isr": str(internal_min_isr),
        # Fewer partitions than the production default of 50 make the first consumer group
        # and the first transaction of a test run appear in well under a second.
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.num.partitions": "5",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "log.retention.check.interval.ms": "60000",
    }
    if ssl_ports is not None:
        ssl_address = f"SSL://{_HOST}:{ssl_ports[node_id]}"
        props["listeners"] += "," + ssl_address
        props["advertised.listeners"] += "," + ssl_address
        props["listener.security.protocol.map"] += ",SSL:SSL"
        for key, value in (ssl_listener or {}).items():
            props[f"listener.name.ssl.{key}"] = str(value)
    for key, value in (overrides or {}).items():
        props[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return props


def _render_properties(props: Mapping[str, str]) -> str:
    # Our values never contain newlines; colons and equals signs inside values are legal there,
    # but backslashes (Windows paths) would be eaten, so escape them.
    return "".join(f"{k}={v.replace(chr(92), chr(92) * 2)}\n" for k, v in props.items())


class _Node:
    """One broker+controller JVM of a :class:`KafkaCluster`."""

    def __init__(self, node_id: int, directory: Path) -> None:
        self.node_id = node_id
        self.directory = directory
        self.config_file = directory / "server.properties"
        self.data_dir = directory / "data"
        self.log_file = directory / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def is_running(self) -> bool:
        return processes.is_running(self.process)

    def log_tail(self, lines: int = 40) -> str:
        return processes.file_tail(self.log_file, lines)


class KafkaCluster(processes.Service):
    """A throwaway Apache Kafka cluster in KRaft mode, listening only on 127.0.0.1.

    Each node is one JVM acting as both broker and controller, with its config, data and log
    in a temporary directory that :meth:`stop` removes. Use it as a context manager::

        with KafkaCluster(brokers=3) as cluster:
            cluster.create_topic("orders", partitions=3, replication_factor=3)
            producer = Producer({"bootstrap.servers": cluster.bootstrap_servers})

    ``broker_config`` entries are added to (and override) every node's ``server.properties``.
    ``ssl_listener`` (broker ``ssl.*`` keys, see :class:`kconnect.testing.tls.TlsFiles`) adds an
    SSL listener to every node, reached through :attr:`ssl_bootstrap_servers`; the PLAINTEXT
    listener stays for the brokers themselves and for :meth:`admin`.
    Jars come from :func:`kconnect.testing.kafka_jars.kafka_libs`.
    """

    def __init__(
        self,
        brokers: int = 1,
        broker_config: Mapping[str, Any] | None = None,
        *,
        start_timeout: float = 90.0,
        heap: str = "512m",
        ssl_listener: Mapping[str, Any] | None = None,
    ) -> None:
        if brokers < 1:
            raise ValueError(f"brokers must be at least 1, not {brokers}")
        self.brokers = brokers
        self.broker_config = dict(broker_config or {})
        self.ssl_listener = dict(ssl_listener) if ssl_listener is not None else None
        self.start_timeout = start_timeout
        self.heap = heap
        self._cluster_id = new_cluster_id()
        self._workdir: Path | None = None
        self._nodes: list[_Node] = []
        self._broker_ports: list[int] = []
        self._controller_ports: list[int] = []
        self._ssl_ports: list[int] = []
        self._admin: AdminClient | None = None
        self._java: str | None = None
        self._libs: Path | None = None
        self._lock = threading.RLock()

    # -- properties ---------------------------------------------------------------------

    @property
    def cluster_id(self) -> str:
        """The KRaft cluster id the nodes were formatted with."""
        return self._cluster_id

    @property
    def bootstrap_servers(self) -> str:
        """``"127.0.0.1:p1,127.0.0.1:p2,…"``, for ``bootstrap.servers``."""
        if not self._broker_ports:
            raise RuntimeError("the cluster has not been started")
        return ",".join(f"{_HOST}:{port}" for port in self._broker_ports)

    @property
    def ssl_bootstrap_servers(self) -> str:
        """``bootstrap.servers`` of the SSL listener (clients need ``security.protocol=SSL``)."""
        if not self._ssl_ports:
            raise RuntimeError("the cluster has no SSL listener, or has not been started")
        return ",".join(f"{_HOST}:{port}" for port in self._ssl_ports)

    @property
    def data_dir(self) -> Path | None:
        """The temporary directory holding every node's config, data and log (None if stopped)."""
        return self._workdir

    @property
    def pids(self) -> list[int]:
        """Process ids of the running node JVMs."""
        return [n.process.pid for n in self._nodes if n.process is not None and n.is_running()]

    def log_file(self, node: int) -> Path:
        """The combined stdout/stderr log of node ``node``."""
        return self._nodes[node].log_file

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> Self:
        """Format and start every node, then wait until all brokers serve metadata.

        Raises :class:`KafkaSetupError` (with the tail of the broker log) if the cluster is not
        up within ``start_timeout`` seconds.
        """
        with self._lock:
            if self._workdir is not None:
                return self
            # Fail fast, before any temp dir or process exists, if java or the jars are missing.
            self._java = java_executable()
            self._libs = kafka_libs()
            processes.stop_at_exit(self, KafkaCluster.stop)
            for attempt in range(1, _START_ATTEMPTS + 1):
                try:
                    self._start_once()
                    return self
                except PortTaken:
                    # Another process grabbed one of the ports we probed: try fresh ones.
                    self.stop()
                    if attempt == _START_ATTEMPTS:
                        raise KafkaSetupError(
                            "Kafka could not bind its loopback ports after "
                            f"{_START_ATTEMPTS} attempts"
                        ) from None
                except BaseException:
                    self.stop()
                    raise
        return self  # pragma: no cover - the loop always returns or raises

    def _start_once(self) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="kconnect-kafka-"))
        listeners = 2 if self.ssl_listener is None else 3
        ports = [free_port() for _ in range(listeners * self.brokers)]
        if len(set(ports)) != len(ports):
            raise PortTaken()
        self._broker_ports = ports[: self.brokers]
        self._controller_ports = ports[self.brokers : 2 * self.brokers]
        self._ssl_ports = ports[2 * self.brokers :]
        (self._workdir / "log4j2.properties").write_text(_LOG4J2_PROPERTIES)
        self._nodes = []
        for node_id in range(self.brokers):
            node = _Node(node_id, self._workdir / f"node-{node_id}")
            node.directory.mkdir()
            props = broker_properties(
                node_id,
                self.brokers,
                self._broker_ports,
                self._controller_ports,
                node.data_dir,
                self.broker_config,
                ssl_ports=self._ssl_ports if self.ssl_listener is not None else None,
                ssl_listener=self.ssl_listener,
            )
            node.config_file.write_text(_render_properties(props))
            self._nodes.append(node)
        self._format_storage()
        for node in self._nodes:
            self._launch(node)
        self._wait_until_ready(time.monotonic() + self.start_timeout)

    def _java_command(self, *args: str, heap: str) -> list[str]:
        assert self._java is not None and self._libs is not None
        return [
            self._java,
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={Path(str(self._workdir)) / 'log4j2.properties'}",
            "-cp",
            f"{self._libs}{os.sep}*",
            *args,
        ]

    def _format_storage(self) -> None:
        # Static voters (controller.quorum.voters) need neither --standalone nor
        # --initial-controllers; every node is formatted with the same cluster id.
        for node in self._nodes:
            cmd = self._java_command(
                # StorageTool is short-lived: C1 only and a small heap start it faster.
                "-XX:TieredStopAtLevel=1",
                "kafka.tools.StorageTool",
                "format",
                # One argument with "=": an id may start with "-", which argparse would take
                # for an option.
                f"--cluster-id={self._cluster_id}",
                "--config",
                str(node.config_file),
                heap="256m",
            )
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
            if result.returncode != 0:
                raise KafkaSetupError(
                    f"Kafka StorageTool could not format node {node.node_id} "
                    f"(exit {result.returncode}):\n{result.stdout}{result.stderr}"
                )

    def _launch(self, node: _Node) -> None:
        cmd = self._java_command("kafka.Kafka", str(node.config_file), heap=self.heap)
        node.process = processes.launch(cmd, log_file=node.log_file, cwd=node.directory)
        log.debug("started Kafka node %d, pid %d", node.node_id, node.process.pid)

    def _wait_until_ready(self, deadline: float, restarted: int | None = None) -> None:
        expected = self.brokers
        client = self.admin()
        if restarted is not None:
            # The cluster's metadata may still list a restarted broker that has not come back
            # (until its session times out), so ask the restarted broker itself.
            client = self._new_admin(f"{_HOST}:{self._broker_ports[restarted]}")

        def check_alive() -> None:
            for node in self._nodes:
                if node.process is not None and node.process.poll() is not None:
                    tail = node.log_tail()
                    if any(marker in tail for marker in _BIND_ERRORS):
                        raise PortTaken()
                    raise KafkaSetupError(
                        f"Kafka node {node.node_id} exited with code {node.process.returncode} "
                        f"while starting; last lines of {node.log_file}:\n{tail}"
                    )

        def probe() -> str | None:
            try:
                metadata = client.list_topics(timeout=2)
            except Exception as exc:  # noqa: BLE001 - KafkaException while the broker starts
                return str(exc)
            if len(metadata.brokers) >= expected:
                return None
            return f"{len(metadata.brokers)} of {expected} brokers registered"

        def timed_out(last_error: str) -> KafkaSetupError:
            tails = "\n".join(
                f"--- node {n.node_id} ({n.log_file}):\n{n.log_tail()}" for n in self._nodes
            )
            return KafkaSetupError(
                f"Kafka cluster did not come up within {self.start_timeout:.0f} s "
                f"({last_error}).\n{tails}"
            )

        processes.wait_until_ready(
            probe, deadline, check_alive=check_alive, timed_out=timed_out, interval=0.25
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every node (SIGTERM, then SIGKILL after ``timeout`` s) and delete all its files.

        Safe to call more than once; also runs at interpreter exit. The bound is short on
        purpose: the data is deleted anyway, and in a multi-node cluster the last controllers
        can spend many seconds waiting for a quorum that is shutting down around them.
        """
        with self._lock:
            self._admin = None
            # Signal all nodes first and wait afterwards: stopping one at a time would make the
            # last nodes wait on a controller quorum that has already gone.
            for node in self._nodes:
                processes.signal_group(node.process, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for node in self._nodes:
                processes.reap(node.process, deadline)
            self._nodes = []
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None
            self._broker_ports = []
            self._controller_ports = []
            self._ssl_ports = []

    # -- single brokers -----------------------------------------------------------------

    def kill_broker(self, node: int) -> None:
        """Kill node ``node`` with SIGKILL, as a crash would; its data stays for a restart."""
        with self._lock:
            processes.stop(self._nodes[node].process, signum=signal.SIGKILL)

    def stop_broker(self, node: int, timeout: float = 30.0) -> None:
        """Shut node ``node`` down cleanly (SIGTERM); its data stays for a restart."""
        with self._lock:
            processes.stop(self._nodes[node].process, timeout)

    def start_broker(self, node: int) -> None:
        """Start node ``node`` again (after stop_broker/kill_broker) on the same ports and data,
        and wait until every broker of the cluster is back."""
        with self._lock:
            self._launch(self._nodes[node])
            self._wait_until_ready(time.monotonic() + self.start_timeout, restarted=node)

    def restart_broker(self, node: int) -> None:
        """Stop node ``node`` if it runs, start it again on the same ports and data, and wait
        until every broker of the cluster is back."""
        with self._lock:
            self.stop_broker(node)
            self._launch(self._nodes[node])
            self._wait_until_ready(time.monotonic() + self.start_timeout, restarted=node)

    # -- admin helpers ------------------------------------------------------------------

    def admin(self) -> AdminClient:
        """A confluent-kafka ``AdminClient`` for this cluster (one per cluster, reused)."""
        with self._lock:
            if self._admin is None:
                self._admin = self._new_admin(self.bootstrap_servers)
            return self._admin

    @staticmethod
    def _new_admin(bootstrap_servers: str) -> AdminClient:
        from confluent_kafka.admin import AdminClient

        config: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            # librdkafka would otherwise print connection-refused noise to stderr while
            # the brokers are still starting.
            "logger": logging.getLogger("kconnect.testing.librdkafka"),
        }
        return AdminClient(config)

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        replication_factor: int = 1,
        config: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Create a topic and wait until every partition has a leader, so it is usable at once."""
        from confluent_kafka.admin import NewTopic

        topic = NewTopic(
            name,
            num_partitions=partitions,
            replication_factor=replication_factor,
            config=dict(config or {}),
        )
        futures = self.admin().create_topics([topic], operation_timeout=timeout)
        futures[name].result(timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:
            metadata = self.admin().list_topics(topic=name, timeout=timeout)
            found = metadata.topics.get(name)
            if (
                found is not None
                and found.error is None
                and len(found.partitions) == partitions
                and all(p.leader >= 0 for p in found.partitions.values())
            ):
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"topic {name!r} has no leader for every partition yet")
            time.sleep(0.1)

    def delete_topic(self, name: str, timeout: float = 30.0) -> None:
        """Delete a topic."""
        futures = self.admin().delete_topics([name], operation_timeout=timeout)
        futures[name].result(timeout=timeout)

    def __repr__(self) -> str:
        state = self.bootstrap_servers if self._broker_ports else "stopped"
        return f"KafkaCluster(brokers={self.brokers}, {state})"
