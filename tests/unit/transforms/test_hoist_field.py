"""HoistField, after Kafka's HoistFieldTest and the connect.html example."""

from __future__ import annotations

import pytest
from kconnect.api import ConfigException, Schema, Type
from kconnect_builtins.transforms.hoist_field import HoistField

from ._records import sink_record


def key_xform() -> HoistField:
    xform = HoistField.Key()
    xform.configure({"field": "magic"})
    return xform


def test_schemaless():
    out = key_xform().apply(sink_record(key=42))
    assert out.key_schema is None
    assert out.key == {"magic": 42}


def test_with_schema():
    record = sink_record(key_schema=Schema.INT32_SCHEMA, key=42)
    out = key_xform().apply(record)
    assert out.key_schema.type is Type.STRUCT
    assert out.key_schema.field("magic").schema == Schema.INT32_SCHEMA
    assert out.key.get("magic") == 42


def test_schemaless_map_is_mutable():
    out = key_xform().apply(sink_record(key=420))
    out.key["k"] = "v"
    assert out.key == {"magic": 420, "k": "v"}


def test_docs_example_value_line():
    # connect.html: HoistField$Value with field=line turns "foo" into {"line": "foo"}
    xform = HoistField.Value()
    xform.configure({"field": "line"})
    out = xform.apply(sink_record(Schema.STRING_SCHEMA, "foo"))
    assert out.value.to_dict() == {"line": "foo"}
    assert xform.apply(sink_record(Schema.STRING_SCHEMA, "bar")).value_schema is out.value_schema


def test_field_is_required():
    with pytest.raises(
        ConfigException, match='Missing required configuration "field" which has no default value.'
    ):
        HoistField.Value().configure({})
