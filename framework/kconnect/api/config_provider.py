"""Config providers: where ``${provider:path:key}`` variables in connector configs get their values
(Kafka's ``org.apache.kafka.common.config.provider.ConfigProvider``).

A worker names its providers in ``config.providers=file,env``, with
``config.providers.<name>.class`` and ``config.providers.<name>.param.<setting>``. A connector
config may then say ``connection.password=${file:/etc/secrets/db.properties:password}``: the
runtime resolves the variable when the connector or task starts, and never stores, returns or
logs the resolved value.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any


class ConfigData:
    """What a provider found at one path: key -> value, and an optional time to live in ms
    after which the values should be read again."""

    __slots__ = ("data", "ttl")

    def __init__(self, data: Mapping[str, str], ttl: int | None = None):
        self.data: dict[str, str] = dict(data)
        self.ttl = ttl

    def __repr__(self) -> str:
        # Values are secrets more often than not: show the keys only.
        return f"ConfigData(keys={sorted(self.data)}, ttl={self.ttl})"


class ConfigProvider:
    """Looks up configuration values by path and key. Subclass it and register the class under
    the ``kconnect.config_providers`` entry-point group (or name its Python path in
    ``config.providers.<name>.class``)."""

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Called once with the provider's ``config.providers.<name>.param.*`` settings."""

    def get(self, path: str, keys: Collection[str] | None = None) -> ConfigData:
        """The data at ``path``: every key, or only ``keys`` when given. Keys that do not exist
        are left out (the variable then stays unresolved)."""
        raise NotImplementedError

    def subscribe(
        self, path: str, keys: Collection[str], callback: Callable[[str, ConfigData], None]
    ) -> None:
        """Ask to be told when the values at ``path`` change (optional)."""
        raise NotImplementedError(f"{type(self).__name__} does not support subscriptions")

    def unsubscribe(
        self, path: str, keys: Collection[str], callback: Callable[[str, ConfigData], None]
    ) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not support subscriptions")

    def unsubscribe_all(self) -> None:
        pass

    def close(self) -> None:
        pass
