"""A cluster refuses what a standalone worker refuses: task ids the connector does not have are
404 in Kafka's distributed words (on the worker that got the request or the one it forwards to),
and names REST could not address are 400, whichever worker is asked."""

from __future__ import annotations

import uuid

import pytest
from kconnect.testing.distributed_worker import DistributedCluster, all_running, wait_for
from kconnect.testing.distributed_worker import verifiable_source_config as source_config


@pytest.fixture
def cluster(tmp_path, bootstrap_servers):
    cluster = DistributedCluster(tmp_path, bootstrap_servers, group_id=f"g-{uuid.uuid4().hex[:8]}")
    yield cluster
    cluster.stop_all()


def test_task_ids_and_names_are_refused_by_every_worker(cluster, tmp_path, unique_topic):
    w1, w2 = cluster.start_workers(2)
    config = source_config(unique_topic, str(tmp_path / "seqnos"), tasks=2)
    assert w1.put("/connectors/v/config", config).status_code == 201
    wait_for(lambda: all_running(w2, "v", 2), 90, "2 tasks running")
    for worker in (w1, w2):
        for task in (-1, 2):
            restart = worker.post(f"/connectors/v/tasks/{task}/restart")
            assert restart.status_code == 404, restart.text
            status = worker.request("GET", f"/connectors/v/tasks/{task}/status")
            assert status.json() == {
                "error_code": 404,
                "message": f"No status found for task v-{task}",
            }
        assert worker.post("/connectors/v/tasks/1/restart").status_code == 204
    # The herder's own 404 (task 2 exists in no snapshot), as Kafka's distributed herder says it.
    assert w2.post("/connectors/v/tasks/2/restart").json()["message"] == "Unknown task: v-2"
    assert w1.request("GET", "/connectors/v/tasks/-1/status").status_code == 404

    for worker in (w1, w2):
        for name, reason in (
            ("a/b", "Connector names may not contain '/'"),
            ("a\nb", "String may not contain control sequences"),
            ("z" * 1000, "characters long"),
        ):
            answer = worker.post("/connectors", {"name": name, "config": config})
            assert answer.status_code == 400, answer.text
            assert reason in answer.json()["message"]
        empty = worker.put("/connectors/%20/config", config)
        assert empty.status_code == 400
        assert "String may not be empty" in empty.json()["message"]
    assert w1.get("/connectors") == ["v"]
    odd = "ünï ☃ 50%?#+a..b"
    encoded = "/connectors/" + "%C3%BCn%C3%AF%20%E2%98%83%2050%25%3F%23%2Ba..b"
    assert w2.put(encoded + "/config", config).status_code == 201
    assert w1.get(encoded)["name"] == odd
    assert w1.delete(encoded).status_code == 204
