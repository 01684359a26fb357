"""Reconciliation: how a herder acts on a change, and how it restarts what runs here.

A herder never starts or stops work because of what it wrote; it compares what runs in this
worker with what the config store's snapshot says should run here (the connectors and tasks
assigned to this worker: all of them in standalone mode) and starts, stops or restarts the
difference. A change read back from a Kafka topic, a rebalance, a restart request and a local REST
call all end in the same ``_reconcile()``, on the herder thread.

Invariants kept by ``_reconcile()``:
- a connector instance runs here only if it is assigned here, exists, and is not STOPPED; it is
  restarted when its stored config differs from the one it was started with;
- a task runs here only if it is assigned here, its connector exists and is not STOPPED, and its
  committed task config is the one it was started with;
- a start that failed is not retried until the config changes or someone asks for a restart
  (a FAILED connector or task stays FAILED, as in Kafka): a restart stops what runs, forgets the
  failed attempt and reconciles.

This is the lowest layer of the herders: ``abstract_herder.AbstractHerder`` (built on it) sets
the state declared here; the standalone and distributed herders say what is assigned here and
how task configs are published.
"""

from __future__ import annotations

import abc
import logging

from kconnect.api.errors import ConnectException
from kconnect.runtime.auto_restart import AutoRestarter
from kconnect.runtime.connector_config import tasks_max_limit_message
from kconnect.runtime.connector_names import name_problem, render_name
from kconnect.runtime.herder import Herder
from kconnect.runtime.states import State, TargetState, TaskId
from kconnect.runtime.status_reporter import StatusReporter
from kconnect.runtime.worker.worker import Worker
from kconnect.storage.config_backing_store import (
    ClusterConfigState,
    ConfigBackingStore,
    RestartRequest,
)
from kconnect.storage.status_backing_store import StatusBackingStore

log = logging.getLogger(__name__)


class ReconcilingHerder(Herder):
    """The herder's reconciliation and restarts (see the module docstring). ``AbstractHerder``
    sets the state declared here."""

    worker: Worker
    status: StatusReporter
    config_store: ConfigBackingStore
    status_store: StatusBackingStore
    auto_restart: AutoRestarter
    tasks_max_limit: int
    #: what this worker last tried to start (config), so a failed start is not retried by
    #: every reconciliation; cleared by a restart request
    _connector_attempts: dict[str, tuple[dict[str, str], TargetState]]
    _task_attempts: dict[TaskId, tuple[dict[str, str], dict[str, str]]]
    _applied_targets: dict[str, TargetState]
    _invalid_names_reported: set[str]

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

    # -- reconciliation (herder thread) ----------------------------------------------------------
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


def _stopped(target: TargetState) -> bool:
    """Whether a target state means no connector instance (a change of it means a new start)."""
    return target is TargetState.STOPPED
