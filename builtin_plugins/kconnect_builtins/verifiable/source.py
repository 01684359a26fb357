"""VerifiableSourceConnector: each task produces its own increasing sequence numbers.

As in Apache Kafka: task ``n`` writes records with key ``n`` (INT32) and value ``seqno``
(INT64, or a struct when ``complete.record.data`` is true) under source partition
``{"id": n}`` and offset ``{"seqno": seqno}``. A task starts at the committed offset's seqno + 1,
so once a record's offset is committed its seqno is never produced again, and no seqno after it
is skipped. Each task reports every record Kafka acknowledged (``commit_record``), which is
written before the runtime can commit that record's offset: a reported record may be repeated
after a crash, but a committed one is always reported.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from typing import Any, TypeGuard

from kconnect import __version__
from kconnect.api.config import ConfigDef, NonEmptyString
from kconnect.api.connector import SourceConnector
from kconnect.api.data import Schema, SchemaBuilder, Struct
from kconnect.api.errors import ConnectException
from kconnect.api.records import SourceRecord
from kconnect.api.task import RecordMetadata, SourceTask

from kconnect_builtins.verifiable.output import (
    OUTPUT_FILE_CONFIG,
    JsonLinesOutput,
    define_output_file,
)

log = logging.getLogger(__name__)

NAME_CONFIG = "name"
ID_CONFIG = "id"
TOPIC_CONFIG = "topic"
THROUGHPUT_CONFIG = "throughput"
COMPLETE_RECORD_DATA_CONFIG = "complete.record.data"

ID_FIELD = "id"
SEQNO_FIELD = "seqno"

CONFIG_DEF = define_output_file(
    ConfigDef()
    .define(
        TOPIC_CONFIG,
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        NonEmptyString(),
        ConfigDef.Importance.HIGH,
        "The topic to produce to",
    )
    .define(
        THROUGHPUT_CONFIG,
        ConfigDef.Type.LONG,
        ConfigDef.NO_DEFAULT_VALUE,
        None,
        ConfigDef.Importance.HIGH,
        "Records per second each task produces; negative for no limit, 0 for none at all",
    )
    .define(
        COMPLETE_RECORD_DATA_CONFIG,
        ConfigDef.Type.BOOLEAN,
        False,
        None,
        ConfigDef.Importance.LOW,
        "Whether the record value is a struct of name, task, topic, time_ms and seqno instead "
        "of the seqno alone",
    )
)

COMPLETE_VALUE_SCHEMA = (
    SchemaBuilder.struct()
    .field("name", Schema.STRING_SCHEMA)
    .field("task", Schema.INT32_SCHEMA)
    .field("topic", Schema.STRING_SCHEMA)
    .field("time_ms", Schema.INT64_SCHEMA)
    .field("seqno", Schema.INT64_SCHEMA)
    .build()
)

# Records returned by one poll() at most: an unlimited (or catching up) task still returns to
# the runtime often, so it can commit offsets, pause and stop on time.
MAX_BATCH = 1000
# The longest a throttled poll() sleeps before handing control back to the runtime.
MAX_WAIT_S = 1.0


class VerifiableSourceConnector(SourceConnector):
    """``tasks.max`` tasks, each with its own ``id`` and sequence; for system tests."""

    java_class_names = ("org.apache.kafka.connect.tools.VerifiableSourceConnector",)

    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        CONFIG_DEF.parse(props)
        self._props = dict(props)

    def task_class(self) -> type[SourceTask]:
        return VerifiableSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        # Always max_tasks tasks: a task's id is its source partition, so the set of sequences
        # stays the same across restarts as long as tasks.max does.
        return [{**self._props, ID_CONFIG: str(i)} for i in range(max_tasks)]

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[Any, Any]
    ) -> bool:
        """Accept only ``{"id": <int>}`` partitions with a non-negative integer ``seqno``: any
        other offset would make the task fail when it starts."""
        for partition, offset in offsets.items():
            partition_dict = partition if isinstance(partition, Mapping) else dict(partition)
            if not _is_int(partition_dict.get(ID_FIELD)):
                raise ConnectException(f"Partitions must contain the integer key '{ID_FIELD}'")
            if offset is None:
                continue
            seqno = offset.get(SEQNO_FIELD) if isinstance(offset, Mapping) else None
            if not _is_int(seqno) or seqno < 0:
                raise ConnectException(
                    f"The value for the '{SEQNO_FIELD}' key in the offset is expected to be a "
                    f"non-negative integer, but was {seqno!r}"
                )
        return True


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


class Throttle:
    """Spreads ``rate`` records per second evenly from ``start`` (seconds on a monotonic clock).

    The first record is due at once; a task that fell behind (e.g. paused) catches up, as
    Apache Kafka's throttler does. A negative rate means no limit, 0 no records at all."""

    def __init__(self, rate: int, start: float):
        self.rate = rate
        self.start = start

    def due(self, sent: int, now: float) -> int:
        """How many records may be sent at ``now`` when ``sent`` were sent since the start."""
        if self.rate < 0:
            return MAX_BATCH
        if self.rate == 0:
            return 0
        return math.floor((now - self.start) * self.rate) + 1 - sent

    def wait_s(self, sent: int, now: float) -> float:
        """Seconds until the next record is due (infinite when the rate is 0)."""
        if self.rate < 0:
            return 0.0
        if self.rate == 0:
            return math.inf
        return max(0.0, self.start + sent / self.rate - now)


