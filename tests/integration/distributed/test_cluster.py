"""A kconnect cluster of worker processes on a real broker: connectors created through different
workers spread evenly, a killed worker's work moves, a joining worker takes its share without
restarting what stays, a paused connector stays paused, and writes through followers reach the
leader."""

from __future__ import annotations

import collections
import uuid

import pytest
from kconnect.testing.distributed_worker import (
    DistributedCluster,
    DistributedWorker,
    all_running,
    wait_for,
)
from kconnect.testing.distributed_worker import verifiable_source_config as source_config
from kconnect.testing.verifiable import verifiable_seqnos


@pytest.fixture
def cluster(tmp_path, bootstrap_servers):
    cluster = DistributedCluster(tmp_path, bootstrap_servers, group_id=f"g-{uuid.uuid4().hex[:8]}")
    yield cluster
    cluster.stop_all()


def placement(worker: DistributedWorker, names: list[str]) -> tuple[dict, dict]:
    """(connector -> worker id, task -> worker id) from the status API."""
    connectors, tasks = {}, {}
    for name in names:
        status = worker.get(f"/connectors/{name}/status")
        connectors[name] = status["connector"]["worker_id"]
        for task in status["tasks"]:
            tasks[(name, task["id"])] = task["worker_id"]
    return connectors, tasks


def spread(owners: dict, workers: list[DistributedWorker]) -> list[int]:
    counts = collections.Counter(owners.values())
    return [counts.get(w.worker_id, 0) for w in workers]


def test_connectors_created_through_different_workers_spread_evenly(
    cluster, unique_topic, tmp_path
):
    workers = cluster.start_workers(3)
    names = [f"source-{i}" for i in range(3)]
    for worker, name in zip(workers, names, strict=True):
        response = worker.post(
            "/connectors",
            {"name": name, "config": source_config(unique_topic, str(tmp_path / f"{name}.jsonl"))},
        )
        assert response.status_code == 201, response.text
        assert response.json()["name"] == name
    for name in names:
        wait_for(lambda n=name: all_running(workers[0], n, 3), 90, f"{name} RUNNING")
    assert sorted(workers[1].get("/connectors")) == names
    connectors, tasks = placement(workers[2], names)
    task_counts = spread(tasks, workers)
    assert sum(task_counts) == 9
    assert max(task_counts) - min(task_counts) < 2, tasks
    connector_counts = spread(connectors, workers)
    assert max(connector_counts) - min(connector_counts) < 2, connectors
    # Every worker answers with the same view.
    assert placement(workers[0], names) == placement(workers[1], names) == (connectors, tasks)


def test_killed_worker_work_resumes_elsewhere_from_committed_offsets(
    cluster, unique_topic, tmp_path
):
    workers = cluster.start_workers(3)
    output = tmp_path / "source.jsonl"
    created = workers[1].post(
        "/connectors", {"name": "seq", "config": source_config(unique_topic, str(output), 3, 50)}
    )
    assert created.status_code == 201, created.text
    wait_for(lambda: all_running(workers[0], "seq", 3), 90, "seq RUNNING")
    wait_for(lambda: len(verifiable_seqnos(output)) == 3, 60, "every task committed records")
    _, tasks = placement(workers[0], ["seq"])
    victim = next(w for w in workers if w.worker_id in tasks.values())
    survivors = [w for w in workers if w is not victim]
    victim.kill()

    def moved() -> bool:
        status = all_running(survivors[0], "seq", 3)
        return (
            bool(status)
            and all(t["worker_id"] != victim.worker_id for t in status["tasks"])
            and status["connector"]["worker_id"] != victim.worker_id
        )

    # session.timeout.ms=6000 + scheduled.rebalance.max.delay.ms=0 + a few seconds
    wait_for(moved, 30, "the killed worker's tasks RUNNING on the survivors")
    before = {task: max(seen.seqnos) for task, seen in verifiable_seqnos(output).items()}
    wait_for(
        lambda: all(
            max(seen.seqnos) > before[task] + 20 for task, seen in verifiable_seqnos(output).items()
        ),
        60,
        "every task producing again",
    )
    for task, seen in verifiable_seqnos(output).items():
        assert not seen.gaps, f"task {task} skipped seqnos {seen.gaps[:10]}"


