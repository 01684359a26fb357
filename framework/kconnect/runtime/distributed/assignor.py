"""The group leader's assignment of connectors and tasks to workers, with Apache Kafka Connect's
rules (KIP-415 ``IncrementalCooperativeAssignor`` for the ``compatible``/``sessioned``
sub-protocols, ``EagerAssignor`` for ``default``), so a kconnect leader moves work the way a
Java leader would.

Invariants the cooperative assignor keeps:

- Nothing is assigned from a config the leader has not read: if its snapshot is behind the
  highest config offset a member reports, every member gets ``CONFIG_MISMATCH`` and no work.
- A member is told only what changes: ``connectors``/``tasks`` are new to it and
  ``revoked_*`` are what it must stop. Work that stays on a worker is never in either list, so
  it is never restarted by a rebalance.
- Work is never started on one worker in the same round it is stopped on another: revoked work
  is handed out in the follow-up round, once its old owner has let go of it.
- Every configured connector and task ends on exactly one worker: deleted work is revoked,
  work running on several workers is revoked from all of them and handed out again.
- The work of a worker that left is held (not reassigned) for ``max_delay_ms``, the delay is
  sent to every member, and when it expires the work goes to the workers that joined empty in
  the meantime (typically the same worker, restarted), else to the least loaded.
- With no delay pending, the group settles (at the latest in the round after a revocation)
  with connector instances and tasks each balanced on their own: per kind, max - min < 2 over
  the workers. Only the excess above a worker's fair share is revoked; new work always goes to
  the least loaded worker.
- Balancing revocations in back-to-back rounds back off exponentially (40^n ms, at most
  ``max_delay_ms``) so a stream of joining workers does not cause a storm of restarts.
- Same members, snapshot, clock and history give the same assignment (names are sorted).

The leader's view of the previous round is state of the assignor; a new leader starts from
nothing and rebuilds it from what members report they run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from kconnect.runtime.distributed.protocol import (
    CONFIG_MISMATCH,
    NO_ERROR,
    ConnectAssignment,
    WorkerAllocation,
    WorkerMetadata,
)
from kconnect.runtime.states import TaskId

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Hashable)

#: growth of the delay between successive balancing revocations (Kafka's value)
_REVOKING_BACKOFF_MULTIPLIER = 40


def monotonic_ms() -> int:
    """Milliseconds of a clock that never goes back: deadlines must survive wall-clock jumps."""
    return time.monotonic_ns() // 1_000_000


@dataclass(frozen=True)
class ConfigSnapshot:
    """The connectors and task counts the leader read from the config topic, up to ``offset``.
    A connector with 0 tasks still has its Connector instance to run."""

    offset: int
    tasks: Mapping[str, int] = field(default_factory=dict)

    def connectors(self) -> list[str]:
        return sorted(self.tasks)

    def task_ids(self) -> list[TaskId]:
        return [TaskId(c, n) for c in self.connectors() for n in range(self.tasks[c])]


class ConnectAssignor(Protocol):
    """What the group coordinator calls on the leader once every member has joined."""

    def assign(
        self,
        leader_id: str,
        leader_url: str,
        members: Mapping[str, WorkerMetadata],
        snapshot: ConfigSnapshot,
    ) -> dict[str, ConnectAssignment]: ...


def _task_key(task: TaskId) -> tuple[str, int]:
    return (task.connector, task.task)


@dataclass
class _Work:
    """A set of connector instances and a set of tasks (Kafka's ConnectorsAndTasks)."""

    connectors: set[str] = field(default_factory=set)
    tasks: set[TaskId] = field(default_factory=set)

    @classmethod
    def of(cls, allocation: WorkerAllocation | None) -> _Work:
        if allocation is None:
            return cls()
        return cls(set(allocation.connectors), set(allocation.tasks))

    @classmethod
    def union(cls, works: Iterable[_Work]) -> _Work:
        out = cls()
        for w in works:
            out.connectors |= w.connectors
            out.tasks |= w.tasks
        return out

    def __sub__(self, other: _Work) -> _Work:
        return _Work(self.connectors - other.connectors, self.tasks - other.tasks)

    def __and__(self, other: _Work) -> _Work:
        return _Work(self.connectors & other.connectors, self.tasks & other.tasks)

    def __or__(self, other: _Work) -> _Work:
        return _Work(self.connectors | other.connectors, self.tasks | other.tasks)

    def __bool__(self) -> bool:
        return bool(self.connectors or self.tasks)

    def copy(self) -> _Work:
        return _Work(set(self.connectors), set(self.tasks))

    def sorted_connectors(self) -> list[str]:
        return sorted(self.connectors)

    def sorted_tasks(self) -> list[TaskId]:
        return sorted(self.tasks, key=_task_key)


def _mismatch(
    members: Iterable[str], leader_id: str, leader_url: str, max_offset: int
) -> dict[str, ConnectAssignment]:
    log.info(
        "Was selected to perform assignments, but do not have the latest config (offset %d); "
        "returning an empty assignment to trigger a re-sync",
        max_offset,
    )
    return {
        m: ConnectAssignment(
            error=CONFIG_MISMATCH, leader=leader_id, leader_url=leader_url, config_offset=max_offset
        )
        for m in sorted(members)
    }


def _assign_least_loaded(items: Iterable[T], loads: Mapping[str, set[T]]) -> None:
    """Each item to the worker holding fewest of its kind (ties: lowest member id)."""
    for item in items:
        target = min(loads, key=lambda m: (len(loads[m]), m))
        loads[target].add(item)


def _keep_order(held: set[T], started: set[T], key: Callable[[T], tuple[str, int]]) -> list[T]:
    """``held`` in the order a worker keeps it: what it has started, then what was only placed
    on it this round (moving that costs nothing); within each, name order (arbitrary, stable)."""
    return sorted(held, key=lambda item: (item not in started, key(item)))


def _excess(
    total: int,
    loads: Mapping[str, set[T]],
    running: Mapping[str, set[T]],
    key: Callable[[T], tuple[str, int]],
) -> dict[str, set[T]]:
    """What must leave each worker so that none holds more than its fair share of ``total``:
    ``total // n`` each, plus one for ``total % n`` of them. The extra slots go to workers that
    already hold more than the minimum (each such slot saves one move), in member id order."""
    n = len(loads)
    low, extras = divmod(total, n)
    out: dict[str, set[T]] = {}
    for member in sorted(loads):
        held = loads[member]
        if len(held) <= low:
            continue
        allowed = low
        if extras > 0:
            extras -= 1
            allowed = low + 1
        if len(held) > allowed:
            out[member] = set(_keep_order(held, running[member], key)[allowed:])
    return out


class IncrementalCooperativeAssignor:
    """Kafka Connect's cooperative (KIP-415) leader assignment; keeps state across rounds, so
    one instance lives as long as the worker and is used whenever it is the leader. Not
    thread-safe: call it from one thread (the coordinator's)."""

    def __init__(self, max_delay_ms: int, clock: Callable[[], int] = monotonic_ms) -> None:
        if max_delay_ms < 0:
            raise ValueError("scheduled.rebalance.max.delay.ms must be >= 0")
        self._max_delay_ms = max_delay_ms
        self._clock = clock
        # what the leader handed out last round (plus held lost work): the base of every diff
        self._previous = _Work()
        self._previous_revocation = _Work()
        self._previous_members: frozenset[str] = frozenset()
        self._previous_generation = -1
        self._scheduled_rebalance = 0  # clock ms at which held work is released; 0 = none
        self._delay_ms = 0
        self._candidates: set[str] = set()
        self._revoked_in_previous = False
        self._revoking_rounds = 0
        self._current: dict[str, WorkerAllocation] = {}

    @property
    def delay_ms(self) -> int:
        """The delay sent with the last assignment (0: nothing held, nothing backed off)."""
        return self._delay_ms

    @property
    def scheduled_rebalance_ms(self) -> int:
        """Clock time at which held work is released or revocations resume; 0 when none."""
        return self._scheduled_rebalance

    @property
    def candidate_workers(self) -> frozenset[str]:
        """Members that joined empty while work was held: first in line for that work."""
        return frozenset(self._candidates)

    @property
    def current_assignment(self) -> dict[str, WorkerAllocation]:
        """What each member runs once it has applied the last assignment (the leader's view,
        e.g. to find which worker owns a connector)."""
        return self._current

    def assign(
        self,
        leader_id: str,
        leader_url: str,
        members: Mapping[str, WorkerMetadata],
        snapshot: ConfigSnapshot,
        *,
        generation: int = -1,
        last_completed_generation: int = -1,
    ) -> dict[str, ConnectAssignment]:
        """One round: ``members`` maps member id -> metadata (URL, config offset, what it runs
        now). ``generation`` is this round's and ``last_completed_generation`` the last one this
        worker completed; when they show the leader's previous assignment never reached the
        group, that assignment is forgotten (as Kafka does). Left at -1, it is always trusted.

        Every assignment carries the snapshot's offset (Kafka sends the members' highest, which
        can be older than the config the leader actually used); a member behind it reads the
        config topic up to it before starting anything."""
        if not members:
            return {}
        max_offset = max(m.config_offset for m in members.values())
        if snapshot.offset < max_offset:
            return _mismatch(members, leader_id, leader_url, max_offset)

        if self._previous_generation != last_completed_generation:
            log.debug("Generation mismatch: forgetting the previous assignment %s", self._previous)
            self._previous = _Work()

        configured = _Work(set(snapshot.tasks), set(snapshot.task_ids()))
        running = {m: _Work.of(members[m].allocation) for m in sorted(members)}
        active = _Work.union(running.values())

        # Last round's revocations are still running somewhere: that assignment did not take
        # effect, so what the members report is the truth to start from.
        if self._previous_revocation:
            if self._previous_revocation & active:
                self._previous = active.copy()
            self._previous_revocation = _Work()

        # Kafka takes deleted from the previous assignment only; also taking what members still
        # run lets a new leader (empty history) stop work deleted while there was no leader.
        deleted = (self._previous | active) - configured
        duplicated = self._duplicated(running)
        lost = self._previous - active - deleted
        created = configured - self._previous - active
        log.debug(
            "Deleted %s, duplicated %s, lost %s, created %s", deleted, duplicated, lost, created
        )

        revoked = {m: w & (deleted | duplicated) for m, w in running.items()}
        nxt = {m: running[m] - revoked[m] for m in running}

        to_assign = created | self._handle_lost(lost, nxt)

        if self._delay_ms == 0:
            balancing = self._balancing_revocations(configured, nxt, running)
            if balancing and self._revoked_in_previous:
                # Revoking again right after a revoking round: members are still joining.
                self._revoking_rounds += 1
                self._delay_ms = self._revoking_backoff_ms(self._revoking_rounds)
                if self._delay_ms:
                    self._scheduled_rebalance = self._clock() + self._delay_ms
                    log.debug(
                        "Successive revoking rebalance: revocations delayed %d ms", self._delay_ms
                    )
                else:
                    to_assign |= self._revoke(balancing, running, revoked, nxt)
            elif balancing:
                to_assign |= self._revoke(balancing, running, revoked, nxt)
                self._revoked_in_previous = True
            elif self._revoked_in_previous:
                # the group has settled after the last revocation: restart the backoff
                self._revoked_in_previous = False
                self._revoking_rounds = 0
        else:
            log.debug("Delayed rebalance active (%d ms): no balancing revocations", self._delay_ms)
            self._revoked_in_previous = False

        _assign_least_loaded(
            to_assign.sorted_connectors(), {m: w.connectors for m, w in nxt.items()}
        )
        _assign_least_loaded(to_assign.sorted_tasks(), {m: w.tasks for m, w in nxt.items()})

        all_revoked = _Work.union(revoked.values())
        self._previous = (_Work.union(nxt.values()) - all_revoked) | lost
        self._previous_revocation = all_revoked
        self._previous_members = frozenset(members)
        self._previous_generation = generation
        self._current = {
            m: WorkerAllocation(w.sorted_connectors(), w.sorted_tasks()) for m, w in nxt.items()
        }

        out = {}
        for m in running:
            new = nxt[m] - running[m]
            out[m] = ConnectAssignment(
                error=NO_ERROR,
                leader=leader_id,
                leader_url=leader_url,
                config_offset=snapshot.offset,
                connectors=new.sorted_connectors(),
                tasks=new.sorted_tasks(),
                revoked_connectors=revoked[m].sorted_connectors(),
                revoked_tasks=revoked[m].sorted_tasks(),
                delay_ms=self._delay_ms,
            )
        log.debug("Assignments: %s", out)
        return out

    @staticmethod
    def _duplicated(running: Mapping[str, _Work]) -> _Work:
        seen, dup = _Work(), _Work()
        for w in running.values():
            dup = dup | (w & seen)
            seen = seen | w
        return dup

    @staticmethod
    def _revoke(
        balancing: Mapping[str, _Work],
        running: Mapping[str, _Work],
        revoked: dict[str, _Work],
        nxt: dict[str, _Work],
    ) -> _Work:
        """Takes the excess out of this round's assignment, so new work is spread over what
        remains. Excess the worker runs is revoked; excess only placed on it this round (lost
        work given to a candidate) was never started, so it is returned to be placed again."""
        unstarted = _Work()
        for m, w in balancing.items():
            revoked[m] = revoked[m] | (w & running[m])
            unstarted = unstarted | (w - running[m])
            nxt[m] = nxt[m] - w
        return unstarted

    @staticmethod
    def _balancing_revocations(
        configured: _Work, nxt: Mapping[str, _Work], running: Mapping[str, _Work]
    ) -> dict[str, _Work]:
        if not configured or not any(nxt.values()):
            return {}
        out: dict[str, _Work] = {}
        conns = _excess(
            len(configured.connectors),
            {m: w.connectors for m, w in nxt.items()},
            {m: w.connectors for m, w in running.items()},
            lambda c: (c, -1),
        )
        tasks = _excess(
            len(configured.tasks),
            {m: w.tasks for m, w in nxt.items()},
            {m: w.tasks for m, w in running.items()},
            _task_key,
        )
        for m in sorted(set(conns) | set(tasks)):
            out[m] = _Work(conns.get(m, set()), tasks.get(m, set()))
        return out

    def _revoking_backoff_ms(self, rounds: int) -> int:
        if self._max_delay_ms == 0:
            return 0
        return min(_REVOKING_BACKOFF_MULTIPLIER ** min(rounds, 16), self._max_delay_ms)

    def _reset_delay(self) -> None:
        self._candidates.clear()
        self._scheduled_rebalance = 0
        self._delay_ms = 0

    def _handle_lost(self, lost: _Work, nxt: dict[str, _Work]) -> _Work:
        """Decide what happens to work whose worker is gone. Returns the lost work to hand out
        as new work; lost work given to candidate workers is put straight into ``nxt``; held
        work is neither (it stays in the previous assignment, so it is lost again next round).
        """
        # Kafka also enters the delay logic with nothing lost after a revoking round, to keep a
        # revocation backoff running; with no backoff running, that would only start a
        # pointless delay, so that case resets instead.
        if not lost and (not self._revoked_in_previous or self._scheduled_rebalance <= 0):
            self._reset_delay()
            return _Work()

        now = self._clock()
        if self._scheduled_rebalance <= 0 and self._previous_members <= set(nxt):
            # Nobody left: the work went missing because a member never received the last
            # assignment, so there is nobody to wait for.
            return lost
        if self._max_delay_ms == 0:
            return lost

        if 0 < self._scheduled_rebalance <= now:
            candidates = [m for m in sorted(self._candidates) if m in nxt]
            released = _Work()
            if candidates:
                log.info("Rebalance delay expired: lost work goes to %s", candidates)
                for i, c in enumerate(lost.sorted_connectors()):
                    nxt[candidates[i % len(candidates)]].connectors.add(c)
                for i, t in enumerate(lost.sorted_tasks()):
                    nxt[candidates[i % len(candidates)]].tasks.add(t)
            else:
                log.info("Rebalance delay expired: lost work goes to the least loaded workers")
                released = lost
            self._reset_delay()
            self._revoked_in_previous = False
            return released

        # Hold the work; a worker that joins with nothing is probably the one that left.
        self._candidates |= {m for m, w in nxt.items() if not w}
        if now < self._scheduled_rebalance:
            self._delay_ms = min(self._scheduled_rebalance - now, self._max_delay_ms)
        else:
            self._delay_ms = self._max_delay_ms
            log.info(
                "Workers left the group; holding their work for %d ms: %s", self._delay_ms, lost
            )
        self._scheduled_rebalance = now + self._delay_ms
        return _Work()


class EagerAssignor:
    """Kafka Connect's eager (``default`` protocol) assignment: every member gets its full
    assignment, nothing is revoked (members stop everything before joining). Connectors in
    name order, then every task in (connector, task) order, round robin over members in member
    id order, one cursor throughout (so 1-task connectors do not put every task on the workers
    without a connector). Stateless."""

    def __init__(self) -> None:
        self._current: dict[str, WorkerAllocation] = {}

    @property
    def current_assignment(self) -> dict[str, WorkerAllocation]:
        return self._current

    def assign(
        self,
        leader_id: str,
        leader_url: str,
        members: Mapping[str, WorkerMetadata],
        snapshot: ConfigSnapshot,
    ) -> dict[str, ConnectAssignment]:
        if not members:
            return {}
        max_offset = max(m.config_offset for m in members.values())
        if snapshot.offset < max_offset:
            return _mismatch(members, leader_id, leader_url, max_offset)
        order = sorted(members)
        out = {
            m: ConnectAssignment(
                error=NO_ERROR,
                leader=leader_id,
                leader_url=leader_url,
                config_offset=snapshot.offset,
            )
            for m in order
        }
        cursor = 0
        for c in snapshot.connectors():
            out[order[cursor % len(order)]].connectors.append(c)
            cursor += 1
        for t in snapshot.task_ids():
            out[order[cursor % len(order)]].tasks.append(t)
            cursor += 1
        self._current = {
            m: WorkerAllocation(list(a.connectors), list(a.tasks)) for m, a in out.items()
        }
        return out
