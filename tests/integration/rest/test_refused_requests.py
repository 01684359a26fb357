"""Requests a running standalone worker must refuse, and must survive: task ids the connector
does not have (also under concurrent reconfiguration), connector names REST could not address,
malformed offsets, a tasks.max above the worker's limit. Real worker process, real broker."""

from __future__ import annotations

import collections
import json
import random
import threading
from urllib.parse import quote

import requests
from kconnect.runtime.connector_names import MAX_NAME_LENGTH

from .conftest import wait_for


def verifiable(topic: str, tasks: int) -> dict[str, str]:
    return {
        "connector.class": "VerifiableSource",
        "topic": topic,
        "throughput": "20",
        "tasks.max": str(tasks),
    }


def url_name(name: str) -> str:
    return quote(name, safe="")


# -- task ids --------------------------------------------------------------------------------------
def test_task_ids_outside_the_connectors_tasks_are_404_and_start_nothing(worker, unique_topic):
    assert worker.request(
        "PUT", "/connectors/v/config", json=verifiable(unique_topic, 2)
    ).status_code in (200, 201)
    worker.wait_state("v", "RUNNING", ["RUNNING", "RUNNING"])
    for task in (-1, 2, 99):
        restart = worker.request("POST", f"/connectors/v/tasks/{task}/restart")
        assert restart.status_code == 404, restart.text
        assert restart.json() == {"error_code": 404, "message": f"Task v-{task} not found"}
        status = worker.get(f"/connectors/v/tasks/{task}/status")
        assert status.json() == {"error_code": 404, "message": f"No status found for task v-{task}"}
    assert worker.request("POST", "/connectors/v/tasks/1/restart").status_code == 204
    # tasks.max 2 -> 1: task 1 is gone, its restart and status are 404 at once.
    assert (
        worker.request("PUT", "/connectors/v/config", json=verifiable(unique_topic, 1)).status_code
        == 200
    )
    worker.wait_state("v", "RUNNING", ["RUNNING"])
    assert worker.request("POST", "/connectors/v/tasks/1/restart").status_code == 404
    assert worker.get("/connectors/v/tasks/1/status").status_code == 404
    # STOPPED: no tasks at all (a 500 IndexError before).
    assert worker.request("PUT", "/connectors/v/stop").status_code == 204
    worker.wait_state("v", "STOPPED", [])
    for task in (-1, 0):
        assert worker.request("POST", f"/connectors/v/tasks/{task}/restart").status_code == 404
    assert "v--1" not in worker.log.read_text()


def test_restarts_racing_reconfigurations_never_answer_500(worker, unique_topic):
    """10 clients x 100 requests: task restarts (existing, removed, negative ids), connector
    restarts with tasks, status reads, tasks.max changes, stop/resume. Every answer is a 2xx,
    404 or 409; the worker stays healthy."""
    assert worker.request(
        "PUT", "/connectors/race/config", json=verifiable(unique_topic, 3)
    ).status_code in (200, 201)
    worker.wait_state("race", "RUNNING", ["RUNNING"] * 3)
    codes: collections.Counter[tuple[str, int]] = collections.Counter()
    bad: list[str] = []
    lock = threading.Lock()

    def client(seed: int) -> None:
        rnd = random.Random(seed)
        session = requests.Session()
        for _ in range(100):
            pick = rnd.random()
            if pick < 0.35:
                kind, method = "task-restart", "POST"
                path = f"/connectors/race/tasks/{rnd.randint(-1, 4)}/restart"
            elif pick < 0.6:
                kind, method = "restart", "POST"
                flag = rnd.choice(["true", "false"])
                path = f"/connectors/race/restart?includeTasks=true&onlyFailed={flag}"
            elif pick < 0.72:
                kind, method = "task-status", "GET"
                path = f"/connectors/race/tasks/{rnd.randint(-1, 4)}/status"
            elif pick < 0.77:
                kind, method = "state", "PUT"
                path = f"/connectors/race/{rnd.choice(['stop', 'resume', 'pause'])}"
            else:
                kind, method = "config", "PUT"
                path = "/connectors/race/config"
            body = verifiable(unique_topic, rnd.randint(1, 4)) if kind == "config" else None
            answer = session.request(method, worker.url + path, json=body, timeout=60)
            with lock:
                codes[(kind, answer.status_code)] += 1
                if answer.status_code >= 500 or answer.status_code not in (
                    200,
                    201,
                    202,
                    204,
                    404,
                    409,
                ):
                    bad.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not any(thread.is_alive() for thread in threads)
    assert sum(codes.values()) == 1000
    assert bad == [], f"{len(bad)} bad answers, e.g. {bad[:5]}; all: {dict(codes)}"
    # Each kind of request was both served and refused along the way.
    assert codes[("task-restart", 204)] and codes[("task-restart", 404)], dict(codes)
    assert worker.request("PUT", "/connectors/race/resume").status_code == 202
    assert (
        worker.request(
            "PUT", "/connectors/race/config", json=verifiable(unique_topic, 2)
        ).status_code
        == 200
    )
    worker.wait_state("race", "RUNNING", ["RUNNING", "RUNNING"], timeout=60)
    assert "race--1" not in worker.log.read_text()


