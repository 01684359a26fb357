"""HeaderFrom: copy or move fields of the key or value into headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kconnect.api.config import NO_DEFAULT_VALUE, ConfigDef, ValidString
from kconnect.api.data import Schema, SchemaBuilder
from kconnect.api.errors import ConfigException, DataException
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._util import (
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_DOC,
    KeyOrValueTransformation,
    NonEmptyListValidator,
    SchemaCache,
    add_key_value_variants,
    copy_schema_basics,
    plugin_version,
    require_map,
    require_struct,
    struct_values,
    struct_with_values,
)

FIELDS = "fields"
HEADERS = "headers"
OPERATION = "operation"
MOVE = "move"
COPY = "copy"

CONFIG_DEF = (
    ConfigDef()
    .define(FIELDS, ConfigDef.Type.LIST, default=NO_DEFAULT_VALUE,
            validator=NonEmptyListValidator(), importance=ConfigDef.Importance.HIGH,
            documentation="Field names in the record whose values are to be copied or moved to "
            "headers.")
    .define(HEADERS, ConfigDef.Type.LIST, default=NO_DEFAULT_VALUE,
            validator=NonEmptyListValidator(), importance=ConfigDef.Importance.HIGH,
            documentation="Header names, in the same order as the field names listed in the "
            "fields configuration property.")
    .define(OPERATION, ConfigDef.Type.STRING, default=NO_DEFAULT_VALUE,
            validator=ValidString.in_(MOVE, COPY), importance=ConfigDef.Importance.HIGH,
            documentation="Either <code>move</code> if the fields are to be moved to the headers "
            "(removed from the key/value), or <code>copy</code> if the fields are to be copied to "
            "the headers (retained in the key/value).")
    .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigDef.Type.BOOLEAN, default=True,
            importance=ConfigDef.Importance.MEDIUM, documentation=REPLACE_NULL_WITH_DEFAULT_DOC)
)  # fmt: skip


class HeaderFrom(KeyOrValueTransformation, Transformation[ConnectRecord]):
    """Moves or copies fields in the key/value of a record into that record's headers.
    Corresponding elements of ``fields`` and ``headers`` together identify a field and the
    header it should be moved or copied to.

    Use the concrete transformation type designed for the record key (``HeaderFrom.Key``) or
    value (``HeaderFrom.Value``)."""

    java_class_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._fields: list[str] = []
        self._headers: list[str] = []
        self._move = False
        self._replace_null_with_default = True
        self._cache = SchemaCache()

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        config = CONFIG_DEF.parse(configs)
        self._fields = list(config[FIELDS])
        self._headers = list(config[HEADERS])
        if len(self._fields) != len(self._headers):
            raise ConfigException(
                f"'{FIELDS}' config must have the same number of elements as '{HEADERS}' config."
            )
        self._move = config[OPERATION] == MOVE
        self._replace_null_with_default = config[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        self._cache = SchemaCache()

    @property
    def _purpose(self) -> str:
        return f"header {MOVE if self._move else COPY}"

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.operating_value(record)
        schema = self.operating_schema(record)
        if schema is None:
            return self._apply_schemaless(record, value)
        return self._apply_with_schema(record, value, schema)

    def _apply_schemaless(self, record: ConnectRecord, value: Any) -> ConnectRecord:
        headers = record.headers.duplicate()
        original = require_map(value, self._purpose)
        updated = dict(original)
        for field, header in zip(self._fields, self._headers, strict=True):
            if self._move:
                updated.pop(field, None)
            headers.add(header, original.get(field), None)
        return self.new_record(record, None, updated, headers)

    def _apply_with_schema(
        self, record: ConnectRecord, value: Any, schema: Schema
    ) -> ConnectRecord:
        headers = record.headers.duplicate()
        struct = require_struct(value, self._purpose)
        plan = self._cache.get_or_compute(schema, self._plan)
        moved_schema, kept, copied = plan
        values = struct_values(struct, self._replace_null_with_default)
        for header, index, field_schema in copied:
            headers.add(header, None if index is None else values[index], field_schema)
        if self._move:
            updated_schema = moved_schema
            updated = struct_with_values(moved_schema, [values[i] for i in kept])
        else:
            updated_schema, updated = schema, struct
        return self.new_record(record, updated_schema, updated, headers)

    def _plan(self, schema: Schema) -> tuple[Schema, list[int], list[tuple[str, Any, Schema]]]:
        """For one input schema: the schema without the moved fields, the indexes of the
        fields it keeps, and each header's name, source field index and schema."""
        builder = copy_schema_basics(schema, SchemaBuilder.struct())
        kept: list[int] = []
        moved = set(self._fields)
        for field in schema.fields:
            if field.name not in moved:
                builder.field(field.name, field.schema)
                kept.append(field.index)
        copied: list[tuple[str, Any, Schema]] = []
        for field_name, header in zip(self._fields, self._headers, strict=True):
            field = schema.field(field_name)
            if field is None:
                # Kafka fails here too, when it looks up the schema of the missing field.
                raise DataException(f"{field_name} is not a valid field name")
            copied.append((header, field.index, field.schema))
        return builder.build(), kept, copied

    def close(self) -> None:
        self._cache.clear()


add_key_value_variants(HeaderFrom, "HeaderFrom")
