"""JSON -> Connect data, as Kafka's JsonConverter reads it: parsing with Jackson's leniencies,
decoders compiled once per schema (struct decoders generated as straight-line Python), and
JSON schemas read into Connect schemas.
"""

from __future__ import annotations

import binascii
import datetime as _dt
import decimal as _decimal
import json as _stdjson
import math
import re
from collections.abc import Callable
from typing import Any, Self

import orjson
from kconnect.api.data import (
    Date,
    Decimal,
    Schema,
    SchemaBuilder,
    Struct,
    Time,
    Timestamp,
    Type,
)
from kconnect.api.errors import DataException

from kconnect_builtins.converters.java_text import EPOCH_UTC, ONE_MILLISECOND
from kconnect_builtins.converters.json_write import (
    INT_RANGES,
    LOGICAL_NAMES,
    TYPE_NAMES,
    CodecOptions,
)

Decoder = Callable[[Any], Any]

_EPOCH_DATE = _dt.date(1970, 1, 1)
#: the epoch milliseconds and days Python's datetime and date can hold (years 1 to 9999)
_TIMESTAMP_RANGE = (-62_135_596_800_000, 253_402_300_799_999)
_DATE_RANGE = (-719_162, 2_932_896)


def _b64decode(text: str) -> bytes:
    # binascii directly (base64.b64decode(validate=True) wraps it with a regex check); strict
    # mode refuses what validate=True refuses: characters outside the alphabet, bad padding.
    return binascii.a2b_base64(text, strict_mode=True)


_TYPES_BY_NAME = {name: type_ for type_, name in TYPE_NAMES.items()}


class NeedExactNumbers(Exception):
    """Raised by a Decimal decoder that met a JSON number orjson already rounded to a float:
    the caller parses the text again keeping every number exact, and decodes again."""


class ExactFloat(float):
    """A JSON number with a fraction or exponent, parsed in exact mode: a float that also keeps
    its text, so a Decimal decoder can read all of its digits."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> Self:
        number = super().__new__(cls, text)
        number.text = text
        return number


class Missing:
    """Jackson's MissingNode: what parsing empty input yields."""


MISSING = Missing()

# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------
_LEADING_ZEROS = re.compile(r'("(?:[^"\\]|\\.)*")|(?<![0-9.eE+\-])(-?)0+(?=[0-9])', re.DOTALL)
_JSON_BLANKS = " \t\n\r"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")


_LENIENT = _stdjson.JSONDecoder(parse_constant=_reject_constant)
_EXACT = _stdjson.JSONDecoder(parse_constant=_reject_constant, parse_float=ExactFloat)


def parse(data: bytes | bytearray | memoryview, exact: bool = False) -> Any:
    """Parse JSON as Kafka's JsonDeserializer does: leading zeros in numbers are accepted,
    anything after the first value is ignored, empty input gives :data:`MISSING`. With
    ``exact``, numbers with a fraction or exponent come back as :class:`ExactFloat`.
    Raises ValueError (or UnicodeDecodeError) on invalid input."""
    if not exact:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    text = bytes(data).decode("utf-8").lstrip(_JSON_BLANKS)
    if not text:
        return MISSING
    text = _LEADING_ZEROS.sub(lambda m: m.group(1) or m.group(2), text)
    return (_EXACT if exact else _LENIENT).raw_decode(text)[0]


def node_type(node: Any) -> str:
    """Jackson's JsonNodeType name of a parsed value, for error messages."""
    if node is None:
        return "NULL"
    if isinstance(node, bool):
        return "BOOLEAN"
    if isinstance(node, (int, float, _decimal.Decimal)):
        return "NUMBER"
    if isinstance(node, str):
        return "STRING"
    if isinstance(node, list):
        return "ARRAY"
    if isinstance(node, dict):
        return "OBJECT"
    return "MISSING" if node is MISSING else "POJO"


# ---------------------------------------------------------------------------------------------
# JSON -> Connect
# ---------------------------------------------------------------------------------------------
def _wrap(value: int, low: int, high: int) -> int:
    """Java's narrowing of an integer: keep the low bits, two's complement."""
    span = high - low + 1
    return (value - low) % span + low


