"""What the database holds: its tables and their columns, read from PostgreSQL's catalog.

Table names in configs may be ``table``, ``schema.table`` or ``database.schema.table`` (the
JDBC connector's fully qualified form); they are matched exactly, as stored (no case folding:
PostgreSQL's identifiers are what the catalog says).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
from psycopg import sql

_RELKINDS = {
    "TABLE": "r",
    "VIEW": "v",
    "MATERIALIZED VIEW": "m",
    "PARTITIONED TABLE": "p",
    "FOREIGN TABLE": "f",
}


@dataclass(frozen=True, order=True)
class TableRef:
    schema: str
    name: str

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"

    def matches(self, entry: str, database: str) -> bool:
        return entry in (self.name, str(self), f"{database}.{self}")


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type_name: str
    not_null: bool
    #: filled by a sequence or an identity: the incrementing column the JDBC connector finds
    auto_increment: bool


def list_tables(
    conn: psycopg.Connection,
    include: Iterable[str],
    exclude: Iterable[str],
    schema_pattern: str | None,
    table_types: Iterable[str],
    database: str,
) -> list[TableRef]:
    """The tables to copy, sorted by schema and name."""
    kinds = [_RELKINDS[t] for t in table_types if t in _RELKINDS] or ["r"]
    rows = conn.execute(
        """
        SELECT n.nspname, c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = ANY(%s)
          AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
          AND (%s::text IS NULL OR n.nspname LIKE %s)
          AND has_table_privilege(c.oid, 'SELECT')
        ORDER BY 1, 2
        """,
        (kinds, schema_pattern, schema_pattern),
    ).fetchall()
    tables = [TableRef(schema, name) for schema, name in rows]
    include, exclude = list(include), list(exclude)
    if include:
        tables = [t for t in tables if any(t.matches(e, database) for e in include)]
    if exclude:
        tables = [t for t in tables if not any(t.matches(e, database) for e in exclude)]
    return tables


def find_table(conn: psycopg.Connection, name: str) -> TableRef | None:
    """``schema.table`` or ``table`` (looked up on the search path, as SQL would), or None."""
    row = conn.execute(
        """
        SELECT n.nspname, c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = to_regclass(%s)
        """,
        (_regclass_text(name),),
    ).fetchone()
    return TableRef(row[0], row[1]) if row else None


def _regclass_text(name: str) -> str:
    """``schema.table`` or ``table`` as to_regclass reads it, every part quoted as given."""
    parts = name.split(".")
    if len(parts) > 2:  # database.schema.table: the database is the one we are in
        parts = parts[-2:]
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def columns(conn: psycopg.Connection, table: TableRef) -> dict[str, ColumnInfo]:
    """The table's columns in order, by name."""
    rows = conn.execute(
        """
        SELECT a.attname, format_type(a.atttypid, NULL), a.attnotnull,
               a.attidentity <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid), '')
                   LIKE 'nextval(%%'
        FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        (_regclass_text(str(table)),),
    ).fetchall()
    return {
        name: ColumnInfo(name, type_name, bool(nn), bool(ai)) for name, type_name, nn, ai in rows
    }


def auto_increment_column(cols: dict[str, ColumnInfo]) -> str | None:
    found = [c.name for c in cols.values() if c.auto_increment]
    return found[0] if len(found) == 1 else None
