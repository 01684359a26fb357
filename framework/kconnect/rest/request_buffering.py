"""gunicorn's threaded worker, except that a request reaches a thread only once it has arrived.

Why: gthread gives a connection to a request thread as soon as its first bytes arrive, and the
thread then blocks reading the rest of the head and the body. Sixteen clients that send a head
announcing a body and then stall hold all sixteen threads, and the API stops answering. Here
the worker's event loop reads every connection without blocking, the TLS handshake included,
frames the request (:mod:`kconnect.rest.request_framing`) and submits it to the thread pool
only when it is complete; the thread parses it from memory with gunicorn's parser. Therefore:

- a request thread never waits for a client to send. It may wait for one to read the answer,
  for ``rest.request.read.timeout.ms`` at most;
- a request must arrive whole within ``rest.request.read.timeout.ms`` of its first byte (of
  the connection, for a new one, handshake included), or it is answered 408 and closed;
- a body over ``rest.request.max.bytes`` is answered 413 as soon as its size is known (the
  head, for Content-Length; the running count, for chunked bodies), before it is held;
- errors gunicorn answers itself (a bad request line, headers too large …) are JSON in Kafka
  Connect's shape, like every other answer of the API.

Closing a connection after an answer lingers on the loop (reads and drops what the client is
still sending, for a bounded time) rather than blocking the loop, so that a client that has not
finished sending reads the answer instead of a reset, and a client that never closes costs
nothing but a socket.
"""

from __future__ import annotations

import errno
import http
import selectors
import socket
import ssl
import time
from collections import deque
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from gunicorn.http import errors as parse_errors
from gunicorn.http.parser import RequestParser
from gunicorn.sock import ssl_context
from gunicorn.workers.gthread import TConn, ThreadWorker
from kconnect.rest.request_framing import FramingLimits, RequestFraming, Verdict

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_READ_TIMEOUT_MS = 30_000
#: gunicorn's request line bound when it is set to 0 ("unlimited") or above its own maximum
_MAX_REQUEST_LINE = 8190
_RECV_SIZE = 64 * 1024
#: how long a connection closed after an answer keeps draining what its client still sends
_LINGER_S = 2.0
#: recv() calls per readiness event while draining, so one fast sender cannot hold the loop
_DRAIN_READS_PER_EVENT = 16
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
#: how long a stopping worker still waits for requests that are arriving
_STOP_READ_GRACE_S = 2.0


@dataclass(frozen=True)
class RequestLimits:
    """The worker keys ``rest.request.max.bytes`` and ``rest.request.read.timeout.ms``."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    read_timeout_ms: int = DEFAULT_READ_TIMEOUT_MS

    @classmethod
    def from_worker_config(cls, worker_config: Any) -> RequestLimits:
        return cls(
            int(worker_config.get("rest.request.max.bytes")),
            int(worker_config.get("rest.request.read.timeout.ms")),
        )

    @property
    def read_timeout_s(self) -> float:
        return self.read_timeout_ms / 1000


def error_response(status: int, message: str) -> bytes:
    """A complete HTTP/1.1 answer with Kafka Connect's error body; the connection closes."""
    body = orjson.dumps({"error_code": status, "message": message})
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


#: gunicorn's parse errors, as the status and words of the answer (most specific first)
_PARSE_ERRORS: tuple[tuple[type[BaseException], int, str], ...] = (
    (parse_errors.LimitRequestLine, 414, "Request line too long"),
    (parse_errors.LimitRequestHeaders, 431, "Request header fields too large"),
    (parse_errors.UnsupportedTransferCoding, 501, "Unsupported transfer coding"),
    (parse_errors.ExpectationFailed, 417, "Expectation failed"),
    (parse_errors.ForbiddenProxyRequest, 403, "Forbidden"),
    (parse_errors.ParseException, 400, "Bad request"),
)


def describe_parse_error(exc: BaseException) -> tuple[int, str]:
    """(status, message) answering an error gunicorn raised parsing a request; 500 for any
    other error (the message then says nothing of the internals)."""
    for kind, status, words in _PARSE_ERRORS:
        if isinstance(exc, kind) and not isinstance(
            exc, parse_errors.InvalidResponseHeader | parse_errors.InvalidResponseHeaderName
        ):
            detail = str(exc)
            return status, f"{words}: {detail}" if detail else words
    return 500, "Internal Server Error"


