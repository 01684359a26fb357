"""Turning sink records into rows of one table: which columns a record fills (``pk.mode``,
``pk.fields``, ``fields.whitelist``), the table's DDL (``auto.create``, ``auto.evolve``) and the
statements that write a batch (``COPY`` for plain inserts, ``INSERT … ON CONFLICT`` for upserts,
``UPDATE``, ``DELETE`` for tombstones).

A :class:`RowPlan` is worked out once per (key schema, value schema) pair and table, not per
record; per record only the values are picked out. Nothing here commits: the task runs every
batch of one ``put()`` in one transaction (DDL included: PostgreSQL's DDL is transactional, so a
failed ``put()`` leaves no half-made table behind).
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from kconnect.api import ConnectException, DataException, Field, Schema, SinkRecord, Struct
from kconnect.api import Type as T
from psycopg import sql

from kconnect_postgres import catalog
from kconnect_postgres.catalog import ColumnInfo, TableRef
from kconnect_postgres.copy_format import BinaryCopy, binary_copy
from kconnect_postgres.sink_config import (
    INSERT,
    KAFKA_PK_FIELDS,
    PK_KAFKA,
    PK_RECORD_KEY,
    PK_RECORD_VALUE,
    UPDATE,
    UPSERT,
    SinkSettings,
)
from kconnect_postgres.types import sql_type

INSERT_OP, DELETE_OP = "insert", "delete"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    not_null: bool


@dataclass
class RowPlan:
    """Which columns a record fills and how to read their values from it."""

    pk: list[Column]
    values: list[Column]
    extract_pk: Callable[[SinkRecord], list[Any]]
    extract_values: Callable[[SinkRecord], list[Any]]
    #: binary COPY could not send one of its values: its batches go in text
    text_copy_only: bool = False


def where_of(record: SinkRecord) -> str:
    return (
        f"record at (topic='{record.topic}', partition={record.kafka_partition}, "
        f"offset={record.kafka_offset})"
    )


def _struct_getter(
    fields: Sequence[Field], field_count: int, part: Callable[[SinkRecord], Struct]
) -> Callable[[SinkRecord], list[Any]]:
    """The values of ``fields`` of the struct ``part`` reads from a record (its key or value),
    in order and as Struct.get gives them: one Struct.values() call per record, the list
    itself when the fields are all of the struct's in order."""
    indexes = [f.index for f in fields]
    if indexes == list(range(field_count)):
        return lambda record: part(record).values()

    def pick(record: SinkRecord) -> list[Any]:
        values = part(record).values()
        return [values[i] for i in indexes]

    return pick


_key = operator.attrgetter("key")
_value = operator.attrgetter("value")


def _column(name: str, schema: Schema, where: str, force_not_null: bool = False) -> Column:
    return Column(name, sql_type(schema, where), force_not_null or not schema.optional)


