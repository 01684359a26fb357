"""ValueToKey, after Kafka's ValueToKeyTest."""

from __future__ import annotations

import pytest
from kconnect.api import ConfigException, DataException, Schema, SchemaBuilder, Struct
from kconnect_builtins.transforms.value_to_key import ValueToKey

from ._records import sink_record


def xform(props) -> ValueToKey:
    transform = ValueToKey()
    transform.configure(props)
    return transform


def test_schemaless():
    out = xform({"fields": "a,b"}).apply(sink_record(None, {"a": 1, "b": 2, "c": 3}))
    assert out.key_schema is None
    assert out.key == {"a": 1, "b": 2}
    assert out.value == {"a": 1, "b": 2, "c": 3}


def test_with_schema():
    schema = (
        SchemaBuilder.struct().field("a", Schema.INT32_SCHEMA).field("b", Schema.INT32_SCHEMA)
        .field("c", Schema.INT32_SCHEMA).build()
    )  # fmt: skip
    value = Struct(schema).put("a", 1).put("b", 2).put("c", 3)
    out = xform({"fields": "a,b"}).apply(sink_record(schema, value))
    expected_schema = (
        SchemaBuilder.struct()
        .field("a", Schema.INT32_SCHEMA)
        .field("b", Schema.INT32_SCHEMA)
        .build()
    )
    assert out.key_schema == expected_schema
    assert out.key == Struct(expected_schema).put("a", 1).put("b", 2)
    assert out.value is value


def test_non_existing_field():
    schema = SchemaBuilder.struct().field("a", Schema.INT32_SCHEMA).build()
    with pytest.raises(DataException, match="^Field does not exist: not_exist$"):
        xform({"fields": "not_exist"}).apply(sink_record(schema, Struct(schema).put("a", 1)))


@pytest.mark.parametrize(("replace", "expected"), [(False, None), (True, 42)])
def test_replace_null_with_default(replace, expected):
    schema = (
        SchemaBuilder.struct()
        .field("optional_with_default", SchemaBuilder.int32().optional().default_value(42).build())
        .build()
    )
    out = xform({"fields": "optional_with_default", "replace.null.with.default": replace}).apply(
        sink_record(schema, Struct(schema).put("optional_with_default", None))
    )
    assert out.key.get_without_default("optional_with_default") == expected


def test_fields_required_and_non_empty():
    with pytest.raises(ConfigException, match='Missing required configuration "fields"'):
        xform({})
    with pytest.raises(ConfigException, match="Empty list"):
        xform({"fields": ""})


def test_requires_map_without_schema():
    with pytest.raises(
        DataException,
        match=r"Only Map objects supported in absence of schema for \[copying fields from value to key\], found: str",
    ):
        xform({"fields": "a"}).apply(sink_record(None, "text"))
