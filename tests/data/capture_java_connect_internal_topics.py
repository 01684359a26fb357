"""Capture what Apache Kafka Connect (Java) writes to its internal topics, as test data.

    python tests/data/capture_java_connect_internal_topics.py [--out FILE]

Starts a one-broker KafkaCluster and one Java distributed worker (jars from Maven, see
:mod:`kconnect.testing.java_connect`), drives a FileStreamSource and a two-task FileStreamSink
through their lifecycle over REST (create, pause, resume, restarts, stop, offset alter and
reset, config update, cluster-wide logger level, active-topic reset, worker restart, delete),
then a second worker group with exactly-once source support, and writes every record of the
internal topics, tagged with the step that produced it, to
``tests/data/java_connect_internal_topics.json``.

Each step waits for the REST state it asked for and then until the topics stop changing,
so a record is tagged with the step whose request caused it; statuses written a little late
by a background thread can still land in the next step.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kconnect.testing import KafkaCluster, kafka_version, read_topic, wait_until
from kconnect.testing.java_connect import (
    JavaConnectWorker,
    connect_version,
    describe_internal_topics,
    dump_internal_topics,
    worker_properties,
)
from kconnect.testing.processes import free_port as _free_port

_HERE = Path(__file__).parent
_DEFAULT_OUT = _HERE / "java_connect_internal_topics.json"

GROUP = "connect-cluster"
CONFIG_TOPIC = "connect-configs"
OFFSET_TOPIC = "connect-offsets"
STATUS_TOPIC = "connect-status"
EOS_GROUP = "connect-cluster-eos"
EOS_TOPICS = ("connect-eos-configs", "connect-eos-offsets", "connect-eos-status")
DATA_TOPIC = "file-lines"
EOS_DATA_TOPIC = "file-lines-eos"


class Recorder:
    """Runs named steps and tags each new internal-topic record with the step's name."""

    def __init__(self, bootstrap_servers: str, topics: tuple[str, ...]) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topics = topics
        self.records: dict[str, list[dict[str, Any]]] = {topic: [] for topic in topics}
        self.steps: list[dict[str, Any]] = []
        self._seen: dict[str, set[tuple[int, int]]] = {topic: set() for topic in topics}

    def step(self, name: str, requests: list[str], action: Callable[[], None]) -> None:
        print(f"-- {name}", flush=True)
        action()
        self._settle()
        new = {topic: 0 for topic in self.topics}
        for topic, records in self._dump().items():
            for record in records:
                where = (record["partition"], record["offset"])
                if where not in self._seen[topic]:
                    self._seen[topic].add(where)
                    self.records[topic].append({**record, "step": name})
                    new[topic] += 1
        self.steps.append({"step": name, "requests": requests, "new_records": new})

    def _dump(self) -> dict[str, list[dict[str, Any]]]:
        return dump_internal_topics(self.bootstrap_servers, self.topics)

    def _settle(self, quiet: float = 2.5, bound: float = 20.0) -> None:
        """Wait until no topic has grown for ``quiet`` seconds (at most ``bound``)."""
        deadline = time.monotonic() + bound
        last = self._sizes()
        last_change = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            sizes = self._sizes()
            if sizes != last:
                last, last_change = sizes, time.monotonic()
            elif time.monotonic() - last_change >= quiet:
                return

    def _sizes(self) -> dict[str, int]:
        return {topic: len(records) for topic, records in self._dump().items()}


def _state(worker: JavaConnectWorker, name: str) -> tuple[str, list[str]] | None:
    status, body = worker.request("GET", f"/connectors/{name}/status", expect=(200, 404))
    if status != 200:
        return None
    return body["connector"]["state"], [task["state"] for task in body["tasks"]]


def _wait_state(worker: JavaConnectWorker, name: str, connector: str, tasks: int) -> None:
    def reached() -> bool:
        state = _state(worker, name)
        task_state = "RUNNING" if connector == "RUNNING" else connector
        return state is not None and state == (connector, [task_state] * tasks)

    wait_until(reached, timeout=60, what=f"{name} to be {connector} with {tasks} task(s)")


