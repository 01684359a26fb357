"""Records that flow through Connect: SourceRecord (source -> Kafka), SinkRecord (Kafka -> sink),
and their headers."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from kconnect.api.data import Schema


class Header(NamedTuple):
    """One record header: a key, an optional schema and a value."""

    key: str
    value: Any
    schema: Schema | None = None


class Headers:
    """An ordered, mutable list of headers; a key may appear more than once (as in Kafka)."""

    __slots__ = ("_items",)

    def __init__(self, headers: Iterable[Header] | None = None):
        self._items: list[Header] = list(headers) if headers else []

    def add(self, key: str, value: Any, schema: Schema | None = None) -> Headers:
        self._items.append(Header(key, value, schema))
        return self

    def add_header(self, header: Header) -> Headers:
        self._items.append(header)
        return self

    def last_with_name(self, key: str) -> Header | None:
        for header in reversed(self._items):
            if header.key == key:
                return header
        return None

    def all_with_name(self, key: str) -> list[Header]:
        return [h for h in self._items if h.key == key]

    def remove(self, key: str) -> Headers:
        self._items = [h for h in self._items if h.key != key]
        return self

    def retain_latest(self, key: str | None = None) -> Headers:
        """Keep only the last header of ``key`` (of every key when None)."""
        seen: set[str] = set()
        kept: list[Header] = []
        for header in reversed(self._items):
            if (key is None or header.key == key) and header.key in seen:
                continue
            seen.add(header.key)
            kept.append(header)
        self._items = kept[::-1]
        return self

    def clear(self) -> Headers:
        self._items.clear()
        return self

    def duplicate(self) -> Headers:
        return Headers(self._items)

    def __iter__(self) -> Iterator[Header]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return self._items == other._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class ConnectRecord:
    """What sources produce and sinks consume: topic, partition, key and value with their
    schemas, a timestamp (ms since the epoch) and headers."""

    __slots__ = (
        "topic",
        "kafka_partition",
        "key_schema",
        "key",
        "value_schema",
        "value",
        "timestamp",
        "_headers",
    )

    def __init__(
        self,
        topic: str,
        kafka_partition: int | None,
        key_schema: Schema | None,
        key: Any,
        value_schema: Schema | None,
        value: Any,
        timestamp: int | None = None,
        headers: Headers | Iterable[Header] | None = None,
    ):
        self.topic = topic
        self.kafka_partition = kafka_partition
        self.key_schema = key_schema
        self.key = key
        self.value_schema = value_schema
        self.value = value
        self.timestamp = timestamp
        self._headers = _as_headers(headers)

    @property
    def headers(self) -> Headers:
        """The record's headers. Created on first use: most records have none, and this saves
        an object per record on the hot path (the runtime checks ``_headers`` directly)."""
        if self._headers is None:
            self._headers = Headers()
        return self._headers

    @headers.setter
    def headers(self, value: Headers | Iterable[Header] | None) -> None:
        self._headers = _as_headers(value)

    _UNSET: Any = object()

    def new_record(
        self,
        topic: str | None = None,
        kafka_partition: Any = _UNSET,
        key_schema: Any = _UNSET,
        key: Any = _UNSET,
        value_schema: Any = _UNSET,
        value: Any = _UNSET,
        timestamp: Any = _UNSET,
        headers: Any = _UNSET,
    ) -> ConnectRecord:
        """A copy of this record with the given attributes replaced (Kafka's newRecord).
        The copy's headers are a new list, so changing them leaves this record alone.

        Transforms call this once per record each, so it copies slots directly instead of
        going through the constructor with keyword arguments."""
        unset = ConnectRecord._UNSET
        new = self._clone()
        if topic is not None:
            new.topic = topic
        if kafka_partition is not unset:
            new.kafka_partition = kafka_partition
        if key_schema is not unset:
            new.key_schema = key_schema
        if key is not unset:
            new.key = key
        if value_schema is not unset:
            new.value_schema = value_schema
        if value is not unset:
            new.value = value
        if timestamp is not unset:
            new.timestamp = timestamp
        if headers is unset:
            new._headers = self._headers.duplicate() if self._headers else None
        else:
            new._headers = _as_headers(headers)
        return new

    def _with_value(self, value_schema: Schema | None, value: Any) -> ConnectRecord:
        """``new_record(value_schema=…, value=…)`` without the keyword handling: what a
        ``$Value`` transform does to every record."""
        new = self._clone()
        new.value_schema = value_schema
        new.value = value
        headers = self._headers
        new._headers = headers.duplicate() if headers else None
        return new

    def _clone(self) -> ConnectRecord:
        """A shallow copy sharing the headers object (new_record replaces it)."""
        new = _new_object(type(self))
        new.topic = self.topic
        new.kafka_partition = self.kafka_partition
        new.key_schema = self.key_schema
        new.key = self.key
        new.value_schema = self.value_schema
        new.value = self.value
        new.timestamp = self.timestamp
        new._headers = self._headers
        return new

    def _fields_repr(self) -> str:
        return (
            f"topic={self.topic!r}, kafka_partition={self.kafka_partition}, key={self.key!r}, "
            f"value={self.value!r}, timestamp={self.timestamp}, headers={self.headers!r}"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._fields_repr()})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            getattr(self, s) == getattr(other, s) for s in _all_slots(type(self)) if s != "_headers"
        ) and list(self._headers or ()) == list(other._headers or ())  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


_new_object = object.__new__


def _as_headers(headers: Headers | Iterable[Header] | None) -> Headers | None:
    if headers is None or isinstance(headers, Headers):
        return headers
    return Headers(headers)


def _all_slots(cls: type) -> list[str]:
    slots: list[str] = []
    for klass in cls.__mro__:
        slots.extend(getattr(klass, "__slots__", ()))
    return slots


class SourceRecord(ConnectRecord):
    """A record read from a source system. ``source_partition`` and ``source_offset`` (dicts of
    plain JSON values) say where it came from; Connect stores the offset once Kafka has the
    record, and hands it back through the offset storage reader after a restart."""

    __slots__ = ("source_partition", "source_offset")

    def __init__(
        self,
        source_partition: Mapping[str, Any] | None,
        source_offset: Mapping[str, Any] | None,
        topic: str,
        kafka_partition: int | None = None,
        key_schema: Schema | None = None,
        key: Any = None,
        value_schema: Schema | None = None,
        value: Any = None,
        timestamp: int | None = None,
        headers: Headers | Iterable[Header] | None = None,
    ):
        # Slots are set here rather than through super().__init__: this runs once per record.
        self.topic = topic
        self.kafka_partition = kafka_partition
        self.key_schema = key_schema
        self.key = key
        self.value_schema = value_schema
        self.value = value
        self.timestamp = timestamp
        self._headers = (
            headers if headers is None or isinstance(headers, Headers) else Headers(headers)
        )
        self.source_partition = source_partition
        self.source_offset = source_offset

    def _clone(self) -> SourceRecord:
        # Written out rather than through super(): once per transform per record.
        new = _new_object(SourceRecord if type(self) is SourceRecord else type(self))
        new.topic = self.topic
        new.kafka_partition = self.kafka_partition
        new.key_schema = self.key_schema
        new.key = self.key
        new.value_schema = self.value_schema
        new.value = self.value
        new.timestamp = self.timestamp
        new._headers = self._headers
        new.source_partition = self.source_partition
        new.source_offset = self.source_offset
        return new

    def _fields_repr(self) -> str:
        return (
            f"source_partition={self.source_partition!r}, source_offset={self.source_offset!r}, "
            + super()._fields_repr()
        )


class TimestampType(enum.Enum):
    NO_TIMESTAMP_TYPE = "NoTimestampType"
    CREATE_TIME = "CreateTime"
    LOG_APPEND_TIME = "LogAppendTime"


class SinkRecord(ConnectRecord):
    """A record read from Kafka for a sink task. ``kafka_offset`` is its offset in the topic
    partition; ``original_topic``/``original_kafka_partition``/``original_kafka_offset`` keep
    where it was read from even after transforms changed topic or partition."""

    __slots__ = (
        "kafka_offset",
        "timestamp_type",
        "original_topic",
        "original_kafka_partition",
        "original_kafka_offset",
    )

    def __init__(
        self,
        topic: str,
        kafka_partition: int | None,
        key_schema: Schema | None,
        key: Any,
        value_schema: Schema | None,
        value: Any,
        kafka_offset: int,
        timestamp: int | None = None,
        timestamp_type: TimestampType = TimestampType.NO_TIMESTAMP_TYPE,
        headers: Headers | Iterable[Header] | None = None,
        original_topic: str | None = None,
        original_kafka_partition: int | None = None,
        original_kafka_offset: int | None = None,
    ):
        self.topic = topic
        self.kafka_partition = kafka_partition
        self.key_schema = key_schema
        self.key = key
        self.value_schema = value_schema
        self.value = value
        self.timestamp = timestamp
        self._headers = (
            headers if headers is None or isinstance(headers, Headers) else Headers(headers)
        )
        self.kafka_offset = kafka_offset
        self.timestamp_type = timestamp_type
        self.original_topic = topic if original_topic is None else original_topic
        self.original_kafka_partition = (
            kafka_partition if original_kafka_partition is None else original_kafka_partition
        )
        self.original_kafka_offset = (
            kafka_offset if original_kafka_offset is None else original_kafka_offset
        )

    def _clone(self) -> SinkRecord:
        new = super()._clone()
        new.kafka_offset = self.kafka_offset  # type: ignore[attr-defined]
        new.timestamp_type = self.timestamp_type  # type: ignore[attr-defined]
        new.original_topic = self.original_topic  # type: ignore[attr-defined]
        new.original_kafka_partition = self.original_kafka_partition  # type: ignore[attr-defined]
        new.original_kafka_offset = self.original_kafka_offset  # type: ignore[attr-defined]
        return new  # type: ignore[return-value]

    def new_record(self, *args: Any, **kwargs: Any) -> SinkRecord:  # type: ignore[override]
        new: SinkRecord = super().new_record(*args, **kwargs)  # type: ignore[assignment]
        if new.timestamp is None:
            # As Kafka: a record without a timestamp has no timestamp type either.
            new.timestamp_type = TimestampType.NO_TIMESTAMP_TYPE
        return new

    def _fields_repr(self) -> str:
        return super()._fields_repr() + f", kafka_offset={self.kafka_offset}"
