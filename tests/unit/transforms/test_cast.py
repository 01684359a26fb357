"""Cast, after Kafka's CastTest and the connect.html example."""

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
    Type,
)
from kconnect_builtins.transforms.cast import Cast, java_double_str

from ._records import source_record


def value_xform(spec: str, **extra) -> Cast:
    xform = Cast.Value()
    xform.configure({"spec": spec, **extra})
    return xform


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "Must specify at least one field to cast."),
        ("foo:faketype", "Invalid type found in casting spec: faketype"),
        ("foo:array", ("Cast transformation does not support casting to ARRAY; supported types "
                       "are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]")),
        ("array", "Cast transformation does not support casting to ARRAY"),
        ("foo:bytes", "Cast transformation does not support casting to BYTES"),
        ("foo:int8:extra", "Invalid rename mapping: foo:int8:extra"),
        ("foo:int8,int32", ("Cast transformations that specify a type to cast the entire value "
                            "to may only specify a single cast in their spec")),
    ],
)  # fmt: skip
def test_config_errors(spec, message):
    with pytest.raises(ConfigException) as e:
        Cast.Key().configure({"spec": spec})
    assert message in str(e.value)


def test_null_values_pass_through():
    xform = value_xform("foo:int64")
    record = source_record(Schema.OPTIONAL_STRING_SCHEMA, None)
    assert xform.apply(record) is record
    key_xform = Cast.Key()
    key_xform.configure({"spec": "foo:int64"})
    record = source_record(None, None)
    assert key_xform.apply(record) is record


@pytest.mark.parametrize(
    ("target", "type_", "expected"),
    [
        ("int8", Type.INT8, 42),
        ("int16", Type.INT16, 42),
        ("int32", Type.INT32, 42),
        ("int64", Type.INT64, 42),
        ("float32", Type.FLOAT32, 42.0),
        ("float64", Type.FLOAT64, 42.0),
        ("boolean", Type.BOOLEAN, True),
        ("string", Type.STRING, "42"),
    ],
)
def test_whole_value_with_schema(target, type_, expected):
    out = value_xform(target).apply(source_record(Schema.INT32_SCHEMA, 42))
    assert out.value_schema.type is type_
    assert out.value == expected
    assert type(out.value) is type(expected)
    schemaless = value_xform(target).apply(source_record(None, 42))
    assert schemaless.value_schema is None
    assert schemaless.value == expected


def test_whole_value_boolean_false_and_key():
    assert value_xform("boolean").apply(source_record(Schema.INT32_SCHEMA, 0)).value is False
    xform = Cast.Key()
    xform.configure({"spec": "int8"})
    out = xform.apply(source_record(key_schema=Schema.INT32_SCHEMA, key=42))
    assert (out.key_schema.type, out.key) == (Type.INT8, 42)


def test_whole_decimal_and_date_to_string():
    schema = Decimal.schema(0)
    assert value_xform("string").apply(source_record(schema, decimal.Decimal(42))).value == "42"
    ts = dt.datetime(2020, 5, 6, 7, 8, 9, 123000, tzinfo=dt.UTC)
    out = value_xform("string").apply(source_record(Timestamp.SCHEMA, ts))
    assert out.value == "2020-05-06T07:08:09.123Z"
    assert out.value_schema == Schema.STRING_SCHEMA


def test_whole_record_default_value():
    schema = SchemaBuilder.float32().default_value(-42.125).build()
    out = value_xform("int32").apply(source_record(schema, 42.0))
    assert out.value_schema.type is Type.INT32
    assert out.value == 42
    assert out.value_schema.default_value == -42


def test_whole_value_schemaless_unsupported_type():
    with pytest.raises(
        DataException, match="Cast transformation does not support casting from MAP"
    ):
        value_xform("int8").apply(source_record(None, {"a": 1}))
    with pytest.raises(DataException, match="not supported by Connect's data API"):
        value_xform("int8").apply(source_record(None, decimal.Decimal(1)))


def test_narrowing_wraps_like_java():
    assert value_xform("int8").apply(source_record(None, 300)).value == 44
    assert value_xform("int16").apply(source_record(None, 70000)).value == 4464
    assert value_xform("int32").apply(source_record(None, 1e20)).value == 2**31 - 1
    assert value_xform("int8").apply(source_record(None, -1.9)).value == -1


def test_strings_out_of_range():
    with pytest.raises(
        DataException, match=r"Value \(300\) was out of range for requested data type"
    ):
        value_xform("int8").apply(source_record(None, "300"))
    with pytest.raises(DataException, match="out of range"):
        value_xform("int32").apply(source_record(None, "4.5"))
    assert value_xform("boolean").apply(source_record(None, "TRUE")).value is True
    assert value_xform("boolean").apply(source_record(None, "yes")).value is False
    assert value_xform("float64").apply(source_record(None, "1.5")).value == 1.5


