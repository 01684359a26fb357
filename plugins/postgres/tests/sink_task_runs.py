"""Running the sink's task in the test process: one put() with the kit's stand-in context."""

from __future__ import annotations

from kconnect.api import SinkRecord
from kconnect.testing.kit.harness import KitSinkTaskContext

from kconnect_postgres.sink import PostgresSinkTask


def put_records(props: dict[str, str], records: list[SinkRecord]) -> PostgresSinkTask:
    """One put() of ``records`` by a PostgresSinkTask started with ``props``; the stopped
    task, to look into."""
    task = PostgresSinkTask()
    task.initialize(KitSinkTaskContext(props, set()))
    task.start(props)
    try:
        task.put(records)
    finally:
        task.stop()
    return task
