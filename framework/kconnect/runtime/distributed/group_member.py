"""A worker's membership in its Kafka Connect group, through Kafka's own group coordinator.

The group protocol is Kafka Connect's (protocol type ``connect``; sub-protocols ``sessioned``,
``compatible`` and ``default``, messages from :mod:`kconnect.runtime.distributed.protocol`); the
transport is kafka-python's ``BaseCoordinator`` (pinned). kafka-python stays inside this module
and :mod:`kconnect.runtime.distributed.kafka_python_client` (its client settings and logging; the
herder sees only kconnect types), so it can be replaced without touching the herder.

Threading invariant: every callback the herder gives us runs on the thread that calls
:meth:`WorkerGroupMember.poll` (the herder's own thread), except ``assign``.

- kafka-python runs its event loop on an I/O thread of its own. Heartbeats are a coroutine on that
  thread, so they keep going while the herder thread is busy (up to the rebalance timeout between
  two ``poll()`` calls, after which kafka-python leaves the group, as Java does).
- A join (JoinGroup + SyncGroup, with retries) runs as one coroutine on the I/O thread. ``poll()``
  starts it and waits for it at most ``timeout_ms``; when it completes, the I/O thread only stores
  the result and wakes ``poll()``, which decodes it and calls ``on_assigned`` on the herder
  thread. Because the same coroutine keeps awaiting its JoinGroup/SyncGroup however short
  ``poll()``'s timeout, a completed round is never dropped and re-sent (kafka-python's own
  ``ensure_active_group(timeout_ms)`` does that when it times out mid-join).
- ``metadata`` is called on the herder thread just before a join starts; eager revocation
  (``on_revoked``) happens there too, BEFORE the JoinGroup is sent, as Kafka Connect requires.
- ``assign`` (this member is leader) runs on the I/O thread, inside the SyncGroup round: it must
  be quick (heartbeats and every other request of this member wait for it) and must only read
  state that is safe to read from another thread.

A broker that goes away never raises out of ``poll()``: the join coroutine retries until the
coordinator is back, and a member that cannot reach its coordinator for a heartbeat interval
revokes its work (Java's guard against running tasks twice while out of the group).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kafka.coordinator.base import BaseCoordinator
from kafka.future import Future
from kafka.net.compat import KafkaNetClient

from kconnect.runtime.distributed.kafka_python_client import (
    _quiet_kafka_python_logging,
    kafka_python_config,
)
from kconnect.runtime.distributed.protocol import (
    PROTOCOL_TYPE,
    ConnectAssignment,
    ConnectProtocolCompatibility,
    WorkerMetadata,
    decode_assignment,
    decode_metadata,
    encode_assignment,
    encode_metadata,
)

log = logging.getLogger(__name__)

__all__ = ["WorkerGroupMember"]

MetadataFn = Callable[[ConnectProtocolCompatibility], WorkerMetadata]
AssignFn = Callable[
    [str, str, ConnectProtocolCompatibility, dict[str, WorkerMetadata]],
    dict[str, ConnectAssignment],
]
OnAssignedFn = Callable[[ConnectAssignment, int, ConnectProtocolCompatibility], None]
OnRevokedFn = Callable[[ConnectAssignment], None]

# A join that fails for a reason kafka-python does not retry itself (authorization, an invalid
# session timeout, an ``assign`` that raises) is unlikely to succeed at once: back off,
# doubling from retry.backoff.ms up to this.
_MAX_JOIN_BACKOFF_S = 10.0


# --- the kafka-python side ----------------------------------------------------------------------


@dataclass(frozen=True)
class _CompletedJoin:
    generation: int
    member_id: str
    protocol_name: str
    assignment: bytes


class _MemberStopping(Exception):
    """Aborts a join that would start after stop(): a fresh JoinGroup then would leave a
    pending member behind that holds up the others' rebalance until its session expires."""


