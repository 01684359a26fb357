"""What the built-in transforms share: Kafka's ``Requirements`` checks and their messages, the
Key/Value variants, the per-schema cache, config helpers and a few value conversions."""

from __future__ import annotations

import datetime as _dt
import re
import threading
from collections.abc import Callable
from typing import Any

from kconnect import __version__
from kconnect.api.config_validators import Validator, invalid_value, render_value
from kconnect.api.data import Schema, SchemaBuilder, Struct, Type
from kconnect.api.errors import ConfigException, DataException
from kconnect.api.records import ConnectRecord, SinkRecord

TRANSFORMS_PACKAGE = "org.apache.kafka.connect.transforms"

REPLACE_NULL_WITH_DEFAULT_CONFIG = "replace.null.with.default"
REPLACE_NULL_WITH_DEFAULT_DOC = (
    "Whether to replace fields that have a default value and that are null to the default "
    "value. When set to true, the default value is used, otherwise null is used."
)

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
MILLIS_PER_DAY = 86_400_000


def plugin_version() -> str:
    return __version__


# --------------------------------------------------------------------------------------------
# Names and messages in Kafka's words
# --------------------------------------------------------------------------------------------
def class_name(value: Any) -> str:
    """The value's class as error messages show it (Kafka prints the Java class name)."""
    if value is None:
        return "null"
    cls = type(value)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def java_str(value: Any) -> str:
    """``value`` as Java's ``String.valueOf`` prints it (``null``, ``true``, ``[a, b]``)."""
    return render_value(value)


def java_split(text: str, sep: str) -> list[str]:
    """``text.split(sep)`` as Java's ``String.split`` does it: trailing empty parts dropped."""
    parts = text.split(sep)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def config_error(name: str, value: Any, message: str | None = None) -> ConfigException:
    """Kafka's ``new ConfigException(name, value, message)``."""
    return invalid_value(name, value, message)


# --------------------------------------------------------------------------------------------
# Requirements (Kafka's transforms.util.Requirements)
# --------------------------------------------------------------------------------------------
def require_schema(schema: Schema | None, purpose: str) -> Schema:
    if schema is None:
        raise DataException(f"Schema required for [{purpose}]")
    return schema


def require_map(value: Any, purpose: str) -> dict:
    if not isinstance(value, dict):
        raise DataException(
            f"Only Map objects supported in absence of schema for [{purpose}], "
            f"found: {class_name(value)}"
        )
    return value


def require_map_or_null(value: Any, purpose: str) -> dict | None:
    return None if value is None else require_map(value, purpose)


def require_struct(value: Any, purpose: str) -> Struct:
    if not isinstance(value, Struct):
        raise DataException(
            f"Only Struct objects supported for [{purpose}], found: {class_name(value)}"
        )
    return value


def require_struct_or_null(value: Any, purpose: str) -> Struct | None:
    return None if value is None else require_struct(value, purpose)


def require_sink_record(record: ConnectRecord, purpose: str) -> SinkRecord:
    if not isinstance(record, SinkRecord):
        raise DataException(
            f"Only SinkRecord supported for [{purpose}], found: {class_name(record)}"
        )
    return record


# --------------------------------------------------------------------------------------------
# Schemas and structs
# --------------------------------------------------------------------------------------------
def copy_schema_basics(source: Schema, builder: SchemaBuilder) -> SchemaBuilder:
    """Give ``builder`` the name, version, doc and parameters of ``source`` (SchemaUtil)."""
    if source.name is not None:
        builder.name(source.name)
    if source.version is not None:
        builder.version(source.version)
    if source.doc is not None:
        builder.doc(source.doc)
    if source.parameters:
        builder.parameters(source.parameters)
    return builder


def builder_like(source: Schema) -> SchemaBuilder:
    """A builder of the same type (and element schemas) as ``source``, with its basics but not
    its optionality, default or fields."""
    if source.type is Type.ARRAY:
        builder = SchemaBuilder.array(source.value_schema)  # type: ignore[arg-type]
    elif source.type is Type.MAP:
        builder = SchemaBuilder.map(source.key_schema, source.value_schema)  # type: ignore[arg-type]
    else:
        builder = SchemaBuilder(source.type)
    return copy_schema_basics(source, builder)


def struct_with_values(schema: Schema, values: list[Any]) -> Struct:
    """A Struct of ``schema`` holding ``values`` (one per field, in field order).

    Only for values already valid for their fields, e.g. copied from a Struct whose field
    schemas are the same: validating them again on every record is what ``put`` would do, and
    it is the larger part of a transform's per-record cost for nested data.
    """
    return Struct._with_values(schema, values)


