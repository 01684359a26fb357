"""``/connectors`` endpoints through falcon.testing, against the in-memory herder."""

from __future__ import annotations

from falcon import testing

from tests.unit.rest.conftest import SOURCE_CONFIG, FakeHerder, make_client

JSON = {"Content-Type": "application/json"}


def create(
    client: testing.TestClient, name: str = "local-console-source", **extra
) -> testing.Result:
    return client.simulate_post(
        "/connectors", json={"name": name, "config": dict(SOURCE_CONFIG), **extra}
    )


def test_seed_example_creates_connector_with_201_and_location(client):
    result = create(client)
    assert result.status_code == 201
    assert result.headers["location"] == "/connectors/local-console-source"
    assert result.json["name"] == "local-console-source"
    assert result.json["config"]["name"] == "local-console-source"
    assert result.json["tasks"] == [{"connector": "local-console-source", "task": 0}]
    assert result.json["type"] == "source"


def test_create_twice_is_409(client):
    create(client)
    result = create(client)
    assert result.status_code == 409
    assert result.json == {
        "error_code": 409,
        "message": "Connector local-console-source already exists",
    }


def test_create_with_initial_state(client, herder: FakeHerder):
    for name, state, expected in (
        ("a", "PAUSED", "PAUSED"),
        ("b", "stopped", "STOPPED"),
        ("c", "RUNNING", "RUNNING"),
    ):
        assert create(client, name, initial_state=state).status_code == 201
        assert (
            client.simulate_get(f"/connectors/{name}/status").json["connector"]["state"] == expected
        )


def test_create_with_unknown_initial_state_is_400(client):
    result = create(client, initial_state="SLEEPING")
    assert result.status_code == 400
    assert "initial_state" in result.json["message"]


def test_create_name_mismatch_is_400(client):
    result = client.simulate_post(
        "/connectors", json={"name": "a", "config": {**SOURCE_CONFIG, "name": "b"}}
    )
    assert result.status_code == 400
    assert result.json["message"] == (
        "Connector name configuration (b) doesn't match connector name in the URL (a)"
    )


def test_create_trims_name_and_needs_config(client):
    assert client.simulate_post("/connectors", json={"name": "x"}).status_code == 400
    result = client.simulate_post(
        "/connectors", json={"name": "  spaced  ", "config": dict(SOURCE_CONFIG)}
    )
    assert result.status_code == 201
    assert result.json["name"] == "spaced"


def test_create_with_numbers_and_booleans_as_strings(client, herder: FakeHerder):
    result = client.simulate_post(
        "/connectors",
        json={"name": "n", "config": {**SOURCE_CONFIG, "tasks.max": 2, "x.flag": True}},
    )
    assert result.status_code == 201
    assert herder.configs["n"]["tasks.max"] == "2" and herder.configs["n"]["x.flag"] == "true"


