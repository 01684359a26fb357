"""ProtobufConverter against a real schema registry and a real broker: every Connect type round
trips (in Confluent's ProtobufData shape), confluent-kafka's own Protobuf serializer and
deserializer agree with it both ways (message classes built here from hand-written
descriptors, not from kconnect's mapping), and schemas evolve compatibly."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, message_factory, text_format
from kconnect.api.data import Decimal, Schema, SchemaBuilder, Struct, Type
from kconnect.api.errors import DataException
from kconnect_builtins.converters.schema_registry.protobuf import ProtobufConverter, new_pool

from .conftest import through_kafka
from .test_avro_converter import INNER, all_types_schema, all_types_value

TAG = "io.confluent.connect.protobuf.Tag"
ENUM = "io.confluent.connect.protobuf.Enum"


def converter(url: str, is_key: bool = False, **extra: Any) -> ProtobufConverter:
    instance = ProtobufConverter()
    instance.configure({"schema.registry.url": url, **extra}, is_key)
    return instance


def message_class(proto_text: str, full_name: str) -> Any:
    """A message class from a FileDescriptorProto written by hand in protobuf's text format
    (what protoc would make of the .proto in the comment next to it)."""
    file = text_format.Parse(proto_text, descriptor_pb2.FileDescriptorProto())
    pool = new_pool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))


COLOR = (
    SchemaBuilder.string()
    .name("Color")
    .parameter(ENUM, "Color")
    .parameter(f"{ENUM}.RED", "0")
    .parameter(f"{ENUM}.BLUE", "1")
    .optional()
    .build()
)


def test_every_connect_type_round_trips_through_registry_and_broker(
    schema_registry, bootstrap_servers, unique_topic
):
    schema = all_types_schema()
    value = all_types_value(schema)
    strict = converter(schema_registry.url, **{"optional.for.nullables": "true"})
    plain = converter(schema_registry.url)
    written = [
        plain.from_connect_data(unique_topic, schema, value),
        strict.from_connect_data(f"{unique_topic}-opt", schema, value),
    ]
    assert plain.from_connect_data(unique_topic, schema, None) is None  # a tombstone
    consumed = through_kafka(bootstrap_servers, unique_topic, [written[0], None])
    assert consumed[1] is None

    # Confluent's default mapping: every field reads back optional, with its tag; proto3
    # keeps no null for a plain scalar, so an unset optional string reads as "".
    reader = converter(schema_registry.url)
    read = reader.to_connect_data(unique_topic, consumed[0])
    assert read.schema.name == "AllTypes" and read.schema.version == 1
    assert all(f.schema.optional for f in read.schema.fields)
    assert [f.schema.parameters[TAG] for f in read.schema.fields] == [str(n) for n in range(1, 24)]
    assert read.schema.field("i8").schema.type is Type.INT8
    assert read.schema.field("i16").schema.type is Type.INT16
    assert read.schema.field("amount").schema.name == Decimal.LOGICAL_NAME
    assert read.schema.field("amount").schema.parameters["scale"] == "2"
    assert read.schema.field("by_number").schema.key_schema.type is Type.INT32
    expected = value.to_dict()
    got = read.value.to_dict()
    assert [i.to_dict() for i in got.pop("items")] == [{"x": 1, "s": ""}, {"x": 2, "s": "two"}]
    expected.pop("items")
    assert got == {**expected, "opt_unset": "", "nested": {"x": 9, "s": ""}}
    assert reader.to_connect_data(unique_topic, consumed[1]) == (None, None)

    # optional.for.nullables: proto3 optional fields, so nulls and required-ness survive.
    exact = converter(schema_registry.url, **{"optional.for.nullables": "true"})
    read = exact.to_connect_data(f"{unique_topic}-opt", written[1])
    assert read.value.get("opt_unset") is None
    assert [i.to_dict() for i in read.value.get("items")] == [
        {"x": 1, "s": None},
        {"x": 2, "s": "two"},
    ]
    assert not read.schema.field("i32").schema.optional
    assert read.schema.field("opt_set").schema.optional
    assert {**read.value.to_dict(), "items": None} == {**value.to_dict(), "items": None}

    # Primitives at the top level travel as google.protobuf wrappers, read as raw values.
    for i, (s, v) in enumerate(
        [
            (Schema.STRING_SCHEMA, "just a string"),
            (Schema.INT64_SCHEMA, 1 << 62),
            (Schema.FLOAT64_SCHEMA, 0.25),
            (Schema.BOOLEAN_SCHEMA, True),
            (Schema.BYTES_SCHEMA, b"\x01\x02"),
        ]
    ):
        data = plain.from_connect_data(f"{unique_topic}-p{i}", s, v)
        got_primitive = reader.to_connect_data(f"{unique_topic}-p{i}", data)
        assert got_primitive.value == v and got_primitive.schema.type is s.type


def test_enums_and_oneofs_round_trip(schema_registry, unique_topic):
    union = (
        SchemaBuilder.struct()
        .name("io.confluent.connect.protobuf.Union.choice")
        .field("word", SchemaBuilder.string().optional().parameter(TAG, "3").build())
        .field("number", SchemaBuilder.int64().optional().parameter(TAG, "4").build())
        .optional()
        .build()
    )
    schema = (
        SchemaBuilder.struct()
        .name("shapes.Shape")
        .field("color", COLOR)
        .field("choice_0", union)
        .field("id", SchemaBuilder.int32().optional().parameter(TAG, "5").build())
        .build()
    )
    value = Struct(schema).put("color", "BLUE").put("choice_0", Struct(union).put("number", 7))
    writer = converter(schema_registry.url)
    data = writer.from_connect_data(unique_topic, schema, value)
    read = converter(schema_registry.url).to_connect_data(unique_topic, data)
    assert read.value.get("color") == "BLUE"
    assert read.schema.field("color").schema.parameters[f"{ENUM}.BLUE"] == "1"
    assert read.value.get("choice_0").get("number") == 7
    assert read.value.get("choice_0").get("word") is None
    assert read.schema.field("choice_0").schema.name == "io.confluent.connect.protobuf.Union.choice"


def test_wire_format_and_subject(schema_registry, unique_topic):
    schema = SchemaBuilder.struct().name("k.Key").field("id", Schema.INT32_SCHEMA).build()
    writer = converter(schema_registry.url, is_key=True)
    data = writer.from_connect_data(unique_topic, schema, Struct(schema).put("id", 150))
    client = SchemaRegistryClient({"url": schema_registry.url})
    latest = client.get_latest_version(f"{unique_topic}-key")
    assert data[0] == 0 and int.from_bytes(data[1:5], "big") == latest.schema_id
    # message index [0] as the single byte 0, then field 1 (varint) = 150
    assert data[5:] == b"\x00\x08\x96\x01"


# The message kconnect's mapping must produce for all_types_schema(), written by hand:
#   syntax = "proto3"; package com.example;
#   message AllTypes { int32 i8 = 1 [(confluent.field_meta).params = {connect.type: int8}]; ...
#     repeated Inner items = 19; repeated ConnectDefault1Entry by_name = 20; ... }
ALL_TYPES_PROTO = """
name: "all_types.proto" package: "com.example" syntax: "proto3"
dependency: "confluent/type/decimal.proto" dependency: "google/type/date.proto"
dependency: "google/type/timeofday.proto" dependency: "google/protobuf/timestamp.proto"
message_type {
  name: "AllTypes"
  field { name: "i8" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 }
  field { name: "i16" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 }
  field { name: "i32" number: 3 label: LABEL_OPTIONAL type: TYPE_INT32 }
  field { name: "i64" number: 4 label: LABEL_OPTIONAL type: TYPE_INT64 }
  field { name: "f32" number: 5 label: LABEL_OPTIONAL type: TYPE_FLOAT }
  field { name: "f64" number: 6 label: LABEL_OPTIONAL type: TYPE_DOUBLE }
  field { name: "flag" number: 7 label: LABEL_OPTIONAL type: TYPE_BOOL }
  field { name: "text" number: 8 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "raw" number: 9 label: LABEL_OPTIONAL type: TYPE_BYTES }
  field { name: "opt_unset" number: 10 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "opt_set" number: 11 label: LABEL_OPTIONAL type: TYPE_INT64 }
  field { name: "with_default" number: 12 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "opt_with_default" number: 13 label: LABEL_OPTIONAL type: TYPE_INT32 }
  field { name: "amount" number: 14 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".confluent.type.Decimal" }
  field { name: "day" number: 15 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.type.Date" }
  field { name: "clock" number: 16 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.type.TimeOfDay" }
  field { name: "at" number: 17 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Timestamp" }
  field { name: "names" number: 18 label: LABEL_REPEATED type: TYPE_STRING }
  field { name: "items" number: 19 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".com.example.AllTypes.Inner" }
  field { name: "by_name" number: 20 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".com.example.AllTypes.ConnectDefault1Entry" }
  field { name: "by_number" number: 21 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".com.example.AllTypes.ConnectDefault2Entry" }
  field { name: "nested" number: 22 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".com.example.AllTypes.Inner" }
  field { name: "opt_nested" number: 23 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".com.example.AllTypes.Inner" }
  nested_type { name: "Inner"
    field { name: "x" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 }
    field { name: "s" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING } }
  nested_type { name: "ConnectDefault1Entry"
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 } }
  nested_type { name: "ConnectDefault2Entry"
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING } }
}
"""


def test_confluent_protobuf_deserializer_reads_what_we_write(schema_registry, unique_topic):
    schema = all_types_schema()
    data = converter(schema_registry.url).from_connect_data(
        unique_topic, schema, all_types_value(schema)
    )
    AllTypes = message_class(ALL_TYPES_PROTO, "com.example.AllTypes")
    client = SchemaRegistryClient({"url": schema_registry.url})
    deserializer = ProtobufDeserializer(AllTypes, {"use.deprecated.format": False}, client)
    m = deserializer(data, SerializationContext(unique_topic, MessageField.VALUE))
    assert (m.i8, m.i16, m.i32, m.i64, m.f32, m.f64, m.flag) == (
        -8,
        1600,
        1 << 30,
        -(1 << 60),
        1.5,
        3.25,
        True,
    )
    assert (m.text, m.raw, m.opt_unset, m.opt_set) == ("héllo ✓", b"\x00\xffab", "", 5)
    assert (m.with_default, m.opt_with_default) == ("set", 7)
    # confluent.type.Decimal: the unscaled value as big-endian two's complement, and the scale
    assert int.from_bytes(m.amount.value, "big", signed=True) == -12345
    assert m.amount.scale == 2
    assert (m.day.year, m.day.month, m.day.day) == (2024, 2, 29)
    assert (m.clock.hours, m.clock.minutes, m.clock.seconds, m.clock.nanos) == (
        13,
        14,
        15,
        123_000_000,
    )
    at = dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
    assert m.at.ToDatetime(tzinfo=dt.UTC) == at
    assert list(m.names) == ["a", "b"]
    assert [(i.x, i.s) for i in m.items] == [(1, ""), (2, "two")]
    assert [(e.key, e.value) for e in m.by_name] == [("k", 1)]
    assert sorted((e.key, e.value) for e in m.by_number) == [(1, "one"), (2, "two")]
    assert m.nested.x == 9 and not m.HasField("opt_nested")


# Another team's producer: an Order with an enum, a oneof, a map<string,string>, a proto3
# optional field and a nested message, and a second top-level message (message index [1]).
ORDER_PROTO = """
name: "shop/order.proto" package: "shop" syntax: "proto3"
dependency: "google/protobuf/timestamp.proto" dependency: "confluent/type/decimal.proto"
message_type {
  name: "Order"
  field { name: "id" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 }
  field { name: "status" number: 2 label: LABEL_OPTIONAL type: TYPE_ENUM
          type_name: ".shop.Order.Status" }
  field { name: "price" number: 3 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".confluent.type.Decimal" }
  field { name: "placed" number: 4 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".google.protobuf.Timestamp" }
  field { name: "note" number: 5 label: LABEL_OPTIONAL type: TYPE_STRING
          oneof_index: 1 proto3_optional: true }
  field { name: "tags" number: 6 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".shop.Order.TagsEntry" }
  field { name: "lines" number: 7 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".shop.Order.Line" }
  field { name: "email" number: 8 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 0 }
  field { name: "phone" number: 9 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 0 }
  nested_type { name: "TagsEntry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING } }
  nested_type { name: "Line"
    field { name: "sku" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "qty" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 } }
  enum_type { name: "Status" value { name: "NEW" number: 0 } value { name: "PAID" number: 1 } }
  oneof_decl { name: "contact" }
  oneof_decl { name: "_note" }
}
message_type {
  name: "Refund"
  field { name: "order_id" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 }
}
"""


def _serialize(client: SchemaRegistryClient, cls: Any, message: Any, topic: str) -> bytes:
    serializer = ProtobufSerializer(cls, client, {"use.deprecated.format": False})
    return serializer(message, SerializationContext(topic, MessageField.VALUE))


def test_we_read_what_confluent_protobuf_serializer_writes(schema_registry, unique_topic):
    client = SchemaRegistryClient({"url": schema_registry.url})
    Order = message_class(ORDER_PROTO, "shop.Order")
    order = Order(
        id=42,
        status="PAID",
        price={"value": (1999).to_bytes(2, "big", signed=True), "precision": 4, "scale": 2},
        placed={"seconds": 1746515289, "nanos": 10_000_000},
        tags={"gift": "yes"},
        lines=[{"sku": "A-1", "qty": 2}],
        phone="555",
    )
    data = _serialize(client, Order, order, unique_topic)

    read = converter(schema_registry.url).to_connect_data(unique_topic, data)
    schema = read.schema
    assert schema.name == "Order" and schema.version == 1
    assert [f.name for f in schema.fields][0] == "contact_0"  # oneofs first, as Confluent's
    assert schema.field("status").schema.parameters[ENUM] == "Status"
    assert schema.field("tags").schema.type is Type.MAP
    assert schema.field("price").schema.name == Decimal.LOGICAL_NAME
    value = read.value
    assert value.get("id") == 42 and value.get("status") == "PAID"
    assert value.get("price") == decimal.Decimal("19.99")
    assert value.get("placed") == dt.datetime(2025, 5, 6, 7, 8, 9, 10000, tzinfo=dt.UTC)
    assert value.get("note") is None  # proto3 optional, unset
    assert value.get("tags") == {"gift": "yes"}
    assert [line.to_dict() for line in value.get("lines")] == [{"sku": "A-1", "qty": 2}]
    assert value.get("contact_0").to_dict() == {"email": None, "phone": "555"}

    # The second message of the file: message index [1] on the wire.
    Refund = message_class(ORDER_PROTO, "shop.Refund")
    refund = _serialize(client, Refund, Refund(order_id=42), f"{unique_topic}-refunds")
    assert refund[5:7] == b"\x02\x02"  # zig-zag: one index, 1
    read = converter(schema_registry.url).to_connect_data(f"{unique_topic}-refunds", refund)
    assert read.schema.name == "Refund" and read.value.get("order_id") == 42


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
    writer = converter(schema_registry.url, **{"optional.for.nullables": "true"})
    old = writer.from_connect_data(unique_topic, v1, Struct(v1).put("name", "ann"))
    # No compatibility level is set: Apicurio 2.4's checker parses only .proto text, and
    # kconnect (like confluent-kafka's serializer) registers the serialized descriptor.
    new = writer.from_connect_data(
        unique_topic, v2, Struct(v2).put("name", "bob").put("email", "b@example.com")
    )
    assert client.get_versions(subject) == [1, 2]
    # The added field took the next number (2); the old field kept its number and encoding.
    assert old[1:5] != new[1:5]
    assert (old[5:], new[5:]) == (b"\x00\x0a\x03ann", b"\x00\x0a\x03bob\x12\x0db@example.com")
    reader = converter(schema_registry.url, **{"optional.for.nullables": "true"})
    first = reader.to_connect_data(unique_topic, old)
    second = reader.to_connect_data(unique_topic, new)
    assert (first.schema.version, first.value.to_dict()) == (1, {"name": "ann"})
    assert (second.schema.version, second.value.to_dict()) == (
        2,
        {"name": "bob", "email": "b@example.com"},
    )


def test_unsupported_root_schema_says_what_to_do(schema_registry, unique_topic):
    writer = converter(schema_registry.url)
    array = SchemaBuilder.array(Schema.INT32_SCHEMA).build()
    with pytest.raises(DataException, match="wrap arrays, maps and logical types in a struct"):
        writer.from_connect_data(unique_topic, array, [1])
    nested = SchemaBuilder.struct().name("n.N").field("inner", INNER).build()
    assert writer.from_connect_data(
        unique_topic, nested, Struct(nested).put("inner", Struct(INNER).put("x", 1))
    )