def _null_decoder(schema: Schema, options: CodecOptions) -> Callable[[], Any]:
    default = schema.default_value
    if default is not None and options.replace_null_with_default:
        return lambda: default
    if schema.optional:
        return lambda: None
    message = f"Invalid null value for required {schema.type.name} field"

    def fail() -> Any:
        raise DataException(message)

    return fail


def compile_decoder(schema: Schema | None, options: CodecOptions) -> Decoder:
    """The function that turns a parsed JSON value (None for null or missing) into a Connect
    value of ``schema``; with no schema, parsed JSON already is the Connect value."""
    if schema is None:
        return _schemaless_decoder
    value_decoder = _value_decoder(schema, options)
    on_null = _null_decoder(schema, options)

    def decode(node: Any) -> Any:
        if node is None:
            return on_null()
        return value_decoder(node)

    return decode


def _schemaless_decoder(node: Any) -> Any:
    return None if node is MISSING else node


def _value_decoder(schema: Schema, options: CodecOptions) -> Decoder:
    """Decoder of non-null nodes. As Jackson's accessors do, a node of the wrong kind reads as
    the type's zero value (false, 0, 0.0, null) instead of failing."""
    if schema.name in LOGICAL_NAMES:
        return _logical_decoder(schema)
    t = schema.type
    if t is Type.STRING:
        return lambda node: node if type(node) is str else None
    if t is Type.BOOLEAN:
        return lambda node: node if type(node) is bool else False
    if t in INT_RANGES:
        low, high = INT_RANGES[t]

        def decode_int(node: Any) -> Any:
            if type(node) is int:
                return node if low <= node <= high else _wrap(node, low, high)
            if isinstance(node, bool) or not isinstance(node, (int, float, _decimal.Decimal)):
                return 0
            if isinstance(node, float) and not math.isfinite(node):
                return 0 if math.isnan(node) else (high if node > 0 else low)
            return _wrap(int(node), low, high)

        return decode_int
    if t is Type.FLOAT32 or t is Type.FLOAT64:

        def decode_float(node: Any) -> Any:
            if type(node) is float:
                return node
            if isinstance(node, bool) or not isinstance(node, (int, float, _decimal.Decimal)):
                return 0.0
            try:
                return float(node)
            except OverflowError:
                return float("inf") if node > 0 else float("-inf")

        return decode_float
    if t is Type.BYTES:

        def decode_bytes(node: Any) -> Any:
            if type(node) is not str:
                return None
            try:
                return _b64decode(node)
            except (binascii.Error, ValueError) as e:
                raise DataException("Invalid bytes field") from e

        return decode_bytes
    if t is Type.ARRAY:
        element = compile_decoder(schema.value_schema, options)

        def decode_array(node: Any) -> Any:
            if type(node) is list:
                return [element(v) for v in node]
            if type(node) is dict:  # Jackson iterates an object's values
                return [element(v) for v in node.values()]
            return []

        return decode_array
    if t is Type.MAP:
        return _map_decoder(schema, options)
    if t is Type.STRUCT:
        return _struct_decoder(schema, options)
    raise DataException(f"Unknown schema type: {t}")


def _map_decoder(schema: Schema, options: CodecOptions) -> Decoder:
    key_schema = schema.key_schema
    decode_value = compile_decoder(schema.value_schema, options)
    if key_schema is None or key_schema.type is Type.STRING:

        def decode_object(node: Any) -> Any:
            if type(node) is not dict:
                raise DataException(
                    "Maps with string fields should be encoded as JSON objects, but found "
                    + node_type(node)
                )
            return {k: decode_value(v) for k, v in node.items()}

        return decode_object
    decode_key = compile_decoder(key_schema, options)

    def decode_pairs(node: Any) -> Any:
        if type(node) is not list:
            raise DataException(
                "Maps with non-string fields should be encoded as JSON array of tuples, but found "
                + node_type(node)
            )
        result = {}
        for entry in node:
            if type(entry) is not list:
                raise DataException(
                    "Found invalid map entry instead of array tuple: " + node_type(entry)
                )
            if len(entry) != 2:
                raise DataException(
                    f"Found invalid map entry, expected length 2 but found :{len(entry)}"
                )
            try:
                result[decode_key(entry[0])] = decode_value(entry[1])
            except TypeError as e:
                raise DataException(f"Map key cannot be used in Python: {e}") from e
        return result

    return decode_pairs


