"""What the standalone and distributed herders share (Kafka's AbstractHerder): the herder
thread's request path, validation and the checked-config path of creates and patches, the status
and config views REST shows, active topics, and the offsets glue.

*Reconciliation* (how a herder acts on a change) and restarts are the layer below, in
``reconciliation``: what the requests here change comes back through the config store and ends
in its ``_reconcile()``, on the herder thread.
"""

from __future__ import annotations

import abc
import concurrent.futures
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kconnect.api.errors import ConfigException, NotFoundException
from kconnect.plugins import PluginNotFoundError, PluginRegistry
from kconnect.runtime.auto_restart import AutoRestarter
from kconnect.runtime.config_transformer import hide_resolved_values
from kconnect.runtime.config_validation import invalid_config_message, validate_connector_config
from kconnect.runtime.connector_config import (
    NAME,
    TASKS_MAX,
    TASKS_MAX_LIMIT,
    tasks_max_limit_message,
)
from kconnect.runtime.connector_names import invalid_name_message
from kconnect.runtime.connector_offsets import ConnectorOffsets, OffsetRequestError
from kconnect.runtime.herder import BadRequestError, ConflictError, RequestTimeoutError
from kconnect.runtime.reconciliation import ReconcilingHerder
from kconnect.runtime.states import State, Status, TargetState, TaskId
from kconnect.runtime.status_reporter import StatusReporter
from kconnect.runtime.worker.active_topics import active_topics_of, reset_active_topics_of
from kconnect.runtime.worker.worker import Worker
from kconnect.runtime.worker_config import WorkerConfig
from kconnect.storage.config_backing_store import (
    ClusterConfigState,
    ConfigBackingStore,
    RestartRequest,
    SessionKeyRecord,
)
from kconnect.storage.offset_backing_store import OffsetBackingStore
from kconnect.storage.status_backing_store import StatusBackingStore

log = logging.getLogger(__name__)

T = TypeVar("T")


