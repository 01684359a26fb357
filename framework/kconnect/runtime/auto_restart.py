"""Automatic restart of failed tasks (kconnect only; Apache Kafka Connect leaves a FAILED task
FAILED until someone restarts it through the REST API).

Opt-in per connector::

    kconnect.task.restart.auto.enable=true
    kconnect.task.restart.max.attempts=5
    kconnect.task.restart.backoff.initial.ms=1000
    kconnect.task.restart.backoff.max.ms=60000

When a task of such a connector becomes FAILED, a restart is scheduled after the backoff
(initial, doubling each attempt, at most max). The restart itself runs on the herder's thread,
like a ``POST /connectors/{c}/tasks/{n}/restart``. The task's status shows
``restart_attempts`` and, while a restart is pending, ``next_restart_at`` (ISO 8601, UTC).
After ``max.attempts`` restarts in a row the task stays FAILED. The count starts again after a
manual restart, a change of the connector's config, or when the task has run for
``backoff.max.ms`` without failing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kconnect.runtime.connector_config import (
    TASK_RESTART_AUTO_ENABLE,
    TASK_RESTART_BACKOFF_INITIAL_MS,
    TASK_RESTART_BACKOFF_MAX_MS,
    TASK_RESTART_MAX_ATTEMPTS,
)
from kconnect.runtime.states import State, TaskId

log = logging.getLogger(__name__)

ATTEMPTS_FIELD = "restart_attempts"
NEXT_RESTART_FIELD = "next_restart_at"


@dataclass(frozen=True)
class RestartPolicy:
    enabled: bool = False
    max_attempts: int = 5
    initial_backoff_ms: int = 1000
    max_backoff_ms: int = 60000

    @classmethod
    def of(cls, config: Mapping[str, Any] | None) -> RestartPolicy:
        if not config:
            return cls()

        def number(key: str, default: int) -> int:
            try:
                return int(str(config.get(key, default)).strip())
            except ValueError:
                return default

        return cls(
            enabled=str(config.get(TASK_RESTART_AUTO_ENABLE, "false")).strip().lower() == "true",
            max_attempts=max(0, number(TASK_RESTART_MAX_ATTEMPTS, 5)),
            initial_backoff_ms=max(0, number(TASK_RESTART_BACKOFF_INITIAL_MS, 1000)),
            max_backoff_ms=max(0, number(TASK_RESTART_BACKOFF_MAX_MS, 60000)),
        )

    def backoff_ms(self, attempts_so_far: int) -> int:
        """The wait before restart number ``attempts_so_far + 1``."""
        delay = self.initial_backoff_ms * (2 ** min(attempts_so_far, 40))
        return min(delay, self.max_backoff_ms) if self.max_backoff_ms else delay


@dataclass
class _TaskRestarts:
    attempts: int = 0
    next_restart_at: float | None = None  # wall clock, for the status
    timer: threading.Timer | None = None
    running_since: float | None = None  # monotonic
    config_seen: tuple[tuple[str, str], ...] | None = None
    token: int = 0
    #: the task's last state reported on this worker; the status store may lag behind it
    last_state: State | None = None


class AutoRestarter:
    """Listens to task states and restarts FAILED tasks of connectors that opted in.

    ``config_of(name)`` returns a connector's current config (None once deleted);
    ``submit(fn, *args)`` runs ``fn`` on the herder's thread; ``restart_task(name, n)`` restarts
    a task there. Whether a task is still FAILED when its restart is due is judged from the
    states this worker's tasks reported, not from the status store: in a cluster the store
    reads its own writes back from the status topic, and a restart skipped because it had not
    yet would never be scheduled again.
    """

    def __init__(
        self,
        config_of: Callable[[str], Mapping[str, Any] | None],
        submit: Callable[..., Any],
        restart_task: Callable[[str, int], None],
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._config_of = config_of
        self._submit = submit
        self._restart_task = restart_task
        self._wall = wall_clock
        self._monotonic = monotonic
        self._tasks: dict[TaskId, _TaskRestarts] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- the status listener (any thread) ------------------------------------------------------
    def on_task_state(self, task_id: TaskId, state: State, trace: str | None = None) -> None:
        with self._lock:
            known = self._tasks.get(task_id)
            if known is not None:
                known.last_state = state
        if state is State.RUNNING:
            with self._lock:
                entry = self._tasks.get(task_id)
                if entry is not None:
                    entry.running_since = self._monotonic()
            return
        if state is not State.FAILED:
            return
        config = self._config_of(task_id.connector)
        policy = RestartPolicy.of(config)
        if not policy.enabled or self._closed:
            return
        snapshot = tuple(sorted((config or {}).items()))
        with self._lock:
            entry = self._tasks.setdefault(task_id, _TaskRestarts())
            if entry.config_seen is not None and entry.config_seen != snapshot:
                self._reset_locked(entry)
            entry.config_seen = snapshot
            entry.last_state = State.FAILED
            if (
                entry.running_since is not None
                and entry.attempts
                and (self._monotonic() - entry.running_since) * 1000 >= policy.max_backoff_ms
            ):
                # It ran long enough to count as recovered: this is a new run of failures.
                self._reset_locked(entry)
            entry.running_since = None
            if entry.timer is not None:
                return  # already scheduled
            if entry.attempts >= policy.max_attempts:
                log.error(
                    "Task %s failed; it was restarted automatically %d times "
                    "(kconnect.task.restart.max.attempts) and stays FAILED",
                    task_id,
                    entry.attempts,
                )
                return
            delay_ms = policy.backoff_ms(entry.attempts)
            entry.next_restart_at = self._wall() + delay_ms / 1000
            entry.token += 1
            timer = threading.Timer(delay_ms / 1000, self._due, args=(task_id, entry.token))
            timer.daemon = True
            timer.name = f"auto-restart-{task_id}"
            entry.timer = timer
        log.info(
            "Task %s failed; automatic restart %d of %d in %d ms",
            task_id,
            entry.attempts + 1,
            policy.max_attempts,
            delay_ms,
        )
        timer.start()

    # -- restarting (timer thread, then herder thread) ----------------------------------------
    def _due(self, task_id: TaskId, token: int) -> None:
        try:
            self._submit(self._restart_if_still_failed, task_id, token)
        except RuntimeError:  # the herder is shutting down
            pass

    def _restart_if_still_failed(self, task_id: TaskId, token: int) -> None:
        with self._lock:
            entry = self._tasks.get(task_id)
            if entry is None or entry.token != token or self._closed:
                return
            entry.timer = None
            entry.next_restart_at = None
            still_failed = entry.last_state is State.FAILED
        config = self._config_of(task_id.connector)
        if not RestartPolicy.of(config).enabled or not still_failed:
            return
        with self._lock:
            entry.attempts += 1
            attempt = entry.attempts
        log.info("Restarting failed task %s automatically (attempt %d)", task_id, attempt)
        try:
            self._restart_task(task_id.connector, task_id.task)
        except Exception:
            log.exception("Automatic restart of task %s failed", task_id)

    # -- queries and resets --------------------------------------------------------------------
    def status_fields(self, task_id: TaskId) -> dict[str, Any]:
        """The extra fields of the task's status JSON (none unless the connector opted in)."""
        if not RestartPolicy.of(self._config_of(task_id.connector)).enabled:
            return {}
        with self._lock:
            entry = self._tasks.get(task_id)
            attempts = entry.attempts if entry else 0
            next_at = entry.next_restart_at if entry else None
        fields: dict[str, Any] = {ATTEMPTS_FIELD: attempts}
        if next_at is not None:
            fields[NEXT_RESTART_FIELD] = (
                datetime.fromtimestamp(next_at, UTC)
                .isoformat(timespec="milliseconds")
                .replace("+00:00", "Z")
            )
        return fields

    def reset(self, connector: str, task: int | None = None) -> None:
        """A manual restart: cancel what is pending and count from zero."""
        with self._lock:
            for task_id, entry in self._tasks.items():
                if task_id.connector == connector and (task is None or task_id.task == task):
                    self._reset_locked(entry)

    def forget(self, connector: str) -> None:
        with self._lock:
            for task_id in [t for t in self._tasks if t.connector == connector]:
                self._reset_locked(self._tasks.pop(task_id))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for entry in self._tasks.values():
                self._reset_locked(entry)

    @staticmethod
    def _reset_locked(entry: _TaskRestarts) -> None:
        if entry.timer is not None:
            entry.timer.cancel()
        entry.timer = None
        entry.next_restart_at = None
        entry.attempts = 0
        entry.token += 1
