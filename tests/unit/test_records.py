"""Headers and the records that carry data through Connect."""

from __future__ import annotations

from kconnect.api.data import Schema
from kconnect.api.records import (
    ConnectRecord,
    Header,
    Headers,
    SinkRecord,
    SourceRecord,
    TimestampType,
)


# -- Headers -------------------------------------------------------------------------------
def test_headers_keep_order_and_repeated_keys():
    headers = Headers().add("a", 1).add("b", "x", Schema.STRING_SCHEMA).add("a", 2)
    assert [(h.key, h.value) for h in headers] == [("a", 1), ("b", "x"), ("a", 2)]
    assert len(headers) == 3 and bool(headers)
    assert headers.all_with_name("a") == [Header("a", 1), Header("a", 2)]
    assert headers.last_with_name("a") == Header("a", 2)
    assert headers.last_with_name("b").schema == Schema.STRING_SCHEMA
    assert headers.last_with_name("missing") is None


def test_empty_headers_are_falsy():
    assert not Headers() and len(Headers()) == 0 and list(Headers()) == []


def test_add_header_remove_and_clear():
    headers = Headers().add_header(Header("a", 1)).add("b", 2).add("a", 3)
    headers.remove("a")
    assert [h.key for h in headers] == ["b"]
    headers.clear()
    assert len(headers) == 0


def test_retain_latest_of_one_key_or_of_all():
    headers = Headers().add("a", 1).add("b", 1).add("a", 2).add("b", 2).add("c", 1)
    headers.retain_latest("a")
    assert [(h.key, h.value) for h in headers] == [("b", 1), ("a", 2), ("b", 2), ("c", 1)]
    headers.retain_latest()
    assert [(h.key, h.value) for h in headers] == [("a", 2), ("b", 2), ("c", 1)]


def test_duplicate_is_independent():
    headers = Headers().add("a", 1)
    copy = headers.duplicate()
    copy.add("b", 2)
    assert len(headers) == 1 and len(copy) == 2
    assert headers == Headers([Header("a", 1)])
    assert headers != copy


# -- records -------------------------------------------------------------------------------
def _source() -> SourceRecord:
    return SourceRecord(
        {"file": "in.txt"},
        {"position": 42},
        "topic",
        3,
        Schema.STRING_SCHEMA,
        "key",
        Schema.INT32_SCHEMA,
        7,
        1_700_000_000_000,
        Headers().add("h", "v"),
    )


def _sink() -> SinkRecord:
    return SinkRecord(
        "topic",
        1,
        Schema.STRING_SCHEMA,
        "key",
        Schema.INT32_SCHEMA,
        7,
        100,
        1_700_000_000_000,
        TimestampType.CREATE_TIME,
        [Header("h", "v")],
    )


def test_source_record_attributes_and_defaults():
    record = SourceRecord({"p": 1}, {"o": 2}, "topic")
    assert (record.source_partition, record.source_offset, record.topic) == (
        {"p": 1},
        {"o": 2},
        "topic",
    )
    assert record.kafka_partition is None and record.key is None and record.value is None
    assert record.timestamp is None and isinstance(record.headers, Headers) and not record.headers


def test_sink_record_remembers_where_it_was_read():
    record = _sink()
    assert (record.original_topic, record.original_kafka_partition, record.original_kafka_offset) == (
        "topic", 1, 100,
    )  # fmt: skip
    assert record.timestamp_type is TimestampType.CREATE_TIME
    assert isinstance(record.headers, Headers) and record.headers.last_with_name("h").value == "v"


def test_records_with_equal_attributes_are_equal():
    assert _source() == _source()
    assert _sink() == _sink()
    assert _source() != _source().new_record(value=8)
    assert _source() != _sink()


def test_new_record_replaces_only_what_is_given():
    record = _source()
    changed = record.new_record(topic="other", value=8, value_schema=Schema.INT64_SCHEMA)
    assert isinstance(changed, SourceRecord)
    assert (changed.topic, changed.value, changed.value_schema) == ("other", 8, Schema.INT64_SCHEMA)
    assert (changed.kafka_partition, changed.key, changed.key_schema, changed.timestamp) == (
        3, "key", Schema.STRING_SCHEMA, 1_700_000_000_000,
    )  # fmt: skip
    assert (changed.source_partition, changed.source_offset) == (
        {"file": "in.txt"},
        {"position": 42},
    )
    assert (record.topic, record.value) == ("topic", 7)


def test_new_record_can_set_attributes_to_none():
    changed = _source().new_record(key=None, key_schema=None, kafka_partition=None, timestamp=None)
    assert changed.key is None and changed.key_schema is None
    assert changed.kafka_partition is None and changed.timestamp is None


def test_new_record_copies_headers():
    record = _source()
    changed = record.new_record()
    changed.headers.add("extra", 1)
    assert len(record.headers) == 1 and len(changed.headers) == 2
    replaced = record.new_record(headers=Headers().add("only", 1))
    assert [h.key for h in replaced.headers] == ["only"]


def test_sink_new_record_keeps_offsets_and_origin():
    record = _sink()
    changed = record.new_record(topic="routed", kafka_partition=5)
    assert isinstance(changed, SinkRecord)
    assert (changed.topic, changed.kafka_partition, changed.kafka_offset) == ("routed", 5, 100)
    assert (changed.original_topic, changed.original_kafka_partition) == ("topic", 1)
    assert changed.original_kafka_offset == 100
    assert changed.timestamp_type is TimestampType.CREATE_TIME


def test_sink_new_record_without_timestamp_has_no_timestamp_type():
    changed = _sink().new_record(timestamp=None)
    assert changed.timestamp is None
    assert changed.timestamp_type is TimestampType.NO_TIMESTAMP_TYPE


def test_records_are_unhashable_and_show_their_fields():
    record = _sink()
    assert ConnectRecord.__hash__ is None
    text = repr(record)
    assert text.startswith("SinkRecord(") and "kafka_offset=100" in text and "topic='topic'" in text
    assert "source_offset={'position': 42}" in repr(_source())
