"""What a source task can read of its stored offsets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class OffsetStorageReader:
    """Reads the last committed offsets of a connector's source partitions."""

    def offset(self, partition: Mapping[str, Any]) -> dict[str, Any] | None:
        """The offset last committed for ``partition``, or None."""
        result = self.offsets([partition])
        return next(iter(result.values()), None) if result else None

    def offsets(self, partitions: Iterable[Mapping[str, Any]]) -> dict[Any, dict[str, Any]]:
        """Offsets for several partitions, keyed by ``freeze(partition)`` (partitions are dicts,
        which cannot be dict keys). Partitions without an offset are left out."""
        raise NotImplementedError


def freeze(partition: Mapping[str, Any]) -> tuple:
    """A hashable form of a source partition dict, used as a key."""
    return tuple(sorted(partition.items()))
