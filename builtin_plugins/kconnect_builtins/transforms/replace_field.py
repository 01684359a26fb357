"""ReplaceField: keep, drop or rename the fields of a struct or map."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kconnect.api.config import ConfigDef, LambdaValidator
from kconnect.api.data import Schema, SchemaBuilder
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._util import (
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_DOC,
    KeyOrValueTransformation,
    SchemaCache,
    add_key_value_variants,
    config_error,
    copy_schema_basics,
    java_split,
    plugin_version,
    require_map,
    require_struct,
    struct_values,
    struct_with_values,
)

log = logging.getLogger(__name__)

EXCLUDE = "exclude"
INCLUDE = "include"
RENAMES = "renames"
# Kafka 2.x names, translated to the new ones as Kafka 3.x did.
BLACKLIST = "blacklist"
WHITELIST = "whitelist"
_DEPRECATED = ((EXCLUDE, BLACKLIST), (INCLUDE, WHITELIST))

PURPOSE = "field replacement"


def parse_rename_mappings(mappings: list[str]) -> dict[str, str]:
    """``["foo:bar", "abc:xyz"]`` -> ``{"foo": "bar", "abc": "xyz"}``."""
    renames: dict[str, str] = {}
    for mapping in mappings:
        parts = java_split(mapping, ":")
        if len(parts) != 2:
            raise config_error(RENAMES, mappings, f"Invalid rename mapping: {mapping}")
        renames[parts[0]] = parts[1]
    return renames


def _validate_renames(name: str, value: Any) -> None:
    parse_rename_mappings(value or [])


_MEDIUM = ConfigDef.Importance.MEDIUM
CONFIG_DEF = (
    ConfigDef()
    .define(EXCLUDE, ConfigDef.Type.LIST, default=[], importance=_MEDIUM,
            documentation="Fields to exclude. This takes precedence over the fields to include.")
    .define(BLACKLIST, ConfigDef.Type.LIST, default=None, importance=ConfigDef.Importance.LOW,
            documentation=f"Deprecated. Use {EXCLUDE} instead.")
    .define(INCLUDE, ConfigDef.Type.LIST, default=[], importance=_MEDIUM,
            documentation="Fields to include. If specified, only these fields will be used.")
    .define(WHITELIST, ConfigDef.Type.LIST, default=None, importance=ConfigDef.Importance.LOW,
            documentation=f"Deprecated. Use {INCLUDE} instead.")
    .define(RENAMES, ConfigDef.Type.LIST, default=[],
            validator=LambdaValidator.with_(
                _validate_renames,
                "list of colon-delimited pairs, e.g. <code>foo:bar,abc:xyz</code>"),
            importance=_MEDIUM, documentation="Field rename mappings.")
    .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigDef.Type.BOOLEAN, default=True,
            importance=_MEDIUM, documentation=REPLACE_NULL_WITH_DEFAULT_DOC)
)  # fmt: skip


def translate_deprecated(configs: Mapping[str, Any]) -> dict[str, Any]:
    """Move ``blacklist``/``whitelist`` to ``exclude``/``include`` unless those are set."""
    translated = dict(configs)
    for target, deprecated in _DEPRECATED:
        if deprecated not in translated:
            continue
        old = translated.pop(deprecated)
        if target in translated:
            log.warning(
                "%s was configured along with deprecated %s; using %s", target, deprecated, target
            )
        else:
            log.warning("Configuration %s is deprecated. Use %s instead.", deprecated, target)
            translated[target] = old
    return translated


class ReplaceField(KeyOrValueTransformation, Transformation[ConnectRecord]):
    """Filter or rename fields.

    Use the concrete transformation type designed for the record key (``ReplaceField.Key``)
    or value (``ReplaceField.Value``)."""

    java_class_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._exclude: frozenset[str] = frozenset()
        self._include: frozenset[str] = frozenset()
        self._renames: dict[str, str] = {}
        self._replace_null_with_default = True
        self._cache = SchemaCache()

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        config = CONFIG_DEF.parse(translate_deprecated(configs))
        self._exclude = frozenset(config[EXCLUDE] or ())
        self._include = frozenset(config[INCLUDE] or ())
        self._renames = parse_rename_mappings(config[RENAMES] or [])
        self._replace_null_with_default = config[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        self._cache = SchemaCache()

    def _keep(self, name: str) -> bool:
        return name not in self._exclude and (not self._include or name in self._include)

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.operating_value(record)
        if value is None:
            return record
        if self.operating_schema(record) is None:
            return self._apply_schemaless(record, value)
        return self._apply_with_schema(record, value)

    def _apply_schemaless(self, record: ConnectRecord, value: Any) -> ConnectRecord:
        renames = self._renames
        updated = {
            renames.get(name, name): field_value
            for name, field_value in require_map(value, PURPOSE).items()
            if self._keep(name)
        }
        return self.new_record(record, None, updated)

    def _apply_with_schema(self, record: ConnectRecord, value: Any) -> ConnectRecord:
        struct = require_struct(value, PURPOSE)
        updated_schema, kept = self._cache.get_or_compute(struct.schema, self._updated_schema)
        values = struct_values(struct, self._replace_null_with_default)
        # Kept fields keep their schemas, so their values need no new validation.
        return self.new_record(
            record, updated_schema, struct_with_values(updated_schema, [values[i] for i in kept])
        )

    def _updated_schema(self, schema: Schema) -> tuple[Schema, list[int]]:
        """The new schema, and the indexes of the input fields it keeps, in its order."""
        builder = copy_schema_basics(schema, SchemaBuilder.struct())
        kept: list[int] = []
        for field in schema.fields:
            if self._keep(field.name):
                builder.field(self._renames.get(field.name, field.name), field.schema)
                kept.append(field.index)
        return builder.build(), kept

    def close(self) -> None:
        self._cache.clear()


add_key_value_variants(ReplaceField, "ReplaceField")
