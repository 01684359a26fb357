"""Forwarding REST requests to another worker, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from kconnect.rest.errors import ConnectRestError
from kconnect.rest.forwarding import (
    NO_LEADER_MESSAGE,
    TOO_MANY_HOPS_MESSAGE,
    build_forward_url,
    connector_path,
    forward_request,
    internal_request,
    parse_forward_param,
)
from kconnect.rest.request_signing import (
    SIGNATURE_ALGORITHM_HEADER,
    SIGNATURE_HEADER,
    SessionKey,
    verify_request,
)

pytestmark = pytest.mark.timeout(30)


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Leader:
    """A stand-in leader: records each request and answers with ``reply``."""

    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    reply: tuple[int, bytes, dict[str, str]] = (200, b"{}", {})
    delay_s: float = 0.0

    @property
    def last(self) -> Seen:
        assert self.requests, "the leader received no request"
        return self.requests[-1]


@pytest.fixture
def leader() -> Iterator[Leader]:
    state = Leader()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            time.sleep(state.delay_s)
            status, data, headers = state.reply
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 204:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if status != 204:
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def forward(leader_url: str | None, **overrides: Any):
    args: dict[str, Any] = {
        "method": "POST",
        "path": "/connectors",
        "query": None,
        "body": b'{"name":"c"}',
        "headers": {},
        "forward": None,
        "timeout_s": 5.0,
    }
    args.update(overrides)
    return forward_request(leader_url, **args)


def raised(fn, *args: Any, **kwargs: Any) -> ConnectRestError:
    with pytest.raises(ConnectRestError) as caught:
        fn(*args, **kwargs)
    return caught.value


# -- what is sent -------------------------------------------------------------------------------


def test_first_hop_sends_forward_true_then_the_query_path_and_body(leader):
    forward(
        leader.url,
        method="POST",
        path=connector_path("my connector", "restart"),
        query={"includeTasks": True, "onlyFailed": "false"},
        body=b'{"x": 1}',
    )
    seen = leader.last
    assert seen.method == "POST"
    assert seen.target == (
        "/connectors/my%20connector/restart?forward=true&includeTasks=true&onlyFailed=false"
    )
    assert seen.body == b'{"x": 1}'
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["User-Agent"] == "kafka-connect"


def test_second_hop_sends_forward_false(leader):
    forward(leader.url, method="PUT", path="/connectors/c/stop", body=None, forward=True)
    assert leader.last.target == "/connectors/c/stop?forward=false"
    assert leader.last.method == "PUT"
    assert "Content-Type" not in leader.last.headers


def test_a_third_hop_is_refused_with_409_without_sending(leader):
    error = raised(forward, leader.url, forward=False)
    assert (error.status_code, error.message) == (409, TOO_MANY_HOPS_MESSAGE)
    assert TOO_MANY_HOPS_MESSAGE == (
        "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
    )
    assert leader.requests == []


@pytest.mark.parametrize("url", [None, ""])
def test_no_known_leader_is_409(url):
    error = raised(forward, url)
    assert (error.status_code, error.message) == (409, NO_LEADER_MESSAGE)
    assert NO_LEADER_MESSAGE == (
        "Cannot complete request momentarily due to no known leader URL, likely because a "
        "rebalance was underway."
    )


def test_only_authorization_and_signature_headers_are_copied(leader):
    forward(
        leader.url,
        headers={
            "AUTHORIZATION": "Basic dXNlcjpwYXNz",
            "Cookie": "session=1",
            "X-Custom": "no",
            "Content-Type": "text/plain",
            "Host": "elsewhere:8083",
            SIGNATURE_HEADER.upper(): "c2ln",
            SIGNATURE_ALGORITHM_HEADER: "HmacSHA256",
        },
    )
    headers = {k.lower(): v for k, v in leader.last.headers.items()}
    assert headers["authorization"] == "Basic dXNlcjpwYXNz"
    assert headers[SIGNATURE_HEADER.lower()] == "c2ln"
    assert headers[SIGNATURE_ALGORITHM_HEADER.lower()] == "HmacSHA256"
    assert "cookie" not in headers and "x-custom" not in headers
    assert headers["content-type"] == "application/json"
    assert headers["host"] != "elsewhere:8083"


def test_callers_forward_parameter_is_replaced_and_none_values_dropped(leader):
    forward(leader.url, query={"forward": "true", "expand": ["status", "info"], "x": None})
    assert leader.last.target == "/connectors?forward=true&expand=status&expand=info"


def test_connector_names_are_url_encoded():
    assert connector_path("a b/c?d%e", "tasks", 0, "restart") == (
        "/connectors/a%20b%2Fc%3Fd%25e/tasks/0/restart"
    )
    assert connector_path("plain") == "/connectors/plain"


def test_forward_url_joins_base_paths_and_encodes_what_a_path_cannot_hold():
    assert build_forward_url("http://w:8083", "connectors/c", None, True) == (
        "http://w:8083/connectors/c?forward=true"
    )
    assert build_forward_url("http://w:8083/ns/", "/connectors/a b", {"k": 1}, False) == (
        "http://w:8083/ns/connectors/a%20b?forward=false&k=1"
    )
    # Already-encoded paths are left alone; a lone '%' is encoded.
    assert build_forward_url("http://w", "/connectors/a%2Fb%", None, None) == (
        "http://w/connectors/a%2Fb%25"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("true", True), ("TRUE", True), ("false", False), ("yes", False)],
)
def test_forward_parameter_is_read_as_a_java_boolean(value, expected):
    assert parse_forward_param(value) is expected


# -- what comes back ----------------------------------------------------------------------------


def test_success_status_body_and_headers_come_back(leader):
    leader.reply = (201, b'{"name":"c","config":{},"tasks":[]}', {"X-Leader": "yes"})
    response = forward(leader.url)
    assert response.status == 201
    assert response.json() == {"name": "c", "config": {}, "tasks": []}
    assert response.headers["X-Leader"] == "yes"


def test_no_content_comes_back_empty(leader):
    leader.reply = (204, b"", {})
    response = forward(leader.url, method="DELETE", path="/connectors/c", body=None)
    assert (response.status, response.body, response.json()) == (204, b"", None)


@pytest.mark.parametrize("status", [400, 404, 409, 500])
def test_leaders_error_is_passed_back_with_its_status_and_message(leader, status):
    message = f"Connector c failed with {status}"
    leader.reply = (status, orjson.dumps({"error_code": status, "message": message}), {})
    error = raised(forward, leader.url)
    assert (error.status_code, error.message) == (status, message)


def test_error_without_a_connect_body_keeps_the_status_and_names_the_worker(leader):
    leader.reply = (502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})
    error = raised(forward, leader.url)
    assert error.status_code == 502
    assert leader.url in error.message and "Bad Gateway" in error.message


def test_redirects_are_not_followed(leader):
    leader.reply = (302, b"", {"Location": "http://elsewhere/"})
    error = raised(forward, leader.url)
    assert (error.status_code, error.message) == (
        500,
        "Unexpected status code when handling forwarded request: 302",
    )
    assert len(leader.requests) == 1


# -- unreachable or slow targets ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_leader_is_500_naming_it_quickly():
    url = f"http://127.0.0.1:{free_port()}/"
    started = time.monotonic()
    error = raised(forward, url, timeout_s=2.0)
    assert time.monotonic() - started < 2.0
    assert error.status_code == 500
    assert error.message.startswith("IO Error trying to forward REST request: ")
    assert url.rstrip("/") in error.message


def test_silent_leader_is_abandoned_after_the_timeout():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepts connections, never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        error = raised(forward, url, timeout_s=0.5)
        elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 2.0
    assert error.status_code == 500
    assert url in error.message


def test_trickling_leader_cannot_stretch_the_timeout():
    # A byte every 0.1 s keeps each socket read under its own timeout; the deadline still holds.
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def trickle() -> None:
            conn, _ = listener.accept()
            with conn:
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 100:
                    if stop.is_set():
                        return
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        return
                    time.sleep(0.1)

        threading.Thread(target=trickle, daemon=True).start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        error = raised(forward, url, timeout_s=0.5)
        elapsed = time.monotonic() - started
        stop.set()
    assert elapsed < 1.5
    assert error.status_code == 500
    assert "no answer within 0.5 s" in error.message


def test_slow_leader_within_the_timeout_is_waited_for(leader):
    leader.delay_s = 0.3
    assert forward(leader.url, timeout_s=3.0).status == 200


def test_invalid_leader_url_is_500():
    error = raised(forward, "leader:8083")
    assert error.status_code == 500 and "leader:8083" in error.message


# -- internal requests --------------------------------------------------------------------------


def test_internal_request_is_signed_over_the_exact_body_sent(leader):
    key = SessionKey(b"k" * 32, "HmacSHA256", 0)
    leader.reply = (204, b"", {})
    task_configs = [{"task.class": "x.Task", "file": "/tmp/in"}]
    response = internal_request(
        leader.url,
        "POST",
        connector_path("a/b", "tasks"),
        task_configs,
        key,
        "HmacSHA256",
        5.0,
    )
    assert response.status == 204
    seen = leader.last
    assert seen.target == "/connectors/a%2Fb/tasks"  # no forward parameter
    assert orjson.loads(seen.body) == task_configs
    verify_request(seen.headers, seen.body, key, ["HmacSHA256"])
    with pytest.raises(ConnectRestError) as wrong_key:
        verify_request(seen.headers, seen.body, b"x" * 32, ["HmacSHA256"])
    assert wrong_key.value.status_code == 403


def test_internal_request_without_body_is_signed_as_empty(leader):
    key = b"k" * 32
    internal_request(leader.url, "PUT", connector_path("c", "fence"), None, key, "HmacSHA512", 5.0)
    seen = leader.last
    assert seen.body == b""
    verify_request(seen.headers, b"", key, ["HmacSHA512"])


def test_internal_request_without_session_key_is_unsigned(leader):
    internal_request(leader.url, "POST", "/connectors/c/tasks", b"[]", None, "HmacSHA256", 5.0)
    headers = {k.lower() for k in leader.last.headers}
    assert SIGNATURE_HEADER.lower() not in headers
    assert SIGNATURE_ALGORITHM_HEADER.lower() not in headers


def test_internal_request_refusal_is_raised_with_the_leaders_status(leader):
    leader.reply = (
        403,
        orjson.dumps(
            {"error_code": 403, "message": "Internal request contained invalid signature."}
        ),
        {},
    )
    error = raised(
        internal_request, leader.url, "POST", "/connectors/c/tasks", b"[]", b"k", "HmacSHA256", 5.0
    )
    assert (error.status_code, error.message) == (
        403,
        "Internal request contained invalid signature.",
    )
