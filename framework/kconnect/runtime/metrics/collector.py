"""Kafka Connect's metric groups as Prometheus metric families, read at scrape time.

Names follow Prometheus' conventions: ``kafka_connect_<group>_<metric>``, with the group and
metric names of Kafka Connect (``connector-task-metrics`` / ``offset-commit-success`` ->
``kafka_connect_connector_task_offset_commit_success_total``), counters ending in ``_total``,
times in seconds (summaries: ``_count`` and ``_sum``; the longest as a ``_max_seconds`` gauge),
Kafka's rates left to ``rate()``. Series carry ``connector`` and, for tasks, ``task`` labels.

Invariant: nothing here keeps state per connector or task. ``collect()`` walks the connectors and
task runners the worker holds at that moment, so a removed task's series are gone at the next
scrape and a restarted task's are never doubled (one runner per task id). It reads counters the
task threads write without locks; see ``task_metrics``.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
    StateSetMetricFamily,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from kconnect.runtime.metrics.task_metrics import (
    SinkTaskMetrics,
    SourceTaskMetrics,
    TaskMetrics,
    TimeStats,
)

PREFIX = "kafka_connect_"
#: the states a status metric can show, in Kafka's lower-case words
STATUSES = ("unassigned", "running", "paused", "stopped", "failed", "restarting", "destroyed")
_TASK = ("connector", "task")


def _states(current: str) -> dict[str, bool]:
    current = current.lower()
    return {state: state == current for state in STATUSES}


class ConnectCollector(Collector):
    """Reads one worker's metrics (``WorkerMetrics``) when scraped."""

    def __init__(self, metrics: Any):
        self.metrics = metrics
        self._versions: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    def describe(self) -> list[Metric]:
        # Families change with the tasks running; registering must not scrape.
        return []

    def collect(self) -> Iterator[Metric]:
        worker = self.metrics.worker
        connectors = list(worker.running_connectors())
        runners = [
            runner
            for runner in (worker.task_runner(task_id) for task_id in worker.running_tasks())
            if runner is not None
        ]
        yield from self._worker(connectors, runners)
        yield from self._rebalance()
        yield from self._connectors(connectors)
        yield from self._tasks(runners)

    # -- connect-worker-metrics ------------------------------------------------------------------
    def _worker(self, connectors: list[Any], runners: list[Any]) -> Iterator[Metric]:
        group = PREFIX + "worker_"
        yield GaugeMetricFamily(
            group + "connector_count",
            "The number of connectors run in this worker.",
            len(connectors),
        )
        yield GaugeMetricFamily(
            group + "task_count", "The number of tasks run in this worker.", len(runners)
        )
        for kind, counters in (
            ("connector", self.metrics.connector_startups),
            ("task", self.metrics.task_startups),
        ):
            for outcome, value in (
                ("attempts", counters.attempts),
                ("success", counters.successes),
                ("failure", counters.failures),
            ):
                yield CounterMetricFamily(
                    f"{group}{kind}_startup_{outcome}",
                    f"The total number of {kind} starts {outcome_words(outcome)} on this worker.",
                    value,
                )
        by_state = GaugeMetricFamily(
            group + "connector_task_count",
            "The number of tasks of a connector run in this worker, by status.",
            labels=["connector", "status"],
        )
        counts: dict[str, dict[str, int]] = {}
        for runner in runners:
            states = counts.setdefault(runner.id.connector, dict.fromkeys(STATUSES, 0))
            states[runner.state.value.lower()] = states.get(runner.state.value.lower(), 0) + 1
        for connector, states in sorted(counts.items()):
            for state, count in states.items():
                by_state.add_metric([connector, state], count)
        yield by_state

    # -- connect-worker-rebalance-metrics --------------------------------------------------------
    def _rebalance(self) -> Iterator[Metric]:
        rebalance = self.metrics.rebalance
        if rebalance.epoch < 0 and rebalance.completed == 0:
            return  # standalone, or not joined yet: no group, no rebalance metrics
        group = PREFIX + "worker_rebalance_"
        yield CounterMetricFamily(
            group + "completed_rebalances",
            "The total number of rebalances completed by this worker.",
            rebalance.completed,
        )
        yield GaugeMetricFamily(
            group + "epoch", "The epoch or generation number of this worker.", rebalance.epoch
        )
        yield GaugeMetricFamily(
            group + "rebalancing",
            "Whether this worker is currently rebalancing.",
            int(rebalance.rebalancing),
        )
        since = rebalance.seconds_since_last()
        if since is not None:
            yield GaugeMetricFamily(
                group + "time_since_last_rebalance_seconds",
                "The time since this worker completed the most recent rebalance.",
                since,
            )
        yield GaugeMetricFamily(
            group + "rebalance_max_time_seconds",
            "The maximum time this worker spent rebalancing.",
            rebalance.time_max_s,
        )
        info = InfoMetricFamily(group + "group", "The leader and protocol of the group.")
        info.add_metric(
            [], {"leader_name": rebalance.leader, "connect_protocol": rebalance.protocol}
        )
        yield info

    # -- connector-metrics ----------------------------------------------------------------------
    def _connectors(self, connectors: list[Any]) -> Iterator[Metric]:
        status = StateSetMetricFamily(
            PREFIX + "connector_status", "The status of the connector.", labels=["connector"]
        )
        info = InfoMetricFamily(
            PREFIX + "connector",
            "The connector's class, type and version.",
            labels=["connector"],
        )
        for running in connectors:
            status.add_metric([running.name], _states(running.state.value))
            connector = running.connector
            info.add_metric(
                [running.name],
                {
                    "connector_class": str(running.config.get("connector.class", "")),
                    "connector_type": _connector_type(connector),
                    "connector_version": self._version(connector),
                },
            )
        yield status
        yield info

    def _version(self, connector: Any) -> str:
        try:
            return self._versions[connector]
        except (KeyError, TypeError):
            pass
        try:
            version = str(connector.version() or "unknown")
        except Exception:  # noqa: BLE001 - a connector that cannot say its version is "unknown"
            version = "unknown"
        try:
            self._versions[connector] = version
        except TypeError:
            pass
        return version

    # -- connector-task-metrics, source-/sink-task-metrics, task-error-metrics ------------------
    def _tasks(self, runners: list[Any]) -> Iterator[Metric]:
        families = _TaskFamilies()
        for runner in runners:
            families.add(runner)
        yield from families.all()


