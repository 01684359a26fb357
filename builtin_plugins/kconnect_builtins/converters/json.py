"""JsonConverter: Kafka's ``org.apache.kafka.connect.json.JsonConverter``, byte for byte.

With ``schemas.enable`` (the default) every value travels in an envelope
``{"schema":{...},"payload":...}``; without it, the payload alone as plain JSON, read back
without a schema (integers as int, other numbers as float, objects as dicts, lists as lists).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from kconnect.api.data import Schema, SchemaAndValue
from kconnect.api.errors import DataException

from kconnect_builtins.converters import ValueConverterAsHeaderConverter, json_read, json_write
from kconnect_builtins.converters.lru_cache import LruCache
from kconnect_builtins.converters.settings import (
    converter_config_def,
    get_bool,
    get_choice,
    get_int,
)

if TYPE_CHECKING:
    from kconnect.api.config import ConfigDef
    from kconnect.api.records import Headers

SCHEMAS_ENABLE_CONFIG = "schemas.enable"
SCHEMAS_CACHE_SIZE_CONFIG = "schemas.cache.size"
DECIMAL_FORMAT_CONFIG = "decimal.format"
REPLACE_NULL_WITH_DEFAULT_CONFIG = "replace.null.with.default"

_SERIALIZE_ERROR = "Converting Kafka Connect data to byte[] failed due to serialization error: "
_DESERIALIZE_ERROR = "Converting byte[] to Kafka Connect data failed due to serialization error: "
_ENVELOPE_ERROR = (
    'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not '
    "contain additional fields. If you are trying to deserialize plain JSON data, set "
    "schemas.enable=false in your converter configuration."
)
_NULL_SCHEMA_PREFIX = b'{"schema":null,"payload":'
# SchemaAndValue(...) goes through a Python-level __new__; this skips it on the hot path.
_schema_and_value = functools.partial(tuple.__new__, SchemaAndValue)


class _Writer:
    """Everything needed to write values of one schema: the envelope's opening bytes (with the
    schema's JSON) and the payload encoder."""

    __slots__ = ("encode", "prefix")

    def __init__(self, prefix: bytes, encode: json_write.Encoder):
        self.prefix = prefix
        self.encode = encode


class _Reader:
    """Everything needed to read values of one JSON schema."""

    __slots__ = ("decode", "prefix", "schema")

    def __init__(self, schema: Schema | None, decode: json_read.Decoder, prefix: bytes):
        self.schema = schema
        self.decode = decode
        self.prefix = prefix  # b'{"schema":<schema json>,"payload":'


def config_def() -> ConfigDef:
    """JsonConverter's settings, as Kafka's JsonConverterConfig declares them."""
    from kconnect.api.config import ConfigDef

    return (
        converter_config_def()
        .define(
            SCHEMAS_ENABLE_CONFIG,
            ConfigDef.Type.BOOLEAN,
            True,
            None,
            ConfigDef.Importance.HIGH,
            "Include schemas within each of the serialized values and keys.",
            "Schemas",
            0,
            ConfigDef.Width.MEDIUM,
            "Enable Schemas",
        )
        .define(
            SCHEMAS_CACHE_SIZE_CONFIG,
            ConfigDef.Type.INT,
            1000,
            None,
            ConfigDef.Importance.HIGH,
            "The maximum number of schemas that can be cached in this converter instance.",
            "Schemas",
            1,
            ConfigDef.Width.MEDIUM,
            "Schema Cache Size",
        )
        .define(
            DECIMAL_FORMAT_CONFIG,
            ConfigDef.Type.STRING,
            "BASE64",
            ConfigDef.CaseInsensitiveValidString.in_("BASE64", "NUMERIC"),
            ConfigDef.Importance.LOW,
            "Controls which format this converter will serialize decimals in. This value is "
            "case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
            "Serialization",
            0,
            ConfigDef.Width.MEDIUM,
            "Decimal Format",
        )
        .define(
            REPLACE_NULL_WITH_DEFAULT_CONFIG,
            ConfigDef.Type.BOOLEAN,
            True,
            None,
            ConfigDef.Importance.LOW,
            "Whether to replace fields that have a default value and that are null to the "
            "default value. When set to true, the default value is used, otherwise null is used.",
            "Serialization",
            1,
            ConfigDef.Width.MEDIUM,
            "Replace null with default",
        )
    )


