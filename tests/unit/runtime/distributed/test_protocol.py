"""Kafka Connect's group protocol bytes: round trips for versions 0, 1 and 2, byte vectors built
by hand from the layout in Kafka's ConnectProtocol / IncrementalCooperativeConnectProtocol
(not with the encoder under test), Java's tolerances (missing trailing fields, null arrays,
newer versions), and malformed input always failing as a ValueError."""

from __future__ import annotations

import random

import pytest
from kconnect.runtime.distributed.protocol import (
    CONFIG_MISMATCH,
    NO_ERROR,
    ConnectAssignment,
    WorkerAllocation,
    WorkerMetadata,
    decode_assignment,
    decode_metadata,
    encode_assignment,
    encode_metadata,
    protocol_version,
)
from kconnect.runtime.states import TaskId

# --- the layout's primitives, written independently of the module under test ---------------------


def i16(value: int) -> bytes:
    return value.to_bytes(2, "big", signed=True)


def i32(value: int) -> bytes:
    return value.to_bytes(4, "big", signed=True)


def i64(value: int) -> bytes:
    return value.to_bytes(8, "big", signed=True)


def string(value: str) -> bytes:
    raw = value.encode("utf-8")
    return i16(len(raw)) + raw


def connector_assignments(entries: list[tuple[str, list[int]]] | None) -> bytes:
    if entries is None:
        return i32(-1)
    out = i32(len(entries))
    for connector, tasks in entries:
        out += string(connector) + i32(len(tasks)) + b"".join(i32(t) for t in tasks)
    return out


def t(connector: str, task: int) -> TaskId:
    return TaskId(connector, task)


LEADER = "leader"
LEADER_URL = "leaderUrl:8083"

# The example of Kafka's ConnectProtocolCompatibilityTest: the leader runs connector1 and
# connector3 (the Connector instances) and task 0 of connector2.
EAGER_ASSIGNMENT = ConnectAssignment(
    error=NO_ERROR,
    leader=LEADER,
    leader_url=LEADER_URL,
    config_offset=1,
    connectors=["connector1", "connector3"],
    tasks=[t("connector2", 0)],
)
EAGER_ASSIGNMENT_BYTES = (
    i16(0)  # version
    + i16(0)  # error
    + string(LEADER)
    + string(LEADER_URL)
    + i64(1)
    + connector_assignments([("connector1", [-1]), ("connector3", [-1]), ("connector2", [0])])
)

# A cooperative assignment: a connector whose instance and tasks both move to this worker, one
# that only has tasks here, revocations of both kinds, and a scheduled delay.
COOP_ASSIGNMENT = ConnectAssignment(
    error=NO_ERROR,
    leader="worker-1-uuid",
    leader_url="http://w1:8083/",
    config_offset=42,
    connectors=["orders"],
    tasks=[t("orders", 0), t("orders", 1), t("users", 2)],
    revoked_connectors=["users"],
    revoked_tasks=[t("users", 0), t("audit", 3)],
    delay_ms=15000,
)


def coop_assignment_bytes(version: int) -> bytes:
    return (
        i16(version)
        + i16(0)
        + string("worker-1-uuid")
        + string("http://w1:8083/")
        + i64(42)
        + connector_assignments([("orders", [-1, 0, 1]), ("users", [2])])
        + connector_assignments([("users", [-1, 0]), ("audit", [3])])
        + i32(15000)
    )


# --- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, 1, 2])
def test_assignment_round_trips_in_every_version(version: int) -> None:
    assignment = ConnectAssignment(
        error=NO_ERROR,
        leader="leader-id",
        leader_url="http://leader:8083",
        config_offset=1234567890123,
        connectors=["a", "b"],
        tasks=[t("a", 0), t("a", 1), t("c", 7)],
    )
    if version > 0:
        assignment.revoked_connectors = ["d"]
        assignment.revoked_tasks = [t("d", 0), t("e", 4)]
        assignment.delay_ms = 60000
    decoded = decode_assignment(encode_assignment(assignment, version))
    assert decoded == assignment
    assert protocol_version(encode_assignment(assignment, version)) == version


