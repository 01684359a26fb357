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
reading the config topic, and then reconciles (see ``abstract_herder``).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kconnect.api.errors import AlreadyExistsException, ConnectException, NotFoundException
from kconnect.plugins import PluginRegistry, worker_registry
from kconnect.rest import forwarding, server_tls
from kconnect.runtime.abstract_herder import AbstractHerder
from kconnect.runtime.distributed.assignor import (
    ConfigSnapshot,
    EagerAssignor,
    IncrementalCooperativeAssignor,
)
from kconnect.runtime.distributed.group_member import WorkerGroupMember
from kconnect.runtime.distributed.protocol import (
    ConnectAssignment,
    ConnectProtocolCompatibility,
    WorkerAllocation,
    WorkerMetadata,
)
from kconnect.runtime.distributed.session_keys import SessionKeys
from kconnect.runtime.herder import (
    BadRequestError,
    NotAssignedError,
    NotLeaderError,
    RebalanceInProgressError,
)
from kconnect.runtime.states import TargetState, TaskId
from kconnect.runtime.worker.active_topics import active_topics_of
from kconnect.runtime.worker_config import WorkerConfig
from kconnect.storage.config_backing_store import (
    ClusterConfigState,
    RestartRequest,
    SessionKeyRecord,
)
from kconnect.storage.plugins import create_stores
from kconnect.storage.status_backing_store import TopicStatus

log = logging.getLogger(__name__)

T = TypeVar("T")

#: how long the herder thread waits for requests between membership polls
_TICK_S = 0.1


def advertised_url(config: WorkerConfig) -> str:
    """The URL other workers reach this one at: ``rest.advertised.listener`` (else the first
    listener's scheme) and the worker id's host:port, so the URL and the id agree."""
    scheme = (config.get("rest.advertised.listener") or "").lower()
    if not scheme:
        listeners = config.get("listeners") or ["http://"]
        scheme = listeners[0].split("://", 1)[0].lower() or "http"
    return worker_url(scheme, config.worker_id)


def worker_url(scheme: str, worker_id: str) -> str:
    """The REST URL of the worker ``worker_id`` (its advertised host:port)."""
    host, _, port = worker_id.rpartition(":")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}/"