# -- names -----------------------------------------------------------------------------------------
ODD_NAMES = [
    "ünï cödé ☃",
    "with space",
    "50% off",
    "what?",
    "#1",
    "a+b",
    "a..b",
    "..hidden",
    "😀",
    "q=1&r=2",
    " padded ",
    "é" * MAX_NAME_LENGTH,
]


def test_every_name_that_can_be_created_can_be_read_changed_and_deleted(worker, tmp_path):
    source = {"connector.class": "FileStreamSource", "topic": "names", "file": str(tmp_path / "x")}
    for i, name in enumerate(ODD_NAMES):
        path = f"/connectors/{url_name(name)}"
        if i % 2:
            created = worker.request("PUT", path + "/config", json=source)
        else:
            created = worker.request("POST", "/connectors", json={"name": name, "config": source})
            name = name.strip()  # POST trims the name, as Kafka does
            path = f"/connectors/{url_name(name)}"
        assert created.status_code == 201, (name, created.text)
        assert created.json()["name"] == name
        assert worker.get(path).json()["name"] == name
        assert worker.get(path + "/status").status_code == 200
        changed = worker.request("PUT", path + "/config", json={**source, "topic": "names2"})
        assert (changed.status_code, changed.json()["config"]["topic"]) == (200, "names2")
        patched = worker.request("PATCH", path + "/config", json={"tasks.max": "1"})
        assert patched.status_code == 200, patched.text
        assert name in worker.get("/connectors").json()
        assert worker.request("PUT", path + "/stop").status_code == 204
        assert worker.request("DELETE", path).status_code == 204
        assert worker.get(path).status_code == 404
    assert worker.get("/connectors").json() == []


def test_names_rest_could_not_address_are_refused_with_400(worker, tmp_path):
    source = {"connector.class": "FileStreamSource", "topic": "names", "file": str(tmp_path / "x")}
    cases = {
        "a/b": "Connector names may not contain '/'",
        "../../etc": "Connector names may not contain '/'",
        "x" * 10_000: f"at most {MAX_NAME_LENGTH} characters",
        "a\nb": "String may not contain control sequences but had the following ASCII chars: 10",
        "tab\there": "ASCII chars: 9",
        "nul\x00": "ASCII chars: 0",
        "..": "may not be '.' or '..'",
    }
    for name, reason in cases.items():
        answer = worker.request("POST", "/connectors", json={"name": name, "config": source})
        assert answer.status_code == 400, (name, answer.text)
        assert reason in answer.json()["message"]
    for path_name, reason in {
        "": "String may not be empty",
        "%20": "String may not be empty",
        "a%0Ab": "ASCII chars: 10",
        "a%2Fb": "may not contain '/'",
        "y" * 300: f"at most {MAX_NAME_LENGTH} characters",
    }.items():
        answer = worker.request("PUT", f"/connectors/{path_name}/config", json=source)
        assert answer.status_code == 400, (path_name, answer.text)
        assert reason in answer.json()["message"]
    assert worker.get("/connectors").json() == []
    assert "\nb" not in worker.log.read_text()


def test_stored_invalid_names_load_are_reported_and_can_be_deleted(worker_factory, tmp_path):
    """A config file written before the rules: the connectors run, each invalid name is logged
    on one line, and REST can delete them (the '/' ones through %2F)."""
    config = {"connector.class": "FileStreamSource", "topic": "old", "file": str(tmp_path / "x")}
    names = ["a/b", "../../etc", "line\nbreak"]
    stored = {
        "connectors": {
            name: {"config": {**config, "name": name}, "target_state": "STARTED", "tasks": []}
            for name in names
        }
    }
    (tmp_path / "connect.configs").write_text(json.dumps(stored))
    worker = worker_factory()
    assert sorted(worker.get("/connectors").json()) == sorted(names)
    wait_for(
        lambda: all(
            worker.get(f"/connectors/{url_name(n)}/status").json()["connector"]["state"]
            == "RUNNING"
            for n in names
        ),
        30,
        what="the stored connectors to run",
    )
    log = worker.log.read_text()
    assert "Connector name 'a/b' is invalid: Connector names may not contain '/'" in log
    assert "Connector name 'line\\nbreak' is invalid: String may not contain control" in log
    for name in names:
        assert worker.request("DELETE", f"/connectors/{url_name(name)}").status_code == 204
    assert worker.get("/connectors").json() == []


