"""Listeners and admin.listeners, REST-looking worker keys, and CORS as Jetty's filter answers."""

from __future__ import annotations

import logging

import pytest
from falcon import testing
from kconnect.api.errors import ConfigException
from kconnect.rest.app import create_app
from kconnect.rest.listeners import rest_listeners
from kconnect.rest.rest_keys import warn_unknown_rest_keys
from kconnect.runtime.worker.client_configs import TaskClientSettings
from kconnect.runtime.worker_config import WorkerConfig

from .conftest import FakeHerder, Settings

BASE = {
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    "offset.storage.file.filename": "/tmp/offsets",
}


def _config(**props: str) -> WorkerConfig:
    return WorkerConfig({**BASE, **{k.replace("_", "."): v for k, v in props.items()}})


def test_admin_listeners_are_bound_after_the_listeners():
    listeners = rest_listeners(
        _config(listeners="http://127.0.0.1:8083,http://[::1]:8083", admin_listeners="http://:9093")
    )
    assert listeners.binds == ["127.0.0.1:8083", "[::1]:8083", "0.0.0.0:9093"]
    assert listeners.admin_separate and not listeners.admin_off
    assert rest_listeners(_config(admin_listeners="")).admin_off
    assert rest_listeners(_config()).admin is None


@pytest.mark.parametrize(
    "props, message",
    [
        (
            {"listeners": "http://:8083", "admin.listeners": "https://:9093"},
            "cannot serve http and https listeners at the same time",
        ),
        ({"listeners": "http://:8083", "admin.listeners": "http://:8083"}, "repeats"),
        ({"listeners": "ftp://:8083"}, 'the protocol must be either "http" or "https"'),
        ({"admin.listeners": "localhost:9093"}, "format is protocol://hostname:port"),
    ],
)
def test_listeners_that_cannot_be_served_are_refused(props: dict[str, str], message: str):
    with pytest.raises(ConfigException, match=message):
        rest_listeners(WorkerConfig({**BASE, **props}))


def _client(listeners_config: WorkerConfig) -> testing.TestClient:
    app = create_app(FakeHerder(), Settings(), listeners=rest_listeners(listeners_config))
    return testing.TestClient(app)


def test_admin_served_only_on_its_listener():
    client = _client(_config(listeners="http://127.0.0.1:8083", admin_listeners="http://:9093"))
    on_admin = {"SERVER_NAME": "10.0.0.5", "SERVER_PORT": "9093"}
    on_regular = {"SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8083"}
    assert client.simulate_get("/admin/loggers", extras=on_admin).status_code == 200
    assert client.simulate_get("/admin/loggers", extras=on_regular).status_code == 404
    assert client.simulate_get("/connectors", extras=on_regular).status_code == 200
    not_here = client.simulate_get("/connectors", extras=on_admin)
    assert not_here.status_code == 404
    assert not_here.json == {"error_code": 404, "message": "HTTP 404 Not Found"}


def test_empty_admin_listeners_switch_admin_off():
    client = _client(_config(listeners="http://127.0.0.1:8083", admin_listeners=""))
    assert client.simulate_put("/admin/loggers/root", json={"level": "OFF"}).status_code == 404
    assert client.simulate_get("/connectors").status_code == 200


def test_admin_listeners_are_not_admin_client_settings():
    props = {**BASE, "admin.listeners": "http://:9093", "admin.retries": "7"}
    settings = TaskClientSettings(props, "All")
    admin = settings.admin()
    assert "listeners" not in admin
    assert admin["retries"] == "7"


def test_rest_looking_typos_are_warned_about(caplog):
    config = _config(
        admin_listener="http://:9093",
        access_control_allow_orgin="*",
        listeners_https_ssl_client_authentication="required",
    )
    props = {
        **config.originals(),
        "listeners.https.ssl.client.auth": "required",
        "consumer.max.poll.records": "5",
    }
    with caplog.at_level(logging.WARNING):
        unknown = warn_unknown_rest_keys(props, config.definition.names())
    assert unknown == [
        "access.control.allow.orgin",
        "admin.listener",
        "listeners.https.ssl.client.authentication",
    ]
    assert "Unknown REST configuration 'admin.listener'" in caplog.text
    assert "Did you mean access.control.allow.origin?" in caplog.text


# -- CORS ----------------------------------------------------------------------------------------
def _cors_client(origin: str, methods: str = "") -> testing.TestClient:
    settings = Settings(
        {"access.control.allow.origin": origin, "access.control.allow.methods": methods}
    )
    return testing.TestClient(create_app(FakeHerder(), settings))


def test_preflight_answers_as_jettys_cross_origin_filter():
    client = _cors_client("https://*.example.com", "GET,PUT")
    headers = {
        "Origin": "https://ui.example.com",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type, accept",
    }
    ok = client.simulate_options("/connectors/c1/config", headers=headers)
    assert ok.status_code == 200 and ok.text == ""
    assert ok.headers["access-control-allow-origin"] == "https://ui.example.com"
    assert ok.headers["access-control-allow-methods"] == "GET,PUT"
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert ok.headers["access-control-max-age"] == "1800"
    assert ok.headers["access-control-allow-headers"] == (
        "X-Requested-With,Content-Type,Accept,Origin"
    )
    # a method or header that is not allowed: answered, but without permission
    for bad in (
        {"Access-Control-Request-Method": "DELETE"},
        {"Access-Control-Request-Headers": "X-Secret"},
    ):
        refused = client.simulate_options("/connectors/c1/config", headers={**headers, **bad})
        assert refused.status_code == 200
        assert "access-control-allow-origin" not in refused.headers
    other = client.simulate_options(
        "/connectors", headers={**headers, "Origin": "https://example.com.evil"}
    )
    assert "access-control-allow-origin" not in other.headers


def test_actual_requests_get_the_origin_back_even_on_errors():
    client = _cors_client("*")
    found = client.simulate_get("/connectors/none", headers={"Origin": "http://a.test"})
    assert found.status_code == 404
    assert found.headers["access-control-allow-origin"] == "http://a.test"
    assert found.headers["access-control-allow-credentials"] == "true"