def _wait_gone(worker: JavaConnectWorker, name: str) -> None:
    wait_until(lambda: _state(worker, name) is None, timeout=60, what=f"{name} to be deleted")


def capture(out: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="kconnect-capture-"))
    source_file = work / "input.txt"
    sink_file = work / "output.txt"
    source_file.write_text("line 0\nline 1\nline 2\n")
    port = _free_port()
    with KafkaCluster() as cluster:
        servers = cluster.bootstrap_servers
        topics = (CONFIG_TOPIC, OFFSET_TOPIC, STATUS_TOPIC)
        rec = Recorder(servers, topics)
        worker = JavaConnectWorker(
            servers, work / "worker", GROUP, *topics, rest_port=port, stop_timeout=60
        )
        source_config = {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "tasks.max": "1",
            "file": str(source_file),
            "topic": DATA_TOPIC,
        }
        sink_config = {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "tasks.max": "2",
            "file": str(sink_file),
            "topics": DATA_TOPIC,
        }
        src = "/connectors/file-source"
        try:
            rec.step("worker-start", ["(start the worker)"], worker.start)

            def create_source() -> None:
                worker.request("PUT", f"{src}/config", source_config)
                _wait_state(worker, "file-source", "RUNNING", 1)
                read_topic(servers, DATA_TOPIC, expected=3)

            rec.step("create-file-source", [f"PUT {src}/config"], create_source)

            def append() -> None:
                with source_file.open("a") as handle:
                    handle.write("line 3\nline 4\n")
                read_topic(servers, DATA_TOPIC, expected=5)

            rec.step("append-two-lines", ["(append to the file)"], append)

            def pause() -> None:
                worker.request("PUT", f"{src}/pause")
                _wait_state(worker, "file-source", "PAUSED", 1)

            rec.step("pause", [f"PUT {src}/pause"], pause)

            def resume() -> None:
                worker.request("PUT", f"{src}/resume")
                _wait_state(worker, "file-source", "RUNNING", 1)

            rec.step("resume", [f"PUT {src}/resume"], resume)

            def restart_all() -> None:
                worker.request("POST", f"{src}/restart?includeTasks=true&onlyFailed=false")
                time.sleep(1)
                _wait_state(worker, "file-source", "RUNNING", 1)

            rec.step(
                "restart-connector-and-tasks",
                [f"POST {src}/restart?includeTasks=true&onlyFailed=false"],
                restart_all,
            )

            def restart_connector() -> None:
                worker.request("POST", f"{src}/restart")
                _wait_state(worker, "file-source", "RUNNING", 1)

            rec.step("restart-connector-only", [f"POST {src}/restart"], restart_connector)

            def restart_task() -> None:
                worker.request("POST", f"{src}/tasks/0/restart")
                _wait_state(worker, "file-source", "RUNNING", 1)

            rec.step("restart-task", [f"POST {src}/tasks/0/restart"], restart_task)

            def stop() -> None:
                worker.request("PUT", f"{src}/stop")
                wait_until(
                    lambda: _state(worker, "file-source") == ("STOPPED", []),
                    what="file-source to stop",
                )

            rec.step("stop", [f"PUT {src}/stop"], stop)

            def alter_offsets() -> None:
                body = {
                    "offsets": [
                        {"partition": {"filename": str(source_file)}, "offset": {"position": 7}}
                    ]
                }
                worker.request("PATCH", f"{src}/offsets", body)

            rec.step("alter-offsets", [f"PATCH {src}/offsets"], alter_offsets)

            def reset_offsets() -> None:
                worker.request("DELETE", f"{src}/offsets")

            rec.step("reset-offsets", [f"DELETE {src}/offsets"], reset_offsets)

            def resume_after_stop() -> None:
                worker.request("PUT", f"{src}/resume")
                _wait_state(worker, "file-source", "RUNNING", 1)
                read_topic(servers, DATA_TOPIC, expected=10)  # the reset re-reads the file

            rec.step("resume-after-stop", [f"PUT {src}/resume"], resume_after_stop)

            def update_config() -> None:
                worker.request("PUT", f"{src}/config", {**source_config, "batch.size": "100"})
                _wait_state(worker, "file-source", "RUNNING", 1)

            rec.step("update-config", [f"PUT {src}/config (batch.size added)"], update_config)

            def create_sink() -> None:
                worker.request("POST", "/connectors", {"name": "file-sink", "config": sink_config})
                _wait_state(worker, "file-sink", "RUNNING", 2)
                wait_until(
                    lambda: sink_file.exists() and len(sink_file.read_text().splitlines()) >= 10,
                    what="the sink to write the lines",
                )

            rec.step("create-file-sink-2-tasks", ["POST /connectors"], create_sink)

            def cluster_logger() -> None:
                worker.request(
                    "PUT",
                    "/admin/loggers/org.apache.kafka.connect.file?scope=cluster",
                    {"level": "DEBUG"},
                )

            rec.step(
                "cluster-logger-level",
                ["PUT /admin/loggers/org.apache.kafka.connect.file?scope=cluster"],
                cluster_logger,
            )

            def restart_worker() -> None:
                worker.stop()
                worker.start()
                _wait_state(worker, "file-source", "RUNNING", 1)
                _wait_state(worker, "file-sink", "RUNNING", 2)

            rec.step("worker-restart", ["(SIGTERM the worker, start it again)"], restart_worker)

            def reset_topics() -> None:
                worker.request("PUT", f"{src}/topics/reset")

            rec.step("reset-active-topics", [f"PUT {src}/topics/reset"], reset_topics)

            def delete_sink() -> None:
                worker.request("DELETE", "/connectors/file-sink")
                _wait_gone(worker, "file-sink")

            rec.step("delete-file-sink", ["DELETE /connectors/file-sink"], delete_sink)

            def delete_source() -> None:
                worker.request("DELETE", src)
                _wait_gone(worker, "file-source")

            rec.step("delete-file-source", [f"DELETE {src}"], delete_source)
            rec.step("worker-stop", ["(SIGTERM the worker)"], worker.stop)
        finally:
            worker.stop()

        eos = _capture_exactly_once(servers, work, source_file)
        described = describe_internal_topics(servers, [*topics, *EOS_TOPICS])

    document = {
        "captured_with": {
            "kafka_connect": connect_version(),
            "broker": kafka_version(),
            "script": "tests/data/capture_java_connect_internal_topics.py",
        },
        "worker_properties": worker_properties(servers, GROUP, *topics, port),
        "files": {"source": str(source_file), "sink": str(sink_file)},
        "topic_configs": described,
        "steps": rec.steps,
        "topics": rec.records,
        "exactly_once": eos,
    }
    out.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    shutil.rmtree(work, ignore_errors=True)  # kept, with the worker logs, when a step failed
    print(f"wrote {out}")


