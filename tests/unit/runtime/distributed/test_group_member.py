"""WorkerGroupMember without a broker: client settings, the leader's assignment round, and what
poll() does with joins that kafka-python's I/O thread completes (the join itself is replaced by
a future the test resolves). The real group protocol is in tests/integration/distributed."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka.future import Future
from kconnect.runtime.distributed.group_member import WorkerGroupMember
from kconnect.runtime.distributed.kafka_python_client import (
    _quiet_kafka_python_logging,
    kafka_python_config,
)
from kconnect.runtime.distributed.protocol import (
    ConnectAssignment,
    ConnectProtocolCompatibility,
    WorkerAllocation,
    WorkerMetadata,
    decode_assignment,
    decode_metadata,
    encode_assignment,
    encode_metadata,
    protocol_version,
)
from kconnect.runtime.states import TaskId

EAGER = ConnectProtocolCompatibility.EAGER
COMPATIBLE = ConnectProtocolCompatibility.COMPATIBLE
SESSIONED = ConnectProtocolCompatibility.SESSIONED
ALL = (SESSIONED, COMPATIBLE, EAGER)


class Recorder:
    """The herder's callbacks: records each call with the thread it ran on."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.assignments: dict[str, ConnectAssignment] = {}
        self.allocation: WorkerAllocation | None = None

    def names(self) -> list[str]:
        return [call[0] for call in self.calls]

    def metadata(self, protocol: ConnectProtocolCompatibility) -> WorkerMetadata:
        self.calls.append(("metadata", protocol, threading.current_thread()))
        return WorkerMetadata("http://me:8083/", 7, self.allocation)

    def assign(
        self,
        leader_id: str,
        leader_url: str,
        protocol: ConnectProtocolCompatibility,
        members: dict[str, WorkerMetadata],
    ) -> dict[str, ConnectAssignment]:
        self.calls.append(("assign", leader_id, leader_url, protocol, members))
        return self.assignments

    def on_assigned(
        self, assignment: ConnectAssignment, generation: int, protocol: ConnectProtocolCompatibility
    ) -> None:
        self.calls.append(
            ("assigned", assignment, generation, protocol, threading.current_thread())
        )

    def on_revoked(self, assignment: ConnectAssignment) -> None:
        self.calls.append(("revoked", assignment, threading.current_thread()))


class FakeJoins:
    """Stands in for the join coroutine: each join poll() starts is a future the test ends."""

    def __init__(self) -> None:
        self.started: list[Future] = []

    def __call__(self) -> Future:
        self.started.append(Future())
        return self.started[-1]


def make_member(
    recorder: Recorder, protocols: tuple[ConnectProtocolCompatibility, ...] = ALL, **kw: Any
) -> WorkerGroupMember:
    settings: dict[str, Any] = {
        "session_timeout_ms": 10000,
        "heartbeat_interval_ms": 3000,
        "rebalance_timeout_ms": 60000,
    }
    settings.update(kw)
    return WorkerGroupMember(
        # nothing listens there, and nothing connects: the join is replaced
        client_config={"bootstrap.servers": "127.0.0.1:9", "client.id": "unit"},
        group_id="connect-cluster",
        protocols=protocols,
        metadata=recorder.metadata,
        assign=recorder.assign,
        on_assigned=recorder.on_assigned,
        on_revoked=recorder.on_revoked,
        **settings,
    )


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def joins() -> FakeJoins:
    return FakeJoins()


@pytest.fixture
def member(recorder: Recorder, joins: FakeJoins) -> Iterator[WorkerGroupMember]:
    member = make_member(recorder)
    member._start_background_join = joins  # type: ignore[method-assign]
    # a known coordinator, so the lost-coordinator guard stays out of these tests
    member._coordinator.coordinator_id = "coordinator-0"
    yield member
    member.stop(timeout_ms=0)


def complete_join(
    member: WorkerGroupMember,
    future: Future,
    generation: int,
    assignment: ConnectAssignment | bytes,
    protocol: ConnectProtocolCompatibility = SESSIONED,
    member_id: str = "member-1",
) -> None:
    """What kafka-python's I/O thread does when a join succeeds, on a thread of its own."""
    data = (
        assignment
        if isinstance(assignment, bytes)
        else encode_assignment(assignment, protocol.version)
    )

    def io_thread() -> None:
        member._coordinator.rejoin_needed = False
        asyncio.run(
            member._coordinator._on_join_complete_async(
                generation, member_id, protocol.protocol_name, data
            )
        )
        future.success(True)

    thread = threading.Thread(target=io_thread, name="fake-kafka-io")
    thread.start()
    thread.join()


