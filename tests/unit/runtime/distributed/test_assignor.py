"""The leader's assignment: cooperative (KIP-415) and eager. Scenarios follow Apache Kafka's
IncrementalCooperativeAssignorTest; members here apply each assignment as a worker does (keep
what they run - revoked + new), with a fake clock, so every test sees whole rounds."""

from __future__ import annotations

import random

import pytest
from kconnect.runtime.distributed.assignor import (
    ConfigSnapshot,
    EagerAssignor,
    IncrementalCooperativeAssignor,
)
from kconnect.runtime.distributed.protocol import (
    CONFIG_MISMATCH,
    NO_ERROR,
    ConnectAssignment,
    WorkerAllocation,
    WorkerMetadata,
)
from kconnect.runtime.states import TaskId

MAX_DELAY = 300_000


def url(member: str) -> str:
    return f"http://{member}:8083"


class Cluster:
    """A group of members around one cooperative assignor; the first member id is the leader."""

    def __init__(self, connectors: dict[str, int] | None = None, max_delay: int = MAX_DELAY):
        self.now = 1_000
        self.assignor = IncrementalCooperativeAssignor(max_delay, clock=lambda: self.now)
        self.tasks: dict[str, int] = dict(connectors or {})
        self.offset = 10
        self.connectors_of: dict[str, set[str]] = {}
        self.tasks_of: dict[str, set[TaskId]] = {}
        self.last: dict[str, ConnectAssignment] = {}

    # --- membership and config ------------------------------------------------------------------

    def join(self, *members: str) -> None:
        for m in members:
            self.connectors_of[m] = set()
            self.tasks_of[m] = set()

    def join_running(self, member: str, connectors: set[str], tasks: set[TaskId]) -> None:
        self.connectors_of[member] = set(connectors)
        self.tasks_of[member] = set(tasks)

    def leave(self, *members: str) -> dict[str, tuple[set[str], set[TaskId]]]:
        return {m: (self.connectors_of.pop(m), self.tasks_of.pop(m)) for m in members}

    def configure(self, name: str, tasks: int) -> None:
        self.tasks[name] = tasks
        self.offset += 1

    def delete(self, name: str) -> None:
        del self.tasks[name]
        self.offset += 1

    # --- rounds -----------------------------------------------------------------------------------

    def metadata(self) -> dict[str, WorkerMetadata]:
        return {
            m: WorkerMetadata(
                url(m),
                self.offset,
                WorkerAllocation(
                    sorted(self.connectors_of[m]),
                    sorted(self.tasks_of[m], key=lambda t: (t.connector, t.task)),
                ),
            )
            for m in self.connectors_of
        }

    def snapshot(self) -> ConfigSnapshot:
        return ConfigSnapshot(self.offset, dict(self.tasks))

    def rebalance(self, apply: bool = True) -> dict[str, ConnectAssignment]:
        leader = min(self.connectors_of)
        out = self.assignor.assign(leader, url(leader), self.metadata(), self.snapshot())
        assert set(out) == set(self.connectors_of)
        for m, a in out.items():
            assert a.error == NO_ERROR
            assert (a.leader, a.leader_url, a.config_offset) == (leader, url(leader), self.offset)
            # a worker is only told to stop what it runs and to start what it does not
            assert set(a.revoked_connectors) <= self.connectors_of[m]
            assert set(a.revoked_tasks) <= self.tasks_of[m]
            assert not set(a.connectors) & self.connectors_of[m]
            assert not set(a.tasks) & self.tasks_of[m]
        if apply:
            for m, a in out.items():
                self.connectors_of[m] = self.connectors_of[m] - set(a.revoked_connectors)
                self.connectors_of[m] |= set(a.connectors)
                self.tasks_of[m] = self.tasks_of[m] - set(a.revoked_tasks) | set(a.tasks)
            self.assert_nothing_runs_twice()
        self.last = out
        return out

    def settle(self, max_rounds: int = 30) -> int:
        """Rebalance until nothing moves and no delay is pending; members rejoin after the
        delay they were sent, as the herder does. Returns the number of rounds."""
        for rounds in range(1, max_rounds + 1):
            out = self.rebalance()
            delay = max(a.delay_ms for a in out.values())
            if delay:
                self.now += delay
            elif not any(changed(a) for a in out.values()):
                return rounds
        raise AssertionError(f"no stable assignment after {max_rounds} rounds")

    # --- checks -----------------------------------------------------------------------------------

    def counts(self) -> tuple[list[int], list[int]]:
        """Connectors and tasks per member, in member id order."""
        order = sorted(self.connectors_of)
        return [len(self.connectors_of[m]) for m in order], [len(self.tasks_of[m]) for m in order]

    def assert_nothing_runs_twice(self) -> None:
        conns = [c for cs in self.connectors_of.values() for c in cs]
        tasks = [t for ts in self.tasks_of.values() for t in ts]
        assert len(conns) == len(set(conns)), conns
        assert len(tasks) == len(set(tasks)), tasks

    def assert_balanced_and_complete(self) -> None:
        self.assert_nothing_runs_twice()
        running_conns = set().union(*self.connectors_of.values())
        running_tasks = set().union(*self.tasks_of.values())
        assert running_conns == set(self.tasks)
        assert running_tasks == {TaskId(c, n) for c, k in self.tasks.items() for n in range(k)}
        conns, tasks = self.counts()
        assert max(conns) - min(conns) < 2, conns
        assert max(tasks) - min(tasks) < 2, tasks


