"""The source's modes, table lists and offsets against a real PostgreSQL server, with the task
run in this process (the kit's worker stand-ins)."""

from __future__ import annotations

import decimal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from kconnect.api import ConnectException, DataException, SourceRecord
from kconnect.testing.kit.harness import KitConnectorContext, KitOffsetStore, KitSourceTaskContext

from kconnect_postgres.source import PostgresSourceConnector
from kconnect_postgres.source_task import PostgresSourceTask


@contextmanager
def running(
    config: dict[str, str], offsets: KitOffsetStore | None = None
) -> Iterator[list[PostgresSourceTask]]:
    offsets = offsets or KitOffsetStore()
    connector = PostgresSourceConnector()
    connector.initialize(KitConnectorContext(offsets))
    connector.start(config)
    tasks = []
    try:
        for task_config in connector.task_configs(int(config.get("tasks.max", "1"))):
            task = PostgresSourceTask()
            task.initialize(KitSourceTaskContext(task_config, offsets))
            task.start(task_config)
            tasks.append(task)
        yield tasks
    finally:
        for task in tasks:
            task.stop()
        connector.stop()


def poll_until(task: PostgresSourceTask, count: int, timeout: float = 10) -> list[SourceRecord]:
    records: list[SourceRecord] = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        records.extend(task.poll() or ())
    return records


def poll_for(task: PostgresSourceTask, seconds: float) -> list[SourceRecord]:
    records: list[SourceRecord] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        records.extend(task.poll() or ())
    return records


def config(db: Any, **extra: str) -> dict[str, str]:
    return {**db.credentials(), "topic.prefix": "t-", "poll.interval.ms": "50", **extra}


def test_timestamp_incrementing_reads_changed_rows_once(database: Any) -> None:
    database.execute(
        "CREATE TABLE t (id serial PRIMARY KEY, v text NOT NULL, "
        "updated timestamp NOT NULL DEFAULT clock_timestamp())"
    )
    database.execute("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')")
    cfg = config(database, mode="timestamp+incrementing", **{"timestamp.column.name": "updated"})
    offsets = KitOffsetStore()
    with running(cfg, offsets) as [task]:
        records = poll_until(task, 3)
        assert [r.value["v"] for r in records] == ["a", "b", "c"]
        assert set(records[-1].source_offset) == {"incrementing", "timestamp", "timestamp_nanos"}
        database.execute("UPDATE t SET v = 'b2', updated = clock_timestamp() WHERE id = 2")
        records = poll_until(task, 1)
        assert [(r.value["id"], r.value["v"]) for r in records] == [(2, "b2")]
        assert poll_for(task, 0.3) == []
        offsets.commit(records[-1].source_partition, records[-1].source_offset)
    database.execute("INSERT INTO t (v) VALUES ('d')")
    with running(cfg, offsets) as [task]:
        assert [r.value["v"] for r in poll_until(task, 1)] == ["d"]
        assert poll_for(task, 0.3) == []


def test_timestamp_mode_waits_for_the_delay(database: Any) -> None:
    database.execute("CREATE TABLE t (v text, at timestamptz NOT NULL)")
    database.execute("INSERT INTO t VALUES ('old', now() - interval '1 hour'), ('new', now())")
    cfg = config(
        database,
        mode="timestamp",
        **{"timestamp.column.name": "at", "timestamp.delay.interval.ms": "1500"},
    )
    with running(cfg) as [task]:
        assert [r.value["v"] for r in poll_for(task, 0.5)] == ["old"]
        assert [r.value["v"] for r in poll_until(task, 1, timeout=5)] == ["new"]


def test_bulk_mode_reads_the_whole_table_every_time(database: Any) -> None:
    database.execute("CREATE TABLE t (v integer)")
    database.execute("INSERT INTO t SELECT generate_series(1, 3)")
    with running(config(database, mode="bulk", **{"batch.max.rows": "2"})) as [task]:
        records = poll_until(task, 6)
        assert [r.value["v"] for r in records[:6]] == [1, 2, 3, 1, 2, 3]
        assert records[0].source_offset is None


def test_query_mode_with_its_own_where(database: Any) -> None:
    database.execute("CREATE TABLE t (id serial PRIMARY KEY, v integer NOT NULL)")
    database.execute("INSERT INTO t (v) SELECT generate_series(1, 10)")
    cfg = config(
        database,
        mode="incrementing",
        query="SELECT id, v * 10 AS ten FROM t WHERE v % 2 = 0",
        **{"incrementing.column.name": "id", "topic.prefix": "evens"},
    )
    with running(cfg) as [task]:
        records = poll_until(task, 5)
        assert [r.value["ten"] for r in records] == [20, 40, 60, 80, 100]
        assert records[0].topic == "evens"
        assert records[0].source_partition == {"query": "query"}


