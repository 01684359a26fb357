"""What the standalone and distributed herders share (Kafka's AbstractHerder): validation, the
status and config views REST shows, restart planning, the offsets glue, and *reconciliation*.

Reconciliation is how a herder acts on a change. It never starts or stops work because of what it
wrote; it compares what runs in this worker with what the config store's snapshot says should run
here (the connectors and tasks assigned to this worker: all of them in standalone mode) and
starts, stops or restarts the difference. A change read back from a Kafka topic, a rebalance, a
restart request and a local REST call all end in the same ``_reconcile()``, on the herder thread.

Invariants kept by ``_reconcile()``:
- a connector instance runs here only if it is assigned here, exists, and is not STOPPED; it is
  restarted when its stored config differs from the one it was started with;
- a task runs here only if it is assigned here, its connector exists and is not STOPPED, and its
  committed task config is the one it was started with;
- a start that failed is not retried until the config changes or someone asks for a restart
  (a FAILED connector or task stays FAILED, as in Kafka).
"""

from __future__ import annotations

import abc
import concurrent.futures
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kconnect.api.errors import ConfigException, ConnectException, NotFoundException
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
from kconnect.runtime.connector_names import invalid_name_message, name_problem, render_name
from kconnect.runtime.connector_offsets import ConnectorOffsets, OffsetRequestError
from kconnect.runtime.herder import BadRequestError, ConflictError, Herder, RequestTimeoutError
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