def changed(a: ConnectAssignment) -> bool:
    return bool(a.connectors or a.tasks or a.revoked_connectors or a.revoked_tasks)


def assert_no_changes(out: dict[str, ConnectAssignment]) -> None:
    assert not any(changed(a) for a in out.values()), out


def tasks(connector: str, n: int) -> set[TaskId]:
    return {TaskId(connector, i) for i in range(n)}


# --- balance --------------------------------------------------------------------------------------


def test_first_round_spreads_new_work_over_all_workers() -> None:
    cluster = Cluster({"c1": 4, "c2": 4})
    cluster.join("w1", "w2")
    out = cluster.rebalance()
    assert cluster.counts() == ([1, 1], [4, 4])
    assert all(
        a.delay_ms == 0 and not a.revoked_connectors and not a.revoked_tasks for a in out.values()
    )
    cluster.assert_balanced_and_complete()
    assert_no_changes(cluster.rebalance())


def shape(seed: int, n_connectors: int) -> dict[str, int]:
    rnd = random.Random(seed)
    return {f"conn-{i:02d}": rnd.randint(0, 8) for i in range(n_connectors)}


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("n_connectors", range(11))
def test_balanced_for_many_shapes(workers: int, n_connectors: int) -> None:
    config = shape(workers * 100 + n_connectors, n_connectors)
    members = [f"w{i}" for i in range(workers)]

    # all at once: one round, nothing to revoke
    cluster = Cluster(config)
    cluster.join(*members)
    out = cluster.rebalance()
    assert not any(a.revoked_connectors or a.revoked_tasks for a in out.values())
    cluster.assert_balanced_and_complete()

    # one worker after another, each time settling
    cluster = Cluster(config)
    for m in members:
        cluster.join(m)
        cluster.settle()
        cluster.assert_balanced_and_complete()


def test_connectors_and_tasks_are_balanced_separately() -> None:
    # 4 one-task connectors on 2 workers: 2 connectors and 2 tasks each, whoever runs what
    cluster = Cluster({f"c{i}": 1 for i in range(4)})
    cluster.join("w1", "w2")
    cluster.rebalance()
    assert cluster.counts() == ([2, 2], [2, 2])
    # a connector with no tasks still has its Connector instance placed
    cluster.configure("empty", 0)
    out = cluster.rebalance()
    assert sum(len(a.connectors) for a in out.values()) == 1
    assert cluster.counts()[0] in ([3, 2], [2, 3])
    cluster.assert_balanced_and_complete()


# --- joining workers ------------------------------------------------------------------------------


