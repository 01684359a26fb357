"""``/admin/loggers``: Kafka Connect's logger admin API mapped onto Python ``logging``.

Levels use log4j's names (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF); Python's numeric levels
are translated both ways. Setting a level on a namespace sets it on every existing logger whose
name starts with it, as Kafka does, and records when each was changed (``last_modified``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import falcon
from kconnect.rest.errors import ConnectRestError, bad_request
from kconnect.rest.http import read_json_object

log = logging.getLogger(__name__)

ROOT_LOGGER_NAME = "root"

#: log4j level name -> Python level number (TRACE and OFF have no Python name)
LEVELS: dict[str, int] = {
    "ALL": 1,
    "TRACE": 5,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
    "OFF": logging.CRITICAL + 10,
}
_BY_NUMBER = sorted(((number, name) for name, number in LEVELS.items()), reverse=True)


def level_name(number: int) -> str:
    """The log4j name of a Python level (the nearest one at or below it)."""
    for threshold, name in _BY_NUMBER:
        if number >= threshold:
            return name
    return "ALL"


class LoggerLevels:
    """Reads and changes logger levels; remembers when this API last changed each one."""

    def __init__(self) -> None:
        self._last_modified: dict[str, int] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _current_loggers() -> dict[str, logging.Logger]:
        # Placeholders are parents nobody created; log4j does not list those either.
        manager = logging.root.manager
        return {
            name: lg
            for name, lg in list(manager.loggerDict.items())
            if isinstance(lg, logging.Logger)
        }

    def _level_of(self, logger: logging.Logger, name: str) -> dict[str, Any]:
        number = logger.level or logger.getEffectiveLevel()
        return {"level": level_name(number), "last_modified": self._last_modified.get(name)}

    def all_levels(self) -> dict[str, dict[str, Any]]:
        """Loggers whose level is set explicitly, and the root logger, sorted by name."""
        result = {
            name: self._level_of(lg, name)
            for name, lg in self._current_loggers().items()
            if lg.level != logging.NOTSET
        }
        result[ROOT_LOGGER_NAME] = self._level_of(logging.root, ROOT_LOGGER_NAME)
        return dict(sorted(result.items()))

    def level(self, name: str) -> dict[str, Any] | None:
        if name.lower() == ROOT_LOGGER_NAME:
            return self._level_of(logging.root, ROOT_LOGGER_NAME)
        logger = self._current_loggers().get(name)
        return None if logger is None else self._level_of(logger, name)

    def set_level(self, namespace: str, level: str) -> list[str]:
        """Set ``namespace`` and the loggers under it; the names they go by, sorted."""
        number = LEVELS[level]
        log.info("Setting level of namespace %s and children to %s", namespace, level)
        with self._lock:
            current = self._current_loggers()
            if namespace.lower() == ROOT_LOGGER_NAME:
                targets = [(name, lg) for name, lg in current.items()]
                targets.append((ROOT_LOGGER_NAME, logging.root))
            else:
                targets = [(name, lg) for name, lg in current.items() if name.startswith(namespace)]
                if namespace not in current:
                    targets.append((namespace, logging.getLogger(namespace)))
            now = int(time.time() * 1000)
            for name, logger in targets:
                if (logger.level or logger.getEffectiveLevel()) == number:
                    continue
                logger.setLevel(number)
                self._last_modified[name] = now
        return sorted(name for name, _ in targets)


class LoggersResource:
    """``GET /admin/loggers``."""

    def __init__(self, levels: LoggerLevels):
        self.levels = levels

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.levels.all_levels()


class LoggerResource:
    """``GET|PUT /admin/loggers/{logger}``; PUT takes ``{"level": …}`` and ``?scope=worker|cluster``."""

    def __init__(self, levels: LoggerLevels):
        self.levels = levels

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
        affected = self.levels.set_level(logger, level.upper())
        if scope == "cluster":
            # One standalone worker is the whole cluster.
            resp.status = 204
            resp.data = b""
            return
        resp.media = affected
