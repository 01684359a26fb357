"""Misbehaving HTTP clients over raw sockets on 127.0.0.1, for tests/integration/test_abuse.py.

Every client here is bounded: each socket has a timeout, each loop a deadline or a count, so
a worker that hangs makes a test fail with an outcome ("timeout") instead of hanging it. What a
client saw is one :data:`Outcome`: the HTTP status of the answer it read, or a word saying why
there was none ("closed", "reset", "timeout")."""

from __future__ import annotations

import collections
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

#: An HTTP status, or why no answer was read: "closed" (EOF before a status line), "reset"
#: (the worker reset the connection), "timeout" (no answer within the client's bound).
Outcome = int | str

#: How long any raw client waits for an answer to a request it has finished sending.
ANSWER_TIMEOUT_S = 20.0


def connect(port: int, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_status(sock: socket.socket, timeout: float = ANSWER_TIMEOUT_S) -> Outcome:
    """The status of the first answer on ``sock``; its body is not read."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return "closed"
            data += chunk
            if len(data) > 65536:
                return "garbage"
    except TimeoutError:
        return "timeout"
    except ConnectionResetError:
        return "reset"
    parts = data.split(b"\r\n", 1)[0].split()
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return "garbage"
    return int(parts[1])


def exchange(port: int, pieces: Iterable[bytes], timeout: float = ANSWER_TIMEOUT_S) -> Outcome:
    """Send ``pieces`` in turn on a new connection, then read the answer's status. An answer
    the worker sends before the request is complete (413 for a body it will not read) stops the
    sending; it is then read like any other answer."""
    with connect(port) as sock:
        try:
            for piece in pieces:
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered (and closed) before the end: read the answer below
        except TimeoutError:
            return "timeout"  # the worker stopped reading without answering
        return read_status(sock, timeout)


class HeldSockets:
    """Connections that send part of a request and then stall, kept open until closed.

    Half of them stop inside the head, half send a head announcing a body and part of it.
    The worker cuts them after ``rest.request.read.timeout.ms``; the test closes them first."""

    HEADS = (
        b"GET /connectors HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Stalled: ",
        b"POST /connectors HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"name": "held',
    )

    def __init__(self, port: int, count: int):
        self.sockets: list[socket.socket] = []
        for i in range(count):
            sock = connect(port)
            sock.sendall(self.HEADS[i % 2])
            self.sockets.append(sock)

    def still_open(self) -> int:
        """How many have not been answered or closed by the worker (nothing to read yet)."""
        open_ = 0
        for sock in self.sockets:
            sock.setblocking(False)
            try:
                sock.recv(1, socket.MSG_PEEK)  # an answer or EOF: no longer held
            except BlockingIOError:
                open_ += 1
            except OSError:
                pass
            finally:
                sock.setblocking(True)
        return open_

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.sockets.clear()


class Slowloris(threading.Thread):
    """Drips a never-ending request head onto one connection, a byte a second, until stopped;
    records what the worker answered, if anything ("dripping" when it was still reading)."""

    def __init__(self, port: int, stop: threading.Event, outcomes: Outcomes):
        super().__init__(name="slowloris", daemon=True)
        self.port, self.stop, self.outcomes = port, stop, outcomes

    def run(self) -> None:
        head = b"GET /connectors HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: " + b"d" * 100_000
        with connect(self.port) as sock:
            for byte in head:
                if self.stop.wait(1.0):
                    break
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    # Cut by the worker (the read timeout): it may have answered 408 first.
                    self.outcomes.add("slowloris", read_status(sock, 5))
                    return
            self.outcomes.add("slowloris", "dripping")


class Outcomes:
    """What every abusive request got, by label; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_label: dict[str, collections.Counter[Outcome]] = collections.defaultdict(
            collections.Counter
        )
        self.examples: dict[tuple[str, Outcome], str] = {}

    def add(self, label: str, outcome: Outcome, detail: str = "") -> None:
        with self._lock:
            self.by_label[label][outcome] += 1
            self.examples.setdefault((label, outcome), detail)

    def total(self) -> int:
        with self._lock:
            return sum(sum(c.values()) for c in self.by_label.values())

    def unexpected(self, allowed: dict[str, set[Outcome]]) -> list[str]:
        """Each (label, outcome) not in ``allowed[label]``, with an example request."""
        with self._lock:
            return [
                f"{label}: {outcome} x{count} (e.g. {self.examples[(label, outcome)][:300]})"
                for label, counter in sorted(self.by_label.items())
                for outcome, count in counter.items()
                if outcome not in allowed.get(label, set())
            ]

    def summary(self) -> str:
        with self._lock:
            return "; ".join(
                f"{label} {dict(counter)}" for label, counter in sorted(self.by_label.items())
            )


@contextmanager
def threads_running(threads: list[threading.Thread], join_s: float) -> Iterator[None]:
    """Start ``threads``; on exit join each within ``join_s`` in all and fail if one is left."""
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        deadline = time.monotonic() + join_s
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in threads if t.is_alive()]
    assert not alive, f"abuse threads still running after {join_s}s: {alive}"
