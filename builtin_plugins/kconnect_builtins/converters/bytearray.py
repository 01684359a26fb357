"""ByteArrayConverter: Kafka's ``org.apache.kafka.connect.converters.ByteArrayConverter``.

Bytes pass through untouched both ways; read back with an optional BYTES schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kconnect.api.data import Schema, SchemaAndValue, Type
from kconnect.api.errors import DataException

from kconnect_builtins.converters import ValueConverterAsHeaderConverter
from kconnect_builtins.converters.settings import converter_config_def

if TYPE_CHECKING:
    from kconnect.api.config import ConfigDef
    from kconnect.api.records import Headers


class ByteArrayConverter(ValueConverterAsHeaderConverter):
    """bytes (also bytearray and memoryview) in, the same bytes out."""

    java_class_names = ("org.apache.kafka.connect.converters.ByteArrayConverter",)

    def config(self) -> ConfigDef:
        return converter_config_def()

    def configure(self, configs: Mapping[str, Any], is_key: bool = False) -> None:
        pass

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if schema is not None and schema.type is not Type.BYTES:
            raise DataException(f"Invalid schema type for ByteArrayConverter: {schema.type.name}")
        if value is None or type(value) is bytes:
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise DataException(
            f"ByteArrayConverter is not compatible with objects of type {type(value)}"
        )

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        return SchemaAndValue(Schema.OPTIONAL_BYTES_SCHEMA, value)
