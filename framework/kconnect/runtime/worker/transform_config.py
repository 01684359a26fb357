"""The keys of the transforms and predicates a connector config names, for ``/validate``
(Kafka's ``ConnectorConfig.enrich``).

For ``transforms=addSource`` and ``transforms.addSource.type=InsertField$Value`` the connector's
definition gains ``transforms.addSource.type``, the implicit ``transforms.addSource.predicate``
and ``transforms.addSource.negate``, and every key of InsertField's own ConfigDef under
``transforms.addSource.``, grouped as ``Transforms: addSource``. Predicates likewise under
``predicates.<alias>.``. Problems are reported as Kafka reports them, on the key at fault:

* ``transforms``/``predicates``: ``Duplicate alias provided.``
* ``transforms.<alias>.type``: ``Class <name> could not be found.``, ``Not a Transformation``,
  and ``Config 'transforms.<alias>.negate' was provided but there is no config
  'transforms.<alias>.predicate' defining a predicate to be negated.``
* ``transforms.<alias>.predicate``: a predicate alias that ``predicates`` does not define.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from kconnect.api.config import ConfigDef, LambdaValidator
from kconnect.api.config_validators import invalid_value
from kconnect.api.errors import ConfigException
from kconnect.api.transform import Predicate, Transformation
from kconnect.plugins import PluginNotFoundError, PluginRegistry
from kconnect.runtime.connector_config import (
    PREDICATES,
    PREDICATES_GROUP,
    TRANSFORMS,
    TRANSFORMS_GROUP,
)
from kconnect.runtime.worker.transformation_chain import aliases

log = logging.getLogger(__name__)

T = ConfigDef.Type
I = ConfigDef.Importance
W = ConfigDef.Width

PREDICATE_CONFIG = "predicate"
NEGATE_CONFIG = "negate"


def enrich(base: ConfigDef, props: Mapping[str, Any], registry: PluginRegistry) -> ConfigDef:
    """``base`` plus the keys of every transform and predicate ``props`` names."""
    definition = ConfigDef(base)
    predicate_aliases = aliases(props, PREDICATES)
    _EnrichablePlugin(
        "Transformation",
        "transform",
        TRANSFORMS,
        TRANSFORMS_GROUP,
        Transformation,
        props,
        registry,
        predicate_aliases,
    ).enrich(definition)
    _EnrichablePlugin(
        "Predicate",
        "predicate",
        PREDICATES,
        PREDICATES_GROUP,
        Predicate,
        props,
        registry,
        predicate_aliases,
    ).enrich(definition)
    return definition


class _EnrichablePlugin:
    """The part of ``enrich`` shared by transforms and predicates (Kafka's EnrichablePlugin)."""

    def __init__(
        self,
        label: str,
        kind: str,
        alias_config: str,
        group: str,
        base_class: type,
        props: Mapping[str, Any],
        registry: PluginRegistry,
        predicate_aliases: list[str],
    ):
        self.label = label
        self.kind = kind
        self.alias_config = alias_config
        self.group = group
        self.base_class = base_class
        self.props = props
        self.registry = registry
        self.predicate_aliases = predicate_aliases

    @property
    def is_transform(self) -> bool:
        return self.kind == "transform"

    def enrich(self, definition: ConfigDef) -> None:
        for alias in dict.fromkeys(aliases(self.props, self.alias_config)):
            prefix = f"{self.alias_config}.{alias}."
            group = f"{self.group}: {alias}"
            type_config = prefix + "type"
            definition.define(
                type_config,
                T.CLASS,
                ConfigDef.NO_DEFAULT_VALUE,
                LambdaValidator(
                    self._type_check(prefix), f"valid configs for {alias} {self.label.lower()}"
                ),
                I.HIGH,
                f"Class for the '{alias}' {self.label.lower()}.",
                group,
                0,
                W.LONG,
                f"{self.base_class.__name__} type for {alias}",
            )
            child = self._child_definition(prefix, type_config)
            if child is not None:
                definition.embed(prefix, group, 1, child)

    def _type_check(self, prefix: str) -> Callable[[str, Any], None]:
        def check(name: str, value: Any) -> None:
            if self.is_transform:
                negate, predicate = prefix + NEGATE_CONFIG, prefix + PREDICATE_CONFIG
                if negate in self.props and predicate not in self.props:
                    raise ConfigException(
                        f"Config '{negate}' was provided but there is no config '{predicate}' defining a "
                        "predicate to be negated.",
                        name=name,
                    )
            if value is not None:
                self._plugin_class(name, value)

        return check

    def _plugin_class(self, name: str, value: Any) -> type:
        try:
            cls = self.registry.find(self.kind, str(value))
        except PluginNotFoundError:
            other = "predicate" if self.is_transform else "transform"
            try:
                self.registry.find(other, str(value))
            except PluginNotFoundError:
                raise invalid_value(name, value, f"Class {value} could not be found.") from None
            raise invalid_value(name, value, f"Not a {self.base_class.__name__}") from None
        if not (isinstance(cls, type) and issubclass(cls, self.base_class)):
            raise invalid_value(name, value, f"Not a {self.base_class.__name__}")
        return cls

    def _child_definition(self, prefix: str, type_config: str) -> ConfigDef | None:
        """The implicit keys plus the plugin's own; None when the type is missing or bad (the
        type key reports why)."""
        child = ConfigDef()
        if self.is_transform:
            child.define(
                PREDICATE_CONFIG,
                T.STRING,
                "",
                LambdaValidator(
                    self._predicate_check(prefix + PREDICATE_CONFIG), "a defined predicate"
                ),
                I.MEDIUM,
                "The alias of a predicate used to determine whether to apply this transformation.",
            )
            child.define(
                NEGATE_CONFIG,
                T.BOOLEAN,
                False,
                None,
                I.MEDIUM,
                "Whether the configured predicate should be negated.",
            )
        type_name = self.props.get(type_config)
        if not type_name:
            return child
        try:
            cls = self._plugin_class(type_config, type_name)
            plugin_definition = cls().config()
        except ConfigException:
            return child
        except Exception:
            log.exception("%s %s: config() failed", self.label, type_name)
            return child
        for key_name, key in plugin_definition.config_keys.items():
            if self.is_transform and key_name in (PREDICATE_CONFIG, NEGATE_CONFIG):
                log.warning(
                    "Transformer config %s is masked by implicit config of that name", key_name
                )
                continue
            child.define_key(key)
        return child

    def _predicate_check(self, full_name: str) -> Callable[[str, Any], None]:
        # Embedded validators are given the unprefixed name; the message names the full key.
        def check(_name: str, value: Any) -> None:
            if value and str(value) not in self.predicate_aliases:
                raise invalid_value(
                    full_name, value, f"Predicate '{value}' is not defined in {PREDICATES}"
                )

        return check