def test_joining_worker_takes_work_without_restarting_what_stays(cluster, unique_topic, tmp_path):
    workers = cluster.start_workers(3)
    names = [f"c{i}" for i in range(3)]
    for name in names:
        assert (
            workers[0]
            .post(
                "/connectors",
                {
                    "name": name,
                    "config": source_config(unique_topic, str(tmp_path / "out.jsonl"), 3),
                },
            )
            .status_code
            == 201
        )
    for name in names:
        wait_for(lambda n=name: all_running(workers[0], n, 3), 90, f"{name} RUNNING")
    _, before = placement(workers[0], names)
    fourth = cluster.worker().start().wait_until_ready()

    def rebalanced() -> dict | None:
        statuses = [all_running(fourth, n, 3) for n in names]
        if not all(statuses):
            return None
        _, tasks = placement(fourth, names)
        counts = spread(tasks, [*workers, fourth])
        return tasks if counts[-1] >= 2 and max(counts) - min(counts) < 2 else None

    after = wait_for(rebalanced, 60, "work spread onto the fourth worker")
    stayed = [task for task, owner in after.items() if before[task] == owner]
    assert stayed, "some tasks should stay where they were"
    for name, number in stayed:
        owner = next(w for w in workers if w.worker_id == before[(name, number)])
        starts = owner.log_text().count(f"{{id={name}-{number}}} Task started")
        assert starts == 1, f"task {name}-{number} stayed on {owner.worker_id} but restarted"


def test_paused_connector_stays_paused_across_restart_of_every_worker(
    cluster, unique_topic, tmp_path
):
    workers = cluster.start_workers(2)
    config = source_config(unique_topic, str(tmp_path / "out.jsonl"), 2)
    assert workers[0].post("/connectors", {"name": "p", "config": config}).status_code == 201
    wait_for(lambda: all_running(workers[1], "p", 2), 90, "p RUNNING")
    assert workers[1].put("/connectors/p/pause").status_code == 202

    def paused(worker: DistributedWorker) -> bool:
        status = worker.get("/connectors/p/status")
        return status["connector"]["state"] == "PAUSED" and [
            t["state"] for t in status["tasks"]
        ] == ["PAUSED", "PAUSED"]

    wait_for(lambda: paused(workers[0]), 60, "p PAUSED")
    for worker in workers:
        worker.stop()
    restarted = cluster.start_workers(2)
    wait_for(lambda: paused(restarted[0]), 90, "p PAUSED after every worker restarted")
    assert restarted[1].get("/connectors/p/status")["connector"]["state"] == "PAUSED"


def test_create_update_delete_through_a_follower(cluster, unique_topic, tmp_path):
    workers = cluster.start_workers(2)
    # Whichever worker is not the leader forwards; try both so one of them is a follower.
    for i, worker in enumerate(workers):
        name = f"f{i}"
        config = source_config(unique_topic, str(tmp_path / "out.jsonl"), 1)
        created = worker.put(f"/connectors/{name}/config", config)
        assert created.status_code == 201, created.text
        config["throughput"] = "5"
        updated = worker.put(f"/connectors/{name}/config", config)
        assert updated.status_code == 200, updated.text
        assert workers[1 - i].get(f"/connectors/{name}/config")["throughput"] == "5"
        wait_for(lambda n=name, w=worker: all_running(w, n, 1), 60, f"{name} RUNNING")
        assert worker.delete(f"/connectors/{name}").status_code == 204
        wait_for(lambda n=name, w=workers[1 - i]: n not in w.get("/connectors"), 30, "deleted")
        missing = workers[1 - i].request("GET", f"/connectors/{name}/status")
        assert missing.status_code == 404


