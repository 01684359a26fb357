"""HoistField: wrap the key or value in a struct (or map) with a single field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kconnect.api.config import NO_DEFAULT_VALUE, ConfigDef
from kconnect.api.data import Schema, SchemaBuilder
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._util import (
    KeyOrValueTransformation,
    SchemaCache,
    add_key_value_variants,
    plugin_version,
    struct_with_values,
)

FIELD = "field"

CONFIG_DEF = ConfigDef().define(
    FIELD,
    ConfigDef.Type.STRING,
    default=NO_DEFAULT_VALUE,
    importance=ConfigDef.Importance.MEDIUM,
    documentation="Field name for the single field that will be created in the resulting "
    "Struct or Map.",
)


class HoistField(KeyOrValueTransformation, Transformation[ConnectRecord]):
    """Wrap data using the specified field name in a Struct when schema present, or a Map in
    the case of schemaless data.

    Use the concrete transformation type designed for the record key (``HoistField.Key``) or
    value (``HoistField.Value``)."""

    java_class_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._field = ""
        self._cache = SchemaCache()

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        self._field = CONFIG_DEF.parse(configs)[FIELD]
        self._cache = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        schema = self.operating_schema(record)
        value = self.operating_value(record)
        if schema is None:
            return self.new_record(record, None, {self._field: value})
        updated_schema = self._cache.get_or_compute(schema, self._hoisted_schema)
        # The one field's schema is the record's own schema for this value, so the value needs
        # no new validation (this runs once per record).
        return self.new_record(record, updated_schema, struct_with_values(updated_schema, [value]))

    def _hoisted_schema(self, schema: Schema) -> Schema:
        return SchemaBuilder.struct().field(self._field, schema).build()

    def close(self) -> None:
        self._cache.clear()


add_key_value_variants(HoistField, "HoistField")