def plan_for(settings: SinkSettings, record: SinkRecord, table: str) -> RowPlan:
    """The columns ``record`` (and every record with its schemas) writes to ``table``."""
    where = where_of(record)
    value_schema = record.value_schema
    if record.value is not None and (value_schema is None or value_schema.type is not T.STRUCT):
        kind = "no" if value_schema is None else f"a {value_schema.type.name.lower()}"
        raise DataException(
            f"The PostgreSQL sink writes records whose value is a struct with a schema, but the "
            f"{where} has {kind} value schema. Use a converter that carries schemas (e.g. "
            "JsonConverter with value.converter.schemas.enable=true, or Avro)"
        )
    value_fields = list(value_schema.fields) if value_schema is not None else []
    mode = settings.pk_mode
    pk: list[Column] = []
    extract_pk: Callable[[SinkRecord], list[Any]] = lambda r: []  # noqa: E731
    pk_value_names: set[str] = set()
    if mode == PK_KAFKA:
        names = settings.pk_fields or KAFKA_PK_FIELDS
        pk = [Column(names[0], "text", True), Column(names[1], "integer", True)]
        pk.append(Column(names[2], "bigint", True))
        extract_pk = lambda r: [r.topic, r.kafka_partition, r.kafka_offset]  # noqa: E731
    elif mode == PK_RECORD_KEY:
        key_schema = record.key_schema
        if key_schema is None or record.key is None:
            raise DataException(
                f"pk.mode=record_key needs a key with a schema, and the {where} has "
                + ("no key" if record.key is None else "no key schema")
            )
        if key_schema.type is T.STRUCT:
            fields = [
                f
                for f in key_schema.fields
                if not settings.pk_fields or f.name in settings.pk_fields
            ]
            unknown = set(settings.pk_fields) - {f.name for f in key_schema.fields}
            if unknown:
                raise DataException(
                    f"pk.fields {sorted(unknown)} are not fields of the key of the {where}"
                )
            pk = [_column(f.name, f.schema, where, True) for f in fields]
            extract_pk = _struct_getter(fields, len(key_schema.fields), _key)
        else:
            if len(settings.pk_fields) != 1:
                raise ConnectException(
                    "Invalid value for configuration pk.fields: with pk.mode=record_key and a "
                    f"primitive key ({key_schema.type.name}) it names the one key column"
                )
            pk = [_column(settings.pk_fields[0], key_schema, where, True)]
            extract_pk = lambda r: [r.key]  # noqa: E731
    elif mode == PK_RECORD_VALUE:
        if value_schema is None:
            raise DataException(f"pk.mode=record_value needs a value, and the {where} has none")
        fields = [f for f in value_fields if not settings.pk_fields or f.name in settings.pk_fields]
        unknown = set(settings.pk_fields) - {f.name for f in value_fields}
        if unknown:
            raise DataException(
                f"pk.fields {sorted(unknown)} are not fields of the value of the {where}"
            )
        pk = [_column(f.name, f.schema, where, True) for f in fields]
        pk_value_names = {f.name for f in fields}
        extract_pk = _struct_getter(fields, len(value_fields), _value)
    # A value field named like a key column is the key's (as the JDBC sink: the key wins).
    pk_names = pk_value_names | {c.name for c in pk}
    chosen = [
        f
        for f in value_fields
        if f.name not in pk_names
        and (not settings.fields_whitelist or f.name in settings.fields_whitelist)
    ]
    values = [_column(f.name, f.schema, where) for f in chosen]
    return RowPlan(pk, values, extract_pk, _struct_getter(chosen, len(value_fields), _value))


