"""The listener the Worker reports connector and task states to: it stamps each state with this
worker's id and the current group generation, writes it to the status store, and tells the
``kconnect.hooks`` status listeners and the herder's own task listeners (automatic restarts).

Traces pass through the worker's secret masker first (see ``runtime.secret_masking``): a trace is
shown by REST, kept in the status topic and handed to listeners, so it must not carry a secret
an error message happened to repeat.

In a cluster, a worker writes its statuses *safely* (see StatusBackingStore): once it lost a task
in a rebalance, its late reports cannot hide the status written by the worker that took over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kconnect.plugins import hooks
from kconnect.runtime.secret_masking import secret_masker
from kconnect.runtime.states import State, Status, TaskId
from kconnect.runtime.worker.worker import ConnectorStatusListener
from kconnect.storage.status_backing_store import StatusBackingStore

log = logging.getLogger(__name__)


class StatusReporter(ConnectorStatusListener):
    """Connector and task state changes of this worker -> the status store and listeners."""

    def __init__(self, worker_id: str, store: StatusBackingStore, safe_writes: bool = False):
        self.worker_id = worker_id
        self.store = store
        self.safe_writes = safe_writes
        #: the group generation the statuses are written under (0 in standalone mode)
        self.generation = 0
        #: whether a connector still exists; states of deleted connectors are not written, so a
        #: worker stopping a deleted connector cannot bring its status records back
        self.exists: Callable[[str], bool] = lambda connector: True
        #: the version of a connector (by name) or task, stamped on its statuses
        self.version_of: Callable[[str | TaskId], str | None] = lambda key: None
        #: called after every task state change, on the thread that reported it
        self.task_listeners: list[Callable[[TaskId, State, str | None], None]] = []

    def on_connector_state(self, connector: str, state: State, trace: str | None = None) -> None:
        if not self.exists(connector):
            return
        trace = secret_masker().mask_optional(trace)
        status = Status(
            state, self.worker_id, trace, self.generation, version=self.version_of(connector)
        )
        self.store.put_connector(connector, status, safe=self.safe_writes)
        self._notify(
            lambda h: h.kconnect_connector_status_changed(
                connector=connector, state=state.value, worker_id=self.worker_id
            )
        )

    def on_task_state(self, task_id: TaskId, state: State, trace: str | None = None) -> None:
        if not self.exists(task_id.connector):
            return
        trace = secret_masker().mask_optional(trace)
        current = self.store.task(task_id)
        # A task that failed stays FAILED while its thread shuts down.
        if (
            current is not None
            and current.state is State.FAILED
            and current.worker_id == self.worker_id
            and state is State.UNASSIGNED
        ):
            return
        self.store.put_task(
            task_id,
            Status(state, self.worker_id, trace, self.generation, version=self.version_of(task_id)),
            safe=self.safe_writes,
        )
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

    def _notify(self, call: Callable[[Any], object]) -> None:
        try:
            call(hooks().hook)
        except Exception:  # noqa: BLE001 - a failing status listener is logged, never fatal
            log.exception("A kconnect.hooks status listener failed")
