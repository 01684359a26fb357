"""Error handling on the record path (Kafka Connect's RetryWithToleranceOperator).

The task loops convert and transform records on a fast path with one try block per record.
When a record fails there, it is run again through :meth:`ErrorHandler.execute`, stage by
stage, which decides: retry, skip (``errors.tolerance=all``), or fail the task.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kconnect.api.errors import ConnectException

log = logging.getLogger(__name__)

T = TypeVar("T")


class Stage(str, enum.Enum):
    """Where in the pipeline an error happened (the ``__connect.errors.stage`` header)."""

    TASK_POLL = "TASK_POLL"
    TASK_PUT = "TASK_PUT"
    TRANSFORMATION = "TRANSFORMATION"
    KEY_CONVERTER = "KEY_CONVERTER"
    VALUE_CONVERTER = "VALUE_CONVERTER"
    HEADER_CONVERTER = "HEADER_CONVERTER"
    KAFKA_PRODUCE = "KAFKA_PRODUCE"
    KAFKA_CONSUME = "KAFKA_CONSUME"


class ToleranceExceededError(ConnectException):
    def __init__(self, cause: BaseException):
        super().__init__("Tolerance exceeded in error handler")
        self.__cause__ = cause


class Skipped:
    """Returned by execute() when the record was tolerated and must be skipped."""


SKIPPED = Skipped()


class ErrorHandler:
    """Applies ``errors.tolerance`` and ``errors.log.*`` of one task."""

    def __init__(self, connector_config: Mapping[str, Any], connector: str, task: int):
        self.tolerate_all = str(connector_config.get("errors.tolerance", "none")) == "all"
        self.log_errors = bool(connector_config.get("errors.log.enable", False))
        self.log_messages = bool(connector_config.get("errors.log.include.messages", False))
        self.connector = connector
        self.task = task
        self.total_errors = 0

    def execute(self, stage: Stage, fn: Callable[..., T], *args: Any, record: Any = None,
                origin: str | None = None) -> T | Skipped:
        """Run one stage for one record; the error policy decides what a failure means."""
        try:
            return fn(*args)
        except Exception as error:  # noqa: BLE001 - every plugin error goes through the policy
            return self.failed(stage, error, record, origin)

    def failed(self, stage: Stage, error: BaseException, record: Any = None, origin: str | None = None) -> Skipped:
        self.total_errors += 1
        if self.log_errors or self.tolerate_all:
            self._log(stage, error, record, origin)
        if not self.tolerate_all:
            raise ToleranceExceededError(error)
        return SKIPPED

    def _log(self, stage: Stage, error: BaseException, record: Any, origin: str | None) -> None:
        where = f"Error encountered in task {self.connector}-{self.task}. Executing stage '{stage.value}'"
        if origin:
            where += f" with class '{origin}'"
        if self.log_messages and record is not None:
            where += f", where consumed record is {record!r}"
        log.error("%s.", where, exc_info=(type(error), error, error.__traceback__) if self.log_errors else None)

    def close(self) -> None:
        pass
