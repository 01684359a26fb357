"""``GET /metrics``: the worker's metrics in Prometheus' text format (OpenMetrics when the
scraper's Accept header asks for it). See :mod:`kconnect.runtime.metrics`.

Served on the REST listeners, behind whatever the REST extensions add (authentication); with
``metrics.prometheus.port`` the same page is also served on a port of its own. 503 while the
worker starts, 404 when ``metrics.prometheus.enable=false``.
"""

from __future__ import annotations

from typing import Any

import falcon
from kconnect.rest.errors import ConnectRestError
from kconnect.rest.http import HerderRef


class MetricsResource:
    """``GET /metrics``."""

    def __init__(self, herder: HerderRef):
        self.herder = herder

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        metrics: Any = getattr(getattr(self.herder.get(), "worker", None), "metrics", None)
        if metrics is None or not metrics.enabled:
            raise ConnectRestError(
                404, "Metrics are disabled on this worker (metrics.prometheus.enable=false)."
            )
        body, content_type = metrics.exposition(req.get_header("Accept") or "")
        resp.data = body
        resp.content_type = content_type
