"""The two layouts of a worker's log: Kafka Connect's text lines, or one JSON object per line.

Text (the default) is Kafka's ``connect-log4j.properties`` layout with the connector context
before the message: ``[2024-05-01 10:00:00,123] INFO [my-connector|task-0] Committing offsets
(kconnect.runtime.worker.source_task_runner)``.

JSON is chosen with the environment variable ``KCONNECT_LOG_FORMAT=json``, read when logging is
set up, before the worker's properties file is (a worker key could not cover the lines logged
while that file is read). Each line is one object: ``timestamp`` (ISO 8601, UTC), ``level``
(log4j's names: WARN, not WARNING), ``logger``, ``thread``, ``message``, ``connector`` and
``task`` (``task-0``, or ``worker`` for the connector instance) when the line has a connector
context, and ``exception`` with the stack trace when there is one. Log shippers then need no
pattern to find the connector.
"""

from __future__ import annotations

import datetime
import logging
import os

import orjson

#: the environment variable that picks the layout: ``text`` (default) or ``json``
LOG_FORMAT_ENV = "KCONNECT_LOG_FORMAT"

TEXT_FORMAT = "[%(asctime)s] %(levelname)s %(connector_context)s%(message)s (%(name)s)"

_LOG4J_LEVEL_NAMES = {"WARNING": "WARN", "CRITICAL": "FATAL"}


def json_requested() -> bool:
    return os.environ.get(LOG_FORMAT_ENV, "").strip().lower() == "json"


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring for the fields)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": _LOG4J_LEVEL_NAMES.get(record.levelname, record.levelname),
            "logger": record.name,
            "thread": record.threadName,
            "message": record.getMessage(),
        }
        context = getattr(record, "connector_context", "")
        if context:
            # "[name|task-0] " -> name, task-0 (a connector name may itself hold a '|')
            connector, _, scope = context.strip()[1:-1].rpartition("|")
            entry["connector"] = connector
            entry["task"] = scope
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry).decode("utf-8")


def worker_formatter() -> logging.Formatter:
    """The formatter the command lines put on the root handler."""
    if json_requested():
        return JsonFormatter()
    return logging.Formatter(TEXT_FORMAT)