def test_join_moves_work_to_new_worker_and_revokes_only_the_excess() -> None:
    cluster = Cluster({"c1": 4, "c2": 4})
    cluster.join("w1")
    cluster.rebalance()
    assert cluster.counts() == ([2], [8])
    kept_before = (set(cluster.connectors_of["w1"]), set(cluster.tasks_of["w1"]))

    cluster.join("w2")
    out = cluster.rebalance()
    # w1 gives up exactly its excess: 1 of 2 connectors and 4 of 8 tasks; nothing is started
    # elsewhere in the same round
    assert len(out["w1"].revoked_connectors) == 1 and len(out["w1"].revoked_tasks) == 4
    assert not out["w1"].connectors and not out["w1"].tasks
    assert not changed(out["w2"])
    assert all(a.delay_ms == 0 for a in out.values())
    revoked = (set(out["w1"].revoked_connectors), set(out["w1"].revoked_tasks))

    out = cluster.rebalance()
    # the follow-up hands exactly the revoked work to the new worker, nothing else moves
    assert (set(out["w2"].connectors), set(out["w2"].tasks)) == revoked
    assert not changed(out["w1"]) and not out["w2"].revoked_connectors
    assert cluster.connectors_of["w1"] == kept_before[0] - revoked[0]
    assert cluster.tasks_of["w1"] == kept_before[1] - revoked[1]
    cluster.assert_balanced_and_complete()
    assert_no_changes(cluster.rebalance())


def test_join_revokes_nothing_from_workers_at_their_fair_share() -> None:
    # 3 workers hold 2/2/1 connectors of 5; a 4th joins: fair share 1 or 2 (one worker keeps 2),
    # so exactly one connector moves
    cluster = Cluster({f"c{i}": 0 for i in range(5)})
    cluster.join("w1", "w2", "w3")
    cluster.settle()
    cluster.join("w4")
    out = cluster.rebalance()
    assert sum(len(a.revoked_connectors) for a in out.values()) == 1
    cluster.settle()
    assert sorted(cluster.counts()[0]) == [1, 1, 1, 2]


def test_successive_revoking_rounds_back_off() -> None:
    cluster = Cluster({"c1": 4, "c2": 4, "c3": 4})
    cluster.join("w1")
    cluster.rebalance()
    cluster.join("w2")
    out = cluster.rebalance()
    assert out["w1"].revoked_tasks and out["w1"].delay_ms == 0

    # a third worker right after a revoking round: no revocation, a short delay instead; the
    # work revoked last round is still handed out
    cluster.join("w3")
    out = cluster.rebalance()
    assert not any(a.revoked_connectors or a.revoked_tasks for a in out.values())
    assert {a.delay_ms for a in out.values()} == {40}
    assert cluster.counts() == ([2, 1, 0], [6, 3, 3])  # w1 keeps 2 connectors until the delay ends

    # after the delay revocations resume; another revoking round right after backs off longer
    cluster.now += 40
    cluster.join("w4")
    out = cluster.rebalance()
    assert any(a.revoked_tasks for a in out.values())
    cluster.join("w5")
    out = cluster.rebalance()
    assert {a.delay_ms for a in out.values()} == {1600}
    cluster.settle()
    cluster.assert_balanced_and_complete()


def test_revocation_backoff_never_exceeds_max_delay() -> None:
    cluster = Cluster({"c1": 12}, max_delay=1)
    cluster.join("w1")
    cluster.rebalance()
    cluster.join("w2")
    cluster.rebalance()
    cluster.join("w3")
    out = cluster.rebalance()
    assert {a.delay_ms for a in out.values()} == {1}


# --- leaving workers ------------------------------------------------------------------------------


def test_leaving_worker_work_is_held_then_reassigned_after_the_delay() -> None:
    cluster = Cluster({"c1": 4, "c2": 4})
    cluster.join("w1", "w2")
    cluster.rebalance()
    gone = cluster.leave("w2")["w2"]

    out = cluster.rebalance()
    assert out["w1"].delay_ms == MAX_DELAY
    assert not changed(out["w1"])
    assert cluster.assignor.scheduled_rebalance_ms == cluster.now + MAX_DELAY

    cluster.now += MAX_DELAY // 2
    out = cluster.rebalance()
    assert out["w1"].delay_ms == MAX_DELAY // 2  # the deadline does not move
    assert not changed(out["w1"])

    cluster.now += MAX_DELAY // 2
    out = cluster.rebalance()
    assert out["w1"].delay_ms == 0
    assert (set(out["w1"].connectors), set(out["w1"].tasks)) == gone
    assert cluster.assignor.current_assignment["w1"].connectors == ["c1", "c2"]
    cluster.assert_balanced_and_complete()


