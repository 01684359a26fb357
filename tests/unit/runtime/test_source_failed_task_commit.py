"""When a source task fails (poll(), a transform, a converter), the offsets of the records Kafka
already took are still committed, as Kafka's WorkerSourceTask does, so a restart does not read
them again; after a failed send nothing is committed."""

from __future__ import annotations

import threading

import pytest
from kconnect.api.errors import ConnectException
from kconnect.runtime.states import TargetState
from kconnect.runtime.worker.source_task_runner import SourceTaskRunner


class _Producer:
    def poll(self, timeout: float) -> int:
        return 0

    def flush(self, timeout: float) -> int:
        return 0  # everything delivered


class _OffsetWriter:
    def __init__(self) -> None:
        self.pending: dict = {}
        self.committed: dict = {}

    def snapshot(self) -> dict:
        taken, self.pending = self.pending, {}
        return taken

    def restore(self, snapshot: dict) -> None:
        self.pending = {**snapshot, **self.pending}

    def commit(self, snapshot: dict) -> None:
        self.committed.update(snapshot)


class _Metrics:
    def polled(self, *args: object) -> None: ...
    def commit_succeeded(self, *args: object) -> None: ...
    def commit_failed(self, *args: object) -> None: ...


class _FailsOnSecondPoll:
    def __init__(self) -> None:
        self.polls = 0

    def poll(self):
        self.polls += 1
        if self.polls == 1:
            return [{"position": 10}]
        raise ConnectException("source system broke")

    def commit(self) -> None: ...


def _runner() -> SourceTaskRunner:
    runner = SourceTaskRunner.__new__(SourceTaskRunner)  # only what execute() uses
    runner.id = "failing-0"
    runner.task = _FailsOnSecondPoll()
    runner.producer = _Producer()
    runner.offset_writer = _OffsetWriter()
    runner.metrics = _Metrics()
    runner.flush_interval_s = 3600.0
    runner.flush_timeout_s = 5.0
    runner.target_state = TargetState.STARTED
    runner._stopping = threading.Event()
    runner._send_error = None

    def send(records):
        runner.offset_writer.pending["partition"] = records[-1]["position"]

    runner._send = send
    return runner


def test_the_offsets_of_delivered_records_are_committed_when_poll_fails():
    runner = _runner()
    with pytest.raises(ConnectException, match="source system broke"):
        runner.execute()
    assert runner.offset_writer.committed == {"partition": 10}


def test_nothing_is_committed_after_a_failed_send():
    runner = _runner()

    def send_fails(records):
        runner.offset_writer.pending["partition"] = records[-1]["position"]
        runner._send_error = (RuntimeError("broker refused"), "send failed")
        raise ConnectException("Unrecoverable exception from producer send callback")

    runner._send = send_fails
    with pytest.raises(ConnectException, match="Unrecoverable"):
        runner.execute()
    assert runner.offset_writer.committed == {}
