"""Cast: change the type of fields, or of the whole key or value."""

from __future__ import annotations

import base64
import datetime as _dt
import decimal as _decimal
import logging
import math
import re
from collections.abc import Mapping
from typing import Any

from kconnect.api.config import NO_DEFAULT_VALUE, ConfigDef, LambdaValidator
from kconnect.api.data import (
    LOGICAL_TYPES,
    Date,
    Schema,
    SchemaBuilder,
    Struct,
    Time,
    Timestamp,
    Type,
)
from kconnect.api.errors import ConfigException, DataException
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._util import (
    EPOCH,
    MILLIS_PER_DAY,
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_DOC,
    KeyOrValueTransformation,
    SchemaCache,
    add_key_value_variants,
    class_name,
    config_error,
    copy_schema_basics,
    java_split,
    plugin_version,
    require_map,
    require_struct,
    struct_values,
    struct_with_values,
    wrap_int,
)

log = logging.getLogger(__name__)

SPEC = "spec"
PURPOSE = "cast types"

SUPPORTED_CAST_INPUT_TYPES = (
    Type.INT8, Type.INT16, Type.INT32, Type.INT64, Type.FLOAT32, Type.FLOAT64, Type.BOOLEAN,
    Type.STRING, Type.BYTES,
)  # fmt: skip
SUPPORTED_CAST_OUTPUT_TYPES = SUPPORTED_CAST_INPUT_TYPES[:-1]


def _type_list(types: tuple[Type, ...]) -> str:
    return "[" + ", ".join(t.name for t in types) + "]"


def _valid_output_type(type_: Type) -> Type:
    if type_ not in SUPPORTED_CAST_OUTPUT_TYPES:
        raise ConfigException(
            f"Cast transformation does not support casting to {type_.name}; supported types "
            f"are {_type_list(SUPPORTED_CAST_OUTPUT_TYPES)}"
        )
    return type_


def _parse_type(text: str) -> Type:
    try:
        return Type[text.strip().upper()]
    except KeyError:
        raise ConfigException(f"Invalid type found in casting spec: {text.strip()}") from None


def parse_field_types(mappings: list[str]) -> tuple[dict[str, Type], Type | None]:
    """The per-field casts of a spec, or the type for casting the whole value."""
    casts: dict[str, Type] = {}
    whole_value: Type | None = None
    for mapping in mappings:
        parts = java_split(mapping, ":")
        if len(parts) > 2:
            raise config_error(SPEC, mappings, f"Invalid rename mapping: {mapping}")
        if len(parts) <= 1:
            whole_value = _valid_output_type(_parse_type(parts[0] if parts else ""))
        else:
            casts[parts[0].strip()] = _valid_output_type(_parse_type(parts[1]))
    if whole_value is not None and len(mappings) > 1:
        raise ConfigException(
            "Cast transformations that specify a type to cast the entire value to may only "
            "specify a single cast in their spec"
        )
    return casts, whole_value


def _validate_spec(name: str, value: Any) -> None:
    if not value:
        raise ConfigException("Must specify at least one field to cast.")
    parse_field_types(value)


CONFIG_DEF = (
    ConfigDef()
    .define(SPEC, ConfigDef.Type.LIST, default=NO_DEFAULT_VALUE,
            validator=LambdaValidator.with_(
                _validate_spec, "list of colon-delimited pairs, e.g. <code>foo:bar,abc:xyz</code>"),
            importance=ConfigDef.Importance.HIGH,
            documentation="List of fields and the type to cast them to of the form "
            "field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the "
            "entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, "
            "and string. Note that binary fields can only be cast to string.")
    .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigDef.Type.BOOLEAN, default=True,
            importance=ConfigDef.Importance.MEDIUM, documentation=REPLACE_NULL_WITH_DEFAULT_DOC)
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Casting values
# --------------------------------------------------------------------------------------------
def _inferred_type(value: Any) -> Type | None:
    """The Connect type of a schemaless value (None for what Connect cannot represent)."""
    if isinstance(value, bool):
        return Type.BOOLEAN
    if isinstance(value, int):
        return Type.INT64
    if isinstance(value, float):
        return Type.FLOAT64
    if isinstance(value, str):
        return Type.STRING
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Type.BYTES
    if isinstance(value, (list, tuple)):
        return Type.ARRAY
    if isinstance(value, dict):
        return Type.MAP
    if isinstance(value, Struct):
        return Type.STRUCT
    return None


_JAVA_INT = re.compile(r"[+-]?\d+")
_INT_RANGES = {
    Type.INT8: (-(2**7), 2**7 - 1),
    Type.INT16: (-(2**15), 2**15 - 1),
    Type.INT32: (-(2**31), 2**31 - 1),
    Type.INT64: (-(2**63), 2**63 - 1),
}


