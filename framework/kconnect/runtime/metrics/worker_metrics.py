"""The worker's metrics: its own counters (start-ups, rebalances), where they are served, and
who else is told about them.

One :class:`WorkerMetrics` per Worker. Its ``registry`` is a prometheus-client registry holding
one collector (:mod:`kconnect.runtime.metrics.collector`) that reads the worker's connectors and
task runners when scraped: nothing is registered or removed per task, so a task's series exist
exactly as long as its runner does. The registry is served at ``GET /metrics`` on the REST
listeners and, with ``metrics.prometheus.port``, on a port of its own; metrics reporter plugins
(the ``kconnect_metrics_reporter_start``/``_stop`` hooks) get this object and read
``collect()`` on their own schedule.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric

from kconnect.api.errors import ConfigException
from kconnect.runtime.metrics import settings

log = logging.getLogger(__name__)


class StartupCounters:
    """Start-up attempts, successes and failures of connectors or of tasks on this worker."""

    __slots__ = ("attempts", "successes", "failures")

    def __init__(self) -> None:
        self.attempts = 0
        self.successes = 0
        self.failures = 0

    def attempted(self) -> None:
        self.attempts += 1

    def succeeded(self) -> None:
        self.successes += 1

    def failed(self) -> None:
        self.failures += 1


class RebalanceMetrics:
    """Kafka's connect-worker-rebalance-metrics, moved by the distributed herder."""

    def __init__(self) -> None:
        self.completed = 0
        self.epoch = -1
        self.leader = ""
        self.protocol = ""
        self._last_monotonic: float | None = None
        self.rebalancing = False
        self._started: float | None = None
        self.time_total_s = 0.0
        self.time_max_s = 0.0

    def started(self) -> None:
        """The worker is (re)joining the group."""
        if not self.rebalancing:
            self.rebalancing = True
            self._started = time.monotonic()

    def completed_with(self, epoch: int, leader: str, protocol: str) -> None:
        """An assignment arrived and was applied."""
        now = time.monotonic()
        self.completed += 1
        self.epoch = epoch
        self.leader = leader
        self.protocol = protocol
        self._last_monotonic = now
        if self._started is not None:
            took = now - self._started
            self.time_total_s += took
            self.time_max_s = max(self.time_max_s, took)
        self.rebalancing = False
        self._started = None

    def seconds_since_last(self) -> float | None:
        return None if self._last_monotonic is None else time.monotonic() - self._last_monotonic


class WorkerMetrics:
    """Everything metric about one worker; see the module docstring."""

    def __init__(self, worker: Any, worker_config: Mapping[str, Any]):
        from kconnect.runtime.metrics.collector import ConnectCollector

        self.worker = worker
        self.enabled = settings.metrics_enabled(worker_config)
        self.port = settings.own_port(worker_config)
        self.host = str(worker_config.get(settings.HOST_CONFIG) or settings.HOST_DEFAULT)
        if self.port is not None and not 0 <= self.port <= 65535:
            raise ConfigException(
                f"Invalid value {self.port} for configuration {settings.PORT_CONFIG}: "
                "Value must be a port number between 0 and 65535",
                name=settings.PORT_CONFIG,
            )
        self.connector_startups = StartupCounters()
        self.task_startups = StartupCounters()
        self.rebalance = RebalanceMetrics()
        self.collector = ConnectCollector(self)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        self._server: Any = None
        self._lock = threading.Lock()
        #: the port the own listener got (``metrics.prometheus.port=0`` picks a free one)
        self.bound_port: int | None = None

    @property
    def worker_id(self) -> str:
        return str(getattr(self.worker, "worker_id", ""))

    # -- reading -------------------------------------------------------------------------------
    def collect(self) -> Iterable[Metric]:
        """Every metric family as of now (prometheus-client's data model)."""
        return self.collector.collect()

    def exposition(self, accept_header: str = "") -> tuple[bytes, str]:
        """(the page, its content type): Prometheus' text format, or OpenMetrics when the
        scraper asks for it."""
        encoder, content_type = choose_encoder(accept_header or "")
        return encoder(self.registry), content_type

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Open the own listener (if configured) and tell the reporter plugins."""
        if not self.enabled:
            return
        if self.port is not None:
            from prometheus_client import start_http_server

            try:
                server, _thread = start_http_server(
                    self.port, addr=self.host, registry=self.registry
                )
            except OSError as error:
                raise ConfigException(
                    f"Cannot serve metrics on {self.host}:{self.port} "
                    f"({settings.PORT_CONFIG}): {error}",
                    name=settings.PORT_CONFIG,
                ) from error
            with self._lock:
                self._server = server
                self.bound_port = int(server.server_address[1])
            log.info("Serving metrics on http://%s:%d/metrics", self.host, self.bound_port)
        self._call_reporters("kconnect_metrics_reporter_start")

    def stop(self) -> None:
        if not self.enabled:
            return
        self._call_reporters("kconnect_metrics_reporter_stop")
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def _call_reporters(self, hook_name: str) -> None:
        from kconnect.plugins import hooks

        try:
            getattr(hooks().hook, hook_name)(metrics=self, worker_id=self.worker_id)
        except Exception:  # noqa: BLE001 - a broken reporter must not stop the worker
            log.exception("A %s hook failed", hook_name)