class JsonConverter(ValueConverterAsHeaderConverter):
    """Connect data <-> JSON, with or without an embedded schema.

    Settings (Kafka's names and defaults): ``schemas.enable`` (true), ``schemas.cache.size``
    (1000), ``decimal.format`` (BASE64 or NUMERIC) and ``replace.null.with.default`` (true).
    """

    java_class_names = ("org.apache.kafka.connect.json.JsonConverter",)

    def __init__(self) -> None:
        self.configure({}, False)

    # -- configuration ---------------------------------------------------------------------
    def config(self) -> ConfigDef:
        return config_def()

    def configure(self, configs: Mapping[str, Any], is_key: bool = False) -> None:
        self.schemas_enabled = get_bool(configs, SCHEMAS_ENABLE_CONFIG, True)
        cache_size = get_int(configs, SCHEMAS_CACHE_SIZE_CONFIG, 1000)
        decimal_format = get_choice(configs, DECIMAL_FORMAT_CONFIG, "BASE64", ("BASE64", "NUMERIC"))
        self._options = json_write.CodecOptions(
            decimal_numeric=decimal_format == "NUMERIC",
            replace_null_with_default=get_bool(configs, REPLACE_NULL_WITH_DEFAULT_CONFIG, True),
        )
        self._writers = LruCache(cache_size)
        self._readers = LruCache(cache_size)
        # The schema written or read last: records of one stream nearly always share it.
        self._last_writer: tuple[Schema | None, _Writer | None] = (None, None)
        self._last_reader: _Reader | None = None

    def close(self) -> None:
        pass

    # -- Connect -> bytes ------------------------------------------------------------------
    def _writer(self, schema: Schema) -> _Writer:
        last_schema, writer = self._last_writer
        if last_schema is schema and writer is not None:
            return writer
        writer = self._writers.get(schema)
        if writer is None:
            schema_json = json_write.dumps(json_write.schema_to_json(schema, self._options))
            writer = _Writer(
                b'{"schema":' + schema_json + b',"payload":',
                json_write.compile_encoder(schema, self._options),
            )
            self._writers.put(schema, writer)
        self._last_writer = (schema, writer)
        return writer

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if schema is None:
            if value is None:
                return None
            tree = json_write.encode_schemaless(value)
            prefix = _NULL_SCHEMA_PREFIX
        else:
            writer = self._writer(schema)
            tree = writer.encode(value)
            prefix = writer.prefix
        try:
            payload = json_write.dumps(tree)
        except (TypeError, orjson.JSONEncodeError) as e:
            raise DataException(_SERIALIZE_ERROR) from e
        if self.schemas_enabled:
            return prefix + payload + b"}"
        return payload

    # -- bytes -> Connect ------------------------------------------------------------------
    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(None, None)
        if not isinstance(value, bytes):
            value = bytes(value)
        if not self.schemas_enabled:
            tree = self._parse(value)
            if tree is json_read.MISSING:
                return SchemaAndValue(None, None)
            return SchemaAndValue(None, tree)

        reader = self._last_reader
        if reader is not None and value.startswith(reader.prefix) and value.endswith(b"}"):
            # The same schema text as the last record: parse only the payload.
            payload_bytes = value[len(reader.prefix) : -1]
            try:
                node = orjson.loads(payload_bytes)
            except orjson.JSONDecodeError:
                pass
            else:
                try:
                    return _schema_and_value((reader.schema, reader.decode(node)))
                except json_read.NeedExactNumbers:
                    node = self._parse(payload_bytes, exact=True)
                    return _schema_and_value((reader.schema, reader.decode(node)))

        envelope = self._parse(value)
        if not (
            type(envelope) is dict
            and len(envelope) == 2
            and "schema" in envelope
            and "payload" in envelope
        ):
            raise DataException(_ENVELOPE_ERROR)
        reader = self._reader(envelope["schema"], value)
        try:
            return SchemaAndValue(reader.schema, reader.decode(envelope["payload"]))
        except json_read.NeedExactNumbers:
            envelope = self._parse(value, exact=True)
            return SchemaAndValue(reader.schema, reader.decode(envelope["payload"]))

    @staticmethod
    def _parse(value: bytes | memoryview, exact: bool = False) -> Any:
        try:
            return json_read.parse(value, exact)
        except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise DataException(_DESERIALIZE_ERROR) from e

    def _reader(self, schema_node: Any, message: bytes) -> _Reader:
        if schema_node is None:
            return _Reader(None, json_read.compile_decoder(None, self._options), b"")
        key = orjson.dumps(schema_node)
        reader = self._readers.get(key)
        if reader is None:
            schema = json_read.schema_from_json(schema_node, self._options)
            reader = _Reader(
                schema,
                json_read.compile_decoder(schema, self._options),
                b'{"schema":' + key + b',"payload":',
            )
            self._readers.put(key, reader)
        if message.startswith(reader.prefix):
            self._last_reader = reader
        return reader

    # -- conversions without the envelope, for callers that hold schemas -------------------
    def as_json_schema(self, schema: Schema | None) -> Any:
        """The JSON form of ``schema`` as a parsed tree (Kafka's asJsonSchema)."""
        if schema is None:
            return None
        return orjson.loads(self._writer(schema).prefix[len(b'{"schema":') : -len(b',"payload":')])

    def as_connect_schema(self, json_schema: Any) -> Schema | None:
        """The Connect schema of a parsed JSON schema (Kafka's asConnectSchema)."""
        return json_read.schema_from_json(json_schema, self._options)

    # visible for tests, as in Kafka
    def size_of_from_connect_schema_cache(self) -> int:
        return len(self._writers)

    def size_of_to_connect_schema_cache(self) -> int:
        return len(self._readers)
