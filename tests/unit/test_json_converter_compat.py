"""JsonConverter against Apache Kafka's own expectations.

Most tests port ``JsonConverterTest`` (connect/json, Kafka 3.9): they compare parsed JSON, as
Kafka's do. The ``exact bytes`` tests pin what Jackson writes: compact, Kafka's key order
(type, items | keys, values | fields, optional, name, version, doc, parameters, default, and
"field" last in a struct field), Java's number formatting and Jackson's string escapes.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json

import pytest
from kconnect.api.data import (
    Date,
    Decimal,
    Schema,
    SchemaAndValue,
    SchemaBuilder,
    Struct,
    Time,
    Timestamp,
)
from kconnect.api.errors import DataException
from kconnect_builtins.converters.json import JsonConverter

TOPIC = "topic"
UTC = dt.UTC
DECIMAL = "org.apache.kafka.connect.data.Decimal"


@pytest.fixture
def converter() -> JsonConverter:
    c = JsonConverter()
    c.configure({}, False)
    return c


def parse(data: bytes | str):
    return json.loads(data, parse_float=decimal.Decimal)


def envelope(converter: JsonConverter, schema, value) -> tuple:
    converted = parse(converter.from_connect_data(TOPIC, schema, value))
    assert isinstance(converted, dict) and set(converted) == {"schema", "payload"}
    return converted["schema"], converted["payload"]


def to_connect(converter: JsonConverter, text: str) -> SchemaAndValue:
    return converter.to_connect_data(TOPIC, text.encode())


# -- schema metadata ----------------------------------------------------------------------
def test_connect_schema_metadata_translation(converter):
    assert to_connect(converter, '{ "schema": { "type": "boolean" }, "payload": true }') == (
        Schema.BOOLEAN_SCHEMA, True,
    )  # fmt: skip
    assert to_connect(
        converter, '{ "schema": { "type": "boolean", "optional": true }, "payload": null }'
    ) == (Schema.OPTIONAL_BOOLEAN_SCHEMA, None)
    assert to_connect(
        converter, '{ "schema": { "type": "boolean", "default": true }, "payload": null }'
    ) == (SchemaBuilder.bool().default_value(True).build(), True)
    assert to_connect(
        converter,
        '{ "schema": { "type": "boolean", "optional": false, "name": "bool", "version": 2, '
        '"doc": "the documentation", "parameters": { "foo": "bar" }}, "payload": true }',
    ) == (
        SchemaBuilder.bool().required().name("bool").version(2).doc("the documentation")
        .parameter("foo", "bar").build(),
        True,
    )  # fmt: skip


# -- schema types to Connect ---------------------------------------------------------------
@pytest.mark.parametrize(
    "json_type, payload, schema, value",
    [
        ("boolean", "true", Schema.BOOLEAN_SCHEMA, True),
        ("boolean", "false", Schema.BOOLEAN_SCHEMA, False),
        ("int8", "12", Schema.INT8_SCHEMA, 12),
        ("int16", "12", Schema.INT16_SCHEMA, 12),
        ("int32", "12", Schema.INT32_SCHEMA, 12),
        ("int64", "12", Schema.INT64_SCHEMA, 12),
        ("int64", "4398046511104", Schema.INT64_SCHEMA, 4398046511104),
        ("float", "12.34", Schema.FLOAT32_SCHEMA, 12.34),
        ("double", "12.34", Schema.FLOAT64_SCHEMA, 12.34),
        ("string", '"foo-bar-baz"', Schema.STRING_SCHEMA, "foo-bar-baz"),
        ("bytes", '"dGVzdC1zdHJpbmc="', Schema.BYTES_SCHEMA, b"test-string"),
    ],
)
def test_primitive_to_connect(converter, json_type, payload, schema, value):
    text = f'{{ "schema": {{ "type": "{json_type}" }}, "payload": {payload} }}'
    assert to_connect(converter, text) == (schema, value)


@pytest.mark.parametrize(
    "json_type, payload, schema, value",
    [
        ("int8", "0012", Schema.INT8_SCHEMA, 12),
        ("int16", "000123", Schema.INT16_SCHEMA, 123),
        ("int32", "000012345", Schema.INT32_SCHEMA, 12345),
        ("int64", "00000123456789", Schema.INT64_SCHEMA, 123456789),
    ],
)
def test_number_with_leading_zeros_to_connect(converter, json_type, payload, schema, value):
    text = f'{{ "schema": {{ "type": "{json_type}" }}, "payload": {payload} }}'
    assert to_connect(converter, text) == (schema, value)


def test_array_to_connect(converter):
    text = '{ "schema": { "type": "array", "items": { "type" : "int32" } }, "payload": [1, 2, 3] }'
    assert to_connect(converter, text) == (
        SchemaBuilder.array(Schema.INT32_SCHEMA).build(),
        [1, 2, 3],
    )


def test_map_to_connect_string_keys(converter):
    text = (
        '{ "schema": { "type": "map", "keys": { "type" : "string" }, "values": { "type" : "int32" } },'
        ' "payload": { "key1": 12, "key2": 15} }'
    )
    assert to_connect(converter, text) == (
        SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build(),
        {"key1": 12, "key2": 15},
    )


def test_map_to_connect_non_string_keys(converter):
    text = (
        '{ "schema": { "type": "map", "keys": { "type" : "int32" }, "values": { "type" : "int32" } },'
        ' "payload": [ [1, 12], [2, 15] ] }'
    )
    assert to_connect(converter, text) == (
        SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.INT32_SCHEMA).build(),
        {1: 12, 2: 15},
    )


def test_struct_to_connect(converter):
    text = (
        '{ "schema": { "type": "struct", "fields": [{ "field": "field1", "type": "boolean" }, '
        '{ "field": "field2", "type": "string" }] }, "payload": { "field1": true, "field2": "string" } }'
    )
    schema = (
        SchemaBuilder.struct()
        .field("field1", Schema.BOOLEAN_SCHEMA)
        .field("field2", Schema.STRING_SCHEMA)
        .build()
    )
    assert to_connect(converter, text) == (
        schema,
        Struct(schema).put("field1", True).put("field2", "string"),
    )


def test_struct_with_optional_field_to_connect(converter):
    text = (
        '{ "schema": { "type": "struct", "fields": [{ "field":"optional", "type": "string", '
        '"optional": true }, {  "field": "required", "type": "string" }] }, '
        '"payload": { "required": "required" } }'
    )
    schema = (
        SchemaBuilder.struct().field("optional", Schema.OPTIONAL_STRING_SCHEMA)
        .field("required", Schema.STRING_SCHEMA).build()
    )  # fmt: skip
    assert to_connect(converter, text) == (schema, Struct(schema).put("required", "required"))


def test_null_to_connect(converter):
    assert converter.to_connect_data(TOPIC, None) == SchemaAndValue(None, None)


def test_empty_bytes_to_connect_without_schemas():
    converter = JsonConverter()
    converter.configure({"schemas.enable": False}, True)
    assert converter.to_connect_data(TOPIC, b"") == SchemaAndValue(None, None)


def test_schemaless_with_empty_field_value_to_connect():
    converter = JsonConverter()
    converter.configure({"schemas.enable": False}, True)
    assert to_connect(converter, '{ "a": "", "b": null}') == (None, {"a": "", "b": None})


@pytest.mark.parametrize(
    "payload, value",
    [
        ("null", None),
        ("true", True),
        ("12", 12),
        ("12.24", 12.24),
        ('"a string"', "a string"),
        ('[1, "2", 3]', [1, "2", 3]),
        ('{ "field1": 1, "field2": 2}', {"field1": 1, "field2": 2}),
    ],
)
def test_null_schema_primitive_to_connect(converter, payload, value):
    assert to_connect(converter, f'{{ "schema": null, "payload": {payload} }}') == (None, value)


# -- logical types to Connect --------------------------------------------------------------
def _decimal_schema_json(scale: int, extra: str = "") -> str:
    return (
        f'{{ "type": "bytes", "name": "{DECIMAL}", "version": 1,{extra} '
        f'"parameters": {{ "scale": "{scale}" }} }}'
    )


def _message(schema_json: str, payload: str) -> str:
    return f'{{ "schema": {schema_json}, "payload": {payload} }}'


def test_decimal_to_connect(converter):
    result = to_connect(converter, _message(_decimal_schema_json(2), '"AJw="'))
    assert result == (Decimal.schema(2), decimal.Decimal("1.56"))


def test_decimal_to_connect_optional(converter):
    text = _message(_decimal_schema_json(2, ' "optional": true,'), "null")
    assert to_connect(converter, text) == (Decimal.builder(2).optional().build(), None)


def test_decimal_to_connect_with_default_value(converter):
    reference = decimal.Decimal("1.56")
    text = _message(_decimal_schema_json(2, ' "default": "AJw=",'), "null")
    assert to_connect(converter, text) == (
        Decimal.builder(2).default_value(reference).build(),
        reference,
    )


def test_decimal_to_connect_optional_with_default_value(converter):
    reference = decimal.Decimal("1.56")
    text = _message(_decimal_schema_json(2, ' "optional": true, "default": "AJw=",'), "null")
    schema = Decimal.builder(2).optional().default_value(reference).build()
    assert to_connect(converter, text) == (schema, reference)


@pytest.mark.parametrize(
    "scale, payload, expected",
    [
        (2, "1.56", "1.56"),
        (4, "1.5600", "1.5600"),  # trailing zeros kept
        (17, "1.23456789123456789", "1.23456789123456789"),  # more than a double holds
    ],
)
def test_numeric_decimal_to_connect(converter, scale, payload, expected):
    result = to_connect(converter, _message(_decimal_schema_json(scale), payload))
    assert result.schema == Decimal.schema(scale)
    assert result.value == decimal.Decimal(expected)
    assert result.value.as_tuple() == decimal.Decimal(expected).as_tuple()


def test_numeric_decimal_in_a_repeated_schema_keeps_every_digit(converter):
    schema = (
        SchemaBuilder.struct()
        .field("d", Decimal.schema(17))
        .field("x", Schema.FLOAT64_SCHEMA)
        .build()
    )
    numeric = JsonConverter()
    numeric.configure({"decimal.format": "NUMERIC"}, False)
    value = Struct(schema).put("d", decimal.Decimal("1.23456789123456789")).put("x", 0.5)
    data = numeric.from_connect_data(TOPIC, schema, value)
    for _ in range(2):  # the second read takes the converter's cached-schema path
        assert numeric.to_connect_data(TOPIC, data) == (schema, value)


def _logical(name: str, json_type: str, extra: str = "") -> str:
    return (
        f'{{ "type": "{json_type}", "name": "org.apache.kafka.connect.data.{name}", '
        f'"version": 1{extra} }}'
    )


def test_date_to_connect(converter):
    result = to_connect(converter, _message(_logical("Date", "int32"), "10000"))
    assert result == (Date.SCHEMA, dt.date(1997, 5, 19))


@pytest.mark.parametrize(
    "logical, name, json_type",
    [(Date, "Date", "int32"), (Time, "Time", "int32"), (Timestamp, "Timestamp", "int64")],
)
def test_logical_to_connect_optional(converter, logical, name, json_type):
    text = _message(_logical(name, json_type, ', "optional": true'), "null")
    assert to_connect(converter, text) == (logical.builder().optional().build(), None)


@pytest.mark.parametrize("optional", [False, True])
@pytest.mark.parametrize(
    "logical, name, json_type, default, expected",
    [
        (Date, "Date", "int32", 0, dt.date(1970, 1, 1)),
        (Time, "Time", "int32", 0, dt.time(0)),
        (Timestamp, "Timestamp", "int64", 42, dt.datetime(1970, 1, 1, 0, 0, 0, 42000, tzinfo=UTC)),
    ],
)
def test_logical_to_connect_with_default_value(
    converter, logical, name, json_type, default, expected, optional
):
    extra = (', "optional": true' if optional else "") + f', "default": {default}'
    text = _message(_logical(name, json_type, extra), "null")
    builder = logical.builder()
    if optional:
        builder.optional()
    assert to_connect(converter, text) == (builder.default_value(expected).build(), expected)


def test_time_to_connect(converter):
    result = to_connect(converter, _message(_logical("Time", "int32"), "14400000"))
    assert result == (Time.SCHEMA, dt.time(4, 0))


def test_timestamp_to_connect(converter):
    result = to_connect(converter, _message(_logical("Timestamp", "int64"), "4000000000"))
    assert result == (Timestamp.SCHEMA, dt.datetime(1970, 2, 16, 7, 6, 40, tzinfo=UTC))


# -- schema metadata to JSON ---------------------------------------------------------------
def test_json_schema_metadata_translation(converter):
    schema, payload = envelope(converter, Schema.BOOLEAN_SCHEMA, True)
    assert (schema, payload) == ({"type": "boolean", "optional": False}, True)

    schema, payload = envelope(converter, Schema.OPTIONAL_BOOLEAN_SCHEMA, None)
    assert (schema, payload) == ({"type": "boolean", "optional": True}, None)

    schema, payload = envelope(converter, SchemaBuilder.bool().default_value(True).build(), True)
    assert (schema, payload) == ({"type": "boolean", "optional": False, "default": True}, True)

    schema, payload = envelope(
        converter,
        SchemaBuilder.bool().required().name("bool").version(3).doc("the documentation")
        .parameter("foo", "bar").build(),
        True,
    )  # fmt: skip
    assert schema == {
        "type": "boolean", "optional": False, "name": "bool", "version": 3,
        "doc": "the documentation", "parameters": {"foo": "bar"},
    }  # fmt: skip
    assert payload is True


def test_cache_schema_to_connect_conversion(converter):
    assert converter.size_of_to_connect_schema_cache() == 0
    to_connect(converter, '{ "schema": { "type": "boolean" }, "payload": true }')
    assert converter.size_of_to_connect_schema_cache() == 1
    to_connect(converter, '{ "schema": { "type": "boolean" }, "payload": true }')
    assert converter.size_of_to_connect_schema_cache() == 1
    to_connect(converter, '{ "schema": { "type": "boolean", "optional": true }, "payload": true }')
    assert converter.size_of_to_connect_schema_cache() == 2
    # An equivalent schema written differently is another entry.
    to_connect(converter, '{ "schema": { "type": "boolean", "optional": false }, "payload": true }')
    assert converter.size_of_to_connect_schema_cache() == 3


def test_cache_schema_to_json_conversion(converter):
    assert converter.size_of_from_connect_schema_cache() == 0
    # Equal schemas share an entry even when they are different objects.
    converter.from_connect_data(TOPIC, SchemaBuilder.bool().build(), True)
    assert converter.size_of_from_connect_schema_cache() == 1
    converter.from_connect_data(TOPIC, SchemaBuilder.bool().build(), True)
    assert converter.size_of_from_connect_schema_cache() == 1
    converter.from_connect_data(TOPIC, SchemaBuilder.bool().optional().build(), True)
    assert converter.size_of_from_connect_schema_cache() == 2


def test_schema_cache_is_bounded_by_schemas_cache_size():
    converter = JsonConverter()
    converter.configure({"schemas.cache.size": "2"}, False)
    for version in range(1, 5):
        converter.from_connect_data(TOPIC, SchemaBuilder.int8().version(version).build(), 1)
    assert converter.size_of_from_connect_schema_cache() == 2


# -- schema types to JSON ------------------------------------------------------------------
@pytest.mark.parametrize(
    "schema, value, json_schema, payload",
    [
        (Schema.BOOLEAN_SCHEMA, True, {"type": "boolean", "optional": False}, True),
        (Schema.INT8_SCHEMA, 12, {"type": "int8", "optional": False}, 12),
        (Schema.INT16_SCHEMA, 12, {"type": "int16", "optional": False}, 12),
        (Schema.INT32_SCHEMA, 12, {"type": "int32", "optional": False}, 12),
        (Schema.INT64_SCHEMA, 4398046511104, {"type": "int64", "optional": False}, 4398046511104),
        (
            Schema.FLOAT32_SCHEMA,
            12.34,
            {"type": "float", "optional": False},
            decimal.Decimal("12.34"),
        ),
        (
            Schema.FLOAT64_SCHEMA,
            12.34,
            {"type": "double", "optional": False},
            decimal.Decimal("12.34"),
        ),
        (Schema.STRING_SCHEMA, "test-string", {"type": "string", "optional": False}, "test-string"),
        (
            Schema.BYTES_SCHEMA,
            b"test-string",
            {"type": "bytes", "optional": False},
            base64.b64encode(b"test-string").decode(),
        ),
    ],
)
def test_primitive_to_json(converter, schema, value, json_schema, payload):
    assert envelope(converter, schema, value) == (json_schema, payload)


def test_array_to_json(converter):
    schema, payload = envelope(
        converter, SchemaBuilder.array(Schema.INT32_SCHEMA).build(), [1, 2, 3]
    )
    assert schema == {
        "type": "array",
        "items": {"type": "int32", "optional": False},
        "optional": False,
    }
    assert payload == [1, 2, 3]


def test_map_to_json_string_keys(converter):
    schema, payload = envelope(
        converter,
        SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build(),
        {"key1": 12, "key2": 15},
    )
    assert schema == {
        "type": "map",
        "keys": {"type": "string", "optional": False},
        "values": {"type": "int32", "optional": False},
        "optional": False,
    }
    assert payload == {"key1": 12, "key2": 15}


def test_map_to_json_non_string_keys(converter):
    schema, payload = envelope(
        converter,
        SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.INT32_SCHEMA).build(),
        {1: 12, 2: 15},
    )
    assert schema["keys"] == {"type": "int32", "optional": False}
    assert sorted(payload) == [[1, 12], [2, 15]]


def test_struct_to_json(converter):
    schema = (
        SchemaBuilder.struct().field("field1", Schema.BOOLEAN_SCHEMA).field("field2", Schema.STRING_SCHEMA)
        .field("field3", Schema.STRING_SCHEMA).field("field4", Schema.BOOLEAN_SCHEMA).build()
    )  # fmt: skip
    value = (
        Struct(schema).put("field1", True).put("field2", "string2").put("field3", "string3")
        .put("field4", False)
    )  # fmt: skip
    json_schema, payload = envelope(converter, schema, value)
    assert json_schema == {
        "type": "struct",
        "optional": False,
        "fields": [
            {"field": "field1", "type": "boolean", "optional": False},
            {"field": "field2", "type": "string", "optional": False},
            {"field": "field3", "type": "string", "optional": False},
            {"field": "field4", "type": "boolean", "optional": False},
        ],
    }
    assert payload == {"field1": True, "field2": "string2", "field3": "string3", "field4": False}


def test_struct_schema_identical(converter):
    def build() -> Schema:
        return (
            SchemaBuilder.struct().field("field1", Schema.BOOLEAN_SCHEMA).field("field2", Schema.STRING_SCHEMA)
            .build()
        )  # fmt: skip

    schema, input_schema = build(), build()
    value = Struct(input_schema).put("field1", True).put("field2", "string2")
    converter.from_connect_data(TOPIC, schema, value)  # equal, not identical, schemas are accepted
    assert value.schema == schema


def test_decimal_to_json(converter):
    schema, payload = envelope(converter, Decimal.schema(2), decimal.Decimal("1.56"))
    assert schema == {
        "type": "bytes",
        "optional": False,
        "name": DECIMAL,
        "version": 1,
        "parameters": {"scale": "2"},
    }
    assert base64.b64decode(payload) == bytes([0, 156])


@pytest.mark.parametrize("scale, text", [(2, "1.56"), (4, "1.5600")])
def test_decimal_to_numeric_json(scale, text):
    converter = JsonConverter()
    converter.configure({"decimal.format": "NUMERIC"}, False)
    schema, payload = envelope(converter, Decimal.schema(scale), decimal.Decimal(text))
    assert schema["parameters"] == {"scale": str(scale)}
    assert (
        isinstance(payload, decimal.Decimal)
        and payload.as_tuple() == decimal.Decimal(text).as_tuple()
    )


def test_decimal_to_json_without_schema(converter):
    with pytest.raises(DataException):
        converter.from_connect_data(TOPIC, None, decimal.Decimal("1.56"))


@pytest.mark.parametrize(
    "schema, value, name, json_type, payload",
    [
        (Date.SCHEMA, dt.date(1997, 5, 19), "Date", "int32", 10000),
        (Time.SCHEMA, dt.time(4, 0), "Time", "int32", 14400000),
        (
            Timestamp.SCHEMA,
            dt.datetime(1970, 2, 16, 7, 6, 40, tzinfo=UTC),
            "Timestamp",
            "int64",
            4000000000,
        ),
    ],
)
def test_logical_to_json(converter, schema, value, name, json_type, payload):
    assert envelope(converter, schema, value) == (
        {
            "type": json_type,
            "optional": False,
            "name": f"org.apache.kafka.connect.data.{name}",
            "version": 1,
        },
        payload,
    )


def test_null_schema_and_primitive_to_json(converter):
    assert envelope(converter, None, True) == (None, True)


def test_null_schema_and_array_to_json(converter):
    assert envelope(converter, None, [1, "string", True]) == (None, [1, "string", True])


def test_null_schema_and_map_to_json(converter):
    value = {"key1": 12, "key2": "string", "key3": True}
    assert envelope(converter, None, value) == (None, value)


def test_null_schema_and_map_non_string_keys_to_json(converter):
    schema, payload = envelope(converter, None, {"string": 12, 52: "string", False: True})
    assert schema is None
    assert sorted(map(json.dumps, payload)) == sorted(
        map(json.dumps, [["string", 12], [52, "string"], [False, True]])
    )


@pytest.mark.parametrize("schemas_enable", [True, False])
def test_null_schema_and_null_value_is_a_tombstone(schemas_enable):
    converter = JsonConverter()
    converter.configure({"schemas.enable": schemas_enable}, True)
    assert converter.from_connect_data(TOPIC, None, None) is None


def test_mismatch_schema_json(converter):
    with pytest.raises(DataException):
        converter.from_connect_data(TOPIC, Schema.FLOAT64_SCHEMA, True)


def test_no_schema_to_connect():
    converter = JsonConverter()
    converter.configure({"schemas.enable": False}, True)
    assert converter.to_connect_data(TOPIC, b"true") == (None, True)


def test_no_schema_to_json():
    converter = JsonConverter()
    converter.configure({"schemas.enable": False}, True)
    assert converter.from_connect_data(TOPIC, None, True) == b"true"


def test_string_header_to_json(converter):
    data = converter.from_connect_header(TOPIC, "headerName", Schema.STRING_SCHEMA, "test-string")
    assert parse(data) == {
        "schema": {"type": "string", "optional": False},
        "payload": "test-string",
    }


def test_string_header_to_connect(converter):
    data = b'{ "schema": { "type": "string" }, "payload": "foo-bar-baz" }'
    assert converter.to_connect_header(TOPIC, "headerName", data) == (
        Schema.STRING_SCHEMA,
        "foo-bar-baz",
    )


# -- replace.null.with.default -------------------------------------------------------------
OPTIONAL_WITH_DEFAULT = SchemaBuilder.string().optional().default_value("default").build()
STRUCT_WITH_DEFAULT_FIELD = SchemaBuilder.struct().field("field1", OPTIONAL_WITH_DEFAULT).build()


def _configured(replace: bool) -> JsonConverter:
    converter = JsonConverter()
    converter.configure({"replace.null.with.default": replace}, False)
    return converter


def test_serialize_null_to_default():
    assert _configured(True).from_connect_data(TOPIC, OPTIONAL_WITH_DEFAULT, None) == (
        b'{"schema":{"type":"string","optional":true,"default":"default"},"payload":"default"}'
    )


def test_serialize_null_to_null():
    assert _configured(False).from_connect_data(TOPIC, OPTIONAL_WITH_DEFAULT, None) == (
        b'{"schema":{"type":"string","optional":true,"default":"default"},"payload":null}'
    )


def test_deserialize_null_to_default():
    data = b'{"schema":{"type":"string","optional":true,"default":"default"},"payload":null}'
    assert _configured(True).to_connect_data(TOPIC, data).value == "default"


def test_deserialize_null_to_null():
    data = b'{"schema":{"type":"string","optional":true,"default":"default"},"payload":null}'
    assert _configured(False).to_connect_data(TOPIC, data).value is None


def test_serialize_field_null_to_default():
    assert _configured(True).from_connect_data(
        TOPIC, STRUCT_WITH_DEFAULT_FIELD, Struct(STRUCT_WITH_DEFAULT_FIELD)
    ) == (
        b'{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"default":"default",'
        b'"field":"field1"}],"optional":false},"payload":{"field1":"default"}}'
    )


def test_serialize_field_null_to_null():
    assert _configured(False).from_connect_data(
        TOPIC, STRUCT_WITH_DEFAULT_FIELD, Struct(STRUCT_WITH_DEFAULT_FIELD)
    ) == (
        b'{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"default":"default",'
        b'"field":"field1"}],"optional":false},"payload":{"field1":null}}'
    )


FIELD_NULL = (
    b'{"schema":{"type":"struct","fields":[{"field":"field1","type":"string","optional":true,'
    b'"default":"default"}],"optional":false},"payload":{"field1":null}}'
)


def test_deserialize_field_null_to_default():
    value = _configured(True).to_connect_data(TOPIC, FIELD_NULL).value
    assert value == Struct(STRUCT_WITH_DEFAULT_FIELD).put("field1", "default")


def test_deserialize_field_null_to_null():
    value = _configured(False).to_connect_data(TOPIC, FIELD_NULL).value
    assert value == Struct(STRUCT_WITH_DEFAULT_FIELD)


# -- exact bytes ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "schema, value, expected",
    [
        (
            Schema.BOOLEAN_SCHEMA,
            True,
            b'{"schema":{"type":"boolean","optional":false},"payload":true}',
        ),
        (Schema.INT8_SCHEMA, -12, b'{"schema":{"type":"int8","optional":false},"payload":-12}'),
        (
            Schema.OPTIONAL_INT64_SCHEMA,
            None,
            b'{"schema":{"type":"int64","optional":true},"payload":null}',
        ),
        (
            Schema.FLOAT32_SCHEMA,
            12.34,
            b'{"schema":{"type":"float","optional":false},"payload":12.34}',
        ),
        (
            Schema.FLOAT64_SCHEMA,
            1.0,
            b'{"schema":{"type":"double","optional":false},"payload":1.0}',
        ),
        (
            Schema.STRING_SCHEMA,
            "héllo",
            '{"schema":{"type":"string","optional":false},"payload":"héllo"}'.encode(),
        ),
        (
            Schema.BYTES_SCHEMA,
            b"\x00\xff",
            b'{"schema":{"type":"bytes","optional":false},"payload":"AP8="}',
        ),
        (
            Decimal.schema(2),
            decimal.Decimal("1.56"),
            (
                b'{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal",'
                b'"version":1,"parameters":{"scale":"2"}},"payload":"AJw="}'
            ),
        ),
        (
            Date.SCHEMA,
            dt.date(1997, 5, 19),
            (
                b'{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date",'
                b'"version":1},"payload":10000}'
            ),
        ),
        (
            SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).optional().build(),
            ["a", None],
            (
                b'{"schema":{"type":"array","items":{"type":"string","optional":true},"optional":true},'
                b'"payload":["a",null]}'
            ),
        ),
        (
            SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build(),
            {"b": 2, "a": 1},
            (
                b'{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32",'
                b'"optional":false},"optional":false},"payload":{"b":2,"a":1}}'
            ),
        ),
        (
            SchemaBuilder.map(Schema.INT8_SCHEMA, Schema.BOOLEAN_SCHEMA).build(),
            {1: True},
            (
                b'{"schema":{"type":"map","keys":{"type":"int8","optional":false},"values":{"type":"boolean",'
                b'"optional":false},"optional":false},"payload":[[1,true]]}'
            ),
        ),
        (
            SchemaBuilder.int32()
            .name("n")
            .version(2)
            .doc("d")
            .parameter("k", "v")
            .default_value(5)
            .build(),
            7,
            (
                b'{"schema":{"type":"int32","optional":false,"name":"n","version":2,"doc":"d",'
                b'"parameters":{"k":"v"},"default":5},"payload":7}'
            ),
        ),
    ],
)
def test_exact_bytes(converter, schema, value, expected):
    assert converter.from_connect_data(TOPIC, schema, value) == expected


def test_exact_bytes_of_a_named_struct(converter):
    schema = (
        SchemaBuilder.struct().name("com.example.Person").version(1)
        .field("name", Schema.STRING_SCHEMA)
        .field("age", Schema.OPTIONAL_INT32_SCHEMA)
        .build()
    )  # fmt: skip
    value = Struct(schema).put("name", "Ann")
    assert converter.from_connect_data(TOPIC, schema, value) == (
        b'{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"name"},'
        b'{"type":"int32","optional":true,"field":"age"}],"optional":false,"name":"com.example.Person",'
        b'"version":1},"payload":{"name":"Ann","age":null}}'
    )


def test_exact_bytes_of_a_struct_default(converter):
    inner = SchemaBuilder.struct().field("x", Schema.INT32_SCHEMA).optional()
    inner_default = Struct(inner.build()).put("x", 1)
    schema = inner.default_value(inner_default).build()
    data = converter.from_connect_data(TOPIC, schema, None)
    assert data == (
        b'{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"x"}],'
        b'"optional":true,"default":{"x":1}},"payload":{"x":1}}'
    )


@pytest.mark.parametrize(
    "value, text",
    [
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (100.0, "100.0"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1e7, "1.0E7"),
        (9999999.0, "9999999.0"),
        (1e10, "1.0E10"),
        (12345678.9, "1.23456789E7"),
        (1.5e-5, "1.5E-5"),
        (1e16, "1.0E16"),
        (1.7976931348623157e308, "1.7976931348623157E308"),
        (5e-324, "4.9E-324"),
        (float("nan"), '"NaN"'),
        (float("inf"), '"Infinity"'),
        (float("-inf"), '"-Infinity"'),
        (3, "3.0"),  # an int given for a double is written as one
    ],
)
def test_doubles_are_written_as_java_writes_them(value, text):
    converter = JsonConverter()
    converter.configure({"schemas.enable": False}, False)
    assert converter.from_connect_data(TOPIC, Schema.FLOAT64_SCHEMA, value) == text.encode()
    assert (
        converter.from_connect_data(
            TOPIC, None, value if isinstance(value, float) else float(value)
        )
        == text.encode()
    )


@pytest.mark.parametrize(
    "value, text",
    [
        (12.34, "12.34"),
        (0.1, "0.1"),
        (3.141592653589793, "3.1415927"),
        (123456.789, "123456.79"),
        (1e10, "1.0E10"),
        (16777216.0, "1.6777216E7"),
        (3.4028234663852886e38, "3.4028235E38"),
        (1.401298464324817e-45, "1.4E-45"),
    ],
)
def test_floats_are_written_as_java_writes_them(value, text):
    converter = JsonConverter()
    converter.configure({"schemas.enable": False}, False)
    assert converter.from_connect_data(TOPIC, Schema.FLOAT32_SCHEMA, value) == text.encode()


@pytest.mark.parametrize(
    "text, scale, expected",
    [
        ("1.56", 2, "1.56"),
        ("-1.5600", 4, "-1.5600"),
        ("0.00000001", 8, "1E-8"),
        ("1.56E+4", -2, "1.56E+4"),
        ("-0.00", 2, "0.00"),
    ],
)
def test_numeric_decimals_are_written_as_big_decimal_to_string(text, scale, expected):
    converter = JsonConverter()
    converter.configure({"schemas.enable": False, "decimal.format": "numeric"}, False)
    assert (
        converter.from_connect_data(TOPIC, Decimal.schema(scale), decimal.Decimal(text))
        == expected.encode()
    )


def test_strings_are_escaped_as_jackson_does():
    converter = JsonConverter()
    converter.configure({"schemas.enable": False}, False)
    text = 'q" b\\ s/ \b\t\n\f\r \x00\x1f\x7f é € 😀 \u2028'
    # Characters outside the BMP as an escaped surrogate pair: Jackson's UTF-8 generator (as
    # Kafka Connect 4.3.1's JsonConverter was seen to write them) never writes 4-byte UTF-8.
    expected = '"q\\" b\\\\ s/ \\b\\t\\n\\f\\r \\u0000\\u001F\x7f é € \\uD83D\\uDE00 \u2028"'
    assert converter.from_connect_data(TOPIC, Schema.STRING_SCHEMA, text) == expected.encode()
    # A backslash followed by the text "u001f" is not an escape and stays as it is.
    assert converter.from_connect_data(TOPIC, None, "\\u001f") == b'"\\\\u001f"'


# -- logical fields of a struct (decoded inline by the generated struct decoder) ----------------
def _logical_struct() -> Schema:
    return (
        SchemaBuilder.struct()
        .field("ts", Timestamp.builder().optional().build())
        .field("day", Date.builder().optional().build())
        .field("amount", Decimal.builder(2).optional().build())
        .build()
    )


def _struct_text(converter: JsonConverter, payload: str) -> str:
    """A message with the struct's schema (as the converter writes it) and ``payload``."""
    schema_json = envelope(converter, _logical_struct(), Struct(_logical_struct()))[0]
    return '{"schema":' + json.dumps(schema_json) + ',"payload":' + payload + "}"


