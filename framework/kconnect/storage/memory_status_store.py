"""The latest status of every connector and task in this worker (Kafka Connect's
StatusBackingStore, in memory), and the listener that feeds it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kconnect.plugins import hooks
from kconnect.runtime.states import State, Status, TaskId

log = logging.getLogger(__name__)


class StatusStore:
    """Connector and task statuses; it also tells the ``kconnect.hooks`` status listeners."""

    def __init__(self, worker_id: str):
        self.worker_id = worker_id
        self._connectors: dict[str, Status] = {}
        self._tasks: dict[TaskId, Status] = {}
        self._lock = threading.Lock()
        #: called after every task state change, on the thread that reported it
        self.task_listeners: list[Callable[[TaskId, State, str | None], None]] = []

    # listener side ------------------------------------------------------------------------------
    def on_connector_state(self, connector: str, state: State, trace: str | None = None) -> None:
        with self._lock:
            self._connectors[connector] = Status(state, self.worker_id, trace)
        self._notify(
            lambda h: h.kconnect_connector_status_changed(
                connector=connector, state=state.value, worker_id=self.worker_id
            )
        )

    def on_task_state(self, task_id: TaskId, state: State, trace: str | None = None) -> None:
        with self._lock:
            current = self._tasks.get(task_id)
            # A task that failed stays FAILED while its thread shuts down.
            if current is not None and current.state is State.FAILED and state is State.UNASSIGNED:
                return
            self._tasks[task_id] = Status(state, self.worker_id, trace)
        for listener in self.task_listeners:
            try:
                listener(task_id, state, trace)
            except Exception:  # noqa: BLE001 - a failing listener is logged, never fatal
                log.exception("A task status listener failed")
        self._notify(
            lambda h: h.kconnect_task_status_changed(
                connector=task_id.connector,
                task=task_id.task,
                state=state.value,
                worker_id=self.worker_id,
                trace=trace,
            )
        )

    def _notify(self, call: object) -> None:
        try:
            call(hooks().hook)  # type: ignore[operator]
        except Exception:  # noqa: BLE001 - a failing status listener is logged, never fatal
            log.exception("A kconnect.hooks status listener failed")

    # query side ---------------------------------------------------------------------------------
    def connector(self, connector: str) -> Status | None:
        return self._connectors.get(connector)

    def task(self, task_id: TaskId) -> Status | None:
        return self._tasks.get(task_id)

    def tasks(self, connector: str) -> dict[int, Status]:
        with self._lock:
            return {t.task: s for t, s in self._tasks.items() if t.connector == connector}

    def put_task(self, task_id: TaskId, status: Status) -> None:
        with self._lock:
            self._tasks[task_id] = status

    def remove(self, connector: str) -> None:
        with self._lock:
            self._connectors.pop(connector, None)
            for task_id in [t for t in self._tasks if t.connector == connector]:
                del self._tasks[task_id]

    def remove_tasks_from(self, connector: str, first_gone: int) -> None:
        with self._lock:
            for task_id in [
                t for t in self._tasks if t.connector == connector and t.task >= first_gone
            ]:
                del self._tasks[task_id]