def join_once(
    member: WorkerGroupMember,
    joins: FakeJoins,
    generation: int,
    assignment: ConnectAssignment | bytes,
    protocol: ConnectProtocolCompatibility = SESSIONED,
) -> None:
    member.poll(0)  # starts the join
    complete_join(member, joins.started[-1], generation, assignment, protocol)
    member.poll(0)  # delivers it


# --- client settings -----------------------------------------------------------------------------


def test_java_client_keys_become_kafka_python_settings() -> None:
    config = kafka_python_config(
        {
            "bootstrap.servers": "b1:9092,b2:9092",
            "client.id": "worker-1",
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-256",
            "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule "
            'required username="connect" password="s3cret";',
            # librdkafka's spelling of a PEM CA file (Java stores: tests/unit/runtime/test_client_ssl.py)
            "ssl.ca.location": "/etc/ca.pem",
            "ssl.endpoint.identification.algorithm": "",
            "request.timeout.ms": "20000",
            "reconnect.backoff.max.ms": "5000",
        }
    )

    assert config == {
        "bootstrap_servers": "b1:9092,b2:9092",
        "client_id": "worker-1",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "connect",
        "sasl_plain_password": "s3cret",
        "ssl_cafile": "/etc/ca.pem",
        "ssl_check_hostname": False,
        "request_timeout_ms": 20000,
        "reconnect_backoff_max_ms": 5000,
        "retry_backoff_ms": 100,
    }


def test_worker_keys_are_ignored_and_java_client_defaults_apply() -> None:
    config = kafka_python_config(
        {
            "bootstrap.servers": "localhost:9092",
            "group.id": "connect-cluster",
            "config.storage.topic": "connect-configs",
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        }
    )

    assert config["bootstrap_servers"] == "localhost:9092"
    assert config["reconnect_backoff_max_ms"] == 1000  # kafka-python's own is 30 s
    assert config["request_timeout_ms"] == 40000
    assert config["client_id"].startswith("connect-")
    assert not {"group.id", "group_id", "key.converter"} & set(config)


