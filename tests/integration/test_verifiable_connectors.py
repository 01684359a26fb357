"""VerifiableSource -> topic -> VerifiableSink in a ``connect-standalone`` worker on a real
broker, three tasks each: every task's seqnos run from 0 without a gap, a clean restart resumes
each task after its committed seqno (no duplicate), and the sink reports every seqno the source
committed. This is the check the bounce test repeats across many worker restarts."""

from __future__ import annotations

import urllib.request

from kconnect.testing.standalone_worker import StandaloneWorker
from kconnect.testing.verifiable import TaskSeqnos, verifiable_seqnos

TASKS = 3
PER_TASK = 150  # seqnos each source task commits in each run


def _configs(bootstrap: str, tmp_path, topic: str) -> tuple[dict, list[dict]]:
    worker = {
        "bootstrap.servers": bootstrap,
        # As Apache Kafka's system tests run these connectors.
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "offset.storage.file.filename": tmp_path / "connect.offsets",
        "offset.flush.interval.ms": 1000,
    }
    source = {
        "name": "verifiable-source",
        "connector.class": "org.apache.kafka.connect.tools.VerifiableSourceConnector",
        "tasks.max": TASKS,
        "topic": topic,
        "throughput": 200,
        "output.file": tmp_path / "source.jsonl",
    }
    sink = {
        "name": "verifiable-sink",
        "connector.class": "org.apache.kafka.connect.tools.VerifiableSinkConnector",
        "tasks.max": TASKS,
        "topics": topic,
        "output.file": tmp_path / "sink.jsonl",
    }
    return worker, [source, sink]


def _committed(tmp_path) -> dict[int, TaskSeqnos]:
    return verifiable_seqnos(tmp_path / "source.jsonl", connector="verifiable-source")


def _flushed(tmp_path) -> dict[int, TaskSeqnos]:
    return verifiable_seqnos(tmp_path / "sink.jsonl", connector="verifiable-sink")


def _every_task_reached(seen: dict[int, TaskSeqnos], count: int) -> bool:
    return len(seen) == TASKS and all(len(s.seqnos) >= count for s in seen.values())


def _sink_has_all_the_source_committed(tmp_path) -> bool:
    source, sink = _committed(tmp_path), _flushed(tmp_path)
    return len(source) == TASKS and all(
        set(s.seqnos) <= set(sink.get(task, TaskSeqnos()).seqnos) for task, s in source.items()
    )


def _delete_connector(worker: StandaloneWorker, name: str) -> None:
    request = urllib.request.Request(f"{worker.rest_url}/connectors/{name}", method="DELETE")
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 204


def test_every_seqno_committed_once_and_seen_by_the_sink_across_a_clean_restart(
    tmp_path, kafka_cluster, unique_topic
):
    # One partition per sink task; each source task's records stay in one (keyed by task id).
    kafka_cluster.create_topic(unique_topic, partitions=TASKS)
    worker_props, connectors = _configs(kafka_cluster.bootstrap_servers, tmp_path, unique_topic)

    first = StandaloneWorker(tmp_path, worker_props, connectors, name="first").start()
    first.wait_for(
        lambda: _every_task_reached(_committed(tmp_path), PER_TASK),
        what=f"{PER_TASK} committed records per source task",
    )
    assert first.stop() == 0
    after_first = {task: s.seqnos[-1] for task, s in _committed(tmp_path).items()}

    with StandaloneWorker(tmp_path, worker_props, connectors, name="second") as second:
        second.wait_for(
            lambda: all(
                s.seqnos[-1] >= after_first[task] + PER_TASK
                for task, s in _committed(tmp_path).items()
            ),
            what="each source task to go on after its restart",
        )
        # Stopping the source alone commits its last offsets and lets the sink catch up.
        _delete_connector(second, "verifiable-source")
        second.wait_for(
            lambda: _sink_has_all_the_source_committed(tmp_path),
            what="the sink to flush every seqno the source committed",
        )
    assert second.returncode == 0

    source, sink = _committed(tmp_path), _flushed(tmp_path)
    assert sorted(source) == sorted(sink) == list(range(TASKS))
    for task in range(TASKS):
        produced, consumed = source[task], sink[task]
        # Consecutive from 0 across the restart: resumed at the committed seqno + 1.
        assert produced.seqnos == list(range(len(produced.seqnos))), f"task {task}"
        assert produced.gaps == [] and produced.duplicates == [], f"task {task}"
        assert produced.seqnos[-1] >= after_first[task] + PER_TASK
        assert consumed.gaps == [] and consumed.duplicates == [], f"task {task}"
        assert set(produced.seqnos) <= set(consumed.seqnos), f"task {task}"
