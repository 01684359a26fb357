"""One table (or the configured query) read in passes, each pass resuming after the last row
already handed to the worker.

A pass is one query whose rows are taken ``batch.max.rows`` at a time across polls (as the JDBC
connector keeps its result set open), then closed with its transaction. The rows are streamed:
the server sends them in chunks of ``batch.max.rows`` while the worker converts and produces the
previous ones (libpq 17+, which psycopg's binary package bundles; with an older libpq a
server-side cursor fetches each batch when it is asked for, and the worker waits for it). The
querier's position (the incrementing value and/or timestamp of the last row emitted) moves one
row at a time as records are made, and each record carries it as its source offset, in the
JDBC connector's format, so offsets carry over between the two implementations:

* partition ``{"protocol": "1", "table": "<database>.<schema>.<table>"}`` (protocol 0's
  ``{"table": "<table>"}`` is still read), or ``{"query": "query"}`` for ``query``;
* offset ``{"incrementing": n}``, ``{"timestamp": epoch_ms, "timestamp_nanos": n}`` or both.

Without a stored offset the timestamp modes start at ``timestamp.initial`` (epoch ms; -1: the
database's time at the first pass), or at the beginning when it is unset. Timestamps without a
zone are wall clock times in ``db.timezone``: the position is an instant, compared with such a
column as its wall clock time there.

A pass that fails half-way is simply started again from that position: rows already emitted
are not emitted again, rows not yet emitted are not skipped.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from itertools import islice
from typing import Any, cast

import psycopg
from kconnect.api import ConnectException, Schema, SchemaBuilder, SourceRecord, Struct
from kconnect.api.storage import OffsetStorageReader
from psycopg import sql

from kconnect_postgres import catalog
from kconnect_postgres.catalog import TableRef
from kconnect_postgres.source_config import (
    BULK,
    INCREMENTING_COLUMN_CONFIG,
    TIMESTAMP_COLUMN_CONFIG,
    TIMESTAMP_INITIAL_CURRENT,
    SourceSettings,
)
from kconnect_postgres.types import ColumnMapping, column_mapping

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: results sent in chunks (cursor.stream(size=n)) need libpq 17
_CHUNKED_STREAMS = psycopg.pq.version() >= 170000
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)


def table_partition(database: str, table: TableRef) -> dict[str, str]:
    return {"protocol": "1", "table": f"{database}.{table.schema}.{table.name}"}


QUERY_PARTITION = {"query": "query"}


def timestamp_offset(value: dt.datetime) -> tuple[int, int]:
    """(epoch milliseconds, nanoseconds of the second), as Java's Timestamp splits it."""
    delta = value - (_EPOCH if value.tzinfo is not None else _NAIVE_EPOCH)
    seconds = delta.days * 86_400 + delta.seconds
    return seconds * 1000 + delta.microseconds // 1000, delta.microseconds * 1000


