"""The dead letter queue reporter writes the consumed message as it was, with Kafka's
``__connect.errors.*`` context headers; the errant record reporter goes through it."""

from __future__ import annotations

from typing import Any

import pytest
from kconnect.api.errors import DataException
from kconnect.api.records import SinkRecord, TimestampType
from kconnect.runtime.errors.dead_letter_queue import (
    DeadLetterQueueReporter,
    WorkerErrantRecordReporter,
    errant_record_reporter_enabled,
)
from kconnect.runtime.errors.error_handler import (
    ErrorContext,
    ErrorHandler,
    Stage,
    ToleranceExceededError,
)


class FakeMessage:
    """What the reporters use of a confluent_kafka.Message."""

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
        self.topic = lambda: topic
        self.partition = lambda: partition
        self.offset = lambda: offset
        self.key = lambda: key
        self.value = lambda: value
        self.headers = lambda: headers
        self.timestamp = lambda: timestamp


class FakeProducer:
    def __init__(self) -> None:
        self.produced: list[dict[str, Any]] = []
        self.pending: list[Any] = []

    def produce(self, topic: str, value: Any = None, key: Any = None, **kwargs: Any) -> None:
        self.produced.append({"topic": topic, "key": key, "value": value, **kwargs})
        self.pending.append(kwargs["on_delivery"])

    def poll(self, _timeout: float = 0) -> int:
        served = len(self.pending)
        for callback in self.pending:
            callback(None, "metadata")
        self.pending = []
        return served

    def flush(self, _timeout: float = 0) -> int:
        self.poll()
        return 0


def context(error: BaseException, message: Any = None) -> ErrorContext:
    return ErrorContext(
        "my-sink",
        2,
        Stage.VALUE_CONVERTER,
        "kconnect_builtins.converters.json.JsonConverter",
        error,
        consumed=message,
    )


