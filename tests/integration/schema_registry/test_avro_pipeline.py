"""AvroConverter in a real standalone worker process: Apache Kafka's sample file pipeline with
only the converter lines changed, and a schema registry that goes away and comes back."""

from __future__ import annotations

import time
from pathlib import Path

import requests
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from kconnect.testing.standalone_worker import StandaloneWorker, free_port

# Apache Kafka's config/connect-standalone.properties, as shipped (comments shortened), with
# the converter lines changed to Confluent's AvroConverter as its docs show.
AVRO_SAMPLE_WORKER = """\
# These are defaults. This file just demonstrates how to override some settings.
bootstrap.servers={bootstrap}

# The converters specify the format of data in Kafka and how to translate it into Connect data.
key.converter=io.confluent.connect.avro.AvroConverter
key.converter.schema.registry.url={registry}
value.converter=io.confluent.connect.avro.AvroConverter
value.converter.schema.registry.url={registry}

offset.storage.file.filename={offsets}
# Flush much faster than normal, which is useful for testing/debugging
offset.flush.interval.ms=10000

# Set to a list of filesystem paths separated by commas (,) to enable class loading isolation.
#plugin.path=
listeners=http://127.0.0.1:{port}
"""

SOURCE = """\
name=local-file-source
connector.class=FileStreamSource
tasks.max=1
file={file}
topic={topic}
transforms=hoist,insert
transforms.hoist.type=org.apache.kafka.connect.transforms.HoistField$Value
transforms.hoist.field=line
transforms.insert.type=org.apache.kafka.connect.transforms.InsertField$Value
transforms.insert.static.field=origin
transforms.insert.static.value=kconnect
transforms.insert.topic.field=topic
"""

SINK = """\
name=local-file-sink
connector.class=FileStreamSink
tasks.max=1
file={file}
topics={topic}
"""


def line_count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def consume_all(bootstrap: str, topic: str, expected: int) -> list:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"check-{topic}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    messages: list = []
    deadline = time.monotonic() + 60
    while len(messages) < expected and time.monotonic() < deadline:
        messages += [m for m in consumer.consume(1000, 1.0) if m.error() is None]
    consumer.close()
    return messages


def write_job(tmp_path: Path, registry_url: str, bootstrap: str, topic: str, lines: list[str]):
    source_file = tmp_path / "test.txt"
    source_file.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    output = tmp_path / "test.sink.txt"
    port = free_port()
    worker_file = tmp_path / "connect-avro-standalone.properties"
    worker_file.write_text(
        AVRO_SAMPLE_WORKER.format(
            bootstrap=bootstrap, registry=registry_url, offsets=tmp_path / "offsets", port=port
        )
    )
    source = tmp_path / "connect-file-source.properties"
    source.write_text(SOURCE.format(file=source_file, topic=topic))
    sink = tmp_path / "connect-file-sink.properties"
    sink.write_text(SINK.format(file=output, topic=topic))
    return worker_file, source, sink, output, port


def test_sample_file_pipeline_with_avro_and_transforms(
    tmp_path, schema_registry, bootstrap_servers, unique_topic
):
    lines = [f'line {i} ünïcödé "quoted" {i % 7}' for i in range(5000)]
    worker_file, source, sink, output, port = write_job(
        tmp_path, schema_registry.url, bootstrap_servers, unique_topic, lines
    )
    with StandaloneWorker(tmp_path, worker_file, [source, sink], rest_port=port) as worker:
        worker.wait_for(lambda: line_count(output) >= len(lines), timeout_s=120, what="all lines")
    assert output.read_text(encoding="utf-8").splitlines() == [
        f"Struct{{line={line},topic={unique_topic},origin=kconnect}}" for line in lines
    ]
    # In the topic: Avro in Confluent's wire format that Confluent's own deserializer reads.
    messages = consume_all(bootstrap_servers, unique_topic, len(lines))
    assert len(messages) == len(lines)
    assert all(m.key() is None for m in messages)
    client = SchemaRegistryClient({"url": schema_registry.url})
    deserialize = AvroDeserializer(client)
    context = SerializationContext(unique_topic, MessageField.VALUE)
    assert [deserialize(m.value(), context) for m in messages] == [
        {"line": line, "topic": unique_topic, "origin": "kconnect"} for line in lines
    ]
    assert client.get_subjects() and f"{unique_topic}-value" in client.get_subjects()


def test_registry_outage_is_retried_and_loses_nothing(
    tmp_path, schema_registry, bootstrap_servers, unique_topic
):
    lines = [f"record {i:05d}" for i in range(2000)]
    worker_file, source, sink, output, port = write_job(
        tmp_path, schema_registry.url, bootstrap_servers, unique_topic, lines
    )
    # Retry conversion failures without end, at most 1 s apart (Kafka's keys).
    retry = "errors.retry.timeout=-1\nerrors.retry.delay.max.ms=1000\n"
    for connector in (source, sink):
        connector.write_text(connector.read_text() + retry)
    schema_registry.kill()
    try:
        with StandaloneWorker(tmp_path, worker_file, [source, sink], rest_port=port) as worker:
            status_url = f"{worker.rest_url}/connectors/local-file-source/status"
            worker.wait_for(
                lambda: _task_state(status_url) == "RUNNING", timeout_s=60, what="source running"
            )
            time.sleep(4)  # the source task keeps failing to register its schema meanwhile
            assert _task_state(status_url) == "RUNNING"
            assert line_count(output) == 0
            assert not consume_all(bootstrap_servers, unique_topic, 1)
            schema_registry.start()
            worker.wait_for(
                lambda: line_count(output) >= len(lines), timeout_s=120, what="every line"
            )
            assert _task_state(status_url) == "RUNNING"
    finally:
        schema_registry.start()  # the session's registry must be up for the next test
    written = output.read_text().splitlines()
    assert written == [
        f"Struct{{line={line},topic={unique_topic},origin=kconnect}}" for line in lines
    ]


def _task_state(status_url: str) -> str | None:
    try:
        tasks = requests.get(status_url, timeout=5).json().get("tasks") or []
    except (requests.RequestException, ValueError):
        return None
    return tasks[0]["state"] if tasks else None