@pytest.mark.parametrize("version", [0, 1, 2])
def test_config_mismatch_assignment_round_trips_as_failed(version: int) -> None:
    assignment = ConnectAssignment(
        error=CONFIG_MISMATCH, leader="l", leader_url="http://l:8083", config_offset=9
    )
    decoded = decode_assignment(encode_assignment(assignment, version))
    assert decoded == assignment
    assert decoded.failed


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize(
    "allocation",
    [
        None,
        WorkerAllocation(),
        WorkerAllocation(connectors=["a"], tasks=[t("a", 0), t("b", 3)]),
    ],
    ids=["no-allocation", "empty-allocation", "allocation"],
)
def test_cooperative_metadata_round_trips(
    version: int, allocation: WorkerAllocation | None
) -> None:
    metadata = WorkerMetadata(url="http://w2:8083/", config_offset=17, allocation=allocation)
    encoded = encode_metadata(metadata, version)
    assert decode_metadata(encoded) == metadata
    assert protocol_version(encoded) == version


def test_eager_metadata_round_trips_without_the_allocation() -> None:
    metadata = WorkerMetadata(
        url="http://w2:8083/", config_offset=17, allocation=WorkerAllocation(["a"], [t("a", 0)])
    )
    # the eager layout has no allocation field: Java sends the same state under "default"
    # without it
    assert decode_metadata(encode_metadata(metadata, 0)) == WorkerMetadata("http://w2:8083/", 17)


def test_tasks_come_back_grouped_by_connector() -> None:
    assignment = ConnectAssignment(
        leader="l", tasks=[t("a", 0), t("b", 0), t("a", 1)], connectors=["b"]
    )
    decoded = decode_assignment(encode_assignment(assignment, 1))
    assert decoded.connectors == ["b"]
    # b's entry comes first (its Connector instance), then a's, created for its first task
    assert decoded.tasks == [t("b", 0), t("a", 0), t("a", 1)]


def test_non_ascii_strings_are_measured_in_utf8_bytes() -> None:
    assignment = ConnectAssignment(leader="lé", leader_url="http://ü:8083", connectors=["连接器"])
    encoded = encode_assignment(assignment, 0)
    assert encoded[4:6] == i16(3) and encoded[6:9] == "lé".encode()
    assert decode_assignment(encoded) == assignment


# --- hand-built byte vectors ----------------------------------------------------------------------


def test_eager_assignment_bytes() -> None:
    assert encode_assignment(EAGER_ASSIGNMENT, 0) == EAGER_ASSIGNMENT_BYTES
    assert decode_assignment(EAGER_ASSIGNMENT_BYTES) == EAGER_ASSIGNMENT


@pytest.mark.parametrize("version", [1, 2])
def test_cooperative_assignment_bytes(version: int) -> None:
    assert encode_assignment(COOP_ASSIGNMENT, version) == coop_assignment_bytes(version)
    assert decode_assignment(coop_assignment_bytes(version)) == COOP_ASSIGNMENT


def test_empty_cooperative_assignment_writes_empty_arrays_not_null() -> None:
    # Java's ExtendedAssignment never holds null lists, so both arrays are written with count 0
    expected = (
        i16(1) + i16(0) + string("") + string("") + i64(-1) + i32(0) + i32(0) + i32(0)  # delay
    )
    assert encode_assignment(ConnectAssignment(), 1) == expected
    assert decode_assignment(expected) == ConnectAssignment()


def test_eager_metadata_bytes() -> None:
    expected = i16(0) + string(LEADER_URL) + i64(1)
    metadata = WorkerMetadata(url=LEADER_URL, config_offset=1)
    assert encode_metadata(metadata, 0) == expected
    assert decode_metadata(expected) == metadata


@pytest.mark.parametrize("version", [1, 2])
def test_cooperative_metadata_without_assignment_has_null_allocation(version: int) -> None:
    expected = i16(version) + string("http://w:8083") + i64(5) + i32(-1)
    metadata = WorkerMetadata(url="http://w:8083", config_offset=5, allocation=None)
    assert encode_metadata(metadata, version) == expected
    assert decode_metadata(expected) == metadata


