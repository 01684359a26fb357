"""InsertField: add fields holding the record's topic, partition, offset, timestamp or a
static value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from kconnect.api.config import ConfigDef
from kconnect.api.data import Schema, SchemaBuilder, Timestamp
from kconnect.api.errors import ConfigException
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
    plugin_version,
    require_map,
    require_sink_record,
    require_struct,
    struct_values,
    struct_with_values,
)

TOPIC_FIELD = "topic.field"
PARTITION_FIELD = "partition.field"
OFFSET_FIELD = "offset.field"
TIMESTAMP_FIELD = "timestamp.field"
STATIC_FIELD = "static.field"
STATIC_VALUE = "static.value"

_OPTIONALITY_DOC = (
    "Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it "
    "optional (the default)."
)
_MEDIUM = ConfigDef.Importance.MEDIUM

CONFIG_DEF = (
    ConfigDef()
    .define(TOPIC_FIELD, ConfigDef.Type.STRING, default=None, importance=_MEDIUM,
            documentation="Field name for Kafka topic. " + _OPTIONALITY_DOC)
    .define(PARTITION_FIELD, ConfigDef.Type.STRING, default=None, importance=_MEDIUM,
            documentation="Field name for Kafka partition. " + _OPTIONALITY_DOC)
    .define(OFFSET_FIELD, ConfigDef.Type.STRING, default=None, importance=_MEDIUM,
            documentation="Field name for Kafka offset - only applicable to sink connectors.<br/>"
            + _OPTIONALITY_DOC)
    .define(TIMESTAMP_FIELD, ConfigDef.Type.STRING, default=None, importance=_MEDIUM,
            documentation="Field name for record timestamp. " + _OPTIONALITY_DOC)
    .define(STATIC_FIELD, ConfigDef.Type.STRING, default=None, importance=_MEDIUM,
            documentation="Field name for static data field. " + _OPTIONALITY_DOC)
    .define(STATIC_VALUE, ConfigDef.Type.STRING, default=None, importance=_MEDIUM,
            documentation="Static field value, if field name configured.")
    .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigDef.Type.BOOLEAN, default=True,
            importance=_MEDIUM, documentation=REPLACE_NULL_WITH_DEFAULT_DOC)
)  # fmt: skip

PURPOSE = "field insertion"
_OPTIONAL_TIMESTAMP_SCHEMA = Timestamp.builder().optional().build()


class InsertionSpec(NamedTuple):
    """A field to insert: its name and whether it is optional (``name?``/``name``) or
    required (``name!``)."""

    name: str
    optional: bool

    @classmethod
    def parse(cls, spec: str | None) -> InsertionSpec | None:
        if spec is None:
            return None
        if spec.endswith("?"):
            return cls(spec[:-1], True)
        if spec.endswith("!"):
            return cls(spec[:-1], False)
        return cls(spec, True)

    def __str__(self) -> str:
        return self.name


class InsertField(KeyOrValueTransformation, Transformation[ConnectRecord]):
    """Insert field(s) using attributes from the record metadata or a configured static value.

    Use the concrete transformation type designed for the record key (``InsertField.Key``) or
    value (``InsertField.Value``)."""

    java_class_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._topic: InsertionSpec | None = None
        self._partition: InsertionSpec | None = None
        self._offset: InsertionSpec | None = None
        self._timestamp: InsertionSpec | None = None
        self._static: InsertionSpec | None = None
        self._static_value: str | None = None
        self._replace_null_with_default = True
        self._cache = SchemaCache()

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        config = CONFIG_DEF.parse(configs)
        self._topic = InsertionSpec.parse(config[TOPIC_FIELD])
        self._partition = InsertionSpec.parse(config[PARTITION_FIELD])
        self._offset = InsertionSpec.parse(config[OFFSET_FIELD])
        self._timestamp = InsertionSpec.parse(config[TIMESTAMP_FIELD])
        self._static = InsertionSpec.parse(config[STATIC_FIELD])
        self._static_value = config[STATIC_VALUE]
        self._replace_null_with_default = config[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        if not (self._topic or self._partition or self._offset or self._timestamp or self._static):
            raise ConfigException("No field insertion configured")
        if self._static is not None and self._static_value is None:
            raise config_error(
                STATIC_VALUE, None, f"No value specified for static field: {self._static}"
            )
        self._cache = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.operating_value(record)
        if value is None:
            return record
        if self.operating_schema(record) is None:
            return self._apply_schemaless(record, value)
        return self._apply_with_schema(record, value)

    def _insertions(
        self, record: ConnectRecord, timestamp_as_datetime: bool
    ) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        if self._topic is not None:
            out.append((self._topic.name, record.topic))
        if self._partition is not None and record.kafka_partition is not None:
            out.append((self._partition.name, record.kafka_partition))
        if self._offset is not None:
            out.append((self._offset.name, require_sink_record(record, PURPOSE).kafka_offset))
        if self._timestamp is not None and record.timestamp is not None:
            ts: Any = record.timestamp
            if timestamp_as_datetime:
                ts = Timestamp.to_logical(Timestamp.SCHEMA, ts)
            out.append((self._timestamp.name, ts))
        if self._static is not None and self._static_value is not None:
            out.append((self._static.name, self._static_value))
        return out

    def _apply_schemaless(self, record: ConnectRecord, value: Any) -> ConnectRecord:
        updated = dict(require_map(value, PURPOSE))
        updated.update(self._insertions(record, timestamp_as_datetime=False))
        return self.new_record(record, None, updated)

    def _apply_with_schema(self, record: ConnectRecord, value: Any) -> ConnectRecord:
        struct = require_struct(value, PURPOSE)
        updated_schema, added, index_of = self._cache.get_or_compute(
            struct.schema, self._updated_schema
        )
        # The copied fields keep their schemas, so their values need no new validation.
        values = struct_values(struct, self._replace_null_with_default)
        values.extend([None] * added)
        # Inserted values are never None and have their field's type by construction (topic:
        # str, partition: int, timestamp: datetime, static: str), so they are written in place
        # rather than through put(), which would validate them again for every record.
        for name, field_value in self._insertions(record, timestamp_as_datetime=True):
            values[index_of[name]] = field_value
        return self.new_record(record, updated_schema, struct_with_values(updated_schema, values))

    def _updated_schema(self, schema: Schema) -> tuple[Schema, int, dict[str, int]]:
        """The schema with the inserted fields, how many fields were added, and each field's
        position."""
        builder = copy_schema_basics(schema, SchemaBuilder.struct())
        for field in schema.fields:
            builder.field(field.name, field.schema)
        if self._topic is not None:
            builder.field(
                self._topic.name,
                Schema.OPTIONAL_STRING_SCHEMA if self._topic.optional else Schema.STRING_SCHEMA,
            )
        if self._partition is not None:
            builder.field(
                self._partition.name,
                Schema.OPTIONAL_INT32_SCHEMA if self._partition.optional else Schema.INT32_SCHEMA,
            )
        if self._offset is not None:
            builder.field(
                self._offset.name,
                Schema.OPTIONAL_INT64_SCHEMA if self._offset.optional else Schema.INT64_SCHEMA,
            )
        if self._timestamp is not None:
            builder.field(
                self._timestamp.name,
                _OPTIONAL_TIMESTAMP_SCHEMA if self._timestamp.optional else Timestamp.SCHEMA,
            )
        if self._static is not None:
            builder.field(
                self._static.name,
                Schema.OPTIONAL_STRING_SCHEMA if self._static.optional else Schema.STRING_SCHEMA,
            )
        updated = builder.build()
        index_of = {field.name: field.index for field in updated.fields}
        return updated, len(updated.fields) - len(schema.fields), index_of

    def close(self) -> None:
        self._cache.clear()


add_key_value_variants(InsertField, "InsertField")