class VerifiableSourceTask(SourceTask):
    """Produces seqno, seqno + 1, … under partition ``{"id": <task id>}``."""

    def __init__(self) -> None:
        # Here rather than in start(): the runtime calls stop() even when start() failed.
        self._stopped = threading.Event()

    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        parsed = CONFIG_DEF.parse(props)
        try:
            self.task_id = int(props[ID_CONFIG])
        except (KeyError, ValueError) as error:
            raise ConnectException("Invalid VerifiableSourceTask configuration") from error
        self.name: str = props.get(NAME_CONFIG, "")
        self.topic: str = parsed[TOPIC_CONFIG]
        self.complete_record_data: bool = parsed[COMPLETE_RECORD_DATA_CONFIG]
        # One dict for every record: the runtime tracks offsets per partition object.
        self.partition = {ID_FIELD: self.task_id}
        stored = self.context.offset_storage_reader().offset(self.partition)
        if stored is None:
            self.seqno = 0
        else:
            last = stored.get(SEQNO_FIELD)
            if not _is_int(last):
                raise ConnectException(
                    f"Stored offset {stored!r} of partition {self.partition!r} has no integer "
                    f"'{SEQNO_FIELD}'"
                )
            self.seqno = last + 1
        self.starting_seqno = self.seqno
        self.throttle = Throttle(parsed[THROUGHPUT_CONFIG], time.monotonic())
        self.output = JsonLinesOutput(parsed[OUTPUT_FILE_CONFIG])
        log.info(
            "Started VerifiableSourceTask %s-%d producing to topic %s resuming from seqno %d",
            self.name,
            self.task_id,
            self.topic,
            self.starting_seqno,
        )

    def poll(self) -> list[SourceRecord] | None:
        if self._stopped.is_set():
            return None
        count = self._due()
        if count <= 0:
            sent = self.seqno - self.starting_seqno
            wait = self.throttle.wait_s(sent, time.monotonic())
            # Waiting on the event lets stop() cut the sleep short.
            if self._stopped.wait(min(wait, MAX_WAIT_S)):
                return None
            count = self._due()
            if count <= 0:
                return None
        return self._records(min(count, MAX_BATCH))

    def _due(self) -> int:
        return self.throttle.due(self.seqno - self.starting_seqno, time.monotonic())

    def _records(self, count: int) -> list[SourceRecord]:
        now_ms = int(time.time() * 1000)
        first = self.seqno
        seqnos = range(first, first + count)
        self.seqno = first + count
        partition, topic, task_id = self.partition, self.topic, self.task_id
        if self.output.to_stdout:
            # As Apache Kafka's task: a line for every record produced, before it is sent.
            self.output.write(self._entry(seqno, now_ms) for seqno in seqnos)
        key_schema = Schema.INT32_SCHEMA
        if not self.complete_record_data:
            value_schema = Schema.INT64_SCHEMA
            return [
                SourceRecord(
                    partition, {SEQNO_FIELD: s}, topic, None, key_schema, task_id, value_schema, s
                )
                for s in seqnos
            ]
        return [
            SourceRecord(
                partition,
                {SEQNO_FIELD: s},
                topic,
                None,
                key_schema,
                task_id,
                COMPLETE_VALUE_SCHEMA,
                self._complete_value(s, now_ms),
            )
            for s in seqnos
        ]

    def _entry(self, seqno: Any, time_ms: int) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task_id,
            "topic": self.topic,
            "time_ms": time_ms,
            "seqno": seqno,
        }

    def _complete_value(self, seqno: int, time_ms: int) -> Struct:
        value = Struct(COMPLETE_VALUE_SCHEMA)
        for field, field_value in self._entry(seqno, time_ms).items():
            value.put(field, field_value)
        return value

    def commit_record(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        """Report the record: Kafka has it (or, with ``metadata`` None, a transform or the error
        policy dropped it, and its offset is committed all the same)."""
        offset = record.source_offset or {}
        entry = self._entry(offset.get(SEQNO_FIELD), int(time.time() * 1000))
        entry["committed"] = True
        entry["partition"] = metadata.partition if metadata is not None else None
        entry["offset"] = metadata.offset if metadata is not None else None
        self.output.write((entry,))

    def stop(self) -> None:
        # The output stays open: acknowledgements of records in flight still arrive after this.
        self._stopped.set()