class _ConnectCoordinator(BaseCoordinator):
    """BaseCoordinator for the ``connect`` protocol type. Every method here runs on kafka-python's
    I/O thread and only hands data to and from the member."""

    def __init__(
        self,
        client: KafkaNetClient,
        *,
        perform_assignment: Callable[[str, str, list[tuple[str, bytes]]], dict[str, bytes]],
        on_join_complete: Callable[[_CompletedJoin], None],
        **configs: Any,
    ) -> None:
        super().__init__(client, **configs)
        self._perform = perform_assignment
        self._on_complete = on_join_complete
        #: [(sub-protocol name, metadata bytes)], set by the herder thread before a join starts
        self.protocol_metadata: list[tuple[str, bytes]] = []
        self.stopping = False

    def protocol_type(self) -> str:
        return PROTOCOL_TYPE

    def group_protocols(self) -> list[tuple[str, bytes]]:
        if self.stopping:
            raise _MemberStopping()
        return list(self.protocol_metadata)

    def _perform_assignment(
        self, leader_id: str, protocol: str, members: list[Any]
    ) -> dict[str, bytes]:
        return self._perform(
            leader_id, protocol, [(m.member_id, bytes(m.metadata)) for m in members]
        )

    async def _on_join_complete_async(
        self, generation: int, member_id: str, protocol: str, member_assignment_bytes: bytes
    ) -> None:
        self._on_complete(
            _CompletedJoin(generation, member_id, protocol, bytes(member_assignment_bytes))
        )


# --- the member ---------------------------------------------------------------------------------


