"""The error policy of a task: retries with backoff, tolerance, logging (Kafka's
RetryWithToleranceOperator behaviour)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from kconnect.api.errors import DataException, RetriableException
from kconnect.api.records import SourceRecord
from kconnect.runtime.errors.error_handler import (
    SKIPPED,
    ErrorContext,
    ErrorHandler,
    RetryBackoff,
    Stage,
    ToleranceExceededError,
)


class FakeMessage:
    def __init__(
        self,
        topic: str = "orders",
        partition: int = 0,
        offset: int = 5,
        key: bytes | None = b"k",
        value: bytes | None = b"garbage",
        headers: list[tuple[str, bytes]] | None = None,
        timestamp: tuple[int, int] = (1, 1700000000000),
    ):
        self._topic, self._partition, self._offset = topic, partition, offset
        self._key, self._value, self._headers, self._timestamp = key, value, headers, timestamp

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> list[tuple[str, bytes]] | None:
        return self._headers

    def timestamp(self) -> tuple[int, int]:
        return self._timestamp

    def error(self) -> None:
        return None


class FakeClock:
    """A clock that moves only when the handler sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now


def handler_with_fake_time(props: dict[str, Any]) -> tuple[ErrorHandler, FakeClock]:
    clock = FakeClock()
    handler = ErrorHandler(props, "conn", 0, clock=clock)

    def sleep(seconds: float) -> bool:
        clock.sleeps.append(seconds)
        clock.now += seconds
        return True

    handler.sleep = sleep  # type: ignore[method-assign]
    return handler, clock


