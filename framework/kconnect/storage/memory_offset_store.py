"""Offsets in memory: lost when the worker stops. Useful for tests."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

from kconnect.storage.offset_backing_store import OffsetBackingStore


class MemoryOffsetBackingStore(OffsetBackingStore):
    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    def get(self, keys: Iterable[bytes]) -> dict[bytes, bytes]:
        with self._lock:
            return {k: self._data[k] for k in keys if k in self._data}

    def set(self, values: Mapping[bytes, bytes | None]) -> None:
        with self._lock:
            self._apply(values)
            self._persist()

    def _apply(self, values: Mapping[bytes, bytes | None]) -> None:
        for key, value in values.items():
            if value is None:
                self._data.pop(key, None)
            else:
                self._data[key] = value

    def _persist(self) -> None:
        """Subclasses make ``_data`` durable here; memory keeps nothing."""

    def all(self) -> dict[bytes, bytes]:
        with self._lock:
            return dict(self._data)
