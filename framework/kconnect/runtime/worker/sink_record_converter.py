"""Consumed messages -> SinkRecords: header, key and value converters, then the transforms.

The per-record hot path of every sink task. Records are converted in one plain loop; only a
record whose conversion raised goes again, stage by stage, through the error policy (which
decides whether it is reported and skipped or fails the task). A record filtered out or
skipped still counts towards the batch's next offsets, so it is committed past like any other
once put() has taken the batch. The last polled messages are kept, so a record handed to the
errant record reporter or the dead letter queue can be traced back to its raw bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError

from kconnect.api.records import Headers, SinkRecord, TimestampType
from kconnect.runtime.errors.error_handler import SKIPPED, Skipped, Stage
from kconnect.runtime.worker.task_runner import TaskPlugins

# confluent-kafka's timestamp type codes (TIMESTAMP_NOT_AVAILABLE, _CREATE_TIME, _LOG_APPEND_TIME)
_TIMESTAMP_TYPE_BY_CODE = (
    TimestampType.NO_TIMESTAMP_TYPE,
    TimestampType.CREATE_TIME,
    TimestampType.LOG_APPEND_TIME,
)


class SinkRecordConverter:
    """Turns one task's polled messages into SinkRecords with the task's plugins."""

    def __init__(self, plugins: TaskPlugins, on_consumer_error: Callable[[KafkaError], None]):
        self.plugins = plugins
        #: called for a message that carries a consumer error instead of a record
        self._on_consumer_error = on_consumer_error
        # The last polled messages: where a reported record's raw bytes are found.
        self._last_messages: list[Any] = []
        self._last_index: dict[tuple[str, int | None, int], Any] | None = None

    def convert(self, messages: list[Any]) -> tuple[list[SinkRecord], dict[tuple[str, int], int]]:
        """Messages -> SinkRecords, and the next offset of each (topic, partition) polled.

        Locals for every lookup, and the next offsets gathered under plain tuple keys: the
        caller turns them into TopicPartitions once per batch."""
        self._last_messages, self._last_index = messages, None
        records: list[SinkRecord] = []
        append = records.append
        key_to = self.plugins.key_converter.to_connect_data
        value_to = self.plugins.value_converter.to_connect_data
        chain = self.plugins.transformations
        apply_chain = chain.apply if chain else None
        convert_headers = self._convert_headers
        timestamp_types = _TIMESTAMP_TYPE_BY_CODE
        next_offsets: dict[tuple[str, int], int] = {}
        for message in messages:
            if message.error() is not None:
                self._on_consumer_error(message.error())
                continue
            topic = message.topic()
            partition = message.partition()
            offset = message.offset()
            next_offsets[(topic, partition)] = offset + 1
            try:
                raw_headers = message.headers()
                headers = convert_headers(topic, raw_headers) if raw_headers else None
                key = key_to(topic, message.key(), headers)
                value = value_to(topic, message.value(), headers)
                ts_type, ts = message.timestamp()
                record = SinkRecord(
                    topic,
                    partition,
                    key[0],
                    key[1],
                    value[0],
                    value[1],
                    offset,
                    ts if ts_type else None,
                    timestamp_types[ts_type],
                    headers,
                )
                if apply_chain is not None:
                    record = apply_chain(record)
                    if record is None:
                        continue
            except Exception:  # noqa: BLE001 - the guarded path decides what the error means
                guarded = self._convert_guarded(message)
                if guarded is None:
                    continue
                record = guarded
            append(record)
        return records, next_offsets

    def _convert_guarded(self, message: Any) -> SinkRecord | None:
        """Run the stages one by one under the error policy; None when the record is skipped."""
        handler = self.plugins.error_handler
        topic = message.topic()
        raw_headers = message.headers()
        headers = None
        if raw_headers:
            headers = handler.execute(
                Stage.HEADER_CONVERTER, self._convert_headers, topic, raw_headers, record=message
            )
            if headers is SKIPPED:
                return None
        key = handler.execute(
            Stage.KEY_CONVERTER,
            self.plugins.key_converter.to_connect_data,
            topic,
            message.key(),
            headers,
            record=message,
        )
        if key is SKIPPED:
            return None
        value = handler.execute(
            Stage.VALUE_CONVERTER,
            self.plugins.value_converter.to_connect_data,
            topic,
            message.value(),
            headers,
            record=message,
        )
        if value is SKIPPED:
            return None
        ts_type, ts = message.timestamp()
        # Narrowed for the type checker: SKIPPED returned above (this is the error path only).
        assert not isinstance(key, Skipped) and not isinstance(value, Skipped)
        assert not isinstance(headers, Skipped)
        record = SinkRecord(
            topic,
            message.partition(),
            key.schema,
            key.value,
            value.schema,
            value.value,
            message.offset(),
            ts if ts_type else None,
            _TIMESTAMP_TYPE_BY_CODE[ts_type],
            headers,
        )
        transformed = handler.execute_transformations(self.plugins.transformations, record, message)
        if transformed is SKIPPED or transformed is None:
            return None
        return transformed

    def original_message(self, record: SinkRecord) -> Any:
        """The consumed message ``record`` was made from, while it is among the last polled."""
        index = self._last_index
        if index is None:
            index = self._last_index = {
                (m.topic(), m.partition(), m.offset()): m
                for m in self._last_messages
                if m.error() is None
            }
        return index.get(
            (record.original_topic, record.original_kafka_partition, record.original_kafka_offset)
        )

    def _convert_headers(self, topic: str, raw: list[tuple[str, bytes | None]]) -> Headers:
        converter = self.plugins.header_converter
        headers = Headers()
        for key, value in raw:
            converted = converter.to_connect_header(topic, key, value)
            headers.add(key, converted.value, converted.schema)
        return headers
