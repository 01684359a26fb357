"""Kafka Connect's data model: schemas, fields, structs and the logical types.

Python values stand for Connect values as follows:

===========  =====================================  ==========================
Schema type  Python value                           logical types on top
===========  =====================================  ==========================
INT8..INT64  ``int``                                Date, Time (INT32), Timestamp (INT64)
FLOAT32/64   ``float``
BOOLEAN      ``bool``
STRING       ``str``
BYTES        ``bytes`` (``bytearray`` accepted)      Decimal -> ``decimal.Decimal``
ARRAY        ``list``
MAP          ``dict``
STRUCT       :class:`Struct`
===========  =====================================  ==========================

Logical values are Python's own: ``decimal.Decimal``, ``datetime.date``, ``datetime.time`` and
``datetime.datetime`` (UTC).
"""

from __future__ import annotations

import builtins
import datetime as _dt
import decimal as _decimal
import enum
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from kconnect.api.errors import DataException, SchemaBuilderException


class Type(enum.Enum):
    """The schema types of Kafka Connect; ``value`` is Kafka's lower-case name (``int32`` …)."""

    INT8 = "int8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BOOLEAN = "boolean"
    STRING = "string"
    BYTES = "bytes"
    ARRAY = "array"
    MAP = "map"
    STRUCT = "struct"

    # Members are singletons: identity hashing is correct, and C-fast where Enum's own
    # __hash__ is Python code (types are dict keys on the per-record validation path).
    __hash__ = object.__hash__

    @property
    def is_primitive(self) -> bool:
        return self not in (Type.ARRAY, Type.MAP, Type.STRUCT)


_INT_RANGES = {
    Type.INT8: (-(2**7), 2**7 - 1),
    Type.INT16: (-(2**15), 2**15 - 1),
    Type.INT32: (-(2**31), 2**31 - 1),
    Type.INT64: (-(2**63), 2**63 - 1),
}


class Field(NamedTuple):
    """One field of a STRUCT schema."""

    name: str
    index: int  # type: ignore[assignment]  # Kafka's Field.index(); shadows tuple.index on purpose
    schema: Schema


