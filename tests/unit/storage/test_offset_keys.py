"""Offset keys and values: the bytes Java's JsonConverter writes and the partition Java's
producer picks, so Java and kconnect find each other's offsets.

Expected bytes and partitions were produced with Kafka Connect 4.3.1's JsonConverter
(``schemas.enable=false``) and ``Utils.toPositive(Utils.murmur2(key)) % partitions``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kafka.partitioner.default import murmur2
from kconnect.storage.java_json import dumps, java_double
from kconnect.storage.offset_storage import parse_key, serialize_key, serialize_value

CAPTURE = Path(__file__).parents[2] / "data" / "java_connect_internal_topics.json"


def java_partition(key: bytes, partitions: int) -> int:
    """Java's default partitioner for a keyed record (independently of librdkafka)."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


@pytest.mark.parametrize(
    ("partition", "expected", "in_25", "in_5"),
    [
        ({"filename": "/tmp/in.txt"}, b'["src",{"filename":"/tmp/in.txt"}]', 4, 4),
        # A Python dict is written in insertion order, as Java writes a LinkedHashMap.
        (
            {"topic": "orders", "partition": 3, "cluster": "east"},
            b'["src",{"topic":"orders","partition":3,"cluster":"east"}]',
            20,
            0,
        ),
        ({"id": "p7"}, b'["src",{"id":"p7"}]', 10, 0),
        ({"id": "p39"}, b'["src",{"id":"p39"}]', 20, 0),
    ],
)
def test_offset_key_bytes_and_partition_match_java(partition, expected, in_25, in_5):
    key = serialize_key("src", partition)
    assert key == expected
    assert java_partition(key, 25) == in_25
    assert java_partition(key, 5) == in_5


def test_offset_key_with_every_json_type_matches_java():
    partition = {
        "d": 1.0e-4,
        "big": 1.0e20,
        "plain": 12.5,
        "n": 9223372036854775807,
        "b": True,
        "nil": None,
        "list": [1, "x", {"k": "v"}],
        "s": '\x01\x1f\x7f\u2028é😀/"\\',
    }
    expected = (
        '["src",{"d":1.0E-4,"big":1.0E20,"plain":12.5,"n":9223372036854775807,"b":true,'
        '"nil":null,"list":[1,"x",{"k":"v"}],"s":"\\u0001\\u001F\x7f\u2028é\\uD83D\\uDE00/\\"\\\\"}]'
    ).encode()
    key = serialize_key("src", partition)
    assert key == expected
    assert java_partition(key, 25) == 21
    assert parse_key(key) == ("src", partition)


def test_offset_value_bytes():
    assert serialize_value({"position": 42, "ts": 1.5, "done": False}) == (
        b'{"position":42,"ts":1.5,"done":false}'
    )
    assert serialize_value(None) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (100.0, "100.0"),
        (0.001, "0.001"),
        (9.9e-4, "9.9E-4"),
        (1e7, "1.0E7"),
        (123456789.0, "1.23456789E8"),
        (0.1 + 0.2, "0.30000000000000004"),
        (-0.0, "-0.0"),
        (1.5e300, "1.5E300"),
        (5e-324, "4.9E-324"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"),
    ],
)
def test_java_double(value, text):
    assert java_double(value) == text


def test_non_finite_doubles_are_quoted_as_jackson_does():
    assert dumps([float("nan"), float("inf")]) == b'["NaN","Infinity"]'


def test_bytes_are_base64_and_non_string_keys_make_pairs():
    assert dumps({"b": b"\x00\x01"}) == b'{"b":"AAE="}'
    assert dumps({1: "a"}) == b'[[1,"a"]]'


def test_every_captured_java_offset_round_trips_to_its_partition():
    if not CAPTURE.exists():
        pytest.skip(f"{CAPTURE} is missing")
    data = json.loads(CAPTURE.read_text())
    records = (
        data["topics"]["connect-offsets"] + data["exactly_once"]["topics"]["connect-eos-offsets"]
    )
    assert records
    for captured in records:
        key = captured["key"].encode()
        connector, partition = parse_key(key)
        assert serialize_key(connector, partition) == key
        assert java_partition(key, 25) == captured["partition"]
        if captured["value"] is not None:
            assert serialize_value(json.loads(captured["value"])) == captured["value"].encode()
