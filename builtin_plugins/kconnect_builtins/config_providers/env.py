"""``${env:NAME}``: a value from the worker's environment."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Collection, Mapping
from typing import Any

from kconnect.api.config import ConfigDef
from kconnect.api.config_provider import ConfigData, ConfigProvider
from kconnect.api.errors import ConfigException

log = logging.getLogger(__name__)

ALLOWLIST_PATTERN_CONFIG = "allowlist.pattern"


class EnvVarConfigProvider(ConfigProvider):
    """Environment variables (Kafka's EnvVarConfigProvider). The path must be empty:
    ``${env:DB_PASSWORD}`` (or ``${env::DB_PASSWORD}``). ``allowlist.pattern`` limits which
    variables may be read (a regular expression; all by default)."""

    java_class_names = ("org.apache.kafka.common.config.provider.EnvVarConfigProvider",)

    CONFIG_DEF = ConfigDef().define(
        ALLOWLIST_PATTERN_CONFIG,
        ConfigDef.Type.STRING,
        ".*",
        None,
        ConfigDef.Importance.MEDIUM,
        "A pattern / regular expression that needs to match for environment variables to be used by "
        "this config provider.",
    )

    def __init__(self, environment: Mapping[str, str] | None = None) -> None:
        self._environment = environment
        self._pattern = re.compile(".*")

    def configure(self, configs: Mapping[str, Any]) -> None:
        if ALLOWLIST_PATTERN_CONFIG in configs:
            self._pattern = re.compile(str(configs[ALLOWLIST_PATTERN_CONFIG]))
        else:
            self._pattern = re.compile(".*")
            log.info("No pattern for environment variables provided. Using default pattern '(.*)'.")

    def config(self) -> ConfigDef:
        return self.CONFIG_DEF

    def get(self, path: str, keys: Collection[str] | None = None) -> ConfigData:
        if path:
            log.error("Path is not supported for EnvVarConfigProvider, invalid value '%s'", path)
            raise ConfigException(
                f"Path is not supported for EnvVarConfigProvider, invalid value '{path}'"
            )
        environment = os.environ if self._environment is None else self._environment
        allowed = {k: v for k, v in environment.items() if self._pattern.search(k)}
        if keys is None:
            return ConfigData(allowed)
        return ConfigData({k: allowed[k] for k in keys if k in allowed})