class Schema:
    """An immutable Connect schema. Build one with :class:`SchemaBuilder` or use the constants.

    Two schemas are equal when every attribute is equal (as in Kafka's ConnectSchema).
    """

    __slots__ = (
        "type",
        "optional",
        "default_value",
        "name",
        "version",
        "doc",
        "parameters",
        "_fields",
        "_fields_by_name",
        "key_schema",
        "value_schema",
        "_hash",
        "_field_defaults",
    )

    # The constants are attached after the class body (they are instances of it).
    INT8_SCHEMA: Schema
    INT16_SCHEMA: Schema
    INT32_SCHEMA: Schema
    INT64_SCHEMA: Schema
    FLOAT32_SCHEMA: Schema
    FLOAT64_SCHEMA: Schema
    BOOLEAN_SCHEMA: Schema
    STRING_SCHEMA: Schema
    BYTES_SCHEMA: Schema
    OPTIONAL_INT8_SCHEMA: Schema
    OPTIONAL_INT16_SCHEMA: Schema
    OPTIONAL_INT32_SCHEMA: Schema
    OPTIONAL_INT64_SCHEMA: Schema
    OPTIONAL_FLOAT32_SCHEMA: Schema
    OPTIONAL_FLOAT64_SCHEMA: Schema
    OPTIONAL_BOOLEAN_SCHEMA: Schema
    OPTIONAL_STRING_SCHEMA: Schema
    OPTIONAL_BYTES_SCHEMA: Schema

    def __init__(
        self,
        type: Type,
        optional: bool = False,
        default_value: Any = None,
        name: str | None = None,
        version: int | None = None,
        doc: str | None = None,
        parameters: Mapping[str, str] | None = None,
        fields: Iterable[Field] | None = None,
        key_schema: Schema | None = None,
        value_schema: Schema | None = None,
    ):
        self.type = type
        self.optional = optional
        self.name = name
        self.version = version
        self.doc = doc
        self.parameters = dict(parameters) if parameters else None
        self._fields = list(fields) if fields is not None else None
        self._fields_by_name = (
            {f.name: f for f in self._fields} if self._fields is not None else None
        )
        self.key_schema = key_schema
        self.value_schema = value_schema
        self._hash: int | None = None
        # Validated against this schema without its default, so that a struct default built
        # on the same fields fits (and so the check never reads an unset attribute).
        self.default_value = None
        if default_value is not None:
            validate_value(self, default_value)
        self.default_value = default_value
        #: (index, default) of the fields that have a default: what Struct.values() fills in
        self._field_defaults: tuple[tuple[int, Any], ...] = tuple(
            (f.index, f.schema.default_value)
            for f in self._fields or ()
            if f.schema.default_value is not None
        )

    # -- struct fields -------------------------------------------------------------------------
    @property
    def fields(self) -> list[Field]:
        if self.type is not Type.STRUCT:
            raise DataException("Cannot list fields on non-struct type")
        return list(self._fields or ())

    def field(self, name: str) -> Field | None:
        """The field called ``name``, or None when the struct has no such field."""
        if self.type is not Type.STRUCT:
            raise DataException("Cannot look up fields on non-struct type")
        return (self._fields_by_name or {}).get(name)

    # -- identity ------------------------------------------------------------------------------
    def _key(self) -> tuple:
        params = tuple(sorted(self.parameters.items())) if self.parameters else None
        fields = tuple(self._fields) if self._fields is not None else None
        default = self.default_value
        if isinstance(default, (dict, list)):
            default = repr(default)
        return (
            self.type,
            self.optional,
            default,
            self.name,
            self.version,
            self.doc,
            params,
            fields,
            self.key_schema,
            self.value_schema,
        )

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Schema):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        if self._hash is None:
            try:
                self._hash = hash(self._key())
            except TypeError:  # an unhashable default value
                self._hash = hash((self.type, self.name, self.optional))
        return self._hash

    def __repr__(self) -> str:
        parts = [self.type.name]
        if self.name:
            parts.append(f"name={self.name!r}")
        if self.optional:
            parts.append("optional")
        if self._fields is not None:
            parts.append("fields=[" + ", ".join(f.name for f in self._fields) + "]")
        return f"Schema({', '.join(parts)})"


def _primitive(type_: Type, optional: bool) -> Schema:
    return Schema(type_, optional=optional)


for _t in (
    Type.INT8,
    Type.INT16,
    Type.INT32,
    Type.INT64,
    Type.FLOAT32,
    Type.FLOAT64,
    Type.BOOLEAN,
    Type.STRING,
    Type.BYTES,
):
    setattr(Schema, f"{_t.name}_SCHEMA", _primitive(_t, False))
    setattr(Schema, f"OPTIONAL_{_t.name}_SCHEMA", _primitive(_t, True))