def test_cast_logical_to_primitive():
    spec = (
        "date_to_int32:int32,timestamp_to_int64:int64,time_to_int64:int64,"
        "decimal_to_int32:int32,null_timestamp_to_int32:int32"
    )
    schema = (
        SchemaBuilder.struct()
        .field("date_to_int32", Date.SCHEMA)
        .field("timestamp_to_int64", Timestamp.SCHEMA)
        .field("time_to_int64", Time.SCHEMA)
        .field("decimal_to_int32", Decimal.schema(0))
        .field("null_timestamp_to_int32", Timestamp.builder().optional().build())
        .build()
    )
    value = (
        Struct(schema)
        .put("date_to_int32", dt.date(1970, 1, 2))
        .put("timestamp_to_int64", dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
        .put("time_to_int64", dt.time(0, 0, 0, 1000))
        .put("decimal_to_int32", decimal.Decimal(2**31))
        .put("null_timestamp_to_int32", None)
    )
    out = value_xform(spec).apply(source_record(schema, value))
    assert out.value.get("date_to_int32") == 1
    assert out.value.get("timestamp_to_int64") == 0
    assert out.value.get("time_to_int64") == 1
    assert out.value.get("decimal_to_int32") == -(2**31)
    assert out.value.get("null_timestamp_to_int32") is None
    assert out.value_schema.field("date_to_int32").schema == Schema.INT32_SCHEMA
    assert out.value_schema.field("null_timestamp_to_int32").schema == Schema.OPTIONAL_INT32_SCHEMA
    out.value.validate()


def test_cast_fields_with_schema():
    spec = (
        "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,"
        "boolean:int8,string:int32,bigdecimal:string,date:string,optional:int32,bytes:string"
    )
    schema = (
        SchemaBuilder.struct()
        .field("int8", Schema.INT8_SCHEMA)
        .field("int16", Schema.OPTIONAL_INT16_SCHEMA)
        .field("int32", SchemaBuilder.int32().default_value(2).build())
        .field("int64", Schema.INT64_SCHEMA)
        .field("float32", Schema.FLOAT32_SCHEMA)
        .field("float64", SchemaBuilder.float64().default_value(-1.125).build())
        .field("boolean", Schema.BOOLEAN_SCHEMA)
        .field("string", Schema.STRING_SCHEMA)
        .field("bigdecimal", Decimal.schema(0))
        .field("date", Date.SCHEMA)
        .field("optional", Schema.OPTIONAL_FLOAT32_SCHEMA)
        .field("timestamp", Timestamp.SCHEMA)
        .field("bytes", Schema.BYTES_SCHEMA)
        .build()
    )
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    value = (
        Struct(schema).put("int8", 8).put("int16", 16).put("int32", 32).put("int64", 64)
        .put("float32", 32.0).put("float64", -64.0).put("boolean", True).put("string", "42")
        .put("bigdecimal", decimal.Decimal(42)).put("date", dt.date(1970, 1, 2))
        .put("timestamp", epoch).put("bytes", bytes.fromhex("FEDCBA9876543210"))
    )  # fmt: skip
    out = value_xform(spec).apply(source_record(schema, value)).value
    assert out.get("int8") == 8
    assert out.schema.field("int16").schema.optional
    assert out.get("int16") == 16
    assert out.get("int32") == 32
    assert out.schema.field("int32").schema.default_value == 2
    assert out.get("int64") is True
    assert out.get("float32") == 32.0
    assert out.get("float64") is True
    assert out.schema.field("float64").schema.default_value is True
    assert out.get("boolean") == 1
    assert out.get("string") == 42
    assert out.get("bigdecimal") == "42"
    assert out.get("date") == "1970-01-02"
    assert out.get("timestamp") == epoch
    assert out.get("bytes") == "/ty6mHZUMhA="
    assert out.get("optional") is None
    types = {f.name: f.schema.type for f in out.schema.fields}
    assert types == {
        "int8": Type.INT16, "int16": Type.INT32, "int32": Type.INT64, "int64": Type.BOOLEAN,
        "float32": Type.FLOAT64, "float64": Type.BOOLEAN, "boolean": Type.INT8,
        "string": Type.INT32, "bigdecimal": Type.STRING, "date": Type.STRING,
        "optional": Type.INT32, "timestamp": Type.INT64, "bytes": Type.STRING,
    }  # fmt: skip
    assert out.schema.field("timestamp").schema == Timestamp.SCHEMA
    out.validate()


def test_cast_fields_schemaless():
    spec = "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32"
    value = {"int8": 8, "int16": 16, "int32": 32, "int64": 64, "float32": 32.0, "float64": -64.0,
             "boolean": True, "string": "42"}  # fmt: skip
    out = value_xform(spec).apply(source_record(None, value))
    assert out.value_schema is None
    assert out.value == {"int8": 8, "int16": 16, "int32": 32, "int64": True, "float32": 32.0,
                         "float64": True, "boolean": 1, "string": 42}  # fmt: skip


def test_docs_example():
    # connect.html: Cast$Value spec=price:float64 (and a whole-value cast)
    out = value_xform("price:float64").apply(source_record(None, {"price": "9", "qty": 2}))
    assert out.value == {"price": 9.0, "qty": 2}


@pytest.mark.parametrize(("replace", "expected"), [(False, None), (True, "42")])
def test_field_with_default_value(replace, expected):
    schema = (
        SchemaBuilder.struct()
        .field("magic", SchemaBuilder.int32().optional().default_value(42).build())
        .build()
    )
    out = value_xform("magic:string", **{"replace.null.with.default": replace}).apply(
        source_record(schema, Struct(schema).put("magic", None))
    )
    assert out.value_schema.field("magic").schema.type is Type.STRING
    assert out.value.get_without_default("magic") == expected


def test_java_double_str():
    assert [java_double_str(v) for v in (42.0, 1e7, 1.5e-5, -2.5, 0.001)] == [
        "42.0", "1.0E7", "1.5E-5", "-2.5", "0.001"
    ]  # fmt: skip
