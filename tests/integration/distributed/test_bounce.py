"""Rolling restarts of every worker of a cluster lose no record (Apache Kafka's
connect_distributed_test.py::test_bounce).

Three workers run a VerifiableSource (3 tasks) producing to a 3-partition topic and a
VerifiableSink (3 tasks) reading it. Three times over, every worker in turn is stopped and a
new one started in its place; the next is stopped only once every task runs again. Stopped
cleanly (SIGTERM), the workers commit on the way out: no seqno is missing or repeated, at the
source or at the sink. Killed (SIGKILL), work resumes from the last commit: records may repeat,
none may go missing.
"""

from __future__ import annotations

import time
import uuid

import pytest
from kconnect.testing.distributed_worker import DistributedCluster, DistributedWorker, wait_for
from kconnect.testing.verifiable import TaskSeqnos, verifiable_seqnos

TASKS = 3
ROUNDS = 3
THROUGHPUT = 50  # records per second per source task


def connector_status(worker: DistributedWorker, name: str) -> dict | None:
    response = worker.request("GET", f"/connectors/{name}/status", retry_conflicts_s=0)
    return response.json() if response.status_code == 200 else None


def settled(workers: list[DistributedWorker], names: list[str]) -> bool:
    """Every connector and task RUNNING on a live worker, and every worker running a task."""
    live = {w.worker_id for w in workers}
    busy: set[str] = set()
    for name in names:
        status = connector_status(workers[0], name)
        if status is None or status["connector"]["state"] != "RUNNING":
            return False
        if status["connector"]["worker_id"] not in live or len(status["tasks"]) != TASKS:
            return False
        for task in status["tasks"]:
            if task["state"] != "RUNNING" or task["worker_id"] not in live:
                return False
            busy.add(task["worker_id"])
    return busy == live


def describe(seen: dict[int, TaskSeqnos]) -> dict[int, str]:
    return {
        task: f"{len(s.seqnos)} seqnos, max {s.seqnos[-1] if s.seqnos else None}, "
        f"{len(s.gaps)} gaps {s.gaps[:5]}, {len(s.duplicates)} duplicates {s.duplicates[:5]}"
        for task, s in seen.items()
    }


@pytest.mark.parametrize("clean", [True, False], ids=["sigterm", "sigkill"])
def test_bounce(tmp_path, kafka_cluster, unique_topic, clean):
    began = time.monotonic()
    kafka_cluster.create_topic(unique_topic, partitions=TASKS)
    group = f"bounce-{uuid.uuid4().hex[:8]}"
    cluster = DistributedCluster(
        tmp_path,
        kafka_cluster.bootstrap_servers,
        group_id=group,
        # A killed sink task's consumer holds its partitions until its session times out.
        extra={"consumer.session.timeout.ms": "6000", "consumer.heartbeat.interval.ms": "1000"},
    )
    source_out, sink_out = tmp_path / "source.jsonl", tmp_path / "sink.jsonl"
    try:
        workers = cluster.start_workers(3)
        source = {
            "connector.class": "org.apache.kafka.connect.tools.VerifiableSourceConnector",
            "tasks.max": str(TASKS),
            "topic": unique_topic,
            "throughput": str(THROUGHPUT),
            "output.file": str(source_out),
        }
        sink = {
            "connector.class": "org.apache.kafka.connect.tools.VerifiableSinkConnector",
            "tasks.max": str(TASKS),
            "topics": unique_topic,
            "output.file": str(sink_out),
        }
        for name, config in (("source", source), ("sink", sink)):
            created = workers[0].put(f"/connectors/{name}/config", config)
            assert created.status_code == 201, created.text
        wait_for(lambda: settled(workers, ["source", "sink"]), 90, "both connectors RUNNING")

        for round_ in range(ROUNDS):
            for i in range(len(workers)):
                if clean:
                    assert workers[i].stop() == 0, f"worker {workers[i].worker_id} exit code"
                else:
                    workers[i].kill()
                workers[i] = cluster.worker().start().wait_until_ready()
                # With SIGKILL the group notices only after session.timeout.ms (6 s).
                wait_for(
                    lambda: settled(workers, ["source", "sink"]),
                    60,
                    f"every task RUNNING again (round {round_ + 1}, worker {i + 1})",
                    interval_s=0.5,
                )

        # Every task produces again, past anything a killed task may have left in the topic
        # unreported (acknowledged by the broker, but not yet to the task when it died).
        bounced = verifiable_seqnos([source_out, sink_out])
        wait_for(
            lambda: all(
                seen.seqnos[-1] > bounced[task].seqnos[-1] + THROUGHPUT
                for task, seen in verifiable_seqnos(source_out, connector="source").items()
            ),
            30,
            "every source task producing again",
            interval_s=0.5,
        )
        stopped = workers[0].put("/connectors/source/stop")
        assert stopped.status_code == 204, stopped.text
        wait_for(
            lambda: connector_status(workers[0], "source")["connector"]["state"] == "STOPPED",
            60,
            "the source STOPPED",
        )
        source_seen = verifiable_seqnos(source_out, connector="source")
        assert sorted(source_seen) == list(range(TASKS)), describe(source_seen)

        def caught_up() -> bool:
            sink_seen = verifiable_seqnos(sink_out, connector="sink")
            return all(
                task in sink_seen and sink_seen[task].seqnos[-1] >= seen.seqnos[-1]
                for task, seen in source_seen.items()
            )

        wait_for(caught_up, 60, "the sink to catch up with the source", interval_s=1)
        sink_seen = verifiable_seqnos(sink_out, connector="sink")
        print(f"bounce ({'SIGTERM' if clean else 'SIGKILL'}) in {time.monotonic() - began:.0f} s")
        print("source:", describe(source_seen))
        print("sink:", describe(sink_seen))

        for task, seen in source_seen.items():
            sunk = sink_seen[task]
            assert len(seen.seqnos) > 1000, f"task {task}: too few records: {describe(source_seen)}"
            assert not seen.gaps, f"source task {task} lost seqnos {seen.gaps[:20]}"
            assert not sunk.gaps, f"sink lost seqnos of task {task}: {sunk.gaps[:20]}"
            assert sunk.seqnos[-1] == seen.seqnos[-1], f"task {task}: {describe(sink_seen)}"
            if clean:
                assert not seen.duplicates, f"source task {task} repeated {seen.duplicates[:20]}"
                assert not sunk.duplicates, (
                    f"sink repeated seqnos of {task}: {sunk.duplicates[:20]}"
                )
    finally:
        cluster.stop_all()
