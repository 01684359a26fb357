"""Avro schemas -> Connect schemas, as Confluent's AvroData reads them (the inverse of
:mod:`.avro_schema`, which has the mapping's summary and its constants).

Reading a schema another producer wrote: Avro enums become strings with the
``io.confluent.connect.avro.Enum`` parameters, unions of more than null and one type become
``io.confluent.connect.avro.Union`` structs (one optional field per branch), ``fixed`` becomes
bytes with ``connect.fixed.size``, and logical types Connect lacks are read as their plain type.
Avro field defaults become Connect defaults, flagged with
``io.confluent.connect.avro.field.default`` when no ``connect.default`` said so.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

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

from kconnect_builtins.converters.schema_registry.avro_schema import (
    _DEFAULT_NAME_RE,
    _PRIMITIVES,
    DECIMAL_PRECISION,
    DEFAULT_PRECISION,
    ENUM,
    ENUM_DEFAULT_PREFIX,
    ENUM_DOC_PREFIX,
    FIELD_DEFAULT_FLAG,
    FIELD_DOC_PREFIX,
    FIXED_SIZE,
    MAP_ENTRY,
    NAMESPACE,
    RECORD_DOC,
    UNION,
    Options,
    _key_schema,
    _value_schema,
    split_name,
)


class _ToConnect:
    def __init__(self, options: Options):
        self.options = options
        self.named: dict[str, Any] = {}  # full name -> Avro node

    def schema(
        self,
        node: Any,
        namespace: str | None,
        force_optional: bool = False,
        field_default: Any = None,
        has_field_default: bool = False,
        version: int | None = None,
    ) -> Schema:
        node, namespace = self._resolve(node, namespace)
        if isinstance(node, list):
            return self._union(node, namespace, force_optional, field_default, has_field_default)
        avro_type = node if isinstance(node, str) else node["type"]
        props: Mapping[str, Any] = node if isinstance(node, dict) else {}
        builder = self._builder(avro_type, props, namespace)
        meta = self.options.connect_meta_data
        if meta and props.get("connect.doc") is not None:
            builder.doc(props["connect.doc"])
        connect_version = props.get("connect.version", version)
        if connect_version is not None and connect_version >= 0:
            if not isinstance(connect_version, int):
                raise DataException(f"Invalid Connect version found: {connect_version}")
            if builder._version is None:
                builder.version(connect_version)
        params = props.get("connect.parameters")
        if meta and params is not None:
            if not isinstance(params, dict):
                raise DataException(
                    f"Expected JSON object for schema parameters but found: {params}"
                )
            builder.parameters({k: str(v) for k, v in params.items()})
        for key, value in props.items():
            if key.startswith("avro"):
                builder.parameter(key, str(value))
        connect_default = props.get("connect.default")
        default_json = connect_default
        if has_field_default:
            default_json = field_default
            if connect_default is None:
                builder.parameter(FIELD_DEFAULT_FLAG, "true")
        name = props.get("connect.name")
        if name is None and avro_type in ("record", "enum"):
            name = _full_name(props, namespace)
        if name is not None and not _DEFAULT_NAME_RE.fullmatch(name) and builder._name is None:
            builder.name(name)
        if force_optional:
            builder.optional()
        if default_json is not None:
            draft = builder.build()
            builder.default_value(default_from_json(draft, node, default_json, self))
        return builder.build()

    def _resolve(self, node: Any, namespace: str | None) -> tuple[Any, str | None]:
        if isinstance(node, str) and node not in _PRIMITIVES:
            full = node if "." in node or not namespace else f"{namespace}.{node}"
            found = self.named.get(full) or self.named.get(node)
            if found is None:
                raise DataException(f"Avro schema refers to unknown type {node}")
            return found, split_name(full)[0]
        if isinstance(node, dict) and node.get("type") in ("record", "enum", "fixed"):
            full = _full_name(node, namespace)
            self.named[full] = node
            return node, split_name(full)[0]
        if isinstance(node, dict) and isinstance(node.get("type"), (dict, list)):
            return self._resolve(node["type"], namespace)  # {"type": {...}} wrappers
        if isinstance(node, dict) and node.get("type") not in _PRIMITIVES | {
            "array",
            "map",
            "record",
            "enum",
            "fixed",
        }:
            return self._resolve(node["type"], namespace)
        return node, namespace

    def _builder(
        self, avro_type: str, props: Mapping[str, Any], namespace: str | None
    ) -> SchemaBuilder:
        logical = props.get("logicalType")
        if avro_type == "boolean":
            return SchemaBuilder.bool()
        if avro_type == "int":
            if logical == "date":
                return Date.builder()
            if logical == "time-millis":
                return Time.builder()
            connect_type = props.get("connect.type")
            if connect_type == "int8":
                return SchemaBuilder.int8()
            if connect_type == "int16":
                return SchemaBuilder.int16()
            return SchemaBuilder.int32()
        if avro_type == "long":
            return Timestamp.builder() if logical == "timestamp-millis" else SchemaBuilder.int64()
        if avro_type == "float":
            return SchemaBuilder.float32()
        if avro_type == "double":
            return SchemaBuilder.float64()
        if avro_type == "string":
            return SchemaBuilder.string()
        if avro_type in ("bytes", "fixed"):
            if logical == "decimal":
                builder = Decimal.builder(int(props.get("scale", 0)))
                precision = props.get("precision")
                if precision is not None and int(precision) != DEFAULT_PRECISION:
                    builder.parameter(DECIMAL_PRECISION, str(precision))
            else:
                builder = SchemaBuilder.bytes()
            if avro_type == "fixed":
                builder.parameter(FIXED_SIZE, str(props["size"]))
            return builder
        if avro_type == "array":
            items, items_ns = self._resolve(props["items"], namespace)
            if _is_map_entry(items, items_ns):
                fields = {f["name"]: f for f in items["fields"]}
                entry_ns = split_name(_full_name(items, items_ns))[0]
                return SchemaBuilder.map(
                    self.schema(fields["key"]["type"], entry_ns),
                    self.schema(fields["value"]["type"], entry_ns),
                )
            return SchemaBuilder.array(self.schema(props["items"], namespace))
        if avro_type == "map":
            return SchemaBuilder.map(Schema.STRING_SCHEMA, self.schema(props["values"], namespace))
        if avro_type == "record":
            builder = SchemaBuilder.struct()
            meta = self.options.connect_meta_data
            if meta and props.get("doc") is not None:
                builder.parameter(RECORD_DOC, props["doc"])
            for field in props["fields"]:
                if meta and field.get("doc") is not None:
                    builder.parameter(FIELD_DOC_PREFIX + field["name"], field["doc"])
                builder.field(
                    field["name"],
                    self.schema(
                        field["type"],
                        namespace,
                        field_default=field.get("default"),
                        has_field_default="default" in field,
                    ),
                )
            return builder
        if avro_type == "enum":
            builder = SchemaBuilder.string()
            name = props["name"].rpartition(".")[2]
            if self.options.connect_meta_data:
                if props.get("doc") is not None:
                    builder.parameter(ENUM_DOC_PREFIX + name, props["doc"])
                if props.get("default") is not None:
                    builder.parameter(ENUM_DEFAULT_PREFIX + name, props["default"])
            builder.parameter(ENUM, _full_name(props, namespace))
            for symbol in props["symbols"]:
                builder.parameter(f"{ENUM}.{symbol}", symbol)
            return builder
        if avro_type == "null":
            raise DataException("Standalone null schemas are not supported by this converter")
        raise DataException(f"Couldn't translate unsupported schema type {avro_type}.")

    def _union(
        self,
        members: list[Any],
        namespace: str | None,
        force_optional: bool,
        field_default: Any,
        has_field_default: bool,
    ) -> Schema:
        non_null = [m for m in members if m != "null"]
        if len(members) == 2 and len(non_null) == 1:
            # A field default of an optional union applies to its non-null branch only when
            # that branch comes first; otherwise the default is null.
            keep_default = has_field_default and members[0] != "null"
            return self.schema(
                non_null[0],
                namespace,
                force_optional=True,
                field_default=field_default if keep_default else None,
                has_field_default=keep_default,
            )
        builder = SchemaBuilder.struct().name(UNION)
        if len(non_null) != len(members):
            builder.optional()
        for member in non_null:
            resolved, member_ns = self._resolve(member, namespace)
            name = self.member_name(resolved, member_ns)
            if builder._fields is not None and name in builder._fields:
                raise DataException("Multiple union schemas map to the Connect union field name")
            builder.field(name, self.schema(member, namespace, force_optional=True))
        return builder.build()

    def member_name(self, node: Any, namespace: str | None) -> str:
        """The Connect field name of a union member (Confluent's unionMemberFieldName)."""
        if isinstance(node, dict) and node.get("type") in ("record", "enum", "fixed"):
            full = _full_name(node, namespace)
            return full if self.options.enhanced else full.rpartition(".")[2]
        return node if isinstance(node, str) else str(node["type"])


def _full_name(node: Mapping[str, Any], namespace: str | None) -> str:
    name = str(node["name"])
    if "." in name:
        return name
    ns = node.get("namespace", namespace)
    return f"{ns}.{name}" if ns else name


def _is_map_entry(node: Any, namespace: str | None) -> bool:
    if not isinstance(node, dict) or node.get("type") != "record":
        return False
    if node.get("connect.internal.type") != MAP_ENTRY and _full_name(node, namespace) != (
        f"{NAMESPACE}.{MAP_ENTRY}"
    ):
        return False
    names = [f["name"] for f in node.get("fields", ())]
    if sorted(names) != ["key", "value"]:
        raise DataException(
            "Found map encoded as array of key-value pairs, but array elements do not match "
            "the expected format."
        )
    return True


def to_connect_schema(avro: Any, options: Options, version: int | None = None) -> Schema:
    """The Connect schema Confluent's AvroData reads from the Avro schema ``avro`` (parsed
    JSON); ``version`` (the registry's) applies when the schema carries no connect.version."""
    return _ToConnect(options).schema(avro, None, version=version)


def default_from_json(schema: Schema, node: Any, value: Any, ctx: _ToConnect) -> Any:
    """An Avro default (JSON) as a Connect value of ``schema``."""
    raw = _default_raw(schema, node, value, ctx)
    name = schema.name
    if raw is not None and name is not None:
        logical = {
            Decimal.LOGICAL_NAME: Decimal,
            Date.LOGICAL_NAME: Date,
            Time.LOGICAL_NAME: Time,
            Timestamp.LOGICAL_NAME: Timestamp,
        }.get(name)
        if logical is not None:
            return logical.to_logical(schema, raw)  # type: ignore[attr-defined]
    return raw


def _default_raw(schema: Schema, node: Any, value: Any, ctx: _ToConnect) -> Any:
    if value is None:
        return None
    node, _ = ctx._resolve(node, None)
    if isinstance(node, list):  # a union's default belongs to its first branch
        if schema.name == UNION:
            first, first_ns = ctx._resolve(node[0], None)
            if first == "null":
                return None
            field = schema.field(ctx.member_name(first, first_ns))
            struct = Struct(schema)
            if field is not None:
                struct.put(field, default_from_json(field.schema, first, value, ctx))
            return struct
        first = node[0]
        if first == "null":
            return None
        return _default_raw(schema, first, value, ctx)
    t = schema.type
    if t is Type.BYTES:
        if isinstance(value, str):
            return value.encode("latin-1")
        return base64.b64decode(value)
    if t is Type.FLOAT32 or t is Type.FLOAT64:
        return float(value)
    if t is Type.ARRAY:
        items = node["items"]
        return [default_from_json(_value_schema(schema), items, v, ctx) for v in value]
    if t is Type.MAP:
        key_schema, value_schema = _key_schema(schema), _value_schema(schema)
        if isinstance(node, dict) and node.get("type") == "map":
            return {
                k: default_from_json(value_schema, node["values"], v, ctx) for k, v in value.items()
            }
        entry, _ = ctx._resolve(node["items"], None)
        fields = {f["name"]: f["type"] for f in entry["fields"]}
        return {
            default_from_json(key_schema, fields["key"], e["key"], ctx): default_from_json(
                value_schema, fields["value"], e["value"], ctx
            )
            for e in value
        }
    if t is Type.STRUCT:
        struct = Struct(schema)
        for avro_field in node["fields"]:
            field = schema.field(avro_field["name"])
            if field is not None and avro_field["name"] in value:
                struct.put(
                    field,
                    default_from_json(
                        field.schema, avro_field["type"], value[avro_field["name"]], ctx
                    ),
                )
        return struct
    return value
