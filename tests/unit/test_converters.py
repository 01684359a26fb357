"""The built-in converters: round trips, Kafka's wire formats, nulls and errors.

Kafka's own JsonConverterTest expectations live in test_json_converter_compat.py.
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct

import pytest
from kconnect.api.converter import Converter, HeaderConverter
from kconnect.api.data import (
    Date,
    Decimal,
    Schema,
    SchemaAndValue,
    SchemaBuilder,
    Struct,
    Time,
    Timestamp,
    Type,
)
from kconnect.api.errors import ConfigException, DataException
from kconnect_builtins.converters.bytearray import ByteArrayConverter
from kconnect_builtins.converters.json import JsonConverter
from kconnect_builtins.converters.number import (
    BooleanConverter,
    DoubleConverter,
    FloatConverter,
    IntegerConverter,
    LongConverter,
    ShortConverter,
)
from kconnect_builtins.converters.simple_header import SimpleHeaderConverter
from kconnect_builtins.converters.string import StringConverter
from kconnect_builtins.converters.values import convert_to_string, escape, parse_string

TOPIC = "topic"
UTC = dt.UTC

ALL_CONVERTERS = [
    (JsonConverter, "org.apache.kafka.connect.json.JsonConverter"),
    (StringConverter, "org.apache.kafka.connect.storage.StringConverter"),
    (ByteArrayConverter, "org.apache.kafka.connect.converters.ByteArrayConverter"),
    (IntegerConverter, "org.apache.kafka.connect.converters.IntegerConverter"),
    (LongConverter, "org.apache.kafka.connect.converters.LongConverter"),
    (ShortConverter, "org.apache.kafka.connect.converters.ShortConverter"),
    (FloatConverter, "org.apache.kafka.connect.converters.FloatConverter"),
    (DoubleConverter, "org.apache.kafka.connect.converters.DoubleConverter"),
    (BooleanConverter, "org.apache.kafka.connect.converters.BooleanConverter"),
    (SimpleHeaderConverter, "org.apache.kafka.connect.storage.SimpleHeaderConverter"),
]


@pytest.mark.parametrize("cls, java_name", ALL_CONVERTERS)
def test_every_converter_names_its_kafka_class(cls, java_name):
    assert cls.java_class_names == (java_name,)


@pytest.mark.parametrize("cls, _", ALL_CONVERTERS)
def test_every_converter_is_a_header_converter(cls, _):
    assert issubclass(cls, HeaderConverter)
    if cls is not SimpleHeaderConverter:
        assert issubclass(cls, Converter)


@pytest.mark.parametrize("cls, _", ALL_CONVERTERS)
def test_every_converter_describes_its_settings(cls, _):
    names = set(cls().config().names())
    if cls is SimpleHeaderConverter:
        assert names == set()
    else:
        assert "converter.type" in names


def test_config_defs_declare_kafkas_keys_and_defaults():
    json_keys = JsonConverter().config().config_keys
    assert json_keys["schemas.enable"].default_value is True
    assert json_keys["schemas.cache.size"].default_value == 1000
    assert json_keys["decimal.format"].default_value == "BASE64"
    assert json_keys["replace.null.with.default"].default_value is True
    assert StringConverter().config().config_keys["converter.encoding"].default_value == "UTF-8"


# -- JsonConverter: round trips ------------------------------------------------------------
NESTED = SchemaBuilder.struct().name("Inner").field("flag", Schema.BOOLEAN_SCHEMA).build()
EVERYTHING = (
    SchemaBuilder.struct()
    .name("com.example.Everything")
    .version(2)
    .doc("all the types")
    .field("i8", Schema.INT8_SCHEMA)
    .field("i16", Schema.INT16_SCHEMA)
    .field("i32", Schema.INT32_SCHEMA)
    .field("i64", Schema.INT64_SCHEMA)
    .field("f32", Schema.FLOAT32_SCHEMA)
    .field("f64", Schema.FLOAT64_SCHEMA)
    .field("flag", Schema.BOOLEAN_SCHEMA)
    .field("text", Schema.STRING_SCHEMA)
    .field("raw", Schema.BYTES_SCHEMA)
    .field("list", SchemaBuilder.array(Schema.OPTIONAL_INT32_SCHEMA).build())
    .field("by_name", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.FLOAT64_SCHEMA).build())
    .field("by_number", SchemaBuilder.map(Schema.INT64_SCHEMA, Schema.STRING_SCHEMA).build())
    .field("inner", NESTED)
    .field("maybe", Schema.OPTIONAL_STRING_SCHEMA)
    .field("amount", Decimal.schema(2))
    .field("negative", Decimal.builder(3).optional().build())
    .field("day", Date.SCHEMA)
    .field("clock", Time.SCHEMA)
    .field("moment", Timestamp.SCHEMA)
    .field("structs", SchemaBuilder.array(NESTED).build())
    .build()
)


def everything() -> Struct:
    return (
        Struct(EVERYTHING)
        .put("i8", -128)
        .put("i16", 32767)
        .put("i32", -(2**31))
        .put("i64", 2**63 - 1)
        .put("f32", 0.5)
        .put("f64", 1e-10)
        .put("flag", True)
        .put("text", 'quote " backslash \\ tab \t é 😀')
        .put("raw", b"\x00\x01\xfe\xff")
        .put("list", [1, None, 3])
        .put("by_name", {"a": 1.5, "b": -2.0})
        .put("by_number", {1: "one", -2: "minus two"})
        .put("inner", Struct(NESTED).put("flag", False))
        .put("amount", decimal.Decimal("-1234567890123456789012345678901234.56"))
        .put("negative", decimal.Decimal("-0.128"))
        .put("day", dt.date(1969, 7, 20))
        .put("clock", dt.time(23, 59, 59, 999000))
        .put("moment", dt.datetime(1960, 1, 1, 12, 0, 0, 1000, tzinfo=UTC))
        .put("structs", [Struct(NESTED).put("flag", True)])
    )


@pytest.mark.parametrize("decimal_format", ["BASE64", "NUMERIC"])
def test_struct_with_every_type_round_trips(decimal_format):
    converter = JsonConverter()
    converter.configure({"decimal.format": decimal_format}, False)
    value = everything()
    data = converter.from_connect_data(TOPIC, EVERYTHING, value)
    for _ in range(2):  # the second read takes the cached-schema fast path
        result = converter.to_connect_data(TOPIC, data)
        assert result.schema == EVERYTHING
        assert result.value == value


@pytest.mark.parametrize("decimal_format", ["BASE64", "NUMERIC"])
def test_a_reader_understands_both_decimal_formats(decimal_format):
    writer = JsonConverter()
    writer.configure({"decimal.format": decimal_format}, False)
    data = writer.from_connect_data(TOPIC, EVERYTHING, everything())
    assert JsonConverter().to_connect_data(TOPIC, data).value == everything()


@pytest.mark.parametrize(
    "schema, value",
    [
        (Schema.INT8_SCHEMA, 127),
        (Schema.INT16_SCHEMA, -32768),
        (Schema.INT32_SCHEMA, 2**31 - 1),
        (Schema.INT64_SCHEMA, -(2**63)),
        (Schema.FLOAT64_SCHEMA, 1.7976931348623157e308),
        (Schema.FLOAT64_SCHEMA, -2.5e-300),
        (Schema.BOOLEAN_SCHEMA, False),
        (Schema.STRING_SCHEMA, ""),
        (Schema.BYTES_SCHEMA, b""),
        (SchemaBuilder.array(Schema.STRING_SCHEMA).build(), []),
        (SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT8_SCHEMA).build(), {}),
        (Decimal.schema(0), decimal.Decimal(-129)),
        (Decimal.schema(5), decimal.Decimal("0.00000")),
        (Date.SCHEMA, dt.date(1, 1, 1)),
        (Date.SCHEMA, dt.date(9999, 12, 31)),
        (Time.SCHEMA, dt.time(0)),
        (Timestamp.SCHEMA, dt.datetime(1, 1, 1, tzinfo=UTC)),
        (Timestamp.SCHEMA, dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)),
    ],
)
@pytest.mark.parametrize("schemas_enable", [True, False])
def test_each_type_round_trips(schema, value, schemas_enable):
    converter = JsonConverter()
    converter.configure({"schemas.enable": schemas_enable}, False)
    data = converter.from_connect_data(TOPIC, schema, value)
    result = converter.to_connect_data(TOPIC, data)
    if schemas_enable:
        assert result == (schema, value)
    else:
        assert result.schema is None  # plain JSON carries no schema


def test_float32_values_round_trip_to_the_same_float32():
    converter = JsonConverter()
    for value in (0.1, 3.141592653589793, 1e-40, 3.4e38):
        result = converter.to_connect_data(
            TOPIC, converter.from_connect_data(TOPIC, Schema.FLOAT32_SCHEMA, value)
        )
        assert struct.pack(">f", result.value) == struct.pack(">f", value)


def test_without_schemas_values_come_back_with_json_types():
    converter = JsonConverter()
    converter.configure({"schemas.enable": "false"}, False)
    value = {
        "int": 1,
        "float": 2.5,
        "list": [1, "a", None, True],
        "map": {"k": {"n": -1}},
        "none": None,
    }
    data = converter.from_connect_data(TOPIC, None, value)
    assert (
        data == b'{"int":1,"float":2.5,"list":[1,"a",null,true],"map":{"k":{"n":-1}},"none":null}'
    )
    assert converter.to_connect_data(TOPIC, data) == (None, value)


def test_without_schemas_a_struct_is_written_as_an_object():
    converter = JsonConverter()
    converter.configure({"schemas.enable": False}, False)
    assert (
        converter.from_connect_data(TOPIC, NESTED, Struct(NESTED).put("flag", True))
        == b'{"flag":true}'
    )


def test_schemaless_values_with_bytes_and_tuples():
    converter = JsonConverter()
    converter.configure({"schemas.enable": False}, False)
    assert (
        converter.from_connect_data(TOPIC, None, (b"\x01", bytearray(b"\x02")))
        == b'["AQ==","Ag=="]'
    )


# -- JsonConverter: nulls ------------------------------------------------------------------
def test_optional_null_with_schemas_disabled_is_json_null():
    converter = JsonConverter()
    converter.configure({"schemas.enable": False}, False)
    assert converter.from_connect_data(TOPIC, Schema.OPTIONAL_STRING_SCHEMA, None) == b"null"
    assert converter.to_connect_data(TOPIC, b"null") == (None, None)


def test_null_envelope_reads_as_null():
    assert JsonConverter().to_connect_data(TOPIC, b'{"schema":null,"payload":null}') == (None, None)


def test_required_null_cannot_be_written():
    with pytest.raises(
        DataException, match="null value for field that is required and has no default"
    ):
        JsonConverter().from_connect_data(TOPIC, Schema.STRING_SCHEMA, None)


def test_required_field_left_null_cannot_be_written():
    with pytest.raises(DataException, match="null value for field that is required"):
        JsonConverter().from_connect_data(TOPIC, NESTED, Struct(NESTED))


def test_required_null_cannot_be_read():
    data = b'{"schema":{"type":"int32","optional":false},"payload":null}'
    with pytest.raises(DataException, match="Invalid null value for required INT32 field"):
        JsonConverter().to_connect_data(TOPIC, data)


def test_missing_struct_field_reads_as_its_default_or_null():
    data = (
        b'{"schema":{"type":"struct","fields":[{"type":"int32","optional":true,"field":"a"},'
        b'{"type":"int32","optional":false,"default":5,"field":"b"}],"optional":false},"payload":{}}'
    )
    result = JsonConverter().to_connect_data(TOPIC, data)
    assert (result.value.get("a"), result.value.get("b")) == (None, 5)


# -- JsonConverter: errors -----------------------------------------------------------------
@pytest.mark.parametrize("data", [b"{not json", b"\xff\xfe", b'{"a":', b"NaN", b"'single'"])
@pytest.mark.parametrize("schemas_enable", [True, False])
def test_invalid_json_is_a_data_exception(data, schemas_enable):
    converter = JsonConverter()
    converter.configure({"schemas.enable": schemas_enable}, False)
    with pytest.raises(DataException) as error:
        converter.to_connect_data(TOPIC, data)
    assert str(error.value) == (
        "Converting byte[] to Kafka Connect data failed due to serialization error: "
    )
    assert error.value.__cause__ is not None


@pytest.mark.parametrize(
    "data",
    [
        b"true",
        b"{}",
        b'{"schema":null}',
        b'{"payload":1}',
        b'{"schema":null,"payload":1,"x":2}',
        b"",
    ],
)
def test_schemas_enabled_needs_an_envelope(data):
    with pytest.raises(DataException, match='requires "schema" and "payload" fields'):
        JsonConverter().to_connect_data(TOPIC, data)


def test_like_jackson_content_after_the_first_value_is_ignored():
    converter = JsonConverter()
    converter.configure({"schemas.enable": False}, False)
    assert converter.to_connect_data(TOPIC, b'{"a":1} trailing') == (None, {"a": 1})
    assert converter.to_connect_data(TOPIC, b"[007, -01]") == (None, [7, -1])


@pytest.mark.parametrize(
    "schema_json, message",
    [
        ('{"optional":true}', "Schema must contain 'type' field"),
        ('"int32"', "Schema must contain 'type' field"),
        ('{"type":"uint8"}', "Unknown schema type: uint8"),
        ('{"type":"array"}', "Array schema did not specify the element type"),
        ('{"type":"map","values":{"type":"int8"}}', "Map schema did not specify the key type"),
        ('{"type":"map","keys":{"type":"int8"}}', "Map schema did not specify the value type"),
        ('{"type":"struct"}', 'Struct schema\'s "fields" argument is not an array.'),
        ('{"type":"struct","fields":[{"type":"int8"}]}', "field name not specified properly"),
        ('{"type":"int8","parameters":{"a":1}}', "Schema parameters must have string values."),
    ],
)
def test_invalid_schemas_are_reported_as_kafka_does(schema_json, message):
    data = f'{{"schema":{schema_json},"payload":1}}'.encode()
    with pytest.raises(DataException) as error:
        JsonConverter().to_connect_data(TOPIC, data)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "schema_json, payload, message",
    [
        (
            '{"type":"struct","fields":[]}',
            "[]",
            "Structs should be encoded as JSON objects, but found ARRAY",
        ),
        (
            '{"type":"map","keys":{"type":"string"},"values":{"type":"int8"}}',
            "[]",
            "Maps with string fields should be encoded as JSON objects, but found ARRAY",
        ),
        (
            '{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}}',
            "{}",
            "Maps with non-string fields should be encoded as JSON array of tuples, but found OBJECT",
        ),
        (
            '{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}}',
            "[[1]]",
            "Found invalid map entry, expected length 2 but found :1",
        ),
        (
            '{"type":"int32","name":"org.apache.kafka.connect.data.Date"}',
            '"2020-01-01"',
            "Invalid type for Date, underlying representation should be integer but was STRING",
        ),
        (
            '{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp"}',
            "1.5",
            "Invalid type for Timestamp, underlying representation should be integral but was NUMBER",
        ),
        (
            '{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}}',
            "true",
            "Invalid type for Decimal, underlying representation should be numeric or bytes but was BOOLEAN",
        ),
        (
            '{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}}',
            '"not base64!"',
            "Invalid bytes for Decimal field",
        ),
        ('{"type":"bytes"}', '"%%%"', "Invalid bytes field"),
        (
            '{"type":"struct","fields":[{"type":"string","field":"s"}]}',
            '{"s":1}',
            'Invalid value: null used for required field: "s", schema type: STRING',
        ),
    ],
)
def test_payloads_that_do_not_fit_their_schema(schema_json, payload, message):
    data = f'{{"schema":{schema_json},"payload":{payload}}}'.encode()
    with pytest.raises(DataException) as error:
        JsonConverter().to_connect_data(TOPIC, data)
    assert message in str(error.value)


def test_payloads_of_the_wrong_kind_read_as_jacksons_zero_values():
    def read(json_type: str, payload: str):
        data = f'{{"schema":{{"type":"{json_type}","optional":true}},"payload":{payload}}}'.encode()
        return JsonConverter().to_connect_data(TOPIC, data).value

    assert read("int8", '"12"') == 0
    assert read("int8", "300") == 44  # narrowed as Java's (byte) cast does
    assert read("int32", "12.9") == 12
    assert read("boolean", "1") is False
    assert read("double", "true") == 0.0
    assert read("string", "12") is None


@pytest.mark.parametrize(
    "schema, value, message",
    [
        (Schema.INT32_SCHEMA, "12", "Invalid type for INT32"),
        (Schema.INT8_SCHEMA, 128, "out of range"),
        (Schema.INT64_SCHEMA, True, "Invalid type for INT64"),
        (Schema.BOOLEAN_SCHEMA, 1, "Invalid type for BOOLEAN"),
        (Schema.STRING_SCHEMA, 1, "Invalid type for STRING"),
        (Schema.BYTES_SCHEMA, "text", "Invalid type for bytes type"),
        (Schema.FLOAT64_SCHEMA, decimal.Decimal(1), "Invalid type for FLOAT64"),
        (SchemaBuilder.array(Schema.INT8_SCHEMA).build(), {1}, "Invalid type for ARRAY"),
        (Decimal.schema(2), 1.5, "Invalid type for Decimal, expected BigDecimal"),
        (Decimal.schema(2), decimal.Decimal("1.5"), "mismatching scale"),
        (Date.SCHEMA, 18000, "Invalid type for Date, expected Date"),
        (Timestamp.SCHEMA, 0, "Invalid type for Timestamp, expected Date"),
        (NESTED, {"flag": True}, "Invalid type for STRUCT"),
        (
            NESTED,
            Struct(SchemaBuilder.struct().field("flag", Schema.BOOLEAN_SCHEMA).build()).put(
                "flag", True
            ),
            "Mismatching schema.",
        ),
    ],
)
def test_values_that_do_not_fit_their_schema_cannot_be_written(schema, value, message):
    with pytest.raises(DataException, match=message):
        JsonConverter().from_connect_data(TOPIC, schema, value)


def test_schemaless_values_need_a_json_type():
    converter = JsonConverter()
    with pytest.raises(DataException, match="does not have corresponding schema type"):
        converter.from_connect_data(TOPIC, None, {"when": dt.date(2020, 1, 1)})
    with pytest.raises(DataException, match="Mismatching schema."):
        converter.from_connect_data(TOPIC, None, Struct(NESTED).put("flag", True))
    with pytest.raises(DataException, match="failed due to serialization error"):
        converter.from_connect_data(TOPIC, None, 2**70)


@pytest.mark.parametrize(
    "configs, message",
    [
        (
            {"schemas.enable": "yes"},
            "Invalid value yes for configuration schemas.enable: Expected value to be either true or false",
        ),
        (
            {"schemas.cache.size": "many"},
            "Invalid value many for configuration schemas.cache.size: Not a number of type INT",
        ),
        ({"decimal.format": "HEX"}, "String must be one of (case insensitive): BASE64, NUMERIC"),
        ({"replace.null.with.default": 1}, "Expected value to be either true or false"),
    ],
)
def test_invalid_json_converter_settings(configs, message):
    with pytest.raises(ConfigException) as error:
        JsonConverter().configure(configs, False)
    assert message in str(error.value)


def test_settings_accept_strings_as_in_properties_files():
    converter = JsonConverter()
    converter.configure(
        {"schemas.enable": " FALSE ", "schemas.cache.size": "10", "decimal.format": "numeric"}, True
    )
    assert converter.from_connect_data(TOPIC, Decimal.schema(1), decimal.Decimal("2.5")) == b"2.5"


def test_json_header_conversion_delegates_to_data_conversion():
    converter = JsonConverter()
    data = converter.from_connect_header(TOPIC, "h", Schema.INT16_SCHEMA, 5)
    assert data == b'{"schema":{"type":"int16","optional":false},"payload":5}'
    assert converter.to_connect_header(TOPIC, "h", data) == (Schema.INT16_SCHEMA, 5)


def test_json_schema_conversions_are_public():
    converter = JsonConverter()
    assert converter.as_json_schema(NESTED) == {
        "type": "struct",
        "fields": [{"type": "boolean", "optional": False, "field": "flag"}],
        "optional": False,
        "name": "Inner",
    }
    assert converter.as_connect_schema(converter.as_json_schema(EVERYTHING)) == EVERYTHING
    assert converter.as_json_schema(None) is None


def test_reads_accept_bytearray_and_memoryview():
    data = JsonConverter().from_connect_data(TOPIC, Schema.INT8_SCHEMA, 3)
    assert JsonConverter().to_connect_data(TOPIC, bytearray(data)) == (Schema.INT8_SCHEMA, 3)
    assert JsonConverter().to_connect_data(TOPIC, memoryview(data)) == (Schema.INT8_SCHEMA, 3)


# -- StringConverter -----------------------------------------------------------------------
def test_string_to_bytes_and_back():
    converter = StringConverter()
    assert converter.from_connect_data(TOPIC, Schema.STRING_SCHEMA, "a string") == b"a string"
    assert converter.to_connect_data(TOPIC, b"a string") == (
        Schema.OPTIONAL_STRING_SCHEMA,
        "a string",
    )
    assert converter.from_connect_data(TOPIC, None, "é") == "é".encode()


@pytest.mark.parametrize(
    "schema, value, text",
    [
        (Schema.BOOLEAN_SCHEMA, True, "true"),
        (None, False, "false"),
        (Schema.INT32_SCHEMA, -12, "-12"),
        (Schema.FLOAT64_SCHEMA, 1e10, "1.0E10"),
        (Schema.FLOAT64_SCHEMA, 2.0, "2.0"),
        (Schema.FLOAT32_SCHEMA, 0.1, "0.1"),
        (Schema.FLOAT32_SCHEMA, 3.141592653589793, "3.1415927"),
        (Decimal.schema(2), decimal.Decimal("-1.50"), "-1.50"),
        (None, [1, "a", None], "[1, a, null]"),
        (None, {"k": 1, "j": [True]}, "{k=1, j=[true]}"),
        (None, Struct(NESTED).put("flag", True), "Struct{flag=true}"),
        (
            Timestamp.SCHEMA,
            dt.datetime(2019, 8, 23, 14, 34, 54, tzinfo=UTC),
            "Fri Aug 23 14:34:54 UTC 2019",
        ),
    ],
)
def test_non_strings_are_written_as_java_to_string(schema, value, text):
    assert StringConverter().from_connect_data(TOPIC, schema, value) == text.encode()


def test_string_converter_nulls():
    converter = StringConverter()
    assert converter.from_connect_data(TOPIC, Schema.OPTIONAL_STRING_SCHEMA, None) is None
    assert converter.to_connect_data(TOPIC, None) == (Schema.OPTIONAL_STRING_SCHEMA, None)


def test_string_converter_passes_bytes_through():
    assert StringConverter().from_connect_data(TOPIC, None, bytearray(b"\x00raw")) == b"\x00raw"


def test_string_converter_with_utf16_writes_big_endian_with_a_bom():
    converter = StringConverter()
    converter.configure({"converter.encoding": "UTF-16"}, True)
    data = converter.from_connect_data(TOPIC, Schema.STRING_SCHEMA, "a string")
    assert data == b"\xfe\xff" + "a string".encode("utf-16-be")
    assert converter.to_connect_data(TOPIC, data).value == "a string"
    assert converter.to_connect_data(TOPIC, "ab".encode("utf-16-be")).value == "ab"
    assert converter.to_connect_data(TOPIC, b"\xff\xfe" + "ab".encode("utf-16-le")).value == "ab"


def test_string_converter_with_a_single_byte_charset():
    converter = StringConverter()
    converter.configure({"converter.encoding": "ISO-8859-1"}, False)
    assert converter.from_connect_data(TOPIC, None, "é€") == b"\xe9?"  # unmappable -> '?'
    assert converter.to_connect_data(TOPIC, b"\xe9").value == "é"


def test_string_converter_replaces_malformed_input_like_java():
    converter = StringConverter()
    assert converter.to_connect_data(TOPIC, b"a\xffb").value == "a\ufffdb"
    assert converter.from_connect_data(TOPIC, None, "a\ud800b") == b"a?b"


def test_string_converter_rejects_unknown_encodings():
    with pytest.raises(ConfigException, match="Unsupported encoding NOPE-8"):
        StringConverter().configure({"converter.encoding": "NOPE-8"}, False)


def test_string_header_conversion_delegates():
    converter = StringConverter()
    assert converter.from_connect_header(TOPIC, "h", Schema.BOOLEAN_SCHEMA, True) == b"true"
    assert converter.to_connect_header(TOPIC, "h", b"x") == (Schema.OPTIONAL_STRING_SCHEMA, "x")
    assert converter.from_connect_header(TOPIC, "h", Schema.OPTIONAL_STRING_SCHEMA, None) is None


# -- ByteArrayConverter --------------------------------------------------------------------
def test_byte_array_passes_bytes_through():
    converter = ByteArrayConverter()
    sample = b"\x00\x01\xff"
    assert converter.from_connect_data(TOPIC, Schema.BYTES_SCHEMA, sample) is sample
    assert converter.from_connect_data(TOPIC, None, bytearray(sample)) == sample
    assert (
        converter.from_connect_data(TOPIC, Schema.OPTIONAL_BYTES_SCHEMA, memoryview(sample))
        == sample
    )
    assert converter.to_connect_data(TOPIC, sample) == (Schema.OPTIONAL_BYTES_SCHEMA, sample)


def test_byte_array_nulls():
    converter = ByteArrayConverter()
    assert converter.from_connect_data(TOPIC, Schema.OPTIONAL_BYTES_SCHEMA, None) is None
    assert converter.to_connect_data(TOPIC, None) == (Schema.OPTIONAL_BYTES_SCHEMA, None)


def test_byte_array_rejects_other_schemas_and_values():
    converter = ByteArrayConverter()
    with pytest.raises(DataException, match="Invalid schema type for ByteArrayConverter: INT32"):
        converter.from_connect_data(TOPIC, Schema.INT32_SCHEMA, b"x")
    with pytest.raises(
        DataException, match="ByteArrayConverter is not compatible with objects of type"
    ):
        converter.from_connect_data(TOPIC, Schema.BYTES_SCHEMA, "text")


def test_byte_array_header_conversion_delegates():
    converter = ByteArrayConverter()
    assert converter.from_connect_header(TOPIC, "h", None, b"v") == b"v"
    assert converter.to_connect_header(TOPIC, "h", b"v") == (Schema.OPTIONAL_BYTES_SCHEMA, b"v")


# -- number converters ---------------------------------------------------------------------
NUMBERS = [
    (
        ShortConverter,
        Schema.OPTIONAL_INT16_SCHEMA,
        -2,
        b"\xff\xfe",
        "short",
        "ShortDeserializer is not 2",
    ),
    (
        IntegerConverter,
        Schema.OPTIONAL_INT32_SCHEMA,
        2**31 - 1,
        b"\x7f\xff\xff\xff",
        "integer",
        "IntegerDeserializer is not 4",
    ),
    (
        LongConverter,
        Schema.OPTIONAL_INT64_SCHEMA,
        -(2**63),
        b"\x80" + b"\x00" * 7,
        "long",
        "LongDeserializer is not 8",
    ),
    (
        FloatConverter,
        Schema.OPTIONAL_FLOAT32_SCHEMA,
        1.5,
        b"\x3f\xc0\x00\x00",
        "float",
        "Deserializer is not 4",
    ),
    (
        DoubleConverter,
        Schema.OPTIONAL_FLOAT64_SCHEMA,
        -2.0,
        b"\xc0\x00" + b"\x00" * 6,
        "double",
        "Deserializer is not 8",
    ),
]


@pytest.mark.parametrize("cls, schema, value, data, _name, _size", NUMBERS)
def test_numbers_use_kafkas_big_endian_serializers(cls, schema, value, data, _name, _size):
    converter = cls()
    converter.configure({}, False)
    assert converter.from_connect_data(TOPIC, schema, value) == data
    assert converter.to_connect_data(TOPIC, data) == (schema, value)
    assert converter.from_connect_header(TOPIC, "h", schema, value) == data
    assert converter.to_connect_header(TOPIC, "h", data) == (schema, value)


@pytest.mark.parametrize("cls, schema, _value, _data, _name, _size", NUMBERS)
def test_number_nulls(cls, schema, _value, _data, _name, _size):
    assert cls().from_connect_data(TOPIC, schema, None) is None
    assert cls().to_connect_data(TOPIC, None) == (schema, None)


@pytest.mark.parametrize("cls, schema, _value, _data, name, size_message", NUMBERS)
def test_numbers_of_the_wrong_size_cannot_be_read(cls, schema, _value, _data, name, size_message):
    with pytest.raises(DataException) as error:
        cls().to_connect_data(TOPIC, b"\x00\x00\x00")
    assert str(error.value) == f"Failed to deserialize {name}: "
    assert size_message in str(error.value.__cause__)


@pytest.mark.parametrize("cls, schema, _value, _data, name, _size", NUMBERS)
def test_numbers_reject_other_types(cls, schema, _value, _data, name, _size):
    with pytest.raises(DataException, match=f"Failed to serialize to {name}"):
        cls().from_connect_data(TOPIC, schema, "12")
    with pytest.raises(DataException, match=f"Failed to serialize to {name}"):
        cls().from_connect_data(TOPIC, schema, True)


def test_integers_out_of_range_cannot_be_written():
    with pytest.raises(DataException, match="Failed to serialize to short"):
        ShortConverter().from_connect_data(TOPIC, None, 2**15)


def test_float_converter_rounds_to_float32():
    data = FloatConverter().from_connect_data(TOPIC, None, 0.1)
    assert data == struct.pack(">f", 0.1)
    assert FloatConverter().from_connect_data(TOPIC, None, 3) == struct.pack(">f", 3.0)


def test_boolean_converter():
    converter = BooleanConverter()
    assert converter.from_connect_data(TOPIC, Schema.BOOLEAN_SCHEMA, True) == b"\x01"
    assert converter.from_connect_data(TOPIC, None, False) == b"\x00"
    assert converter.from_connect_data(TOPIC, None, None) is None
    assert converter.to_connect_data(TOPIC, b"\x01") == (Schema.OPTIONAL_BOOLEAN_SCHEMA, True)
    assert converter.to_connect_data(TOPIC, b"\x00") == (Schema.OPTIONAL_BOOLEAN_SCHEMA, False)
    assert converter.to_connect_data(TOPIC, None) == (Schema.OPTIONAL_BOOLEAN_SCHEMA, None)


def test_boolean_converter_errors():
    converter = BooleanConverter()
    with pytest.raises(DataException, match="Invalid schema type for BooleanConverter: INT8"):
        converter.from_connect_data(TOPIC, Schema.INT8_SCHEMA, True)
    with pytest.raises(
        DataException, match="BooleanConverter is not compatible with objects of type"
    ):
        converter.from_connect_data(TOPIC, None, 1)
    with pytest.raises(DataException, match="Failed to deserialize boolean: ") as error:
        converter.to_connect_data(TOPIC, b"\xff")
    assert "Unexpected byte received by BooleanDeserializer: -1" in str(error.value.__cause__)
    with pytest.raises(DataException) as error:
        converter.to_connect_data(TOPIC, b"\x01\x00")
    assert "Size of data received by BooleanDeserializer is not 1" in str(error.value.__cause__)


# -- SimpleHeaderConverter -----------------------------------------------------------------
STRING_MAP = {"foo": "123", "bar": "baz"}
STRING_MAP_SCHEMA = SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).build()
STRING_SHORT_MAP = {"foo": 12345, "bar": 0, "baz": -4321}
STRING_SHORT_MAP_SCHEMA = SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT16_SCHEMA).build()
STRING_INT_MAP = {"foo": 1234567890, "bar": 0, "baz": -987654321}
STRING_INT_MAP_SCHEMA = SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build()
INT_LIST_SCHEMA = SchemaBuilder.array(Schema.INT32_SCHEMA).build()
STRING_LIST_SCHEMA = SchemaBuilder.array(Schema.STRING_SCHEMA).build()


def header_round_trip(schema, value) -> SchemaAndValue:
    converter = SimpleHeaderConverter()
    return converter.to_connect_header(
        TOPIC, "header", converter.from_connect_header(TOPIC, "header", schema, value)
    )


@pytest.mark.parametrize(
    "schema, value",
    [
        (Schema.STRING_SCHEMA, "simple"),
        (Schema.STRING_SCHEMA, ""),
        (Schema.STRING_SCHEMA, 'three"blind\\"mice'),
        (Schema.STRING_SCHEMA, "string with delimiters: <>?,./\\=+-!@#$%^&*(){}[]|;':"),
        (STRING_MAP_SCHEMA, STRING_MAP),
        (STRING_SHORT_MAP_SCHEMA, STRING_SHORT_MAP),
        (STRING_INT_MAP_SCHEMA, STRING_INT_MAP),
        (STRING_LIST_SCHEMA, ["foo", "bar"]),
        (INT_LIST_SCHEMA, [1234567890, -987654321]),
        (Schema.BOOLEAN_SCHEMA, True),
        (Schema.INT8_SCHEMA, -128),
        (Schema.INT64_SCHEMA, 2**63 - 1),
        (Schema.FLOAT64_SCHEMA, 1.7976931348623157e308),
        (Date.SCHEMA, dt.date(2019, 8, 23)),
        (Time.SCHEMA, dt.time(14, 34, 54, 346000)),
        (Timestamp.SCHEMA, dt.datetime(2019, 8, 23, 14, 34, 54, 346000, tzinfo=UTC)),
        (Decimal.schema(0), decimal.Decimal(2**63)),
    ],
)
def test_header_values_round_trip(schema, value):
    result = header_round_trip(schema, value)
    assert result == (schema, value)
    assert header_round_trip(result.schema, result.value) == result


def test_header_nulls():
    converter = SimpleHeaderConverter()
    assert converter.from_connect_header(TOPIC, "h", Schema.STRING_SCHEMA, None) is None
    assert converter.to_connect_header(TOPIC, "h", None) == (None, None)
    assert converter.to_connect_header(TOPIC, "h", b"null") == (None, None)


@pytest.mark.parametrize(
    "text, schema, value",
    [
        ('{"foo":"123","bar":"baz"}', STRING_MAP_SCHEMA, STRING_MAP),
        ('{ "foo" : "123", \n"bar" : "baz" } ', STRING_MAP_SCHEMA, STRING_MAP),
        ('{"foo":12345,"bar":0,"baz":-4321}', STRING_SHORT_MAP_SCHEMA, STRING_SHORT_MAP),
        (
            ' { "foo" :  12345 , "bar" : 0,  "baz" : -4321 }  ',
            STRING_SHORT_MAP_SCHEMA,
            STRING_SHORT_MAP,
        ),
        ('{"foo":1234567890,"bar":0,"baz":-987654321}', STRING_INT_MAP_SCHEMA, STRING_INT_MAP),
    ],
)
def test_header_strings_of_maps_parse_as_maps(text, schema, value):
    assert header_round_trip(Schema.STRING_SCHEMA, text) == (schema, value)


def test_header_maps_and_lists_of_mixed_values_have_no_value_schema():
    result = header_round_trip(None, {"foo": "bar", "baz": 3456})
    assert result.schema.type is Type.MAP and result.schema.key_schema == Schema.STRING_SCHEMA
    assert result.schema.value_schema is None and result.value == {"foo": "bar", "baz": 3456}
    result = header_round_trip(None, ["foo", 13344])
    assert result.schema.type is Type.ARRAY and result.schema.value_schema is None
    assert result.value == ["foo", 13344]


def test_header_empty_map_and_list():
    result = header_round_trip(None, {})
    assert (result.schema.type, result.schema.key_schema, result.schema.value_schema) == (
        Type.MAP,
        None,
        None,
    )
    result = header_round_trip(None, [])
    assert (result.schema.type, result.schema.value_schema, result.value) == (Type.ARRAY, None, [])


def test_header_bytes_are_base64_text():
    converter = SimpleHeaderConverter()
    assert converter.from_connect_header(TOPIC, "h", Schema.BYTES_SCHEMA, b"\x00\x01") == b"AAE="


def test_header_values_are_written_as_kafka_writes_them():
    converter = SimpleHeaderConverter()
    struct_schema = (
        SchemaBuilder.struct()
        .field("a", Schema.INT32_SCHEMA)
        .field("b", Schema.STRING_SCHEMA)
        .build()
    )
    cases = [
        (Schema.FLOAT32_SCHEMA, 0.1, b"0.1"),
        (Schema.FLOAT64_SCHEMA, 1e10, b"1.0E10"),
        (STRING_LIST_SCHEMA, ['a"b', "c\\d"], b'["a\\"b","c\\\\d"]'),
        (None, {1: [True, None]}, b"{1:[true,null]}"),
        (struct_schema, Struct(struct_schema).put("a", 1).put("b", "x"), b'{"a":1,"b":"x"}'),
        (
            Date.SCHEMA,
            dt.date(1970, 1, 1),
            b"00:00:00.000Z",
        ),  # Kafka's quirk: the epoch day is a time
        (Time.SCHEMA, dt.time(1, 2, 3, 4000), b"01:02:03.004Z"),
        (Timestamp.SCHEMA, dt.datetime(2019, 8, 23, tzinfo=UTC), b"2019-08-23"),
    ]
    for schema, value, expected in cases:
        assert converter.from_connect_header(TOPIC, "h", schema, value) == expected


def test_unparseable_header_bytes_fall_back_to_bytes(monkeypatch):
    import kconnect_builtins.converters.simple_header as module

    def broken(text):
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "parse_string", broken)
    assert SimpleHeaderConverter().to_connect_header(TOPIC, "h", b"x") == (
        Schema.BYTES_SCHEMA,
        b"x",
    )


# -- Values (the header text forms) ---------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["{foo: 3}", "{3: foo}", "[foo]", "null=", "true}", "false]", "{6:9 4:20}", "[0 1 2]", "{null: 3}",
     "[1, 2, 3,,,]", "[1, null]", "[null, 1]", "\uffff", "a:b", "  ", "simple string", "si\\{mple"],
)  # fmt: skip
def test_values_that_stay_strings(text):
    assert parse_string(text) == (Schema.STRING_SCHEMA, text)


@pytest.mark.parametrize(
    "text, schema, value",
    [
        ("  true  ", Schema.BOOLEAN_SCHEMA, True),
        ("\tfalse\n", Schema.BOOLEAN_SCHEMA, False),
        ("127", Schema.INT8_SCHEMA, 127),
        ("-128", Schema.INT8_SCHEMA, -128),
        ("32767", Schema.INT16_SCHEMA, 32767),
        ("2147483647", Schema.INT32_SCHEMA, 2**31 - 1),
        ("9223372036854775807", Schema.INT64_SCHEMA, 2**63 - 1),
        ("1.0", Schema.INT8_SCHEMA, 1),
        ("300.0", Schema.INT16_SCHEMA, 300),
        ("66000.0", Schema.INT32_SCHEMA, 66000),
        ("1.1", Schema.FLOAT32_SCHEMA, 1.1),
        ("300.01", Schema.FLOAT32_SCHEMA, 300.01),
        ("3.4028235E38", Schema.FLOAT32_SCHEMA, 3.4028235e38),
        ("1.7976931348623157E308", Schema.FLOAT64_SCHEMA, 1.7976931348623157e308),
        ("1e20", Schema.FLOAT32_SCHEMA, 1e20),
        ("12:30", Schema.INT8_SCHEMA, 12),  # Kafka reads the leading number of a top-level string
        ("2019-08-23", Date.SCHEMA, dt.date(2019, 8, 23)),
        ("14:34:54.346Z", Time.SCHEMA, dt.time(14, 34, 54, 346000)),
        ("14\\:34\\:54.346Z", Time.SCHEMA, dt.time(14, 34, 54, 346000)),
        (
            "2019-08-23T14:34:54.346Z",
            Timestamp.SCHEMA,
            dt.datetime(2019, 8, 23, 14, 34, 54, 346000, tzinfo=UTC),
        ),
        ("2019-13-01", Date.SCHEMA, dt.date(2020, 1, 1)),  # lenient, as SimpleDateFormat
    ],
)
def test_values_parse_scalars(text, schema, value):
    assert parse_string(text) == (schema, value)


def test_values_parse_whole_numbers_beyond_long_as_decimals():
    for number in (2**63, -(2**63) - 1):
        assert parse_string(str(number)) == (Decimal.schema(0), decimal.Decimal(number))


def test_values_parse_null_and_empty():
    assert parse_string(None) is None
    assert parse_string(" null ") is None
    assert parse_string("") == (Schema.STRING_SCHEMA, "")


def test_values_parse_arrays_to_their_widest_element_type():
    assert parse_string("[1, 2, 32768]") == (
        SchemaBuilder.array(Schema.INT32_SCHEMA).build(),
        [1, 2, 32768],
    )
    result = parse_string("[1, 2, 3.4028235E38]")
    assert result.schema == SchemaBuilder.array(Schema.FLOAT32_SCHEMA).build()
    assert result.value == [1.0, 2.0, 3.4028235e38] and all(type(v) is float for v in result.value)
    assert parse_string("[true, false]") == (
        SchemaBuilder.array(Schema.BOOLEAN_SCHEMA).build(),
        [True, False],
    )
    assert parse_string("[null]").value == [None]
    assert parse_string("[]").value == []


@pytest.mark.parametrize(
    "text, value",
    [
        ('[1, 2, 300, "four"]', [1, 2, 300, "four"]),
        ('["four", 1, 2, 300]', ["four", 1, 2, 300]),
        ('["1.0", 9223372036854775808, 1]', ["1.0", decimal.Decimal(2**63), 1]),
    ],
)
def test_values_parse_mixed_arrays_without_element_schema(text, value):
    result = parse_string(text)
    assert result.schema.type is Type.ARRAY and result.schema.value_schema is None
    assert result.value == value


def test_values_parse_maps():
    result = parse_string("{true: false, false: true}")
    assert result.schema == SchemaBuilder.map(Schema.BOOLEAN_SCHEMA, Schema.BOOLEAN_SCHEMA).build()
    assert result.value == {True: False, False: True}
    result = parse_string("{3: null}")
    assert result.schema.key_schema == Schema.INT8_SCHEMA and result.schema.value_schema is None
    assert result.value == {3: None}
    result = parse_string('{1:1, 2:1, 300:300, "four":1}')
    assert result.schema.key_schema is None and result.schema.value_schema is None
    assert result.value == {1: 1, 2: 1, 300: 300, "four": 1}
    result = parse_string('{"k1":"14:34:54.346Z", "k2":14:34:54.346Z}')
    assert result.schema == SchemaBuilder.map(Schema.STRING_SCHEMA, Time.SCHEMA).build()


def test_values_parse_nested_structures():
    assert parse_string("[[]]").schema.value_schema.type is Type.ARRAY
    assert parse_string("[{}]").schema.value_schema.type is Type.MAP
    assert parse_string('{"a":{}}').schema.value_schema.type is Type.MAP
    assert parse_string('{"a":[1,2]}').value == {"a": [1, 2]}


def test_values_parse_timestamps_in_arrays():
    result = parse_string(
        "[2019-08-23T14:34:54.346Z,2019-01-23T15:12:34.567Z,   2019-04-23T19:12:34.567Z]"
    )
    assert result.schema == SchemaBuilder.array(Timestamp.SCHEMA).build()
    assert result.value[1] == dt.datetime(2019, 1, 23, 15, 12, 34, 567000, tzinfo=UTC)


def test_values_escape_and_convert_to_string():
    assert escape('three"blind\\"mice') == 'three\\"blind\\\\\\"mice'
    assert convert_to_string(None, None) is None
    assert convert_to_string(Schema.STRING_SCHEMA, "null") == "null"
    assert convert_to_string(None, decimal.Decimal("-0.00")) == "0.00"
    with pytest.raises(DataException, match="Failed to serialize unexpected value type"):
        convert_to_string(None, object())
