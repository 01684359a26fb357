"""PostgresSinkConnector: Kafka topics -> PostgreSQL tables, as Confluent's JDBC sink connector
does it, under its class name too.

Each ``put()`` is one transaction: its records are written in order, in batches of consecutive
records bound for the same table with the same schemas and the same operation (write or
delete), and committed before ``put()`` returns. So the offsets the worker commits after a
``put()`` never cover rows the database does not hold, and a failed ``put()`` leaves nothing
behind: a transient failure (lost connection, deadlock) rolls it back and raises
RetriableException, and the worker offers the same records again after ``retry.backoff.ms``,
at most ``max.retries`` times in a row.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Mapping
from typing import Any

import psycopg
from kconnect.api import (
    Config,
    ConfigDef,
    ConnectException,
    RetriableException,
    SinkConnector,
    SinkRecord,
    SinkTask,
)

from kconnect_postgres import __version__
from kconnect_postgres.connection import close_quietly, is_transient
from kconnect_postgres.sink_config import CONFIG_DEF, SinkSettings, parse_sink_settings
from kconnect_postgres.validation import validate_with_database
from kconnect_postgres.writer import DELETE_OP, INSERT_OP, RowPlan, TableWriter, plan_for

log = logging.getLogger(__name__)


class PostgresSinkConnector(SinkConnector):
    """Writes the records of Kafka topics into PostgreSQL tables."""

    java_class_names = ("io.confluent.connect.jdbc.JdbcSinkConnector",)

    def version(self) -> str:
        return __version__

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def validate(self, connector_configs: Mapping[str, str]) -> Config:
        return validate_with_database(
            CONFIG_DEF, connector_configs, parse_sink_settings, lambda conn, settings: []
        )

    def start(self, props: Mapping[str, str]) -> None:
        parse_sink_settings(props)  # a bad config fails here, naming the key
        self._props = dict(props)

    def task_class(self) -> type[SinkTask]:
        return PostgresSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self._props) for _ in range(max_tasks)]

    def stop(self) -> None:
        pass


class PostgresSinkTask(SinkTask):
    java_class_names = ("io.confluent.connect.jdbc.sink.JdbcSinkTask",)

    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        self.settings: SinkSettings = parse_sink_settings(props)
        self.stopping = threading.Event()
        self._busy = threading.Lock()
        self._conn: psycopg.Connection | None = None
        self._writers: dict[str, TableWriter] = {}
        # (key schema id, value schema id, table) -> plan; the schemas are kept alive with it
        self._plans: dict[tuple[int, int, str], tuple[Any, Any, RowPlan]] = {}
        self._retries_left = self.settings.max_retries
        fmt = self.settings.table_name_format
        self._table_for = (
            (lambda topic: fmt.replace("${topic}", topic)) if "${topic}" in fmt else (lambda _: fmt)
        )

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self.settings.connection.connect("kconnect-sink-task", self.stopping)
        return self._conn

    def put(self, records: Collection[SinkRecord]) -> None:
        if not records:
            return
        with self._busy:
            if self.stopping.is_set():
                raise RetriableException("the task is stopping")
            try:
                conn = self._connection()
                with conn.transaction():
                    self._write_all(conn, records)
            except psycopg.Error as error:
                self._failed(error)
            except ConnectException as error:
                # connection.attempts exhausted: as transient as a lost connection
                if "Could not connect" not in str(error):
                    self._forget()
                    raise
                self._failed(error)
            else:
                self._retries_left = self.settings.max_retries
            finally:
                if self.stopping.is_set():
                    self._close()

    def _write_all(self, conn: psycopg.Connection, records: Collection[SinkRecord]) -> None:
        batch: list[SinkRecord] = []
        current: tuple[TableWriter, RowPlan, str] | None = None
        limit = self.settings.batch_size
        deletes = self.settings.delete_enabled
        # Consecutive records usually share topic and schemas: their plan is looked up once.
        last: tuple[Any, ...] = ()
        for record in records:
            op = DELETE_OP if record.value is None else INSERT_OP
            if op == DELETE_OP and not deletes:
                continue  # as the JDBC sink: a tombstone is nothing to write
            ks, vs = record.key_schema, record.value_schema
            if last and last[0] == record.topic and last[1] is ks and last[2] is vs:
                key = last[3] if op == INSERT_OP else (last[3][0], last[3][1], op)
            else:
                table = self._table_for(record.topic)
                plan = self._plan(conn, record, table)
                key = (self._writers[table], plan, op)
                # Only a written record's plan has had its table prepared.
                last = (record.topic, ks, vs, key) if op == INSERT_OP else ()
            if current is not None and (key != current or len(batch) >= limit):
                current[0].write(conn, current[1], current[2], batch)
                batch = []
            current = key
            batch.append(record)
        if current is not None and batch:
            current[0].write(conn, current[1], current[2], batch)

    def _plan(self, conn: psycopg.Connection, record: SinkRecord, table: str) -> RowPlan:
        ks, vs = record.key_schema, record.value_schema
        cache_key = (id(ks), id(vs), table)
        cached = self._plans.get(cache_key)
        if cached is not None and cached[0] is ks and cached[1] is vs:
            return cached[2]
        plan = plan_for(self.settings, record, table)
        writer = self._writers.get(table)
        if writer is None:
            writer = self._writers[table] = TableWriter(self.settings, table)
        if record.value is None:
            if writer.table is None:
                writer.refresh(conn)  # a delete needs no DDL: a missing table has nothing to delete
            return plan  # not cached: a write with these schemas must still prepare the table
        writer.prepare(conn, plan)
        self._plans[cache_key] = (ks, vs, plan)
        return plan

    def _forget(self) -> None:
        """Table and plan knowledge may describe DDL that was rolled back: learn it again."""
        self._writers.clear()
        self._plans.clear()

    def _failed(self, error: BaseException) -> None:
        self._forget()
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        transient = not isinstance(error, psycopg.Error) or is_transient(error)
        if transient:
            self._close()
        # else: the transaction block rolled back already; the connection stays usable.
        if self.stopping.is_set():
            raise RetriableException(f"the task is stopping ({first})") from error
        if transient and self._retries_left > 0:
            self._retries_left -= 1
            log.warning(
                "Writing to PostgreSQL failed (%s); retrying in %d ms, %d retries left",
                first,
                self.settings.retry_backoff_ms,
                self._retries_left,
            )
            self.context.timeout(self.settings.retry_backoff_ms)
            raise RetriableException(f"Writing to PostgreSQL failed: {first}") from error
        raise ConnectException(
            f"Writing to PostgreSQL at {self.settings.connection.describe()} failed"
            + (f" after {self.settings.max_retries} retries" if transient else "")
            + f": {first}"
        ) from error

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        close_quietly(conn)

    def flush(self, current_offsets: Mapping[Any, int]) -> None:
        """Nothing to do: every put() committed before it returned."""

    def stop(self) -> None:
        stopping = getattr(self, "stopping", None)
        if stopping is None:
            return
        stopping.set()
        if self._busy.acquire(blocking=False):
            try:
                self._close()
            finally:
                self._busy.release()
        elif self._conn is not None:
            # put() is writing (or waiting for a lock): end its statement; put() closes the
            # connection on its way out.
            try:
                self._conn.cancel_safe(timeout=2)
            except (psycopg.Error, AttributeError):
                pass
