"""Flatten: turn nested structs (or maps) into one level, joining field names."""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
from collections.abc import Mapping
from typing import Any

from kconnect.api.config import ConfigDef
from kconnect.api.data import Schema, SchemaBuilder, Struct, Type
from kconnect.api.errors import DataException
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._util import (
    KeyOrValueTransformation,
    SchemaCache,
    add_key_value_variants,
    builder_like,
    class_name,
    copy_schema_basics,
    plugin_version,
    require_map,
    require_struct_or_null,
    struct_with_values,
)

DELIMITER = "delimiter"
DELIMITER_DEFAULT = "."
PURPOSE = "flattening"

CONFIG_DEF = ConfigDef().define(
    DELIMITER,
    ConfigDef.Type.STRING,
    default=DELIMITER_DEFAULT,
    importance=ConfigDef.Importance.MEDIUM,
    documentation="Delimiter to insert between field names from the input record when "
    "generating field names for the output record",
)

_LEAF_TYPES = frozenset(
    (Type.INT8, Type.INT16, Type.INT32, Type.INT64, Type.FLOAT32, Type.FLOAT64, Type.BOOLEAN,
     Type.STRING, Type.BYTES, Type.ARRAY)
)  # fmt: skip
# Schemaless values kept as they are (Connect's primitive and logical values, and arrays).
_SCHEMALESS_LEAVES = (
    bool, int, float, str, bytes, bytearray, memoryview, list, tuple, _decimal.Decimal,
    _dt.date, _dt.time,
)  # fmt: skip


class Flatten(KeyOrValueTransformation, Transformation[ConnectRecord]):
    """Flatten a nested data structure, generating names for each field by concatenating the
    field names at each level with a configurable delimiter character. Applies to Struct when
    schema present, or a Map in the case of schemaless data. Array fields and their contents
    are not modified. The default delimiter is '.'.

    Use the concrete transformation type designed for the record key (``Flatten.Key``) or
    value (``Flatten.Value``)."""

    java_class_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._delimiter = DELIMITER_DEFAULT
        self._cache = SchemaCache()

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        self._delimiter = CONFIG_DEF.parse(configs)[DELIMITER]
        self._cache = SchemaCache()

    def _name(self, prefix: str, name: str) -> str:
        return name if not prefix else prefix + self._delimiter + name

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.operating_value(record)
        if value is None:
            return record
        schema = self.operating_schema(record)
        if schema is None:
            flattened: dict[str, Any] = {}
            self._flatten_map(require_map(value, PURPOSE), "", flattened)
            return self.new_record(record, None, flattened)
        return self._apply_with_schema(record, schema, value)

    # -- schemaless ----------------------------------------------------------------------------
    def _flatten_map(self, original: dict, prefix: str, out: dict[str, Any]) -> None:
        for key, field_value in original.items():
            name = self._name(prefix, key)
            if field_value is None or isinstance(field_value, _SCHEMALESS_LEAVES):
                out[name] = field_value
            elif isinstance(field_value, dict):
                self._flatten_map(field_value, name, out)
            elif isinstance(field_value, Struct):
                raise DataException(
                    f"Flatten transformation does not support class {class_name(field_value)} "
                    f"for record without schemas (for field {name})."
                )
            else:
                raise DataException(
                    f"Flatten transformation was passed a value of type class "
                    f"{class_name(field_value)} which is not supported by Connect's data API"
                )

    # -- with schema ---------------------------------------------------------------------------
    def _apply_with_schema(
        self, record: ConnectRecord, schema: Schema, value: Any
    ) -> ConnectRecord:
        struct = require_struct_or_null(value, PURPOSE)
        updated_schema, paths = self._cache.get_or_compute(schema, self._flattened_schema)
        if struct is None:
            return self.new_record(record, updated_schema, None)
        values: list[Any] = []
        for path in paths:
            current: Struct | None = struct
            for field in path[:-1]:
                current = current.get(field)  # type: ignore[union-attr]
                if current is None:
                    break
            # A null parent leaves its flattened fields unset, as in Kafka.
            values.append(None if current is None else current.get(path[-1]))
        # Leaf values keep their schemas (only optionality and defaults may change).
        return self.new_record(record, updated_schema, struct_with_values(updated_schema, values))

    def _flattened_schema(self, schema: Schema) -> tuple[Schema, list[tuple[Any, ...]]]:
        """The flat schema, and for each of its fields the path of input fields leading to it."""
        builder = copy_schema_basics(schema, SchemaBuilder.struct())
        paths: list[tuple[Any, ...]] = []
        self._build_schema(schema, "", builder, schema.optional, schema.default_value, (), paths)
        return builder.build(), paths

    def _build_schema(
        self,
        schema: Schema,
        prefix: str,
        builder: SchemaBuilder,
        optional: bool,
        default_from_parent: Struct | None,
        path: tuple[Any, ...],
        paths: list[tuple[Any, ...]],
    ) -> None:
        for field in schema.fields:
            name = self._name(prefix, field.name)
            field_optional = optional or field.schema.optional
            if field.schema.default_value is not None:
                field_default = field.schema.default_value
            elif default_from_parent is not None:
                field_default = default_from_parent.get(field)
            else:
                field_default = None
            if field.schema.type in _LEAF_TYPES:
                leaf = builder_like(field.schema)
                if field_optional:
                    leaf.optional()
                if field_default is not None:
                    leaf.default_value(field_default)
                builder.field(name, leaf.build())
                paths.append((*path, field))
            elif field.schema.type is Type.STRUCT:
                self._build_schema(
                    field.schema,
                    name,
                    builder,
                    field_optional,
                    field_default,
                    (*path, field),
                    paths,
                )
            else:
                raise DataException(
                    f"Flatten transformation does not support {field.schema.type.name} for "
                    f"record with schemas (for field {name})."
                )

    def close(self) -> None:
        self._cache.clear()


add_key_value_variants(Flatten, "Flatten")
