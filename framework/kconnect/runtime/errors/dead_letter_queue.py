"""The dead letter queue of a sink connector, and the errant record reporter of its tasks.

``errors.deadletterqueue.topic.name`` names a topic that receives every record the sink could
not convert, transform or (through the errant record reporter) write: the consumed message as
it was, raw key, value, headers and timestamp. With
``errors.deadletterqueue.context.headers.enable=true`` each one also carries Kafka Connect's
``__connect.errors.*`` headers (UTF-8 strings) saying where it came from and why it failed.
The topic is created with one partition and ``errors.deadletterqueue.topic.replication.factor``
replicas when it does not exist.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from kconnect.api.errors import ConnectException
from kconnect.api.records import SinkRecord
from kconnect.api.task import ErrantRecordReporter, SinkTask
from kconnect.runtime.errors.error_handler import ErrorContext, ErrorHandler, Stage
from kconnect.runtime.secret_masking import secret_masker

log = logging.getLogger(__name__)

DLQ_TOPIC = "errors.deadletterqueue.topic.name"
DLQ_REPLICATION_FACTOR = "errors.deadletterqueue.topic.replication.factor"
DLQ_CONTEXT_HEADERS = "errors.deadletterqueue.context.headers.enable"

ERROR_HEADER_PREFIX = "__connect.errors."
HEADER_TOPIC = ERROR_HEADER_PREFIX + "topic"
HEADER_PARTITION = ERROR_HEADER_PREFIX + "partition"
HEADER_OFFSET = ERROR_HEADER_PREFIX + "offset"
HEADER_CONNECTOR_NAME = ERROR_HEADER_PREFIX + "connector.name"
HEADER_TASK_ID = ERROR_HEADER_PREFIX + "task.id"
HEADER_STAGE = ERROR_HEADER_PREFIX + "stage"
HEADER_CLASS_NAME = ERROR_HEADER_PREFIX + "class.name"
HEADER_EXCEPTION = ERROR_HEADER_PREFIX + "exception.class.name"
HEADER_EXCEPTION_MESSAGE = ERROR_HEADER_PREFIX + "exception.message"
HEADER_EXCEPTION_STACKTRACE = ERROR_HEADER_PREFIX + "exception.stacktrace"

DLQ_PARTITIONS = 1


def dlq_topic(props: Mapping[str, Any]) -> str:
    return str(props.get(DLQ_TOPIC) or "").strip()


def errant_record_reporter_enabled(props: Mapping[str, Any]) -> bool:
    """Kafka offers the reporter when a DLQ or error logging is configured; kconnect also with
    ``errors.tolerance=all``, so a task can always skip a record the same way."""
    return (
        bool(dlq_topic(props))
        or str(props.get("errors.log.enable", "false")).strip().lower() == "true"
        or str(props.get("errors.tolerance", "none")).strip().lower() == "all"
    )


def ensure_topic(
    admin_config: Mapping[str, Any], topic: str, replication_factor: int, timeout_s: float = 30.0
) -> None:
    """Create ``topic`` (one partition) unless it exists. Raises ConnectException on failure."""
    admin = AdminClient(dict(admin_config))
    try:
        metadata = admin.list_topics(timeout=timeout_s)
        if topic in metadata.topics and metadata.topics[topic].error is None:
            return
        log.error("Topic %s doesn't exist. Will attempt to create topic.", topic)
        futures = admin.create_topics(
            [NewTopic(topic, DLQ_PARTITIONS, int(replication_factor))], request_timeout=timeout_s
        )
        futures[topic].result(timeout=timeout_s + 5)
    except KafkaException as error:
        kafka_error = error.args[0] if error.args else None
        if (
            isinstance(kafka_error, KafkaError)
            and kafka_error.code() == KafkaError.TOPIC_ALREADY_EXISTS
        ):
            return
        raise ConnectException(
            f"Could not initialize dead letter queue with topic={topic}"
        ) from error
    except Exception as error:
        raise ConnectException(
            f"Could not initialize dead letter queue with topic={topic}"
        ) from error


def stacktrace(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


def exception_class_name(error: BaseException) -> str:
    cls = type(error)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


class DeliveryFuture(Future):  # type: ignore[type-arg]
    """The future of one DLQ write. Waiting on it serves the producer's delivery reports, so a
    task may call ``result()`` from its own thread without anyone else polling."""

    def __init__(self, producer: Producer):
        super().__init__()
        self._producer = producer

    def result(self, timeout: float | None = None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done():
            wait = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if wait <= 0:
                break
            self._producer.poll(wait)
        return super().result(0 if deadline is not None and not self.done() else None)


class DeadLetterQueueReporter:
    """Writes failed consumed records to the DLQ topic (Kafka's DeadLetterQueueReporter)."""

    def __init__(
        self, topic: str, connector: str, task: int, producer: Producer, context_headers: bool
    ):
        self.topic = topic
        self.connector = connector
        self.task = task
        self.producer = producer
        self.context_headers = context_headers
        self.produced = 0
        self.failed = 0
        self._lock = threading.Lock()

    @classmethod
    def create_and_setup(
        cls,
        connector: str,
        task: int,
        connector_props: Mapping[str, Any],
        producer_config: Mapping[str, Any],
        admin_config: Mapping[str, Any],
        producer_factory: Callable[[dict[str, Any]], Producer] = Producer,
    ) -> DeadLetterQueueReporter:
        topic = dlq_topic(connector_props)
        replication = int(str(connector_props.get(DLQ_REPLICATION_FACTOR, "3")).strip() or 3)
        ensure_topic(admin_config, topic, replication)
        context_headers = (
            str(connector_props.get(DLQ_CONTEXT_HEADERS, "false")).strip().lower() == "true"
        )
        return cls(topic, connector, task, producer_factory(dict(producer_config)), context_headers)

    def report(self, context: ErrorContext) -> Future[Any] | None:
        message = context.consumed
        if message is None:
            # Source records have no consumed message; Kafka writes nothing for them either.
            return None
        headers = list(message.headers() or [])
        if self.context_headers:
            self._add_context_headers(headers, context)
        future = DeliveryFuture(self.producer)
        kwargs: dict[str, Any] = {"headers": headers, "on_delivery": self._on_delivery(future)}
        ts_type, ts = message.timestamp()
        if ts_type and ts is not None and ts >= 0:
            kwargs["timestamp"] = ts
        while True:
            try:
                self.producer.produce(self.topic, message.value(), message.key(), **kwargs)
                break
            except BufferError:
                self.producer.poll(0.1)
        self.producer.poll(0)
        return future

    def _on_delivery(self, future: Future[Any]) -> Callable[[Any, Any], None]:
        def done(error: Any, msg: Any) -> None:
            with self._lock:
                if error is not None:
                    self.failed += 1
                else:
                    self.produced += 1
            if error is not None:
                log.error(
                    "Could not produce message to dead letter queue. topic=%s: %s",
                    self.topic,
                    error,
                )
                future.set_exception(
                    ConnectException(
                        f"Could not produce message to dead letter queue "
                        f"topic={self.topic}: {error}"
                    )
                )
            else:
                future.set_result(msg)

        return done

    def _add_context_headers(
        self, headers: list[tuple[str, bytes | None]], context: ErrorContext
    ) -> None:
        message = context.consumed
        present = {key for key, _ in headers}

        def add(key: str, value: str) -> None:
            if key in present:
                log.error("Header already contains the '%s' key.", key)
                return
            headers.append((key, value.encode("utf-8")))

        add(HEADER_TOPIC, str(message.topic() or ""))
        add(HEADER_PARTITION, str(message.partition() if message.partition() is not None else -1))
        add(HEADER_OFFSET, str(message.offset() if message.offset() is not None else -1))
        add(HEADER_CONNECTOR_NAME, context.connector)
        add(HEADER_TASK_ID, str(context.task))
        add(HEADER_STAGE, context.stage.value)
        add(HEADER_CLASS_NAME, context.executing_class)
        error = context.error
        add(HEADER_EXCEPTION, exception_class_name(error))
        # Java's getMessage() of an exception without one is null, and Kafka then writes the
        # header with a null value; a string header with the empty text is the Python analogue.
        # Whoever reads the DLQ topic must not learn a secret an error message repeated.
        masker = secret_masker()
        add(HEADER_EXCEPTION_MESSAGE, masker.mask(str(error)))
        add(HEADER_EXCEPTION_STACKTRACE, masker.mask(stacktrace(error)))

    def flush(self, timeout_s: float) -> None:
        remaining = self.producer.flush(timeout_s)
        if remaining:
            log.error(
                "%d records were not written to the dead letter queue topic %s within %.0f s",
                remaining,
                self.topic,
                timeout_s,
            )

    def close(self) -> None:
        if self.producer is None:
            return
        self.flush(30.0)
        # Dropping the last reference ends librdkafka's threads (and its reconnect attempts).
        self.producer = None  # type: ignore[assignment]


class _RawMessage:
    """A consumed message rebuilt from a SinkRecord (when the original is no longer at hand),
    with the interface of confluent_kafka.Message the reporters use."""

    __slots__ = ("_headers", "_key", "_offset", "_partition", "_timestamp", "_topic", "_value")

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes | None]] | None,
        timestamp: tuple[int, int],
    ):
        self._topic = topic
        self._partition = partition
        self._offset = offset
        self._key = key
        self._value = value
        self._headers = headers
        self._timestamp = timestamp

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

    def headers(self) -> list[tuple[str, bytes | None]] | None:
        return self._headers

    def timestamp(self) -> tuple[int, int]:
        return self._timestamp


