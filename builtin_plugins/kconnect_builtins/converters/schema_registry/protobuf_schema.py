"""Connect schemas <-> Protobuf (proto3) schemas, as Confluent's ProtobufData maps them.

Writing, a Connect STRUCT becomes a top-level message in a file whose package is the schema
name's namespace (``ConnectDefault1`` when it has no name); nested structs, map entries
(``<Name>Entry`` messages with ``key`` = 1 and ``value`` = 2, repeated) and enums are declared
inside the message that uses them, named by their unqualified Connect name. Fields are
numbered 1, 2 ... in order unless the field schema carries a tag parameter. Decimal, Date, Time
and Timestamp become ``confluent.type.Decimal``, ``google.type.Date``, ``google.type.TimeOfDay``
and ``google.protobuf.Timestamp``; INT8/INT16 are ``int32`` fields marked with
``(confluent.field_meta).params["connect.type"]``. A primitive root schema becomes the
matching ``google.protobuf.*Value`` wrapper. The result is a ``FileDescriptorProto``, which
the registry receives base64-encoded (its serialized form), so no ``.proto`` text is written.

Reading, every message field is optional, every proto3 field too unless
``optional.for.nullables`` (then only fields declared ``optional``) or
``wrapper.for.nullables`` (then wrapper messages are the nullable primitives); oneofs become
``io.confluent.connect.protobuf.Union.<name>`` structs in a field ``<name>_<index>``; each
field schema carries its tag as a parameter, so writing it back keeps the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from kconnect.api.data import Date, Decimal, Schema, SchemaBuilder, Time, Timestamp, Type
from kconnect.api.errors import DataException

NAMESPACE = "io.confluent.connect.protobuf"
DEFAULT_SCHEMA_NAME = "ConnectDefault"
ENUM = NAMESPACE + ".Enum"
UNION_PREFIX = NAMESPACE + ".Union."
TAG = NAMESPACE + ".Tag"
PROTOBUF_TYPE = NAMESPACE + ".Type"
CONNECT_TYPE = "connect.type"
CONNECT_PRECISION = "connect.decimal.precision"
MAP_ENTRY_SUFFIX = "Entry"

DECIMAL_TYPE = "confluent.type.Decimal"
DATE_TYPE = "google.type.Date"
TIME_TYPE = "google.type.TimeOfDay"
TIMESTAMP_TYPE = "google.protobuf.Timestamp"
META_FILE = "confluent/meta.proto"
#: well-known message -> the file that declares it (imported without a registry reference,
#: as every Confluent client does)
FILE_OF = {
    DECIMAL_TYPE: "confluent/type/decimal.proto",
    DATE_TYPE: "google/type/date.proto",
    TIME_TYPE: "google/type/timeofday.proto",
    TIMESTAMP_TYPE: "google/protobuf/timestamp.proto",
}
LOGICAL_TYPE = {
    Decimal.LOGICAL_NAME: DECIMAL_TYPE,
    Date.LOGICAL_NAME: DATE_TYPE,
    Time.LOGICAL_NAME: TIME_TYPE,
    Timestamp.LOGICAL_NAME: TIMESTAMP_TYPE,
}
_WRAPPER = {
    Type.INT8: "Int32Value",
    Type.INT16: "Int32Value",
    Type.INT32: "Int32Value",
    Type.INT64: "Int64Value",
    Type.FLOAT32: "FloatValue",
    Type.FLOAT64: "DoubleValue",
    Type.BOOLEAN: "BoolValue",
    Type.STRING: "StringValue",
    Type.BYTES: "BytesValue",
}
WRAPPERS = {f"google.protobuf.{name}" for name in _WRAPPER.values()} | {
    "google.protobuf.UInt32Value",
    "google.protobuf.UInt64Value",
}
for _wrapper in WRAPPERS:
    FILE_OF[_wrapper] = "google/protobuf/wrappers.proto"

_F = descriptor_pb2.FieldDescriptorProto
_SCALAR = {
    Type.INT8: _F.TYPE_INT32,
    Type.INT16: _F.TYPE_INT32,
    Type.INT32: _F.TYPE_INT32,
    Type.INT64: _F.TYPE_INT64,
    Type.FLOAT32: _F.TYPE_FLOAT,
    Type.FLOAT64: _F.TYPE_DOUBLE,
    Type.BOOLEAN: _F.TYPE_BOOL,
    Type.STRING: _F.TYPE_STRING,
    Type.BYTES: _F.TYPE_BYTES,
}
#: proto scalar type names a Connect INT32/INT64 keeps in its PROTOBUF_TYPE parameter
_PROTO_TYPE_BY_NAME = {
    "sint32": _F.TYPE_SINT32,
    "sfixed32": _F.TYPE_SFIXED32,
    "uint32": _F.TYPE_UINT32,
    "fixed32": _F.TYPE_FIXED32,
    "uint64": _F.TYPE_UINT64,
    "sint64": _F.TYPE_SINT64,
    "fixed64": _F.TYPE_FIXED64,
    "sfixed64": _F.TYPE_SFIXED64,
}
_PROTO_TYPE_NAME = {v: k for k, v in _PROTO_TYPE_BY_NAME.items()}


@dataclass(frozen=True)
class Options:
    """ProtobufDataConfig's switches (Confluent's defaults)."""

    optional_for_nullables: bool = False
    wrapper_for_nullables: bool = False
    wrapper_for_raw_primitives: bool = True
    enhanced: bool = False


def is_union(schema: Schema) -> bool:
    return schema.type is Type.STRUCT and (schema.name or "").startswith(UNION_PREFIX)


def _unqualified(name: str) -> str:
    return name.rpartition(".")[2]


def map_entry_name(name: str) -> str:
    if "_" in name:
        name = "".join(part[:1].upper() + part[1:] for part in name.split("_"))
    return name + MAP_ENTRY_SUFFIX


def map_field_name(name: str) -> str:
    """The Connect name of a map read from its entry message (``FooBarEntry`` -> foo_bar)."""
    scope, dot, name = name.rpartition(".")
    if not name.endswith(MAP_ENTRY_SUFFIX):
        return scope + dot + name
    name = name[: -len(MAP_ENTRY_SUFFIX)]
    snake = "".join(
        ("_" + c.lower()) if c.isupper() and i else c.lower() for i, c in enumerate(name)
    )
    return scope + dot + snake


# ---------------------------------------------------------------------------------------------
# Connect -> Protobuf
# ---------------------------------------------------------------------------------------------
@dataclass
class _Writing:
    options: Options
    file: descriptor_pb2.FileDescriptorProto
    default_index: int = 0
    #: per message (by full name): the nested type names already declared in it
    declared: dict[str, set[str]] = field(default_factory=dict)

    def name_or_default(self, name: str | None) -> str:
        if name:
            return name
        self.default_index += 1
        return f"{DEFAULT_SCHEMA_NAME}{self.default_index}"

    def depend(self, path: str) -> None:
        if path not in self.file.dependency:
            self.file.dependency.append(path)


def from_connect_schema(
    schema: Schema, options: Options
) -> tuple[descriptor_pb2.FileDescriptorProto, str]:
    """The file declaring ``schema`` and the full name of its message."""
    file = descriptor_pb2.FileDescriptorProto(name="connect.proto", syntax="proto3")
    ctx = _Writing(options, file)
    full = ctx.name_or_default(schema.name)
    namespace, _, name = full.rpartition(".")
    if schema.type is not Type.STRUCT:
        wrapper = _WRAPPER.get(schema.type)
        if wrapper is None or schema.name in LOGICAL_TYPE:
            raise DataException(
                f"Unsupported root schema of type {schema.type.name} ({schema.name or 'unnamed'}):"
                " Protobuf writes a STRUCT or a plain primitive at the top level (wrap arrays, "
                "maps and logical types in a struct, e.g. with HoistField)."
            )
        return descriptor_pb2.FileDescriptorProto(), f"google.protobuf.{wrapper}"
    if namespace:
        file.package = namespace
    message = file.message_type.add(name=name)
    _message(ctx, message, full, schema)
    return file, full


def _message(
    ctx: _Writing, message: descriptor_pb2.DescriptorProto, full_name: str, schema: Schema
) -> None:
    synthetic: list[descriptor_pb2.FieldDescriptorProto] = []
    index = 1
    for connect_field in schema.fields:
        fs = connect_field.schema
        tag_param = (fs.parameters or {}).get(TAG)
        if is_union(fs):
            oneof_index = len(message.oneof_decl)
            message.oneof_decl.add(name=_unqualified((fs.name or "")[len(UNION_PREFIX) :]))
            for member in fs.fields:
                member_tag = (member.schema.parameters or {}).get(TAG)
                proto = _field(
                    ctx, message, full_name, member.schema, member.name, int(member_tag or 0)
                )
                proto.oneof_index = oneof_index
            continue
        if tag_param is not None:
            tag = int(tag_param)
        else:
            tag = index
            index += 1
        proto = _field(ctx, message, full_name, fs, connect_field.name, tag)
        if ctx.options.optional_for_nullables and fs.optional and fs.type not in _REPEATED:
            proto.proto3_optional = True
            synthetic.append(proto)
    # protoc's rule: synthetic oneofs (one per proto3 optional field) follow the real ones.
    for proto in synthetic:
        proto.oneof_index = len(message.oneof_decl)
        message.oneof_decl.add(name="_" + proto.name)


_REPEATED = (Type.ARRAY, Type.MAP)


def _field(
    ctx: _Writing,
    message: descriptor_pb2.DescriptorProto,
    scope: str,
    schema: Schema,
    name: str,
    tag: int,
) -> descriptor_pb2.FieldDescriptorProto:
    proto = message.field.add(name=name, number=tag, label=_F.LABEL_OPTIONAL)
    if schema.type is Type.ARRAY:
        proto.label = _F.LABEL_REPEATED
        if schema.value_schema is None:
            raise DataException("Array schema has no value schema")
        schema = schema.value_schema
        if schema.type is Type.ARRAY:
            raise DataException(
                f"Field {name}: Protobuf cannot hold an array of arrays (a repeated field of "
                "repeated values); wrap the inner array in a struct."
            )
    params: dict[str, str] = {}
    logical = LOGICAL_TYPE.get(schema.name or "")
    if logical is not None:
        proto.type = _F.TYPE_MESSAGE
        proto.type_name = "." + logical
        ctx.depend(FILE_OF[logical])
        if logical == DECIMAL_TYPE:
            schema_params = schema.parameters or {}
            if CONNECT_PRECISION in schema_params:
                params["precision"] = schema_params[CONNECT_PRECISION]
            if "scale" in schema_params:
                params["scale"] = schema_params["scale"]
    elif schema.type is Type.STRUCT:
        type_name = _unqualified(ctx.name_or_default(schema.name))
        if type_name == name:
            type_name += "Message"  # a field and a type of one name cannot share a scope
        proto.type = _F.TYPE_MESSAGE
        if type_name == _unqualified(scope):
            proto.type_name = "." + scope  # the message itself
        else:
            proto.type_name = f".{scope}.{type_name}"
            declared = ctx.declared.setdefault(scope, set())
            if type_name not in declared:
                declared.add(type_name)
                nested = message.nested_type.add(name=type_name)
                _message(ctx, nested, f"{scope}.{type_name}", schema)
    elif schema.type is Type.MAP:
        proto.label = _F.LABEL_REPEATED
        entry_name = map_entry_name(_unqualified(ctx.name_or_default(schema.name)))
        proto.type = _F.TYPE_MESSAGE
        proto.type_name = f".{scope}.{entry_name}"
        entry = message.nested_type.add(name=entry_name)
        entry_scope = f"{scope}.{entry_name}"
        assert schema.key_schema is not None and schema.value_schema is not None
        _field(ctx, entry, entry_scope, schema.key_schema, "key", 1)
        _field(ctx, entry, entry_scope, schema.value_schema, "value", 2)
    elif schema.type is Type.STRING and ENUM in (schema.parameters or {}):
        enum_name = _unqualified(ctx.name_or_default(schema.name))
        proto.type = _F.TYPE_ENUM
        proto.type_name = f".{scope}.{(schema.parameters or {})[ENUM]}"
        if not any(e.name == enum_name for e in message.enum_type):
            enum = message.enum_type.add(name=enum_name)
            prefix = ENUM + "."
            for key, value in (schema.parameters or {}).items():
                if key.startswith(prefix):
                    enum.value.add(name=key[len(prefix) :], number=int(value))
    elif ctx.options.wrapper_for_nullables and schema.optional:
        wrapper = "google.protobuf." + _WRAPPER[schema.type]
        proto.type = _F.TYPE_MESSAGE
        proto.type_name = "." + wrapper
        ctx.depend(FILE_OF[wrapper])
    else:
        proto.type = _SCALAR[schema.type]
        proto_type = (schema.parameters or {}).get(PROTOBUF_TYPE)
        if proto_type in _PROTO_TYPE_BY_NAME and schema.type in (Type.INT32, Type.INT64):
            proto.type = _PROTO_TYPE_BY_NAME[proto_type]
    if schema.type is Type.INT8:
        params[CONNECT_TYPE] = "int8"
    elif schema.type is Type.INT16:
        params[CONNECT_TYPE] = "int16"
    if params:
        from confluent_kafka.schema_registry.confluent import meta_pb2

        ctx.depend(META_FILE)
        meta = proto.options.Extensions[meta_pb2.field_meta]  # type: ignore[attr-defined]
        for key, value in params.items():
            meta.params[key] = value
    return proto


# ---------------------------------------------------------------------------------------------
# Protobuf -> Connect
# ---------------------------------------------------------------------------------------------
def to_connect_schema(descriptor: Descriptor, options: Options, version: int | None) -> Schema:
    """The Connect schema of messages of ``descriptor``."""
    if options.wrapper_for_raw_primitives and descriptor.full_name in WRAPPERS:
        builder = _unwrapped(descriptor.full_name)
    else:
        builder = _struct(descriptor, options, set())
    if version is not None:
        builder.version(version)
    return builder.build()


def _unwrapped(full_name: str) -> SchemaBuilder:
    kind = full_name.rpartition(".")[2]
    return {
        "DoubleValue": SchemaBuilder.float64,
        "FloatValue": SchemaBuilder.float32,
        "Int64Value": SchemaBuilder.int64,
        "UInt64Value": SchemaBuilder.int64,
        "Int32Value": SchemaBuilder.int32,
        "UInt32Value": SchemaBuilder.int64,
        "BoolValue": SchemaBuilder.bool,
        "StringValue": SchemaBuilder.string,
        "BytesValue": SchemaBuilder.bytes,
    }[kind]()


def real_oneofs(descriptor: Descriptor) -> list[Any]:
    """The message's oneofs, without the synthetic one of each proto3 ``optional`` field."""
    return [o for o in descriptor.oneofs if not _is_synthetic(o)]


