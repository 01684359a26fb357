"""``GET /metrics`` of a real standalone worker moving a file through a real broker: the record
counters match the records moved, a failing task's status and error counters say so, restarts
leave no duplicate series, a deleted connector's series go away, and the page parses with
prometheus-client's own parser, on the REST listener and on the metrics port alike."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from kconnect.testing.standalone_worker import StandaloneWorker, free_port
from prometheus_client.parser import text_string_to_metric_families

# The sink's consumer group is connect-<name> on a broker the whole test session shares: a
# name of its own keeps other tests' "sink" members from rebalancing it (and re-reading records).
SINK = f"metrics-sink-{uuid.uuid4().hex[:8]}"
LINES = 3000


def _scrape(url: str) -> dict[str, list[Any]]:
    """Metric family name -> its samples; fails on a page the parser refuses."""
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    families: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(response.text):
        assert family.name not in families, f"family {family.name} appears twice"
        families[family.name] = list(family.samples)
    return families


def _value(families: dict[str, list[Any]], sample_name: str, **labels: str) -> float | None:
    """The value of the one sample named ``sample_name`` with ``labels`` (None: no such sample)."""
    for samples in families.values():
        for sample in samples:
            if sample.name == sample_name and all(
                sample.labels.get(k) == v for k, v in labels.items()
            ):
                return float(sample.value)
    return None


def _status(families: dict[str, list[Any]], name: str, **labels: str) -> str | None:
    """The state a state-set status metric marks with 1."""
    on = [
        s.labels[name]
        for s in families.get(name, [])
        if s.value == 1 and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(on) <= 1, f"{name} {labels} marks several states: {on}"
    return on[0] if on else None


def _eventually(worker: StandaloneWorker, check: Callable[[], bool], what: str) -> None:
    worker.wait_for(check, timeout_s=90, what=what)


def _ready(worker: StandaloneWorker) -> None:
    def answers() -> bool:
        try:
            return requests.get(f"{worker.rest_url}/connectors", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    worker.wait_for(answers, timeout_s=120, what="the REST API")


@pytest.fixture
def pipeline(tmp_path: Path, bootstrap_servers: str, unique_topic: str):
    source_file = tmp_path / "input.txt"
    source_file.write_text("".join(f"line {i}\n" for i in range(LINES)))
    output = tmp_path / "output.txt"
    metrics_port = free_port()
    worker_props = {
        "bootstrap.servers": bootstrap_servers,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": tmp_path / "offsets",
        "offset.flush.interval.ms": "500",
        "metrics.prometheus.port": metrics_port,
        "metrics.prometheus.host": "127.0.0.1",
        "metrics.statistics.interval.ms": "500",
    }
    source = {
        "name": "source",
        "connector.class": "FileStreamSource",
        "file": source_file,
        "topic": unique_topic,
        "batch.size": "500",
    }
    sink = {
        "name": SINK,
        "connector.class": "FileStreamSink",
        "file": output,
        "topics": unique_topic,
    }
    with StandaloneWorker(tmp_path, worker_props, [source, sink]) as worker:
        _ready(worker)
        yield worker, output, unique_topic, f"http://127.0.0.1:{metrics_port}"


def test_record_counters_match_the_records_moved(pipeline) -> None:
    worker, output, _topic, metrics_url = pipeline
    _eventually(
        worker,
        lambda: output.exists() and output.read_text().count("\n") == LINES,
        "every line in the output file",
    )

    def counted() -> bool:
        f = _scrape(worker.rest_url)
        return (
            _value(f, "kafka_connect_sink_task_sink_record_send_total", connector=SINK) == LINES
            and _value(f, "kafka_connect_sink_task_consumer_lag", connector=SINK) == 0
        )

    _eventually(worker, counted, "the sink's counters and lag to catch up")
    for families in (_scrape(worker.rest_url), _scrape(metrics_url)):
        source = {"connector": "source", "task": "0"}
        sink = {"connector": SINK, "task": "0"}
        assert (
            _value(families, "kafka_connect_source_task_source_record_poll_total", **source)
            == LINES
        )
        assert (
            _value(families, "kafka_connect_source_task_source_record_write_total", **source)
            == LINES
        )
        assert _value(families, "kafka_connect_sink_task_sink_record_read_total", **sink) == LINES
        assert _value(families, "kafka_connect_sink_task_sink_record_send_total", **sink) == LINES
        # poll() returned records in batches: as many batches as the summary counted
        batches = _value(
            families, "kafka_connect_source_task_poll_batch_time_seconds_count", **source
        )
        batch_records = _value(families, "kafka_connect_connector_task_batch_size_sum", **source)
        assert batches and batches >= LINES / 500 and batch_records == LINES
        assert _value(families, "kafka_connect_sink_task_partition_count", **sink) == 1
        assert _status(families, "kafka_connect_connector_task_status", **source) == "running"
        assert _status(families, "kafka_connect_connector_status", connector=SINK) == "running"
        assert _value(families, "kafka_connect_worker_connector_count") == 2
        assert _value(families, "kafka_connect_worker_task_startup_success_total") == 2
        running_ratio = _value(families, "kafka_connect_connector_task_running_ratio", **sink)
        assert running_ratio is not None and running_ratio > 0.5
        assert _value(families, "kafka_connect_task_error_record_errors_total", **sink) == 0


def test_failing_task_error_counters_and_status_and_no_duplicates_after_restarts(pipeline) -> None:
    worker, _output, topic, _metrics_url = pipeline
    url = worker.rest_url
    # The topic holds plain lines: JsonConverter cannot read them.
    json_reader = {
        "connector.class": "FileStreamSink",
        "topics": topic,
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    }
    tolerant = {**json_reader, "errors.tolerance": "all", "errors.log.enable": "true"}
    for name, config in (("strict", json_reader), ("tolerant", tolerant)):
        config = {**config, "file": str(Path(worker.workdir) / f"{name}.txt")}
        assert requests.put(f"{url}/connectors/{name}/config", json=config, timeout=30).ok

    def strict_failed() -> bool:
        return (
            _status(_scrape(url), "kafka_connect_connector_task_status", connector="strict")
            == "failed"
        )

    _eventually(worker, strict_failed, "the strict sink's task to fail")
    families = _scrape(url)
    strict = {"connector": "strict", "task": "0"}
    assert _value(families, "kafka_connect_task_error_record_errors_total", **strict) == 1
    assert _value(families, "kafka_connect_task_error_record_failures_total", **strict) == 1
    assert _value(families, "kafka_connect_task_error_records_skipped_total", **strict) == 0
    last_error = _value(families, "kafka_connect_task_error_last_error_timestamp_seconds", **strict)
    assert last_error is not None and last_error > 1e9
    by_state = {"connector": "strict", "status": "failed"}
    assert _value(families, "kafka_connect_worker_connector_task_count", **by_state) == 1

    def tolerated_all() -> bool:
        f = _scrape(url)
        tolerant_task = {"connector": "tolerant", "task": "0"}
        return _value(f, "kafka_connect_task_error_records_skipped_total", **tolerant_task) == LINES

    _eventually(worker, tolerated_all, "the tolerant sink to skip every line")
    families = _scrape(url)
    tolerant_task = {"connector": "tolerant", "task": "0"}
    assert (
        _value(families, "kafka_connect_task_error_record_errors_total", **tolerant_task) == LINES
    )
    assert (
        _value(families, "kafka_connect_task_error_errors_logged_total", **tolerant_task) == LINES
    )
    assert _value(families, "kafka_connect_sink_task_sink_record_send_total", **tolerant_task) == 0
    assert _status(families, "kafka_connect_connector_task_status", **tolerant_task) == "running"

    for _ in range(3):
        restarted = requests.post(f"{url}/connectors/strict/tasks/0/restart", timeout=30)
        assert restarted.status_code == 204
        _eventually(worker, strict_failed, "the restarted task to fail again")
    families = _scrape(url)  # _scrape fails on a family listed twice
    for name, samples in families.items():
        keys = [(s.name, tuple(sorted(s.labels.items()))) for s in samples]
        assert len(keys) == len(set(keys)), f"duplicate series in {name}"
    assert _value(families, "kafka_connect_task_error_record_errors_total", **strict) == 1
    assert _value(families, "kafka_connect_worker_task_startup_attempts_total") == 2 + 2 + 3

    assert requests.delete(f"{url}/connectors/strict", timeout=30).status_code == 204
    families = _scrape(url)
    assert not any(
        s.labels.get("connector") == "strict" for samples in families.values() for s in samples
    ), "a deleted connector's series are still served"