def struct_values(struct: Struct, with_defaults: bool) -> list[Any]:
    """The struct's field values in field order; unset fields give their schema's default
    when ``with_defaults`` (Kafka's ``replace.null.with.default``)."""
    raw = struct._values
    if not with_defaults:
        return list(raw)
    if None not in raw:
        return list(raw)
    fields = struct.schema.fields
    return [struct.get(fields[i]) if v is None else v for i, v in enumerate(raw)]


def struct_field_value(struct: Struct, name: str, with_default: bool) -> Any:
    return struct.get(name) if with_default else struct.get_without_default(name)


class SchemaCache:
    """Derived schemas (or plans) per input schema: a small bounded map, as Kafka's LRU
    cache of 16 entries. Safe to share between threads (dict operations are atomic)."""

    __slots__ = ("_by_identity", "_capacity", "_entries", "_lock")

    def __init__(self, capacity: int = 16):
        self._entries: dict[Schema, Any] = {}
        # Records of one stream share their schema object: looking it up by identity first
        # avoids Schema.__hash__ (Python code) on every record. The schema is kept in the
        # value, so an id is never mistaken for another object's.
        self._by_identity: dict[int, tuple[Schema, Any]] = {}
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, schema: Schema) -> Any:
        return self._entries.get(schema)

    def put(self, schema: Schema, derived: Any) -> None:
        with self._lock:
            if len(self._entries) >= self._capacity and schema not in self._entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[schema] = derived

    def get_or_compute(self, schema: Schema, compute: Callable[[Schema], Any]) -> Any:
        known = self._by_identity.get(id(schema))
        if known is not None and known[0] is schema:
            return known[1]
        derived = self._entries.get(schema)
        if derived is None:
            derived = compute(schema)
            self.put(schema, derived)
        with self._lock:
            if len(self._by_identity) >= self._capacity * 4:
                self._by_identity.clear()
            self._by_identity[id(schema)] = (schema, derived)
        return derived

    def clear(self) -> None:
        self._entries.clear()
        self._by_identity.clear()


# --------------------------------------------------------------------------------------------
# Key / Value variants
# --------------------------------------------------------------------------------------------
_UNSET: Any = object()


class _KeySide:
    """The record part a ``$Key`` transform works on."""

    @staticmethod
    def operating_schema(record: ConnectRecord) -> Schema | None:
        return record.key_schema

    @staticmethod
    def operating_value(record: ConnectRecord) -> Any:
        return record.key

    @staticmethod
    def new_record(
        record: ConnectRecord, schema: Schema | None, value: Any, headers: Any = _UNSET
    ) -> ConnectRecord:
        if headers is _UNSET:
            return record.new_record(key_schema=schema, key=value)
        return record.new_record(key_schema=schema, key=value, headers=headers)


class _ValueSide:
    """The record part a ``$Value`` transform works on."""

    @staticmethod
    def operating_schema(record: ConnectRecord) -> Schema | None:
        return record.value_schema

    @staticmethod
    def operating_value(record: ConnectRecord) -> Any:
        return record.value

    @staticmethod
    def new_record(
        record: ConnectRecord, schema: Schema | None, value: Any, headers: Any = _UNSET
    ) -> ConnectRecord:
        if headers is _UNSET:
            return record._with_value(schema, value)
        return record.new_record(value_schema=schema, value=value, headers=headers)


class KeyOrValueTransformation:
    """Base of the transforms that come as ``X.Key`` and ``X.Value``: the variants supply
    ``operating_schema``, ``operating_value`` and ``new_record``."""

    Key: type
    Value: type

    def operating_schema(self, record: ConnectRecord) -> Schema | None:
        raise NotImplementedError("use the Key or Value variant")

    def operating_value(self, record: ConnectRecord) -> Any:
        raise NotImplementedError("use the Key or Value variant")

    def new_record(
        self, record: ConnectRecord, schema: Schema | None, value: Any, headers: Any = _UNSET
    ) -> ConnectRecord:
        raise NotImplementedError("use the Key or Value variant")


def add_key_value_variants(base: type, java_simple_name: str) -> None:
    """Attach ``base.Key`` and ``base.Value``, named after Kafka's ``X$Key``/``X$Value``."""
    for side, mixin in (("Key", _KeySide), ("Value", _ValueSide)):
        variant = type(
            side,
            (mixin, base),
            {
                "__module__": base.__module__,
                "__qualname__": f"{base.__name__}.{side}",
                "__doc__": f"{base.__name__} applied to the record {side.lower()}.",
                "java_class_names": (f"{TRANSFORMS_PACKAGE}.{java_simple_name}${side}",),
            },
        )
        setattr(base, side, variant)