def _passthrough_check(schema: Schema) -> str | None:
    """The inline test that lets a struct decoder take a JSON value as it is."""
    if schema.name in LOGICAL_NAMES:
        return None
    t = schema.type
    if t is Type.STRING:
        return "type({x}) is str"
    if t is Type.BOOLEAN:
        return "type({x}) is bool"
    if t is Type.FLOAT64 or t is Type.FLOAT32:
        return "type({x}) is float"
    if t in INT_RANGES:
        low, high = INT_RANGES[t]
        return f"type({{x}}) is int and {low} <= {{x}} <= {high}"
    return None


# Inline conversions of the common Timestamp and Date values (an integer within Python's
# datetime range); anything else goes through the field's decoder and its error messages.
_INLINE_LOGICAL = {
    Timestamp.LOGICAL_NAME: (
        f"type({{x}}) is int and {_TIMESTAMP_RANGE[0]} <= {{x}} <= {_TIMESTAMP_RANGE[1]}",
        "_EPOCH + _MILLISECOND * {x}",
    ),
    Date.LOGICAL_NAME: (
        f"type({{x}}) is int and {_DATE_RANGE[0]} <= {{x}} <= {_DATE_RANGE[1]}",
        "_EPOCH_DATE + _DAY * {x}",
    ),
}


def _struct_decoder(schema: Schema, options: CodecOptions) -> Decoder:
    """One generated function per struct schema: each field read with one dict lookup, null
    and the common kinds of value handled inline, the rest by the field's own decoder."""
    namespace: dict[str, Any] = {
        "SCHEMA": schema,
        "Struct": Struct,
        "DataException": DataException,
        "node_type": node_type,
        "_new": object.__new__,
        "_EPOCH": EPOCH_UTC,
        "_MILLISECOND": ONE_MILLISECOND,
        "_EPOCH_DATE": _EPOCH_DATE,
        "_DAY": _dt.timedelta(days=1),
    }
    lines = [
        "def decode_struct(node):",
        "    if type(node) is not dict:",
        (
            "        raise DataException("
            "'Structs should be encoded as JSON objects, but found ' + node_type(node))"
        ),
        "    g = node.get",
    ]
    names = []
    for field in schema.fields:
        i, x = field.index, f"x{field.index}"
        decoder = _value_decoder(field.schema, options)
        if not field.schema.optional and field.schema.type in (Type.STRING, Type.BYTES):
            decoder = _required_in_struct(decoder, field.name, field.schema.type)
        namespace[f"D{i}"] = decoder
        namespace[f"N{i}"] = _null_decoder(field.schema, options)
        lines.append(f"    {x} = g({field.name!r})")
        check = _passthrough_check(field.schema)
        inline = _INLINE_LOGICAL.get(field.schema.name or "")
        if check is not None:
            lines.append(f"    if not ({check.format(x=x)}):")
            lines.append(f"        {x} = N{i}() if {x} is None else D{i}({x})")
        elif inline is not None:
            lines.append(f"    if {inline[0].format(x=x)}: {x} = {inline[1].format(x=x)}")
            lines.append(f"    else: {x} = N{i}() if {x} is None else D{i}({x})")
        else:
            lines.append(f"    {x} = N{i}() if {x} is None else D{i}({x})")
        names.append(x)
    lines += [
        "    s = _new(Struct)",
        "    s.schema = SCHEMA",
        "    s._values = [" + ", ".join(names) + "]",
        "    return s",
    ]
    exec("\n".join(lines), namespace)  # noqa: S102 - generated from field indexes and repr()s
    return namespace["decode_struct"]


def _required_in_struct(decoder: Decoder, name: str, type_: Type) -> Decoder:
    """A JSON value of the wrong kind reads as null for STRING and BYTES; Kafka's Struct.put
    then rejects it for a required field."""

    def decode(node: Any) -> Any:
        value = decoder(node)
        if value is None:
            raise DataException(
                f'Invalid value: null used for required field: "{name}", schema type: {type_.name}'
            )
        return value

    return decode


