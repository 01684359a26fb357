"""What the Avro, Protobuf and JSON Schema converters share: settings, the registry, the wire
format and the caches.

Writing: a Connect schema is turned into the format's schema text and a compiled writer once
per (topic, schema); the registry is asked for its id once per (subject, schema text). Reading:
the id at the front of the record is turned into a Connect schema and a compiled reader once.
The schema seen last is checked first, by identity, since the records of one stream nearly
always share it. The caches hold at most ``schemas.cache.config`` entries each.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kconnect.api.converter import Converter
from kconnect.api.data import Schema, SchemaAndValue
from kconnect.api.errors import ConnectException, DataException, RetriableException

from kconnect_builtins.converters.lru_cache import LruCache
from kconnect_builtins.converters.schema_registry import registry
from kconnect_builtins.converters.schema_registry.settings import (
    RegistrySettings,
    config_def,
    read_settings,
)

if TYPE_CHECKING:
    from kconnect.api.config import ConfigDef
    from kconnect.api.records import Headers

#: turns a Connect value into the record value: the wire-format header, then the payload
Write = Callable[[Any], bytes]
#: turns a whole record value (header included; the payload starts at HEADER_SIZE) into a
#: Connect value
Read = Callable[[bytes], Any]
HEADER_SIZE = registry.HEADER_SIZE
# SchemaAndValue(...) goes through a Python-level __new__; this skips it on the hot path.
_schema_and_value = functools.partial(tuple.__new__, SchemaAndValue)


class Translation:
    """One Connect schema in a format: its schema text, record name, and a writer factory
    (called with the schema text to write in and the wire-format header to start with)."""

    __slots__ = ("make_writer", "record_name", "schema_str")

    def __init__(
        self,
        schema_str: str,
        record_name: str | None,
        make_writer: Callable[[str, bytes], Write],
    ):
        self.schema_str = schema_str
        self.record_name = record_name
        self.make_writer = make_writer


class RegistryConverter(Converter):
    """Base of the schema-registry converters; subclasses supply the format."""

    #: "AVRO", "PROTOBUF" or "JSON", as the registry names schema types
    schema_type = ""
    #: the format's name in messages
    format_name = ""

    def __init__(self) -> None:
        self._settings: RegistrySettings | None = None
        self._client: registry.RegistryClient | None = None
        self._is_key = False

    # -- configuration ---------------------------------------------------------------------
    def config(self) -> ConfigDef:
        return config_def()

    def configure(self, configs: Mapping[str, Any], is_key: bool = False) -> None:
        self._settings = read_settings(configs)
        self._is_key = is_key
        self._configure_format(configs, self._settings)
        self._client = registry.RegistryClient(self._settings, self.schema_type)
        size = self._settings.cache_size
        self._translations = LruCache(size)
        self._writers = LruCache(size)
        self._readers = LruCache(size)
        self._last_write: tuple[str, Schema | None, Any] = ("", None, None)
        self._last_read: tuple[bytes, Schema | None, Any] = (b"", None, None)

    def _configure_format(self, configs: Mapping[str, Any], settings: RegistrySettings) -> None:
        """Read the format's own keys."""

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # -- the format ------------------------------------------------------------------------
    def translate(self, schema: Schema) -> Translation:
        """The format's schema for a Connect schema (called once per schema)."""
        raise NotImplementedError

    def make_reader(self, schema_obj: Any, version: int | None) -> tuple[Schema | None, Read]:
        """The Connect schema and a reader for a registry schema (once per id); the reader is
        given the whole record value and reads from HEADER_SIZE on."""
        raise NotImplementedError

    # -- Connect -> bytes ------------------------------------------------------------------
    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None  # a tombstone stays one
        if schema is None:
            raise DataException(
                f"{type(self).__name__} needs a schema to write {self.format_name}: the record "
                f"for topic {topic} has a value but no schema. Use a converter without a "
                "registry (e.g. JsonConverter with schemas.enable=false) for schemaless data."
            )
        last_topic, last_schema, writer = self._last_write
        if last_schema is not schema or last_topic != topic:
            writer = self._writer(topic, schema)
            self._last_write = (topic, schema, writer)
        try:
            return writer(value)  # type: ignore[no-any-return]
        except ConnectException:
            raise
        except Exception as e:  # noqa: BLE001 - whatever the encoder raises on bad data
            raise DataException(
                f"Failed to serialize {self.format_name} data from topic {topic}: {e}"
            ) from e

    def _writer(self, topic: str, schema: Schema) -> Callable[[Any], bytes]:
        assert self._settings is not None and self._client is not None
        key = (topic, schema)
        writer = self._writers.get(key)
        if writer is not None:
            return writer  # type: ignore[no-any-return]
        translation = self._translations.get(schema)
        if translation is None:
            translation = self.translate(schema)
            self._translations.put(schema, translation)
        subject = registry.subject_name(
            self._settings.strategy(self._is_key), topic, self._is_key, translation.record_name
        )
        schema_id, write_str = self._client.id_for_write(subject, translation.schema_str)
        writer = translation.make_writer(write_str, registry.header(schema_id))
        self._writers.put(key, writer)
        return writer

    # -- bytes -> Connect ------------------------------------------------------------------
    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(None, None)
        # The header of the last record read, checked as bytes: one comparison per record.
        last_header, connect_schema, read = self._last_read
        if value[:HEADER_SIZE] != last_header:
            schema_id = registry.read_header(value, self.format_name)
            connect_schema, read = self._reader(topic, schema_id)
            self._last_read = (bytes(value[:HEADER_SIZE]), connect_schema, read)
        try:
            return _schema_and_value((connect_schema, read(value)))
        except ConnectException:
            raise
        except Exception as e:  # noqa: BLE001 - whatever the decoder raises on bad data
            raise DataException(
                f"Failed to deserialize data for topic {topic} to {self.format_name}: {e}"
            ) from e

    def _reader(self, topic: str, schema_id: int) -> tuple[Schema | None, Read]:
        assert self._client is not None and self._settings is not None
        reader = self._readers.get(schema_id)
        if reader is not None:
            return reader  # type: ignore[no-any-return]
        schema_obj = self._client.schema_for_read(schema_id)
        version = self._version(topic, schema_obj)
        reader = self.make_reader(schema_obj, version)
        self._readers.put(schema_id, reader)
        return reader

    def _version(self, topic: str, schema_obj: Any) -> int | None:
        """The registry's version of the schema under the subject it was written to, which
        becomes the Connect schema's version when the schema carries none (as in Confluent's)."""
        assert self._client is not None and self._settings is not None
        record_name = self.record_name_of(schema_obj)
        try:
            subject = registry.subject_name(
                self._settings.strategy(self._is_key), topic, self._is_key, record_name
            )
            return self._client.version_of(subject, schema_obj.schema_str)
        except RetriableException:
            raise
        except ConnectException:
            return None

    def record_name_of(self, schema_obj: Any) -> str | None:
        """The record name subject strategies use, for a registry schema."""
        return None
