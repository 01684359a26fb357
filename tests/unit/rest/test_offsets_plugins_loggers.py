"""Offsets, connector plugins and logger admin endpoints through falcon.testing."""

from __future__ import annotations

import logging

import pytest
from kconnect.rest.resources.loggers import level_name
from kconnect.runtime.standalone.herder import StandaloneHerder
from kconnect.runtime.worker_config import WorkerConfig

from tests.unit.rest.conftest import SOURCE_CONFIG, make_client

SOURCE_OFFSETS = {
    "offsets": [{"partition": {"filename": "/tmp/in.txt"}, "offset": {"position": 42}}]
}


@pytest.fixture
def stopped(client):
    client.simulate_post("/connectors", json={"name": "a", "config": dict(SOURCE_CONFIG)})
    client.simulate_put("/connectors/a/stop")
    return client


def test_offsets_alter_read_reset(stopped):
    client = stopped
    assert client.simulate_get("/connectors/a/offsets").json == {"offsets": []}
    altered = client.simulate_patch("/connectors/a/offsets", json=SOURCE_OFFSETS)
    assert altered.status_code == 200
    assert altered.json == {
        "message": "The offsets for this connector have been altered successfully"
    }
    assert client.simulate_get("/connectors/a/offsets").json == SOURCE_OFFSETS
    reset = client.simulate_delete("/connectors/a/offsets")
    assert reset.status_code == 200
    assert reset.json == {"message": "The offsets for this connector have been reset successfully"}


def test_offsets_need_stopped_connector(client):
    client.simulate_post("/connectors", json={"name": "a", "config": dict(SOURCE_CONFIG)})
    for result in (
        client.simulate_patch("/connectors/a/offsets", json=SOURCE_OFFSETS),
        client.simulate_delete("/connectors/a/offsets"),
    ):
        assert result.status_code == 400
        assert result.json["message"].startswith("Connectors must be in the STOPPED state")


def test_offsets_bad_bodies_and_unknown_connector(stopped):
    client = stopped
    empty = client.simulate_patch("/connectors/a/offsets", json={"offsets": []})
    assert empty.status_code == 400
    assert (
        empty.json["message"]
        == "Partitions / offsets need to be provided for an alter offsets request"
    )
    assert client.simulate_patch("/connectors/a/offsets", json={}).status_code == 400
    assert client.simulate_patch("/connectors/a/offsets", json={"offsets": [1]}).status_code == 400
    assert (
        client.simulate_patch(
            "/connectors/a/offsets", json={"offsets": [{"partition": 1}]}
        ).status_code
        == 400
    )
    assert client.simulate_get("/connectors/nope/offsets").status_code == 404
    assert client.simulate_patch("/connectors/nope/offsets", json=SOURCE_OFFSETS).status_code == 404
    assert client.simulate_delete("/connectors/nope/offsets").status_code == 404


# -- connector plugins (the real plugin registry) ---------------------------------------------
def test_connector_plugins_lists_connectors_by_default(client):
    plugins = client.simulate_get("/connector-plugins").json
    types = {p["type"] for p in plugins}
    assert types <= {"source", "sink"}
    classes = {p["class"]: p for p in plugins}
    sink = next(p for c, p in classes.items() if c.endswith("FileStreamSinkConnector"))
    assert sink == {"class": sink["class"], "type": "sink", "version": sink["version"]}
    # sinks are listed before sources, as Kafka does
    assert [p["type"] for p in plugins] == sorted(
        (p["type"] for p in plugins), key=lambda t: t != "sink"
    )


def test_connector_plugins_all(client):
    plugins = client.simulate_get("/connector-plugins", params={"connectorsOnly": "false"}).json
    types = {p["type"] for p in plugins}
    assert {
        "source",
        "sink",
        "transformation",
        "predicate",
        "converter",
        "header_converter",
    } <= types


def test_connector_plugin_config(client):
    keys = client.simulate_get("/connector-plugins/FileStreamSinkConnector/config").json
    names = [k["name"] for k in keys]
    assert names[0] == "file"  # the plugin's own keys first, then the common connector keys
    assert {"name", "connector.class", "tasks.max", "topics"} <= set(names)
    file_key = keys[0]
    assert set(file_key) == {
        "name",
        "type",
        "required",
        "default_value",
        "importance",
        "documentation",
        "group",
        "width",
        "display_name",
        "dependents",
        "order_in_group",
    }
    java_name = client.simulate_get(
        "/connector-plugins/org.apache.kafka.connect.file.FileStreamSinkConnector/config"
    )
    assert java_name.status_code == 200
    unknown = client.simulate_get("/connector-plugins/NoSuchPlugin/config")
    assert unknown.status_code == 404
    assert unknown.json == {"error_code": 404, "message": "Unknown plugin NoSuchPlugin."}


def test_transform_plugin_config(client):
    result = client.simulate_get(
        "/connector-plugins/org.apache.kafka.connect.transforms.RegexRouter/config"
    )
    assert result.status_code == 200
    assert {"regex", "replacement"} <= {k["name"] for k in result.json}


@pytest.fixture
def real_client(tmp_path):
    """A StandaloneHerder that is never started: validation needs no broker."""
    config = WorkerConfig(
        {
            "offset.storage.file.filename": str(tmp_path / "offsets"),
            "key.converter": "StringConverter",
            "value.converter": "StringConverter",
            "bootstrap.servers": "127.0.0.1:1",
        }
    )
    return make_client(StandaloneHerder(config), **{"rest.request.timeout.ms": 5000})


