"""Text forms of values exactly as the JVM writes them, so converters produce Kafka's bytes.

* :func:`java_double` / :func:`java_float`: ``Double.toString`` / ``Float.toString`` (what
  Jackson writes for doubles and floats): the shortest digits that read back to the same
  value, plain between 10^-3 and 10^7 (``12.5``, ``100.0``), computerized scientific notation
  outside it (``1.0E10``, ``1.5E-5``), and at least one digit after the point.
* :func:`java_decimal`: ``BigDecimal.toString``.
* :func:`java_to_string`: ``Object.toString()`` of the Java object a Connect value stands for.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal as _decimal
import math
import struct
from functools import lru_cache
from typing import Any

from kconnect.api.data import Schema, Struct, Type
from kconnect.api.errors import DataException

_FLOAT32 = struct.Struct(">f")
_MIN_NORMAL_DOUBLE = 2.2250738585072014e-308
_MIN_NORMAL_FLOAT = 1.1754943508222875e-38


def _non_finite(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


def _layout(negative: bool, digits: str, exp10: int) -> str:
    """Java's layout of ``0.<digits> x 10^(exp10+1)`` (``digits`` has no leading/trailing zeros
    except a lone "0"): plain in [10^-3, 10^7), else ``d.dddE<exp>``."""
    sign = "-" if negative else ""
    if -3 <= exp10 < 7:
        if exp10 >= 0:
            whole = digits[: exp10 + 1].ljust(exp10 + 1, "0")
            fraction = digits[exp10 + 1 :] or "0"
            return f"{sign}{whole}.{fraction}"
        return f"{sign}0.{'0' * (-exp10 - 1)}{digits}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exp10}"


def _digits_of(text: str) -> tuple[bool, str, int]:
    """Split a finite, non-zero decimal text (Python float/decimal syntax) into sign, significant
    digits and the power of ten of the first digit."""
    negative = text.startswith("-")
    text = text.lstrip("+-")
    mantissa, _, exponent = text.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    significant = all_digits.lstrip("0")
    leading_zeros = len(all_digits) - len(significant)
    exp10 = len(whole) - leading_zeros - 1 + (int(exponent) if exponent else 0)
    return negative, significant.rstrip("0") or "0", exp10


def _two_digit_minimum(x: float, digits: str, exp10: int, reads_back: Any) -> tuple[str, int]:
    """Java always prints two significant digits (``d.d``); when the shortest form has one, it
    takes the two-digit decimal nearest the exact value if that one also reads back (this only
    changes subnormals, e.g. Double.MIN_VALUE is ``4.9E-324``, not ``5.0E-324``)."""
    candidate = f"{abs(x):.1e}"
    if reads_back(float(candidate)):
        _, d, e = _digits_of(candidate)
        return d, e
    return digits, exp10


def java_double(x: float) -> str:
    """``Double.toString(x)``."""
    if 1e-3 <= x < 1e7 or -1e7 < x <= -1e-3:
        return repr(x)  # Python's shortest repr, laid out as Java does in this range
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    if not math.isfinite(x):
        return _non_finite(x)
    negative, digits, exp10 = _digits_of(repr(x))
    if len(digits) == 1 and abs(x) < _MIN_NORMAL_DOUBLE:
        digits, exp10 = _two_digit_minimum(x, digits, exp10, lambda y: y == abs(x))
    return _layout(negative, digits, exp10)


def to_float32(x: float) -> float:
    """``x`` rounded to the nearest float32 (a Java ``(float)`` cast); DataException when it
    is out of float32's range."""
    try:
        return _FLOAT32.unpack(_FLOAT32.pack(x))[0]
    except OverflowError:
        raise DataException(f"Value {x} is out of range for a 32-bit float") from None


