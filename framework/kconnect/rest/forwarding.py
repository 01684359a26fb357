"""Sending a REST request on to another worker: a user request the leader (or a connector's owner)
must handle, and the internal requests workers make of the leader.

Forwarding follows Kafka Connect's HerderRequestHandler and RestClient:

- the ``forward`` query parameter counts hops. A request from a user has none (None): it may be
  forwarded, and is sent on with ``forward=true``. A worker that receives ``forward=true`` and
  still is not the right one may forward once more, with ``forward=false``. A worker that
  receives ``forward=false`` and is not the right one answers 409: the target moved during a
  rebalance. So a request takes at most two hops between workers, and never loops;
- the forwarded URL is the target's URL + the request path, then ``forward``, then the request's
  other query parameters;
- of the caller's headers only ``Authorization`` goes on (plus the internal-request signature
  headers, which Kafka drops: the body is sent unchanged, so its signature stays valid);
- a 2xx answer comes back as status + raw body; a 4xx/5xx answer is raised as a
  ConnectRestError with the target's status and message, so the user sees the leader's error as
  if the first worker had made it; anything else, or no answer, is a 500 naming the URL;
- the caller waits at most ``timeout_s``: the exchange runs on a daemon thread, and a target that
  does not answer in time is abandoned (its socket shut down) with a 500.

Nothing here knows the herder: callers pass the target URL the herder named, and for https
targets the worker's client TLS context (``rest_client_ssl_context``, built once from its https
listener's key and trust stores by :func:`kconnect.rest.server_tls.client_ssl_context`); without
one the system's CAs are trusted and no client certificate is sent.
"""

from __future__ import annotations

import http.client
import logging
import re
import socket
import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson

# The module, not the class: rest.errors imports forwarding (which imports this module), so the
# class may not exist yet while these modules load; it is looked up when an error is raised.
from kconnect.rest import errors
from kconnect.rest.request_signing import (
    SIGNATURE_ALGORITHM_HEADER,
    SIGNATURE_HEADER,
    HasKeyBytes,
    sign_request,
)

log = logging.getLogger(__name__)

NO_LEADER_MESSAGE = (
    "Cannot complete request momentarily due to no known leader URL, likely because a rebalance "
    "was underway."
)
TOO_MANY_HOPS_MESSAGE = (
    "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
)
STALE_CONFIG_MESSAGE = (
    "Cannot complete request momentarily due to stale configuration (typically caused by a "
    "concurrent config change)"
)

#: Headers of the caller's request that are sent on (case-insensitive).
FORWARDED_HEADERS = ("Authorization", SIGNATURE_HEADER, SIGNATURE_ALGORITHM_HEADER)

_USER_AGENT = "kafka-connect"
_JSON = "application/json"
# Characters allowed in a URL path as they are; anything else (spaces, non-ASCII, '?', '#') is
# percent-encoded. '%' stays when it already starts an escape.
_PATH_SAFE = "/%:@!$&'()*+,;="
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ERROR_SNIPPET = 200


@dataclass(frozen=True)
class WorkerResponse:
    """A 2xx answer of another worker: status, raw body (b"" for 204) and headers."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON; None when empty."""
        return orjson.loads(self.body) if self.body.strip() else None


def parse_forward_param(value: str | None) -> bool | None:
    """The ``forward`` query parameter as Kafka reads it (a ``Boolean``): absent or empty is
    None, "true" in any case is True, anything else is False."""
    if value is None or not value.strip():
        return None
    return value.strip().lower() == "true"


def connector_path(connector: str, *segments: str | int) -> str:
    """``/connectors/<connector>/<segments…>`` with every segment percent-encoded, so a name
    with '/', '?', '%' or spaces addresses the same connector on the other worker."""
    parts = ["connectors", connector, *(str(segment) for segment in segments)]
    return "/" + "/".join(quote(part, safe="") for part in parts)


def join_url(base_url: str, path: str) -> str:
    """``base_url`` + ``path`` with exactly one '/' between them. ``path`` is taken as already
    percent-encoded; characters never legal in a path are encoded."""
    path = _LONE_PERCENT.sub("%25", quote(path, safe=_PATH_SAFE))
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _query_string(forward: bool | None, query: Mapping[str, Any] | None) -> str:
    pairs: list[tuple[str, str]] = []
    if forward is not None:
        pairs.append(("forward", _query_value(forward)))
    for name, value in (query or {}).items():
        # The hop count is ours to set; the caller's own value must not survive.
        if name == "forward" or value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        pairs.extend((name, _query_value(item)) for item in values)
    return urlencode(pairs, quote_via=quote)


