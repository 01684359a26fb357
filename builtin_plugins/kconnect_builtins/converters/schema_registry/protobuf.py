"""ProtobufConverter: Confluent's ``io.confluent.connect.protobuf.ProtobufConverter``.

Wire format: magic byte 0, the 4-byte schema id, then the message-index list that says which
message of the schema's file the payload is (zig-zag varints: the count, then one index per
nesting level; the first top-level message, ``[0]``, is written as the single byte 0), then
the serialized message. Schemas travel as base64 ``FileDescriptorProto``s (the registry's
``serialized`` format), so kconnect never parses ``.proto`` text; well-known imports
(``google/protobuf/*``, ``google/type/*``, ``confluent/*``) come from the local runtime and
are registered without references, as Confluent's clients do.

A message class is built once per schema (and per message index on reading) in a pool of its
own; values are converted by the functions :mod:`.protobuf_data` compiles once per schema.
"""

from __future__ import annotations

import base64
import binascii
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from kconnect.api.data import Schema, SchemaAndValue
from kconnect.api.errors import ConnectException, DataException

from kconnect_builtins.converters.lru_cache import LruCache
from kconnect_builtins.converters.schema_registry import protobuf_data, protobuf_schema, registry
from kconnect_builtins.converters.schema_registry.base import (
    HEADER_SIZE,
    Read,
    RegistryConverter,
    Translation,
)
from kconnect_builtins.converters.schema_registry.settings import RegistrySettings, config_def
from kconnect_builtins.converters.settings import get_bool

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor, FileDescriptor
    from kconnect.api.config import ConfigDef

OPTIONAL_FOR_NULLABLES = "optional.for.nullables"
WRAPPER_FOR_NULLABLES = "wrapper.for.nullables"
WRAPPER_FOR_RAW_PRIMITIVES = "wrapper.for.raw.primitives"
ENHANCED_SCHEMA_SUPPORT = "enhanced.protobuf.schema.support"


# -- the message-index list ------------------------------------------------------------------
def encode_indexes(indexes: list[int]) -> bytes:
    """Confluent's message-index list: ``[0]`` is one 0 byte, else zig-zag varints (count,
    then the indexes)."""
    if indexes == [0]:
        return b"\x00"
    out = bytearray()
    for number in (len(indexes), *indexes):
        zigzag = (number << 1) ^ (number >> 63)
        while zigzag > 0x7F:
            out.append((zigzag & 0x7F) | 0x80)
            zigzag >>= 7
        out.append(zigzag)
    return bytes(out)


def decode_indexes(value: bytes, offset: int) -> tuple[list[int], int]:
    """The message-index list at ``offset`` and the offset of the payload after it."""

    def varint(at: int) -> tuple[int, int]:
        result = shift = 0
        while True:
            if at >= len(value):
                raise DataException("Truncated Protobuf message-index list")
            byte = value[at]
            at += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return (result >> 1) ^ -(result & 1), at
            shift += 7

    count, offset = varint(offset)
    if count == 0:
        return [0], offset
    if count < 0 or count > 64:
        raise DataException(f"Invalid Protobuf message-index count {count}")
    indexes = []
    for _ in range(count):
        index, offset = varint(offset)
        indexes.append(index)
    return indexes, offset


def _indexes_of(descriptor: Descriptor) -> list[int]:
    path = []
    current = descriptor
    while current.containing_type is not None:
        parent = current.containing_type
        path.append(list(parent.nested_types).index(current))
        current = parent
    path.append(list(current.file.message_types_by_name.values()).index(current))
    return path[::-1]


def _message_at(file: FileDescriptor, indexes: list[int]) -> Descriptor:
    messages = list(file.message_types_by_name.values())
    try:
        descriptor = messages[indexes[0]]
        for index in indexes[1:]:
            descriptor = descriptor.nested_types[index]
    except IndexError:
        raise DataException(
            f"Message index {indexes} does not name a message of the schema's file {file.name}"
        ) from None
    return descriptor


# -- descriptor pools ------------------------------------------------------------------------
# The well-known files a schema may import without a reference, in dependency order.
_BUILTIN_MODULES = (
    *(
        f"google.protobuf.{name}_pb2"
        for name in (
            "any source_context type api descriptor duration empty field_mask struct timestamp "
            "wrappers"
        ).split()
    ),
    *(
        f"google.type.{name}_pb2"
        for name in (
            "calendar_period color date datetime dayofweek expr fraction latlng money month "
            "postal_address quaternion timeofday"
        ).split()
    ),
    "confluent_kafka.schema_registry.confluent.meta_pb2",
    "confluent_kafka.schema_registry.confluent.type.decimal_pb2",
)


