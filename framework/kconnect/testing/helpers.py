"""Small helpers for end-to-end tests against a real broker, for kconnect's own tests and for
plugin authors: wait for a condition with a deadline, read what reached a topic, and run a
standalone herder in the test's own process.

    with running_herder(herder_worker_props(bootstrap_servers, tmp_path)) as herder:
        herder.put_connector_config("src", {...}, allow_replace=False)
        wait_until(lambda: herder.connector_status("src")["tasks"], what="the task to start")
        values = [m.value() for m in read_topic(bootstrap_servers, topic, expected=2)]

confluent-kafka and the runtime are imported only when a helper needs them, so importing
:mod:`kconnect.testing` stays cheap.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from confluent_kafka import Message

    from kconnect.runtime.standalone.herder import StandaloneHerder

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], timeout: float = 60, what: str = "condition", interval: float = 0.1
) -> T:
    """Call ``condition`` until it returns something truthy, and return that.

    Raises ``AssertionError`` naming ``what`` when ``timeout`` seconds pass first. The condition
    is called once more at the deadline, so a slow last call is never wasted."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def read_topic(
    bootstrap_servers: str, topic: str, expected: int, timeout: float = 60
) -> list[Message]:
    """The messages of ``topic`` from the start, read until at least ``expected`` arrived or
    ``timeout`` seconds passed; returns what was read either way (assert on its length).

    Reads with a fresh consumer group and commits nothing, so it can be called any number of
    times. Messages with an error (e.g. end of partition) are left out."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"kconnect-testing-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    messages: list[Message] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(messages) < expected and time.monotonic() < deadline:
            batch = consumer.consume(max(expected - len(messages), 1), 0.5)
            messages.extend(m for m in batch if m.error() is None)
    finally:
        consumer.close()
    return messages


def committed_offset(
    bootstrap_servers: str, group: str, topic: str, partition: int = 0, timeout: float = 10
) -> int | None:
    """The offset ``group`` committed for one partition, or None when it committed none.

    A sink connector's group is ``connect-<connector name>``."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap_servers, "group.id": group, "enable.auto.commit": False}
    )
    try:
        [tp] = consumer.committed([TopicPartition(topic, partition)], timeout=timeout)
        return tp.offset if tp.offset >= 0 else None
    finally:
        consumer.close()


def herder_worker_props(
    bootstrap_servers: str, workdir: Path, extra: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Worker settings for an in-process standalone herder: String converters, offsets in
    ``workdir``, the REST listener on a free port; ``extra`` adds or overrides settings."""
    props: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": Path(workdir) / "offsets",
        "listeners": "http://127.0.0.1:0",
    }
    props.update(extra or {})
    return {key: str(value) for key, value in props.items()}


@contextmanager
def running_herder(worker_props: Mapping[str, Any]) -> Iterator[StandaloneHerder]:
    """A started :class:`StandaloneHerder` in this process, stopped on exit.

    Values may be any type; they are passed to the worker as strings. Use it as a fixture::

        @pytest.fixture
        def herder(tmp_path, bootstrap_servers):
            with running_herder(herder_worker_props(bootstrap_servers, tmp_path)) as herder:
                yield herder
    """
    from kconnect.runtime.standalone.herder import StandaloneHerder
    from kconnect.runtime.worker_config import WorkerConfig

    herder = StandaloneHerder(WorkerConfig({key: str(v) for key, v in worker_props.items()}))
    herder.start()
    try:
        yield herder
    finally:
        herder.stop()
