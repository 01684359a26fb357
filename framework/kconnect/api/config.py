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

Everything is importable from here; the parts live in :mod:`~kconnect.api.config_types` (types,
``Password``, parsing a value), :mod:`~kconnect.api.config_validators`,
:mod:`~kconnect.api.config_schema` (JSON Schema and its errors), :mod:`~kconnect.api.config_docs`
and :mod:`~kconnect.api.abstract_config`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from kconnect.api import config_docs
from kconnect.api.abstract_config import AbstractConfig
from kconnect.api.config_schema import CompiledSchema, missing_required
from kconnect.api.config_types import (
    NO_DEFAULT_VALUE,
    Password,
    _Importance,
    _Type,
    _Width,
    as_enum,
    convert_to_string,
    parse_type,
)
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
    render_value,
)
from kconnect.api.errors import ConfigException

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
        self.type: _Type = as_enum(_Type, type)
        has_default = default_value is not NO_DEFAULT_VALUE
        self.default_value = (
            ConfigDef.parse_type(name, default_value, self.type)
            if has_default
            else NO_DEFAULT_VALUE
        )
        self.validator = validator
        if validator is not None and has_default:
            validator.ensure_valid(name, self.default_value)
        self.importance: _Importance = as_enum(_Importance, importance)
        self.documentation = documentation
        self.group = group
        self.order_in_group = order_in_group
        self.width: _Width = as_enum(_Width, width)
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


# ConfigDef re-exports these as attributes, which hides the names inside its body.
_Key = ConfigKey
_Validator = Validator
_Recommender = Recommender


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
        self._compiled: CompiledSchema | None = None

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
            raise missing_required(key.name)
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

    def _compile(self) -> CompiledSchema:
        keys = tuple(self._keys.values())
        compiled = self._compiled
        if compiled is None or compiled.keys != keys:
            compiled = self._compiled = CompiledSchema(keys)
        return compiled

    def _evaluate(
        self, props: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[ConfigException]]]:
        """Parse and check every key: the typed values (None where unparseable or missing) and,
        per key, its errors in the order Kafka reports them."""
        return self._compile().evaluate(props)

    @staticmethod
    def parse_type(name: str, value: Any, type: Any) -> Any:
        """``value`` (a string or an already typed value) as ``type``; raises ConfigException
        with Kafka's message (``Invalid value x for configuration n: Not a number of type INT``)."""
        return parse_type(name, value, type)

    @staticmethod
    def convert_to_string(value: Any, type: Any = None) -> str | None:
        """A parsed value back as a properties-file string (lists comma-joined, ``true``)."""
        return convert_to_string(value, type)

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

    HEADERS = config_docs.HEADERS

    def _sorted_configs(self) -> list[_Key]:
        """Group order, then order in group, then required keys first, importance, name."""
        group_order = {group: i for i, group in enumerate(self._groups)}

        def sort_key(key: _Key) -> tuple[Any, ...]:
            group = -1 if key.group is None else group_order.get(key.group, len(group_order))
            return (group, key.order_in_group, key.has_default(), key.importance.value, key.name)

        return sorted(self._keys.values(), key=sort_key)

    def _documented(self) -> list[_Key]:
        return [key for key in self._sorted_configs() if not key.internal]

    def to_html_table(self) -> str:
        return config_docs.to_html_table(self._documented(), self.HEADERS)

    def to_markdown(self) -> str:
        """A Markdown table of the documented keys, in docs order."""
        return config_docs.to_markdown(self._documented(), self.HEADERS)

    def to_rst(self) -> str:
        """reStructuredText for Sphinx, as Kafka's ``toRst``."""
        return config_docs.to_rst(self._documented())

    def to_enriched_rst(self) -> str:
        """As :meth:`to_rst`, with group headings and dependents."""
        return config_docs.to_enriched_rst(self._documented())