def failing(times: int, error: Exception, result: Any = "ok") -> Any:
    calls = {"n": 0}

    def fn(*_args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error
        return result

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def test_success_returns_the_result() -> None:
    handler = ErrorHandler({}, "conn", 0)
    assert handler.execute(Stage.VALUE_CONVERTER, lambda x: x + 1, 1) == 2


def test_retriable_error_is_retried_with_exponential_backoff_until_it_succeeds() -> None:
    handler, clock = handler_with_fake_time(
        {"errors.retry.timeout": "60000", "errors.retry.delay.max.ms": "60000"}
    )
    fn = failing(3, RetriableException("broker busy"))

    assert handler.execute(Stage.TRANSFORMATION, fn, "r") == "ok"

    assert fn.calls["n"] == 4
    assert clock.sleeps == pytest.approx([0.3, 0.6, 1.2])


def test_retries_end_at_the_retry_timeout_and_then_tolerance_none_fails() -> None:
    handler, clock = handler_with_fake_time(
        {"errors.retry.timeout": "1000", "errors.retry.delay.max.ms": "60000"}
    )
    fn = failing(100, RetriableException("still busy"))

    with pytest.raises(ToleranceExceededError, match="Tolerance exceeded in error handler") as info:
        handler.execute(Stage.VALUE_CONVERTER, fn, "r")

    assert isinstance(info.value.__cause__, RetriableException)
    # 300 + 600 ms, then the last wait is cut to what is left of the 1000 ms
    assert clock.sleeps == pytest.approx([0.3, 0.6, 0.1])
    assert sum(clock.sleeps) == pytest.approx(1.0)


def test_retries_exhausted_with_tolerance_all_skip_the_record() -> None:
    handler, _ = handler_with_fake_time({"errors.retry.timeout": "500", "errors.tolerance": "all"})
    assert (
        handler.execute(Stage.VALUE_CONVERTER, failing(100, RetriableException("x")), "r")
        is SKIPPED
    )
    assert handler.total_skipped == 1


def test_default_retry_timeout_zero_means_no_retry() -> None:
    handler, clock = handler_with_fake_time({"errors.tolerance": "all"})
    fn = failing(1, RetriableException("x"))
    assert handler.execute(Stage.VALUE_CONVERTER, fn, "r") is SKIPPED
    assert fn.calls["n"] == 1
    assert clock.sleeps == []


def test_backoff_is_capped_by_the_max_delay_with_jitter_below_it() -> None:
    backoff = RetryBackoff(max_delay_ms=1000)
    assert backoff.delay_ms(1) == 300
    assert backoff.delay_ms(2) == 600
    for _ in range(50):
        assert 0 <= backoff.delay_ms(3) <= 1000  # 1200 > max: random below the max
    assert backoff.delay_ms(1, remaining_ms=120) == 120


def test_infinite_retries_stop_as_soon_as_the_task_is_stopped() -> None:
    handler = ErrorHandler(
        {"errors.retry.timeout": "-1", "errors.retry.delay.max.ms": "600000"}, "conn", 0
    )
    fn = failing(10**9, RetriableException("forever"))
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            handler.execute(Stage.TRANSFORMATION, fn, "r")
        except ToleranceExceededError as error:
            result["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(1.0)  # first waits are 300 and 600 ms; then one of up to 1.2 s
    started = time.monotonic()
    handler.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 0.5
    assert isinstance(result["error"], ToleranceExceededError)


def test_tolerance_none_fails_on_the_first_converter_error() -> None:
    handler = ErrorHandler({"errors.tolerance": "none"}, "conn", 0)
    with pytest.raises(
        ToleranceExceededError, match="^Tolerance exceeded in error handler$"
    ) as info:
        handler.execute(
            Stage.VALUE_CONVERTER, failing(1, DataException("bad json")), "r", record=FakeMessage()
        )
    assert isinstance(info.value.__cause__, DataException)


def test_tolerance_all_skips_any_exception_in_converters_and_transforms() -> None:
    handler = ErrorHandler({"errors.tolerance": "all"}, "conn", 0)
    for stage in (
        Stage.KEY_CONVERTER,
        Stage.VALUE_CONVERTER,
        Stage.HEADER_CONVERTER,
        Stage.TRANSFORMATION,
    ):
        assert handler.execute(stage, failing(1, ValueError("boom")), "r") is SKIPPED
    assert handler.total_failures == 4


def test_other_stages_tolerate_only_retriable_exceptions() -> None:
    handler = ErrorHandler({"errors.tolerance": "all"}, "conn", 0)
    with pytest.raises(ToleranceExceededError, match="Unhandled exception in error handler"):
        handler.execute(Stage.TASK_PUT, failing(1, ValueError("boom")), "r")
    assert handler.execute(Stage.TASK_PUT, failing(1, RetriableException("later")), "r") is SKIPPED


def test_log_enable_logs_kafkas_message_with_the_consumed_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = ErrorHandler(
        {
            "errors.tolerance": "all",
            "errors.log.enable": "true",
            "errors.log.include.messages": "true",
        },
        "conn",
        3,
    )
    caplog.set_level(logging.ERROR, logger="kconnect.runtime.errors.error_handler")

    handler.execute(
        Stage.VALUE_CONVERTER,
        failing(1, DataException("bad json")),
        "r",
        record=FakeMessage(),
        origin="kconnect_builtins.converters.json.JsonConverter",
    )

    [entry] = caplog.records
    assert entry.getMessage() == (
        "Error encountered in task conn-3. Executing stage 'VALUE_CONVERTER' with class "
        "'kconnect_builtins.converters.json.JsonConverter', where consumed record is "
        "{topic='orders', partition=0, offset=5, timestamp=1700000000000, timestampType=CreateTime}."
    )
    assert entry.exc_info is not None and entry.exc_info[1].args == ("bad json",)


def test_log_without_messages_leaves_the_record_out(caplog: pytest.LogCaptureFixture) -> None:
    handler = ErrorHandler({"errors.tolerance": "all", "errors.log.enable": "true"}, "conn", 0)
    caplog.set_level(logging.ERROR, logger="kconnect.runtime.errors.error_handler")
    handler.execute(
        Stage.KEY_CONVERTER, failing(1, DataException("x")), "r", record=FakeMessage(), origin="a.B"
    )
    assert (
        caplog.records[0].getMessage()
        == "Error encountered in task conn-0. Executing stage 'KEY_CONVERTER' with class 'a.B'."
    )


def test_errors_are_not_logged_unless_log_enable(caplog: pytest.LogCaptureFixture) -> None:
    handler = ErrorHandler({"errors.tolerance": "all"}, "conn", 0)
    caplog.set_level(logging.INFO, logger="kconnect.runtime.errors.error_handler")
    handler.execute(Stage.KEY_CONVERTER, failing(1, DataException("x")), "r")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_source_record_is_described_as_in_kafka() -> None:
    record = SourceRecord({"f": 1}, {"o": 2}, "t", None, None, "v")
    context = ErrorContext(
        "c", 0, Stage.TRANSFORMATION, "x.Y", ValueError("e"), source_record=record
    )
    assert context.describe(True).startswith(
        "Executing stage 'TRANSFORMATION' with class 'x.Y', where source record is = "
    )


class Upper:
    def apply(self, record: str) -> str:
        return record.upper()


class Broken:
    def apply(self, record: str) -> str:
        raise DataException("cannot")


class Stage_:
    def __init__(self, transform: Any) -> None:
        self.transform = transform

    def apply(self, record: Any) -> Any:
        return self.transform.apply(record)


class Chain:
    def __init__(self, *transforms: Any) -> None:
        self.stages = [Stage_(t) for t in transforms]


class Recorder:
    def __init__(self) -> None:
        self.contexts: list[ErrorContext] = []

    def report(self, context: ErrorContext) -> None:
        self.contexts.append(context)

    def flush(self, timeout_s: float) -> None:
        pass

    def close(self) -> None:
        pass


def test_transformations_run_stage_by_stage_and_name_the_failing_transform() -> None:
    recorder = Recorder()
    handler = ErrorHandler({"errors.tolerance": "all"}, "conn", 0, reporters=[recorder])
    assert handler.execute_transformations(Chain(Upper()), "a") == "A"
    assert handler.execute_transformations(Chain(Upper(), Broken()), "a", FakeMessage()) is SKIPPED
    [context] = recorder.contexts
    assert context.stage is Stage.TRANSFORMATION
    assert context.executing_class == f"{__name__}.Broken"
    assert context.consumed is not None


def test_reporters_get_the_failure_even_when_the_task_then_fails() -> None:
    recorder = Recorder()
    handler = ErrorHandler({}, "conn", 1, reporters=[recorder])
    with pytest.raises(ToleranceExceededError):
        handler.execute(
            Stage.VALUE_CONVERTER, failing(1, DataException("bad")), "r", record=FakeMessage()
        )
    assert recorder.contexts[0].task == 1


def test_execute_failed_reports_and_returns_a_future_or_raises() -> None:
    recorder = Recorder()
    tolerant = ErrorHandler({"errors.tolerance": "all"}, "conn", 0, reporters=[recorder])
    future = tolerant.execute_failed(
        Stage.TASK_PUT, "x.Task", ValueError("no"), consumed=FakeMessage()
    )
    assert future.result(1) is None
    strict = ErrorHandler({}, "conn", 0, reporters=[recorder])
    with pytest.raises(ToleranceExceededError, match="Tolerance exceeded"):
        strict.execute_failed(Stage.TASK_PUT, "x.Task", ValueError("no"), consumed=FakeMessage())
    assert len(recorder.contexts) == 2