class AbstractHerder(Herder):
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

    # -- assignment ----------------------------------------------------------------------------
    def snapshot(self) -> ClusterConfigState:
        return self.config_store.snapshot()

    @abc.abstractmethod
    def _assigned_connectors(self, snapshot: ClusterConfigState) -> set[str]:
        """Connector instances this worker should run."""

    @abc.abstractmethod
    def _assigned_tasks(self, snapshot: ClusterConfigState) -> set[TaskId]:
        """Tasks this worker should run."""

    @abc.abstractmethod
    def _publish_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        """Store a connector's newly generated task configs (the leader writes them)."""

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

    # -- restarts ------------------------------------------------------------------------------
    def _restart_plan(self, request: RestartRequest) -> tuple[bool, list[int]]:
        """(restart the connector?, task numbers to restart), from the statuses now."""
        connector_status = self.status_store.connector(request.connector)
        restart_connector = not request.only_failed or (
            connector_status is not None and connector_status.state is State.FAILED
        )
        tasks = []
        if request.include_tasks:
            count = self.snapshot().task_count(request.connector)
            for n, status in sorted(self.status_store.tasks(request.connector).items()):
                if n < count and (not request.only_failed or status.state is State.FAILED):
                    tasks.append(n)
        return restart_connector, tasks

    def _execute_restart(
        self, request: RestartRequest, restart_connector: bool, tasks: list[int]
    ) -> None:
        """Herder thread: restart what of the plan runs on (is assigned to) this worker."""
        name = request.connector
        snapshot = self.snapshot()
        if not snapshot.contains(name) or snapshot.target_state(name) is TargetState.STOPPED:
            return
        if restart_connector and name in self._assigned_connectors(snapshot):
            self.status.on_connector_state(name, State.RESTARTING)
            self.worker.stop_connector_instance(name)
            self._connector_attempts.pop(name, None)
        assigned = self._assigned_tasks(snapshot)
        owned = [TaskId(name, n) for n in tasks if TaskId(name, n) in assigned]
        for task in owned:
            self.auto_restart.reset(name, task.task)
            self.status.on_task_state(task, State.RESTARTING)
            self._task_attempts.pop(task, None)
        self.worker.stop_and_await_tasks_of(owned)
        self._reconcile()

    def _restart_task(self, name: str, task: int) -> None:
        """Herder thread: stop and start one task running here (automatic restarts use this)."""
        task_id = TaskId(name, task)
        self.worker.stop_and_await_tasks_of([task_id])
        self._task_attempts.pop(task_id, None)
        self._reconcile()

    # -- reconciliation (herder thread) -------------------------------------------------------------
    def request_task_reconfiguration(self, name: str) -> None:
        """Called by a connector (any thread): regenerate and, if changed, publish its tasks."""
        self._submit(self._reconfigure_tasks, name)

    def _reconcile(self) -> None:
        snapshot = self.snapshot()
        connectors = self._assigned_connectors(snapshot)
        tasks = self._assigned_tasks(snapshot)
        self._stop_unwanted(snapshot, connectors, tasks)
        self._apply_target_states(snapshot)
        for name in sorted(connectors):
            self._maybe_start_connector(snapshot, name)
        for task in sorted(tasks, key=lambda t: (t.connector, t.task)):
            self._maybe_start_task(snapshot, task)

    def _stop_unwanted(
        self, snapshot: ClusterConfigState, connectors: set[str], tasks: set[TaskId]
    ) -> None:
        stop_tasks = []
        for task in self.worker.running_tasks():
            started = self.worker.task_started_with(task)
            wanted = (
                task in tasks
                and snapshot.target_state(task.connector) is not TargetState.STOPPED
                and started is not None
                and started
                == (snapshot.connector_config(task.connector), snapshot.task_config(task))
            )
            if not wanted:
                stop_tasks.append(task)
        if stop_tasks:
            log.info("Stopping tasks %s", ", ".join(map(str, stop_tasks)))
            self.worker.stop_and_await_tasks_of(stop_tasks)
        for task in stop_tasks:
            self._task_attempts.pop(task, None)
        for task in list(self._task_attempts):
            # A task that failed to start is tried again once its configs change, as in Kafka.
            if task not in tasks or self._task_attempts[task] != (
                snapshot.connector_config(task.connector),
                snapshot.task_config(task),
            ):
                self._task_attempts.pop(task)
        for name in self.worker.connector_names():
            config = snapshot.connector_config(name)
            if (
                name not in connectors
                or config is None
                or snapshot.target_state(name) is TargetState.STOPPED
                or config != self.worker.connector_config_of(name)
            ):
                self.worker.stop_connector_instance(name)
                self._connector_attempts.pop(name, None)
        for name in list(self._connector_attempts):
            if name not in connectors or (
                snapshot.connector_config(name),
                _stopped(snapshot.target_state(name)),
            ) != (self._connector_attempts[name][0], _stopped(self._connector_attempts[name][1])):
                self._connector_attempts.pop(name)

    def _apply_target_states(self, snapshot: ClusterConfigState) -> None:
        for name in [n for n in self._applied_targets if not snapshot.contains(n)]:
            del self._applied_targets[name]  # deleted connectors
        for name in set(self.worker.connector_names()) | {
            t.connector for t in self.worker.running_tasks()
        }:
            target = snapshot.target_state(name)
            if target is TargetState.STOPPED:
                continue
            if self._applied_targets.get(name) is not target:
                self.worker.set_target_state(name, target)
                self._applied_targets[name] = target
                if target is TargetState.STARTED and name in self.worker.connector_names():
                    # Resumed: generate the tasks it could not while paused.
                    self._reconfigure_tasks(name)

    def _maybe_start_connector(self, snapshot: ClusterConfigState, name: str) -> None:
        config = snapshot.connector_config(name)
        if config is None or name in self._connector_attempts:
            return
        target = snapshot.target_state(name)
        self._connector_attempts[name] = (config, target)
        self._warn_of_invalid_name(name)
        if name in self.worker.connector_names():
            return
        if target is TargetState.STOPPED:
            # _stop_unwanted already stopped its instance.
            self.status.on_connector_state(name, State.STOPPED)
            if snapshot.task_count(name):
                self._publish_task_configs(name, [])
            return
        self._applied_targets[name] = target
        if self.worker.start_connector(name, config, target):
            self._reconfigure_tasks(name)

    def _warn_of_invalid_name(self, name: str) -> None:
        """A name stored before the rules (or by another implementation) still runs; say once
        what is wrong with it, on one line."""
        problem = name_problem(name)
        if problem is None or name in self._invalid_names_reported:
            return
        self._invalid_names_reported.add(name)
        log.warning(
            "Connector name '%s' is invalid: %s. The connector runs, but it may be unreachable "
            "through REST: create it again under a valid name, then delete this one "
            "(DELETE /connectors/<name percent-encoded>).",
            render_name(name),
            problem,
        )

    def _maybe_start_task(self, snapshot: ClusterConfigState, task: TaskId) -> None:
        if task in self._task_attempts or self.worker.task_runner(task) is not None:
            return
        config = snapshot.connector_config(task.connector)
        task_config = snapshot.task_config(task)
        target = snapshot.target_state(task.connector)
        if config is None or task_config is None or target is TargetState.STOPPED:
            return
        self._task_attempts[task] = (config, task_config)
        self._applied_targets.setdefault(task.connector, target)
        self.worker.start_task(task, config, task_config, target)

    def _reconfigure_tasks(self, name: str) -> None:
        """Herder thread: ask a connector running here for task configs; publish them if they
        changed (the new configs come back through the config store and restart the tasks)."""
        snapshot = self.snapshot()
        config = snapshot.connector_config(name)
        if config is None or not self.worker.is_running(name):
            return
        if snapshot.target_state(name) is not TargetState.STARTED:
            # As Kafka: a paused connector's tasks are not (re)generated; one created PAUSED
            # has none until it is resumed (see _apply_target_states).
            return
        try:
            max_tasks = int(config.get("tasks.max", "1"))
            # A config stored before the limit (or by a worker with a higher one) is refused here.
            too_many = tasks_max_limit_message(max_tasks, self.tasks_max_limit)
            if too_many is not None:
                raise ConnectException(too_many)
            new_configs = self.worker.connector_task_configs(name, max_tasks)
        except Exception as error:  # noqa: BLE001 - the connector is FAILED, the worker runs on
            log.error("[%s] Failed to reconfigure connector's tasks", name, exc_info=error)
            self.worker.connector_failed(name, error)
            return
        if new_configs != snapshot.task_config_list(name) or (
            snapshot.task_count(name) != len(new_configs)
        ):
            self._publish_task_configs(name, new_configs)

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


def _stopped(target: TargetState) -> bool:
    """Whether a target state means no connector instance (a change of it means a new start)."""
    return target is TargetState.STOPPED


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
