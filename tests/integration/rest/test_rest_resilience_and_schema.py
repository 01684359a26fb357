"""A blocking or raising plugin never hangs the REST API; the OpenAPI document matches a real
running worker (schemathesis over HTTP, bounded); the app against a started StandaloneHerder."""

from __future__ import annotations

import time

import pytest
import schemathesis
from falcon import testing
from hypothesis import HealthCheck, given, settings
from kconnect.rest.app import create_app
from kconnect.runtime.standalone.herder import StandaloneHerder
from kconnect.runtime.worker_config import WorkerConfig
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

PLUGINS = "tests.integration.rest.blocking_plugins"


@pytest.fixture
def short_timeout_worker(worker_factory):
    # The test plugins are named by Python path, which the worker imports only when allowed.
    return worker_factory(
        {"rest.request.timeout.ms": "2000", "plugin.import.allowed.prefixes": PLUGINS}
    )


def test_blocking_start_fails_request_with_500_and_api_keeps_serving(
    short_timeout_worker, unique_topic
):
    worker = short_timeout_worker
    began = time.monotonic()
    result = worker.request(
        "POST",
        "/connectors",
        json={
            "name": "stuck",
            "config": {
                "connector.class": f"{PLUGINS}.BlockingStartConnector",
                "topic": unique_topic,
            },
        },
    )
    elapsed = time.monotonic() - began
    assert elapsed < 10
    # start() times out inside the herder: the connector is created and FAILED, with the reason.
    assert result.status_code in (201, 500), result.text
    if result.status_code == 500:
        assert result.json()["error_code"] == 500 and result.json()["message"]
    assert worker.get("/connectors").status_code == 200
    assert worker.get("/health").status_code == 200
    status = worker.get("/connectors/stuck/status").json()
    assert status["connector"]["state"] == "FAILED"
    assert "did not complete" in status["connector"]["trace"]


def test_blocking_validate_times_out_with_500(short_timeout_worker):
    worker = short_timeout_worker
    began = time.monotonic()
    result = worker.request(
        "PUT",
        "/connector-plugins/BlockingValidateConnector/config/validate",
        json={"connector.class": f"{PLUGINS}.BlockingValidateConnector"},
    )
    assert time.monotonic() - began < 10
    assert result.status_code == 500
    assert "did not complete" in result.json()["message"]
    assert worker.get("/").status_code == 200


def test_raising_task_configs_marks_connector_failed(worker_factory, unique_topic):
    worker = worker_factory({"plugin.import.allowed.prefixes": PLUGINS})
    result = worker.request(
        "POST",
        "/connectors",
        json={
            "name": "raiser",
            "config": {
                "connector.class": f"{PLUGINS}.RaisingTaskConfigsConnector",
                "topic": unique_topic,
            },
        },
    )
    assert result.status_code == 201
    worker.wait_state("raiser", "FAILED")
    assert (
        "task_configs exploded"
        in worker.get("/connectors/raiser/status").json()["connector"]["trace"]
    )
    assert worker.request("DELETE", "/connectors/raiser").status_code == 204


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_schemathesis_against_running_worker(worker, tmp_path, unique_topic):
    """Every operation, a few generated cases each, over HTTP on loopback."""
    source = tmp_path / "seed.txt"
    source.write_text("a\nb\n")
    worker.request(
        "POST",
        "/connectors",
        json={
            "name": "seed",
            "config": {
                "connector.class": "FileStreamSource",
                "file": str(source),
                "topic": unique_topic,
            },
        },
    )
    schema = schemathesis.openapi.from_url(worker.url + "/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(base_url=worker.url, checks=CHECKS, timeout=30)

        try:
            run()
        except Exception as error:  # noqa: BLE001 - collected, reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert operations >= 28
    assert not failures, "\n\n".join(failures)


def test_app_with_a_started_standalone_herder(tmp_path, bootstrap_servers, unique_topic):
    """falcon.testing straight against a real herder talking to the broker."""
    config = WorkerConfig(
        {
            "bootstrap.servers": bootstrap_servers,
            "key.converter": "StringConverter",
            "value.converter": "StringConverter",
            "offset.storage.file.filename": str(tmp_path / "offsets"),
            "rest.request.timeout.ms": "10000",
        }
    )
    herder = StandaloneHerder(config)
    herder.start()
    try:
        client = testing.TestClient(create_app(herder, config))
        root = client.simulate_get("/").json
        assert root["kafka_cluster_id"] == herder.kafka_cluster_id and root["kafka_cluster_id"]
        source = tmp_path / "in.txt"
        source.write_text("x\n")
        created = client.simulate_post(
            "/connectors",
            json={
                "name": "s",
                "config": {
                    "connector.class": "FileStreamSource",
                    "file": str(source),
                    "topic": unique_topic,
                },
                "initial_state": "STOPPED",
            },
        )
        assert created.status_code == 201
        assert created.json["tasks"] == []
        assert client.simulate_get("/connectors/s/status").json["connector"]["state"] == "STOPPED"
        altered = client.simulate_patch(
            "/connectors/s/offsets",
            json={"offsets": [{"partition": {"filename": str(source)}, "offset": {"position": 1}}]},
        )
        assert altered.status_code == 200
        bad = client.simulate_patch(
            "/connectors/s/offsets",
            json={
                "offsets": [{"partition": {"filename": str(source)}, "offset": {"position": [1]}}]
            },
        )
        assert bad.status_code == 400
        assert (
            bad.json["message"]
            == "Offsets may only contain primitive types as values, but field position contains ARRAY"
        )
        assert client.simulate_get("/health").json["status"] == "healthy"
        assert client.simulate_delete("/connectors/s").status_code == 204
    finally:
        herder.stop()
