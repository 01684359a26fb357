"""The metrics of runtime.metrics, without a broker: what the collector shows for the runners a
worker holds at scrape time, librdkafka statistics, the reporter hooks, the own listener."""

from __future__ import annotations

import urllib.request
from typing import Any

import orjson
import pytest
from kconnect.plugins import hookimpl, hooks
from kconnect.runtime.metrics.client_statistics import ClientStatistics, client_settings
from kconnect.runtime.metrics.task_metrics import SinkTaskMetrics, SourceTaskMetrics, TaskMetrics
from kconnect.runtime.metrics.worker_metrics import WorkerMetrics
from kconnect.runtime.states import State, TaskId
from prometheus_client.parser import text_string_to_metric_families


class _Handler:
    def __init__(self) -> None:
        self.total_failures = 4
        self.total_skipped = 3
        self.total_retries = 1
        self.log_errors = True
        self.reporters: list[Any] = []


class _Plugins:
    def __init__(self) -> None:
        self.error_handler = _Handler()


class _Runner:
    def __init__(self, connector: str, task: int, metrics: TaskMetrics, state: State) -> None:
        self.id = TaskId(connector, task)
        self.metrics = metrics
        self.state = state
        self.plugins = _Plugins()
        self.producer: Any = None
        self.assignment: set[Any] = set()
        self._batch: list[Any] = []
        metrics.state_changed(state.value)


class _Connector:
    def version(self) -> str:
        return "1.2.3"


class _RunningConnector:
    def __init__(self, name: str, state: State) -> None:
        self.name = name
        self.state = state
        self.connector = _Connector()
        self.config = {"connector.class": "FileStreamSource"}


class _Worker:
    worker_id = "127.0.0.1:8083"

    def __init__(self) -> None:
        self.runners: dict[TaskId, _Runner] = {}
        self.connectors: list[_RunningConnector] = []

    def running_connectors(self) -> list[_RunningConnector]:
        return list(self.connectors)

    def running_tasks(self) -> list[TaskId]:
        return list(self.runners)

    def task_runner(self, task_id: TaskId) -> _Runner | None:
        return self.runners.get(task_id)


def _families(metrics: WorkerMetrics) -> dict[str, list[Any]]:
    page, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    families: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(page.decode()):
        assert family.name not in families
        families[family.name] = list(family.samples)
    return families


def _sample(families: dict[str, list[Any]], name: str, **labels: str) -> float | None:
    for samples in families.values():
        for sample in samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


@pytest.fixture
def worker() -> _Worker:
    return _Worker()


@pytest.fixture
def metrics(worker: _Worker) -> WorkerMetrics:
    return WorkerMetrics(worker, {"metrics.prometheus.enable": True})


def test_source_and_sink_counters_become_prometheus_series(worker, metrics) -> None:
    source = SourceTaskMetrics()
    source.polled(500, 0.002)
    source.polled(300, 0.004)
    source.records_written = 790
    source.commit_succeeded(0.01)
    source.commit_failed()
    source.errors.report(None)
    worker.runners[TaskId("src", 0)] = _Runner("src", 0, source, State.RUNNING)
    sink = SinkTaskMetrics()
    sink.records_read = 1000
    sink.put_done(1000, 0.5)
    sink.offset_commit_completions = 2
    sink.offset_commit_skips = 1
    sink.client.on_stats(
        orjson.dumps(
            {
                "type": "consumer",
                "topics": {
                    "t": {
                        "partitions": {
                            "0": {"consumer_lag": 7, "fetch_state": "active"},
                            "1": {"consumer_lag": -1, "fetch_state": "active"},
                            "-1": {"consumer_lag": 5, "fetch_state": "none"},
                        }
                    }
                },
            }
        ).decode()
    )
    sink_runner = _Runner("snk", 2, sink, State.FAILED)
    worker.runners[TaskId("snk", 2)] = sink_runner
    worker.connectors.append(_RunningConnector("src", State.RUNNING))
    metrics.task_startups.attempted()
    metrics.task_startups.succeeded()

    f = _families(metrics)
    src = {"connector": "src", "task": "0"}
    snk = {"connector": "snk", "task": "2"}
    assert _sample(f, "kafka_connect_source_task_source_record_poll_total", **src) == 800
    assert _sample(f, "kafka_connect_source_task_source_record_write_total", **src) == 790
    assert _sample(f, "kafka_connect_source_task_poll_batch_time_seconds_count", **src) == 2
    assert _sample(f, "kafka_connect_source_task_poll_batch_max_time_seconds", **src) == 0.004
    assert _sample(f, "kafka_connect_connector_task_batch_size_max", **src) == 500
    assert _sample(f, "kafka_connect_connector_task_offset_commit_success_total", **src) == 1
    assert _sample(f, "kafka_connect_connector_task_offset_commit_failure_total", **src) == 1
    assert _sample(f, "kafka_connect_task_error_record_errors_total", **src) == 1
    assert _sample(f, "kafka_connect_task_error_records_skipped_total", **src) == 3
    assert _sample(f, "kafka_connect_task_error_last_error_timestamp_seconds", **src) > 1e9
    assert _sample(f, "kafka_connect_sink_task_sink_record_read_total", **snk) == 1000
    assert _sample(f, "kafka_connect_sink_task_sink_record_send_total", **snk) == 1000
    assert _sample(f, "kafka_connect_sink_task_offset_commit_skip_total", **snk) == 1
    assert _sample(f, "kafka_connect_sink_task_consumer_lag", **snk, topic="t", partition="0") == 7
    assert _sample(f, "kafka_connect_sink_task_consumer_lag", **snk, partition="1") is None
    assert _sample(f, "kafka_connect_sink_task_sink_record_lag_max", **snk) == 7
    assert (
        _sample(
            f,
            "kafka_connect_connector_task_status",
            **snk,
            kafka_connect_connector_task_status="failed",
        )
        == 1
    )
    assert (
        _sample(
            f,
            "kafka_connect_connector_task_status",
            **src,
            kafka_connect_connector_task_status="failed",
        )
        == 0
    )
    assert (
        _sample(f, "kafka_connect_worker_connector_task_count", connector="snk", status="failed")
        == 1
    )
    assert _sample(f, "kafka_connect_worker_task_count") == 2
    assert _sample(f, "kafka_connect_worker_task_startup_success_total") == 1
    assert (
        _sample(f, "kafka_connect_connector_info", connector="src", connector_version="1.2.3") == 1
    )
    # standalone: no group, no rebalance series
    assert not any(name.startswith("kafka_connect_worker_rebalance") for name in f)


