"""DropHeaders: remove headers by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kconnect.api.config import NO_DEFAULT_VALUE, ConfigDef
from kconnect.api.records import ConnectRecord, Headers
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._util import (
    TRANSFORMS_PACKAGE,
    NonEmptyListValidator,
    plugin_version,
)

HEADERS = "headers"

CONFIG_DEF = ConfigDef().define(
    HEADERS,
    ConfigDef.Type.LIST,
    default=NO_DEFAULT_VALUE,
    validator=NonEmptyListValidator(),
    importance=ConfigDef.Importance.HIGH,
    documentation="The name of the headers to be removed.",
)


class DropHeaders(Transformation[ConnectRecord]):
    """Removes one or more headers from each record."""

    java_class_names = (f"{TRANSFORMS_PACKAGE}.DropHeaders",)

    def __init__(self) -> None:
        self._headers: frozenset[str] = frozenset()

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        self._headers = frozenset(CONFIG_DEF.parse(configs)[HEADERS])

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        dropped = self._headers
        kept = Headers(header for header in record.headers if header.key not in dropped)
        return record.new_record(headers=kept)

    def close(self) -> None:
        pass
