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
    """Cross-origin headers, as Jetty's CrossOriginFilter sets them in Kafka Connect."""

    def __init__(self, allow_origin: str, allow_methods: str):
        self.origins = [o.strip() for o in allow_origin.split(",") if o.strip()]
        self.methods = allow_methods.strip() or _DEFAULT_CORS_METHODS

    def _allowed(self, origin: str) -> bool:
        return "*" in self.origins or origin in self.origins

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        origin = req.get_header("Origin")
        if not origin or not self._allowed(origin):
            return
        resp.set_header("Access-Control-Allow-Origin", origin)
        resp.set_header("Access-Control-Allow-Credentials", "true")
        resp.append_header("Vary", "Origin")
        if req.method == "OPTIONS" and req.get_header("Access-Control-Request-Method"):
            resp.set_header("Access-Control-Allow-Methods", self.methods)
            resp.set_header("Access-Control-Allow-Headers", _CORS_ALLOWED_HEADERS)
            resp.set_header("Access-Control-Max-Age", "1800")
