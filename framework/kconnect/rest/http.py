"""Small helpers every resource uses: reaching the herder, reading JSON bodies, query flags."""

from __future__ import annotations

import threading
from typing import Any

import falcon
import orjson
from kconnect.rest.errors import ConnectRestError
from kconnect.runtime.config_json import config_value_text, loads_keeping_numbers

_JSON_TYPES = ("application/json",)


class HerderRef:
    """Where resources find the herder. In the gunicorn worker the herder starts after the app
    is built (so the REST API can say "starting" meanwhile); tests hand a ready one in."""

    def __init__(self, herder: Any = None):
        self._herder = herder
        self._ready = threading.Event()
        self.startup_error: BaseException | None = None
        if herder is not None:
            self._ready.set()

    def set(self, herder: Any) -> None:
        self._herder = herder
        self._ready.set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and getattr(self._herder, "ready", True)

    @property
    def started(self) -> bool:
        return self._ready.is_set()

    def get(self) -> Any:
        """The herder; 503 while the worker is still starting."""
        if not self._ready.is_set():
            raise ConnectRestError(503, "Worker is still starting up.")
        return self._herder

    def peek(self) -> Any:
        """The herder or None, without raising."""
        return self._herder


def read_json(req: falcon.Request, required: bool = True, keep_number_text: bool = False) -> Any:
    """The request body as JSON. 415 unless the content type is JSON (as Jersey's @Consumes);
    400 for a missing or malformed body. ``keep_number_text`` (connector configs) keeps each
    number as the text it was written with, as Jackson reads it into a string
    (``kconnect.runtime.config_json``)."""
    content_type = (req.content_type or "").split(";", 1)[0].strip().lower()
    if req.content_length is None and req.env.get("wsgi.input_terminated"):
        # A chunked body: bounded_stream (by Content-Length) would read nothing. gunicorn ends
        # the input at the body's end, and the whole body, at most rest.request.max.bytes, is
        # already in memory (kconnect.rest.request_buffering).
        raw = req.stream.read()
    else:
        raw = req.bounded_stream.read()
    # Kept for forwarding to the leader and for checking inter-worker signatures.
    req.context.raw_body = raw
    if not raw.strip():
        if required:
            raise ConnectRestError(400, "Request body is missing: a JSON document is required")
        return None
    if content_type not in _JSON_TYPES and not content_type.endswith("+json"):
        raise ConnectRestError(415, "HTTP 415 Unsupported Media Type")
    try:
        return loads_keeping_numbers(raw) if keep_number_text else orjson.loads(raw)
    # orjson.JSONDecodeError is a ValueError; the stdlib parser (keep_number_text) raises
    # RecursionError for a body nested thousands deep ("[[[[…").
    except (ValueError, RecursionError) as error:
        raise ConnectRestError(400, f"Request body is not valid JSON: {error}") from None


def read_json_object(
    req: falcon.Request, what: str = "request body", keep_number_text: bool = False
) -> dict[str, Any]:
    body = read_json(req, keep_number_text=keep_number_text)
    if not isinstance(body, dict):
        raise ConnectRestError(400, f"The {what} must be a JSON object")
    return body


def string_map(value: Any, what: str) -> dict[str, Any]:
    """A connector config as Jackson reads ``Map<String, String>``: strings, numbers and
    booleans become strings, null stays null (PATCH uses it to remove a key)."""
    if not isinstance(value, dict):
        raise ConnectRestError(400, f"{what} must be a JSON object of strings")
    out: dict[str, Any] = {}
    for key, item in value.items():
        try:
            # The same strings as a config read from a JSON file (kconnect.runtime.config_json).
            out[key] = config_value_text(item)
        except TypeError as error:
            raise ConnectRestError(400, f"{what}: the value of {key!r} {error}") from None
    return out


def query_flag(req: falcon.Request, name: str, default: bool) -> bool:
    """A boolean query parameter read as Java's Boolean.valueOf: only "true" (any case) is true."""
    value = req.get_param(name)
    if value is None:
        return default
    return value.strip().lower() == "true"


def no_content(resp: falcon.Response, status: int = 204) -> None:
    resp.status = status
    resp.data = b""