def test_internal_task_config_requests_must_be_signed(cluster, unique_topic, tmp_path):
    workers = cluster.start_workers(1)
    config = source_config(unique_topic, str(tmp_path / "out.jsonl"), 1)
    assert workers[0].put("/connectors/s/config", config).status_code == 201
    wait_for(lambda: all_running(workers[0], "s", 1), 60, "s RUNNING")
    unsigned = workers[0].post("/connectors/s/tasks", [{"topic": "stolen"}])
    assert unsigned.status_code == 400, unsigned.text
    assert "signature" in unsigned.json()["message"]
    forged = workers[0].session.post(
        workers[0].rest_url + "/connectors/s/tasks",
        json=[{"topic": "stolen"}],
        headers={
            "X-Connect-Authorization": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "X-Connect-Request-Signature-Algorithm": "HmacSHA256",
        },
        timeout=30,
    )
    assert forged.status_code == 403, forged.text
    task_configs = workers[0].get("/connectors/s/tasks")
    assert all(t["config"].get("topic") == unique_topic for t in task_configs)


def test_restarts_offsets_and_health_through_any_worker(cluster, unique_topic, tmp_path):
    workers = cluster.start_workers(2)
    output = tmp_path / "out.jsonl"
    config = source_config(unique_topic, str(output), 2, 20)
    assert workers[0].put("/connectors/r/config", config).status_code == 201
    status = wait_for(lambda: all_running(workers[0], "r", 2), 90, "r RUNNING")
    for worker in workers:
        assert worker.request("GET", "/health").status_code == 200
    # A task restart sent to a worker that does not run the task is forwarded to its owner.
    owner = status["tasks"][0]["worker_id"]
    other = next(w for w in workers if w.worker_id != owner)
    restarted = other.post("/connectors/r/tasks/0/restart")
    assert restarted.status_code == 204, restarted.text
    owner_worker = next(w for w in workers if w.worker_id == owner)
    wait_for(
        lambda: owner_worker.log_text().count("{id=r-0} Task started") == 2,
        30,
        "task r-0 restarted on its owner",
    )
    missing = other.post("/connectors/r/tasks/7/restart")
    assert missing.status_code == 404, missing.text
    # Restart of connector and tasks, through either worker: 202 with RESTARTING planned.
    answer = workers[1].post("/connectors/r/restart", includeTasks="true")
    assert answer.status_code == 202, answer.text
    assert answer.json()["connector"]["state"] == "RESTARTING"
    assert {t["state"] for t in answer.json()["tasks"]} == {"RESTARTING"}
    wait_for(lambda: all_running(workers[0], "r", 2), 60, "r RUNNING after the restart")
    # Offsets: stop, rewrite through a follower or the leader, resume from there.
    assert workers[1].put("/connectors/r/stop").status_code == 204
    wait_for(
        lambda: (
            workers[0].get("/connectors/r/status")["connector"]["state"] == "STOPPED"
            and workers[0].get("/connectors/r/status")["tasks"] == []
        ),
        60,
        "r STOPPED",
    )
    # The tasks commit their last offsets as they stop: wait until the offsets stand still.
    seen: list = []

    def settled() -> list | None:
        seen.append(workers[0].get("/connectors/r/offsets")["offsets"])
        return seen[-1] if len(seen) > 1 and seen[-1] == seen[-2] else None

    offsets = wait_for(settled, 30, "offsets to settle", interval_s=1.0)
    assert {o["partition"]["id"] for o in offsets} == {0, 1}
    patched = workers[1].request(
        "PATCH",
        "/connectors/r/offsets",
        {"offsets": [{"partition": {"id": 0}, "offset": {"seqno": 100000}}]},
    )
    assert patched.status_code == 200, patched.text
    assert sorted(
        workers[0].get("/connectors/r/offsets")["offsets"], key=lambda o: o["partition"]["id"]
    ) == sorted(
        [
            {"partition": {"id": 0}, "offset": {"seqno": 100000}},
            *[o for o in offsets if o["partition"]["id"] == 1],
        ],
        key=lambda o: o["partition"]["id"],
    )
    assert workers[0].put("/connectors/r/resume").status_code == 202
    wait_for(
        # wait_for counts the KeyError before task 0 reports as not yet.
        lambda: max(verifiable_seqnos(output)[0].seqnos) >= 100001,
        60,
        "task 0 resumed after the altered offset",
    )


