"""PostgresSourceConnector: tables (or a query) -> Kafka topics, as Confluent's JDBC source
connector does it, under its class name too.

The connector lists the tables to copy and splits them into at most ``tasks.max`` groups, one
task each. A thread of its own looks again every ``table.poll.interval.ms`` and asks the
runtime for new task configs (``context.request_task_reconfiguration()``) when the set of
tables changed; the tasks then restart with their new groups and resume from their offsets.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any

import psycopg
from kconnect.api import Config, ConfigDef, ConnectException, SourceConnector, SourceTask

from kconnect_postgres import __version__, catalog
from kconnect_postgres.catalog import TableRef
from kconnect_postgres.connection import close_quietly
from kconnect_postgres.querier import TableQuerier
from kconnect_postgres.source_config import (
    CONFIG_DEF,
    INCREMENTING_COLUMN_CONFIG,
    MODE_CONFIG,
    TABLES_CONFIG,
    TIMESTAMP_COLUMN_CONFIG,
    SourceSettings,
    parse_source_settings,
)
from kconnect_postgres.validation import validate_with_database

log = logging.getLogger(__name__)


def list_source_tables(conn: psycopg.Connection, settings: SourceSettings) -> list[TableRef]:
    tables = catalog.list_tables(
        conn,
        settings.include,
        settings.exclude,
        settings.schema_pattern,
        settings.table_types,
        settings.connection.database,
    )
    conn.commit() if not conn.autocommit else None
    return tables


def group_tables(tables: list[TableRef], max_tasks: int) -> list[list[TableRef]]:
    """At most ``max_tasks`` groups of neighbouring tables, sizes differing by at most one."""
    count = min(max_tasks, len(tables))
    if count <= 0:
        return []
    size, extra = divmod(len(tables), count)
    groups, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        groups.append(tables[start:end])
        start = end
    return groups


def _check_mode_columns(
    conn: psycopg.Connection, settings: SourceSettings
) -> list[tuple[tuple[str, ...], str]]:
    """Each table (or the query) must have the columns its mode reads."""
    tables: list[TableRef | None] = (
        [None] if settings.query else list(list_source_tables(conn, settings))
    )
    problems: list[tuple[tuple[str, ...], str]] = []
    for table in tables:
        querier = TableQuerier(settings, table)
        try:
            querier.describe(conn)
        except ConnectException as error:
            message = str(error)
            key = (
                INCREMENTING_COLUMN_CONFIG
                if INCREMENTING_COLUMN_CONFIG in message
                else TIMESTAMP_COLUMN_CONFIG
                if TIMESTAMP_COLUMN_CONFIG in message
                else MODE_CONFIG
            )
            problems.append(((MODE_CONFIG, key) if key != MODE_CONFIG else (MODE_CONFIG,), message))
        except psycopg.Error as error:
            conn.rollback() if not conn.autocommit else None
            problems.append(((MODE_CONFIG,), f"Cannot read {querier.where}: {error}"))
    return problems


class PostgresSourceConnector(SourceConnector):
    """Copies PostgreSQL tables, or the result of a query, into Kafka topics."""

    java_class_names = ("io.confluent.connect.jdbc.JdbcSourceConnector",)

    def __init__(self) -> None:
        self._props: dict[str, str] = {}
        self._settings: SourceSettings | None = None
        self._tables: list[TableRef] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None

    def version(self) -> str:
        return __version__

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def validate(self, connector_configs: Mapping[str, str]) -> Config:
        return validate_with_database(
            CONFIG_DEF, connector_configs, parse_source_settings, _check_mode_columns
        )

    def start(self, props: Mapping[str, str]) -> None:
        self._props = dict(props)
        self._settings = settings = parse_source_settings(props)
        self._stopping.clear()
        if settings.query:
            return
        self._tables = self._list_tables()
        if not self._tables:
            log.warning("No tables to copy yet in %s", settings.connection.describe())
        if settings.table_poll_interval_ms > 0:
            self._monitor = threading.Thread(
                target=self._watch_tables, name="kconnect-postgres-table-monitor", daemon=True
            )
            self._monitor.start()

    def _list_tables(self) -> list[TableRef]:
        assert self._settings is not None
        conn = self._settings.connection.connect("kconnect-source-connector", self._stopping)
        try:
            return list_source_tables(conn, self._settings)
        finally:
            close_quietly(conn)

    def _watch_tables(self) -> None:
        assert self._settings is not None
        interval = self._settings.table_poll_interval_ms / 1000
        while not self._stopping.wait(interval):
            try:
                tables = self._list_tables()
            except (ConnectException, psycopg.Error) as error:
                # The tasks report a database that is gone; the monitor looks again later.
                log.warning("Could not list the tables to copy: %s", error)
                continue
            with self._lock:
                changed = tables != self._tables
                if changed:
                    log.info(
                        "Tables to copy changed: %s -> %s",
                        ", ".join(map(str, self._tables)) or "none",
                        ", ".join(map(str, tables)) or "none",
                    )
                    self._tables = tables
            if changed and not self._stopping.is_set():
                self.context.request_task_reconfiguration()

    def task_class(self) -> type[SourceTask]:
        from kconnect_postgres.source_task import PostgresSourceTask

        return PostgresSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        assert self._settings is not None
        if self._settings.query:
            return [dict(self._props)]
        with self._lock:
            groups = group_tables(self._tables, max_tasks)
        return [
            {**self._props, TABLES_CONFIG: json.dumps([[t.schema, t.name] for t in group])}
            for group in groups
        ]

    def stop(self) -> None:
        self._stopping.set()
        monitor, self._monitor = self._monitor, None
        if monitor is not None:
            monitor.join(15)


def task_tables(props: Mapping[str, Any]) -> list[TableRef]:
    raw = props.get(TABLES_CONFIG)
    if not raw:
        return []
    return [TableRef(schema, name) for schema, name in json.loads(raw)]
