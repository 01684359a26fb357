"""Kafka Connect's group protocol: the member metadata a worker sends when it joins, and the
assignment the leader sends back, in Kafka Connect's binary layout (ConnectProtocol for the
eager ``default`` sub-protocol, IncrementalCooperativeConnectProtocol for ``compatible`` and
``sessioned``), so kconnect and Java workers can read each other's messages.

The encoding functions are filled in below the data classes; everything here is pure (no I/O).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kconnect.runtime.states import TaskId

#: protocol type of a Connect group (the consumer groups' is "consumer")
PROTOCOL_TYPE = "connect"


class ConnectProtocolCompatibility(enum.Enum):
    """``connect.protocol``: the sub-protocol name and the version of its messages."""

    EAGER = ("default", 0)
    COMPATIBLE = ("compatible", 1)
    SESSIONED = ("sessioned", 2)

    @property
    def protocol_name(self) -> str:
        return self.value[0]

    @property
    def version(self) -> int:
        return self.value[1]

    @classmethod
    def from_config(cls, value: str) -> ConnectProtocolCompatibility:
        """``eager``/``compatible``/``sessioned`` (the config's words, any case)."""
        lookup = {"eager": cls.EAGER, "compatible": cls.COMPATIBLE, "sessioned": cls.SESSIONED}
        try:
            return lookup[value.strip().lower()]
        except KeyError:
            raise ValueError(
                f"Invalid value {value} for configuration connect.protocol: "
                "String must be one of: eager, compatible, sessioned"
            ) from None

    @classmethod
    def from_protocol_name(cls, name: str) -> ConnectProtocolCompatibility:
        for member in cls:
            if member.protocol_name == name:
                return member
        raise ValueError(f"Unknown Connect sub-protocol {name!r}")


#: Assignment error codes
NO_ERROR = 0
CONFIG_MISMATCH = 1


@dataclass
class ConnectAssignment:
    """What the leader tells one member. Cooperative protocols send only what changed: the new
    ``connectors``/``tasks`` to start and the ``revoked_*`` ones to stop; ``delay_ms`` > 0 says
    a departed worker's work is held that long before it is reassigned."""

    error: int = NO_ERROR
    leader: str = ""
    leader_url: str = ""
    config_offset: int = -1
    connectors: list[str] = field(default_factory=list)
    tasks: list[TaskId] = field(default_factory=list)
    revoked_connectors: list[str] = field(default_factory=list)
    revoked_tasks: list[TaskId] = field(default_factory=list)
    delay_ms: int = 0

    @property
    def failed(self) -> bool:
        return self.error != NO_ERROR


@dataclass
class WorkerAllocation:
    """The connectors and tasks a worker runs now (sent in its metadata, cooperative only)."""

    connectors: list[str] = field(default_factory=list)
    tasks: list[TaskId] = field(default_factory=list)


@dataclass
class WorkerMetadata:
    """What a worker tells the group when it joins: its REST URL, the config topic offset it
    has read up to, and (cooperative protocols) what it runs now."""

    url: str
    config_offset: int
    allocation: WorkerAllocation | None = None
