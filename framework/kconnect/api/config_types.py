"""The value types of a :class:`~kconnect.api.config.ConfigDef` key and how values become them.

``ConfigDef.Type``, ``ConfigDef.Importance`` and ``ConfigDef.Width``, :class:`Password`,
``NO_DEFAULT_VALUE``, and Kafka's ``parseType``: a string (properties file, REST) or an already
typed Python value turned into the key's type, with Kafka's messages
(``Invalid value x for configuration n: Not a number of type INT``). All of it is importable
from :mod:`kconnect.api.config`.
"""

from __future__ import annotations

import builtins
import enum
import re
from numbers import Real
from typing import Any

from kconnect.api.config_validators import invalid_value
from kconnect.api.errors import ConfigException


class _NoDefault:
    __module__ = "kconnect.api.config"  # pickled as kconnect.api.config.NO_DEFAULT_VALUE

    def __repr__(self) -> str:
        return "NO_DEFAULT_VALUE"

    def __reduce__(self) -> str:
        return "NO_DEFAULT_VALUE"


NO_DEFAULT_VALUE: Any = _NoDefault()
"""The default of a required key: one the user must set."""


class Password:
    """A secret configuration value. ``str()`` and ``repr()`` say ``[hidden]``; ``.value`` tells."""

    # Its public home: the class is named (and pickled) as kconnect.api.config.Password.
    __module__ = "kconnect.api.config"

    HIDDEN = "[hidden]"
    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __str__(self) -> str:
        return self.HIDDEN

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Password) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


class _Type(enum.Enum):
    BOOLEAN = enum.auto()
    STRING = enum.auto()
    INT = enum.auto()
    SHORT = enum.auto()
    LONG = enum.auto()
    DOUBLE = enum.auto()
    LIST = enum.auto()
    CLASS = enum.auto()
    PASSWORD = enum.auto()

    def __str__(self) -> str:
        return self.name

    def is_sensitive(self) -> bool:
        """True for PASSWORD: values that must never be logged."""
        return self is _Type.PASSWORD


class _Importance(enum.Enum):
    HIGH = 0
    MEDIUM = 1
    LOW = 2

    def __str__(self) -> str:
        return self.name


class _Width(enum.Enum):
    NONE = 0
    SHORT = 1
    MEDIUM = 2
    LONG = 3

    def __str__(self) -> str:
        return self.name


INT_BOUNDS = {
    _Type.SHORT: (-(2**15), 2**15 - 1),
    _Type.INT: (-(2**31), 2**31 - 1),
    _Type.LONG: (-(2**63), 2**63 - 1),
}
"""The range of each integer type (the JSON Schema's ``minimum`` and ``maximum``)."""

_INT_WORDS = {
    _Type.SHORT: "a 16-bit integer (short)",
    _Type.INT: "a 32-bit integer",
    _Type.LONG: "a 64-bit integer (long)",
}
_INTEGER = re.compile(r"[+-]?\d+")
# Java's Double.parseDouble in decimal: "NaN"/"Infinity" spelled so, no underscores, optional d/f.
_DOUBLE = re.compile(r"[+-]?(?:NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFdD]?)")
_COMMA = re.compile(r"\s*,\s*")
_JAVA_BLANKS = "".join(chr(c) for c in range(33))  # what Java's String.trim() strips


def as_enum(enum_cls: type[enum.Enum], value: Any) -> Any:
    """``value`` as a member of ``enum_cls``: a member already, or its name in any case."""
    return value if isinstance(value, enum_cls) else enum_cls[str(value).upper()]


def _not_a(name: str, value: Any, what: str) -> ConfigException:
    return invalid_value(
        name, value, f"Expected value to be {what}, but it was a {type(value).__name__}"
    )


def coerce(name: str, value: Any, config_type: _Type) -> Any:
    """Kafka's parseType, less the integer range check (the JSON Schema makes that one)."""
    if value is None:
        return None
    trimmed = value.strip(_JAVA_BLANKS) if isinstance(value, str) else None
    if config_type is _Type.BOOLEAN:
        if trimmed is not None and trimmed.lower() in ("true", "false"):
            return trimmed.lower() == "true"
        if isinstance(value, bool):
            return value
        raise invalid_value(name, value, "Expected value to be either true or false")
    if config_type is _Type.STRING:
        if trimmed is None:
            raise _not_a(name, value, "a string")
        return trimmed
    if config_type is _Type.PASSWORD:
        if isinstance(value, Password):
            return value
        if trimmed is None:
            raise _not_a(name, value, "a string")
        return Password(trimmed)
    if config_type in INT_BOUNDS:
        if trimmed is not None:
            if not _INTEGER.fullmatch(trimmed):
                raise invalid_value(name, value, f"Not a number of type {config_type.name}")
            return int(trimmed)
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        raise _not_a(name, value, _INT_WORDS[config_type])
    if config_type is _Type.DOUBLE:
        if trimmed is not None:
            if not _DOUBLE.fullmatch(trimmed):
                raise invalid_value(name, value, "Not a number of type DOUBLE")
            return float(trimmed.rstrip("fFdD"))
        if isinstance(value, Real) and not isinstance(value, bool):
            return float(value)
        raise _not_a(name, value, "a double")
    if config_type is _Type.LIST:
        if isinstance(value, (list, tuple)):
            return list(value)
        if trimmed is not None:
            return _COMMA.split(trimmed) if trimmed else []
        raise invalid_value(name, value, "Expected a comma separated list.")
    if config_type is _Type.CLASS:
        # A plugin is named, never imported here: the runtime resolves names through its plugins.
        if trimmed is not None:
            return trimmed
        if isinstance(value, builtins.type):
            return f"{value.__module__}.{value.__qualname__}"
        raise invalid_value(name, value, "Expected a Class instance or class name.")
    raise ValueError(f"Unknown type {config_type}")


def parse_type(name: str, value: Any, type: Any) -> Any:
    """``value`` (a string or an already typed value) as ``type``; raises ConfigException
    with Kafka's message (``Invalid value x for configuration n: Not a number of type INT``)."""
    config_type = as_enum(_Type, type)
    parsed = coerce(name, value, config_type)
    bounds = INT_BOUNDS.get(config_type)
    if bounds is not None and parsed is not None and not bounds[0] <= parsed <= bounds[1]:
        raise invalid_value(name, value, f"Not a number of type {config_type.name}")
    return parsed


def convert_to_string(value: Any, type: Any = None) -> str | None:
    """A parsed value back as a properties-file string (lists comma-joined, ``true``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(convert_to_string(v)) for v in value)
    if isinstance(value, builtins.type):
        return f"{value.__module__}.{value.__qualname__}"
    return str(value)
