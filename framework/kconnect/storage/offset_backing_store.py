"""The storage interface behind source offsets (Kafka Connect's OffsetBackingStore).

Keys and values are the serialized bytes Kafka Connect uses: the key is the JSON array
``["<connector>", {<source partition>}]`` and the value the JSON offset, so offsets can move
between kconnect and Apache Kafka Connect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class OffsetBackingStore:
    """A durable map from serialized key to serialized value. ``set`` returns once the values
    are stored durably; a value of None deletes the key."""

    def configure(self, worker_config: Mapping[str, object]) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def get(self, keys: Iterable[bytes]) -> dict[bytes, bytes]:
        raise NotImplementedError

    def set(self, values: Mapping[bytes, bytes | None]) -> None:
        raise NotImplementedError

    def all(self) -> dict[bytes, bytes]:
        """Every stored key and value (for the REST offsets API and tools)."""
        raise NotImplementedError