def test_include_and_exclude_lists_and_one_task_per_group(database: Any) -> None:
    database.execute("CREATE SCHEMA other")
    for name in ("a", "b", "c", "other.d"):
        database.execute(f"CREATE TABLE {name} (id serial PRIMARY KEY)")
    connector = PostgresSourceConnector()
    connector.initialize(KitConnectorContext())

    def tables(**extra: str) -> list[str]:
        connector.start(config(database, mode="incrementing", **extra))
        try:
            return [t["tables"] for t in connector.task_configs(2)]
        finally:
            connector.stop()

    assert tables(**{"table.whitelist": "a, other.d"}) == ['[["other", "d"]]', '[["public", "a"]]']
    assert tables(**{"table.exclude.list": "b,c"}) == ['[["other", "d"]]', '[["public", "a"]]']
    assert tables(**{"table.include.list": "a,b,c"}) == [
        '[["public", "a"], ["public", "b"]]',
        '[["public", "c"]]',
    ]
    assert tables(**{"schema.pattern": "oth%"}) == ['[["other", "d"]]']


def test_nullable_incrementing_column_is_refused_unless_allowed(database: Any) -> None:
    database.execute("CREATE TABLE t (n integer, v text)")
    database.execute("INSERT INTO t VALUES (1, 'x')")
    cfg = config(database, mode="incrementing", **{"incrementing.column.name": "n"})
    with running(cfg) as [task], pytest.raises(ConnectException, match="allow NULL"):
        task.poll()
    with running({**cfg, "validate.non.null": "false"}) as [task]:
        assert [r.value["v"] for r in poll_until(task, 1)] == ["x"]


def test_protocol_zero_offsets_are_still_read(database: Any) -> None:
    database.execute("CREATE TABLE t (id serial PRIMARY KEY, v text)")
    database.execute("INSERT INTO t (v) SELECT 'r' || g FROM generate_series(1, 5) g")
    offsets = KitOffsetStore()
    offsets.commit({"table": "t"}, {"incrementing": 3})  # an older JDBC connector's offset
    with running(config(database, mode="incrementing"), offsets) as [task]:
        assert [r.value["id"] for r in poll_until(task, 2)] == [4, 5]


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "server-cursor"])
def test_passes_read_in_batches_and_stop_midway_both_ways(
    database: Any, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    """Streamed chunks (libpq 17+) and the server-side cursor an older libpq gets read a pass
    in batch.max.rows batches, and a stop in the middle of a pass leaves nothing open."""
    from kconnect_postgres import querier

    if streamed and not querier._CHUNKED_STREAMS:
        pytest.skip("this libpq cannot stream in chunks")
    monkeypatch.setattr(querier, "_CHUNKED_STREAMS", streamed)
    database.execute("CREATE TABLE t (id serial PRIMARY KEY, v text)")
    database.execute("INSERT INTO t (v) SELECT 'v' || g FROM generate_series(1, 25) g")
    props = config(
        database, mode="incrementing", **{"table.whitelist": "t", "batch.max.rows": "10"}
    )
    with running(props) as [task]:
        sizes = [len(task.poll() or ()) for _ in range(2)]
        assert sizes == [10, 10]  # mid-pass: the stop below interrupts it
    with running(props) as [task]:
        records = poll_until(task, 25)
    assert [r.value.get("id") for r in records] == list(range(1, 26))
    # Backends end a moment after their client closes: wait (bounded) for none to be left.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _source_sessions(database):
        time.sleep(0.05)
    assert _source_sessions(database) == 0


def _source_sessions(database: Any) -> int:
    [(count,)] = database.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'kconnect-source%'"
    )
    return int(count)


def test_arrays_one_dimensional_read_and_more_dimensions_named(database: Any) -> None:
    database.execute("CREATE TABLE t (id serial PRIMARY KEY, amounts numeric(6,2)[], n int[])")
    database.execute("INSERT INTO t (amounts, n) VALUES ('{1.5,NULL,2}', '{1,NULL,3}')")
    with running(config(database, mode="incrementing", **{"table.whitelist": "t"})) as [task]:
        [record] = poll_until(task, 1)
        assert record.value.get("amounts") == [
            decimal.Decimal("1.50"),
            None,
            decimal.Decimal("2.00"),
        ]
        assert record.value.get("n") == [1, None, 3]
        database.execute("INSERT INTO t (amounts, n) VALUES (NULL, '{{1,2},{3,4}}')")
        with pytest.raises(DataException, match="column 'n' holds a multi-dimensional int4 array"):
            poll_until(task, 1)
