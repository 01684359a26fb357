"""Connect schemas <-> Avro schemas, as Confluent's AvroData maps them.

The mapping in brief (both directions are inverse for every Connect schema):

* INT8/INT16 are Avro ``int`` with ``connect.type``; Decimal, Date, Time and Timestamp are
  ``bytes``/``int``/``int``/``long`` with Avro's logical type (``decimal`` with precision 64
  unless ``connect.decimal.precision`` says otherwise, ``date``, ``time-millis``,
  ``timestamp-millis``);
* an optional schema is a union with ``null``: ``["null", T]``, or ``[T, "null"]`` when it has a
  non-null default (an Avro default must match the first branch); optional fields default to
  null;
* a map with string keys is an Avro map; any other map is an array of
  ``io.confluent.connect.avro.MapEntry`` records with ``key`` and ``value``;
* a struct is a record named by the schema's name (``io.confluent.connect.avro.ConnectDefault``
  when it has none); a struct named ``io.confluent.connect.avro.Union`` is an Avro union;
* with ``connect.meta.data`` (default) the schema's name, version, doc, parameters and default
  travel as ``connect.name``, ``connect.version``, ``connect.doc``, ``connect.parameters``,
  ``connect.default``.

Avro schemas are handled as parsed JSON (dicts, lists, strings); named types are written in
full the first time and by name afterwards, as Avro requires. The reverse direction is in
:mod:`.avro_schema_read`.
"""

from __future__ import annotations

import re
from typing import Any

from kconnect.api.data import (
    Date,
    Decimal,
    Schema,
    SchemaBuilder,
    Time,
    Timestamp,
    Type,
)
from kconnect.api.errors import DataException

NAMESPACE = "io.confluent.connect.avro"
DEFAULT_NAME = "ConnectDefault"
DEFAULT_FULL_NAME = f"{NAMESPACE}.{DEFAULT_NAME}"
MAP_ENTRY = "MapEntry"
UNION = f"{NAMESPACE}.Union"
ENUM = f"{NAMESPACE}.Enum"
RECORD_DOC = f"{NAMESPACE}.record.doc"
FIELD_DOC_PREFIX = f"{NAMESPACE}.field.doc."
FIELD_DEFAULT_FLAG = f"{NAMESPACE}.field.default"
ENUM_DOC_PREFIX = f"{NAMESPACE}.enum.doc."
ENUM_DEFAULT_PREFIX = f"{NAMESPACE}.enum.default."
FIXED_SIZE = "connect.fixed.size"
DECIMAL_PRECISION = "connect.decimal.precision"
DEFAULT_PRECISION = 64
_DEFAULT_NAME_RE = re.compile(re.escape(DEFAULT_FULL_NAME) + r"\d*")
_PRIMITIVES = frozenset(("null", "boolean", "int", "long", "float", "double", "bytes", "string"))
_SIMPLE = {
    Type.INT32: "int",
    Type.INT64: "long",
    Type.FLOAT32: "float",
    Type.FLOAT64: "double",
    Type.BOOLEAN: "boolean",
    Type.STRING: "string",
    Type.BYTES: "bytes",
    Type.INT8: "int",
    Type.INT16: "int",
}
_LOGICAL_AVRO = {
    Date.LOGICAL_NAME: "date",
    Time.LOGICAL_NAME: "time-millis",
    Timestamp.LOGICAL_NAME: "timestamp-millis",
}


class Options:
    """The AvroData settings that change the mapping."""

    __slots__ = ("connect_meta_data", "enhanced")

    def __init__(self, connect_meta_data: bool = True, enhanced: bool = False):
        self.connect_meta_data = connect_meta_data
        self.enhanced = enhanced


def split_name(full_name: str) -> tuple[str | None, str]:
    namespace, dot, name = full_name.rpartition(".")
    return (namespace if dot else None), name


