"""Checks for source connectors: offsets that survive the offset store, a restart that resumes
exactly after the last committed record, a ``stop()`` that does not wait for ``poll()``, and a
round trip through a worker into a real topic.

The author says how to make the external system hold new data (``produce``); the kit plays
the worker: it polls, decides which records count as committed, stops and restarts the task.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest

from kconnect.api.connector import SourceConnector
from kconnect.api.data import Struct
from kconnect.api.records import SourceRecord
from kconnect.api.task import RecordMetadata, SourceTask
from kconnect.testing.kit.base import ConnectorChecks, fail, values_text
from kconnect.testing.kit.harness import (
    KIT_THREAD_PREFIX,
    KitConnectorContext,
    KitOffsetStore,
    KitSourceTaskContext,
    KitTimeout,
    call_bounded,
)
from kconnect.testing.kit.worker import JSON_CONVERTER, plugin_name, running_worker


def plain(value: Any) -> Any:
    """A Connect value as schemaless JsonConverter writes it."""
    if isinstance(value, Struct):
        return {f.name: plain(value.get(f)) for f in value.schema.fields}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    return value


class SourceConnectorChecks(ConnectorChecks):
    """Subclass it in a ``Test…`` class and define:

    * ``connector_class`` and ``connector_config(workdir, topic)`` (see ConnectorChecks);
    * ``produce(config, count)``: make the external system hold ``count`` new records and
      return the values the connector will emit for them, in order (distinct values);
    * optionally ``record_value(record)`` when a record's value is not what ``produce``
      returned as is.
    """

    kind = "source"
    connector_class: ClassVar[type[SourceConnector]]
    #: how long the kit waits for records the external system holds
    poll_timeout_s: ClassVar[float] = 15.0

    def produce(self, config: Mapping[str, str], count: int) -> list[Any]:
        raise NotImplementedError(
            "define produce(self, config, count): add count records to the external system "
            "and return the values the connector will emit for them"
        )

    def record_value(self, record: SourceRecord) -> Any:
        return record.value

    # -- playing the worker ----------------------------------------------------------------------
    def start_task(
        self, check: str, config: dict[str, str], offsets: KitOffsetStore
    ) -> tuple[SourceConnector, SourceTask]:
        connector = self.connector_class()
        connector.initialize(KitConnectorContext(offsets))
        connector.start(dict(config))
        task_configs = connector.task_configs(1)
        if len(task_configs) != 1:
            fail(
                check,
                f"task_configs(1) returned {len(task_configs)} configs; with tasks.max=1 return "
                "exactly one",
            )
        task = cast(SourceTask, connector.task_class()())
        task.initialize(KitSourceTaskContext(task_configs[0], offsets))
        task.start(task_configs[0])
        return connector, task

    def stop_task(self, check: str, connector: SourceConnector, task: SourceTask) -> None:
        try:
            call_bounded("SourceTask.stop()", self.stop_timeout_s, task.stop)
        except KitTimeout:
            fail(
                check,
                f"SourceTask.stop() did not return within {self.stop_timeout_s:g}s: the worker "
                "gives up on it and leaves the task's resources behind",
            )
        connector.stop()

    def poll_records(self, task: SourceTask, count: int) -> list[SourceRecord]:
        """Poll as the worker does until ``count`` records came (or time ran out)."""
        records: list[SourceRecord] = []
        deadline = time.monotonic() + self.poll_timeout_s
        while len(records) < count and time.monotonic() < deadline:
            try:
                batch = call_bounded(
                    "SourceTask.poll()", max(deadline - time.monotonic(), 0.1), task.poll
                )
            except KitTimeout:
                break
            records.extend(batch or ())
        return records

    # -- checks ----------------------------------------------------------------------------------
    def prepare_lifecycle(self, config: dict[str, str]) -> None:
        self.produce(config, 1)

    def exercise_once(self, workdir: Path, config: dict[str, str]) -> None:
        connector, task = self.start_task("start_stop_repeatedly", config, KitOffsetStore())
        try:
            call_bounded("SourceTask.poll()", self.poll_timeout_s, task.poll)
        except KitTimeout:
            fail("start_stop_repeatedly", "poll() did not return although a record was waiting")
        self.stop_task("start_stop_repeatedly", connector, task)

    def test_stop_while_poll_blocked(self, tmp_path: Path) -> None:
        check = "stop_while_poll_blocked"
        config = self.full_config(tmp_path, self.topic_for(check))
        connector, task = self.start_task(check, config, KitOffsetStore())
        stopping = threading.Event()

        def poll_loop() -> None:
            while not stopping.is_set():
                task.poll()

        poller = threading.Thread(target=poll_loop, name=KIT_THREAD_PREFIX + "poll", daemon=True)
        poller.start()
        time.sleep(0.5)  # nothing was produced: poll() is now waiting for data, or returning empty
        stopping.set()
        try:
            call_bounded("SourceTask.stop()", self.stop_timeout_s, task.stop)
        except KitTimeout:
            fail(
                check,
                f"stop() did not return within {self.stop_timeout_s:g}s while poll() was "
                "waiting for data: the worker calls stop() from another thread precisely to "
                "wake poll() up; wait in poll() on something stop() ends (e.g. "
                "threading.Event.wait(timeout) that stop() sets) and never hold a lock in "
                "poll() that stop() needs",
            )
        poller.join(self.stop_timeout_s)
        connector.stop()
        if poller.is_alive():
            fail(
                check,
                f"poll() was still running {self.stop_timeout_s:g}s after stop() returned: "
                "return from poll() (None) soon after stop() is called",
            )

    def test_source_offsets_json(self, tmp_path: Path) -> None:
        check = "source_offsets_json"
        config = self.full_config(tmp_path, self.topic_for(check))
        self.produce(config, 3)
        connector, task = self.start_task(check, config, KitOffsetStore())
        try:
            records = self.poll_records(task, 3)
        finally:
            self.stop_task(check, connector, task)
        if not records:
            fail(check, "poll() returned no records after produce(config, 3)")
        problems = []
        for index, record in enumerate(records):
            for what in ("source_partition", "source_offset"):
                value = getattr(record, what)
                problem = _json_problem(value)
                if problem:
                    problems.append(
                        f"record {index}'s {what} {value!r} {problem}: the worker stores "
                        "partitions and offsets as JSON objects and hands them back after a "
                        "restart, so use dicts of str, int, float, bool or None (nested lists "
                        "and dicts allowed)"
                    )
        if problems:
            fail(check, problems[:10])

    def test_source_resume_after_restart(self, tmp_path: Path) -> None:
        check = "source_resume_after_restart"
        config = self.full_config(tmp_path, self.topic_for(check))
        offsets = KitOffsetStore()
        first = self.produce(config, 6)
        connector, task = self.start_task(check, config, offsets)
        try:
            records = self.poll_records(task, len(first))
            got = [self.record_value(r) for r in records]
            if got != first:
                fail(
                    check,
                    f"before any restart the task delivered {values_text(got)}, expected "
                    f"{values_text(first)} (what produce() returned)",
                )
            # The worker commits what Kafka acknowledged: here the first 4 records.
            committed = records[:4]
            for kafka_offset, record in enumerate(committed):
                if record.source_partition is not None and record.source_offset is not None:
                    offsets.commit(record.source_partition, record.source_offset)
                metadata = RecordMetadata(record.topic, 0, kafka_offset, None)
                task.commit_record(record, metadata)
            task.commit()
        finally:
            self.stop_task(check, connector, task)
        second = self.produce(config, 3)
        expected = first[4:] + second
        connector, task = self.start_task(check, config, offsets)
        try:
            got = [self.record_value(r) for r in self.poll_records(task, len(expected))]
        finally:
            self.stop_task(check, connector, task)
        redelivered = [v for v in got if v in first[:4]]
        skipped = [v for v in expected if v not in got]
        problems = []
        if redelivered:
            problems.append(
                f"after a restart the task delivered again {values_text(redelivered)}, records "
                "whose offsets were committed: in start(), read the last committed offset with "
                "self.context.offset_storage_reader().offset(partition) and continue after it"
            )
        if skipped:
            problems.append(
                f"after a restart the task never delivered {values_text(skipped)}: records "
                "whose offsets were not committed must come again (resume from the committed "
                "offset, not from a position the task remembered itself)"
            )
        if not problems and got != expected:
            problems.append(
                f"after a restart the task delivered {values_text(got)}, expected "
                f"{values_text(expected)}"
            )
        if problems:
            fail(check, problems)

    def test_round_trip_through_worker(
        self, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        from kconnect.testing.helpers import read_topic

        check = "round_trip_through_worker"
        bootstrap = self.bootstrap_servers(request)
        topic = self.topic_for(check)
        config = self.full_config(tmp_path, topic, name=f"kit-{topic}")
        config["connector.class"] = plugin_name(self.connector_class, "connector")
        with running_worker(
            tmp_path, bootstrap, config, (self.connector_class,), value_converter=JSON_CONVERTER
        ):
            expected = [plain(v) for v in self.produce(config, 5)]
            messages = read_topic(bootstrap, topic, expected=len(expected), timeout=60)
        got = [None if (v := m.value()) is None else json.loads(v) for m in messages]
        if got != expected:
            fail(
                check,
                f"topic {topic} holds {values_text(got)}, expected {values_text(expected)} "
                "(produce()'s values as JsonConverter writes them without schemas)",
            )


def _json_problem(value: Any) -> str | None:
    if value is None:
        return "is None (nothing to resume from)"
    if not isinstance(value, Mapping):
        return f"is a {type(value).__name__}, not a dict"
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        return f"is not JSON-serialisable ({error})"
    if json.loads(text) != value:
        return "changes when written as JSON and read back (tuples become lists, keys strings)"
    return None