@lru_cache(maxsize=4096)
def java_float(x: float) -> str:
    """``Float.toString((float) x)``: the shortest digits that read back to the same float32."""
    f = to_float32(x)
    if f == 0.0:
        return "-0.0" if math.copysign(1.0, f) < 0 else "0.0"
    if not math.isfinite(f):
        return _non_finite(f)

    def reads_back(y: float) -> bool:
        try:
            return _FLOAT32.unpack(_FLOAT32.pack(y))[0] == abs(f)
        except OverflowError:
            return False

    for precision in range(1, 10):
        text = f"{abs(f):.{precision - 1}e}"
        if reads_back(float(text)):
            break
    _, digits, exp10 = _digits_of(text)
    if len(digits) == 1 and abs(f) < _MIN_NORMAL_FLOAT:
        digits, exp10 = _two_digit_minimum(f, digits, exp10, reads_back)
    return _layout(f < 0, digits, exp10)


def java_decimal(value: _decimal.Decimal) -> str:
    """``BigDecimal.toString()``: Python's Decimal follows the same "to-scientific-string" rule;
    only BigDecimal has no negative zero."""
    if not value.is_finite():
        raise DataException(f"Decimal value {value} is not a finite number")
    if value.is_zero() and value.is_signed():
        value = value.copy_abs()
    return str(value)


#: the epoch and the unit of Connect's Timestamp (also used inline by the JSON codecs)
EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
ONE_MILLISECOND = _dt.timedelta(milliseconds=1)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def epoch_millis(value: _dt.date | _dt.time) -> int:
    """Milliseconds since the epoch of the ``java.util.Date`` a date/time/datetime stands for
    (a time of day is on 1970-01-01, a date at midnight UTC, a naive datetime is UTC)."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        delta = value - EPOCH_UTC
        return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    if isinstance(value, _dt.date):
        return (value.toordinal() - 719_163) * 86_400_000
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000


def utc_from_millis(millis: int) -> _dt.datetime:
    return EPOCH_UTC + ONE_MILLISECOND * millis


def java_date_to_string(value: _dt.date | _dt.time) -> str:
    """``java.util.Date.toString()`` in a UTC JVM: ``Fri Aug 23 14:34:54 UTC 2019``."""
    t = utc_from_millis(epoch_millis(value))
    return (
        f"{_DAYS[t.weekday()]} {_MONTHS[t.month - 1]} {t.day:02d} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} UTC {t.year}"
    )


def java_to_string(value: Any, schema: Schema | None = None) -> str:
    """What ``value.toString()`` returns for the Java object Kafka would hold: ``true``/``false``
    for booleans, Java's float formatting (float32 when ``schema`` says FLOAT32),
    ``BigDecimal.toString`` for decimals, ``[a, b]`` for lists, ``{k=v}`` for maps and
    ``Struct{a=1,b=x}`` for structs. Strings are returned as they are."""
    if type(value) is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if schema is not None and schema.type is Type.FLOAT32:
            return java_float(value)
        return java_double(value)
    if isinstance(value, _decimal.Decimal):
        return java_decimal(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (_dt.date, _dt.time)):
        return java_date_to_string(value)
    if isinstance(value, (list, tuple)):
        element = schema.value_schema if schema is not None and schema.type is Type.ARRAY else None
        return "[" + ", ".join(java_to_string(v, element) for v in value) + "]"
    if isinstance(value, dict):
        if schema is not None and schema.type is Type.MAP:
            key_schema, value_schema = schema.key_schema, schema.value_schema
        else:
            key_schema = value_schema = None
        return (
            "{"
            + ", ".join(
                f"{java_to_string(k, key_schema)}={java_to_string(v, value_schema)}"
                for k, v in value.items()
            )
            + "}"
        )
    if isinstance(value, Struct):
        parts = []
        for field in value.schema.fields:
            field_value = value.get_without_default(field.name)
            if field_value is not None:
                parts.append(f"{field.name}={java_to_string(field_value, field.schema)}")
        return "Struct{" + ",".join(parts) + "}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        # Java prints an identity hash ("[B@1b6d3586"), which nobody can use; base64 is what
        # Kafka's own Values.convertToString writes for bytes.
        return base64.b64encode(value).decode("ascii")
    return str(value)
