"""``${dir:/path/to/dir:file}``: a value that is a whole file, as Kubernetes mounts secrets."""

from __future__ import annotations

import logging
import os
from collections.abc import Collection

from kconnect.api.config_provider import ConfigData
from kconnect.api.errors import ConfigException

from kconnect_builtins.config_providers._allowed_paths import PathConfigProvider

log = logging.getLogger(__name__)


class DirectoryConfigProvider(PathConfigProvider):
    """Keys are the names of the regular files in a directory, values their contents (UTF-8),
    as Kafka's DirectoryConfigProvider. Subdirectories are ignored."""

    java_class_names = ("org.apache.kafka.common.config.provider.DirectoryConfigProvider",)

    def get(self, path: str, keys: Collection[str] | None = None) -> ConfigData:
        if not path:
            return ConfigData({})
        directory = self._allowed.parse_untrusted_path(path)
        if directory is None:
            return ConfigData({})
        if not os.path.isdir(directory):
            log.warning("The path %s is not a directory", path)
            return ConfigData({})
        wanted = None if keys is None else set(keys)
        data = {}
        try:
            names = os.listdir(directory)
        except OSError as error:
            raise ConfigException(f"Could not list directory {directory}") from error
        for name in names:
            if wanted is not None and name not in wanted:
                continue
            # A file may be a symlink leading out of the allowed folders: checked on its own.
            full = self._allowed.parse_untrusted_path(os.path.join(directory, name))
            if full is None or not os.path.isfile(full):
                continue
            try:
                with open(full, encoding="utf-8") as f:
                    data[name] = f.read()
            except (OSError, UnicodeDecodeError) as error:
                raise ConfigException(f"Could not read file {full} for property {name}") from error
        return ConfigData(data)