def outcome_words(outcome: str) -> str:
    return {"attempts": "attempted", "success": "that succeeded", "failure": "that failed"}[outcome]


def _connector_type(connector: Any) -> str:
    from kconnect.api.connector import connector_type

    try:
        return connector_type(type(connector))
    except Exception:  # noqa: BLE001
        return "unknown"


def _summary(name: str, documentation: str) -> SummaryMetricFamily:
    return SummaryMetricFamily(name, documentation, labels=list(_TASK))


def _gauge(name: str, documentation: str, labels: tuple[str, ...] = _TASK) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=list(labels))


def _counter(name: str, documentation: str) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, labels=list(_TASK))


class _TaskFamilies:
    """The per-task families of one scrape, filled task by task."""

    def __init__(self) -> None:
        task = PREFIX + "connector_task_"
        source = PREFIX + "source_task_"
        sink = PREFIX + "sink_task_"
        errors = PREFIX + "task_error_"
        self.status = StateSetMetricFamily(
            task + "status", "The status of the connector task.", labels=list(_TASK)
        )
        self.running_ratio = _gauge(
            task + "running_ratio", "The fraction of time this task has spent in the running state."
        )
        self.pause_ratio = _gauge(
            task + "pause_ratio", "The fraction of time this task has spent in the pause state."
        )
        self.batch_size = _summary(
            task + "batch_size", "The number of records in the batches the task has processed."
        )
        self.batch_size_max = _gauge(
            task + "batch_size_max",
            "The number of records in the largest batch the task has processed.",
        )
        self.commit_time = _summary(
            task + "offset_commit_time_seconds", "The time taken by successful offset commits."
        )
        self.commit_max = _gauge(
            task + "offset_commit_max_time_seconds", "The longest time taken by an offset commit."
        )
        self.commit_success = _counter(
            task + "offset_commit_success", "The number of successful offset commits."
        )
        self.commit_failure = _counter(
            task + "offset_commit_failure", "The number of failed offset commits."
        )
        # source-task-metrics
        self.polled = _counter(
            source + "source_record_poll",
            "The number of records produced/polled (before transformation) by this task.",
        )
        self.written = _counter(
            source + "source_record_write",
            "The number of records output from the transformations and written to Kafka for this task.",
        )
        self.poll_time = _summary(
            source + "poll_batch_time_seconds",
            "The time taken by poll() calls that returned records.",
        )
        self.poll_max = _gauge(
            source + "poll_batch_max_time_seconds",
            "The longest time taken by a poll() that returned records.",
        )
        self.active = _gauge(
            source + "source_record_active_count",
            "The number of records that have been produced by this task but not yet completely written to Kafka.",
        )
        self.queue_bytes = _gauge(
            source + "producer_queue_bytes",
            "The bytes in the task producer's queues (librdkafka statistics).",
        )
        # sink-task-metrics
        self.read = _counter(
            sink + "sink_record_read", "The number of records read from Kafka by this task."
        )
        self.sent = _counter(
            sink + "sink_record_send",
            "The number of records output from the transformations and sent/put to this task.",
        )
        self.put_time = _summary(
            sink + "put_batch_time_seconds",
            "The time taken by this task to put a batch of sinks records.",
        )
        self.put_max = _gauge(
            sink + "put_batch_max_time_seconds",
            "The longest time taken by this task to put a batch of sink records.",
        )
        self.partitions = _gauge(
            sink + "partition_count", "The number of topic partitions assigned to this task."
        )
        self.completions = _counter(
            sink + "offset_commit_completion",
            "The number of offset commit completions that were completed successfully.",
        )
        self.skips = _counter(
            sink + "offset_commit_skip",
            "The number of offset commits that were skipped because the task's pre_commit() failed.",
        )
        self.sink_active = _gauge(
            sink + "sink_record_active_count",
            "The number of records that have been read from Kafka but not yet completely put to the sink.",
        )
        self.lag = _gauge(
            sink + "consumer_lag",
            "Messages between the task consumer's position and the partition's end (librdkafka statistics).",
            (*_TASK, "topic", "partition"),
        )
        self.lag_max = _gauge(
            sink + "sink_record_lag_max",
            "The largest consumer lag of the task's partitions (librdkafka statistics).",
        )
        # task-error-metrics
        self.record_errors = _counter(
            errors + "record_errors", "The number of record processing errors in this task."
        )
        self.record_failures = _counter(
            errors + "record_failures",
            "The number of record processing failures in this task, retries included.",
        )
        self.skipped = _counter(
            errors + "records_skipped", "The number of records skipped due to errors."
        )
        self.retries = _counter(errors + "retries", "The number of operations retried.")
        self.logged = _counter(errors + "errors_logged", "The number of errors that were logged.")
        self.dlq_requests = _counter(
            errors + "deadletterqueue_produce_requests",
            "The number of attempted writes to the dead letter queue.",
        )
        self.dlq_failures = _counter(
            errors + "deadletterqueue_produce_failures",
            "The number of failed writes to the dead letter queue.",
        )
        self.last_error = _gauge(
            errors + "last_error_timestamp_seconds",
            "The epoch timestamp when this task last encountered an error (0: never).",
        )

    def add(self, runner: Any) -> None:
        labels = [runner.id.connector, str(runner.id.task)]
        metrics: TaskMetrics | None = getattr(runner, "metrics", None)
        self.status.add_metric(labels, _states(runner.state.value))
        if metrics is None:
            return
        running, paused = metrics.ratios()
        self.running_ratio.add_metric(labels, running)
        self.pause_ratio.add_metric(labels, paused)
        _add_stats(self.batch_size, self.batch_size_max, labels, metrics.batch_size)
        _add_stats(self.commit_time, self.commit_max, labels, metrics.offset_commit)
        self.commit_success.add_metric(labels, metrics.offset_commit.count)
        self.commit_failure.add_metric(labels, metrics.offset_commit_failures)
        if isinstance(metrics, SourceTaskMetrics):
            self.polled.add_metric(labels, metrics.records_polled)
            self.written.add_metric(labels, metrics.records_written)
            _add_stats(self.poll_time, self.poll_max, labels, metrics.poll_batch)
            producer = getattr(runner, "producer", None)
            self.active.add_metric(labels, _queue_length(producer))
            if metrics.client.updated:
                self.queue_bytes.add_metric(labels, metrics.client.producer_queue_bytes)
        elif isinstance(metrics, SinkTaskMetrics):
            self.read.add_metric(labels, metrics.records_read)
            self.sent.add_metric(labels, metrics.records_sent)
            _add_stats(self.put_time, self.put_max, labels, metrics.put_batch)
            self.partitions.add_metric(labels, len(getattr(runner, "assignment", ())))
            self.completions.add_metric(labels, metrics.offset_commit_completions)
            self.skips.add_metric(labels, metrics.offset_commit_skips)
            self.sink_active.add_metric(labels, len(getattr(runner, "_batch", ())))
            lag = dict(metrics.client.consumer_lag)
            for (topic, partition), value in sorted(lag.items()):
                self.lag.add_metric([*labels, topic, str(partition)], value)
            if metrics.client.updated:
                self.lag_max.add_metric(labels, max(lag.values(), default=0))
        self._add_errors(labels, runner, metrics)

    def _add_errors(self, labels: list[str], runner: Any, metrics: TaskMetrics) -> None:
        handler = getattr(getattr(runner, "plugins", None), "error_handler", None)
        errors = metrics.errors
        self.record_errors.add_metric(labels, errors.record_errors)
        self.record_failures.add_metric(labels, int(getattr(handler, "total_failures", 0) or 0))
        self.skipped.add_metric(labels, int(getattr(handler, "total_skipped", 0) or 0))
        self.retries.add_metric(labels, int(getattr(handler, "total_retries", 0) or 0))
        logged = errors.record_errors if getattr(handler, "log_errors", False) else 0
        self.logged.add_metric(labels, logged)
        requests = failures = 0
        for reporter in getattr(handler, "reporters", ()):
            if hasattr(reporter, "produced") and hasattr(reporter, "failed"):
                # Written, failed, and still on their way.
                in_flight = _queue_length(getattr(reporter, "producer", None))
                requests += int(reporter.produced) + int(reporter.failed) + in_flight
                failures += int(reporter.failed)
        self.dlq_requests.add_metric(labels, requests)
        self.dlq_failures.add_metric(labels, failures)
        self.last_error.add_metric(labels, errors.last_error_timestamp_s)

    def all(self) -> Iterator[Metric]:
        for family in vars(self).values():
            if isinstance(family, Metric):
                yield family


def _add_stats(
    summary: SummaryMetricFamily, maximum: GaugeMetricFamily, labels: list[str], stats: TimeStats
) -> None:
    summary.add_metric(labels, stats.count, stats.total_s)
    maximum.add_metric(labels, stats.max_s)


def _queue_length(client: Any) -> int:
    if client is None:
        return 0
    try:
        return len(client)
    except Exception:  # noqa: BLE001 - a client being closed has nothing queued to show
        return 0
