"""Talking to the schema registry: subjects, ids, the wire format, and errors in users' words.

Confluent's wire format is one magic byte ``0``, the schema id as a 4-byte big-endian int, then
the payload. Every registry round trip is cached per (subject, schema) and per id, so a record
costs no request once its schema has been seen.

Errors: a registry that cannot be reached (refused, timed out, 5xx, 429) raises
:class:`~kconnect.api.errors.RetriableException`, which the task's error handler retries
(``errors.retry.timeout``), so records wait rather than fail while the registry restarts. An
incompatible schema raises a DataException naming the subject, the registry's answer and the
fix. Messages never include credentials.
"""

from __future__ import annotations

import logging
import struct
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from kconnect.api.errors import DataException, RetriableException

from kconnect_builtins.converters.schema_registry.settings import RegistrySettings

log = logging.getLogger(__name__)

MAGIC_BYTE = 0
_HEADER = struct.Struct(">bI")
HEADER_SIZE = _HEADER.size
T = TypeVar("T")


def header(schema_id: int) -> bytes:
    return _HEADER.pack(MAGIC_BYTE, schema_id)


def read_header(value: bytes, what: str) -> int:
    """The schema id at the front of ``value``; DataException if it is not Confluent's format."""
    if len(value) < HEADER_SIZE or value[0] != MAGIC_BYTE:
        raise DataException(
            f"Converting byte[] to Kafka Connect data failed due to serialization error of "
            f"{what} data: Unknown magic byte! The record was not written in the schema "
            "registry's wire format (magic byte 0, then a 4-byte schema id)."
        )
    return int(_HEADER.unpack_from(value)[1])


def subject_name(strategy: str, topic: str, is_key: bool, record_name: str | None) -> str:
    """The subject a schema goes under, by Confluent's subject name strategies."""
    if strategy == "TopicNameStrategy":
        return f"{topic}-{'key' if is_key else 'value'}"
    if record_name is None:
        raise DataException(
            f"{strategy} needs a named schema (a struct/record with a name); this one has none. "
            "Give the schema a name (e.g. with SetSchemaMetadata) or use TopicNameStrategy."
        )
    if strategy == "RecordNameStrategy":
        return record_name
    return f"{topic}-{record_name}"


