"""Worker group membership against a real broker: members in one process (each polled by a
thread of its own, as a herder does) share one generation and one leader; the leader sees what
every member sent; a member that leaves or dies is dropped within the session timeout; a member
offering only ``default`` makes the group eager; heartbeats go on while a herder thread is busy;
a broker restart is survived. Every callback the herder gets runs on its own thread."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from kconnect.runtime.distributed.group_member import WorkerGroupMember
from kconnect.runtime.distributed.protocol import (
    ConnectAssignment,
    ConnectProtocolCompatibility,
    WorkerAllocation,
    WorkerMetadata,
)
from kconnect.runtime.states import TaskId
from kconnect.testing import KafkaCluster, wait_until

SESSION_TIMEOUT_MS = 6000  # the broker's group.min.session.timeout.ms
HEARTBEAT_INTERVAL_MS = 2000
REBALANCE_TIMEOUT_MS = 20000
EAGER = ConnectProtocolCompatibility.EAGER
SESSIONED = ConnectProtocolCompatibility.SESSIONED
ALL_PROTOCOLS = (SESSIONED, ConnectProtocolCompatibility.COMPATIBLE, EAGER)
CONNECTORS = ["c0", "c1", "c2", "c3"]
TASKS = [TaskId(c, n) for c in CONNECTORS for n in range(2)]


def round_robin(
    leader_id: str, leader_url: str, protocol: ConnectProtocolCompatibility, members: dict
) -> dict[str, ConnectAssignment]:
    """The fixed work dealt over the members in member-id order (leader fields left empty: the
    member fills them in)."""
    ids = sorted(members)
    return {
        member_id: ConnectAssignment(
            connectors=CONNECTORS[i :: len(ids)], tasks=TASKS[i :: len(ids)]
        )
        for i, member_id in enumerate(ids)
    }


@dataclass
class Assigned:
    assignment: ConnectAssignment
    generation: int
    protocol: ConnectProtocolCompatibility
    thread: str
    at: float


@dataclass
class Revoked:
    assignment: ConnectAssignment
    thread: str
    at: float


@dataclass
class AssignCall:
    leader_id: str
    leader_url: str
    protocol: ConnectProtocolCompatibility
    members: dict[str, WorkerMetadata]
    thread: str


class Herder:
    """A member polled in a loop by a thread of its own; records every callback."""

    def __init__(
        self,
        name: str,
        bootstrap_servers: str,
        group_id: str,
        protocols: Sequence[ConnectProtocolCompatibility] = ALL_PROTOCOLS,
        poll_ms: int = 200,
    ) -> None:
        self.name = name
        self.url = f"http://{name}:8083/"
        self.config_offset = len(name)
        self.allocation = WorkerAllocation(connectors=[f"held-by-{name}"], tasks=[])
        self.events: list[Assigned | Revoked] = []
        self.assign_calls: list[AssignCall] = []
        self.errors: list[BaseException] = []
        self.polls: list[float] = []  # how long each poll() took
        self.paused = threading.Event()
        self._poll_ms = poll_ms
        self._stop = threading.Event()
        self.member = WorkerGroupMember(
            client_config={"bootstrap.servers": bootstrap_servers, "client.id": name},
            group_id=group_id,
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
            rebalance_timeout_ms=REBALANCE_TIMEOUT_MS,
            protocols=protocols,
            metadata=self._metadata,
            assign=self._assign,
            on_assigned=self._on_assigned,
            on_revoked=self._on_revoked,
        )
        self.thread = threading.Thread(target=self._run, name=f"herder-{name}", daemon=True)

    def expected_metadata(self, protocol: ConnectProtocolCompatibility) -> WorkerMetadata:
        # the eager layout has no allocation
        allocation = None if protocol is EAGER else self.allocation
        return WorkerMetadata(self.url, self.config_offset, allocation)

    def _metadata(self, protocol: ConnectProtocolCompatibility) -> WorkerMetadata:
        return WorkerMetadata(self.url, self.config_offset, self.allocation)

    def _assign(
        self,
        leader_id: str,
        leader_url: str,
        protocol: ConnectProtocolCompatibility,
        members: dict[str, WorkerMetadata],
    ) -> dict[str, ConnectAssignment]:
        name = threading.current_thread().name
        self.assign_calls.append(AssignCall(leader_id, leader_url, protocol, members, name))
        return round_robin(leader_id, leader_url, protocol, members)

    def _on_assigned(
        self, assignment: ConnectAssignment, generation: int, protocol: ConnectProtocolCompatibility
    ) -> None:
        name = threading.current_thread().name
        self.events.append(Assigned(assignment, generation, protocol, name, time.monotonic()))

    def _on_revoked(self, assignment: ConnectAssignment) -> None:
        name = threading.current_thread().name
        self.events.append(Revoked(assignment, name, time.monotonic()))

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self.paused.is_set():
                    time.sleep(0.05)  # a herder busy with something else: no poll()
                    continue
                started = time.monotonic()
                self.member.poll(self._poll_ms)
                self.polls.append(time.monotonic() - started)
        except BaseException as error:  # noqa: BLE001 - the test asserts there are none
            self.errors.append(error)

    def start(self) -> Herder:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.member.wakeup()
        self.thread.join(10)
        self.member.stop()

    @property
    def assigned(self) -> list[Assigned]:
        return [e for e in self.events if isinstance(e, Assigned)]

    @property
    def last(self) -> Assigned | None:
        assigned = self.assigned
        return assigned[-1] if assigned else None

    def settled_in(self, generation: int | None = None) -> bool:
        last = self.last
        return (
            last is not None
            and (generation is None or last.generation == generation)
            and not self.member.rebalancing()
        )


def settled(herders: Sequence[Herder], members: int | None = None) -> int | None:
    """The generation all ``herders`` settled in, or None; with ``members``, only one whose
    leader assigned that many members."""
    lasts = [h.last for h in herders]
    if any(last is None for last in lasts) or len({last.generation for last in lasts}) != 1:
        return None
    if not all(h.settled_in() for h in herders):
        return None
    if members is not None:
        leader_calls = [h.assign_calls[-1] for h in herders if h.member.is_leader]
        if len(leader_calls) != 1 or len(leader_calls[0].members) != members:
            return None
    return lasts[0].generation


@pytest.fixture
def group_id() -> str:
    return f"test-connect-group-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def herders(bootstrap_servers: str, group_id: str) -> Iterator[list[Herder]]:
    """Whatever herders a test appends here are stopped after it, and must not have failed."""
    started: list[Herder] = []
    yield started
    for herder in started:
        if herder.thread.is_alive():
            herder.stop()
    for herder in started:
        assert herder.errors == [], f"{herder.name}'s poll() raised"


def start_herders(
    herders: list[Herder], bootstrap_servers: str, group_id: str, names: Sequence[str], **kw
) -> list[Herder]:
    new = [Herder(name, bootstrap_servers, group_id, **kw) for name in names]
    herders.extend(new)
    for herder in new:
        herder.start()
    return new


def test_three_members_share_one_generation_and_one_leader(
    bootstrap_servers: str,
    group_id: str,
    herders: list[Herder],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    trio = start_herders(herders, bootstrap_servers, group_id, ["w0", "w1", "w2"])

    generation = wait_until(lambda: settled(trio), 60, "three members in one generation")

    leaders = [h for h in trio if h.member.is_leader]
    assert len(leaders) == 1
    leader = leaders[0]
    for herder in trio:
        last = herder.last
        assert last is not None
        assert herder.member.generation == generation >= 1
        assert herder.member.protocol is SESSIONED and last.protocol is SESSIONED
        assert herder.member.leader_id == leader.member.member_id
        assert last.assignment.leader == leader.member.member_id
        assert last.assignment.leader_url == leader.url
        # delivered on the herder's own thread, never on kafka-python's
        assert all(e.thread == herder.thread.name for e in herder.events)
    # the fixed work, each item exactly once
    connectors = [c for h in trio for c in h.last.assignment.connectors]
    tasks = [t for h in trio for t in h.last.assignment.tasks]
    assert sorted(connectors) == sorted(CONNECTORS)
    assert sorted(tasks, key=str) == sorted(TASKS, key=str)
    # kafka-python is kept to warnings; the member says what matters itself
    assert not [r for r in caplog.records if r.name.startswith("kafka.") and r.levelno < 30]
    assert any("Joined group" in r.getMessage() for r in caplog.records)


def test_the_leader_sees_the_metadata_each_member_sent(
    bootstrap_servers: str, group_id: str, herders: list[Herder]
) -> None:
    trio = start_herders(herders, bootstrap_servers, group_id, ["alpha", "b", "gamma"])
    wait_until(lambda: settled(trio, members=3), 60, "three members in one generation")

    leader = next(h for h in trio if h.member.is_leader)
    call = leader.assign_calls[-1]
    assert call.protocol is SESSIONED
    assert call.leader_id == leader.member.member_id
    assert call.leader_url == leader.url
    assert call.members == {h.member.member_id: h.expected_metadata(SESSIONED) for h in trio}
    # assign runs on kafka-python's I/O thread (hence: quick and thread-safe)
    assert call.thread != leader.thread.name
    assert all(not h.assign_calls for h in trio if h is not leader)


def test_a_member_that_stops_is_gone_from_the_next_generation_within_the_session_timeout(
    bootstrap_servers: str, group_id: str, herders: list[Herder]
) -> None:
    trio = start_herders(herders, bootstrap_servers, group_id, ["w0", "w1", "w2"])
    first = wait_until(lambda: settled(trio, members=3), 60, "three members in one generation")
    leaving, staying = trio[0], trio[1:]

    stopped_at = time.monotonic()
    leaving.stop()
    second = wait_until(lambda: settled(staying, members=2), 30, "two members in a new generation")
    took = max(h.last.at for h in staying) - stopped_at

    assert second > first
    assert took < SESSION_TIMEOUT_MS / 1000, f"the rebalance took {took:.1f} s"
    leader = next(h for h in staying if h.member.is_leader)
    assert set(leader.assign_calls[-1].members) == {h.member.member_id for h in staying}
    connectors = [c for h in staying for c in h.last.assignment.connectors]
    assert sorted(connectors) == sorted(CONNECTORS)


_CRASHING_MEMBER = textwrap.dedent(
    """
    import sys
    from kconnect.runtime.distributed.group_member import WorkerGroupMember
    from kconnect.runtime.distributed.protocol import (
        ConnectAssignment, ConnectProtocolCompatibility, WorkerMetadata)

    bootstrap, group, session, heartbeat, rebalance = sys.argv[1:6]
    member = WorkerGroupMember(
        client_config={"bootstrap.servers": bootstrap, "client.id": "doomed"},
        group_id=group, session_timeout_ms=int(session), heartbeat_interval_ms=int(heartbeat),
        rebalance_timeout_ms=int(rebalance), protocols=list(ConnectProtocolCompatibility),
        metadata=lambda protocol: WorkerMetadata("http://doomed:8083/", 0),
        assign=lambda leader, url, protocol, members: {m: ConnectAssignment() for m in members},
        on_assigned=lambda a, generation, p: print("generation", generation, flush=True),
        on_revoked=lambda a: None,
    )
    while True:
        member.poll(200)
    """
)


def test_a_member_that_dies_is_dropped_after_its_session_timeout(
    bootstrap_servers: str, group_id: str, herders: list[Herder], tmp_path: Path
) -> None:
    script = tmp_path / "member.py"
    script.write_text(_CRASHING_MEMBER)
    args = [bootstrap_servers, group_id, SESSION_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS]
    process = subprocess.Popen(
        [sys.executable, str(script), *map(str, [*args, REBALANCE_TIMEOUT_MS])],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        duo = start_herders(herders, bootstrap_servers, group_id, ["w0", "w1"])
        first = wait_until(lambda: settled(duo, members=3), 60, "three members, one elsewhere")

        killed_at = time.monotonic()
        os.kill(process.pid, signal.SIGKILL)  # no LeaveGroup: only the session timeout tells
        second = wait_until(lambda: settled(duo, members=2), 60, "the dead member to be dropped")
        took = max(h.last.at for h in duo) - killed_at
    finally:
        process.kill()
        process.wait(10)

    assert second > first
    # the coordinator notices after the session timeout; the survivors learn of the rebalance
    # at their next heartbeat and join at once
    limit = (SESSION_TIMEOUT_MS + 2 * HEARTBEAT_INTERVAL_MS) / 1000 + 2
    assert SESSION_TIMEOUT_MS / 1000 - 1 < took < limit, f"the rebalance took {took:.1f} s"


def test_a_member_offering_only_default_makes_the_group_eager(
    bootstrap_servers: str, group_id: str, herders: list[Herder]
) -> None:
    pair = start_herders(herders, bootstrap_servers, group_id, ["w0", "w1"])
    first = wait_until(lambda: settled(pair, members=2), 60, "two cooperative members")
    assert all(h.member.protocol is SESSIONED for h in pair)

    (eager_only,) = start_herders(herders, bootstrap_servers, group_id, ["old"], protocols=[EAGER])
    trio = [*pair, eager_only]
    second = wait_until(lambda: settled(trio, members=3), 60, "the eager member to join")
    assert second > first
    assert all(h.member.protocol is EAGER and h.last.protocol is EAGER for h in trio)
    # the move to eager was a cooperative rebalance: nothing was revoked before it
    assert not [e for h in pair for e in h.events if isinstance(e, Revoked)]
    # the leader got the eager layout from everyone: no allocations
    leader = next(h for h in trio if h.member.is_leader)
    assert all(m.allocation is None for m in leader.assign_calls[-1].members.values())

    eager_only.stop()
    third = wait_until(lambda: settled(pair, members=2), 60, "back to two members")
    assert third > second
    for herder in pair:
        # eager: everything was revoked, on the herder thread, before the member rejoined
        eager = next(e for e in herder.assigned if e.generation == second)
        events = [e for e in herder.events if e.at > eager.at]
        assert [type(e) for e in events] == [Revoked, Assigned]
        revoked = events[0]
        assert isinstance(revoked, Revoked)
        assert revoked.assignment.connectors == eager.assignment.connectors
        assert revoked.thread == herder.thread.name
        # and with the eager member gone, the group is cooperative again
        assert herder.member.protocol is SESSIONED


def test_heartbeats_keep_a_member_whose_herder_is_busy_in_the_group(
    bootstrap_servers: str, group_id: str, herders: list[Herder]
) -> None:
    pair = start_herders(herders, bootstrap_servers, group_id, ["w0", "w1"])
    generation = wait_until(lambda: settled(pair, members=2), 60, "two members")
    busy = pair[0]

    busy_from = time.monotonic()
    busy.paused.set()  # no poll() for twice the session timeout (within the rebalance timeout)
    time.sleep(2 * SESSION_TIMEOUT_MS / 1000)
    busy.paused.clear()
    time.sleep(2 * HEARTBEAT_INTERVAL_MS / 1000)

    for herder in pair:
        assert herder.member.generation == generation
        assert herder.settled_in(generation), f"{herder.name} is rebalancing"
        assert [e for e in herder.events if e.at > busy_from] == []


@pytest.fixture
def own_cluster() -> Iterator[KafkaCluster]:
    # a broker of its own: this test stops it
    with KafkaCluster(brokers=1) as cluster:
        yield cluster


def test_a_member_survives_a_broker_restart_and_rejoins(own_cluster: KafkaCluster) -> None:
    herder = Herder("w0", own_cluster.bootstrap_servers, "restart-group", poll_ms=500).start()
    try:
        first = wait_until(lambda: herder.settled_in() and herder.last, 60, "the first join")
        assert first.assignment.connectors == CONNECTORS

        own_cluster.stop_broker(0)
        # cooperative, coordinator unreachable: everything is revoked so nothing runs twice
        wait_until(
            lambda: [e for e in herder.events if isinstance(e, Revoked)], 30, "the revocation"
        )
        down_polls = len(herder.polls)
        time.sleep(2)
        own_cluster.restart_broker(0)

        again = wait_until(
            lambda: (
                herder.settled_in() and herder.last.generation > first.generation and herder.last
            ),
            90,
            "a rejoin after the restart",
        )
        assert again.assignment.connectors == CONNECTORS
        # poll() kept returning in time while the broker was away, and never raised
        assert len(herder.polls) > down_polls
        assert max(herder.polls) < 0.5 + 1.0
        assert herder.thread.is_alive() and herder.errors == []
        assert all(e.thread == herder.thread.name for e in herder.events)
    finally:
        herder.stop()
