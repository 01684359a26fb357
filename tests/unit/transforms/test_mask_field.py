"""MaskField, after Kafka's MaskFieldTest."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from kconnect.api import (
    ConfigException,
    DataException,
    Date,
    Decimal,
    Schema,
    SchemaBuilder,
    Struct,
    Time,
    Timestamp,
)
from kconnect_builtins.transforms.mask_field import MaskField

from ._records import sink_record

SCHEMA = (
    SchemaBuilder.struct()
    .field("magic", Schema.INT32_SCHEMA)
    .field("bool", Schema.BOOLEAN_SCHEMA)
    .field("byte", Schema.INT8_SCHEMA)
    .field("short", Schema.INT16_SCHEMA)
    .field("int", Schema.INT32_SCHEMA)
    .field("long", Schema.INT64_SCHEMA)
    .field("float", Schema.FLOAT32_SCHEMA)
    .field("double", Schema.FLOAT64_SCHEMA)
    .field("string", Schema.STRING_SCHEMA)
    .field("date", Date.SCHEMA)
    .field("time", Time.SCHEMA)
    .field("timestamp", Timestamp.SCHEMA)
    .field("decimal", Decimal.schema(0))
    .field("array", SchemaBuilder.array(Schema.INT32_SCHEMA).build())
    .field("map", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).build())
    .field("withDefault", SchemaBuilder.string().optional().default_value("default").build())
    .build()
)
NOW = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
VALUES_WITH_SCHEMA = (
    Struct(SCHEMA).put("magic", 42).put("bool", True).put("byte", 42).put("short", 42)
    .put("int", 42).put("long", 42).put("float", 42.0).put("double", 42.0).put("string", "hmm")
    .put("date", NOW.date()).put("time", NOW.time()).put("timestamp", NOW)
    .put("decimal", decimal.Decimal(42)).put("array", [1, 2, 3]).put("map", {"what": "what"})
    .put("withDefault", None)
)  # fmt: skip
VALUES = {
    "magic": 42, "bool": True, "int": 42, "float": 42.0, "string": "55.121.20.20", "date": NOW,
    "bigdec": decimal.Decimal("42.0"), "list": [42], "map": {"key": "value"},
}  # fmt: skip


def transform(fields, replacement=None) -> MaskField:
    xform = MaskField.Value()
    props = {"fields": fields, "replace.null.with.default": False}
    if replacement is not None:
        props["replacement"] = replacement
    xform.configure(props)
    return xform


def test_schemaless():
    fields = [k for k in VALUES if k != "magic"]
    out = transform(fields).apply(sink_record(None, VALUES)).value
    assert out == {
        "magic": 42, "bool": False, "int": 0, "float": 0.0, "string": "",
        "date": dt.datetime(1970, 1, 1, tzinfo=dt.UTC), "bigdec": decimal.Decimal(0),
        "list": [], "map": {},
    }  # fmt: skip
    assert VALUES["int"] == 42


def test_with_schema():
    fields = [f.name for f in SCHEMA.fields if f.name != "magic"]
    out = transform(fields).apply(sink_record(SCHEMA, VALUES_WITH_SCHEMA)).value
    assert out.get("magic") == 42
    assert out.get("bool") is False
    for name in ("byte", "short", "int", "long"):
        assert out.get(name) == 0
    assert out.get("float") == 0.0 and out.get("double") == 0.0
    assert out.get("string") == ""
    assert out.get("date") == dt.date(1970, 1, 1)
    assert out.get("time") == dt.time(0)
    assert out.get("timestamp") == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert out.get("decimal") == decimal.Decimal(0)
    assert out.get("array") == [] and out.get("map") == {}
    assert out.get_without_default("withDefault") is None
    out.validate()


@pytest.mark.parametrize(
    ("field", "replacement", "expected"),
    [("int", "123", 123), ("float", "123.0", 123.0), ("string", "123", "123"),
     ("bigdec", "123.0", decimal.Decimal("123.0"))],
)  # fmt: skip
def test_schemaless_with_replacement(field, replacement, expected):
    out = transform([field], replacement).apply(sink_record(None, VALUES)).value
    assert out[field] == expected


@pytest.mark.parametrize(
    ("field", "replacement", "expected"),
    [("short", "123", 123), ("byte", "123", 123), ("int", "123", 123), ("long", "123", 123),
     ("float", "123.0", 123.0), ("double", "123.0", 123.0), ("string", "123", "123"),
     ("decimal", "123", decimal.Decimal(123))],
)  # fmt: skip
def test_with_schema_and_replacement(field, replacement, expected):
    out = transform([field], replacement).apply(sink_record(SCHEMA, VALUES_WITH_SCHEMA)).value
    assert out.get(field) == expected


@pytest.mark.parametrize("field", ["date", "bool", "list", "map"])
def test_schemaless_unsupported_replacement_type(field):
    with pytest.raises(DataException, match="Cannot mask value of type"):
        transform([field], "123").apply(sink_record(None, VALUES))


@pytest.mark.parametrize("field", ["time", "timestamp", "array"])
def test_with_schema_unsupported_replacement_type(field):
    with pytest.raises(DataException, match="Cannot mask value of type"):
        transform([field], "123").apply(sink_record(SCHEMA, VALUES_WITH_SCHEMA))


@pytest.mark.parametrize("field", ["int", "float", "bigdec"])
def test_replacement_type_mismatch(field):
    with pytest.raises(DataException, match="Unable to convert foo"):
        transform([field], "foo").apply(sink_record(None, VALUES))


def test_replacement_out_of_range_for_schema():
    with pytest.raises(DataException, match="out of range for INT8"):
        transform(["byte"], "300").apply(sink_record(SCHEMA, VALUES_WITH_SCHEMA))


def test_empty_replacement_rejected():
    with pytest.raises(ConfigException, match="String must be non-empty"):
        transform(["short"], "")


def test_null_list_and_map_replacements_are_mutable():
    out = transform(["array", "map"]).apply(sink_record(SCHEMA, VALUES_WITH_SCHEMA)).value
    out.get("array").append(0)
    out.get("map")["k"] = "v"
    assert out.get("array") == [0] and out.get("map") == {"k": "v"}
    again = transform(["array", "map"]).apply(sink_record(SCHEMA, VALUES_WITH_SCHEMA)).value
    assert again.get("array") == [] and again.get("map") == {}


def test_docs_example():
    # connect.html: MaskField$Value fields=string_field,int_field replacement ... (key variant too)
    xform = MaskField.Key()
    xform.configure({"fields": "ssn"})
    out = xform.apply(sink_record(key={"ssn": "123-45-6789", "id": 7}))
    assert out.key == {"ssn": "", "id": 7}
