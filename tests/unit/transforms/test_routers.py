"""RegexRouter and TimestampRouter, after Kafka's tests and connect.html."""

from __future__ import annotations

import pytest
from kconnect.api import ConfigException, DataException
from kconnect_builtins.transforms._datefmt import JavaDateFormat
from kconnect_builtins.transforms.regex_router import RegexRouter
from kconnect_builtins.transforms.timestamp_router import TimestampRouter

from ._records import sink_record, source_record


def route(regex: str, replacement: str, topic: str) -> str:
    router = RegexRouter()
    router.configure({"regex": regex, "replacement": replacement})
    return router.apply(sink_record(topic=topic)).topic


@pytest.mark.parametrize(
    ("regex", "replacement", "topic", "expected"),
    [
        ("foo", "bar", "foo", "bar"),
        ("foo", "bar", "orig", "orig"),
        ("(.*)", "$1", "orig", "orig"),
        ("(.*)", "prefix-$1", "orig", "prefix-orig"),
        ("(.*)", "$1-suffix", "orig", "orig-suffix"),
        ("(.*)-(\\d\\d\\d\\d\\d\\d\\d\\d)", "$1", "index-20160117", "index"),
        # connect.html example
        ("([^.]+)\\.([^.]+)\\.([^.]+)", "$3", "some.prefix.table", "table"),
        ("(?<name>.*)-v1", "${name}-v2", "orders-v1", "orders-v2"),
        ("(.*)", "\\$1", "orig", "$1"),
        ("(a)", "$10", "a", "a0"),
    ],
)
def test_regex_router(regex, replacement, topic, expected):
    assert route(regex, replacement, topic) == expected


def test_regex_router_keeps_the_rest_of_the_record():
    router = RegexRouter()
    router.configure({"regex": "(.*)", "replacement": "x-$1"})
    record = source_record(None, "v", key="k", timestamp=5)
    out = router.apply(record)
    assert (out.topic, out.key, out.value, out.timestamp) == ("x-test", "k", "v", 5)
    assert out.source_offset == record.source_offset


def test_regex_router_config_errors():
    with pytest.raises(
        ConfigException, match="Invalid value \\[ for configuration regex: Invalid regex"
    ):
        RegexRouter().configure({"regex": "[", "replacement": "x"})
    with pytest.raises(ConfigException, match='Missing required configuration "replacement"'):
        RegexRouter().configure({"regex": "x"})


def test_timestamp_router_default_configuration():
    router = TimestampRouter()
    router.configure({})
    assert router.apply(source_record(timestamp=1483425001864)).topic == "test-20170103"


def test_timestamp_router_custom_formats():
    router = TimestampRouter()
    router.configure(
        {"topic.format": "${timestamp}_${topic}", "timestamp.format": "yyyy-MM-dd'T'HH"}
    )
    assert router.apply(source_record(timestamp=1483425001864)).topic == "2017-01-03T06_test"


def test_timestamp_router_requires_timestamp():
    router = TimestampRouter()
    router.configure({})
    with pytest.raises(DataException, match="Timestamp missing on record"):
        router.apply(source_record())


def test_timestamp_router_rejects_bad_pattern():
    with pytest.raises(ConfigException, match="timestamp.format"):
        TimestampRouter().configure({"timestamp.format": "yyyyqq"})


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyyMMdd", "20170103"),
        ("yyyy-MM-dd HH:mm:ss.SSS", "2017-01-03 06:30:01.864"),
        ("yy/M/d h:mm a", "17/1/3 6:30 AM"),
        ("EEE, d MMM yyyy HH:mm:ss Z", "Tue, 3 Jan 2017 06:30:01 +0000"),
        ("yyyy-MM-dd'T'HH:mm:ssXXX", "2017-01-03T06:30:01Z"),
        ("'week' w 'day' D", "week 1 day 3"),
        ("''yy''", "'17'"),
    ],
)
def test_java_date_format(pattern, expected):
    assert JavaDateFormat(pattern).format_millis(1483425001864) == expected