def raised(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:  # noqa: BLE001
        return caught


def test_the_raw_message_goes_to_the_dlq_with_its_headers_and_timestamp() -> None:
    producer = FakeProducer()
    reporter = DeadLetterQueueReporter("dlq", "my-sink", 2, producer, context_headers=False)
    message = FakeMessage(
        key=b"k1", value=b"{not json", headers=[("trace", b"abc")], timestamp=(1, 1234)
    )

    future = reporter.report(context(DataException("bad"), message))

    [sent] = producer.produced
    assert (sent["topic"], sent["key"], sent["value"], sent["timestamp"]) == (
        "dlq",
        b"k1",
        b"{not json",
        1234,
    )
    assert sent["headers"] == [("trace", b"abc")]
    assert future is not None and future.result(1) == "metadata"


def test_context_headers_are_kafkas_utf8_strings() -> None:
    producer = FakeProducer()
    reporter = DeadLetterQueueReporter("dlq", "my-sink", 2, producer, context_headers=True)
    error = raised(
        DataException("Converting byte[] to Kafka Connect data failed due to serialization error")
    )

    reporter.report(
        context(error, FakeMessage(topic="orders", partition=3, offset=41, headers=[("h", b"1")]))
    )

    headers = producer.produced[0]["headers"]
    assert headers[0] == ("h", b"1")
    decoded = {k: v.decode("utf-8") for k, v in headers[1:]}
    assert list(decoded) == [
        "__connect.errors.topic",
        "__connect.errors.partition",
        "__connect.errors.offset",
        "__connect.errors.connector.name",
        "__connect.errors.task.id",
        "__connect.errors.stage",
        "__connect.errors.class.name",
        "__connect.errors.exception.class.name",
        "__connect.errors.exception.message",
        "__connect.errors.exception.stacktrace",
    ]
    assert decoded["__connect.errors.topic"] == "orders"
    assert decoded["__connect.errors.partition"] == "3"
    assert decoded["__connect.errors.offset"] == "41"
    assert decoded["__connect.errors.connector.name"] == "my-sink"
    assert decoded["__connect.errors.task.id"] == "2"
    assert decoded["__connect.errors.stage"] == "VALUE_CONVERTER"
    assert (
        decoded["__connect.errors.class.name"] == "kconnect_builtins.converters.json.JsonConverter"
    )
    assert decoded["__connect.errors.exception.class.name"] == "kconnect.api.errors.DataException"
    assert decoded["__connect.errors.exception.message"].startswith(
        "Converting byte[] to Kafka Connect data"
    )
    trace = decoded["__connect.errors.exception.stacktrace"]
    assert trace.startswith("Traceback (most recent call last):")
    assert "DataException: Converting byte[]" in trace


def test_an_existing_context_header_is_not_overwritten() -> None:
    producer = FakeProducer()
    reporter = DeadLetterQueueReporter("dlq", "c", 0, producer, context_headers=True)
    reporter.report(
        context(ValueError("x"), FakeMessage(headers=[("__connect.errors.topic", b"earlier")]))
    )
    headers = producer.produced[0]["headers"]
    assert [v for k, v in headers if k == "__connect.errors.topic"] == [b"earlier"]


def test_a_failure_without_a_consumed_message_writes_nothing() -> None:
    producer = FakeProducer()
    reporter = DeadLetterQueueReporter("dlq", "c", 0, producer, context_headers=True)
    assert reporter.report(context(ValueError("x"))) is None
    assert producer.produced == []


def test_reporter_is_offered_with_a_dlq_logging_or_tolerance_all() -> None:
    assert not errant_record_reporter_enabled({})
    assert errant_record_reporter_enabled({"errors.deadletterqueue.topic.name": "dlq"})
    assert errant_record_reporter_enabled({"errors.log.enable": "true"})
    assert errant_record_reporter_enabled({"errors.tolerance": "all"})


class Bytes:
    """A converter that writes str values as UTF-8."""

    def from_connect_data(
        self, topic: str, schema: Any, value: Any, headers: Any = None
    ) -> bytes | None:
        return None if value is None else str(value).encode()

    def from_connect_header(self, topic: str, key: str, schema: Any, value: Any) -> bytes | None:
        return None if value is None else str(value).encode()


def sink_record(offset: int = 7) -> SinkRecord:
    return SinkRecord("orders", 1, None, "k", None, "v", offset, 99, TimestampType.CREATE_TIME)


def test_errant_record_reporter_sends_the_original_message() -> None:
    producer = FakeProducer()
    dlq = DeadLetterQueueReporter("dlq", "c", 0, producer, context_headers=True)
    handler = ErrorHandler({"errors.tolerance": "all"}, "c", 0, reporters=[dlq])
    original = FakeMessage(topic="orders", partition=1, offset=7, value=b"raw bytes")
    reporter = WorkerErrantRecordReporter(handler, lambda r: original, Bytes(), Bytes(), Bytes())

    future = reporter.report(sink_record(), ValueError("sink rejected it"))

    assert future.result(1) == "metadata"
    sent = producer.produced[0]
    assert sent["value"] == b"raw bytes"
    headers = dict(sent["headers"])
    assert headers["__connect.errors.stage"] == b"TASK_PUT"
    assert headers["__connect.errors.class.name"] == b"kconnect.api.task.SinkTask"
    assert headers["__connect.errors.exception.message"] == b"sink rejected it"


def test_errant_record_reporter_serializes_a_record_it_does_not_know() -> None:
    producer = FakeProducer()
    dlq = DeadLetterQueueReporter("dlq", "c", 0, producer, context_headers=False)
    handler = ErrorHandler({"errors.tolerance": "all"}, "c", 0, reporters=[dlq])
    reporter = WorkerErrantRecordReporter(handler, lambda r: None, Bytes(), Bytes(), Bytes())
    reporter.report(sink_record(), ValueError("x"))
    sent = producer.produced[0]
    assert (sent["key"], sent["value"], sent["timestamp"]) == (b"k", b"v", 99)


def test_errant_record_reporter_with_tolerance_none_fails_the_task() -> None:
    handler = ErrorHandler({"errors.deadletterqueue.topic.name": "dlq"}, "c", 0)
    reporter = WorkerErrantRecordReporter(handler, lambda r: None, Bytes(), Bytes(), Bytes())
    with pytest.raises(ToleranceExceededError, match="Tolerance exceeded in error handler"):
        reporter.report(sink_record(), ValueError("x"))
