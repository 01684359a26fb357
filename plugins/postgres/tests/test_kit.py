"""kconnect's connector test kit against both connectors and a real PostgreSQL server: ConfigDef,
start/stop cycles, offsets and restarts, redelivery after a retriable failure, stop() while
poll()/put() wait, and round trips through a real worker and Kafka broker."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kconnect.api import SchemaBuilder, SinkRecord, SourceRecord, Struct, TimestampType
from kconnect.testing.kit import SinkConnectorChecks, SourceConnectorChecks

from kconnect_postgres.sink import PostgresSinkConnector
from kconnect_postgres.source import PostgresSourceConnector

JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"


class TestPostgresSourceKit(SourceConnectorChecks):
    connector_class = PostgresSourceConnector

    @pytest.fixture(autouse=True)
    def _database(self, database_factory: Callable[[str], Any]) -> None:
        self.db = database_factory("kit_src")

    def connector_config(self, workdir: Path, topic: str) -> dict[str, str]:
        # The topic is <prefix><table>: the table is named after the topic's random tail.
        prefix, table = topic[:-8], topic[-8:]
        self.db.execute(
            f'CREATE TABLE IF NOT EXISTS "{table}" (id serial PRIMARY KEY, name text NOT NULL)'
        )
        return {
            **self.db.credentials(),
            "mode": "incrementing",
            "table.whitelist": table,
            "topic.prefix": prefix,
            "poll.interval.ms": "100",
            "connection.attempts": "1",
        }

    def produce(self, config: Mapping[str, str], count: int) -> list[Any]:
        table = config["table.whitelist"]
        rows = self.db.execute(
            f"INSERT INTO \"{table}\" (name) SELECT 'row-' || g FROM generate_series(1, %s) g "
            "RETURNING id, name",
            (count,),
        )
        return [{"id": id_, "name": name} for id_, name in sorted(rows)]

    def record_value(self, record: SourceRecord) -> Any:
        assert isinstance(record.value, Struct)
        return record.value.to_dict()


#: the kit's sink values: JsonConverter envelopes (what the round trip produces to Kafka); the
#: in-process checks get the Structs they stand for
_KIT_SCHEMA_JSON = {
    "type": "struct",
    "name": "kit",
    "optional": False,
    "fields": [
        {"field": "id", "type": "int32", "optional": False},
        {"field": "name", "type": "string", "optional": False},
    ],
}
_KIT_SCHEMA = (
    SchemaBuilder.struct()
    .name("kit")
    .field("id", SchemaBuilder.int32().build())
    .field("name", SchemaBuilder.string().build())
    .build()
)


def _envelope(id_: int, name: str) -> str:
    return json.dumps({"schema": _KIT_SCHEMA_JSON, "payload": {"id": id_, "name": name}})


# stop_while_put_blocked: stop() cancels the blocked COPY and put() raises RetriableException
# (the records were not written, so the worker must not commit them) on the kit's own thread.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
class TestPostgresSinkKit(SinkConnectorChecks):
    connector_class = PostgresSinkConnector
    value_schema = _KIT_SCHEMA

    @pytest.fixture(autouse=True)
    def _database(self, database_factory: Callable[[str], Any]) -> None:
        self.db = database_factory("kit_sink")

    def connector_config(self, workdir: Path, topic: str) -> dict[str, str]:
        return {
            **self.db.credentials(),
            "table.name.format": "kit_${topic}",
            "auto.create": "true",
            "pk.mode": "record_value",
            "pk.fields": "id",
            # upsert: the lifecycle check writes the same record in every cycle
            "insert.mode": "upsert",
            "connection.attempts": "1",
            "retry.backoff.ms": "100",
            # the round trip produces JsonConverter envelopes
            "value.converter": JSON_CONVERTER,
            "value.converter.schemas.enable": "true",
        }

    def values(self, count: int, start: int = 0) -> list[Any]:
        return [_envelope(i, f"kit-record-{i}") for i in range(start, start + count)]

    def records(self, config: Mapping[str, str], values: list[Any], first: int) -> list[SinkRecord]:
        tp = self.partition(config)
        out = []
        for i, text in enumerate(values):
            payload = json.loads(text)["payload"]
            struct = Struct(_KIT_SCHEMA).put("id", payload["id"]).put("name", payload["name"])
            out.append(
                SinkRecord(
                    tp.topic,
                    tp.partition,
                    None,
                    None,
                    _KIT_SCHEMA,
                    struct,
                    first + i,
                    None,
                    TimestampType.NO_TIMESTAMP_TYPE,
                )
            )
        return out

    @staticmethod
    def _table(config: Mapping[str, str]) -> str:
        return config["table.name.format"].replace("${topic}", config["topics"])

    def read_back(self, config: Mapping[str, str]) -> list[Any]:
        try:
            rows = self.db.execute(f'SELECT id, name FROM "{self._table(config)}" ORDER BY id')
        except psycopg.errors.UndefinedTable:
            return []
        return [_envelope(id_, name) for id_, name in rows]  # type: ignore[arg-type]

    @contextlib.contextmanager
    def _unavailable(self) -> Iterator[None]:
        """The database refuses connections and every session in it is ended."""
        with psycopg.connect(self.db.server.url("postgres"), autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{self.db.name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (self.db.name,),
            )
            try:
                yield
            finally:
                admin.execute(f'ALTER DATABASE "{self.db.name}" ALLOW_CONNECTIONS true')

    def sink_unavailable(self, config: Mapping[str, str]) -> contextlib.AbstractContextManager[Any]:
        return self._unavailable()

    @contextlib.contextmanager
    def _stalled(self, config: Mapping[str, str]) -> Iterator[None]:
        """Another session holds the table's exclusive lock: writes wait for it."""
        table = self._table(config)
        with self.db.connect() as locker:
            locker.execute(
                f'CREATE TABLE IF NOT EXISTS "{table}" (id integer PRIMARY KEY, name text NOT NULL)'
            )
            locker.autocommit = False
            locker.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
            try:
                yield
            finally:
                locker.rollback()

    def sink_stalled(self, config: Mapping[str, str]) -> contextlib.AbstractContextManager[Any]:
        return self._stalled(config)
