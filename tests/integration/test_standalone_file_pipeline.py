"""The quickstart path end to end on a real broker: file -> FileStreamSource -> topic ->
FileStreamSink -> file, through `connect-standalone` as users run it."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from confluent_kafka import Consumer
from kconnect.testing.standalone_worker import StandaloneWorker, free_port

LINES = 100_000

# Apache Kafka's config/connect-standalone.properties, as shipped (comments shortened).
KAFKA_SAMPLE_WORKER = """\
# These are defaults. This file just demonstrates how to override some settings.
bootstrap.servers={bootstrap}

# The converters specify the format of data in Kafka and how to translate it into Connect data.
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
# Converter-specific settings can be passed in by prefixing the Converter's setting with the converter
key.converter.schemas.enable={schemas}
value.converter.schemas.enable={schemas}

offset.storage.file.filename={offsets}
# Flush much faster than normal, which is useful for testing/debugging
offset.flush.interval.ms=10000

# Set to a list of filesystem paths separated by commas (,) to enable class loading isolation.
#plugin.path=
listeners=http://127.0.0.1:{port}
"""

KAFKA_SAMPLE_SOURCE = """\
name=local-file-source
connector.class=FileStreamSource
tasks.max=1
file={file}
topic={topic}
"""

KAFKA_SAMPLE_SINK = """\
name=local-file-sink
connector.class=FileStreamSink
tasks.max=1
file={file}
topics={topic}
"""


def sample_lines(count: int) -> list[str]:
    """Lines that exercise JSON escaping: quotes, backslashes, tabs, non-ASCII."""
    return [f'line {i} "quoted" back\\slash\ttab ünïcödé €{i % 7}' for i in range(count)]


def line_count(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def read_topic(bootstrap: str, topic: str, expected: int, timeout_s: float = 60) -> list:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"check-{topic}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages = []
    import time

    deadline = time.monotonic() + timeout_s
    while len(messages) < expected and time.monotonic() < deadline:
        for message in consumer.consume(1000, 1.0):
            if message.error() is None:
                messages.append(message)
    consumer.close()
    return messages


def expected_value(line: str, converter: str) -> bytes:
    """What Apache Kafka's converter writes for a FileStreamSource line."""
    if converter == "string":
        return line.encode()
    payload = orjson.dumps(line)
    if converter == "json-schemas":
        return b'{"schema":{"type":"string","optional":false},"payload":' + payload + b"}"
    return payload


@pytest.mark.parametrize("converter", ["string", "json-schemas", "json-no-schemas"])
def test_copies_a_file_through_a_topic_identically(
    tmp_path, kafka_cluster, unique_topic, converter
):
    lines = sample_lines(LINES)
    source_file = tmp_path / "test.txt"
    source_file.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    output = tmp_path / "test.sink.txt"
    port = free_port()
    worker_text = KAFKA_SAMPLE_WORKER.format(
        bootstrap=kafka_cluster.bootstrap_servers,
        schemas="true" if converter == "json-schemas" else "false",
        offsets=tmp_path / "connect.offsets",
        port=port,
    )
    if converter == "string":
        worker_text = worker_text.replace(
            "org.apache.kafka.connect.json.JsonConverter",
            "org.apache.kafka.connect.storage.StringConverter",
        )
    worker_file = tmp_path / "connect-standalone.properties"
    worker_file.write_text(worker_text)
    source = tmp_path / "connect-file-source.properties"
    source.write_text(KAFKA_SAMPLE_SOURCE.format(file=source_file, topic=unique_topic))
    sink = tmp_path / "connect-file-sink.properties"
    sink.write_text(KAFKA_SAMPLE_SINK.format(file=output, topic=unique_topic))

    with StandaloneWorker(tmp_path, worker_file, [source, sink], rest_port=port) as worker:
        worker.wait_for(
            lambda: line_count(output) >= LINES, timeout_s=240, what=f"{LINES} lines in the output"
        )
    assert output.read_text(encoding="utf-8").splitlines() == lines

    messages = read_topic(kafka_cluster.bootstrap_servers, unique_topic, LINES)
    assert len(messages) == LINES
    assert [m.value() for m in messages[:1000]] == [
        expected_value(line, converter) for line in lines[:1000]
    ]
    assert all(
        m.value() == expected_value(line, converter)
        for m, line in zip(messages, lines, strict=True)
    )
    # FileStreamSource records have no key; every converter writes a null key as null.
    assert all(m.key() is None for m in messages[:100])


