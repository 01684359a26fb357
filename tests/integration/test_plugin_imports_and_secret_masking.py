"""Against a real standalone worker process: a REST caller cannot make the worker import a module
that is not a registered plugin (unless the operator allowed its prefix), and a secret resolved
by a config provider does not come back in a task's status trace or the worker's log."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests
from kconnect.testing.standalone_worker import StandaloneWorker

PLANTED_CONNECTOR = """
import pathlib
pathlib.Path({marker!r}).write_text("imported")

from kconnect.api.config import ConfigDef
from kconnect.api.connector import SourceConnector
from kconnect.api.task import SourceTask


class PlantedTask(SourceTask):
    def version(self):
        return "1"

    def start(self, props):
        pass

    def poll(self):
        return None

    def stop(self):
        pass


class Planted(SourceConnector):
    def version(self):
        return "1"

    def config(self):
        return ConfigDef()

    def start(self, props):
        pass

    def task_class(self):
        return PlantedTask

    def task_configs(self, max_tasks):
        return [{{}}]

    def stop(self):
        pass
"""


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A package on the worker's PYTHONPATH, as a FileStreamSink could have written it, whose
    ``__init__`` and module each leave a marker file when imported: (package, markers dir)."""
    package = "planted_by_a_sink"
    site = tmp_path / "site"
    (site / package).mkdir(parents=True)
    markers = tmp_path / "markers"
    markers.mkdir()
    (site / package / "__init__.py").write_text(
        f"import pathlib\npathlib.Path({str(markers / 'package')!r}).write_text('imported')\n"
    )
    (site / package / "evil.py").write_text(
        PLANTED_CONNECTOR.format(marker=str(markers / "module"))
    )
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    )
    return package, markers


def _worker_props(bootstrap_servers: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap_servers,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": tmp_path / "offsets",
        "offset.flush.interval.ms": "500",
        **extra,
    }


def _ready(worker: StandaloneWorker) -> None:
    def answers() -> bool:
        try:
            return requests.get(f"{worker.rest_url}/connectors", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    worker.wait_for(answers, timeout_s=120, what="the REST API")


def test_rest_cannot_make_the_worker_import_an_unregistered_module(
    planted: tuple[str, Path], bootstrap_servers: str, tmp_path: Path
) -> None:
    package, markers = planted
    evil = f"{package}.evil.Planted"
    with StandaloneWorker(tmp_path, _worker_props(bootstrap_servers, tmp_path)) as worker:
        _ready(worker)
        url = worker.rest_url
        created = requests.post(
            f"{url}/connectors",
            json={"name": "evil", "config": {"connector.class": evil, "tasks.max": "1"}},
            timeout=30,
        )
        assert created.status_code == 400, created.text
        body = created.json()
        assert body["error_code"] == 400
        assert f"which name matches {evil}" in body["message"]
        assert "are not imported" in body["message"]
        assert "plugin.import.allowed.prefixes" in body["message"]

        validated = requests.put(
            f"{url}/connector-plugins/Planted/config/validate",
            json={"connector.class": evil},
            timeout=30,
        )
        assert validated.status_code == 400, validated.text
        assert "are not imported" in validated.json()["message"]
        described = requests.get(f"{url}/connector-plugins/{evil}/config", timeout=30)
        assert described.status_code == 404, described.text
        assert "plugin.import.allowed.prefixes" in described.json()["message"]

        # Transforms and predicates are checked by /validate ...
        for config in (
            {"transforms": "t", "transforms.t.type": evil},
            {
                "transforms": "f",
                "transforms.f.type": "Filter",
                "transforms.f.predicate": "p",
                "predicates": "p",
                "predicates.p.type": evil,
            },
        ):
            answer = requests.put(
                f"{url}/connector-plugins/FileStreamSource/config/validate",
                json={"connector.class": "FileStreamSource", "topic": "t", **config},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["error_count"] >= 1, answer.text
        # ... and converters, refused on their key when the connector is created.
        created = requests.post(
            f"{url}/connectors",
            json={
                "name": "converted",
                "config": {
                    "connector.class": "FileStreamSource",
                    "file": str(tmp_path / "in.txt"),
                    "topic": "t",
                    "key.converter": evil,
                },
            },
            timeout=30,
        )
        assert created.status_code == 400, created.text
        message = created.json()["message"]
        assert f"Invalid value {evil} for configuration key.converter" in message
        assert "are not imported" in message
        assert list(markers.iterdir()) == []
    assert list(markers.iterdir()) == []


def test_an_operator_allowed_prefix_is_imported(
    planted: tuple[str, Path], bootstrap_servers: str, tmp_path: Path
) -> None:
    package, markers = planted
    props = _worker_props(
        bootstrap_servers, tmp_path, **{"plugin.import.allowed.prefixes": f"{package}.evil"}
    )
    with StandaloneWorker(tmp_path, props) as worker:
        _ready(worker)
        answer = requests.put(
            f"{worker.rest_url}/connector-plugins/Planted/config/validate",
            json={"connector.class": f"{package}.evil.Planted", "name": "allowed"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["name"] == f"{package}.evil.Planted"
        assert (markers / "module").exists()


def test_a_resolved_secret_is_hidden_in_the_status_trace_and_the_log(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    # Not a valid topic name, so producing to it fails and the error repeats it.
    secret = "root:$6$s3cr3tHash/ShadowLine!"
    shadow = tmp_path / "shadow.properties"
    shadow.write_text(f"root={secret.replace(':', chr(92) + ':')}\n", encoding="utf-8")
    source = tmp_path / "input.txt"
    source.write_text("line\n", encoding="utf-8")
    password = "connector-password-value"
    props = _worker_props(
        bootstrap_servers,
        tmp_path,
        **{
            "config.providers": "file",
            "config.providers.file.class": "FileConfigProvider",
            "producer.ssl.key.password": "worker-password-value",
        },
    )
    with StandaloneWorker(tmp_path, props) as worker:
        _ready(worker)
        url = worker.rest_url
        created = requests.post(
            f"{url}/connectors",
            json={
                "name": "shadow",
                "config": {
                    "connector.class": "FileStreamSource",
                    "file": str(source),
                    "topic": f"${{file:{shadow}:root}}",
                    "connection.password": password,
                },
            },
            timeout=30,
        )
        assert created.status_code == 201, created.text

        def failed_task() -> dict[str, Any] | None:
            status = requests.get(f"{url}/connectors/shadow/status", timeout=10).json()
            tasks = status.get("tasks") or []
            return tasks[0] if tasks and tasks[0]["state"] == "FAILED" else None

        worker.wait_for(lambda: failed_task() is not None, timeout_s=90, what="the task to fail")
        task = failed_task()
        assert task is not None
        assert task["trace"]
        assert secret not in task["trace"]
        assert "[hidden]" in task["trace"]
    log = worker.log_text()
    assert "Invalid topic" in log or "[hidden]" in log
    for value in (secret, password, "worker-password-value"):
        assert value not in log
    assert "producer.ssl.key.password = [hidden]" in log