@pytest.mark.parametrize("version", [1, 2])
def test_cooperative_metadata_embeds_an_assignment_with_the_same_version(version: int) -> None:
    embedded = (
        i16(version)  # the allocation's own header repeats the metadata's version
        + i16(0)
        + string("")
        + string("")
        + i64(5)  # the worker's config offset
        + connector_assignments([("a", [-1, 0]), ("b", [3])])
        + connector_assignments([])
        + i32(0)
    )
    expected = i16(version) + string("http://w:8083") + i64(5) + i32(len(embedded)) + embedded
    metadata = WorkerMetadata(
        url="http://w:8083",
        config_offset=5,
        allocation=WorkerAllocation(connectors=["a"], tasks=[t("a", 0), t("b", 3)]),
    )
    assert encode_metadata(metadata, version) == expected
    assert decode_metadata(expected) == metadata


def test_metadata_keeps_only_connectors_and_tasks_of_a_java_allocation() -> None:
    # a Java worker embeds its last assignment as received: leader, offset, revocations, delay
    embedded = coop_assignment_bytes(2)
    data = i16(2) + string("http://java:8083") + i64(99) + i32(len(embedded)) + embedded
    assert decode_metadata(data) == WorkerMetadata(
        url="http://java:8083",
        config_offset=99,
        allocation=WorkerAllocation(
            connectors=["orders"], tasks=[t("orders", 0), t("orders", 1), t("users", 2)]
        ),
    )


# --- Java's tolerances ----------------------------------------------------------------------------


def test_null_arrays_read_as_empty() -> None:
    data = (
        i16(1)
        + i16(0)
        + string("l")
        + string("u")
        + i64(3)
        + connector_assignments(None)
        + connector_assignments(None)
        + i32(0)
    )
    assert decode_assignment(data) == ConnectAssignment(leader="l", leader_url="u", config_offset=3)


def test_connector_marker_anywhere_in_the_task_list_is_the_connector() -> None:
    data = (
        i16(1)
        + i16(0)
        + string("l")
        + string("u")
        + i64(3)
        + connector_assignments([("a", [2, -1, 5])])
        + connector_assignments([])
        + i32(0)
    )
    decoded = decode_assignment(data)
    assert decoded.connectors == ["a"]
    assert decoded.tasks == [t("a", 2), t("a", 5)]


def test_missing_trailing_assignment_fields_take_their_defaults() -> None:
    head = i16(1) + i16(0) + string("l") + string("u") + i64(3)
    assigned = connector_assignments([("a", [-1])])
    revoked = connector_assignments([("b", [0])])
    assert decode_assignment(head) == ConnectAssignment(leader="l", leader_url="u", config_offset=3)
    assert decode_assignment(head + assigned).connectors == ["a"]
    after_revoked = decode_assignment(head + assigned + revoked)
    assert after_revoked.revoked_tasks == [t("b", 0)]
    assert after_revoked.delay_ms == 0


@pytest.mark.parametrize("version", [1, 2])
def test_metadata_without_the_allocation_field_has_none(version: int) -> None:
    data = i16(version) + string("http://w:8083") + i64(5)
    assert decode_metadata(data) == WorkerMetadata("http://w:8083", 5, None)


def test_eager_metadata_ignores_trailing_bytes() -> None:
    data = i16(0) + string("http://w:8083") + i64(5) + b"\xff\xff"
    assert decode_metadata(data) == WorkerMetadata("http://w:8083", 5, None)


def test_newer_versions_are_read_as_the_newest_known_layout() -> None:
    extra = i32(7) + string("a field from the future")
    embedded = coop_assignment_bytes(3) + extra
    metadata = i16(3) + string("http://w:8083") + i64(5) + i32(len(embedded)) + embedded + extra
    decoded = decode_metadata(metadata)
    assert decoded.url == "http://w:8083"
    assert decoded.config_offset == 5
    assert decoded.allocation == WorkerAllocation(
        connectors=COOP_ASSIGNMENT.connectors, tasks=COOP_ASSIGNMENT.tasks
    )
    assert decode_assignment(coop_assignment_bytes(3) + extra) == COOP_ASSIGNMENT
    assert protocol_version(metadata) == 3


