"""REST answers as Apache Kafka Connect 4.3.1 gives them, against a real connect-standalone
worker (and connect-distributed for the start-up check). The expected bodies were taken from
a Kafka Connect 4.3.1 worker (``kconnect.testing.java_connect``) running the same requests."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kconnect.testing.distributed_worker import DistributedCluster, all_running
from kconnect.testing.distributed_worker import wait_for as wait_until
from kconnect.testing.standalone_worker import StandaloneWorker

from tests.integration.rest.conftest import Worker, wait_for

pytestmark = pytest.mark.timeout(180)

#: ConfigKeyInfo's fields, in the order Kafka's Jackson writes them
CONFIG_KEY_INFO_FIELDS = [
    "name",
    "type",
    "required",
    "default_value",
    "importance",
    "documentation",
    "group",
    "order_in_group",
    "width",
    "display_name",
    "dependents",
]


def _status(worker: Worker, name: str) -> dict:
    return worker.get(f"/connectors/{name}/status").json()


def test_file_sink_without_file_is_created_and_writes_to_stdout(worker: Worker) -> None:
    config = {"connector.class": "FileStreamSink", "topics": f"t-{uuid.uuid4().hex[:6]}"}
    created = worker.request("POST", "/connectors", json={"name": "to-stdout", "config": config})
    assert created.status_code == 201, created.text
    assert created.json()["config"] == {**config, "name": "to-stdout"}
    worker.wait_state("to-stdout", "RUNNING", ["RUNNING"])


def test_validate_without_name_reports_it_missing_on_the_name_entry(worker: Worker) -> None:
    infos = worker.request(
        "PUT",
        "/connector-plugins/FileStreamSinkConnector/config/validate",
        json={"connector.class": "FileStreamSinkConnector", "topics": "t"},
    ).json()
    assert infos["error_count"] == 1
    name = next(c for c in infos["configs"] if c["definition"]["name"] == "name")
    assert name["definition"]["group"] == "Common"
    assert name["definition"]["order_in_group"] == 1
    assert name["value"] == {
        "name": "name",
        "value": None,
        "recommended_values": [],
        "errors": ['Missing required configuration "name" which has no default value.'],
        "visible": True,
    }


def test_plugin_config_entries_are_kafkas_config_key_info(worker: Worker) -> None:
    entries = worker.get("/connector-plugins/FileStreamSinkConnector/config").json()
    assert all(list(entry) == CONFIG_KEY_INFO_FIELDS for entry in entries)
    by_name = {entry["name"]: entry for entry in entries}
    assert by_name["file"]["required"] is False
    assert by_name["file"]["order_in_group"] == -1
    version = by_name["connector.plugin.version"]
    assert (version["group"], version["order_in_group"], version["required"]) == (
        "Common",
        3,
        False,
    )
    installed = version["default_value"]
    assert installed and installed == _plugin_version(worker, "FileStreamSinkConnector")
    assert worker.get(f"/connector-plugins/FileStreamSink/config?version={installed}").ok
    unmet = worker.get("/connector-plugins/FileStreamSink/config?version=9.9.9")
    assert unmet.status_code == 400
    assert unmet.json()["message"].endswith(
        "FileStreamSinkConnector not found that matches the version range [9.9.9,9.9.9], "
        f"available versions: [{installed}]"
    )


def _plugin_version(worker: Worker, simple_name: str) -> str:
    plugins = worker.get("/connector-plugins").json()
    return next(p["version"] for p in plugins if p["class"].endswith("." + simple_name))


def test_connector_plugin_version_is_validated_and_accepted(worker: Worker, tmp_path: Path) -> None:
    installed = _plugin_version(worker, "FileStreamSourceConnector")
    config = {
        "connector.class": "FileStreamSource",
        "name": "versioned",
        "file": str(tmp_path / "in.txt"),
        "topic": "t",
    }
    validate = "/connector-plugins/FileStreamSource/config/validate"
    infos = worker.request("PUT", validate, json={**config, "connector.plugin.version": "9.9.9"})
    message = (
        f"not found that matches the version range [9.9.9,9.9.9], available versions: [{installed}]"
    )
    errors = {c["value"]["name"]: c["value"]["errors"] for c in infos.json()["configs"]}
    assert infos.json()["error_count"] == 2
    assert message in errors["connector.class"][0]
    assert message in errors["connector.plugin.version"][0]
    refused = worker.request(
        "PUT", "/connectors/versioned/config", json={**config, "connector.plugin.version": "9.9.9"}
    )
    assert refused.status_code == 400 and message in refused.json()["message"]
    accepted = worker.request(
        "PUT",
        "/connectors/versioned/config",
        json={**config, "connector.plugin.version": installed},
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["config"]["connector.plugin.version"] == installed


def test_status_entries_carry_the_connector_and_task_versions(
    worker: Worker, tmp_path: Path
) -> None:
    source = tmp_path / "in.txt"
    source.write_text("a\n")
    config = {"connector.class": "FileStreamSource", "file": str(source), "topic": "t-status"}
    assert worker.request("PUT", "/connectors/src/config", json=config).status_code == 201
    worker.wait_state("src", "RUNNING", ["RUNNING"])
    version = _plugin_version(worker, "FileStreamSourceConnector")
    status = _status(worker, "src")
    assert status["connector"]["version"] == version
    assert [t["version"] for t in status["tasks"]] == [version]
    assert worker.get("/connectors/src/tasks/0/status").json()["version"] == version
    expanded = worker.get("/connectors?expand=status").json()
    assert expanded["src"]["status"]["connector"]["version"] == version


def test_file_source_task_configs_carry_the_whole_connector_config(
    worker: Worker, tmp_path: Path
) -> None:
    config = {
        "connector.class": "FileStreamSource",
        "file": str(tmp_path / "in.txt"),
        "topic": "t-tasks",
        "batch.size": "10",
        "tasks.max": "1",
        "my.own.key": "kept",
    }
    assert worker.request("PUT", "/connectors/whole/config", json=config).status_code == 201
    tasks = wait_for(lambda: worker.get("/connectors/whole/tasks").json(), what="task configs")
    assert tasks == [
        {
            "id": {"connector": "whole", "task": 0},
            "config": {
                **config,
                "name": "whole",
                "task.class": "org.apache.kafka.connect.file.FileStreamSourceTask",
            },
        }
    ]


def test_connector_created_paused_answers_201_without_tasks(worker: Worker, tmp_path: Path) -> None:
    source = tmp_path / "paused.txt"
    source.write_text("a\n")
    config = {"connector.class": "FileStreamSource", "file": str(source), "topic": "t-paused"}
    created = worker.request(
        "POST", "/connectors", json={"name": "paused", "config": config, "initial_state": "PAUSED"}
    )
    assert created.status_code == 201
    assert created.json() == {
        "name": "paused",
        "config": {**config, "name": "paused"},
        "tasks": [],
        "type": "source",
    }
    wait_for(lambda: _status(worker, "paused")["connector"]["state"] == "PAUSED")
    assert _status(worker, "paused")["tasks"] == []
    assert worker.get("/connectors/paused/tasks").json() == []
    assert worker.request("PUT", "/connectors/paused/resume").status_code == 202
    worker.wait_state("paused", "RUNNING", ["RUNNING"])


def test_distributed_connector_created_paused_has_no_tasks_until_resumed(
    tmp_path: Path, bootstrap_servers: str
) -> None:
    cluster = DistributedCluster(tmp_path, bootstrap_servers, f"paused-{uuid.uuid4().hex[:6]}")
    try:
        (worker,) = cluster.start_workers(1)
        source = tmp_path / "in.txt"
        source.write_text("a\n")
        config = {"connector.class": "FileStreamSource", "file": str(source), "topic": "t-dp"}
        created = worker.post(
            "/connectors", {"name": "dp", "config": config, "initial_state": "PAUSED"}
        )
        assert created.status_code == 201, created.text
        assert created.json()["tasks"] == []
        wait_until(
            lambda: worker.get("/connectors/dp/status")["connector"]["state"] == "PAUSED",
            60,
            "dp PAUSED",
        )
        assert worker.get("/connectors/dp/status")["tasks"] == []
        assert worker.get("/connectors/dp/tasks") == []
        assert worker.put("/connectors/dp/resume").status_code == 202
        wait_until(lambda: all_running(worker, "dp", 1), 60, "dp RUNNING with its task")
    finally:
        cluster.stop_all()


#: numbers and booleans, written as a user would write them
LITERALS = (
    '{"flag": true, "off": false, "ratio": 1.50, "big": 1E20, "huge": 12345678901234567890123}'
)
EXPECTED_STRINGS = {
    "flag": "true",
    "off": "false",
    "ratio": "1.50",
    "big": "1E20",
    "huge": "12345678901234567890123",
}


def test_json_file_and_rest_configs_give_the_same_strings(
    worker_factory: Callable[..., Worker], tmp_path: Path
) -> None:
    base = {"connector.class": "FileStreamSink", "file": str(tmp_path / "out.txt"), "topics": "t"}
    literal_config = json.dumps(base)[:-1] + ", " + LITERALS[1:]
    connector_file = tmp_path / "from-file.json"
    connector_file.write_text('{"name": "from-file", "config": ' + literal_config + "}")
    worker = worker_factory(connector_files=[connector_file])
    posted = worker.request(
        "POST",
        "/connectors",
        data='{"name": "from-rest", "config": ' + literal_config + "}",
        headers={"Content-Type": "application/json"},
    )
    assert posted.status_code == 201, posted.text
    from_file = worker.get("/connectors/from-file/config").json()
    from_rest = worker.get("/connectors/from-rest/config").json()
    assert {k: from_file[k] for k in EXPECTED_STRINGS} == EXPECTED_STRINGS
    assert {k: from_rest[k] for k in EXPECTED_STRINGS} == EXPECTED_STRINGS


@pytest.mark.parametrize("key", ["key.converter", "value.converter", "header.converter"])
def test_standalone_refuses_to_start_with_a_missing_converter(
    key: str, tmp_path: Path, bootstrap_servers: str
) -> None:
    props = {
        "bootstrap.servers": bootstrap_servers,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": tmp_path / "offsets",
        key: "com.nope.Missing",
    }
    worker = StandaloneWorker(tmp_path, props)
    worker.start()
    code = worker.wait(60)
    if code is None:
        worker.stop()
    log = worker.log_text()
    assert code == 1, log
    assert (
        f"Invalid value com.nope.Missing for configuration {key}: Class com.nope.Missing could "
        "not be found." in log
    )
    assert "plugin.import.allowed.prefixes" in log


def test_distributed_refuses_to_start_with_a_missing_converter(
    tmp_path: Path, bootstrap_servers: str
) -> None:
    cluster = DistributedCluster(
        tmp_path,
        bootstrap_servers,
        f"missing-converter-{uuid.uuid4().hex[:6]}",
        {"value.converter": "MissingConverter"},
    )
    worker = cluster.worker()
    worker.start()
    code = worker.wait(60)
    if code is None:
        worker.stop()
    log = worker.log_text()
    assert code == 1, log
    assert (
        "Invalid value MissingConverter for configuration value.converter: Class "
        "MissingConverter could not be found." in log
    )