# ---------------------------------------------------------------------------------------------
# Connect -> Avro
# ---------------------------------------------------------------------------------------------
class _FromConnect:
    def __init__(self, options: Options):
        self.options = options
        self.defined: dict[str, Schema] = {}  # full name -> the Connect schema written under it
        self.unnamed: dict[Schema, str] = {}  # unnamed structs -> the default name they got

    def schema(self, schema: Schema, ignore_optional: bool = False) -> Any:
        if schema.type is Type.STRUCT and schema.name == UNION:
            members = [self.schema(_required(f.schema), True) for f in schema.fields]
            return ["null", *members] if schema.optional else members
        base = self._base(schema)
        if schema.optional and not ignore_optional:
            return [base, "null"] if schema.default_value is not None else ["null", base]
        return base

    def _base(self, schema: Schema) -> Any:
        t = schema.type
        props: dict[str, Any] = {}
        if t is Type.STRUCT:
            node = self._record(schema)
            if isinstance(node, str):  # defined earlier: a reference, which carries no props
                return node
        elif t is Type.ARRAY:
            node = {"type": "array", "items": self.schema(_value_schema(schema))}
        elif t is Type.MAP:
            node = self._map(schema)
        elif t is Type.STRING and self.options.enhanced and ENUM in (schema.parameters or {}):
            node = self._enum(schema)
            if isinstance(node, str):
                return node
        else:
            node = {"type": _SIMPLE[t]}
        if self.options.connect_meta_data:
            if schema.doc is not None:
                props["connect.doc"] = schema.doc
            if schema.version is not None:
                props["connect.version"] = schema.version
            params = {k: v for k, v in (schema.parameters or {}).items() if k != FIELD_DEFAULT_FLAG}
            if params:
                props["connect.parameters"] = params
            if schema.default_value is not None and FIELD_DEFAULT_FLAG not in (
                schema.parameters or {}
            ):
                props["connect.default"] = default_to_json(schema, schema.default_value)
            if schema.name is not None:
                props["connect.name"] = schema.name
            if t is Type.INT8 or t is Type.INT16:
                props["connect.type"] = t.value
        if schema.name == Decimal.LOGICAL_NAME:
            params = schema.parameters or {}
            scale = int(params.get(Decimal.SCALE_FIELD, "0"))
            precision = int(params.get(DECIMAL_PRECISION, DEFAULT_PRECISION))
            props.update(logicalType="decimal", precision=precision, scale=scale)
        elif schema.name in _LOGICAL_AVRO:
            props["logicalType"] = _LOGICAL_AVRO[schema.name]  # type: ignore[index]
        for key, value in (schema.parameters or {}).items():
            if key.startswith("avro"):
                props[key] = value
        if not props and len(node) == 1:
            return node["type"]
        node.update(props)
        return node

    def _record(self, schema: Schema) -> Any:
        if schema.name is not None:
            full_name = schema.name
        else:
            full_name = self.unnamed.get(schema) or self._default_name()
            self.unnamed[schema] = full_name
        earlier = self.defined.get(full_name)
        if earlier is not None:
            if _required(earlier) == _required(schema):
                return full_name
            raise DataException(
                f"Avro cannot hold two different structs named {full_name} in one schema; "
                "rename one of them (e.g. with SetSchemaMetadata)"
            )
        self.defined[full_name] = schema
        namespace, name = split_name(full_name)
        node: dict[str, Any] = {"type": "record", "name": name, "namespace": namespace or ""}
        params = schema.parameters or {}
        if params.get(RECORD_DOC) is not None:
            node["doc"] = params[RECORD_DOC]
        node["fields"] = [
            self._field(f.name, f.schema, params.get(FIELD_DOC_PREFIX + f.name))
            for f in schema.fields
        ]
        return node

    def _default_name(self) -> str:
        n = len(self.unnamed)
        return DEFAULT_FULL_NAME if n == 0 else f"{DEFAULT_FULL_NAME}{n + 1}"

    def _field(self, name: str, schema: Schema, doc: str | None) -> dict[str, Any]:
        field: dict[str, Any] = {"name": name, "type": self.schema(schema)}
        if doc is not None:
            field["doc"] = doc
        if schema.default_value is not None:
            field["default"] = default_to_json(schema, schema.default_value)
        elif schema.optional:
            field["default"] = None
        return field

    def _map(self, schema: Schema) -> dict[str, Any]:
        key_schema, value_schema = _key_schema(schema), _value_schema(schema)
        if key_schema.type is Type.STRING and not key_schema.optional:
            return {"type": "map", "values": self.schema(value_schema)}
        if schema.name is None:
            full_name = f"{NAMESPACE}.{MAP_ENTRY}"
        else:
            full_name = schema.name
        if full_name in self.defined:
            return {"type": "array", "items": full_name}
        self.defined[full_name] = schema
        namespace, name = split_name(full_name)
        entry: dict[str, Any] = {
            "type": "record",
            "name": name,
            "namespace": namespace or "",
            "fields": [
                self._field("key", key_schema, None),
                self._field("value", value_schema, None),
            ],
        }
        if schema.name is not None:
            entry["connect.internal.type"] = MAP_ENTRY
        return {"type": "array", "items": entry}

    def _enum(self, schema: Schema) -> Any:
        params = schema.parameters or {}
        full_name = params[ENUM]
        if full_name in self.defined:
            return full_name
        self.defined[full_name] = schema
        namespace, name = split_name(full_name)
        prefix = ENUM + "."
        node: dict[str, Any] = {
            "type": "enum",
            "name": name,
            "namespace": namespace or "",
            "symbols": [v for k, v in params.items() if k.startswith(prefix)],
        }
        if params.get(ENUM_DOC_PREFIX + name) is not None:
            node["doc"] = params[ENUM_DOC_PREFIX + name]
        if params.get(ENUM_DEFAULT_PREFIX + name) is not None:
            node["default"] = params[ENUM_DEFAULT_PREFIX + name]
        return node