class SchemaBuilder:
    """A fluent builder of :class:`Schema` objects, with Kafka's SchemaBuilder method names.

    >>> schema = (SchemaBuilder.struct().name("com.example.Person")
    ...           .field("name", Schema.STRING_SCHEMA)
    ...           .field("age", Schema.OPTIONAL_INT32_SCHEMA).build())
    """

    def __init__(self, type_: Type):
        self._type = type_
        self._optional = False
        self._default: Any = None
        self._name: str | None = None
        self._version: int | None = None
        self._doc: str | None = None
        self._parameters: dict[str, str] | None = None
        self._fields: dict[str, Field] | None = {} if type_ is Type.STRUCT else None
        self._key_schema: Schema | None = None
        self._value_schema: Schema | None = None

    # factories -----------------------------------------------------------------------------
    @classmethod
    def type(cls, type_: Type) -> SchemaBuilder:
        return cls(type_)

    @classmethod
    def int8(cls) -> SchemaBuilder:
        return cls(Type.INT8)

    @classmethod
    def int16(cls) -> SchemaBuilder:
        return cls(Type.INT16)

    @classmethod
    def int32(cls) -> SchemaBuilder:
        return cls(Type.INT32)

    @classmethod
    def int64(cls) -> SchemaBuilder:
        return cls(Type.INT64)

    @classmethod
    def float32(cls) -> SchemaBuilder:
        return cls(Type.FLOAT32)

    @classmethod
    def float64(cls) -> SchemaBuilder:
        return cls(Type.FLOAT64)

    @classmethod
    def bool(cls) -> SchemaBuilder:
        return cls(Type.BOOLEAN)

    @classmethod
    def string(cls) -> SchemaBuilder:
        return cls(Type.STRING)

    @classmethod
    def bytes(cls) -> SchemaBuilder:
        return cls(Type.BYTES)

    @classmethod
    def struct(cls) -> SchemaBuilder:
        return cls(Type.STRUCT)

    @classmethod
    def array(cls, value_schema: Schema) -> SchemaBuilder:
        builder = cls(Type.ARRAY)
        builder._value_schema = value_schema
        return builder

    @classmethod
    def map(cls, key_schema: Schema, value_schema: Schema) -> SchemaBuilder:
        builder = cls(Type.MAP)
        builder._key_schema = key_schema
        builder._value_schema = value_schema
        return builder

    @classmethod
    def from_schema(cls, schema: Schema, *, with_fields: builtins.bool = True) -> SchemaBuilder:
        """A builder holding everything ``schema`` has (its fields too unless told otherwise),
        to derive a changed copy from it."""
        builder = cls(schema.type)
        builder._optional = schema.optional
        builder._default = schema.default_value
        builder._name = schema.name
        builder._version = schema.version
        builder._doc = schema.doc
        builder._parameters = dict(schema.parameters) if schema.parameters else None
        builder._key_schema = schema.key_schema
        builder._value_schema = schema.value_schema
        if with_fields and schema.type is Type.STRUCT:
            for field in schema.fields:
                builder.field(field.name, field.schema)
        return builder

    # attributes ------------------------------------------------------------------------------
    def _set_once(self, attr: str, value: Any, what: str) -> SchemaBuilder:
        current = getattr(self, attr)
        if current is not None and current != value:
            raise SchemaBuilderException(
                f"Invalid SchemaBuilder call: {what} has already been set."
            )
        setattr(self, attr, value)
        return self

    def optional(self) -> SchemaBuilder:
        self._optional = True
        return self

    def required(self) -> SchemaBuilder:
        self._optional = False
        return self

    def default_value(self, value: Any) -> SchemaBuilder:
        if value is not None:
            validate_value(self._build(None), value)
        return self._set_once("_default", value, "defaultValue")

    def name(self, name: str) -> SchemaBuilder:
        return self._set_once("_name", name, "name")

    def version(self, version: int) -> SchemaBuilder:
        return self._set_once("_version", version, "version")

    def doc(self, doc: str) -> SchemaBuilder:
        return self._set_once("_doc", doc, "doc")

    def parameter(self, name: str, value: str) -> SchemaBuilder:
        if self._parameters is None:
            self._parameters = {}
        self._parameters[name] = value
        return self

    def parameters(self, params: Mapping[str, str]) -> SchemaBuilder:
        if self._parameters is None:
            self._parameters = {}
        self._parameters.update(params)
        return self

    def field(self, name: str, schema: Schema) -> SchemaBuilder:
        if self._fields is None:
            raise SchemaBuilderException("Cannot create fields on type " + self._type.name)
        if not name:
            raise SchemaBuilderException("fieldName cannot be null.")
        if name in self._fields:
            raise SchemaBuilderException(
                f"Cannot create field because of field name duplication {name}"
            )
        self._fields[name] = Field(name, len(self._fields), schema)
        return self

    @property
    def fields(self) -> list[Field]:
        if self._fields is None:
            raise DataException("Cannot list fields on non-struct type")
        return list(self._fields.values())

    def _build(self, default: Any) -> Schema:
        return Schema(
            self._type,
            optional=self._optional,
            default_value=default,
            name=self._name,
            version=self._version,
            doc=self._doc,
            parameters=self._parameters,
            fields=list(self._fields.values()) if self._fields is not None else None,
            key_schema=self._key_schema,
            value_schema=self._value_schema,
        )

    def build(self) -> Schema:
        return self._build(self._default)


_new_object = object.__new__


