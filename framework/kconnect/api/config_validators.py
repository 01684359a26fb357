"""Validators and recommenders for :class:`~kconnect.api.config.ConfigDef` keys.

They behave like Apache Kafka's ``ConfigDef.Validator`` family and raise the same messages
(``Invalid value 0 for configuration tasks.max: Value must be at least 1``). A validator that can
say what it accepts as JSON Schema keywords (:meth:`Validator.json_schema`) is compiled into the
ConfigDef's schema, and jsonschema checks it; any other validator runs as plain Python.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kconnect.api.errors import ConfigException


def render_value(value: Any) -> str:
    """A value as Kafka prints it in an error message (``null``, ``true``, ``[a, b]``)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return (
            "{" + ", ".join(f"{render_value(k)}={render_value(v)}" for k, v in value.items()) + "}"
        )
    return str(value)


def invalid_value(name: str, value: Any, reason: str | None = None) -> ConfigException:
    """``Invalid value <value> for configuration <name>: <reason>``, as a ConfigException."""
    message = f"Invalid value {render_value(value)} for configuration {name}"
    if reason is not None:
        message += f": {reason}"
    return ConfigException(message, name=name, value=value)


def _expand(values: tuple[Any, ...]) -> list[str]:
    # in_("a", "b") and in_(["a", "b"]) both read naturally in Python.
    if len(values) == 1 and isinstance(values[0], (list, tuple, set, frozenset)):
        return list(values[0])
    return list(values)


class Validator:
    """Checks one configuration value; raises :class:`ConfigException` when it is invalid.

    ``ensure_valid`` receives the parsed value (``None`` when there is no value). ``str()`` is
    shown as "Valid Values" in the docs.
    """

    def ensure_valid(self, name: str, value: Any) -> None:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any] | None:
        """JSON Schema keywords accepting exactly the non-null values this validator accepts,
        or None when only :meth:`ensure_valid` can tell."""
        return None

    def reason(self, keyword: str, instance: Any) -> str:
        """Kafka's reason for ``instance`` failing the JSON Schema ``keyword`` of :meth:`json_schema`."""
        raise NotImplementedError

    def __str__(self) -> str:
        return ""


class Recommender:
    """Suggests valid values for a key, and whether it is visible, from the other parsed values.

    Used by :meth:`ConfigDef.validate`; keys listed as ``dependents`` of a key are typically
    recommended on the basis of that key's value.
    """

    def valid_values(self, name: str, parsed_config: Mapping[str, Any]) -> list[Any]:
        return []

    def visible(self, name: str, parsed_config: Mapping[str, Any]) -> bool:
        return True


class Range(Validator):
    """A number within inclusive bounds: ``Range.at_least(1)``, ``Range.between(0, 100)``."""

    def __init__(self, min: float | None = None, max: float | None = None):
        self.min = min
        self.max = max

    @classmethod
    def at_least(cls, min: float) -> Range:
        return cls(min, None)

    @classmethod
    def between(cls, min: float, max: float) -> Range:
        return cls(min, max)

    def ensure_valid(self, name: str, value: Any) -> None:
        if value is None:
            raise invalid_value(name, None, "Value must be non-null")
        if self.min is not None and value < self.min:
            raise invalid_value(name, value, f"Value must be at least {self.min}")
        if self.max is not None and value > self.max:
            raise invalid_value(name, value, f"Value must be no more than {self.max}")

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {}
        if self.min is not None:
            schema["minimum"] = self.min
        if self.max is not None:
            schema["maximum"] = self.max
        return schema

    def reason(self, keyword: str, instance: Any) -> str:
        if keyword == "minimum":
            return f"Value must be at least {self.min}"
        return f"Value must be no more than {self.max}"

    def __str__(self) -> str:
        if self.min is None and self.max is None:
            return "[...]"
        if self.min is None:
            return f"[...,{self.max}]"
        if self.max is None:
            return f"[{self.min},...]"
        return f"[{self.min},...,{self.max}]"


class ValidString(Validator):
    """One of a fixed set of strings (case-sensitive)."""

    def __init__(self, valid_strings: Iterable[str]):
        self.valid_strings = list(valid_strings)

    @classmethod
    def in_(cls, *valid_strings: str) -> ValidString:
        return cls(_expand(valid_strings))

    def _reason(self) -> str:
        return "String must be one of: " + ", ".join(self.valid_strings)

    def ensure_valid(self, name: str, value: Any) -> None:
        if value not in self.valid_strings:
            raise invalid_value(name, value, self._reason())

    def json_schema(self) -> dict[str, Any]:
        return {"enum": list(self.valid_strings)}

    def reason(self, keyword: str, instance: Any) -> str:
        return self._reason()

    def __str__(self) -> str:
        return "[" + ", ".join(self.valid_strings) + "]"


