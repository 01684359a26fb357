"""{{ cookiecutter.class_name }}: puts a prefix in front of every string value; other values
(and records without a value) pass unchanged.

A transform sees one record at a time and returns the new record (``record.new_record(...)``)
or None to drop it. It works on records from sources and to sinks alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from kconnect.api import ConfigDef, ConnectRecord, Transformation

PREFIX_CONFIG = "prefix"

CONFIG_DEF = ConfigDef().define(
    PREFIX_CONFIG,
    ConfigDef.Type.STRING,
    ConfigDef.NO_DEFAULT_VALUE,
    None,
    ConfigDef.Importance.HIGH,
    "The text put in front of every string value",
)

R = TypeVar("R", bound=ConnectRecord)


class {{ cookiecutter.class_name }}(Transformation[R]):
    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.prefix: str = CONFIG_DEF.parse(configs)[PREFIX_CONFIG]

    def apply(self, record: R) -> R | None:
        if not isinstance(record.value, str):
            return record
        return record.new_record(value=self.prefix + record.value)  # type: ignore[return-value]

    def close(self) -> None:
        pass