def _logical_decoder(schema: Schema) -> Decoder:
    name = schema.name
    if name == Decimal.LOGICAL_NAME:
        try:
            scale: int | None = Decimal.scale(schema)
        except DataException:
            scale = None  # reported for each value, as Kafka does
        from_unscaled = Decimal.from_unscaled

        def decode_decimal(node: Any) -> Any:
            if type(node) is str:  # the default decimal.format: base64 of the unscaled value
                try:
                    unscaled = int.from_bytes(_b64decode(node), "big", signed=True)
                    if scale is None:
                        Decimal.scale(schema)  # no scale parameter: wrapped below, as Kafka does
                    return from_unscaled(unscaled, scale)
                except Exception as e:
                    raise DataException("Invalid bytes for Decimal field") from e
            if type(node) is ExactFloat:
                return _decimal.Decimal(node.text)
            if isinstance(node, bool):
                pass
            elif isinstance(node, int):
                return _decimal.Decimal(node)
            elif isinstance(node, float):
                raise NeedExactNumbers()
            elif isinstance(node, _decimal.Decimal):
                return node
            raise DataException(
                "Invalid type for Decimal, underlying representation should be numeric or bytes "
                "but was " + node_type(node)
            )

        return decode_decimal

    if name == Timestamp.LOGICAL_NAME:

        def decode_timestamp(node: Any) -> Any:
            if isinstance(node, bool) or not isinstance(node, int):
                raise DataException(
                    "Invalid type for Timestamp, underlying representation should be integral "
                    "but was " + node_type(node)
                )
            try:
                return Timestamp.to_logical(schema, node)
            except OverflowError as e:
                raise DataException(f"Timestamp {node} is out of Python's datetime range") from e

        return decode_timestamp

    logical = Date if name == Date.LOGICAL_NAME else Time
    kind = "Date" if logical is Date else "Time"

    def decode_days_or_millis(node: Any) -> Any:
        if isinstance(node, bool) or not isinstance(node, int) or not -(2**31) <= node <= 2**31 - 1:
            raise DataException(
                f"Invalid type for {kind}, underlying representation should be integer but was "
                + node_type(node)
            )
        try:
            return logical.to_logical(schema, node)
        except OverflowError as e:
            raise DataException(f"{kind} {node} is out of Python's date range") from e

    return decode_days_or_millis


def schema_from_json(node: Any, options: CodecOptions) -> Schema | None:
    """The Connect schema a JSON schema describes (Kafka's asConnectSchema)."""
    if node is None:
        return None
    type_node = node.get("type") if type(node) is dict else None
    if type(type_node) is not str:
        raise DataException("Schema must contain 'type' field")
    type_ = _TYPES_BY_NAME.get(type_node)
    if type_ is None:
        raise DataException("Unknown schema type: " + type_node)
    if type_ is Type.ARRAY:
        items = node.get("items")
        if items is None:
            raise DataException("Array schema did not specify the element type")
        builder = SchemaBuilder.array(schema_from_json(items, options))  # type: ignore[arg-type]
    elif type_ is Type.MAP:
        if "keys" not in node:
            raise DataException("Map schema did not specify the key type")
        if "values" not in node:
            raise DataException("Map schema did not specify the value type")
        builder = SchemaBuilder.map(
            schema_from_json(node["keys"], options),  # type: ignore[arg-type]
            schema_from_json(node["values"], options),  # type: ignore[arg-type]
        )
    elif type_ is Type.STRUCT:
        builder = SchemaBuilder.struct()
        fields = node.get("fields")
        if type(fields) is not list:
            raise DataException('Struct schema\'s "fields" argument is not an array.')
        for field in fields:
            field_name = field.get("field") if type(field) is dict else None
            if type(field_name) is not str:
                raise DataException("Struct schema's field name not specified properly")
            builder.field(field_name, schema_from_json(field, options))  # type: ignore[arg-type]
    else:
        builder = SchemaBuilder(type_)

    if node.get("optional") is True:
        builder.optional()
    else:
        builder.required()
    name = node.get("name")
    if type(name) is str:
        builder.name(name)
    version = node.get("version")
    if type(version) is int:
        builder.version(_wrap(version, -(2**31), 2**31 - 1))
    doc = node.get("doc")
    if type(doc) is str:
        builder.doc(doc)
    parameters = node.get("parameters")
    if type(parameters) is dict:
        for key, value in parameters.items():
            if type(value) is not str:
                raise DataException("Schema parameters must have string values.")
            builder.parameter(key, value)
    if "default" in node:
        without_default = builder.build()
        builder.default_value(compile_decoder(without_default, options)(node["default"]))
    return builder.build()
