"""The abusive requests of tests/integration/test_abuse.py, one :class:`Case` per kind, each with
the outcomes it may get (:data:`ALLOWED`): 4xx statuses, never a 5xx, never silence.

None of them may legitimately change the pipeline the test runs: requests aimed at its two
connectors (``abuse-source``, ``abuse-sink``) are all ones the worker must refuse (task ids
they do not have, offsets while they run, a config with a huge ``tasks.max``). Names that a
request might wrongly create start with ``abuse-odd`` or are odd, so the test can tell."""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from tests.integration.abuse_clients import (
    ANSWER_TIMEOUT_S,
    Outcome,
    connect,
    exchange,
    read_status,
)

#: A Python path that is not a plugin; ``import this`` prints the Zen of Python to the log.
NOT_A_PLUGIN = "this.Zen"


@dataclass(frozen=True)
class Context:
    port: int
    url: str
    topic: str
    source: dict[str, str]
    sink: dict[str, str]
    secret_ref: str  # ${file:...} naming a secret the worker's provider may read
    secret: str
    max_body: int

    def file_source(self, **overrides: str) -> dict[str, str]:
        """A valid connector config that nothing should ever create (an unused topic)."""
        return {
            "connector.class": "FileStreamSource",
            "tasks.max": "1",
            "file": "/nonexistent/abuse-input",
            "topic": "abuse-never",
            **overrides,
        }


Fired = tuple[Outcome, str]


def http(
    ctx: Context,
    session: requests.Session,
    method: str,
    path: str,
    body: Any = None,
    data: Any = None,
    headers: dict[str, str] | None = None,
) -> Fired:
    """One request through ``requests``; a body showing the secret is its own outcome."""
    detail = f"{method} {path[:120]}"
    try:
        answer = session.request(
            method,
            ctx.url + path,
            json=body,
            data=data,
            headers=headers,
            timeout=ANSWER_TIMEOUT_S,
        )
    except requests.Timeout:
        return "timeout", detail
    except requests.ConnectionError as e:
        return "reset", f"{detail}: {e}"
    detail = f"{detail} -> {answer.status_code} {answer.text[:200]}"
    if ctx.secret in answer.text:
        return "secret shown", detail
    if answer.status_code >= 400 and not _kafka_error_shape(answer):
        return "not json", detail
    return answer.status_code, detail


def _kafka_error_shape(answer: requests.Response) -> bool:
    try:
        error = answer.json()
    except ValueError:
        return False
    return (
        isinstance(error, dict)
        and set(error) == {"error_code", "message"}
        and error["error_code"] == answer.status_code
    )


def raw(ctx: Context, pieces: list[bytes] | Iterator[bytes], what: str) -> Fired:
    return exchange(ctx.port, pieces), what