def test_bytearray_and_memoryview_inputs_are_accepted() -> None:
    assert decode_assignment(bytearray(EAGER_ASSIGNMENT_BYTES)) == EAGER_ASSIGNMENT
    assert decode_assignment(memoryview(EAGER_ASSIGNMENT_BYTES)) == EAGER_ASSIGNMENT


# --- encoder checks -------------------------------------------------------------------------------


def test_encoder_drops_repeated_connectors_but_keeps_their_tasks() -> None:
    assignment = ConnectAssignment(leader="l", connectors=["a", "a"], tasks=[t("a", 0)])
    assert encode_assignment(assignment, 0).endswith(connector_assignments([("a", [-1, 0])]))


@pytest.mark.parametrize("version", [-1, 3, 99])
def test_unknown_versions_are_not_encoded(version: int) -> None:
    with pytest.raises(ValueError, match="version"):
        encode_assignment(ConnectAssignment(), version)
    with pytest.raises(ValueError, match="version"):
        encode_metadata(WorkerMetadata("u", 0), version)


@pytest.mark.parametrize(
    "change",
    [{"revoked_connectors": ["a"]}, {"revoked_tasks": [TaskId("a", 0)]}, {"delay_ms": 1}],
    ids=["revoked-connector", "revoked-task", "delay"],
)
def test_eager_assignment_refuses_what_its_layout_cannot_carry(change: dict) -> None:
    with pytest.raises(ValueError, match="eager"):
        encode_assignment(ConnectAssignment(**change), 0)


@pytest.mark.parametrize("field_name", ["tasks", "revoked_tasks"])
def test_task_number_of_the_connector_marker_is_refused(field_name: str) -> None:
    with pytest.raises(ValueError, match="reserved"):
        encode_assignment(ConnectAssignment(**{field_name: [TaskId("a", -1)]}), 1)


@pytest.mark.parametrize(
    ("assignment", "field_name"),
    [
        (ConnectAssignment(config_offset=2**63), "config offset"),
        (ConnectAssignment(delay_ms=2**31), "delay"),
        (ConnectAssignment(error=2**15), "error"),
        (ConnectAssignment(tasks=[TaskId("a", 2**31)]), "task number"),
        (ConnectAssignment(leader="x" * 32768), "leader"),
        (ConnectAssignment(leader_url="\ud800"), "leader url"),
    ],
    ids=["offset", "delay", "error", "task", "long-string", "surrogate"],
)
def test_values_that_do_not_fit_their_field_are_refused(
    assignment: ConnectAssignment, field_name: str
) -> None:
    with pytest.raises(ValueError, match=field_name):
        encode_assignment(assignment, 1)


def test_longest_string_is_accepted() -> None:
    url = "u" * 32767
    assert decode_metadata(encode_metadata(WorkerMetadata(url, 0), 0)).url == url
    with pytest.raises(ValueError, match="url"):
        encode_metadata(WorkerMetadata(url + "u", 0), 0)


def test_bad_allocation_is_reported_as_the_allocation() -> None:
    metadata = WorkerMetadata("u", 0, WorkerAllocation(tasks=[TaskId("a", -1)]))
    with pytest.raises(ValueError, match="allocation"):
        encode_metadata(metadata, 1)


# --- malformed input ------------------------------------------------------------------------------


def _accepted_prefix_lengths(data: bytes, decode) -> set[int]:
    """Decodes every prefix; each either decodes or raises ValueError (anything else fails)."""
    accepted = set()
    for length in range(len(data) + 1):
        try:
            decode(data[:length])
        except ValueError:
            continue
        accepted.add(length)
    return accepted


