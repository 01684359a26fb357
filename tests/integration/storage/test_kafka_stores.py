"""The Kafka-backed config, offset and status stores on a real broker.

Two store instances on the same topics stand for two workers of one cluster. Records that a
Java Kafka Connect 4.3.1 cluster wrote (tests/data/java_connect_internal_topics.json) are
replayed into fresh topics to check that kconnect reads them as Java does, and kconnect's own
offset writes are checked to land in the partition Java's producer picks.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import ConfigResource, ResourceType
from kafka.partitioner.default import murmur2
from kconnect.api.errors import ConfigException, ConnectException
from kconnect.runtime.states import State, Status, TargetState, TaskId
from kconnect.storage import config_records as cr
from kconnect.storage.config_backing_store import RestartRequest, SessionKeyRecord
from kconnect.storage.kafka_config_store import KafkaConfigBackingStore, PrivilegedWriteException
from kconnect.storage.kafka_offset_store import KafkaOffsetBackingStore
from kconnect.storage.kafka_status_store import KafkaStatusBackingStore
from kconnect.storage.offset_storage import serialize_key
from kconnect.storage.status_backing_store import TopicStatus
from kconnect.testing.helpers import wait_until

CAPTURE = Path(__file__).parents[2] / "data" / "java_connect_internal_topics.json"


def java_partition(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions


@pytest.fixture
def props(bootstrap_servers: str, unique_topic: str) -> dict[str, Any]:
    """Worker properties with internal topics no other test uses."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "group.id": "kconnect-test",
        "config.storage.topic": f"{unique_topic}-configs",
        "offset.storage.topic": f"{unique_topic}-offsets",
        "status.storage.topic": f"{unique_topic}-status",
        "config.storage.replication.factor": "1",
        "offset.storage.replication.factor": "1",
        "status.storage.replication.factor": "1",
        "default.api.timeout.ms": "20000",
    }


@pytest.fixture
def started() -> Iterator[Any]:
    """``started(store_class, props, listener=None)``: a configured, started store that is
    stopped after the test."""
    stores: list[Any] = []

    def start(cls: type, worker_props: dict[str, Any], listener: Any = None) -> Any:
        store = cls()
        store.configure(worker_props)
        if listener is not None:
            store.set_update_listener(listener)
        store.start()
        stores.append(store)
        return store

    yield start
    for store in reversed(stores):
        store.stop()


