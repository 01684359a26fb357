"""VerifiableSinkConnector: reports every record its tasks got, once their offsets are flushed.

Counterpart of :mod:`kconnect_builtins.verifiable.source`. A record is reported as flushed when
``flush()`` is called with an offset past it, which the runtime does just before it commits that
offset: every record whose offset is committed has been reported, so a seqno missing from the
report is a record the framework lost. Records of partitions taken away before a flush are
dropped unreported; the task that gets the partition next reads them again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping
from typing import Any

from kconnect import __version__
from kconnect.api.config import ConfigDef
from kconnect.api.connector import SinkConnector
from kconnect.api.data import Struct
from kconnect.api.errors import ConnectException
from kconnect.api.records import SinkRecord
from kconnect.api.task import SinkTask
from kconnect.api.topic_partition import TopicPartition

from kconnect_builtins.verifiable.output import (
    OUTPUT_FILE_CONFIG,
    JsonLinesOutput,
    define_output_file,
)

log = logging.getLogger(__name__)

NAME_CONFIG = "name"
ID_CONFIG = "id"

# The runtime handles ``topics`` / ``topics.regex``, as for every sink.
CONFIG_DEF = define_output_file(ConfigDef())


class VerifiableSinkConnector(SinkConnector):
    """``tasks.max`` tasks, each with its own ``id``; for system tests."""

    java_class_names = ("org.apache.kafka.connect.tools.VerifiableSinkConnector",)

    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        CONFIG_DEF.parse(props)
        self._props = dict(props)

    def task_class(self) -> type[SinkTask]:
        return VerifiableSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{**self._props, ID_CONFIG: str(i)} for i in range(max_tasks)]

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[Any, int | None]
    ) -> bool:
        # Nothing kept outside Kafka depends on the offsets.
        return True


def connect_number(value: Any, field: str) -> Any:
    """The number a VerifiableSource record carries, whatever converter brought it: an int
    (JsonConverter), its text (StringConverter), or the ``field`` of a complete-data struct."""
    if isinstance(value, Struct):
        value = value.get(field) if value.schema.field(field) is not None else None
    elif isinstance(value, Mapping):  # a complete-data struct read without schemas
        value = value.get(field)
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value


class VerifiableSinkTask(SinkTask):
    """Keeps what it was given until ``flush()`` covers it, then reports it."""

    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        parsed = CONFIG_DEF.parse(props)
        try:
            self.task_id = int(props[ID_CONFIG])
        except (KeyError, ValueError) as error:
            raise ConnectException("Invalid VerifiableSinkTask configuration") from error
        self.name: str = props.get(NAME_CONFIG, "")
        self.output = JsonLinesOutput(parsed[OUTPUT_FILE_CONFIG])
        # (partition read from, offset read at, report entry), in the order put() got them.
        self.unflushed: list[tuple[TopicPartition, int, dict[str, Any]]] = []

    def put(self, records: Collection[SinkRecord]) -> None:
        now_ms = int(time.time() * 1000)
        batch = []
        for record in records:
            task = connect_number(record.key, "task")
            if task is None:
                task = connect_number(record.value, "task")
            entry = {
                "name": self.name,
                "task": task,  # the VerifiableSource task (source partition) that wrote it
                "sinkTask": self.task_id,
                "topic": record.topic,
                "partition": record.kafka_partition,
                "time_ms": now_ms,
                "seqno": connect_number(record.value, "seqno"),
                "offset": record.kafka_offset,
            }
            # Offsets are committed per partition consumed, even when a transform renamed it.
            partition = record.original_kafka_partition
            # A record read from Kafka always has a partition; -1 would never be flushed.
            read_from = TopicPartition(
                record.original_topic, -1 if partition is None else partition
            )
            batch.append((read_from, record.original_kafka_offset, entry))
        if self.output.to_stdout:
            # As Apache Kafka's task: a line for every record put, before it is flushed.
            self.output.write(entry for _, _, entry in batch)
        self.unflushed.extend(batch)

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        now_ms = int(time.time() * 1000)
        flushed = []
        kept = []
        for item in self.unflushed:
            read_from, offset, entry = item
            next_offset = current_offsets.get(read_from)
            if next_offset is not None and offset < next_offset:
                flushed.append({**entry, "time_ms": now_ms, "flushed": True})
            else:
                kept.append(item)
        self.output.write(flushed)
        self.unflushed = kept

    def close(self, partitions: Collection[TopicPartition]) -> None:
        # Not flushed means not committed: whoever reads these partitions next gets them again.
        gone = set(partitions)
        self.unflushed = [item for item in self.unflushed if item[0] not in gone]

    def stop(self) -> None:
        # The runtime stops a sink task after its last flush, on the task's own thread.
        output = getattr(self, "output", None)
        if output is not None:
            output.close()