def test_connector_file_with_a_bad_name_stops_the_worker_naming_file_and_rule(
    worker_factory, tmp_path
):
    bad = tmp_path / "bad.properties"
    bad.write_text("name=../../etc\nconnector.class=FileStreamSource\ntopic=t\n")
    worker = worker_factory(connector_files=[bad], start=False)
    try:
        worker.start(timeout=30)
    except AssertionError as error:
        message = str(error)
    else:
        raise AssertionError("the worker started with an invalid connector name")
    assert str(bad) in message
    assert "Invalid value ../../etc for configuration name: Connector names may not contain" in (
        message
    )


# -- offsets ---------------------------------------------------------------------------------------
def test_bad_offsets_are_400_naming_the_field(worker, tmp_path, kafka_cluster, unique_topic):
    kafka_cluster.create_topic(unique_topic, partitions=2)
    sink = {
        "connector.class": "FileStreamSink",
        "topics": unique_topic,
        "file": str(tmp_path / "out"),
    }
    source = {"connector.class": "FileStreamSource", "topic": "t", "file": str(tmp_path / "in")}
    # The sink's offsets are its consumer group's (connect-<name>), and the broker is shared by
    # the whole test session: a name of its own keeps other tests' "sink" offsets out.
    sink_name = f"sink-{unique_topic[-8:]}"
    for name, config in ((sink_name, sink), ("src", source)):
        assert worker.request("PUT", f"/connectors/{name}/config", json=config).status_code == 201
        assert worker.request("PUT", f"/connectors/{name}/stop").status_code == 204
        worker.wait_state(name, "STOPPED", [])

    def sink_offset(topic: object, partition: object, offset: object) -> dict:
        return {
            "offsets": [
                {
                    "partition": {"kafka_topic": topic, "kafka_partition": partition},
                    "offset": {"kafka_offset": offset},
                }
            ]
        }

    sink_cases = [
        (sink_offset(unique_topic, -1, 5), "Kafka partitions must be between 0 and 2147483647"),
        (sink_offset(unique_topic, 0, -7), "'kafka_offset' for " + unique_topic + "-0 is -7"),
        (sink_offset("", 0, 5), "in 'kafka_topic': Kafka topic names may not be empty"),
        (sink_offset(unique_topic, "one", 5), "Partition values for sink connectors need to be"),
        (sink_offset(unique_topic, 0, "x"), "Offset values for sink connectors need to be"),
        (sink_offset("no-such-topic-" + unique_topic, 0, 5), "does not exist"),
        (sink_offset(unique_topic, 2, 5), "the topic has 2 partition(s)"),
    ]
    for body, message in sink_cases:
        answer = worker.request("PATCH", f"/connectors/{sink_name}/offsets", json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert message in answer.json()["message"], answer.text
    ok = worker.request(
        "PATCH", f"/connectors/{sink_name}/offsets", json=sink_offset(unique_topic, 1, 3)
    )
    assert ok.status_code == 200, ok.text
    offsets = worker.get(f"/connectors/{sink_name}/offsets").json()["offsets"]
    assert offsets == [
        {
            "partition": {"kafka_topic": unique_topic, "kafka_partition": 1},
            "offset": {"kafka_offset": 3},
        }
    ]
    for position, message in (
        (-5, "should be a non-negative value"),
        ("abc", "expected to be a Long value"),
        (1e30, "expected to be a Long value"),
    ):
        body = {
            "offsets": [
                {"partition": {"filename": source["file"]}, "offset": {"position": position}}
            ]
        }
        answer = worker.request("PATCH", "/connectors/src/offsets", json=body)
        assert answer.status_code == 400, (position, answer.text)
        assert "'position'" in answer.json()["message"] and message in answer.json()["message"]
    assert worker.request("DELETE", "/connectors/src/offsets").status_code == 200
    assert "Traceback" not in worker.log.read_text()


# -- tasks.max -------------------------------------------------------------------------------------
def test_tasks_max_above_the_worker_limit_is_refused(worker_factory, unique_topic):
    worker = worker_factory({"tasks.max.limit": "4"})
    answer = worker.request("PUT", "/connectors/big/config", json=verifiable(unique_topic, 300))
    assert answer.status_code == 400
    assert "Invalid value 300 for configuration tasks.max" in answer.json()["message"]
    assert "tasks.max.limit=4" in answer.json()["message"]
    validate = worker.request(
        "PUT",
        "/connector-plugins/VerifiableSource/config/validate",
        json={**verifiable("t", 5), "name": "big"},
    ).json()
    assert validate["error_count"] == 1
    assert worker.get("/connectors").json() == []
    ok = worker.request("PUT", "/connectors/big/config", json=verifiable(unique_topic, 4))
    assert ok.status_code == 201
    worker.wait_state("big", "RUNNING", ["RUNNING"] * 4)
