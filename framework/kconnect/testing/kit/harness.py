"""The stage the kit's in-process checks run a connector on: the contexts a worker would give
its tasks, an offset store that keeps offsets the way the real stores do (JSON, written only
when the kit says a record was committed), calls bounded by a deadline, and a snapshot of the
threads and open files of this process.

These are the runtime's roles played in the test's own process, not mocks of Kafka: the kit
needs to stop a task at a chosen moment, restart it from exactly the offsets it chose to
commit, and see what it leaves behind, which a worker process would hide.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psutil

from kconnect.api.connector import (
    ConnectorContext,
    SinkConnectorContext,
    SourceConnectorContext,
)
from kconnect.api.storage import OffsetStorageReader, freeze
from kconnect.api.task import SinkTaskContext, SourceTaskContext
from kconnect.api.topic_partition import TopicPartition

T = TypeVar("T")

#: threads the kit starts itself carry this prefix, so the leak check leaves them out
KIT_THREAD_PREFIX = "kconnect-kit-"


class KitTimeout(AssertionError):
    """A plugin call did not return within its bound."""


def call_bounded(what: str, timeout_s: float, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on a thread of its own; its result, or KitTimeout when it is still running
    after ``timeout_s``. A call that never returns is left behind on a daemon thread, as the
    runtime leaves a stuck plugin call (the test must go on to report it)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = fn(*args)
        except BaseException as error:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = error

    thread = threading.Thread(target=run, name=KIT_THREAD_PREFIX + what, daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise KitTimeout(f"{what} did not return within {timeout_s:g}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]  # type: ignore[no-any-return]


class KitOffsetStore(OffsetStorageReader):
    """Source offsets as the worker keeps them: per partition, JSON-encoded, the last one
    committed wins. Only :meth:`commit` writes; a task that was never told its records were
    committed finds nothing here after a restart."""

    def __init__(self) -> None:
        self._offsets: dict[str, str] = {}

    @staticmethod
    def _key(partition: Mapping[str, Any]) -> str:
        return json.dumps(partition, sort_keys=True)

    def commit(self, partition: Mapping[str, Any], offset: Mapping[str, Any]) -> None:
        self._offsets[self._key(partition)] = json.dumps(offset)

    def offsets(self, partitions: Iterable[Mapping[str, Any]]) -> dict[Any, dict[str, Any]]:
        found: dict[Any, dict[str, Any]] = {}
        for partition in partitions:
            stored = self._offsets.get(self._key(partition))
            if stored is not None:
                found[freeze(partition)] = json.loads(stored)
        return found

    def __len__(self) -> int:
        return len(self._offsets)


class KitConnectorContext(SourceConnectorContext, SinkConnectorContext):
    """A connector context that records what the connector asked for instead of acting."""

    def __init__(self, offsets: KitOffsetStore | None = None):
        self.reconfiguration_requests = 0
        self.errors: list[BaseException] = []
        self._offsets = offsets or KitOffsetStore()

    def request_task_reconfiguration(self) -> None:
        self.reconfiguration_requests += 1

    def raise_error(self, error: BaseException) -> None:
        self.errors.append(error)

    def offset_storage_reader(self) -> OffsetStorageReader:
        return self._offsets


def connector_context(offsets: KitOffsetStore | None = None) -> ConnectorContext:
    return KitConnectorContext(offsets)


class KitSourceTaskContext(SourceTaskContext):
    def __init__(self, configs: Mapping[str, str], offsets: KitOffsetStore):
        self._configs = dict(configs)
        self._offsets = offsets

    def configs(self) -> dict[str, str]:
        return dict(self._configs)

    def offset_storage_reader(self) -> OffsetStorageReader:
        return self._offsets


class KitSinkTaskContext(SinkTaskContext):
    """Assignment, pauses, rewinds and timeouts as plain fields the checks can read."""

    def __init__(self, configs: Mapping[str, str], assignment: set[TopicPartition]):
        self._configs = dict(configs)
        self._assignment = set(assignment)
        self.paused: set[TopicPartition] = set()
        self.rewinds: dict[TopicPartition, int] = {}
        self.timeout_ms: int | None = None
        self.commit_requests = 0

    def configs(self) -> dict[str, str]:
        return dict(self._configs)

    def offset(self, offsets: Mapping[TopicPartition, int]) -> None:
        self.rewinds.update(offsets)

    def timeout(self, timeout_ms: int) -> None:
        self.timeout_ms = timeout_ms

    def assignment(self) -> set[TopicPartition]:
        return set(self._assignment)

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused.difference_update(partitions)

    def request_commit(self) -> None:
        self.commit_requests += 1


@dataclass
class ResourceSnapshot:
    """The threads, open files and sockets of this process at one moment."""

    threads: set[threading.Thread] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    connections: set[tuple[Any, ...]] = field(default_factory=set)

    @classmethod
    def take(cls) -> ResourceSnapshot:
        process = psutil.Process()
        return cls(
            threads={t for t in threading.enumerate() if t.is_alive()},
            files={f.path for f in process.open_files()},
            connections={(c.laddr, c.raddr, c.status) for c in process.net_connections()},
        )

    def leaks_since(self, before: ResourceSnapshot) -> list[str]:
        """What is here now and was not ``before``, as readable lines."""
        leaks = [
            f"thread {t.name!r} is still running"
            for t in self.threads - before.threads
            if not t.name.startswith(KIT_THREAD_PREFIX)
        ]
        leaks.extend(f"file {path} is still open" for path in sorted(self.files - before.files))
        leaks.extend(
            f"socket {laddr} -> {raddr or '-'} ({status}) is still open"
            for laddr, raddr, status in self.connections - before.connections
        )
        return leaks


def leaks_after(before: ResourceSnapshot, grace_s: float) -> list[str]:
    """Leaks that are still there after ``grace_s`` seconds (threads may take a moment to end
    after ``stop()`` returned; that is fine, staying is not)."""
    deadline = time.monotonic() + grace_s
    while True:
        leaks = ResourceSnapshot.take().leaks_since(before)
        if not leaks or time.monotonic() >= deadline:
            return leaks
        time.sleep(0.1)
