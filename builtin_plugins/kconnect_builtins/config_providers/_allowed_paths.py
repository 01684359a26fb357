"""``allowed.paths`` of the file and directory providers (Kafka's AllowedPaths, KIP-993).

Both the allowed folders and every requested path are resolved (symlinks followed, ``..``
removed) before they are compared: a symlink inside an allowed folder that points outside it
leads outside, and is refused. The provider then opens the resolved path it was given back.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from kconnect.api.config import ConfigDef
from kconnect.api.config_provider import ConfigProvider
from kconnect.api.errors import ConfigException

log = logging.getLogger(__name__)

ALLOWED_PATHS_CONFIG = "allowed.paths"
ALLOWED_PATHS_DOC = (
    "A comma separated list of paths that this config provider is allowed to access. If not set, "
    "all paths are allowed."
)


class AllowedPaths:
    """The directories a provider may read below; None allows every path."""

    def __init__(self, configs: Mapping[str, Any]):
        raw = configs.get(ALLOWED_PATHS_CONFIG)
        self.paths: list[str] | None = None
        if raw is None:
            return
        items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
        paths = []
        for item in (str(i).strip() for i in items):
            if not item:
                continue
            if not os.path.isabs(item):
                raise ConfigException(f"Path {item} is not absolute")
            if not os.path.exists(item):
                raise ConfigException(f"Path {item} does not exist")
            paths.append(os.path.realpath(item))
        self.paths = paths

    def parse_untrusted_path(self, path: str) -> str | None:
        """``path`` normalised (resolved when paths are restricted), or None (with a warning)
        when it lies outside the allowed ones."""
        if self.paths is None:
            return os.path.normpath(path)
        # A relative path would be resolved against the worker's working directory.
        resolved = os.path.realpath(path) if os.path.isabs(path) else None
        if resolved is not None and any(_inside(resolved, allowed) for allowed in self.paths):
            return resolved
        log.warning("The path %s is not allowed to be accessed", path)
        return None


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class PathConfigProvider(ConfigProvider):
    """What the file and directory providers share: the ``allowed.paths`` setting and the
    check of every path a config names against it."""

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