class _BufferedConn(TConn):  # type: ignore[misc]
    """A connection and the request arriving on it. The loop owns it while it is reading or
    lingering; a request thread owns it from submission until ``finish_request``."""

    HANDSHAKE, READING, LINGERING = "handshake", "reading", "lingering"

    def __init__(self, cfg: Any, sock: Any, client: Any, server: Any, tls: bool):
        super().__init__(cfg, sock, client, server)  # makes the socket non-blocking
        # TConn.init() would wrap and handshake in blocking mode: the loop has done both.
        self.initialized = True
        self.phase = self.HANDSHAKE if tls else self.READING
        self.deadline = 0.0
        self.framing: RequestFraming | None = None
        self.continue_sent = False
        self.events = 0  # what the poller watches for; 0: not registered


class BufferingThreadWorker(ThreadWorker):  # type: ignore[misc]
    """The REST server's gunicorn worker class (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.limits = getattr(self.app, "request_limits", None) or RequestLimits()
        line_limit = self.cfg.limit_request_line
        fields = self.cfg.limit_request_fields
        field_size = self.cfg.limit_request_field_size
        field_size = field_size if field_size > 0 else 8190
        # gunicorn's own bound of the header fields (and of a trailer section), so that it is
        # the one to refuse a field too long or too many, and only a head past it is cut here.
        head_bytes = (fields if 0 < fields <= 32768 else 32768) * (field_size + 2) + 4
        self.framing_limits = FramingLimits(
            max_body_bytes=self.limits.max_body_bytes,
            max_request_line=(
                None
                if line_limit == 0
                else _MAX_REQUEST_LINE
                if line_limit < 0 or line_limit > _MAX_REQUEST_LINE
                else line_limit
            ),
            max_head_bytes=head_bytes,
            max_chunk_line=field_size,
            max_trailer_bytes=head_bytes,
        )
        self._ssl_context: ssl.SSLContext | None = None
        # Both in deadline order: every entry's deadline is "now + a constant" when appended.
        self._reading: deque[_BufferedConn] = deque()
        self._lingering: deque[_BufferedConn] = deque()

    def init_process(self) -> None:
        if self.cfg.is_ssl:
            # One context for the worker; gunicorn would load the key pair per connection.
            self._ssl_context = ssl_context(self.cfg)
        super().init_process()

    # -- accepting and reading, on the loop -----------------------------------------------------
    def accept(self, listener: socket.socket) -> None:
        try:
            sock, client = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        tls = self._ssl_context is not None
        try:
            if self._ssl_context is not None:
                sock = self._ssl_context.wrap_socket(
                    sock,
                    server_side=True,
                    do_handshake_on_connect=False,
                    suppress_ragged_eofs=self.cfg.suppress_ragged_eofs,
                )
            conn = _BufferedConn(self.cfg, sock, client, listener.getsockname(), tls)
        except OSError:
            self.nr_conns -= 1
            sock.close()
            return
        self._start_request(conn)
        if tls:
            self._handshake(conn)

    def on_client_socket_readable(self, conn: _BufferedConn, client: Any) -> None:
        """A kept-alive connection has its next request coming."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._start_request(conn)
        self._read(conn)

    def _start_request(self, conn: _BufferedConn, pipelined: bytes = b"") -> None:
        conn.framing = RequestFraming(self.framing_limits)
        conn.continue_sent = False
        conn.deadline = time.monotonic() + self.limits.read_timeout_s
        self._reading.append(conn)
        self._watch(conn, selectors.EVENT_READ)
        if pipelined:
            self._received(conn, pipelined)

    def _watch(self, conn: _BufferedConn, events: int) -> None:
        if conn.events == events:
            return
        handler = partial(self._on_event, conn)
        if conn.events:
            self.poller.modify(conn.sock, events, handler)
        else:
            self.poller.register(conn.sock, events, handler)
        conn.events = events

    def _unwatch(self, conn: _BufferedConn) -> None:
        if conn.events:
            conn.events = 0
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass

    def _on_event(self, conn: _BufferedConn, _fileobj: Any) -> None:
        if conn.phase == conn.HANDSHAKE:
            self._handshake(conn)
        elif conn.phase == conn.READING:
            self._read(conn)
        else:
            self._drain(conn)

    def _handshake(self, conn: _BufferedConn) -> None:
        try:
            conn.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._watch(conn, selectors.EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            self._watch(conn, selectors.EVENT_WRITE)
            return
        except (ssl.SSLError, OSError) as e:
            self.log.debug("TLS handshake with %s failed: %s", conn.client, e)
            self._leave_reading(conn)
            self._close(conn)
            return
        conn.phase = conn.READING
        self._watch(conn, selectors.EVENT_READ)
        self._read(conn)  # the client's first bytes may have come with the handshake

    def _read(self, conn: _BufferedConn) -> None:
        # Until the socket has nothing more: a TLS socket holds decrypted bytes the poller
        # does not see. Bounded by the request limits: each read grows the framing's buffer.
        while conn.phase == conn.READING:
            try:
                data = conn.sock.recv(_RECV_SIZE)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                self._watch(conn, selectors.EVENT_READ)  # back from a TLS write wait, if any
                return
            except ssl.SSLWantWriteError:
                self._watch(conn, selectors.EVENT_WRITE)
                return
            except OSError as e:
                self.log.debug("Reading a request from %s failed: %s", conn.client, e)
                self._leave_reading(conn)
                self._close(conn)
                return
            if not data:  # the client went away before its request was complete
                self._leave_reading(conn)
                self._close(conn)
                return
            if not self._received(conn, data):
                return

    def _received(self, conn: _BufferedConn, data: bytes) -> bool:
        """Feed ``data``; act on the verdict. True while the request is still arriving."""
        framing = conn.framing
        assert framing is not None
        verdict = framing.feed(data)
        if verdict is Verdict.INCOMPLETE:
            if framing.expects_continue and not conn.continue_sent:
                conn.continue_sent = True
                self._send_now(conn, _CONTINUE)
            return True
        if verdict in (Verdict.COMPLETE, Verdict.MALFORMED):
            self._submit(conn)
        elif verdict is Verdict.BODY_TOO_LARGE:
            size = (
                f"of {framing.declared_length} bytes "
                if framing.declared_length is not None
                else ""
            )
            self._refuse(
                conn,
                413,
                f"Request body {size}is larger than the limit of "
                f"{self.limits.max_body_bytes} bytes (rest.request.max.bytes)",
            )
        elif verdict is Verdict.REQUEST_LINE_TOO_LONG:
            self._refuse(
                conn,
                414,
                f"Request line too long: longer than {self.framing_limits.max_request_line} bytes",
            )
        else:
            self._refuse(
                conn,
                431,
                "Request header fields too large: more than "
                f"{self.framing_limits.max_head_bytes} bytes",
            )
        return False

    def _submit(self, conn: _BufferedConn) -> None:
        self._leave_reading(conn)
        assert conn.framing is not None
        conn.parser = RequestParser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(conn.framing.take())
        conn.framing = None
        self.enqueue_req(conn)

    def _leave_reading(self, conn: _BufferedConn) -> None:
        self._unwatch(conn)
        try:
            self._reading.remove(conn)
        except ValueError:
            pass

    # -- answering and closing on the loop -------------------------------------------------
    def _refuse(self, conn: _BufferedConn, status: int, message: str) -> None:
        self.log.info("Refused a request from %s: %s %s", conn.client[0], status, message)
        self._leave_reading(conn)
        self._send_now(conn, error_response(status, message))
        self._linger(conn)

    def _send_now(self, conn: _BufferedConn, data: bytes) -> None:
        """Best effort without blocking: answers sent from the loop are a few hundred bytes
        on a connection that has had nothing else to send, so they fit its send buffer."""
        try:
            conn.sock.send(data)
        except (OSError, ssl.SSLError):
            pass

    def _linger(self, conn: _BufferedConn) -> None:
        conn.phase = conn.LINGERING
        conn.deadline = time.monotonic() + _LINGER_S
        if not isinstance(conn.sock, ssl.SSLSocket):
            try:
                conn.sock.shutdown(socket.SHUT_WR)  # the answer is complete: FIN after it
            except OSError:
                self._close(conn)
                return
        self._lingering.append(conn)
        self._watch(conn, selectors.EVENT_READ)

    def _drain(self, conn: _BufferedConn) -> None:
        for _ in range(_DRAIN_READS_PER_EVENT):
            try:
                data = conn.sock.recv(_RECV_SIZE)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                return
            except (OSError, ssl.SSLError):
                data = b""
            if not data:
                self._lingering.remove(conn)
                self._close(conn)
                return

    def _close(self, conn: _BufferedConn) -> None:
        self._unwatch(conn)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Run by the loop about every second: also cut requests past their read timeout and
        end lingering closes. A stopping worker gives requests still arriving
        ``_STOP_READ_GRACE_S`` at most, as gthread does kept-alive connections, so a slow
        client cannot hold the shutdown."""
        super().murder_pending()
        now = time.monotonic()
        if not self.alive:
            # The same cap for all keeps the deque in deadline order.
            for conn in self._reading:
                conn.deadline = min(conn.deadline, now + _STOP_READ_GRACE_S)
        while self._reading and self._reading[0].deadline <= now:
            self._request_timed_out(self._reading[0])
        while self._lingering and self._lingering[0].deadline <= now:
            self._close(self._lingering.popleft())

    def _request_timed_out(self, conn: _BufferedConn) -> None:
        framing = conn.framing
        if conn.phase == conn.READING and framing is not None and framing.buffer:
            self._refuse(
                conn,
                408,
                "Request not received in time: the whole request must arrive within "
                f"{self.limits.read_timeout_ms} ms (rest.request.read.timeout.ms)",
            )
        else:  # nothing was asked: nothing to answer
            self._leave_reading(conn)
            self._close(conn)

    # -- a request thread ---------------------------------------------------------------------
    def handle(self, conn: _BufferedConn) -> bool:
        """Serve the buffered request; whether the connection is kept alive."""
        req = None
        try:
            # The request is in memory; the timeout bounds writing the answer to a client
            # that does not read it.
            conn.sock.settimeout(self.limits.read_timeout_s)
            req = next(conn.parser)
            return bool(self._keepalive_after(conn, self.handle_request(req, conn)))
        except (StopIteration, parse_errors.NoMoreData):
            pass
        except TimeoutError:
            self.log.info("Closed a connection from %s: the client did not read", conn.client[0])
        except ssl.SSLError as e:
            self.log.debug("TLS error serving %s: %s", conn.client[0], e)
        except OSError as e:
            if e.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error serving a request")
        except Exception as e:  # noqa: BLE001 - answered as gunicorn would, in JSON
            self.handle_error(req, conn.sock, conn.client, e)
        return False

    def handle_request(self, req: Any, conn: _BufferedConn) -> Any:
        if conn.continue_sent:
            # The loop already asked for the body; gunicorn would ask again.
            req._expected_100_continue = False
        return super().handle_request(req, conn)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """gunicorn's errors, answered in Kafka Connect's JSON rather than gunicorn's HTML."""
        status, message = describe_parse_error(exc)
        peer = addr[0] if addr else ""
        if status >= 500:
            self.log.error("Error handling a request from %s", peer, exc_info=exc)
        else:
            self.log.warning("Invalid request from %s: %s", peer, message)
        try:
            client.sendall(error_response(status, message))
        except Exception:  # noqa: BLE001 - the client may be gone
            self.log.debug("Failed to send an error answer to %s", peer)

    def finish_request(self, conn: _BufferedConn, fs: Any) -> None:
        """Back on the loop after a request thread: read the next request, keep the connection
        idle, or close it (lingering)."""
        try:
            keepalive = (not fs.cancelled()) and fs.result() is True
        except Exception:  # noqa: BLE001 - handle() returns; a crash closes the connection
            keepalive = False
        try:
            conn.sock.setblocking(False)
        except OSError:
            keepalive = False
        if not keepalive:
            self._linger(conn)
            return
        pipelined = conn.parser.unreader.take_buffered()
        conn.phase = conn.READING
        if pipelined:  # the next request is (partly) here already
            self._start_request(conn, pipelined)
            return
        conn.set_timeout()
        if not self.alive:
            conn.timeout = min(conn.timeout, time.monotonic() + 2.0)
        self.keepalived_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
        )
