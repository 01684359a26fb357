"""Response headers from the worker config: CORS (``access.control.allow.origin`` and
``access.control.allow.methods``) and ``response.http.headers.config`` (Jetty's HeaderFilter
rules: ``set|add|setDate|addDate <Name>: <value>``, comma separated)."""

from __future__ import annotations

import re
import time
from email.utils import formatdate
from typing import Any

import falcon
from kconnect.api.errors import ConfigException

_ACTIONS = ("set", "add", "setDate", "addDate")
_RULE_SPLIT = re.compile(r",\s*(?=(?:set|add|setDate|addDate)\s)")
_DEFAULT_CORS_METHODS = "GET,POST,HEAD"
_CORS_ALLOWED_HEADERS = "X-Requested-With,Content-Type,Accept,Origin"


def parse_header_rules(config: str) -> list[tuple[str, str, str]]:
    """``response.http.headers.config`` -> [(action, name, value)]; ConfigException if malformed."""
    rules = []
    for raw in _RULE_SPLIT.split(config.strip()) if config.strip() else []:
        action, _, rest = raw.strip().partition(" ")
        name, sep, value = rest.partition(":")
        if action not in _ACTIONS or not sep or not name.strip():
            raise ConfigException(
                f"Invalid format of header config '{raw.strip()}'. Expected: '[action] [header name]:[header value]'",
                name="response.http.headers.config",
            )
        rules.append((action, name.strip(), value.strip()))
    return rules


class ResponseHeadersMiddleware:
    """Applies ``response.http.headers.config`` to every response."""

    def __init__(self, rules: list[tuple[str, str, str]]):
        self.rules = rules

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        for action, name, value in self.rules:
            if action.endswith("Date"):
                # Jetty's *Date actions take milliseconds from now and write an HTTP date.
                try:
                    value = formatdate(time.time() + int(value) / 1000, usegmt=True)
                except ValueError:
                    continue
            if action.startswith("set"):
                resp.set_header(name, value)
            else:
                resp.append_header(name, value)


class CorsMiddleware:
    """Cross-origin headers, as Jetty's CrossOriginFilter sets them in Kafka Connect.

    Runs first, before authentication: a preflight (``OPTIONS`` with
    ``Access-Control-Request-Method``) from an allowed origin is answered here, 200 with no body
    (browsers never send credentials on a preflight); its ``Access-Control-Allow-*`` headers are
    given only when the requested method and headers are allowed. Any other request from an
    allowed origin gets ``Access-Control-Allow-Origin`` (the origin itself) and
    ``Access-Control-Allow-Credentials: true``, errors included. Origins may hold ``*`` wildcards
    (``https://*.example.com``); ``*`` alone allows any origin.
    """

    def __init__(self, allow_origin: str, allow_methods: str):
        self.origins = [o.strip() for o in allow_origin.split(",") if o.strip()]
        self.any_origin = "*" in self.origins
        self.patterns = [
            re.compile(".*".join(re.escape(part) for part in o.split("*")))
            for o in self.origins
            if "*" in o and o != "*"
        ]
        methods = allow_methods.strip() or _DEFAULT_CORS_METHODS
        self.methods = [m.strip() for m in methods.split(",") if m.strip()]
        self.headers = [h.strip() for h in _CORS_ALLOWED_HEADERS.split(",")]

    def _allowed(self, origin: str) -> bool:
        # A browser may list several origins (after redirects); each must be allowed.
        return all(self._allowed_one(o) for o in origin.split())

    def _allowed_one(self, origin: str) -> bool:
        return (
            self.any_origin
            or origin in self.origins
            or any(p.fullmatch(origin) for p in self.patterns)
        )

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        origin = req.get_header("Origin")
        if not origin or not self._allowed(origin):
            return
        requested_method = req.get_header("Access-Control-Request-Method")
        if req.method == "OPTIONS" and requested_method is not None:
            self._preflight(req, resp, origin, requested_method.strip())
            resp.status = falcon.HTTP_200
            resp.complete = True  # answered here: no responder, no authentication
            return
        resp.set_header("Access-Control-Allow-Origin", origin)
        resp.set_header("Access-Control-Allow-Credentials", "true")
        resp.append_header("Vary", "Origin")

    def _preflight(
        self, req: falcon.Request, resp: falcon.Response, origin: str, method: str
    ) -> None:
        if method not in self.methods:
            return
        raw = req.get_header("Access-Control-Request-Headers") or ""
        requested = [h.strip() for h in raw.split(",") if h.strip()]
        allowed = {h.lower() for h in self.headers}
        if any(h.lower() not in allowed for h in requested):
            return
        resp.set_header("Access-Control-Allow-Origin", origin)
        resp.set_header("Access-Control-Allow-Credentials", "true")
        resp.set_header("Access-Control-Max-Age", "1800")
        resp.set_header("Access-Control-Allow-Methods", ",".join(self.methods))
        resp.set_header("Access-Control-Allow-Headers", ",".join(self.headers))
        resp.append_header("Vary", "Origin")
