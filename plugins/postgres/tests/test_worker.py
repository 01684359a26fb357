"""Both connectors in a real ``connect-standalone`` process, against a real Kafka broker and a
real PostgreSQL server, found through their entry points as an installed plugin."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from kconnect.testing.helpers import read_topic
from kconnect.testing.standalone_worker import StandaloneWorker

JSON = "org.apache.kafka.connect.json.JsonConverter"

TYPED_TABLE = """
CREATE TABLE {name} (
    id bigserial PRIMARY KEY,
    small smallint, num integer NOT NULL, big bigint,
    label text, price numeric(12, 3), ratio double precision,
    created timestamp, seen timestamptz, day date, at_time time,
    flag boolean, payload bytea, doc jsonb, tags text[]
)
"""
TYPED_COLUMNS = (
    "small, num, big, label, price, ratio, created, seen, day, at_time, flag, payload, doc, tags"
)
UTC = dt.UTC


def typed_rows(start: int, count: int) -> list[tuple[Any, ...]]:
    """Rows covering every mapped type (millisecond timestamps: Connect's precision), with
    NULLs in every nullable column of every third row."""
    rows = []
    for i in range(start, start + count):
        if i % 3 == 2:
            rows.append(
                (None, i, None, None, None, None, None, None, None, None, None, None, None, None)
            )
            continue
        rows.append(
            (
                i % 100,
                i,
                10_000_000_000 + i,
                f'row {i} ünï "q"',
                decimal.Decimal(f"{i}.{i % 1000:03d}"),
                i / 8,
                dt.datetime(2024, 1, 1, 12, 0, 0, (i % 1000) * 1000) + dt.timedelta(days=i),
                dt.datetime(2023, 6, 30, 23, 59, 59, 123000, tzinfo=UTC) + dt.timedelta(hours=i),
                dt.date(2020, 2, 29) + dt.timedelta(days=i),
                dt.time(13, 14, 15, 678000),
                i % 2 == 0,
                bytes([0, 1, 2, 255, i % 256]),
                json.dumps({"n": i}),
                [f"t{i}", "x"],
            )
        )
    return rows


def insert_typed(db: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    with db.connect() as conn, conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} ({TYPED_COLUMNS}) VALUES ({', '.join(['%s'] * 14)})", rows
        )


def worker_props(tmp_path: Path, bootstrap: str, converter: str = JSON) -> dict[str, str]:
    return {
        "bootstrap.servers": bootstrap,
        "key.converter": converter,
        "value.converter": converter,
        "key.converter.schemas.enable": "true",
        "value.converter.schemas.enable": "true",
        "offset.storage.file.filename": str(tmp_path / "offsets"),
        "offset.flush.interval.ms": "500",
    }


def rest(worker: StandaloneWorker, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        worker.rest_url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except OSError:
        return 0, None


def task_states(worker: StandaloneWorker, name: str) -> list[str]:
    status, body = rest(worker, "GET", f"/connectors/{name}/status")
    if status != 200:
        return []
    return [t["state"] for t in body.get("tasks", [])]


def wait_running(worker: StandaloneWorker, name: str, tasks: int = 1) -> None:
    worker.wait_for(
        lambda: task_states(worker, name) == ["RUNNING"] * tasks,
        60,
        f"{name}'s {tasks} task(s) RUNNING",
    )


def source_config(db: Any, name: str, **extra: str) -> dict[str, str]:
    return {
        "name": name,
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "tasks.max": "1",
        **db.credentials(),
        "mode": "incrementing",
        "incrementing.column.name": "id",
        "poll.interval.ms": "200",
        "batch.max.rows": "50",
        **extra,
    }


def values_of(bootstrap: str, topic: str, expected: int, timeout: float = 60) -> list[Any]:
    messages = read_topic(bootstrap, topic, expected=expected, timeout=timeout)
    return [None if m.value() is None else json.loads(m.value())["payload"] for m in messages]


def test_round_trip_preserves_values_and_types(
    tmp_path: Path, bootstrap_servers: str, database: Any
) -> None:
    """Rows -> PostgresSource -> topic -> PostgresSink -> another table: every value and type
    is the same, and rows inserted later follow incrementally. A second sink creates its table
    from the record schema (auto.create)."""
    database.execute(TYPED_TABLE.format(name="items"))
    database.execute("CREATE TABLE copy_of_items (LIKE items INCLUDING ALL)")
    insert_typed(database, "items", typed_rows(0, 120))
    prefix = f"rt-{time.time_ns()}-"
    topic = prefix + "items"
    source = source_config(
        database, "pg-source", **{"table.whitelist": "items", "topic.prefix": prefix}
    )
    sinks = [
        {
            "name": f"pg-sink-{table}",
            "connector.class": "PostgresSink",
            "tasks.max": "1",
            **database.credentials(),
            "topics": topic,
            "table.name.format": table,
            "auto.create": "true",
            "pk.mode": "record_value",
            "pk.fields": "id",
            "insert.mode": "insert",
        }
        for table in ("copy_of_items", "auto_items")
    ]
    props = worker_props(tmp_path, bootstrap_servers)
    with StandaloneWorker(tmp_path, props, [source, *sinks]) as worker:
        for name in ("pg-source", "pg-sink-copy_of_items", "pg-sink-auto_items"):
            wait_running(worker, name)

        def copied(table: str) -> int:
            rows = database.execute("SELECT count(*) FROM pg_tables WHERE tablename = %s", (table,))
            if not rows[0][0]:
                return 0
            return int(database.execute(f"SELECT count(*) FROM {table}")[0][0])

        for table in ("copy_of_items", "auto_items"):
            worker.wait_for(lambda t=table: copied(t) == 120, 60, f"120 rows in {table}")
        insert_typed(database, "items", typed_rows(120, 30))
        for table in ("copy_of_items", "auto_items"):
            worker.wait_for(lambda t=table: copied(t) == 150, 60, f"30 more rows in {table}")
    query = f"SELECT id, {TYPED_COLUMNS} FROM {{}} ORDER BY id"
    original = database.execute(query.format("items"))
    assert len(original) == 150
    assert database.execute(query.format("copy_of_items")) == original
    # The table auto.create made holds the same values in the JDBC sink's column types:
    # timestamptz and jsonb arrive as Connect Timestamp and string, so timestamp and text.
    auto = database.execute(query.format("auto_items"))
    normalised = [
        (
            *row[:8],
            row[8] and row[8].replace(tzinfo=None),
            *row[9:13],
            row[13] and json.dumps(row[13]),
            row[14],
        )
        for row in original
    ]
    assert auto == normalised
    types = dict(
        database.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'auto_items'"
        )
    )
    assert types == {
        "id": "bigint",
        "small": "smallint",
        "num": "integer",
        "big": "bigint",
        "label": "text",
        "price": "numeric",
        "ratio": "double precision",
        "created": "timestamp without time zone",
        "seen": "timestamp without time zone",
        "day": "date",
        "at_time": "time without time zone",
        "flag": "boolean",
        "payload": "bytea",
        "doc": "text",
        "tags": "ARRAY",
    }
    # The topic holds each row once, with the JDBC connector's schema for the types.
    values = values_of(bootstrap_servers, topic, 150)
    assert [v["id"] for v in values] == list(range(1, 151))
    schema = json.loads(read_topic(bootstrap_servers, topic, 1)[0].value())["schema"]
    fields = {f["field"]: f for f in schema["fields"]}
    assert fields["price"]["name"] == "org.apache.kafka.connect.data.Decimal"
    assert fields["price"]["parameters"]["scale"] == "3"
    assert fields["seen"]["name"] == "org.apache.kafka.connect.data.Timestamp"
    assert fields["day"]["name"] == "org.apache.kafka.connect.data.Date"
    assert fields["at_time"]["name"] == "org.apache.kafka.connect.data.Time"
    assert fields["num"]["optional"] is False and fields["label"]["optional"] is True
    assert fields["tags"]["type"] == "array" and fields["doc"]["type"] == "string"


def test_restart_rereads_nothing_and_offsets_are_jdbc_format(
    tmp_path: Path, bootstrap_servers: str, database: Any
) -> None:
    database.execute("CREATE TABLE events (id serial PRIMARY KEY, what text NOT NULL)")
    database.execute("INSERT INTO events (what) SELECT 'e' || g FROM generate_series(1, 40) g")
    prefix = f"rs-{time.time_ns()}-"
    topic = prefix + "events"
    config = source_config(database, "pg-restart", **{"topic.prefix": prefix})
    props = worker_props(tmp_path, bootstrap_servers)
    with StandaloneWorker(tmp_path, props, [config]) as worker:
        wait_running(worker, "pg-restart")
        assert len(values_of(bootstrap_servers, topic, 40)) == 40
        time.sleep(1.5)  # offsets flushed every 500 ms
    with StandaloneWorker(tmp_path, props, [config], name="again") as worker:
        wait_running(worker, "pg-restart")
        status, offsets = rest(worker, "GET", "/connectors/pg-restart/offsets")
        assert status == 200
        assert offsets["offsets"] == [
            {
                "partition": {"protocol": "1", "table": f"{database.name}.public.events"},
                "offset": {"incrementing": 40},
            }
        ]
        database.execute("INSERT INTO events (what) VALUES ('late-1'), ('late-2')")
        time.sleep(3)
        values = values_of(bootstrap_servers, topic, 43, timeout=5)
    assert [v["id"] for v in values] == list(range(1, 43)), "a restart re-read or lost rows"


def test_table_added_while_running_is_picked_up(
    tmp_path: Path, bootstrap_servers: str, database: Any
) -> None:
    database.execute("CREATE TABLE first_t (id serial PRIMARY KEY, v text NOT NULL)")
    database.execute("INSERT INTO first_t (v) VALUES ('a')")
    prefix = f"add-{time.time_ns()}-"
    config = source_config(
        database,
        "pg-add",
        **{"topic.prefix": prefix, "table.poll.interval.ms": "1000", "tasks.max": "2"},
    )
    with StandaloneWorker(tmp_path, worker_props(tmp_path, bootstrap_servers), [config]) as worker:
        wait_running(worker, "pg-add", tasks=1)
        assert len(values_of(bootstrap_servers, prefix + "first_t", 1)) == 1
        database.execute("CREATE TABLE second_t (id serial PRIMARY KEY, v text NOT NULL)")
        database.execute("INSERT INTO second_t (v) VALUES ('b'), ('c')")
        wait_running(worker, "pg-add", tasks=2)
        values = values_of(bootstrap_servers, prefix + "second_t", 2)
        assert [v["v"] for v in values] == ["b", "c"]
        database.execute("INSERT INTO first_t (v) VALUES ('d')")
        values = values_of(bootstrap_servers, prefix + "first_t", 2)
        assert [v["v"] for v in values] == ["a", "d"]


def _produce(bootstrap: str, topic: str, records: list[tuple[Any, Any]]) -> None:
    key_schema = {"type": "int32", "optional": False}
    value_schema = {
        "type": "struct",
        "name": "account",
        "optional": False,
        "fields": [
            {"field": "id", "type": "int32", "optional": False},
            {"field": "balance", "type": "int64", "optional": True},
            {"field": "owner", "type": "string", "optional": True},
        ],
    }
    producer = Producer({"bootstrap.servers": bootstrap})
    for key, value in records:
        producer.produce(
            topic,
            key=json.dumps({"schema": key_schema, "payload": key}).encode(),
            value=None
            if value is None
            else json.dumps({"schema": value_schema, "payload": value}).encode(),
        )
    assert producer.flush(30) == 0


def test_upsert_updates_in_place_and_tombstone_deletes(
    tmp_path: Path, bootstrap_servers: str, database: Any
) -> None:
    topic = f"accounts-{time.time_ns()}"
    _produce(
        bootstrap_servers,
        topic,
        [(i, {"id": i, "balance": 100 * i, "owner": f"o{i}"}) for i in range(1, 6)],
    )
    sink = {
        "name": "pg-upsert",
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        "tasks.max": "1",
        **database.credentials(),
        "topics": topic,
        "table.name.format": "accounts",
        "auto.create": "true",
        "auto.evolve": "true",
        "insert.mode": "upsert",
        "pk.mode": "record_key",
        "pk.fields": "id",
        "delete.enabled": "true",
        "fields.whitelist": "balance",
    }

    def rows() -> list[tuple[Any, ...]]:
        try:
            return database.execute("SELECT * FROM accounts ORDER BY id")
        except Exception:  # noqa: BLE001 - not created yet
            return []

    with StandaloneWorker(tmp_path, worker_props(tmp_path, bootstrap_servers), [sink]) as worker:
        wait_running(worker, "pg-upsert")
        worker.wait_for(lambda: len(rows()) == 5, 60, "5 accounts")
        # fields.whitelist: only balance besides the key
        assert rows() == [(i, 100 * i) for i in range(1, 6)]
        _produce(
            bootstrap_servers,
            topic,
            [(2, {"id": 2, "balance": 7, "owner": "x"}), (3, None), (6, {"id": 6, "balance": 60})],
        )
        worker.wait_for(
            lambda: rows() == [(1, 100), (2, 7), (4, 400), (5, 500), (6, 60)],
            60,
            "the upsert, the delete and the insert",
        )


def test_validate_reports_connection_and_column_problems(
    tmp_path: Path, bootstrap_servers: str, database: Any, postgres_server: Any
) -> None:
    database.execute("CREATE TABLE no_inc (name text)")
    base = {
        "connector.class": "PostgresSource",
        "name": "v",
        "tasks.max": "1",
        **database.credentials(),
        "mode": "incrementing",
        "topic.prefix": "v-",
    }
    with StandaloneWorker(tmp_path, worker_props(tmp_path, bootstrap_servers), []) as worker:
        worker.wait_for(lambda: rest(worker, "GET", "/connectors")[0] == 200, 60, "REST")

        def errors(config: dict[str, str], plugin: str = "PostgresSource") -> dict[str, list[str]]:
            status, body = rest(
                worker, "PUT", f"/connector-plugins/{plugin}/config/validate", config
            )
            assert status == 200, body
            return {
                c["value"]["name"]: c["value"]["errors"]
                for c in body["configs"]
                if c["value"]["errors"]
            }

        status, body = rest(
            worker,
            "PUT",
            "/connector-plugins/PostgresSource/config/validate",
            {**base, "mode": "bulk"},
        )
        assert status == 200 and body["error_count"] == 0, body
        shown = next(
            c["value"] for c in body["configs"] if c["value"]["name"] == "connection.password"
        )
        assert shown["value"] != postgres_server.password, "validate shows the password"
        wrong = errors({**base, "connection.password": "not-the-password"})
        assert set(wrong) == {"connection.user", "connection.password"}
        assert "password authentication failed" in wrong["connection.password"][0]
        assert "not-the-password" not in json.dumps(wrong)
        unreachable = errors(
            {**base, "connection.url": f"jdbc:postgresql://127.0.0.1:1/{database.name}"}
        )
        assert list(unreachable) == ["connection.url"]
        assert "Could not connect" in unreachable["connection.url"][0]
        not_pg = errors({**base, "connection.url": "jdbc:mysql://127.0.0.1:3306/db"})
        assert "PostgreSQL only" in not_pg["connection.url"][0]
        missing = errors({**base, "table.whitelist": "no_inc", "incrementing.column.name": "id"})
        assert set(missing) == {"mode", "incrementing.column.name"}
        assert "table public.no_inc has no column 'id'" in missing["incrementing.column.name"][0]
        assert errors({**base, "table.whitelist": "no_inc", "mode": "bulk"}) == {}
        sink_wrong = errors(
            {
                "connector.class": "PostgresSink",
                "name": "s",
                "topics": "t",
                **database.credentials(),
                "connection.password": "nope",
            },
            "PostgresSink",
        )
        assert set(sink_wrong) == {"connection.user", "connection.password"}


@pytest.mark.parametrize("attempts", ["30", "1"])
def test_database_going_away_mid_run(
    tmp_path: Path, bootstrap_servers: str, database: Any, postgres_server: Any, attempts: str
) -> None:
    """With enough connection attempts the task rides out the outage; with one it fails, and a
    restart after the database is back resumes. Either way no row is lost or doubled."""
    database.execute("CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL)")
    database.execute("INSERT INTO orders (item) SELECT 'i' || g FROM generate_series(1, 10) g")
    prefix = f"gone-{attempts}-{time.time_ns()}-"
    topic = prefix + "orders"
    config = source_config(
        database,
        "pg-gone",
        **{"topic.prefix": prefix, "connection.attempts": attempts, "connection.backoff.ms": "500"},
    )
    with StandaloneWorker(tmp_path, worker_props(tmp_path, bootstrap_servers), [config]) as worker:
        wait_running(worker, "pg-gone")
        assert len(values_of(bootstrap_servers, topic, 10)) == 10

        def committed() -> Any:
            offsets = rest(worker, "GET", "/connectors/pg-gone/offsets")[1] or {}
            return [o["offset"] for o in offsets.get("offsets", [])]

        # The worker drops the uncommitted offsets of a task that fails (a re-read, not a
        # loss); wait for the commit so the test sees what the connector itself does.
        worker.wait_for(lambda: committed() == [{"incrementing": 10}], 30, "offsets committed")
        postgres_server.pause()
        try:
            if attempts == "1":
                worker.wait_for(
                    lambda: task_states(worker, "pg-gone") == ["FAILED"], 60, "the task to fail"
                )
                _, status = rest(worker, "GET", "/connectors/pg-gone/status")
                assert "Could not connect to PostgreSQL" in status["tasks"][0]["trace"]
            else:
                time.sleep(3)
                assert task_states(worker, "pg-gone") == ["RUNNING"]
        finally:
            postgres_server.restart()
        database.execute("INSERT INTO orders (item) SELECT 'j' || g FROM generate_series(1, 5) g")
        if attempts == "1":
            assert rest(worker, "POST", "/connectors/pg-gone/tasks/0/restart")[0] in (200, 202, 204)
            wait_running(worker, "pg-gone")
        values = values_of(bootstrap_servers, topic, 15)
        time.sleep(1)
        values = values_of(bootstrap_servers, topic, 16, timeout=3)
    assert [v["id"] for v in values] == list(range(1, 16))


def test_sink_retries_while_database_is_away(
    tmp_path: Path, bootstrap_servers: str, database: Any, postgres_server: Any
) -> None:
    topic = f"away-{time.time_ns()}"
    sink = {
        "name": "pg-away",
        "connector.class": "PostgresSink",
        "tasks.max": "1",
        **database.credentials(),
        "topics": topic,
        "table.name.format": "away",
        "auto.create": "true",
        "insert.mode": "upsert",
        "pk.mode": "record_key",
        "pk.fields": "id",
        "connection.attempts": "1",
        "max.retries": "100",
        "retry.backoff.ms": "300",
    }
    _produce(bootstrap_servers, topic, [(i, {"id": i, "balance": i}) for i in range(1, 4)])
    with StandaloneWorker(tmp_path, worker_props(tmp_path, bootstrap_servers), [sink]) as worker:
        wait_running(worker, "pg-away")

        def count() -> int:
            try:
                return int(database.execute("SELECT count(*) FROM away")[0][0])
            except Exception:  # noqa: BLE001
                return -1

        worker.wait_for(lambda: count() == 3, 60, "3 rows")
        postgres_server.pause()
        try:
            _produce(bootstrap_servers, topic, [(i, {"id": i, "balance": i}) for i in range(4, 9)])
            time.sleep(3)
            assert task_states(worker, "pg-away") == ["RUNNING"]
        finally:
            postgres_server.restart()
        worker.wait_for(lambda: count() == 8, 60, "the 5 rows written during the outage")
    assert database.execute("SELECT id, balance FROM away ORDER BY id") == [
        (i, i) for i in range(1, 9)
    ]
