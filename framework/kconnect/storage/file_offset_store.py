"""Offsets in a local file (``offset.storage.file.filename``), for standalone mode.

The file is JSON: ``{"<key>": "<value>", ...}`` with the serialized keys and values as text.
Every write goes to a temporary file in the same directory, is fsynced, and replaces the old
file with an atomic rename, so a crash mid-write leaves either the old or the new offsets,
never a torn file.

So kconnect never leaves an empty file behind (no offsets are written as ``{}``): a file of
zero bytes was emptied by something else (``touch``, another tool, a full disk) and the offsets
it held are gone. Reading it as "no offsets" would make every source re-read its input from
the start, so the worker refuses it, as it refuses a truncated or foreign file. Apache Kafka
reads an empty file as "no offsets" because its own non-atomic save can leave one; ours cannot.
Only a missing file means a new worker.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping

import orjson

from kconnect.api.errors import ConnectException
from kconnect.storage.memory_offset_store import MemoryOffsetBackingStore

log = logging.getLogger(__name__)


class FileOffsetBackingStore(MemoryOffsetBackingStore):
    def __init__(self, filename: str | None = None) -> None:
        super().__init__()
        self.filename = filename

    def configure(self, worker_config: Mapping[str, object]) -> None:
        filename = worker_config.get("offset.storage.file.filename")
        if not filename:
            raise ConnectException(
                'Missing required configuration "offset.storage.file.filename" which has no default value.'
            )
        self.filename = str(filename)

    def start(self) -> None:
        assert self.filename, "configure() first"
        log.info("Starting FileOffsetBackingStore with file %s", self.filename)
        self._data = read_offsets_file(self.filename)

    def _persist(self) -> None:
        assert self.filename
        payload = {k.decode(): v.decode() for k, v in self._data.items()}
        write_atomically(self.filename, orjson.dumps(payload))


def read_offsets_file(filename: str) -> dict[bytes, bytes]:
    """The offsets stored in ``filename``; an empty map when it does not exist yet.
    Raises ConnectException naming the file when it is empty or not a kconnect offsets file."""
    try:
        with open(filename, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConnectException(f"Could not read offsets file {filename}: {error}") from error
    if not raw.strip():
        raise ConnectException(
            f"Offsets file {filename} is empty ({len(raw)} bytes). kconnect never writes an empty "
            "offsets file, so it was emptied outside the worker (touch, another tool, a full "
            "disk) and the source offsets it held are lost; starting from it would make every "
            "source connector re-read its input from the beginning. Restore the file from a "
            "backup, or delete it to start afresh (sources then re-read everything)."
        )
    try:
        data = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return {str(k).encode(): str(v).encode() for k, v in data.items()}
    except ValueError as error:
        raise ConnectException(
            f"Offsets file {filename} is not a kconnect offsets file (expected a JSON object): {error}. "
            "Move it away or point offset.storage.file.filename elsewhere."
        ) from error


def write_atomically(filename: str, data: bytes) -> None:
    """Replace ``filename`` with ``data`` so that readers see the old or the new content only."""
    directory = os.path.dirname(os.path.abspath(filename)) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kconnect-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    # The rename itself must survive a power cut too.
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
