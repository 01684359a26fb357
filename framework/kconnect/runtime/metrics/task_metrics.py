"""The counters one task keeps: Kafka Connect's connector-task, source-task, sink-task and
task-error metric groups, as plain numbers on an object the task runner owns.

Invariant: the record path pays a few attribute updates per *batch*, never per record, and no
lock: each counter has one writer, the task thread (the error counters: whichever thread runs
the error handler, which is the task thread too). A scrape reads them from another thread
without stopping the task; a read may be one batch behind, never torn (Python ints and floats
are replaced whole). Rates are left to Prometheus (``rate()`` over the ``_total`` counters);
times are kept as count, sum and max, since the task started.

The numbers die with the runner: a restarted task starts from zero, and a removed task has no
runner left for the collector to find, so its series go away (see ``collector``).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

from kconnect.runtime.metrics.client_statistics import ClientStatistics


class TimeStats:
    """How many, how long in all, and the longest: a Prometheus summary plus a max gauge."""

    __slots__ = ("count", "total_s", "max_s")

    def __init__(self) -> None:
        self.count = 0
        self.total_s = 0.0
        self.max_s = 0.0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.total_s += seconds
        if seconds > self.max_s:
            self.max_s = seconds


class StateClock:
    """Time a task spent RUNNING and PAUSED since it started (Kafka's running-ratio and
    pause-ratio). Moved on each state change, which is rare; read at scrape time."""

    __slots__ = ("_since", "_state", "_started", "running_s", "paused_s")

    def __init__(self) -> None:
        self._since = 0.0
        self._started: float | None = None
        self._state = ""
        self.running_s = 0.0
        self.paused_s = 0.0

    def change(self, state: str, now: float) -> None:
        if self._started is None:
            self._started = now
        self._account(now)
        self._state = state
        self._since = now

    def _account(self, now: float) -> None:
        spent = now - self._since
        if self._state == "RUNNING":
            self.running_s += spent
        elif self._state == "PAUSED":
            self.paused_s += spent

    def ratios(self, now: float) -> tuple[float, float]:
        """(running, paused) as fractions of the time since the first state change."""
        if self._started is None or now <= self._started:
            return 0.0, 0.0
        total = now - self._started
        running, paused = self.running_s, self.paused_s
        spent = now - self._since
        if self._state == "RUNNING":
            running += spent
        elif self._state == "PAUSED":
            paused += spent
        return running / total, paused / total


class ErrorMetrics:
    """Kafka's task-error group. An error reporter of the task's ErrorHandler (called once per
    record that failed, after its retries) for record errors and the last error's time; the
    handler's own counters give failures, skips and retries."""

    def __init__(self) -> None:
        self.record_errors = 0
        self.last_error_timestamp_s = 0.0

    # -- ErrorReporter ---------------------------------------------------------------------------
    def report(self, context: Any) -> Future[Any] | None:
        self.record_errors += 1
        self.last_error_timestamp_s = time.time()
        return None

    def flush(self, timeout_s: float) -> None:
        pass

    def close(self) -> None:
        pass


class TaskMetrics:
    """What every task counts: state times, offset commits, batch sizes, errors."""

    def __init__(self) -> None:
        self.state_clock = StateClock()
        self.batch_size = TimeStats()  # "seconds" hold record counts here: same three numbers
        self.offset_commit = TimeStats()
        self.offset_commit_failures = 0
        self.errors = ErrorMetrics()
        self.client = ClientStatistics()
        self._lock = threading.Lock()

    def state_changed(self, state: str) -> None:
        with self._lock:  # the herder thread and the task thread both report states
            self.state_clock.change(state, time.monotonic())

    def ratios(self) -> tuple[float, float]:
        with self._lock:
            return self.state_clock.ratios(time.monotonic())

    def commit_succeeded(self, seconds: float) -> None:
        self.offset_commit.add(seconds)

    def commit_failed(self) -> None:
        self.offset_commit_failures += 1


class SourceTaskMetrics(TaskMetrics):
    """Kafka's source-task-metrics: records polled and written, poll batch time."""

    def __init__(self) -> None:
        super().__init__()
        self.records_polled = 0
        self.records_written = 0
        self.poll_batch = TimeStats()

    def polled(self, records: int, seconds: float) -> None:
        """One poll() returned ``records`` records after ``seconds``."""
        self.records_polled += records
        self.poll_batch.add(seconds)
        self.batch_size.add(records)


class SinkTaskMetrics(TaskMetrics):
    """Kafka's sink-task-metrics: records read and sent, put batch time, commits."""

    def __init__(self) -> None:
        super().__init__()
        self.records_read = 0
        self.records_sent = 0
        self.put_batch = TimeStats()
        self.offset_commit_completions = 0
        self.offset_commit_skips = 0

    def put_done(self, records: int, seconds: float) -> None:
        """put() took a batch of ``records`` records in ``seconds``."""
        self.records_sent += records
        self.put_batch.add(seconds)
        self.batch_size.add(records)