class DistributedHerder(AbstractHerder):
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

    # -- group membership (kafka-python's I/O thread for _assign; herder thread otherwise) ------
    def _metadata(self, protocol: ConnectProtocolCompatibility) -> WorkerMetadata:
        allocation = WorkerAllocation(
            sorted(self._connectors), sorted(self._tasks, key=lambda t: (t.connector, t.task))
        )
        return WorkerMetadata(self.url, self.snapshot().offset, allocation)

    def _assign(
        self,
        leader_id: str,
        leader_url: str,
        protocol: ConnectProtocolCompatibility,
        members: dict[str, WorkerMetadata],
    ) -> dict[str, ConnectAssignment]:
        snapshot = self.snapshot()
        config = ConfigSnapshot(
            offset=snapshot.offset,
            tasks={name: len(snapshot.tasks(name)) for name in snapshot.connectors()},
        )
        if protocol is ConnectProtocolCompatibility.EAGER:
            return self.eager_assignor.assign(leader_id, self.url, members, config)
        return self.assignor.assign(leader_id, self.url, members, config)

    def _on_revoked(self, assignment: ConnectAssignment | None) -> None:
        """Everything stops: before an eager rejoin, or when the coordinator is unreachable
        (another worker may take the work over)."""
        self._connectors.clear()
        self._tasks.clear()
        if self._is_leader:
            self._is_leader = False
            self.config_store.relinquish_write_privileges()
        self._reconcile()

    def _on_assigned(
        self, assignment: ConnectAssignment, generation: int, protocol: ConnectProtocolCompatibility
    ) -> None:
        assert self.member is not None
        self._leader_id = assignment.leader
        self._leader_url = assignment.leader_url or None
        was_leader = self._is_leader
        self._is_leader = assignment.leader == self.member.member_id
        if self._is_leader and not was_leader:
            self.config_store.claim_write_privileges()
        elif was_leader and not self._is_leader:
            self.config_store.relinquish_write_privileges()
        self._protocol = protocol
        self.session_keys.protocol = protocol
        if assignment.failed:
            # The leader read further in the config topic than we did (or we than it): catch up,
            # then rejoin with our new offset.
            log.info(
                "Joined group at generation %d with config mismatch (leader at offset %d)",
                generation,
                assignment.config_offset,
            )
            self._read_config_to_end()
            if self.snapshot().offset < assignment.config_offset:
                self._leave_group_out_of_sync(assignment.config_offset)
                return
            self.member.request_rejoin()
            return
        if protocol is ConnectProtocolCompatibility.EAGER:
            self._connectors = set(assignment.connectors)
            self._tasks = set(assignment.tasks)
        else:
            self._connectors = (self._connectors - set(assignment.revoked_connectors)) | set(
                assignment.connectors
            )
            self._tasks = (self._tasks - set(assignment.revoked_tasks)) | set(assignment.tasks)
        self._generation = generation
        self.status.generation = generation
        self.worker.metrics.rebalance.completed_with(
            generation, self._leader_url or "", protocol.protocol_name
        )
        if self.snapshot().offset < assignment.config_offset:
            self._read_config_to_end()
            if self.snapshot().offset < assignment.config_offset:
                self._leave_group_out_of_sync(assignment.config_offset)
                return
        log.info(
            "Joined group at generation %d with protocol '%s' as %s with assignment: "
            "connectors %s, tasks %s; revoked connectors %s, tasks %s; delay %d ms",
            generation,
            protocol.protocol_name,
            "leader" if self._is_leader else "follower",
            sorted(assignment.connectors),
            [str(t) for t in assignment.tasks],
            sorted(assignment.revoked_connectors),
            [str(t) for t in assignment.revoked_tasks],
            assignment.delay_ms,
        )
        log.info("Starting connectors and tasks using config offset %d", self.snapshot().offset)
        self._layout_at_assignment = _layout(self.snapshot())
        self._reconcile()
        if assignment.revoked_connectors or assignment.revoked_tasks:
            # Revoked work is stopped: rejoin so the leader can hand it to its new owner.
            self.member.request_rejoin()
        if assignment.delay_ms > 0:
            self._rejoin_at = time.monotonic() + assignment.delay_ms / 1000
        if self._is_leader:
            self.session_keys.rotate_if_due()
        self._joined.set()

    def _leave_group_out_of_sync(self, group_offset: int) -> None:
        """This worker read its config topic to the end and is still behind the offset the group
        works at: its topic is not the group's (or is unreadable). Run nothing, leave the group
        for ``worker.unsync.backoff.ms`` so the others are not disturbed, then try again."""
        topic = self.config.get("config.storage.topic")
        log.error(
            "This worker read config topic '%s' to offset %d, but group '%s' works at config "
            "offset %d. Every worker of a group must use the same config.storage.topic (and "
            "offset.storage.topic, status.storage.topic): check this worker's properties. "
            "Leaving the group for %d ms (worker.unsync.backoff.ms).",
            topic,
            self.snapshot().offset,
            self.group_id,
            group_offset,
            self.unsync_backoff_ms,
        )
        self._on_revoked(None)
        self._joined.clear()
        if self.member is not None:
            self.member.stop()
            self.member = None
        self._rejoin_at = time.monotonic() + self.unsync_backoff_ms / 1000

    def _read_config_to_end(self) -> None:
        try:
            self.config_store.refresh(self.sync_timeout_s)
        except TimeoutError:
            log.warning(
                "Didn't reach end of config log quickly enough (worker.sync.timeout.ms=%d)",
                int(self.sync_timeout_s * 1000),
            )

    # -- assignment (abstract herder) ------------------------------------------------------------
    def _assigned_connectors(self, snapshot: ClusterConfigState) -> set[str]:
        return {name for name in self._connectors if snapshot.contains(name)}

    def _assigned_tasks(self, snapshot: ClusterConfigState) -> set[TaskId]:
        return {task for task in self._tasks if task.task < len(snapshot.tasks(task.connector))}

    def _config_changed(self) -> None:
        # Called on the config store's reader thread: only mark, the herder thread acts.
        self._config_dirty.set()
        if self.member is not None:
            self.member.wakeup()

    def _on_config_changed(self) -> None:
        snapshot = self.snapshot()
        if self._joined.is_set() and _layout(snapshot) != self._layout_at_assignment:
            # Connectors or tasks were added or removed: the leader must assign them.
            assert self.member is not None
            self.member.request_rejoin()
        self._reconcile()

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

    def set_cluster_logger_level(self, namespace: str, level: str) -> None:
        """Every worker running now sets the level when it reads the record back (this one
        too); any worker may write it, so nothing is forwarded to the leader."""
        self.config_store.put_logger_level(namespace, level)

    def on_logging_level_update(self, namespace: str, level: str) -> None:
        """Config store reader thread: a cluster-scope level was written after this worker
        started. Setting a level is thread-safe and quick, so it is applied right here."""
        from kconnect.runtime.loggers import LEVELS, LoggerLevels

        if level.upper() not in LEVELS:
            log.warning("Ignoring invalid level %s for logging namespace %s", level, namespace)
            return
        LoggerLevels().set_level(namespace, level.upper())

    def _publish_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        if self._is_leader:
            self.config_store.put_task_configs(name, configs)
            return
        leader_url = self._leader_url
        if not leader_url:
            log.warning("[%s] No leader known to send task configs to; retrying later", name)
            self._retry_reconfigure(name)
            return
        self._forwarder.submit(self._send_task_configs, leader_url, name, configs)

    def _send_task_configs(self, leader_url: str, name: str, configs: list[dict[str, str]]) -> None:
        """Forwarding thread: POST the task configs to the leader, signed with the session key."""
        try:
            forwarding.internal_request(
                leader_url,
                "POST",
                forwarding.connector_path(name, "tasks"),
                configs,
                self.session_keys.key_for_signing(),
                self.session_keys.signature_algorithm,
                self.request_timeout_s,
                ssl_context=self.rest_client_ssl_context,
            )
        except Exception as error:  # noqa: BLE001 - retried; the leader may be changing
            log.warning(
                "[%s] Failed to send task configs to the leader %s: %s", name, leader_url, error
            )
            self._retry_reconfigure(name)

    def _retry_reconfigure(self, name: str) -> None:
        timer = threading.Timer(1.0, lambda: self._submit(self._reconfigure_tasks, name))
        timer.daemon = True
        timer.start()

    # -- requests ------------------------------------------------------------------------------
    def _check_writable(self, leader_only: bool = True) -> None:
        """Herder thread: refuse a write during a rebalance, and on a follower when only the
        leader may write."""
        if self.member is None or not self._joined.is_set() or self.member.rebalancing():
            raise RebalanceInProgressError()
        if leader_only and not self._is_leader:
            raise NotLeaderError(
                "Request cannot be completed because this worker is not the leader of the cluster",
                self._leader_url,
            )

    def _write_and_wait(self, write: Callable[..., None], *args: Any) -> None:
        write(*args)
        self._read_config_to_end()
        self._on_config_changed()

    def _put_connector_config(
        self,
        name: str,
        config: dict[str, str],
        allow_replace: bool,
        initial_state: TargetState | None,
    ) -> tuple[bool, dict[str, Any]]:
        self._check_writable()
        exists = self.snapshot().contains(name)
        if exists and not allow_replace:
            raise AlreadyExistsException(f"Connector {name} already exists")
        if exists:
            self.auto_restart.forget(name)
            self._write_and_wait(self.config_store.put_connector_config, name, config, None)
        else:
            self._write_and_wait(
                self.config_store.put_connector_config,
                name,
                config,
                initial_state or TargetState.STARTED,
            )
        return not exists, self.connector_info(name)

    def delete_connector(self, name: str) -> None:
        self._require(name)
        self.call(self._delete_connector, name)

    def _delete_connector(self, name: str) -> None:
        self._check_writable()
        self._require(name)
        self._write_and_wait(self.config_store.remove_connector_config, name)
        self.status_store.remove_connector(name)
        self._active_topics.pop(name, None)
        log.info("[%s] Connector deleted", name)

    def pause_connector(self, name: str) -> None:
        self._require(name)
        self.call(self._put_target_state, name, TargetState.PAUSED)

    def resume_connector(self, name: str) -> None:
        self._require(name)
        self.call(self._put_target_state, name, TargetState.STARTED)

    def _put_target_state(self, name: str, target: TargetState) -> None:
        self._check_writable(leader_only=False)
        self._require(name)
        if (
            target is TargetState.STARTED
            and self.snapshot().target_state(name) is TargetState.STOPPED
        ):
            self._connector_attempts.pop(name, None)
        self._write_and_wait(self.config_store.put_target_state, name, target)

    def stop_connector(self, name: str) -> None:
        self._require(name)
        self.call(self._stop_connector, name)

    def _stop_connector(self, name: str) -> None:
        self._check_writable()
        self._require(name)
        # Kafka's order: the empty task set is committed first, then the target state.
        self.config_store.put_task_configs(name, [])
        self._write_and_wait(self.config_store.put_target_state, name, TargetState.STOPPED)

    def restart_connector(
        self, name: str, include_tasks: bool = False, only_failed: bool = False
    ) -> dict[str, Any]:
        self._require(name)
        return self.call(self._restart_connector, RestartRequest(name, include_tasks, only_failed))

    def _restart_connector(self, request: RestartRequest) -> dict[str, Any]:
        self._check_writable()
        self._require(request.connector)
        status = self.connector_status(request.connector)
        if self.snapshot().target_state(request.connector) is TargetState.STOPPED:
            return status
        restart_connector, tasks = self._restart_plan(request)
        if restart_connector:
            status["connector"]["state"] = "RESTARTING"
        for task in status["tasks"]:
            if task["id"] in tasks:
                task["state"] = "RESTARTING"
        # Every worker reads the request from the config topic and restarts what it runs.
        self._write_and_wait(self.config_store.put_restart_request, request)
        return status

    def restart_task(self, name: str, task: int) -> None:
        self._require(name)
        self.call(self._restart_task_request, name, task)

    def _restart_task_request(self, name: str, task: int) -> None:
        task_id = TaskId(name, task)
        # On the herder thread, so a reconfiguration cannot remove the task between the check
        # and the restart (Kafka's distributed herder's words).
        if not self._task_exists(self.snapshot(), name, task):
            raise NotFoundException(f"Unknown task: {task_id}")
        if task_id in self._assigned_tasks(self.snapshot()):
            self.auto_restart.reset(name, task)
            self._restart_task(name, task)
            return
        if self.member is None or self.member.rebalancing():
            raise RebalanceInProgressError()
        status = self.status_store.task(task_id)
        # The owner serves the scheme this worker does: a cluster's listeners share one.
        scheme = self.url.split("://", 1)[0]
        owner = worker_url(scheme, status.worker_id) if status is not None else None
        raise NotAssignedError(f"Task {task_id} is not assigned to this worker", owner)

    def alter_connector_offsets(self, name: str, entries: list[tuple[Any, Any]]) -> str:
        return self.call(self._modify_offsets_as_leader, name, entries)

    def reset_connector_offsets(self, name: str) -> str:
        return self.call(self._modify_offsets_as_leader, name, None)

    def _modify_offsets_as_leader(self, name: str, entries: list[tuple[Any, Any]] | None) -> str:
        self._check_writable()
        return self._modify_offsets(name, entries)

    # -- internal requests ---------------------------------------------------------------------
    def put_task_configs(
        self, name: str, configs: list[dict[str, str]], headers: Mapping[str, str], body: bytes
    ) -> None:
        """``POST /connectors/{c}/tasks`` from the worker running the connector."""
        self.session_keys.verify(headers, body)
        if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
            raise BadRequestError("Task configs must be a JSON array of objects")
        self.call(
            self._put_task_configs, name, [{str(k): str(v) for k, v in c.items()} for c in configs]
        )

    def _put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        self._check_writable()
        self._require(name)
        self._write_and_wait(self.config_store.put_task_configs, name, configs)

    # -- views ---------------------------------------------------------------------------------
    def leader_url(self) -> str | None:
        return self._leader_url

    def assignment(self) -> tuple[list[str], list[TaskId]]:
        """(connectors, tasks) the group assigned to this worker."""
        return sorted(self._connectors), sorted(self._tasks, key=lambda t: (t.connector, t.task))


def _layout(snapshot: ClusterConfigState) -> frozenset[Any]:
    """What the assignment depends on: which connectors and tasks exist."""
    return frozenset(
        [("c", name) for name in snapshot.connectors()]
        + [
            ("t", task.connector, task.task)
            for name in snapshot.connectors()
            for task in snapshot.tasks(name)
        ]
    )