def test_a_removed_task_has_no_series_and_a_replaced_one_is_not_doubled(worker, metrics) -> None:
    worker.runners[TaskId("c", 0)] = _Runner("c", 0, SinkTaskMetrics(), State.RUNNING)
    worker.runners[TaskId("c", 1)] = _Runner("c", 1, SinkTaskMetrics(), State.RUNNING)
    assert _sample(_families(metrics), "kafka_connect_sink_task_partition_count", task="1") == 0
    # task 0 restarted (a new runner under the same id), task 1 removed
    worker.runners[TaskId("c", 0)] = _Runner("c", 0, SinkTaskMetrics(), State.RUNNING)
    del worker.runners[TaskId("c", 1)]
    families = _families(metrics)
    assert not any(s.labels.get("task") == "1" for samples in families.values() for s in samples)
    counts = [s for s in families["kafka_connect_sink_task_partition_count"]]
    assert len(counts) == 1


def test_rebalance_metrics_once_the_worker_joined_a_group(worker, metrics) -> None:
    metrics.rebalance.started()
    metrics.rebalance.completed_with(5, "http://leader:8083/", "sessioned")
    f = _families(metrics)
    assert _sample(f, "kafka_connect_worker_rebalance_completed_rebalances_total") == 1
    assert _sample(f, "kafka_connect_worker_rebalance_epoch") == 5
    assert _sample(f, "kafka_connect_worker_rebalance_rebalancing") == 0
    assert _sample(f, "kafka_connect_worker_rebalance_time_since_last_rebalance_seconds") >= 0
    assert (
        _sample(f, "kafka_connect_worker_rebalance_group_info", connect_protocol="sessioned") == 1
    )


def test_running_and_pause_ratios() -> None:
    metrics = TaskMetrics()
    clock = metrics.state_clock
    clock.change("RUNNING", 100.0)
    clock.change("PAUSED", 103.0)
    assert clock.ratios(104.0) == (0.75, 0.25)


def test_producer_statistics_and_bad_documents() -> None:
    stats = ClientStatistics()
    stats.on_stats('{"type": "producer", "msg_cnt": 12, "msg_size": 3400}')
    assert (stats.producer_queue_messages, stats.producer_queue_bytes) == (12, 3400)
    stats.on_stats("not json")  # ignored, never raised into librdkafka's poll
    assert stats.producer_queue_messages == 12


def test_client_statistics_only_when_metrics_are_on() -> None:
    stats = ClientStatistics()
    on = client_settings({"metrics.statistics.interval.ms": 2000}, stats)
    assert on == {"statistics.interval.ms": 2000, "stats_cb": stats.on_stats}
    assert client_settings({"metrics.prometheus.enable": False}, stats) == {}
    assert client_settings({"metrics.statistics.interval.ms": 0}, stats) == {}


def test_reporter_hooks_get_the_metrics_and_the_own_port_serves_them(worker) -> None:
    calls: list[tuple[str, Any]] = []

    class Reporter:
        @hookimpl
        def kconnect_metrics_reporter_start(self, metrics: Any, worker_id: str) -> None:
            calls.append(("start", [family.name for family in metrics.collect()]))

        @hookimpl
        def kconnect_metrics_reporter_stop(self, metrics: Any, worker_id: str) -> None:
            calls.append(("stop", worker_id))

    reporter = Reporter()
    hooks().register(reporter)
    metrics = WorkerMetrics(
        worker, {"metrics.prometheus.port": 0, "metrics.prometheus.host": "127.0.0.1"}
    )
    try:
        metrics.start()
        assert calls[0][0] == "start" and "kafka_connect_worker_task_count" in calls[0][1]
        assert metrics.bound_port
        url = f"http://127.0.0.1:{metrics.bound_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert b"kafka_connect_worker_connector_count 0.0" in response.read()
    finally:
        metrics.stop()
        hooks().unregister(reporter)
    assert calls[-1] == ("stop", "127.0.0.1:8083")


def test_disabled_metrics_call_no_reporter_and_open_no_port(worker) -> None:
    calls: list[str] = []

    class Reporter:
        @hookimpl
        def kconnect_metrics_reporter_start(self, metrics: Any, worker_id: str) -> None:
            calls.append("start")

    reporter = Reporter()
    hooks().register(reporter)
    try:
        metrics = WorkerMetrics(
            worker, {"metrics.prometheus.enable": False, "metrics.prometheus.port": 0}
        )
        metrics.start()
        metrics.stop()
    finally:
        hooks().unregister(reporter)
    assert calls == [] and metrics.bound_port is None


def test_a_port_out_of_range_is_refused_naming_the_key(worker) -> None:
    from kconnect.api.errors import ConfigException

    with pytest.raises(ConfigException, match="metrics.prometheus.port"):
        WorkerMetrics(worker, {"metrics.prometheus.port": 70000})
