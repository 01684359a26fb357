"""Connect values <-> Protobuf messages, by functions compiled once per schema.

Writing: a Connect value becomes the keyword arguments of the message class's constructor
(nested messages as dicts, repeated fields as lists, enums by symbol), so protobuf's C runtime
(upb) builds and serializes the whole message in one call. Reading: the parsed message's
attributes are read by generated straight-line code, one expression per field. Presence
follows Confluent's ProtobufData: message fields and proto3 ``optional`` fields are null when
unset; plain proto3 scalars read as their zero value (proto3 does not record them).
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import keyword
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from kconnect.api.data import Date, Decimal, Schema, Struct, Time, Timestamp, Type
from kconnect.api.errors import DataException

from kconnect_builtins.converters.schema_registry.protobuf_schema import (
    ENUM,
    Options,
    is_proto3_optional,
    is_union,
    real_oneofs,
)

Codec = Callable[[Any], Any]
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def _identity(value: Any) -> Any:
    return value


# ---------------------------------------------------------------------------------------------
# logical types, as Confluent's converters write them (milliseconds for Time and Timestamp)
# ---------------------------------------------------------------------------------------------
def _decimal_to_proto(value: _decimal.Decimal) -> dict[str, Any]:
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise DataException(f"Decimal value {value} is not finite")
    unscaled = int("".join(map(str, digits)) or "0")
    if sign:
        unscaled = -unscaled
    size = unscaled.bit_length() // 8 + 1  # two's complement, as Java's BigInteger.toByteArray
    return {
        "value": unscaled.to_bytes(size, "big", signed=True),
        "precision": len(digits),
        "scale": -exponent,
    }


def _decimal_from_proto(message: Any) -> _decimal.Decimal:
    unscaled = int.from_bytes(message.value, "big", signed=True)
    return _decimal.Decimal(f"{unscaled}E{-message.scale}")


def _date_to_proto(value: _dt.date) -> dict[str, int]:
    return {"year": value.year, "month": value.month, "day": value.day}


def _date_from_proto(message: Any) -> _dt.date:
    return _dt.date(message.year, message.month, message.day)


def _time_to_proto(value: _dt.time) -> dict[str, int]:
    return {
        "hours": value.hour,
        "minutes": value.minute,
        "seconds": value.second,
        "nanos": (value.microsecond // 1000) * 1_000_000,
    }


def _time_from_proto(message: Any) -> _dt.time:
    return _dt.time(
        message.hours, message.minutes, message.seconds, (message.nanos // 1_000_000) * 1000
    )


def _timestamp_to_proto(value: _dt.datetime) -> dict[str, int]:
    seconds, millis = divmod(Timestamp.from_logical(Timestamp.SCHEMA, value), 1000)
    return {"seconds": seconds, "nanos": millis * 1_000_000}


def _timestamp_from_proto(message: Any) -> _dt.datetime:
    millis = message.seconds * 1000 + message.nanos // 1_000_000
    return _EPOCH + _dt.timedelta(milliseconds=millis)


_TO_PROTO: dict[str, Codec] = {
    Decimal.LOGICAL_NAME: _decimal_to_proto,
    Date.LOGICAL_NAME: _date_to_proto,
    Time.LOGICAL_NAME: _time_to_proto,
    Timestamp.LOGICAL_NAME: _timestamp_to_proto,
}
_FROM_PROTO: dict[str, Codec] = {
    Decimal.LOGICAL_NAME: _decimal_from_proto,
    Date.LOGICAL_NAME: _date_from_proto,
    Time.LOGICAL_NAME: _time_from_proto,
    Timestamp.LOGICAL_NAME: _timestamp_from_proto,
}


def _bytes(value: Any) -> Any:
    return value if type(value) is bytes else bytes(value)


def _wrap(inner: Codec) -> Codec:
    if inner is _identity:
        return lambda v: {"value": v}
    return lambda v: {"value": inner(v)}


def _attr(name: str) -> str:
    """``m.<name>`` where that is valid Python, else getattr (a field named ``from``)."""
    if name.isidentifier() and not keyword.iskeyword(name):
        return f"m.{name}"
    return f"getattr(m, {name!r})"


# ---------------------------------------------------------------------------------------------
# Connect -> constructor arguments
# ---------------------------------------------------------------------------------------------
def compile_encoder(schema: Schema, options: Options) -> Codec:
    """A function turning a (non-null) value of ``schema`` into what the message class's
    constructor takes: a dict of fields for a struct, ``{"value": v}`` for a primitive root."""
    if schema.type is Type.STRUCT:
        return _encoder(schema, options)
    return _wrap(_encoder(schema, options))


def _encoder(schema: Schema, options: Options) -> Codec:
    logical = _TO_PROTO.get(schema.name or "")
    if logical is not None:
        return logical
    t = schema.type
    if t is Type.STRUCT:
        return _struct_encoder(schema, options)
    if t is Type.ARRAY:
        assert schema.value_schema is not None
        item = _encoder(schema.value_schema, options)
        return list if item is _identity else (lambda v: [item(x) for x in v])
    if t is Type.MAP:
        assert schema.key_schema is not None and schema.value_schema is not None
        key, value = _encoder(schema.key_schema, options), _encoder(schema.value_schema, options)

        def encode_map(v: Any) -> Any:
            return [
                {"key": key(k), "value": value(x)}
                if x is not None
                else ({"key": key(k)} if k is not None else {})
                for k, x in v.items()
            ]

        return encode_map
    inner = _bytes if t is Type.BYTES else _identity
    if options.wrapper_for_nullables and schema.optional and ENUM not in (schema.parameters or {}):
        return _wrap(inner)
    return inner


def _struct_encoder(schema: Schema, options: Options) -> Codec:
    names: dict[str, Any] = {}
    lines = ["def encode(s):", "    v = s._values", "    out = {}"]
    for connect_field in schema.fields:
        i, fs = connect_field.index, connect_field.schema
        lines.append(f"    x = v[{i}]")
        if fs.default_value is not None:
            names[f"d{i}"] = fs.default_value
            lines.append(f"    if x is None: x = d{i}")
        if is_union(fs):
            names[f"u{i}"] = _union_encoder(fs, options)
            lines.append(f"    if x is not None: out.update(u{i}(x))")
            continue
        encode = _encoder(fs, options)
        value = "x"
        if encode is not _identity:
            names[f"e{i}"] = encode
            value = f"e{i}(x)"
        lines.append(f"    if x is not None: out[{connect_field.name!r}] = {value}")
    lines.append("    return out")
    exec(compile("\n".join(lines) + "\n", f"<protobuf encoder {schema.name}>", "exec"), names)
    return names["encode"]  # type: ignore[no-any-return]


def _union_encoder(schema: Schema, options: Options) -> Codec:
    members = [(f.index, f.name, _encoder(f.schema, options)) for f in schema.fields]

    def encode_union(struct: Struct) -> dict[str, Any]:
        values = struct._values
        for index, name, encode in members:
            if values[index] is not None:
                return {name: encode(values[index])}
        return {}

    return encode_union


# ---------------------------------------------------------------------------------------------
# message -> Connect
# ---------------------------------------------------------------------------------------------
def compile_decoder(schema: Schema, descriptor: Descriptor, options: Options) -> Codec:
    """A function turning a parsed message of ``descriptor`` into a value of ``schema`` (the
    schema :func:`.protobuf_schema.to_connect_schema` made of it)."""
    if schema.type is not Type.STRUCT:
        return lambda m: m.value  # a wrapper read as its raw primitive
    return _struct_decoder(schema, descriptor, options)


def _struct_decoder(schema: Schema, descriptor: Descriptor, options: Options) -> Codec:
    names: dict[str, Any] = {"new": object.__new__, "Struct": Struct, "schema": schema}
    oneofs = {f"{o.name}_{o.index}": o for o in real_oneofs(descriptor)}
    parts = []
    for connect_field in schema.fields:
        i, fs = connect_field.index, connect_field.schema
        oneof = oneofs.get(connect_field.name)
        if oneof is not None and is_union(fs):
            names[f"u{i}"] = _union_decoder(fs, oneof, options)
            parts.append(f"u{i}(m)")
            continue
        fd = descriptor.fields_by_name.get(connect_field.name)
        if fd is None:
            raise DataException(f"Message {descriptor.full_name} has no field {connect_field.name}")
        parts.append(_field_expression(fd, fs, options, names, f"f{i}"))
    source = (
        "def decode(m):\n    s = new(Struct)\n    s.schema = schema\n"
        "    s._values = [" + ", ".join(parts) + "]\n    return s\n"
    )
    exec(compile(source, f"<protobuf decoder {schema.name}>", "exec"), names)
    return names["decode"]  # type: ignore[no-any-return]


def _field_expression(
    fd: FieldDescriptor, schema: Schema, options: Options, names: dict[str, Any], key: str
) -> str:
    """Python source reading field ``fd`` of message ``m`` as a value of ``schema``."""
    attr = _attr(fd.name)
    if fd.is_repeated:
        if schema.type is Type.MAP:
            assert schema.key_schema is not None and schema.value_schema is not None
            entry = fd.message_type
            dk = _value_decoder(entry.fields_by_name["key"], schema.key_schema, options)
            dv = _value_decoder(entry.fields_by_name["value"], schema.value_schema, options)
            names[f"{key}k"], names[f"{key}v"] = dk, dv
            if entry.GetOptions().map_entry:  # a map<k, v> field: a dict-like container
                return f"{{{key}k(k): {key}v(x) for k, x in {attr}.items()}}"
            return f"{{{key}k(e.key): {key}v(e.value) for e in {attr}}}"
        assert schema.value_schema is not None
        item = _value_decoder(fd, schema.value_schema, options)
        if item is _identity:
            return f"list({attr})"
        names[key] = item
        return f"[{key}(x) for x in {attr}]"
    decode = _value_decoder(fd, schema, options)
    value = attr
    if decode is not _identity:
        names[key] = decode
        value = f"{key}({attr})"
    if fd.type == FieldDescriptor.TYPE_MESSAGE or is_proto3_optional(fd):
        return f"({value} if m.HasField({fd.name!r}) else None)"
    return value


def _value_decoder(fd: FieldDescriptor, schema: Schema, options: Options) -> Codec:
    """Decodes one (non-repeated) value of field ``fd``."""
    logical = _FROM_PROTO.get(schema.name or "")
    if logical is not None:
        return logical
    if fd.type == FieldDescriptor.TYPE_ENUM:
        by_number = {v.number: v.name for v in fd.enum_type.values}
        if schema.type is Type.STRING:
            return lambda n: by_number.get(n) or str(n)
        return _identity
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        if schema.type is Type.STRUCT:
            return _struct_decoder(schema, fd.message_type, options)
        if schema.type is Type.MAP or schema.type is Type.ARRAY:
            raise DataException(f"Field {fd.full_name}: nested repeated values")
        return _unwrap  # a wrapper message read as a nullable primitive
    return _identity


def _unwrap(message: Any) -> Any:
    return message.value


def _union_decoder(schema: Schema, oneof: Any, options: Options) -> Codec:
    members: dict[str, tuple[int, Codec]] = {}
    for fd in oneof.fields:
        connect_field = schema.field(fd.name)
        if connect_field is None:
            continue
        members[fd.name] = (connect_field.index, _value_decoder(fd, connect_field.schema, options))
    count = len(schema.fields)
    name = oneof.name

    def decode(message: Any) -> Struct | None:
        which = message.WhichOneof(name)
        if which is None:
            return None
        index, member_decode = members[which]
        values: list[Any] = [None] * count
        values[index] = member_decode(getattr(message, which))
        return Struct._with_values(schema, values)

    return decode
