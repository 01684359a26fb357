"""Kafka Connect's group protocol: the member metadata a worker sends when it joins, and the
assignment the leader sends back, in Kafka Connect's binary layout (ConnectProtocol for the
eager ``default`` sub-protocol, version 0; IncrementalCooperativeConnectProtocol for
``compatible`` and ``sessioned``, versions 1 and 2), so kconnect and Java workers can read each
other's messages.

What this module guarantees:

- the encoders write the bytes Java writes for the same content (Java takes the order of the
  assigned connectors from a HashSet; here it is the order given);
- the decoders read whatever Java writes, of any version >= 0, as Java reads it: optional
  trailing fields may be missing, null arrays read as empty, a newer version's extra trailing
  fields are ignored;
- malformed input (truncated, negative lengths, bad UTF-8, not bytes) is a ``ValueError`` that
  names the message and the field; no ``IndexError`` or ``struct.error`` escapes; a value that
  does not fit its field is a ``ValueError`` from the encoders;
- everything is pure: no I/O, no state.

Layout (big-endian; STRING = INT16 length + UTF-8; ARRAY and NULLABLE_BYTES = INT32 count or
length, -1 for null)::

    metadata   = version INT16 | url STRING | config-offset INT64
                 | (v1+) allocation NULLABLE_BYTES (an assignment message, below)
    assignment = version INT16 | error INT16 | leader STRING | leader-url STRING
                 | config-offset INT64 | assignment ARRAY<connector-assignment>
                 | (v1+) revoked ARRAY<connector-assignment> | (v1+) delay INT32
    connector-assignment = connector STRING | tasks ARRAY<INT32>  (-1 = the Connector instance)
"""

from __future__ import annotations

import enum
import struct
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


# --- binary layout -------------------------------------------------------------------------------

#: versions of the messages (the INT16 header): eager, compatible, sessioned
CONNECT_PROTOCOL_V0 = 0
CONNECT_PROTOCOL_V1 = 1
CONNECT_PROTOCOL_V2 = 2
SUPPORTED_VERSIONS = (CONNECT_PROTOCOL_V0, CONNECT_PROTOCOL_V1, CONNECT_PROTOCOL_V2)

#: task number that stands for the Connector instance in a ConnectorAssignment's task list
CONNECTOR_TASK = -1

_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")
_MAX_STRING_BYTES = 0x7FFF  # STRING's length is an INT16
# The smallest encoded size of one array element, used to refuse a count that cannot fit in the
# bytes left before allocating anything (a garbage count must not make us build a huge list).
_MIN_CONNECTOR_ASSIGNMENT_BYTES = 2 + 4  # empty connector name + empty task array
_MIN_TASK_BYTES = 4

Buffer = bytes | bytearray | memoryview


class _Writer:
    """Appends Kafka protocol primitives; a value that does not fit its type is a ValueError
    naming the field, so a struct.error never reaches the caller."""

    def __init__(self) -> None:
        self._out = bytearray()

    def _pack(self, fmt: struct.Struct, bits: int, name: str, value: int) -> None:
        low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
        self._out += fmt.pack(value)

    def int16(self, name: str, value: int) -> None:
        self._pack(_INT16, 16, name, value)

    def int32(self, name: str, value: int) -> None:
        self._pack(_INT32, 32, name, value)

    def int64(self, name: str, value: int) -> None:
        self._pack(_INT64, 64, name, value)

    def string(self, name: str, value: str) -> None:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a str, got {value!r}")
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValueError(f"{name} cannot be encoded as UTF-8: {e}") from None
        if len(raw) > _MAX_STRING_BYTES:
            raise ValueError(
                f"{name} is {len(raw)} bytes in UTF-8; a protocol STRING holds at most "
                f"{_MAX_STRING_BYTES}"
            )
        self._out += _INT16.pack(len(raw))
        self._out += raw

    def nullable_bytes(self, name: str, value: bytes | None) -> None:
        if value is None:
            self._out += _INT32.pack(-1)
            return
        self.int32(f"length of {name}", len(value))
        self._out += value

    def getvalue(self) -> bytes:
        return bytes(self._out)


