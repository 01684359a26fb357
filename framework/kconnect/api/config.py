"""Configuration definitions: Kafka's ``ConfigDef``, ``ConfigValue``, ``Config`` and ``AbstractConfig``.

A :class:`ConfigDef` declares every key a plugin understands. It compiles to a JSON Schema
(draft 2020-12, :meth:`ConfigDef.to_json_schema`) and jsonschema checks values against it; the
errors are reported per key in Kafka Connect's words, so ``/validate`` answers look the same::

    CONFIG_DEF = (
        ConfigDef()
        .define("file", ConfigDef.Type.STRING, importance=ConfigDef.Importance.HIGH,
                documentation="Source filename.")
        .define("batch.size", ConfigDef.Type.INT, 2000, ConfigDef.Range.at_least(1))
    )
    CONFIG_DEF.parse({"file": "/tmp/in.txt"})   # {'file': '/tmp/in.txt', 'batch.size': 2000}
"""

from __future__ import annotations

import builtins
import copy
import enum
import logging
import re
from collections.abc import Iterable, Mapping
from numbers import Real
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from kconnect.api.config_validators import (
    CaseInsensitiveValidString,
    CompositeValidator,
    EmbeddedRecommender,
    EmbeddedValidator,
    LambdaValidator,
    ListSize,
    NonEmptyString,
    NonEmptyStringWithoutControlChars,
    NonNullValidator,
    Range,
    Recommender,
    Validator,
    ValidList,
    ValidString,
    flatten,
    invalid_value,
    render_value,
    schema_checked,
)
from kconnect.api.errors import ConfigException

log = logging.getLogger(__name__)

__all__ = [
    "NO_DEFAULT_VALUE",
    "AbstractConfig",
    "CaseInsensitiveValidString",
    "CompositeValidator",
    "Config",
    "ConfigDef",
    "ConfigKey",
    "ConfigValue",
    "LambdaValidator",
    "ListSize",
    "NonEmptyString",
    "NonEmptyStringWithoutControlChars",
    "NonNullValidator",
    "Password",
    "Range",
    "Recommender",
    "ValidList",
    "ValidString",
    "Validator",
]


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT_VALUE"

    def __reduce__(self) -> str:
        return "NO_DEFAULT_VALUE"


NO_DEFAULT_VALUE: Any = _NoDefault()
"""The default of a required key: one the user must set."""


class Password:
    """A secret configuration value. ``str()`` and ``repr()`` say ``[hidden]``; ``.value`` tells."""

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


_JSON_TYPES = {
    _Type.BOOLEAN: "boolean",
    _Type.STRING: "string",
    _Type.INT: "integer",
    _Type.SHORT: "integer",
    _Type.LONG: "integer",
    _Type.DOUBLE: "number",
    _Type.LIST: "array",
    _Type.CLASS: "string",
    _Type.PASSWORD: "string",
}
_INT_BOUNDS = {
    _Type.SHORT: (-(2**15), 2**15 - 1),
    _Type.INT: (-(2**31), 2**31 - 1),
    _Type.LONG: (-(2**63), 2**63 - 1),
}
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


def _as_enum(enum_cls: type[enum.Enum], value: Any) -> Any:
    return value if isinstance(value, enum_cls) else enum_cls[str(value).upper()]


def _not_a(name: str, value: Any, what: str) -> ConfigException:
    return invalid_value(
        name, value, f"Expected value to be {what}, but it was a {type(value).__name__}"
    )


def _coerce(name: str, value: Any, config_type: _Type) -> Any:
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
    if config_type in _INT_BOUNDS:
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


