"""A connector moves between an Apache Kafka Connect cluster (Java 4.3.1) and a kconnect cluster
that share one group id and the three internal topics, in both directions.

One side creates a FileStreamSource and stops; the other starts on the same config, offset and
status topics. It must find the connector where the first left it (config, task configs, target
state), run it without rewriting its task configs, and resume reading the file at the committed
offset: after more lines are appended, the topic holds every line of the file exactly once, in
order. A side that re-read the file would put its first lines on the topic twice before the new
ones; one that lost the offset or never ran the task would never deliver the new lines. A
connector paused or stopped on one side stays paused or stopped on the other until resumed
there.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kconnect.testing import KafkaCluster
from kconnect.testing.distributed_worker import DistributedCluster, DistributedWorker, wait_for
from kconnect.testing.java_connect import JavaConnectWorker, dump_internal_topics

pytestmark = pytest.mark.timeout(600)

CONNECTOR = "file-source"
FIRST_LINES = 20
MORE_LINES = 7
#: Data converters of both sides: JSON without schemas, as in the Java worker's properties.
SCHEMALESS_JSON = {
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "key.converter.schemas.enable": "false",
    "value.converter.schemas.enable": "false",
}
#: How long a paused or stopped connector is watched for lines it must not copy.
QUIET_S = 3.0


class JavaSide:
    """One Apache Kafka Connect worker (one is enough for a cluster)."""

    name = "Java"

    def __init__(self, worker: JavaConnectWorker):
        self.worker = worker

    def start(self) -> None:
        self.worker.start()  # returns once GET /health says the worker has joined

    def stop(self) -> None:
        self.worker.stop()

    def worker_ids(self) -> set[str]:
        return {f"127.0.0.1:{self.worker.rest_port}"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return self.worker.request(method, path, body, expect=range(600))

    def log_tail(self) -> str:
        return "\n".join(self.worker.log_text().splitlines()[-40:])


class KconnectSide:
    """A kconnect cluster of two workers."""

    name = "kconnect"

    def __init__(self, cluster: DistributedCluster):
        self.cluster = cluster
        self.workers: list[DistributedWorker] = []

    def start(self) -> None:
        self.workers = self.cluster.start_workers(2)

    def stop(self) -> None:
        self.cluster.stop_all()

    def worker_ids(self) -> set[str]:
        return {worker.worker_id for worker in self.workers}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = self.workers[-1].request(method, path, body)
        return response.status_code, response.json() if response.content else None

    def log_tail(self) -> str:
        return "\n".join(line for w in self.workers for line in w.log_text().splitlines()[-20:])


Side = JavaSide | KconnectSide


def get(side: Side, path: str) -> Any:
    status, body = side.call("GET", path)
    assert status == 200, f"{side.name}: GET {path} -> {status} {body}"
    return body


@pytest.fixture
def group() -> str:
    return f"interop-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def data_topic(kafka_cluster: KafkaCluster, unique_topic: str) -> str:
    # One partition: the order of the lines on the topic is the order they were sent in.
    kafka_cluster.create_topic(unique_topic, partitions=1)
    return unique_topic


@pytest.fixture
def sides(bootstrap_servers: str, tmp_path: Path, group: str) -> Iterator[dict[str, Side]]:
    java = JavaConnectWorker(
        bootstrap_servers,
        tmp_path / "java-connect",
        group_id=group,
        config_topic=f"{group}-configs",
        offset_topic=f"{group}-offsets",
        status_topic=f"{group}-status",
        extra_props=SCHEMALESS_JSON,
    )
    workdir = tmp_path / "kconnect"
    workdir.mkdir()
    cluster = DistributedCluster(workdir, bootstrap_servers, group_id=group, extra=SCHEMALESS_JSON)
    # The same topics on both sides: DistributedCluster names them "<group>-configs" and so on.
    assert (
        cluster.props["config.storage.topic"],
        cluster.props["offset.storage.topic"],
        cluster.props["status.storage.topic"],
    ) == (java.config_topic, java.offset_topic, java.status_topic)
    try:
        yield {"java": JavaSide(java), "kconnect": KconnectSide(cluster)}
    finally:
        cluster.stop_all()
        java.stop()


@pytest.fixture(params=[("java", "kconnect"), ("kconnect", "java")], ids=lambda p: "-to-".join(p))
def first_second(request: pytest.FixtureRequest, sides: dict[str, Side]) -> tuple[Side, Side]:
    first, second = request.param
    return sides[first], sides[second]


@pytest.fixture
def source_file(tmp_path: Path) -> Path:
    path = tmp_path / "input.txt"
    path.write_text("")
    return path


def lines(start: int, count: int) -> list[str]:
    return [f"line {n}: {'x' * (n % 13)}" for n in range(start, start + count)]


def append(path: Path, new_lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(f"{line}\n" for line in new_lines))


def topic_lines(bootstrap_servers: str, topic: str) -> list[Any]:
    """Every record value of ``topic`` up to its current end, decoded as JSON (the JSON
    converter without schemas writes each line as a JSON string)."""
    records = dump_internal_topics(bootstrap_servers, [topic])[topic]
    return [json.loads(str(record["value"])) for record in records]


def wait_for_lines(bootstrap_servers: str, topic: str, expected: list[str], what: str) -> None:
    """Until the last expected line is on the topic; then the topic must hold exactly
    ``expected``: a re-read file would have put lines there twice before that last one."""
    wait_for(
        lambda: (values := topic_lines(bootstrap_servers, topic)) and values[-1] == expected[-1],
        60,
        what,
    )
    assert topic_lines(bootstrap_servers, topic) == expected


def whole_file_offsets(source_file: Path) -> dict[str, Any]:
    """``GET /connectors/<c>/offsets`` once the offset of the whole file is committed."""
    return {
        "offsets": [
            {
                "partition": {"filename": str(source_file)},
                "offset": {"position": source_file.stat().st_size},
            }
        ]
    }


def wait_for_offsets(side: Side, source_file: Path) -> dict[str, Any]:
    expected = whole_file_offsets(source_file)
    wait_for(
        lambda: get(side, f"/connectors/{CONNECTOR}/offsets") == expected,
        30,
        f"{side.name} to commit the offset of the whole file",
    )
    return expected


def config_records(bootstrap_servers: str, side: JavaSide) -> list[tuple[str, str | None]]:
    """The config topic's records but session keys (a new leader may write one)."""
    topic = side.worker.config_topic
    records = dump_internal_topics(bootstrap_servers, [topic])[topic]
    return [(r["key"], r["value"]) for r in records if r["key"] != "session-key"]


