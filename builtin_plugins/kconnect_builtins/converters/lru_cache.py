"""The converters' schema caches: compiled readers and writers, kept per schema, bounded.

One thread-safe LRU map serves them all (Kafka's SynchronizedCache around an LRUCache): the
JSON converter's ``schemas.cache.size`` and the registry converters' ``schemas.cache.config``
both bound one of these. A converter is shared by the tasks of a connector, hence the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class LruCache:
    """A map of at most ``max_size`` entries (none when it is 0 or less) that forgets the
    least recently used one first. ``None`` is never a value: :meth:`get` answers it for a
    missing key."""

    def __init__(self, max_size: int):
        self._max_size = max(max_size, 0)
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
