"""Java ``SimpleDateFormat`` patterns (``yyyyMMdd``, ``yyyy-MM-dd'T'HH:mm:ss.SSSZ`` …) for
formatting and parsing instants in UTC, as TimestampRouter and TimestampConverter need them.

The pattern letters mean what they mean in Java with the US locale; the time zone is always UTC.
Parsing follows Java's rules where it matters for timestamps: a numeric field takes as many
digits as it finds unless another numeric field follows it directly (then it takes exactly
as many as its letters), two-digit years are resolved within 80 years before and 20 after
now, and text after the pattern is ignored.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
from collections.abc import Callable

_UTC = _dt.UTC
_PATTERN_LETTERS = frozenset("GyYMLwWDdFEuaHkKhmsSzZX")
_NUMERIC_LETTERS = frozenset("yYMLwWDdFuHkKhmsS")
_MONTHS = list(calendar.month_name)[1:]
_MONTHS_SHORT = list(calendar.month_abbr)[1:]
_DAYS = list(calendar.day_name)  # Monday first
_DAYS_SHORT = list(calendar.day_abbr)

Token = tuple[str, str, int]  # ("field", letter, count) or ("text", literal, 0)


def _tokenize(pattern: str) -> list[Token]:
    tokens: list[Token] = []
    literal: list[str] = []
    i, n = 0, len(pattern)

    def flush() -> None:
        if literal:
            tokens.append(("text", "".join(literal), 0))
            literal.clear()

    while i < n:
        ch = pattern[i]
        if ch == "'":
            if i + 1 < n and pattern[i + 1] == "'":
                literal.append("'")
                i += 2
                continue
            end = i + 1
            quoted: list[str] = []
            while True:
                if end >= n:
                    raise ValueError("Unterminated quote")
                if pattern[end] == "'":
                    if end + 1 < n and pattern[end + 1] == "'":
                        quoted.append("'")
                        end += 2
                        continue
                    break
                quoted.append(pattern[end])
                end += 1
            literal.extend(quoted)
            i = end + 1
        elif ("a" <= ch <= "z") or ("A" <= ch <= "Z"):
            if ch not in _PATTERN_LETTERS:
                raise ValueError(f"Illegal pattern character '{ch}'")
            flush()
            start = i
            while i < n and pattern[i] == ch:
                i += 1
            tokens.append(("field", ch, i - start))
        else:
            literal.append(ch)
            i += 1
    flush()
    return tokens


def _pad(value: int, width: int) -> str:
    text = str(abs(value)).zfill(width)
    return "-" + text if value < 0 else text


def _hour12(hour: int) -> int:
    return hour % 12 or 12


def _week_of_year(dt: _dt.datetime) -> int:
    # US rules: weeks start on Sunday, week 1 holds January 1st.
    jan1 = dt.replace(month=1, day=1)
    offset = (jan1.weekday() + 1) % 7  # days from the Sunday starting week 1
    return (dt.timetuple().tm_yday - 1 + offset) // 7 + 1


def _week_of_month(dt: _dt.datetime) -> int:
    first = dt.replace(day=1)
    offset = (first.weekday() + 1) % 7
    return (dt.day - 1 + offset) // 7 + 1


_FORMATTERS: dict[str, Callable[[_dt.datetime, int], str]] = {
    "G": lambda dt, n: "AD",
    "y": lambda dt, n: _pad(dt.year % 100, 2) if n == 2 else _pad(dt.year, n),
    "Y": lambda dt, n: _pad(dt.year % 100, 2) if n == 2 else _pad(dt.year, n),
    "M": lambda dt, n: (
        _MONTHS[dt.month - 1]
        if n >= 4
        else _MONTHS_SHORT[dt.month - 1]
        if n == 3
        else _pad(dt.month, n)
    ),
    "w": lambda dt, n: _pad(_week_of_year(dt), n),
    "W": lambda dt, n: _pad(_week_of_month(dt), n),
    "D": lambda dt, n: _pad(dt.timetuple().tm_yday, n),
    "d": lambda dt, n: _pad(dt.day, n),
    "F": lambda dt, n: _pad((dt.day - 1) // 7 + 1, n),
    "E": lambda dt, n: _DAYS[dt.weekday()] if n >= 4 else _DAYS_SHORT[dt.weekday()],
    "u": lambda dt, n: _pad(dt.isoweekday(), n),
    "a": lambda dt, n: "AM" if dt.hour < 12 else "PM",
    "H": lambda dt, n: _pad(dt.hour, n),
    "k": lambda dt, n: _pad(dt.hour or 24, n),
    "K": lambda dt, n: _pad(dt.hour % 12, n),
    "h": lambda dt, n: _pad(_hour12(dt.hour), n),
    "m": lambda dt, n: _pad(dt.minute, n),
    "s": lambda dt, n: _pad(dt.second, n),
    "S": lambda dt, n: _pad(dt.microsecond // 1000, n),
    "z": lambda dt, n: "Coordinated Universal Time" if n >= 4 else "UTC",
    "Z": lambda dt, n: "+0000",
    "X": lambda dt, n: "Z",
}
_FORMATTERS["L"] = _FORMATTERS["M"]


def _names_regex(names: list[str]) -> str:
    return "(" + "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)) + ")"


class JavaDateFormat:
    """A compiled ``SimpleDateFormat`` pattern working in UTC.

    Raises ValueError for a pattern Java would reject (an unknown letter, an open quote)."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self._tokens = _tokenize(pattern)
        self._parser: re.Pattern[str] | None = None
        self._groups: list[tuple[str, int]] = []

    def __repr__(self) -> str:
        return f"JavaDateFormat({self.pattern!r})"

    # -- formatting --------------------------------------------------------------------------
    def format(self, instant: _dt.datetime) -> str:
        """The instant (naive values are taken as UTC) written with the pattern."""
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=_UTC)
        else:
            instant = instant.astimezone(_UTC)
        out: list[str] = []
        for kind, payload, count in self._tokens:
            out.append(payload if kind == "text" else _FORMATTERS[payload](instant, count))
        return "".join(out)

    def format_millis(self, millis: int) -> str:
        return self.format(
            _dt.datetime(1970, 1, 1, tzinfo=_UTC) + _dt.timedelta(milliseconds=millis)
        )

    # -- parsing -----------------------------------------------------------------------------
    def _compile_parser(self) -> re.Pattern[str]:
        parts: list[str] = []
        groups: list[tuple[str, int]] = []
        tokens = self._tokens
        for index, (kind, payload, count) in enumerate(tokens):
            if kind == "text":
                parts.append(re.escape(payload))
                continue
            letter = payload
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            abutting = (
                following is not None
                and following[0] == "field"
                and following[1] in _NUMERIC_LETTERS
                and not ((following[1] in "ML") and following[2] >= 3)
            )
            if letter in "ML" and count >= 3:
                parts.append(_names_regex(_MONTHS + _MONTHS_SHORT))
            elif letter == "E":
                parts.append(_names_regex(_DAYS + _DAYS_SHORT))
            elif letter == "a":
                parts.append("(AM|PM)")
            elif letter == "G":
                parts.append("(AD|BC)")
            elif letter == "z":
                parts.append(
                    r"((?:UTC|GMT|Z|Coordinated Universal Time)(?:[+-]\d{1,2}(?::?\d{2})?)?)"
                )
            elif letter == "Z":
                parts.append(r"(Z|[+-]\d{4}|(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?)")
            elif letter == "X":
                parts.append(r"(Z|[+-]\d{2}(?::?\d{2})?)")
            elif abutting:
                parts.append(r"(\d{" + str(count) + "})")
            elif letter in "yY":
                parts.append(r"([+-]?\d+)")
            else:
                parts.append(r"(\d+)")
            groups.append((letter, count))
        self._groups = groups
        return re.compile("".join(parts), re.IGNORECASE)

    def parse(self, text: str) -> _dt.datetime:
        """The UTC instant ``text`` stands for; ValueError when it does not match."""
        if self._parser is None:
            self._parser = self._compile_parser()
        match = self._parser.match(text)
        if match is None:
            raise ValueError(f'Unparseable date: "{text}"')
        year, month, day = 1970, 1, 1
        day_of_year: int | None = None
        hour = minute = second = millis = 0
        hour12: int | None = None
        pm: bool | None = None
        offset = _dt.timedelta(0)
        for (letter, count), raw in zip(self._groups, match.groups(), strict=True):
            if letter in "yY":
                year = int(raw)
                if count <= 2 and len(raw) == 2 and raw.isdigit():
                    year = _resolve_two_digit_year(year)
            elif letter in "ML":
                if count >= 3:
                    lowered = raw.lower()
                    names = [m.lower() for m in _MONTHS]
                    shorts = [m.lower() for m in _MONTHS_SHORT]
                    month = (
                        names.index(lowered) if lowered in names else shorts.index(lowered)
                    ) + 1
                else:
                    month = int(raw)
            elif letter == "d":
                day = int(raw)
            elif letter == "D":
                day_of_year = int(raw)
            elif letter == "H":
                hour = int(raw)
            elif letter == "k":
                hour = int(raw) % 24
            elif letter in "hK":
                hour12 = int(raw) % 12
            elif letter == "a":
                pm = raw.upper() == "PM"
            elif letter == "m":
                minute = int(raw)
            elif letter == "s":
                second = int(raw)
            elif letter == "S":
                millis = int(raw)
            elif letter in "zZX":
                offset = _parse_offset(raw)
        if hour12 is not None:
            hour = hour12 + (12 if pm else 0)
        elif pm and hour < 12:
            hour += 12
        if day_of_year is not None and not any(g[0] in "MLd" for g in self._groups):
            base = _dt.datetime(year, 1, 1, tzinfo=_UTC) + _dt.timedelta(days=day_of_year - 1)
        else:
            # Java is lenient: a month of 13 is January next year, and so on.
            year += (month - 1) // 12
            month = (month - 1) % 12 + 1
            base = _dt.datetime(year, month, 1, tzinfo=_UTC) + _dt.timedelta(days=day - 1)
        return (
            base
            + _dt.timedelta(hours=hour, minutes=minute, seconds=second, milliseconds=millis)
            - offset
        )


def _resolve_two_digit_year(two_digits: int) -> int:
    # Java puts two-digit years within 80 years before and 20 years after now.
    now = _dt.datetime.now(_UTC)
    start = now.year - 80
    year = (start // 100) * 100 + two_digits
    if year < start:
        year += 100
    return year


def _parse_offset(raw: str) -> _dt.timedelta:
    upper = raw.upper()
    for prefix in ("COORDINATED UNIVERSAL TIME", "UTC", "GMT", "Z"):
        if upper.startswith(prefix):
            upper = upper[len(prefix) :]
            break
    if not upper:
        return _dt.timedelta(0)
    sign = -1 if upper[0] == "-" else 1
    digits = upper[1:].replace(":", "")
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    else:
        hours, minutes = int(digits[:-2]), int(digits[-2:])
    return sign * _dt.timedelta(hours=hours, minutes=minutes)
