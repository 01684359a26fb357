"""TimestampConverter, after Kafka's TimestampConverterTest and connect.html."""

from __future__ import annotations

import datetime as dt

import pytest
from kconnect.api import ConfigException, Date, Schema, SchemaBuilder, Struct, Time, Timestamp
from kconnect_builtins.transforms.timestamp_converter import TimestampConverter

from ._records import source_record

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
DATE = dt.datetime(1970, 1, 2, tzinfo=UTC)
DATE_PLUS_TIME = DATE + dt.timedelta(milliseconds=1234)
DATE_PLUS_TIME_UNIX = 86_401_234
STRING_DATE_FMT = "yyyy MM dd HH mm ss SSS z"
DATE_PLUS_TIME_STRING = "1970 01 02 00 00 01 234 UTC"
TIME = dt.time(0, 0, 1, 234_000)


def value_xform(**props) -> TimestampConverter:
    xform = TimestampConverter.Value()
    xform.configure(props)
    return xform


def convert(value, schema=None, **props):
    return value_xform(**props).apply(source_record(schema, value))


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({}, 'Missing required configuration "target.type"'),
        ({"target.type": "invalid"}, "String must be one of: string, unix, Date, Time, Timestamp"),
        ({"target.type": "unix", "unix.precision": "invalid"}, "unix.precision"),
        ({"target.type": "string"}, "TimestampConverter requires format option to be specified"),
        ({"target.type": "string", "format": "bad-formatj"},
         "TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: bad-formatj"),
    ],
)  # fmt: skip
def test_config_errors(props, message):
    with pytest.raises(ConfigException) as e:
        TimestampConverter.Value().configure(props)
    assert message in str(e.value)


def test_schemaless_conversions():
    target = {"target.type": "Timestamp"}
    assert convert(DATE_PLUS_TIME, **target).value == DATE_PLUS_TIME
    assert convert(DATE_PLUS_TIME, **{"target.type": "Date"}).value == dt.date(1970, 1, 2)
    assert convert(DATE_PLUS_TIME, **{"target.type": "Time"}).value == TIME
    assert convert(DATE_PLUS_TIME, **{"target.type": "unix"}).value == DATE_PLUS_TIME_UNIX
    out = convert(DATE_PLUS_TIME, **{"target.type": "string", "format": STRING_DATE_FMT})
    assert out.value_schema is None and out.value == DATE_PLUS_TIME_STRING
    assert convert(dt.date(1970, 1, 2), **target).value == DATE
    assert convert(TIME, **target).value == EPOCH + dt.timedelta(milliseconds=1234)
    assert convert(DATE_PLUS_TIME_UNIX, **target).value == DATE_PLUS_TIME
    assert convert(DATE_PLUS_TIME_STRING, **target, format=STRING_DATE_FMT).value == DATE_PLUS_TIME


@pytest.mark.parametrize("target", ["string", "Date", "Timestamp", "unix", "Time"])
def test_schemaless_null_value(target):
    assert convert(None, **{"target.type": target, "format": STRING_DATE_FMT}).value is None


@pytest.mark.parametrize(
    ("target", "schema", "expected"),
    [
        ("Timestamp", Timestamp.SCHEMA, DATE_PLUS_TIME),
        ("Date", Date.SCHEMA, dt.date(1970, 1, 2)),
        ("Time", Time.SCHEMA, TIME),
        ("unix", Schema.INT64_SCHEMA, DATE_PLUS_TIME_UNIX),
        ("string", Schema.STRING_SCHEMA, DATE_PLUS_TIME_STRING),
    ],
)
def test_with_schema_from_timestamp(target, schema, expected):
    out = convert(
        DATE_PLUS_TIME, Timestamp.SCHEMA, **{"target.type": target, "format": STRING_DATE_FMT}
    )
    assert out.value_schema == schema
    assert out.value == expected


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        (Date.SCHEMA, dt.date(1970, 1, 2)),
        (Schema.INT64_SCHEMA, DATE_PLUS_TIME_UNIX),
        (Schema.STRING_SCHEMA, DATE_PLUS_TIME_STRING),
    ],
)
def test_with_schema_to_timestamp(schema, value):
    out = convert(value, schema, **{"target.type": "Timestamp", "format": STRING_DATE_FMT})
    assert out.value_schema == Timestamp.SCHEMA
    assert out.value == (DATE if schema is Date.SCHEMA else DATE_PLUS_TIME)