@pytest.mark.parametrize(
    ("millis", "days", "expected_ts", "expected_day"),
    [
        (0, 0, dt.datetime(1970, 1, 1, tzinfo=UTC), dt.date(1970, 1, 1)),
        (-62_135_596_800_000, -719_162, dt.datetime(1, 1, 1, tzinfo=UTC), dt.date(1, 1, 1)),
        (
            253_402_300_799_999,
            2_932_896,
            dt.datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC),
            dt.date(9999, 12, 31),
        ),
        (1_704_078_245_123, 19_723, dt.datetime(2024, 1, 1, 3, 4, 5, 123_000, tzinfo=UTC), None),
    ],
)
def test_struct_timestamp_and_date_fields_to_connect(
    converter, millis, days, expected_ts, expected_day
):
    payload = json.dumps({"ts": millis, "day": days if expected_day else None})
    value = to_connect(converter, _struct_text(converter, payload)).value
    assert value.get("ts") == expected_ts and value.get("ts").tzinfo is not None
    assert value.get("day") == expected_day


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ('{"ts": 253402300800000}', "out of Python's datetime range"),
        ('{"ts": "1"}', "Invalid type for Timestamp"),
        ('{"ts": true}', "Invalid type for Timestamp"),
        ('{"day": 2932897}', "out of Python's date range"),
        ('{"day": 1.5}', "Invalid type for Date"),
        ('{"amount": "not base64!"}', "Invalid bytes for Decimal field"),
    ],
)
def test_struct_logical_fields_out_of_range_or_wrong_kind(converter, payload, message):
    with pytest.raises(DataException, match=message):
        to_connect(converter, _struct_text(converter, payload))


