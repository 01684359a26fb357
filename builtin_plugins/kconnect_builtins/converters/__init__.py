"""Kafka Connect's built-in converters: JSON, String, ByteArray, the number converters and the
SimpleHeaderConverter, each matching Apache Kafka's bytes exactly.

Every class carries ``java_class_names``, so ``value.converter=org.apache.kafka.connect.json.
JsonConverter`` in a Kafka config file finds the Python class.
"""

from __future__ import annotations

from typing import Any

from kconnect.api.converter import Converter, HeaderConverter
from kconnect.api.data import Schema, SchemaAndValue


class ValueConverterAsHeaderConverter(Converter, HeaderConverter):
    """A converter that also converts header values the way it converts record values, as
    Kafka's String, Json, ByteArray and number converters do."""

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        return self.to_connect_data(topic, value)