class _Reader:
    """Reads Kafka protocol primitives from a buffer; anything short or impossible is a
    ValueError that says which message and field were malformed."""

    def __init__(self, data: Buffer, what: str) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ValueError(f"Malformed {what}: expected bytes, got {type(data).__name__}")
        try:
            self._data = memoryview(data).cast("B")
        except TypeError as e:  # e.g. a non-contiguous view
            raise ValueError(f"Malformed {what}: unreadable buffer ({e})") from None
        self._pos = 0
        self._what = what

    def error(self, detail: str) -> ValueError:
        return ValueError(f"Malformed {self._what}: {detail}")

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def _take(self, size: int, field_name: str) -> memoryview:
        if size > self.remaining:
            raise self.error(
                f"field '{field_name}' needs {size} bytes at offset {self._pos}, "
                f"only {self.remaining} left"
            )
        chunk = self._data[self._pos : self._pos + size]
        self._pos += size
        return chunk

    def int16(self, field_name: str) -> int:
        return _INT16.unpack(self._take(2, field_name))[0]

    def int32(self, field_name: str) -> int:
        return _INT32.unpack(self._take(4, field_name))[0]

    def int64(self, field_name: str) -> int:
        return _INT64.unpack(self._take(8, field_name))[0]

    def string(self, field_name: str) -> str:
        length = self.int16(f"{field_name} length")
        if length < 0:
            raise self.error(f"field '{field_name}' has negative string length {length}")
        raw = self._take(length, field_name)
        try:
            return str(raw, "utf-8")
        except UnicodeDecodeError as e:
            raise self.error(f"field '{field_name}' is not valid UTF-8 ({e.reason})") from None

    def nullable_bytes(self, field_name: str) -> bytes | None:
        length = self.int32(f"{field_name} length")
        if length < 0:  # Java reads any negative length as null, not only -1
            return None
        return bytes(self._take(length, field_name))

    def array_count(self, field_name: str, min_element_bytes: int, nullable: bool) -> int | None:
        count = self.int32(f"{field_name} count")
        if count < 0:
            if nullable:
                return None
            raise self.error(f"field '{field_name}' has negative array count {count}")
        if count * min_element_bytes > self.remaining:
            raise self.error(
                f"field '{field_name}' claims {count} elements but only {self.remaining} "
                "bytes are left"
            )
        return count


def _check_version(version: int) -> None:
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        raise ValueError(
            f"Unsupported Connect protocol version {version!r}: expected one of "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))}"
        )


def _read_version(reader: _Reader) -> int:
    version = reader.int16("version")
    # Java accepts every version >= 0 and parses it as the newest layout it knows; only a
    # negative one is refused.
    if version < 0:
        raise reader.error(f"unsupported protocol version {version}")
    return version


def protocol_version(data: Buffer) -> int:
    """The version in the INT16 header of a Connect metadata or assignment message."""
    return _read_version(_Reader(data, "Connect protocol message"))


# --- connector assignments ------------------------------------------------------------------------


def _group_by_connector(connectors: list[str], tasks: list[TaskId]) -> dict[str, list[int]]:
    """Java's grouping: every connector instance first, in the order given (repeats dropped),
    each with the CONNECTOR_TASK marker; then the tasks, appended to their connector's entry,
    which is created on first sight when the connector instance itself is not included."""
    grouped: dict[str, list[int]] = {}
    for connector in connectors:
        grouped.setdefault(connector, [CONNECTOR_TASK])
    for task_id in tasks:
        if not isinstance(task_id, TaskId):
            raise ValueError(f"tasks must hold TaskId values, got {task_id!r}")
        if task_id.task == CONNECTOR_TASK:
            # it would come back as the Connector instance, not a task
            raise ValueError(
                f"task {task_id} cannot be encoded: task number {CONNECTOR_TASK} is reserved "
                "for the Connector instance"
            )
        grouped.setdefault(task_id.connector, []).append(task_id.task)
    return grouped


def _write_connector_assignments(
    writer: _Writer, name: str, connectors: list[str], tasks: list[TaskId]
) -> None:
    grouped = _group_by_connector(connectors, tasks)
    writer.int32(f"{name} count", len(grouped))
    for connector, task_numbers in grouped.items():
        writer.string(f"{name} connector name", connector)
        writer.int32(f"{name} task count for {connector!r}", len(task_numbers))
        for number in task_numbers:
            writer.int32(f"{name} task number for {connector!r}", number)


def _read_connector_assignments(reader: _Reader, name: str) -> tuple[list[str], list[TaskId]]:
    """ARRAY<ConnectorAssignment>; a null array (cooperative schema) reads as empty."""
    connectors: list[str] = []
    tasks: list[TaskId] = []
    count = reader.array_count(name, _MIN_CONNECTOR_ASSIGNMENT_BYTES, nullable=True)
    for _ in range(count or 0):
        connector = reader.string(f"{name}.connector")
        # the per-connector task list is a plain (non-nullable) ARRAY<INT32> in every version
        task_count = reader.array_count(f"{name}.tasks", _MIN_TASK_BYTES, nullable=False)
        for _ in range(task_count or 0):
            number = reader.int32(f"{name}.tasks")
            if number == CONNECTOR_TASK:
                connectors.append(connector)
            else:
                tasks.append(TaskId(connector, number))
    return connectors, tasks


# --- assignment -----------------------------------------------------------------------------------


def encode_assignment(assignment: ConnectAssignment, version: int) -> bytes:
    """The leader's message to one member, in ``version``'s layout.

    Version 0: version, error, leader, leader url, config offset, assignment. Versions 1 and 2
    add revoked and delay. Connectors and tasks are grouped per connector as Java does (see
    ``_group_by_connector``); revoked is always written as an array, empty (count 0) when
    nothing is revoked, never null. Raises ValueError when a value does not fit its field, and
    for version 0 when the assignment revokes anything or carries a delay, since the eager
    layout has nowhere to put them and dropping them would leave work running twice.
    """
    _check_version(version)
    if version == CONNECT_PROTOCOL_V0 and (
        assignment.revoked_connectors or assignment.revoked_tasks or assignment.delay_ms
    ):
        raise ValueError(
            "An eager (version 0) assignment cannot carry revoked connectors/tasks or a delay"
        )
    writer = _Writer()
    writer.int16("version", version)
    _write_assignment_body(writer, assignment, version)
    return writer.getvalue()


