"""AvroConverter against a real schema registry and a real broker: every Connect type round
trips, confluent-kafka's own Avro serializer and deserializer agree with it both ways, schemas
evolve (and an incompatible change says which subject and what to do)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from kconnect.api.data import (
    Date,
    Decimal,
    Schema,
    SchemaBuilder,
    Struct,
    Time,
    Timestamp,
)
from kconnect.api.errors import DataException
from kconnect_builtins.converters.schema_registry.avro import AvroConverter

from .conftest import through_kafka

INNER = (
    SchemaBuilder.struct()
    .name("com.example.Inner")
    .field("x", Schema.INT32_SCHEMA)
    .field("s", Schema.OPTIONAL_STRING_SCHEMA)
    .build()
)


def all_types_schema() -> Schema:
    return (
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
        .field("opt_set", Schema.OPTIONAL_INT64_SCHEMA)
        .field("with_default", SchemaBuilder.string().default_value("dv").build())
        .field("opt_with_default", SchemaBuilder.int32().optional().default_value(7).build())
        .field("amount", Decimal.schema(2))
        .field("day", Date.SCHEMA)
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


def all_types_value(schema: Schema) -> Struct:
    return (
        Struct(schema)
        .put("i8", -8)
        .put("i16", 1600)
        .put("i32", 1 << 30)
        .put("i64", -(1 << 60))
        .put("f32", 1.5)
        .put("f64", 3.25)
        .put("flag", True)
        .put("text", "héllo ✓")
        .put("raw", b"\x00\xffab")
        .put("opt_set", 5)
        .put("with_default", "set")
        .put("amount", decimal.Decimal("-123.45"))
        .put("day", dt.date(2024, 2, 29))
        .put("clock", dt.time(13, 14, 15, 123000))
        .put("at", dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC))
        .put("names", ["a", "b"])
        .put("items", [Struct(INNER).put("x", 1), Struct(INNER).put("x", 2).put("s", "two")])
        .put("by_name", {"k": 1})
        .put("by_number", {1: "one", 2: "two"})
        .put("nested", Struct(INNER).put("x", 9))
    )


def converter(url: str, is_key: bool = False, **extra: Any) -> AvroConverter:
    instance = AvroConverter()
    instance.configure({"schema.registry.url": url, **extra}, is_key)
    return instance


def with_version(schema: Schema, version: int) -> Schema:
    return SchemaBuilder.from_schema(schema).version(version).build()


def test_every_connect_type_round_trips_through_registry_and_broker(
    schema_registry, bootstrap_servers, unique_topic
):
    schema = all_types_schema()
    value = all_types_value(schema)
    primitives: list[tuple[Schema, Any]] = [
        (Schema.STRING_SCHEMA, "just a string"),
        (Schema.INT8_SCHEMA, -100),
        (Schema.INT16_SCHEMA, 30000),
        (Schema.INT64_SCHEMA, 1 << 62),
        (Schema.FLOAT32_SCHEMA, 0.25),
        (Schema.BOOLEAN_SCHEMA, False),
        (Schema.BYTES_SCHEMA, b"\x01\x02"),
        (Decimal.schema(5), decimal.Decimal("3.14159")),
        (Timestamp.SCHEMA, dt.datetime(1969, 12, 31, 23, 59, 59, 1000, tzinfo=dt.UTC)),
        (SchemaBuilder.array(Schema.OPTIONAL_INT32_SCHEMA).build(), [1, None, 3]),
        (Schema.OPTIONAL_STRING_SCHEMA, "optional and set"),
    ]
    writer = converter(schema_registry.url)
    topic_values = [writer.from_connect_data(unique_topic, schema, value)]
    # One topic, one subject: the primitives go to topics of their own.
    primitive_bytes = [
        writer.from_connect_data(f"{unique_topic}-p{i}", s, v)
        for i, (s, v) in enumerate(primitives)
    ]
    # A null value is a tombstone, whatever the schema.
    assert writer.from_connect_data(unique_topic, schema, None) is None
    assert writer.from_connect_data(unique_topic, None, None) is None

    consumed = through_kafka(bootstrap_servers, unique_topic, [*topic_values, None])
    assert consumed[1] is None

    reader = converter(schema_registry.url)  # a fresh instance: nothing cached
    read = reader.to_connect_data(unique_topic, consumed[0])
    # The registry's version of the subject becomes the schema's version, as in Confluent's.
    assert read.schema == with_version(schema, 1)
    assert read.value.to_dict() == value.to_dict()
    assert read.value.get("opt_unset") is None
    assert read.value.get("opt_with_default") == 7  # the default was written for the unset field
    assert reader.to_connect_data(unique_topic, consumed[1]) == (None, None)

    for i, ((s, v), data) in enumerate(zip(primitives, primitive_bytes, strict=True)):
        got = reader.to_connect_data(f"{unique_topic}-p{i}", data)
        assert got.value == v, s
        assert SchemaBuilder.from_schema(got.schema).build().type is s.type
        assert got.schema.name == s.name and got.schema.optional == s.optional


def test_wire_format_and_subject(schema_registry, unique_topic):
    writer = converter(schema_registry.url, is_key=True)
    data = writer.from_connect_data(unique_topic, Schema.STRING_SCHEMA, "k")
    assert data is not None and data[0] == 0
    client = SchemaRegistryClient({"url": schema_registry.url})
    latest = client.get_latest_version(f"{unique_topic}-key")
    assert int.from_bytes(data[1:5], "big") == latest.schema_id
    assert data[5:] == b"\x02k"  # Avro: zig-zag length 1, then the UTF-8


def test_confluent_avro_deserializer_reads_what_we_write(schema_registry, unique_topic):
    schema = all_types_schema()
    data = converter(schema_registry.url).from_connect_data(
        unique_topic, schema, all_types_value(schema)
    )
    client = SchemaRegistryClient({"url": schema_registry.url})
    decoded = AvroDeserializer(client)(data, SerializationContext(unique_topic, MessageField.VALUE))
    assert decoded == {
        "i8": -8,
        "i16": 1600,
        "i32": 1 << 30,
        "i64": -(1 << 60),
        "f32": 1.5,
        "f64": 3.25,
        "flag": True,
        "text": "héllo ✓",
        "raw": b"\x00\xffab",
        "opt_unset": None,
        "opt_set": 5,
        "with_default": "set",
        "opt_with_default": 7,
        "amount": decimal.Decimal("-123.45"),
        "day": dt.date(2024, 2, 29),
        "clock": dt.time(13, 14, 15, 123000),
        "at": dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC),
        "names": ["a", "b"],
        "items": [{"x": 1, "s": None}, {"x": 2, "s": "two"}],
        "by_name": {"k": 1},
        "by_number": [{"key": 1, "value": "one"}, {"key": 2, "value": "two"}],
        "nested": {"x": 9, "s": None},
        "opt_nested": None,
    }


# A schema as another team's producer would write it: no Connect metadata at all.
ORDER_V1 = """
{"type": "record", "name": "Order", "namespace": "shop",
 "fields": [
   {"name": "id", "type": "long"},
   {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
   {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10,
                              "scale": 2}},
   {"name": "placed", "type": {"type": "long", "logicalType": "timestamp-millis"}},
   {"name": "note", "type": ["null", "string"], "default": null},
   {"name": "tags", "type": {"type": "map", "values": "string"}},
   {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line",
      "fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}]}}}
 ]}
"""
# The same plus a field with a default: a compatible evolution.
ORDER_V2 = ORDER_V1.replace(
    '{"name": "id", "type": "long"},',
    '{"name": "id", "type": "long"}, {"name": "channel", "type": "string", "default": "web"},',
)


def test_we_read_what_confluent_avro_serializer_writes(schema_registry, unique_topic):
    client = SchemaRegistryClient({"url": schema_registry.url})
    context = SerializationContext(unique_topic, MessageField.VALUE)
    order = {
        "id": 42,
        "status": "PAID",
        "price": decimal.Decimal("19.99"),
        "placed": dt.datetime(2025, 5, 6, 7, 8, 9, 10000, tzinfo=dt.UTC),
        "note": None,
        "tags": {"gift": "yes"},
        "lines": [{"sku": "A-1", "qty": 2}],
    }
    first = AvroSerializer(client, ORDER_V1)(order, context)
    second = AvroSerializer(client, ORDER_V2)({**order, "id": 43, "channel": "app"}, context)

    reader = converter(schema_registry.url)
    v1 = reader.to_connect_data(unique_topic, first)
    assert v1.schema.name == "shop.Order"
    assert v1.schema.version == 1
    assert v1.schema.field("price").schema.name == Decimal.LOGICAL_NAME
    assert v1.schema.field("price").schema.parameters == {
        "scale": "2",
        "connect.decimal.precision": "10",
    }
    assert v1.schema.field("note").schema.optional
    status = v1.schema.field("status").schema
    assert status.name == "shop.Status"
    assert status.parameters["io.confluent.connect.avro.Enum"] == "shop.Status"
    line_schema = v1.schema.field("lines").schema.value_schema
    assert line_schema.name == "shop.Line"
    assert {**v1.value.to_dict(), "lines": None} == {**order, "lines": None}
    assert v1.value.get("lines") == [Struct(line_schema).put("sku", "A-1").put("qty", 2)]

    v2 = reader.to_connect_data(unique_topic, second)
    assert v2.schema.version == 2
    assert v2.value.get("channel") == "app"
    assert v2.schema.field("channel").schema.default_value == "web"
    assert v2.value.get("id") == 43


def test_compatible_evolution_registers_a_new_version(schema_registry, unique_topic):
    client = SchemaRegistryClient({"url": schema_registry.url})
    subject = f"{unique_topic}-value"
    v1 = SchemaBuilder.struct().name("evo.Person").field("name", Schema.STRING_SCHEMA).build()
    v2 = (
        SchemaBuilder.struct()
        .name("evo.Person")
        .field("name", Schema.STRING_SCHEMA)
        .field("email", Schema.OPTIONAL_STRING_SCHEMA)
        .build()
    )
    writer = converter(schema_registry.url)
    old = writer.from_connect_data(unique_topic, v1, Struct(v1).put("name", "ann"))
    client.set_compatibility(subject, "BACKWARD")
    new = writer.from_connect_data(
        unique_topic, v2, Struct(v2).put("name", "bob").put("email", "b@example.com")
    )
    assert client.get_versions(subject) == [1, 2]
    reader = converter(schema_registry.url)
    assert reader.to_connect_data(unique_topic, old).value.to_dict() == {"name": "ann"}
    assert reader.to_connect_data(unique_topic, new).value.to_dict() == {
        "name": "bob",
        "email": "b@example.com",
    }


def test_incompatible_change_names_subject_answer_and_fix(schema_registry, unique_topic):
    client = SchemaRegistryClient({"url": schema_registry.url})
    subject = f"{unique_topic}-value"
    v1 = SchemaBuilder.struct().name("evo.Person").field("name", Schema.STRING_SCHEMA).build()
    v2 = SchemaBuilder.struct().name("evo.Person").field("age", Schema.INT32_SCHEMA).build()
    writer = converter(schema_registry.url)
    writer.from_connect_data(unique_topic, v1, Struct(v1).put("name", "ann"))
    client.set_compatibility(subject, "BACKWARD")
    with pytest.raises(DataException) as failure:
        writer.from_connect_data(unique_topic, v2, Struct(v2).put("age", 3))
    message = str(failure.value)
    assert f'subject "{subject}"' in message
    assert "HTTP 409" in message  # the registry's answer
    assert "optional or with a default" in message  # the fix
    assert client.get_versions(subject) == [1]


def test_registry_schema_with_auto_register_off_and_latest_version(schema_registry, unique_topic):
    client = SchemaRegistryClient({"url": schema_registry.url})
    subject = f"{unique_topic}-value"
    schema = SchemaBuilder.struct().name("shop.Tag").field("label", Schema.STRING_SCHEMA).build()
    strict = converter(schema_registry.url, **{"auto.register.schemas": "false"})
    with pytest.raises(DataException, match="auto.register.schemas=false"):
        strict.from_connect_data(unique_topic, schema, Struct(schema).put("label", "x"))
    registered = client.register_schema(
        subject,
        RegistrySchema(
            '{"type":"record","name":"Tag","namespace":"shop","fields":'
            '[{"name":"label","type":"string"},'
            '{"name":"weight","type":"int","default":1}]}',
            "AVRO",
        ),
    )
    latest = converter(
        schema_registry.url,
        **{"auto.register.schemas": "false", "use.latest.version": "true"},
    )
    data = latest.from_connect_data(unique_topic, schema, Struct(schema).put("label", "y"))
    assert data is not None and int.from_bytes(data[1:5], "big") == registered
    decoded = AvroDeserializer(client)(data, SerializationContext(unique_topic, MessageField.VALUE))
    assert decoded == {"label": "y", "weight": 1}


def test_record_name_strategies(schema_registry, unique_topic):
    client = SchemaRegistryClient({"url": schema_registry.url})
    schema = (
        SchemaBuilder.struct()
        .name(f"names.{unique_topic.replace('-', '_')}")
        .field("v", Schema.INT32_SCHEMA)
        .build()
    )
    for strategy, subject in (
        ("io.confluent.kafka.serializers.subject.RecordNameStrategy", schema.name),
        ("TopicRecordNameStrategy", f"{unique_topic}-{schema.name}"),
    ):
        writer = converter(schema_registry.url, **{"value.subject.name.strategy": strategy})
        writer.from_connect_data(unique_topic, schema, Struct(schema).put("v", 1))
        assert client.get_versions(subject) == [1]
