"""Statuses kept in memory: the standalone worker's status store (Kafka's
MemoryStatusBackingStore). A standalone worker is the only writer, so ``safe`` changes nothing."""

from __future__ import annotations

import threading

from kconnect.runtime.states import Status, TaskId
from kconnect.storage.status_backing_store import StatusBackingStore, TopicStatus


class MemoryStatusBackingStore(StatusBackingStore):
    def __init__(self) -> None:
        self._connectors: dict[str, Status] = {}
        self._tasks: dict[TaskId, Status] = {}
        self._topics: dict[str, dict[str, TopicStatus]] = {}
        self._lock = threading.Lock()

    def put_connector(self, connector: str, status: Status, safe: bool = False) -> None:
        with self._lock:
            self._connectors[connector] = status

    def put_task(self, task: TaskId, status: Status, safe: bool = False) -> None:
        with self._lock:
            self._tasks[task] = status

    def connector(self, connector: str) -> Status | None:
        return self._connectors.get(connector)

    def task(self, task: TaskId) -> Status | None:
        return self._tasks.get(task)

    def tasks(self, connector: str) -> dict[int, Status]:
        with self._lock:
            return {t.task: s for t, s in self._tasks.items() if t.connector == connector}

    def connectors(self) -> set[str]:
        return set(self._connectors)

    def put_topic(self, status: TopicStatus) -> None:
        with self._lock:
            self._topics.setdefault(status.connector, {})[status.topic] = status

    def topics(self, connector: str) -> list[TopicStatus]:
        return sorted(self._topics.get(connector, {}).values(), key=lambda t: t.topic)

    def delete_topic(self, connector: str, topic: str) -> None:
        with self._lock:
            self._topics.get(connector, {}).pop(topic, None)

    def remove_connector(self, connector: str) -> None:
        with self._lock:
            self._connectors.pop(connector, None)
            for task_id in [t for t in self._tasks if t.connector == connector]:
                del self._tasks[task_id]
            self._topics.pop(connector, None)

    def remove_tasks_from(self, connector: str, first_gone: int) -> None:
        with self._lock:
            for task_id in [
                t for t in self._tasks if t.connector == connector and t.task >= first_gone
            ]:
                del self._tasks[task_id]