def test_validate_seed_example(real_client):
    """Kafka's documented call, trailing slash included: as Kafka 4.3 answers it, only ``name``
    is missing (``file`` is optional: standard output)."""
    result = real_client.simulate_put(
        "/connector-plugins/FileStreamSinkConnector/config/validate/",
        json={
            "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "tasks.max": "1",
            "topics": "test-topic",
        },
    )
    assert result.status_code == 200
    infos = result.json
    assert infos["error_count"] == 1
    assert infos["name"].endswith("FileStreamSinkConnector")
    errors = {
        c["value"]["name"]: c["value"]["errors"] for c in infos["configs"] if c["value"]["errors"]
    }
    assert errors == {"name": ['Missing required configuration "name" which has no default value.']}
    entry = next(c for c in infos["configs"] if c["definition"]["name"] == "tasks.max")
    assert set(entry["definition"]) == {
        "name",
        "type",
        "required",
        "default_value",
        "importance",
        "documentation",
        "group",
        "width",
        "display_name",
        "dependents",
        "order_in_group",
    }
    assert set(entry["value"]) == {"name", "value", "recommended_values", "errors", "visible"}
    assert entry["value"]["value"] == "1"


def test_validate_class_mismatch_and_unknown_plugin(real_client):
    mismatch = real_client.simulate_put(
        "/connector-plugins/FileStreamSinkConnector/config/validate",
        json={"connector.class": "FileStreamSourceConnector"},
    )
    assert mismatch.status_code == 400
    assert mismatch.json["message"] == (
        "Included connector type FileStreamSourceConnector does not match request "
        "type FileStreamSinkConnector"
    )
    unknown = real_client.simulate_put(
        "/connector-plugins/NoSuchConnector/config/validate", json={"a": "b"}
    )
    assert unknown.status_code == 400
    wrong_type = real_client.simulate_put(
        "/connector-plugins/FileStreamSink/config/validate",
        body="a=b",
        headers={"Content-Type": "text/plain"},
    )
    assert wrong_type.status_code == 415


def test_create_invalid_config_with_real_herder_is_400_with_kafka_message(real_client):
    result = real_client.simulate_post(
        "/connectors",
        json={"name": "s", "config": {"connector.class": "FileStreamSourceConnector"}},
    )
    assert result.status_code == 400
    assert result.json["message"].startswith(
        "Connector configuration is invalid and contains the following 1 error(s):\n"
        'Missing required configuration "topic" which has no default value.'
    )


def test_validate_timeout_is_500(client, herder):
    herder.stuck = True
    result = client.simulate_put(
        "/connector-plugins/FileStreamSink/config/validate", json={"file": "x"}
    )
    assert result.status_code == 500
    assert "did not complete" in result.json["message"]


# -- loggers --------------------------------------------------------------------------------
@pytest.fixture
def scratch_logger():
    name = "kconnect_test_rest.child"
    logging.getLogger(name)
    yield "kconnect_test_rest"
    for n in (name, "kconnect_test_rest"):
        logging.getLogger(n).setLevel(logging.NOTSET)


def test_loggers_list_and_get(client, scratch_logger):
    levels = client.simulate_get("/admin/loggers").json
    assert "root" in levels
    assert set(levels["root"]) == {"level", "last_modified"}
    assert list(levels) == sorted(levels)
    child = client.simulate_get(f"/admin/loggers/{scratch_logger}.child")
    assert child.status_code == 200
    assert child.json["level"] == level_name(
        logging.getLogger(f"{scratch_logger}.child").getEffectiveLevel()
    )
    assert child.json["last_modified"] is None
    missing = client.simulate_get("/admin/loggers/no.such.logger.anywhere")
    assert missing.status_code == 404
    assert missing.json["message"] == "Logger no.such.logger.anywhere not found."


def test_logger_put_sets_namespace_and_children(client, scratch_logger):
    result = client.simulate_put(f"/admin/loggers/{scratch_logger}", json={"level": "TRACE"})
    assert result.status_code == 200
    assert result.json == [scratch_logger, f"{scratch_logger}.child"]
    assert logging.getLogger(f"{scratch_logger}.child").level == 5
    got = client.simulate_get(f"/admin/loggers/{scratch_logger}.child").json
    assert got["level"] == "TRACE" and isinstance(got["last_modified"], int)
    assert client.simulate_get("/admin/loggers").json[scratch_logger]["level"] == "TRACE"
    warn = client.simulate_put(f"/admin/loggers/{scratch_logger}", json={"level": "warn"})
    assert warn.status_code == 200
    assert logging.getLogger(scratch_logger).level == logging.WARNING
    cluster = client.simulate_put(
        f"/admin/loggers/{scratch_logger}?scope=cluster", json={"level": "ERROR"}
    )
    assert cluster.status_code == 204
    assert logging.getLogger(scratch_logger).level == logging.ERROR


def test_logger_put_errors(client, scratch_logger):
    missing = client.simulate_put(f"/admin/loggers/{scratch_logger}", json={})
    assert missing.status_code == 400
    assert missing.json["message"] == "Desired 'level' parameter was not specified in request."
    invalid = client.simulate_put(f"/admin/loggers/{scratch_logger}", json={"level": "LOUD"})
    assert invalid.status_code == 404
    assert invalid.json["message"] == "invalid log level 'LOUD'."
