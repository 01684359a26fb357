"""``GET /metrics`` and cluster-scope ``PUT /admin/loggers`` at the REST layer (no broker)."""

from __future__ import annotations

import logging
from typing import Any

from falcon import testing
from kconnect.rest.app import create_app
from kconnect.rest.http import HerderRef
from kconnect.runtime.metrics.worker_metrics import WorkerMetrics


class _Worker:
    worker_id = "w1"

    def running_connectors(self) -> list[Any]:
        return []

    def running_tasks(self) -> list[Any]:
        return []

    def task_runner(self, task_id: Any) -> None:
        return None


class _Herder:
    def __init__(self, enabled: bool = True) -> None:
        self.worker = _Worker()
        self.worker.metrics = WorkerMetrics(  # type: ignore[attr-defined]
            self.worker, {"metrics.prometheus.enable": enabled}
        )
        self.cluster_levels: list[tuple[str, str]] = []

    def set_cluster_logger_level(self, namespace: str, level: str) -> None:
        self.cluster_levels.append((namespace, level))


def test_metrics_page_in_prometheus_and_openmetrics_format() -> None:
    client = testing.TestClient(create_app(_Herder()))
    page = client.simulate_get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "kafka_connect_worker_connector_count 0.0" in page.text
    open_metrics = client.simulate_get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.endswith("# EOF\n")


def test_metrics_disabled_is_404_and_starting_is_503() -> None:
    disabled = testing.TestClient(create_app(_Herder(enabled=False))).simulate_get("/metrics")
    assert disabled.status_code == 404
    assert disabled.json == {
        "error_code": 404,
        "message": "Metrics are disabled on this worker (metrics.prometheus.enable=false).",
    }
    starting = testing.TestClient(create_app(HerderRef())).simulate_get("/metrics")
    assert starting.status_code == 503


def test_cluster_scope_is_handed_to_the_herder() -> None:
    herder = _Herder()
    client = testing.TestClient(create_app(herder))
    name = "kconnect_test_cluster_scope"
    before = logging.getLogger(name).level
    result = client.simulate_put(f"/admin/loggers/{name}?scope=cluster", json={"level": "debug"})
    assert result.status_code == 204 and result.content == b""
    assert herder.cluster_levels == [(name, "DEBUG")]
    # the herder decides when it applies (a distributed one: when it reads the record back)
    assert logging.getLogger(name).level == before
