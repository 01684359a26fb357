"""Connect schemas and values <-> JSON Schema and JSON, as Confluent's JsonSchemaData maps them.

* integers are ``{"type": "integer", "connect.type": "int8|int16|int32|int64"}``, floats
  ``{"type": "number", "connect.type": "float32|float64"}``, bytes a base64 string with
  ``connect.type: bytes``; Decimal is a JSON number (``connect.type: bytes``), Date, Time and
  Timestamp are integers, each with ``title`` = the logical name;
* a struct is an object whose ``properties`` carry ``connect.index`` (the field order) and its
  name as ``title``; an optional schema is ``{"oneOf": [{"type": "null"}, T]}``;
* a map with string keys is an object with ``additionalProperties``; other maps are arrays of
  ``{"key", "value"}`` objects; both carry ``connect.type: map``;
* version, doc, parameters and default travel as ``connect.version``, ``description``,
  ``connect.parameters`` and ``default``.

Reading a schema another producer registered: ``integer`` without ``connect.type`` is INT64,
``number`` FLOAT64, and properties missing from ``required`` are optional.
"""

from __future__ import annotations

import base64
import decimal as _decimal
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

NAMESPACE = "io.confluent.connect.json"
ONE_OF = f"{NAMESPACE}.OneOf"
ENUM = f"{NAMESPACE}.Enum"
Codec = Callable[[Any], Any]

_NUMBER_TYPES = {
    Type.INT8: ("integer", "int8"),
    Type.INT16: ("integer", "int16"),
    Type.INT32: ("integer", "int32"),
    Type.INT64: ("integer", "int64"),
    Type.FLOAT32: ("number", "float32"),
    Type.FLOAT64: ("number", "float64"),
}
_FROM_CONNECT_TYPE = {
    "int8": Type.INT8,
    "int16": Type.INT16,
    "int32": Type.INT32,
    "int64": Type.INT64,
    "float32": Type.FLOAT32,
    "float64": Type.FLOAT64,
}
_LOGICAL = {
    Decimal.LOGICAL_NAME: Decimal,
    Date.LOGICAL_NAME: Date,
    Time.LOGICAL_NAME: Time,
    Timestamp.LOGICAL_NAME: Timestamp,
}


# ---------------------------------------------------------------------------------------------
# schemas
# ---------------------------------------------------------------------------------------------
def from_connect_schema(
    schema: Schema, index: int | None = None, ignore_optional: bool = False
) -> dict[str, Any]:
    """The JSON Schema (parsed) of a Connect schema."""
    t = schema.type
    node: dict[str, Any]
    if t is Type.STRUCT and schema.name == ONE_OF:
        members = [from_connect_schema(_required(f.schema), f.index, True) for f in schema.fields]
        node = {"oneOf": ([{"type": "null"}] if schema.optional else []) + members}
        if index is not None:
            node["connect.index"] = index
        return node
    if t is Type.STRUCT and schema.optional and not ignore_optional:
        node = {"oneOf": [{"type": "null"}, from_connect_schema(_required(schema))]}
        if index is not None:
            node["connect.index"] = index
        return node
    if t in _NUMBER_TYPES:
        json_type, connect_type = _NUMBER_TYPES[t]
        node = {"type": json_type, "connect.type": connect_type}
    elif t is Type.BOOLEAN:
        node = {"type": "boolean"}
    elif t is Type.STRING:
        params = schema.parameters or {}
        if ENUM in params:
            node = {
                "type": "string",
                "enum": [v for k, v in params.items() if k.startswith(ENUM + ".")],
            }
        else:
            node = {"type": "string"}
    elif t is Type.BYTES:
        json_type = "number" if schema.name == Decimal.LOGICAL_NAME else "string"
        node = {"type": json_type, "connect.type": "bytes"}
    elif t is Type.ARRAY:
        node = {"type": "array", "items": from_connect_schema(_value(schema))}
    elif t is Type.MAP:
        key, value = _key(schema), _value(schema)
        if key.type is Type.STRING and not key.optional:
            node = {
                "type": "object",
                "additionalProperties": from_connect_schema(value),
                "connect.type": "map",
            }
        else:
            entry = {
                "type": "object",
                "properties": {
                    "key": from_connect_schema(key, 0),
                    "value": from_connect_schema(value, 1),
                },
            }
            node = {"type": "array", "items": entry, "connect.type": "map"}
    else:
        node = {
            "type": "object",
            "properties": {f.name: from_connect_schema(f.schema, f.index) for f in schema.fields},
        }
    if schema.name is not None:
        node["title"] = schema.name
    if schema.version is not None:
        node["connect.version"] = schema.version
    if schema.doc is not None:
        node["description"] = schema.doc
    params = {k: v for k, v in (schema.parameters or {}).items() if not k.startswith(NAMESPACE)}
    if params:
        node["connect.parameters"] = params
    if schema.default_value is not None:
        node["default"] = _to_tree(compile_encoder(_required(schema)), schema.default_value)
    if schema.optional and not ignore_optional:
        node = {"oneOf": [{"type": "null"}, node]}
    if index is not None:
        node["connect.index"] = index
    return node


