"""Error handling on the record path (Kafka Connect's RetryWithToleranceOperator).

The task loops convert and transform records on a fast path with one try block per record.
When a record fails there, it is run again through :meth:`ErrorHandler.execute`, stage by
stage, which decides, as Kafka does:

* a :class:`~kconnect.api.errors.RetriableException` is retried with exponential backoff
  (300 ms, doubling, at most ``errors.retry.delay.max.ms``, then random below it) for up to
  ``errors.retry.timeout`` ms (``-1``: without end; ``0``, the default: no retries). A task
  that is asked to stop stops waiting at once;
* a failure is reported (``errors.log.enable`` logs it, a sink's dead letter queue gets the
  consumed record), then either skipped (``errors.tolerance=all``) or turned into
  ``ConnectException("Tolerance exceeded in error handler")``, which fails the task.

Converters, header converters and transforms may fail with any exception and still be
tolerated; other stages (``TASK_PUT``…) only with a RetriableException, as in Kafka.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from kconnect.api.errors import ConnectException, RetriableException

log = logging.getLogger(__name__)

T = TypeVar("T")

#: the first retry waits this long; each one after waits twice as long (Kafka's value)
RETRIES_DELAY_MIN_MS = 300


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


#: stages in which any exception may be tolerated; elsewhere only a RetriableException
TOLERATE_ANY_EXCEPTION = frozenset(
    {Stage.TRANSFORMATION, Stage.HEADER_CONVERTER, Stage.KEY_CONVERTER, Stage.VALUE_CONVERTER}
)


class ToleranceExceededError(ConnectException):
    """A record failed and ``errors.tolerance`` does not allow skipping it."""

    def __init__(self, cause: BaseException, message: str = "Tolerance exceeded in error handler"):
        super().__init__(message)
        self.__cause__ = cause


class Skipped:
    """Returned by execute() when the record was tolerated and must be skipped."""

    def __repr__(self) -> str:
        return "SKIPPED"


SKIPPED = Skipped()


@dataclass
class ErrorContext:
    """What went wrong, where, and with which record (Kafka's ProcessingContext).

    ``consumed`` is the message a sink read from Kafka (raw bytes; a confluent_kafka Message or
    anything with ``topic()``, ``partition()``, ``offset()``, ``key()``, ``value()``,
    ``headers()`` and ``timestamp()``); ``source_record`` is the record a source task produced.
    """

    connector: str
    task: int
    stage: Stage
    executing_class: str
    error: BaseException
    consumed: Any = None
    source_record: Any = None
    attempts: int = 1

    def describe(self, include_message: bool) -> str:
        """Kafka's words: ``Executing stage 'VALUE_CONVERTER' with class '…', where consumed
        record is {topic='t', partition=0, offset=3, timestamp=…, timestampType=CreateTime}.``"""
        text = f"Executing stage '{self.stage.value}' with class '{self.executing_class}'"
        if include_message and self.source_record is not None:
            text += f", where source record is = {self.source_record!r}"
        elif include_message and self.consumed is not None:
            msg = self.consumed
            text += f", where consumed record is {{topic='{msg.topic()}', partition={msg.partition()}, offset={msg.offset()}"
            ts_type, ts = _timestamp(msg)
            if ts_type in (1, 2):
                text += f", timestamp={ts}, timestampType={'CreateTime' if ts_type == 1 else 'LogAppendTime'}"
            text += "}"
        return text + "."


def _timestamp(message: Any) -> tuple[int, int]:
    try:
        ts_type, ts = message.timestamp()
        return int(ts_type), int(ts)
    except Exception:  # noqa: BLE001 - a message without a timestamp is described without one
        return 0, -1


class ErrorReporter(Protocol):
    """Somewhere a failed record is reported: the log, a dead letter queue."""

    def report(self, context: ErrorContext) -> Future[Any] | None: ...

    def flush(self, timeout_s: float) -> None: ...

    def close(self) -> None: ...


class LogReporter:
    """``errors.log.enable``: each failure goes to the application log, with its stack trace."""

    def __init__(self, connector: str, task: int, include_messages: bool):
        self.task_name = f"{connector}-{task}"
        self.include_messages = include_messages

    def report(self, context: ErrorContext) -> None:
        error = context.error
        log.error(
            "Error encountered in task %s. %s",
            self.task_name,
            context.describe(self.include_messages),
            exc_info=(type(error), error, error.__traceback__),
        )

    def flush(self, timeout_s: float) -> None:
        pass

    def close(self) -> None:
        pass


class RetryBackoff:
    """Exponential backoff with Kafka's shape: 300 ms doubling up to ``max_delay_ms``, then a
    random delay below it (so restarted tasks do not retry in lockstep), never past a deadline."""

    def __init__(self, max_delay_ms: int, initial_ms: int = RETRIES_DELAY_MIN_MS):
        self.max_delay_ms = max(0, int(max_delay_ms))
        self.initial_ms = initial_ms

    def delay_ms(self, attempt: int, remaining_ms: float | None = None) -> float:
        """The wait after failed attempt ``attempt`` (1 for the first)."""
        delay = float(self.initial_ms << min(max(attempt - 1, 0), 40))
        if delay > self.max_delay_ms:
            delay = random.uniform(0, self.max_delay_ms) if self.max_delay_ms else 0.0
        if remaining_ms is not None:
            delay = max(0.0, min(delay, remaining_ms))
        return delay


def _flag(props: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = props.get(key, default)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def _long(props: Mapping[str, Any], key: str, default: int) -> int:
    value = props.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def class_name_of(obj: Any) -> str:
    """The class Kafka would name in ``__connect.errors.class.name`` for a callable or plugin."""
    owner = getattr(obj, "__self__", obj)
    cls = owner if isinstance(owner, type) else type(owner)
    return f"{cls.__module__}.{cls.__qualname__}"


class ErrorHandler:
    """Applies ``errors.tolerance``, ``errors.retry.*`` and ``errors.log.*`` of one task, and
    hands failures to the task's reporters (log, dead letter queue)."""

    def __init__(
        self,
        connector_config: Mapping[str, Any],
        connector: str,
        task: int,
        reporters: Iterable[ErrorReporter] = (),
        clock: Callable[[], float] = time.monotonic,
    ):
        self.tolerate_all = (
            str(connector_config.get("errors.tolerance", "none")).strip().lower() == "all"
        )
        self.log_errors = _flag(connector_config, "errors.log.enable")
        self.log_messages = _flag(connector_config, "errors.log.include.messages")
        self.retry_timeout_ms = _long(connector_config, "errors.retry.timeout", 0)
        self.backoff = RetryBackoff(_long(connector_config, "errors.retry.delay.max.ms", 60000))
        self.connector = connector
        self.task = task
        self.reporters: list[ErrorReporter] = []
        if self.log_errors:
            self.reporters.append(LogReporter(connector, task, self.log_messages))
        self.reporters.extend(reporters)
        self.total_failures = 0
        self.total_skipped = 0
        self.total_retries = 0
        self._clock = clock
        self._stopping = threading.Event()

    # kept for callers that count errors
    @property
    def total_errors(self) -> int:
        return self.total_failures

    # -- executing operations ------------------------------------------------------------------
    def execute(
        self,
        stage: Stage,
        fn: Callable[..., T],
        *args: Any,
        record: Any = None,
        origin: str | None = None,
    ) -> T | Skipped:
        """Run one stage for one record under the error policy: its result, or SKIPPED."""
        attempt = 0
        start = self._clock()
        while True:
            attempt += 1
            try:
                return fn(*args)
            except RetriableException as error:
                self.total_failures += 1
                remaining = self._remaining_ms(start)
                if remaining is not None and remaining <= 0 or self.stopping:
                    return self._fail(stage, error, record, origin or class_name_of(fn), attempt)
                log.debug(
                    "Retriable error in task %s-%s, stage %s (attempt %d): %s",
                    self.connector,
                    self.task,
                    stage.value,
                    attempt,
                    error,
                )
                self.sleep(self.backoff.delay_ms(attempt, remaining) / 1000)
                self.total_retries += 1
                if self.stopping:
                    return self._fail(stage, error, record, origin or class_name_of(fn), attempt)
            except Exception as error:  # noqa: BLE001 - every plugin error goes through the policy
                self.total_failures += 1
                return self._fail(stage, error, record, origin or class_name_of(fn), attempt)

    def execute_transformations(self, chain: Any, record: Any, consumed: Any = None) -> Any:
        """Apply a TransformationChain stage by stage, so a failure names the transform (or
        predicate) class that failed. None when a transform dropped the record."""
        for step in getattr(chain, "stages", ()):
            transform = getattr(step, "transform", step)
            record = self.execute(
                Stage.TRANSFORMATION,
                step.apply,
                record,
                record=consumed,
                origin=class_name_of(transform),
            )
            if record is SKIPPED:
                return SKIPPED
            if record is None:
                return None
        return record

    def failed(
        self, stage: Stage, error: BaseException, record: Any = None, origin: str | None = None
    ) -> Skipped:
        """An operation already failed outside execute(): report it and apply the tolerance."""
        self.total_failures += 1
        return self._fail(stage, error, record, origin or "unknown", 1)

    def execute_failed(
        self,
        stage: Stage,
        executing_class: str,
        error: BaseException,
        consumed: Any = None,
        source_record: Any = None,
    ) -> Future[Any]:
        """Report a record the task itself found bad (the errant record reporter): a future of
        the reporters' writes, or ToleranceExceededError when tolerance is ``none``."""
        self.total_failures += 1
        context = self._context(stage, executing_class, error, consumed, source_record, 1)
        futures = self._report(context)
        if not self.tolerate_all:
            raise ToleranceExceededError(error)
        self.total_skipped += 1
        return _all_of(futures)

    # -- internals -----------------------------------------------------------------------------
    def _remaining_ms(self, start: float) -> float | None:
        """Milliseconds left for retries; None when unbounded."""
        if self.retry_timeout_ms < 0:
            return None
        return self.retry_timeout_ms - (self._clock() - start) * 1000

    def _context(
        self,
        stage: Stage,
        origin: str,
        error: BaseException,
        consumed: Any,
        source_record: Any,
        attempts: int,
    ) -> ErrorContext:
        return ErrorContext(
            self.connector, self.task, stage, origin, error, consumed, source_record, attempts
        )

    def _fail(
        self, stage: Stage, error: BaseException, record: Any, origin: str, attempts: int
    ) -> Skipped:
        consumed, source_record = (None, record) if _is_connect_record(record) else (record, None)
        self._report(self._context(stage, origin, error, consumed, source_record, attempts))
        if stage not in TOLERATE_ANY_EXCEPTION and not isinstance(error, RetriableException):
            raise ToleranceExceededError(error, "Unhandled exception in error handler")
        if not self.tolerate_all:
            raise ToleranceExceededError(error)
        self.total_skipped += 1
        log.debug(
            "Task %s-%s skipped a record that failed in stage %s: %s",
            self.connector,
            self.task,
            stage.value,
            error,
        )
        return SKIPPED

    def _report(self, context: ErrorContext) -> list[Future[Any]]:
        futures = []
        for reporter in self.reporters:
            try:
                future = reporter.report(context)
            except Exception:
                log.exception("Error reporter %s failed", type(reporter).__name__)
                continue
            if future is not None:
                futures.append(future)
        return futures

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def sleep(self, seconds: float) -> bool:
        """Wait, unless the task is stopping; False when woken by stop()."""
        return not self._stopping.wait(max(0.0, seconds))

    def stop(self) -> None:
        """The task is stopping: end retries now."""
        self._stopping.set()

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until the reporters wrote what they were given (before offsets are committed)."""
        for reporter in self.reporters:
            try:
                reporter.flush(timeout_s)
            except Exception:
                log.exception("Error flushing error reporter %s", type(reporter).__name__)

    def close(self) -> None:
        for reporter in self.reporters:
            try:
                reporter.close()
            except Exception:
                log.exception("Error closing error reporter %s", type(reporter).__name__)


def _is_connect_record(record: Any) -> bool:
    from kconnect.api.records import ConnectRecord

    return isinstance(record, ConnectRecord)


class _AllOf:
    """A future-like over several futures: ``result(timeout)`` waits for every one."""

    def __init__(self, futures: list[Any]):
        self._futures = futures

    def done(self) -> bool:
        return all(f.done() for f in self._futures)

    def result(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        for future in self._futures:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            future.result(remaining)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        try:
            self.result(timeout)
        except Exception as error:  # noqa: BLE001
            return error
        return None

    def cancel(self) -> bool:
        return False

    def cancelled(self) -> bool:
        return False


def _all_of(futures: list[Any]) -> Any:
    if not futures:
        done: Future[Any] = Future()
        done.set_result(None)
        return done
    if len(futures) == 1:
        return futures[0]
    return _AllOf(futures)