def _query_value(value: Any) -> str:
    # Java's Boolean.toString, which the receiving worker parses back.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_forward_url(
    target_url: str, path: str, query: Mapping[str, Any] | None, forward: bool | None
) -> str:
    """The URL a request is sent on to: target + path, ``?forward=…`` then ``query``."""
    url = join_url(target_url, path)
    qs = _query_string(forward, query)
    return f"{url}?{qs}" if qs else url


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def forward_request(
    leader_url: str | None,
    method: str,
    path: str,
    query: Mapping[str, Any] | None,
    body: bytes | None,
    headers: Mapping[str, str],
    forward: bool | None,
    timeout_s: float,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> WorkerResponse:
    """Send a user's request on to ``leader_url`` (the leader, or the owner the herder named).

    ``forward`` is the value of the request's own ``forward`` parameter (see
    :func:`parse_forward_param`); ``path`` is percent-encoded (see :func:`connector_path`);
    ``query`` holds the other parameters to pass on. Returns the 2xx answer; raises
    ConnectRestError 409 when the request must not or cannot be forwarded, the target's own
    status for its 4xx/5xx answers, 500 when the target cannot be reached in ``timeout_s``.
    """
    if forward is False:
        # This worker was itself the second hop: the target moved again while the request
        # travelled, which only a rebalance does. A third hop could loop; give up.
        log.error(
            "Request '%s %s' failed because it couldn't find the target Connect worker within "
            "two hops (between workers).",
            method,
            path,
        )
        raise errors.ConnectRestError(409, TOO_MANY_HOPS_MESSAGE)
    if not leader_url:
        raise errors.ConnectRestError(409, NO_LEADER_MESSAGE)
    # Only the first worker (no forward flag) allows the next one to forward again.
    url = build_forward_url(leader_url, path, query, forward is None)
    out_headers = {"Accept": _JSON, "User-Agent": _USER_AGENT}
    for name in FORWARDED_HEADERS:
        value = _header(headers, name)
        if value is not None:
            out_headers[name] = value
    if body:
        out_headers["Content-Type"] = _JSON
    log.debug("Forwarding request %s %s", method, url)
    return _exchange(method, url, out_headers, body, timeout_s, ssl_context)


def internal_request(
    url: str,
    method: str,
    path: str,
    body: bytes | list[Any] | dict[str, Any] | None,
    session_key: bytes | HasKeyBytes | None,
    signature_algorithm: str | None,
    timeout_s: float,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> WorkerResponse:
    """A worker-to-leader request such as ``POST /connectors/{c}/tasks`` or
    ``PUT /connectors/{c}/fence``, signed with the session key when there is one.

    ``body`` is sent as given if bytes, else serialized as JSON; the signature covers exactly the
    bytes sent. ``session_key`` None (protocol < v2, or no key read yet) sends it unsigned. No
    ``forward`` parameter is set: a worker that is no longer the leader may forward it once.
    Errors are raised as for :func:`forward_request`.
    """
    payload = body if body is None or isinstance(body, bytes) else orjson.dumps(body)
    headers = {"Accept": _JSON, "User-Agent": _USER_AGENT}
    if payload is not None:
        headers["Content-Type"] = _JSON
    if session_key is not None and signature_algorithm:
        headers.update(sign_request(session_key, signature_algorithm, payload))
    target = join_url(url, path)
    log.debug("Sending internal request %s %s", method, target)
    return _exchange(method, target, headers, payload, timeout_s, ssl_context)


def _exchange(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout_s: float,
    ssl_context: ssl.SSLContext | None,
) -> WorkerResponse:
    if timeout_s <= 0:
        raise ValueError("timeout_s must be positive")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.ConnectRestError(
            500, f"Error trying to forward REST request: invalid worker URL {url!r}"
        )
    https = parts.scheme == "https"
    # The port is passed explicitly: http.client would misread an IPv6 host such as "::1".
    port = parts.port or (443 if https else 80)
    connection: http.client.HTTPConnection
    if https:
        connection = http.client.HTTPSConnection(
            parts.hostname, port, timeout=timeout_s, context=ssl_context
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=timeout_s)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            connection.request(method, target, body=body, headers=dict(headers))
            response = connection.getresponse()
            outcome["response"] = (response.status, response.read(), response.getheaders())
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            outcome["error"] = error
        finally:
            connection.close()
            done.set()

    # Socket timeouts bound each operation but not the whole exchange (nor name resolution):
    # the caller, a REST thread or the herder, waits on its own deadline instead.
    threading.Thread(target=run, name=f"rest-forward:{parts.netloc}", daemon=True).start()
    if not done.wait(timeout_s):
        _abandon(connection)
        log.warning("REST request %s %s got no answer within %g s", method, url, timeout_s)
        raise errors.ConnectRestError(
            500,
            f"IO Error trying to forward REST request: {method} {url} got no answer within "
            f"{timeout_s:g} s",
        )
    if "error" in outcome:
        error = outcome["error"]
        detail = "timed out" if isinstance(error, TimeoutError) else str(error) or repr(error)
        log.warning("IO error forwarding REST request %s %s: %s", method, url, detail)
        raise errors.ConnectRestError(
            500, f"IO Error trying to forward REST request: {method} {url} failed: {detail}"
        )
    status, data, response_headers = outcome["response"]
    return _answer(url, status, data, response_headers)


def _abandon(connection: http.client.HTTPConnection) -> None:
    """Wake the exchange thread out of a blocking read so it ends now, not at its timeout."""
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _answer(
    url: str, status: int, data: bytes, headers: Iterable[tuple[str, str]]
) -> WorkerResponse:
    if 200 <= status < 300:
        return WorkerResponse(status, b"" if status == 204 else data, dict(headers))
    if status >= 400:
        raise errors.ConnectRestError(status, _error_message(url, status, data))
    # Redirects are not followed (as Kafka's client): a worker never answers with one.
    raise errors.ConnectRestError(
        500, f"Unexpected status code when handling forwarded request: {status}"
    )


def _error_message(url: str, status: int, data: bytes) -> str:
    """The message of a Kafka Connect error body; a clear substitute for any other body."""
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and ("error_code" in parsed or "message" in parsed):
        # A null message becomes "", for which the error serializer writes Jersey's default.
        message = parsed.get("message")
        return "" if message is None else str(message)
    snippet = data[:_ERROR_SNIPPET].decode("utf-8", "replace").strip()
    return f"Worker at {url} answered HTTP {status} without a Kafka Connect error body: {snippet!r}"


__all__ = [
    "FORWARDED_HEADERS",
    "NO_LEADER_MESSAGE",
    "STALE_CONFIG_MESSAGE",
    "TOO_MANY_HOPS_MESSAGE",
    "WorkerResponse",
    "build_forward_url",
    "connector_path",
    "forward_request",
    "internal_request",
    "join_url",
    "parse_forward_param",
]
