"""The status store seam (Kafka Connect's StatusBackingStore): the last reported state of every
connector and task of the cluster, and the topics each connector used.

Writes come from the worker that runs the connector or task. ``put_safe`` writes are dropped
when a newer generation already reported a different worker's status, so a worker that lost
its task in a rebalance cannot overwrite the status of the worker that took it over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kconnect.runtime.states import Status, TaskId


@dataclass(frozen=True)
class TopicStatus:
    """A topic a connector's task produced to or consumed from (``status-topic-<t>:connector-<c>``)."""

    topic: str
    connector: str
    task: int
    discover_timestamp_ms: int


class StatusBackingStore:
    """Statuses of connectors and tasks of the whole cluster."""

    def configure(self, worker_config: Mapping[str, Any]) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def put_connector(self, connector: str, status: Status, safe: bool = False) -> None:
        raise NotImplementedError

    def put_task(self, task: TaskId, status: Status, safe: bool = False) -> None:
        raise NotImplementedError

    def connector(self, connector: str) -> Status | None:
        raise NotImplementedError

    def task(self, task: TaskId) -> Status | None:
        raise NotImplementedError

    def tasks(self, connector: str) -> dict[int, Status]:
        raise NotImplementedError

    def connectors(self) -> set[str]:
        raise NotImplementedError

    def put_topic(self, status: TopicStatus) -> None:
        raise NotImplementedError

    def topics(self, connector: str) -> list[TopicStatus]:
        raise NotImplementedError

    def delete_topic(self, connector: str, topic: str) -> None:
        raise NotImplementedError

    def remove_connector(self, connector: str) -> None:
        """Forget a deleted connector's statuses (tombstones in the Kafka store)."""
        raise NotImplementedError

    def flush(self) -> None:
        pass
