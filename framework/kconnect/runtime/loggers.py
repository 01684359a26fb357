"""Logger levels by log4j name, set by namespace: what ``/admin/loggers`` and the cluster-wide
``logger-cluster-<namespace>`` records of the config topic change.

Levels use log4j's names (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF); Python's numeric levels
are translated both ways. Setting a level on a namespace sets it on every existing logger whose
name starts with it, as Kafka does, and records when each was changed (``last_modified``).
Python's levels are process-wide, and so are these records of when they changed: every
:class:`LoggerLevels` of a process shares them, so a level a cluster-scope record set shows in
the REST API's ``last_modified`` too.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

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


#: logger name -> when this process last changed its level (ms since the epoch)
_LAST_MODIFIED: dict[str, int] = {}
_LOCK = threading.Lock()


class LoggerLevels:
    """Reads and changes logger levels; remembers when this API last changed each one."""

    def __init__(self) -> None:
        self._last_modified = _LAST_MODIFIED
        self._lock = _LOCK

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