class TableWriter:
    """One destination table: its columns as last seen, its DDL and its write statements."""

    def __init__(self, settings: SinkSettings, name: str) -> None:
        self.settings = settings
        self.name = name
        self.table: TableRef | None = None
        self.columns: dict[str, ColumnInfo] = {}

    def refresh(self, conn: psycopg.Connection) -> None:
        self.table = catalog.find_table(conn, self.name)
        self.columns = catalog.columns(conn, self.table) if self.table is not None else {}

    def prepare(self, conn: psycopg.Connection, plan: RowPlan) -> None:
        """Make sure the table exists with the plan's columns (auto.create/auto.evolve)."""
        if self.table is None:
            self.refresh(conn)
        if self.table is None:
            if not self.settings.auto_create:
                raise ConnectException(
                    f"Table {self.name} is missing and auto.create is disabled: create it, or "
                    "set auto.create=true"
                )
            self._create(conn, plan)
            self.refresh(conn)
            assert self.table is not None
            return
        missing = [c for c in (*plan.pk, *plan.values) if c.name not in self.columns]
        if not missing:
            return
        if not self.settings.auto_evolve:
            raise ConnectException(
                f"Table {self.table} is missing column(s) {', '.join(c.name for c in missing)} "
                "for fields of the records and auto.evolve is disabled: add them, or set "
                "auto.evolve=true"
            )
        required = [c.name for c in missing if c.not_null]
        if required:
            raise ConnectException(
                f"Cannot add column(s) {', '.join(required)} to table {self.table}: "
                "auto.evolve adds nullable columns only, and these fields are required (not "
                "optional) in the record schema"
            )
        for col in missing:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                    self.table.identifier, sql.Identifier(col.name), sql.SQL(col.sql_type)
                )
            )
        self.refresh(conn)

    def _create(self, conn: psycopg.Connection, plan: RowPlan) -> None:
        parts = self.name.split(".")[-2:]
        defs = [
            sql.SQL("{} {}{}").format(
                sql.Identifier(c.name),
                sql.SQL(c.sql_type),
                sql.SQL(" NOT NULL" if c.not_null else ""),
            )
            for c in (*plan.pk, *plan.values)
        ]
        if plan.pk:
            defs.append(
                sql.SQL("PRIMARY KEY ({})").format(
                    sql.SQL(", ").join(sql.Identifier(c.name) for c in plan.pk)
                )
            )
        conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
                sql.Identifier(*parts), sql.SQL(", ").join(defs)
            )
        )

    # -- writes -------------------------------------------------------------------------------
    def write(
        self, conn: psycopg.Connection, plan: RowPlan, op: str, records: Sequence[SinkRecord]
    ) -> None:
        if self.table is None:
            return  # deletes from a table that does not exist
        table = self.table.identifier
        if op == DELETE_OP:
            pk_cols = [c.name for c in plan.pk]
            statement = sql.SQL("DELETE FROM {} WHERE {}").format(table, _equals(pk_cols, " AND "))
            with conn.cursor() as cur:
                cur.executemany(statement, [plan.extract_pk(r) for r in records])
            return
        mode = self.settings.insert_mode
        names = [c.name for c in (*plan.pk, *plan.values)]
        column_list = sql.SQL(", ").join(sql.Identifier(n) for n in names)
        if mode == INSERT or (mode == UPSERT and not plan.pk):
            columns = [*plan.pk, *plan.values]
            binary = (
                None
                if plan.text_copy_only
                else binary_copy([c.sql_type for c in columns], self.columns, names)
            )
            if binary is not None:
                try:
                    with conn.transaction():  # a savepoint: the text COPY below starts clean
                        self._copy(conn, column_list, plan, records, binary)
                    return
                except (TypeError, ValueError, OverflowError) as error:
                    # psycopg could not send a value in binary (or it would not have been sent
                    # faithfully): this plan's batches go as text from now on.
                    plan.text_copy_only = True
                    log.info("Writing to %s in COPY's text format: %s", self.table, error)
            self._copy(conn, column_list, plan, records, None)
            return
        if mode == UPSERT:
            pk_list = sql.SQL(", ").join(sql.Identifier(c.name) for c in plan.pk)
            updates = [
                sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c.name)) for c in plan.values
            ]
            action = (
                sql.SQL("DO UPDATE SET {}").format(sql.SQL(", ").join(updates))
                if updates
                else sql.SQL("DO NOTHING")
            )
            statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) {}").format(
                table,
                column_list,
                sql.SQL(", ").join(sql.Placeholder() * len(names)),
                pk_list,
                action,
            )
            params = [plan.extract_pk(r) + plan.extract_values(r) for r in records]
        else:
            assert mode == UPDATE
            if not plan.values:
                return  # nothing but the key: nothing to update
            statement = sql.SQL("UPDATE {} SET {} WHERE {}").format(
                table,
                _equals([c.name for c in plan.values], ", "),
                _equals([c.name for c in plan.pk], " AND "),
            )
            params = [plan.extract_values(r) + plan.extract_pk(r) for r in records]
        with conn.cursor() as cur:
            cur.executemany(statement, params)

    def _copy(
        self,
        conn: psycopg.Connection,
        column_list: sql.Composable,
        plan: RowPlan,
        records: Sequence[SinkRecord],
        binary: BinaryCopy | None,
    ) -> None:
        """One ``COPY`` of ``records``: the per-record hot path, with the choices (key columns
        or not, range checks or not) made once for the batch, not per row."""
        assert self.table is not None
        statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
            self.table.identifier, column_list, sql.SQL(" (FORMAT BINARY)" if binary else "")
        )
        log.debug(
            "Writing %d rows to %s with COPY in %s format",
            len(records),
            self.table,
            "binary" if binary else "text",
        )
        extract_pk, extract_values = plan.extract_pk, plan.extract_values
        row_of: Callable[[SinkRecord], list[Any]] = (
            (lambda record: extract_pk(record) + extract_values(record))
            if plan.pk
            else extract_values
        )
        check = binary.check if binary is not None and binary.int_ranges else None
        with conn.cursor() as cur, cur.copy(statement) as copy:
            if binary is not None:
                copy.set_types(binary.types)
            write_row = copy.write_row
            if check is None:
                for record in records:
                    write_row(row_of(record))
            else:
                for record in records:
                    row = row_of(record)
                    check(row)
                    write_row(row)


def _equals(names: Sequence[str], joiner: str) -> sql.Composable:
    return sql.SQL(joiner).join(
        sql.SQL("{} = {}").format(sql.Identifier(n), sql.Placeholder()) for n in names
    )
