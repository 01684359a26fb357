"""PostgreSQL column types <-> Kafka Connect schemas, in both directions.

Reading (source), decided once per query from the result's column descriptions, never per row:

=============================================  ==============================================
PostgreSQL                                     Connect
=============================================  ==============================================
smallint, integer, bigint                      INT16, INT32, INT64
real, double precision                         FLOAT32, FLOAT64
numeric(p, s)                                  Decimal with scale s (values carry that scale),
                                               or by ``numeric.mapping``: see below
numeric without a scale                        STRING (its exact digits: Decimal needs a scale)
boolean                                        BOOLEAN
bytea                                          BYTES
date, time, timestamp, timestamptz             Date, Time, Timestamp (in db.timezone), Timestamp
text, varchar, char, json, jsonb, uuid, …      STRING (json/jsonb as their text)
one-dimensional arrays of the above            ARRAY of the element's optional schema
=============================================  ==============================================

``numeric.mapping`` (the JDBC connector's rules):

* ``none``: Decimal;
* ``precision_only``: numeric(p, 0) with p <= 18 -> INT8 (p <= 2), INT16 (p <= 4), INT32
  (p <= 9), INT64; anything else Decimal;
* ``best_fit``: as precision_only, and numeric(p, s > 0) with p <= 18 -> FLOAT64;
* ``best_fit_eager_double``: as precision_only, and numeric(p, s > 0) of any p -> FLOAT64.

Two rules of our own, where following the JDBC connector would lose data: numeric without
precision and scale (PostgreSQL's unconstrained ``numeric``, whose values may have any scale)
stays a STRING of its exact digits under every mapping (the JDBC connector, told precision 0 and
scale 0 by the driver, reads it as INT8 under the three mappings, truncating, and as a Decimal
of scale 127 under ``none``); and numeric(p, s < 0) (PostgreSQL 15+) holds integers of up to
p - s digits, so the integer mappings count p - s digits, not p.

Writing (sink, ``auto.create``/``auto.evolve``): the reverse, with Decimal as unconstrained
``numeric`` (it keeps each value's scale) and Timestamp as ``timestamp`` (a wall clock time in
``db.timezone``, as the JDBC connector writes it).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from kconnect.api import DataException, Date, Decimal, Schema, SchemaBuilder, Time, Timestamp
from kconnect.api import Type as T
from psycopg.types.string import TextLoader

#: types psycopg would load as Python objects (dicts, UUIDs, addresses, timedeltas) that
#: Connect carries as strings: loaded as their text instead.
TEXT_TYPES = (
    "json",
    "jsonb",
    "uuid",
    "inet",
    "cidr",
    "macaddr",
    "interval",
    "money",
    "xml",
    "tsvector",
    "oid",
)


def register_text_loaders(conn: psycopg.Connection) -> None:
    """Make ``conn`` return the text of the types Connect carries as strings."""
    for name in TEXT_TYPES:
        info = conn.adapters.types.get(name)
        if info is not None:
            conn.adapters.register_loader(info.oid, TextLoader)
            # Arrays of them are parsed by the array loader, which uses the element loader.


@dataclass(frozen=True)
class ColumnMapping:
    """How one result column becomes one struct field."""

    name: str
    schema: Schema
    #: Python value from psycopg -> Connect value; None when it is already one
    convert: Callable[[Any], Any] | None


#: the most digits the integer mappings put in an INT64 (the JDBC connector's limit)
MAX_INTEGER_DIGITS = 18
NUMERIC_NONE, PRECISION_ONLY, BEST_FIT, BEST_FIT_EAGER_DOUBLE = (
    "none",
    "precision_only",
    "best_fit",
    "best_fit_eager_double",
)


def _integer_builder(digits: int) -> SchemaBuilder:
    if digits > 9:
        return SchemaBuilder.int64()
    if digits > 4:
        return SchemaBuilder.int32()
    if digits > 2:
        return SchemaBuilder.int16()
    return SchemaBuilder.int8()


def numeric_field(
    precision: int | None, scale: int | None, mapping: str, name: str
) -> tuple[SchemaBuilder, Callable[[Any], Any] | None]:
    """numeric(precision, scale) under ``numeric.mapping`` (see the module's docstring)."""
    if precision is None or scale is None:
        return SchemaBuilder.string(), _decimal_text
    if mapping != NUMERIC_NONE:
        digits = precision - min(scale, 0)
        integral = scale == 0 if mapping == PRECISION_ONLY else scale <= 0
        if integral and digits <= MAX_INTEGER_DIGITS:
            return _integer_builder(digits), _decimal_to_int(name)
        if scale > 0 and (
            mapping == BEST_FIT_EAGER_DOUBLE
            or (mapping == BEST_FIT and precision <= MAX_INTEGER_DIGITS)
        ):
            return SchemaBuilder.float64(), float  # NaN and infinities are doubles too
    if scale < 0:
        return SchemaBuilder.string(), _decimal_text
    return Decimal.builder(scale), _decimal_with_scale(scale)


def _scalar(
    type_name: str,
    precision: int | None,
    scale: int | None,
    numeric_mapping: str = NUMERIC_NONE,
    name: str = "",
    zone: dt.tzinfo | None = None,
) -> tuple[SchemaBuilder, Callable[[Any], Any] | None]:
    if type_name == "int2":
        return SchemaBuilder.int16(), None
    if type_name == "int4":
        return SchemaBuilder.int32(), None
    if type_name == "int8":
        return SchemaBuilder.int64(), None
    if type_name == "float4":
        return SchemaBuilder.float32(), None
    if type_name == "float8":
        return SchemaBuilder.float64(), None
    if type_name == "bool":
        return SchemaBuilder.bool(), None
    if type_name == "bytea":
        return SchemaBuilder.bytes(), bytes
    if type_name == "numeric":
        return numeric_field(precision, scale, numeric_mapping, name)
    if type_name == "date":
        return Date.builder(), _finite_date
    if type_name in ("time", "timetz"):
        return Time.builder(), None
    if type_name == "timestamp" and zone is not None and zone is not dt.UTC:
        return Timestamp.builder(), _timestamp_in(zone)
    if type_name in ("timestamp", "timestamptz"):
        return Timestamp.builder(), _finite_timestamp
    if type_name in ("text", "varchar", "bpchar", "name", "char", *TEXT_TYPES):
        return SchemaBuilder.string(), None
    return SchemaBuilder.string(), str


def column_mapping(
    conn: psycopg.Connection,
    name: str,
    type_oid: int,
    precision: int | None,
    scale: int | None,
    optional: bool,
    numeric_mapping: str = NUMERIC_NONE,
    zone: dt.tzinfo | None = None,
) -> ColumnMapping:
    """The field for a result column of type ``type_oid``: numeric columns mapped by
    ``numeric_mapping``, naive timestamps read as wall clock times in ``zone`` (None: UTC)."""
    info = conn.adapters.types.get(type_oid)
    convert: Callable[[Any], Any] | None
    if info is not None and info.array_oid == type_oid and info.oid != type_oid:
        element, convert_one = _scalar(info.name, precision, scale, numeric_mapping, name, zone)
        element_schema = element.optional().build()
        builder = SchemaBuilder.array(element_schema)
        convert = _array_converter(name, info.name, convert_one)
    else:
        type_name = info.name if info is not None else ""
        builder, convert = _scalar(type_name, precision, scale, numeric_mapping, name, zone)
    if optional:
        builder = builder.optional()
    return ColumnMapping(name, builder.build(), convert)


def _array_converter(
    column: str, element_type: str, convert_one: Callable[[Any], Any] | None
) -> Callable[[Any], Any]:
    """One-dimensional arrays, their elements converted. A PostgreSQL array column's type does
    not fix its dimensions, and its schema (ARRAY of the element) has one: a value with more is
    an error naming the column, not a value the converter later refuses without saying where."""

    def convert(values: list[Any]) -> list[Any]:
        out = []
        for value in values:
            if type(value) is list:
                raise DataException(
                    f"column {column!r} holds a multi-dimensional {element_type} array, and "
                    "its Connect schema is a one-dimensional ARRAY; read it as text with a "
                    f"query (e.g. array_to_json({column})::text) instead"
                )
            out.append(value if value is None or convert_one is None else convert_one(value))
        return out

    return convert


def _decimal_text(value: decimal.Decimal) -> str:
    return str(value)


def _decimal_with_scale(scale: int) -> Callable[[decimal.Decimal], decimal.Decimal]:
    quantum = decimal.Decimal(1).scaleb(-scale)

    def convert(value: decimal.Decimal) -> decimal.Decimal:
        if not value.is_finite():
            raise DataException(f"numeric value {value} cannot be a Connect Decimal")
        return value.quantize(quantum)

    return convert


def _decimal_to_int(name: str) -> Callable[[decimal.Decimal], int]:
    def convert(value: decimal.Decimal) -> int:
        try:
            return int(value)
        except (ValueError, OverflowError):  # NaN, infinities
            raise DataException(
                f"numeric value {value} of column {name!r} cannot be an integer; set "
                "numeric.mapping=none (Decimal) to read it"
            ) from None

    return convert


def _timestamp_in(zone: dt.tzinfo) -> Callable[[Any], dt.datetime]:
    def convert(value: Any) -> dt.datetime:
        return _finite_timestamp(value).replace(tzinfo=zone)

    return convert


def _finite_date(value: Any) -> dt.date:
    if not isinstance(value, dt.date):  # psycopg raises for infinity unless told otherwise
        raise DataException(f"date value {value!r} cannot be a Connect Date")
    return value


def _finite_timestamp(value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise DataException(f"timestamp value {value!r} cannot be a Connect Timestamp")
    return value


# -- writing ------------------------------------------------------------------------------------
_SQL_TYPES = {
    T.INT8: "smallint",
    T.INT16: "smallint",
    T.INT32: "integer",
    T.INT64: "bigint",
    T.FLOAT32: "real",
    T.FLOAT64: "double precision",
    T.BOOLEAN: "boolean",
    T.STRING: "text",
    T.BYTES: "bytea",
}
_LOGICAL_SQL_TYPES = {
    Decimal.LOGICAL_NAME: "numeric",
    Date.LOGICAL_NAME: "date",
    Time.LOGICAL_NAME: "time",
    Timestamp.LOGICAL_NAME: "timestamp",
}


def sql_type(schema: Schema, where: str) -> str:
    """The column type ``auto.create``/``auto.evolve`` give a field of ``schema``."""
    if schema.name and schema.name in _LOGICAL_SQL_TYPES:
        return _LOGICAL_SQL_TYPES[schema.name]
    if schema.type is T.ARRAY and schema.value_schema is not None:
        element = schema.value_schema
        if element.type is not T.ARRAY:
            return sql_type(element, where) + "[]"
    if schema.type in _SQL_TYPES:
        return _SQL_TYPES[schema.type]
    raise DataException(
        f"{where} has schema type {schema.type.name}, which has no PostgreSQL column type "
        "(structs and maps cannot be written to a column; flatten them first, e.g. with the "
        "Flatten transform)"
    )
