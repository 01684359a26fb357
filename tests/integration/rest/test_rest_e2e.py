"""End to end: connect-standalone under gunicorn over HTTP on loopback, a real Kafka broker,
the file connectors, and every lifecycle call a user makes."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import orjson

from tests.integration.rest.conftest import wait_for

SOURCE_CLASS = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK_CLASS = "org.apache.kafka.connect.file.FileStreamSinkConnector"


def write_lines(path: Path, first: int, last: int, mode: str = "w") -> None:
    with open(path, mode) as f:
        f.writelines(f"line-{n}\n" for n in range(first, last + 1))


def create_source(worker, name: str, path: Path, topic: str, **extra) -> dict:
    result = worker.request(
        "POST",
        "/connectors",
        json={
            "name": name,
            "config": {
                "connector.class": SOURCE_CLASS,
                "tasks.max": "1",
                "file": str(path),
                "topic": topic,
            },
            **extra,
        },
    )
    assert result.status_code == 201, result.text
    return result.json()


def test_source_lifecycle_create_status_restart_delete(
    worker, tmp_path, unique_topic, topic_reader
):
    source = tmp_path / "in.txt"
    write_lines(source, 1, 20)
    info = create_source(worker, "src", source, unique_topic)
    assert info["type"] == "source" and info["config"]["name"] == "src"
    reader = topic_reader(unique_topic)
    worker.wait_state("src", "RUNNING", ["RUNNING"])
    assert reader.wait_count(20) == [f"line-{n}" for n in range(1, 21)]

    assert worker.get("/connectors").json() == ["src"]
    expanded = worker.get("/connectors?expand=status&expand=info").json()
    assert expanded["src"]["status"]["connector"]["state"] == "RUNNING"
    assert expanded["src"]["info"]["tasks"] == [{"connector": "src", "task": 0}]
    tasks = worker.get("/connectors/src/tasks").json()
    assert tasks[0]["config"]["task.class"].endswith("FileStreamSourceTask")
    assert worker.get("/connectors/src/tasks/0/status").json()["state"] == "RUNNING"
    again = worker.request(
        "POST",
        "/connectors",
        json={"name": "src", "config": {"connector.class": SOURCE_CLASS, "topic": unique_topic}},
    )
    assert again.status_code == 409

    assert worker.request("POST", "/connectors/src/restart").status_code == 204
    restarted = worker.request("POST", "/connectors/src/restart?includeTasks=true")
    assert restarted.status_code == 202
    assert restarted.json()["connector"]["state"] == "RESTARTING"
    assert restarted.json()["tasks"][0]["state"] == "RESTARTING"
    worker.wait_state("src", "RUNNING", ["RUNNING"])
    assert worker.request("POST", "/connectors/src/tasks/0/restart").status_code == 204
    worker.wait_state("src", "RUNNING", ["RUNNING"])
    # Restarts resume from the committed offsets: nothing is copied twice.
    time.sleep(1.5)
    assert len(reader.poll(0.5)) == 20

    offsets = worker.get("/connectors/src/offsets").json()
    assert offsets == {
        "offsets": [
            {"partition": {"filename": str(source)}, "offset": {"position": source.stat().st_size}}
        ]
    }

    assert worker.request("DELETE", "/connectors/src").status_code == 204
    assert worker.get("/connectors/src").status_code == 404
    assert worker.get("/connectors").json() == []


def test_pause_holds_records_and_resume_delivers_the_rest(
    worker, tmp_path, unique_topic, topic_reader
):
    source = tmp_path / "in.txt"
    write_lines(source, 1, 50)
    create_source(worker, "paused-src", source, unique_topic)
    reader = topic_reader(unique_topic)
    reader.wait_count(50)

    assert worker.request("PUT", "/connectors/paused-src/pause").status_code == 202
    worker.wait_state("paused-src", "PAUSED", ["PAUSED"])
    write_lines(source, 51, 120, mode="a")
    time.sleep(3)
    assert len(reader.poll(1.0)) == 50, "records reached the topic while the connector was PAUSED"

    assert worker.request("PUT", "/connectors/paused-src/resume").status_code == 202
    worker.wait_state("paused-src", "RUNNING", ["RUNNING"])
    values = reader.wait_count(120)
    time.sleep(1)
    values = reader.poll(0.5)
    assert values == [f"line-{n}" for n in range(1, 121)], "records were lost or duplicated"


def test_stop_alter_offsets_resume_restarts_from_new_offset(
    worker, tmp_path, unique_topic, topic_reader
):
    source = tmp_path / "in.txt"
    write_lines(source, 1, 10)
    create_source(worker, "rewind", source, unique_topic)
    reader = topic_reader(unique_topic)
    reader.wait_count(10)
    wait_for(
        lambda: worker.get("/connectors/rewind/offsets").json()["offsets"], what="committed offsets"
    )

    not_stopped = worker.request(
        "PATCH",
        "/connectors/rewind/offsets",
        json={"offsets": [{"partition": {"filename": str(source)}, "offset": {"position": 0}}]},
    )
    assert not_stopped.status_code == 400
    assert "STOPPED" in not_stopped.json()["message"]

    assert worker.request("PUT", "/connectors/rewind/stop").status_code == 204
    worker.wait_state("rewind", "STOPPED", [])
    assert worker.get("/connectors/rewind").json()["tasks"] == []
    position_after_line_5 = len("".join(f"line-{n}\n" for n in range(1, 6)).encode())
    altered = worker.request(
        "PATCH",
        "/connectors/rewind/offsets",
        json={
            "offsets": [
                {
                    "partition": {"filename": str(source)},
                    "offset": {"position": position_after_line_5},
                }
            ]
        },
    )
    assert altered.status_code == 200, altered.text
    assert "altered successfully" in altered.json()["message"]
    assert worker.get("/connectors/rewind/offsets").json()["offsets"][0]["offset"] == {
        "position": position_after_line_5
    }

    assert worker.request("PUT", "/connectors/rewind/resume").status_code == 202
    worker.wait_state("rewind", "RUNNING", ["RUNNING"])
    values = reader.wait_count(15)
    assert values[10:] == [f"line-{n}" for n in range(6, 11)]

    # DELETE resets: after another stop and resume the whole file is copied again.
    worker.request("PUT", "/connectors/rewind/stop")
    worker.wait_state("rewind", "STOPPED", [])
    reset = worker.request("DELETE", "/connectors/rewind/offsets")
    assert reset.status_code == 200 and "reset successfully" in reset.json()["message"]
    assert worker.get("/connectors/rewind/offsets").json() == {"offsets": []}
    worker.request("PUT", "/connectors/rewind/resume")
    assert reader.wait_count(25)[15:] == [f"line-{n}" for n in range(1, 11)]


def test_sink_offsets_use_kafka_topic_partition_offset(
    worker, tmp_path, unique_topic, kafka_cluster
):
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    write_lines(source, 1, 10)
    create_source(worker, "feed", source, unique_topic)
    created = worker.request(
        "PUT",
        "/connectors/drain/config",
        json={
            "connector.class": SINK_CLASS,
            "tasks.max": "1",
            "file": str(sink),
            "topics": unique_topic,
        },
    )
    assert created.status_code == 201
    assert created.headers["Location"].endswith("/connectors/drain")
    wait_for(lambda: sink.exists() and sink.read_text().count("\n") == 10, what="sink file")

    def committed():
        offsets = worker.get("/connectors/drain/offsets").json()["offsets"]
        return offsets if offsets and offsets[0]["offset"]["kafka_offset"] == 10 else None

    offsets = wait_for(committed, 30, what="sink offsets")
    assert offsets == [
        {
            "partition": {"kafka_topic": unique_topic, "kafka_partition": 0},
            "offset": {"kafka_offset": 10},
        }
    ]
    topics = wait_for(
        lambda: worker.get("/connectors/drain/topics").json()["drain"]["topics"], what="topics"
    )
    assert topics == [unique_topic]
    assert worker.request("PUT", "/connectors/drain/topics/reset").status_code == 202

    worker.request("PUT", "/connectors/drain/stop")
    worker.wait_state("drain", "STOPPED", [])
    altered = worker.request(
        "PATCH",
        "/connectors/drain/offsets",
        json={
            "offsets": [
                {
                    "partition": {"kafka_topic": unique_topic, "kafka_partition": 0},
                    "offset": {"kafka_offset": 7},
                }
            ]
        },
    )
    assert altered.status_code == 200, altered.text
    assert worker.get("/connectors/drain/offsets").json()["offsets"][0]["offset"] == {
        "kafka_offset": 7
    }
    bad = worker.request(
        "PATCH",
        "/connectors/drain/offsets",
        json={
            "offsets": [{"partition": {"kafka_topic": unique_topic}, "offset": {"kafka_offset": 7}}]
        },
    )
    assert bad.status_code == 400
    assert "kafka_partition" in bad.json()["message"]
    worker.request("PUT", "/connectors/drain/resume")
    wait_for(lambda: sink.read_text().count("\n") == 13, what="records 8..10 written again")
    assert sink.read_text().splitlines()[10:] == ["line-8", "line-9", "line-10"]

    worker.request("PUT", "/connectors/drain/stop")
    worker.wait_state("drain", "STOPPED", [])
    reset = worker.request("DELETE", "/connectors/drain/offsets")
    assert reset.status_code == 200, reset.text
    assert worker.get("/connectors/drain/offsets").json() == {"offsets": []}


def test_command_line_connector_and_states_survive_restart(worker_factory, tmp_path, unique_topic):
    source = tmp_path / "in.txt"
    write_lines(source, 1, 3)
    properties = tmp_path / "cli-source.properties"
    properties.write_text(
        f"name=cli-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile={source}\n"
        f"topic={unique_topic}\n"
    )
    first = worker_factory(connector_files=[properties])
    assert first.get("/connectors").json() == ["cli-source"]
    create_source(first, "rest-source", source, unique_topic, initial_state="PAUSED")
    first.wait_state("rest-source", "PAUSED")
    first.request("PUT", "/connectors/cli-source/stop")
    first.wait_state("cli-source", "STOPPED")
    assert first.stop() == 0

    second = worker_factory(connector_files=[properties])
    assert second.get("/connectors").json() == ["cli-source", "rest-source"]
    second.wait_state("rest-source", "PAUSED")
    second.wait_state("cli-source", "STOPPED")


def test_sigterm_stops_gracefully_and_commits_offsets(worker_factory, tmp_path, unique_topic):
    source = tmp_path / "in.txt"
    write_lines(source, 1, 5)
    worker = worker_factory({"offset.flush.interval.ms": "600000"})
    create_source(worker, "graceful", source, unique_topic)
    worker.wait_state("graceful", "RUNNING", ["RUNNING"])
    time.sleep(2)
    assert worker.stop(signal.SIGTERM) == 0
    stored = orjson.loads((tmp_path / "connect.offsets").read_bytes())
    assert orjson.loads(next(iter(stored.values()))) == {"position": source.stat().st_size}


def test_worker_that_cannot_reach_kafka_exits_with_1(tmp_path):
    from tests.integration.rest.conftest import Worker

    worker = Worker(tmp_path, "127.0.0.1:1", {"admin.default.api.timeout.ms": "2000"})
    try:
        worker.start(timeout=30)
    except AssertionError as error:
        assert "exited with 1" in str(error)
    else:
        raise AssertionError("the worker started without Kafka")
