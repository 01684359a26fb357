"""The standalone herder: one worker runs every connector and task; connector configs come from
the command line or REST, offsets from ``offset.storage.file.filename``.

Every state change runs on the herder's own thread, one at a time; callers (the CLI, REST
handlers) submit a request and wait for its result with a timeout, so a stuck plugin never
hangs a caller for longer than ``rest.request.timeout.ms``. The herder writes a change to its
config store, which reports it back at once; reconciliation (see ``reconciliation``) then starts
or stops what differs.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from kconnect.api.errors import AlreadyExistsException, NotFoundException
from kconnect.plugins import PluginRegistry, worker_registry
from kconnect.runtime.abstract_herder import AbstractHerder
from kconnect.runtime.herder import (  # noqa: F401 - re-exported for older imports
    BadRequestError,
    ConflictError,
    RequestTimeoutError,
)
from kconnect.runtime.states import State, TargetState, TaskId
from kconnect.runtime.worker_config import WorkerConfig
from kconnect.storage.config_backing_store import (
    ClusterConfigState,
    ConfigBackingStore,
    RestartRequest,
)
from kconnect.storage.memory_status_store import MemoryStatusBackingStore
from kconnect.storage.offset_backing_store import OffsetBackingStore
from kconnect.storage.plugins import create_stores

log = logging.getLogger(__name__)

T = TypeVar("T")


class StandaloneHerder(AbstractHerder):
    """Runs the connectors of one standalone worker."""

    def __init__(
        self,
        config: WorkerConfig,
        registry: PluginRegistry | None = None,
        offset_store: OffsetBackingStore | None = None,
        config_store: ConfigBackingStore | None = None,
    ):
        registry = worker_registry(config, registry)
        offset_store, config_store, status_store = create_stores(
            registry, config, False, offset_store, config_store
        )
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="herder"
        )
        super().__init__(
            config,
            registry,
            config.worker_id,
            offset_store,
            config_store,
            status_store,
        )
        self.config_store.set_update_listener(self)
        self._started = False

    def _submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        return self._executor.submit(fn, *args)

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect to Kafka, then start every connector kept in the config store."""
        self.worker.start()
        self._started = True
        self.call(self._reconcile, timeout_s=None)
        log.info("Herder started")

    def stop(self) -> None:
        log.info("Herder stopping")
        self.auto_restart.close()
        if self._started:
            try:
                self.call(self.worker.stop, timeout_s=None)
            finally:
                self._started = False
        self._executor.shutdown(wait=False)
        log.info("Herder stopped")

    @property
    def ready(self) -> bool:
        return self._started

    # -- this worker runs everything -------------------------------------------------------------
    def _assigned_connectors(self, snapshot: ClusterConfigState) -> set[str]:
        return set(snapshot.connectors())

    def _assigned_tasks(self, snapshot: ClusterConfigState) -> set[TaskId]:
        return {task for name in snapshot.connectors() for task in snapshot.tasks(name)}

    def _publish_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        # Statuses of tasks that no longer exist are dropped, as Kafka's standalone does.
        if isinstance(self.status_store, MemoryStatusBackingStore):
            self.status_store.remove_tasks_from(name, len(configs))
        self.config_store.put_task_configs(name, configs)

    def _config_changed(self) -> None:
        # The file/memory store reports on the writing thread, which is the herder thread.
        self._reconcile()

    # -- changes -------------------------------------------------------------------------------
    def _put_connector_config(
        self,
        name: str,
        config: dict[str, str],
        allow_replace: bool,
        initial_state: TargetState | None,
    ) -> tuple[bool, dict[str, Any]]:
        exists = self.config_store.contains(name)
        if exists and not allow_replace:
            raise AlreadyExistsException(f"Connector {name} already exists")
        if exists:
            self.auto_restart.forget(name)
            self.config_store.put_connector_config(name, config)
        else:
            self.config_store.put_connector_config(
                name, config, initial_state or TargetState.STARTED
            )
        return not exists, self.connector_info(name)

    def delete_connector(self, name: str) -> None:
        self._require(name)
        self.call(self._delete_connector, name)

    def _delete_connector(self, name: str) -> None:
        # Every change checks again on the herder thread: the connector may have been deleted
        # since the caller's check.
        self._require(name)
        self.config_store.remove_connector_config(name)
        self.status_store.remove_connector(name)
        self._active_topics.pop(name, None)
        log.info("[%s] Connector deleted", name)

    def pause_connector(self, name: str) -> None:
        self._require(name)
        self.call(self._pause_connector, name)

    def _pause_connector(self, name: str) -> None:
        self._require(name)
        self.config_store.put_target_state(name, TargetState.PAUSED)

    def resume_connector(self, name: str) -> None:
        self._require(name)
        self.call(self._resume_connector, name)

    def _resume_connector(self, name: str) -> None:
        self._require(name)
        if self.snapshot().target_state(name) is TargetState.STOPPED:
            # A stopped connector starts afresh (it has no tasks until it generates them).
            self._connector_attempts.pop(name, None)
        self.config_store.put_target_state(name, TargetState.STARTED)

    def stop_connector(self, name: str) -> None:
        self._require(name)
        self.call(self._stop_connector, name)

    def _stop_connector(self, name: str) -> None:
        self._require(name)
        self.config_store.put_target_state(name, TargetState.STOPPED)
        self.config_store.put_task_configs(name, [])
        self.status_store.remove_connector(name)
        self._connector_attempts.pop(name, None)
        self._reconcile()

    def restart_connector(
        self, name: str, include_tasks: bool = False, only_failed: bool = False
    ) -> dict[str, Any]:
        """Restart the connector and, if asked, its (failed) tasks; returns the status showing
        RESTARTING for what is being restarted."""
        self._require(name)
        return self.call(self._restart_connector, RestartRequest(name, include_tasks, only_failed))

    def _restart_connector(self, request: RestartRequest) -> dict[str, Any]:
        self._require(request.connector)
        restart_connector, tasks = self._restart_plan(request)
        if self.snapshot().target_state(request.connector) is TargetState.STOPPED:
            return self.connector_status(request.connector)
        if restart_connector:
            self.status.on_connector_state(request.connector, State.RESTARTING)
        for n in tasks:
            self.status.on_task_state(TaskId(request.connector, n), State.RESTARTING)
        snapshot = self.connector_status(request.connector)
        self._execute_restart(request, restart_connector, tasks)
        return snapshot

    def restart_task(self, name: str, task: int) -> None:
        self._require(name)
        self.call(self._restart_task_request, name, task)

    def _restart_task_request(self, name: str, task: int) -> None:
        # Checked here, on the herder thread, so no reconfiguration can remove the task
        # between the check and the restart (Kafka's standalone herder: "Task ... not found").
        if not self._task_exists(self.snapshot(), name, task):
            raise NotFoundException(f"Task {TaskId(name, task)} not found")
        self.auto_restart.reset(name, task)
        self._restart_task(name, task)

    def alter_connector_offsets(self, name: str, entries: list[tuple[Any, Any]]) -> str:
        """Write new offsets for a STOPPED connector; returns Kafka's confirmation message."""
        return self.call(self._modify_offsets, name, entries)

    def reset_connector_offsets(self, name: str) -> str:
        return self.call(self._modify_offsets, name, None)
