"""Which format a sink's ``COPY`` sends rows in: text, or PostgreSQL's binary format when that
is cheaper and safe for every column of the batch.

Cheaper: making a value's text costs about the same for most types (0.2-0.4 µs in psycopg),
except an aware datetime (``timestamp with time zone``: 1.2 µs, its ISO text is slow to make),
while in binary every type costs about 0.2 µs except ``numeric`` (1.0 µs). So binary wins for a
batch with timestamptz columns and no more numeric columns than timestamptz ones (the
benchmark's row: 0.99 µs a row in binary against 2.2 µs in text).

Safe: binary sends each value as exactly the column's type, without the server's parsing, so it
is used only where the record's field and the column have the same type (INT32 into
``integer``, Timestamp into ``timestamptz``, STRING into ``text``/``varchar`` …); any other pair
(an INT32 into ``bigint``, a Timestamp into ``timestamp``, arrays) makes the batch text. psycopg
packs ``smallint``/``integer`` values by truncating them, so those are range-checked first; a
value binary cannot send (out of range, a naive datetime for timestamptz) raises before
anything is committed, and the caller sends the batch again as text, where the server judges
it as it always does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kconnect_postgres.catalog import ColumnInfo

TIMESTAMPTZ = "timestamp with time zone"
NUMERIC = "numeric"

#: column type a record field writes (types.sql_type) -> {table column type: psycopg's name
#: of it}: the pairs binary COPY sends as they are
_SAME_TYPE = {
    "smallint": {"smallint": "int2"},
    "integer": {"integer": "int4"},
    "bigint": {"bigint": "int8"},
    "double precision": {"double precision": "float8"},
    "boolean": {"boolean": "bool"},
    "text": {"text": "text", "character varying": "varchar"},
    "bytea": {"bytea": "bytea"},
    "numeric": {NUMERIC: "numeric"},
    "date": {"date": "date"},
    "time": {"time without time zone": "time"},
    "timestamp": {TIMESTAMPTZ: "timestamptz"},
}
#: psycopg's binary dumpers keep only the low bits of an integer too large for these
_INT_RANGES = {"int2": (-(2**15), 2**15 - 1), "int4": (-(2**31), 2**31 - 1)}


class BinaryValueError(ValueError):
    """A value binary COPY would not send faithfully (the batch goes as text instead)."""


@dataclass(frozen=True)
class BinaryCopy:
    """How to send a batch in binary: psycopg's type of each column, and the integer
    columns whose values must be checked against their type's range."""

    types: list[str]
    #: (position in the row, lowest, highest)
    int_ranges: list[tuple[int, int, int]]

    def check(self, row: Sequence[object]) -> None:
        for position, low, high in self.int_ranges:
            value = row[position]
            if value is not None and not low <= value <= high:  # type: ignore[operator]
                raise BinaryValueError(f"{value} is out of range for {self.types[position]}")


def binary_copy(
    field_types: Sequence[str], columns: Mapping[str, ColumnInfo], names: Sequence[str]
) -> BinaryCopy | None:
    """Binary for columns ``names`` (their fields' column types ``field_types``) of a table with
    ``columns``, or None when text is cheaper or some column needs the server's parsing."""
    types = []
    for field_type, name in zip(field_types, names, strict=True):
        info = columns.get(name)
        psycopg_type = _SAME_TYPE.get(field_type, {}).get(info.type_name) if info else None
        if psycopg_type is None:
            return None
        types.append(psycopg_type)
    timestamptz = types.count("timestamptz")
    if not timestamptz or types.count("numeric") > timestamptz:
        return None
    ranges = [(i, *_INT_RANGES[t]) for i, t in enumerate(types) if t in _INT_RANGES]
    return BinaryCopy(types, ranges)