def test_active_topics_are_shared_through_the_status_topic(cluster, unique_topic, tmp_path):
    workers = cluster.start_workers(2)
    config = source_config(unique_topic, str(tmp_path / "out.jsonl"), 1, 20)
    assert workers[0].put("/connectors/t/config", config).status_code == 201
    status = wait_for(lambda: all_running(workers[0], "t", 1), 90, "t RUNNING")
    elsewhere = next(w for w in workers if w.worker_id != status["tasks"][0]["worker_id"])
    wait_for(
        lambda: elsewhere.get("/connectors/t/topics") == {"t": {"topics": [unique_topic]}},
        30,
        "the topic listed by a worker that does not run the task",
    )


def test_eager_protocol_cluster_spreads_and_fails_over(tmp_path, bootstrap_servers, unique_topic):
    cluster = DistributedCluster(
        tmp_path,
        bootstrap_servers,
        group_id=f"eager-{uuid.uuid4().hex[:8]}",
        extra={"connect.protocol": "eager"},
    )
    try:
        workers = cluster.start_workers(2)
        output = tmp_path / "out.jsonl"
        config = source_config(unique_topic, str(output), 4, 20)
        assert workers[0].put("/connectors/e/config", config).status_code == 201
        status = wait_for(lambda: all_running(workers[1], "e", 4), 90, "e RUNNING")
        counts = spread({t["id"]: t["worker_id"] for t in status["tasks"]}, workers)
        assert counts == [2, 2], status
        assert "with protocol 'default'" in workers[0].log_text()
        workers[0].kill()
        wait_for(
            lambda: (
                (s := all_running(workers[1], "e", 4))
                and {t["worker_id"] for t in s["tasks"]} == {workers[1].worker_id}
            ),
            60,
            "every task on the survivor",
        )
        for task, seen in verifiable_seqnos(output).items():
            assert not seen.gaps, f"task {task} lost {seen.gaps[:10]}"
    finally:
        cluster.stop_all()


def test_automatic_task_restarts_run_in_a_cluster(cluster, unique_topic, tmp_path):
    workers = cluster.start_workers(2)
    target = tmp_path / "not-yet" / "out.txt"
    config = {
        "connector.class": "FileStreamSink",
        "tasks.max": "1",
        "topics": unique_topic,
        "file": str(target),
        "kconnect.task.restart.auto.enable": "true",
        "kconnect.task.restart.max.attempts": "2",
        "kconnect.task.restart.backoff.initial.ms": "200",
    }
    assert workers[0].put("/connectors/a/config", config).status_code == 201

    def gave_up() -> dict | None:
        # The restart count lives on the worker running the task (it is not in the status topic).
        for worker in workers:
            task = worker.get("/connectors/a/status")["tasks"]
            if task and task[0]["state"] == "FAILED" and task[0].get("restart_attempts") == 2:
                return task[0]
        return None

    failed = wait_for(gave_up, 60, "two automatic restarts, then FAILED")
    assert "not-yet" in failed["trace"]
    target.parent.mkdir()
    assert workers[1].post("/connectors/a/tasks/0/restart").status_code == 204
    wait_for(lambda: all_running(workers[0], "a", 1), 60, "a RUNNING after a manual restart")