class RecordingListener:
    """A ConfigUpdateListener that remembers every call, from the reader thread."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def _record(self, name: str, arg: Any) -> None:
        with self._lock:
            self.calls.append((name, arg))

    def seen(self, name: str, arg: Any) -> bool:
        with self._lock:
            return (name, arg) in self.calls

    def on_connector_config_update(self, connector: str) -> None:
        self._record("config", connector)

    def on_connector_config_remove(self, connector: str) -> None:
        self._record("remove", connector)

    def on_task_config_update(self, tasks: list[TaskId]) -> None:
        self._record("tasks", tuple(tasks))

    def on_connector_target_state_change(self, connector: str) -> None:
        self._record("target", connector)

    def on_session_key_update(self, key: SessionKeyRecord) -> None:
        self._record("session", key)

    def on_restart_request(self, request: RestartRequest) -> None:
        self._record("restart", request)


def describe(kafka_cluster: Any, topic: str) -> tuple[int, dict[str, str]]:
    admin = kafka_cluster.admin()
    partitions = len(admin.list_topics(topic, timeout=10).topics[topic].partitions)
    resource = ConfigResource(ResourceType.TOPIC, topic)
    entries = admin.describe_configs([resource])[resource].result(timeout=10)
    return partitions, {name: entry.value for name, entry in entries.items()}


# -- topics ------------------------------------------------------------------------------------
def test_internal_topics_are_created_compacted_with_kafkas_partitions(
    kafka_cluster, props, started
):
    props["offset.storage.min.cleanable.dirty.ratio"] = "0.3"  # extra topic settings pass through
    props["status.storage.cleanup.policy"] = "delete"  # ignored: compaction is not optional
    started(KafkaConfigBackingStore, props)
    started(KafkaOffsetBackingStore, props)
    started(KafkaStatusBackingStore, props)

    partitions, configs = describe(kafka_cluster, props["config.storage.topic"])
    assert (partitions, configs["cleanup.policy"]) == (1, "compact")
    partitions, configs = describe(kafka_cluster, props["offset.storage.topic"])
    assert (partitions, configs["cleanup.policy"]) == (25, "compact")
    assert configs["min.cleanable.dirty.ratio"] == "0.3"
    partitions, configs = describe(kafka_cluster, props["status.storage.topic"])
    assert (partitions, configs["cleanup.policy"]) == (5, "compact")


def test_partitions_settings_are_used(kafka_cluster, props, started):
    props["offset.storage.partitions"] = "3"
    props["status.storage.partitions"] = "2"
    started(KafkaOffsetBackingStore, props)
    started(KafkaStatusBackingStore, props)
    assert describe(kafka_cluster, props["offset.storage.topic"])[0] == 3
    assert describe(kafka_cluster, props["status.storage.topic"])[0] == 2


def test_a_topic_that_is_not_compacted_is_refused_with_kafkas_message(kafka_cluster, props):
    kafka_cluster.create_topic(props["offset.storage.topic"], config={"cleanup.policy": "delete"})
    store = KafkaOffsetBackingStore()
    store.configure(props)
    with pytest.raises(ConfigException) as raised:
        store.start()
    assert str(raised.value) == (
        f"Topic '{props['offset.storage.topic']}' supplied via the 'offset.storage.topic' "
        "property is required to have 'cleanup.policy=compact' to guarantee consistency and "
        "durability of source connector offsets, but found the topic currently has "
        "'cleanup.policy=delete'. Continuing would likely result in eventually losing source "
        "connector offsets and problems restarting this Connect cluster in the future. Change "
        "the 'offset.storage.topic' property in the Connect worker configurations to use a "
        "topic with 'cleanup.policy=compact'."
    )


def test_a_config_topic_with_several_partitions_is_refused(kafka_cluster, props):
    topic = props["config.storage.topic"]
    kafka_cluster.create_topic(topic, partitions=3, config={"cleanup.policy": "compact"})
    store = KafkaConfigBackingStore()
    store.configure(props)
    with pytest.raises(ConfigException) as raised:
        store.start()
    assert str(raised.value) == (
        f"Topic '{topic}' supplied via the 'config.storage.topic' property is required to have "
        "a single partition in order to guarantee consistency of connector configurations, but "
        "found 3 partitions."
    )


def test_a_replication_factor_above_the_broker_count_is_refused(props):
    props["status.storage.replication.factor"] = "3"
    props["default.api.timeout.ms"] = "3000"
    store = KafkaStatusBackingStore()
    store.configure(props)
    began = time.monotonic()
    with pytest.raises(ConfigException) as raised:
        store.start()
    assert time.monotonic() - began < 15
    message = str(raised.value)
    assert f"Unable to create topic '{props['status.storage.topic']}'" in message
    assert "set 'status.storage.replication.factor' to at most 1, or to -1" in message


def test_missing_topic_name_is_kafkas_config_error(props):
    del props["config.storage.topic"]
    with pytest.raises(
        ConfigException, match='Missing required configuration "config.storage.topic"'
    ):
        KafkaConfigBackingStore().configure(props)


@pytest.mark.parametrize("server", ["refusing", "silent"])
def test_an_unreachable_broker_is_a_clear_error_in_bounded_time(server, props):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    if server == "silent":
        listener.listen(8)  # connections complete in the kernel; nothing ever answers
    port = listener.getsockname()[1]
    if server == "refusing":
        listener.close()
    props["bootstrap.servers"] = f"127.0.0.1:{port}"
    props["default.api.timeout.ms"] = "3000"
    try:
        store = KafkaOffsetBackingStore()
        store.configure(props)
        began = time.monotonic()
        with pytest.raises(ConnectException) as raised:
            store.start()
        assert time.monotonic() - began < 15
        assert f"Could not reach the Kafka cluster at bootstrap.servers=127.0.0.1:{port}" in str(
            raised.value
        )
    finally:
        listener.close()


# -- config store ------------------------------------------------------------------------------
def test_two_config_stores_see_each_others_writes(props, started):
    writer = started(KafkaConfigBackingStore, props)
    listener = RecordingListener()
    reader = started(KafkaConfigBackingStore, props, listener)
    writer.claim_write_privileges()

    writer.put_connector_config(
        "src", {"connector.class": "X", "tasks.max": "2"}, TargetState.PAUSED
    )
    wait_until(lambda: listener.seen("config", "src"), 20, "the connector on the other worker")
    snapshot = reader.snapshot()
    assert snapshot.connector_config("src") == {"connector.class": "X", "tasks.max": "2"}
    assert snapshot.target_state("src") is TargetState.PAUSED
    assert snapshot.offset == writer.snapshot().offset == 2  # target-state, then connector
    # The writer's own snapshot shows its write as soon as the write returns.
    assert writer.snapshot().contains("src")

    writer.put_target_state("src", TargetState.STOPPED)
    wait_until(lambda: listener.seen("target", "src"), 20, "the target state change")
    assert reader.snapshot().target_state("src") is TargetState.STOPPED

    key = SessionKeyRecord(b"k" * 32, "HmacSHA256", 1700000000000)
    writer.put_session_key(key)
    wait_until(lambda: listener.seen("session", key), 20, "the session key")
    assert reader.snapshot().session_key == key

    request = RestartRequest("src", include_tasks=True, only_failed=True)
    writer.put_restart_request(request)
    wait_until(lambda: listener.seen("restart", request), 20, "the restart request")

    writer.remove_connector_config("src")
    wait_until(lambda: listener.seen("remove", "src"), 20, "the removal")
    assert not reader.snapshot().contains("src")
    assert "src" not in reader.snapshot().target_states


def test_a_new_store_starts_from_the_topic_without_calling_its_listener(props, started):
    writer = started(KafkaConfigBackingStore, props)
    writer.claim_write_privileges()
    writer.put_connector_config("a", {"k": "v"})
    writer.put_task_configs("a", [{"t": "0"}])
    listener = RecordingListener()
    late = started(KafkaConfigBackingStore, props, listener)
    assert late.snapshot().task_config_list("a") == [{"t": "0"}]
    assert listener.calls == []


def test_task_configs_are_invisible_until_committed(props, started):
    writer = started(KafkaConfigBackingStore, props)
    listener = RecordingListener()
    reader = started(KafkaConfigBackingStore, props, listener)
    writer.claim_write_privileges()
    writer.put_connector_config("src", {"connector.class": "X"})

    # Task records without their commit, as a leader that died mid-write leaves them.
    writer.log.send_and_wait(
        [
            (cr.task_key(TaskId("src", 0)), cr.serialize_properties({"t": "0"})),
            (cr.task_key(TaskId("src", 1)), cr.serialize_properties({"t": "1"})),
        ],
        10,
    )
    reader.refresh(10)
    assert reader.snapshot().tasks("src") == []
    assert reader.snapshot().task_config(TaskId("src", 0)) is None

    writer.log.send_and_wait([(cr.commit_key("src"), cr.serialize_commit(2))], 10)
    reader.refresh(10)
    snapshot = reader.snapshot()
    assert snapshot.tasks("src") == [TaskId("src", 0), TaskId("src", 1)]
    assert snapshot.task_config_list("src") == [{"t": "0"}, {"t": "1"}]
    wait_until(lambda: listener.seen("tasks", (TaskId("src", 0), TaskId("src", 1))), 10)

    # A commit naming more tasks than were written makes the connector inconsistent.
    writer.log.send_and_wait(
        [
            (cr.task_key(TaskId("src", 0)), cr.serialize_properties({"t": "new"})),
            (cr.commit_key("src"), cr.serialize_commit(3)),
        ],
        10,
    )
    reader.refresh(10)
    snapshot = reader.snapshot()
    assert "src" in snapshot.inconsistent
    assert snapshot.tasks("src") == []
    assert snapshot.task_config(TaskId("src", 0)) == {"t": "0"}  # nothing half-applied

    writer.put_task_configs("src", [{"t": "a"}])
    reader.refresh(10)
    snapshot = reader.snapshot()
    assert snapshot.inconsistent == frozenset()
    assert snapshot.task_config_list("src") == [{"t": "a"}]

    writer.remove_task_configs("src")  # a STOPPED connector: an empty committed set
    reader.refresh(10)
    assert reader.snapshot().task_count("src") == 0


def test_only_a_worker_with_write_privileges_writes_configs(props, started):
    store = started(KafkaConfigBackingStore, props)
    with pytest.raises(PrivilegedWriteException):
        store.put_connector_config("src", {"k": "v"})
    with pytest.raises(PrivilegedWriteException):
        store.put_task_configs("src", [])
    store.put_target_state("src", TargetState.PAUSED)  # any worker may pause
    store.claim_write_privileges()
    store.put_connector_config("src", {"k": "v"})
    store.relinquish_write_privileges()
    with pytest.raises(PrivilegedWriteException):
        store.remove_connector_config("src")
    assert store.snapshot().target_state("src") is TargetState.PAUSED


def _captured() -> dict[str, Any]:
    if not CAPTURE.exists():
        pytest.skip(f"{CAPTURE} is missing")
    return json.loads(CAPTURE.read_text())


def _replay(bootstrap: str, topic: str, records: list[dict[str, Any]]) -> None:
    """Write captured records to ``topic`` in their partitions and order."""
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for record in records:
        value = None if record["value"] is None else record["value"].encode()
        producer.produce(
            topic, key=record["key"].encode(), value=value, partition=record["partition"]
        )
    assert producer.flush(10) == 0


def test_a_java_clusters_config_topic_is_read_as_java_reads_it(
    kafka_cluster, bootstrap_servers, props, started
):
    records = _captured()["topics"]["connect-configs"]
    topic = props["config.storage.topic"]
    kafka_cluster.create_topic(topic, config={"cleanup.policy": "compact"})
    until = max(i for i, r in enumerate(records) if r["step"] == "cluster-logger-level")
    _replay(bootstrap_servers, topic, records[: until + 1])

    listener = RecordingListener()
    store = started(KafkaConfigBackingStore, props, listener)
    snapshot = store.snapshot()
    assert snapshot.connectors() == ["file-sink", "file-source"]
    source = json.loads(records[12]["value"])["properties"]  # the updated config
    assert snapshot.connector_config("file-source") == source
    assert snapshot.target_state("file-source") is TargetState.STARTED
    assert snapshot.task_config_list("file-source") == [
        json.loads(records[13]["value"])["properties"]
    ]
    assert snapshot.tasks("file-sink") == [TaskId("file-sink", 0), TaskId("file-sink", 1)]
    assert snapshot.session_key is not None and snapshot.session_key.algorithm == "HmacSHA256"
    assert snapshot.offset == until + 1

    _replay(bootstrap_servers, topic, records[until + 1 :])
    wait_until(lambda: listener.seen("remove", "file-source"), 20, "the Java deletions")
    assert listener.seen("remove", "file-sink")
    assert store.snapshot().connectors() == []


def test_transaction_markers_do_not_stall_reading_to_the_end(
    kafka_cluster, bootstrap_servers, props, started
):
    # A Java leader with exactly.once.source.support=enabled writes the config topic in
    # transactions; their commit markers take offsets that are never delivered as records.
    topic = props["config.storage.topic"]
    kafka_cluster.create_topic(topic, config={"cleanup.policy": "compact"})
    producer = Producer(
        {"bootstrap.servers": bootstrap_servers, "transactional.id": f"leader-{uuid.uuid4()}"}
    )
    producer.init_transactions(30)
    producer.begin_transaction()
    producer.produce(topic, key=b"connector-eos", value=cr.serialize_properties({"k": "v"}))
    producer.commit_transaction(30)

    began = time.monotonic()
    store = started(KafkaConfigBackingStore, props)
    store.refresh(5)
    assert time.monotonic() - began < 10
    assert store.snapshot().connector_config("eos") == {"k": "v"}
    assert store.snapshot().offset == 1


# -- offset store ------------------------------------------------------------------------------
def test_offsets_written_by_one_store_are_read_by_another(props, started):
    writer = started(KafkaOffsetBackingStore, props)
    reader = started(KafkaOffsetBackingStore, props)
    key = serialize_key("src", {"file": "a.txt"})
    other = serialize_key("src", {"file": "b.txt"})

    writer.set({key: b'{"position":1}', other: b'{"position":2}'})
    # set() returned: acknowledged, so another worker's get() sees it at once.
    assert reader.get([key, other, b"missing"]) == {
        key: b'{"position":1}',
        other: b'{"position":2}',
    }

    writer.set({key: None})
    assert reader.get([key]) == {}
    assert reader.all() == {other: b'{"position":2}'}


def test_offset_records_land_in_the_partition_java_would_choose(bootstrap_servers, props, started):
    store = started(KafkaOffsetBackingStore, props)
    keys = [serialize_key("src", {"id": f"p{i}"}) for i in range(40)]
    keys.append(b'["src",{"filename":"/tmp/in.txt"}]')
    store.set({key: b'{"n":1}' for key in keys})

    topic = props["offset.storage.topic"]
    consumer = Consumer(
        {"bootstrap.servers": bootstrap_servers, "group.id": f"check-{uuid.uuid4()}"}
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(25)])
    placed: dict[bytes, int] = {}
    deadline = time.monotonic() + 20
    while len(placed) < len(keys) and time.monotonic() < deadline:
        for message in consumer.consume(100, 0.5):
            if message.error() is None:
                placed[message.key()] = message.partition()
    consumer.close()
    assert placed == {key: java_partition(key, 25) for key in keys}
    # Values computed by Java's own partitioner (Kafka 4.3.1) for two of them:
    assert placed[b'["src",{"filename":"/tmp/in.txt"}]'] == 4
    assert placed[b'["src",{"id":"p7"}]'] == 10


def test_a_java_clusters_offsets_are_found_by_kconnect(
    kafka_cluster, bootstrap_servers, props, started
):
    records = _captured()["topics"]["connect-offsets"]
    topic = props["offset.storage.topic"]
    kafka_cluster.create_topic(topic, partitions=25, config={"cleanup.policy": "compact"})
    _replay(bootstrap_servers, topic, records)
    store = started(KafkaOffsetBackingStore, props)
    key = serialize_key("file-source", {"filename": json.loads(records[-1]["key"])[1]["filename"]})
    assert store.get([key]) == {key: records[-1]["value"].encode()}


# -- status store ------------------------------------------------------------------------------
def test_status_stores_share_statuses_and_safe_writes_respect_generations(props, started):
    first = started(KafkaStatusBackingStore, props)
    second = started(KafkaStatusBackingStore, props)
    task = TaskId("src", 0)

    first.put_connector("src", Status(State.RUNNING, "w1:8083", None, 1))
    first.put_task(task, Status(State.RUNNING, "w1:8083", None, 4), safe=True)
    wait_until(lambda: second.task(task) is not None and second.connector("src"), 20)
    assert second.connector("src").state is State.RUNNING
    assert second.connectors() == {"src"}

    # w2 lost the task in an older generation: its late report must not hide w1's.
    second.put_task(task, Status(State.FAILED, "w2:8083", "trace", 3), safe=True)
    second.flush()
    first.put_task(TaskId("src", 1), Status(State.RUNNING, "w1:8083", None, 4))
    wait_until(lambda: second.task(TaskId("src", 1)) is not None, 20)
    assert second.task(task).worker_id == "w1:8083"

    # A newer generation wins.
    second.put_task(task, Status(State.FAILED, "w2:8083", "boom", 5), safe=True)
    wait_until(lambda: getattr(first.task(task), "state", None) is State.FAILED, 20, "newer status")
    assert first.task(task).trace == "boom"
    # Each store learns of writes, its own included, by reading them back.
    wait_until(lambda: set(first.tasks("src")) == {0, 1}, 20, "both tasks read back")

    first.put_topic(TopicStatus("orders", "src", 0, 1700000000000))
    wait_until(lambda: second.topics("src"), 20, "the topic status")
    assert second.topics("src") == [TopicStatus("orders", "src", 0, 1700000000000)]
    first.delete_topic("src", "orders")
    wait_until(lambda: not second.topics("src"), 20, "the topic tombstone")

    first.remove_connector("src")
    wait_until(lambda: second.connector("src") is None and not second.tasks("src"), 20)
    assert first.connectors() == set()
