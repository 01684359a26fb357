"""VerifiableSource and VerifiableSink without a broker: task configs, resuming from stored
offsets, the records produced, the throttle, what each task reports and where, and the helper
that finds gaps and duplicates in the reports."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from kconnect.api.data import Schema, Struct
from kconnect.api.errors import ConfigException, ConnectException
from kconnect.api.records import SinkRecord, SourceRecord
from kconnect.api.storage import OffsetStorageReader, freeze
from kconnect.api.task import RecordMetadata, SourceTaskContext
from kconnect.api.topic_partition import TopicPartition
from kconnect.plugins import registry
from kconnect.testing.verifiable import verifiable_seqnos
from kconnect_builtins.verifiable.output import JsonLinesOutput
from kconnect_builtins.verifiable.sink import VerifiableSinkConnector, VerifiableSinkTask
from kconnect_builtins.verifiable.source import (
    COMPLETE_VALUE_SCHEMA,
    MAX_BATCH,
    MAX_WAIT_S,
    Throttle,
    VerifiableSourceConnector,
    VerifiableSourceTask,
)


class StoredOffsets(OffsetStorageReader):
    def __init__(self, offsets: Mapping[int, dict[str, Any]] | None = None):
        self._offsets = {freeze({"id": task}): o for task, o in (offsets or {}).items()}

    def offsets(self, partitions: Iterable[Mapping[str, Any]]) -> dict[Any, dict[str, Any]]:
        keys = [freeze(p) for p in partitions]
        return {k: self._offsets[k] for k in keys if k in self._offsets}


class Context(SourceTaskContext):
    def __init__(self, reader: OffsetStorageReader):
        self._reader = reader

    def offset_storage_reader(self) -> OffsetStorageReader:
        return self._reader


def source_task(
    stored: Mapping[int, dict[str, Any]] | None = None, **props: Any
) -> VerifiableSourceTask:
    config = {"name": "verifiable-src", "id": "0", "topic": "t", "throughput": "-1", **props}
    task = VerifiableSourceTask()
    task.initialize(Context(StoredOffsets(stored)))
    task.start({k: str(v) for k, v in config.items()})
    return task


def read_lines(path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- connectors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, cls",
    [
        ("VerifiableSource", VerifiableSourceConnector),
        ("org.apache.kafka.connect.tools.VerifiableSourceConnector", VerifiableSourceConnector),
        ("VerifiableSink", VerifiableSinkConnector),
        ("org.apache.kafka.connect.tools.VerifiableSinkConnector", VerifiableSinkConnector),
    ],
)
def test_the_connectors_are_found_by_entry_point_and_java_names(name, cls):
    assert registry().find("connector", name) is cls


@pytest.mark.parametrize("connector_class", [VerifiableSourceConnector, VerifiableSinkConnector])
def test_each_task_gets_the_connector_config_and_its_own_id(connector_class):
    props = {
        "name": "v",
        "connector.class": connector_class.__name__,
        "tasks.max": "3",
        "topic": "t",
        "topics": "t",
        "throughput": "10",
    }
    connector = connector_class()
    connector.start(props)
    configs = connector.task_configs(3)
    assert [c["id"] for c in configs] == ["0", "1", "2"]
    assert all({k: v for k, v in c.items() if k != "id"} == props for c in configs)


def test_source_config_requires_topic_and_throughput():
    values = {v.name: v for v in VerifiableSourceConnector().validate({}).config_values}
    assert values["topic"].error_messages == [
        'Missing required configuration "topic" which has no default value.'
    ]
    assert values["throughput"].error_messages == [
        'Missing required configuration "throughput" which has no default value.'
    ]
    with pytest.raises(ConfigException):
        VerifiableSourceConnector().start({"topic": "t", "throughput": "fast"})


def test_output_file_is_documented_in_both_config_defs():
    for connector in (VerifiableSourceConnector(), VerifiableSinkConnector()):
        key = connector.config().config_keys["output.file"]
        assert key.default_value == ""
        assert "JSON line" in key.documentation


def test_source_alter_offsets_accepts_only_the_task_layout():
    connector = VerifiableSourceConnector()
    assert connector.alter_offsets({}, {freeze({"id": 1}): {"seqno": 5}, freeze({"id": 2}): None})
    with pytest.raises(ConnectException, match="'id'"):
        connector.alter_offsets({}, {freeze({"filename": "x"}): {"seqno": 5}})
    with pytest.raises(ConnectException, match="non-negative integer"):
        connector.alter_offsets({}, {freeze({"id": 1}): {"seqno": "5"}})


# -- source task ---------------------------------------------------------------------------------


def test_a_task_without_stored_offset_starts_at_zero_with_kafkas_record_layout():
    task = source_task(id=2, output_file=None)
    records = task.poll()
    assert records is not None and len(records) == MAX_BATCH
    first = records[0]
    assert first.source_partition == {"id": 2}
    assert first.source_offset == {"seqno": 0}
    assert first.topic == "t"
    assert (first.key_schema, first.key) == (Schema.INT32_SCHEMA, 2)
    assert (first.value_schema, first.value) == (Schema.INT64_SCHEMA, 0)
    assert [r.value for r in records] == list(range(MAX_BATCH))
    assert [r.value for r in task.poll() or []][:2] == [MAX_BATCH, MAX_BATCH + 1]


def test_a_task_resumes_after_the_stored_seqno():
    task = source_task(stored={0: {"seqno": 41}, 1: {"seqno": 7}})
    records = task.poll() or []
    assert [r.source_offset["seqno"] for r in records[:3]] == [42, 43, 44]
    assert [r.value for r in records[:3]] == [42, 43, 44]
    other = source_task(stored={0: {"seqno": 41}, 1: {"seqno": 7}}, id=1)
    assert (other.poll() or [])[0].value == 8


def test_a_stored_offset_without_integer_seqno_fails_the_task():
    with pytest.raises(ConnectException, match="seqno"):
        source_task(stored={0: {"position": 3}})


def test_complete_record_data_sends_a_struct():
    task = source_task(stored={0: {"seqno": 9}}, **{"complete.record.data": "true"})
    record = (task.poll() or [])[0]
    assert record.value_schema == COMPLETE_VALUE_SCHEMA
    assert isinstance(record.value, Struct)
    assert {k: v for k, v in record.value.to_dict().items() if k != "time_ms"} == {
        "name": "verifiable-src",
        "task": 0,
        "topic": "t",
        "seqno": 10,
    }


def test_the_throttle_spreads_records_evenly_and_catches_up():
    throttle = Throttle(10, start=0.0)
    assert throttle.due(0, 0.0) == 1  # the first at once
    assert throttle.due(1, 0.05) == 0
    assert throttle.wait_s(1, 0.05) == pytest.approx(0.05)
    assert throttle.due(1, 0.125) == 1
    assert throttle.due(2, 1.0) == 9  # fell behind (e.g. paused): catches up
    assert Throttle(-1, 0.0).due(10**9, 1.0) == MAX_BATCH  # unlimited
    assert Throttle(0, 0.0).due(0, 10.0) == 0  # none at all
    assert Throttle(0, 0.0).wait_s(0, 5.0) == float("inf")


def test_a_throttled_task_returns_about_the_rate(tmp_path):
    task = source_task(throughput=50)
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < 0.5:
        sent += len(task.poll() or [])
    # 50/s over half a second: 25 or 26 (the first is due at once), never a burst.
    assert 20 <= sent <= 27


def test_stop_ends_a_poll_that_waits_for_throughput():
    task = source_task(throughput=0)
    threading.Timer(0.1, task.stop).start()
    start = time.monotonic()
    assert task.poll() is None
    assert time.monotonic() - start < MAX_WAIT_S * 0.8  # woken by stop(), not by the timeout


def test_source_reports_acknowledged_records_to_the_output_file(tmp_path, capsys):
    output = tmp_path / "source.jsonl"
    task = source_task(**{"output.file": output, "throughput": 1000})
    records = task.poll() or []
    assert records
    assert not output.exists() or output.read_text() == ""  # polled is not reported
    for i, record in enumerate(records):
        task.commit_record(record, RecordMetadata("t", 0, 100 + i, None))
    task.commit_record(records[0], None)  # dropped by a transform: reported, no Kafka offset
    lines = read_lines(output)
    assert [line["seqno"] for line in lines] == [r.value for r in records] + [0]
    assert lines[0].keys() == {
        "name",
        "task",
        "topic",
        "time_ms",
        "seqno",
        "committed",
        "partition",
        "offset",
    }
    assert lines[0]["name"] == "verifiable-src" and lines[0]["task"] == 0
    assert lines[0]["committed"] is True and lines[0]["offset"] == 100
    assert lines[-1]["offset"] is None
    assert capsys.readouterr().out == ""


def test_source_prints_to_stdout_as_kafka_when_no_output_file(capsys):
    task = source_task(throughput=1000)
    records = task.poll() or []
    task.commit_record(records[0], RecordMetadata("t", 0, 0, None))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["seqno"] for line in lines] == [r.value for r in records] + [0]
    assert "committed" not in lines[0]
    assert lines[-1]["committed"] is True


def test_output_file_writes_after_stop_still_land(tmp_path):
    # The runtime delivers acknowledgements after a source task's stop().
    output = tmp_path / "source.jsonl"
    task = source_task(**{"output.file": output})
    records = task.poll() or []
    task.stop()
    task.commit_record(records[0], RecordMetadata("t", 0, 0, None))
    assert [line["seqno"] for line in read_lines(output)] == [0]


def test_an_output_file_that_cannot_be_opened_fails_the_task(tmp_path):
    with pytest.raises(ConnectException, match="output file"):
        source_task(**{"output.file": tmp_path / "missing-dir" / "out.jsonl"})
    with pytest.raises(ConnectException, match="output file"):
        sink_task(**{"output.file": tmp_path / "missing-dir" / "out.jsonl"})


@pytest.mark.parametrize("task_class", [VerifiableSourceTask, VerifiableSinkTask])
def test_stop_after_a_failed_start_is_harmless(task_class):
    # The runtime stops a task whose start() raised.
    task_class().stop()


# -- sink task -----------------------------------------------------------------------------------


def sink_task(**props: Any) -> VerifiableSinkTask:
    task = VerifiableSinkTask()
    task.start({"name": "verifiable-sink", "id": "1", **{k: str(v) for k, v in props.items()}})
    return task


def sink_record(task: Any, seqno: Any, offset: int, partition: int = 0) -> SinkRecord:
    return SinkRecord("t", partition, None, task, None, seqno, offset)


def test_sink_reports_records_only_when_flush_covers_their_offsets(tmp_path, capsys):
    output = tmp_path / "sink.jsonl"
    task = sink_task(**{"output.file": output})
    task.put([sink_record(0, 0, 10), sink_record(0, 1, 11), sink_record(1, 0, 20, partition=1)])
    assert not output.exists() or output.read_text() == ""
    task.flush({TopicPartition("t", 0): 11})  # only offset 10 is below the committed offset
    lines = read_lines(output)
    assert [(line["task"], line["seqno"], line["offset"]) for line in lines] == [(0, 0, 10)]
    assert lines[0] == {
        "name": "verifiable-sink",
        "task": 0,
        "sinkTask": 1,
        "topic": "t",
        "partition": 0,
        "time_ms": lines[0]["time_ms"],
        "seqno": 0,
        "offset": 10,
        "flushed": True,
    }
    task.flush({TopicPartition("t", 0): 12, TopicPartition("t", 1): 21})
    assert [(line["task"], line["seqno"]) for line in read_lines(output)] == [
        (0, 0),
        (0, 1),
        (1, 0),
    ]
    task.flush({TopicPartition("t", 0): 12, TopicPartition("t", 1): 21})  # nothing new
    assert len(read_lines(output)) == 3
    assert capsys.readouterr().out == ""


def test_sink_drops_unflushed_records_of_closed_partitions(tmp_path):
    output = tmp_path / "sink.jsonl"
    task = sink_task(**{"output.file": output})
    task.put([sink_record(0, 0, 10), sink_record(1, 0, 20, partition=1)])
    task.close([TopicPartition("t", 1)])
    task.flush({TopicPartition("t", 0): 11, TopicPartition("t", 1): 21})
    assert [line["task"] for line in read_lines(output)] == [0]
    task.stop()


def test_sink_reads_the_numbers_whatever_the_converter():
    task = sink_task(**{"output.file": ""})
    struct = Struct(COMPLETE_VALUE_SCHEMA)
    for name, value in {"name": "n", "task": 2, "topic": "t", "time_ms": 1, "seqno": 7}.items():
        struct.put(name, value)
    task.put(
        [
            sink_record("3", "12", 0),  # StringConverter
            sink_record(b"4", b"5", 1),  # ByteArrayConverter
            sink_record(None, struct, 2),  # complete record data with schemas
            sink_record(None, {"task": 5, "seqno": 6}, 3),  # ... and without
        ]
    )
    assert [(e["task"], e["seqno"]) for _, _, e in task.unflushed] == [
        (3, 12),
        (4, 5),
        (2, 7),
        (5, 6),
    ]


def test_sink_prints_put_and_flushed_lines_to_stdout_as_kafka(capsys):
    task = sink_task()
    task.put([sink_record(0, 0, 10)])
    task.flush({TopicPartition("t", 0): 11})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line.get("flushed") for line in lines] == [None, True]
    assert lines[0]["seqno"] == lines[1]["seqno"] == 0


# -- the output file -----------------------------------------------------------------------------


def test_many_writers_appending_to_one_file_keep_every_line_whole(tmp_path):
    path = tmp_path / "shared.jsonl"
    writers, per_writer = 8, 2000
    padding = "x" * 200  # long lines, so torn or interleaved writes would show

    def append(writer: int) -> None:
        output = JsonLinesOutput(str(path))  # a descriptor of its own, as another task has
        for start in range(0, per_writer, 50):
            output.write(
                {"task": writer, "seqno": s, "committed": True, "pad": padding}
                for s in range(start, start + 50)
            )
        output.close()

    threads = [threading.Thread(target=append, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = read_lines(path)
    assert len(lines) == writers * per_writer
    for writer in range(writers):
        assert [line["seqno"] for line in lines if line["task"] == writer] == list(
            range(per_writer)
        )


def test_writing_after_close_is_an_error(tmp_path):
    output = JsonLinesOutput(str(tmp_path / "out.jsonl"))
    output.close()
    output.close()  # idempotent
    with pytest.raises(ConnectException, match="closed"):
        output.write([{"a": 1}])


# -- the helper ----------------------------------------------------------------------------------


def test_the_helper_finds_gaps_and_duplicates_per_task(tmp_path):
    first = tmp_path / "worker-1.jsonl"
    second = tmp_path / "worker-2.jsonl"

    def line(task: int, seqno: int, name: str = "src", **flag: bool) -> str:
        return json.dumps({"name": name, "task": task, "seqno": seqno, **flag}) + "\n"

    first.write_text(
        "[2024-01-01 INFO] a log line, not JSON\n"
        + "".join(line(0, s, committed=True) for s in (0, 1, 2, 4))
        + line(0, 3)  # a polled-only line (stdout): does not count
        + line(1, 0, committed=True)
        + line(9, 0, name="other", committed=True)
        + '{"name": "src", "task": 0, "seq'  # torn last line of a killed writer
    )
    second.write_text(line(0, 2, flushed=True) + line(1, 1, flushed=True))

    seen = verifiable_seqnos([first, second, tmp_path / "absent.jsonl"], connector="src")
    assert sorted(seen) == [0, 1]
    assert seen[0].seqnos == [0, 1, 2, 4]
    assert seen[0].gaps == [3]
    assert seen[0].duplicates == [2]
    assert seen[0].count == 5
    assert (seen[1].seqnos, seen[1].gaps, seen[1].duplicates) == ([0, 1], [], [])
    assert 9 in verifiable_seqnos(first)
    assert verifiable_seqnos(first, connector="src", start=1)[0].gaps == [3]


def test_the_helper_reads_what_the_tasks_write(tmp_path):
    source_out, sink_out = tmp_path / "source.jsonl", tmp_path / "sink.jsonl"
    source = source_task(**{"output.file": source_out, "throughput": 1000})
    records: list[SourceRecord] = source.poll() or []
    for i, record in enumerate(records):
        source.commit_record(record, RecordMetadata("t", 0, i, None))
    sink = sink_task(**{"output.file": sink_out})
    sink.put([sink_record(r.key, r.value, i) for i, r in enumerate(records)])
    sink.flush({TopicPartition("t", 0): len(records)})
    produced = verifiable_seqnos(source_out)[0]
    consumed = verifiable_seqnos(sink_out)[0]
    assert produced.seqnos == consumed.seqnos == [r.value for r in records]
    assert produced.gaps == consumed.gaps == []
