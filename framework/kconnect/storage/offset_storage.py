"""The per-connector view of the offset store: what a source task reads and what the runtime
writes after Kafka acknowledged the records."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from kconnect.api.errors import DataException
from kconnect.api.storage import OffsetStorageReader, freeze
from kconnect.storage import java_json
from kconnect.storage.offset_backing_store import OffsetBackingStore


def serialize_key(connector: str, partition: Mapping[str, Any]) -> bytes:
    """Kafka Connect's offset key: ``["<connector>",{<partition>}]``, byte for byte as Java's
    JsonConverter writes it (Java looks offsets up by these exact bytes)."""
    return java_json.dumps([connector, dict(partition)])


def serialize_value(offset: Mapping[str, Any] | None) -> bytes | None:
    return None if offset is None else java_json.dumps(dict(offset))


def parse_key(key: bytes) -> tuple[str, dict[str, Any]] | None:
    """The (connector, partition) of a stored key; None for keys that are not offsets."""
    try:
        decoded = orjson.loads(key)
    except orjson.JSONDecodeError:
        return None
    if (
        isinstance(decoded, list)
        and len(decoded) == 2
        and isinstance(decoded[0], str)
        and isinstance(decoded[1], dict)
    ):
        return decoded[0], decoded[1]
    return None


class ConnectorOffsetReader(OffsetStorageReader):
    """Reads one connector's offsets from the backing store."""

    def __init__(self, connector: str, store: OffsetBackingStore):
        self.connector = connector
        self.store = store

    def offsets(self, partitions: Iterable[Mapping[str, Any]]) -> dict[Any, dict[str, Any]]:
        wanted = {serialize_key(self.connector, p): p for p in partitions}
        stored = self.store.get(wanted)
        result: dict[Any, dict[str, Any]] = {}
        for key, value in stored.items():
            try:
                offset = orjson.loads(value)
            except orjson.JSONDecodeError as error:
                raise DataException(
                    f"Stored offset for {key.decode()} is not valid JSON: {error}"
                ) from error
            result[freeze(wanted[key])] = offset
        return result

    def offset(self, partition: Mapping[str, Any]) -> dict[str, Any] | None:
        return self.offsets([partition]).get(freeze(partition))

    def all_partitions(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Every (partition, offset) stored for this connector."""
        out = []
        for key, value in self.store.all().items():
            parsed = parse_key(key)
            if parsed and parsed[0] == self.connector:
                out.append((parsed[1], orjson.loads(value)))
        return out


class ConnectorOffsetWriter:
    """Collects the newest offset per source partition and writes them in one go.

    ``offset()`` is called as records are sent; ``snapshot()`` takes what has been collected
    (before the producer is flushed), and ``commit(snapshot)`` stores it once every record it
    covers is acknowledged. Offsets collected after the snapshot wait for the next commit.
    """

    def __init__(self, connector: str, store: OffsetBackingStore):
        self.connector = connector
        self.store = store
        self._pending: dict[tuple, tuple[Mapping[str, Any], Mapping[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def offset(self, partition: Mapping[str, Any], offset: Mapping[str, Any] | None) -> None:
        with self._lock:
            self._pending[freeze(partition)] = (partition, offset)

    def snapshot(self) -> dict[tuple, tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
        with self._lock:
            taken, self._pending = self._pending, {}
            return taken

    def restore(
        self, snapshot: dict[tuple, tuple[Mapping[str, Any], Mapping[str, Any] | None]]
    ) -> None:
        """Put back a snapshot whose commit failed, under anything newer collected since."""
        with self._lock:
            merged = dict(snapshot)
            merged.update(self._pending)
            self._pending = merged

    def commit(
        self, snapshot: dict[tuple, tuple[Mapping[str, Any], Mapping[str, Any] | None]]
    ) -> None:
        if not snapshot:
            return
        self.store.set(
            {serialize_key(self.connector, p): serialize_value(o) for p, o in snapshot.values()}
        )
