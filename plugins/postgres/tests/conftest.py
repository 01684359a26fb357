"""The fixtures the plugin's tests use: kconnect's pytest plugin (a local Kafka broker for the
connector test kit's round trips and the worker tests) and a throwaway PostgreSQL server, both
started the first time a test asks for them. Each test gets a database of its own."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from kconnect.testing.fixtures import postgres_server
from kconnect.testing.postgres import PostgresServer

pytest_plugins = ["kconnect.testing.kit.pytest_plugin"]

# The tests share helpers by module name (sink_task_runs, test_source_modes). kconnect's suite
# runs them with --import-mode=importlib, which puts no test directory on sys.path; the
# plugin's own pytest settings (prepend) do.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

__all__ = ["postgres_server"]


@dataclass
class Database:
    """A database of its own on the session's server."""

    server: PostgresServer
    name: str

    @property
    def url(self) -> str:
        """libpq URI with credentials."""
        return self.server.url(self.name)

    @property
    def jdbc_url(self) -> str:
        return self.server.jdbc_url(self.name)

    def credentials(self) -> dict[str, str]:
        """The connection keys, the JDBC connector's way (URL without credentials)."""
        return {
            "connection.url": self.jdbc_url,
            "connection.user": self.server.user,
            "connection.password": self.server.password,
        }

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def execute(self, statement: str, params: object = None) -> list[tuple[object, ...]]:
        with self.connect() as conn:
            conn.execute("SET TIME ZONE 'UTC'")
            cur = conn.execute(statement, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []


def new_database(server: PostgresServer, hint: str) -> Database:
    name = (re.sub(r"[^a-z0-9]+", "_", hint.lower())[:40] + "_" + uuid.uuid4().hex[:6]).strip("_")
    server.create_database(name)
    return Database(server, name)


@pytest.fixture
def database_factory(postgres_server: PostgresServer) -> Iterator[Callable[[str], Database]]:
    """Makes databases of their own (dropped after the test): ``database_factory("hint")``."""
    made: list[Database] = []

    def make(hint: str) -> Database:
        made.append(new_database(postgres_server, hint))
        return made[-1]

    yield make
    for db in made:
        postgres_server.psql(
            f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)', database="postgres"
        )


@pytest.fixture
def database(
    database_factory: Callable[[str], Database], request: pytest.FixtureRequest
) -> Database:
    return database_factory(request.node.name)
