"""The distributed herder's writes: which worker may write what, and how the rest get there.

As in Kafka: connector configs, task configs, restarts and offsets are written by the leader
only; any other worker answers ``NotLeaderError`` naming the leader, and REST forwards the
request there. Pause, resume and cluster logger levels may be written by any worker. No
connector write is taken while the group rebalances (``RebalanceInProgressError``, 409). Each
returns once this worker has read it back from the config topic and reconciled, so a following
read on this worker sees it. Task configs a follower's connector generates are sent to the
leader over REST, signed with the session key, and retried until a leader takes them.

Methods without a leading underscore are called on REST threads; the writes they hand to the
herder's thread (``call``) check there, with ``_check_writable``, whether this worker may write.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable, Mapping
from ssl import SSLContext
from typing import Any

from kconnect.api.errors import AlreadyExistsException, NotFoundException
from kconnect.rest import forwarding
from kconnect.runtime.distributed.rebalance import RebalancingHerder
from kconnect.runtime.herder import (
    BadRequestError,
    NotAssignedError,
    NotLeaderError,
    RebalanceInProgressError,
)
from kconnect.runtime.states import TargetState, TaskId
from kconnect.runtime.worker_config import WorkerConfig
from kconnect.storage.config_backing_store import RestartRequest

log = logging.getLogger(__name__)


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


class ClusterRequestsHerder(RebalancingHerder):
    """The REST-facing requests of a distributed worker. ``DistributedHerder.__init__`` sets
    the state declared here."""

    #: the client TLS context for calls to other workers (None over plain HTTP)
    rest_client_ssl_context: SSLContext | None
    #: sends task configs to the leader off the herder's thread
    _forwarder: concurrent.futures.ThreadPoolExecutor

    def set_cluster_logger_level(self, namespace: str, level: str) -> None:
        """Every worker running now sets the level when it reads the record back (this one
        too); any worker may write it, so nothing is forwarded to the leader."""
        self.config_store.put_logger_level(namespace, level)

    # -- task configs of the connectors this worker runs ----------------------------------------
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
