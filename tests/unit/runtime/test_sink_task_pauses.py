"""Partitions a sink task paused itself stay paused when the connector resumes."""

from __future__ import annotations

from kconnect.api.topic_partition import TopicPartition
from kconnect.runtime.worker.sink_task_runner import RuntimeSinkTaskContext, SinkTaskRunner


class _RecordingConsumer:
    def __init__(self) -> None:
        self.paused: set[tuple[str, int]] = set()

    def pause(self, partitions) -> None:
        self.paused.update((p.topic, p.partition) for p in partitions)

    def resume(self, partitions) -> None:
        self.paused.difference_update((p.topic, p.partition) for p in partitions)


def _runner() -> SinkTaskRunner:
    runner = SinkTaskRunner.__new__(SinkTaskRunner)  # only what pausing uses
    runner.consumer = _RecordingConsumer()
    runner.assignment = {TopicPartition("t", 0), TopicPartition("t", 1)}
    runner._paused_by_task = set()
    return runner


def test_connector_resume_keeps_the_tasks_own_pauses():
    runner = _runner()
    context = RuntimeSinkTaskContext(runner)
    context.pause(TopicPartition("t", 1))
    runner.on_pause()  # the connector is paused through REST ...
    assert runner.consumer.paused == {("t", 0), ("t", 1)}
    runner.on_resume()  # ... and resumed: partition 1 stays as the task left it
    assert runner.consumer.paused == {("t", 1)}
    context.resume(TopicPartition("t", 1))
    assert runner.consumer.paused == set()
