"""Building a task: its task object, converters, transformation chain, error handler and the
runner (source or sink) with its Kafka client configs.

Everything here is made from the task's connector and task configs with their ``${...}``
variables already resolved (the worker resolves them only into what the task itself gets), and
before the task's thread exists: an error while building is the task's FAILED state, reported by
the worker, and no thread is started for it. As in Kafka, a converter is the connector's own when its
config names one, else the worker's; headers default to the SimpleHeaderConverter; only sink
tasks get a dead letter queue and an errant record reporter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kconnect.api.connector import Connector
from kconnect.api.converter import Converter, HeaderConverter
from kconnect.api.errors import ConnectException
from kconnect.api.task import SinkTask, SourceTask
from kconnect.plugins import PluginRegistry
from kconnect.runtime.errors.dead_letter_queue import (
    DeadLetterQueueReporter,
    WorkerErrantRecordReporter,
    dlq_topic,
    errant_record_reporter_enabled,
)
from kconnect.runtime.errors.error_handler import ErrorHandler, ErrorReporter
from kconnect.runtime.states import TargetState, TaskId
from kconnect.runtime.worker.client_configs import TaskClientSettings
from kconnect.runtime.worker.sink_task_runner import SinkTaskRunner
from kconnect.runtime.worker.source_task_runner import SourceTaskRunner
from kconnect.runtime.worker.task_configs import TASK_CLASS_CONFIG, load_task_class
from kconnect.runtime.worker.task_runner import TaskPlugins, TaskRunner, TaskStatusListener
from kconnect.runtime.worker.transformation_chain import build_transformation_chain
from kconnect.runtime.worker_config import WorkerConfig
from kconnect.storage.offset_backing_store import OffsetBackingStore
from kconnect.storage.offset_storage import ConnectorOffsetReader, ConnectorOffsetWriter


class TaskBuilder:
    """Builds the runners of one worker's tasks (see the module docstring)."""

    def __init__(
        self,
        worker_config: WorkerConfig,
        worker_props: Mapping[str, Any],
        registry: PluginRegistry,
        clients: TaskClientSettings,
        offset_store: OffsetBackingStore,
        listener: TaskStatusListener,
        connector_class: Callable[[str], type[Connector]],
        plugin_call_timeout_s: float,
    ):
        #: the worker's config; each runner gets its values
        self.worker_config = worker_config
        #: the worker's own properties: its converters when a connector names none
        self.worker_props = worker_props
        self.registry = registry
        self.clients = clients
        self.offset_store = offset_store
        self.listener = listener
        self.connector_class = connector_class
        self.plugin_call_timeout_s = plugin_call_timeout_s

    def build(
        self,
        task_id: TaskId,
        connector_props: Mapping[str, str],
        task_config: Mapping[str, str],
        target: TargetState,
    ) -> TaskRunner:
        """The task's runner, not yet started."""
        task = load_task_class(
            self.connector_class,
            self.registry,
            connector_props,
            task_config[TASK_CLASS_CONFIG],
            self.plugin_call_timeout_s,
        )()
        plugins = TaskPlugins(
            task,
            self._converter("key.converter", connector_props, is_key=True),
            self._converter("value.converter", connector_props, is_key=False),
            self._header_converter(connector_props),
            build_transformation_chain(connector_props, self.registry),
            self.error_handler(task_id, connector_props, sink=isinstance(task, SinkTask)),
        )
        common = dict(
            task_id=task_id,
            task_config=task_config,
            connector_config=connector_props,
            plugins=plugins,
            worker_config=self.worker_config.values(),
            listener=self.listener,
            initial_state=target,
        )
        if isinstance(task, SourceTask):
            return SourceTaskRunner(
                producer_config=self.clients.producer(task_id, connector_props),
                offset_reader=ConnectorOffsetReader(task_id.connector, self.offset_store),
                offset_writer=ConnectorOffsetWriter(task_id.connector, self.offset_store),
                **common,
            )
        if isinstance(task, SinkTask):
            consumer_props = self.clients.java_props(
                "consumer.", "consumer.override.", connector_props
            )
            sink_runner = SinkTaskRunner(
                consumer_config=self.clients.consumer(task_id, connector_props),
                max_poll_records=int(consumer_props.get("max.poll.records", 500)),
                **common,
            )
            if errant_record_reporter_enabled(connector_props):
                sink_runner.errant_record_reporter = WorkerErrantRecordReporter(
                    plugins.error_handler,
                    sink_runner.original_message,
                    plugins.key_converter,
                    plugins.value_converter,
                    plugins.header_converter,
                )
            return sink_runner
        raise ConnectException(f"{type(task).__name__} is neither a SourceTask nor a SinkTask")

    def error_handler(
        self, task_id: TaskId, connector_props: Mapping[str, str], sink: bool = False
    ) -> ErrorHandler:
        """The task's error policy (``errors.*``) with its reporters: the log and, for a sink
        with ``errors.deadletterqueue.topic.name``, the dead letter queue (created if missing)."""
        reporters: list[ErrorReporter] = []
        if sink and dlq_topic(connector_props):
            producer = self.clients.producer(task_id, connector_props)
            producer["client.id"] = f"connector-dlq-producer-{task_id}"
            reporters.append(
                DeadLetterQueueReporter.create_and_setup(
                    task_id.connector,
                    task_id.task,
                    connector_props,
                    producer,
                    self.clients.admin(),
                )
            )
        return ErrorHandler(connector_props, task_id.connector, task_id.task, reporters)

    # -- converters ------------------------------------------------------------------------------
    def _plugin_settings(
        self, key: str, connector_props: Mapping[str, str]
    ) -> tuple[str, dict[str, Any]]:
        """(class name, settings) of a converter: the connector's own when it names one, else
        the worker's, as in Kafka."""
        prefix = key + "."
        if connector_props.get(key):
            source: Mapping[str, Any] = connector_props
        else:
            source = self.worker_props
        class_name = source.get(key)
        if not class_name:
            raise ConnectException(
                f'Missing required configuration "{key}" which has no default value.'
            )
        settings = {k[len(prefix) :]: v for k, v in source.items() if k.startswith(prefix)}
        return str(class_name), settings

    def _converter(self, key: str, connector_props: Mapping[str, str], is_key: bool) -> Converter:
        class_name, settings = self._plugin_settings(key, connector_props)
        converter = self.registry.find("converter", class_name)()
        converter.configure(settings, is_key)
        return converter

    def _header_converter(self, connector_props: Mapping[str, str]) -> HeaderConverter:
        if not connector_props.get("header.converter") and not self.worker_props.get(
            "header.converter"
        ):
            class_name, settings = "SimpleHeaderConverter", dict[str, Any]()
        else:
            class_name, settings = self._plugin_settings("header.converter", connector_props)
        converter = self.registry.find("header_converter", class_name)()
        converter.configure(settings)
        return converter
