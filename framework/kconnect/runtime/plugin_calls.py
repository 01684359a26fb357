"""Calling plugin code that may block forever.

Connector.start/stop/validate/task_configs and Task.stop run user code. A call that hangs must
not hang the herder or the REST API, so such calls run on a thread of their own and the caller
waits at most a bounded time. The stuck thread is left behind (Python cannot kill a thread); it
is a daemon, so it never keeps the process alive. The thread logs under its caller's connector
context (:mod:`kconnect.runtime.log_context`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from kconnect.api.errors import ConnectException
from kconnect.runtime import log_context

T = TypeVar("T")


class PluginTimeoutError(ConnectException):
    """A plugin method did not return in time."""


def call_with_timeout(what: str, timeout_s: float, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` and return its result; raise its exception; or raise
    PluginTimeoutError naming ``what`` when it takes longer than ``timeout_s`` seconds."""
    outcome: dict[str, Any] = {}
    done = threading.Event()
    # The plugin logs under the caller's connector context ("[name|worker] "), on its thread.
    context = log_context.current()

    def run() -> None:
        log_context.set_current(context)
        try:
            outcome["result"] = fn(*args)
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            outcome["error"] = error
        finally:
            done.set()

    thread = threading.Thread(target=run, name=f"plugin-call:{what}", daemon=True)
    thread.start()
    if not done.wait(timeout_s):
        raise PluginTimeoutError(f"{what} did not complete within {timeout_s * 1000:.0f} ms")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
