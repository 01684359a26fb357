"""Kafka's ``org.apache.kafka.connect.data.Values`` text forms, used by SimpleHeaderConverter.

:func:`convert_to_string` writes a value as text: strings as they are at the top level and
quoted (with ``\\`` and ``"`` escaped) inside lists and maps, numbers as Java prints them,
bytes as base64, dates and times in ISO 8601 (``2019-08-23``, ``14:34:54.346Z``,
``2019-08-23T14:34:54.346Z``), lists as ``[a,b]`` and maps and structs as ``{k:v}``.

:func:`parse_string` reads such text back and infers its schema: ``true``/``false``, the smallest
integer type that holds a whole number (INT8 .. INT64, else a Decimal of scale 0), FLOAT32 or
FLOAT64 for other numbers, dates and times, arrays ``[...]`` and maps ``{...}`` whose elements
share a schema (numbers widen to a common type), and anything else as the whole input string.
Parsing is Kafka's, quirks included: a top-level string that *starts* with a number reads as
that number (``12:30`` is INT8 12), and quoted strings keep their backslashes.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal as _decimal
import math
import re
from typing import Any

from kconnect.api.data import (
    Date,
    Decimal,
    Schema,
    SchemaAndValue,
    SchemaBuilder,
    Struct,
    Time,
    Timestamp,
    Type,
)
from kconnect.api.errors import DataException

from kconnect_builtins.converters.java_text import (
    epoch_millis,
    java_decimal,
    java_double,
    java_float,
    utc_from_millis,
)

_MILLIS_PER_DAY = 86_400_000
_JAVA_BLANKS = "".join(chr(c) for c in range(33))  # what Java's String.trim() strips
_DELIMITERS = frozenset(':,{}[]"')

_TRUE = SchemaAndValue(Schema.BOOLEAN_SCHEMA, True)
_FALSE = SchemaAndValue(Schema.BOOLEAN_SCHEMA, False)

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_INT_RANGES = {
    Type.INT8: (-(2**7), 2**7 - 1),
    Type.INT16: (-(2**15), 2**15 - 1),
    Type.INT32: (-(2**31), 2**31 - 1),
    Type.INT64: (_LONG_MIN, _LONG_MAX),
}
# Smallest magnitudes that a float32 / float64 rounds to infinity.
_FLOAT32_OVERFLOW = _decimal.Decimal(2**128 - 2**103)
_FLOAT64_OVERFLOW = _decimal.Decimal(2**1024 - 2**970)
# java.math.BigDecimal's string syntax.
_BIG_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

_TIME = re.compile(r"([0-9]+):([0-9]+):([0-9]+)\.([0-9]+)Z")
_DATE = re.compile(r"([0-9]+)-([0-9]+)-([0-9]+)")
_TIMESTAMP = re.compile(r"([0-9]+)-([0-9]+)-([0-9]+)T([0-9]+):([0-9]+):([0-9]+)\.([0-9]+)Z")
_TIME_LENGTH, _TIMESTAMP_LENGTH, _DATE_LENGTH = 13, 24, 10


def _trim(text: str) -> str:
    return text.strip(_JAVA_BLANKS)


def _is_blank(text: str) -> bool:
    return not text.strip(_JAVA_BLANKS)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Backslashes and double quotes escaped with a backslash."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _format_temporal(value: _dt.date | _dt.time) -> str:
    """Kafka picks the format from the instant: before 1970-01-02 it is a time of day, at a
    UTC midnight a date, otherwise a timestamp."""
    millis = epoch_millis(value)
    t = utc_from_millis(millis)
    clock = f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}.{t.microsecond // 1000:03d}Z"
    if millis < _MILLIS_PER_DAY:
        return clock
    day = f"{t.year:04d}-{t.month:02d}-{t.day:02d}"
    if millis % _MILLIS_PER_DAY == 0:
        return day
    return f"{day}T{clock}"


def _append(out: list[str], value: Any, embedded: bool, schema: Schema | None) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(f'"{escape(value)}"' if embedded else value)
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        if schema is not None and schema.type is Type.FLOAT32:
            out.append(java_float(value))
        else:
            out.append(java_double(value))
    elif isinstance(value, _decimal.Decimal):
        out.append(java_decimal(value))
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text = base64.b64encode(value).decode("ascii")
        out.append(f'"{text}"' if embedded else text)
    elif isinstance(value, (list, tuple)):
        element = schema.value_schema if schema is not None and schema.type is Type.ARRAY else None
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _append(out, item, True, element)
        out.append("]")
    elif isinstance(value, dict):
        if schema is not None and schema.type is Type.MAP:
            key_schema, value_schema = schema.key_schema, schema.value_schema
        else:
            key_schema = value_schema = None
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            if i:
                out.append(",")
            _append(out, k, True, key_schema)
            out.append(":")
            _append(out, v, True, value_schema)
        out.append("}")
    elif isinstance(value, Struct):
        out.append("{")
        for i, field in enumerate(value.schema.fields):
            if i:
                out.append(",")
            _append(out, field.name, True, None)
            out.append(":")
            _append(out, value.get(field), True, field.schema)
        out.append("}")
    elif isinstance(value, (_dt.date, _dt.time)):
        out.append(_format_temporal(value))
    else:
        raise DataException(
            f"Failed to serialize unexpected value type {type(value).__qualname__}: {value}"
        )


def convert_to_string(schema: Schema | None, value: Any) -> str | None:
    """The text of ``value`` (None for None), as Kafka's Values.convertToString. Kafka tells
    float from double by the Java class; here a FLOAT32 schema (also one of an enclosing list,
    map or struct) makes floats print as float32."""
    if value is None:
        return None
    out: list[str] = []
    _append(out, value, False, schema)
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------
def _tokenize(text: str) -> list[str]:
    """Split at the delimiters ``: , { } [ ] "`` (each its own token) unless escaped by a
    backslash; backslashes stay in the tokens."""
    tokens = []
    start = 0
    escaped = False
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            escaped = not escaped
        elif c in _DELIMITERS and not escaped:
            if start < i:
                tokens.append(text[start:i])
            tokens.append(c)
            start = i + 1
        else:
            escaped = False
        i += 1
    if start < n:
        tokens.append(text[start:])
    return tokens


class _Tokens:
    """A cursor over the tokens. ``can_consume`` looks past blank tokens (and drops them) and
    compares the next token trimmed."""

    __slots__ = ("original", "pos", "previous", "tokens")

    def __init__(self, original: str):
        self.original = original
        self.tokens = _tokenize(original)
        self.pos = 0
        self.previous: str | None = None

    def has_next(self) -> bool:
        return self.pos < len(self.tokens)

    def next(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        self.previous = token
        return token

    def next_n(self, n: int) -> str | None:
        """The next ``n`` tokens joined, or None (consuming nothing) when fewer remain."""
        if self.pos + n > len(self.tokens):
            self.previous = None
            return None
        text = "".join(self.tokens[self.pos : self.pos + n])
        self.pos += n
        self.previous = self.tokens[self.pos - 1]
        return text

    def mark(self) -> int:
        return self.pos

    def rewind(self, position: int) -> None:
        self.pos = position
        self.previous = None

    def can_consume(self, expected: str) -> bool:
        tokens = self.tokens
        if self.pos >= len(tokens):
            return False
        while _is_blank(tokens[self.pos]) and self.pos + 1 < len(tokens):
            self.pos += 1
        if _trim(tokens[self.pos]) == expected:
            self.pos += 1
            return True
        return False


class _SchemaMerger:
    """The common schema of the values seen so far; None when there is none (yet)."""

    __slots__ = ("common", "compatible")

    def __init__(self) -> None:
        self.common: Schema | None = None
        self.compatible = True

    def merge(self, latest: SchemaAndValue | None) -> None:
        if latest is None or latest.schema is None or not self.compatible:
            return
        if self.common is None:
            self.common = latest.schema
        else:
            self.common = _merge_schemas(self.common, latest.schema)
            self.compatible = self.common is not None


_WIDENING = (Type.INT8, Type.INT16, Type.INT32, Type.INT64, Type.FLOAT32, Type.FLOAT64)


def _merge_schemas(previous: Schema, new: Schema) -> Schema | None:
    """A schema that holds values of both: numbers widen along INT8 < INT16 < INT32 < INT64 <
    FLOAT32 < FLOAT64; other different types have none."""
    if previous.type is not new.type:
        if previous.type in _WIDENING and new.type in _WIDENING:
            return new if _WIDENING.index(new.type) > _WIDENING.index(previous.type) else previous
        return None
    if previous.optional == new.optional:
        return previous if previous.optional else new
    return previous if previous == new else None


def _temporal(token: str) -> SchemaAndValue | None:
    """A date, time or timestamp in ISO 8601, read leniently as Java's SimpleDateFormat does
    (field values roll over: month 13 is January of the next year)."""
    token = token.replace("\\:", ":")
    length = len(token)
    if length == _TIME_LENGTH:
        m = _TIME.match(token)
        if m is None:
            return None
        hour, minute, second, millis = map(int, m.groups())
        total = ((hour * 60 + minute) * 60 + second) * 1000 + millis
        if total >= _MILLIS_PER_DAY:
            return None  # a datetime.time cannot hold a time past midnight
        return SchemaAndValue(Time.SCHEMA, Time.to_logical(Time.SCHEMA, total))
    if length == _TIMESTAMP_LENGTH:
        m = _TIMESTAMP.match(token)
        if m is None:
            return None
        year, month, day, hour, minute, second, millis = map(int, m.groups())
        start = _lenient_date(year, month, day)
        if start is None:
            return None
        moment = _dt.datetime.combine(start, _dt.time(), _dt.UTC) + _dt.timedelta(
            hours=hour, minutes=minute, seconds=second, milliseconds=millis
        )
        return SchemaAndValue(Timestamp.SCHEMA, moment)
    if length == _DATE_LENGTH:
        m = _DATE.match(token)
        if m is None:
            return None
        date = _lenient_date(*map(int, m.groups()))
        return None if date is None else SchemaAndValue(Date.SCHEMA, date)
    return None


def _lenient_date(year: int, month: int, day: int) -> _dt.date | None:
    try:
        year += (month - 1) // 12
        first = _dt.date(year, (month - 1) % 12 + 1, 1)
        return first + _dt.timedelta(days=day - 1)
    except (ValueError, OverflowError):
        return None


def _number(token: str) -> SchemaAndValue | None:
    """The smallest integer type holding a whole number; otherwise FLOAT32, FLOAT64 or a
    Decimal, as Kafka decides."""
    if not _BIG_DECIMAL.fullmatch(token):
        return None
    number = _decimal.Decimal(token)
    exponent = number.as_tuple().exponent
    scale = -exponent  # type: ignore[operator]
    if exponent >= 0 or number == number.to_integral_value():  # type: ignore[operator]
        integral = int(number)
        if _LONG_MIN <= integral <= _LONG_MAX:
            for type_ in (Type.INT8, Type.INT16, Type.INT32):
                low, high = _INT_RANGES[type_]
                if low <= integral <= high:
                    return SchemaAndValue(_REQUIRED_INT_SCHEMAS[type_], integral)
            return SchemaAndValue(Schema.INT64_SCHEMA, integral)
    magnitude = abs(number)
    if scale != 0 and magnitude < _FLOAT32_OVERFLOW:
        return SchemaAndValue(Schema.FLOAT32_SCHEMA, float(number))
    if scale != 0 and magnitude < _FLOAT64_OVERFLOW:
        return SchemaAndValue(Schema.FLOAT64_SCHEMA, float(number))
    return SchemaAndValue(Decimal.schema(scale), number)


_REQUIRED_INT_SCHEMAS = {
    Type.INT8: Schema.INT8_SCHEMA,
    Type.INT16: Schema.INT16_SCHEMA,
    Type.INT32: Schema.INT32_SCHEMA,
}


class _ValueParser:
    def __init__(self, text: str):
        self.tokens = _Tokens(text)

    def _literal(self, embedded: bool, literal: str) -> bool:
        """The next token is ``literal``, and either embedded or the last token (so that the
        top-level "true}" stays a string)."""
        tokens = self.tokens
        start = tokens.mark()
        if tokens.can_consume(literal) and (embedded or not tokens.has_next()):
            return True
        tokens.rewind(start)
        return False

    def parse(self, embedded: bool) -> SchemaAndValue | None:
        tokens = self.tokens
        if not tokens.has_next():
            return None
        if embedded and tokens.can_consume('"'):
            return self._quoted_string()
        if self._literal(embedded, "null"):
            return None
        if self._literal(embedded, "true"):
            return _TRUE
        if self._literal(embedded, "false"):
            return _FALSE

        start = tokens.mark()
        try:
            if tokens.can_consume("["):
                return self._array()
            if tokens.can_consume("{"):
                return self._map()
        except DataException:
            tokens.rewind(start)

        token = tokens.next()
        if _is_blank(token):
            return SchemaAndValue(Schema.STRING_SCHEMA, token)
        return self._scalar(embedded, _trim(token))

    def _scalar(self, embedded: bool, token: str) -> SchemaAndValue:
        first = token[0]
        starts_with_digit = first.isdecimal()
        if starts_with_digit:
            # ISO times hold colons, which are delimiters: try the token with the next four.
            position = self.tokens.mark()
            rest = self.tokens.next_n(4)
            if rest is not None:
                temporal = _temporal(token + rest)
                if temporal is not None:
                    return temporal
            self.tokens.rewind(position)
            temporal = _temporal(token)
            if temporal is not None:
                return temporal
        if starts_with_digit or first in "+-":
            number = _number(token)
            if number is not None:
                return number
        if embedded:
            raise DataException("Failed to parse embedded value")
        return SchemaAndValue(Schema.STRING_SCHEMA, self.tokens.original)

    def _quoted_string(self) -> SchemaAndValue:
        tokens = self.tokens
        parts = []
        while tokens.has_next():
            if tokens.can_consume('"'):
                break
            parts.append(tokens.next())
        content = "".join(parts)
        temporal = _temporal(content)
        if temporal is not None:
            return temporal
        return SchemaAndValue(Schema.STRING_SCHEMA, content)

    def _array(self) -> SchemaAndValue:
        tokens = self.tokens
        result: list[Any] = []
        merger = _SchemaMerger()
        while tokens.has_next():
            if tokens.can_consume("]"):
                if merger.common is not None:
                    schema = SchemaBuilder.array(merger.common).build()
                    result = [_convert_to(merger.common, v) for v in result]
                else:
                    schema = SchemaBuilder.array(None).build()  # type: ignore[arg-type]
                return SchemaAndValue(schema, result)
            if tokens.can_consume(","):
                raise DataException(f"Unable to parse an empty array element: {tokens.original}")
            element = self.parse(True)
            merger.merge(element)
            result.append(None if element is None else element.value)
            position = tokens.mark()
            if tokens.can_consume("]"):
                tokens.rewind(position)
            elif not tokens.can_consume(","):
                raise DataException("Array elements missing ',' delimiter")
        if tokens.previous == ",":
            raise DataException(f"Array is missing element after ',': {tokens.original}")
        raise DataException(f"Array is missing terminating ']': {tokens.original}")

    def _map(self) -> SchemaAndValue:
        tokens = self.tokens
        result: dict[Any, Any] = {}
        keys = _SchemaMerger()
        values = _SchemaMerger()
        while tokens.has_next():
            if tokens.can_consume("}"):
                if keys.common is not None and values.common is not None:
                    schema = SchemaBuilder.map(keys.common, values.common).build()
                    result = _aligned(result, keys.common, values.common)
                elif keys.common is not None:
                    schema = SchemaBuilder.map(keys.common, None).build()  # type: ignore[arg-type]
                    result = _aligned(result, keys.common, None)
                else:
                    schema = SchemaBuilder.map(None, None).build()  # type: ignore[arg-type]
                return SchemaAndValue(schema, result)
            if tokens.can_consume(","):
                raise DataException(
                    f"Unable to parse a map entry with no key or value: {tokens.original}"
                )
            key = self.parse(True)
            if key is None or key.value is None:
                raise DataException(f"Map entry may not have a null key: {tokens.original}")
            if not tokens.can_consume(":"):
                raise DataException(
                    f"Map entry is missing ':' at {tokens.mark()} in {tokens.original}"
                )
            value = self.parse(True)
            try:
                result[key.value] = None if value is None else value.value
            except TypeError as e:  # a list or map as a key: Python cannot hash it
                raise DataException(f"Unusable map key in {tokens.original}") from e
            tokens.can_consume(",")
            keys.merge(key)
            values.merge(value)
        if tokens.previous == ",":
            raise DataException(f"Map is missing element after ',': {tokens.original}")
        raise DataException(f"Map is missing terminating '}}': {tokens.original}")


def _aligned(entries: dict[Any, Any], key_schema: Schema, value_schema: Schema | None) -> dict:
    try:
        return {
            _convert_to(key_schema, k): v if value_schema is None else _convert_to(value_schema, v)
            for k, v in entries.items()
        }
    except TypeError as e:
        raise DataException("Unusable map key") from e


def parse_string(text: str | None) -> SchemaAndValue | None:
    """The schema and value ``text`` stands for (Kafka's Values.parseString). Returns None for
    the text ``null`` and for None, as Kafka does."""
    if text is None:
        return None
    if not text:
        return SchemaAndValue(Schema.STRING_SCHEMA, text)
    return _ValueParser(text).parse(False)


# ---------------------------------------------------------------------------------------------
# Conversions used to give every element of a list or map their common schema
# ---------------------------------------------------------------------------------------------
def _unable(value: Any, target: Any) -> DataException:
    return DataException(f"Unable to convert {value} ({type(value)}) to {target}")


def _as_long(value: Any) -> int:
    if isinstance(value, bool):
        raise _unable(value, "a number")
    if isinstance(value, int):
        return value
    if isinstance(value, (float, _decimal.Decimal)):
        if value.is_nan() if isinstance(value, _decimal.Decimal) else math.isnan(value):
            return 0
        if value.is_infinite() if isinstance(value, _decimal.Decimal) else math.isinf(value):
            return _LONG_MAX if value > 0 else _LONG_MIN
        return int(value)
    if isinstance(value, str):
        number = _number_text(value)
        if number is not None:
            return int(number)
    raise _unable(value, "a number")


def _as_double(value: Any) -> float:
    if isinstance(value, bool):
        raise _unable(value, "a number")
    if isinstance(value, (int, float, _decimal.Decimal)):
        try:
            return float(value)
        except OverflowError:
            return float("inf") if value > 0 else float("-inf")
    if isinstance(value, str):
        number = _number_text(value)
        if number is not None:
            return float(number)
    return float(_as_long(value))


def _number_text(text: str) -> _decimal.Decimal | None:
    return _decimal.Decimal(text) if _BIG_DECIMAL.fullmatch(text) else None


def _wrap(value: int, type_: Type) -> int:
    low, high = _INT_RANGES[type_]
    return (value - low) % (high - low + 1) + low


def _convert_to(schema: Schema, value: Any) -> Any:
    """``value`` as a value of ``schema`` (Kafka's Values.convertTo, without a source schema)."""
    if value is None:
        if schema.optional:
            return None
        raise DataException("Unable to convert a null value to a schema that requires a value")
    t = schema.type
    name = schema.name
    if name in _TEMPORAL:
        if isinstance(value, str):
            parsed = parse_string(value)
            value = None if parsed is None else parsed.value
        if isinstance(value, (_dt.date, _dt.time)):
            return value
        logical = _TEMPORAL[name]
        raw = _as_long(value)
        if logical is not Timestamp:
            raw = _wrap(raw, Type.INT32)
        try:
            return logical.to_logical(schema, raw)
        except OverflowError as e:
            raise _unable(value, schema) from e
    if t is Type.BYTES:
        if name == Decimal.LOGICAL_NAME:
            if isinstance(value, (bytes, bytearray, memoryview)):
                return Decimal.to_logical(schema, bytes(value))
            if isinstance(value, _decimal.Decimal):
                return value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return _decimal.Decimal(java_double(float(value)))
            if isinstance(value, str) and _number_text(value) is not None:
                return _decimal.Decimal(value)
            raise _unable(value, schema)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        if isinstance(value, _decimal.Decimal):
            return Decimal.from_logical(schema, value)
        raise _unable(value, schema)
    if t is Type.STRING:
        return convert_to_string(None, value)
    if t is Type.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            parsed = parse_string(value)
            if parsed is not None and isinstance(parsed.value, bool):
                return parsed.value
        return _as_long(value) != 0
    if t in _INT_RANGES:
        return _wrap(_as_long(value), t)
    if t is Type.FLOAT32 or t is Type.FLOAT64:
        if type(value) is float:
            return value
        return _as_double(value)
    if t is Type.ARRAY or t is Type.MAP:
        if isinstance(value, str):
            parsed = parse_string(value)
            value = None if parsed is None else parsed.value
        if isinstance(value, list if t is Type.ARRAY else dict):
            return value
        raise _unable(value, schema)
    if isinstance(value, Struct):
        return value
    raise _unable(value, schema)


_TEMPORAL: dict[str | None, Any] = {
    Date.LOGICAL_NAME: Date,
    Time.LOGICAL_NAME: Time,
    Timestamp.LOGICAL_NAME: Timestamp,
}
