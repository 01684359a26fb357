"""Connector and task states and target states, named as in Kafka Connect's status API."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field


class State(str, enum.Enum):
    UNASSIGNED = "UNASSIGNED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    RESTARTING = "RESTARTING"
    DESTROYED = "DESTROYED"


class TargetState(str, enum.Enum):
    """What the user asked a connector to be (``initial_state``, pause, resume, stop)."""

    STARTED = "STARTED"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"

    @classmethod
    def from_initial_state(cls, value: str) -> TargetState:
        """``initial_state`` in a create request says RUNNING where the target state is STARTED."""
        upper = value.upper()
        if upper == "RUNNING":
            return cls.STARTED
        return cls(upper)


@dataclass
class Status:
    """The status of one connector or task as ``/status`` shows it."""

    state: State
    worker_id: str
    trace: str | None = None
    generation: int = 0
    changed_at: float = field(default_factory=time.time)
    #: the connector's or task's version() (KIP-891); None when unknown
    version: str | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"state": self.state.value, "worker_id": self.worker_id}
        if self.trace:
            out["trace"] = self.trace
        # Kafka 4.1+ shows "version" on every entry (null when unknown).
        out["version"] = self.version
        return out


@dataclass(frozen=True)
class TaskId:
    connector: str
    task: int

    def __str__(self) -> str:
        return f"{self.connector}-{self.task}"

    def to_json(self) -> dict[str, object]:
        return {"connector": self.connector, "task": self.task}