class RegistryClient:
    """confluent-kafka's SchemaRegistryClient with kconnect's caching and error mapping."""

    def __init__(self, settings: RegistrySettings, schema_type: str):
        from confluent_kafka.schema_registry import SchemaRegistryClient

        self._settings = settings
        self._schema_type = schema_type
        try:
            self._client = SchemaRegistryClient(dict(settings.client_conf))
        except (ValueError, TypeError) as e:
            from kconnect.api.errors import ConfigException

            raise ConfigException(f"Invalid schema registry settings: {e}") from None
        self._ids: dict[tuple[str, str], int] = {}
        # Protobuf schemas are read as a serialized FileDescriptorProto (base64), which needs no
        # .proto parser; the registry converts .proto text registered by others.
        self._format = "serialized" if schema_type == "PROTOBUF" else None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    # -- writing ------------------------------------------------------------------------------
    def id_for_write(self, subject: str, schema_str: str) -> tuple[int, str]:
        """The id to write data of ``schema_str`` under ``subject`` with, and the schema text the
        data must then be written in (the latest version's, with use.latest.version)."""
        settings = self._settings
        if settings.use_latest_version and not settings.auto_register:
            latest = self._call(
                lambda: self._client.get_latest_version(subject), subject, "fetching the latest"
            )
            return int(latest.schema_id or 0), str(latest.schema.schema_str)
        key = (subject, schema_str)
        found = self._ids.get(key)
        if found is not None:
            return found, schema_str
        schema = self._schema(schema_str)
        if settings.auto_register:
            schema_id = self._call(
                lambda: self._client.register_schema(subject, schema, settings.normalize),
                subject,
                "registering",
            )
        else:
            registered = self._call(
                lambda: self._client.lookup_schema(subject, schema, settings.normalize),
                subject,
                "looking up",
            )
            schema_id = int(registered.schema_id or 0)
        with self._lock:
            self._ids[key] = schema_id
        return schema_id, schema_str

    # -- reading ------------------------------------------------------------------------------
    def schema_for_read(self, schema_id: int) -> Any:
        """The registry's Schema object (schema_str, references) of id ``schema_id``."""
        return self._call(
            lambda: self._client.get_schema(schema_id, fmt=self._format),
            None,
            "fetching",
            schema_id,
        )

    def referenced_schema(self, subject: str, version: int) -> Any:
        """The Schema object a schema reference names (``subject``, ``version``)."""
        return self._call(
            lambda: self._client.get_version(subject, version, True, self._format).schema,
            subject,
            f"fetching version {version} of",
        )

    def version_of(self, subject: str, schema_str: str) -> int | None:
        """The version of ``schema_str`` under ``subject``, or None when it is not there (data
        written under another subject naming strategy); used as the Connect schema's version."""
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            registered = self._client.lookup_schema(subject, self._schema(schema_str))
        except SchemaRegistryError as e:
            if e.http_status_code == 404:
                return None
            raise self._error(e, subject, "looking up", None) from None
        except Exception as e:  # noqa: BLE001 - httpx's transport errors
            raise self._unreachable(e, subject, "looking up", None) from None
        return int(registered.version) if registered.version is not None else None

    # -- internals ----------------------------------------------------------------------------
    def _schema(self, schema_str: str) -> Any:
        from confluent_kafka.schema_registry import Schema

        return Schema(schema_str, self._schema_type)

    def _call(
        self, fn: Callable[[], T], subject: str | None, doing: str, schema_id: int | None = None
    ) -> T:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            return fn()
        except SchemaRegistryError as e:
            raise self._error(e, subject, doing, schema_id) from None
        except Exception as e:  # noqa: BLE001 - httpx's transport errors, whichever module
            raise self._unreachable(e, subject, doing, schema_id) from None

    def _what(self, subject: str | None, doing: str, schema_id: int | None) -> str:
        if schema_id is not None:
            return f"{doing} {self._schema_type} schema id {schema_id}"
        return f'{doing} {self._schema_type} schema for subject "{subject}"'

    def _unreachable(
        self, error: Exception, subject: str | None, doing: str, schema_id: int | None
    ) -> RetriableException:
        # str(error) of httpx names the URL it tried, which may carry user:password@.
        from kconnect_builtins.converters.schema_registry.settings import redact_url

        return RetriableException(
            f"Error {self._what(subject, doing, schema_id)}: the schema registry at "
            f"{self._settings.shown_urls} could not be reached ({type(error).__name__}: "
            f"{redact_url(str(error))}). The task retries while errors.retry.timeout allows."
        )

    def _error(
        self, error: Any, subject: str | None, doing: str, schema_id: int | None
    ) -> Exception:
        status, code, message = error.http_status_code, error.error_code, error.error_message
        answer = f"the registry answered HTTP {status}, error_code {code}: {message}"
        what = self._what(subject, doing, schema_id)
        if status in (408, 429) or status >= 500:
            return RetriableException(f"Error {what}: {answer}. The task retries.")
        if status == 409:
            return DataException(
                f"Schema being registered is incompatible with an earlier schema for subject "
                f'"{subject}": {answer}. Fix: change the data\'s schema compatibly (e.g. add the '
                "field as optional or with a default), or change the subject's compatibility "
                f"level (PUT /config/{subject}), or write to a new subject."
            )
        if status in (401, 403):
            return DataException(
                f"Error {what}: {answer}. Check basic.auth.credentials.source and "
                "basic.auth.user.info."
            )
        if status == 404 and schema_id is not None:
            return DataException(f"Error {what}: {answer}. No schema has that id.")
        if status == 404:
            return DataException(
                f"Error {what}: {answer}. With auto.register.schemas=false the schema must be "
                "registered under that subject beforehand."
            )
        return DataException(f"Error {what}: {answer}")
