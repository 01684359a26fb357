"""The sink's COPY in binary: chosen only where it is cheaper and every column's field has the
column's own type, writes the same values text would, and falls back to text (where the server
judges the value) when psycopg could not send a value faithfully."""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from typing import Any

import pytest
from kconnect.api import (
    ConnectException,
    Date,
    Decimal,
    Schema,
    SchemaBuilder,
    SinkRecord,
    Struct,
    Time,
    Timestamp,
)
from sink_task_runs import put_records

from kconnect_postgres.catalog import ColumnInfo
from kconnect_postgres.copy_format import binary_copy
from kconnect_postgres.sink import PostgresSinkTask

BENCH_FIELDS = ["bigint", "text", "numeric", "timestamp", "boolean", "integer"]
BENCH_COLUMNS = {
    "id": "bigint",
    "label": "text",
    "amount": "numeric",
    "created": "timestamp with time zone",
    "flag": "boolean",
    "quantity": "integer",
}


def _columns(types: dict[str, str]) -> dict[str, ColumnInfo]:
    return {name: ColumnInfo(name, type_name, False, False) for name, type_name in types.items()}


def test_binary_for_a_row_with_a_timestamptz_and_psycopgs_type_per_column() -> None:
    chosen = binary_copy(BENCH_FIELDS, _columns(BENCH_COLUMNS), list(BENCH_COLUMNS))
    assert chosen is not None
    assert chosen.types == ["int8", "text", "numeric", "timestamptz", "bool", "int4"]
    assert chosen.int_ranges == [(5, -(2**31), 2**31 - 1)]


@pytest.mark.parametrize(
    ("fields", "columns"),
    [
        # no timestamptz: text is as cheap
        (["bigint", "text"], {"id": "bigint", "label": "text"}),
        # more numeric columns than timestamptz ones: binary numeric is the costlier
        (
            ["timestamp", "numeric", "numeric"],
            {"t": "timestamp with time zone", "a": "numeric", "b": "numeric"},
        ),
        # an INT32 field into a bigint column: binary would send 4 bytes for an 8-byte column
        (["timestamp", "integer"], {"t": "timestamp with time zone", "n": "bigint"}),
        # a Timestamp into timestamp without time zone: db.timezone's wall clock needs the text
        (["timestamp", "timestamp"], {"t": "timestamp with time zone", "u": "timestamp"}),
        # a STRING into a jsonb column: the server parses it
        (["timestamp", "text"], {"t": "timestamp with time zone", "j": "jsonb"}),
        # arrays
        (["timestamp", "bigint[]"], {"t": "timestamp with time zone", "a": "bigint[]"}),
    ],
)
def test_text_where_binary_is_not_cheaper_or_a_column_needs_the_servers_parsing(
    fields: list[str], columns: dict[str, str]
) -> None:
    assert binary_copy(fields, _columns(columns), list(columns)) is None


def test_binary_range_check_refuses_what_psycopg_would_truncate() -> None:
    chosen = binary_copy(
        ["timestamp", "smallint", "integer"],
        _columns({"t": "timestamp with time zone", "s": "smallint", "i": "integer"}),
        ["t", "s", "i"],
    )
    assert chosen is not None
    chosen.check([None, 32767, -(2**31)])
    chosen.check([None, None, None])
    with pytest.raises(ValueError, match="70000 is out of range for int2"):
        chosen.check([None, 70000, 0])
    with pytest.raises(ValueError, match="out of range for int4"):
        chosen.check([None, 0, 2**31])


# -- against the server -------------------------------------------------------------------------
ALL_TYPES = """
CREATE TABLE t (
    id bigint PRIMARY KEY, qty integer, small smallint, label text, code varchar(8),
    amount numeric(12, 2), at timestamptz, day date, clock time, raw bytea, ratio double precision,
    flag boolean
)
"""


