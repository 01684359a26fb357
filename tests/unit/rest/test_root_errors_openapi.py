"""``/``, ``/health``, ``/openapi.json``, error shapes, CORS and response headers."""

from __future__ import annotations

import re

import pytest
from falcon import testing
from kconnect import __version__
from kconnect.api.errors import ConfigException
from kconnect.rest.app import create_app
from kconnect.rest.http import HerderRef
from kconnect.rest.middleware import parse_header_rules
from kconnect.rest.openapi import openapi_document

from tests.unit.rest.conftest import FakeHerder, Settings, make_client


def test_root(client):
    body = client.simulate_get("/").json
    assert body["version"] == __version__
    assert body["kafka_cluster_id"] == "fake-cluster"
    assert isinstance(body["commit"], str) and body["commit"]


def test_health(client, herder: FakeHerder):
    ok = client.simulate_get("/health")
    assert ok.status_code == 200
    assert ok.json == {
        "status": "healthy",
        "message": "Worker has completed startup and is ready to handle requests.",
    }
    herder.stuck = True
    stuck = client.simulate_get("/health")
    assert stuck.status_code == 500
    assert stuck.json["status"] == "unhealthy"


def test_starting_worker_answers_503():
    client = testing.TestClient(create_app(HerderRef(), Settings()))
    health = client.simulate_get("/health")
    assert health.status_code == 503
    assert health.json["status"] == "starting"
    connectors = client.simulate_get("/connectors")
    assert connectors.status_code == 503
    assert connectors.json == {"error_code": 503, "message": "Worker is still starting up."}
    assert client.simulate_get("/").json["kafka_cluster_id"] is None


def test_unknown_route_and_method(client):
    missing = client.simulate_get("/no/such/thing")
    assert missing.status_code == 404
    assert missing.json == {"error_code": 404, "message": "HTTP 404 Not Found"}
    wrong = client.simulate_delete("/connectors")
    assert wrong.status_code == 405
    assert wrong.json == {"error_code": 405, "message": "HTTP 405 Method Not Allowed"}
    assert wrong.headers["content-type"].startswith("application/json")


def test_unexpected_exception_is_500_with_message(client, herder: FakeHerder):
    def boom() -> list[str]:
        raise RuntimeError("kaputt")

    herder.connectors = boom  # type: ignore[method-assign]
    result = client.simulate_get("/connectors")
    assert result.status_code == 500
    assert result.json == {"error_code": 500, "message": "RuntimeError: kaputt"}


def test_cors_headers(herder: FakeHerder):
    client = make_client(
        herder,
        **{
            "access.control.allow.origin": "http://ui.example",
            "access.control.allow.methods": "GET,POST,PUT,DELETE",
        },
    )
    allowed = client.simulate_get("/connectors", headers={"Origin": "http://ui.example"})
    assert allowed.headers["access-control-allow-origin"] == "http://ui.example"
    other = client.simulate_get("/connectors", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.simulate_options(
        "/connectors",
        headers={"Origin": "http://ui.example", "Access-Control-Request-Method": "PUT"},
    )
    assert preflight.headers["access-control-allow-methods"] == "GET,POST,PUT,DELETE"
    plain = make_client(herder).simulate_get("/connectors", headers={"Origin": "http://ui.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_response_http_headers_config(herder: FakeHerder):
    client = make_client(
        herder,
        **{
            "response.http.headers.config": "add Cache-Control: no-cache, no-store, must-revalidate, "
            "set X-Frame-Options: DENY, setDate Expires: 31540000000"
        },
    )
    result = client.simulate_get("/connectors")
    assert result.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    assert result.headers["x-frame-options"] == "DENY"
    assert re.match(r"\w{3}, \d{2} \w{3} \d{4}", result.headers["expires"])
    with pytest.raises(ConfigException):
        parse_header_rules("frobnicate X: y")


def _app_routes(app) -> set[tuple[str, str]]:
    routes = set()

    def walk(nodes):
        for node in nodes:
            if node.resource is not None and node.method_map:
                template = re.sub(r"\{(\w+):int\}", r"{\1}", node.uri_template)
                for method, responder in node.method_map.items():
                    if (
                        method not in ("OPTIONS",)
                        and getattr(responder, "__name__", "") != "method_not_allowed"
                    ):
                        routes.add((template, method.lower()))
            walk(node.children)

    walk(app._router._roots)
    return routes


def test_openapi_document_covers_every_route(client, herder: FakeHerder):
    served = client.simulate_get("/openapi.json")
    assert served.status_code == 200
    document = served.json
    assert document["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    routes = _app_routes(create_app(herder, Settings()))
    assert routes == documented


def test_openapi_document_is_valid_for_schemathesis():
    import schemathesis

    schema = schemathesis.openapi.from_dict(openapi_document())
    operations = list(schema.get_all_operations())
    assert len(operations) == sum(len(ops) for ops in openapi_document()["paths"].values())