def test_worker_returning_empty_within_the_delay_gets_its_work_back() -> None:
    cluster = Cluster({"c1": 4, "c2": 4, "c3": 2})
    cluster.join("w1", "w2", "w3")
    cluster.settle()
    before = {m: (set(cluster.connectors_of[m]), set(cluster.tasks_of[m])) for m in ["w1", "w3"]}
    gone = cluster.leave("w2")["w2"]
    cluster.rebalance()

    cluster.now += MAX_DELAY // 2
    cluster.join("w2")  # restarted: it runs nothing
    out = cluster.rebalance()
    assert {a.delay_ms for a in out.values()} == {MAX_DELAY // 2}
    assert not any(changed(a) for a in out.values())
    assert cluster.assignor.candidate_workers == {"w2"}

    cluster.now += MAX_DELAY // 2
    out = cluster.rebalance()
    assert (set(out["w2"].connectors), set(out["w2"].tasks)) == gone
    assert not changed(out["w1"]) and not changed(out["w3"])
    assert {m: (cluster.connectors_of[m], cluster.tasks_of[m]) for m in before} == before
    assert cluster.assignor.candidate_workers == frozenset()
    cluster.assert_balanced_and_complete()


def test_lost_work_goes_to_the_worker_that_joined_empty_not_the_least_loaded() -> None:
    cluster = Cluster({"c1": 4, "c2": 4, "c3": 4})
    cluster.join("w1", "w2", "w3")
    cluster.settle()
    gone = cluster.leave("w2")["w2"]
    cluster.rebalance()
    cluster.join("w2")
    cluster.rebalance()
    assert cluster.assignor.candidate_workers == {"w2"}
    # new work created meanwhile goes to the least loaded: the returning worker
    cluster.configure("c4", 4)
    out = cluster.rebalance()
    assert out["w2"].connectors == ["c4"] and set(out["w2"].tasks) == tasks("c4", 4)

    cluster.now += MAX_DELAY
    out = cluster.rebalance()
    # all of its old work comes back, though w1 and w3 now hold less; w2's excess of tasks goes
    # back to the pool (nothing it was running is stopped)
    assert set(out["w2"].connectors) == gone[0]
    assert set(out["w2"].tasks) <= gone[1] and len(out["w2"].tasks) == 2
    assert not out["w2"].revoked_tasks
    assert [len(a.tasks) for a in (out["w1"], out["w3"])] == [1, 1]
    cluster.settle()
    cluster.assert_balanced_and_complete()


def test_worker_returning_with_its_work_ends_the_delay_at_once() -> None:
    cluster = Cluster({"c1": 4, "c2": 4})
    cluster.join("w1", "w2")
    cluster.rebalance()
    conns, tsks = cluster.leave("w2")["w2"]
    assert cluster.rebalance()["w1"].delay_ms == MAX_DELAY

    cluster.join_running("w2", conns, tsks)  # missed a heartbeat but kept running
    out = cluster.rebalance()
    assert {a.delay_ms for a in out.values()} == {0}
    assert_no_changes(out)
    assert cluster.assignor.scheduled_rebalance_ms == 0
    cluster.assert_balanced_and_complete()


def test_lost_work_goes_to_least_loaded_when_no_worker_joined_empty() -> None:
    cluster = Cluster({"c1": 3, "c2": 3, "c3": 3})
    cluster.join("w1", "w2", "w3")
    cluster.settle()
    cluster.leave("w3")
    cluster.rebalance()
    cluster.now += MAX_DELAY
    cluster.rebalance()
    assert cluster.assignor.delay_ms == 0
    cluster.settle()
    cluster.assert_balanced_and_complete()


def test_new_work_is_assigned_while_lost_work_is_held() -> None:
    cluster = Cluster({"c1": 2})
    cluster.join("w1", "w2")
    cluster.rebalance()
    gone = cluster.leave("w2")["w2"]
    cluster.rebalance()

    cluster.configure("c2", 2)
    cluster.now += 1000
    out = cluster.rebalance()
    assert set(out["w1"].connectors) == {"c2"} and set(out["w1"].tasks) == tasks("c2", 2)
    assert out["w1"].delay_ms == MAX_DELAY - 1000
    assert not (gone[0] & cluster.connectors_of["w1"]) and not (gone[1] & cluster.tasks_of["w1"])


def test_max_delay_zero_reassigns_lost_work_at_once() -> None:
    cluster = Cluster({"c1": 4, "c2": 4}, max_delay=0)
    cluster.join("w1", "w2")
    cluster.rebalance()
    gone = cluster.leave("w2")["w2"]
    out = cluster.rebalance()
    assert out["w1"].delay_ms == 0
    assert (set(out["w1"].connectors), set(out["w1"].tasks)) == gone
    cluster.assert_balanced_and_complete()


def test_assignment_that_never_arrived_is_handed_out_again_without_delay() -> None:
    # the members never applied round 1 and rejoin with what they ran before: nobody left, so
    # there is no one to wait for
    cluster = Cluster({"c1": 4, "c2": 4})
    cluster.join("w1", "w2")
    cluster.rebalance(apply=False)
    out = cluster.rebalance()
    assert {a.delay_ms for a in out.values()} == {0}
    cluster.assert_balanced_and_complete()


def test_generation_mismatch_forgets_the_previous_assignment() -> None:
    assignor = IncrementalCooperativeAssignor(MAX_DELAY, clock=lambda: 0)
    snap = ConfigSnapshot(5, {"c1": 2})
    members = {m: WorkerMetadata(url(m), 5, WorkerAllocation()) for m in ["w1", "w2"]}
    assignor.assign("w1", url("w1"), members, snap, generation=1, last_completed_generation=0)
    # generation 1 never completed; w2 is gone. Without the generations this looks like lost
    # work (held); with them, the leader knows its last assignment was not applied
    members.pop("w2")
    out = assignor.assign("w1", url("w1"), members, snap, generation=2, last_completed_generation=0)
    assert out["w1"].delay_ms == 0
    assert out["w1"].connectors == ["c1"] and len(out["w1"].tasks) == 2


# --- config changes -------------------------------------------------------------------------------


def test_deleted_connector_is_revoked_and_the_rest_rebalanced() -> None:
    cluster = Cluster({"c1": 4, "c2": 4, "c3": 4})
    cluster.join("w1", "w2")
    cluster.rebalance()
    holder = next(m for m in cluster.connectors_of if "c3" in cluster.connectors_of[m])
    c3_tasks = {m: {t for t in ts if t.connector == "c3"} for m, ts in cluster.tasks_of.items()}

    cluster.delete("c3")
    out = cluster.rebalance()
    assert out[holder].revoked_connectors == ["c3"]
    for m, a in out.items():
        assert {t for t in a.revoked_tasks if t.connector == "c3"} == c3_tasks[m]
    cluster.settle()
    cluster.assert_balanced_and_complete()
    assert cluster.counts() == ([1, 1], [4, 4])


def test_fewer_tasks_revokes_the_removed_ones() -> None:
    cluster = Cluster({"c1": 6})
    cluster.join("w1", "w2")
    cluster.rebalance()
    cluster.configure("c1", 2)
    out = cluster.rebalance()
    revoked = {t for a in out.values() for t in a.revoked_tasks}
    assert {TaskId("c1", n) for n in range(2, 6)} <= revoked
    cluster.settle()
    cluster.assert_balanced_and_complete()


def test_new_leader_revokes_work_of_a_connector_deleted_meanwhile() -> None:
    # a fresh leader has no previous assignment: what members run but is not configured goes
    cluster = Cluster({"c1": 2})
    cluster.join_running("w1", {"a-gone", "c1"}, tasks("a-gone", 1) | tasks("c1", 2))
    cluster.join("w2")
    out = cluster.rebalance()
    assert out["w1"].revoked_connectors == ["a-gone"]
    assert TaskId("a-gone", 0) in out["w1"].revoked_tasks  # (and c1's excess task)
    cluster.settle()
    cluster.assert_balanced_and_complete()


def test_work_running_on_two_workers_is_revoked_from_both_then_placed_once() -> None:
    cluster = Cluster({"c1": 4, "c2": 4})
    cluster.join("w1")
    cluster.rebalance()
    cluster.join_running("w2", {"c1"}, tasks("c1", 4))
    out = cluster.rebalance()
    for m in ["w1", "w2"]:
        assert "c1" in out[m].revoked_connectors
        assert tasks("c1", 4) <= set(out[m].revoked_tasks)
    cluster.settle()
    cluster.assert_balanced_and_complete()


def test_config_mismatch_when_leader_is_behind() -> None:
    assignor = IncrementalCooperativeAssignor(MAX_DELAY, clock=lambda: 0)
    members = {
        "w1": WorkerMetadata(url("w1"), 7, WorkerAllocation(["c1"], [TaskId("c1", 0)])),
        "w2": WorkerMetadata(url("w2"), 9, WorkerAllocation()),
    }
    out = assignor.assign("w1", url("w1"), members, ConfigSnapshot(7, {"c1": 1, "c2": 1}))
    assert out == {
        m: ConnectAssignment(
            error=CONFIG_MISMATCH, leader="w1", leader_url=url("w1"), config_offset=9
        )
        for m in ["w1", "w2"]
    }
    assert all(a.failed for a in out.values())
    # nothing was remembered: once caught up, the round is a normal one
    out = assignor.assign("w1", url("w1"), members, ConfigSnapshot(9, {"c1": 1, "c2": 1}))
    assert out["w2"].connectors == ["c2"] and out["w2"].tasks == [TaskId("c2", 0)]
    assert out["w1"].config_offset == 9 and not changed(out["w1"])


# --- determinism ----------------------------------------------------------------------------------


def test_same_input_gives_same_output_whatever_the_member_order() -> None:
    config = {"b": 3, "a": 5, "c": 0, "d": 2}
    members = {m: WorkerMetadata(url(m), 1, WorkerAllocation()) for m in ["w3", "w1", "w2"]}
    reordered = dict(reversed(list(members.items())))
    results = [
        IncrementalCooperativeAssignor(MAX_DELAY, clock=lambda: 0).assign(
            "w1", url("w1"), ms, ConfigSnapshot(1, cfg)
        )
        for ms, cfg in [(members, config), (reordered, dict(reversed(list(config.items()))))]
    ]
    assert results[0] == results[1]
    assert all(
        a.tasks == sorted(a.tasks, key=lambda t: (t.connector, t.task)) for a in results[0].values()
    )


# --- eager ----------------------------------------------------------------------------------------


def test_eager_round_robin_over_sorted_members() -> None:
    members = {
        m: WorkerMetadata(url(m), 3, WorkerAllocation(["x"], [TaskId("x", 0)])) for m in "cab"
    }
    out = EagerAssignor().assign("a", url("a"), members, ConfigSnapshot(3, {"c2": 2, "c1": 1}))
    # connectors c1, c2 then tasks c1-0, c2-0, c2-1, one cursor over a, b, c
    assert out["a"].connectors == ["c1"] and out["a"].tasks == [TaskId("c2", 0)]
    assert out["b"].connectors == ["c2"] and out["b"].tasks == [TaskId("c2", 1)]
    assert out["c"].connectors == [] and out["c"].tasks == [TaskId("c1", 0)]
    for a in out.values():
        assert (a.error, a.leader, a.leader_url, a.config_offset) == (NO_ERROR, "a", url("a"), 3)
        assert not a.revoked_connectors and not a.revoked_tasks and a.delay_ms == 0


def test_eager_gives_full_assignment_every_round() -> None:
    assignor = EagerAssignor()
    members = {m: WorkerMetadata(url(m), 1) for m in ["w1", "w2"]}
    snap = ConfigSnapshot(1, {"c1": 3})
    first = assignor.assign("w1", url("w1"), members, snap)
    assert assignor.assign("w1", url("w1"), members, snap) == first
    assert sum(len(a.tasks) for a in first.values()) == 3
    assert assignor.current_assignment["w2"].connectors == []


def test_eager_config_mismatch() -> None:
    members = {"w1": WorkerMetadata(url("w1"), 1), "w2": WorkerMetadata(url("w2"), 4)}
    out = EagerAssignor().assign("w1", url("w1"), members, ConfigSnapshot(2, {"c1": 1}))
    assert {m: (a.error, a.config_offset, a.connectors, a.tasks) for m, a in out.items()} == {
        "w1": (CONFIG_MISMATCH, 4, [], []),
        "w2": (CONFIG_MISMATCH, 4, [], []),
    }


# --- many rounds ----------------------------------------------------------------------------------


@pytest.mark.parametrize("max_delay", [0, 5_000])
@pytest.mark.parametrize("seed", range(15))
def test_random_membership_and_config_changes_settle_balanced(seed: int, max_delay: int) -> None:
    rnd = random.Random(seed)
    cluster = Cluster({f"c{i}": rnd.randint(0, 8) for i in range(rnd.randint(0, 6))}, max_delay)
    next_id = 0

    def new_member() -> str:
        nonlocal next_id
        next_id += 1
        return f"m{next_id:03d}"  # a restarted worker comes back under a new member id

    cluster.join(*(new_member() for _ in range(rnd.randint(1, 4))))
    cluster.settle()
    for _ in range(25):
        event = rnd.choice(
            ["join", "leave", "bounce", "create", "delete", "resize", "lost-sync", "new-leader"]
        )
        members = sorted(cluster.connectors_of)
        if event == "join" and len(members) < 6:
            cluster.join(new_member())
        elif event == "leave" and len(members) > 1:
            cluster.leave(rnd.choice(members))
        elif event == "bounce":
            cluster.leave(rnd.choice(members))
            cluster.join(new_member())
        elif event == "create":
            cluster.configure(f"c{rnd.randint(0, 12)}", rnd.randint(0, 8))
        elif event == "delete" and cluster.tasks:
            cluster.delete(rnd.choice(sorted(cluster.tasks)))
        elif event == "resize" and cluster.tasks:
            cluster.configure(rnd.choice(sorted(cluster.tasks)), rnd.randint(0, 8))
        elif event == "lost-sync":
            cluster.configure(f"c{rnd.randint(0, 12)}", rnd.randint(0, 8))
            cluster.rebalance(apply=False)  # an assignment that never reached the members
        elif event == "new-leader" and len(members) > 1:
            # the leader goes; its successor starts with no history of earlier rounds
            cluster.leave(members[0])
            cluster.assignor = IncrementalCooperativeAssignor(max_delay, clock=lambda: cluster.now)
        cluster.settle(max_rounds=40)
        cluster.assert_balanced_and_complete()


def test_revoking_assignment_that_never_arrived_is_redone_after_a_backoff() -> None:
    # Kafka's testTaskAssignmentWhenSubsequentAssignmentAttemptFails
    cluster = Cluster({"c1": 4, "c2": 4})
    cluster.join("w1", "w2")
    cluster.rebalance()
    cluster.join("w3")
    out = cluster.rebalance(apply=False)
    assert any(a.revoked_tasks for a in out.values())

    out = cluster.rebalance()  # members still run what they ran: the revocation is owed again
    assert {a.delay_ms for a in out.values()} == {40}
    assert_no_changes(out)
    cluster.now += 40
    cluster.rebalance()
    assert sorted(cluster.counts()[1]) == [0, 3, 3]
    cluster.rebalance()
    assert sorted(cluster.counts()[1]) == [2, 3, 3]
    cluster.assert_balanced_and_complete()


def test_work_from_an_assignment_that_never_arrived_is_not_held_as_lost() -> None:
    # The failed round gave the new c3 to the joining w3 and revoked for balance; w3 is gone by
    # the next round. c3 never ran anywhere: it is new work, not a departed worker's, and is
    # placed at once (Kafka: a revocation still running means the last round did not happen).
    cluster = Cluster({"c1": 4, "c2": 4})
    cluster.join("w1", "w2")
    cluster.rebalance()
    cluster.configure("c3", 2)
    cluster.join("w3")
    out = cluster.rebalance(apply=False)
    assert out["w3"].connectors == ["c3"] and any(a.revoked_tasks for a in out.values())

    cluster.leave("w3")
    out = cluster.rebalance()
    assert {a.delay_ms for a in out.values()} == {0}
    assert any(a.connectors == ["c3"] for a in out.values())
    cluster.settle()
    cluster.assert_balanced_and_complete()


def test_empty_worker_leaving_after_a_revoking_round_starts_no_delay() -> None:
    # Kafka would start a full scheduled.rebalance.max.delay.ms here with nothing to wait for
    cluster = Cluster({"c1": 4, "c2": 4})
    cluster.join("w1")
    cluster.rebalance()
    cluster.join("w2")
    out = cluster.rebalance()
    revoked = (set(out["w1"].revoked_connectors), set(out["w1"].revoked_tasks))
    cluster.leave("w2")  # before it was given anything
    out = cluster.rebalance()
    assert out["w1"].delay_ms == 0
    assert (set(out["w1"].connectors), set(out["w1"].tasks)) == revoked
    cluster.assert_balanced_and_complete()