def _to_tree(encode: Codec, value: Any) -> Any:
    return orjson.loads(orjson.dumps(encode(value)))


def to_connect_schema(
    node: Any, version: int | None = None, force_optional: bool = False
) -> Schema:
    """The Connect schema of a JSON Schema (parsed); ``version`` (the registry's) applies when
    the schema carries no connect.version."""
    if node is True or node == {}:
        raise DataException("JSON Schema 'true' (anything) has no Connect schema")
    combined = node.get("oneOf") or node.get("anyOf")
    if combined is not None:
        non_null = [s for s in combined if s.get("type") != "null"]
        if len(combined) == 2 and len(non_null) == 1:
            return to_connect_schema(non_null[0], version, True)
        builder = SchemaBuilder.struct().name(ONE_OF)
        if len(non_null) != len(combined):
            builder.optional()
        for i, member in enumerate(non_null):
            builder.field(f"{ONE_OF}.field.{i}", to_connect_schema(member, None, True))
        return builder.build()
    json_type = node.get("type")
    if isinstance(json_type, list):  # ["null", "string"] is an optional string
        others = [t for t in json_type if t != "null"]
        if len(others) == 1:
            return to_connect_schema({**node, "type": others[0]}, version, True)
        raise DataException(f"JSON Schema type list {json_type} has no Connect schema")
    connect_type = node.get("connect.type")
    title = node.get("title")
    if json_type == "boolean":
        builder = SchemaBuilder.bool()
    elif json_type == "integer":
        builder = SchemaBuilder.type(_FROM_CONNECT_TYPE.get(connect_type, Type.INT64))
    elif json_type == "number":
        if connect_type == "bytes":
            builder = SchemaBuilder.bytes()
        else:
            builder = SchemaBuilder.type(_FROM_CONNECT_TYPE.get(connect_type, Type.FLOAT64))
    elif json_type == "string":
        if connect_type == "bytes":
            builder = SchemaBuilder.bytes()
        elif "enum" in node:
            builder = SchemaBuilder.string().parameter(ENUM, "")
            for symbol in node["enum"]:
                builder.parameter(f"{ENUM}.{symbol}", str(symbol))
        else:
            builder = SchemaBuilder.string()
    elif json_type == "array":
        items = node.get("items", {})
        if connect_type == "map":
            props = items.get("properties", {})
            builder = SchemaBuilder.map(
                to_connect_schema(props["key"]), to_connect_schema(props["value"])
            )
        else:
            builder = SchemaBuilder.array(to_connect_schema(items))
    elif json_type == "object" or "properties" in node:
        if connect_type == "map" or ("properties" not in node and "additionalProperties" in node):
            builder = SchemaBuilder.map(
                Schema.STRING_SCHEMA, to_connect_schema(node["additionalProperties"])
            )
        else:
            builder = SchemaBuilder.struct()
            properties = node.get("properties", {})
            ours = all("connect.index" in p for p in properties.values())
            required = set(node.get("required", ()))
            ordered = (
                sorted(properties.items(), key=lambda kv: kv[1].get("connect.index", 0))
                if ours
                else list(properties.items())
            )
            for name, prop in ordered:
                builder.field(
                    name, to_connect_schema(prop, None, not ours and name not in required)
                )
    else:
        raise DataException(f"JSON Schema type {json_type!r} has no Connect schema")
    if title is not None:
        builder.name(title)
    connect_version = node.get("connect.version", version)
    if connect_version is not None and builder._version is None:
        builder.version(int(connect_version))
    if node.get("description") is not None:
        builder.doc(node["description"])
    if node.get("connect.parameters"):
        builder.parameters({k: str(v) for k, v in node["connect.parameters"].items()})
    if title in _LOGICAL and builder._version is None:
        builder.version(1)
    if force_optional:
        builder.optional()
    if node.get("default") is not None:
        draft = builder.build()
        builder.default_value(compile_decoder(draft)(node["default"]))
    return builder.build()