class Struct:
    """A value of a STRUCT schema. Fields are set with :meth:`put` and read with :meth:`get`."""

    __slots__ = ("schema", "_values")

    def __init__(self, schema: Schema):
        if schema.type is not Type.STRUCT:
            raise DataException("Not a struct schema: " + repr(schema))
        self.schema = schema
        self._values: list[Any] = [None] * len(schema._fields or ())

    @classmethod
    def _with_values(cls, schema: Schema, values: list[Any]) -> Struct:
        """A Struct holding ``values`` (one per field, in order) without validating them: only
        for values already known to be valid for their fields (copied from another Struct with
        the same field schemas). Transforms use it on the per-record path."""
        struct = _new_object(cls)
        struct.schema = schema
        struct._values = values
        return struct

    def _lookup(self, name: str) -> Field:
        field = self.schema.field(name)
        if field is None:
            raise DataException(f"{name} is not a valid field name")
        return field

    def get(self, field: str | Field) -> Any:
        """The field's value, or its schema's default when it was never set."""
        if isinstance(field, str):
            field = self._lookup(field)
        value = self._values[field.index]
        if value is None and field.schema.default_value is not None:
            return field.schema.default_value
        return value

    def values(self) -> list[Any]:
        """Every field's value in the schema's field order, as :meth:`get` gives them (a
        field's default where it has no value): one call instead of one :meth:`get` per field
        on a sink's per-record path. A new list; changing it leaves the struct as it was."""
        values = list(self._values)
        for index, default in self.schema._field_defaults:
            if values[index] is None:
                values[index] = default
        return values

    def get_without_default(self, name: str) -> Any:
        return self._values[self._lookup(name).index]

    def put(self, field: str | Field, value: Any) -> Struct:
        """Set a field (validated against its schema) and return self, so calls chain."""
        if isinstance(field, str):
            field = self._lookup(field)
        validate_value(field.schema, value, field.name)
        self._values[field.index] = value
        return self

    def validate(self) -> None:
        """Raise DataException when a required field has no value."""
        for field in self.schema.fields:
            validate_value(field.schema, self.get(field), field.name)

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __setitem__(self, name: str, value: Any) -> None:
        self.put(name, value)

    def to_dict(self) -> dict[str, Any]:
        """The field values as a plain dict (nested structs converted too)."""
        out = {}
        for field in self.schema.fields:
            value = self.get(field)
            out[field.name] = value.to_dict() if isinstance(value, Struct) else value
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Struct):
            return NotImplemented
        return self.schema == other.schema and self._values == other._values

    def __hash__(self) -> int:
        return hash((self.schema, tuple(repr(v) for v in self._values)))

    def __repr__(self) -> str:
        inner = ",".join(f"{f.name}={self._values[f.index]!r}" for f in self.schema.fields)
        return f"Struct{{{inner}}}"


class SchemaAndValue(NamedTuple):
    """What a converter returns: the schema (None when unknown) and the value."""

    schema: Schema | None
    value: Any


SchemaAndValue.NULL = SchemaAndValue(None, None)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# Logical types
# --------------------------------------------------------------------------------------------
_EPOCH_DATE = _dt.date(1970, 1, 1)
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_MILLIS_PER_DAY = 86_400_000
# Multiplying these is cheaper than building a timedelta from keyword arguments.
_ONE_DAY = _dt.timedelta(days=1)
_ONE_MILLISECOND = _dt.timedelta(milliseconds=1)


