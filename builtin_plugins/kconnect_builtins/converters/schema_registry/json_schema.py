"""JsonSchemaConverter: Confluent's ``io.confluent.connect.json.JsonSchemaConverter``.

Connect data is written as plain JSON (no envelope) after Confluent's wire-format header, its
JSON Schema registered under the subject its strategy names. The mapping is in
:mod:`.json_schema_data`; values are encoded and decoded by functions compiled once per schema.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable
from typing import Any

import orjson
from kconnect.api.data import Schema

from kconnect_builtins.converters.schema_registry import json_schema_data
from kconnect_builtins.converters.schema_registry.base import (
    HEADER_SIZE,
    Read,
    RegistryConverter,
    Translation,
)


class JsonSchemaConverter(RegistryConverter):
    """Connect data <-> JSON validated by a JSON Schema in a schema registry."""

    java_class_names = ("io.confluent.connect.json.JsonSchemaConverter",)
    schema_type = "JSON"
    format_name = "JSON Schema"

    def translate(self, schema: Schema) -> Translation:
        node = json_schema_data.from_connect_schema(schema)
        encode = json_schema_data.compile_encoder(schema)
        dumps = orjson.dumps

        def make_writer(schema_str: str, header: bytes) -> Any:
            def write(value: Any) -> bytes:
                return header + dumps(encode(value))

            return write

        return Translation(orjson.dumps(node).decode(), schema.name, make_writer)

    def make_reader(self, schema_obj: Any, version: int | None) -> tuple[Schema | None, Read]:
        node = orjson.loads(schema_obj.schema_str)
        connect_schema = json_schema_data.to_connect_schema(node, version)
        decode = json_schema_data.compile_decoder(connect_schema)
        parse: Callable[[bytes], Any]
        if json_schema_data.has_decimal(connect_schema):
            # Exact numbers, so a Decimal keeps every digit.
            def parse_exact(payload: bytes) -> Any:
                return json.loads(payload, parse_float=decimal.Decimal)

            parse = parse_exact

        else:
            parse = orjson.loads

        def read(value: bytes) -> Any:
            return decode(parse(value[HEADER_SIZE:]))

        return connect_schema, read

    def record_name_of(self, schema_obj: Any) -> str | None:
        title = orjson.loads(schema_obj.schema_str).get("title")
        return str(title) if title is not None else None
