"""A connector's task configs as the herder stores them, and their ``task.class`` read back.

Both directions keep one invariant: a stored task config names a task class that a Java
Connect worker and a kconnect worker can both load. It is written under the class's Java name
when it has one (the built-ins), else under its Python path; reading it back accepts the
connector's own task class under any of those names, and any other class only from a module
the operator allowed (``plugin.import.allowed.prefixes``), since task configs come from files
and from the config topic. Stored configs also keep the ``${...}`` form of the connector config,
never resolved secrets, and a connector cannot store more tasks than ``tasks.max`` (unless
``tasks.max.enforce`` is false, as in Kafka).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kconnect.api.connector import Connector, SinkConnector
from kconnect.api.errors import ConnectException
from kconnect.plugins import ALLOWED_IMPORT_PREFIXES_CONFIG, PluginRegistry
from kconnect.runtime.config_transformer import WorkerConfigTransformer
from kconnect.runtime.plugin_calls import call_with_timeout

TASK_CLASS_CONFIG = "task.class"


def generate_task_configs(
    name: str,
    connector: Connector,
    config: Mapping[str, str],
    resolved_config: Mapping[str, str],
    max_tasks: int,
    timeout_s: float,
    transformer: WorkerConfigTransformer,
) -> list[dict[str, str]]:
    """The connector's task configs, each with ``task.class`` (and, for sinks, the topics).
    ``config`` is the connector's stored config, ``resolved_config`` what it was started with."""
    task_class = call_with_timeout(
        f"Connector {name} task_class()", timeout_s, connector.task_class
    )
    configs = call_with_timeout(
        f"Connector {name} task_configs()", timeout_s, connector.task_configs, max_tasks
    )
    if len(configs) > max_tasks and str(config.get("tasks.max.enforce", "true")).lower() == "true":
        raise ConnectException(
            f"The connector {name} has generated {len(configs)} tasks, which is greater than "
            f"{max_tasks}, the maximum number of tasks it is configured to create."
        )
    # A task class with a Java counterpart (the built-ins) is stored under its Java name,
    # which both a Java worker and load_task_class() can load: the connector can move between
    # a Java Connect cluster and a kconnect cluster sharing the config topic.
    java_names = getattr(task_class, "java_class_names", ())
    class_name = (
        java_names[0] if java_names else f"{task_class.__module__}.{task_class.__qualname__}"
    )
    out = []
    for generated in configs:
        task_config = {str(k): str(v) for k, v in generated.items()}
        task_config[TASK_CLASS_CONFIG] = class_name
        if isinstance(connector, SinkConnector):
            for key in ("topics", "topics.regex"):
                if config.get(key):
                    task_config[key] = config[key]
        out.append(task_config)
    # Stored and shown task configs keep the ${...} form of the connector config.
    return transformer.reverse_transform(config, resolved_config, out)


def load_task_class(
    connector_class: Callable[[str], type[Connector]],
    registry: PluginRegistry,
    connector_props: Mapping[str, str],
    class_name: str,
    timeout_s: float,
) -> type:
    """The class ``task.class`` names: the connector's own task class (by Python path or,
    as Kafka writes it, Java name); another class only from a module the operator allowed."""
    connector = connector_class(connector_props["connector.class"])()
    own = call_with_timeout(
        f"Connector {connector_props.get('name')} task_class()", timeout_s, connector.task_class
    )
    path = f"{own.__module__}.{own.__qualname__}"
    java_names = getattr(own, "java_class_names", ())
    if class_name.strip() in (path, f"{own.__module__}:{own.__qualname__}", *java_names):
        return own
    task_class = registry.import_class(class_name.strip())
    if task_class is None:
        raise ConnectException(
            f"Task class {class_name} is not the task class of connector class "
            f"{connector_props['connector.class']} ({path}) and was not imported: Python "
            "paths outside the registered plugins are imported only from modules the "
            f"worker setting {ALLOWED_IMPORT_PREFIXES_CONFIG} allows"
        )
    return task_class
