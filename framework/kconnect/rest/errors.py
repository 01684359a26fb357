"""Every REST error as Kafka Connect answers it: ``{"error_code": <status>, "message": "…"}``.

Exceptions raised by the herder are mapped to status codes the way Kafka's
ConnectExceptionMapper does; Falcon's own errors (unknown route, wrong method, wrong content
type, bad JSON) are serialized in the same shape with Jersey's messages.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

import falcon
import orjson
from gunicorn.http.errors import ParseException
from kconnect.api.errors import (
    AlreadyExistsException,
    ConfigException,
    ConnectException,
    NotFoundException,
)
from kconnect.plugins import PluginNotFoundError
from kconnect.runtime.herder import (
    BadRequestError,
    ConflictError,
    NotAssignedError,
    NotLeaderError,
    RequestTimeoutError,
)

log = logging.getLogger(__name__)

#: Jersey's message for statuses raised without one of ours
_DEFAULT_MESSAGES = {
    400: "HTTP 400 Bad Request",
    403: "HTTP 403 Forbidden",
    404: "HTTP 404 Not Found",
    405: "HTTP 405 Method Not Allowed",
    409: "HTTP 409 Conflict",
    415: "HTTP 415 Unsupported Media Type",
    500: "HTTP 500 Internal Server Error",
    503: "HTTP 503 Service Unavailable",
}


class ConnectRestError(falcon.HTTPError):
    """An error with Kafka Connect's body; raise it from a responder."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(falcon.code_to_http_status(status), description=message, headers=headers)
        self.message = message


def bad_request(message: str) -> ConnectRestError:
    return ConnectRestError(400, message)


def not_found(message: str) -> ConnectRestError:
    return ConnectRestError(404, message)


def error_body(status: int, message: str | None) -> bytes:
    return orjson.dumps({"error_code": status, "message": message})


def serialize_http_error(
    req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError
) -> None:
    """Falcon's error serializer: always JSON, always Kafka's shape."""
    status = error.status_code
    message = (
        getattr(error, "message", None)
        or error.description
        or _DEFAULT_MESSAGES.get(status, f"HTTP {status} {error.title}")
    )
    resp.content_type = falcon.MEDIA_JSON
    resp.data = error_body(status, message)


def _status_for(error: Exception) -> int:
    if isinstance(error, (NotFoundException, PluginNotFoundError)):
        return 404
    if isinstance(error, (AlreadyExistsException, ConflictError)):
        return 409
    if isinstance(error, (BadRequestError, ConfigException)):
        return 400
    return 500


def handle_connect_exception(
    req: falcon.Request,
    resp: falcon.Response,
    error: Exception,
    params: dict[str, Any],
    herder: Any = None,
) -> None:
    """Map a herder exception (or any unexpected one) onto a status code. ``herder`` (a
    HerderRef) gives the TLS context requests forwarded to other workers are made with."""
    if isinstance(error, (NotLeaderError, NotAssignedError)):
        current = herder.peek() if herder is not None else None
        _forward(req, resp, error, getattr(current, "rest_client_ssl_context", None))
        return
    status = _status_for(error)
    if status == 500 and not isinstance(error, RequestTimeoutError):
        log.error("Uncaught exception in REST call to %s %s", req.method, req.path, exc_info=error)
    message = (
        str(error) if isinstance(error, ConnectException) else f"{type(error).__name__}: {error}"
    )
    raise ConnectRestError(status, message)


def install(app: falcon.App, herder: Any = None) -> None:
    """Register the serializer and handlers on ``app``; ``herder`` is the app's HerderRef."""
    app.set_error_serializer(serialize_http_error)

    def handle(
        req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
    ) -> None:
        handle_connect_exception(req, resp, error, params, herder)

    # Handlers are looked up most-specific first, so falcon.HTTPError keeps its default handler.
    app.add_error_handler(Exception, handle)
    app.add_error_handler(falcon.MediaMalformedError, _malformed_media)
    # gunicorn parses a chunked body only when a responder reads it, so a malformed one
    # surfaces here, not on the event loop that answers other parse errors.
    app.add_error_handler(ParseException, _malformed_body)


def _malformed_body(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    from kconnect.rest.request_buffering import describe_parse_error

    status, message = describe_parse_error(error)
    raise ConnectRestError(status, message)


def _malformed_media(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    detail = getattr(error, "description", None) or str(error)
    raise ConnectRestError(400, f"Request body is not valid JSON: {detail}")


#: how long a forwarded request may take (Kafka's request timeout)
FORWARD_TIMEOUT_S = 90.0


def _forward(
    req: falcon.Request,
    resp: falcon.Response,
    error: Exception,
    ssl_context: ssl.SSLContext | None,
) -> None:
    """Send the request on to the worker that can serve it (the leader, or the owner of a
    task) and answer with its answer, as Kafka's HerderRequestHandler does."""
    from kconnect.rest import forwarding  # it raises ConnectRestError, defined here

    target = (
        error.leader_url if isinstance(error, NotLeaderError) else getattr(error, "owner_url", None)
    )
    if not target:
        # Kafka's words when no leader is known (likely mid-rebalance); else the herder's.
        raise ConnectRestError(
            409, forwarding.NO_LEADER_MESSAGE if isinstance(error, NotLeaderError) else str(error)
        )
    query = {k: v for k, v in req.params.items() if k != "forward"}
    answer = forwarding.forward_request(
        target,
        req.method,
        # The path as the client encoded it (gunicorn's RAW_URI), so names with '/' survive.
        str(req.env.get("RAW_URI") or req.path).split("?", 1)[0],
        query,
        getattr(req.context, "raw_body", None),
        req.headers,
        forwarding.parse_forward_param(req.get_param("forward")),
        FORWARD_TIMEOUT_S,
        ssl_context=ssl_context,
    )
    resp.status = falcon.code_to_http_status(answer.status)
    resp.content_type = falcon.MEDIA_JSON
    resp.data = answer.body
    location = next((v for k, v in answer.headers.items() if k.lower() == "location"), None)
    if location:
        resp.set_header("Location", location)
