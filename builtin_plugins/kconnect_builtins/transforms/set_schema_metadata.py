"""SetSchemaMetadata: set the name and/or version of the key or value schema."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kconnect.api.config import ConfigDef
from kconnect.api.data import Schema, Struct, Type
from kconnect.api.errors import ConfigException
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._util import (
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_DOC,
    KeyOrValueTransformation,
    SchemaCache,
    add_key_value_variants,
    plugin_version,
    require_schema,
    struct_values,
    struct_with_values,
)

log = logging.getLogger(__name__)

SCHEMA_NAME = "schema.name"
SCHEMA_VERSION = "schema.version"

CONFIG_DEF = (
    ConfigDef()
    .define(SCHEMA_NAME, ConfigDef.Type.STRING, default=None,
            importance=ConfigDef.Importance.HIGH, documentation="Schema name to set.")
    .define(SCHEMA_VERSION, ConfigDef.Type.INT, default=None,
            importance=ConfigDef.Importance.HIGH, documentation="Schema version to set.")
    .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigDef.Type.BOOLEAN, default=True,
            importance=ConfigDef.Importance.MEDIUM, documentation=REPLACE_NULL_WITH_DEFAULT_DOC)
)  # fmt: skip


class SetSchemaMetadata(KeyOrValueTransformation, Transformation[ConnectRecord]):
    """Set the schema name, version or both on the record's key (``SetSchemaMetadata.Key``) or
    value (``SetSchemaMetadata.Value``) schema."""

    java_class_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._schema_name: str | None = None
        self._schema_version: int | None = None
        self._replace_null_with_default = True
        self._cache = SchemaCache()

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        config = CONFIG_DEF.parse(configs)
        self._schema_name = config[SCHEMA_NAME]
        self._schema_version = config[SCHEMA_VERSION]
        self._replace_null_with_default = config[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        if self._schema_name is None and self._schema_version is None:
            raise ConfigException("Neither schema name nor version configured")
        self._cache = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.operating_value(record)
        schema = self.operating_schema(record)
        if value is None and schema is None:
            return record
        schema = require_schema(schema, "updating schema metadata")
        updated_schema = self._cache.get_or_compute(schema, self._updated_schema)
        log.debug(
            "Applying SetSchemaMetadata SMT. Original schema: %s, updated schema: %s",
            schema,
            updated_schema,
        )
        if isinstance(value, Struct):
            # Same fields, same schemas: the values carry over as they are.
            value = struct_with_values(
                updated_schema, struct_values(value, self._replace_null_with_default)
            )
        return self.new_record(record, updated_schema, value)

    def _updated_schema(self, schema: Schema) -> Schema:
        is_map = schema.type is Type.MAP
        return Schema(
            schema.type,
            optional=schema.optional,
            default_value=schema.default_value if schema.type is not Type.STRUCT else None,
            name=self._schema_name if self._schema_name is not None else schema.name,
            version=self._schema_version if self._schema_version is not None else schema.version,
            doc=schema.doc,
            parameters=schema.parameters,
            fields=schema.fields if schema.type is Type.STRUCT else None,
            key_schema=schema.key_schema if is_map else None,
            value_schema=schema.value_schema if is_map or schema.type is Type.ARRAY else None,
        )

    def close(self) -> None:
        self._cache.clear()


add_key_value_variants(SetSchemaMetadata, "SetSchemaMetadata")