def test_a_non_numeric_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="request.timeout.ms"):
        kafka_python_config({"request.timeout.ms": "soon"})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"heartbeat_interval_ms": 10000}, "heartbeat.interval.ms"),
        ({"rebalance_timeout_ms": 0}, "rebalance.timeout.ms"),
        ({"protocols": ()}, "protocols"),
        ({"protocols": (EAGER, EAGER)}, "protocols"),
    ],
)
def test_invalid_settings_are_refused(
    recorder: Recorder, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_member(recorder, **settings)


def test_kafka_python_keeps_to_warnings_and_does_not_repeat_them(
    member: WorkerGroupMember, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kafka_logger = logging.getLogger("kafka")
    kafka_logger.setLevel(logging.NOTSET)
    _quiet_kafka_python_logging()
    assert kafka_logger.level == logging.WARNING

    connection_log = logging.getLogger("kafka.net.manager")
    # templates of their own: the limiter is shared by the whole process
    failed, other = f"Connection failed ({uuid.uuid4()}): %s", f"Other ({uuid.uuid4()}): %s"
    for _ in range(3):
        connection_log.info("Initializing connection for node_id %s", 0)
        connection_log.error(failed, "ECONNREFUSED")
    connection_log.error(other, "once")

    kafka_records = [r for r in caplog.records if r.name == "kafka.net.manager"]
    assert [r.msg for r in kafka_records] == [failed, other]


def test_a_level_set_for_kafka_python_is_left_alone(member: WorkerGroupMember) -> None:
    kafka_logger = logging.getLogger("kafka")
    kafka_logger.setLevel(logging.DEBUG)
    try:
        _quiet_kafka_python_logging()
        assert kafka_logger.level == logging.DEBUG
    finally:
        kafka_logger.setLevel(logging.WARNING)


# --- the leader's round ---------------------------------------------------------------------------


def test_the_leader_decodes_the_members_assigns_and_encodes_in_the_chosen_version(
    member: WorkerGroupMember, recorder: Recorder
) -> None:
    leader = WorkerMetadata("http://leader:8083/", 12, WorkerAllocation(["c1"], [TaskId("c1", 0)]))
    follower = WorkerMetadata("http://follower:8083/", 11, None)
    recorder.assignments = {
        "leader-1": ConnectAssignment(connectors=["c1"]),
        "follower-2": ConnectAssignment(tasks=[TaskId("c1", 0)], leader="someone", leader_url="x"),
    }

    encoded = member._perform_assignment(
        "leader-1",
        "compatible",
        [
            ("leader-1", encode_metadata(leader, COMPATIBLE.version)),
            ("follower-2", encode_metadata(follower, COMPATIBLE.version)),
        ],
    )

    assert recorder.calls == [
        (
            "assign",
            "leader-1",
            "http://leader:8083/",
            COMPATIBLE,
            {"leader-1": leader, "follower-2": follower},
        )
    ]
    assert {m: protocol_version(data) for m, data in encoded.items()} == {
        "leader-1": 1,
        "follower-2": 1,
    }
    # an empty leader / leader url is filled in with this leader's; a given one is kept
    assert decode_assignment(encoded["leader-1"]) == ConnectAssignment(
        leader="leader-1", leader_url="http://leader:8083/", connectors=["c1"]
    )
    assert decode_assignment(encoded["follower-2"]) == ConnectAssignment(
        leader="someone", leader_url="x", tasks=[TaskId("c1", 0)]
    )


def test_assign_must_answer_for_every_member_and_no_one_else(
    member: WorkerGroupMember, recorder: Recorder
) -> None:
    metadata = encode_metadata(WorkerMetadata("http://a/", 0), EAGER.version)
    recorder.assignments = {"a": ConnectAssignment(), "stranger": ConnectAssignment()}

    with pytest.raises(ValueError, match=r"missing \['b'\], not members \['stranger'\]"):
        member._perform_assignment("a", "default", [("a", metadata), ("b", metadata)])


# --- joins and their delivery ---------------------------------------------------------------------


def test_each_offered_protocol_gets_its_metadata_in_order_when_a_join_starts(
    member: WorkerGroupMember, recorder: Recorder, joins: FakeJoins
) -> None:
    recorder.allocation = WorkerAllocation(["c1"], [])

    member.poll(0)

    assert len(joins.started) == 1
    assert recorder.names() == ["metadata", "metadata", "metadata"]
    assert all(call[2] is threading.current_thread() for call in recorder.calls)
    protocols = member._coordinator.group_protocols()
    assert [name for name, _ in protocols] == ["sessioned", "compatible", "default"]
    assert [protocol_version(data) for _, data in protocols] == [2, 1, 0]
    assert decode_metadata(protocols[0][1]) == WorkerMetadata(
        "http://me:8083/", 7, recorder.allocation
    )
    assert decode_metadata(protocols[2][1]).allocation is None  # not in the eager layout
    assert member._coordinator.protocol_type() == "connect"


def test_a_join_completed_on_the_io_thread_is_delivered_on_the_polling_thread(
    member: WorkerGroupMember, recorder: Recorder, joins: FakeJoins
) -> None:
    member.poll(0)
    assert member.rebalancing() and member.generation == -1
    assignment = ConnectAssignment(leader="leader-0", leader_url="http://l/", connectors=["c1"])
    timer = threading.Timer(
        0.2, complete_join, (member, joins.started[0], 5, assignment, COMPATIBLE)
    )
    timer.start()

    started = time.monotonic()
    member.poll(10000)
    took = time.monotonic() - started
    timer.join()

    assert took < 5, "poll() should return once the assignment is delivered"
    assigned = [call for call in recorder.calls if call[0] == "assigned"]
    assert assigned == [("assigned", assignment, 5, COMPATIBLE, threading.current_thread())]
    assert member.generation == 5
    assert member.member_id == "member-1"
    assert member.protocol is COMPATIBLE
    assert (member.leader_id, member.leader_url, member.is_leader) == (
        "leader-0",
        "http://l/",
        False,
    )
    assert member.assignment == assignment
    assert not member.rebalancing()


def test_eager_revokes_everything_on_the_polling_thread_before_the_next_join_once(
    member: WorkerGroupMember, recorder: Recorder, joins: FakeJoins
) -> None:
    given = ConnectAssignment(leader="member-1", connectors=["c1"], tasks=[TaskId("c1", 0)])
    join_once(member, joins, 3, given, EAGER)
    assert member.is_leader
    recorder.calls.clear()

    member._coordinator.request_rejoin()  # as a heartbeat answered REBALANCE_IN_PROGRESS
    member.poll(0)

    assert recorder.names() == ["revoked", "metadata", "metadata", "metadata"]
    assert recorder.calls[0] == ("revoked", given, threading.current_thread())
    assert member.assignment is None
    # a join that fails is retried without revoking again
    joins.started[-1].failure(RuntimeError("coordinator said no"))
    recorder.calls.clear()
    member.poll(300)  # past the backoff
    assert len(joins.started) == 3
    assert "revoked" not in recorder.names()


def test_cooperative_keeps_its_work_through_a_rejoin_and_accumulates_assignments(
    member: WorkerGroupMember, recorder: Recorder, joins: FakeJoins
) -> None:
    first = ConnectAssignment(connectors=["c0", "c1"], tasks=[TaskId("c0", 0), TaskId("c1", 0)])
    join_once(member, joins, 1, first)

    member.request_rejoin()
    member.poll(0)
    assert "revoked" not in recorder.names()
    delta = ConnectAssignment(
        connectors=["c2"],
        tasks=[TaskId("c2", 0)],
        revoked_connectors=["c0"],
        revoked_tasks=[TaskId("c0", 0)],
    )
    complete_join(member, joins.started[-1], 2, delta)
    member.poll(0)

    # the herder gets the leader's message as is; the member keeps the whole picture
    assert recorder.calls[-1][1:3] == (delta, 2)
    assert member.assignment is not None
    assert member.assignment.connectors == ["c1", "c2"]
    assert member.assignment.tasks == [TaskId("c1", 0), TaskId("c2", 0)]


def test_a_rejoin_requested_during_a_join_happens_after_it(
    member: WorkerGroupMember, joins: FakeJoins
) -> None:
    member.poll(0)
    member.request_rejoin()
    member.poll(0)
    assert len(joins.started) == 1  # never two joins at once

    complete_join(member, joins.started[0], 1, ConnectAssignment())
    member.poll(0)  # delivers generation 1
    assert member.generation == 1 and member.rebalancing()
    member.poll(0)
    assert len(joins.started) == 2


def test_a_failed_assignment_makes_the_member_rejoin(
    member: WorkerGroupMember, joins: FakeJoins
) -> None:
    join_once(member, joins, 1, ConnectAssignment(error=1))

    assert member.rebalancing()
    member.poll(0)
    assert len(joins.started) == 2


def test_an_unreadable_assignment_is_not_delivered_and_the_member_rejoins(
    member: WorkerGroupMember, recorder: Recorder, joins: FakeJoins
) -> None:
    join_once(member, joins, 1, b"\x00\x01garbage")

    assert "assigned" not in recorder.names()
    assert member.generation == -1
    member.poll(0)
    assert len(joins.started) == 2


def test_a_failed_join_is_retried_after_a_backoff(
    member: WorkerGroupMember, joins: FakeJoins, caplog: pytest.LogCaptureFixture
) -> None:
    member.poll(0)
    joins.started[0].failure(RuntimeError("GroupAuthorizationFailedError"))

    member.poll(0)
    assert len(joins.started) == 1
    assert "Joining group connect-cluster failed; retrying in 0.1 s" in caplog.text
    member.poll(300)
    assert len(joins.started) == 2


def test_work_is_revoked_when_the_coordinator_stays_unreachable_for_a_heartbeat_interval(
    recorder: Recorder, joins: FakeJoins
) -> None:
    member = make_member(recorder, session_timeout_ms=1000, heartbeat_interval_ms=100)
    member._start_background_join = joins  # type: ignore[method-assign]
    try:
        member._coordinator.coordinator_id = "coordinator-0"
        held = ConnectAssignment(connectors=["c1"])
        join_once(member, joins, 1, held)

        member._coordinator.coordinator_id = None  # as kafka-python marks it dead
        member.poll(50)
        assert "revoked" not in recorder.names()
        member.poll(300)

        assert recorder.calls[-4] == ("revoked", held, threading.current_thread())
        assert recorder.names()[-3:] == ["metadata"] * 3  # and it rejoins
        assert member.assignment is None
    finally:
        member.stop(timeout_ms=0)


def test_wakeup_ends_a_poll_blocked_on_another_thread(member: WorkerGroupMember) -> None:
    member.poll(0)
    timer = threading.Timer(0.2, member.wakeup)
    timer.start()

    started = time.monotonic()
    member.poll(10000)

    assert time.monotonic() - started < 5
    timer.join()


def test_after_stop_poll_returns_at_once_and_stop_is_idempotent(
    recorder: Recorder, joins: FakeJoins
) -> None:
    member = make_member(recorder)
    member._start_background_join = joins  # type: ignore[method-assign]
    member.stop(timeout_ms=0)
    member.stop(timeout_ms=0)

    started = time.monotonic()
    member.poll(5000)

    assert time.monotonic() - started < 1
    assert joins.started == [] and recorder.calls == []
