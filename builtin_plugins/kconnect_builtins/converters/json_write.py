"""Connect data -> JSON trees, as Kafka's JsonConverter writes them, compiled once per schema.

An *encoder* turns a Connect value into a tree orjson can write (dict/list/str/int/bool/None,
plus ``orjson.Fragment`` for numbers Jackson formats differently from orjson); :func:`dumps`
writes it as Jackson would. Encoders are built once per schema, so the per-record work is one
call per value with no walk over the schema; struct encoders are generated as straight-line
Python, one line per field.
"""

from __future__ import annotations

import binascii
import datetime as _dt
import decimal as _decimal
import math
import re
from collections.abc import Callable
from typing import Any

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

from kconnect_builtins.converters.java_text import (
    EPOCH_UTC,
    ONE_MILLISECOND,
    epoch_millis,
    java_decimal,
    java_double,
    java_float,
)

Encoder = Callable[[Any], Any]

TYPE_NAMES = {
    Type.BOOLEAN: "boolean",
    Type.INT8: "int8",
    Type.INT16: "int16",
    Type.INT32: "int32",
    Type.INT64: "int64",
    Type.FLOAT32: "float",
    Type.FLOAT64: "double",
    Type.BYTES: "bytes",
    Type.STRING: "string",
    Type.ARRAY: "array",
    Type.MAP: "map",
    Type.STRUCT: "struct",
}

INT_RANGES = {
    Type.INT8: (-(2**7), 2**7 - 1),
    Type.INT16: (-(2**15), 2**15 - 1),
    Type.INT32: (-(2**31), 2**31 - 1),
    Type.INT64: (-(2**63), 2**63 - 1),
}
LOGICAL_NAMES = frozenset(
    (Decimal.LOGICAL_NAME, Date.LOGICAL_NAME, Time.LOGICAL_NAME, Timestamp.LOGICAL_NAME)
)
_Fragment = orjson.Fragment


def _b64encode(value: bytes | bytearray | memoryview) -> bytes:
    # binascii directly: base64.b64encode is a Python wrapper around it (a third slower).
    return _b2a_base64(value, newline=False)


_b2a_base64 = binascii.b2a_base64


class CodecOptions:
    """The JsonConverter settings the codecs depend on."""

    __slots__ = ("decimal_numeric", "replace_null_with_default")

    def __init__(self, decimal_numeric: bool = False, replace_null_with_default: bool = True):
        self.decimal_numeric = decimal_numeric
        self.replace_null_with_default = replace_null_with_default


_HEX_ESCAPE = re.compile(rb"(\\+)u00([0-9a-f]{2})")


def _upper_hex(match: re.Match[bytes]) -> bytes:
    slashes = match.group(1)
    if len(slashes) % 2 == 0:  # an escaped backslash followed by the text "u00..", not an escape
        return match.group(0)
    return slashes + b"u00" + match.group(2).upper()


# A character outside the Basic Multilingual Plane, as 4 bytes of UTF-8.
_FOUR_BYTE_UTF8 = re.compile(rb"[\xf0-\xf4][\x80-\xbf]{3}")


def _surrogate_pair(match: re.Match[bytes]) -> bytes:
    code = ord(match.group(0).decode("utf-8")) - 0x10000
    return b"\\u%04X\\u%04X" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


def dumps(tree: Any) -> bytes:
    """Compact JSON as Jackson writes it. orjson writes the same bytes except for control
    characters without a short escape, which Jackson writes with upper-case hex (``\\u001F``),
    and characters outside the BMP, which Jackson's UTF-8 generator writes as an escaped
    surrogate pair (``\\uD83D\\uDE00``) where orjson writes 4 bytes of UTF-8."""
    out = orjson.dumps(tree)
    if 92 in out and b"\\u00" in out:  # 92 is the backslash; an int is looked up with memchr
        out = _HEX_ESCAPE.sub(_upper_hex, out)
    if not out.isascii():
        out = _FOUR_BYTE_UTF8.sub(_surrogate_pair, out)
    return out