# --------------------------------------------------------------------------------------------
# Config validators Kafka's transforms use beyond the stock ones
# --------------------------------------------------------------------------------------------
class NonEmptyListValidator(Validator):
    """Kafka's transforms.util.NonEmptyListValidator."""

    def ensure_valid(self, name: str, value: Any) -> None:
        if not value:
            raise config_error(name, value, "Empty list")

    def __str__(self) -> str:
        return "non-empty list"


class RegexValidator(Validator):
    """Kafka's transforms.util.RegexValidator (Java patterns, translated to Python)."""

    def ensure_valid(self, name: str, value: Any) -> None:
        try:
            compile_java_regex(value)
        except (re.error, TypeError) as e:
            raise config_error(name, value, f"Invalid regex: {e}") from None

    def __str__(self) -> str:
        return "valid regex"


# --------------------------------------------------------------------------------------------
# Java regular expressions
# --------------------------------------------------------------------------------------------
_JAVA_NAMED_GROUP = re.compile(r"(?<!\\)\(\?<([A-Za-z][A-Za-z0-9]*)>")
_JAVA_NAMED_BACKREF = re.compile(r"\\k<([A-Za-z][A-Za-z0-9]*)>")


def compile_java_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Java regex. The two syntaxes agree on nearly everything topic patterns use;
    Java's named groups ``(?<name>…)`` and ``\\k<name>`` are rewritten to Python's."""
    if not isinstance(pattern, str):
        raise TypeError("pattern must be a string")
    pattern = _JAVA_NAMED_GROUP.sub(r"(?P<\1>", pattern)
    pattern = _JAVA_NAMED_BACKREF.sub(r"(?P=\1)", pattern)
    return re.compile(pattern)


def java_replacement(replacement: str) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` callable applying a ``java.util.regex.Matcher`` replacement string:
    ``$n`` and ``${name}`` insert groups, a backslash quotes the next character. Raises
    ValueError for a malformed replacement (as Java does when it is first used)."""
    parts: list[tuple[str, str]] = []  # ("text" | "number" | "name", payload)
    literal: list[str] = []
    i, n = 0, len(replacement)
    while i < n:
        ch = replacement[i]
        if ch == "\\":
            i += 1
            if i >= n:
                raise ValueError("character to be escaped is missing")
            literal.append(replacement[i])
            i += 1
            continue
        if ch != "$":
            literal.append(ch)
            i += 1
            continue
        i += 1
        if i >= n:
            raise ValueError("Illegal group reference: group index is missing")
        if literal:
            parts.append(("text", "".join(literal)))
            literal = []
        if replacement[i] == "{":
            end = replacement.find("}", i)
            if end < 0:
                raise ValueError("named capturing group is missing trailing '}'")
            parts.append(("name", replacement[i + 1 : end]))
            i = end + 1
        else:
            start = i
            while i < n and replacement[i].isdigit():
                i += 1
            if start == i:
                raise ValueError("Illegal group reference")
            parts.append(("number", replacement[start:i]))
    if literal:
        parts.append(("text", "".join(literal)))
    return _JavaReplacement(tuple(parts))


class _JavaReplacement:
    __slots__ = ("_parts",)

    def __init__(self, parts: tuple[tuple[str, str], ...]):
        self._parts = parts

    def __call__(self, match: re.Match[str]) -> str:
        out: list[str] = []
        for kind, payload in self._parts:
            if kind == "text":
                out.append(payload)
            elif kind == "name":
                try:
                    out.append(match.group(payload) or "")
                except IndexError:
                    raise IndexError(f"No group with name {{{payload}}}") from None
            else:
                out.append(_numbered_group(match, payload))
        return "".join(out)


def _numbered_group(match: re.Match[str], digits: str) -> str:
    # Java reads as many digits as still name an existing group; the rest are literal text.
    groups = match.re.groups
    number = int(digits[0])
    used = 1
    while used < len(digits) and number * 10 + int(digits[used]) <= groups:
        number = number * 10 + int(digits[used])
        used += 1
    if number > groups:
        raise IndexError(f"No group {number}")
    return (match.group(number) or "") + digits[used:]


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------
_INT_BITS = {Type.INT8: 8, Type.INT16: 16, Type.INT32: 32, Type.INT64: 64}


def wrap_int(value: int, type_: Type) -> int:
    """Java's narrowing conversion of an integer to ``type_``'s width (two's complement)."""
    bits = _INT_BITS[type_]
    mask = (1 << bits) - 1
    value &= mask
    return value - (1 << bits) if value >> (bits - 1) else value