def _is_synthetic(oneof: Any) -> bool:
    return len(oneof.fields) == 1 and is_proto3_optional(oneof.fields[0])


def is_proto3_optional(fd: FieldDescriptor) -> bool:
    # A proto3 field with presence that is neither a message nor in a real oneof.
    oneof = fd.containing_oneof
    return (
        fd.has_presence
        and oneof is not None
        and len(oneof.fields) == 1
        and oneof.name == "_" + fd.name
    )


def is_map_field(fd: FieldDescriptor) -> bool:
    if not fd.is_repeated or fd.message_type is None:
        return False
    entry = fd.message_type
    names = [f.name for f in entry.fields]
    return (
        entry.name.endswith(MAP_ENTRY_SUFFIX)
        and names == ["key", "value"]
        and not any(f.is_repeated for f in entry.fields)
    )


def _struct(descriptor: Descriptor, options: Options, path: set[str]) -> SchemaBuilder:
    if descriptor.full_name in path:
        raise DataException(
            f"Message {descriptor.full_name} contains itself; Connect schemas cannot be recursive."
        )
    path = path | {descriptor.full_name}
    builder = SchemaBuilder.struct().name(
        descriptor.full_name if options.enhanced else descriptor.name
    )
    for oneof in real_oneofs(descriptor):
        union = SchemaBuilder.struct().name(
            UNION_PREFIX + (oneof.full_name if options.enhanced else oneof.name)
        )
        for fd in oneof.fields:
            union.field(fd.name, _field_schema(fd, options, path))
        builder.field(f"{oneof.name}_{oneof.index}", union.optional().build())
    for fd in descriptor.fields:
        if fd.containing_oneof is not None and not _is_synthetic(fd.containing_oneof):
            continue
        builder.field(fd.name, _field_schema(fd, options, path))
    return builder


