"""``/admin/loggers``: Kafka Connect's logger admin API mapped onto Python ``logging`` (the
levels themselves: :mod:`kconnect.runtime.loggers`).

``PUT ...?scope=cluster`` is handed to the herder: a distributed worker writes a
``logger-cluster-<namespace>`` record to the config topic and every worker of the cluster applies
it when it reads it back (Kafka's behaviour); a standalone worker, the whole cluster, applies it
at once. Either way the answer is 204 with no body.
"""

from __future__ import annotations

import logging

import falcon
from kconnect.rest.errors import ConnectRestError, bad_request
from kconnect.rest.http import HerderRef, read_json_object
from kconnect.runtime.loggers import (  # noqa: F401 - names this module always offered
    LEVELS,
    ROOT_LOGGER_NAME,
    LoggerLevels,
    level_name,
)

log = logging.getLogger(__name__)


class LoggersResource:
    """``GET /admin/loggers``."""

    def __init__(self, levels: LoggerLevels):
        self.levels = levels

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.levels.all_levels()


class LoggerResource:
    """``GET|PUT /admin/loggers/{logger}``; PUT takes ``{"level": …}`` and ``?scope=worker|cluster``."""

    def __init__(self, levels: LoggerLevels, herder: HerderRef | None = None):
        self.levels = levels
        self.herder = herder

    def on_get(self, req: falcon.Request, resp: falcon.Response, logger: str) -> None:
        found = self.levels.level(logger)
        if found is None:
            raise ConnectRestError(404, f"Logger {logger} not found.")
        resp.media = found

    def on_put(self, req: falcon.Request, resp: falcon.Response, logger: str) -> None:
        body = read_json_object(req)
        level = body.get("level")
        if level is None:
            raise bad_request("Desired 'level' parameter was not specified in request.")
        if not isinstance(level, str) or level.upper() not in LEVELS:
            # Kafka answers 404 for an unknown level name.
            raise ConnectRestError(404, f"invalid log level '{level}'.")
        scope = (req.get_param("scope") or "worker").lower()
        if scope not in ("worker", "cluster"):
            log.warning(
                "Received invalid scope '%s' in request to adjust logging level; will default to worker",
                scope,
            )
            scope = "worker"
        if scope == "cluster":
            herder = self.herder.get() if self.herder is not None else None
            set_cluster_level = getattr(herder, "set_cluster_logger_level", None)
            if set_cluster_level is not None:
                set_cluster_level(logger, level.upper())
            else:
                self.levels.set_level(logger, level.upper())
            resp.status = 204
            resp.data = b""
            return
        resp.media = self.levels.set_level(logger, level.upper())