class AbstractHerder(ReconcilingHerder):
    """A herder over a config store, a status store and an offset store."""

    def __init__(
        self,
        config: WorkerConfig,
        registry: PluginRegistry,
        worker_id: str,
        offset_store: OffsetBackingStore,
        config_store: ConfigBackingStore,
        status_store: StatusBackingStore,
        safe_status_writes: bool = False,
    ):
        self.config = config
        self.registry = registry
        self.worker_id = worker_id
        self.config_store = config_store
        self.status_store = status_store
        self.status = StatusReporter(worker_id, status_store, safe_writes=safe_status_writes)
        self.status.exists = lambda name: self.config_store.snapshot().contains(name)
        self.worker = Worker(
            config,
            registry,
            offset_store,
            self.status,
            reconfiguration_requested=self.request_task_reconfiguration,
        )
        # Statuses carry the version of the connector or task they are about (KIP-891).
        self.status.version_of = self.worker.plugin_version_of
        self.request_timeout_s = float(config.get("rest.request.timeout.ms")) / 1000
        self.tasks_max_limit = int(config.get(TASKS_MAX_LIMIT))
        self.offsets = ConnectorOffsets(self.worker)
        # Opt-in automatic restarts of FAILED tasks, run on the herder thread.
        self.auto_restart = AutoRestarter(
            lambda name: self.snapshot().connector_config(name),
            self._submit,
            self._restart_task,
        )
        self.status.task_listeners.append(self.auto_restart.on_task_state)
        # What this worker last tried to start (config), so a failed start is not retried by
        # every reconciliation; cleared by a restart request.
        self._connector_attempts: dict[str, tuple[dict[str, str], TargetState]] = {}
        self._task_attempts: dict[TaskId, tuple[dict[str, str], dict[str, str]]] = {}
        self._applied_targets: dict[str, TargetState] = {}
        # Kafka keeps active topics in the status topic until reset or deletion; here, in memory.
        self._active_topics: dict[str, set[str]] = {}
        self._invalid_names_reported: set[str] = set()

    # -- the herder thread -------------------------------------------------------------------
    @abc.abstractmethod
    def _submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """Run ``fn(*args)`` on the herder thread."""

    def call(self, fn: Callable[..., T], *args: Any, timeout_s: float | None = None) -> T:
        """Run ``fn(*args)`` on the herder thread and return its result (or raise its error)."""
        future = self._submit(fn, *args)
        timeout = timeout_s if timeout_s is not None else self.request_timeout_s
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise RequestTimeoutError(
                f"Request timed out: the herder did not complete it within {timeout * 1000:.0f} ms"
            ) from None

    def health_check(self, timeout_s: float) -> None:
        self.call(lambda: None, timeout_s=timeout_s)

    @property
    def kafka_cluster_id(self) -> str | None:
        return self.worker.kafka_cluster_id

    # -- queries -------------------------------------------------------------------------------
    def connectors(self) -> list[str]:
        return self.snapshot().connectors()

    def _require(self, name: str, snapshot: ClusterConfigState | None = None) -> dict[str, str]:
        config = (snapshot or self.snapshot()).connector_config(name)
        if config is None:
            raise NotFoundException(f"Connector {name} not found")
        return config

    def _task_exists(self, snapshot: ClusterConfigState, name: str, task: int) -> bool:
        """Whether ``task`` is one of the connector's current (committed) tasks; negative ids
        and ids of tasks a reconfiguration removed are not."""
        self._require(name, snapshot)
        return 0 <= task < len(snapshot.tasks(name))

    def connector_config(self, name: str) -> dict[str, str]:
        return self._require(name)

    def connector_type(self, name: str) -> str:
        return self.worker.connector_type_of(self._require(name))

    def connector_info(self, name: str) -> dict[str, Any]:
        snapshot = self.snapshot()
        config = self._require(name, snapshot)
        return {
            "name": name,
            "config": config,
            "tasks": [task.to_json() for task in snapshot.tasks(name)],
            "type": self.worker.connector_type_of(config),
        }

    def task_configs(self, name: str) -> list[dict[str, Any]]:
        snapshot = self.snapshot()
        self._require(name, snapshot)
        return [
            {"id": TaskId(name, i).to_json(), "config": config}
            for i, config in enumerate(snapshot.task_config_list(name))
        ]

    def connector_status(self, name: str) -> dict[str, Any]:
        snapshot = self.snapshot()
        config = self._require(name, snapshot)
        status = self.status_store.connector(name) or Status(State.UNASSIGNED, self.worker_id)
        count = snapshot.task_count(name)
        tasks = [
            {"id": n, **s.to_json(), **self.auto_restart.status_fields(TaskId(name, n))}
            for n, s in sorted(self.status_store.tasks(name).items())
            if n < count
        ]
        return {
            "name": name,
            "connector": status.to_json(),
            "tasks": tasks,
            "type": self.worker.connector_type_of(config),
        }

    def task_status(self, name: str, task: int) -> dict[str, Any]:
        # The status of a task a reconfiguration removed may linger (in the status topic):
        # only the connector's current tasks have one, as its status view shows.
        exists = self._task_exists(self.snapshot(), name, task)
        status = self.status_store.task(TaskId(name, task)) if exists else None
        if status is None:
            raise NotFoundException(f"No status found for task {name}-{task}")
        return {
            "id": task,
            **status.to_json(),
            **self.auto_restart.status_fields(TaskId(name, task)),
        }

    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        raw = as_strings(config)
        try:
            # ${...} variables are checked with their values; the answer shows them unresolved.
            resolved = self.worker.config_transformer.transform(raw)
            infos = validate_connector_config(self.registry, resolved, self.request_timeout_s * 0.9)
            self._add_worker_rule_errors(infos, raw, resolved)
            return hide_resolved_values(infos, raw, resolved)
        except PluginNotFoundError as error:
            raise BadRequestError(str(error)) from error
        except ConfigException as error:
            raise BadRequestError(str(error)) from error

    def _add_worker_rule_errors(
        self, infos: dict[str, Any], raw: Mapping[str, str], resolved: Mapping[str, str]
    ) -> None:
        """Errors of this worker's own rules, on the keys they concern: a name REST could not
        address (checked as given: the ConfigDef sees it trimmed) and a ``tasks.max`` above
        ``tasks.max.limit``."""
        found = {
            NAME: invalid_name_message(raw[NAME]) if NAME in raw else None,
            TASKS_MAX: tasks_max_limit_message(resolved.get(TASKS_MAX, "1"), self.tasks_max_limit),
        }
        for entry in infos["configs"]:
            message = found.get(entry["definition"]["name"])
            if message is not None and message not in entry["value"]["errors"]:
                entry["value"]["errors"].append(message)
                infos["error_count"] += 1

    def _checked_config(self, name: str, config: Mapping[str, Any]) -> dict[str, str]:
        """The config as strings with its name, validated; BadRequestError when invalid."""
        config = as_strings(config)
        config.setdefault("name", name)
        if config["name"] != name:
            raise BadRequestError(
                "Connector name configuration (" + config["name"] + ") doesn't match "
                "connector name in the URL (" + name + ")"
            )
        infos = self.validate(config)
        if infos["error_count"]:
            raise BadRequestError(invalid_config_message(infos))
        return config

    def put_connector_config(
        self,
        name: str,
        config: Mapping[str, Any],
        allow_replace: bool,
        initial_state: TargetState | None = None,
    ) -> tuple[bool, dict[str, Any]]:
        """Create or update a connector. Returns (created, connector info). The config is
        validated on the calling thread; the change is made on the herder thread."""
        checked = self._checked_config(name, config)
        return self.call(self._put_connector_config, name, checked, allow_replace, initial_state)

    @abc.abstractmethod
    def _put_connector_config(
        self,
        name: str,
        config: dict[str, str],
        allow_replace: bool,
        initial_state: TargetState | None,
    ) -> tuple[bool, dict[str, Any]]:
        """Herder thread: write the (validated) config."""

    def patch_connector_config(self, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``patch`` into the config; a null value removes the key."""
        base = self._require(name)
        current = dict(base)
        for key, value in patch.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value if isinstance(value, str) else str(value)
        checked = self._checked_config(name, current)
        return self.call(self._write_patched_config, name, base, checked)

    def _write_patched_config(
        self, name: str, base: dict[str, str], config: dict[str, str]
    ) -> dict[str, Any]:
        """Herder thread: write a patched config unless the connector was deleted (404: a
        PATCH never creates one) or changed (409) since the patch was applied to it."""
        current = self._require(name)
        if current != base:
            raise ConflictError(
                f"The config of connector {name} changed while the patch was applied; "
                "retry the request"
            )
        _, info = self._put_connector_config(name, config, True, None)
        return info

    def connector_active_topics(self, name: str) -> list[str]:
        """Topics the connector's tasks here produced to or consumed from since the last reset,
        and those other workers reported to the status store."""
        self._require(name)
        seen = self._active_topics.setdefault(name, set())
        for runner in self._task_runners(name):
            seen.update(active_topics_of(runner))
        return sorted(seen | {t.topic for t in self.status_store.topics(name)})

    def reset_connector_active_topics(self, name: str) -> None:
        self._require(name)
        self._active_topics.pop(name, None)
        for runner in self._task_runners(name):
            reset_active_topics_of(runner)
        for topic in self.status_store.topics(name):
            self.status_store.delete_topic(name, topic.topic)

    def _task_runners(self, name: str) -> list[Any]:
        runners = (self.worker.task_runner(t) for t in self.worker.running_tasks())
        return [r for r in runners if r is not None and r.id.connector == name]

    # -- offsets (KIP-875) ---------------------------------------------------------------------
    def connector_offsets(self, name: str) -> dict[str, Any]:
        """``{"offsets": [{"partition", "offset"}]}`` (sinks: their consumer group's offsets)."""
        config = self._require(name)
        return self.call(self.offsets.get, name, config)

    def _modify_offsets(self, name: str, entries: list[tuple[Any, Any]] | None) -> str:
        snapshot = self.snapshot()
        config = self._require(name, snapshot)
        if snapshot.target_state(name) is not TargetState.STOPPED or snapshot.task_count(name):
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

    # -- requests from connectors (any thread) -------------------------------------------------
    def request_task_reconfiguration(self, name: str) -> None:
        """Called by a connector (any thread): regenerate and, if changed, publish its tasks."""
        self._submit(self._reconfigure_tasks, name)

    # -- config store listener (store thread or herder thread) ----------------------------------
    def on_connector_config_update(self, connector: str) -> None:
        self._config_changed()

    def on_connector_config_remove(self, connector: str) -> None:
        self._config_changed()

    def on_task_config_update(self, tasks: list[TaskId]) -> None:
        self._config_changed()

    def on_connector_target_state_change(self, connector: str) -> None:
        self._config_changed()

    def on_session_key_update(self, key: SessionKeyRecord) -> None:
        pass

    def on_restart_request(self, request: RestartRequest) -> None:
        self._submit(self._on_restart_request, request)

    def _on_restart_request(self, request: RestartRequest) -> None:
        restart_connector, tasks = self._restart_plan(request)
        self._execute_restart(request, restart_connector, tasks)

    @abc.abstractmethod
    def _config_changed(self) -> None:
        """The config store changed: reconcile (now, or on the herder thread)."""


def as_strings(config: Mapping[str, Any]) -> dict[str, str]:
    """Connector configs are string maps, as in Kafka (JSON numbers and booleans are accepted)."""
    out = {}
    for key, value in config.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        out[str(key)] = value if isinstance(value, str) else str(value)
    return out
