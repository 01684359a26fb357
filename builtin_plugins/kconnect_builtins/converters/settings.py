"""Reading converter settings straight from the settings dict, with Kafka's parsing rules and
error messages, and the ConfigDef every converter starts from (Kafka's ConverterConfig)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kconnect.api.errors import ConfigException

if TYPE_CHECKING:
    from kconnect.api.config import ConfigDef

TYPE_CONFIG = "converter.type"
_JAVA_BLANKS = "".join(chr(c) for c in range(33))


def _invalid(name: str, value: Any, reason: str) -> ConfigException:
    shown = "true" if value is True else "false" if value is False else value
    return ConfigException(f"Invalid value {shown} for configuration {name}: {reason}", name, value)


def get_bool(configs: Mapping[str, Any], name: str, default: bool) -> bool:
    """A BOOLEAN setting: a bool, or the text true/false in any case."""
    value = configs.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip(_JAVA_BLANKS).lower()
        if text in ("true", "false"):
            return text == "true"
    raise _invalid(name, value, "Expected value to be either true or false")


def get_int(configs: Mapping[str, Any], name: str, default: int) -> int:
    """An INT setting: an int, or its decimal text."""
    value = configs.get(name)
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip(_JAVA_BLANKS))
        except ValueError:
            raise _invalid(name, value, "Not a number of type INT") from None
    else:
        raise _invalid(
            name, value, f"Expected value to be a 32-bit integer, but it was a {type(value)}"
        )
    if not -(2**31) <= number < 2**31:
        raise _invalid(name, value, "Not a number of type INT")
    return number


def get_choice(
    configs: Mapping[str, Any], name: str, default: str, choices: tuple[str, ...]
) -> str:
    """A STRING setting that must be one of ``choices`` ignoring case; returned upper-case."""
    value = configs.get(name)
    if value is None:
        return default
    if isinstance(value, str) and value.upper() in choices:
        return value.upper()
    raise _invalid(name, value, "String must be one of (case insensitive): " + ", ".join(choices))


def converter_config_def() -> ConfigDef:
    """A ConfigDef holding ``converter.type``, as Kafka's ConverterConfig.newConfigDef()."""
    from kconnect.api.config import ConfigDef

    return ConfigDef().define(
        TYPE_CONFIG,
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        ConfigDef.ValidString.in_("key", "value", "header"),
        ConfigDef.Importance.LOW,
        "How this converter will be used.",
    )
