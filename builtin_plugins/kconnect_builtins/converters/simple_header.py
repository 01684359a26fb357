"""SimpleHeaderConverter: Kafka's ``org.apache.kafka.connect.storage.SimpleHeaderConverter``,
the default ``header.converter``.

Header values are written as UTF-8 text (see :mod:`kconnect_builtins.converters.values` for the
forms) and read back with their schema inferred from the text: ``42`` is an INT8, ``true`` a
BOOLEAN, ``[1,2]`` an array, ``2019-08-23`` a Date, anything else a STRING.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kconnect.api.converter import HeaderConverter
from kconnect.api.data import Schema, SchemaAndValue

from kconnect_builtins.converters.values import convert_to_string, parse_string

if TYPE_CHECKING:
    from kconnect.api.config import ConfigDef

log = logging.getLogger(__name__)


class SimpleHeaderConverter(HeaderConverter):
    """Header values as text, with their schemas inferred when read."""

    java_class_names = ("org.apache.kafka.connect.storage.SimpleHeaderConverter",)

    def config(self) -> ConfigDef:
        from kconnect.api.config import ConfigDef

        return ConfigDef()

    def configure(self, configs: Mapping[str, Any]) -> None:
        pass

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(None, None)
        try:
            parsed = parse_string(bytes(value).decode("utf-8", "replace"))
        except Exception:
            log.warning(
                "Failed to deserialize value for header '%s' on topic '%s', so using byte array",
                header_key,
                topic,
                exc_info=True,
            )
            return SchemaAndValue(Schema.BYTES_SCHEMA, value)
        # Kafka hands back a null SchemaAndValue for the text "null"; an empty one is safer.
        return SchemaAndValue(None, None) if parsed is None else parsed

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        if value is None:
            return None
        text = convert_to_string(schema, value)
        try:
            return text.encode()  # type: ignore[union-attr]
        except UnicodeEncodeError:  # lone surrogates: Java writes '?'
            return text.encode("utf-8", "replace")  # type: ignore[union-attr]

    def close(self) -> None:
        pass