def _all_types_schema() -> Schema:
    return (
        SchemaBuilder.struct()
        .field("id", Schema.INT64_SCHEMA)
        .field("qty", Schema.OPTIONAL_INT32_SCHEMA)
        .field("small", SchemaBuilder.int16().optional().default_value(7).build())
        .field("label", Schema.OPTIONAL_STRING_SCHEMA)
        .field("code", Schema.OPTIONAL_STRING_SCHEMA)
        .field("amount", Decimal.builder(2).optional().build())
        .field("at", Timestamp.builder().optional().build())
        .field("day", Date.builder().optional().build())
        .field("clock", Time.builder().optional().build())
        .field("raw", Schema.OPTIONAL_BYTES_SCHEMA)
        .field("ratio", Schema.OPTIONAL_FLOAT64_SCHEMA)
        .field("flag", Schema.OPTIONAL_BOOLEAN_SCHEMA)
        .build()
    )


def _put(database: Any, records: list[SinkRecord]) -> PostgresSinkTask:
    props = {**database.credentials(), "insert.mode": "insert", "table.name.format": "t"}
    return put_records(props, records)


def _plans(task: PostgresSinkTask) -> list[Any]:
    return [plan for _, _, plan in task._plans.values()]


def _copy_formats(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The format of each COPY the writer ran, from its debug lines."""
    return [
        r.getMessage().rsplit(" in ", 1)[1].split()[0]
        for r in caplog.records
        if r.name == "kconnect_postgres.writer" and "with COPY in" in r.getMessage()
    ]


def test_binary_copy_writes_every_type_and_null_faithfully(
    database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kconnect_postgres.writer")
    database.execute(ALL_TYPES)
    schema = _all_types_schema()
    at = dt.datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=dt.UTC)
    full = Struct(schema).put("id", 1).put("qty", -(2**31)).put("small", 32767)
    full.put("label", "héllo ☃").put("code", "abc").put("amount", decimal.Decimal("-1234.50"))
    full.put("at", at).put("day", dt.date(1, 1, 1)).put("clock", dt.time(23, 59, 59, 999000))
    full.put("raw", b"\x00\xff").put("ratio", 0.1).put("flag", False)
    empty = Struct(schema).put("id", 2)  # nulls everywhere, and small's default
    task = _put(
        database,
        [SinkRecord("t", 0, None, None, schema, v, i) for i, v in enumerate([full, empty])],
    )

    [plan] = _plans(task)
    assert _copy_formats(caplog) == ["binary"] and not plan.text_copy_only
    rows = database.execute("SELECT * FROM t ORDER BY id")
    assert rows == [
        (
            1, -(2**31), 32767, "héllo ☃", "abc", decimal.Decimal("-1234.50"), at,
            dt.date(1, 1, 1), dt.time(23, 59, 59, 999000), b"\x00\xff", 0.1, False,
        ),
        (2, None, 7, None, None, None, None, None, None, None, None, None),
    ]  # fmt: skip


def test_a_naive_datetime_falls_back_to_text_and_is_written(
    database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kconnect_postgres.writer")
    database.execute("CREATE TABLE t (id bigint, at timestamptz)")
    schema = (
        SchemaBuilder.struct()
        .field("id", Schema.INT64_SCHEMA)
        .field("at", Timestamp.SCHEMA)
        .build()
    )
    naive = dt.datetime(2024, 1, 1, 12, 0)  # binary timestamptz needs an aware one
    value = Struct._with_values(schema, [1, naive])
    task = _put(database, [SinkRecord("t", 0, None, None, schema, value, 0)])
    [plan] = _plans(task)
    assert _copy_formats(caplog) == ["binary", "text"] and plan.text_copy_only
    assert database.execute("SELECT id, at FROM t") == [(1, naive.replace(tzinfo=dt.UTC))]


def test_an_out_of_range_integer_is_refused_by_the_server_not_truncated(database: Any) -> None:
    database.execute("CREATE TABLE t (id bigint, at timestamptz, qty integer)")
    schema = (
        SchemaBuilder.struct()
        .field("id", Schema.INT64_SCHEMA)
        .field("at", Timestamp.SCHEMA)
        .field("qty", Schema.INT32_SCHEMA)
        .build()
    )
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    # A value no converter would make (they keep INT32 values in range), which psycopg's
    # binary int4 packing would have cut to its low 32 bits (0).
    value = Struct._with_values(schema, [1, now, 2**32])
    with pytest.raises(ConnectException, match="out of range for type integer"):
        _put(database, [SinkRecord("t", 0, None, None, schema, value, 0)])
    assert database.execute("SELECT count(*) FROM t") == [(0,)]
