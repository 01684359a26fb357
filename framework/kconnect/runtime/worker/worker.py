"""The Worker: creates connector instances and task threads, with their converters,
transforms and Kafka clients. The herder decides what runs; the worker makes it run.

What a task is built from is made by ``task_builder.TaskBuilder``; what a connector's task
configs look like when stored, by ``task_configs``. This module keeps the running connectors
and tasks of this process, and reports each change of their state to the listener.
"""

from __future__ import annotations

import gc
import logging
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka.admin import AdminClient

from kconnect.api.connector import (
    Connector,
    SinkConnectorContext,
    SourceConnectorContext,
    connector_type,
)
from kconnect.api.errors import ConnectException
from kconnect.api.storage import OffsetStorageReader
from kconnect.plugins import PluginRegistry
from kconnect.runtime import log_context
from kconnect.runtime.config_transformer import WorkerConfigTransformer
from kconnect.runtime.errors.error_handler import ErrorHandler
from kconnect.runtime.metrics.worker_metrics import WorkerMetrics
from kconnect.runtime.plugin_calls import call_with_timeout
from kconnect.runtime.secret_masking import config_values_message, declared_password_keys
from kconnect.runtime.states import State, TargetState, TaskId
from kconnect.runtime.worker import client_configs
from kconnect.runtime.worker.task_builder import TaskBuilder
from kconnect.runtime.worker.task_configs import TASK_CLASS_CONFIG as TASK_CLASS_CONFIG
from kconnect.runtime.worker.task_configs import generate_task_configs
from kconnect.runtime.worker.task_runner import TaskRunner, TaskStatusListener
from kconnect.runtime.worker_config import WorkerConfig
from kconnect.storage.offset_backing_store import OffsetBackingStore
from kconnect.storage.offset_storage import ConnectorOffsetReader

log = logging.getLogger(__name__)


class ConnectorStatusListener(TaskStatusListener):
    def on_connector_state(
        self, connector: str, state: State, trace: str | None = None
    ) -> None: ...


class _ConnectorContext(SourceConnectorContext, SinkConnectorContext):
    def __init__(self, worker: Worker, name: str):
        self._worker = worker
        self._name = name

    def request_task_reconfiguration(self) -> None:
        self._worker.on_reconfiguration_request(self._name)

    def raise_error(self, error: BaseException) -> None:
        self._worker.connector_failed(self._name, error)

    def offset_storage_reader(self) -> OffsetStorageReader:
        return ConnectorOffsetReader(self._name, self._worker.offset_store)


@dataclass
class RunningConnector:
    name: str
    connector: Connector
    config: dict[str, str]
    state: State = State.UNASSIGNED
    trace: str | None = None
    #: ``config`` with its ``${...}`` variables resolved: what the connector was started with
    resolved_config: dict[str, str] = field(default_factory=dict)
    #: the connector's version(), shown in its status (asked once, at creation)
    version: str | None = None


@dataclass
class RunningTask:
    runner: TaskRunner
    #: the unresolved configs the task was started with (a changed config means a restart)
    connector_config: dict[str, str]
    task_config: dict[str, str]
    #: the task's version(), shown in its status
    version: str | None = None


def _version(plugin: Any) -> str | None:
    """A connector's or task's version(), as Kafka shows it in statuses (None if it has none)."""
    try:
        version = plugin.version()
    except Exception:  # noqa: BLE001 - a plugin that cannot say its version still runs
        return None
    return str(version) if version else None


