"""ValueToKey: make the record key from fields of the value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kconnect.api.config import NO_DEFAULT_VALUE, ConfigDef
from kconnect.api.data import Schema, SchemaBuilder
from kconnect.api.errors import DataException
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._util import (
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_DOC,
    TRANSFORMS_PACKAGE,
    NonEmptyListValidator,
    SchemaCache,
    plugin_version,
    require_map,
    require_struct,
    struct_values,
    struct_with_values,
)

FIELDS = "fields"
PURPOSE = "copying fields from value to key"

CONFIG_DEF = (
    ConfigDef()
    .define(FIELDS, ConfigDef.Type.LIST, default=NO_DEFAULT_VALUE,
            validator=NonEmptyListValidator(), importance=ConfigDef.Importance.HIGH,
            documentation="Field names on the record value to extract as the record key.")
    .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigDef.Type.BOOLEAN, default=True,
            importance=ConfigDef.Importance.MEDIUM, documentation=REPLACE_NULL_WITH_DEFAULT_DOC)
)  # fmt: skip


class ValueToKey(Transformation[ConnectRecord]):
    """Replace the record key with a new key formed from a subset of fields in the record
    value."""

    java_class_names = (f"{TRANSFORMS_PACKAGE}.ValueToKey",)

    def __init__(self) -> None:
        self._fields: list[str] = []
        self._replace_null_with_default = True
        self._cache = SchemaCache()

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        config = CONFIG_DEF.parse(configs)
        self._fields = list(config[FIELDS])
        self._replace_null_with_default = config[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        self._cache = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        if record.value_schema is None:
            value = require_map(record.value, PURPOSE)
            key = {name: value.get(name) for name in self._fields}
            return record.new_record(key_schema=None, key=key)
        struct = require_struct(record.value, PURPOSE)
        key_schema, indexes = self._cache.get_or_compute(struct.schema, self._key_schema)
        values = struct_values(struct, self._replace_null_with_default)
        key = struct_with_values(key_schema, [values[i] for i in indexes])
        return record.new_record(key_schema=key_schema, key=key)

    def _key_schema(self, value_schema: Schema) -> tuple[Schema, list[int]]:
        builder = SchemaBuilder.struct()
        indexes: list[int] = []
        for name in self._fields:
            field = value_schema.field(name)
            if field is None:
                raise DataException(f"Field does not exist: {name}")
            builder.field(name, field.schema)
            indexes.append(field.index)
        return builder.build(), indexes

    def close(self) -> None:
        self._cache.clear()