_SINK_TASK_CLASS = f"{SinkTask.__module__}.{SinkTask.__qualname__}"


class WorkerErrantRecordReporter(ErrantRecordReporter):
    """What ``SinkTaskContext.errant_record_reporter()`` returns: the task reports a record it
    could not write; it goes to the error reporters as the consumed message it came from (as
    Kafka's WorkerErrantRecordReporter). ``report`` returns a future; with
    ``errors.tolerance=none`` it raises, which fails the task."""

    def __init__(
        self,
        handler: ErrorHandler,
        original_message: Callable[[SinkRecord], Any],
        key_converter: Any,
        value_converter: Any,
        header_converter: Any,
    ):
        self.handler = handler
        self._original_message = original_message
        self.key_converter = key_converter
        self.value_converter = value_converter
        self.header_converter = header_converter

    def report(self, record: SinkRecord, error: BaseException) -> Any:
        message = self._original_message(record)
        if message is None:
            message = self._serialize(record)
        return self.handler.execute_failed(
            Stage.TASK_PUT, _SINK_TASK_CLASS, error, consumed=message
        )

    def _serialize(self, record: SinkRecord) -> _RawMessage:
        """The record back in bytes, through the task's converters (Kafka's fallback when the
        record is not one the runtime handed to the task)."""
        topic = record.original_topic
        key = self.key_converter.from_connect_data(
            topic, record.key_schema, record.key, record.headers
        )
        value = self.value_converter.from_connect_data(
            topic, record.value_schema, record.value, record.headers
        )
        headers = []
        for header in record.headers or ():
            headers.append(
                (
                    header.key,
                    self.header_converter.from_connect_header(
                        topic, header.key, header.schema, header.value
                    ),
                )
            )
        ts_type = {"CreateTime": 1, "LogAppendTime": 2}.get(
            str(getattr(record.timestamp_type, "value", "")), 0
        )
        timestamp = (ts_type, record.timestamp if record.timestamp is not None else -1)
        return _RawMessage(
            topic,
            record.original_kafka_partition or 0,
            record.original_kafka_offset,
            key,
            value,
            headers or None,
            timestamp,
        )
