"""FileStreamSourceConnector: each line of a file (or of stdin) becomes a record.

Source partition ``{"filename": <file>}``, offset ``{"position": <byte after the line>}``, as in
Apache Kafka, so a restarted task resumes after the last committed line.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Mapping
from itertools import accumulate
from typing import IO, Any

from kconnect import __version__
from kconnect.api.config import ConfigDef, NonEmptyString, Range
from kconnect.api.connector import ExactlyOnceSupport, SourceConnector
from kconnect.api.data import Schema
from kconnect.api.errors import ConnectException
from kconnect.api.records import SourceRecord
from kconnect.api.task import SourceTask

log = logging.getLogger(__name__)

FILE_CONFIG = "file"
TOPIC_CONFIG = "topic"
TASK_BATCH_SIZE_CONFIG = "batch.size"
DEFAULT_TASK_BATCH_SIZE = 2000
FILENAME_FIELD = "filename"
POSITION_FIELD = "position"

CONFIG_DEF = (
    ConfigDef()
    .define(
        FILE_CONFIG,
        ConfigDef.Type.STRING,
        None,
        None,
        ConfigDef.Importance.HIGH,
        "Source filename. If not specified, the standard input will be used",
    )
    .define(
        TOPIC_CONFIG,
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        NonEmptyString(),
        ConfigDef.Importance.HIGH,
        "The topic to publish data to",
    )
    .define(
        TASK_BATCH_SIZE_CONFIG,
        ConfigDef.Type.INT,
        DEFAULT_TASK_BATCH_SIZE,
        Range.at_least(1),
        ConfigDef.Importance.LOW,
        "The maximum number of records the source task can read from the file each time it is polled",
    )
)


class FileStreamSourceConnector(SourceConnector):
    """Reads lines from a file (or stdin) into a Kafka topic. One task."""

    java_class_names = ("org.apache.kafka.connect.file.FileStreamSourceConnector",)

    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        self._props = dict(props)
        parsed = CONFIG_DEF.parse(props)
        self._filename = parsed[FILE_CONFIG]

    def task_class(self) -> type[SourceTask]:
        return FileStreamSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        # One input stream makes sense only for one task. It gets the connector's whole config,
        # as in Kafka: task configs equal to Java's are not rewritten when a connector moves
        # between a Java cluster and a kconnect cluster.
        return [dict(self._props)]

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def exactly_once_support(self, connector_config: Mapping[str, str]) -> ExactlyOnceSupport:
        # Positions in a file are stable, so writes can be made exactly once.
        return ExactlyOnceSupport.SUPPORTED

    def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[Any, Any]
    ) -> bool:
        """Accept only ``{"filename": …}`` partitions with a ``position`` that is a byte offset
        in the file: a whole number from 0 to Java's largest long (Kafka's checks and words)."""
        for partition, offset in offsets.items():
            partition_dict = dict(partition) if not isinstance(partition, dict) else partition
            if FILENAME_FIELD not in partition_dict:
                raise ConnectException(
                    f"Partition objects should contain the key '{FILENAME_FIELD}'"
                )
            if offset is None:
                continue  # a reset
            if not isinstance(offset, Mapping) or POSITION_FIELD not in offset:
                raise ConnectException(
                    f"Offset objects should either be null or contain the key '{POSITION_FIELD}'"
                )
            position = offset[POSITION_FIELD]
            # JSON 1e30 and 5.0 are floats, "5" a string: none is a Long, as in Kafka.
            if not isinstance(position, int) or isinstance(position, bool) or position >= 2**63:
                raise ConnectException(
                    f"The value for the '{POSITION_FIELD}' key in the offset is expected to be a "
                    f"Long value, but was {position!r}"
                )
            if position < 0:
                raise ConnectException(
                    f"The value for the '{POSITION_FIELD}' key in the offset should be a "
                    f"non-negative value, but was {position}"
                )
        return True


class FileStreamSourceTask(SourceTask):
    """Emits each complete line as a STRING record; a partial last line waits for its newline."""

    java_class_names = ("org.apache.kafka.connect.file.FileStreamSourceTask",)
    READ_SIZE = 1 << 20

    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        parsed = CONFIG_DEF.parse(props)
        self.filename: str | None = parsed[FILE_CONFIG] or None
        self.topic: str = parsed[TOPIC_CONFIG]
        self.batch_size: int = parsed[TASK_BATCH_SIZE_CONFIG]
        self.stream: IO[bytes] | None = None
        self.position = 0
        self.buffer = b""
        self.lines: list[bytes] = []
        self.partition = {FILENAME_FIELD: self.filename} if self.filename else None
        self._stopped = threading.Event()
        self._missing_warned = False
        self._gone_warned = False

    def _open(self) -> bool:
        if self.filename is None:
            self.stream = sys.stdin.buffer
            return True
        try:
            stream = open(self.filename, "rb")
        except FileNotFoundError:
            if not self._missing_warned:
                log.warning(
                    "Couldn't find file %s for FileStreamSourceTask, sleeping to wait for it to be created",
                    self.filename,
                )
                self._missing_warned = True
            return False
        except OSError as error:
            raise ConnectException(
                f"Error while trying to open file {self.filename}: {error}"
            ) from error
        stored = self.context.offset_storage_reader().offset(self.partition)  # type: ignore[arg-type]
        if stored is not None:
            position = stored.get(POSITION_FIELD)
            if not isinstance(position, int):
                raise ConnectException("Offset position is the incorrect type")
            log.debug("Found previous offset, trying to skip to file offset %d", position)
            stream.seek(position)
            self.position = position
        self.stream = stream
        self._missing_warned = False
        return True

    def poll(self) -> list[SourceRecord] | None:
        if self._stopped.is_set():
            return None
        if self.stream is None and not self._open():
            self._stopped.wait(1.0)
            return None
        if len(self.lines) < self.batch_size:
            chunk = self._read()
            if chunk:
                data = self.buffer + chunk
                *complete, self.buffer = data.split(b"\n")
                self.lines.extend(complete)
            elif not self.lines:
                self._check_file_still_there()
                self._stopped.wait(0.2)
                return None
        batch, self.lines = self.lines[: self.batch_size], self.lines[self.batch_size :]
        return self._records(batch)

    def _read(self) -> bytes:
        assert self.stream is not None
        if self.filename is None:
            return self.stream.read1(self.READ_SIZE)  # type: ignore[attr-defined]
        return self.stream.read(self.READ_SIZE)

    def _records(self, lines: list[bytes]) -> list[SourceRecord]:
        """One record per line. Offsets are byte positions after each line's newline. This runs
        once per line, so the common case (ASCII text) decodes the whole batch in one call and
        builds the records in a comprehension."""
        joined = b"\n".join(lines)
        if joined.isascii():
            texts = joined.decode("ascii").split("\n")
            sizes = [len(text) + 1 for text in texts]  # ASCII: one byte per character
        else:
            texts = [raw.decode("utf-8", errors="replace") for raw in lines]
            sizes = [len(raw) + 1 for raw in lines]
        if b"\r" in joined:  # Windows line ends: drop the \r (the offset still counts it)
            texts = [text[:-1] if text.endswith("\r") else text for text in texts]
        positions = list(accumulate(sizes, initial=self.position))
        self.position = positions[-1]
        partition = self.partition
        topic = self.topic
        schema = Schema.STRING_SCHEMA
        now = int(time.time() * 1000)
        if partition is None:  # stdin: nothing to resume from
            return [
                SourceRecord(None, None, topic, None, None, None, schema, text, now)
                for text in texts
            ]
        return [
            SourceRecord(
                partition, {POSITION_FIELD: position}, topic, None, None, None, schema, text, now
            )
            for text, position in zip(texts, positions[1:], strict=True)
        ]

    def _check_file_still_there(self) -> None:
        # An open file stays readable after it is deleted; nothing read so far is lost. Say so
        # once, so the user knows why no more lines come.
        if self.filename and not os.path.exists(self.filename) and not self._gone_warned:
            log.warning(
                "File %s was removed while FileStreamSourceTask was reading it; every line read "
                "before was sent, and the task waits for the file to come back",
                self.filename,
            )
            self._gone_warned = True
        if self.filename and self._gone_warned and os.path.exists(self.filename):
            # The file came back: it is a new file, so start it from the beginning.
            log.info("File %s is back; reading it from the start", self.filename)
            self._gone_warned = False
            self._close_stream()
            self.position = 0
            self.buffer = b""
            stream = open(self.filename, "rb")
            self.stream = stream

    def _close_stream(self) -> None:
        if self.stream is not None and self.filename is not None:
            try:
                self.stream.close()
            except OSError:
                pass
        self.stream = None

    def stop(self) -> None:
        self._stopped.set()
        self._close_stream()