def _capture_exactly_once(servers: str, work: Path, source_file: Path) -> dict[str, Any]:
    """A second Connect cluster with exactly.once.source.support=enabled and one source."""
    rec = Recorder(servers, EOS_TOPICS)
    extra = {"exactly.once.source.support": "enabled"}
    worker = JavaConnectWorker(
        servers, work / "worker-eos", EOS_GROUP, *EOS_TOPICS, extra_props=extra, stop_timeout=60
    )
    config = {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": str(source_file),
        "topic": EOS_DATA_TOPIC,
        "exactly.once.support": "required",
    }
    try:
        rec.step("eos-worker-start", ["(start the worker)"], worker.start)

        def create() -> None:
            worker.request("PUT", "/connectors/file-source-eos/config", config)
            _wait_state(worker, "file-source-eos", "RUNNING", 1)
            read_topic(servers, EOS_DATA_TOPIC, expected=5)

        rec.step("eos-create-file-source", ["PUT /connectors/file-source-eos/config"], create)

        def delete() -> None:
            worker.request("DELETE", "/connectors/file-source-eos")
            _wait_gone(worker, "file-source-eos")

        rec.step("eos-delete-file-source", ["DELETE /connectors/file-source-eos"], delete)
    finally:
        worker.stop()
    return {"extra_worker_properties": extra, "steps": rec.steps, "topics": rec.records}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=_DEFAULT_OUT)
    capture(parser.parse_args().out)


if __name__ == "__main__":
    main()