def test_create_wrong_content_type_is_415(client):
    result = client.simulate_post(
        "/connectors", body="name=x", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert result.status_code == 415
    assert result.json == {"error_code": 415, "message": "HTTP 415 Unsupported Media Type"}


def test_create_malformed_json_is_400(client):
    result = client.simulate_post("/connectors", body="{not json", headers=JSON)
    assert result.status_code == 400
    assert result.json["error_code"] == 400


def test_create_invalid_config_from_herder_is_400(client):
    result = client.simulate_post("/connectors", json={"name": "x", "config": {"tasks.max": "1"}})
    assert result.status_code == 400
    assert "no connector type" in result.json["message"]


def test_list_and_expand(client):
    create(client, "b")
    create(client, "a")
    assert client.simulate_get("/connectors").json == ["a", "b"]
    status = client.simulate_get("/connectors", params={"expand": "status"}).json
    assert set(status) == {"a", "b"} and set(status["a"]) == {"status"}
    assert status["a"]["status"]["connector"]["state"] == "RUNNING"
    both = client.simulate_get("/connectors?expand=status&expand=info").json
    assert set(both["a"]) == {"status", "info"}
    assert both["b"]["info"]["name"] == "b"
    assert client.simulate_get("/connectors?expand=bogus").json == {"a": {}, "b": {}}


def test_get_connector_and_404(client):
    create(client, "a")
    assert client.simulate_get("/connectors/a").json["name"] == "a"
    result = client.simulate_get("/connectors/nope")
    assert result.status_code == 404
    assert result.json == {"error_code": 404, "message": "Connector nope not found"}


def test_config_get_put_patch(client, herder: FakeHerder):
    created = client.simulate_put("/connectors/a/config", json=dict(SOURCE_CONFIG))
    assert created.status_code == 201
    assert created.headers["location"] == "/connectors/a"
    updated = client.simulate_put("/connectors/a/config", json={**SOURCE_CONFIG, "topic": "t2"})
    assert updated.status_code == 200
    assert "location" not in updated.headers
    assert client.simulate_get("/connectors/a/config").json["topic"] == "t2"
    patched = client.simulate_patch(
        "/connectors/a/config", json={"topic": None, "batch.size": "10"}
    )
    assert patched.status_code == 200
    assert "topic" not in patched.json["config"] and patched.json["config"]["batch.size"] == "10"
    assert client.simulate_patch("/connectors/zz/config", json={"a": "b"}).status_code == 404
    mismatch = client.simulate_put("/connectors/a/config", json={**SOURCE_CONFIG, "name": "other"})
    assert mismatch.status_code == 400
    assert client.simulate_get("/connectors/zz/config").status_code == 404


def test_config_put_rejects_non_object_and_nested_values(client):
    assert client.simulate_put("/connectors/a/config", json=["x"]).status_code == 400
    assert client.simulate_put("/connectors/a/config", json={"x": {"y": 1}}).status_code == 400


def test_status_tasks_and_task_status(client):
    create(client, "a")
    status = client.simulate_get("/connectors/a/status").json
    assert status == {
        "name": "a",
        "connector": {"state": "RUNNING", "worker_id": "127.0.0.1:8083"},
        "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "127.0.0.1:8083"}],
        "type": "source",
    }
    tasks = client.simulate_get("/connectors/a/tasks").json
    assert tasks[0]["id"] == {"connector": "a", "task": 0}
    assert tasks[0]["config"]["task.class"] == "x.Task"
    assert client.simulate_get("/connectors/a/tasks/0/status").json["state"] == "RUNNING"
    missing = client.simulate_get("/connectors/a/tasks/7/status")
    assert missing.status_code == 404
    assert missing.json["message"] == "No status found for task a-7"
    assert client.simulate_get("/connectors/a/tasks/x/status").status_code == 404
    assert client.simulate_get("/connectors/nope/status").status_code == 404
    assert client.simulate_get("/connectors/nope/tasks").status_code == 404


def test_restart_forms(client, herder: FakeHerder):
    create(client, "a")
    plain = client.simulate_post("/connectors/a/restart")
    assert plain.status_code == 204 and plain.content == b""
    full = client.simulate_post(
        "/connectors/a/restart", params={"includeTasks": "true", "onlyFailed": "false"}
    )
    assert full.status_code == 202
    assert full.json["connector"]["state"] == "RESTARTING"
    assert full.json["tasks"][0]["state"] == "RESTARTING"
    assert herder.calls[-1] == ("restart", "a", True, False)
    only_failed = client.simulate_post("/connectors/a/restart?onlyFailed=TRUE")
    assert only_failed.status_code == 202
    assert herder.calls[-1] == ("restart", "a", False, True)
    assert client.simulate_post("/connectors/nope/restart").status_code == 404


def test_task_restart(client, herder: FakeHerder):
    create(client, "a")
    result = client.simulate_post("/connectors/a/tasks/0/restart")
    assert result.status_code == 204
    assert herder.calls[-1] == ("restart_task", "a", 0)
    assert client.simulate_post("/connectors/a/tasks/3/restart").status_code == 404


def test_pause_resume_stop(client):
    create(client, "a")
    paused = client.simulate_put("/connectors/a/pause")
    assert paused.status_code == 202 and paused.content == b""
    assert client.simulate_get("/connectors/a/status").json["connector"]["state"] == "PAUSED"
    assert client.simulate_put("/connectors/a/pause").status_code == 202  # idempotent
    assert client.simulate_put("/connectors/a/resume").status_code == 202
    assert client.simulate_get("/connectors/a/status").json["connector"]["state"] == "RUNNING"
    stopped = client.simulate_put("/connectors/a/stop")
    assert stopped.status_code == 204
    assert client.simulate_get("/connectors/a/status").json == {
        "name": "a",
        "connector": {"state": "STOPPED", "worker_id": "127.0.0.1:8083"},
        "tasks": [],
        "type": "source",
    }
    for action in ("pause", "resume", "stop"):
        assert client.simulate_put(f"/connectors/nope/{action}").status_code == 404


def test_delete(client):
    create(client, "a")
    result = client.simulate_delete("/connectors/a")
    assert result.status_code == 204
    assert client.simulate_get("/connectors").json == []
    assert client.simulate_delete("/connectors/a").status_code == 404


def test_herder_timeout_is_500_with_message(client, herder: FakeHerder):
    create(client, "a")
    herder.stuck = True
    result = client.simulate_put("/connectors/a/stop")
    assert result.status_code == 500
    assert result.json["error_code"] == 500
    assert "timed out" in result.json["message"]


def test_active_topics_and_reset(client, herder: FakeHerder):
    create(client, "a")
    herder.topics["a"] = ["t1", "t2"]
    assert client.simulate_get("/connectors/a/topics").json == {"a": {"topics": ["t1", "t2"]}}
    reset = client.simulate_put("/connectors/a/topics/reset")
    assert reset.status_code == 202
    assert client.simulate_get("/connectors/a/topics").json == {"a": {"topics": []}}
    assert client.simulate_get("/connectors/nope/topics").status_code == 404


def test_active_topics_forbidden_when_tracking_is_off(herder: FakeHerder):
    herder.configs["a"] = dict(SOURCE_CONFIG)
    from kconnect.runtime.states import TargetState

    herder.targets["a"] = TargetState.STARTED
    off = make_client(herder, **{"topic.tracking.enable": False})
    result = off.simulate_get("/connectors/a/topics")
    assert result.status_code == 403
    assert result.json == {"error_code": 403, "message": "Topic tracking is disabled."}
    assert off.simulate_put("/connectors/a/topics/reset").status_code == 403
    no_reset = make_client(herder, **{"topic.tracking.allow.reset": False})
    assert no_reset.simulate_get("/connectors/a/topics").status_code == 200
    result = no_reset.simulate_put("/connectors/a/topics/reset")
    assert result.status_code == 403
    assert result.json["message"] == "Topic tracking reset is disabled."
