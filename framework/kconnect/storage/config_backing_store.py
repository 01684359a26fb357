"""The config store seam (Kafka Connect's ConfigBackingStore): connector configs, task configs,
target states, the session key and restart requests of a cluster.

Invariant: a herder never trusts its own write. It writes a change to the store and acts when the
store reports the change back through its :class:`ConfigUpdateListener`, because in distributed
mode the write goes to a Kafka topic and every worker, the writer included, learns of it by
reading that topic. Memory and file stores (standalone) report back synchronously, on the
writing thread; the Kafka store reports on its reader thread, so listeners only hand work over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kconnect.runtime.states import TargetState, TaskId


@dataclass(frozen=True)
class SessionKeyRecord:
    """The cluster's key for signing inter-worker requests, as the config topic holds it."""

    key: bytes
    algorithm: str
    creation_timestamp_ms: int


@dataclass(frozen=True)
class RestartRequest:
    """``POST /connectors/{c}/restart?includeTasks=&onlyFailed=`` as the leader receives it."""

    connector: str
    include_tasks: bool = False
    only_failed: bool = False


@dataclass(frozen=True)
class ClusterConfigState:
    """An immutable snapshot of the config store at ``offset`` (-1: nothing read yet).

    Task configs of a connector are only visible once committed as a complete set (Kafka writes
    ``task-*`` records, then ``commit-<connector>``); a connector whose task records do not match
    its last commit is *inconsistent* and gets no tasks until new task configs are committed.
    """

    offset: int = -1
    connector_configs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    target_states: Mapping[str, TargetState] = field(default_factory=dict)
    task_configs: Mapping[TaskId, Mapping[str, str]] = field(default_factory=dict)
    task_counts: Mapping[str, int] = field(default_factory=dict)
    inconsistent: frozenset[str] = frozenset()
    session_key: SessionKeyRecord | None = None

    def connectors(self) -> list[str]:
        return sorted(self.connector_configs)

    def contains(self, connector: str) -> bool:
        return connector in self.connector_configs

    def connector_config(self, connector: str) -> dict[str, str] | None:
        config = self.connector_configs.get(connector)
        return dict(config) if config is not None else None

    def target_state(self, connector: str) -> TargetState:
        return self.target_states.get(connector, TargetState.STARTED)

    def task_count(self, connector: str) -> int:
        return self.task_counts.get(connector, 0)

    def tasks(self, connector: str) -> list[TaskId]:
        if connector in self.inconsistent:
            return []
        return [TaskId(connector, n) for n in range(self.task_count(connector))]

    def task_config(self, task: TaskId) -> dict[str, str] | None:
        config = self.task_configs.get(task)
        return dict(config) if config is not None else None

    def task_config_list(self, connector: str) -> list[dict[str, str]]:
        """The connector's committed task configs, in task order."""
        out = []
        for task in self.tasks(connector):
            config = self.task_configs.get(task)
            if config is None:
                return []
            out.append(dict(config))
        return out


class ConfigUpdateListener(Protocol):
    """What a config store reports. Called on the store's own thread (Kafka) or on the writing
    thread (memory, file); implementations must be quick and must not call back into the store."""

    def on_connector_config_update(self, connector: str) -> None: ...

    def on_connector_config_remove(self, connector: str) -> None: ...

    def on_task_config_update(self, tasks: list[TaskId]) -> None: ...

    def on_connector_target_state_change(self, connector: str) -> None: ...

    def on_session_key_update(self, key: SessionKeyRecord) -> None: ...

    def on_restart_request(self, request: RestartRequest) -> None: ...


class ConfigBackingStore:
    """Where a cluster's configs live. Writes return once the store accepted them; the change
    becomes visible in :meth:`snapshot` and is reported to the listener when read back."""

    def configure(self, worker_config: Mapping[str, Any]) -> None:
        pass

    listener: ConfigUpdateListener | None = None

    def set_update_listener(self, listener: ConfigUpdateListener) -> None:
        self.listener = listener

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def claim_write_privileges(self) -> None:
        """Called by the herder when this worker becomes the leader: from now on it may write
        connector configs, task configs, session keys and restart requests (Kafka's
        ``claimWritePrivileges``). A store with a single writer (memory, file) needs nothing."""

    def relinquish_write_privileges(self) -> None:
        """Called when this worker stops being the leader; leader-only writes fail again."""

    def snapshot(self) -> ClusterConfigState:
        raise NotImplementedError

    def contains(self, connector: str) -> bool:
        return self.snapshot().contains(connector)

    def put_connector_config(
        self, connector: str, config: Mapping[str, str], target_state: TargetState | None = None
    ) -> None:
        """Create or update a connector; ``target_state`` (creation only) is written first."""
        raise NotImplementedError

    def remove_connector_config(self, connector: str) -> None:
        raise NotImplementedError

    def put_task_configs(self, connector: str, configs: Sequence[Mapping[str, str]]) -> None:
        """Replace the connector's task configs as one committed set."""
        raise NotImplementedError

    def remove_task_configs(self, connector: str) -> None:
        """Commit an empty set of task configs (a STOPPED connector has no tasks)."""
        self.put_task_configs(connector, [])

    def put_target_state(self, connector: str, state: TargetState) -> None:
        raise NotImplementedError

    def put_session_key(self, key: SessionKeyRecord) -> None:
        raise NotImplementedError

    def put_restart_request(self, request: RestartRequest) -> None:
        raise NotImplementedError

    def put_logger_level(self, namespace: str, level: str) -> None:
        """Have every worker of the cluster that is running now (not those that join later) set
        ``namespace``'s log level. Stores of a single worker have no one else to tell."""

    def refresh(self, timeout_s: float) -> None:
        """Read every write made so far (by any worker); raise TimeoutError if not done in time."""