class _OutOfRange(Exception):
    """Java's NumberFormatException: reported as 'out of range for requested data type'."""


def _unexpected(value: Any) -> DataException:
    return DataException(f"Unexpected type in Cast transformation: class {class_name(value)}")


def _float_to_int(value: float, type_: Type) -> int:
    # Java narrows a double to long (for int64) or to int (the rest) saturating, NaN as 0,
    # then wraps to the smaller widths.
    if math.isnan(value):
        return 0
    low, high = _INT_RANGES[Type.INT64 if type_ is Type.INT64 else Type.INT32]
    whole = low if value <= low else high if value >= high else int(value)
    return wrap_int(whole, type_)


def _cast_to_int(value: Any, type_: Type) -> int:
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        return wrap_int(value, type_)
    if isinstance(value, float):
        return _float_to_int(value, type_)
    if isinstance(value, _decimal.Decimal):
        return wrap_int(int(value), type_)
    if isinstance(value, str):
        if not _JAVA_INT.fullmatch(value):
            raise _OutOfRange
        number = int(value)
        low, high = _INT_RANGES[type_]
        if not low <= number <= high:
            raise _OutOfRange
        return number
    raise _unexpected(value)


def _cast_to_float(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float, _decimal.Decimal)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("f", "F", "d", "D"):
            text = text[:-1]
        if text in ("NaN", "+NaN", "-NaN"):
            return math.nan
        if text.lstrip("+-") == "Infinity":
            return -math.inf if text.startswith("-") else math.inf
        if "_" in text or text.lstrip("+-").lower() in ("nan", "inf", "infinity"):
            raise _OutOfRange
        try:
            return float(text)
        except ValueError:
            raise _OutOfRange from None
    raise _unexpected(value)


def _cast_to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, float):
        return not math.isnan(value) and int(value) != 0 if math.isfinite(value) else True
    if isinstance(value, _decimal.Decimal):
        return int(value) != 0
    if isinstance(value, str):
        return value.lower() == "true"
    raise _unexpected(value)


