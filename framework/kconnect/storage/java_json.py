"""JSON bytes exactly as Apache Kafka Connect writes its internal topics.

Kafka Connect serializes offset keys and values, and the values of the config and status
topics, with ``JsonConverter`` (``schemas.enable=false``), which hands a Jackson tree to
``ObjectMapper.writeValueAsBytes``. Offsets are looked up by their exact key bytes, so kconnect
must produce the same bytes for the same data, or offsets written by one implementation are
invisible to the other.

Invariant: :func:`dumps` returns Jackson's bytes for every value made of ``str``, ``int``,
``bool``, ``None``, ``float``, ``bytes``, lists/tuples and dicts:

* compact (no spaces), map keys in the dict's own order (Jackson keeps the Java map's
  iteration order; a Python dict's insertion order is the equivalent);
* strings as UTF-8, escaping ``"``, ``\\`` and control characters (``\\b \\t \\n \\f \\r``,
  the rest as ``\\u00XX`` with upper-case hex); characters outside the Basic Multilingual
  Plane as a ``\\uD83D\\uDE00`` surrogate pair (Jackson's UTF-8 generator never writes them
  as 4-byte UTF-8); ``/``, DEL and U+2028 are left as they are;
* doubles as ``Double.toString`` (JDK 19+): plain between 10^-3 and 10^7 (``12.5``,
  ``100.0``), else ``1.0E-4``/``1.0E20``; NaN and infinities as the strings Jackson writes;
* bytes as base64 strings (Jackson's binary nodes).

orjson writes the common case (strings without those characters, ints, bools, nulls) with
the same bytes, so it is used whenever the value holds nothing else.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping
from typing import Any

import orjson

from kconnect.api.errors import DataException

# Characters orjson writes differently from Jackson: control characters without a short
# escape (orjson uses lower-case hex), anything outside the BMP (orjson writes raw UTF-8) and
# lone surrogates (orjson refuses them; Jackson escapes each surrogate on its own).
_SPECIAL = re.compile("[\x00-\x07\x0b\x0e-\x1f\ud800-\udfff\U00010000-\U0010ffff]")
_ESCAPE = re.compile('["\\\\\x00-\x1f\ud800-\udfff\U00010000-\U0010ffff]')
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_MIN_NORMAL = 2.2250738585072014e-308


def dumps(value: Any) -> bytes:
    """``value`` as Kafka Connect's JsonConverter (schemas.enable=false) writes it."""
    if _orjson_matches(value):
        try:
            return orjson.dumps(value)
        except orjson.JSONEncodeError as error:
            raise DataException(f"Cannot serialize {value!r} as JSON: {error}") from error
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("utf-8")


def _orjson_matches(value: Any) -> bool:
    """Whether orjson writes ``value`` byte for byte as Jackson does."""
    t = type(value)
    if t is str:
        return _SPECIAL.search(value) is None
    if t is int or t is bool or value is None:
        return True
    if t is dict:
        return all(
            type(k) is str and _SPECIAL.search(k) is None and _orjson_matches(v)
            for k, v in value.items()
        )
    if t is list:
        return all(_orjson_matches(v) for v in value)
    return False  # floats, bytes, tuples, subclasses: the careful path


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(java_string(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        text = java_double(value)
        out.append(text if math.isfinite(value) else f'"{text}"')
    elif isinstance(value, (bytes, bytearray, memoryview)):
        out.append('"' + base64.b64encode(bytes(value)).decode("ascii") + '"')
    elif isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            # JsonConverter writes a map with any non-string key as an array of [key, value].
            _write([[k, v] for k, v in value.items()], out)
            return
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(java_string(k))
            out.append(":")
            _write(v, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _write(v, out)
        out.append("]")
    else:
        raise DataException(f"Python class {type(value)} does not have corresponding schema type.")


def java_string(text: str) -> str:
    """A JSON string literal as Jackson's UTF-8 generator writes it."""
    return '"' + _ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04X}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}"


def java_double(x: float) -> str:
    """``Double.toString(x)`` (JDK 19+, shortest digits that read back to ``x``)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        return repr(x)  # Python's shortest repr, laid out as Java lays it out in this range
    digits, exp10 = _shortest_digits(abs(x))
    if len(digits) == 1 and abs(x) < _MIN_NORMAL:
        # Java always prints two significant digits; for subnormals it takes the two-digit
        # decimal nearest the exact value when that one also reads back (4.9E-324, not 5.0E-324).
        candidate = f"{abs(x):.1e}"
        if float(candidate) == abs(x):
            digits, exp10 = _shortest_digits_of_text(candidate)
    sign = "-" if x < 0 else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exp10}"


def _shortest_digits(x: float) -> tuple[str, int]:
    return _shortest_digits_of_text(repr(x))


def _shortest_digits_of_text(text: str) -> tuple[str, int]:
    """The significant digits of a positive decimal text and the power of ten of the first."""
    mantissa, _, exponent = text.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    significant = all_digits.lstrip("0")
    leading_zeros = len(all_digits) - len(significant)
    exp10 = len(whole) - leading_zeros - 1 + (int(exponent) if exponent else 0)
    return significant.rstrip("0") or "0", exp10