@dataclass(frozen=True)
class Case:
    label: str
    allowed: frozenset[Outcome]
    fire_with: Callable[[Context, requests.Session, random.Random], Fired]

    def fire(self, ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
        return self.fire_with(ctx, session, rnd)


CASES: list[Case] = []


def case(label: str, *allowed: Outcome) -> Callable[[Any], Any]:
    def register(fire_with: Callable[[Context, requests.Session, random.Random], Fired]) -> Any:
        CASES.append(Case(label, frozenset(allowed), fire_with))
        return fire_with

    return register


# -- odd names and ids ------------------------------------------------------------------------------
BAD_NAMES = [
    "a/b",
    "../../etc",
    "x" * 10_000,
    "a\nb",
    "tab\there",
    "nul\x00",
    "",
    "   ",
    "..",
    ".",
    "ünï/cödé",
    "c1\u0085control",
    "del\x7f",
]


@case("create-bad-name", 400)
def create_bad_name(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    body = {"name": rnd.choice(BAD_NAMES), "config": ctx.file_source()}
    return http(ctx, session, "POST", "/connectors", body)


#: percent-encoded names a PUT .../config must refuse (what the server decodes them to is bad)
BAD_URL_NAMES = ["%2e%2e%2f", "a%2Fb", "%2F", "a%0Ab", "%00", "%20", "", "%09", "%C3%BC%2F%C3%B1"]


@case("put-bad-url-name", 400)
def put_bad_url_name(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    return http(
        ctx, session, "PUT", f"/connectors/{rnd.choice(BAD_URL_NAMES)}/config", ctx.file_source()
    )


@case("long-url-name", 414)
def long_url_name(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    method, suffix = rnd.choice([("PUT", "/config"), ("GET", "/status"), ("DELETE", "")])
    return http(ctx, session, method, "/connectors/" + "x" * 10_000 + suffix, ctx.file_source())


#: names no connector has (some valid, some not): every action on them is refused
MISSING = ["%2e%2e%2f", "%2e%2e", "nope%00", "%FF%FE", "%E2%98%83-nope", "abuse-odd-%F0%9F%98%80"]
ACTIONS = [
    ("GET", ""),
    ("GET", "/config"),
    ("GET", "/status"),
    ("GET", "/tasks"),
    ("GET", "/topics"),
    ("GET", "/offsets"),
    ("DELETE", ""),
    ("DELETE", "/offsets"),
    ("POST", "/restart"),
    ("POST", "/restart?includeTasks=true&onlyFailed=false"),
    ("PUT", "/pause"),
    ("PUT", "/resume"),
    ("PUT", "/stop"),
    ("POST", "/tasks/0/restart"),
    ("GET", "/tasks/0/status"),
    ("PATCH", "/config"),
]


@case("missing-connector", 404)
def missing_connector(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    method, suffix = rnd.choice(ACTIONS)
    body = {"tasks.max": "2"} if method == "PATCH" else None
    return http(ctx, session, method, f"/connectors/{rnd.choice(MISSING)}{suffix}", body)


BAD_TASK_IDS = ["-1", "1", "2147483648", "-2147483649", "99999999999999999999", "abc", "0x0", "1.0"]


@case("bad-task-id", 404, 400)
def bad_task_id(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    name = rnd.choice(["abuse-source", "abuse-sink", "abuse-odd-missing"])
    task = rnd.choice(BAD_TASK_IDS)
    method, suffix = rnd.choice([("POST", "restart"), ("GET", "status")])
    return http(ctx, session, method, f"/connectors/{name}/tasks/{task}/{suffix}")


# -- offsets, tasks.max, plugins, providers ----------------------------------------------------------
def _sink_offsets(topic: str, partition: Any, offset: Any) -> dict[str, Any]:
    partition_key = {"kafka_topic": topic, "kafka_partition": partition}
    return {"offsets": [{"partition": partition_key, "offset": {"kafka_offset": offset}}]}


@case("bad-offsets", 400, 404)
def bad_offsets(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    bodies: list[Any] = [
        _sink_offsets(ctx.topic, -1, 0),
        _sink_offsets(ctx.topic, 0, -7),
        _sink_offsets(ctx.topic, 2**31, 0),
        _sink_offsets("abuse-no-such-topic", 0, 0),
        _sink_offsets("", 0, 0),
        _sink_offsets("bad/topic", 0, 0),
        {"offsets": [{"partition": {"filename": ctx.source["file"]}, "offset": {"position": -5}}]},
        {
            "offsets": [
                {"partition": {"filename": ctx.source["file"]}, "offset": {"position": 1e30}}
            ]
        },
        {"offsets": "all of them"},
        {"offsets": [{}]},
        {"offsets": [None]},
        [],
    ]
    name = rnd.choice(["abuse-source", "abuse-sink", "abuse-odd-missing"])
    return http(ctx, session, "PATCH", f"/connectors/{name}/offsets", rnd.choice(bodies))


HUGE_TASKS_MAX = ["100000", "2147483647", "2147483648", "-1", "0", "1e9", "many", ""]


@case("huge-tasks-max", 400)
def huge_tasks_max(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    tasks_max = rnd.choice(HUGE_TASKS_MAX)
    if rnd.random() < 0.5:
        # The pipeline's own connector: refused, so it runs on unchanged.
        config = {**rnd.choice([ctx.source, ctx.sink]), "tasks.max": tasks_max}
        return http(ctx, session, "PUT", f"/connectors/{config['name']}/config", config)
    body = {"name": "abuse-odd-huge", "config": ctx.file_source(**{"tasks.max": tasks_max})}
    return http(ctx, session, "POST", "/connectors", body)


@case("not-a-plugin", 400, 404)
def not_a_plugin(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    pick = rnd.randrange(5)
    if pick == 0:
        config = ctx.file_source(**{"connector.class": NOT_A_PLUGIN})
    elif pick == 1:
        config = ctx.file_source(**{"transforms": "t", "transforms.t.type": NOT_A_PLUGIN})
    elif pick == 2:
        config = ctx.file_source(**{"value.converter": NOT_A_PLUGIN})
    elif pick == 3:
        return http(ctx, session, "PUT", f"/connector-plugins/{NOT_A_PLUGIN}/config/validate", {})
    else:
        return http(ctx, session, "GET", f"/connector-plugins/{NOT_A_PLUGIN}/config")
    return http(ctx, session, "POST", "/connectors", {"name": "abuse-odd-plugin", "config": config})


@case("provider-values", 200, 400)
def provider_values(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    """``${file:...}`` values: one the provider may read (the answer must not show it), one
    outside its allowed.paths, one in a name; creating is refused by the connector class."""
    value = rnd.choice([ctx.secret_ref, "${file:/etc/shadow:root}", "${file:/etc/passwd:x}"])
    config = ctx.file_source(topic=value, file=value)
    if rnd.random() < 0.5:
        path = "/connector-plugins/FileStreamSource/config/validate"
        return http(ctx, session, "PUT", path, config)
    config["connector.class"] = NOT_A_PLUGIN
    return http(ctx, session, "POST", "/connectors", {"name": value, "config": config})


# -- bodies ----------------------------------------------------------------------------------------
def _chunked(body: bytes, size: int = 7) -> bytes:
    """``body`` in chunks of ``size`` bytes, with the last chunk and no trailers."""
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def _head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


@case("oversized-declared", 413)
def oversized_declared(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    size = rnd.choice([ctx.max_body + 1, 10**12, 2**63 - 1])
    head = _head("POST", "/connectors", "Content-Type: application/json", f"Content-Length: {size}")
    return raw(ctx, [head + b'{"name": "abuse-odd-big"'], f"Content-Length {size}, 24 bytes sent")


# "reset": a client that goes on sending after its 413 may find the connection reset (after
# the worker's linger) before it reads the answer; the test checks that 413s were read.
@case("oversized-streamed", 413, "reset")
def oversized_streamed(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    size = ctx.max_body * 4
    path = rnd.choice(["/connectors", "/connector-plugins/FileStreamSource/config/validate"])
    method = "POST" if path == "/connectors" else "PUT"
    head = _head(method, path, "Content-Type: application/json", f"Content-Length: {size}")

    def pieces() -> Iterator[bytes]:
        yield head + b'{"name": "abuse-odd-big", "config": {"x": "'
        for _ in range(size // 65536):
            yield b"y" * 65536

    return raw(ctx, pieces(), f"{method} {path} streaming {size} bytes")


@case("oversized-chunked", 413, "reset")
def oversized_chunked(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    head = _head(
        "PUT",
        "/connector-plugins/FileStreamSource/config/validate",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked",
    )

    def pieces() -> Iterator[bytes]:
        yield head + b'2\r\n{"\r\n'
        chunk = b"z" * 32768
        for _ in range(ctx.max_body // len(chunk) * 3):
            yield b"8000\r\n" + chunk + b"\r\n"

    return raw(ctx, pieces(), "chunked body 3 times over the limit")


@case("lying-framing", 400, 404, 413, 415, 501, "closed")
def lying_framing(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    """Content-Length that disagrees with the body: shorter (the rest is a garbage next
    request), longer and the client gives up (EOF: closed without an answer), malformed, two
    of them, both with chunked. 501 is gunicorn's word for a transfer coding it lacks."""
    body = json.dumps({"name": "abuse-odd-lie", "config": ctx.file_source()}).encode()
    json_type = "Content-Type: application/json"
    pick = rnd.randrange(4)
    if pick == 0:
        head = _head("POST", "/connectors", json_type, "Content-Length: 2")
        return raw(ctx, [head + body], "Content-Length 2, longer body")
    if pick == 1:
        with connect(ctx.port) as sock:
            head = _head("POST", "/connectors", json_type, f"Content-Length: {len(body) + 100}")
            sock.sendall(head + body)
            sock.shutdown(socket.SHUT_WR)  # the promised rest never comes
            return read_status(sock), "Content-Length 100 over the body, then EOF"
    framing = [
        ["Content-Length: -5"],
        ["Content-Length: abc"],
        [f"Content-Length: {len(body)}", "Content-Length: 3"],
        [f"Content-Length: {len(body)}", "Transfer-Encoding: chunked"],
    ][rnd.randrange(4)]
    if rnd.random() < 0.2:
        # Chunked, framed right, under another coding: gzip is passed on undecoded (as Jetty
        # does; the body is not valid gzip, so at most it is read as JSON and refused for its
        # class), an unknown one is refused by gunicorn (501).
        framing = [f"Transfer-Encoding: {rnd.choice(['gzip', 'br'])}, chunked"]
        refused = ctx.file_source(**{"connector.class": NOT_A_PLUGIN})
        body = _chunked(json.dumps({"name": "abuse-odd-lie", "config": refused}).encode())
    return raw(ctx, [_head("POST", "/connectors", json_type, *framing) + body], str(framing))


MALFORMED = [
    b'{"name": "abuse-odd-json", "config": {',
    b"\xff\xfe{\x00}\x00",
    b"[]",
    b'"a string"',
    b"null",
    b"",
    b'{"name": 5, "config": []}',
    b'{"name": "abuse-odd-json", "config": {"tasks.max": 1e999}}',
    b'{"name": "abuse-odd-json", "config": NaN}',
    b"[" * 50_000,  # nested past any parser's depth, under rest.request.max.bytes
    b'{"name": "abuse-odd-json", "config": {"a": {"b": {"c": [1, 2, {"d": null}]}}}}',
    b'{"name": "abuse-odd-json"}',
    b'{"name": "abuse-odd-json", "config": {"connector.class": null}}',
]


# 200: /validate answers so, listing the errors, for any JSON object of strings.
@case("malformed-json", 200, 400, 404, 405)
def malformed_json(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    method, path = rnd.choice(
        [
            ("POST", "/connectors"),
            ("PUT", "/connectors/abuse-odd-json/config"),
            ("PATCH", "/connectors/abuse-source/offsets"),
            ("PUT", "/connector-plugins/FileStreamSource/config/validate"),
            ("PUT", "/admin/loggers/root"),
            ("POST", "/connectors/abuse-sink/tasks"),
        ]
    )
    data = rnd.choice(MALFORMED)
    headers = {"Content-Type": "application/json"}
    return http(ctx, session, method, path, data=data, headers=headers)


WRONG_TYPES = [
    "text/plain",
    "application/xml",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonx",
    "*/*",
    "",
]


@case("wrong-content-type", 415)
def wrong_content_type(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    """A valid create request, refused for its content type alone."""
    content_type = rnd.choice(WRONG_TYPES)
    data = json.dumps({"name": "abuse-odd-type", "config": ctx.file_source()}).encode()
    fired = http(
        ctx, session, "POST", "/connectors", data=data, headers={"Content-Type": content_type}
    )
    return fired[0], f"Content-Type {content_type!r}: {fired[1]}"


@case("utf16-json", 400)
def utf16_json(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    """JSON in UTF-16, as its charset says: read as JSON (Jackson detects UTF-16 too), and then
    refused for the class it names."""
    config = ctx.file_source(**{"connector.class": NOT_A_PLUGIN})
    data = json.dumps({"name": "abuse-odd-utf16", "config": config}).encode("utf-16")
    headers = {"Content-Type": "application/json; charset=utf-16"}
    return http(ctx, session, "POST", "/connectors", data=data, headers=headers)


@case("chunked-body", 400)
def chunked_body(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    """A well-formed chunked body (a refused connector), or one with a bad chunk size line or a
    chunk without its terminating CRLF: 400, as gunicorn words them."""
    config = ctx.file_source(**{"connector.class": NOT_A_PLUGIN})
    body = json.dumps({"name": "abuse-odd-chunked", "config": config}).encode()
    head = _head(
        "POST", "/connectors", "Content-Type: application/json", "Transfer-Encoding: chunked"
    )
    if rnd.random() < 0.5:
        chunks = _chunked(body)[: -len(b"\r\n")]  # ends with a trailer field instead
        return raw(ctx, [head, chunks, b"X-Trailer: t\r\n\r\n"], "chunked, in 7-byte chunks")
    if rnd.random() < 0.5:
        return raw(ctx, [head + b"zz\r\n" + body + b"\r\n0\r\n\r\n"], "chunk size 'zz'")
    bad = head + b"3\r\n" + body[:7] + b"\r\n0\r\n\r\n"
    return raw(ctx, [bad], "chunk size 3 followed by 7 bytes (no terminator after 3)")


@case("bad-request-line", 400, 404, 405, 414, 431)
def bad_request_line(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    head = rnd.choice(
        [
            b"GET /connectors/a\x01b HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /connectors/a b c HTTP/1.1\r\nHost: x\r\n\r\n",
            b"FROB /connectors HTTP/1.1\r\nHost: x\r\n\r\n",
            b"DELETE /connectors HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /connectors HTTP/1.1\r\nHost: x\r\nX-Big: " + b"h" * 100_000 + b"\r\n\r\n",
            b"GET /connectors HTTP/9.9\r\nHost: x\r\n\r\n",
            b"GET /" + b"%2e" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
    )
    return raw(ctx, [head], repr(head[:80]))


@case("dot-segments", 200, 400, 404, 405)
def dot_segments(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    """Paths with ``..`` segments, sent as they are (HTTP clients would resolve them). A server
    may resolve them too (Kafka's Jetty does): then these read, or act on missing connectors."""
    head = rnd.choice(
        [
            b"GET /connectors/../admin/loggers HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /connectors/.. HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /connectors/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
            b"DELETE /connectors/abuse-odd-a/../abuse-odd-b HTTP/1.1\r\nHost: x\r\n\r\n",
            b"PUT /connectors/abuse-odd-a/../../connectors/abuse-odd-b/stop HTTP/1.1\r\n"
            b"Host: x\r\nContent-Length: 0\r\n\r\n",
        ]
    )
    return raw(ctx, [head], repr(head[:80]))


@case("tls-to-http", 400, "closed")
def tls_to_http(ctx: Context, session: requests.Session, rnd: random.Random) -> Fired:
    """A TLS ClientHello to the plain HTTP listener; the client then gives up (EOF)."""
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + rnd.randbytes(32) + b"\x00" * 32
    with connect(ctx.port) as sock:
        sock.sendall(hello)
        sock.shutdown(socket.SHUT_WR)
        return read_status(sock), "TLS ClientHello, then EOF"


ALLOWED: dict[str, frozenset[Outcome]] = {c.label: c.allowed for c in CASES}
ALLOWED["slowloris"] = frozenset({408, "dripping"})