def from_connect_schema(schema: Schema, options: Options) -> Any:
    """The Avro schema (parsed JSON) Confluent's AvroData writes for ``schema``."""
    return _FromConnect(options).schema(schema)


def _required(schema: Schema) -> Schema:
    if not schema.optional and schema.default_value is None:
        return schema
    return SchemaBuilder.from_schema(schema).required().build() if schema.optional else schema


def _key_schema(schema: Schema) -> Schema:
    if schema.key_schema is None:
        raise DataException("Map schema has no key schema")
    return schema.key_schema


def _value_schema(schema: Schema) -> Schema:
    if schema.value_schema is None:
        raise DataException(f"{schema.type.name} schema has no value schema")
    return schema.value_schema


def default_to_json(schema: Schema, value: Any) -> Any:
    """A Connect default value in Avro's JSON form (bytes as ISO-8859-1 text)."""
    if value is None:
        return None
    name = schema.name
    if name is not None and name in (
        Decimal.LOGICAL_NAME,
        Date.LOGICAL_NAME,
        Time.LOGICAL_NAME,
        Timestamp.LOGICAL_NAME,
    ):
        value = {
            Decimal.LOGICAL_NAME: Decimal,
            Date.LOGICAL_NAME: Date,
            Time.LOGICAL_NAME: Time,
            Timestamp.LOGICAL_NAME: Timestamp,
        }[name].from_logical(schema, value)  # type: ignore[attr-defined]
    t = schema.type
    if t is Type.BYTES:
        return bytes(value).decode("latin-1")
    if t is Type.ARRAY:
        return [default_to_json(_value_schema(schema), v) for v in value]
    if t is Type.MAP:
        key_schema, value_schema = _key_schema(schema), _value_schema(schema)
        if key_schema.type is Type.STRING and not key_schema.optional:
            return {k: default_to_json(value_schema, v) for k, v in value.items()}
        return [
            {"key": default_to_json(key_schema, k), "value": default_to_json(value_schema, v)}
            for k, v in value.items()
        ]
    if t is Type.STRUCT:
        return {f.name: default_to_json(f.schema, value.get(f)) for f in schema.fields}
    return value