def timestamp_from_offset(millis: int, nanos: int | None) -> dt.datetime:
    value = _EPOCH + dt.timedelta(milliseconds=millis)
    if nanos is not None:
        value = value.replace(microsecond=int(nanos) // 1000)
    return value


class TableQuerier:
    """Reads one table or query for one source task."""

    def __init__(self, settings: SourceSettings, table: TableRef | None) -> None:
        self.settings = settings
        self.table = table
        database = settings.connection.database
        if table is not None:
            self.partition: dict[str, str] = table_partition(database, table)
            self.legacy_partitions = [{"table": table.name}]
            self.topic = settings.topic_prefix + table.name
            self.where = f"table {table}"
        else:
            self.partition = dict(QUERY_PARTITION)
            self.legacy_partitions = []
            self.topic = settings.topic_prefix
            self.where = "the configured query"
        self.incrementing: int | None = None
        self.timestamp: dt.datetime | None = None
        #: timestamp.initial=-1 and no stored offset: the first pass starts at the database's time
        self._start_at_now = False
        self._zone = settings.connection.time_zone.tzinfo
        self.next_run = 0.0
        self.in_pass = False
        #: the pass's rows, and how to stop reading them early
        self._rows: Iterator[tuple[Any, ...]] | None = None
        self._close_rows: Callable[[], None] | None = None
        self._described = False
        self._schema: Schema | None = None
        self._mappings: list[ColumnMapping] = []
        self._inc_column = settings.incrementing_column
        self._inc_index = -1
        self._ts_indexes: list[int] = []
        self._ts_naive = False

    # -- offsets ------------------------------------------------------------------------------
    def load_offset(self, reader: OffsetStorageReader) -> None:
        found = reader.offsets([self.partition, *self.legacy_partitions])
        stored: Mapping[str, Any] | None = None
        for partition in (self.partition, *self.legacy_partitions):
            key = next((k for k in found if dict(k) == partition), None)
            if key is not None and found[key]:
                stored = found[key]
                break
        if not stored:
            initial = self.settings.timestamp_initial
            if self.settings.uses_timestamp and initial is not None:
                if initial == TIMESTAMP_INITIAL_CURRENT:
                    self._start_at_now = True
                else:
                    self.timestamp = timestamp_from_offset(initial, None)
            return
        if stored.get("incrementing") is not None:
            self.incrementing = int(stored["incrementing"])
        if stored.get("timestamp") is not None:
            self.timestamp = timestamp_from_offset(
                int(stored["timestamp"]), stored.get("timestamp_nanos")
            )

    def _offset(self) -> dict[str, Any] | None:
        if self.settings.mode == BULK:
            return None
        offset: dict[str, Any] = {}
        if self.settings.uses_incrementing:
            offset["incrementing"] = self.incrementing if self.incrementing is not None else -1
        if self.settings.uses_timestamp and self.timestamp is not None:
            millis, nanos = timestamp_offset(self.timestamp)
            offset["timestamp"], offset["timestamp_nanos"] = millis, nanos
        return offset

    # -- the query ----------------------------------------------------------------------------
    def _base(self) -> sql.Composable:
        if self.table is not None:
            return sql.SQL("SELECT * FROM {}").format(self.table.identifier)
        # Wrapped, so the mode's WHERE and ORDER BY apply to the query's result as a whole.
        # The query's own % signs are not placeholders: every statement here has parameters.
        query = sql.SQL(self.settings.query.replace("%", "%%"))
        return sql.SQL("SELECT * FROM ({}) AS kconnect_query").format(query)

    def describe(self, conn: psycopg.Connection) -> None:
        """Learn the result's columns, map them to a schema and check the mode's columns."""
        with conn.cursor() as cur:
            cur.execute(sql.SQL("{} LIMIT 0").format(self._base()), {})
            description = list(cur.description or ())
        infos = catalog.columns(conn, self.table) if self.table is not None else {}
        names = [col.name for col in description]
        settings = self.settings
        if settings.uses_incrementing:
            if not self._inc_column and self.table is not None:
                self._inc_column = catalog.auto_increment_column(infos) or ""
            if not self._inc_column or self._inc_column not in names:
                raise ConnectException(
                    f"Invalid value for configuration {INCREMENTING_COLUMN_CONFIG}: "
                    + (
                        f"{self.where} has no column {self._inc_column!r}"
                        if self._inc_column
                        else f"{self.where} has no serial or identity column to use; name one"
                    )
                )
            self._inc_index = names.index(self._inc_column)
        if settings.uses_timestamp:
            missing = [c for c in settings.timestamp_columns if c not in names]
            if missing:
                raise ConnectException(
                    f"Invalid value for configuration {TIMESTAMP_COLUMN_CONFIG}: {self.where} "
                    f"has no column {', '.join(repr(m) for m in missing)}"
                )
            self._ts_indexes = [names.index(c) for c in settings.timestamp_columns]
            ts_types = {description[i].type_code for i in self._ts_indexes}
            self._ts_naive = ts_types == {conn.adapters.types["timestamp"].oid}
        if settings.validate_non_null and infos:
            checked = [self._inc_column] if settings.uses_incrementing else []
            checked += list(settings.timestamp_columns) if settings.uses_timestamp else []
            nullable = [c for c in checked if c in infos and not infos[c].not_null]
            if nullable:
                raise ConnectException(
                    f"Cannot make incremental queries on {self.where}: column(s) "
                    f"{', '.join(nullable)} allow NULL, and rows with NULL there would never be "
                    "read. Declare them NOT NULL or set validate.non.null=false"
                )
        builder = SchemaBuilder.struct()
        if self.table is not None:
            builder = builder.name(self.table.name)
        mappings = []
        for col in description:
            info = infos.get(col.name)
            optional = info is None or not info.not_null
            mapping = column_mapping(
                conn,
                col.name,
                col.type_code,
                col.precision,
                col.scale,
                optional,
                settings.numeric_mapping,
                self._zone,
            )
            builder.field(col.name, mapping.schema)
            mappings.append(mapping)
        self._schema = builder.build()
        self._mappings = mappings
        self._described = True

    def _statement(self) -> tuple[sql.Composed, dict[str, Any]]:
        settings = self.settings
        base = self._base()
        params: dict[str, Any] = {}
        inc = sql.Identifier(self._inc_column) if settings.uses_incrementing else None
        ts: sql.Composable | None = None
        if settings.uses_timestamp:
            parts = [sql.Identifier(c) for c in settings.timestamp_columns]
            ts = (
                parts[0]
                if len(parts) == 1
                else sql.SQL("COALESCE({})").format(sql.SQL(", ").join(parts))
            )
            now: sql.Composable = sql.SQL(
                "statement_timestamp() - make_interval(secs => %(delay)s)"
            )
            if self._ts_naive:
                # The session's TimeZone is db.timezone: the cast gives its wall clock time.
                now = sql.SQL("CAST(({}) AS timestamp)").format(now)
            params["delay"] = settings.timestamp_delay_ms / 1000
            start = self.timestamp or _EPOCH
            params["ts"] = (
                start.astimezone(self._zone).replace(tzinfo=None) if self._ts_naive else start
            )
        where: sql.Composable
        if inc is not None and ts is not None:
            params["inc"] = self.incrementing if self.incrementing is not None else -1
            where = sql.SQL(
                "WHERE {ts} < {now} AND (({ts} = %(ts)s AND {inc} > %(inc)s) OR {ts} > %(ts)s) "
                "ORDER BY {ts}, {inc}"
            ).format(ts=ts, inc=inc, now=now)
        elif inc is not None:
            params["inc"] = self.incrementing if self.incrementing is not None else -1
            where = sql.SQL("WHERE {inc} > %(inc)s ORDER BY {inc}").format(inc=inc)
        elif ts is not None:
            where = sql.SQL("WHERE {ts} > %(ts)s AND {ts} < {now} ORDER BY {ts}").format(
                ts=ts, now=now
            )
        else:
            where = sql.SQL("")
        return sql.SQL("{} {}").format(base, where), params

    # -- passes -------------------------------------------------------------------------------
    def begin(self, conn: psycopg.Connection) -> None:
        if not self._described:
            self.describe(conn)
        if self._start_at_now:
            row = conn.execute("SELECT now()").fetchone()
            assert row is not None
            self.timestamp, self._start_at_now = row[0], False
        statement, params = self._statement()
        size = self.settings.batch_max_rows
        if _CHUNKED_STREAMS:
            # A generator (typed as an iterator): closing it cancels the query.
            rows = cast(
                Generator[Any, None, None], conn.cursor().stream(statement, params, size=size)
            )
            self._rows, self._close_rows = rows, rows.close
        else:
            cursor = conn.cursor("kconnect_source")
            cursor.itersize = size
            cursor.execute(statement, params)
            self._rows, self._close_rows = iter(cursor), cursor.close
        self.in_pass = True

    def fetch(self) -> list[SourceRecord]:
        """The next rows of the pass as records ([] and the pass over when none are left)."""
        assert self._rows is not None and self._schema is not None
        rows = list(islice(self._rows, self.settings.batch_max_rows))
        if len(rows) < self.settings.batch_max_rows:
            self.in_pass = False
        return self._records(rows)

    def _records(self, rows: list[tuple[Any, ...]]) -> list[SourceRecord]:
        """The per-row hot path: converters only for the columns that need one, and the
        incrementing-only offset (the common case) built inline."""
        schema = self._schema
        assert schema is not None
        converters = [(i, m.convert) for i, m in enumerate(self._mappings) if m.convert is not None]
        inc_index, ts_indexes = self._inc_index, self._ts_indexes
        partition, topic = self.partition, self.topic
        with_values = Struct._with_values  # values are built to match the schema's fields
        inline_offset = inc_index >= 0 and not ts_indexes
        naive_zone = self._zone  # db.timezone: naive timestamps are its wall clock times
        records: list[SourceRecord] = []
        append = records.append
        for row in rows:
            values = list(row)
            for index, convert in converters:
                value = values[index]
                if value is not None:
                    values[index] = convert(value)
            if inline_offset:
                offset: dict[str, Any] | None = {"incrementing": row[inc_index]}
            else:
                if inc_index >= 0:
                    self.incrementing = row[inc_index]
                if ts_indexes:
                    stamp = next((row[i] for i in ts_indexes if row[i] is not None), None)
                    if stamp is not None:
                        self.timestamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=naive_zone)
                offset = self._offset()
            append(
                SourceRecord(
                    partition, offset, topic, None, None, None, schema, with_values(schema, values)
                )
            )
        if inline_offset and rows:
            self.incrementing = rows[-1][inc_index]
        return records

    def end(self, conn: psycopg.Connection, now: float | None = None) -> None:
        """Close the pass (and its transaction); the next starts ``poll.interval.ms`` later."""
        self.abandon()
        if not conn.closed:
            conn.commit()
        self.next_run = (time.monotonic() if now is None else now) + (
            self.settings.poll_interval_ms / 1000
        )

    def abandon(self) -> None:
        """Forget the pass (its connection failed or is closing); the position is kept."""
        close, self._rows, self._close_rows = self._close_rows, None, None
        self.in_pass = False
        if close is not None:
            try:
                close()
            except psycopg.Error:
                pass