def _required(schema: Schema) -> Schema:
    return SchemaBuilder.from_schema(schema).required().build() if schema.optional else schema


def _key(schema: Schema) -> Schema:
    if schema.key_schema is None:
        raise DataException("Map schema has no key schema")
    return schema.key_schema


def _value(schema: Schema) -> Schema:
    if schema.value_schema is None:
        raise DataException(f"{schema.type.name} schema has no value schema")
    return schema.value_schema


def has_decimal(schema: Schema) -> bool:
    """Whether values of ``schema`` hold a Decimal (read with exact numbers then)."""
    if schema.name == Decimal.LOGICAL_NAME:
        return True
    if schema.type is Type.STRUCT:
        return any(has_decimal(f.schema) for f in schema.fields)
    if schema.type in (Type.ARRAY, Type.MAP):
        return any(
            has_decimal(s) for s in (schema.key_schema, schema.value_schema) if s is not None
        )
    return False


# ---------------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------------
def _identity(value: Any) -> Any:
    return value


def compile_encoder(schema: Schema) -> Codec:
    """Connect value -> a tree orjson writes (defaults stand in for unset fields)."""
    t, name = schema.type, schema.name
    default = schema.default_value
    inner: Codec
    if name == Decimal.LOGICAL_NAME:

        def inner(v: Any) -> Any:
            return orjson.Fragment(format(v, "f").encode())
    elif name in (Date.LOGICAL_NAME, Time.LOGICAL_NAME, Timestamp.LOGICAL_NAME):
        logical: Any = _LOGICAL[name]  # type: ignore[index]

        def inner(v: Any) -> Any:
            return logical.from_logical(schema, v)
    elif t is Type.BYTES:

        def inner(v: Any) -> Any:
            return base64.b64encode(v).decode("ascii")
    elif t is Type.ARRAY:
        item = compile_encoder(_value(schema))

        def inner(v: Any) -> Any:
            return [item(x) for x in v]
    elif t is Type.MAP:
        key, value = compile_encoder(_key(schema)), compile_encoder(_value(schema))
        if _key(schema).type is Type.STRING and not _key(schema).optional:

            def inner(v: Any) -> Any:
                return {k: value(x) for k, x in v.items()}
        else:

            def inner(v: Any) -> Any:
                return [{"key": key(k), "value": value(x)} for k, x in v.items()]
    elif t is Type.STRUCT and name == ONE_OF:
        members = [(f.index, compile_encoder(f.schema)) for f in schema.fields]

        def inner(v: Any) -> Any:
            for index, encode in members:
                if v._values[index] is not None:
                    return encode(v._values[index])
            return None
    elif t is Type.STRUCT:
        fields = [(f.name, f.index, compile_encoder(f.schema)) for f in schema.fields]

        def inner(v: Any) -> Any:
            values = v._values
            return {name: encode(values[i]) for name, i, encode in fields}
    else:
        inner = _identity

    def encode(v: Any) -> Any:
        if v is None:
            if default is not None:
                return inner(default)
            if schema.optional:
                return None
            raise DataException(
                "Conversion error: null value for field that is required and has no default value"
            )
        return inner(v)

    return encode


