"""Records for the transform tests."""

from __future__ import annotations

from typing import Any

from kconnect.api import Schema, SinkRecord, SourceRecord


def sink_record(
    value_schema: Schema | None = None,
    value: Any = None,
    key_schema: Schema | None = None,
    key: Any = None,
    topic: str = "test",
    partition: int | None = 0,
    offset: int = 0,
    timestamp: int | None = None,
    headers: Any = None,
) -> SinkRecord:
    return SinkRecord(
        topic, partition, key_schema, key, value_schema, value, offset, timestamp, headers=headers
    )


def source_record(
    value_schema: Schema | None = None,
    value: Any = None,
    key_schema: Schema | None = None,
    key: Any = None,
    topic: str = "test",
    partition: int | None = 0,
    timestamp: int | None = None,
    headers: Any = None,
) -> SourceRecord:
    return SourceRecord(
        {"foo": "bar"}, {"baz": "quxx"}, topic, partition, key_schema, key, value_schema, value,
        timestamp, headers,
    )  # fmt: skip
