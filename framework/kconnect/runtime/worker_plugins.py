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

#: worker key -> the registry's plugin kind
WORKER_CONVERTER_KEYS = (
    ("key.converter", "converter"),
    ("value.converter", "converter"),
    ("header.converter", "header_converter"),
)


def check_worker_converters(config: WorkerConfig, registry: PluginRegistry | None = None) -> None:
    """Raise ConfigException naming the first converter key whose class cannot be found."""
    plugins = worker_registry(config, registry)
    for key, kind in WORKER_CONVERTER_KEYS:
        name = config.get(key)
        if not name:
            continue  # a required key that is missing was reported by the ConfigDef already
        try:
            plugins.find(kind, str(name))
        except PluginNotFoundError as error:
            raise ConfigException(
                f"Invalid value {name} for configuration {key}: Class {name} could not be "
                f"found. {error}",
                name=key,
            ) from None
