"""Transforms and predicates end to end, against a real broker, on both pipelines.

Source path: FileStreamSource -> HoistField -> InsertField -> JsonConverter gives, byte for
byte, what Apache Kafka Connect writes; a Filter under TopicNameMatches drops (or, negated,
keeps) every line. Sink path: records produced with headers and tombstones, read by a
FileStreamSink whose Filter runs under HasHeaderKey, RecordIsTombstone or TopicNameMatches,
with and without ``negate``: the sink file holds exactly the records that were not dropped.

One standalone herder runs in this process for the whole module; each test adds connectors
of its own and deletes them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import TIMESTAMP_CREATE_TIME, Consumer, Producer, TopicPartition
from kconnect.runtime.standalone.herder import StandaloneHerder
from kconnect.testing import (
    KafkaCluster,
    committed_offset,
    herder_worker_props,
    read_topic,
    running_herder,
    wait_until,
)

JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
TRANSFORMS = "org.apache.kafka.connect.transforms"
PREDICATES = "org.apache.kafka.connect.transforms.predicates"

#: file_source(name, text, config) -> the file a new FileStreamSource reads
FileSource = Callable[[str, str, dict[str, str]], Path]


@pytest.fixture(scope="module")
def herder(
    bootstrap_servers: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StandaloneHerder]:
    workdir = tmp_path_factory.mktemp("transforms-e2e")
    props = herder_worker_props(bootstrap_servers, workdir, {"offset.flush.interval.ms": 200})
    with running_herder(props) as running:
        yield running


@pytest.fixture
def connectors(herder: StandaloneHerder) -> Iterator[list[str]]:
    """Names of the connectors a test creates; deleted when it ends."""
    names: list[str] = []
    yield names
    for name in names:
        herder.delete_connector(name)


def add_connector(
    herder: StandaloneHerder, connectors: list[str], name: str, config: dict[str, str]
) -> None:
    herder.put_connector_config(name, config, allow_replace=False)
    connectors.append(name)
    wait_until(
        lambda: [t["state"] for t in herder.connector_status(name)["tasks"]] == ["RUNNING"],
        timeout=30,
        what=f"the task of {name} to run",
    )


def topic_is_empty(bootstrap_servers: str, topic: str) -> bool:
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": "watermarks"})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        return high == 0
    finally:
        consumer.close()


def source_position(herder: StandaloneHerder, name: str) -> int | None:
    """The byte position FileStreamSource stored as its offset (None before the first flush)."""
    offsets = herder.connector_offsets(name)["offsets"]
    return offsets[0]["offset"]["position"] if offsets else None


@pytest.fixture
def file_source(
    kafka_cluster: KafkaCluster,
    unique_topic: str,
    herder: StandaloneHerder,
    connectors: list[str],
    tmp_path: Path,
) -> FileSource:
    """Starts a FileStreamSource named ``name`` over a file holding ``text``, writing to
    ``unique_topic`` (created with one partition), with ``config`` added; returns the file."""
    kafka_cluster.create_topic(unique_topic, partitions=1)

    def start(name: str, text: str, config: dict[str, str]) -> Path:
        source = tmp_path / f"{name}.txt"
        source.write_text(text, encoding="utf-8")
        add_connector(
            herder,
            connectors,
            name,
            {
                "connector.class": "FileStreamSource",
                **config,
                "file": str(source),
                "topic": unique_topic,
            },
        )
        return source

    return start


# -- HoistField then InsertField on a file source: the exact JSON on the topic ---------------
def hoist_then_insert(insert: dict[str, str], schemas: bool = True) -> dict[str, str]:
    config = {
        "key.converter": JSON_CONVERTER,
        "key.converter.schemas.enable": "true",
        "value.converter": JSON_CONVERTER,
        "value.converter.schemas.enable": str(schemas).lower(),
        "transforms": "hoist,insert",
        "transforms.hoist.type": f"{TRANSFORMS}.HoistField$Value",
        "transforms.hoist.field": "line",
        "transforms.insert.type": f"{TRANSFORMS}.InsertField$Value",
    }
    config.update({f"transforms.insert.{k}": v for k, v in insert.items()})
    return config


def test_hoist_then_insert_writes_kafkas_exact_json_with_schema(
    file_source: FileSource, bootstrap_servers: str, unique_topic: str
) -> None:
    insert = {"topic.field": "topic", "static.field": "source", "static.value": "file"}
    file_source("hoist-insert", 'first\nsay "hi"\n', hoist_then_insert(insert))

    messages = read_topic(bootstrap_servers, unique_topic, 2, timeout=30)
    # What Apache Kafka's JsonConverter writes: HoistField's struct is required and unnamed, its
    # field keeps FileStreamSource's required string schema; InsertField appends its fields in
    # the order topic, partition, offset, timestamp, static, each optional by default.
    schema = (
        '{"type":"struct","fields":['
        '{"type":"string","optional":false,"field":"line"},'
        '{"type":"string","optional":true,"field":"topic"},'
        '{"type":"string","optional":true,"field":"source"}'
        '],"optional":false}'
    )
    payloads = [
        f'{{"line":"first","topic":"{unique_topic}","source":"file"}}',
        f'{{"line":"say \\"hi\\"","topic":"{unique_topic}","source":"file"}}',
    ]
    assert [m.value() for m in messages] == [
        f'{{"schema":{schema},"payload":{payload}}}'.encode() for payload in payloads
    ]
    # A null key without a schema is no key at all, as JsonConverter writes it.
    assert [m.key() for m in messages] == [None, None]


def test_insert_field_required_fields_timestamp_and_missing_partition(
    file_source: FileSource, bootstrap_servers: str, unique_topic: str
) -> None:
    insert = {
        "partition.field": "partition",
        "timestamp.field": "ts!",
        "static.field": "source!",
        "static.value": "file",
    }
    file_source("insert-required", "only\n", hoist_then_insert(insert))

    [message] = read_topic(bootstrap_servers, unique_topic, 1, timeout=30)
    timestamp_type, timestamp = message.timestamp()
    assert timestamp_type == TIMESTAMP_CREATE_TIME and timestamp > 0
    # The source record names no partition: the optional field is there, its value null. The
    # timestamp is the record's own, as the Timestamp logical type (epoch milliseconds).
    expected = (
        '{"schema":{"type":"struct","fields":['
        '{"type":"string","optional":false,"field":"line"},'
        '{"type":"int32","optional":true,"field":"partition"},'
        '{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp",'
        '"version":1,"field":"ts"},'
        '{"type":"string","optional":false,"field":"source"}'
        '],"optional":false},'
        f'"payload":{{"line":"only","partition":null,"ts":{timestamp},"source":"file"}}}}'
    )
    assert message.value() == expected.encode()


def test_hoist_then_insert_without_the_schema_envelope(
    file_source: FileSource, bootstrap_servers: str, unique_topic: str
) -> None:
    insert = {"static.field": "source", "static.value": "file"}
    file_source("hoist-insert-plain", "plain\n", hoist_then_insert(insert, schemas=False))

    [message] = read_topic(bootstrap_servers, unique_topic, 1, timeout=30)
    assert message.value() == b'{"line":"plain","source":"file"}'


# -- Filter under TopicNameMatches on a file source ------------------------------------------
@pytest.mark.parametrize(
    ("pattern_matches", "negate", "kept"),
    [(True, False, False), (True, True, True), (False, False, True), (False, True, False)],
    ids=["matching", "matching-negated", "not-matching", "not-matching-negated"],
)
def test_source_filter_on_topic_name_matches(
    file_source: FileSource,
    bootstrap_servers: str,
    unique_topic: str,
    herder: StandaloneHerder,
    pattern_matches: bool,
    negate: bool,
    kept: bool,
) -> None:
    name = f"source-filter-{pattern_matches}-{negate}".lower()
    source = file_source(
        name,
        "one\ntwo\nthree\n",
        {
            "transforms": "drop",
            "transforms.drop.type": f"{TRANSFORMS}.Filter",
            "transforms.drop.predicate": "onTopic",
            "transforms.drop.negate": str(negate).lower(),
            "predicates": "onTopic",
            "predicates.onTopic.type": f"{PREDICATES}.TopicNameMatches",
            "predicates.onTopic.pattern": "test-.*" if pattern_matches else "elsewhere-.*",
        },
    )

    # Every line was read and handled (dropped records are acknowledged too) ...
    size = source.stat().st_size
    wait_until(lambda: source_position(herder, name) == size, timeout=30, what="all lines read")
    # ... and the topic has all of them or none.
    if kept:
        values = [m.value() for m in read_topic(bootstrap_servers, unique_topic, 3, timeout=30)]
        assert values == [b"one", b"two", b"three"]
    else:
        assert topic_is_empty(bootstrap_servers, unique_topic)


# -- Filter under each predicate on a sink ---------------------------------------------------
#: (key, value, headers) produced to the first topic, in order
MAIN_RECORDS: list[tuple[bytes, bytes | None, list[tuple[str, bytes]]]] = [
    (b"k0", b"plain-0", []),
    (b"k1", b"tagged-1", [("drop", b"x")]),
    (b"k2", None, []),
    (b"k3", b"tagged-3", [("other", b"y"), ("drop", b"")]),
    (b"k4", None, [("drop", b"z")]),
    (b"k5", b"plain-5", [("other", b"y")]),
]
OTHER_VALUES = [b"other-0", b"other-1"]  # produced to the second topic, no headers


def produce(bootstrap_servers: str, main: str, other: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap_servers})
    for key, value, headers in MAIN_RECORDS:
        producer.produce(main, key=key, value=value, headers=headers or None)
    for value in OTHER_VALUES:
        producer.produce(other, value=value)
    assert producer.flush(30) == 0


# FileStreamSink writes each value's text, "null" for a tombstone, as Kafka's does.
SINK_CASES: list[tuple[str, dict[str, str], bool, list[str], list[str]]] = [
    # (id, predicate config, negate, lines from the first topic, lines from the second)
    ("has-header-key", {"type": f"{PREDICATES}.HasHeaderKey", "name": "drop"}, False,
     ["plain-0", "null", "plain-5"], ["other-0", "other-1"]),
    ("has-header-key-negated", {"type": f"{PREDICATES}.HasHeaderKey", "name": "drop"}, True,
     ["tagged-1", "tagged-3", "null"], []),
    ("record-is-tombstone", {"type": f"{PREDICATES}.RecordIsTombstone"}, False,
     ["plain-0", "tagged-1", "tagged-3", "plain-5"], ["other-0", "other-1"]),
    ("record-is-tombstone-negated", {"type": f"{PREDICATES}.RecordIsTombstone"}, True,
     ["null", "null"], []),
    ("topic-name-matches", {"type": f"{PREDICATES}.TopicNameMatches", "pattern": ".*-other"}, False,
     ["plain-0", "tagged-1", "null", "tagged-3", "null", "plain-5"], []),
    ("topic-name-matches-negated", {"type": f"{PREDICATES}.TopicNameMatches", "pattern": ".*-other"}, True,
     [], ["other-0", "other-1"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("predicate", "negate", "main_lines", "other_lines"),
    [case[1:] for case in SINK_CASES],
    ids=[case[0] for case in SINK_CASES],
)
def test_sink_filter_drops_records_before_put(
    kafka_cluster: KafkaCluster,
    bootstrap_servers: str,
    unique_topic: str,
    herder: StandaloneHerder,
    connectors: list[str],
    tmp_path: Path,
    predicate: dict[str, str],
    negate: bool,
    main_lines: list[str],
    other_lines: list[str],
) -> None:
    main, other = f"{unique_topic}-main", f"{unique_topic}-other"
    for topic in (main, other):
        kafka_cluster.create_topic(topic, partitions=1)
    produce(bootstrap_servers, main, other)
    output = tmp_path / "sink.txt"
    name = f"sink-filter-{unique_topic[-8:]}"
    config: dict[str, Any] = {
        "connector.class": "FileStreamSink",
        "topics": f"{main},{other}",
        "file": str(output),
        "transforms": "drop",
        "transforms.drop.type": f"{TRANSFORMS}.Filter",
        "transforms.drop.predicate": "which",
        "transforms.drop.negate": str(negate).lower(),
        "predicates": "which",
    }
    config.update({f"predicates.which.{k}": v for k, v in predicate.items()})
    add_connector(herder, connectors, name, config)

    # Committed past every record of both topics: all were consumed, the kept ones flushed.
    group = f"connect-{name}"
    wait_until(
        lambda: (
            committed_offset(bootstrap_servers, group, main) == len(MAIN_RECORDS)
            and committed_offset(bootstrap_servers, group, other) == len(OTHER_VALUES)
        ),
        timeout=30,
        what="the sink to commit both topics to their ends",
    )
    lines = output.read_text(encoding="utf-8").splitlines() if output.exists() else []
    # The two topics interleave in any order; within each topic the order is kept.
    assert sorted(lines) == sorted(main_lines + other_lines)
    assert [line for line in lines if not line.startswith("other-")] == main_lines
    assert [line for line in lines if line.startswith("other-")] == other_lines
    assert [t["state"] for t in herder.connector_status(name)["tasks"]] == ["RUNNING"]