def test_truncated_assignment_is_refused_unless_cut_between_optional_fields() -> None:
    data = coop_assignment_bytes(1)
    head = len(i16(1) + i16(0) + string("worker-1-uuid") + string("http://w1:8083/") + i64(42))
    assigned = len(connector_assignments([("orders", [-1, 0, 1]), ("users", [2])]))
    revoked = len(connector_assignments([("users", [-1, 0]), ("audit", [3])]))
    boundaries = {head, head + assigned, head + assigned + revoked, len(data)}
    assert _accepted_prefix_lengths(data, decode_assignment) == boundaries


def test_truncated_metadata_is_refused_unless_cut_before_the_allocation() -> None:
    metadata = WorkerMetadata("http://w:8083", 5, WorkerAllocation(["a"], [t("a", 0)]))
    data = encode_metadata(metadata, 2)
    head = len(i16(2) + string("http://w:8083") + i64(5))
    assert _accepted_prefix_lengths(data, decode_metadata) == {head, len(data)}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "version"),
        (b"\x00", "version"),
        (i16(-1) + string("u") + i64(0), "version -1"),
        (i16(0) + i16(-2) + b"xx", "negative string length"),
        (i16(0) + i16(5) + b"ab", "url"),
        (i16(0) + string("u") + b"\x00\x00\x00", "config offset"),
        (i16(0) + i16(2) + b"\xc3\x28" + i64(0), "UTF-8"),
    ],
    ids=["empty", "short-version", "negative-version", "negative-length", "short-url",
         "short-offset", "bad-utf8"],
)  # fmt: skip
def test_malformed_metadata_is_a_value_error_saying_what(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match="Malformed Connect member metadata") as raised:
        decode_metadata(data)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("allocation", "message"),
    [
        (b"", "allocation in Connect member metadata"),
        (b"\x00\x01\x00", "allocation in Connect member metadata"),
        (i16(1) + i16(0) + string("l"), "leader url"),
    ],
    ids=["zero-length", "garbage", "truncated-inside"],
)
def test_malformed_allocation_is_a_value_error(allocation: bytes, message: str) -> None:
    data = i16(1) + string("u") + i64(0) + i32(len(allocation)) + allocation
    with pytest.raises(ValueError, match=message):
        decode_metadata(data)


def test_allocation_longer_than_the_message_is_refused() -> None:
    data = i16(1) + string("u") + i64(0) + i32(1000) + b"\x00\x01"
    with pytest.raises(ValueError, match="allocation"):
        decode_metadata(data)


HEAD = i16(1) + i16(0) + string("l") + string("u") + i64(0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (HEAD + i32(2_000_000_000), "assignment' claims 2000000000 elements"),
        (HEAD + i32(1) + string("a") + i32(-1), "negative array count"),
        (HEAD + i32(1) + string("a") + i32(3) + i32(0), "assignment.tasks"),
        (HEAD + i32(0) + i32(1) + i16(-1) + i32(0) + i32(0), "'revoked.connector' has negative"),
        (HEAD + i32(0) + i32(0) + b"\x00\x00", "delay"),
        (i16(1) + i16(0) + string("l"), "leader url"),
    ],
    ids=["huge-count", "null-task-list", "short-task-list", "negative-connector-length",
         "short-delay", "missing-leader-url"],
)  # fmt: skip
def test_malformed_assignment_is_a_value_error_saying_what(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match="Malformed Connect assignment") as raised:
        decode_assignment(data)
    assert message in str(raised.value)


@pytest.mark.parametrize("value", ["text", None, 12, [0, 1]])
def test_non_bytes_input_is_a_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="expected bytes"):
        decode_assignment(value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected bytes"):
        decode_metadata(value)  # type: ignore[arg-type]


def test_random_garbage_only_ever_raises_value_error() -> None:
    rng = random.Random(20261129)
    valid = [coop_assignment_bytes(2), EAGER_ASSIGNMENT_BYTES]
    valid.append(encode_metadata(WorkerMetadata("http://w:8083", 5, WorkerAllocation(["a"])), 2))
    for _ in range(3000):
        if rng.random() < 0.5:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        else:  # a valid message with a few bytes flipped: gets past the first fields
            data = bytearray(rng.choice(valid))
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data)
        for decode in (decode_assignment, decode_metadata):
            try:
                decode(data)
            except ValueError:
                pass