@functools.cache
def _case_variants() -> dict[str, str]:
    # Every BMP character grouped under its upper-case form, so a pattern can accept exactly
    # the strings whose upper() is a valid value (e.g. dotless i for I), as Java's
    # toUpperCase does.
    variants: dict[str, str] = {}
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        upper = char.upper()
        if len(upper) == 1 and upper != char:
            variants[upper] = variants.get(upper, upper) + char
    return variants


def _case_insensitive_pattern(valid: Iterable[str]) -> str:
    variants = _case_variants()
    alternatives = []
    for value in valid:
        parts = []
        for char in value:
            chars = variants.get(char, char)
            if len(chars) == 1:
                parts.append(re.escape(char))
            else:
                parts.append("[" + "".join(re.escape(c) for c in chars) + "]")
        alternatives.append("".join(parts))
    return "^(?:" + "|".join(alternatives) + ")$"


class CaseInsensitiveValidString(Validator):
    """One of a fixed set of strings, compared ignoring case."""

    def __init__(self, valid_strings: Iterable[str]):
        self.valid_strings = list(dict.fromkeys(s.upper() for s in valid_strings))

    @classmethod
    def in_(cls, *valid_strings: str) -> CaseInsensitiveValidString:
        return cls(_expand(valid_strings))

    def _reason(self) -> str:
        return "String must be one of (case insensitive): " + ", ".join(self.valid_strings)

    def ensure_valid(self, name: str, value: Any) -> None:
        if not isinstance(value, str) or value.upper() not in self.valid_strings:
            raise invalid_value(name, value, self._reason())

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": _case_insensitive_pattern(self.valid_strings)}

    def reason(self, keyword: str, instance: Any) -> str:
        return self._reason()

    def __str__(self) -> str:
        return "(case insensitive) [" + ", ".join(self.valid_strings) + "]"


class ValidList(Validator):
    """A LIST whose every item is one of a fixed set of strings."""

    def __init__(self, valid_strings: Iterable[str]):
        self.valid_string = ValidString(valid_strings)

    @classmethod
    def in_(cls, *valid_strings: str) -> ValidList:
        return cls(_expand(valid_strings))

    def ensure_valid(self, name: str, value: Any) -> None:
        for item in value or ():
            self.valid_string.ensure_valid(name, item)

    def json_schema(self) -> dict[str, Any]:
        return {"items": self.valid_string.json_schema()}

    def reason(self, keyword: str, instance: Any) -> str:
        return self.valid_string.reason(keyword, instance)

    def __str__(self) -> str:
        return str(self.valid_string)


class ListSize(Validator):
    """A LIST of at most ``max_size`` items."""

    def __init__(self, max_size: int):
        self.max_size = max_size

    @classmethod
    def at_most_of_size(cls, max_size: int) -> ListSize:
        return cls(max_size)

    def _reason(self) -> str:
        return f"exceeds maximum list size of [{self.max_size}]."

    def ensure_valid(self, name: str, value: Any) -> None:
        if value is not None and len(value) > self.max_size:
            raise invalid_value(name, value, self._reason())

    def json_schema(self) -> dict[str, Any]:
        return {"maxItems": self.max_size}

    def reason(self, keyword: str, instance: Any) -> str:
        return self._reason()

    def __str__(self) -> str:
        return f"List containing maximum of {self.max_size} elements"


class NonEmptyString(Validator):
    """A string that is not empty (values are trimmed first, so blanks are empty). Null passes."""

    def ensure_valid(self, name: str, value: Any) -> None:
        if value is not None and value == "":
            raise invalid_value(name, value, "String must be non-empty")

    def json_schema(self) -> dict[str, Any]:
        return {"minLength": 1}

    def reason(self, keyword: str, instance: Any) -> str:
        return "String must be non-empty"

    def __str__(self) -> str:
        return "non-empty string"


class NonNullValidator(Validator):
    """Any value but null."""

    def ensure_valid(self, name: str, value: Any) -> None:
        if value is None:
            raise invalid_value(name, "null", "entry must be non null")

    def json_schema(self) -> dict[str, Any]:
        # Null values never reach jsonschema (ensure_valid handles them), so this only documents.
        return {"not": {"type": "null"}}

    def reason(self, keyword: str, instance: Any) -> str:
        return "entry must be non null"

    def __str__(self) -> str:
        return "non-null string"


def _is_iso_control(char: str) -> bool:
    code = ord(char)
    return code <= 0x1F or 0x7F <= code <= 0x9F


