"""What every task thread has in common: lifecycle, target state, status reporting.

A task runs on a thread of its own. The herder asks it to pause, resume or stop; the thread
notices at the next loop iteration. Failures become the FAILED state with the stack trace.
Everything logged on the task's thread, and by the herder while it stops the task, carries the
task's ``[connector|task-N] `` context (``runtime.log_context``); the runner's ``metrics`` hold
its counters (``runtime.metrics``).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from kconnect.api.converter import Converter, HeaderConverter
from kconnect.api.task import Task
from kconnect.runtime import log_context
from kconnect.runtime.errors.error_handler import ErrorHandler
from kconnect.runtime.metrics.task_metrics import TaskMetrics
from kconnect.runtime.states import State, TargetState, TaskId
from kconnect.runtime.worker.transformation_chain import TransformationChain

log = logging.getLogger(__name__)


class TaskStatusListener(Protocol):
    def on_task_state(self, task_id: TaskId, state: State, trace: str | None = None) -> None: ...


class TaskPlugins:
    """The plugin instances one task works with."""

    def __init__(
        self,
        task: Task,
        key_converter: Converter,
        value_converter: Converter,
        header_converter: HeaderConverter,
        transformations: TransformationChain,
        error_handler: ErrorHandler,
    ):
        self.task = task
        self.key_converter = key_converter
        self.value_converter = value_converter
        self.header_converter = header_converter
        self.transformations = transformations
        self.error_handler = error_handler

    def close(self) -> None:
        for closeable in (
            self.key_converter,
            self.value_converter,
            self.header_converter,
            self.transformations,
            self.error_handler,
        ):
            try:
                closeable.close()
            except Exception:  # noqa: BLE001 - keep closing the rest
                log.exception("Error closing %s", type(closeable).__name__)


class TaskRunner:
    """The thread that runs one task. Subclasses implement :meth:`execute`."""

    #: the counters this kind of task keeps
    metrics_class: type[TaskMetrics] = TaskMetrics

    def __init__(
        self,
        task_id: TaskId,
        task_config: Mapping[str, str],
        connector_config: Mapping[str, Any],
        plugins: TaskPlugins,
        worker_config: Mapping[str, Any],
        listener: TaskStatusListener,
        initial_state: TargetState = TargetState.STARTED,
    ):
        self.id = task_id
        self.task_config = dict(task_config)
        self.connector_config = connector_config
        self.plugins = plugins
        self.task = plugins.task
        self.worker_config = worker_config
        self.listener = listener
        self.target_state = initial_state
        self.state = State.UNASSIGNED
        self.trace: str | None = None
        self._stopping = threading.Event()
        self._task_stop_lock = threading.Lock()
        self._task_stop_called = False
        self._state_changed = threading.Condition()
        self.metrics = self.metrics_class()
        # Counts each record that failed (after retries) and when the last one did.
        reporters = getattr(plugins.error_handler, "reporters", None)
        if isinstance(reporters, list):
            reporters.append(self.metrics.errors)
        self.log_context = log_context.task_prefix(task_id.connector, task_id.task)
        self._thread = threading.Thread(target=self._run, name=f"task-{task_id}", daemon=True)

    # -- control (called from the herder's thread) -----------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def transition_to(self, target: TargetState) -> None:
        with self._state_changed:
            self.target_state = target
            self._state_changed.notify_all()

    def stop(self) -> None:
        """Ask the task to stop; returns at once. ``await_stop`` waits for it."""
        self._stopping.set()
        self.plugins.error_handler.stop()  # ends a retry backoff at once
        with self._state_changed:
            self._state_changed.notify_all()
        with log_context.scope(self.log_context):
            self.on_stop_requested()

    def await_stop(self, timeout_s: float) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()

    # -- thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        log_context.set_current(self.log_context)
        try:
            self.initialize_task()
            self.task.start(self.task_config)
            log.info("%s Task started", self)
            self._set_state(
                State.PAUSED if self.target_state is TargetState.PAUSED else State.RUNNING
            )
            self.execute()
        except BaseException as error:  # noqa: BLE001 - any failure becomes the FAILED state
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            log.error(
                "%s Task threw an uncaught and unrecoverable exception. Task is being killed "
                "and will not recover until manually restarted",
                self,
                exc_info=error,
            )
            self.trace = "".join(traceback.format_exception(error))
            self._set_state(State.FAILED, self.trace)
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        # Runner resources first: a sink's final commit calls pre_commit(), which must run
        # before the task is stopped.
        try:
            self.close()
        except Exception:  # noqa: BLE001
            log.exception("%s Error closing task resources", self)
        try:
            self.stop_task_once()
        except Exception:  # noqa: BLE001
            log.exception("%s Error stopping task", self)
        self.plugins.close()
        if self.state is not State.FAILED:
            self._set_state(State.UNASSIGNED)
        log.info("%s Task stopped", self)

    def _set_state(self, state: State, trace: str | None = None) -> None:
        self.state = state
        self.metrics.state_changed(state.value)
        try:
            self.listener.on_task_state(self.id, state, trace)
        except Exception:  # noqa: BLE001 - a broken listener must not kill the task
            log.exception("%s Status listener failed", self)

    def stop_task_once(self) -> None:
        """Call the plugin's ``stop()`` exactly once, whichever thread gets here first."""
        with self._task_stop_lock:
            if self._task_stop_called:
                return
            self._task_stop_called = True
        self.task.stop()

    def await_unpaused(self, idle: Callable[[], None] | None = None) -> bool:
        """Block while the target state is PAUSED, calling ``idle`` (if given) meanwhile so
        clients stay alive. Returns False when the task is stopping."""
        if not self.paused:
            return not self.stopping
        self._set_state(State.PAUSED)
        self.on_pause()
        while self.paused and not self.stopping:
            if idle is not None:
                idle()
            else:
                with self._state_changed:
                    if self.paused and not self.stopping:
                        self._state_changed.wait(0.5)
        if self.stopping:
            return False
        self.on_resume()
        self._set_state(State.RUNNING)
        return True

    @property
    def paused(self) -> bool:
        return self.target_state is not TargetState.STARTED

    # -- for subclasses --------------------------------------------------------------------------
    def initialize_task(self) -> None:
        """Give the task its context, before start()."""

    def execute(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release clients; called on the task thread after task.stop()."""

    def on_stop_requested(self) -> None:
        """Called on the herder's thread when stop() is asked."""

    def on_pause(self) -> None:
        pass

    def on_resume(self) -> None:
        pass

    def __str__(self) -> str:
        return f"{type(self).__name__}{{id={self.id}}}"