def java_double_str(value: float) -> str:
    """``Double.toString``: ``42.0``, ``1.0E7``, ``1.0E-5``, ``NaN``, ``Infinity``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if ("." in text or "e" in text) else text + ".0"
    sign, digits, exponent = _decimal.Decimal(repr(value)).normalize().as_tuple()
    mantissa = "".join(map(str, digits))
    power = len(digits) - 1 + int(exponent)
    fraction = mantissa[1:] or "0"
    return f"{'-' if sign else ''}{mantissa[0]}.{fraction}E{power}"


def _millis_of(value: _dt.date | _dt.time) -> int:
    if isinstance(value, _dt.datetime):
        return Timestamp.from_logical(Timestamp.SCHEMA, value)
    if isinstance(value, _dt.date):
        return Date.from_logical(Date.SCHEMA, value) * MILLIS_PER_DAY
    return Time.from_logical(Time.SCHEMA, value)


def _date_str(value: _dt.date | _dt.time) -> str:
    # Kafka picks the ISO 8601 form from the instant: time of day, date, or timestamp.
    millis = _millis_of(value)
    instant = EPOCH + _dt.timedelta(milliseconds=millis)
    if millis < MILLIS_PER_DAY:
        return instant.strftime("%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"
    if millis % MILLIS_PER_DAY == 0:
        return instant.strftime("%Y-%m-%d")
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def _cast_to_string(value: Any) -> str:
    if isinstance(value, (_dt.date, _dt.time)):
        return _date_str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_str(value)
    if isinstance(value, Struct):
        return repr(value)
    return str(value)


def _encode_logical(schema: Schema, value: Any) -> Any:
    logical = LOGICAL_TYPES.get(schema.name)  # type: ignore[arg-type]
    if logical in (Date, Time, Timestamp):
        return logical.from_logical(schema, value)  # type: ignore[union-attr]
    return value


def cast_value_to_type(schema: Schema | None, value: Any, target: Type) -> Any:
    """``value`` (of ``schema``, or inferred when None) cast to ``target``."""
    if value is None:
        return None
    inferred = _inferred_type(value) if schema is None else schema.type
    if inferred is None:
        raise DataException(
            f"Cast transformation was passed a value of type class {class_name(value)} which is "
            "not supported by Connect's data API"
        )
    if inferred not in SUPPORTED_CAST_INPUT_TYPES:
        raise DataException(
            f"Cast transformation does not support casting from {inferred.name}; supported "
            f"types are {_type_list(SUPPORTED_CAST_INPUT_TYPES)}"
        )
    original = value
    if schema is not None and schema.name is not None and target is not Type.STRING:
        value = _encode_logical(schema, value)
    try:
        if target in _INT_RANGES:
            return _cast_to_int(value, target)
        if target in (Type.FLOAT32, Type.FLOAT64):
            return _cast_to_float(value)
        if target is Type.BOOLEAN:
            return _cast_to_boolean(value)
        if target is Type.STRING:
            return _cast_to_string(value)
    except _OutOfRange:
        raise DataException(
            f"Value ({_cast_to_string(original)}) was out of range for requested data type"
        ) from None
    raise DataException(f"{target.name} is not supported in the Cast transformation.")


def _builder_for(type_: Type) -> SchemaBuilder:
    if type_ not in SUPPORTED_CAST_OUTPUT_TYPES:
        raise DataException(f"Unexpected type in Cast transformation: {type_.name}")
    return SchemaBuilder(type_)


class Cast(KeyOrValueTransformation, Transformation[ConnectRecord]):
    """Cast fields or the entire key or value to a specific type, e.g. to force an integer
    field to a smaller width. Cast from integers, floats, boolean and string to any other
    type, and cast binary to string (base64 encoded).

    Use the concrete transformation type designed for the record key (``Cast.Key``) or value
    (``Cast.Value``)."""

    java_class_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._casts: dict[str, Type] = {}
        self._whole_value: Type | None = None
        self._replace_null_with_default = True
        self._cache = SchemaCache()

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        config = CONFIG_DEF.parse(configs)
        self._casts, self._whole_value = parse_field_types(config[SPEC])
        self._replace_null_with_default = config[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        self._cache = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.operating_value(record)
        if value is None:
            return record
        schema = self.operating_schema(record)
        if schema is None:
            return self._apply_schemaless(record, value)
        return self._apply_with_schema(record, schema, value)

    def _apply_schemaless(self, record: ConnectRecord, value: Any) -> ConnectRecord:
        if self._whole_value is not None:
            return self.new_record(record, None, cast_value_to_type(None, value, self._whole_value))
        original = require_map(value, PURPOSE)
        updated = dict(original)
        for name, target in self._casts.items():
            updated[name] = cast_value_to_type(None, original.get(name), target)
        return self.new_record(record, None, updated)

    def _apply_with_schema(
        self, record: ConnectRecord, schema: Schema, value: Any
    ) -> ConnectRecord:
        updated_schema, field_casts = self._cache.get_or_compute(schema, self._updated_schema)
        if self._whole_value is not None:
            return self.new_record(
                record, updated_schema, cast_value_to_type(schema, value, self._whole_value)
            )
        struct = require_struct(value, PURPOSE)
        values = struct_values(struct, self._replace_null_with_default)
        for index, field_schema, target in field_casts:
            values[index] = cast_value_to_type(field_schema, values[index], target)
        # Cast values are of their new field's type by construction.
        return self.new_record(record, updated_schema, struct_with_values(updated_schema, values))

    def _updated_schema(self, schema: Schema) -> tuple[Schema, list[tuple[int, Schema, Type]]]:
        """The cast schema, and for each cast field its index, old schema and new type."""
        field_casts: list[tuple[int, Schema, Type]] = []
        if self._whole_value is not None:
            builder = _builder_for(self._whole_value)
            if schema.name not in LOGICAL_TYPES:  # the cast value is no longer the logical type
                copy_schema_basics(schema, builder)
            elif schema.doc is not None:
                builder.doc(schema.doc)
        else:
            builder = copy_schema_basics(schema, SchemaBuilder.struct())
            for field in schema.fields:
                target = self._casts.get(field.name)
                if target is None:
                    builder.field(field.name, field.schema)
                    continue
                field_builder = _builder_for(target)
                if field.schema.optional:
                    field_builder.optional()
                if field.schema.default_value is not None:
                    field_builder.default_value(
                        cast_value_to_type(field.schema, field.schema.default_value, target)
                    )
                builder.field(field.name, field_builder.build())
                field_casts.append((field.index, field.schema, target))
        if schema.optional:
            builder.optional()
        if schema.default_value is not None and self._whole_value is not None:
            builder.default_value(
                cast_value_to_type(schema, schema.default_value, self._whole_value)
            )
        # A struct schema's own default is dropped: a Struct default must carry the very
        # schema it is the default of, which an immutable schema cannot be built with.
        return builder.build(), field_casts

    def close(self) -> None:
        self._cache.clear()


add_key_value_variants(Cast, "Cast")
