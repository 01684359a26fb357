"""The distributed herder: one worker of a Connect cluster.

Workers with the same ``group.id`` share the cluster's connectors and tasks. Kafka's group
coordinator decides who is in the group and who leads; the leader computes the assignment
(incremental cooperative by default); the config, offset and status topics hold the state.

Threading: everything that starts or stops work runs on this herder's own thread, in ``_tick``.
kafka-python's I/O thread only computes the leader's assignment (from an immutable config
snapshot) and the config store's reader thread only marks the config as changed; REST handler
threads submit requests to the herder thread and wait on futures with a timeout.

Who writes what, as in Kafka: connector configs, task configs, restarts, offsets and session keys
are written by the leader only (other workers answer ``NotLeaderError`` and REST forwards the
request); pause and resume by any worker. A worker learns of every change, its own included, by
reading the config topic, and then reconciles (see ``reconciliation``).

The herder is built in layers, one concern each: ``rebalance`` (the group's assignment,
applied), ``cluster_requests`` (the REST-facing writes and where they may run), and this
module (the herder thread: start, the tick loop, stop).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kconnect.api.errors import ConnectException
from kconnect.plugins import PluginRegistry, worker_registry
from kconnect.rest import server_tls
from kconnect.runtime.distributed.assignor import EagerAssignor, IncrementalCooperativeAssignor
from kconnect.runtime.distributed.cluster_requests import ClusterRequestsHerder, advertised_url
from kconnect.runtime.distributed.group_member import WorkerGroupMember
from kconnect.runtime.distributed.protocol import ConnectProtocolCompatibility
from kconnect.runtime.distributed.session_keys import SessionKeys
from kconnect.runtime.states import TaskId
from kconnect.runtime.worker.active_topics import active_topics_of
from kconnect.runtime.worker_config import WorkerConfig
from kconnect.storage.config_backing_store import SessionKeyRecord
from kconnect.storage.plugins import create_stores
from kconnect.storage.status_backing_store import TopicStatus

log = logging.getLogger(__name__)

T = TypeVar("T")

#: how long the herder thread waits for requests between membership polls
_TICK_S = 0.1


class DistributedHerder(ClusterRequestsHerder):
    """A worker in a Connect cluster."""

    def __init__(self, config: WorkerConfig, registry: PluginRegistry | None = None):
        registry = worker_registry(config, registry)
        self.url = advertised_url(config)
        # As Kafka's RestClient: other workers are called with this worker's own https listener
        # keystore and truststore (they may require a client certificate). Built once, here, so
        # a store that cannot be read stops the worker at start.
        self.rest_client_ssl_context = (
            server_tls.client_ssl_context(config.originals())
            if self.url.startswith("https:")
            else None
        )
        offset_store, config_store, status_store = create_stores(registry, config, distributed=True)
        self.member: WorkerGroupMember | None = None
        self._requests: queue.Queue[
            tuple[Callable[..., Any], tuple[Any, ...], concurrent.futures.Future[Any]]
        ] = queue.Queue()
        super().__init__(
            config,
            registry,
            config.worker_id,
            offset_store,
            config_store,
            status_store,
            safe_status_writes=True,
        )
        self.config_store.set_update_listener(self)
        self.group_id = str(config.get("group.id"))
        self.protocol_setting = ConnectProtocolCompatibility.from_config(
            str(config.get("connect.protocol"))
        )
        self.sync_timeout_s = int(config.get("worker.sync.timeout.ms")) / 1000
        self.unsync_backoff_ms = int(config.get("worker.unsync.backoff.ms"))
        #: called when the herder thread dies; the worker process cannot go on without it
        self.on_fatal_error: Callable[[], None] = lambda: os._exit(1)
        self.session_keys = SessionKeys(config, self.snapshot, self.config_store.put_session_key)
        self.assignor = IncrementalCooperativeAssignor(
            int(config.get("scheduled.rebalance.max.delay.ms"))
        )
        self.eager_assignor = EagerAssignor()
        # What the group assigned to this worker (the full set, after applying revocations).
        self._connectors: set[str] = set()
        self._tasks: set[TaskId] = set()
        self._generation = -1
        self._protocol: ConnectProtocolCompatibility | None = None
        self._leader_id: str | None = None
        self._leader_url: str | None = None
        self._is_leader = False
        self._joined = threading.Event()
        self._config_dirty = threading.Event()
        self._layout_at_assignment: frozenset[Any] | None = None
        self._rejoin_at: float | None = None
        self._next_topic_report = 0.0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._startup: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._forwarder = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="herder-forward"
        )

    # -- the herder thread ---------------------------------------------------------------------
    def _submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._requests.put((fn, args, future))
        if self.member is not None:
            self.member.wakeup()
        return future

    def start(self) -> None:
        """Start the stores and join the group; returns once this worker has its first
        assignment (bounded by ``rebalance.timeout.ms`` plus start-up time)."""
        self._thread = threading.Thread(target=self._run, name="DistributedHerder", daemon=True)
        self._thread.start()
        self._startup.result()
        timeout_s = int(self.config.get("rebalance.timeout.ms")) / 1000 + 30
        if not self._joined.wait(timeout_s):
            log.warning("Not assigned any work yet after %.0f s; still trying", timeout_s)
        log.info("Herder started (worker %s, group %s)", self.url, self.group_id)

    def _run(self) -> None:
        try:
            self.worker.start()
            self.config_store.start()
            self.status_store.start()
            self.member = self._new_member()
        except BaseException as error:  # noqa: BLE001 - reported to start()'s caller
            self._startup.set_exception(error)
            return
        self._startup.set_result(None)
        try:
            while not self._stopping.is_set():
                self._tick()
        except Exception:  # noqa: BLE001 - a herder that dies must say so loudly
            log.exception("Uncaught exception in herder work thread, exiting")
            self._halt()
            # As Kafka's worker exits: a worker without its herder would only time out requests.
            self.on_fatal_error()
            return
        self._halt()

    def _new_member(self) -> WorkerGroupMember:
        return WorkerGroupMember(
            client_config=self.config.originals(),
            group_id=self.group_id,
            session_timeout_ms=int(self.config.get("session.timeout.ms")),
            heartbeat_interval_ms=int(self.config.get("heartbeat.interval.ms")),
            rebalance_timeout_ms=int(self.config.get("rebalance.timeout.ms")),
            protocols=self._offered_protocols(),
            metadata=self._metadata,
            assign=self._assign,
            on_assigned=self._on_assigned,
            on_revoked=self._on_revoked,
        )

    def _offered_protocols(self) -> list[ConnectProtocolCompatibility]:
        if self.protocol_setting is ConnectProtocolCompatibility.SESSIONED:
            return [
                ConnectProtocolCompatibility.SESSIONED,
                ConnectProtocolCompatibility.COMPATIBLE,
                ConnectProtocolCompatibility.EAGER,
            ]
        if self.protocol_setting is ConnectProtocolCompatibility.COMPATIBLE:
            return [ConnectProtocolCompatibility.COMPATIBLE, ConnectProtocolCompatibility.EAGER]
        return [ConnectProtocolCompatibility.EAGER]

    def _tick(self) -> None:
        if self.member is None:
            # Out of the group after failing to sync with it (see _leave_group_out_of_sync).
            if self._stopping.wait(0.2) or time.monotonic() < (self._rejoin_at or 0):
                return
            log.info("Rejoining group %s after the unsync backoff", self.group_id)
            self._rejoin_at = None
            self.member = self._new_member()
        if self._rejoin_at is not None and time.monotonic() >= self._rejoin_at:
            self._rejoin_at = None
            self.member.request_rejoin()
        # Joins, heartbeats; on_assigned / on_revoked run here, on this thread. A request or a
        # config change wakes the poll up.
        self.member.poll(int(_TICK_S * 1000))
        if self.member is not None and self.member.rebalancing():
            self.worker.metrics.rebalance.started()
        if self._config_dirty.is_set():
            self._config_dirty.clear()
            self._on_config_changed()
        if self._is_leader and self._joined.is_set():
            self.session_keys.rotate_if_due()
        if time.monotonic() >= self._next_topic_report:
            self._next_topic_report = time.monotonic() + 1.0
            self._report_active_topics()
        while not self._stopping.is_set():
            try:
                fn, args, future = self._requests.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as error:  # noqa: BLE001 - handed to the caller
                    future.set_exception(error)

    def stop(self) -> None:
        log.info("Herder stopping")
        self.auto_restart.close()
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(
                timeout=int(self.config.get("task.shutdown.graceful.timeout.ms")) / 1000 + 30
            )
        self._forwarder.shutdown(wait=False)
        log.info("Herder stopped")

    def _halt(self) -> None:
        """Herder thread: stop all work, leave the group, close the stores."""
        try:
            self.worker.stop()
        except Exception:  # noqa: BLE001
            log.exception("Error stopping the worker")
        if self.member is not None:
            try:
                self.member.stop()
            except Exception:  # noqa: BLE001
                log.exception("Error leaving the group")
        for store in (self.status_store, self.config_store):
            try:
                store.stop()
            except Exception:  # noqa: BLE001
                log.exception("Error stopping %s", type(store).__name__)
        while True:  # fail what is still queued
            try:
                _, _, future = self._requests.get_nowait()
            except queue.Empty:
                break
            if future.set_running_or_notify_cancel():
                future.set_exception(ConnectException("Worker is shutting down"))

    @property
    def ready(self) -> bool:
        return self._joined.is_set()

    def _report_active_topics(self) -> None:
        """Write the topics this worker's tasks use and the status topic does not list yet, as
        Kafka's workers do, so ``GET /connectors/{c}/topics`` on any worker lists them."""
        now_ms = int(time.time() * 1000)
        known: dict[str, set[str]] = {}
        for task in self.worker.running_tasks():
            runner = self.worker.task_runner(task)
            if runner is None:
                continue
            if task.connector not in known:
                known[task.connector] = {t.topic for t in self.status_store.topics(task.connector)}
            for topic in active_topics_of(runner) - known[task.connector]:
                known[task.connector].add(topic)
                self.status_store.put_topic(TopicStatus(topic, task.connector, task.task, now_ms))

    def on_session_key_update(self, key: SessionKeyRecord) -> None:
        self.session_keys.on_update(key)

    def on_logging_level_update(self, namespace: str, level: str) -> None:
        """Config store reader thread: a cluster-scope level was written after this worker
        started. Setting a level is thread-safe and quick, so it is applied right here."""
        from kconnect.runtime.loggers import LEVELS, LoggerLevels

        if level.upper() not in LEVELS:
            log.warning("Ignoring invalid level %s for logging namespace %s", level, namespace)
            return
        LoggerLevels().set_level(namespace, level.upper())

    # -- views ---------------------------------------------------------------------------------
    def leader_url(self) -> str | None:
        return self._leader_url

    def assignment(self) -> tuple[list[str], list[TaskId]]:
        """(connectors, tasks) the group assigned to this worker."""
        return sorted(self._connectors), sorted(self._tasks, key=lambda t: (t.connector, t.task))
