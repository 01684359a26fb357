"""The transforms of one connector, in order, each guarded by its predicate.

Configured as in Kafka Connect::

    transforms=addSource,route
    transforms.addSource.type=org.apache.kafka.connect.transforms.InsertField$Value
    transforms.addSource.static.field=source
    transforms.addSource.predicate=isFoo
    transforms.addSource.negate=true
    predicates=isFoo
    predicates.isFoo.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches
    predicates.isFoo.pattern=foo
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kconnect.api.errors import ConfigException
from kconnect.api.transform import Predicate, Transformation
from kconnect.plugins import PluginRegistry

log = logging.getLogger(__name__)

#: keys of transforms.<alias>. that the runtime reads itself
RESERVED_TRANSFORM_KEYS = ("type", "predicate", "negate")


def aliases(props: Mapping[str, Any], key: str) -> list[str]:
    """The aliases listed in ``transforms`` or ``predicates`` (comma-separated)."""
    raw = props.get(key) or ""
    if isinstance(raw, list):
        return [a.strip() for a in raw if str(a).strip()]
    return [a.strip() for a in str(raw).split(",") if a.strip()]


def sub_config(props: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in props.items() if k.startswith(prefix)}


class TransformationStage:
    """One transform, applied only when its predicate (if any) says so."""

    __slots__ = ("alias", "transform", "predicate", "negate")

    def __init__(
        self, alias: str, transform: Transformation, predicate: Predicate | None, negate: bool
    ):
        self.alias = alias
        self.transform = transform
        self.predicate = predicate
        self.negate = negate

    def apply(self, record: Any) -> Any:
        if self.predicate is not None and self.predicate.test(record) == self.negate:
            return record
        return self.transform.apply(record)


class TransformationChain:
    """Applies each stage in order; a stage returning None drops the record."""

    def __init__(self, stages: list[TransformationStage]):
        self.stages = stages
        # A stage without a predicate is called straight through its transform: one call less
        # per transform per record.
        self._appliers = [s.transform.apply if s.predicate is None else s.apply for s in stages]

    def __bool__(self) -> bool:
        return bool(self.stages)

    def apply(self, record: Any) -> Any:
        for apply in self._appliers:
            record = apply(record)
            if record is None:
                return None
        return record

    def close(self) -> None:
        closed: set[int] = set()
        for stage in self.stages:
            for plugin in (stage.transform, stage.predicate):
                if plugin is not None and id(plugin) not in closed:
                    closed.add(id(plugin))
                    try:
                        plugin.close()
                    except Exception:  # noqa: BLE001 - closing must go on for the others
                        log.exception("Error closing %s", type(plugin).__name__)


def build_transformation_chain(
    props: Mapping[str, Any], registry: PluginRegistry
) -> TransformationChain:
    """Instantiate and configure the transforms and predicates a connector config names."""
    predicates: dict[str, Predicate] = {}
    for alias in aliases(props, "predicates"):
        prefix = f"predicates.{alias}."
        type_name = props.get(prefix + "type")
        if not type_name:
            raise ConfigException(
                f'Missing required configuration "{prefix}type" which has no default value.',
                name=prefix + "type",
            )
        predicate = registry.find("predicate", str(type_name))()
        predicate.configure({k: v for k, v in sub_config(props, prefix).items() if k != "type"})
        predicates[alias] = predicate
    stages = []
    for alias in aliases(props, "transforms"):
        prefix = f"transforms.{alias}."
        type_name = props.get(prefix + "type")
        if not type_name:
            raise ConfigException(
                f'Missing required configuration "{prefix}type" which has no default value.',
                name=prefix + "type",
            )
        transform = registry.find("transform", str(type_name))()
        transform.configure(
            {k: v for k, v in sub_config(props, prefix).items() if k not in RESERVED_TRANSFORM_KEYS}
        )
        predicate_alias = props.get(prefix + "predicate")
        negate = str(props.get(prefix + "negate", "false")).strip().lower() == "true"
        predicate = None
        if predicate_alias:
            predicate = predicates.get(str(predicate_alias))
            if predicate is None:
                raise ConfigException(
                    f"Invalid value {predicate_alias} for configuration {prefix}predicate: "
                    f"Predicate '{predicate_alias}' is not defined in predicates",
                    name=prefix + "predicate",
                )
        stages.append(TransformationStage(alias, transform, predicate, negate))
    return TransformationChain(stages)