def _write_assignment_body(writer: _Writer, assignment: ConnectAssignment, version: int) -> None:
    writer.int16("error", assignment.error)
    writer.string("leader", assignment.leader)
    writer.string("leader url", assignment.leader_url)
    writer.int64("config offset", assignment.config_offset)
    _write_connector_assignments(writer, "assignment", assignment.connectors, assignment.tasks)
    if version >= CONNECT_PROTOCOL_V1:
        _write_connector_assignments(
            writer, "revoked", assignment.revoked_connectors, assignment.revoked_tasks
        )
        writer.int32("delay", assignment.delay_ms)


def decode_assignment(data: Buffer) -> ConnectAssignment:
    """The assignment in ``data``, whatever its version.

    As in Java, the fields after config offset (assignment; revoked and delay from version 1)
    may be missing at the very end of the message and then read as empty lists and 0; a null
    assignment or revoked array also reads as empty; a version newer than 2 is read as version
    2 and its extra trailing fields are ignored. Raises ValueError when the message is truncated
    inside a field or otherwise malformed.
    """
    reader = _Reader(data, "Connect assignment")
    return _read_assignment(reader, _read_version(reader))


def _read_assignment(reader: _Reader, version: int) -> ConnectAssignment:
    result = ConnectAssignment(
        error=reader.int16("error"),
        leader=reader.string("leader"),
        leader_url=reader.string("leader url"),
        config_offset=reader.int64("config offset"),
    )
    # Java's schema tolerates missing trailing fields: only when the buffer is exhausted
    # exactly at a field boundary, never a field cut in half.
    if reader.remaining:
        result.connectors, result.tasks = _read_connector_assignments(reader, "assignment")
    if version >= CONNECT_PROTOCOL_V1:
        if reader.remaining:
            result.revoked_connectors, result.revoked_tasks = _read_connector_assignments(
                reader, "revoked"
            )
        if reader.remaining:
            result.delay_ms = reader.int32("delay")
    return result


# --- member metadata ------------------------------------------------------------------------------


def encode_metadata(metadata: WorkerMetadata, version: int) -> bytes:
    """A worker's JoinGroup metadata for the sub-protocol of ``version``.

    Version 0 (``default``): version, url, config offset; the allocation is not part of the
    eager layout and is left out, as Java leaves it out of the ``default`` entry it sends next
    to the cooperative ones. Versions 1 and 2 add the allocation: NULLABLE_BYTES, null when
    ``metadata.allocation`` is None (Java: the worker has had no assignment yet), else a whole
    assignment message headed by the same version, whose connectors and tasks are what the
    worker runs now. Java leaders read only those two lists from it; the other fields carry
    error 0, empty leader and leader url, the worker's config offset, no revocations, delay 0.
    """
    _check_version(version)
    writer = _Writer()
    writer.int16("version", version)
    writer.string("url", metadata.url)
    writer.int64("config offset", metadata.config_offset)
    if version >= CONNECT_PROTOCOL_V1:
        writer.nullable_bytes("allocation", _encode_allocation(metadata, version))
    return writer.getvalue()


def _encode_allocation(metadata: WorkerMetadata, version: int) -> bytes | None:
    allocation = metadata.allocation
    if allocation is None:
        return None
    # Java embeds its last received assignment (augmented with what it kept); the leader uses
    # only connectors and tasks, so the rest is filled with neutral values.
    held = ConnectAssignment(
        error=NO_ERROR,
        leader="",
        leader_url="",
        config_offset=metadata.config_offset,
        connectors=allocation.connectors,
        tasks=allocation.tasks,
    )
    try:
        return encode_assignment(held, version)
    except ValueError as e:
        raise ValueError(f"allocation: {e}") from None


def decode_metadata(data: Buffer) -> WorkerMetadata:
    """The member metadata in ``data``, whatever its version.

    Version 0 has no allocation: ``allocation`` is None and any trailing bytes are ignored.
    From version 1 the allocation may be missing at the end of the message or null (both give
    None); otherwise its embedded assignment is decoded and its connectors and tasks kept. A
    version newer than 2 is read as version 2 and its extra trailing fields ignored. Raises
    ValueError when the message or its embedded assignment is malformed.
    """
    reader = _Reader(data, "Connect member metadata")
    version = _read_version(reader)
    url = reader.string("url")
    config_offset = reader.int64("config offset")
    allocation: WorkerAllocation | None = None
    if version >= CONNECT_PROTOCOL_V1 and reader.remaining:
        raw = reader.nullable_bytes("allocation")
        if raw is not None:
            inner = _Reader(raw, "allocation in Connect member metadata")
            held = _read_assignment(inner, _read_version(inner))
            allocation = WorkerAllocation(connectors=held.connectors, tasks=held.tasks)
    return WorkerMetadata(url=url, config_offset=config_offset, allocation=allocation)
