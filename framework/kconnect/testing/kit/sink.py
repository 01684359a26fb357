"""Checks for sink connectors: a batch reaches the sink system once, a batch refused with
``RetriableException`` is written once when it comes again, ``pre_commit()`` reports only what
the sink system holds, ``stop()`` does not wait for a blocked ``put()``, and a round trip from a
real topic through a worker.

The author says how to read back what the sink wrote (``read_back``) and, to enable two
checks, how to make the sink system fail for a while or stall. The kit plays the worker: it
builds the records, calls ``put``/``pre_commit``/``close``/``stop`` and decides when.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest

from kconnect.api.connector import SinkConnector
from kconnect.api.data import Schema
from kconnect.api.errors import RetriableException
from kconnect.api.records import SinkRecord, TimestampType
from kconnect.api.task import SinkTask
from kconnect.api.topic_partition import TopicPartition
from kconnect.testing.kit.base import ConnectorChecks, fail, values_text
from kconnect.testing.kit.harness import (
    KIT_THREAD_PREFIX,
    KitConnectorContext,
    KitSinkTaskContext,
    KitTimeout,
    call_bounded,
)
from kconnect.testing.kit.worker import plugin_name, running_worker


class SinkConnectorChecks(ConnectorChecks):
    """Subclass it in a ``Test…`` class and define:

    * ``connector_class`` and ``connector_config(workdir, topic)`` (``topics`` is added);
    * ``read_back(config)``: the values the sink system holds, in the order written;
    * optionally ``sink_unavailable(config)``: a context manager during which writes fail for
      a reason that passes (enables ``sink_retriable_redelivered``);
    * optionally ``sink_stalled(config)``: a context manager during which a write blocks until
      the context exits (enables ``stop_while_put_blocked``);
    * optionally ``values(count, start)``: the record values to send (strings by default, which
      the round trip sends through StringConverter).
    """

    kind = "sink"
    connector_class: ClassVar[type[SinkConnector]]
    value_schema: ClassVar[Schema | None] = Schema.STRING_SCHEMA

    def read_back(self, config: Mapping[str, str]) -> list[Any]:
        raise NotImplementedError(
            "define read_back(self, config) returning the values the sink system holds"
        )

    def sink_unavailable(self, config: Mapping[str, str]) -> AbstractContextManager[Any] | None:
        return None

    def sink_stalled(self, config: Mapping[str, str]) -> AbstractContextManager[Any] | None:
        return None

    def values(self, count: int, start: int = 0) -> list[Any]:
        return [f"kit-record-{i}" for i in range(start, start + count)]

    # -- playing the worker ----------------------------------------------------------------------
    def full_config(self, workdir: Path, topic: str, name: str = "kit") -> dict[str, str]:
        return {"topics": topic, **super().full_config(workdir, topic, name)}

    @staticmethod
    def partition(config: Mapping[str, str]) -> TopicPartition:
        return TopicPartition(config["topics"].split(",")[0].strip(), 0)

    def records(self, config: Mapping[str, str], values: list[Any], first: int) -> list[SinkRecord]:
        tp = self.partition(config)
        now = int(time.time() * 1000)
        return [
            SinkRecord(
                tp.topic,
                tp.partition,
                None,
                None,
                self.value_schema,
                value,
                first + i,
                now,
                TimestampType.CREATE_TIME,
            )
            for i, value in enumerate(values)
        ]

    def start_task(self, check: str, config: dict[str, str]) -> tuple[SinkConnector, SinkTask]:
        connector = self.connector_class()
        connector.initialize(KitConnectorContext())
        connector.start(dict(config))
        task_configs = connector.task_configs(1)
        if len(task_configs) != 1:
            fail(
                check,
                f"task_configs(1) returned {len(task_configs)} configs; with tasks.max=1 return "
                "exactly one",
            )
        task = cast(SinkTask, connector.task_class()())
        tp = self.partition(config)
        task.initialize(KitSinkTaskContext(task_configs[0], {tp}))
        task.start(task_configs[0])
        task.open([tp])
        return connector, task

    def stop_task(
        self, check: str, config: Mapping[str, str], connector: SinkConnector, task: SinkTask
    ) -> None:
        """As the worker stops a sink task: close its partitions, then stop it."""
        task.close([self.partition(config)])
        try:
            call_bounded("SinkTask.stop()", self.stop_timeout_s, task.stop)
        except KitTimeout:
            fail(check, f"SinkTask.stop() did not return within {self.stop_timeout_s:g}s")
        connector.stop()

    def pre_commit(self, task: SinkTask, config: Mapping[str, str], next_offset: int) -> int | None:
        tp = self.partition(config)
        committable = task.pre_commit({tp: next_offset}) or {}
        return committable.get(tp)

    # -- checks ----------------------------------------------------------------------------------
    def exercise_once(self, workdir: Path, config: dict[str, str]) -> None:
        connector, task = self.start_task("start_stop_repeatedly", config)
        task.put(self.records(config, self.values(1), 0))
        self.pre_commit(task, config, 1)
        self.stop_task("start_stop_repeatedly", config, connector, task)

    def test_sink_delivers_batch_once(self, tmp_path: Path) -> None:
        check = "sink_delivers_batch_once"
        config = self.full_config(tmp_path, self.topic_for(check))
        values = self.values(5)
        connector, task = self.start_task(check, config)
        task.put(self.records(config, values[:3], 0))
        task.put(self.records(config, values[3:], 3))
        self.pre_commit(task, config, len(values))
        self.stop_task(check, config, connector, task)
        self._expect_once(check, config, values, "two put() batches, pre_commit() and stop()")

    def _expect_once(
        self, check: str, config: Mapping[str, str], values: list[Any], after: str
    ) -> None:
        held = self.read_back(config)
        duplicated = [v for v in values if held.count(v) > 1]
        missing = [v for v in values if v not in held]
        problems = []
        if duplicated:
            problems.append(
                f"after {after} the sink system holds {values_text(duplicated)} more than once"
            )
        if missing:
            problems.append(
                f"after {after} the sink system lacks {values_text(missing)}: write (or buffer) "
                "in put() and make the writes durable in flush()/pre_commit(), and at the "
                "latest in stop()"
            )
        if not problems and held != values:
            problems.append(f"after {after} the sink system holds {values_text(held)}")
        if problems:
            fail(check, problems + [f"expected exactly {values_text(values)}"])

    def test_sink_retriable_redelivered(self, tmp_path: Path) -> None:
        check = "sink_retriable_redelivered"
        config = self.full_config(tmp_path, self.topic_for(check))
        unavailable = self.sink_unavailable(config)
        if unavailable is None:
            pytest.skip(f"{check}: define sink_unavailable(config) to run it")
        values = self.values(6)
        first, second = self.records(config, values[:3], 0), self.records(config, values[3:], 3)
        connector, task = self.start_task(check, config)
        try:
            task.put(first)
            with unavailable:
                try:
                    task.put(second)
                except RetriableException:
                    pass
                except Exception as error:  # noqa: BLE001 - what the check looks for
                    fail(
                        check,
                        f"put() raised {type(error).__name__} ({error}) while the sink system "
                        "was unavailable: raise RetriableException for failures that may pass, "
                        "so the worker offers the batch again instead of failing the task",
                    )
                else:
                    fail(
                        check,
                        "put() returned normally while the sink system was unavailable (see "
                        "sink_unavailable()): raise RetriableException when a write fails",
                    )
            task.put(second)  # the worker offers the same records again
            self.pre_commit(task, config, len(values))
        finally:
            self.stop_task(check, config, connector, task)
        self._expect_once(
            check,
            config,
            values,
            "a put() refused with RetriableException and the same batch put() again",
        )

    def test_pre_commit_not_ahead_of_flush(self, tmp_path: Path) -> None:
        check = "pre_commit_not_ahead_of_flush"
        config = self.full_config(tmp_path, self.topic_for(check))
        values = self.values(5)
        connector, task = self.start_task(check, config)
        try:
            task.put(self.records(config, values, 0))
            reported = self.pre_commit(task, config, len(values))
            # Read at once, as a crash right after the offsets were committed would leave it.
            held = self.read_back(config)
        finally:
            self.stop_task(check, config, connector, task)
        if reported is None:
            return
        covered = values[: max(0, min(reported, len(values)))]
        missing = [v for v in covered if v not in held]
        if missing:
            tp = self.partition(config)
            fail(
                check,
                f"pre_commit() reported offset {reported} for {tp.topic}-{tp.partition} while "
                f"the sink system did not yet hold {values_text(missing)}: a crash now would "
                "lose them, since the worker commits that offset. Make records durable before "
                "reporting their offsets: call self.flush() (and wait for it) in pre_commit(), "
                "or return only the offsets of records already flushed",
            )

    def test_stop_while_put_blocked(self, tmp_path: Path) -> None:
        check = "stop_while_put_blocked"
        config = self.full_config(tmp_path, self.topic_for(check))
        stalled = self.sink_stalled(config)
        if stalled is None:
            pytest.skip(f"{check}: define sink_stalled(config) to run it")
        connector, task = self.start_task(check, config)
        records = self.records(config, self.values(3), 0)
        with stalled:
            putter = threading.Thread(
                target=task.put, args=(records,), name=KIT_THREAD_PREFIX + "put", daemon=True
            )
            putter.start()
            putter.join(0.5)
            if not putter.is_alive():
                fail(check, "put() returned while sink_stalled() was active: fix the hook")
            try:
                call_bounded("SinkTask.stop()", self.stop_timeout_s, task.stop)
            except KitTimeout:
                fail(
                    check,
                    f"stop() did not return within {self.stop_timeout_s:g}s while put() was "
                    "waiting for the sink system: end the wait in stop() (close the connection "
                    "or set an event the write waits on) rather than waiting for put()",
                )
        putter.join(self.stop_timeout_s)
        connector.stop()

    def test_round_trip_through_worker(
        self, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        from confluent_kafka import Producer

        from kconnect.testing.helpers import wait_until

        check = "round_trip_through_worker"
        bootstrap = self.bootstrap_servers(request)
        topic = self.topic_for(check)
        config = self.full_config(tmp_path, topic, name=f"kit-{topic}")
        config["connector.class"] = plugin_name(self.connector_class, "connector")
        values = self.values(5)
        producer = Producer({"bootstrap.servers": bootstrap})
        for value in values:
            producer.produce(topic, value=str(value).encode("utf-8"))
        if producer.flush(30):
            fail(check, f"could not produce the test records to {topic}")
        with running_worker(tmp_path, bootstrap, config, (self.connector_class,)) as worker:
            try:
                wait_until(
                    lambda: len(self.read_back(config)) >= len(values),
                    timeout=60,
                    what="the records in the sink system",
                )
            except AssertionError:
                held = self.read_back(config)
                fail(
                    check,
                    f"the worker ran the connector for 60s and the sink system holds "
                    f"{values_text(held)}, expected {values_text(values)}; worker log tail:\n"
                    + worker.log_text()[-3000:],
                )
        self._expect_once(check, config, values, "a run in a standalone worker")
