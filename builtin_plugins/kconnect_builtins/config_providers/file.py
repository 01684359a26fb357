"""``${file:/path/to/file.properties:key}``: a value from a Java properties file."""

from __future__ import annotations

from collections.abc import Collection

import javaproperties
from kconnect.api.config_provider import ConfigData
from kconnect.api.errors import ConfigException

from kconnect_builtins.config_providers._allowed_paths import PathConfigProvider


class FileConfigProvider(PathConfigProvider):
    """Reads the keys of a properties file (Kafka's FileConfigProvider): with
    ``config.providers=file`` and ``config.providers.file.class=FileConfigProvider``,
    ``${file:/etc/kafka/secrets.properties:db.password}`` is the file's ``db.password``."""

    java_class_names = ("org.apache.kafka.common.config.provider.FileConfigProvider",)

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