# ---------------------------------------------------------------------------------------------
# Connect -> JSON
# ---------------------------------------------------------------------------------------------
def _invalid(schema_type: str, value: Any) -> DataException:
    return DataException(f"Invalid type for {schema_type}: {type(value)}")


def _double(value: Any) -> Any:
    """A FLOAT64 value in Double.toString's form (a float orjson writes identically, or a
    fragment); JSON has no NaN or infinities, so Jackson quotes them as strings."""
    if type(value) is not float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _invalid("FLOAT64", value)
        try:
            value = float(value)
        except OverflowError:
            raise DataException(f"Value {value} is out of range for FLOAT64") from None
    if 1e-3 <= value < 1e7 or -1e7 < value <= -1e-3 or value == 0.0:
        return value
    text = java_double(value)
    if not math.isfinite(value):
        return text
    return _Fragment(text.encode())


def _float(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _invalid("FLOAT32", value)
    text = java_float(float(value))
    if text[-1] in "yN":  # NaN, Infinity, -Infinity: quoted, as Jackson does
        return text
    return _Fragment(text.encode())


def _bytes_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _b64encode(value).decode("ascii")
    raise DataException(f"Invalid type for bytes type: {type(value)}")


_PLAIN = frozenset((str, int, bool, type(None)))  # written by orjson exactly as Jackson would


def encode_schemaless(value: Any) -> Any:
    """A value without a schema: its Python type picks the JSON form, as Java classes do in
    Kafka (``int`` is a long, ``float`` a double, a dict with any non-string key becomes an
    array of ``[key, value]`` pairs)."""
    t = type(value)
    if t in _PLAIN:
        return value
    if t is dict:
        for key in value:
            if type(key) is not str:
                return [[encode_schemaless(k), encode_schemaless(v)] for k, v in value.items()]
        return {k: v if type(v) in _PLAIN else encode_schemaless(v) for k, v in value.items()}
    if t is list or t is tuple:
        return [v if type(v) in _PLAIN else encode_schemaless(v) for v in value]
    if t is float:
        return _double(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _bytes_text(value)
    if isinstance(value, Struct):
        raise DataException("Mismatching schema.")
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _double(float(value))
    if isinstance(value, dict):
        return encode_schemaless(dict(value))
    if isinstance(value, (list, tuple)):
        return encode_schemaless(list(value))
    raise DataException(f"Python class {type(value)} does not have corresponding schema type.")


def _null_required() -> Any:
    raise DataException(
        "Conversion error: null value for field that is required and has no default value"
    )


_REQUIRED = object()  # marks "null is an error" where a null result is precomputed


def _null_result(schema: Schema, options: CodecOptions, value_encoder: Encoder) -> Any:
    """What a null becomes: the encoded default, null, or _REQUIRED."""
    if schema.default_value is not None and options.replace_null_with_default:
        return value_encoder(schema.default_value)
    if schema.optional:
        return None
    return _REQUIRED


def compile_encoder(schema: Schema | None, options: CodecOptions) -> Encoder:
    """The function that turns a value of ``schema`` (null included) into a JSON tree."""
    if schema is None:
        return encode_schemaless
    value_encoder = _value_encoder(schema, options)
    null = _null_result(schema, options, value_encoder)

    if null is _REQUIRED:

        def encode(value: Any) -> Any:
            if value is None:
                return _null_required()
            return value_encoder(value)

    else:

        def encode(value: Any) -> Any:
            if value is None:
                return null
            return value_encoder(value)

    return encode


def _value_encoder(schema: Schema, options: CodecOptions) -> Encoder:
    """The encoder of non-null values of ``schema``."""
    if schema.name in LOGICAL_NAMES:
        return _logical_encoder(schema, options)
    t = schema.type
    if t is Type.STRING:

        def encode_string(value: Any) -> Any:
            if type(value) is str:
                return value
            if isinstance(value, str):
                return str(value)
            raise _invalid("STRING", value)

        return encode_string
    if t is Type.BOOLEAN:

        def encode_boolean(value: Any) -> Any:
            if value is True or value is False:
                return value
            raise _invalid("BOOLEAN", value)

        return encode_boolean
    if t in INT_RANGES:
        low, high = INT_RANGES[t]
        name = t.name

        def encode_int(value: Any) -> Any:
            if type(value) is int and low <= value <= high:
                return value
            if isinstance(value, bool) or not isinstance(value, int):
                raise _invalid(name, value)
            if not low <= value <= high:
                raise DataException(f"Invalid value {value} for {name}: out of range")
            return int(value)

        return encode_int
    if t is Type.FLOAT64:
        return _double
    if t is Type.FLOAT32:
        return _float
    if t is Type.BYTES:
        return _bytes_text
    if t is Type.ARRAY:
        return _array_encoder(schema, options)
    if t is Type.MAP:
        return _map_encoder(schema, options)
    if t is Type.STRUCT:
        return _struct_encoder(schema, options)
    raise DataException(f"Couldn't translate unsupported schema type {schema}.")


def _logical_encoder(schema: Schema, options: CodecOptions) -> Encoder:
    name = schema.name
    if name == Decimal.LOGICAL_NAME:
        numeric = options.decimal_numeric
        try:
            scale: int | None = Decimal.scale(schema)
        except DataException:
            scale = None  # reported for each value, as Kafka does
        unscaled_bytes = Decimal.unscaled_bytes
        b2a_base64 = _b2a_base64

        def encode_decimal(value: Any) -> Any:
            if not isinstance(value, _decimal.Decimal):
                raise DataException(
                    f"Invalid type for Decimal, expected BigDecimal but was {type(value)}"
                )
            if numeric:
                return _Fragment(java_decimal(value).encode())
            if scale is None:
                Decimal.scale(schema)  # raises Kafka's message
            return b2a_base64(unscaled_bytes(value, scale), newline=False).decode("ascii")

        return encode_decimal
    if name == Date.LOGICAL_NAME:

        def encode_date(value: Any) -> Any:
            if not isinstance(value, _dt.date):
                raise DataException(f"Invalid type for Date, expected Date but was {type(value)}")
            return Date.from_logical(schema, value)

        return encode_date
    if name == Time.LOGICAL_NAME:

        def encode_time(value: Any) -> Any:
            if isinstance(value, _dt.time):
                return Time.from_logical(schema, value)
            if isinstance(value, _dt.datetime):
                millis = epoch_millis(value)
                if 0 <= millis <= 86_400_000:
                    return millis
                raise DataException(
                    "Kafka Connect Time type should not have any date fields set to non-zero values."
                )
            raise DataException(f"Invalid type for Time, expected Date but was {type(value)}")

        return encode_time

    def encode_timestamp(value: Any) -> Any:
        if not isinstance(value, _dt.date):
            raise DataException(f"Invalid type for Timestamp, expected Date but was {type(value)}")
        return epoch_millis(value)

    return encode_timestamp


def _array_encoder(schema: Schema, options: CodecOptions) -> Encoder:
    element = compile_encoder(schema.value_schema, options)

    def encode_array(value: Any) -> Any:
        if type(value) is not list and not isinstance(value, (list, tuple)):
            raise _invalid("ARRAY", value)
        return [element(v) for v in value]

    return encode_array


def _map_encoder(schema: Schema, options: CodecOptions) -> Encoder:
    key_schema = schema.key_schema
    encode_key = compile_encoder(key_schema, options)
    encode_value = compile_encoder(schema.value_schema, options)

    if key_schema is not None and key_schema.type is Type.STRING:
        # String keys: a JSON object. Keys go through their schema, as in Kafka (a null key of
        # an optional schema becomes the text "null").
        def object_key(key: Any) -> str:
            text = encode_key(key)
            return "null" if text is None else text

        def encode_object(value: Any) -> Any:
            if not isinstance(value, dict):
                raise _invalid("MAP", value)
            return {
                k if type(k) is str else object_key(k): encode_value(v) for k, v in value.items()
            }

        return encode_object

    def encode_pairs(value: Any) -> Any:
        if not isinstance(value, dict):
            raise _invalid("MAP", value)
        return [[encode_key(k), encode_value(v)] for k, v in value.items()]

    return encode_pairs


def _is_plain(schema: Schema) -> bool:
    """Values of these schemas are written as they are: Struct.put has already checked them."""
    return schema.name not in LOGICAL_NAMES and (
        schema.type is Type.STRING or schema.type is Type.BOOLEAN or schema.type in INT_RANGES
    )


def _same_but_default(a: Schema, b: Schema) -> bool:
    """Equal apart from the default value: a struct schema's own default is a Struct of the
    schema as it was before the default was set."""
    return _without_default(a) == _without_default(b)


def _without_default(schema: Schema) -> Schema:
    builder = SchemaBuilder.from_schema(schema)
    builder._default = None
    return builder.build()


def _struct_encoder(schema: Schema, options: CodecOptions) -> Encoder:
    fields = schema.fields
    namespace: dict[str, Any] = {
        "SCHEMA": schema,
        "Struct": Struct,
        "DataException": DataException,
        "_invalid": _invalid,
        "_null_required": _null_required,
        "_same_but_default": _same_but_default,
        "_datetime": _dt.datetime,
        "_EPOCH": EPOCH_UTC,
        "_MILLISECOND": ONE_MILLISECOND,
    }
    lines = [
        "def encode_struct(value):",
        "    if type(value) is not Struct and not isinstance(value, Struct):",
        "        raise _invalid('STRUCT', value)",
        (
            "    if value.schema is not SCHEMA and value.schema != SCHEMA "
            "and not _same_but_default(value.schema, SCHEMA):"
        ),
        "        raise DataException('Mismatching schema.')",
        "    v = value._values",
    ]
    items = []
    for field in fields:
        i = field.index
        encoder = _value_encoder(field.schema, options)
        null = _null_result(field.schema, options, encoder)
        namespace[f"E{i}"] = encoder
        namespace[f"N{i}"] = null
        lines.append(f"    x{i} = v[{i}]")
        on_null = "_null_required()" if null is _REQUIRED else f"N{i}"
        if _is_plain(field.schema):
            if null is not None:
                lines.append(f"    if x{i} is None: x{i} = {on_null}")
        elif field.schema.name == Timestamp.LOGICAL_NAME:
            # The common value, an aware datetime, inline (epoch_millis's arithmetic: floor of
            # the milliseconds); anything else through the field's encoder and its checks.
            lines.append(f"    if type(x{i}) is _datetime and x{i}.tzinfo is not None:")
            lines.append(f"        x{i} = (x{i} - _EPOCH) // _MILLISECOND")
            lines.append(f"    else: x{i} = {on_null} if x{i} is None else E{i}(x{i})")
        else:
            lines.append(f"    x{i} = {on_null} if x{i} is None else E{i}(x{i})")
        items.append(f"{field.name!r}: x{i}")
    lines.append("    return {" + ", ".join(items) + "}")
    exec("\n".join(lines), namespace)  # noqa: S102 - generated from field indexes and repr()s
    return namespace["encode_struct"]


def schema_to_json(schema: Schema | None, options: CodecOptions) -> Any:
    """Kafka's JSON form of a schema, keys in Kafka's order: type, then items | keys, values |
    fields, then optional, name, version, doc, parameters and default (each only when set)."""
    if schema is None:
        return None
    t = schema.type
    out: dict[str, Any] = {"type": TYPE_NAMES[t]}
    if t is Type.ARRAY:
        out["items"] = schema_to_json(schema.value_schema, options)
    elif t is Type.MAP:
        out["keys"] = schema_to_json(schema.key_schema, options)
        out["values"] = schema_to_json(schema.value_schema, options)
    elif t is Type.STRUCT:
        fields = []
        for field in schema.fields:
            field_json = dict(schema_to_json(field.schema, options))
            field_json["field"] = field.name
            fields.append(field_json)
        out["fields"] = fields
    out["optional"] = schema.optional
    if schema.name is not None:
        out["name"] = schema.name
    if schema.version is not None:
        out["version"] = schema.version
    if schema.doc is not None:
        out["doc"] = schema.doc
    if schema.parameters is not None:
        out["parameters"] = dict(schema.parameters)
    if schema.default_value is not None:
        out["default"] = _value_encoder(schema, options)(schema.default_value)
    return out