def wait_for_state(side: Side, connector_state: str, task_states: list[str]) -> dict[str, Any]:
    """The connector's status once it and its tasks are in these states on ``side``'s own
    workers (a status left in the topic by the other side names workers that are gone)."""
    ours = side.worker_ids()

    def reached() -> dict[str, Any] | None:
        status, body = side.call("GET", f"/connectors/{CONNECTOR}/status")
        if status != 200:
            return None
        states = [(body["connector"]["state"], body["connector"]["worker_id"] in ours)]
        states += [(t["state"], t["worker_id"] in ours) for t in body["tasks"]]
        expected = [(s, True) for s in [connector_state, *task_states]]
        return body if states == expected else None

    try:
        return wait_for(
            reached, 60, f"{CONNECTOR} {connector_state} with tasks {task_states} on {side.name}"
        )
    except AssertionError as error:
        last = side.call("GET", f"/connectors/{CONNECTOR}/status")
        raise AssertionError(f"{error}\nlast status: {last}\n{side.log_tail()}") from None


def create_and_copy(
    side: Side, bootstrap_servers: str, topic: str, source_file: Path, first: list[str]
) -> dict[str, Any]:
    """``side`` creates the connector and copies ``first``; the offsets it committed."""
    append(source_file, first)
    config = {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": str(source_file),
        "topic": topic,
    }
    status, body = side.call("PUT", f"/connectors/{CONNECTOR}/config", config)
    assert status == 201, body
    wait_for_state(side, "RUNNING", ["RUNNING"])
    wait_for_lines(bootstrap_servers, topic, first, f"{side.name} to copy the file")
    return wait_for_offsets(side, source_file)


