"""Converters turn Connect data into bytes for Kafka and back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kconnect.api.config import ConfigDef
    from kconnect.api.data import Schema, SchemaAndValue
    from kconnect.api.records import Headers


class Converter:
    """``key.converter``/``value.converter``. One instance converts either keys or values."""

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        """Called once with the converter's settings (prefix already stripped)."""

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        raise NotImplementedError

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        raise NotImplementedError

    def config(self) -> ConfigDef:
        from kconnect.api.config import ConfigDef

        return ConfigDef()

    def close(self) -> None:
        pass


class HeaderConverter:
    """``header.converter``: converts header values."""

    def configure(self, configs: Mapping[str, Any]) -> None:
        pass

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        raise NotImplementedError

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        raise NotImplementedError

    def config(self) -> ConfigDef:
        from kconnect.api.config import ConfigDef

        return ConfigDef()

    def close(self) -> None:
        pass
