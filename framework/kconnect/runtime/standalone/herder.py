"""The standalone herder: one worker, connector configs given on the command line or through
REST, offsets in a local file.

Every state change runs on the herder's own thread, one at a time; callers (the CLI, REST
handlers) submit a request and wait for its result with a timeout, so a stuck plugin never
hangs a caller for longer than ``rest.request.timeout.ms``.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kconnect.api.errors import (
    AlreadyExistsException,
    ConfigException,
    ConnectException,
    NotFoundException,
)
from kconnect.plugins import PluginNotFoundError, PluginRegistry
from kconnect.plugins import registry as default_registry
from kconnect.runtime.auto_restart import AutoRestarter
from kconnect.runtime.config_transformer import hide_resolved_values
from kconnect.runtime.config_validation import invalid_config_message, validate_connector_config
from kconnect.runtime.connector_offsets import ConnectorOffsets, OffsetRequestError
from kconnect.runtime.states import State, Status, TargetState, TaskId
from kconnect.runtime.worker.active_topics import active_topics_of, reset_active_topics_of
from kconnect.runtime.worker.worker import Worker
from kconnect.runtime.worker_config import WorkerConfig
from kconnect.storage.file_config_store import ConnectorConfigStore
from kconnect.storage.file_offset_store import FileOffsetBackingStore
from kconnect.storage.memory_status_store import StatusStore
from kconnect.storage.offset_backing_store import OffsetBackingStore

log = logging.getLogger(__name__)

T = TypeVar("T")


class BadRequestError(ConnectException):
    """The request is invalid (REST answers 400)."""


class ConflictError(ConnectException):
    """The request conflicts with the current state (REST answers 409)."""


class RequestTimeoutError(ConnectException):
    """The herder did not complete the request in time (REST answers 500)."""


class StandaloneHerder:
    """Runs the connectors of one standalone worker."""

    def __init__(
        self,
        config: WorkerConfig,
        registry: PluginRegistry | None = None,
        offset_store: OffsetBackingStore | None = None,
    ):
        self.config = config
        self.registry = registry or default_registry()
        self.status = StatusStore(config.worker_id)
        if offset_store is None:
            offset_store = FileOffsetBackingStore()
            offset_store.configure(config.originals())
        self.configs = ConnectorConfigStore(config.get("config.storage.file.filename") or None)
        self.worker = Worker(
            config,
            self.registry,
            offset_store,
            self.status,
            reconfiguration_requested=self.request_task_reconfiguration,
        )
        self.request_timeout_s = float(config.get("rest.request.timeout.ms")) / 1000
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="herder"
        )
        # Opt-in automatic restarts of FAILED tasks, run on the herder thread.
        self.auto_restart = AutoRestarter(
            self.configs.config,
            self._executor.submit,
            self._restart_task,
            lambda task_id: getattr(self.status.task(task_id), "state", None),
        )
        self.status.task_listeners.append(self.auto_restart.on_task_state)
        self.offsets = ConnectorOffsets(self.worker)
        # Kafka keeps active topics in the status topic until reset or deletion; here, in memory.
        self._active_topics: dict[str, set[str]] = {}
        self._started = False

    # -- running requests on the herder thread -------------------------------------------------
    def call(self, fn: Callable[..., T], *args: Any, timeout_s: float | None = None) -> T:
        """Run ``fn(*args)`` on the herder thread and return its result (or raise its error)."""
        future = self._executor.submit(fn, *args)
        try:
            return future.result(
                timeout=timeout_s if timeout_s is not None else self.request_timeout_s
            )
        except concurrent.futures.TimeoutError:
            raise RequestTimeoutError(
                f"Request timed out: the herder did not complete it within {self.request_timeout_s * 1000:.0f} ms"
            ) from None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect to Kafka, then start every connector kept in the config store."""
        self.worker.start()
        self._started = True
        for name in self.configs.names():
            self.call(self._start_connector, name, timeout_s=None)
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
    def kafka_cluster_id(self) -> str | None:
        return self.worker.kafka_cluster_id

    # -- queries -------------------------------------------------------------------------------
    def connectors(self) -> list[str]:
        return sorted(self.configs.names())

    def _require(self, name: str) -> dict[str, str]:
        config = self.configs.config(name)
        if config is None:
            raise NotFoundException(f"Connector {name} not found")
        return config

    def connector_config(self, name: str) -> dict[str, str]:
        return self._require(name)

    def connector_type(self, name: str) -> str:
        return self.worker.connector_type_of(self._require(name))

    def connector_info(self, name: str) -> dict[str, Any]:
        config = self._require(name)
        return {
            "name": name,
            "config": config,
            "tasks": [
                TaskId(name, i).to_json() for i in range(len(self.configs.task_configs(name)))
            ],
            "type": self.worker.connector_type_of(config),
        }

    def task_configs(self, name: str) -> list[dict[str, Any]]:
        self._require(name)
        return [
            {"id": TaskId(name, i).to_json(), "config": config}
            for i, config in enumerate(self.configs.task_configs(name))
        ]

    def connector_status(self, name: str) -> dict[str, Any]:
        config = self._require(name)
        status = self.status.connector(name) or Status(State.UNASSIGNED, self.status.worker_id)
        tasks = [
            {"id": n, **s.to_json(), **self.auto_restart.status_fields(TaskId(name, n))}
            for n, s in sorted(self.status.tasks(name).items())
        ]
        return {
            "name": name,
            "connector": status.to_json(),
            "tasks": tasks,
            "type": self.worker.connector_type_of(config),
        }

    def task_status(self, name: str, task: int) -> dict[str, Any]:
        self._require(name)
        status = self.status.task(TaskId(name, task))
        if status is None:
            raise NotFoundException(f"No status found for task {name}-{task}")
        return {
            "id": task,
            **status.to_json(),
            **self.auto_restart.status_fields(TaskId(name, task)),
        }

    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        raw = _as_strings(config)
        try:
            # ${...} variables are checked with their values; the answer shows them unresolved.
            resolved = self.worker.config_transformer.transform(raw)
            infos = validate_connector_config(self.registry, resolved, self.request_timeout_s * 0.9)
            return hide_resolved_values(infos, raw, resolved)
        except PluginNotFoundError as error:
            raise BadRequestError(str(error)) from error
        except ConfigException as error:
            raise BadRequestError(str(error)) from error

    # -- changes -------------------------------------------------------------------------------
    def put_connector_config(
        self,
        name: str,
        config: Mapping[str, Any],
        allow_replace: bool,
        initial_state: TargetState | None = None,
    ) -> tuple[bool, dict[str, Any]]:
        """Create or update a connector. Returns (created, connector info)."""
        config = _as_strings(config)
        config.setdefault("name", name)
        if config["name"] != name:
            raise BadRequestError(
                "Connector name configuration (" + config["name"] + ") doesn't match "
                "connector name in the URL (" + name + ")"
            )
        infos = self.validate(config)
        if infos["error_count"]:
            raise BadRequestError(invalid_config_message(infos))
        return self.call(self._put_connector_config, name, config, allow_replace, initial_state)

    def _put_connector_config(
        self,
        name: str,
        config: dict[str, str],
        allow_replace: bool,
        initial_state: TargetState | None,
    ) -> tuple[bool, dict[str, Any]]:
        exists = self.configs.contains(name)
        if exists and not allow_replace:
            raise AlreadyExistsException(f"Connector {name} already exists")
        if exists:
            self.worker.stop_and_await_connector(name)
            self.configs.put(name, config)
        else:
            self.configs.put(name, config, initial_state or TargetState.STARTED)
        self._start_connector(name)
        return not exists, self.connector_info(name)

    def patch_connector_config(self, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``patch`` into the config; a null value removes the key."""
        current = self._require(name)
        for key, value in patch.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value if isinstance(value, str) else str(value)
        _, info = self.put_connector_config(name, current, allow_replace=True)
        return info

    def delete_connector(self, name: str) -> None:
        self._require(name)
        self.call(self._delete_connector, name)

    def _delete_connector(self, name: str) -> None:
        self.worker.stop_and_await_connector(name)
        self.configs.remove(name)
        self.status.remove(name)
        self._active_topics.pop(name, None)
        log.info("[%s] Connector deleted", name)

    def pause_connector(self, name: str) -> None:
        self._require(name)
        self.call(self._set_target_state, name, TargetState.PAUSED)

    def resume_connector(self, name: str) -> None:
        self._require(name)
        self.call(self._set_target_state, name, TargetState.STARTED)

    def stop_connector(self, name: str) -> None:
        self._require(name)
        self.call(self._set_target_state, name, TargetState.STOPPED)

    def _set_target_state(self, name: str, target: TargetState) -> None:
        previous = self.configs.target_state(name)
        self.configs.put_target_state(name, target)
        if target is TargetState.STOPPED:
            self.worker.stop_and_await_connector(name)
            self.configs.put_task_configs(name, [])
            self.status.remove(name)
            self.status.on_connector_state(name, State.STOPPED)
        elif previous is TargetState.STOPPED or not self.worker.is_running(name):
            self.worker.stop_and_await_connector(name)
            self._start_connector(name)
        else:
            self.worker.set_target_state(name, target)

    def restart_connector(
        self, name: str, include_tasks: bool = False, only_failed: bool = False
    ) -> dict[str, Any]:
        """Restart the connector and, if asked, its (failed) tasks; returns the status showing
        RESTARTING for what is being restarted."""
        self._require(name)
        return self.call(self._restart_connector, name, include_tasks, only_failed)

    def _restart_connector(
        self, name: str, include_tasks: bool, only_failed: bool
    ) -> dict[str, Any]:
        connector_status = self.status.connector(name)
        restart_connector = not only_failed or (
            connector_status is not None and connector_status.state is State.FAILED
        )
        tasks_to_restart = []
        if include_tasks:
            for n, status in self.status.tasks(name).items():
                if not only_failed or status.state is State.FAILED:
                    tasks_to_restart.append(n)
        if self.configs.target_state(name) is TargetState.STOPPED:
            return self.connector_status(name)
        if restart_connector:
            self.status.on_connector_state(name, State.RESTARTING)
        for n in tasks_to_restart:
            self.auto_restart.reset(name, n)
            self.status.on_task_state(TaskId(name, n), State.RESTARTING)
        snapshot = self.connector_status(name)
        if restart_connector:
            self.worker.restart_connector_instance(
                name, self._require(name), self.configs.target_state(name)
            )
        for n in tasks_to_restart:
            self._restart_task(name, n)
        return snapshot

    def restart_task(self, name: str, task: int) -> None:
        self._require(name)
        if task >= len(self.configs.task_configs(name)):
            raise NotFoundException(f"Task {name}-{task} not found")
        self.auto_restart.reset(name, task)
        self.call(self._restart_task, name, task)

    def _restart_task(self, name: str, task: int) -> None:
        config = self._require(name)
        task_configs = self.configs.task_configs(name)
        self.worker.stop_and_await_tasks(name, [task])
        self.worker.start_task(
            TaskId(name, task), config, task_configs[task], self.configs.target_state(name)
        )

    # -- offsets (KIP-875) and active topics ----------------------------------------------------
    def connector_offsets(self, name: str) -> dict[str, Any]:
        """``{"offsets": [{"partition", "offset"}]}`` (sinks: their consumer group's offsets)."""
        config = self._require(name)
        return self.call(self.offsets.get, name, config)

    def alter_connector_offsets(self, name: str, entries: list[tuple[Any, Any]]) -> str:
        """Write new offsets for a STOPPED connector; returns Kafka's confirmation message."""
        return self.call(self._modify_offsets, name, entries)

    def reset_connector_offsets(self, name: str) -> str:
        return self.call(self._modify_offsets, name, None)

    def _modify_offsets(self, name: str, entries: list[tuple[Any, Any]] | None) -> str:
        config = self._require(name)
        if self.configs.target_state(name) is not TargetState.STOPPED or self.worker.task_count(
            name
        ):
            raise BadRequestError(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be "
                f"done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' "
                "endpoint"
            )
        try:
            if entries is None:
                return self.offsets.reset(name, config)
            return self.offsets.alter(name, config, entries)
        except OffsetRequestError as error:
            raise BadRequestError(str(error)) from error

    def connector_active_topics(self, name: str) -> list[str]:
        """Topics the connector's tasks produced to or consumed from since the last reset."""
        self._require(name)
        seen = self._active_topics.setdefault(name, set())
        for runner in self._task_runners(name):
            seen.update(active_topics_of(runner))
        return sorted(seen)

    def reset_connector_active_topics(self, name: str) -> None:
        self._require(name)
        self._active_topics.pop(name, None)
        for runner in self._task_runners(name):
            reset_active_topics_of(runner)

    def _task_runners(self, name: str) -> list[Any]:
        runners = (
            self.worker.task_runner(TaskId(name, n))
            for n in range(len(self.configs.task_configs(name)))
        )
        return [r for r in runners if r is not None]

    def health_check(self, timeout_s: float) -> None:
        """Returns once the herder thread answers; RequestTimeoutError when it is stuck."""
        self.call(lambda: None, timeout_s=timeout_s)

    @property
    def ready(self) -> bool:
        return self._started

    def request_task_reconfiguration(self, name: str) -> None:
        """Called by a connector (any thread): regenerate and, if changed, restart its tasks."""
        self._executor.submit(self._reconfigure_tasks, name)

    # -- herder thread internals -------------------------------------------------------------
    def _start_connector(self, name: str) -> None:
        config = self._require(name)
        target = self.configs.target_state(name)
        if target is TargetState.STOPPED:
            self.configs.put_task_configs(name, [])
            self.status.on_connector_state(name, State.STOPPED)
            return
        if self.worker.start_connector(name, config, target):
            self._reconfigure_tasks(name)

    def _reconfigure_tasks(self, name: str) -> None:
        config = self.configs.config(name)
        if config is None or not self.worker.is_running(name):
            return
        try:
            max_tasks = int(config.get("tasks.max", "1"))
            new_configs = self.worker.connector_task_configs(name, max_tasks)
        except Exception as error:  # noqa: BLE001 - the connector is FAILED, the worker runs on
            log.error("[%s] Failed to reconfigure connector's tasks", name, exc_info=error)
            self.worker.connector_failed(name, error)
            return
        old_configs = self.configs.task_configs(name)
        if new_configs == old_configs and self.worker.task_count(name) == len(new_configs):
            return
        self.worker.stop_and_await_tasks(name)
        self.status.remove_tasks_from(name, len(new_configs))
        self.configs.put_task_configs(name, new_configs)
        target = self.configs.target_state(name)
        for n, task_config in enumerate(new_configs):
            self.worker.start_task(TaskId(name, n), config, task_config, target)


def _as_strings(config: Mapping[str, Any]) -> dict[str, str]:
    """Connector configs are string maps, as in Kafka (JSON numbers and booleans are accepted)."""
    out = {}
    for key, value in config.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        out[str(key)] = value if isinstance(value, str) else str(value)
    return out
