"""MaskField: replace fields with a null-like value of their type, or a given replacement."""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
from collections.abc import Callable, Mapping
from typing import Any

from kconnect.api.config import NO_DEFAULT_VALUE, ConfigDef, NonEmptyString
from kconnect.api.data import Date, Decimal, Schema, Time, Timestamp, Type
from kconnect.api.errors import DataException
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._util import (
    EPOCH,
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_DOC,
    KeyOrValueTransformation,
    NonEmptyListValidator,
    SchemaCache,
    add_key_value_variants,
    class_name,
    plugin_version,
    require_map,
    require_struct,
    struct_values,
    struct_with_values,
    wrap_int,
)

FIELDS = "fields"
REPLACEMENT = "replacement"
PURPOSE = "mask fields"

CONFIG_DEF = (
    ConfigDef()
    .define(FIELDS, ConfigDef.Type.LIST, default=NO_DEFAULT_VALUE,
            validator=NonEmptyListValidator(),
            importance=ConfigDef.Importance.HIGH, documentation="Names of fields to mask.")
    .define(REPLACEMENT, ConfigDef.Type.STRING, default=None, validator=NonEmptyString(),
            importance=ConfigDef.Importance.LOW,
            documentation="Custom value replacement, that will be applied to all 'fields' values "
            "(numeric or non-empty string values only).")
    .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigDef.Type.BOOLEAN, default=True,
            importance=ConfigDef.Importance.MEDIUM, documentation=REPLACE_NULL_WITH_DEFAULT_DOC)
)  # fmt: skip

_EPOCH_DATE = _dt.date(1970, 1, 1)
_MIDNIGHT = _dt.time(0)


def _unconvertible(replacement: str, what: str = "number") -> DataException:
    return DataException(f"Unable to convert {replacement} (str) to {what}")


def _to_int(replacement: str, type_: Type) -> int:
    try:
        number = _decimal.Decimal(replacement.strip())
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(replacement)
    except (ValueError, _decimal.InvalidOperation):
        raise _unconvertible(replacement) from None
    value = int(number)
    if wrap_int(value, type_) != value:
        raise DataException(f"Value {replacement} out of range for {type_.name}")
    return value


def _to_float(replacement: str) -> float:
    try:
        return float(replacement.strip())
    except ValueError:
        raise _unconvertible(replacement) from None


def _to_decimal(replacement: str) -> _decimal.Decimal:
    try:
        number = _decimal.Decimal(replacement.strip())
    except _decimal.InvalidOperation:
        raise _unconvertible(replacement) from None
    if not number.is_finite():
        raise _unconvertible(replacement)
    return number


def _masked_by_schema(schema: Schema) -> Callable[[Any, str | None], Any]:
    """How to mask a (non-null) value of ``schema``: its null-like value, or the replacement
    converted to its type."""
    name = schema.name
    type_ = schema.type
    if name == Decimal.LOGICAL_NAME:
        return lambda v, r: _decimal.Decimal(0) if r is None else _to_decimal(r)
    if name in (Date.LOGICAL_NAME, Time.LOGICAL_NAME, Timestamp.LOGICAL_NAME):
        null_like = {
            Date.LOGICAL_NAME: _EPOCH_DATE,
            Time.LOGICAL_NAME: _MIDNIGHT,
            Timestamp.LOGICAL_NAME: EPOCH,
        }[name]
        return lambda v, r: null_like if r is None else _no_custom_replacement(v)
    if type_ in (Type.INT8, Type.INT16, Type.INT32, Type.INT64):
        return lambda v, r: 0 if r is None else _to_int(r, type_)
    if type_ in (Type.FLOAT32, Type.FLOAT64):
        return lambda v, r: 0.0 if r is None else _to_float(r)
    if type_ is Type.STRING:
        return lambda v, r: "" if r is None else r
    if type_ is Type.BOOLEAN:
        return lambda v, r: False if r is None else _no_custom_replacement(v)
    if type_ is Type.ARRAY:
        return lambda v, r: [] if r is None else _no_custom_replacement(v)
    if type_ is Type.MAP:
        return lambda v, r: {} if r is None else _no_custom_replacement(v)
    return lambda v, r: masked_schemaless(v, r)


def _no_custom_replacement(value: Any) -> Any:
    raise DataException(f"Cannot mask value of type {class_name(value)} with custom replacement.")


def masked_schemaless(value: Any, replacement: str | None) -> Any:
    """Mask a value by its Python type (for maps without schema)."""
    if value is None:
        return None
    if replacement is None:
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return 0
        if isinstance(value, float):
            return 0.0
        if isinstance(value, str):
            return ""
        if isinstance(value, _decimal.Decimal):
            return _decimal.Decimal(0)
        if isinstance(value, _dt.datetime):
            return EPOCH if value.tzinfo is not None else EPOCH.replace(tzinfo=None)
        if isinstance(value, _dt.date):
            return _EPOCH_DATE
        if isinstance(value, _dt.time):
            return _MIDNIGHT
        if isinstance(value, (list, tuple)):
            return []
        if isinstance(value, dict):
            return {}
        raise DataException(f"Cannot mask value of type: {class_name(value)}")
    if isinstance(value, bool):
        return _no_custom_replacement(value)
    if isinstance(value, int):
        return _to_int(replacement, Type.INT64)
    if isinstance(value, float):
        return _to_float(replacement)
    if isinstance(value, str):
        return replacement
    if isinstance(value, _decimal.Decimal):
        return _to_decimal(replacement)
    return _no_custom_replacement(value)


class MaskField(KeyOrValueTransformation, Transformation[ConnectRecord]):
    """Mask specified fields with a valid null value for the field type (i.e. 0, false, empty
    string, and so on).

    For numeric and string fields, an optional replacement value can be specified that is
    converted to the correct type.

    Use the concrete transformation type designed for the record key (``MaskField.Key``) or
    value (``MaskField.Value``)."""

    java_class_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._fields: frozenset[str] = frozenset()
        self._replacement: str | None = None
        self._replace_null_with_default = True
        self._cache = SchemaCache()

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        config = CONFIG_DEF.parse(configs)
        self._fields = frozenset(config[FIELDS])
        self._replacement = config[REPLACEMENT]
        self._replace_null_with_default = config[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        self._cache = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        if self.operating_schema(record) is None:
            return self._apply_schemaless(record)
        return self._apply_with_schema(record)

    def _apply_schemaless(self, record: ConnectRecord) -> ConnectRecord:
        value = require_map(self.operating_value(record), PURPOSE)
        updated = dict(value)
        for name in self._fields:
            updated[name] = masked_schemaless(value.get(name), self._replacement)
        return self.new_record(record, None, updated)

    def _apply_with_schema(self, record: ConnectRecord) -> ConnectRecord:
        struct = require_struct(self.operating_value(record), PURPOSE)
        maskers = self._cache.get_or_compute(struct.schema, self._maskers)
        values = struct_values(struct, self._replace_null_with_default)
        replacement = self._replacement
        for index, mask in maskers:
            if values[index] is not None:
                values[index] = mask(values[index], replacement)
        # Masked values are of their field's type by construction.
        return self.new_record(record, struct.schema, struct_with_values(struct.schema, values))

    def _maskers(self, schema: Schema) -> list[tuple[int, Callable[[Any, str | None], Any]]]:
        return [
            (field.index, _masked_by_schema(field.schema))
            for field in schema.fields
            if field.name in self._fields
        ]

    def close(self) -> None:
        self._cache.clear()


add_key_value_variants(MaskField, "MaskField")
