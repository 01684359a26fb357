"""PostgresSourceTask: polls its tables one pass at a time, in the order they fall due.

``stop()`` comes from another thread while ``poll()`` may be waiting or querying: it sets an
event that ends the wait and cancels a running query, and whichever of the two holds the
connection last closes it, so nothing is left open and ``poll()`` returns soon.

A connection that fails mid-pass is dropped and the pass starts again from the last row
emitted; the next ``poll()`` reconnects with ``connection.attempts``/``connection.backoff.ms``
and fails the task (ConnectException) only when every attempt failed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

import psycopg
from kconnect.api import ConnectException, SourceRecord, SourceTask

from kconnect_postgres import __version__
from kconnect_postgres.connection import close_quietly, is_transient
from kconnect_postgres.querier import TableQuerier
from kconnect_postgres.source import task_tables
from kconnect_postgres.source_config import SourceSettings, parse_source_settings
from kconnect_postgres.types import register_text_loaders

log = logging.getLogger(__name__)


class PostgresSourceTask(SourceTask):
    java_class_names = ("io.confluent.connect.jdbc.source.JdbcSourceTask",)

    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        self.settings: SourceSettings = parse_source_settings(props)
        tables = task_tables(props)
        if self.settings.query:
            self.queriers = [TableQuerier(self.settings, None)]
        else:
            self.queriers = [TableQuerier(self.settings, t) for t in tables]
        reader = self.context.offset_storage_reader()
        for querier in self.queriers:
            querier.load_offset(reader)
        self.stopping = threading.Event()
        self._busy = threading.Lock()
        self._conn: psycopg.Connection | None = None

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            conn = self.settings.connection.connect("kconnect-source-task", self.stopping)
            register_text_loaders(conn)
            # Passes run in transactions: a server-side cursor lives in one.
            conn.autocommit = False
            self._conn = conn
        return self._conn

    def poll(self) -> list[SourceRecord] | None:
        if not self.queriers:
            self.stopping.wait(self.settings.poll_interval_ms / 1000)
            return None
        with self._busy:
            try:
                return self._poll_once()
            finally:
                if self.stopping.is_set():
                    self._close()

    def _poll_once(self) -> list[SourceRecord] | None:
        querier = min(self.queriers, key=lambda q: (not q.in_pass, q.next_run))
        if not querier.in_pass:
            wait = querier.next_run - time.monotonic()
            if wait > 0 and self.stopping.wait(wait):
                return None
        if self.stopping.is_set():
            return None
        try:
            conn = self._connection()
            if not querier.in_pass:
                querier.begin(conn)
            records = querier.fetch()
            if not querier.in_pass:
                querier.end(conn)
            return records
        except psycopg.Error as error:
            querier.abandon()
            if self.stopping.is_set():
                return None
            if is_transient(error):
                log.warning(
                    "Lost the connection while reading %s (%s); reconnecting",
                    querier.where,
                    str(error).strip().splitlines()[0] if str(error).strip() else error,
                )
                self._close()
                return []
            self._close()
            raise ConnectException(f"Reading {querier.where} failed: {error}") from error

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        for querier in self.queriers:
            querier.abandon()
        close_quietly(conn)

    def stop(self) -> None:
        stopping = getattr(self, "stopping", None)
        if stopping is None:  # start() failed before anything was opened
            return
        stopping.set()
        if self._busy.acquire(blocking=False):
            try:
                self._close()
            finally:
                self._busy.release()
        elif self._conn is not None:
            # poll() holds the connection: end its query; poll() closes it on its way out.
            try:
                self._conn.cancel_safe(timeout=2)
            except (psycopg.Error, AttributeError):
                pass
