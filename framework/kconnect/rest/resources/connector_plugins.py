"""``/connector-plugins``: the installed plugins, their config definitions, and validation.

Plugins cannot be added while the worker runs, so the listing is computed once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import falcon
from kconnect.api.config import ConfigDef
from kconnect.api.connector import Connector, connector_type
from kconnect.plugins import (
    ALLOWED_IMPORT_PREFIXES_CONFIG,
    PluginDescriptor,
    PluginNotFoundError,
    PluginRegistry,
    plugin_version,
)
from kconnect.rest.errors import ConnectRestError, bad_request
from kconnect.rest.http import HerderRef, query_flag, read_json, string_map
from kconnect.runtime.config_validation import _definition_json
from kconnect.runtime.connector_config import definition_for
from kconnect.runtime.plugin_calls import call_with_timeout
from kconnect.runtime.version_range import InvalidVersionRange, unmet_message

#: registry kind -> Kafka's PluginType name, in the order Kafka lists them after the connectors
_OTHER_KINDS = (
    ("transform", "transformation"),
    ("predicate", "predicate"),
    ("converter", "converter"),
    ("header_converter", "header_converter"),
)
_LOOKUP_ORDER = ("connector", "converter", "header_converter", "transform", "predicate")
_ALIAS_SUFFIX = "Connector"


def _plugin_info(descriptor: PluginDescriptor, kind_name: str) -> dict[str, Any]:
    return {"class": descriptor.class_name, "type": kind_name, "version": descriptor.version}


def plugin_infos(registry: PluginRegistry) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(connectors only, every plugin), sinks first then sources, as Kafka lists them."""
    connectors = registry.plugins("connector")
    sinks = [
        _plugin_info(d, "sink") for d in connectors if connector_type(d.plugin_class) == "sink"
    ]
    sources = [
        _plugin_info(d, "source") for d in connectors if connector_type(d.plugin_class) == "source"
    ]
    everything = sinks + sources
    for kind, kind_name in _OTHER_KINDS:
        everything.extend(_plugin_info(d, kind_name) for d in registry.plugins(kind))
    return sinks + sources, everything


def _normalized(name: str) -> str:
    """Kafka's alias rule: ``FooConnector`` and ``a.b.FooConnector`` compare as ``Foo``."""
    if name.endswith(_ALIAS_SUFFIX) and len(name) > len(_ALIAS_SUFFIX):
        return name[: -len(_ALIAS_SUFFIX)]
    return name


class ConnectorPluginsResource:
    """``GET /connector-plugins?connectorsOnly=``."""

    def __init__(self, registry: PluginRegistry):
        self._connectors, self._all = plugin_infos(registry)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self._connectors if query_flag(req, "connectorsOnly", True) else self._all


class ConnectorPluginConfigResource:
    """``GET /connector-plugins/{plugin}/config``: the plugin's ConfigKeyInfo list; for
    connectors, the common connector keys follow the plugin's own."""

    def __init__(self, registry: PluginRegistry, timeout_s: float):
        self.registry = registry
        self.timeout_s = timeout_s

    def _find(self, name: str) -> tuple[str, type]:
        for kind in _LOOKUP_ORDER:
            try:
                return kind, self.registry.find(kind, name)
            except PluginNotFoundError:
                continue
        message = f"Unknown plugin {name}."
        if self.registry.import_refused(name):
            message += (
                " Python paths of classes that are not registered plugins are not imported; an "
                f"operator can allow a module with the worker setting {ALLOWED_IMPORT_PREFIXES_CONFIG}."
            )
        raise ConnectRestError(404, message)

    def on_get(self, req: falcon.Request, resp: falcon.Response, plugin: str) -> None:
        kind, plugin_class = self._find(plugin)
        version = plugin_version(plugin_class)
        try:
            # KIP-891's ?version=: only the installed version can be described.
            unmet = unmet_message(
                f"{plugin_class.__module__}.{plugin_class.__qualname__}",
                req.get_param("version"),
                version,
            )
        except InvalidVersionRange as error:
            raise bad_request(str(error)) from None
        if unmet is not None:
            raise bad_request(unmet)
        try:
            instance = plugin_class()
        except Exception as error:  # noqa: BLE001 - a plugin that cannot be built is a server fault
            raise ConnectRestError(
                500, f"Failed to instantiate plugin {plugin}: {error}"
            ) from error
        if not callable(getattr(instance, "config", None)):
            raise bad_request(
                f"Invalid plugin class {plugin}. Valid types are sink, source, converter, "
                "header_converter, transformation, predicate."
            )
        own: ConfigDef = call_with_timeout(
            f"Plugin {plugin} config()", self.timeout_s, instance.config
        )
        keys: dict[str, Any] = dict(own.config_keys if own is not None else {})
        if kind == "connector" and isinstance(instance, Connector):
            common = definition_for(connector_type(plugin_class), version)
            for name, key in common.config_keys.items():
                keys.setdefault(name, key)
        resp.media = [_definition_json(key, name) for name, key in keys.items()]


class ConnectorPluginValidateResource:
    """``PUT /connector-plugins/{plugin}/config/validate``: Kafka's ConfigInfos."""

    def __init__(self, herder: HerderRef):
        self.herder_ref = herder

    def on_put(self, req: falcon.Request, resp: falcon.Response, plugin: str) -> None:
        config: Mapping[str, Any] = string_map(
            read_json(req, keep_number_text=True), "Connector config"
        )
        config = {k: v for k, v in config.items() if v is not None}
        included = config.get("connector.class")
        if included is not None:
            if not _normalized(included).endswith(_normalized(plugin)):
                raise bad_request(
                    f"Included connector type {included} does not match request type {plugin}"
                )
        else:
            # Kafka answers 400 here; naming the plugin in the URL is enough to know the class.
            config["connector.class"] = plugin
        # A config without "name" is reported as Kafka does: one error on the "name" entry.
        resp.media = self.herder_ref.get().validate(config)
