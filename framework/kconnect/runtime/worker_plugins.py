"""The converter classes a worker config names exist before the worker starts.

Kafka Connect reads ``key.converter``, ``value.converter`` and ``header.converter`` as CLASS
settings, so a worker whose converter cannot be found never starts: it stops with ``Invalid
value X for configuration key.converter: Class X could not be found.``. A worker that started
anyway would fail every task it ran, one by one, with the same cause. Both connect-standalone
and connect-distributed check here, with the registry the worker itself would use (so an
unregistered Python path counts as found only when ``plugin.import.allowed.prefixes`` allows
its module, and the message says how to allow it).
"""

from __future__ import annotations

from kconnect.api.errors import ConfigException
from kconnect.plugins import PluginNotFoundError, PluginRegistry, worker_registry
from kconnect.runtime.worker_config import WorkerConfig

#: the converter keys of a worker config and of a connector config (Kafka types them CLASS)
#: -> the registry's plugin kind
CONVERTER_KEYS = {
    "key.converter": "converter",
    "value.converter": "converter",
    "header.converter": "header_converter",
}


def converter_not_found(registry: PluginRegistry, key: str, name: str) -> str | None:
    """Kafka's error for a CLASS key ``key`` of :data:`CONVERTER_KEYS` naming a converter that
    cannot be found; None when it is found."""
    try:
        registry.find(CONVERTER_KEYS[key], name)
    except PluginNotFoundError as error:
        return (
            f"Invalid value {name} for configuration {key}: Class {name} could not be found. "
            f"{error}"
        )
    return None


def check_worker_converters(config: WorkerConfig, registry: PluginRegistry | None = None) -> None:
    """Raise ConfigException naming the first converter key whose class cannot be found."""
    plugins = worker_registry(config, registry)
    for key in CONVERTER_KEYS:
        name = config.get(key)
        if not name:
            continue  # a required key that is missing was reported by the ConfigDef already
        problem = converter_not_found(plugins, key, str(name))
        if problem is not None:
            raise ConfigException(problem, name=key)
