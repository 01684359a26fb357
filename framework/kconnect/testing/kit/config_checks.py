"""ConfigDef checks, run through the code path of ``PUT /connector-plugins/{type}/config/validate``
(:func:`kconnect.runtime.config_validation.validate_connector_config`), so what the kit reports
is what a user of the REST API would see.

Every function returns a list of problems, each a sentence that says what to fix; empty means
the check passed.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any, cast

from kconnect.api.config import ConfigDef
from kconnect.plugins import PluginRegistry, registry

#: values a user may type by mistake; validation must answer each with errors, not raise
JUNK_VALUES: tuple[str, ...] = (
    "",
    " ",
    "not-a-number",
    "-1",
    "99999999999999999999999",
    "1.5e999",
    "true",
    "\x00",
    "[",
    '{"a":',
    "${env:KCONNECT_KIT_UNSET_VARIABLE}",
    "x" * 10_000,
)


class _KitRegistry:
    """The process registry, except that the Python path of the plugin under test finds it
    even when it is not installed (an author's tests run before ``pip install``, and a worker
    imports nothing by Python path unless told to)."""

    def __init__(self, kind: str, plugin_class: type):
        self._kind = kind
        self._name = python_path(plugin_class)
        self._plugin_class = plugin_class
        self._base = registry()

    def find(self, kind: str, name: str) -> type:
        if kind == self._kind and name == self._name:
            return self._plugin_class
        return self._base.find(kind, name)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._base, attr)


def python_path(cls: type) -> str:
    """``module:Qualified.Name``, a name every kconnect registry resolves."""
    return f"{cls.__module__}:{cls.__qualname__}"


def kit_registry(kind: str, plugin_class: type) -> PluginRegistry:
    """A registry that also finds ``plugin_class`` by its Python path."""
    return cast(PluginRegistry, _KitRegistry(kind, plugin_class))


def validate(connector_class: type, props: Mapping[str, str]) -> dict[str, Any]:
    """The ConfigInfos ``/validate`` answers for ``props`` (``connector.class`` is set here)."""
    from kconnect.runtime.config_validation import validate_connector_config

    reg = kit_registry("connector", connector_class)
    return validate_connector_config(
        reg, {**props, "connector.class": python_path(connector_class)}
    )


def errors_by_key(infos: Mapping[str, Any]) -> dict[str, list[str]]:
    return {
        entry["value"]["name"]: list(entry["value"]["errors"])
        for entry in infos["configs"]
        if entry["value"]["errors"]
    }


def undocumented_keys(definition: ConfigDef) -> list[str]:
    return [
        f"key {name!r} has no documentation: pass a sentence as ConfigDef.define(..., "
        "documentation=...); users read it in GET /connector-plugins/<plugin>/config and the "
        "generated docs"
        for name, key in definition.config_keys.items()
        if not key.internal and not (key.documentation or "").strip()
    ]


def invalid_config_problems(connector_class: type, props: Mapping[str, str]) -> list[str]:
    errors = errors_by_key(validate(connector_class, props))
    return [
        f"the config from connector_config() does not validate: {key}: {'; '.join(messages)} "
        "(fix connector_config() in the test, or the ConfigDef if the config is right)"
        for key, messages in errors.items()
    ]


def required_keys(definition: ConfigDef) -> list[str]:
    return [
        name
        for name, key in definition.config_keys.items()
        if not key.has_default() and not key.internal
    ]


def missing_required_problems(
    connector_class: type, definition: ConfigDef, props: Mapping[str, str]
) -> list[str]:
    problems = []
    for key in required_keys(definition):
        dropped = {k: v for k, v in props.items() if k != key}
        errors = errors_by_key(validate(connector_class, dropped)).get(key, [])
        if not errors:
            problems.append(
                f"required key {key!r} was left out and /validate reported no error for it: "
                "give the key no default in the ConfigDef (ConfigDef.NO_DEFAULT_VALUE), and when "
                "validate() is overridden, keep the errors of ConfigDef.validate()"
            )
    return problems


def junk_problems(
    definition: ConfigDef, props: Mapping[str, str], run: Any, what: str
) -> list[str]:
    """Set each key in turn to each junk value and ``run(props)``; every exception is a
    problem. ``run`` is the validation call (a connector's, or a transform's through its
    connector)."""
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for key in definition.config_keys:
        for junk in JUNK_VALUES:
            try:
                run({**props, key: junk})
            except Exception as error:  # noqa: BLE001 - what the check looks for
                kind = type(error).__name__
                if (key, kind) in seen:
                    continue
                seen.add((key, kind))
                shown = junk if len(junk) <= 40 else junk[:37] + "..."
                where = traceback.extract_tb(error.__traceback__)[-1]
                problems.append(
                    f"{what} raised {kind} ({error}) for {key}={shown!r} at "
                    f"{where.filename}:{where.lineno}: report bad values as errors on the key "
                    "(a Validator in the ConfigDef, or ConfigValue.add_error_message() in an "
                    "overridden validate()) instead of raising"
                )
    return problems
