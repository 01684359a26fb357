"""Connector configs, task configs and target states of a standalone worker, in memory and,
when ``config.storage.file.filename`` is set, in that file.

Apache Kafka's standalone mode keeps these in memory only, so connectors created or paused
through REST are forgotten on restart. kconnect keeps them in the file when it is set (JSON,
replaced atomically on every change, task configs included); unset, it behaves as Kafka.
Changes are reported to the update listener synchronously, on the writing thread.

Because every write replaces the file atomically with a complete document (no connectors is
``{"connectors": {}}``), kconnect never leaves an empty file. An empty one was emptied outside
the worker, and the connectors it held are lost: the worker refuses to start from it rather
than start with none, as it refuses a truncated or foreign file. A missing file is a new worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from kconnect.api.errors import ConnectException
from kconnect.runtime.states import TargetState, TaskId
from kconnect.storage.config_backing_store import (
    ClusterConfigState,
    ConfigBackingStore,
    ConfigUpdateListener,
    RestartRequest,
    SessionKeyRecord,
)
from kconnect.storage.file_offset_store import write_atomically

log = logging.getLogger(__name__)


class FileConfigBackingStore(ConfigBackingStore):
    """The standalone config store; without a filename, a memory store."""

    def __init__(self, filename: str | None = None):
        self.filename = filename or None
        self.listener: ConfigUpdateListener | None = None
        self._configs: dict[str, dict[str, str]] = {}
        self._targets: dict[str, TargetState] = {}
        self._task_configs: dict[str, list[dict[str, str]]] = {}
        self._offset = -1
        # Built on the first read after a change: REST reads far more often than it writes.
        self._snapshot: ClusterConfigState | None = None
        self._lock = threading.Lock()
        if self.filename:
            self._load()

    def configure(self, worker_config: Mapping[str, Any]) -> None:
        filename = worker_config.get("config.storage.file.filename")
        if filename and not self.filename:
            self.filename = str(filename)
            self._load()

    def snapshot(self) -> ClusterConfigState:
        with self._lock:
            if self._snapshot is None:
                self._snapshot = self._build_snapshot()
            return self._snapshot

    def _build_snapshot(self) -> ClusterConfigState:
        return ClusterConfigState(
            offset=self._offset,
            connector_configs={n: dict(c) for n, c in self._configs.items()},
            target_states=dict(self._targets),
            task_configs={
                TaskId(n, i): dict(c)
                for n, configs in self._task_configs.items()
                for i, c in enumerate(configs)
            },
            task_counts={n: len(c) for n, c in self._task_configs.items()},
        )

    # -- changes -------------------------------------------------------------------------------
    def put_connector_config(
        self, connector: str, config: Mapping[str, str], target_state: TargetState | None = None
    ) -> None:
        with self._lock:
            self._configs[connector] = dict(config)
            if target_state is not None or connector not in self._targets:
                self._targets[connector] = target_state or TargetState.STARTED
            self._changed()
        if self.listener is not None:
            self.listener.on_connector_config_update(connector)

    def remove_connector_config(self, connector: str) -> None:
        with self._lock:
            self._configs.pop(connector, None)
            self._targets.pop(connector, None)
            self._task_configs.pop(connector, None)
            self._changed()
        if self.listener is not None:
            self.listener.on_connector_config_remove(connector)

    def put_task_configs(self, connector: str, configs: Sequence[Mapping[str, str]]) -> None:
        with self._lock:
            self._task_configs[connector] = [dict(c) for c in configs]
            self._changed()
        if self.listener is not None:
            self.listener.on_task_config_update([TaskId(connector, i) for i in range(len(configs))])

    def put_target_state(self, connector: str, state: TargetState) -> None:
        with self._lock:
            self._targets[connector] = state
            self._changed()
        if self.listener is not None:
            self.listener.on_connector_target_state_change(connector)

    def put_session_key(self, key: SessionKeyRecord) -> None:
        """A standalone worker signs no requests."""

    def put_restart_request(self, request: RestartRequest) -> None:
        if self.listener is not None:
            self.listener.on_restart_request(request)

    # -- persistence ---------------------------------------------------------------------------
    def _changed(self) -> None:
        self._offset += 1
        self._snapshot = None
        if not self.filename:
            return
        payload: dict[str, Any] = {
            "connectors": {
                name: {
                    "config": config,
                    "target_state": self._targets.get(name, TargetState.STARTED).value,
                    "tasks": self._task_configs.get(name, []),
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
        except OSError as error:
            raise ConnectException(
                f"Could not read config storage file {self.filename}: {error}"
            ) from error
        if not raw.strip():
            raise ConnectException(
                f"Config storage file {self.filename} is empty ({len(raw)} bytes). kconnect never "
                "writes an empty config file, so it was emptied outside the worker (touch, "
                "another tool, a full disk) and the connectors it held are lost. Restore the "
                "file from a backup, or delete it to start afresh with no connectors."
            )
        try:
            data = orjson.loads(raw)
            for name, entry in data.get("connectors", {}).items():
                self._configs[name] = {str(k): str(v) for k, v in entry["config"].items()}
                self._targets[name] = TargetState(entry.get("target_state", "STARTED"))
                self._task_configs[name] = [
                    {str(k): str(v) for k, v in task.items()} for task in entry.get("tasks", [])
                ]
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ConnectException(
                f"Config storage file {self.filename} is not a kconnect config file: {error}. "
                "Move it away or point config.storage.file.filename elsewhere."
            ) from error
        log.info("Loaded %d connector configs from %s", len(self._configs), self.filename)
