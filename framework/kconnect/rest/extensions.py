"""``rest.extension.classes``: the REST extensions a worker was told to run.

Each entry names a class registered under the ``kconnect.rest_extensions`` entry points, by any
of the names plugins answer to (entry-point name, Python path, simple class name, Kafka's Java
class name), e.g. ``org.apache.kafka.connect.rest.basic.auth.extension.
BasicAuthSecurityRestExtension``. An extension has ``configure(worker_props)`` (called once, at
start, with the worker's settings) and ``register(app, herder)`` (adds routes or middleware to
the Falcon app), as Kafka's ``ConnectRestExtension`` has ``configure``/``register``.

Invariant: an entry that names no extension, or an extension that cannot configure itself,
stops the worker at start with a message naming the entry; a security extension is never
silently left out. (Plugins of the ``kconnect.hooks`` group implementing the
``kconnect_rest_extension`` hook are another, older way in: they run whenever installed.)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from kconnect.api.errors import ConfigException
from kconnect.plugins import PluginNotFoundError, PluginRegistry

log = logging.getLogger(__name__)

REST_EXTENSION_CLASSES_CONFIG = "rest.extension.classes"
REST_EXTENSION_KIND = "rest_extension"
REST_EXTENSION_GROUP = "kconnect.rest_extensions"


@runtime_checkable
class RestExtension(Protocol):
    """What ``rest.extension.classes`` entries must be (Kafka's ``ConnectRestExtension``)."""

    def configure(self, worker_props: Mapping[str, Any]) -> None: ...

    def register(self, app: Any, herder: Any) -> None: ...


def extension_names(worker_props: Mapping[str, Any]) -> list[str]:
    raw = worker_props.get(REST_EXTENSION_CLASSES_CONFIG) or ""
    items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def load_rest_extensions(
    worker_props: Mapping[str, Any], registry: PluginRegistry | None = None
) -> list[RestExtension]:
    """The configured extensions, created and configured; ConfigException naming the entry
    that is unknown or cannot start."""
    names = extension_names(worker_props)
    if not names:
        return []
    if registry is None:
        registry = PluginRegistry({REST_EXTENSION_KIND: REST_EXTENSION_GROUP})
    extensions: list[RestExtension] = []
    for name in names:
        try:
            cls = registry.find(REST_EXTENSION_KIND, name)
        except PluginNotFoundError as error:
            raise ConfigException(
                f"Invalid value {name} for configuration {REST_EXTENSION_CLASSES_CONFIG}: {error}",
                name=REST_EXTENSION_CLASSES_CONFIG,
                value=name,
            ) from None
        try:
            extension = cls()
        except Exception as error:  # noqa: BLE001 - reported with the entry's name
            raise ConfigException(
                f"Could not create REST extension {name} ({REST_EXTENSION_CLASSES_CONFIG}): "
                f"{type(error).__name__}: {error}",
                name=REST_EXTENSION_CLASSES_CONFIG,
            ) from error
        if not isinstance(extension, RestExtension):
            raise ConfigException(
                f"Invalid value {name} for configuration {REST_EXTENSION_CLASSES_CONFIG}: "
                f"{cls.__module__}.{cls.__qualname__} is not a REST extension (it needs "
                "configure(worker_props) and register(app, herder))",
                name=REST_EXTENSION_CLASSES_CONFIG,
            )
        try:
            extension.configure(worker_props)
        except ConfigException:
            raise
        except Exception as error:  # noqa: BLE001 - reported with the entry's name
            raise ConfigException(
                f"REST extension {name} failed to configure: {type(error).__name__}: {error}",
                name=REST_EXTENSION_CLASSES_CONFIG,
            ) from error
        log.info("REST extension %s enabled", name)
        extensions.append(extension)
    return extensions
