"""ProtobufConverter without a registry: Confluent's message-index list, the plugin names and
keys, and the Connect -> proto3 mapping details (field numbers, connect.type, proto3 optional)."""

from __future__ import annotations

import base64

import pytest
from confluent_kafka.schema_registry.confluent import meta_pb2
from google.protobuf import descriptor_pb2
from kconnect.api.data import Decimal, Schema, SchemaBuilder
from kconnect.api.errors import DataException
from kconnect.plugins import registry
from kconnect_builtins.converters.schema_registry import protobuf_schema
from kconnect_builtins.converters.schema_registry.protobuf import (
    ProtobufConverter,
    decode_indexes,
    encode_indexes,
    parse_schema_str,
)


@pytest.mark.parametrize(
    ("indexes", "wire"),
    [
        ([0], b"\x00"),  # the common case: one byte
        ([1], b"\x02\x02"),  # count 1, index 1, both zig-zag
        ([0, 2], b"\x04\x00\x04"),
        ([70], b"\x02\x8c\x01"),  # 140 as a two-byte varint
    ],
)
def test_message_index_list_is_confluents(indexes, wire):
    assert encode_indexes(indexes) == wire
    assert decode_indexes(b"\xff" + wire + b"payload", 1) == (indexes, 1 + len(wire))


def test_truncated_index_list_is_a_data_error():
    with pytest.raises(DataException, match="Truncated"):
        decode_indexes(b"\x02", 0)


@pytest.mark.parametrize(
    "name", ["io.confluent.connect.protobuf.ProtobufConverter", "ProtobufConverter"]
)
def test_found_by_confluent_class_name(name):
    assert registry().find("converter", name) is ProtobufConverter


def test_protobuf_keys_are_declared():
    keys = ProtobufConverter().config().config_keys
    for key in (
        "schema.registry.url",
        "optional.for.nullables",
        "wrapper.for.nullables",
        "wrapper.for.raw.primitives",
        "enhanced.protobuf.schema.support",
    ):
        assert key in keys


def _fields(schema: Schema, **options: bool) -> dict[str, descriptor_pb2.FieldDescriptorProto]:
    file, _ = protobuf_schema.from_connect_schema(schema, protobuf_schema.Options(**options))
    return {f.name: f for f in file.message_type[0].field}


def test_connect_type_and_decimal_params_in_field_meta():
    schema = (
        SchemaBuilder.struct()
        .name("a.B")
        .field("small", Schema.INT8_SCHEMA)
        .field("short", Schema.INT16_SCHEMA)
        .field("price", Decimal.builder(3).parameter("connect.decimal.precision", "9").build())
        .build()
    )
    fields = _fields(schema)
    meta = {n: dict(f.options.Extensions[meta_pb2.field_meta].params) for n, f in fields.items()}
    assert meta == {
        "small": {"connect.type": "int8"},
        "short": {"connect.type": "int16"},
        "price": {"precision": "9", "scale": "3"},
    }
    assert fields["price"].type_name == ".confluent.type.Decimal"


def test_optional_for_nullables_uses_proto3_optional_with_synthetic_oneofs_last():
    union = (
        SchemaBuilder.struct()
        .name("io.confluent.connect.protobuf.Union.pick")
        .field("a", SchemaBuilder.string().optional().parameter(protobuf_schema.TAG, "5").build())
        .optional()
        .build()
    )
    schema = (
        SchemaBuilder.struct()
        .name("a.B")
        .field("maybe", Schema.OPTIONAL_STRING_SCHEMA)
        .field("pick_0", union)
        .field("sure", Schema.INT32_SCHEMA)
        .build()
    )
    file, _ = protobuf_schema.from_connect_schema(
        schema, protobuf_schema.Options(optional_for_nullables=True)
    )
    message = file.message_type[0]
    assert [o.name for o in message.oneof_decl] == ["pick", "_maybe"]
    fields = {f.name: f for f in message.field}
    assert fields["maybe"].proto3_optional and fields["maybe"].oneof_index == 1
    assert fields["a"].oneof_index == 0 and fields["a"].number == 5
    assert not fields["sure"].proto3_optional
    assert [fields[n].number for n in ("maybe", "sure")] == [1, 2]


def test_unnamed_struct_gets_confluents_default_name():
    schema = SchemaBuilder.struct().field("v", Schema.INT32_SCHEMA).build()
    file, full_name = protobuf_schema.from_connect_schema(schema, protobuf_schema.Options())
    assert full_name == "ConnectDefault1" and not file.package


def test_schema_text_instead_of_serialized_form_is_explained():
    with pytest.raises(DataException, match="serialized form"):
        parse_schema_str('syntax = "proto3"; message A {}', "x")
    file = descriptor_pb2.FileDescriptorProto(name="f.proto")
    assert (
        parse_schema_str(base64.b64encode(file.SerializeToString()).decode(), "x").name == "f.proto"
    )


def test_array_of_arrays_is_refused_with_the_fix():
    schema = (
        SchemaBuilder.struct()
        .name("a.B")
        .field(
            "grid", SchemaBuilder.array(SchemaBuilder.array(Schema.INT32_SCHEMA).build()).build()
        )
        .build()
    )
    with pytest.raises(DataException, match="wrap the inner array in a struct"):
        protobuf_schema.from_connect_schema(schema, protobuf_schema.Options())