def _builtin_files() -> list[Any]:
    """The serialized well-known files, in dependency order."""
    return [importlib.import_module(m).DESCRIPTOR.serialized_pb for m in _BUILTIN_MODULES]


_BUILTINS: list[Any] | None = None


def new_pool() -> descriptor_pool.DescriptorPool:
    global _BUILTINS
    if _BUILTINS is None:
        _BUILTINS = _builtin_files()
    pool = descriptor_pool.DescriptorPool()
    for serialized in _BUILTINS:
        pool.AddSerializedFile(serialized)
    return pool


def _is_builtin(name: str) -> bool:
    return name.startswith(("google/protobuf/", "google/type/", "confluent/"))


def parse_schema_str(schema_str: str, name: str) -> descriptor_pb2.FileDescriptorProto:
    """The FileDescriptorProto a registry schema string holds (base64, serialized form)."""
    try:
        file = descriptor_pb2.FileDescriptorProto()
        file.ParseFromString(base64.b64decode(schema_str.encode("ascii"), validate=True))
    except (binascii.Error, UnicodeEncodeError, DecodeError, ValueError):
        raise DataException(
            f"The registry returned Protobuf schema {name} as .proto text, not in its "
            "serialized form (base64 FileDescriptorProto, asked for with format=serialized); "
            "kconnect reads only the serialized form, which Confluent's registry serves."
        ) from None
    if not file.name:
        file.name = name
    return file


def _add_file(pool: descriptor_pool.DescriptorPool, file: Any) -> FileDescriptor:
    if _is_builtin(file.name):
        try:
            return pool.FindFileByName(file.name)
        except KeyError:
            pass
    pool.Add(file)
    return pool.FindFileByName(file.name)


