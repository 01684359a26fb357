"""Choosing the offset, config and status stores of a worker through the ``kconnect.storage``
plugins, so a third-party store is installed like any other plugin.

Defaults follow Kafka: a standalone worker keeps offsets in ``offset.storage.file.filename``,
configs in memory (or ``config.storage.file.filename``) and statuses in memory; a distributed
worker keeps all three in Kafka topics. kconnect-only keys ``offset.storage.class``,
``config.storage.class`` and ``status.storage.class`` name another ``kconnect.storage`` plugin.
"""

from __future__ import annotations

from typing import Any

from kconnect.api.errors import ConfigException
from kconnect.plugins import PluginNotFoundError, PluginRegistry
from kconnect.storage.config_backing_store import ConfigBackingStore
from kconnect.storage.offset_backing_store import OffsetBackingStore
from kconnect.storage.status_backing_store import StatusBackingStore

_DEFAULTS = {
    False: ("FileOffsetBackingStore", "FileConfigBackingStore", "MemoryStatusBackingStore"),
    True: ("KafkaOffsetBackingStore", "KafkaConfigBackingStore", "KafkaStatusBackingStore"),
}


def _create(registry: PluginRegistry, props: Any, key: str, default: str, base: type) -> Any:
    name = str(props.get(key) or default)
    try:
        cls = registry.find("storage", name)
    except PluginNotFoundError as error:
        raise ConfigException(f"Invalid value {name} for configuration {key}: {error}") from error
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigException(
            f"Invalid value {name} for configuration {key}: not a {base.__name__}", name=key
        )
    store: Any = cls()
    store.configure(props)
    return store


def create_stores(
    registry: PluginRegistry,
    worker_config: Any,
    distributed: bool,
    offset_store: OffsetBackingStore | None = None,
    config_store: ConfigBackingStore | None = None,
) -> tuple[OffsetBackingStore, ConfigBackingStore, StatusBackingStore]:
    """(offset store, config store, status store), configured with the worker's properties;
    a store given here is used as it is."""
    props = worker_config.originals()
    offsets, configs, statuses = _DEFAULTS[distributed]
    return (
        offset_store
        or _create(registry, props, "offset.storage.class", offsets, OffsetBackingStore),
        config_store
        or _create(registry, props, "config.storage.class", configs, ConfigBackingStore),
        _create(registry, props, "status.storage.class", statuses, StatusBackingStore),
    )
