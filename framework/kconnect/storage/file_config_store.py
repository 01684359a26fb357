"""Connector configs, task configs and target states of a standalone worker.

Apache Kafka's standalone mode keeps these in memory only, so connectors created or paused
through REST are forgotten on restart. kconnect keeps them in ``config.storage.file.filename``
when it is set (JSON, replaced atomically on every change); unset, it behaves as Kafka.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson

from kconnect.api.errors import ConnectException
from kconnect.runtime.states import TargetState
from kconnect.storage.file_offset_store import write_atomically

log = logging.getLogger(__name__)


class ConnectorConfigStore:
    """Connector name -> config, task configs and target state."""

    def __init__(self, filename: str | None = None):
        self.filename = filename or None
        self._configs: dict[str, dict[str, str]] = {}
        self._targets: dict[str, TargetState] = {}
        self._task_configs: dict[str, list[dict[str, str]]] = {}
        self._lock = threading.Lock()
        if self.filename:
            self._load()

    # -- queries -------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self._configs)

    def contains(self, name: str) -> bool:
        return name in self._configs

    def config(self, name: str) -> dict[str, str] | None:
        config = self._configs.get(name)
        return dict(config) if config is not None else None

    def target_state(self, name: str) -> TargetState:
        return self._targets.get(name, TargetState.STARTED)

    def task_configs(self, name: str) -> list[dict[str, str]]:
        return [dict(c) for c in self._task_configs.get(name, [])]

    # -- changes -------------------------------------------------------------------------------
    def put(self, name: str, config: dict[str, str], target: TargetState | None = None) -> None:
        with self._lock:
            self._configs[name] = dict(config)
            if target is not None or name not in self._targets:
                self._targets[name] = target or TargetState.STARTED
            self._save()

    def put_target_state(self, name: str, target: TargetState) -> None:
        with self._lock:
            self._targets[name] = target
            self._save()

    def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        with self._lock:
            self._task_configs[name] = [dict(c) for c in configs]
            # Task configs are derived from the connector config on every start; not persisted.

    def remove(self, name: str) -> None:
        with self._lock:
            self._configs.pop(name, None)
            self._targets.pop(name, None)
            self._task_configs.pop(name, None)
            self._save()

    # -- persistence ---------------------------------------------------------------------------
    def _save(self) -> None:
        if not self.filename:
            return
        payload: dict[str, Any] = {
            "connectors": {
                name: {
                    "config": config,
                    "target_state": self._targets.get(name, TargetState.STARTED).value,
                }
                for name, config in self._configs.items()
            }
        }
        write_atomically(self.filename, orjson.dumps(payload, option=orjson.OPT_INDENT_2))

    def _load(self) -> None:
        assert self.filename
        try:
            with open(self.filename, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return
        try:
            data = orjson.loads(raw) if raw.strip() else {"connectors": {}}
            for name, entry in data.get("connectors", {}).items():
                self._configs[name] = {str(k): str(v) for k, v in entry["config"].items()}
                self._targets[name] = TargetState(entry.get("target_state", "STARTED"))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ConnectException(
                f"Config storage file {self.filename} is not a kconnect config file: {error}. "
                "Move it away or point config.storage.file.filename elsewhere."
            ) from error
        log.info("Loaded %d connector configs from %s", len(self._configs), self.filename)
