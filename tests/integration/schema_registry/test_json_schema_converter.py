"""JsonSchemaConverter against a real schema registry and a real broker: every Connect type
round trips, and confluent-kafka's own JSON Schema serializer and deserializer agree with it."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from kconnect.api.data import Decimal, Schema, SchemaBuilder, Struct, Time, Timestamp
from kconnect_builtins.converters.schema_registry.json_schema import JsonSchemaConverter

from .conftest import through_kafka

INNER = (
    SchemaBuilder.struct()
    .name("com.example.Inner")
    .field("x", Schema.INT32_SCHEMA)
    .field("s", Schema.OPTIONAL_STRING_SCHEMA)
    .build()
)
ALL_TYPES = (
    SchemaBuilder.struct()
    .name("com.example.AllTypes")
    .field("i8", Schema.INT8_SCHEMA)
    .field("i16", Schema.INT16_SCHEMA)
    .field("i32", Schema.INT32_SCHEMA)
    .field("i64", Schema.INT64_SCHEMA)
    .field("f32", Schema.FLOAT32_SCHEMA)
    .field("f64", Schema.FLOAT64_SCHEMA)
    .field("flag", Schema.BOOLEAN_SCHEMA)
    .field("text", Schema.STRING_SCHEMA)
    .field("raw", Schema.BYTES_SCHEMA)
    .field("opt_unset", Schema.OPTIONAL_STRING_SCHEMA)
    .field("with_default", SchemaBuilder.string().default_value("dv").build())
    .field("amount", Decimal.schema(2))
    .field(
        "day", SchemaBuilder.int32().name("org.apache.kafka.connect.data.Date").version(1).build()
    )
    .field("clock", Time.SCHEMA)
    .field("at", Timestamp.SCHEMA)
    .field("names", SchemaBuilder.array(Schema.STRING_SCHEMA).build())
    .field("items", SchemaBuilder.array(INNER).build())
    .field("by_name", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build())
    .field("by_number", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build())
    .field("nested", INNER)
    .field("opt_nested", SchemaBuilder.from_schema(INNER).optional().build())
    .build()
)


def all_types_value() -> Struct:
    return (
        Struct(ALL_TYPES)
        .put("i8", -8)
        .put("i16", 1600)
        .put("i32", 1 << 30)
        .put("i64", -(1 << 60))
        .put("f32", 1.5)
        .put("f64", 3.25)
        .put("flag", True)
        .put("text", "héllo ✓")
        .put("raw", b"\x00\xffab")
        .put("amount", decimal.Decimal("-123456789012345678.45"))
        .put("day", dt.date(2024, 2, 29))
        .put("clock", dt.time(13, 14, 15, 123000))
        .put("at", dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC))
        .put("names", ["a", "b"])
        .put("items", [Struct(INNER).put("x", 1), Struct(INNER).put("x", 2).put("s", "two")])
        .put("by_name", {"k": 1})
        .put("by_number", {1: "one", 2: "two"})
        .put("nested", Struct(INNER).put("x", 9))
    )


def converter(url: str, **extra: Any) -> JsonSchemaConverter:
    instance = JsonSchemaConverter()
    instance.configure({"schema.registry.url": url, **extra}, False)
    return instance


def test_every_connect_type_round_trips(schema_registry, bootstrap_servers, unique_topic):
    value = all_types_value()
    data = converter(schema_registry.url).from_connect_data(unique_topic, ALL_TYPES, value)
    consumed = through_kafka(bootstrap_servers, unique_topic, [data, None])  # and a tombstone
    reader = converter(schema_registry.url)
    read = reader.to_connect_data(unique_topic, consumed[0])
    assert read.schema == SchemaBuilder.from_schema(ALL_TYPES).version(1).build()
    expected = value.to_dict()
    expected["with_default"] = "dv"  # unset: the default was written
    assert read.value.to_dict() == expected
    assert read.value.get("amount") == decimal.Decimal("-123456789012345678.45")  # every digit
    assert reader.to_connect_data(unique_topic, consumed[1]) == (None, None)


def test_confluent_json_deserializer_reads_what_we_write(schema_registry, unique_topic):
    data = converter(schema_registry.url).from_connect_data(
        unique_topic, ALL_TYPES, all_types_value()
    )
    client = SchemaRegistryClient({"url": schema_registry.url})
    decoded = JSONDeserializer(None, schema_registry_client=client)(
        data, SerializationContext(unique_topic, MessageField.VALUE)
    )
    assert decoded["text"] == "héllo ✓"
    assert decoded["raw"] == "AP9hYg=="
    assert decoded["amount"] == -123456789012345678.45
    assert decoded["day"] == 19782 and decoded["at"] == 1704164645678
    assert decoded["by_number"] == [{"key": 1, "value": "one"}, {"key": 2, "value": "two"}]
    assert decoded["items"] == [{"x": 1, "s": None}, {"x": 2, "s": "two"}]
    assert decoded["opt_nested"] is None and decoded["with_default"] == "dv"


PERSON = """{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "shop.Person",
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "age": {"type": "integer"},
    "score": {"type": "number"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "address": {"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]}
  },
  "required": ["name", "age"]
}"""


def test_we_read_what_confluent_json_serializer_writes(schema_registry, unique_topic):
    client = SchemaRegistryClient({"url": schema_registry.url})
    context = SerializationContext(unique_topic, MessageField.VALUE)
    data = JSONSerializer(PERSON, client)(
        {"name": "ann", "age": 41, "score": 9.5, "tags": ["a"], "address": {"city": "Oslo"}},
        context,
    )
    read = converter(schema_registry.url).to_connect_data(unique_topic, data)
    schema = read.schema
    assert schema.name == "shop.Person" and schema.version == 1
    assert [f.name for f in schema.fields] == ["name", "age", "score", "tags", "address"]
    assert not schema.field("name").schema.optional  # listed in "required"
    assert schema.field("score").schema.optional
    assert schema.field("age").schema.type.name == "INT64"
    assert read.value.get("name") == "ann" and read.value.get("age") == 41
    assert read.value.get("score") == 9.5 and read.value.get("tags") == ["a"]
    assert read.value.get("address").get("city") == "Oslo"
