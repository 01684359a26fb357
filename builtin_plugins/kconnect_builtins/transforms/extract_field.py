"""ExtractField: replace the key or value with one of its fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kconnect.api.config import NO_DEFAULT_VALUE, ConfigDef
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._field_path import (
    SingleFieldPath,
    append_config_to,
    syntax_version,
)
from kconnect_builtins.transforms._util import (
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_DOC,
    KeyOrValueTransformation,
    add_key_value_variants,
    plugin_version,
    require_map_or_null,
    require_struct_or_null,
)

FIELD = "field"
PURPOSE = "field extraction"

CONFIG_DEF = append_config_to(
    ConfigDef()
    .define(FIELD, ConfigDef.Type.STRING, default=NO_DEFAULT_VALUE,
            importance=ConfigDef.Importance.MEDIUM, documentation="Field name to extract.")
    .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigDef.Type.BOOLEAN, default=True,
            importance=ConfigDef.Importance.MEDIUM, documentation=REPLACE_NULL_WITH_DEFAULT_DOC)
)  # fmt: skip


class ExtractField(KeyOrValueTransformation, Transformation[ConnectRecord]):
    """Extract the specified field from a Struct when schema present, or a Map in the case of
    schemaless data. Any null values are passed through unmodified.

    Use the concrete transformation type designed for the record key (``ExtractField.Key``)
    or value (``ExtractField.Value``)."""

    java_class_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._path = SingleFieldPath("")
        self._original_path = ""
        self._replace_null_with_default = True

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        config = CONFIG_DEF.parse(configs)
        self._original_path = config[FIELD]
        self._path = SingleFieldPath(self._original_path, syntax_version(config))
        self._replace_null_with_default = config[REPLACE_NULL_WITH_DEFAULT_CONFIG]

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        schema = self.operating_schema(record)
        if schema is None:
            mapping = require_map_or_null(self.operating_value(record), PURPOSE)
            value = None if mapping is None else self._path.value_from_map(mapping)
            return self.new_record(record, None, value)
        struct = require_struct_or_null(self.operating_value(record), PURPOSE)
        field = self._path.field_from(schema)
        if field is None:
            raise ValueError(f"Unknown field: {self._original_path}")
        value = (
            None
            if struct is None
            else self._path.value_from_struct(struct, self._replace_null_with_default)
        )
        return self.new_record(record, field.schema, value)

    def close(self) -> None:
        pass


add_key_value_variants(ExtractField, "ExtractField")