class ProtobufConverter(RegistryConverter):
    """Connect data <-> Protobuf through a schema registry.

    Settings: ``schema.registry.url`` and the registry keys (see the user guide), plus
    ProtobufDataConfig's ``optional.for.nullables`` (false), ``wrapper.for.nullables`` (false),
    ``wrapper.for.raw.primitives`` (true), ``enhanced.protobuf.schema.support`` (false).
    """

    java_class_names = ("io.confluent.connect.protobuf.ProtobufConverter",)
    schema_type = "PROTOBUF"
    format_name = "Protobuf"

    def config(self) -> ConfigDef:
        from kconnect.api.config import ConfigDef

        T, I = ConfigDef.Type, ConfigDef.Importance
        return (
            config_def()
            .define(
                OPTIONAL_FOR_NULLABLES,
                T.BOOLEAN,
                False,
                None,
                I.MEDIUM,
                "Write optional Connect fields as proto3 'optional' fields, so a null stays "
                "null (otherwise it reads back as the type's zero value).",
            )
            .define(
                WRAPPER_FOR_NULLABLES,
                T.BOOLEAN,
                False,
                None,
                I.MEDIUM,
                "Write optional primitive fields as google.protobuf wrapper messages.",
            )
            .define(
                WRAPPER_FOR_RAW_PRIMITIVES,
                T.BOOLEAN,
                True,
                None,
                I.MEDIUM,
                "Read a top-level wrapper message as its raw primitive.",
            )
            .define(
                ENHANCED_SCHEMA_SUPPORT,
                T.BOOLEAN,
                False,
                None,
                I.MEDIUM,
                "Keep package names in the Connect names of messages and enums.",
            )
        )

    def _configure_format(self, configs: Mapping[str, Any], settings: RegistrySettings) -> None:
        self._options = protobuf_schema.Options(
            optional_for_nullables=get_bool(configs, OPTIONAL_FOR_NULLABLES, False),
            wrapper_for_nullables=get_bool(configs, WRAPPER_FOR_NULLABLES, False),
            wrapper_for_raw_primitives=get_bool(configs, WRAPPER_FOR_RAW_PRIMITIVES, True),
            enhanced=get_bool(configs, ENHANCED_SCHEMA_SUPPORT, False),
        )
        self._indexed_readers = LruCache(settings.cache_size)

    # -- writing -------------------------------------------------------------------------------
    def translate(self, schema: Schema) -> Translation:
        file, full_name = protobuf_schema.from_connect_schema(schema, self._options)
        if not file.name:  # a primitive root: the wrapper's own file
            pool = new_pool()
            file = descriptor_pb2.FileDescriptorProto()
            pool.FindMessageTypeByName(full_name).file.CopyToProto(file)
        encode = protobuf_data.compile_encoder(schema, self._options)
        record_name = full_name

        def make_writer(schema_str: str, header: bytes) -> Any:
            pool = new_pool()
            written = _add_file(pool, parse_schema_str(schema_str, "the written schema"))
            try:
                descriptor = pool.FindMessageTypeByName(record_name)
            except KeyError:
                raise DataException(
                    f"The registry's schema for writing has no message {record_name}"
                ) from None
            if descriptor.file is not written and not _is_builtin(written.name):
                raise DataException(f"Message {record_name} is not declared by the schema")
            message_class = message_factory.GetMessageClass(descriptor)
            prefix = header + encode_indexes(_indexes_of(descriptor))

            def write(value: Any) -> bytes:
                return prefix + message_class(**encode(value)).SerializeToString()

            return write

        schema_str = base64.b64encode(file.SerializeToString()).decode("ascii")
        return Translation(schema_str, record_name, make_writer)

    # -- reading -------------------------------------------------------------------------------
    def _file(self, schema_obj: Any) -> FileDescriptor:
        """The schema's file in a pool of its own, its references resolved."""
        pool = new_pool()
        seen: set[str] = set()

        def add_references(obj: Any) -> None:
            for ref in obj.references or ():
                if _is_builtin(ref.name) or ref.name in seen:
                    continue
                seen.add(ref.name)
                assert self._client is not None
                referenced = self._client.referenced_schema(ref.subject, ref.version)
                add_references(referenced)
                file = parse_schema_str(referenced.schema_str, ref.name)
                file.name = ref.name  # what the importing file calls it
                _add_file(pool, file)

        add_references(schema_obj)
        return _add_file(pool, parse_schema_str(schema_obj.schema_str, "the record's schema"))

    def _message_reader(
        self, descriptor: Descriptor, version: int | None
    ) -> tuple[Schema, Any, protobuf_data.Codec]:
        connect_schema = protobuf_schema.to_connect_schema(descriptor, self._options, version)
        decode = protobuf_data.compile_decoder(connect_schema, descriptor, self._options)
        return connect_schema, message_factory.GetMessageClass(descriptor), decode

    def make_reader(self, schema_obj: Any, version: int | None) -> tuple[Schema | None, Read]:
        file = self._file(schema_obj)
        connect_schema, message_class, decode = self._message_reader(
            _message_at(file, [0]), version
        )
        first = HEADER_SIZE + 1
        FromString = message_class.FromString

        def read(value: bytes) -> Any:
            if value[HEADER_SIZE] != 0:
                raise _OtherMessage()
            return decode(FromString(value[first:]))

        return connect_schema, read

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Any = None
    ) -> SchemaAndValue:
        try:
            return super().to_connect_data(topic, value, headers)
        except _OtherMessage:
            assert value is not None
            return self._read_indexed(topic, value)

    def _read_indexed(self, topic: str, value: bytes) -> SchemaAndValue:
        """A record whose message is not the file's first one (index list other than [0])."""
        schema_id = registry.read_header(value, self.format_name)
        indexes, offset = decode_indexes(value, HEADER_SIZE)
        key = (schema_id, tuple(indexes))
        reader = self._indexed_readers.get(key)
        if reader is None:
            assert self._client is not None
            schema_obj = self._client.schema_for_read(schema_id)
            descriptor = _message_at(self._file(schema_obj), indexes)
            reader = self._message_reader(descriptor, self._version(topic, schema_obj))
            self._indexed_readers.put(key, reader)
        connect_schema, message_class, decode = reader
        try:
            return SchemaAndValue(connect_schema, decode(message_class.FromString(value[offset:])))
        except DataException:
            raise
        except Exception as e:  # noqa: BLE001 - whatever the decoder raises on bad data
            raise DataException(
                f"Failed to deserialize data for topic {topic} to {self.format_name}: {e}"
            ) from e

    def record_name_of(self, schema_obj: Any) -> str | None:
        try:
            file = parse_schema_str(schema_obj.schema_str, "the record's schema")
        except DataException:
            return None
        if not file.message_type:
            return None
        first = file.message_type[0].name
        return f"{file.package}.{first}" if file.package else first


class _OtherMessage(ConnectException):
    """The record's message-index list is not [0]: read through the indexed path."""