def _meta_params(fd: FieldDescriptor) -> dict[str, str]:
    if not fd.has_options:
        return {}
    from confluent_kafka.schema_registry.confluent import meta_pb2

    opts = fd.GetOptions()
    field_meta = meta_pb2.field_meta  # type: ignore[attr-defined]
    try:
        if not opts.HasExtension(field_meta):
            return {}
        return dict(opts.Extensions[field_meta].params)
    except KeyError:  # options parsed in another pool, without the extension
        return {}


def _field_schema(fd: FieldDescriptor, options: Options, path: set[str]) -> Schema:
    t = fd.type
    builder: SchemaBuilder
    if t in (
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SFIXED32,
    ):
        connect_type = _meta_params(fd).get(CONNECT_TYPE)
        if connect_type == "int8":
            builder = SchemaBuilder.int8()
        elif connect_type == "int16":
            builder = SchemaBuilder.int16()
        else:
            builder = SchemaBuilder.int32()
            if t != FieldDescriptor.TYPE_INT32:
                builder.parameter(PROTOBUF_TYPE, _PROTO_TYPE_NAME[t])
    elif t in _PROTO_TYPE_NAME or t == FieldDescriptor.TYPE_INT64:
        builder = SchemaBuilder.int64()
        if t != FieldDescriptor.TYPE_INT64:
            builder.parameter(PROTOBUF_TYPE, _PROTO_TYPE_NAME[t])
    elif t == FieldDescriptor.TYPE_FLOAT:
        builder = SchemaBuilder.float32()
    elif t == FieldDescriptor.TYPE_DOUBLE:
        builder = SchemaBuilder.float64()
    elif t == FieldDescriptor.TYPE_BOOL:
        builder = SchemaBuilder.bool()
    elif t == FieldDescriptor.TYPE_STRING:
        builder = SchemaBuilder.string()
    elif t == FieldDescriptor.TYPE_BYTES:
        builder = SchemaBuilder.bytes()
    elif t == FieldDescriptor.TYPE_ENUM:
        enum = fd.enum_type
        builder = SchemaBuilder.string().name(enum.full_name if options.enhanced else enum.name)
        builder.parameter(ENUM, enum.name)
        for value in enum.values:
            builder.parameter(f"{ENUM}.{value.name}", str(value.number))
        builder.optional()
    elif t == FieldDescriptor.TYPE_MESSAGE:
        builder = _message_field_schema(fd, options, path)
        builder.optional()
    else:
        raise DataException(f"Field {fd.full_name}: Protobuf groups are not supported")
    if fd.is_repeated and not is_map_field(fd):
        builder = SchemaBuilder.array(builder.optional().build()).optional()
    if options.optional_for_nullables:
        if is_proto3_optional(fd):
            builder.optional()
    elif not options.wrapper_for_nullables:
        builder.optional()
    builder.parameter(TAG, str(fd.number))
    return builder.build()


def _message_field_schema(fd: FieldDescriptor, options: Options, path: set[str]) -> SchemaBuilder:
    full_name = fd.message_type.full_name
    if full_name == DECIMAL_TYPE:
        params = _meta_params(fd)
        scale = int(params["scale"]) if params.get("scale", "").lstrip("-").isdigit() else 0
        builder = Decimal.builder(scale)
        if params.get("precision", "").isdigit():
            builder.parameter(CONNECT_PRECISION, params["precision"])
        return builder
    if full_name == DATE_TYPE:
        return Date.builder()
    if full_name == TIME_TYPE:
        return Time.builder()
    if full_name == TIMESTAMP_TYPE:
        return Timestamp.builder()
    if options.wrapper_for_nullables and full_name in WRAPPERS:
        return _unwrapped(full_name)
    if is_map_field(fd):
        entry = fd.message_type
        key, value = entry.fields
        name = entry.full_name if options.enhanced else entry.name
        return SchemaBuilder.map(
            _field_schema(key, options, path), _field_schema(value, options, path)
        ).name(map_field_name(name))
    return _struct(fd.message_type, options, path)
