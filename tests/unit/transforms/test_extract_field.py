"""ExtractField, after Kafka's ExtractFieldTest, the field path tests and connect.html."""

from __future__ import annotations

import pytest
from kconnect.api import ConfigException, Schema, SchemaBuilder, Struct
from kconnect_builtins.transforms._field_path import SingleFieldPath, parse_v2
from kconnect_builtins.transforms.extract_field import ExtractField

from ._records import sink_record


def key_xform(field: str, **extra) -> ExtractField:
    xform = ExtractField.Key()
    xform.configure({"field": field, **extra})
    return xform


def test_schemaless():
    out = key_xform("magic").apply(sink_record(key={"magic": 42}))
    assert out.key_schema is None and out.key == 42


def test_schemaless_nested_path():
    out = key_xform("magic.foo", **{"field.syntax.version": "v2"}).apply(
        sink_record(key={"magic": {"foo": 42}})
    )
    assert out.key == 42


def test_null_schemaless():
    out = key_xform("magic").apply(sink_record(key=None))
    assert out.key_schema is None and out.key is None


def test_with_schema():
    schema = SchemaBuilder.struct().field("magic", Schema.INT32_SCHEMA).build()
    out = key_xform("magic").apply(
        sink_record(key_schema=schema, key=Struct(schema).put("magic", 42))
    )
    assert out.key_schema == Schema.INT32_SCHEMA and out.key == 42


def test_with_schema_nested_path():
    foo = SchemaBuilder.struct().field("foo", Schema.INT32_SCHEMA).build()
    schema = SchemaBuilder.struct().field("magic", foo).build()
    key = Struct(schema).put("magic", Struct(foo).put("foo", 42))
    out = key_xform("magic.foo", **{"field.syntax.version": "V2"}).apply(
        sink_record(key_schema=schema, key=key)
    )
    assert out.key_schema == Schema.INT32_SCHEMA and out.key == 42


def test_null_with_schema():
    schema = SchemaBuilder.struct().field("magic", Schema.INT32_SCHEMA).optional().build()
    out = key_xform("magic").apply(sink_record(key_schema=schema, key=None))
    assert out.key_schema == Schema.INT32_SCHEMA and out.key is None


def test_missing_fields():
    assert key_xform("nonexistent").apply(sink_record(key={"magic": 42})).key is None
    nested = key_xform("magic.nonexistent", **{"field.syntax.version": "V2"})
    assert nested.apply(sink_record(key={"magic": {"foo": 42}})).key is None
    schema = SchemaBuilder.struct().field("magic", Schema.INT32_SCHEMA).build()
    with pytest.raises(ValueError, match="^Unknown field: nonexistent$"):
        key_xform("nonexistent").apply(
            sink_record(key_schema=schema, key=Struct(schema).put("magic", 42))
        )


@pytest.mark.parametrize(("replace", "expected"), [(False, None), (True, 42)])
@pytest.mark.parametrize("side", ["Key", "Value"])
def test_unset_optional(side, replace, expected):
    xform = getattr(ExtractField, side)()
    xform.configure({"field": "optional_with_default", "replace.null.with.default": replace})
    schema = (
        SchemaBuilder.struct()
        .field("optional_with_default", SchemaBuilder.int32().optional().default_value(42).build())
        .build()
    )
    struct = Struct(schema).put("optional_with_default", None)
    record = (
        sink_record(key_schema=schema, key=struct) if side == "Key" else sink_record(schema, struct)
    )
    out = xform.apply(record)
    assert (out.key if side == "Key" else out.value) == expected


def test_docs_example():
    # connect.html: ExtractField$Key field=id turns {"id": 42, ...} into 42
    out = key_xform("id").apply(sink_record(key={"id": 42, "name": "x"}))
    assert out.key == 42


def test_field_syntax_version_validated():
    with pytest.raises(ConfigException, match="field.syntax.version"):
        key_xform("a", **{"field.syntax.version": "v3"})


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("foo", ["foo"]),
        ("foo.bar", ["foo", "bar"]),
        ("`foo.bar`.baz", ["foo.bar", "baz"]),
        ("foo.`bar.baz`", ["foo", "bar.baz"]),
        ("foo.", ["foo", ""]),
        ("`foo\\`.bar`.baz", ["foo`.bar", "baz"]),
        ("`fo`o`.bar", ["fo`o", "bar"]),
    ],
)
def test_v2_paths(path, steps):
    assert parse_v2(path) == steps


def test_v2_incomplete_backticks():
    with pytest.raises(ConfigException, match=r"Incomplete backtick pair in path: \[`foo.bar\]"):
        parse_v2("`foo.bar")
    assert SingleFieldPath("a.b", "V1").steps == ("a.b",)
