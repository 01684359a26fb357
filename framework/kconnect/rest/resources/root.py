"""``GET /`` (worker version and Kafka cluster id), ``GET /health`` and ``GET /openapi.json``."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path
from typing import Any

import falcon
import orjson
from kconnect import __version__
from kconnect.rest.errors import ConnectRestError
from kconnect.rest.http import HerderRef

#: Kafka's default health check timeout
HEALTH_CHECK_TIMEOUT_S = 10.0


@functools.cache
def commit_id() -> str:
    """The git commit kconnect runs from, when it runs from a checkout; else "unknown"."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class RootResource:
    """``GET /``: ``{"version", "commit", "kafka_cluster_id"}``."""

    def __init__(self, herder: HerderRef):
        self.herder_ref = herder

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        herder = self.herder_ref.peek()
        cluster_id = getattr(herder, "kafka_cluster_id", None) if herder is not None else None
        resp.media = {"version": __version__, "commit": commit_id(), "kafka_cluster_id": cluster_id}


class HealthResource:
    """``GET /health``: 200 healthy, 503 while starting, 500 when the herder does not answer."""

    def __init__(self, herder: HerderRef, timeout_s: float = HEALTH_CHECK_TIMEOUT_S):
        self.herder_ref = herder
        self.timeout_s = timeout_s

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not self.herder_ref.ready:
            resp.status = 503
            resp.media = {"status": "starting", "message": "Worker is still starting up."}
            return
        try:
            self.herder_ref.get().health_check(self.timeout_s)
        except Exception:  # noqa: BLE001 - any failure to answer means unhealthy
            resp.status = 500
            resp.media = {
                "status": "unhealthy",
                "message": "Worker was unable to handle this request and may "
                "be unable to handle other requests.",
            }
            return
        resp.media = {
            "status": "healthy",
            "message": "Worker has completed startup and is ready to handle requests.",
        }


class OpenApiResource:
    """``GET /openapi.json``: the OpenAPI 3.1 document of this API."""

    def __init__(self, document: dict[str, Any]):
        self._body = orjson.dumps(document)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self._body


def raise_not_found(req: falcon.Request, resp: falcon.Response) -> None:
    raise ConnectRestError(404, "HTTP 404 Not Found")