class ConfigKey:
    """One key of a :class:`ConfigDef`. ``default_value`` is already parsed to the key's type."""

    __slots__ = (
        "alternative_string",
        "default_value",
        "dependents",
        "display_name",
        "documentation",
        "group",
        "importance",
        "internal",
        "name",
        "order_in_group",
        "recommender",
        "type",
        "validator",
        "width",
    )

    def __init__(
        self,
        name: str,
        type: Any,
        default_value: Any = NO_DEFAULT_VALUE,
        validator: Validator | None = None,
        importance: Any = _Importance.MEDIUM,
        documentation: str | None = "",
        group: str | None = None,
        order_in_group: int = -1,
        width: Any = _Width.NONE,
        display_name: str | None = None,
        dependents: Iterable[str] = (),
        recommender: Recommender | None = None,
        internal: bool = False,
        alternative_string: str | None = None,
    ):
        self.name = name
        self.type: _Type = _as_enum(_Type, type)
        has_default = default_value is not NO_DEFAULT_VALUE
        self.default_value = (
            ConfigDef.parse_type(name, default_value, self.type)
            if has_default
            else NO_DEFAULT_VALUE
        )
        self.validator = validator
        if validator is not None and has_default:
            validator.ensure_valid(name, self.default_value)
        self.importance: _Importance = _as_enum(_Importance, importance)
        self.documentation = documentation
        self.group = group
        self.order_in_group = order_in_group
        self.width: _Width = _as_enum(_Width, width)
        self.display_name = display_name if display_name is not None else name
        self.dependents: list[str] = list(dependents or ())
        self.recommender = recommender
        self.internal = internal
        self.alternative_string = alternative_string

    def has_default(self) -> bool:
        return self.default_value is not NO_DEFAULT_VALUE

    def __repr__(self) -> str:
        return f"ConfigKey({self.name!r}, {self.type}, default={self.default_value!r})"


class ConfigValue:
    """The outcome of validating one key: its parsed value, errors, recommendations, visibility."""

    __slots__ = ("error_messages", "name", "recommended_values", "value", "visible")

    def __init__(
        self,
        name: str,
        value: Any = None,
        recommended_values: list[Any] | None = None,
        error_messages: list[str] | None = None,
        visible: bool = True,
    ):
        self.name = name
        self.value = value
        self.recommended_values: list[Any] = list(recommended_values or [])
        self.error_messages: list[str] = list(error_messages or [])
        self.visible = visible

    def add_error_message(self, message: str) -> None:
        self.error_messages.append(message)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfigValue):
            return NotImplemented
        return (
            self.name,
            self.value,
            self.recommended_values,
            self.error_messages,
            self.visible,
        ) == (
            other.name,
            other.value,
            other.recommended_values,
            other.error_messages,
            other.visible,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        parts = (self.name, self.value, self.recommended_values, self.error_messages, self.visible)
        return "[" + ",".join(render_value(p) for p in parts) + "]"


class Config:
    """What :meth:`Connector.validate` returns: one :class:`ConfigValue` per key."""

    def __init__(self, config_values: Iterable[ConfigValue]):
        self.config_values: list[ConfigValue] = list(config_values)

    def __repr__(self) -> str:
        return f"Config({self.config_values!r})"


class _Compiled:
    """A ConfigDef compiled once: its JSON Schema, the jsonschema validator and, per key, the
    validators in order with their place in the key's ``allOf`` (None: checked in Python)."""

    __slots__ = ("checker", "keys", "leaves", "schema")

    def __init__(self, keys: tuple[ConfigKey, ...]):
        self.keys = keys
        self.leaves: dict[str, list[tuple[Validator, int, int | None]]] = {}
        properties: dict[str, Any] = {}
        required = []
        for key in keys:
            leaves: list[tuple[Validator, int, int | None]] = []
            all_of: list[dict[str, Any]] = []
            for validator, strip in flatten(key.validator):
                if schema_checked(validator):
                    leaves.append((validator, strip, len(all_of)))
                    all_of.append(validator.json_schema() or {})
                else:
                    leaves.append((validator, strip, None))
            self.leaves[key.name] = leaves
            properties[key.name] = _property_schema(key, all_of)
            if not key.has_default():
                required.append(key.name)
        self.schema: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": properties,
            "required": required,
        }
        self.checker = Draft202012Validator(self.schema)


def _json_default(key: ConfigKey) -> Any:
    value = key.default_value
    if isinstance(value, Password):
        return Password.HIDDEN
    return list(value) if isinstance(value, (list, tuple)) else value


def _property_schema(key: ConfigKey, all_of: list[dict[str, Any]]) -> dict[str, Any]:
    json_type: Any = _JSON_TYPES[key.type]
    if key.has_default() and key.default_value is None:
        json_type = [json_type, "null"]
    prop: dict[str, Any] = {"type": json_type}
    if key.type in _INT_BOUNDS:
        prop["minimum"], prop["maximum"] = _INT_BOUNDS[key.type]
    if all_of:
        prop["allOf"] = all_of
    if key.has_default():
        prop["default"] = _json_default(key)
    prop["title"] = key.display_name
    if key.documentation:
        prop["description"] = key.documentation
    if key.type is _Type.PASSWORD:
        prop["writeOnly"] = True
    prop["x-kconnect"] = {
        "type": key.type.name,
        "importance": key.importance.name,
        "group": key.group,
        "order_in_group": key.order_in_group,
        "width": key.width.name,
        "display_name": key.display_name,
        "dependents": list(key.dependents),
        "valid_values": str(key.validator) if key.validator is not None else "",
        "internal": key.internal,
    }
    return prop