def tune_garbage_collector() -> None:
    """Fewer collections of the young generation. Tasks create a few short-lived objects per
    record (records, offset dicts); with CPython's default threshold of 700 allocations the
    collector ran so often that it cost a third of a file source's time (measured: 0.95 ->
    0.63 us per line). Objects alive at start-up are frozen so full collections skip them."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _trace(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


class Worker:
    """Runs connectors and tasks in this process."""

    def __init__(
        self,
        config: WorkerConfig,
        registry: PluginRegistry,
        offset_store: OffsetBackingStore,
        listener: ConnectorStatusListener,
        reconfiguration_requested: Callable[[str], None] | None = None,
    ):
        self.config = config
        self.props: dict[str, Any] = dict(config.originals())
        self.clients = client_configs.TaskClientSettings(
            self.props, str(config.get("connector.client.config.override.policy"))
        )
        self.registry = registry
        self.offset_store = offset_store
        self.listener = listener
        self.worker_id = config.worker_id
        self._reconfiguration_requested = reconfiguration_requested
        self._connectors: dict[str, RunningConnector] = {}
        # Tasks are kept apart from connector instances: in a cluster a task often runs on a
        # worker where its connector does not.
        self._tasks: dict[TaskId, RunningTask] = {}
        self._lock = threading.RLock()
        self.kafka_cluster_id: str | None = None
        self.plugin_call_timeout_s = float(config.get("rest.request.timeout.ms")) / 1000 * 0.9
        self.config_transformer = WorkerConfigTransformer.from_worker_config(self.props, registry)
        self.task_builder = TaskBuilder(
            config,
            self.props,
            registry,
            self.clients,
            offset_store,
            listener,
            self.connector_class,
            self.plugin_call_timeout_s,
        )
        #: counters, the /metrics page and the metrics reporters (runtime.metrics)
        self.metrics = WorkerMetrics(self, config.values())
        log_context.install()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        tune_garbage_collector()
        self.kafka_cluster_id = self.lookup_kafka_cluster_id()
        self.offset_store.start()
        self.metrics.start()
        log.info("Worker started (Kafka cluster %s)", self.kafka_cluster_id)

    def stop(self) -> None:
        for name in list(self._connectors):
            self.stop_and_await_connector(name)
        self.stop_and_await_tasks_of(list(self._tasks))
        self.offset_store.stop()
        self.config_transformer.close()
        self.metrics.stop()
        log.info("Worker stopped")

    def admin_config(self) -> dict[str, Any]:
        return self.clients.admin()

    def lookup_kafka_cluster_id(self) -> str:
        """Ask the cluster its id; an unreachable cluster fails in bounded time with a clear
        message (librdkafka would otherwise retry forever in the background)."""
        timeout_s = float(self.props.get("admin.default.api.timeout.ms", 60000)) / 1000
        servers = ",".join(self.config.get("bootstrap.servers"))
        admin = client_configs.create_client(AdminClient, self.admin_config(), "admin client")
        try:
            result = admin.describe_cluster(request_timeout=timeout_s).result(timeout=timeout_s + 5)
            return str(result.cluster_id)
        except Exception as error:  # noqa: BLE001 - reported with what to check
            raise ConnectException(
                f"Failed to connect to and describe Kafka cluster within {timeout_s:.0f} s "
                f"(bootstrap.servers={servers}). Check the worker's broker connection and security "
                f"properties. Cause: {error}"
            ) from error

    # -- connectors ------------------------------------------------------------------------------
    def connector_class(self, class_name: str) -> type[Connector]:
        cls = self.registry.find("connector", class_name)
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise ConnectException(f"{class_name} is not a Connector")
        return cls

    @log_context.connector_method
    def start_connector(self, name: str, props: Mapping[str, str], target: TargetState) -> bool:
        """Create and start a connector (unless its target state is STOPPED). True on success;
        a failure is reported as the FAILED state, not raised."""
        with self._lock:
            if name in self._connectors:
                raise ConnectException(f"Connector with name {name} already exists")
            self.metrics.connector_startups.attempted()
            try:
                connector = self.connector_class(props["connector.class"])()
            except Exception as error:  # noqa: BLE001
                self.metrics.connector_startups.failed()
                self.listener.on_connector_state(name, State.FAILED, _trace(error))
                return False
            running = RunningConnector(name, connector, dict(props), version=_version(connector))
            self._connectors[name] = running
        # As Kafka logs ConnectorConfig values: unresolved, password-type values [hidden] (and
        # masked wherever an error repeats them).
        hidden = declared_password_keys(connector, name, self.plugin_call_timeout_s)
        self.config_transformer.masker.add(props[key] for key in hidden if key in props)
        log.info("[%s] %s", name, config_values_message("ConnectorConfig", props, hidden))
        connector.initialize(_ConnectorContext(self, name))
        if target is TargetState.STOPPED:
            self.metrics.connector_startups.succeeded()
            self._set_connector_state(running, State.STOPPED)
            return True
        try:
            running.resolved_config = self.config_transformer.transform(props)
            call_with_timeout(
                f"Connector {name} start()",
                self.plugin_call_timeout_s,
                connector.start,
                dict(running.resolved_config),
            )
        except Exception as error:  # noqa: BLE001 - the connector is FAILED, the worker goes on
            log.error("[%s] Failed to start connector", name, exc_info=error)
            self.metrics.connector_startups.failed()
            self._set_connector_state(running, State.FAILED, _trace(error))
            return False
        self.metrics.connector_startups.succeeded()
        self._set_connector_state(
            running, State.PAUSED if target is TargetState.PAUSED else State.RUNNING
        )
        log.info("[%s] Connector started", name)
        return True

    def _set_connector_state(
        self, running: RunningConnector, state: State, trace: str | None = None
    ) -> None:
        running.state = state
        running.trace = trace
        self.listener.on_connector_state(running.name, state, trace)

    @log_context.connector_method
    def connector_failed(self, name: str, error: BaseException) -> None:
        running = self._connectors.get(name)
        if running is not None:
            log.error("[%s] Connector raised an error", name, exc_info=error)
            self._set_connector_state(running, State.FAILED, _trace(error))

    def on_reconfiguration_request(self, name: str) -> None:
        if self._reconfiguration_requested is not None:
            self._reconfiguration_requested(name)

    def is_running(self, name: str) -> bool:
        running = self._connectors.get(name)
        return running is not None and running.state in (State.RUNNING, State.PAUSED)

    def plugin_version_of(self, key: str | TaskId) -> str | None:
        """The version of the connector (by name) or task running here, for its status."""
        running = self._tasks.get(key) if isinstance(key, TaskId) else self._connectors.get(key)
        return None if running is None else running.version

    def connector_names(self) -> list[str]:
        return list(self._connectors)

    def connector_type_of(self, props: Mapping[str, str]) -> str:
        try:
            return connector_type(self.connector_class(props["connector.class"]))
        except Exception:  # noqa: BLE001
            return "unknown"

    @log_context.connector_method
    def connector_task_configs(self, name: str, max_tasks: int) -> list[dict[str, str]]:
        """The connector's task configs, each with ``task.class`` (and, for sinks, the topics)."""
        running = self._connectors[name]
        return generate_task_configs(
            name,
            running.connector,
            running.config,
            running.resolved_config,
            max_tasks,
            self.plugin_call_timeout_s,
            self.config_transformer,
        )

    def stop_and_await_connector(self, name: str) -> None:
        """Stop the connector's tasks, then the connector."""
        self.stop_and_await_tasks(name)
        self.stop_connector_instance(name)

    @log_context.connector_method
    def stop_connector_instance(self, name: str) -> None:
        """Stop the connector object alone (its tasks, here or elsewhere, are left running)."""
        running = self._connectors.get(name)
        if running is None:
            return
        if running.state in (State.RUNNING, State.PAUSED):
            try:
                call_with_timeout(
                    f"Connector {name} stop()", self.plugin_call_timeout_s, running.connector.stop
                )
            except Exception:  # noqa: BLE001 - stopping goes on
                log.exception("[%s] Error stopping connector", name)
        with self._lock:
            self._connectors.pop(name, None)
        self.listener.on_connector_state(name, State.UNASSIGNED)
        log.info("[%s] Connector stopped", name)

    @log_context.connector_method
    def restart_connector_instance(
        self, name: str, props: Mapping[str, str], target: TargetState
    ) -> bool:
        """Stop and start the connector object alone; its tasks keep running."""
        running = self._connectors.get(name)
        if running is None:
            return self.start_connector(name, props, target)
        if running.state in (State.RUNNING, State.PAUSED):
            try:
                call_with_timeout(
                    f"Connector {name} stop()", self.plugin_call_timeout_s, running.connector.stop
                )
            except Exception:  # noqa: BLE001
                log.exception("[%s] Error stopping connector", name)
        try:
            connector = self.connector_class(props["connector.class"])()
            connector.initialize(_ConnectorContext(self, name))
            resolved = self.config_transformer.transform(props)
            call_with_timeout(
                f"Connector {name} start()",
                self.plugin_call_timeout_s,
                connector.start,
                dict(resolved),
            )
        except Exception as error:  # noqa: BLE001
            log.error("[%s] Failed to restart connector", name, exc_info=error)
            self._set_connector_state(running, State.FAILED, _trace(error))
            return False
        running.connector = connector
        running.config = dict(props)
        running.resolved_config = resolved
        self._set_connector_state(
            running, State.PAUSED if target is TargetState.PAUSED else State.RUNNING
        )
        return True

    def task_count(self, name: str) -> int:
        return sum(1 for t in self._tasks if t.connector == name)

    def connector_config_of(self, name: str) -> dict[str, str] | None:
        """The (unresolved) config a running connector instance was started with."""
        running = self._connectors.get(name)
        return dict(running.config) if running is not None else None

    def running_tasks(self) -> list[TaskId]:
        return list(self._tasks)

    def running_connectors(self) -> list[RunningConnector]:
        """The connector instances of this worker (for metrics)."""
        return list(self._connectors.values())

    def task_started_with(self, task_id: TaskId) -> tuple[dict[str, str], dict[str, str]] | None:
        """(connector config, task config), unresolved, that a running task was started with."""
        running = self._tasks.get(task_id)
        return (dict(running.connector_config), dict(running.task_config)) if running else None

    def set_target_state(self, name: str, target: TargetState) -> None:
        """Pause or resume a running connector and its tasks."""
        for task_id, task in list(self._tasks.items()):
            if task_id.connector == name:
                task.runner.transition_to(target)
        running = self._connectors.get(name)
        if running is None:
            return
        if running.state in (State.RUNNING, State.PAUSED):
            self._set_connector_state(
                running, State.PAUSED if target is TargetState.PAUSED else State.RUNNING
            )

    # -- tasks -----------------------------------------------------------------------------------
    @log_context.task_method
    def start_task(
        self,
        task_id: TaskId,
        connector_props: Mapping[str, str],
        task_config: Mapping[str, str],
        target: TargetState,
    ) -> bool:
        """Create a task thread and start it. True on success; failures become FAILED."""
        if task_id in self._tasks:
            raise ConnectException(f"Task {task_id} already runs on this worker")
        self.metrics.task_startups.attempted()
        try:
            # Variables are resolved only into what the task itself gets.
            resolved_connector_props = self.config_transformer.transform(connector_props)
            resolved_task_config = self.config_transformer.transform(task_config)
            runner = self.task_builder.build(
                task_id, resolved_connector_props, resolved_task_config, target
            )
        except Exception as error:  # noqa: BLE001 - the task is FAILED, the worker goes on
            log.error("%s Failed to start task", task_id, exc_info=error)
            self.metrics.task_startups.failed()
            self.listener.on_task_state(task_id, State.FAILED, _trace(error))
            return False
        self._tasks[task_id] = RunningTask(
            runner, dict(connector_props), dict(task_config), _version(runner.plugins.task)
        )
        runner.start()
        self.metrics.task_startups.succeeded()
        return True

    def error_handler(
        self, task_id: TaskId, connector_props: Mapping[str, str], sink: bool = False
    ) -> ErrorHandler:
        """The task's error policy (``errors.*``) with its reporters (see TaskBuilder)."""
        return self.task_builder.error_handler(task_id, connector_props, sink)

    def stop_and_await_tasks(self, name: str, task_numbers: list[int] | None = None) -> None:
        """Stop the connector's tasks running here (all of them, or those numbered)."""
        if task_numbers is None:
            ids = [t for t in self._tasks if t.connector == name]
        else:
            ids = [TaskId(name, n) for n in task_numbers]
        self.stop_and_await_tasks_of(ids)

    def stop_and_await_tasks_of(self, task_ids: list[TaskId]) -> None:
        """Stop these tasks (those running here), all at once, then wait for each."""
        with self._lock:
            runners = [self._tasks.pop(t).runner for t in task_ids if t in self._tasks]
        for runner in runners:
            runner.stop()
        timeout_s = float(self.config.get("task.shutdown.graceful.timeout.ms")) / 1000
        for runner in runners:
            if not runner.await_stop(timeout_s):
                log.error("Graceful stop of task %s failed.", runner.id)

    def task_runner(self, task_id: TaskId) -> TaskRunner | None:
        running = self._tasks.get(task_id)
        return running.runner if running else None