class NonEmptyStringWithoutControlChars(Validator):
    """A non-empty string without ISO control characters (names of connectors, for instance)."""

    def ensure_valid(self, name: str, value: Any) -> None:
        if value is None:
            return
        if value == "":
            raise invalid_value(name, value, "String may not be empty")
        if any(_is_iso_control(c) for c in value):
            raise invalid_value(name, value, self._control_reason(value))

    @staticmethod
    def _control_reason(value: str) -> str:
        codes = ", ".join(str(ord(c)) for c in value if _is_iso_control(c))
        return (
            f"String may not contain control sequences but had the following ASCII chars: {codes}"
        )

    def json_schema(self) -> dict[str, Any]:
        return {"minLength": 1, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"}

    def reason(self, keyword: str, instance: Any) -> str:
        if keyword == "minLength":
            return "String may not be empty"
        return self._control_reason(instance)

    def __str__(self) -> str:
        return "non-empty string without ISO control characters"


class CompositeValidator(Validator):
    """Several validators in turn; the first that fails gives the error."""

    def __init__(self, validators: Iterable[Validator]):
        self.validators = tuple(validators)

    @classmethod
    def of(cls, *validators: Validator) -> CompositeValidator:
        return cls(validators)

    def ensure_valid(self, name: str, value: Any) -> None:
        for validator in self.validators:
            validator.ensure_valid(name, value)

    def __str__(self) -> str:
        return ", ".join(str(v) for v in self.validators)


class LambdaValidator(Validator):
    """A validator from a function ``fn(name, value)`` that raises ConfigException, and its doc."""

    def __init__(self, fn: Callable[[str, Any], None], doc: str | Callable[[], str] = ""):
        self.fn = fn
        self.doc = doc

    @classmethod
    def with_(
        cls, fn: Callable[[str, Any], None], doc: str | Callable[[], str] = ""
    ) -> LambdaValidator:
        return cls(fn, doc)

    def ensure_valid(self, name: str, value: Any) -> None:
        self.fn(name, value)

    def __str__(self) -> str:
        return self.doc() if callable(self.doc) else self.doc


class EmbeddedValidator(Validator):
    """Validates a key embedded under a prefix as the child definition would, unprefixed."""

    def __init__(self, key_prefix: str, base: Validator):
        self.key_prefix = key_prefix
        self.base = base

    def ensure_valid(self, name: str, value: Any) -> None:
        self.base.ensure_valid(name[len(self.key_prefix) :], value)

    def __str__(self) -> str:
        return str(self.base)


class EmbeddedRecommender(Recommender):
    """Recommends for a key embedded under a prefix, showing the base only the unprefixed keys."""

    def __init__(self, key_prefix: str, base: Recommender):
        self.key_prefix = key_prefix
        self.base = base

    def _unprefixed(self, parsed_config: Mapping[str, Any]) -> dict[str, Any]:
        n = len(self.key_prefix)
        return {k[n:]: v for k, v in parsed_config.items() if k.startswith(self.key_prefix)}

    def valid_values(self, name: str, parsed_config: Mapping[str, Any]) -> list[Any]:
        return self.base.valid_values(name[len(self.key_prefix) :], self._unprefixed(parsed_config))

    def visible(self, name: str, parsed_config: Mapping[str, Any]) -> bool:
        return self.base.visible(name[len(self.key_prefix) :], self._unprefixed(parsed_config))


def _defining_class(cls: type, attribute: str) -> type | None:
    for klass in cls.__mro__:
        if attribute in vars(klass):
            return klass
    return None


def schema_checked(validator: Validator) -> bool:
    """Whether jsonschema may check ``validator`` in its place: it has JSON Schema keywords and
    no subclass has overridden ``ensure_valid`` below the class that defined them."""
    if validator.json_schema() is None:
        return False
    cls = type(validator)
    schema_cls = _defining_class(cls, "json_schema")
    check_cls = _defining_class(cls, "ensure_valid")
    return schema_cls is not None and check_cls is not None and issubclass(schema_cls, check_cls)


def flatten(validator: Validator | None, strip: int = 0) -> list[tuple[Validator, int]]:
    """The validators applied in order, each with how many leading characters of the key name
    to drop in its messages (embedded keys are reported by their unprefixed name)."""
    if validator is None:
        return []
    if type(validator) is CompositeValidator:
        return [leaf for v in validator.validators for leaf in flatten(v, strip)]
    if type(validator) is EmbeddedValidator:
        return flatten(validator.base, strip + len(validator.key_prefix))
    return [(validator, strip)]