class WorkerGroupMember:
    """One worker's membership in a Kafka Connect group.

    Call :meth:`poll` from the herder's thread in its loop; it joins and rejoins the group as
    needed and delivers what happened through the callbacks, on that thread:

    - ``metadata(protocol)``: this worker's metadata for each offered sub-protocol, called just
      before each join starts.
    - ``assign(leader_id, leader_url, protocol, members)``: only on the leader, on kafka-python's
      I/O thread (quick and thread-safe, see the module docstring). ``leader_url`` is the URL in
      the leader's own metadata; ``members`` maps member id -> decoded metadata in the
      coordinator's order. Return one :class:`ConnectAssignment` per member; an empty
      ``leader``/``leader_url`` in them is filled in with this leader's. If it raises, that
      join fails; it is logged and retried after a backoff.
    - ``on_assigned(assignment, generation, protocol)``: the assignment exactly as the leader sent
      it (cooperative protocols: only what changed, with ``revoked_*``), once per completed
      generation; :attr:`assignment` holds the accumulated view.
    - ``on_revoked(assignment)``: stop everything in ``assignment``. Called (a) with the eager
      protocol, before each rejoin, with everything this worker was given; (b) with any protocol
      when the coordinator has been unreachable for a heartbeat interval, with everything this
      worker holds, so nothing keeps running while another worker may take it over. Never called
      with None, and never when the worker holds nothing.

    Exceptions raised by ``metadata``, ``on_assigned`` and ``on_revoked`` propagate out of
    ``poll()``. Membership state (:attr:`member_id`, :attr:`generation`, :attr:`protocol`,
    :attr:`leader_id`, :attr:`is_leader`, :attr:`assignment`) is that of the last completed
    generation and changes only inside ``poll()``, on the herder thread.
    """

    def __init__(
        self,
        *,
        client_config: Mapping[str, str],
        group_id: str,
        session_timeout_ms: int,
        heartbeat_interval_ms: int,
        rebalance_timeout_ms: int,
        protocols: Sequence[ConnectProtocolCompatibility],
        metadata: MetadataFn,
        assign: AssignFn,
        on_assigned: OnAssignedFn,
        on_revoked: OnRevokedFn,
    ) -> None:
        if not group_id:
            raise ValueError("group.id must not be empty")
        if not 0 < heartbeat_interval_ms < session_timeout_ms:
            raise ValueError(
                f"heartbeat.interval.ms ({heartbeat_interval_ms}) must be positive and lower "
                f"than session.timeout.ms ({session_timeout_ms})"
            )
        if rebalance_timeout_ms <= 0:
            raise ValueError(f"rebalance.timeout.ms must be positive, got {rebalance_timeout_ms}")
        self._protocols = tuple(protocols)
        if not self._protocols or len(set(self._protocols)) != len(self._protocols):
            raise ValueError(f"protocols must be distinct and not empty, got {protocols!r}")

        self._group_id = group_id
        self._heartbeat_interval_s = heartbeat_interval_ms / 1000
        self._metadata = metadata
        self._assign = assign
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked

        _quiet_kafka_python_logging()
        net_config = kafka_python_config(client_config)
        self._retry_backoff_s = net_config["retry_backoff_ms"] / 1000
        self._client = KafkaNetClient(metrics=None, **net_config)
        try:
            # api_version stays at BaseCoordinator's default (0.10.1): it only gates features
            # we do not use (static membership); request versions are negotiated per connection.
            self._coordinator = _ConnectCoordinator(
                self._client,
                perform_assignment=self._perform_assignment,
                on_join_complete=self._store_completed_join,
                group_id=group_id,
                session_timeout_ms=session_timeout_ms,
                heartbeat_interval_ms=heartbeat_interval_ms,
                # kafka-python sends max_poll_interval_ms as JoinGroup's rebalance timeout, and
                # leaves the group when poll() has not been called for that long.
                max_poll_interval_ms=rebalance_timeout_ms,
                request_timeout_ms=net_config["request_timeout_ms"],
                retry_backoff_ms=net_config["retry_backoff_ms"],
            )
            self._client._net.start()
        except BaseException:
            self._client.close()
            raise

        # state of the last completed generation: herder thread only
        self._member_id: str | None = None
        self._generation = -1
        self._protocol: ConnectProtocolCompatibility | None = None
        self._leader_id: str | None = None
        self._leader_url: str | None = None
        self._snapshot: ConnectAssignment | None = None
        # the join coroutine running on the I/O thread, and when a failed one may be retried
        self._join: Future | None = None
        self._join_delivered = False
        self._join_failures = 0
        self._next_join_at = 0.0
        self._coordinator_unknown_since: float | None = None
        # written by other threads
        self._lock = threading.Lock()
        self._completed: _CompletedJoin | None = None  # I/O thread -> poll(), under _lock
        self._rejoin_requested = False
        self._wakeup_requested = False
        self._stopped = False
        self._signal = threading.Event()  # set whenever poll() has something to look at

    # -- state -----------------------------------------------------------------------------------

    @property
    def group_id(self) -> str:
        return self._group_id

    @property
    def member_id(self) -> str | None:
        """This member's id in the last completed generation (None before the first)."""
        return self._member_id

    @property
    def generation(self) -> int:
        """The last completed generation, -1 before the first."""
        return self._generation

    @property
    def protocol(self) -> ConnectProtocolCompatibility | None:
        """The sub-protocol the coordinator chose for the last completed generation."""
        return self._protocol

    @property
    def leader_id(self) -> str | None:
        """The leader's member id, from the last assignment."""
        return self._leader_id

    @property
    def leader_url(self) -> str | None:
        """The leader's URL, from the last assignment."""
        return self._leader_url

    @property
    def is_leader(self) -> bool:
        return self._member_id is not None and self._member_id == self._leader_id

    @property
    def assignment(self) -> ConnectAssignment | None:
        """Everything this worker holds: the last eager assignment, or the cooperative ones
        accumulated (earlier ones minus what was revoked, plus the new); None when nothing was
        assigned yet or it was all revoked."""
        return self._snapshot

    def rebalancing(self) -> bool:
        """True while a join is under way, needed, or completed but not yet delivered by poll()."""
        # a join that has delivered its generation is over, even if its coroutine has yet to
        # return on the I/O thread
        joining = self._join is not None and not self._join_delivered
        return joining or self._completed is not None or self._needs_join()

    # -- the herder's calls ----------------------------------------------------------------------

    def poll(self, timeout_ms: int) -> None:
        """Keep this member in the group for up to ``timeout_ms``; callbacks run on this thread.

        Starts a join when one is needed (after eager revocation) and returns as soon as an
        assignment was delivered through ``on_assigned``, :meth:`wakeup` was called, the member
        was stopped, or ``timeout_ms`` passed. Never blocks longer than ``timeout_ms`` itself
        (the callbacks it runs are the herder's), and never raises because a broker is away.
        Call it at least once per rebalance timeout, or kafka-python leaves the group.
        """
        deadline = time.monotonic() + max(0, timeout_ms) / 1000
        while not self._stopped:
            # cleared before looking, so anything signalled from now on ends the wait below
            self._signal.clear()
            self._keep_heartbeat_alive()
            self._reap_join()
            if self._deliver_completed_join():
                return
            self._revoke_if_coordinator_lost()
            if self._join is None and self._needs_join() and time.monotonic() >= self._next_join_at:
                self._start_join()
            if self._wakeup_requested:
                self._wakeup_requested = False
                return
            now = time.monotonic()
            if now >= deadline:
                return
            # wake up in time to refresh kafka-python's poll timer and to retry a failed join
            wait = min(deadline - now, self._heartbeat_interval_s)
            if self._join is None and self._next_join_at > now:
                wait = min(wait, self._next_join_at - now)
            self._signal.wait(wait)

    def request_rejoin(self) -> None:
        """Rejoin at the next poll() (or after the join under way). Any thread."""
        self._rejoin_requested = True
        self._signal.set()

    def wakeup(self) -> None:
        """Make a poll() blocked on another thread return now (or the next one return at once).
        Any thread."""
        self._wakeup_requested = True
        self._signal.set()

    def stop(self, timeout_ms: int = 5000) -> None:
        """Leave the group (waiting at most ``timeout_ms`` for the coordinator's answer) and close
        the client. No callback runs: the herder stops its own work. Idempotent; call it from the
        herder thread once its loop is over (another thread may call it, a concurrent poll() then
        returns)."""
        if self._stopped:
            return
        self._stopped = True
        self._coordinator.stopping = True
        self._signal.set()
        try:
            self._coordinator.close(timeout_ms=timeout_ms)
        except Exception as error:
            log.warning("Could not leave group %s cleanly: %s", self._group_id, error)
        finally:
            self._client.close()
        log.info("Left group %s", self._group_id)

    # -- poll()'s steps (herder thread) ------------------------------------------------------------

    def _needs_join(self) -> bool:
        snapshot = self._snapshot
        return (
            self._coordinator.need_rejoin()
            or self._rejoin_requested
            # as Java: no assignment (never joined, or all revoked) or a failed one -> rejoin
            or snapshot is None
            or snapshot.failed
        )

    def _keep_heartbeat_alive(self) -> None:
        try:
            # also tells kafka-python that the herder is alive (its rebalance-timeout check)
            self._coordinator.poll_heartbeat()
        except Exception as error:
            # the heartbeat coroutine died; a join restarts it, a stable member must do so itself
            log.warning("Heartbeat for group %s stopped (%s); restarting it", self._group_id, error)
            if self._join is None:
                self._coordinator._maybe_start_heartbeat_loop()

    def _reap_join(self) -> None:
        join = self._join
        if join is None or not join.is_done:
            return
        self._join = None
        if join.succeeded() or self._stopped:
            return
        self._join_failures += 1
        backoff = min(self._retry_backoff_s * 2 ** (self._join_failures - 1), _MAX_JOIN_BACKOFF_S)
        self._next_join_at = time.monotonic() + backoff
        log.error(
            "Joining group %s failed; retrying in %.1f s",
            self._group_id,
            backoff,
            exc_info=join.exception,
        )

    def _deliver_completed_join(self) -> bool:
        with self._lock:
            completed, self._completed = self._completed, None
        if completed is None:
            return False
        self._join_failures = 0
        self._join_delivered = True
        try:
            protocol = ConnectProtocolCompatibility.from_protocol_name(completed.protocol_name)
            assignment = decode_assignment(completed.assignment)
        except ValueError as error:
            # a bad message from the leader: a new generation gives it another chance
            log.error(
                "Group %s generation %d: unreadable assignment (%s); rejoining",
                self._group_id,
                completed.generation,
                error,
            )
            self._coordinator.request_rejoin()
            return False
        self._member_id = completed.member_id
        self._generation = completed.generation
        self._protocol = protocol
        self._leader_id = assignment.leader or None
        self._leader_url = assignment.leader_url or None
        self._snapshot = self._accumulate(assignment, protocol)
        log.info(
            "Joined group %s generation %d as member %s (%s) with protocol %s: %d connectors, "
            "%d tasks assigned, %d connectors and %d tasks revoked%s",
            self._group_id,
            completed.generation,
            completed.member_id,
            "leader" if self.is_leader else f"leader {assignment.leader}",
            protocol.protocol_name,
            len(assignment.connectors),
            len(assignment.tasks),
            len(assignment.revoked_connectors),
            len(assignment.revoked_tasks),
            f", error {assignment.error}" if assignment.failed else "",
        )
        self._on_assigned(assignment, completed.generation, protocol)
        return True

    def _accumulate(
        self, assignment: ConnectAssignment, protocol: ConnectProtocolCompatibility
    ) -> ConnectAssignment:
        # copies, so the herder may keep or change the object it was given
        previous = self._snapshot
        if protocol is ConnectProtocolCompatibility.EAGER or previous is None:
            return replace(
                assignment,
                connectors=list(assignment.connectors),
                tasks=list(assignment.tasks),
                revoked_connectors=list(assignment.revoked_connectors),
                revoked_tasks=list(assignment.revoked_tasks),
            )
        # cooperative: the leader sends only what changed (Java's WorkerCoordinator.onJoinComplete)
        revoked_connectors = set(assignment.revoked_connectors)
        revoked_tasks = set(assignment.revoked_tasks)
        connectors = [c for c in previous.connectors if c not in revoked_connectors]
        connectors += [c for c in assignment.connectors if c not in connectors]
        tasks = [t for t in previous.tasks if t not in revoked_tasks]
        tasks += [t for t in assignment.tasks if t not in tasks]
        return replace(
            assignment,
            connectors=connectors,
            tasks=tasks,
            revoked_connectors=list(assignment.revoked_connectors),
            revoked_tasks=list(assignment.revoked_tasks),
        )

    def _holds_work(self) -> bool:
        snapshot = self._snapshot
        return snapshot is not None and bool(snapshot.connectors or snapshot.tasks)

    def _revoke_all(self) -> None:
        snapshot, self._snapshot = self._snapshot, None
        if snapshot is not None and (snapshot.connectors or snapshot.tasks):
            self._on_revoked(snapshot)

    def _revoke_if_coordinator_lost(self) -> None:
        # Only an attribute read here: kafka-python's I/O thread marks the coordinator dead when
        # heartbeats or requests to it fail, and looks it up again.
        if self._coordinator.coordinator_id is not None:
            self._coordinator_unknown_since = None
            return
        now = time.monotonic()
        if self._coordinator_unknown_since is None:
            self._coordinator_unknown_since = now
            return
        if self._holds_work() and now - self._coordinator_unknown_since >= (
            self._heartbeat_interval_s
        ):
            log.warning(
                "Coordinator of group %s unreachable for %.1f s: revoking this worker's "
                "connectors and tasks so they do not run twice while it is out of the group",
                self._group_id,
                now - self._coordinator_unknown_since,
            )
            self._revoke_all()

    def _start_join(self) -> None:
        if self._protocol is ConnectProtocolCompatibility.EAGER and self._holds_work():
            # Eager: the whole assignment is given up before JoinGroup goes out, so the leader
            # can hand it to anyone.
            log.info(
                "Rebalance of group %s started: revoking this worker's assignment (eager)",
                self._group_id,
            )
            self._revoke_all()
        self._coordinator.protocol_metadata = [
            (p.protocol_name, encode_metadata(self._metadata(p), p.version))
            for p in self._protocols
        ]
        # every reason to join (a request, no or a failed assignment) funnels into kafka-python's
        # own flag, which its join loop checks
        self._rejoin_requested = False
        self._coordinator.request_rejoin()
        log.info(
            "Joining group %s (last generation %d) offering %s",
            self._group_id,
            self._generation,
            ", ".join(p.protocol_name for p in self._protocols),
        )
        self._join = self._start_background_join()
        self._join_delivered = False
        self._join.add_both(lambda _: self._signal.set())

    def _start_background_join(self) -> Future:
        return self._client._manager.call_soon(self._join_async)

    # -- on kafka-python's I/O thread ------------------------------------------------------------

    async def _join_async(self) -> bool:
        manager = self._client._manager
        if not manager.bootstrapped:
            # until it has cluster metadata, kafka-python has no broker to ask for the coordinator
            await manager.bootstrap_async(timeout_ms=None)
        # No timeout: the join goes on (retrying while the coordinator is away) until it
        # completes or fails for good; poll() waits for it in slices.
        return await self._coordinator.ensure_active_group_async(timeout_ms=None)

    def _store_completed_join(self, completed: _CompletedJoin) -> None:
        if self._stopped:
            return
        with self._lock:
            self._completed = completed
        self._signal.set()

    def _perform_assignment(
        self, leader_id: str, protocol_name: str, members: list[tuple[str, bytes]]
    ) -> dict[str, bytes]:
        protocol = ConnectProtocolCompatibility.from_protocol_name(protocol_name)
        decoded = {member_id: decode_metadata(raw) for member_id, raw in members}
        leader_url = decoded[leader_id].url
        assignments = self._assign(leader_id, leader_url, protocol, decoded)
        missing = [member_id for member_id in decoded if member_id not in assignments]
        unknown = [member_id for member_id in assignments if member_id not in decoded]
        if missing or unknown:
            # a member without an assignment could not decode its empty SyncGroup answer
            raise ValueError(
                f"assign() must return one assignment per member: missing {missing}, "
                f"not members {unknown}"
            )
        return {
            member_id: encode_assignment(
                replace(
                    assignment,
                    leader=assignment.leader or leader_id,
                    leader_url=assignment.leader_url or leader_url,
                ),
                protocol.version,
            )
            for member_id, assignment in assignments.items()
        }