class Decimal:
    """Arbitrary-precision decimal: BYTES holding the big-endian two's-complement unscaled value,
    with the scale in the ``scale`` parameter."""

    LOGICAL_NAME = "org.apache.kafka.connect.data.Decimal"
    SCALE_FIELD = "scale"

    @staticmethod
    def builder(scale: int) -> SchemaBuilder:
        return (
            SchemaBuilder.bytes()
            .name(Decimal.LOGICAL_NAME)
            .parameter(Decimal.SCALE_FIELD, str(scale))
            .version(1)
        )

    @staticmethod
    def schema(scale: int) -> Schema:
        return Decimal.builder(scale).build()

    @staticmethod
    def scale(schema: Schema) -> int:
        try:
            return int((schema.parameters or {})[Decimal.SCALE_FIELD])
        except (KeyError, ValueError):
            raise DataException("Invalid Decimal schema: scale parameter not found.") from None

    @staticmethod
    def from_logical(schema: Schema, value: _decimal.Decimal) -> bytes:
        """The unscaled value as Java's ``BigInteger.toByteArray()`` writes it: big-endian two's
        complement in the fewest bytes that keep the sign."""
        return Decimal.unscaled_bytes(value, Decimal.scale(schema))

    @staticmethod
    def unscaled_bytes(value: _decimal.Decimal, scale: int) -> bytes:
        """:meth:`from_logical` with the schema's scale already read (converters compiled once
        per schema read it once)."""
        # The hot path: shifted by the scale (exactly: the context never rounds), a value of
        # that scale has exponent 0, and only then is its text a plain integer.
        try:
            unscaled = int(str(value.scaleb(scale, _EXACT)))
        except (ValueError, TypeError, AttributeError, ArithmeticError):
            _check_decimal_scale(value, scale)
            raise
        magnitude = unscaled if unscaled >= 0 else ~unscaled
        return unscaled.to_bytes(magnitude.bit_length() // 8 + 1, "big", signed=True)

    @staticmethod
    def to_logical(schema: Schema, value: bytes) -> _decimal.Decimal:
        unscaled = int.from_bytes(value, "big", signed=True)
        return Decimal.from_unscaled(unscaled, Decimal.scale(schema))

    @staticmethod
    def from_unscaled(unscaled: int, scale: int) -> _decimal.Decimal:
        """``unscaled`` × 10^-``scale``, exactly (with that scale, however many digits)."""
        return _decimal.Decimal(unscaled).scaleb(-scale, _EXACT)


#: Decimal arithmetic that never rounds: the default context keeps 28 digits.
_EXACT = _decimal.Context(
    prec=_decimal.MAX_PREC, Emax=_decimal.MAX_EMAX, Emin=_decimal.MIN_EMIN, traps=[]
)


def _check_decimal_scale(value: _decimal.Decimal, scale: int) -> None:
    """Raise Kafka's DataException for a value that is not a finite number of ``scale``."""
    if not isinstance(value, _decimal.Decimal):
        raise DataException(f"Invalid type for Decimal, expected BigDecimal but was {type(value)}")
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise DataException(f"Decimal value {value} is not a finite number")
    if -exponent != scale:
        raise DataException(
            "Decimal value has mismatching scale for given Decimal schema. "
            f"Schema has scale {scale}, value has scale {-exponent}."
        )


class Date:
    """A calendar date: INT32 days since the Unix epoch."""

    LOGICAL_NAME = "org.apache.kafka.connect.data.Date"

    @staticmethod
    def builder() -> SchemaBuilder:
        return SchemaBuilder.int32().name(Date.LOGICAL_NAME).version(1)

    SCHEMA: Schema

    @staticmethod
    def from_logical(schema: Schema, value: _dt.date) -> int:
        if isinstance(value, _dt.datetime):
            if value.time() != _dt.time(0):
                raise DataException(
                    "Kafka Connect Date type should not have any time fields set to non-zero values."
                )
            value = value.date()
        return (value - _EPOCH_DATE).days

    @staticmethod
    def to_logical(schema: Schema, value: int) -> _dt.date:
        return _EPOCH_DATE + _ONE_DAY * value


class Time:
    """A time of day: INT32 milliseconds since midnight."""

    LOGICAL_NAME = "org.apache.kafka.connect.data.Time"

    @staticmethod
    def builder() -> SchemaBuilder:
        return SchemaBuilder.int32().name(Time.LOGICAL_NAME).version(1)

    SCHEMA: Schema

    @staticmethod
    def from_logical(schema: Schema, value: _dt.time) -> int:
        millis = ((value.hour * 60 + value.minute) * 60 + value.second) * 1000
        return millis + value.microsecond // 1000

    @staticmethod
    def to_logical(schema: Schema, value: int) -> _dt.time:
        if value < 0 or value >= _MILLIS_PER_DAY:
            raise DataException(
                "Time values must use number of milliseconds greater than 0 and less than 86400000"
            )
        seconds, millis = divmod(value, 1000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        return _dt.time(hour, minute, second, millis * 1000)


class Timestamp:
    """An instant: INT64 milliseconds since the Unix epoch (UTC)."""

    LOGICAL_NAME = "org.apache.kafka.connect.data.Timestamp"

    @staticmethod
    def builder() -> SchemaBuilder:
        return SchemaBuilder.int64().name(Timestamp.LOGICAL_NAME).version(1)

    SCHEMA: Schema

    @staticmethod
    def from_logical(schema: Schema, value: _dt.datetime) -> int:
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000

    @staticmethod
    def to_logical(schema: Schema, value: int) -> _dt.datetime:
        return _EPOCH + _ONE_MILLISECOND * value


Date.SCHEMA = Date.builder().build()
Time.SCHEMA = Time.builder().build()
Timestamp.SCHEMA = Timestamp.builder().build()

#: logical name -> the class that converts it
LOGICAL_TYPES: dict[str, type] = {
    Decimal.LOGICAL_NAME: Decimal,
    Date.LOGICAL_NAME: Date,
    Time.LOGICAL_NAME: Time,
    Timestamp.LOGICAL_NAME: Timestamp,
}

_LOGICAL_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    Decimal.LOGICAL_NAME: (_decimal.Decimal,),
    Date.LOGICAL_NAME: (_dt.date,),
    Time.LOGICAL_NAME: (_dt.time,),
    Timestamp.LOGICAL_NAME: (_dt.datetime,),
}

_PYTHON_TYPES: dict[Type, tuple[type, ...]] = {
    Type.INT8: (int,),
    Type.INT16: (int,),
    Type.INT32: (int,),
    Type.INT64: (int,),
    Type.FLOAT32: (float, int),
    Type.FLOAT64: (float, int),
    Type.BOOLEAN: (bool,),
    Type.STRING: (str,),
    Type.BYTES: (bytes, bytearray, memoryview),
    Type.ARRAY: (list, tuple),
    Type.MAP: (dict,),
    Type.STRUCT: (Struct,),
}


def validate_value(schema: Schema, value: Any, field_name: str | None = None) -> None:
    """Raise DataException unless ``value`` is a valid value of ``schema`` (Kafka's
    ConnectSchema.validateValue). As in Kafka, null is valid only for an optional schema: a
    default value stands in for an unset field on read, it does not make null a valid value."""
    _validate(schema, value, "value" if field_name is None else f'field: "{field_name}"')


def _validate(schema: Schema, checked: Any, location: str) -> None:
    value: Any = checked  # stays Any: isinstance against a tuple of types would narrow to object
    if value is None:
        if not schema.optional:
            raise DataException(
                f"Invalid value: null used for required {location}, schema type: {schema.type.name}"
            )
        return
    logical = _LOGICAL_PYTHON_TYPES.get(schema.name) if schema.name else None  # type: ignore[arg-type]
    expected = logical if logical is not None else _PYTHON_TYPES[schema.type]
    # bool is an int in Python; an int schema must not accept True/False.
    if not isinstance(checked, expected) or (
        isinstance(value, bool) and schema.type is not Type.BOOLEAN
    ):
        named = f' "{schema.name}"' if schema.name else ""
        raise DataException(
            f"Invalid Java object for schema{named} with type {schema.type.name}: "
            f"{type(value)} for {location}"
        )
    if logical is None and schema.type in _INT_RANGES:
        low, high = _INT_RANGES[schema.type]
        if not low <= value <= high:
            raise DataException(f"Value {value} out of range for {schema.type.name} for {location}")
    if schema.type is Type.STRUCT:
        if value.schema != schema:
            raise DataException("Struct schemas do not match.")
        value.validate()
    elif schema.type is Type.ARRAY:
        where = "element of array " + location
        element_schema = _schema_for(schema.value_schema, where)
        for item in value:
            _validate(element_schema, item, where)
    elif schema.type is Type.MAP:
        key_where, value_where = "key of map " + location, "value of map " + location
        key_schema = _schema_for(schema.key_schema, key_where)
        value_schema = _schema_for(schema.value_schema, value_where)
        for k, v in value.items():
            _validate(key_schema, k, key_where)
            _validate(value_schema, v, value_where)


def _schema_for(schema: Schema | None, location: str) -> Schema:
    if schema is None:
        raise DataException("No schema defined for " + location)
    return schema
