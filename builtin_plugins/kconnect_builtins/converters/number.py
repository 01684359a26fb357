"""The number converters of ``org.apache.kafka.connect.converters``: each writes one type with
Kafka's own serializer format (big-endian; IEEE 754 for floats; one byte 0/1 for booleans) and
reads it back with the type's optional schema."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kconnect.api.data import Schema, SchemaAndValue, Type
from kconnect.api.errors import DataException

from kconnect_builtins.converters import ValueConverterAsHeaderConverter
from kconnect_builtins.converters.settings import converter_config_def

if TYPE_CHECKING:
    from kconnect.api.config import ConfigDef
    from kconnect.api.records import Headers


class _NumberConverter(ValueConverterAsHeaderConverter):
    """One fixed-size number type; subclasses set the class attributes."""

    type_name: str  # as Kafka names it in messages: "integer", "long", ...
    schema: Schema
    _format: struct.Struct
    _deserializer_name: str  # Kafka's deserializer, named in its size error
    _accepts: tuple[type, ...] = (int,)  # the Python types standing for the Java one

    def config(self) -> ConfigDef:
        return converter_config_def()

    def configure(self, configs: Mapping[str, Any], is_key: bool = False) -> None:
        pass

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, self._accepts):
            raise DataException(f"Failed to serialize to {self.type_name} (was {type(value)}): ")
        try:
            return self._format.pack(value)
        except (struct.error, OverflowError) as e:
            raise DataException(f"Failed to serialize to {self.type_name}: {e}") from e

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(self.schema, None)
        if len(value) != self._format.size:
            cause = ValueError(
                f"Size of data received by {self._deserializer_name} is not {self._format.size}"
            )
            raise DataException(f"Failed to deserialize {self.type_name}: ") from cause
        return SchemaAndValue(self.schema, self._format.unpack(value)[0])


class ShortConverter(_NumberConverter):
    """INT16 as 2 big-endian bytes."""

    java_class_names = ("org.apache.kafka.connect.converters.ShortConverter",)
    type_name = "short"
    schema = Schema.OPTIONAL_INT16_SCHEMA
    _format = struct.Struct(">h")
    _deserializer_name = "ShortDeserializer"


class IntegerConverter(_NumberConverter):
    """INT32 as 4 big-endian bytes."""

    java_class_names = ("org.apache.kafka.connect.converters.IntegerConverter",)
    type_name = "integer"
    schema = Schema.OPTIONAL_INT32_SCHEMA
    _format = struct.Struct(">i")
    _deserializer_name = "IntegerDeserializer"


class LongConverter(_NumberConverter):
    """INT64 as 8 big-endian bytes."""

    java_class_names = ("org.apache.kafka.connect.converters.LongConverter",)
    type_name = "long"
    schema = Schema.OPTIONAL_INT64_SCHEMA
    _format = struct.Struct(">q")
    _deserializer_name = "LongDeserializer"


class FloatConverter(_NumberConverter):
    """FLOAT32 as 4 bytes, IEEE 754 big-endian."""

    java_class_names = ("org.apache.kafka.connect.converters.FloatConverter",)
    type_name = "float"
    schema = Schema.OPTIONAL_FLOAT32_SCHEMA
    _format = struct.Struct(">f")
    _deserializer_name = "Deserializer"
    _accepts = (int, float)


class DoubleConverter(_NumberConverter):
    """FLOAT64 as 8 bytes, IEEE 754 big-endian."""

    java_class_names = ("org.apache.kafka.connect.converters.DoubleConverter",)
    type_name = "double"
    schema = Schema.OPTIONAL_FLOAT64_SCHEMA
    _format = struct.Struct(">d")
    _deserializer_name = "Deserializer"
    _accepts = (int, float)


class BooleanConverter(ValueConverterAsHeaderConverter):
    """BOOLEAN as one byte: 1 for true, 0 for false."""

    java_class_names = ("org.apache.kafka.connect.converters.BooleanConverter",)
    schema = Schema.OPTIONAL_BOOLEAN_SCHEMA

    def config(self) -> ConfigDef:
        return converter_config_def()

    def configure(self, configs: Mapping[str, Any], is_key: bool = False) -> None:
        pass

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if schema is not None and schema.type is not Type.BOOLEAN:
            raise DataException(f"Invalid schema type for BooleanConverter: {schema.type.name}")
        if value is None:
            return None
        if value is True:
            return b"\x01"
        if value is False:
            return b"\x00"
        raise DataException(
            f"BooleanConverter is not compatible with objects of type {type(value)}"
        )

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(self.schema, None)
        if len(value) != 1:
            cause = ValueError("Size of data received by BooleanDeserializer is not 1")
        elif value[0] in (0, 1):
            return SchemaAndValue(self.schema, value[0] == 1)
        else:
            signed = value[0] - 256 if value[0] > 127 else value[0]
            cause = ValueError(f"Unexpected byte received by BooleanDeserializer: {signed}")
        raise DataException("Failed to deserialize boolean: ") from cause