def _copy_job(tmp_path: Path, bootstrap: str, topic: str, lines: list[str], **worker_extra):
    """A file source and a file sink through ``topic``, with String converters: the input file,
    the output path, the worker settings and the two connector configs."""
    source_file = tmp_path / "in.txt"
    source_file.write_text("".join(line + "\n" for line in lines))
    output = tmp_path / "out.txt"
    worker_props = {
        "bootstrap.servers": bootstrap,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": tmp_path / "offsets",
        **worker_extra,
    }
    connectors = [
        {
            "name": "src",
            "connector.class": "FileStreamSource",
            "file": source_file,
            "topic": topic,
            "batch.size": 500,
        },
        {"name": "snk", "connector.class": "FileStreamSink", "file": output, "topics": topic},
    ]
    return source_file, output, worker_props, connectors


def test_sigkill_mid_stream_then_restart_loses_no_line(tmp_path, kafka_cluster, unique_topic):
    count = 300_000
    lines = [f"record {i:07d}" for i in range(count)]
    _, output, worker_props, connectors = _copy_job(
        tmp_path,
        kafka_cluster.bootstrap_servers,
        unique_topic,
        lines,
        **{
            "offset.flush.interval.ms": 500,
            # The killed worker's consumer stays in the group until its session times out; the
            # restarted sink can only take its partition over after that.
            "consumer.session.timeout.ms": 6000,
        },
    )
    first = StandaloneWorker(tmp_path, worker_props, connectors, name="first").start()
    first.wait_for(lambda: line_count(output) >= 20_000, what="the copy to be under way")
    first.kill()
    copied_before_kill = line_count(output)
    assert copied_before_kill < count, (
        "the pipeline finished before the kill; the test proves nothing"
    )

    with StandaloneWorker(tmp_path, worker_props, connectors, name="second") as second:
        second.wait_for(lambda: _distinct_lines(output) >= count, timeout_s=240, what="every line")

    seen = output.read_text().splitlines()
    first_occurrences = list(dict.fromkeys(seen))
    assert first_occurrences == lines  # nothing lost, first copies in order
    # Duplicates come only from the intervals that were not committed when the worker died:
    # a contiguous replay by the source and one by the sink, never scattered lines.
    position_of = {line: i for i, line in enumerate(lines)}
    duplicate_positions = [position_of[line] for line in _duplicates(seen)]
    assert _contiguous_runs(sorted(set(duplicate_positions))) <= 2


def test_sigterm_then_restart_gives_no_duplicates(tmp_path, kafka_cluster, unique_topic):
    count = 300_000
    lines = [f"entry {i:07d}" for i in range(count)]
    source_file, output, worker_props, connectors = _copy_job(
        tmp_path,
        kafka_cluster.bootstrap_servers,
        unique_topic,
        lines,
        # Only the commit on shutdown can save the positions.
        **{"offset.flush.interval.ms": 60000},
    )
    first = StandaloneWorker(tmp_path, worker_props, connectors, name="first").start()
    first.wait_for(lambda: line_count(output) >= 10_000, what="the copy to be under way")
    assert first.stop() == 0
    assert line_count(output) < count, (
        "the pipeline finished before SIGTERM; the test proves nothing"
    )

    more = [f"after restart {i}" for i in range(1000)]
    with open(source_file, "a") as f:
        f.write("".join(line + "\n" for line in more))
    with StandaloneWorker(tmp_path, worker_props, connectors, name="second") as second:
        second.wait_for(
            lambda: line_count(output) >= count + len(more), timeout_s=240, what="every line"
        )
    assert output.read_text().splitlines() == lines + more


def _distinct_lines(path: Path) -> int:
    try:
        return len(set(path.read_text().splitlines()))
    except FileNotFoundError:
        return 0


def _duplicates(seen: list[str]) -> list[str]:
    counted: set[str] = set()
    out = []
    for line in seen:
        if line in counted:
            out.append(line)
        counted.add(line)
    return out


def _contiguous_runs(positions: list[int]) -> int:
    runs = 0
    previous = None
    for position in positions:
        if previous is None or position != previous + 1:
            runs += 1
        previous = position
    return runs
