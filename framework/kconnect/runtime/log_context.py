"""Which connector or task a log line was written for: Kafka Connect's ``connector.context``.

Invariant: every log record created on a thread that runs connector or task code carries that
connector's context in ``record.connector_context`` (``"[my-connector|task-0] "`` for a task,
``"[my-connector|worker] "`` for the connector instance, ``""`` elsewhere), whoever logs it:
kconnect's own modules, the plugin's own module loggers, converters, transforms, and the
librdkafka log and delivery/rebalance callbacks (confluent-kafka serves those on the thread that
polls the client, which is the task thread).

How: the context lives in a :class:`contextvars.ContextVar` set by the threads that run plugin
code (the task thread, the plugin-call threads of :mod:`kconnect.runtime.plugin_calls`, the
herder while it starts or stops a connector); a log record factory copies it onto each record
when the record is created, i.e. on the logging thread, so it needs no filter on any handler and
no lookup per handler. Threads a plugin starts itself inherit the context of the thread that
created them (:func:`install` hooks ``threading.Thread``), so a plugin's background thread logs
under its task's context too. The format string puts ``%(connector_context)s`` right before the
message, as Kafka's ``%X{connector.context}%m`` does.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: the attribute every record gets (the log format refers to it as ``%(connector_context)s``)
RECORD_ATTRIBUTE = "connector_context"

_context: contextvars.ContextVar[str] = contextvars.ContextVar("kconnect_log_context", default="")
_install_lock = threading.Lock()
_installed = False


def connector_prefix(connector: str) -> str:
    """Kafka's prefix for lines of a connector instance: ``[name|worker] ``."""
    return f"[{connector}|worker] "


def task_prefix(connector: str, task: int) -> str:
    """Kafka's prefix for lines of a task: ``[name|task-N] ``."""
    return f"[{connector}|task-{task}] "


def current() -> str:
    """The context of this thread (``""`` outside connector and task code)."""
    return _context.get()


def set_current(prefix: str) -> None:
    """Set this thread's context for good: for threads that only ever run one task."""
    _context.set(prefix)


@contextmanager
def scope(prefix: str) -> Iterator[None]:
    """Log under ``prefix`` for the duration of the block, then restore the previous context."""
    token = _context.set(prefix)
    try:
        yield
    finally:
        _context.reset(token)


def for_connector(connector: str) -> Any:
    """``with for_connector(name):`` lines logged in the block carry ``[name|worker] ``."""
    return scope(connector_prefix(connector))


def for_task(connector: str, task: int) -> Any:
    """``with for_task(name, n):`` lines logged in the block carry ``[name|task-n] ``."""
    return scope(task_prefix(connector, task))


def install() -> None:
    """Give every log record its context and let new threads inherit it. Idempotent; called
    by the command lines before the first line is logged and by the Worker."""
    global _installed
    with _install_lock:
        if _installed:
            return
        _installed = True
        _install_record_factory()
        _install_thread_inheritance()


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    get = _context.get

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.connector_context = get()
        return record

    logging.setLogRecordFactory(factory)


def _install_thread_inheritance() -> None:
    """A thread created while a context is set runs with that context. ``Thread.__init__``
    remembers it (one contextvar read per thread created); ``_bootstrap_inner``, which every
    thread runs before ``run()`` whatever its subclass overrides, sets it. Where CPython's
    thread internals differ, threads simply start without a context."""
    original_init = threading.Thread.__init__
    original_bootstrap = getattr(threading.Thread, "_bootstrap_inner", None)
    if original_bootstrap is None:
        return

    def init(self: threading.Thread, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._kconnect_log_context = _context.get()  # type: ignore[attr-defined]

    def bootstrap_inner(self: threading.Thread) -> None:
        inherited = getattr(self, "_kconnect_log_context", "")
        if inherited:
            _context.set(inherited)
        original_bootstrap(self)

    threading.Thread.__init__ = init  # type: ignore[method-assign]
    threading.Thread._bootstrap_inner = bootstrap_inner  # type: ignore[attr-defined]


class ContextDefaultFilter(logging.Filter):
    """For handlers that may see records made before :func:`install` (or by another record
    factory): gives them an empty context so a format naming ``%(connector_context)s`` never
    fails. It never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, RECORD_ATTRIBUTE):
            record.connector_context = ""
        return True


def connector_method(method: F) -> F:
    """Decorates a method whose first argument is a connector name: it runs, and logs, in
    that connector's context."""

    @functools.wraps(method)
    def wrapper(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        with for_connector(name):
            return method(self, name, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def task_method(method: F) -> F:
    """Decorates a method whose first argument is a TaskId: it runs in that task's context."""

    @functools.wraps(method)
    def wrapper(self: Any, task_id: Any, *args: Any, **kwargs: Any) -> Any:
        with for_task(task_id.connector, task_id.task):
            return method(self, task_id, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


#: the logger librdkafka's own log lines go to (the ``logger`` setting of task clients); they
#: are served by the client's poll() on the task thread, so they carry the task's context
CLIENT_LOGGER = logging.getLogger("kconnect.clients.librdkafka")
