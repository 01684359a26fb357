"""A small in-memory herder with StandaloneHerder's interface, for REST-shape tests."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from falcon import testing
from kconnect.api.errors import AlreadyExistsException, NotFoundException
from kconnect.rest.app import create_app
from kconnect.runtime.herder import BadRequestError, Herder, RequestTimeoutError
from kconnect.runtime.states import TargetState

WORKER_ID = "127.0.0.1:8083"


class FakeHerder:
    """Connectors in a dict; states follow the target state at once."""

    kafka_cluster_id = "fake-cluster"
    ready = True

    def __init__(self) -> None:
        self.configs: dict[str, dict[str, str]] = {}
        self.targets: dict[str, TargetState] = {}
        self.offsets: dict[str, list[dict[str, Any]]] = {}
        self.topics: dict[str, list[str]] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.block = threading.Event()
        self.stuck = False

    def _require(self, name: str) -> dict[str, str]:
        if name not in self.configs:
            raise NotFoundException(f"Connector {name} not found")
        return self.configs[name]

    def _type(self, config: dict[str, str]) -> str:
        return "sink" if "Sink" in config.get("connector.class", "") else "source"

    def connectors(self) -> list[str]:
        return sorted(self.configs)

    put_task_configs = Herder.put_task_configs

    def connector_info(self, name: str) -> dict[str, Any]:
        config = self._require(name)
        tasks = (
            [] if self.targets[name] is TargetState.STOPPED else [{"connector": name, "task": 0}]
        )
        return {"name": name, "config": dict(config), "tasks": tasks, "type": self._type(config)}

    def connector_config(self, name: str) -> dict[str, str]:
        return dict(self._require(name))

    def connector_status(self, name: str) -> dict[str, Any]:
        config = self._require(name)
        state = {
            TargetState.STARTED: "RUNNING",
            TargetState.PAUSED: "PAUSED",
            TargetState.STOPPED: "STOPPED",
        }[self.targets[name]]
        tasks = [] if state == "STOPPED" else [{"id": 0, "state": state, "worker_id": WORKER_ID}]
        return {
            "name": name,
            "connector": {"state": state, "worker_id": WORKER_ID},
            "tasks": tasks,
            "type": self._type(config),
        }

    def task_configs(self, name: str) -> list[dict[str, Any]]:
        config = self._require(name)
        if self.targets[name] is TargetState.STOPPED:
            return []
        return [
            {"id": {"connector": name, "task": 0}, "config": {**config, "task.class": "x.Task"}}
        ]

    def task_status(self, name: str, task: int) -> dict[str, Any]:
        self._require(name)
        if task != 0 or self.targets[name] is TargetState.STOPPED:
            raise NotFoundException(f"No status found for task {name}-{task}")
        return {"id": 0, "state": "RUNNING", "worker_id": WORKER_ID}

    def validate(self, config: dict[str, Any]) -> dict[str, Any]:
        if self.stuck:
            raise RequestTimeoutError(
                "Connector FakeConnector validate() did not complete within 100 ms"
            )
        errors = (
            []
            if config.get("file")
            else ['Missing required configuration "file" which has no default value.']
        )
        name_errors = (
            []
            if config.get("name")
            else ['Missing required configuration "name" which has no default value.']
        )
        entry = lambda key, errs: {  # noqa: E731
            "definition": {
                "name": key,
                "type": "STRING",
                "required": True,
                "default_value": None,
                "importance": "HIGH",
                "documentation": "",
                "group": "Common",
                "width": "NONE",
                "display_name": key,
                "dependents": [],
                "order_in_group": 1,
            },
            "value": {
                "name": key,
                "value": config.get(key),
                "recommended_values": [],
                "errors": errs,
                "visible": True,
            },
        }
        return {
            "name": str(config.get("connector.class")),
            "error_count": len(errors) + len(name_errors),
            "groups": ["Common"],
            "configs": [entry("name", name_errors), entry("file", errors)],
        }

    def put_connector_config(
        self,
        name: str,
        config: dict[str, Any],
        allow_replace: bool,
        initial_state: TargetState | None = None,
    ) -> tuple[bool, dict[str, Any]]:
        self.calls.append(("put", name, dict(config), allow_replace, initial_state))
        if "connector.class" not in config:
            raise BadRequestError("Connector config {} contains no connector type")
        exists = name in self.configs
        if exists and not allow_replace:
            raise AlreadyExistsException(f"Connector {name} already exists")
        self.configs[name] = dict(config)
        if not exists:
            self.targets[name] = initial_state or TargetState.STARTED
        return not exists, self.connector_info(name)

    def patch_connector_config(self, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        config = self._require(name)
        for key, value in patch.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        return self.connector_info(name)

    def delete_connector(self, name: str) -> None:
        self._require(name)
        del self.configs[name]

    def pause_connector(self, name: str) -> None:
        self._require(name)
        self.targets[name] = TargetState.PAUSED

    def resume_connector(self, name: str) -> None:
        self._require(name)
        self.targets[name] = TargetState.STARTED

    def stop_connector(self, name: str) -> None:
        self._require(name)
        if self.stuck:
            raise RequestTimeoutError(
                "Request timed out: the herder did not complete it within 100 ms"
            )
        self.targets[name] = TargetState.STOPPED

    def restart_connector(
        self, name: str, include_tasks: bool = False, only_failed: bool = False
    ) -> dict[str, Any]:
        self.calls.append(("restart", name, include_tasks, only_failed))
        status = self.connector_status(name)
        status["connector"]["state"] = "RESTARTING"
        if include_tasks:
            for task in status["tasks"]:
                task["state"] = "RESTARTING"
        return status

    def restart_task(self, name: str, task: int) -> None:
        self.task_status(name, task)
        self.calls.append(("restart_task", name, task))

    def connector_offsets(self, name: str) -> dict[str, Any]:
        self._require(name)
        return {"offsets": self.offsets.get(name, [])}

    def _check_stopped(self, name: str) -> None:
        self._require(name)
        if self.targets[name] is not TargetState.STOPPED:
            raise BadRequestError(
                "Connectors must be in the STOPPED state before their offsets can be modified."
            )

    def alter_connector_offsets(self, name: str, entries: list[tuple[Any, Any]]) -> str:
        self._check_stopped(name)
        self.offsets[name] = [{"partition": p, "offset": o} for p, o in entries]
        return "The offsets for this connector have been altered successfully"

    def reset_connector_offsets(self, name: str) -> str:
        self._check_stopped(name)
        self.offsets[name] = []
        return "The offsets for this connector have been reset successfully"

    def connector_active_topics(self, name: str) -> list[str]:
        self._require(name)
        return self.topics.get(name, [])

    def reset_connector_active_topics(self, name: str) -> None:
        self._require(name)
        self.topics[name] = []

    def health_check(self, timeout_s: float) -> None:
        if self.stuck:
            raise RequestTimeoutError("stuck")


class Settings(dict):
    """A stand-in for WorkerConfig's ``get``."""


@pytest.fixture
def herder() -> FakeHerder:
    return FakeHerder()


@pytest.fixture
def client(herder: FakeHerder) -> testing.TestClient:
    return testing.TestClient(create_app(herder, Settings({"rest.request.timeout.ms": 2000})))


def make_client(herder: Any, **settings: Any) -> testing.TestClient:
    return testing.TestClient(create_app(herder, Settings(settings)))


SOURCE_CONFIG = {
    "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
    "tasks.max": "1",
    "topic": "connect-test",
}
