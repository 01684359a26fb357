"""Where a verifiable task reports its records: JSON lines appended to a file, or stdout.

Several tasks, in one worker or in several worker processes, may share one output file. Each
task opens the file itself with ``O_APPEND`` and hands the kernel whole lines in a single
``os.write``: the kernel places every such write at the end of the file at once, so lines from
different writers never interleave or overwrite each other, and a reader finds only whole lines
(except, at worst, a torn last line of a writer that was killed mid-write).
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from kconnect.api.config import ConfigDef
from kconnect.api.errors import ConnectException

OUTPUT_FILE_CONFIG = "output.file"
OUTPUT_FILE_DOC = (
    "File to which each task appends one JSON line per record it got through (the source: per "
    'record Kafka acknowledged, with "committed": true; the sink: per record flushed, with '
    '"flushed": true). Several tasks and worker processes may share the file: each line is '
    "appended in one write. If empty or unset, the tasks print to standard output as Apache "
    "Kafka's do, including a line for each record when it is produced (source) or put (sink)."
)

# Several lines go into one write (fewer system calls at high rates); a limit keeps one write
# well below sizes at which a kernel might accept it only partly.
_MAX_WRITE_BYTES = 1 << 16


def define_output_file(config_def: ConfigDef) -> ConfigDef:
    """Add the ``output.file`` key (kconnect's own; Apache Kafka's tasks only print)."""
    return config_def.define(
        OUTPUT_FILE_CONFIG,
        ConfigDef.Type.STRING,
        "",
        None,
        ConfigDef.Importance.LOW,
        OUTPUT_FILE_DOC,
    )


class JsonLinesOutput:
    """Writes entries (dicts) as JSON lines to a file opened for appending, or to stdout."""

    def __init__(self, path: str | None):
        self.path = path or None
        self._fd: int | None = None
        if self.path is None:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as error:
            raise ConnectException(
                f"Couldn't open or create output file '{self.path}': {error}"
            ) from error
        self._fd = fd
        # A source task's stop() comes from another thread while the runtime still delivers
        # acknowledgements (and so writes) on the task's thread; closing the descriptor there
        # could send those writes to whatever file next reuses its number. So it is closed
        # when the task object goes away, or explicitly once nothing can write any more.
        self._closer = weakref.finalize(self, os.close, fd)
        self._lock = threading.Lock()

    @property
    def to_stdout(self) -> bool:
        return self._fd is None

    def write(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Append one JSON line per entry."""
        lines = [orjson.dumps(entry) + b"\n" for entry in entries]
        if not lines:
            return
        if self._fd is None:
            # One write() per call keeps each batch whole when tasks share stdout.
            sys.stdout.write(b"".join(lines).decode("utf-8"))
            sys.stdout.flush()
            return
        with self._lock:
            if not self._closer.alive:
                raise ConnectException(f"Output file '{self.path}' is closed")
            chunk: list[bytes] = []
            size = 0
            for line in lines:
                if chunk and size + len(line) > _MAX_WRITE_BYTES:
                    self._write_whole(b"".join(chunk))
                    chunk, size = [], 0
                chunk.append(line)
                size += len(line)
            self._write_whole(b"".join(chunk))

    def _write_whole(self, data: bytes) -> None:
        assert self._fd is not None
        try:
            written = os.write(self._fd, data)
            # A regular file takes a short write only when it cannot take more (a full disk);
            # the next write then raises, which is what the task should see.
            while written < len(data):
                data = data[written:]
                written = os.write(self._fd, data)
        except OSError as error:
            raise ConnectException(f"Could not write to '{self.path}': {error}") from error

    def close(self) -> None:
        """Close the file; only when no more writes can come."""
        if self._fd is not None:
            with self._lock:
                self._closer()