def test_running_connector_moves_without_rereading(
    first_second: tuple[Side, Side],
    sides: dict[str, Side],
    bootstrap_servers: str,
    data_topic: str,
    source_file: Path,
) -> None:
    first, second = first_second
    first.start()
    first_lines = lines(0, FIRST_LINES)
    committed = create_and_copy(first, bootstrap_servers, data_topic, source_file, first_lines)
    config = get(first, f"/connectors/{CONNECTOR}/config")
    tasks = get(first, f"/connectors/{CONNECTOR}/tasks")
    assert tasks[0]["config"]["task.class"] == "org.apache.kafka.connect.file.FileStreamSourceTask"
    java = sides["java"]
    assert isinstance(java, JavaSide)
    records = config_records(bootstrap_servers, java)
    first.stop()

    second.start()
    wait_for(lambda: get(second, "/connectors") == [CONNECTOR], 30, f"{second.name} to list it")
    assert get(second, f"/connectors/{CONNECTOR}/config") == config
    assert get(second, f"/connectors/{CONNECTOR}/tasks") == tasks
    wait_for_state(second, "RUNNING", ["RUNNING"])
    assert get(second, f"/connectors/{CONNECTOR}/offsets") == committed

    more_lines = lines(FIRST_LINES, MORE_LINES)
    append(source_file, more_lines)
    wait_for_lines(
        bootstrap_servers, data_topic, first_lines + more_lines, f"{second.name} to copy more"
    )
    wait_for_offsets(second, source_file)
    # The task configs were what the second side generates itself: nothing was rewritten.
    assert config_records(bootstrap_servers, java) == records


@pytest.mark.parametrize("state", ["PAUSED", "STOPPED"])
def test_paused_or_stopped_connector_stays_so_after_moving(
    state: str,
    first_second: tuple[Side, Side],
    bootstrap_servers: str,
    data_topic: str,
    source_file: Path,
) -> None:
    first, second = first_second
    first.start()
    first_lines = lines(0, FIRST_LINES)
    committed = create_and_copy(first, bootstrap_servers, data_topic, source_file, first_lines)
    # As in Kafka: pause answers 202 Accepted, stop 204 No Content.
    action, answer = ("pause", 202) if state == "PAUSED" else ("stop", 204)
    status, body = first.call("PUT", f"/connectors/{CONNECTOR}/{action}")
    assert status == answer, body
    task_states = ["PAUSED"] if state == "PAUSED" else []
    wait_for_state(first, state, task_states)
    first.stop()

    # Lines that arrive while the connector is paused or stopped wait for it to resume.
    more_lines = lines(FIRST_LINES, MORE_LINES)
    append(source_file, more_lines)
    second.start()
    wait_for(lambda: get(second, "/connectors") == [CONNECTOR], 30, f"{second.name} to list it")
    wait_for_state(second, state, task_states)
    assert get(second, f"/connectors/{CONNECTOR}/offsets") == committed
    if state == "STOPPED":
        assert get(second, f"/connectors/{CONNECTOR}/tasks") == []
    time.sleep(QUIET_S)  # ample time for a task that runs to copy the new lines
    assert topic_lines(bootstrap_servers, data_topic) == first_lines

    status, body = second.call("PUT", f"/connectors/{CONNECTOR}/resume")
    assert status == 202, body
    wait_for_state(second, "RUNNING", ["RUNNING"])
    wait_for_lines(
        bootstrap_servers,
        data_topic,
        first_lines + more_lines,
        f"{second.name} to copy the lines that came while it was {state}",
    )
    wait_for_offsets(second, source_file)