# ConfigDef re-exports these as attributes, which hides the names inside its body.
_Key = ConfigKey
_Validator = Validator
_Recommender = Recommender


def _missing(name: str) -> ConfigException:
    return ConfigException(
        f'Missing required configuration "{name}" which has no default value.', name=name
    )


class ConfigDef:
    """The keys a plugin understands: type, default, validator, docs, group, recommender.

    ``define`` chains. Values are parsed from strings (properties files, REST) or taken as
    typed Python values. See the module docstring for an example.
    """

    Type = _Type
    Importance = _Importance
    Width = _Width
    NO_DEFAULT_VALUE = NO_DEFAULT_VALUE
    ConfigKey = ConfigKey
    Validator = Validator
    Recommender = Recommender
    Range = Range
    ValidString = ValidString
    CaseInsensitiveValidString = CaseInsensitiveValidString
    ValidList = ValidList
    ListSize = ListSize
    NonEmptyString = NonEmptyString
    NonNullValidator = NonNullValidator
    NonEmptyStringWithoutControlChars = NonEmptyStringWithoutControlChars
    CompositeValidator = CompositeValidator
    LambdaValidator = LambdaValidator

    def __init__(self, base: ConfigDef | None = None):
        self._keys: dict[str, _Key] = dict(base._keys) if base is not None else {}
        self._groups: list[str] = list(base._groups) if base is not None else []
        self._compiled: _Compiled | None = None

    # -- definition --------------------------------------------------------------------------

    def define(
        self,
        name: str,
        type: Any,
        default: Any = NO_DEFAULT_VALUE,
        validator: _Validator | None = None,
        importance: Any = _Importance.MEDIUM,
        documentation: str | None = "",
        group: str | None = None,
        order_in_group: int = -1,
        width: Any = _Width.NONE,
        display_name: str | None = None,
        dependents: Iterable[str] = (),
        recommender: _Recommender | None = None,
        internal: bool = False,
        alternative_string: str | None = None,
    ) -> ConfigDef:
        """Add a key; ``type``, ``importance`` and ``width`` may also be given by name ("INT").

        Raises ConfigException if the key exists, or if the default is not valid.
        """
        if name in self._keys:
            raise ConfigException(f"Configuration {name} is defined twice.", name=name)
        key = ConfigKey(
            name,
            type,
            default,
            validator,
            importance,
            documentation,
            group,
            order_in_group,
            width,
            display_name,
            dependents,
            recommender,
            internal,
            alternative_string,
        )
        return self.define_key(key)

    def define_key(self, key: _Key) -> ConfigDef:
        """Add an already built :class:`ConfigKey`."""
        if key.name in self._keys:
            raise ConfigException(f"Configuration {key.name} is defined twice.", name=key.name)
        if key.group is not None and key.group not in self._groups:
            self._groups.append(key.group)
        self._keys[key.name] = key
        return self

    def define_internal(
        self,
        name: str,
        type: Any,
        default: Any = NO_DEFAULT_VALUE,
        validator: _Validator | None = None,
        importance: Any = _Importance.LOW,
        documentation: str | None = "",
    ) -> ConfigDef:
        """A key that the docs leave out: not meant for general use."""
        return self.define_key(
            ConfigKey(name, type, default, validator, importance, documentation, "", internal=True)
        )

    def embed(
        self, key_prefix: str, group_prefix: str, start_order: int, child: ConfigDef
    ) -> ConfigDef:
        """Add every key of ``child`` under ``key_prefix`` (``transforms.<alias>.``), grouped
        under ``group_prefix``; the child's validators and recommenders still see their own names."""
        order = start_order
        for key in child._sorted_configs():
            self.define_key(
                ConfigKey(
                    key_prefix + key.name,
                    key.type,
                    key.default_value,
                    EmbeddedValidator(key_prefix, key.validator) if key.validator else None,
                    key.importance,
                    key.documentation,
                    group_prefix + ("" if key.group is None else ": " + key.group),
                    order,
                    key.width,
                    key.display_name,
                    [key_prefix + d for d in key.dependents],
                    EmbeddedRecommender(key_prefix, key.recommender) if key.recommender else None,
                    key.internal,
                    key.alternative_string,
                )
            )
            order += 1
        return self

    @property
    def config_keys(self) -> dict[str, _Key]:
        """Every key, in definition order."""
        return self._keys

    @property
    def groups(self) -> list[str]:
        """The groups, in the order their first key was defined."""
        return self._groups

    def names(self) -> set[str]:
        return set(self._keys)

    def default_values(self) -> dict[str, Any]:
        return {k.name: k.default_value for k in self._keys.values() if k.has_default()}

    def to_json_schema(self) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) that :meth:`parse` and :meth:`validate` check with.

        Each property carries the key's type, bounds, validators (``allOf``), default, docs and
        an ``x-kconnect`` object with importance, group, order, width and dependents.
        """
        return copy.deepcopy(self._compile().schema)

    # -- parsing and validation --------------------------------------------------------------

    def parse(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Every defined key's typed value (the default when unset); keys not defined are ignored.

        Raises the ConfigException of the first invalid key, in definition order.
        """
        undefined = self._undefined_dependents()
        if undefined:
            raise ConfigException(
                "Some configurations in are referred in the dependents, but not defined: "
                + ",".join(undefined)
            )
        parsed, errors = self._evaluate(props)
        for problems in errors.values():
            if problems:
                raise problems[0]
        return parsed

    def parse_value(self, key: _Key, value: Any, is_set: bool) -> Any:
        """One key's typed, validated value (``is_set``: whether the user gave one)."""
        if is_set:
            parsed = ConfigDef.parse_type(key.name, value, key.type)
        elif not key.has_default():
            raise _missing(key.name)
        else:
            parsed = key.default_value
        if key.validator is not None:
            key.validator.ensure_valid(key.name, parsed)
        return parsed

    def validate(self, props: Mapping[str, Any]) -> list[ConfigValue]:
        """A :class:`ConfigValue` per key (definition order); bad values become error messages."""
        return list(self.validate_all(props).values())

    def validate_all(self, props: Mapping[str, Any]) -> dict[str, ConfigValue]:
        """As :meth:`validate`, by key name. Recommenders fill recommended values and visibility."""
        parsed, errors = self._evaluate(props)
        values: dict[str, ConfigValue] = {}
        for name, value in parsed.items():
            values[name] = ConfigValue(name, value, error_messages=[str(e) for e in errors[name]])
        for undefined in self._undefined_dependents():
            message = f"{undefined} is referred in the dependents, but not defined."
            values[undefined] = ConfigValue(undefined, error_messages=[message], visible=False)
        for name in self._roots():
            self._recommend(name, parsed, values, ())
        return values

    def _recommend(
        self,
        name: str,
        parsed: dict[str, Any],
        values: dict[str, ConfigValue],
        path: tuple[str, ...],
    ) -> None:
        key = self._keys.get(name)
        if key is None or name in path:
            return
        value = values[name]
        if key.recommender is not None:
            try:
                recommended = list(key.recommender.valid_values(name, parsed))
                if value.recommended_values:
                    # Reached through a second parent: keep what both recommendations allow.
                    earlier = value.recommended_values
                    recommended = [v for v in recommended if v in earlier]
                value.recommended_values = recommended
                value.visible = bool(key.recommender.visible(name, parsed))
            except ConfigException as e:
                value.add_error_message(str(e))
        for dependent in key.dependents:
            self._recommend(dependent, parsed, values, (*path, name))

    def _roots(self) -> list[str]:
        children = {d for key in self._keys.values() for d in key.dependents}
        return [name for name in self._keys if name not in children]

    def _undefined_dependents(self) -> list[str]:
        undefined = (d for key in self._keys.values() for d in key.dependents)
        return list(dict.fromkeys(d for d in undefined if d not in self._keys))

    def _compile(self) -> _Compiled:
        keys = tuple(self._keys.values())
        compiled = self._compiled
        if compiled is None or compiled.keys != keys:
            compiled = self._compiled = _Compiled(keys)
        return compiled

    def _evaluate(
        self, props: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[ConfigException]]]:
        """Parse and check every key: the typed values (None where unparseable or missing) and,
        per key, its errors in the order Kafka reports them."""
        compiled = self._compile()
        parsed: dict[str, Any] = {}
        errors: dict[str, list[ConfigException]] = {}
        instance: dict[str, Any] = {}
        for key in compiled.keys:
            name = key.name
            problems = errors[name] = []
            if name in props:
                try:
                    value = _coerce(name, props[name], key.type)
                except ConfigException as e:
                    problems.append(e)
                    value = None
            else:
                value = key.default_value if key.has_default() else None
                if isinstance(value, list):
                    value = list(value)  # callers may change their copy, never the default
            parsed[name] = value
            if value is not None:
                instance[name] = value.value if isinstance(value, Password) else value

        failed_checks: dict[tuple[str, int], Any] = {}
        for error in compiled.checker.iter_errors(instance):
            if error.validator == "required":
                for name in error.validator_value:
                    if name not in props and not errors[name]:
                        errors[name].append(_missing(name))
                continue
            schema_path = error.absolute_schema_path
            name = schema_path[1]
            if len(schema_path) > 3 and schema_path[2] == "allOf":
                failed_checks.setdefault((name, schema_path[3]), error)
            elif parsed[name] is not None:
                # The type's own constraint: an integer too wide for INT/SHORT/LONG is what
                # Java's parser rejects as "Not a number".
                key = self._keys[name]
                reason = f"Not a number of type {key.type.name}"
                if error.validator == "type":
                    reason = f"Expected value of type {key.type.name}"
                errors[name].append(invalid_value(name, props.get(name, parsed[name]), reason))
                parsed[name] = None

        for key in compiled.keys:
            name = key.name
            value = parsed[name]
            for validator, strip, check in compiled.leaves[name]:
                label = name[strip:]
                if check is None or value is None:
                    try:
                        validator.ensure_valid(label, value)
                    except ConfigException as e:
                        errors[name].append(e)
                        break
                    continue
                error = failed_checks.get((name, check))
                if error is not None:
                    # The key's own value is shown as parsed (a Password stays hidden); a list
                    # item that failed is shown by itself.
                    shown = value if len(error.absolute_path) == 1 else error.instance
                    reason = validator.reason(error.validator, error.instance)
                    errors[name].append(invalid_value(label, shown, reason))
                    break
        return parsed, errors

    @staticmethod
    def parse_type(name: str, value: Any, type: Any) -> Any:
        """``value`` (a string or an already typed value) as ``type``; raises ConfigException
        with Kafka's message (``Invalid value x for configuration n: Not a number of type INT``)."""
        config_type = _as_enum(_Type, type)
        parsed = _coerce(name, value, config_type)
        bounds = _INT_BOUNDS.get(config_type)
        if bounds is not None and parsed is not None and not bounds[0] <= parsed <= bounds[1]:
            raise invalid_value(name, value, f"Not a number of type {config_type.name}")
        return parsed

    @staticmethod
    def convert_to_string(value: Any, type: Any = None) -> str | None:
        """A parsed value back as a properties-file string (lists comma-joined, ``true``)."""
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (list, tuple)):
            return ",".join(str(ConfigDef.convert_to_string(v)) for v in value)
        if isinstance(value, builtins.type):
            return f"{value.__module__}.{value.__qualname__}"
        return str(value)

    @staticmethod
    def convert_to_string_map_with_password_values(configs: Mapping[str, Any]) -> dict[str, str]:
        """Every value as a string, passwords revealed: never log the result."""
        result = {}
        for name, value in configs.items():
            text = (
                value.value if isinstance(value, Password) else ConfigDef.convert_to_string(value)
            )
            if text is not None:
                result[name] = text
        return result

    # -- documentation -----------------------------------------------------------------------

    HEADERS = ("Name", "Description", "Type", "Default", "Valid Values", "Importance")

    def _sorted_configs(self) -> list[_Key]:
        """Group order, then order in group, then required keys first, importance, name."""
        group_order = {group: i for i, group in enumerate(self._groups)}

        def sort_key(key: _Key) -> tuple[Any, ...]:
            group = -1 if key.group is None else group_order.get(key.group, len(group_order))
            return (group, key.order_in_group, key.has_default(), key.importance.value, key.name)

        return sorted(self._keys.values(), key=sort_key)

    @staticmethod
    def _doc_value(key: _Key, header: str) -> str:
        if header == "Name":
            return key.name
        if header == "Description":
            return key.documentation or ""
        if header == "Type":
            return key.type.name.lower()
        if header == "Default":
            if key.alternative_string is not None:
                return key.alternative_string
            if not key.has_default():
                return ""
            if key.default_value is None:
                return "null"
            text = ConfigDef.convert_to_string(key.default_value, key.type) or ""
            if not text:
                return '""'
            return text + _nice_units(key.name, key.default_value)
        if header == "Valid Values":
            return str(key.validator) if key.validator is not None else ""
        if header == "Importance":
            return key.importance.name.lower()
        raise KeyError(f"Can't find value for header '{header}' in {key.name}")

    def _documented(self) -> list[_Key]:
        return [key for key in self._sorted_configs() if not key.internal]

    def to_html_table(self) -> str:
        rows = ['<table class="data-table"><tbody>', "<tr>"]
        rows += [f"<th>{h}</th>" for h in self.HEADERS]
        rows.append("</tr>")
        for key in self._documented():
            cells = "".join(f"<td>{self._doc_value(key, h)}</td>" for h in self.HEADERS)
            rows.append(f"<tr>\n{cells}</tr>")
        rows.append("</tbody></table>")
        return "\n".join(rows)

    def to_markdown(self) -> str:
        """A Markdown table of the documented keys, in docs order."""

        def cell(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", "<br>")

        lines = ["| " + " | ".join(self.HEADERS) + " |", "|" + "---|" * len(self.HEADERS)]
        for key in self._documented():
            cells = (cell(self._doc_value(key, h)) for h in self.HEADERS)
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def _rst_key(self, key: _Key) -> str:
        out = [f"``{key.name}``\n"]
        if key.documentation is not None:
            out += [f"  {line}\n\n" for line in key.documentation.split("\n") if line]
        else:
            out.append("\n")
        out.append(f"  * Type: {self._doc_value(key, 'Type')}\n")
        if key.has_default():
            out.append(f"  * Default: {self._doc_value(key, 'Default')}\n")
        if key.validator is not None:
            out.append(f"  * Valid Values: {self._doc_value(key, 'Valid Values')}\n")
        out.append(f"  * Importance: {self._doc_value(key, 'Importance')}\n")
        return "".join(out)

    def to_rst(self) -> str:
        """reStructuredText for Sphinx, as Kafka's ``toRst``."""
        return "".join(self._rst_key(key) + "\n" for key in self._documented())

    def to_enriched_rst(self) -> str:
        """As :meth:`to_rst`, with group headings and dependents."""
        out = []
        last_group = ""
        for key in self._documented():
            if key.group is not None:
                if last_group.lower() != key.group.lower():
                    out.append(f"{key.group}\n{'^' * len(key.group)}\n\n")
                last_group = key.group
            out.append(self._rst_key(key))
            if key.dependents:
                out.append(
                    "  * Dependents: " + ", ".join(f"``{d}``" for d in key.dependents) + "\n"
                )
            out.append("\n")
        return "".join(out)


def _nice_units(name: str, value: Any) -> str:
    """Kafka's docs suffix: ``1048576`` for a ``.bytes`` key reads ``(1 mebibyte)``."""
    if not isinstance(value, int) or isinstance(value, bool):
        return ""
    if name.endswith(".bytes"):
        steps, units = [1024] * 4, ["kibibyte", "mebibyte", "gibibyte", "tebibyte"]
    elif name.endswith(".ms"):
        steps, units = [1000, 60, 60, 24], ["second", "minute", "hour", "day"]
    else:
        return ""
    i = 0
    while value != 0 and i < 4 and value % steps[i] == 0:
        value //= steps[i]
        i += 1
    if i == 0:
        return ""
    return f" ({value} {units[i - 1]}{'' if value == 1 else 's'})"


class _RecordingDict(dict):  # type: ignore[type-arg]
    """A dict that marks each key read as used by its AbstractConfig (for ``unused()``)."""

    def __init__(
        self,
        config: AbstractConfig,
        data: Mapping[str, Any],
        prefix: str = "",
        fallback: bool = False,
    ):
        super().__init__(data)
        self._config = config
        self._prefix = prefix
        self._fallback = fallback

    def _mark(self, key: Any) -> None:
        if isinstance(key, str):
            self._config.ignore(self._prefix + key)
            if self._fallback:
                self._config.ignore(key)

    def __getitem__(self, key: Any) -> Any:
        self._mark(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._mark(key)
        return super().get(key, default)


class AbstractConfig:
    """Parsed configuration of a plugin: typed getters over ``definition.parse(originals)``.

    Subclass it per plugin (``class FileSourceConfig(AbstractConfig)``) or use it directly.
    """

    def __init__(self, definition: ConfigDef, originals: Mapping[str, Any], do_log: bool = False):
        for key, value in originals.items():
            if not isinstance(key, str):
                raise invalid_value(str(key), value, "Key must be a string.")
        self._definition = definition
        self._originals: dict[str, Any] = dict(originals)
        self._values = definition.parse(self._originals)
        self._used: set[str] = set()
        if do_log:
            self.log_all()

    @property
    def definition(self) -> ConfigDef:
        return self._definition

    def get(self, key: str) -> Any:
        """The typed value of a defined key; raises ConfigException for an unknown one."""
        if key not in self._values:
            raise ConfigException(f"Unknown configuration '{key}'", name=key)
        self._used.add(key)
        return self._values[key]

    def ignore(self, key: str) -> None:
        """Count ``key`` as used, so ``unused()`` does not report it."""
        self._used.add(key)

    def get_boolean(self, key: str) -> bool | None:
        return self.get(key)

    def get_string(self, key: str) -> str | None:
        return self.get(key)

    def get_int(self, key: str) -> int | None:
        return self.get(key)

    def get_short(self, key: str) -> int | None:
        return self.get(key)

    def get_long(self, key: str) -> int | None:
        return self.get(key)

    def get_double(self, key: str) -> float | None:
        return self.get(key)

    def get_list(self, key: str) -> list[Any] | None:
        return self.get(key)

    def get_class(self, key: str) -> str | None:
        """The plugin name a CLASS key holds (resolving it is the runtime's job)."""
        return self.get(key)

    def get_password(self, key: str) -> Password | None:
        return self.get(key)

    def values(self) -> dict[str, Any]:
        """Every defined key's typed value."""
        return _RecordingDict(self, self._values)

    def originals(self, config_overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The settings as given (undefined keys included), optionally with overrides."""
        result = _RecordingDict(self, self._originals)
        if config_overrides:
            result.update(config_overrides)
        return result

    def originals_strings(self) -> dict[str, str]:
        """The settings as given; raises TypeError if any value is not a string."""
        for key, value in self._originals.items():
            if not isinstance(value, str):
                kind = None if value is None else type(value).__name__
                raise TypeError(
                    f"Non-string value found in original settings for key {key}: {kind}"
                )
        return _RecordingDict(self, self._originals)

    def originals_with_prefix(self, prefix: str, strip: bool = True) -> dict[str, Any]:
        """The settings whose key starts with ``prefix`` (and is longer), prefix stripped or not."""
        n = len(prefix)
        selected = {
            (k[n:] if strip else k): v
            for k, v in self._originals.items()
            if k.startswith(prefix) and len(k) > n
        }
        return _RecordingDict(self, selected, prefix if strip else "")

    def values_with_prefix_override(self, prefix: str) -> dict[str, Any]:
        """Typed values, where a ``<prefix><key>`` setting overrides ``<key>``."""
        result = _RecordingDict(self, self._values, prefix, fallback=True)
        n = len(prefix)
        for k, v in self._originals.items():
            if k.startswith(prefix) and len(k) > n:
                key = self._definition.config_keys.get(k[n:])
                if key is not None:
                    dict.__setitem__(result, key.name, self._definition.parse_value(key, v, True))
        return result

    def unused(self) -> set[str]:
        """Settings given but never read."""
        return set(self._originals) - self._used

    def log_unused(self) -> None:
        for key in sorted(self.unused()):
            log.warning("The configuration '%s' was supplied but isn't a known config.", key)

    def log_all(self) -> None:
        lines = [f"\t{k} = {render_value(v)}" for k, v in sorted(self._values.items())]
        log.info("%s values: \n%s", type(self).__name__, "\n".join(lines))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AbstractConfig) or type(other) is not type(self):
            return NotImplemented
        return self._originals == other._originals

    def __hash__(self) -> int:
        return hash(frozenset((k, repr(v)) for k, v in self._originals.items()))
