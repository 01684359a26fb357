"""Validating a connector config: Kafka Connect's ConfigInfos, as ``/validate`` returns it.

The result merges the keys every connector has (``name``, ``tasks.max``, ``transforms``…, plus
those of each transform and predicate the config names, under their prefixes) with the
connector's own ConfigDef and whatever its ``validate()`` adds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kconnect.api.config import Config, ConfigDef, ConfigKey, ConfigValue
from kconnect.api.connector import Connector, connector_type
from kconnect.api.errors import ConfigException
from kconnect.plugins import PluginRegistry, plugin_version
from kconnect.runtime.connector_config import (
    CONNECTOR_CLASS,
    CONNECTOR_PLUGIN_VERSION,
    definition_for,
)
from kconnect.runtime.plugin_calls import call_with_timeout
from kconnect.runtime.version_range import InvalidVersionRange, unmet_message
from kconnect.runtime.worker_plugins import CONVERTER_KEYS, converter_not_found


def enriched_definition(
    base: ConfigDef, props: Mapping[str, Any], registry: PluginRegistry
) -> ConfigDef:
    """``base`` plus the keys of the transforms and predicates ``props`` names. Replaced by the
    transforms module's richer version when it is installed (see transform_config)."""
    try:
        from kconnect.runtime.worker.transform_config import enrich
    except ImportError:
        return base
    return enrich(base, props, registry)


def validate_connector_config(
    registry: PluginRegistry, props: Mapping[str, Any], timeout_s: float = 60.0
) -> dict[str, Any]:
    """The ConfigInfos of ``props``; raises ConfigException when no connector class is given
    or it cannot be found (the caller answers 400)."""
    class_name = props.get("connector.class")
    if not class_name:
        raise ConfigException(
            f"Connector config {dict(props)} contains no connector type", name="connector.class"
        )
    connector_class = registry.find("connector", str(class_name))
    connector: Connector = connector_class()
    kind = connector_type(connector_class)
    class_path = f"{connector_class.__module__}.{connector_class.__qualname__}"
    version = plugin_version(connector_class)
    base = enriched_definition(definition_for(kind, version), props, registry)
    base_values = base.validate(props)
    _check_converter_classes(registry, props, base_values)
    try:
        unmet = unmet_message(class_path, props.get(CONNECTOR_PLUGIN_VERSION), version)
    except InvalidVersionRange as error:
        raise ConfigException(str(error), name=CONNECTOR_PLUGIN_VERSION) from error
    for value in base_values:
        if value.name == CONNECTOR_PLUGIN_VERSION:
            value.recommended_values = [version]
    if unmet is not None:
        # As Kafka: both keys carry the error, and the connector that is not the one asked
        # for is not asked to validate anything.
        for value in base_values:
            if value.name in (CONNECTOR_CLASS, CONNECTOR_PLUGIN_VERSION):
                value.add_error_message(unmet)
        return config_infos(class_path, [(base, base_values)])
    connector_def = call_with_timeout(
        f"Connector {connector_class.__name__} config()", timeout_s, connector.config
    )
    connector_result: Config = call_with_timeout(
        f"Connector {connector_class.__name__} validate()",
        timeout_s,
        connector.validate,
        dict(props),
    )
    return config_infos(
        class_path, [(base, base_values), (connector_def, connector_result.config_values)]
    )


def _check_converter_classes(
    registry: PluginRegistry, props: Mapping[str, Any], values: list[ConfigValue]
) -> None:
    """As Kafka's CLASS-typed keys: a converter that cannot be found is an error on its key,
    so the connector is refused (400) instead of created with tasks that can only fail."""
    for value in values:
        name = props.get(value.name)
        if value.name not in CONVERTER_KEYS or name is None or not str(name).strip():
            continue
        problem = converter_not_found(registry, value.name, str(name))
        if problem is not None:
            value.add_error_message(problem)


def error_messages(infos: Mapping[str, Any]) -> list[str]:
    """Every error of a ConfigInfos, as ``key: message``... in Kafka's words."""
    messages = []
    for entry in infos["configs"]:
        for error in entry["value"]["errors"]:
            messages.append(error)
    return messages


def invalid_config_message(infos: Mapping[str, Any]) -> str:
    """Kafka's message for a create/update with an invalid config."""
    errors = error_messages(infos)
    lines = [
        f"Connector configuration is invalid and contains the following {len(errors)} error(s):"
    ]
    lines.extend(errors)
    lines.append(
        "You can also find the above list of errors at the endpoint "
        "`/connector-plugins/{connectorType}/config/validate`"
    )
    return "\n".join(lines)


def config_infos(name: str, parts: list[tuple[ConfigDef, list[ConfigValue]]]) -> dict[str, Any]:
    """Build ConfigInfos from (definition, values) pairs; a key defined twice shows once, and
    the errors of both are kept."""
    groups: list[str] = []
    entries: dict[str, dict[str, Any]] = {}
    for definition, values in parts:
        for group in definition.groups:
            if group not in groups:
                groups.append(group)
        keys = definition.config_keys
        for value in values:
            key = keys.get(value.name)
            entry = entries.get(value.name)
            if entry is None:
                entries[value.name] = {
                    "definition": _definition_json(key, value.name),
                    "value": _value_json(value),
                }
            else:
                merged = entry["value"]["errors"]
                merged.extend(e for e in value.error_messages if e not in merged)
        for key_name, key in keys.items():
            if key_name not in entries:
                entries[key_name] = {
                    "definition": _definition_json(key, key_name),
                    "value": _value_json(ConfigValue(key_name)),
                }
    configs = list(entries.values())
    error_count = sum(len(entry["value"]["errors"]) for entry in configs)
    return {"name": name, "error_count": error_count, "groups": groups, "configs": configs}


def _definition_json(key: ConfigKey | None, name: str) -> dict[str, Any]:
    """Kafka's ConfigKeyInfo, with its field names in its order."""
    if key is None:
        return {
            "name": name,
            "type": "STRING",
            "required": False,
            "default_value": None,
            "importance": "LOW",
            "documentation": "",
            "group": None,
            "order_in_group": -1,
            "width": "NONE",
            "display_name": name,
            "dependents": [],
        }
    has_default = key.has_default()
    return {
        "name": key.name,
        "type": key.type.name,
        "required": not has_default,
        "default_value": ConfigDef.convert_to_string(key.default_value, key.type)
        if has_default
        else None,
        "importance": key.importance.name,
        "documentation": key.documentation,
        "group": key.group,
        "order_in_group": key.order_in_group,
        "width": key.width.name,
        "display_name": key.display_name or key.name,
        "dependents": list(key.dependents or []),
    }


def _value_json(value: ConfigValue) -> dict[str, Any]:
    raw = value.value
    if raw is not None and not isinstance(raw, str):
        raw = ConfigDef.convert_to_string(raw)
    return {
        "name": value.name,
        "value": raw,
        "recommended_values": [str(v) for v in (value.recommended_values or [])],
        "errors": list(value.error_messages),
        "visible": value.visible,
    }
