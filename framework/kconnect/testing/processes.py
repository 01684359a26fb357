"""Service processes for tests: started on loopback, never outliving the Python process.

Every throwaway service in :mod:`kconnect.testing` (Kafka nodes, the schema registry,
PostgreSQL, Apache Kafka Connect's Java worker) keeps the same promises, kept here once:

* it runs in its own session, so Ctrl-C in a terminal reaches pytest, not the service, and a
  signal can reach the service's whole process group;
* it dies with this process: ``PR_SET_PDEATHSIG`` on Linux covers a test run killed with
  SIGKILL or crashing hard, :func:`stop_at_exit` covers a normal interpreter exit;
* every wait is bounded: :func:`wait_until_ready` gives up at a deadline, and :func:`stop`
  escalates to SIGKILL when the service ignores its polite signal.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

#: Every service listens on this address only.
LOOPBACK = "127.0.0.1"
#: How long a process that was sent SIGKILL may take to be reaped.
_KILL_WAIT_S = 30.0

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_stopped_at_exit: weakref.WeakSet[object] = weakref.WeakSet()


class Service(ABC):
    """A throwaway service that a ``with`` block starts and stops."""

    @abstractmethod
    def start(self) -> Self:
        """Start the service and wait until it is ready; a no-op while it runs."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the service and remove what it left behind; safe to call twice."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class PortTaken(Exception):
    """A service could not bind a port that had been probed as free; start it on new ones."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that is free now (another process may take it before use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def set_parent_death_signal(signum: int = signal.SIGKILL) -> None:
    """Run in a child before exec: ask Linux to send ``signum`` to it when its parent dies.

    Best effort: where prctl is unavailable, :func:`stop_at_exit` and ``stop()`` still clean
    up. It takes no locks, so it is safe in a child forked while librdkafka's threads run.
    """
    with contextlib.suppress(Exception):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signum, 0, 0, 0)


def can_arm_parent_death_signal() -> bool:
    """Whether a child forked now may arm its parent-death signal.

    Linux fires it when the forking *thread* exits, so a child forked by a helper thread would
    be killed while healthy; only the main thread's children get it.
    """
    return sys.platform.startswith("linux") and (
        threading.current_thread() is threading.main_thread()
    )


def launch(
    cmd: Sequence[str],
    *,
    log_file: Path,
    cwd: Path,
    death_signal: int = signal.SIGKILL,
    before_exec: Callable[[], None] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in a session of its own, its stdout and stderr appended to ``log_file``.

    The child runs ``before_exec`` (e.g. dropping privileges) and then arms ``death_signal``
    as its parent-death signal: changing credentials clears that signal, hence the order.
    """
    arm = can_arm_parent_death_signal()

    def child_setup() -> None:
        if before_exec is not None:
            before_exec()
        if arm:
            set_parent_death_signal(death_signal)

    with open(log_file, "ab") as log_handle:
        return subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=child_setup if arm or before_exec is not None else None,  # noqa: PLW1509
        )


def is_running(process: subprocess.Popen[bytes] | None) -> bool:
    """Whether ``process`` was started and has not exited."""
    return process is not None and process.poll() is None


def signal_group(process: subprocess.Popen[bytes] | None, signum: int) -> None:
    """Send ``signum`` to the process group of ``process`` if it still runs."""
    if not is_running(process):
        return
    assert process is not None
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def reap(process: subprocess.Popen[bytes] | None, deadline: float) -> None:
    """Wait for ``process`` to exit until ``deadline`` (``time.monotonic()``), then SIGKILL
    its group and wait for that."""
    if process is None:
        return
    try:
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        log.debug("process %d did not stop in time; killing it", process.pid)
        signal_group(process, signal.SIGKILL)
        process.wait(timeout=_KILL_WAIT_S)


def stop(
    process: subprocess.Popen[bytes] | None,
    timeout: float = _KILL_WAIT_S,
    signum: int = signal.SIGTERM,
) -> None:
    """Send ``signum`` to the group of ``process``, give it ``timeout`` s to exit, then SIGKILL
    it. ``stop(process, signum=signal.SIGKILL)`` is a crash, as a test wants one."""
    signal_group(process, signum)
    reap(process, time.monotonic() + timeout)


def stop_at_exit(owner: _T, stop_owner: Callable[[_T], object]) -> None:
    """Call ``stop_owner(owner)`` at interpreter exit, once however often this is called.

    Only a weak reference is registered, so that the registration does not keep ``owner``
    alive; ``stop_owner`` must not hold ``owner`` either.
    """
    if owner in _stopped_at_exit:
        return
    _stopped_at_exit.add(owner)
    ref = weakref.ref(owner)
    atexit.register(lambda: (o := ref()) is not None and stop_owner(o))


def wait_until_ready(
    probe: Callable[[], str | None],
    deadline: float,
    *,
    check_alive: Callable[[], None],
    timed_out: Callable[[str], BaseException],
    interval: float = 0.2,
) -> None:
    """Poll a starting service until ``probe`` says it is ready, or give up at ``deadline``.

    Each round calls ``check_alive`` (which raises when the service has exited), then ``probe``,
    which returns None once the service is ready, else why it is not. At the deadline
    ``timed_out(last reason)`` is raised.
    """
    last_reason = "no answer yet"
    while True:
        check_alive()
        reason = probe()
        if reason is None:
            return
        last_reason = reason
        if time.monotonic() >= deadline:
            raise timed_out(last_reason)
        time.sleep(interval)


def file_tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of the log at ``path``, or ``(no log)`` when it cannot be read."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