def test_struct_decimal_field_keeps_every_digit_both_ways(converter):
    schema = _logical_struct()
    amount = decimal.Decimal("-12345678901234567890123456789012345678.91")
    struct = Struct(schema).put("amount", amount)
    value = converter.to_connect_data(
        TOPIC, converter.from_connect_data(TOPIC, schema, struct)
    ).value
    assert value.get("amount") == amount and str(value.get("amount")) == str(amount)


@pytest.mark.parametrize(
    ("value", "millis"),
    [
        (dt.datetime(2024, 1, 1, 3, 4, 5, 123999, tzinfo=UTC), 1_704_078_245_123),
        (dt.datetime(2024, 1, 1, 8, 4, 5, 123000, tzinfo=dt.timezone(dt.timedelta(hours=5))),
         1_704_078_245_123),
        (dt.datetime(2024, 1, 1, 3, 4, 5, 123000), 1_704_078_245_123),  # naive: UTC
        (dt.datetime(1969, 12, 31, 23, 59, 59, 999500, tzinfo=UTC), -1),  # floor, as Java
        (dt.datetime(1, 1, 1, tzinfo=UTC), -62_135_596_800_000),
    ],
)  # fmt: skip
def test_struct_timestamp_field_to_json_millis(converter, value, millis):
    schema = _logical_struct()
    _, payload = envelope(converter, schema, Struct(schema).put("ts", value))
    assert payload["ts"] == millis
