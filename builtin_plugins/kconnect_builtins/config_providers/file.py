"""``${file:/path/to/file.properties:key}``: a value from a Java properties file."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import javaproperties
from kconnect.api.config import ConfigDef
from kconnect.api.config_provider import ConfigData, ConfigProvider
from kconnect.api.errors import ConfigException

from kconnect_builtins.config_providers._allowed_paths import (
    ALLOWED_PATHS_CONFIG,
    ALLOWED_PATHS_DOC,
    AllowedPaths,
)


class FileConfigProvider(ConfigProvider):
    """Reads the keys of a properties file (Kafka's FileConfigProvider): with
    ``config.providers=file`` and ``config.providers.file.class=FileConfigProvider``,
    ``${file:/etc/kafka/secrets.properties:db.password}`` is the file's ``db.password``."""

    java_class_names = ("org.apache.kafka.common.config.provider.FileConfigProvider",)

    CONFIG_DEF = ConfigDef().define(
        ALLOWED_PATHS_CONFIG,
        ConfigDef.Type.STRING,
        None,
        None,
        ConfigDef.Importance.MEDIUM,
        ALLOWED_PATHS_DOC,
    )

    def __init__(self) -> None:
        self._allowed = AllowedPaths({})

    def configure(self, configs: Mapping[str, Any]) -> None:
        self._allowed = AllowedPaths(configs)

    def config(self) -> ConfigDef:
        return self.CONFIG_DEF

    def get(self, path: str, keys: Collection[str] | None = None) -> ConfigData:
        if not path:
            return ConfigData({})
        checked = self._allowed.parse_untrusted_path(path)
        if checked is None:
            return ConfigData({})
        try:
            with open(checked, encoding="utf-8") as f:
                properties = javaproperties.load(f)
        except (OSError, ValueError, UnicodeDecodeError):
            # The message names the path only: the file holds secrets.
            raise ConfigException(f"Could not read properties from file {path}") from None
        if keys is None:
            return ConfigData(properties)
        return ConfigData({k: properties[k] for k in keys if k in properties})
