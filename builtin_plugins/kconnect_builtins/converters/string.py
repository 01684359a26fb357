"""StringConverter: Kafka's ``org.apache.kafka.connect.storage.StringConverter``.

Values are written as their text (what ``toString()`` gives for the Java object Kafka would
hold: ``true``, ``12``, ``1.0E10``) in ``converter.encoding`` (UTF-8 by default) and read back
as optional strings.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kconnect.api.data import Schema, SchemaAndValue
from kconnect.api.errors import ConfigException

from kconnect_builtins.converters import ValueConverterAsHeaderConverter
from kconnect_builtins.converters.java_text import java_to_string
from kconnect_builtins.converters.settings import converter_config_def

if TYPE_CHECKING:
    from kconnect.api.config import ConfigDef
    from kconnect.api.records import Headers

ENCODING_CONFIG = "converter.encoding"
ENCODING_DEFAULT = "UTF-8"

_BOMS = (codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)
_OPTIONAL_STRING = Schema.OPTIONAL_STRING_SCHEMA
_NULL_STRING = SchemaAndValue(_OPTIONAL_STRING, None)
_new_tuple = tuple.__new__


def _charset(name: str) -> tuple[Callable[[str], bytes], Callable[[bytes], str]]:
    """Encoder and decoder of a Java charset. Like Java, unmappable characters are written as
    '?' and malformed input reads as U+FFFD; Java's UTF-16 and UTF-32 write big-endian (UTF-16
    with a byte-order mark) and read big-endian unless a byte-order mark says otherwise."""
    upper = name.upper()
    if upper in ("UTF-8", "UTF8"):
        return _encode_utf8, _decode_utf8
    if upper in ("UTF-16", "UTF16"):
        return (
            lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be", "replace"),
            lambda data: data.decode("utf-16" if data[:2] in _BOMS else "utf-16-be", "replace"),
        )
    if upper in ("UTF-32", "UTF32"):
        return (
            lambda text: text.encode("utf-32-be", "replace"),
            lambda data: data.decode(
                "utf-32" if data[:4] in (codecs.BOM_UTF32_BE, codecs.BOM_UTF32_LE) else "utf-32-be",
                "replace",
            ),
        )
    try:
        python_name = codecs.lookup(name).name
    except LookupError:
        raise ConfigException(f"Unsupported encoding {name}", ENCODING_CONFIG, name) from None
    return (
        lambda text: text.encode(python_name, "replace"),
        lambda data: data.decode(python_name, "replace"),
    )


def _encode_utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:  # lone surrogates: Java writes '?'
        return text.encode("utf-8", "replace")


def _decode_utf8(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def config_def() -> ConfigDef:
    from kconnect.api.config import ConfigDef

    return converter_config_def().define(
        ENCODING_CONFIG,
        ConfigDef.Type.STRING,
        ENCODING_DEFAULT,
        None,
        ConfigDef.Importance.HIGH,
        "The name of the Java character set to use for encoding strings as byte arrays.",
        None,
        -1,
        ConfigDef.Width.MEDIUM,
        "Encoding",
    )


class StringConverter(ValueConverterAsHeaderConverter):
    """Writes any value as its text; reads bytes as an optional string."""

    java_class_names = ("org.apache.kafka.connect.storage.StringConverter",)

    def __init__(self) -> None:
        self._encode: Callable[[str], bytes] = _encode_utf8
        self._decode: Callable[[bytes], str] = _decode_utf8

    def config(self) -> ConfigDef:
        return config_def()

    def configure(self, configs: Mapping[str, Any], is_key: bool = False) -> None:
        # As Kafka's StringSerializer/Deserializer: key./value.(de)serializer.encoding win over
        # converter.encoding.
        side = "key" if is_key else "value"
        encoding = configs.get(ENCODING_CONFIG) or ENCODING_DEFAULT
        encoder_name = configs.get(f"{side}.serializer.encoding") or encoding
        decoder_name = configs.get(f"{side}.deserializer.encoding") or encoding
        self._encode = _charset(str(encoder_name))[0]
        self._decode = _charset(str(decoder_name))[1]

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        if type(value) is str:
            if self._encode is _encode_utf8:  # the default, inlined: this runs once per record
                try:
                    return value.encode()
                except UnicodeEncodeError:
                    pass
            return self._encode(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            # Java would write the array's identity ("[B@1b6d3586"); bytes pass through instead.
            return bytes(value)
        return self._encode(java_to_string(value, schema))

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is None:
            return _NULL_STRING
        if not isinstance(value, bytes):
            value = bytes(value)
        # tuple.__new__ skips the namedtuple's Python-level __new__: this runs once per record.
        return _new_tuple(SchemaAndValue, (_OPTIONAL_STRING, self._decode(value)))
