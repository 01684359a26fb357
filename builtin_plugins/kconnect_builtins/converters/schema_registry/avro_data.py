"""Connect values <-> the Python values fastavro writes and reads, compiled once per schema.

fastavro does the binary work (and the logical types: Decimal, date, time and datetime pass
through untouched both ways), so the per-record Python work is only what Avro and Connect
disagree on: structs (Connect's :class:`Struct` vs a dict; generated straight-line code, one
expression per field), maps with non-string keys (a list of key/value records), defaults of
unset struct fields, Confluent's Union structs, and bytearray values. A schema whose values
need none of that converts with no call at all.
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
from collections.abc import Callable
from typing import Any

from kconnect.api.data import Date, Decimal, Schema, Struct, Time, Timestamp, Type
from kconnect.api.errors import DataException

from kconnect_builtins.converters.schema_registry.avro_schema import UNION

Codec = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _bytes(value: Any) -> Any:
    return value if type(value) is bytes or value is None else bytes(value)


def _optional(inner: Codec) -> Codec:
    if inner is _identity:
        return _identity
    return lambda v: None if v is None else inner(v)


def _value_schema(schema: Schema) -> Schema:
    if schema.value_schema is None:
        raise DataException(f"{schema.type.name} schema has no value schema")
    return schema.value_schema


def _key_schema(schema: Schema) -> Schema:
    if schema.key_schema is None:
        raise DataException("Map schema has no key schema")
    return schema.key_schema


def _string_keyed(schema: Schema) -> bool:
    key = _key_schema(schema)
    return key.type is Type.STRING and not key.optional


# ---------------------------------------------------------------------------------------------
# Connect -> Avro
# ---------------------------------------------------------------------------------------------
def compile_encoder(schema: Schema) -> Codec:
    """A function turning a value of ``schema`` into what fastavro writes for its Avro form."""
    return _encoder(schema, {})


def _encoder(schema: Schema, seen: dict[int, Codec]) -> Codec:
    t = schema.type
    if t is Type.BYTES and schema.name != Decimal.LOGICAL_NAME:
        return _bytes
    if t is Type.ARRAY:
        item = _encoder(_value_schema(schema), seen)
        return _identity if item is _identity else _optional(lambda v: [item(x) for x in v])
    if t is Type.MAP:
        key, value = _encoder(_key_schema(schema), seen), _encoder(_value_schema(schema), seen)
        if _string_keyed(schema):
            if value is _identity:
                return _identity
            return _optional(lambda v: {k: value(x) for k, x in v.items()})
        return _optional(lambda v: [{"key": key(k), "value": value(x)} for k, x in v.items()])
    if t is Type.STRUCT:
        if schema.name == UNION:
            encode = _union_encoder(schema, seen)
        else:
            encode = _struct_encoder(schema, seen)
        return _optional(encode) if schema.optional else encode
    return _identity


def _struct_encoder(schema: Schema, seen: dict[int, Codec]) -> Codec:
    names: dict[str, Any] = {"DataException": DataException}
    parts = []
    for field in schema.fields:
        i = field.index
        encode = _encoder(field.schema, seen)
        value = f"v[{i}]"
        if encode is not _identity:
            names[f"e{i}"] = encode
            value = f"e{i}(v[{i}])"
        if field.schema.default_value is not None:
            names[f"d{i}"] = encode(field.schema.default_value)
            value = f"({value} if v[{i}] is not None else d{i})"
        parts.append(f"{field.name!r}: {value}")
    source = "def encode(s):\n    v = s._values\n    return {" + ", ".join(parts) + "}\n"
    exec(compile(source, f"<avro encoder {schema.name or 'struct'}>", "exec"), names)
    return names["encode"]  # type: ignore[no-any-return]


def _union_encoder(schema: Schema, seen: dict[int, Codec]) -> Codec:
    members = []
    for field in schema.fields:
        encode = _encoder(field.schema, seen)
        # A record branch is written as (name, value), so fastavro need not guess among
        # several record branches.
        record_name = field.schema.name if field.schema.type is Type.STRUCT else None
        members.append((field.index, encode, record_name))

    def encode_union(struct: Struct) -> Any:
        values = struct._values
        for index, member_encode, record_name in members:
            value = values[index]
            if value is not None:
                out = member_encode(value)
                return (record_name, out) if record_name else out
        return None

    return encode_union


# ---------------------------------------------------------------------------------------------
# Avro -> Connect
# ---------------------------------------------------------------------------------------------
def compile_decoder(schema: Schema) -> Codec:
    """A function turning what fastavro read (with return_record_name and its override) into a
    Connect value of ``schema``."""
    return _decoder(schema)


def _decoder(schema: Schema) -> Codec:
    t = schema.type
    if t is Type.ARRAY:
        item = _decoder(_value_schema(schema))
        return _identity if item is _identity else _optional(lambda v: [item(x) for x in v])
    if t is Type.MAP:
        key, value = _decoder(_key_schema(schema)), _decoder(_value_schema(schema))
        if _string_keyed(schema):
            if value is _identity:
                return _identity
            return _optional(lambda v: {k: value(x) for k, x in v.items()})
        return _optional(lambda v: {key(e["key"]): value(e["value"]) for e in v})
    if t is Type.STRUCT:
        decode = _union_decoder(schema) if schema.name == UNION else _struct_decoder(schema)
        return _optional(decode) if schema.optional else decode
    return _identity


def _struct_decoder(schema: Schema) -> Codec:
    names: dict[str, Any] = {"new": object.__new__, "Struct": Struct, "schema": schema}
    parts = []
    for field in schema.fields:
        i = field.index
        decode = _decoder(field.schema)
        value = f"r[{field.name!r}]"
        if decode is not _identity:
            names[f"d{i}"] = decode
            value = f"d{i}({value})"
        parts.append(value)
    source = (
        "def decode(r):\n    s = new(Struct)\n    s.schema = schema\n"
        "    s._values = [" + ", ".join(parts) + "]\n    return s\n"
    )
    exec(compile(source, f"<avro decoder {schema.name or 'struct'}>", "exec"), names)
    return names["decode"]  # type: ignore[no-any-return]


_LOGICAL_PY: dict[str, tuple[type, ...]] = {
    Decimal.LOGICAL_NAME: (_decimal.Decimal,),
    Date.LOGICAL_NAME: (_dt.date,),
    Time.LOGICAL_NAME: (_dt.time,),
    Timestamp.LOGICAL_NAME: (_dt.datetime,),
}
_TYPE_PY: dict[Type, tuple[type, ...]] = {
    Type.BOOLEAN: (bool,),
    Type.INT8: (int,),
    Type.INT16: (int,),
    Type.INT32: (int,),
    Type.INT64: (int,),
    Type.FLOAT32: (float,),
    Type.FLOAT64: (float,),
    Type.STRING: (str,),
    Type.BYTES: (bytes,),
    Type.ARRAY: (list,),
    Type.MAP: (dict, list),
    Type.STRUCT: (dict,),
}


def _union_decoder(schema: Schema) -> Codec:
    members = []
    for field in schema.fields:
        fs = field.schema
        kinds = _LOGICAL_PY.get(fs.name or "") or _TYPE_PY[fs.type]
        members.append((field, _decoder(fs), kinds, fs.type is not Type.BOOLEAN))
    count = len(members)

    def decode(value: Any) -> Struct:
        values: list[Any] = [None] * count
        if type(value) is tuple:  # (record name, record) from a union of several records
            name, value = value
            for field, member_decode, _kinds, _not_bool in members:
                if name == field.name or name.rpartition(".")[2] == field.name:
                    values[field.index] = member_decode(value)
                    return Struct._with_values(schema, values)
        for field, member_decode, kinds, not_bool in members:
            if isinstance(value, kinds) and not (not_bool and type(value) is bool):
                values[field.index] = member_decode(value)
                return Struct._with_values(schema, values)
        raise DataException(f"Avro union value {value!r} matches none of the union's members")

    return decode
