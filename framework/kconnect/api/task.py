"""Tasks: the plugin classes that move the data."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kconnect.api.records import SinkRecord, SourceRecord
    from kconnect.api.storage import OffsetStorageReader
    from kconnect.api.topic_partition import TopicPartition


class Task:
    """Base class of SourceTask and SinkTask."""

    def version(self) -> str:
        return "unknown"

    def start(self, props: Mapping[str, str]) -> None:
        """Start with one of the configs the connector's ``task_configs()`` returned."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop. For a SourceTask this may be called from another thread while ``poll()`` blocks:
        make ``poll()`` return soon after."""


class RecordMetadata:
    """Where Kafka stored a record: topic, partition, offset and timestamp."""

    __slots__ = ("topic", "partition", "offset", "timestamp")

    def __init__(self, topic: str, partition: int, offset: int, timestamp: int | None):
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp

    def __repr__(self) -> str:
        return f"RecordMetadata({self.topic}-{self.partition}@{self.offset})"


class SourceTaskContext:
    """What the runtime offers a source task."""

    def configs(self) -> dict[str, str]:
        raise NotImplementedError

    def offset_storage_reader(self) -> OffsetStorageReader:
        raise NotImplementedError


class SourceTask(Task):
    """Reads records from a source system. The runtime calls :meth:`poll` in a loop on the
    task's own thread and sends what it returns to Kafka."""

    context: SourceTaskContext

    def initialize(self, context: SourceTaskContext) -> None:
        self.context = context

    def poll(self) -> list[SourceRecord] | None:
        """New records, or None/[] when there are none yet. May block briefly, but should
        return regularly so the task can be paused or stopped."""
        raise NotImplementedError

    def commit(self) -> None:
        """Called after offsets were committed, for sources that acknowledge upstream."""

    def commit_record(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        """Called once Kafka acknowledged ``record`` (``metadata`` is None when a transform
        dropped it or it was tolerated as an error)."""


class ErrantRecordReporter:
    """Sends a record the sink task could not handle to the dead letter queue (sink tasks with
    ``errors.tolerance=all``). Returns a future-like object with ``result(timeout)``."""

    def report(self, record: SinkRecord, error: BaseException) -> Any:
        raise NotImplementedError


class SinkTaskContext:
    """What the runtime offers a sink task."""

    def configs(self) -> dict[str, str]:
        raise NotImplementedError

    def offset(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Rewind or skip: consume from these offsets next."""
        raise NotImplementedError

    def timeout(self, timeout_ms: int) -> None:
        """After a RetriableException, how long to wait before put() is tried again."""
        raise NotImplementedError

    def assignment(self) -> set[TopicPartition]:
        raise NotImplementedError

    def pause(self, *partitions: TopicPartition) -> None:
        raise NotImplementedError

    def resume(self, *partitions: TopicPartition) -> None:
        raise NotImplementedError

    def request_commit(self) -> None:
        raise NotImplementedError

    def errant_record_reporter(self) -> ErrantRecordReporter | None:
        """The DLQ reporter, or None when error tolerance is off."""
        return None


class SinkTask(Task):
    """Writes records from Kafka to a sink system."""

    context: SinkTaskContext

    def initialize(self, context: SinkTaskContext) -> None:
        self.context = context

    def put(self, records: Collection[SinkRecord]) -> None:
        """Write (or buffer) a batch of records. Raise RetriableException to be called again
        with the same batch."""
        raise NotImplementedError

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        """Make everything put so far durable."""

    def pre_commit(
        self, current_offsets: Mapping[TopicPartition, int]
    ) -> Mapping[TopicPartition, int]:
        """Offsets that are safe to commit (the offset of the next record to read). The default
        flushes and returns ``current_offsets``."""
        self.flush(current_offsets)
        return current_offsets

    def open(self, partitions: Collection[TopicPartition]) -> None:
        """The task was assigned these partitions."""

    def close(self, partitions: Collection[TopicPartition]) -> None:
        """These partitions are going to another task: drop what is buffered for them."""
