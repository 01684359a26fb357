"""The Connect data model: schemas, the builder, structs, validation and the logical types."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from kconnect.api.data import (
    Date,
    Decimal,
    Field,
    Schema,
    SchemaAndValue,
    SchemaBuilder,
    Struct,
    Time,
    Timestamp,
    Type,
    validate_value,
)
from kconnect.api.errors import DataException, SchemaBuilderException

UTC = dt.UTC

PRIMITIVES = [
    (Type.INT8, 12),
    (Type.INT16, 1234),
    (Type.INT32, 123456),
    (Type.INT64, 2**40),
    (Type.FLOAT32, 1.5),
    (Type.FLOAT64, 2.25),
    (Type.BOOLEAN, True),
    (Type.STRING, "text"),
    (Type.BYTES, b"\x00\x01"),
]


# -- Schema constants and types ------------------------------------------------------------
@pytest.mark.parametrize("type_", [t for t, _ in PRIMITIVES])
def test_schema_constants_have_their_type_and_optionality(type_):
    required = getattr(Schema, f"{type_.name}_SCHEMA")
    optional = getattr(Schema, f"OPTIONAL_{type_.name}_SCHEMA")
    assert (required.type, required.optional) == (type_, False)
    assert (optional.type, optional.optional) == (type_, True)
    assert required.name is None and required.version is None and required.doc is None


def test_type_values_are_kafkas_lower_case_names():
    assert [t.value for t in Type] == [
        "int8", "int16", "int32", "int64", "float32", "float64",
        "boolean", "string", "bytes", "array", "map", "struct",
    ]  # fmt: skip


def test_only_array_map_and_struct_are_not_primitive():
    assert {t for t in Type if not t.is_primitive} == {Type.ARRAY, Type.MAP, Type.STRUCT}


# -- SchemaBuilder ---------------------------------------------------------------------------
def test_builder_sets_every_attribute():
    schema = (
        SchemaBuilder.int32()
        .name("com.example.Count")
        .version(3)
        .doc("how many")
        .parameter("a", "1")
        .parameters({"b": "2"})
        .optional()
        .default_value(7)
        .build()
    )
    assert schema.type is Type.INT32
    assert schema.optional
    assert (schema.name, schema.version, schema.doc) == ("com.example.Count", 3, "how many")
    assert schema.parameters == {"a": "1", "b": "2"}
    assert schema.default_value == 7


@pytest.mark.parametrize(
    "factory, type_",
    [
        (SchemaBuilder.int8, Type.INT8),
        (SchemaBuilder.int16, Type.INT16),
        (SchemaBuilder.int32, Type.INT32),
        (SchemaBuilder.int64, Type.INT64),
        (SchemaBuilder.float32, Type.FLOAT32),
        (SchemaBuilder.float64, Type.FLOAT64),
        (SchemaBuilder.bool, Type.BOOLEAN),
        (SchemaBuilder.string, Type.STRING),
        (SchemaBuilder.bytes, Type.BYTES),
        (SchemaBuilder.struct, Type.STRUCT),
    ],
)
def test_builder_factories_make_required_schemas_of_their_type(factory, type_):
    schema = factory().build()
    assert schema.type is type_ and not schema.optional
    assert schema == SchemaBuilder.type(type_).build()


def test_built_primitive_equals_the_constant():
    assert SchemaBuilder.string().build() == Schema.STRING_SCHEMA
    assert SchemaBuilder.string().optional().build() == Schema.OPTIONAL_STRING_SCHEMA
    assert hash(SchemaBuilder.string().build()) == hash(Schema.STRING_SCHEMA)


def test_array_and_map_builders_keep_their_element_schemas():
    array = SchemaBuilder.array(Schema.INT32_SCHEMA).build()
    mapping = SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.OPTIONAL_FLOAT64_SCHEMA).build()
    assert array.type is Type.ARRAY and array.value_schema == Schema.INT32_SCHEMA
    assert mapping.key_schema == Schema.STRING_SCHEMA
    assert mapping.value_schema == Schema.OPTIONAL_FLOAT64_SCHEMA


def test_struct_builder_keeps_field_order_and_indexes():
    schema = (
        SchemaBuilder.struct()
        .field("b", Schema.STRING_SCHEMA)
        .field("a", Schema.INT32_SCHEMA)
        .build()
    )
    assert [(f.name, f.index) for f in schema.fields] == [("b", 0), ("a", 1)]
    assert schema.field("a") == Field("a", 1, Schema.INT32_SCHEMA)
    assert schema.field("missing") is None


def test_struct_builder_rejects_duplicate_and_empty_field_names():
    builder = SchemaBuilder.struct().field("a", Schema.STRING_SCHEMA)
    with pytest.raises(SchemaBuilderException, match="field name duplication a"):
        builder.field("a", Schema.INT32_SCHEMA)
    with pytest.raises(SchemaBuilderException, match="fieldName cannot be null"):
        builder.field("", Schema.INT32_SCHEMA)


def test_fields_on_non_struct_are_rejected():
    with pytest.raises(SchemaBuilderException, match="Cannot create fields on type INT32"):
        SchemaBuilder.int32().field("a", Schema.STRING_SCHEMA)
    with pytest.raises(DataException, match="Cannot list fields on non-struct type"):
        Schema.INT32_SCHEMA.fields  # noqa: B018
    with pytest.raises(DataException, match="Cannot look up fields on non-struct type"):
        Schema.INT32_SCHEMA.field("a")


@pytest.mark.parametrize(
    "setter, first, second, label",
    [
        ("name", "a", "b", "name"),
        ("version", 1, 2, "version"),
        ("doc", "a", "b", "doc"),
        ("default_value", 1, 2, "defaultValue"),
    ],
)
def test_builder_attributes_may_be_set_only_once(setter, first, second, label):
    builder = getattr(SchemaBuilder.int32(), setter)(first)
    getattr(builder, setter)(first)  # setting the same value again is fine, as in Kafka
    with pytest.raises(SchemaBuilderException, match=f"{label} has already been set"):
        getattr(builder, setter)(second)


def test_builder_rejects_a_default_of_the_wrong_type():
    with pytest.raises(DataException, match="Invalid Java object for schema with type INT32"):
        SchemaBuilder.int32().default_value("nope")


def test_from_schema_copies_everything():
    original = (
        SchemaBuilder.struct().name("n").version(2).doc("d").parameter("k", "v").optional()
        .field("a", Schema.STRING_SCHEMA)
        .build()
    )  # fmt: skip
    assert SchemaBuilder.from_schema(original).build() == original
    without_fields = SchemaBuilder.from_schema(original, with_fields=False).build()
    assert without_fields.fields == [] and without_fields.name == "n"


# -- equality ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "other",
    [
        SchemaBuilder.int32().name("x").version(1).doc("d").parameter("p", "q").build(),
        SchemaBuilder.int32().name("y").version(1).doc("d").parameter("p", "q").optional().build(),
        SchemaBuilder.int32().name("y").version(2).doc("d").parameter("p", "q").build(),
        SchemaBuilder.int32().name("y").version(1).doc("e").parameter("p", "q").build(),
        SchemaBuilder.int32().name("y").version(1).doc("d").parameter("p", "r").build(),
        SchemaBuilder.int32()
        .name("y")
        .version(1)
        .doc("d")
        .parameter("p", "q")
        .default_value(3)
        .build(),
        SchemaBuilder.int64().name("y").version(1).doc("d").parameter("p", "q").build(),
    ],
)
def test_schemas_differing_in_any_attribute_are_not_equal(other):
    schema = SchemaBuilder.int32().name("y").version(1).doc("d").parameter("p", "q").build()
    same = SchemaBuilder.int32().name("y").version(1).doc("d").parameter("p", "q").build()
    assert schema == same and hash(schema) == hash(same)
    assert schema != other


def test_struct_schemas_compare_fields_and_nested_schemas():
    def person(age_schema: Schema) -> Schema:
        return (
            SchemaBuilder.struct()
            .field("name", Schema.STRING_SCHEMA)
            .field("age", age_schema)
            .build()
        )

    assert person(Schema.INT32_SCHEMA) == person(Schema.INT32_SCHEMA)
    assert person(Schema.INT32_SCHEMA) != person(Schema.OPTIONAL_INT32_SCHEMA)
    assert (
        SchemaBuilder.array(Schema.INT8_SCHEMA).build()
        != SchemaBuilder.array(Schema.INT16_SCHEMA).build()
    )
    assert (
        SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT8_SCHEMA).build()
        != SchemaBuilder.map(Schema.INT8_SCHEMA, Schema.INT8_SCHEMA).build()
    )


# -- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("type_, value", PRIMITIVES)
def test_valid_primitive_values_pass(type_, value):
    validate_value(SchemaBuilder.type(type_).build(), value)


@pytest.mark.parametrize(
    "schema, value",
    [
        (Schema.INT8_SCHEMA, "1"),
        (Schema.INT32_SCHEMA, 1.5),
        (Schema.INT32_SCHEMA, True),  # bool is an int in Python, never in Connect
        (Schema.FLOAT64_SCHEMA, "1.5"),
        (Schema.BOOLEAN_SCHEMA, 1),
        (Schema.STRING_SCHEMA, b"bytes"),
        (Schema.BYTES_SCHEMA, "text"),
        (SchemaBuilder.array(Schema.INT32_SCHEMA).build(), {"a": 1}),
        (SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build(), [1]),
    ],
)
def test_values_of_the_wrong_type_are_rejected(schema, value):
    with pytest.raises(DataException, match="Invalid Java object for schema"):
        validate_value(schema, value)


@pytest.mark.parametrize(
    "type_, low, high",
    [
        (Type.INT8, -128, 127),
        (Type.INT16, -32768, 32767),
        (Type.INT32, -(2**31), 2**31 - 1),
        (Type.INT64, -(2**63), 2**63 - 1),
    ],
)
def test_integers_must_fit_their_type(type_, low, high):
    schema = SchemaBuilder.type(type_).build()
    validate_value(schema, low)
    validate_value(schema, high)
    for outside in (low - 1, high + 1):
        with pytest.raises(DataException, match="out of range"):
            validate_value(schema, outside)


def test_null_is_valid_only_for_optional_schemas():
    validate_value(Schema.OPTIONAL_STRING_SCHEMA, None)
    with pytest.raises(
        DataException, match="Invalid value: null used for required value, schema type: STRING"
    ):
        validate_value(Schema.STRING_SCHEMA, None)
    # As in Kafka, a default does not make null a valid value of a required schema.
    with pytest.raises(DataException, match="null used for required"):
        validate_value(SchemaBuilder.string().default_value("x").build(), None)


def test_array_and_map_contents_are_validated():
    with pytest.raises(DataException, match="element of array value"):
        validate_value(SchemaBuilder.array(Schema.INT32_SCHEMA).build(), [1, "2"])
    mapping = SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build()
    with pytest.raises(DataException, match="key of map value"):
        validate_value(mapping, {1: 1})
    with pytest.raises(DataException, match="value of map value"):
        validate_value(mapping, {"a": None})


def test_arrays_without_an_element_schema_cannot_be_validated():
    with pytest.raises(DataException, match="No schema defined for element of array value"):
        validate_value(SchemaBuilder.array(None).build(), [1])  # type: ignore[arg-type]


# -- Struct --------------------------------------------------------------------------------
PERSON = (
    SchemaBuilder.struct()
    .name("com.example.Person")
    .field("name", Schema.STRING_SCHEMA)
    .field("age", Schema.OPTIONAL_INT32_SCHEMA)
    .field("country", SchemaBuilder.string().default_value("NL").build())
    .build()
)


def test_struct_put_get_and_chaining():
    person = Struct(PERSON).put("name", "Ann").put("age", 31)
    assert person.get("name") == "Ann" and person["age"] == 31
    assert person.get(PERSON.field("name")) == "Ann"
    person["age"] = 32
    assert person.get("age") == 32


def test_struct_get_falls_back_to_the_default():
    person = Struct(PERSON).put("name", "Ann")
    assert person.get("country") == "NL"
    assert person.get_without_default("country") is None
    assert person.to_dict() == {"name": "Ann", "age": None, "country": "NL"}


def test_struct_put_validates_the_value():
    person = Struct(PERSON)
    with pytest.raises(DataException, match='for field: "age"'):
        person.put("age", "old")
    with pytest.raises(
        DataException,
        match='Invalid value: null used for required field: "name", schema type: STRING',
    ):
        person.put("name", None)
    with pytest.raises(DataException, match="nope is not a valid field name"):
        person.put("nope", 1)
    with pytest.raises(DataException, match="nope is not a valid field name"):
        person.get("nope")


def test_struct_validate_requires_required_fields_without_default():
    with pytest.raises(DataException, match='required field: "name"'):
        Struct(PERSON).validate()
    Struct(PERSON).put("name", "Ann").validate()  # age optional, country has a default


def test_struct_needs_a_struct_schema():
    with pytest.raises(DataException, match="Not a struct schema"):
        Struct(Schema.STRING_SCHEMA)


def test_struct_equality_uses_schema_and_values():
    a = Struct(PERSON).put("name", "Ann")
    assert a == Struct(PERSON).put("name", "Ann")
    assert hash(a) == hash(Struct(PERSON).put("name", "Ann"))
    assert a != Struct(PERSON).put("name", "Bob")
    other_schema = SchemaBuilder.struct().field("name", Schema.STRING_SCHEMA).build()
    assert Struct(other_schema).put("name", "Ann") != a


def test_nested_struct_must_have_the_declared_schema():
    address = SchemaBuilder.struct().field("city", Schema.STRING_SCHEMA).build()
    outer = SchemaBuilder.struct().field("address", address).build()
    Struct(outer).put("address", Struct(address).put("city", "Delft"))
    stranger = SchemaBuilder.struct().field("town", Schema.STRING_SCHEMA).build()
    with pytest.raises(DataException, match="Struct schemas do not match"):
        Struct(outer).put("address", Struct(stranger).put("town", "Delft"))


def test_struct_repr_and_to_dict_of_nested_structs():
    address = SchemaBuilder.struct().field("city", Schema.STRING_SCHEMA).build()
    outer = SchemaBuilder.struct().field("address", address).build()
    value = Struct(outer).put("address", Struct(address).put("city", "Delft"))
    assert value.to_dict() == {"address": {"city": "Delft"}}
    assert "city='Delft'" in repr(value)


def test_schema_and_value_null():
    assert SchemaAndValue.NULL == SchemaAndValue(None, None)  # type: ignore[attr-defined]
    assert SchemaAndValue(Schema.INT8_SCHEMA, 1) == (Schema.INT8_SCHEMA, 1)


# -- logical types -------------------------------------------------------------------------
def test_logical_schemas_have_kafkas_names_and_versions():
    assert (Date.SCHEMA.type, Date.SCHEMA.name, Date.SCHEMA.version) == (
        Type.INT32, "org.apache.kafka.connect.data.Date", 1,
    )  # fmt: skip
    assert (Time.SCHEMA.type, Time.SCHEMA.name) == (
        Type.INT32,
        "org.apache.kafka.connect.data.Time",
    )
    assert (Timestamp.SCHEMA.type, Timestamp.SCHEMA.name) == (
        Type.INT64, "org.apache.kafka.connect.data.Timestamp",
    )  # fmt: skip
    decimal_schema = Decimal.schema(2)
    assert (decimal_schema.type, decimal_schema.name, decimal_schema.version) == (
        Type.BYTES, "org.apache.kafka.connect.data.Decimal", 1,
    )  # fmt: skip
    assert decimal_schema.parameters == {"scale": "2"}
    assert Decimal.scale(decimal_schema) == 2


@pytest.mark.parametrize(
    "text, scale, encoded",
    [
        ("1.56", 2, b"\x00\x9c"),  # Kafka's JsonConverterTest: 156 -> {0, -100}
        ("-1.56", 2, b"\xff\x64"),
        ("0", 0, b"\x00"),
        ("1.27", 2, b"\x7f"),
        ("1.28", 2, b"\x00\x80"),
        ("-1.28", 2, b"\x80"),  # BigInteger.toByteArray keeps the fewest bytes
        ("-1.29", 2, b"\xff\x7f"),
        ("-0.01", 2, b"\xff"),
        ("12345678901234567890123456789012345.6789", 4, None),  # beyond 28 digits of context
        ("1E+3", -3, b"\x01"),
    ],
)
def test_decimal_round_trips_as_big_endian_twos_complement(text, scale, encoded):
    value = decimal.Decimal(text)
    schema = Decimal.schema(scale)
    raw = Decimal.from_logical(schema, value)
    if encoded is not None:
        assert raw == encoded
    back = Decimal.to_logical(schema, raw)
    assert back == value and back.as_tuple().exponent == -scale


def test_decimal_scale_must_match_the_schema():
    with pytest.raises(
        DataException,
        match="mismatching scale for given Decimal schema. Schema has scale 2, value has scale 1",
    ):
        Decimal.from_logical(Decimal.schema(2), decimal.Decimal("1.5"))


def test_decimal_schema_without_scale_is_invalid():
    schema = SchemaBuilder.bytes().name(Decimal.LOGICAL_NAME).build()
    with pytest.raises(DataException, match="scale parameter not found"):
        Decimal.scale(schema)


@pytest.mark.parametrize(
    "day, days",
    [
        (dt.date(1970, 1, 1), 0),
        (dt.date(1970, 1, 2), 1),
        (dt.date(1969, 12, 31), -1),
        (dt.date(1997, 5, 19), 10000),
        (dt.date(1, 1, 1), -719162),
        (dt.date(9999, 12, 31), 2932896),
        (dt.date(2000, 2, 29), 11016),
    ],
)
def test_date_round_trips(day, days):
    assert Date.from_logical(Date.SCHEMA, day) == days
    assert Date.to_logical(Date.SCHEMA, days) == day


def test_date_accepts_a_midnight_datetime_and_rejects_a_time_of_day():
    assert Date.from_logical(Date.SCHEMA, dt.datetime(1970, 1, 11)) == 10
    with pytest.raises(DataException, match="should not have any time fields"):
        Date.from_logical(Date.SCHEMA, dt.datetime(1970, 1, 11, 0, 0, 1))


@pytest.mark.parametrize(
    "clock, millis",
    [
        (dt.time(0, 0), 0),
        (dt.time(4, 0), 14_400_000),
        (dt.time(23, 59, 59, 999_000), 86_399_999),
        (dt.time(12, 30, 15, 250_000), 45_015_250),
    ],
)
def test_time_round_trips(clock, millis):
    assert Time.from_logical(Time.SCHEMA, clock) == millis
    assert Time.to_logical(Time.SCHEMA, millis) == clock


def test_time_rejects_millis_outside_a_day():
    for millis in (-1, 86_400_001):
        with pytest.raises(DataException, match="Time values must use number of milliseconds"):
            Time.to_logical(Time.SCHEMA, millis)


@pytest.mark.parametrize(
    "moment, millis",
    [
        (dt.datetime(1970, 1, 1, tzinfo=UTC), 0),
        (dt.datetime(1970, 2, 16, 7, 6, 40, tzinfo=UTC), 4_000_000_000),
        (dt.datetime(1969, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC), -1),
        (dt.datetime(2019, 8, 23, 14, 34, 54, 346_000, tzinfo=UTC), 1_566_570_894_346),
    ],
)
def test_timestamp_round_trips_in_utc(moment, millis):
    assert Timestamp.from_logical(Timestamp.SCHEMA, moment) == millis
    assert Timestamp.to_logical(Timestamp.SCHEMA, millis) == moment


def test_timestamp_treats_naive_datetimes_as_utc_and_converts_other_zones():
    assert Timestamp.from_logical(Timestamp.SCHEMA, dt.datetime(1970, 1, 1, 0, 0, 1)) == 1000
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert (
        Timestamp.from_logical(Timestamp.SCHEMA, dt.datetime(1970, 1, 1, 2, tzinfo=plus_two)) == 0
    )


@pytest.mark.parametrize(
    "schema, good, bad",
    [
        (Decimal.schema(1), decimal.Decimal("1.5"), b"\x0f"),
        (Date.SCHEMA, dt.date(2020, 1, 1), 18262),
        (Time.SCHEMA, dt.time(1, 2), 3_720_000),
        (Timestamp.SCHEMA, dt.datetime(2020, 1, 1, tzinfo=UTC), 1_577_836_800_000),
    ],
)
def test_logical_schemas_take_python_values_not_their_encoding(schema, good, bad):
    validate_value(schema, good)
    with pytest.raises(DataException, match=f'schema "{schema.name}"'):
        validate_value(schema, bad)


def test_struct_values_in_field_order_with_defaults_and_as_a_copy():
    schema = (
        SchemaBuilder.struct()
        .field("a", Schema.INT32_SCHEMA)
        .field("b", SchemaBuilder.string().optional().default_value("dflt").build())
        .field("c", Schema.OPTIONAL_STRING_SCHEMA)
        .build()
    )
    struct = Struct(schema).put("a", 1)
    values = struct.values()
    assert values == [1, "dflt", None] == [struct.get(f) for f in schema.fields]
    values[0] = 99
    assert struct.get("a") == 1
    assert Struct(schema).put("a", 2).put("b", "set").values() == [2, "set", None]
