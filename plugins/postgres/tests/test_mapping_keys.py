"""numeric.mapping, timestamp.initial and db.timezone against a real PostgreSQL server: the
source's tasks run in this process (the kit's worker stand-ins), the sink's task too."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from kconnect.api import Decimal, Schema, SchemaBuilder, SinkRecord, Struct, Timestamp
from kconnect.testing.kit.harness import KitOffsetStore
from sink_task_runs import put_records
from test_source_modes import config, poll_for, poll_until, running


def _kind(schema: Schema) -> str:
    if schema.name == Decimal.LOGICAL_NAME:
        return f"Decimal({schema.parameters['scale']})"
    return schema.type.name


def _millis(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


D = decimal.Decimal
# column -> mapping -> (Connect type, value, Python type of the value)
NUMERIC_EXPECTED: dict[str, dict[str, tuple[str, Any, type]]] = {
    "small": {  # numeric(5,0)
        "none": ("Decimal(0)", D("12345"), D),
        "precision_only": ("INT32", 12345, int),
        "best_fit": ("INT32", 12345, int),
        "best_fit_eager_double": ("INT32", 12345, int),
    },
    "price": {  # numeric(12,2)
        "none": ("Decimal(2)", D("1234567890.12"), D),
        "precision_only": ("Decimal(2)", D("1234567890.12"), D),
        "best_fit": ("FLOAT64", 1234567890.12, float),
        "best_fit_eager_double": ("FLOAT64", 1234567890.12, float),
    },
    "big": {  # numeric(20,0): more digits than an INT64 holds
        mapping: ("Decimal(0)", D("12345678901234567890"), D)
        for mapping in ("none", "precision_only", "best_fit", "best_fit_eager_double")
    },
    "wide": {  # numeric(20,5)
        "none": ("Decimal(5)", D("123456789012345.12345"), D),
        "precision_only": ("Decimal(5)", D("123456789012345.12345"), D),
        "best_fit": ("Decimal(5)", D("123456789012345.12345"), D),
        "best_fit_eager_double": ("FLOAT64", 123456789012345.12345, float),
    },
    "free": {  # unconstrained numeric: exact digits whatever the mapping
        mapping: ("STRING", "3.14159265358979323846", str)
        for mapping in ("none", "precision_only", "best_fit", "best_fit_eager_double")
    },
}


def test_numeric_mapping_sets_the_type_and_value_of_numeric_columns(database: Any) -> None:
    database.execute(
        "CREATE TABLE t (id serial PRIMARY KEY, small numeric(5,0), price numeric(12,2), "
        "big numeric(20,0), wide numeric(20,5), free numeric)"
    )
    database.execute(
        "INSERT INTO t (small, price, big, wide, free) VALUES (12345, 1234567890.12, "
        "12345678901234567890, 123456789012345.12345, 3.14159265358979323846)"
    )
    cases = [
        ("none", {}),
        ("precision_only", {"numeric.mapping": "precision_only"}),
        ("best_fit", {"numeric.mapping": "best_fit"}),
        ("best_fit_eager_double", {"numeric.mapping": "best_fit_eager_double"}),
        ("precision_only", {"numeric.precision.mapping": "true"}),  # the deprecated key
    ]
    for mapping, keys in cases:
        with running(config(database, mode="bulk", **keys)) as [task]:
            [record, *_] = poll_until(task, 1)
        fields = {f.name: f.schema for f in record.value_schema.fields}
        for column, by_mapping in NUMERIC_EXPECTED.items():
            kind, value, python_type = by_mapping[mapping]
            got = record.value[column]
            assert (_kind(fields[column]), got, type(got)) == (kind, value, python_type), (
                f"{column} under {keys or 'the default'}"
            )


def test_timestamp_initial_is_where_the_first_pass_starts(database: Any) -> None:
    database.execute(
        "CREATE TABLE t (id serial PRIMARY KEY, v text NOT NULL, at timestamptz NOT NULL)"
    )
    database.execute(
        "INSERT INTO t (v, at) VALUES ('2020', '2020-06-01Z'), ('2022', '2022-06-01Z'), "
        "('2024', '2024-06-01Z')"
    )
    initial = str(_millis(dt.datetime(2022, 6, 1, tzinfo=dt.UTC)))
    keys = {"timestamp.column.name": "at", "timestamp.initial": initial}
    with running(config(database, mode="timestamp", **keys)) as [task]:
        # rows later than the initial timestamp, as the stored offsets of later passes
        assert [r.value["v"] for r in poll_for(task, 0.5)] == ["2024"]
    with running(config(database, mode="timestamp+incrementing", **keys)) as [task]:
        # the incrementing part starts below every id: a row at exactly that time is read
        assert [r.value["v"] for r in poll_for(task, 0.5)] == ["2022", "2024"]
    now = {"timestamp.column.name": "at", "timestamp.initial": "-1"}
    with running(config(database, mode="timestamp", **now)) as [task]:
        assert poll_for(task, 0.5) == []  # every row lies before the database's time
        database.execute("INSERT INTO t (v, at) VALUES ('later', clock_timestamp())")
        assert [r.value["v"] for r in poll_until(task, 1)] == ["later"]


def test_db_timezone_reads_and_compares_naive_timestamps_in_that_zone(database: Any) -> None:
    database.execute(
        "CREATE TABLE t (id serial PRIMARY KEY, v text NOT NULL, at timestamp NOT NULL)"
    )
    database.execute("INSERT INTO t (v, at) VALUES ('noon', '2024-01-15 12:00:00')")
    keys = {"timestamp.column.name": "at", "db.timezone": "Europe/Berlin"}
    noon_in_berlin = dt.datetime(2024, 1, 15, 11, tzinfo=dt.UTC)
    with running(config(database, mode="timestamp", **keys)) as [task]:
        [record] = poll_until(task, 1)
        assert record.value["at"] == noon_in_berlin
        assert record.source_offset["timestamp"] == _millis(noon_in_berlin)
        # the position is that instant, compared as Berlin's wall clock: 12:30 comes next
        database.execute("INSERT INTO t (v, at) VALUES ('half past', '2024-01-15 12:30:00')")
        assert [r.value["v"] for r in poll_until(task, 1)] == ["half past"]
        # "not in the future" is judged by Berlin's clock too
        database.execute(
            "INSERT INTO t (v, at) VALUES "
            "('just now', (now() AT TIME ZONE 'Europe/Berlin') - interval '10 minutes'), "
            "('ahead', (now() AT TIME ZONE 'Europe/Berlin') + interval '1 hour')"
        )
        assert [r.value["v"] for r in poll_for(task, 0.5)] == ["just now"]
    # timestamp.initial is an instant: 11:15 UTC is 12:15 in Berlin, after noon there
    initial = str(_millis(dt.datetime(2024, 1, 15, 11, 15, tzinfo=dt.UTC)))
    keys = {**keys, "timestamp.initial": initial}
    with running(config(database, mode="timestamp", **keys), KitOffsetStore()) as [task]:
        assert [r.value["v"] for r in poll_for(task, 0.5)] == ["half past", "just now"]


@pytest.mark.parametrize(
    "keys",
    [{"insert.mode": "insert"}, {"insert.mode": "upsert", "pk.mode": "record_value"}],
    ids=["copy", "upsert"],
)
def test_sink_writes_timestamps_as_wall_clock_times_in_db_timezone(
    database: Any, keys: dict[str, str]
) -> None:
    database.execute("CREATE TABLE t (id bigint PRIMARY KEY, naive timestamp, aware timestamptz)")
    schema = (
        SchemaBuilder.struct()
        .field("id", Schema.INT64_SCHEMA)
        .field("naive", Timestamp.SCHEMA)
        .field("aware", Timestamp.SCHEMA)
        .build()
    )
    instant = dt.datetime(2024, 1, 15, 11, 0, 0, 250000, tzinfo=dt.UTC)
    value = Struct(schema).put("id", 1).put("naive", instant).put("aware", instant)
    props = {**database.credentials(), "db.timezone": "Europe/Berlin", "pk.fields": "id", **keys}
    put_records(props, [SinkRecord("t", 0, None, None, schema, value, 0)])
    assert database.execute("SELECT naive, aware FROM t") == [
        (dt.datetime(2024, 1, 15, 12, 0, 0, 250000), instant)
    ]