@pytest.mark.parametrize(
    ("target", "schema"),
    [("Timestamp", Timestamp.builder().optional().build()), ("unix", Schema.OPTIONAL_INT64_SCHEMA),
     ("Time", Time.builder().optional().build()), ("Date", Date.builder().optional().build()),
     ("string", Schema.OPTIONAL_STRING_SCHEMA)],
)  # fmt: skip
def test_with_schema_null_value_and_null_field(target, schema):
    props = {"target.type": target, "format": STRING_DATE_FMT}
    out = convert(None, Timestamp.builder().optional().build(), **props)
    assert out.value_schema == schema and out.value is None
    struct_schema = (
        SchemaBuilder.struct()
        .field("ts", Timestamp.builder().optional().build())
        .field("other", Schema.STRING_SCHEMA)
        .build()
    )
    out = convert(
        Struct(struct_schema).put("ts", None).put("other", "x"), struct_schema, field="ts", **props
    )
    assert out.value_schema.field("ts").schema == schema
    assert out.value.get("ts") is None and out.value.get("other") == "x"


def test_schemaless_field_conversion():
    out = convert({"ts": DATE_PLUS_TIME, "other": "x"}, **{"target.type": "Date", "field": "ts"})
    assert out.value == {"ts": dt.date(1970, 1, 2), "other": "x"}


def test_with_schema_field_conversion():
    schema = (
        SchemaBuilder.struct()
        .field("ts", Timestamp.SCHEMA)
        .field("other", Schema.STRING_SCHEMA)
        .build()
    )
    value = Struct(schema).put("ts", DATE_PLUS_TIME).put("other", "test")
    out = convert(value, schema, **{"target.type": "unix", "field": "ts"})
    expected = (
        SchemaBuilder.struct()
        .field("ts", Schema.INT64_SCHEMA)
        .field("other", Schema.STRING_SCHEMA)
        .build()
    )
    assert out.value_schema == expected
    assert out.value.get("ts") == DATE_PLUS_TIME_UNIX and out.value.get("other") == "test"
    out.value.validate()


@pytest.mark.parametrize(("replace", "expected"), [(False, None), (True, EPOCH)])
def test_null_field_with_default(replace, expected):
    schema = (
        SchemaBuilder.struct()
        .field("ts", Timestamp.builder().optional().default_value(EPOCH).build())
        .build()
    )
    out = convert(
        Struct(schema).put("ts", None),
        schema,
        **{"target.type": "Timestamp", "field": "ts", "replace.null.with.default": replace},
    )
    assert out.value.get_without_default("ts") == expected


@pytest.mark.parametrize(
    ("precision", "value"),
    [("microseconds", DATE_PLUS_TIME_UNIX * 1000 + 123), ("nanoseconds", DATE_PLUS_TIME_UNIX * 1_000_000 + 123_456),
     ("seconds", 86401)],
)  # fmt: skip
def test_unix_precision_in(precision, value):
    schema = SchemaBuilder.struct().field("ts", Schema.INT64_SCHEMA).build()
    out = convert(
        Struct(schema).put("ts", value),
        schema,
        **{"target.type": "Timestamp", "field": "ts", "unix.precision": precision},
    )
    expected = DATE + dt.timedelta(seconds=1) if precision == "seconds" else DATE_PLUS_TIME
    assert out.value.get("ts") == expected


@pytest.mark.parametrize(
    ("precision", "expected"),
    [("microseconds", 86_401_234_000), ("nanoseconds", 86_401_234_000_000), ("seconds", 86401)],
)
def test_string_to_unix_precision(precision, expected):
    out = convert(
        DATE_PLUS_TIME_STRING,
        **{"target.type": "unix", "unix.precision": precision, "format": STRING_DATE_FMT},
    )
    assert out.value == expected


def test_key():
    xform = TimestampConverter.Key()
    xform.configure({"target.type": "Timestamp"})
    out = xform.apply(source_record(key=DATE_PLUS_TIME))
    assert out.key_schema is None and out.key == DATE_PLUS_TIME


def test_docs_example():
    # connect.html: field=event_date, format=yyyy-MM-dd, target.type=string
    out = convert({"event_date": dt.datetime(2017, 1, 3, 12, 5, tzinfo=UTC)},
                  **{"field": "event_date", "format": "yyyy-MM-dd", "target.type": "string"})  # fmt: skip
    assert out.value == {"event_date": "2017-01-03"}


def test_unparseable_string():
    from kconnect.api import DataException

    with pytest.raises(
        DataException,
        match=r"Could not parse timestamp: value \(nope\) does not match pattern \(yyyy-MM-dd\)",
    ):
        convert("nope", **{"target.type": "unix", "format": "yyyy-MM-dd"})
