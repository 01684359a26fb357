"""FileStreamSinkConnector: writes each record's value as a line to a file (or stdout).

The file never keeps a cut-off line of its own: the task remembers the file's length after its
last successful flush (the only point whose records can have committed offsets, since offsets
are committed after ``flush``) and, when a write fails (a full disk) or the task stops with
lines not yet flushed, truncates the file back to that length. The records after it are
delivered again from the committed offsets, so after a restart each is in the file once, on a
line of its own. The task only ever removes bytes it wrote itself since its last flush, and
only while no other writer has appended after them; a line cut off before the task started (a
crashed worker) is kept and ended, so the next record starts a line of its own. Standard output
cannot be rolled back and is written as it comes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Collection, Mapping
from typing import IO, Any

from kconnect import __version__
from kconnect.api.config import ConfigDef
from kconnect.api.connector import SinkConnector
from kconnect.api.data import Struct
from kconnect.api.errors import ConnectException
from kconnect.api.records import SinkRecord
from kconnect.api.task import SinkTask
from kconnect.api.topic_partition import TopicPartition

log = logging.getLogger(__name__)

FILE_CONFIG = "file"

# As in Apache Kafka (3.x and later), "file" is optional: left out or empty, it means stdout.
CONFIG_DEF = ConfigDef().define(
    FILE_CONFIG,
    ConfigDef.Type.STRING,
    None,
    None,
    ConfigDef.Importance.HIGH,
    "Destination filename. If not specified, the standard output will be used",
)


class FileStreamSinkConnector(SinkConnector):
    """Writes the values of the records of ``topics`` to a file, one per line. One task."""

    java_class_names = ("org.apache.kafka.connect.file.FileStreamSinkConnector",)

    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        self._props = dict(props)
        CONFIG_DEF.parse(props)

    def task_class(self) -> type[SinkTask]:
        return FileStreamSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        # As Kafka: every task gets the connector's config (they all append to the same file).
        return [dict(self._props) for _ in range(max_tasks)]

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[Any, int | None]
    ) -> bool:
        # Nothing in the file depends on offsets: any change is fine.
        return True


def java_string(value: Any) -> str:
    """The text Java's toString() gives the same Connect value, so output files match Kafka's."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{java_string(k)}={java_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(java_string(v) for v in value) + "]"
    if isinstance(value, Struct):
        return (
            "Struct{"
            + ",".join(
                f"{f.name}={java_string(value.get(f))}"
                for f in value.schema.fields
                if value.get(f) is not None
            )
            + "}"
        )
    return str(value)


class FileStreamSinkTask(SinkTask):
    """Appends lines; ``flush`` marks the point a failure rolls the file back to."""

    java_class_names = ("org.apache.kafka.connect.file.FileStreamSinkTask",)
    _file: _AppendOnlyFile | None = None

    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        self.filename: str | None = CONFIG_DEF.parse(props)[FILE_CONFIG] or None
        self.stream: IO[str] | None = None
        self._file = None
        if self.filename is None:
            self.stream = sys.stdout
            return
        try:
            self._file = _AppendOnlyFile(self.filename)
        except OSError as error:
            raise ConnectException(
                f"Couldn't find or create file '{self.filename}' for FileStreamSinkTask: {error}"
            ) from error

    def put(self, records: Collection[SinkRecord]) -> None:
        if not records:
            return
        values = [r.value for r in records]
        if not all(type(v) is str for v in values):
            values = [v if type(v) is str else java_string(v) for v in values]
        # One join per batch (records are many, batches few).
        text = "\n".join(values) + "\n"
        if self._file is not None:
            self._file.append(text.encode("utf-8"))
            return
        assert self.stream is not None
        try:
            self.stream.write(text)
        except OSError as error:
            raise ConnectException(f"Could not write to stdout: {error}") from error

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        if self._file is not None:
            self._file.flush()
            return
        assert self.stream is not None
        try:
            self.stream.flush()
        except OSError as error:
            raise ConnectException(f"Could not flush stdout: {error}") from error

    def stop(self) -> None:
        if self._file is not None:
            self._file.close()


# Tasks of one connector share its file (each gets the same "file"); in one worker their
# writes and roll-backs take turns, so a roll-back never cuts another task's lines.
_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


class _AppendOnlyFile:
    """A file appended to in whole lines that can be truncated back to its last flush.

    Each batch is one ``os.write`` of whole lines (no buffer of ours), so a full disk fails the
    ``put`` that met it, and the file's length after each write is known exactly."""

    def __init__(self, filename: str):
        self.filename = filename
        self._fd = os.open(filename, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
        with _FILE_LOCKS_GUARD:
            self._lock = _FILE_LOCKS.setdefault(os.path.realpath(filename), threading.Lock())
        with self._lock:
            self._start = os.fstat(self._fd).st_size
        # _end: where this task's last byte on disk ends; _flushed: _end at the last flush.
        self._flushed = self._end = self._start
        self._unterminated_start = self._start > 0 and not self._ends_a_line()
        if self._unterminated_start:
            log.warning(
                "The last line of %s (from before this task started) has no line end: a write "
                "was cut off. It is kept; the next record starts on a new line.",
                filename,
            )

    def _ends_a_line(self) -> bool:
        try:
            with open(self.filename, "rb") as f:
                f.seek(-1, os.SEEK_END)
                return f.read(1) == b"\n"
        except OSError:  # write-only file or gone: nothing to learn, nothing to end
            return True

    def append(self, data: bytes) -> None:
        with self._lock:
            if (
                self._unterminated_start
                and self._end == self._start
                and os.fstat(self._fd).st_size == self._start
            ):
                data = b"\n" + data
            view = memoryview(data)
            try:
                while view:
                    # A short write (the disk filled up) is followed by the error on the next.
                    written = os.write(self._fd, view)
                    self._end += written
                    view = view[written:]
            except OSError as error:
                rolled_back = self._roll_back_locked()
                raise ConnectException(
                    f"Could not write to {self.filename}: {error}. "
                    + (
                        f"The file was truncated back to its last flush ({self._flushed} bytes); "
                        if rolled_back
                        else ""
                    )
                    + "the records since the last flush are delivered again when the task "
                    "restarts."
                ) from error

    def flush(self) -> None:
        # The lines are with the operating system already (as Kafka's flush, no fsync).
        self._flushed = self._end

    def close(self) -> None:
        if self._fd < 0:
            return
        if self._end != self._flushed:
            # Lines written since the last flush have no committed offsets: they come again.
            with self._lock:
                self._roll_back_locked()
        os.close(self._fd)
        self._fd = -1

    def _roll_back_locked(self) -> bool:
        """Truncate to the last flush; False when that could not be done safely."""
        try:
            size = os.fstat(self._fd).st_size
            if size != self._end:
                # Someone else appended after our lines: cutting them would lose theirs.
                log.warning(
                    "%s grew to %d bytes by another writer; the lines since this task's last "
                    "flush (from byte %d) are left in place and will be written again",
                    self.filename,
                    size,
                    self._flushed,
                )
                return False
            os.ftruncate(self._fd, self._flushed)
            self._end = self._flushed
            return True
        except OSError as error:
            log.warning(
                "Could not truncate %s back to its last flush (%d bytes): %s",
                self.filename,
                self._flushed,
                error,
            )
            return False
