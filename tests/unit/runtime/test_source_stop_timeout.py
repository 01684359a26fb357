"""A source task whose stop() blocks must not hang the caller (the herder's thread)."""

from __future__ import annotations

import threading
import time

from kconnect.runtime.worker.source_task_runner import SourceTaskRunner


class _BlockingStopTask:
    def __init__(self) -> None:
        self.release = threading.Event()

    def stop(self) -> None:
        self.release.wait(30)


def test_a_blocking_task_stop_returns_after_the_graceful_timeout():
    runner = SourceTaskRunner.__new__(SourceTaskRunner)  # only what on_stop_requested uses
    runner.task = _BlockingStopTask()
    runner.worker_config = {"task.shutdown.graceful.timeout.ms": 300}
    runner.id = "blocking-0"
    runner._task_stop_lock = threading.Lock()
    runner._task_stop_called = False
    started = time.monotonic()
    runner.on_stop_requested()
    elapsed = time.monotonic() - started
    runner.task.release.set()
    assert 0.25 <= elapsed < 5


def test_the_plugins_stop_is_called_once():
    calls = []

    class _CountingTask:
        def stop(self) -> None:
            calls.append(1)

    runner = SourceTaskRunner.__new__(SourceTaskRunner)
    runner.task = _CountingTask()
    runner.worker_config = {}
    runner.id = "counting-0"
    runner._task_stop_lock = threading.Lock()
    runner._task_stop_called = False
    runner.on_stop_requested()
    runner.stop_task_once()
    assert calls == [1]
