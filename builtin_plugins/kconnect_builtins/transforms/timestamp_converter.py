"""TimestampConverter: convert timestamps between Unix epoch numbers, formatted strings and
Connect's Date, Time and Timestamp types."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Any

from kconnect.api.config import NO_DEFAULT_VALUE, ConfigDef, ValidString
from kconnect.api.data import Date, Schema, SchemaBuilder, Time, Timestamp, Type
from kconnect.api.errors import ConfigException, ConnectException, DataException
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._datefmt import JavaDateFormat
from kconnect_builtins.transforms._util import (
    EPOCH,
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_DOC,
    KeyOrValueTransformation,
    SchemaCache,
    add_key_value_variants,
    class_name,
    copy_schema_basics,
    plugin_version,
    require_map,
    require_struct_or_null,
    struct_values,
    struct_with_values,
)

FIELD = "field"
TARGET_TYPE = "target.type"
FORMAT = "format"
UNIX_PRECISION = "unix.precision"
PURPOSE = "converting timestamp formats"

TYPE_STRING = "string"
TYPE_UNIX = "unix"
TYPE_DATE = "Date"
TYPE_TIME = "Time"
TYPE_TIMESTAMP = "Timestamp"

UNIX_PRECISION_MILLIS = "milliseconds"
UNIX_PRECISION_MICROS = "microseconds"
UNIX_PRECISION_NANOS = "nanoseconds"
UNIX_PRECISION_SECONDS = "seconds"

OPTIONAL_DATE_SCHEMA = Date.builder().optional().build()
OPTIONAL_TIMESTAMP_SCHEMA = Timestamp.builder().optional().build()
OPTIONAL_TIME_SCHEMA = Time.builder().optional().build()

CONFIG_DEF = (
    ConfigDef()
    .define(FIELD, ConfigDef.Type.STRING, default="", importance=ConfigDef.Importance.HIGH,
            documentation="The field containing the timestamp, or empty if the entire value is a "
            "timestamp")
    .define(TARGET_TYPE, ConfigDef.Type.STRING, default=NO_DEFAULT_VALUE,
            validator=ValidString.in_(TYPE_STRING, TYPE_UNIX, TYPE_DATE, TYPE_TIME, TYPE_TIMESTAMP),
            importance=ConfigDef.Importance.HIGH,
            documentation="The desired timestamp representation: string, unix, Date, Time, or "
            "Timestamp")
    .define(FORMAT, ConfigDef.Type.STRING, default="", importance=ConfigDef.Importance.MEDIUM,
            documentation="A SimpleDateFormat-compatible format for the timestamp. Used to "
            "generate the output when type=string or used to parse the input if the input is a "
            "string.")
    .define(UNIX_PRECISION, ConfigDef.Type.STRING, default=UNIX_PRECISION_MILLIS,
            validator=ValidString.in_(UNIX_PRECISION_NANOS, UNIX_PRECISION_MICROS,
                                      UNIX_PRECISION_MILLIS, UNIX_PRECISION_SECONDS),
            importance=ConfigDef.Importance.LOW,
            documentation="The desired Unix precision for the timestamp: seconds, milliseconds, "
            "microseconds, or nanoseconds. Used to generate the output when type=unix or used to "
            "parse the input if the input is a Long.Note: This SMT will cause precision loss "
            "during conversions from, and to, values with sub-millisecond components.")
    .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigDef.Type.BOOLEAN, default=True,
            importance=ConfigDef.Importance.MEDIUM, documentation=REPLACE_NULL_WITH_DEFAULT_DOC)
)  # fmt: skip

# Milliseconds per unit of each Unix precision, as (multiplier, divisor).
_UNIX_SCALE = {
    UNIX_PRECISION_SECONDS: (1000, 1),
    UNIX_PRECISION_MILLIS: (1, 1),
    UNIX_PRECISION_MICROS: (1, 1000),
    UNIX_PRECISION_NANOS: (1, 1_000_000),
}


def _div_toward_zero(value: int, divisor: int) -> int:
    # Java's integer division (TimeUnit conversions) truncates toward zero.
    quotient = abs(value) // divisor
    return -quotient if value < 0 else quotient


def _as_utc(value: _dt.datetime) -> _dt.datetime:
    return value.replace(tzinfo=_dt.UTC) if value.tzinfo is None else value.astimezone(_dt.UTC)


def _date_to_raw(value: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return _as_utc(value)
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.UTC)
    raise DataException(f"Expected Date to be a java.util.Date, but found {class_name(value)}")


def _time_to_raw(value: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return _as_utc(value)
    if isinstance(value, _dt.time):
        return _dt.datetime.combine(EPOCH.date(), value.replace(tzinfo=None), tzinfo=_dt.UTC)
    raise DataException(f"Expected Time to be a java.util.Date, but found {class_name(value)}")


def _timestamp_to_raw(value: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return _as_utc(value)
    if isinstance(value, _dt.date):
        return _date_to_raw(value)
    raise DataException(f"Expected Timestamp to be a java.util.Date, but found {class_name(value)}")


class TimestampConverter(KeyOrValueTransformation, Transformation[ConnectRecord]):
    """Convert timestamps between different formats such as Unix epoch, strings, and Connect
    Date/Timestamp types. Applies to individual fields or to the entire value.

    Use the concrete transformation type designed for the record key
    (``TimestampConverter.Key``) or value (``TimestampConverter.Value``)."""

    java_class_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._field = ""
        self._type = TYPE_TIMESTAMP
        self._format: JavaDateFormat | None = None
        self._unix_precision = UNIX_PRECISION_MILLIS
        self._replace_null_with_default = True
        self._cache = SchemaCache()
        self._to_raw: dict[str, Callable[[Any], _dt.datetime]] = {}
        self._to_type: Callable[[_dt.datetime], Any] = lambda raw: raw
        self._type_schema: tuple[Schema, Schema] = (Timestamp.SCHEMA, OPTIONAL_TIMESTAMP_SCHEMA)

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        config = CONFIG_DEF.parse(configs)
        self._field = config[FIELD] or ""
        self._type = config[TARGET_TYPE]
        pattern = config[FORMAT] or ""
        self._unix_precision = config[UNIX_PRECISION]
        self._replace_null_with_default = config[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        if self._type == TYPE_STRING and not pattern.strip():
            raise ConfigException(
                "TimestampConverter requires format option to be specified when using string "
                "timestamps"
            )
        self._format = None
        if pattern.strip():
            try:
                self._format = JavaDateFormat(pattern)
            except ValueError:
                raise ConfigException(
                    "TimestampConverter requires a SimpleDateFormat-compatible pattern for "
                    f"string timestamps: {pattern}"
                ) from None
        self._to_raw = {
            TYPE_STRING: self._string_to_raw,
            TYPE_UNIX: self._unix_to_raw,
            TYPE_DATE: _date_to_raw,
            TYPE_TIME: _time_to_raw,
            TYPE_TIMESTAMP: _timestamp_to_raw,
        }
        self._to_type = {
            TYPE_STRING: self._raw_to_string,
            TYPE_UNIX: self._raw_to_unix,
            TYPE_DATE: lambda raw: raw.date(),
            TYPE_TIME: lambda raw: raw.time().replace(
                microsecond=raw.microsecond // 1000 * 1000, tzinfo=None
            ),
            TYPE_TIMESTAMP: lambda raw: raw,
        }[self._type]
        self._type_schema = {
            TYPE_STRING: (Schema.STRING_SCHEMA, Schema.OPTIONAL_STRING_SCHEMA),
            TYPE_UNIX: (Schema.INT64_SCHEMA, Schema.OPTIONAL_INT64_SCHEMA),
            TYPE_DATE: (Date.SCHEMA, OPTIONAL_DATE_SCHEMA),
            TYPE_TIME: (Time.SCHEMA, OPTIONAL_TIME_SCHEMA),
            TYPE_TIMESTAMP: (Timestamp.SCHEMA, OPTIONAL_TIMESTAMP_SCHEMA),
        }[self._type]
        self._cache = SchemaCache()

    # -- translators ---------------------------------------------------------------------------
    def _string_to_raw(self, value: Any) -> _dt.datetime:
        if not isinstance(value, str):
            raise DataException(
                f"Expected string timestamp to be a String, but found {class_name(value)}"
            )
        if self._format is None:
            raise DataException(
                "TimestampConverter requires format option to be specified when using string "
                "timestamps"
            )
        try:
            return self._format.parse(value)
        except (ValueError, OverflowError):
            raise DataException(
                f"Could not parse timestamp: value ({value}) does not match pattern "
                f"({self._format.pattern})"
            ) from None

    def _raw_to_string(self, raw: _dt.datetime) -> str:
        return self._format.format(raw)  # type: ignore[union-attr]

    def _unix_to_raw(self, value: Any) -> _dt.datetime:
        if not isinstance(value, int) or isinstance(value, bool):
            raise DataException(
                f"Expected Unix timestamp to be a Long, but found {class_name(value)}"
            )
        multiplier, divisor = _UNIX_SCALE[self._unix_precision]
        millis = _div_toward_zero(value * multiplier, divisor)
        return Timestamp.to_logical(Timestamp.SCHEMA, millis)

    def _raw_to_unix(self, raw: _dt.datetime) -> int:
        millis = Timestamp.from_logical(Timestamp.SCHEMA, raw)
        if self._unix_precision == UNIX_PRECISION_SECONDS:
            return _div_toward_zero(millis, 1000)
        if self._unix_precision == UNIX_PRECISION_MICROS:
            return millis * 1000
        if self._unix_precision == UNIX_PRECISION_NANOS:
            return millis * 1_000_000
        return millis

    def _convert(self, value: Any, source_type: str | None) -> Any:
        if value is None:
            return None
        if source_type is None:
            source_type = _infer_type(value)
        return self._to_type(self._to_raw[source_type](value))

    # -- records -------------------------------------------------------------------------------
    def apply(self, record: ConnectRecord) -> ConnectRecord:
        schema = self.operating_schema(record)
        if schema is None:
            return self._apply_schemaless(record)
        return self._apply_with_schema(record, schema)

    def _apply_schemaless(self, record: ConnectRecord) -> ConnectRecord:
        value = self.operating_value(record)
        if value is None or not self._field:
            return self.new_record(record, None, self._convert(value, None))
        updated = dict(require_map(value, PURPOSE))
        updated[self._field] = self._convert(updated.get(self._field), None)
        return self.new_record(record, None, updated)

    def _apply_with_schema(self, record: ConnectRecord, schema: Schema) -> ConnectRecord:
        value = self.operating_value(record)
        if not self._field:
            updated_schema = self._type_schema[1 if schema.optional else 0]
            return self.new_record(
                record, updated_schema, self._convert(value, _type_from_schema(schema))
            )
        struct = require_struct_or_null(value, PURPOSE)
        updated_schema, converted = self._cache.get_or_compute(schema, self._updated_schema)
        if struct is None:
            return self.new_record(record, updated_schema, None)
        values = struct_values(struct, self._replace_null_with_default)
        if converted is not None:
            index, source_type = converted
            values[index] = self._convert(values[index], source_type)
        return self.new_record(record, updated_schema, struct_with_values(updated_schema, values))

    def _updated_schema(self, schema: Schema) -> tuple[Schema, tuple[int, str] | None]:
        """The new struct schema, and the converted field's index and source type."""
        builder = copy_schema_basics(schema, SchemaBuilder.struct())
        converted: tuple[int, str] | None = None
        for field in schema.fields:
            if field.name == self._field:
                builder.field(field.name, self._type_schema[1 if field.schema.optional else 0])
                converted = (field.index, _type_from_schema(field.schema))
            else:
                builder.field(field.name, field.schema)
        if schema.optional:
            builder.optional()
        # A struct schema's own default is dropped: a Struct default must carry the very
        # schema it is the default of, which an immutable schema cannot be built with.
        return builder.build(), converted

    def close(self) -> None:
        self._cache.clear()


def _type_from_schema(schema: Schema) -> str:
    if schema.name == Timestamp.LOGICAL_NAME:
        return TYPE_TIMESTAMP
    if schema.name == Date.LOGICAL_NAME:
        return TYPE_DATE
    if schema.name == Time.LOGICAL_NAME:
        return TYPE_TIME
    if schema.type is Type.STRING:
        return TYPE_STRING
    if schema.type is Type.INT64:
        return TYPE_UNIX
    raise ConnectException(f"Schema {schema} does not correspond to a known timestamp type format")


def _infer_type(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        return TYPE_TIMESTAMP
    if isinstance(value, _dt.date):
        return TYPE_DATE
    if isinstance(value, _dt.time):
        return TYPE_TIME
    if isinstance(value, int) and not isinstance(value, bool):
        return TYPE_UNIX
    if isinstance(value, str):
        return TYPE_STRING
    raise DataException(
        f"TimestampConverter does not support class {class_name(value)} objects as timestamps"
    )


add_key_value_variants(TimestampConverter, "TimestampConverter")
