"""Error handling end to end, against a real broker: a sink reading good JSON mixed with garbage.

``errors.tolerance=all`` with a dead letter queue: the good records reach the sink, every bad
one is in the DLQ topic as it was consumed, with Kafka's ``__connect.errors.*`` headers.
``errors.tolerance=none``: the task is FAILED with the trace, and no offset past the bad record
is committed. The standalone herder runs in this process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from kconnect.api import SinkConnector, SinkRecord, SinkTask
from kconnect.runtime.standalone.herder import StandaloneHerder
from kconnect.testing import (
    KafkaCluster,
    committed_offset,
    herder_worker_props,
    read_topic,
    running_herder,
    wait_until,
)


@pytest.fixture
def herder(tmp_path: Path, bootstrap_servers: str) -> Iterator[StandaloneHerder]:
    props = herder_worker_props(
        bootstrap_servers,
        tmp_path,
        {
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            "offset.flush.interval.ms": "500",
            # RejectingSinkConnector is named by Python path: this module must be allowed.
            "plugin.import.allowed.prefixes": __name__,
        },
    )
    with running_herder(props) as running:
        yield running


GOOD = [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]
BAD = [b"not json {", b"\x00\xff\xfe binary", b'{"unterminated": ']


def produce_mixed(bootstrap: str, topic: str) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """good, bad, good, bad, good, bad, good, good: returns what was sent, in order."""
    sent = []
    order = [GOOD[0], BAD[0], GOOD[1], BAD[1], GOOD[2], BAD[2], GOOD[3], GOOD[4]]
    producer = Producer({"bootstrap.servers": bootstrap})
    for i, item in enumerate(order):
        value = item if isinstance(item, bytes) else json.dumps(item).encode()
        headers = [("origin", f"test-{i}".encode())]
        producer.produce(
            topic,
            value=value,
            key=f"key-{i}".encode(),
            headers=headers,
            timestamp=1_700_000_000_000 + i,
        )
        sent.append((f"key-{i}".encode(), value, headers))
    assert producer.flush(30) == 0
    return sent


def test_tolerance_all_sends_every_bad_record_to_the_dlq_with_context_headers(
    kafka_cluster: KafkaCluster,
    bootstrap_servers: str,
    unique_topic: str,
    herder: StandaloneHerder,
    tmp_path: Path,
) -> None:
    kafka_cluster.create_topic(unique_topic, partitions=1)
    sent = produce_mixed(bootstrap_servers, unique_topic)
    dlq = f"{unique_topic}-dlq"
    output = tmp_path / "sink.txt"
    herder.put_connector_config(
        "dlq-sink",
        {
            "connector.class": "FileStreamSink",
            "topics": unique_topic,
            "file": str(output),
            "errors.tolerance": "all",
            "errors.log.enable": "true",
            "errors.deadletterqueue.topic.name": dlq,
            "errors.deadletterqueue.topic.replication.factor": "1",
            "errors.deadletterqueue.context.headers.enable": "true",
        },
        allow_replace=False,
    )

    lines = wait_until(
        lambda: (
            output.exists()
            and len(output.read_text().splitlines()) >= len(GOOD)
            and output.read_text().splitlines()
        ),
        what="the good records in the sink file",
    )
    assert len(lines) == len(GOOD)
    assert lines == [
        f"{{n={g['n']}}}" for g in GOOD
    ]  # Java's Map.toString(), as Kafka's sink writes

    dead = read_topic(bootstrap_servers, dlq, len(BAD))
    assert len(dead) == len(BAD)
    bad_sent = [(k, v, h, offset) for offset, (k, v, h) in enumerate(sent) if v in BAD]
    for message, (key, value, headers, offset) in zip(dead, bad_sent, strict=True):
        assert message.key() == key
        assert message.value() == value
        got = {k: v.decode("utf-8") for k, v in message.headers()}
        assert got["origin"] == headers[0][1].decode()
        assert message.timestamp()[1] == 1_700_000_000_000 + offset
        assert got["__connect.errors.topic"] == unique_topic
        assert got["__connect.errors.partition"] == "0"
        assert got["__connect.errors.offset"] == str(offset)
        assert got["__connect.errors.connector.name"] == "dlq-sink"
        assert got["__connect.errors.task.id"] == "0"
        assert got["__connect.errors.stage"] == "VALUE_CONVERTER"
        assert (
            got["__connect.errors.class.name"] == "kconnect_builtins.converters.json.JsonConverter"
        )
        assert got["__connect.errors.exception.class.name"].endswith("DataException")
        assert got["__connect.errors.exception.message"]
        assert "Traceback" in got["__connect.errors.exception.stacktrace"]

    status = herder.connector_status("dlq-sink")
    assert status["tasks"][0]["state"] == "RUNNING"
    wait_until(
        lambda: committed_offset(bootstrap_servers, "connect-dlq-sink", unique_topic) == len(sent),
        what="offsets committed past the skipped records",
    )


def test_tolerance_none_fails_the_task_and_commits_nothing_past_the_bad_record(
    kafka_cluster: KafkaCluster,
    bootstrap_servers: str,
    unique_topic: str,
    herder: StandaloneHerder,
    tmp_path: Path,
) -> None:
    kafka_cluster.create_topic(unique_topic, partitions=1)
    produce_mixed(bootstrap_servers, unique_topic)  # the first bad record is at offset 1
    herder.put_connector_config(
        "strict-sink",
        {
            "connector.class": "FileStreamSink",
            "topics": unique_topic,
            "file": str(tmp_path / "sink.txt"),
        },
        allow_replace=False,
    )

    task = wait_until(
        lambda: (
            (herder.connector_status("strict-sink")["tasks"] or [{}])[0].get("state") == "FAILED"
            and herder.connector_status("strict-sink")["tasks"][0]
        ),
        what="the task to fail",
    )
    assert "Tolerance exceeded in error handler" in task["trace"]
    assert "DataException" in task["trace"]
    time.sleep(1.5)  # three flush intervals: a commit would have happened by now
    committed = committed_offset(bootstrap_servers, "connect-strict-sink", unique_topic)
    assert committed is None or committed <= 1


# -- the errant record reporter, from a sink task of our own -------------------------------------
REJECTED: dict[str, list[Any]] = {}


class RejectingSinkTask(SinkTask):
    """Reports every record whose value has ``"reject": true`` and waits for the DLQ write."""

    def start(self, props: Mapping[str, str]) -> None:
        self.name = props["name"]
        REJECTED.setdefault(self.name, [])

    def put(self, records: Collection[SinkRecord]) -> None:
        reporter = self.context.errant_record_reporter()
        assert reporter is not None
        for record in records:
            if isinstance(record.value, dict) and record.value.get("reject"):
                reporter.report(record, ValueError(f"rejected {record.value['id']}")).result(30)
                REJECTED[self.name].append(record.value["id"])

    def stop(self) -> None:
        pass


class RejectingSinkConnector(SinkConnector):
    def start(self, props: Mapping[str, str]) -> None:
        self.props = dict(props)

    def task_class(self) -> type[SinkTask]:
        return RejectingSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def stop(self) -> None:
        pass


def test_errant_record_reporter_writes_the_consumed_record_to_the_dlq(
    kafka_cluster: KafkaCluster,
    bootstrap_servers: str,
    unique_topic: str,
    herder: StandaloneHerder,
) -> None:
    kafka_cluster.create_topic(unique_topic, partitions=1)
    producer = Producer({"bootstrap.servers": bootstrap_servers})
    values = [{"id": 1}, {"id": 2, "reject": True}, {"id": 3}]
    for value in values:
        producer.produce(unique_topic, value=json.dumps(value).encode())
    assert producer.flush(30) == 0
    dlq = f"{unique_topic}-dlq"
    herder.put_connector_config(
        "rejecting",
        {
            "connector.class": f"{__name__}.RejectingSinkConnector",
            "topics": unique_topic,
            "errors.tolerance": "all",
            "errors.deadletterqueue.topic.name": dlq,
            "errors.deadletterqueue.topic.replication.factor": "1",
            "errors.deadletterqueue.context.headers.enable": "true",
        },
        allow_replace=False,
    )

    wait_until(lambda: REJECTED.get("rejecting") == [2], what="the task to report record 2")
    [dead] = read_topic(bootstrap_servers, dlq, 1)
    assert json.loads(dead.value()) == {"id": 2, "reject": True}
    headers = {k: v.decode() for k, v in dead.headers()}
    assert headers["__connect.errors.stage"] == "TASK_PUT"
    assert headers["__connect.errors.offset"] == "1"
    assert headers["__connect.errors.exception.message"] == "rejected 2"
