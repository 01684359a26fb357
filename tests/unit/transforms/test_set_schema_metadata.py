"""SetSchemaMetadata, after Kafka's SetSchemaMetadataTest."""

from __future__ import annotations

import pytest
from kconnect.api import ConfigException, DataException, Schema, SchemaBuilder, Struct
from kconnect_builtins.transforms.set_schema_metadata import SetSchemaMetadata

from ._records import sink_record


def xform(props) -> SetSchemaMetadata:
    transform = SetSchemaMetadata.Value()
    transform.configure(props)
    return transform


def test_schema_name_update():
    out = xform({"schema.name": "foo"}).apply(sink_record(SchemaBuilder.struct().build(), None))
    assert out.value_schema.name == "foo"


def test_schema_version_update():
    out = xform({"schema.version": 42}).apply(sink_record(SchemaBuilder.struct().build(), None))
    assert out.value_schema.version == 42


def test_name_and_version_with_struct():
    schema = (
        SchemaBuilder.struct().name("my.orig.SchemaDefn")
        .field("f1", Schema.STRING_SCHEMA).field("f2", Schema.INT32_SCHEMA).build()
    )  # fmt: skip
    value = Struct(schema).put("f1", "value1").put("f2", 1)
    out = xform({"schema.name": "foo", "schema.version": "42"}).apply(sink_record(schema, value))
    assert (out.value_schema.name, out.value_schema.version) == ("foo", 42)
    assert out.value.schema is out.value_schema
    assert out.value.get("f1") == "value1" and out.value.get("f2") == 1
    assert out.value_schema.field("f1").schema is schema.field("f1").schema


@pytest.mark.parametrize(("replace", "expected"), [(False, None), (True, "default")])
def test_struct_with_null_field(replace, expected):
    schema = (
        SchemaBuilder.struct().name("my.orig.SchemaDefn")
        .field("f1", SchemaBuilder.string().default_value("default").optional().build())
        .field("f2", Schema.INT32_SCHEMA).build()
    )  # fmt: skip
    value = Struct(schema).put("f1", None).put("f2", 1)
    out = xform(
        {"schema.name": "foo", "schema.version": "42", "replace.null.with.default": replace}
    ).apply(sink_record(schema, value))
    assert out.value.get_without_default("f1") == expected


def test_docs_example_on_primitive_schema():
    out = xform({"schema.name": "com.example.Key", "schema.version": "2"}).apply(
        sink_record(Schema.STRING_SCHEMA, "abc")
    )
    assert out.value == "abc"
    assert (out.value_schema.name, out.value_schema.version) == ("com.example.Key", 2)


def test_value_schema_required():
    with pytest.raises(DataException, match=r"Schema required for \[updating schema metadata\]"):
        xform({"schema.name": "foo"}).apply(sink_record(None, 42))


def test_ignore_record_with_null_value():
    out = xform({"schema.name": "foo"}).apply(sink_record(None, None))
    assert out.value is None and out.value_schema is None


def test_key_variant():
    transform = SetSchemaMetadata.Key()
    transform.configure({"schema.name": "k"})
    out = transform.apply(sink_record(key_schema=Schema.INT64_SCHEMA, key=5))
    assert out.key_schema.name == "k" and out.key == 5


def test_neither_name_nor_version():
    with pytest.raises(ConfigException, match="Neither schema name nor version configured"):
        xform({})
