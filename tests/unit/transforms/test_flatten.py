"""Flatten, after Kafka's FlattenTest and the connect.html example."""

from __future__ import annotations

import pytest
from kconnect.api import DataException, Schema, SchemaBuilder, Struct, Type
from kconnect_builtins.transforms.flatten import Flatten

from ._records import source_record

PRIMITIVES = (
    SchemaBuilder.struct()
    .field("int8", Schema.INT8_SCHEMA)
    .field("int16", Schema.INT16_SCHEMA)
    .field("int32", Schema.INT32_SCHEMA)
    .field("int64", Schema.INT64_SCHEMA)
    .field("float32", Schema.FLOAT32_SCHEMA)
    .field("float64", Schema.FLOAT64_SCHEMA)
    .field("boolean", Schema.BOOLEAN_SCHEMA)
    .field("string", Schema.STRING_SCHEMA)
    .field("bytes", Schema.BYTES_SCHEMA)
    .build()
)


def value_xform(**props) -> Flatten:
    xform = Flatten.Value()
    xform.configure(props)
    return xform


def test_top_level_struct_or_map_required():
    with pytest.raises(DataException):
        value_xform().apply(source_record(Schema.INT32_SCHEMA, 42))
    with pytest.raises(DataException, match="Only Map objects supported"):
        value_xform().apply(source_record(None, 42))


def test_nested_struct():
    primitives = (
        Struct(PRIMITIVES).put("int8", 8).put("int16", 16).put("int32", 32).put("int64", 64)
        .put("float32", 32.0).put("float64", 64.0).put("boolean", True).put("string", "stringy")
        .put("bytes", b"bytes")
    )  # fmt: skip
    one = SchemaBuilder.struct().field("B", PRIMITIVES).build()
    two = SchemaBuilder.struct().field("A", one).build()
    value = Struct(two).put("A", Struct(one).put("B", primitives))
    out = value_xform().apply(source_record(two, value))
    assert out.value_schema.type is Type.STRUCT
    assert len(out.value_schema.fields) == 9
    assert out.value.get("A.B.int8") == 8
    assert out.value.get("A.B.string") == "stringy"
    assert out.value.get("A.B.bytes") == b"bytes"
    assert out.value_schema.field("A.B.int16").schema == Schema.INT16_SCHEMA
    out.value.validate()


def test_nested_map_with_delimiter():
    value = {"A": {"B": {"int8": 8, "string": "stringy", "boolean": True}}}
    out = value_xform(delimiter="#").apply(source_record(None, value))
    assert out.value == {"A#B#int8": 8, "A#B#string": "stringy", "A#B#boolean": True}


def test_docs_example():
    # connect.html: {"content": {"id": 42, "name": {"first": "David", "middle": null, "last": "Wong"}}}
    value = {"content": {"id": 42, "name": {"first": "David", "middle": None, "last": "Wong"}}}
    out = value_xform().apply(source_record(None, value))
    assert out.value == {
        "content.id": 42,
        "content.name.first": "David",
        "content.name.middle": None,
        "content.name.last": "Wong",
    }


def test_optional_field_struct():
    inner = SchemaBuilder.struct().field("opt_int32", Schema.OPTIONAL_INT32_SCHEMA).build()
    outer = SchemaBuilder.struct().field("B", inner).build()
    value = Struct(outer).put("B", Struct(inner).put("opt_int32", None))
    out = value_xform().apply(source_record(outer, value))
    assert out.value.get("B.opt_int32") is None
    assert out.value_schema.field("B.opt_int32").schema == Schema.OPTIONAL_INT32_SCHEMA


def test_optional_struct():
    schema = (
        SchemaBuilder.struct().optional().field("opt_int32", Schema.OPTIONAL_INT32_SCHEMA).build()
    )
    out = value_xform().apply(source_record(schema, None))
    assert out.value is None


def test_optional_nested_struct_makes_children_optional():
    inner = SchemaBuilder.struct().optional().field("req", Schema.INT32_SCHEMA).build()
    outer = SchemaBuilder.struct().field("B", inner).build()
    out = value_xform().apply(source_record(outer, Struct(outer).put("B", None)))
    assert out.value.get("B.req") is None
    assert out.value_schema.field("B.req").schema == Schema.OPTIONAL_INT32_SCHEMA


def test_nested_field_defaults_kept():
    child = (
        SchemaBuilder.struct().optional()
        .field("opt_field", SchemaBuilder.string().optional().default_value("child_default").build())
        .build()
    )  # fmt: skip
    schema = SchemaBuilder.struct().field("c", child).build()
    out = value_xform().apply(source_record(schema, Struct(schema)))
    expected = SchemaBuilder.string().optional().default_value("child_default").build()
    assert out.value_schema.field("c.opt_field").schema == expected
    assert out.value.get("c.opt_field") == "child_default"


def test_key():
    xform = Flatten.Key()
    xform.configure({})
    out = xform.apply(source_record(key={"A": {"B": 12}}))
    assert out.key == {"A.B": 12}


def test_arrays_are_left_alone():
    value = {"a": [1, {"b": 2}]}
    assert value_xform().apply(source_record(None, value)).value == value
    schema = (
        SchemaBuilder.struct()
        .field("arr", SchemaBuilder.array(Schema.INT32_SCHEMA).build())
        .build()
    )
    struct = Struct(schema).put("arr", [1, 2])
    out = value_xform().apply(source_record(schema, struct))
    assert out.value == struct and out.value_schema == schema


def test_maps_with_schema_are_rejected():
    schema = (
        SchemaBuilder.struct()
        .field("m", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).build())
        .build()
    )
    with pytest.raises(
        DataException,
        match=r"Flatten transformation does not support MAP for record with schemas \(for field m\).",
    ):
        value_xform().apply(source_record(schema, Struct(schema).put("m", {})))


def test_tombstones_pass_through():
    schema = SchemaBuilder.struct().field("a", Schema.INT32_SCHEMA).build()
    for record in (source_record(None, None), source_record(schema, None)):
        out = value_xform().apply(record)
        assert out.value is None and out.value_schema == record.value_schema


def test_map_with_null_fields():
    value = {"firstLevel": {"secondLevel": None}, "other": None}
    assert value_xform().apply(source_record(None, value)).value == {
        "firstLevel.secondLevel": None,
        "other": None,
    }
