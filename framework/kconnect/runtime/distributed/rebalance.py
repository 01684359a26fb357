"""The distributed herder's group membership: what the group assigns this worker, applied.

Kafka's group coordinator runs the rebalances; the leader's assignor decides who runs what.
This layer of the herder answers the coordinator's calls and keeps the one invariant they need:
a worker runs only work the group assigned it, and only after reading the config topic to the
offset the group assigned at. A worker whose config topic stays behind that offset runs
nothing and leaves the group for ``worker.unsync.backoff.ms``; a change to the set of
connectors or tasks (read from the config topic) asks the group to rebalance.

Threading: ``_assign`` runs on kafka-python's I/O thread and reads only an immutable config
snapshot; ``_config_changed`` runs on the config store's reader thread and only marks; all
else runs on the herder's own thread (``herder.DistributedHerder``), inside its poll.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kconnect.runtime.abstract_herder import AbstractHerder
from kconnect.runtime.distributed.assignor import (
    ConfigSnapshot,
    EagerAssignor,
    IncrementalCooperativeAssignor,
)
from kconnect.runtime.distributed.group_member import WorkerGroupMember
from kconnect.runtime.distributed.protocol import (
    ConnectAssignment,
    ConnectProtocolCompatibility,
    WorkerAllocation,
    WorkerMetadata,
)
from kconnect.runtime.distributed.session_keys import SessionKeys
from kconnect.runtime.states import TaskId
from kconnect.storage.config_backing_store import ClusterConfigState

log = logging.getLogger(__name__)


class RebalancingHerder(AbstractHerder):
    """The herder's side of the group protocol. ``DistributedHerder.__init__`` sets the
    state declared here; the group member calls the methods below."""

    url: str
    group_id: str
    member: WorkerGroupMember | None
    session_keys: SessionKeys
    assignor: IncrementalCooperativeAssignor
    eager_assignor: EagerAssignor
    sync_timeout_s: float
    unsync_backoff_ms: int
    #: what the group assigned to this worker (the full set, after applying revocations)
    _connectors: set[str]
    _tasks: set[TaskId]
    _generation: int
    _protocol: ConnectProtocolCompatibility | None
    _leader_id: str | None
    _leader_url: str | None
    _is_leader: bool
    #: set once this worker has an assignment it runs; cleared while out of the group
    _joined: threading.Event
    _config_dirty: threading.Event
    _layout_at_assignment: frozenset[Any] | None
    #: when to rejoin: after a scheduled rebalance delay, or after the unsync backoff
    _rejoin_at: float | None

    # -- group membership (kafka-python's I/O thread for _assign; herder thread otherwise) ------
    def _metadata(self, protocol: ConnectProtocolCompatibility) -> WorkerMetadata:
        allocation = WorkerAllocation(
            sorted(self._connectors), sorted(self._tasks, key=lambda t: (t.connector, t.task))
        )
        return WorkerMetadata(self.url, self.snapshot().offset, allocation)

    def _assign(
        self,
        leader_id: str,
        leader_url: str,
        protocol: ConnectProtocolCompatibility,
        members: dict[str, WorkerMetadata],
    ) -> dict[str, ConnectAssignment]:
        snapshot = self.snapshot()
        config = ConfigSnapshot(
            offset=snapshot.offset,
            tasks={name: len(snapshot.tasks(name)) for name in snapshot.connectors()},
        )
        if protocol is ConnectProtocolCompatibility.EAGER:
            return self.eager_assignor.assign(leader_id, self.url, members, config)
        return self.assignor.assign(leader_id, self.url, members, config)

    def _on_revoked(self, assignment: ConnectAssignment | None) -> None:
        """Everything stops: before an eager rejoin, or when the coordinator is unreachable
        (another worker may take the work over)."""
        self._connectors.clear()
        self._tasks.clear()
        if self._is_leader:
            self._is_leader = False
            self.config_store.relinquish_write_privileges()
        self._reconcile()

    def _on_assigned(
        self, assignment: ConnectAssignment, generation: int, protocol: ConnectProtocolCompatibility
    ) -> None:
        assert self.member is not None
        self._leader_id = assignment.leader
        self._leader_url = assignment.leader_url or None
        was_leader = self._is_leader
        self._is_leader = assignment.leader == self.member.member_id
        if self._is_leader and not was_leader:
            self.config_store.claim_write_privileges()
        elif was_leader and not self._is_leader:
            self.config_store.relinquish_write_privileges()
        self._protocol = protocol
        self.session_keys.protocol = protocol
        if assignment.failed:
            # The leader read further in the config topic than we did (or we than it): catch up,
            # then rejoin with our new offset.
            log.info(
                "Joined group at generation %d with config mismatch (leader at offset %d)",
                generation,
                assignment.config_offset,
            )
            self._read_config_to_end()
            if self.snapshot().offset < assignment.config_offset:
                self._leave_group_out_of_sync(assignment.config_offset)
                return
            self.member.request_rejoin()
            return
        if protocol is ConnectProtocolCompatibility.EAGER:
            self._connectors = set(assignment.connectors)
            self._tasks = set(assignment.tasks)
        else:
            self._connectors = (self._connectors - set(assignment.revoked_connectors)) | set(
                assignment.connectors
            )
            self._tasks = (self._tasks - set(assignment.revoked_tasks)) | set(assignment.tasks)
        self._generation = generation
        self.status.generation = generation
        self.worker.metrics.rebalance.completed_with(
            generation, self._leader_url or "", protocol.protocol_name
        )
        if self.snapshot().offset < assignment.config_offset:
            self._read_config_to_end()
            if self.snapshot().offset < assignment.config_offset:
                self._leave_group_out_of_sync(assignment.config_offset)
                return
        log.info(
            "Joined group at generation %d with protocol '%s' as %s with assignment: "
            "connectors %s, tasks %s; revoked connectors %s, tasks %s; delay %d ms",
            generation,
            protocol.protocol_name,
            "leader" if self._is_leader else "follower",
            sorted(assignment.connectors),
            [str(t) for t in assignment.tasks],
            sorted(assignment.revoked_connectors),
            [str(t) for t in assignment.revoked_tasks],
            assignment.delay_ms,
        )
        log.info("Starting connectors and tasks using config offset %d", self.snapshot().offset)
        self._layout_at_assignment = _layout(self.snapshot())
        self._reconcile()
        if assignment.revoked_connectors or assignment.revoked_tasks:
            # Revoked work is stopped: rejoin so the leader can hand it to its new owner.
            self.member.request_rejoin()
        if assignment.delay_ms > 0:
            self._rejoin_at = time.monotonic() + assignment.delay_ms / 1000
        if self._is_leader:
            self.session_keys.rotate_if_due()
        self._joined.set()

    def _leave_group_out_of_sync(self, group_offset: int) -> None:
        """This worker read its config topic to the end and is still behind the offset the group
        works at: its topic is not the group's (or is unreadable). Run nothing, leave the group
        for ``worker.unsync.backoff.ms`` so the others are not disturbed, then try again."""
        topic = self.config.get("config.storage.topic")
        log.error(
            "This worker read config topic '%s' to offset %d, but group '%s' works at config "
            "offset %d. Every worker of a group must use the same config.storage.topic (and "
            "offset.storage.topic, status.storage.topic): check this worker's properties. "
            "Leaving the group for %d ms (worker.unsync.backoff.ms).",
            topic,
            self.snapshot().offset,
            self.group_id,
            group_offset,
            self.unsync_backoff_ms,
        )
        self._on_revoked(None)
        self._joined.clear()
        if self.member is not None:
            self.member.stop()
            self.member = None
        self._rejoin_at = time.monotonic() + self.unsync_backoff_ms / 1000

    def _read_config_to_end(self) -> None:
        try:
            self.config_store.refresh(self.sync_timeout_s)
        except TimeoutError:
            log.warning(
                "Didn't reach end of config log quickly enough (worker.sync.timeout.ms=%d)",
                int(self.sync_timeout_s * 1000),
            )

    # -- assignment (abstract herder) ------------------------------------------------------------
    def _assigned_connectors(self, snapshot: ClusterConfigState) -> set[str]:
        return {name for name in self._connectors if snapshot.contains(name)}

    def _assigned_tasks(self, snapshot: ClusterConfigState) -> set[TaskId]:
        return {task for task in self._tasks if task.task < len(snapshot.tasks(task.connector))}

    def _config_changed(self) -> None:
        # Called on the config store's reader thread: only mark, the herder thread acts.
        self._config_dirty.set()
        if self.member is not None:
            self.member.wakeup()

    def _on_config_changed(self) -> None:
        snapshot = self.snapshot()
        if self._joined.is_set() and _layout(snapshot) != self._layout_at_assignment:
            # Connectors or tasks were added or removed: the leader must assign them.
            assert self.member is not None
            self.member.request_rejoin()
        self._reconcile()


def _layout(snapshot: ClusterConfigState) -> frozenset[Any]:
    """What the assignment depends on: which connectors and tasks exist."""
    return frozenset(
        [("c", name) for name in snapshot.connectors()]
        + [
            ("t", task.connector, task.task)
            for name in snapshot.connectors()
            for task in snapshot.tasks(name)
        ]
    )