def compile_decoder(schema: Schema) -> Codec:
    """A parsed JSON tree -> a Connect value of ``schema``."""
    t, name = schema.type, schema.name
    default = schema.default_value
    inner: Codec
    if name == Decimal.LOGICAL_NAME:

        def inner(v: Any) -> Any:
            if isinstance(v, str):  # base64 of the unscaled bytes
                return Decimal.to_logical(schema, base64.b64decode(v))
            scale = Decimal.scale(schema)
            return _decimal.Decimal(v if isinstance(v, _decimal.Decimal) else repr(v)).quantize(
                _decimal.Decimal(1).scaleb(-scale)
            )
    elif name in (Date.LOGICAL_NAME, Time.LOGICAL_NAME, Timestamp.LOGICAL_NAME):
        logical: Any = _LOGICAL[name]  # type: ignore[index]

        def inner(v: Any) -> Any:
            return logical.to_logical(schema, int(v))
    elif t is Type.BYTES:

        def inner(v: Any) -> Any:
            return base64.b64decode(v)
    elif t in (Type.FLOAT32, Type.FLOAT64):

        def inner(v: Any) -> Any:
            return float(v)
    elif t in (Type.INT8, Type.INT16, Type.INT32, Type.INT64):

        def inner(v: Any) -> Any:
            return int(v)
    elif t is Type.ARRAY:
        item = compile_decoder(_value(schema))

        def inner(v: Any) -> Any:
            return [item(x) for x in v]
    elif t is Type.MAP:
        key, value = compile_decoder(_key(schema)), compile_decoder(_value(schema))
        if (
            isinstance(_key(schema), Schema)
            and _key(schema).type is Type.STRING
            and not _key(schema).optional
        ):

            def inner(v: Any) -> Any:
                return {k: value(x) for k, x in v.items()}
        else:

            def inner(v: Any) -> Any:
                return {key(e.get("key")): value(e.get("value")) for e in v}
    elif t is Type.STRUCT and name == ONE_OF:
        members = [(f, compile_decoder(f.schema)) for f in schema.fields]

        def inner(v: Any) -> Any:
            for field, decode in members:
                if _matches(field.schema, v):
                    return Struct(schema).put(field, decode(v))
            raise DataException(f"Did not find matching oneof field for data: {v!r}")
    elif t is Type.STRUCT:
        fields = [(f.name, compile_decoder(f.schema)) for f in schema.fields]

        def inner(v: Any) -> Any:
            if not isinstance(v, dict):
                raise DataException(f"Structs should be encoded as JSON objects, but found {v!r}")
            get = v.get
            return Struct._with_values(schema, [decode(get(n)) for n, decode in fields])
    else:
        inner = _identity

    def decode(v: Any) -> Any:
        if v is None:
            if default is not None:
                return default
            if schema.optional:
                return None
            raise DataException(f"Invalid null value for required {t.name} field")
        return inner(v)

    return decode


def _matches(schema: Schema, value: Any) -> bool:
    t = schema.type
    if t in (Type.INT8, Type.INT16, Type.INT32, Type.INT64):
        return isinstance(value, int) and not isinstance(value, bool)
    if t in (Type.FLOAT32, Type.FLOAT64):
        return isinstance(value, (int, float, _decimal.Decimal)) and not isinstance(value, bool)
    if t is Type.BOOLEAN:
        return isinstance(value, bool)
    if t in (Type.STRING, Type.BYTES):
        return isinstance(value, str) or (
            t is Type.BYTES and isinstance(value, (float, _decimal.Decimal))
        )
    if t is Type.ARRAY:
        return isinstance(value, list)
    if t is Type.MAP:
        return isinstance(value, (dict, list))
    if t is Type.STRUCT:
        return isinstance(value, dict) and set(value) <= {f.name for f in schema.fields}
    return False
