"""A RetriableException from SourceTask.poll() is retried, as Kafka's WorkerSourceTask does;
any other exception still fails the task."""

from __future__ import annotations

import threading

import pytest
from kconnect.api.errors import ConnectException, RetriableException
from kconnect.runtime.worker.source_task_runner import SourceTaskRunner


class _FlakyTask:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def poll(self):
        self.calls += 1
        if self.calls == 1:
            raise self.error
        return ["record"]


def _runner(task: _FlakyTask) -> SourceTaskRunner:
    runner = SourceTaskRunner.__new__(SourceTaskRunner)  # only what _poll uses
    runner.task = task
    runner.id = "flaky-0"
    runner._stopping = threading.Event()  # not stopping
    return runner


def test_a_retriable_poll_failure_returns_nothing_and_the_next_poll_runs():
    task = _FlakyTask(RetriableException("database busy"))
    runner = _runner(task)
    assert runner._poll() is None
    assert runner._poll() == ["record"]
    assert task.calls == 2


def test_any_other_poll_failure_fails_the_task():
    runner = _runner(_FlakyTask(ConnectException("broken")))
    with pytest.raises(ConnectException, match="broken"):
        runner._poll()
