"""Config providers (Kafka's ``org.apache.kafka.common.config.provider``): ``file`` reads a
properties file, ``env`` environment variables, ``dir`` a directory of files (one per key)."""

from kconnect_builtins.config_providers.directory import DirectoryConfigProvider
from kconnect_builtins.config_providers.env import EnvVarConfigProvider
from kconnect_builtins.config_providers.file import FileConfigProvider

__all__ = ["DirectoryConfigProvider", "EnvVarConfigProvider", "FileConfigProvider"]
