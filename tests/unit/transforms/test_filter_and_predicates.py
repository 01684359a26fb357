"""Filter and the predicates, after Kafka's predicate tests."""

from __future__ import annotations

import pytest
from kconnect.api import ConfigException, Header
from kconnect_builtins.predicates import HasHeaderKey, RecordIsTombstone, TopicNameMatches
from kconnect_builtins.transforms.filter import Filter

from ._records import source_record


def test_filter_drops_every_record():
    xform = Filter()
    xform.configure({})
    assert xform.apply(source_record(None, "value")) is None
    assert xform.apply(source_record()) is None
    assert Filter.java_class_names == ("org.apache.kafka.connect.transforms.Filter",)
    assert list(xform.config().names()) == []


def test_predicate_class_names():
    assert TopicNameMatches.java_class_names == (
        "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
    )
    assert HasHeaderKey.java_class_names == (
        "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
    )
    assert RecordIsTombstone.java_class_names == (
        "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
    )


# -- TopicNameMatches -------------------------------------------------------------------------
def test_pattern_required():
    with pytest.raises(ConfigException, match='Missing required configuration "pattern"'):
        TopicNameMatches().configure({})


def test_pattern_may_not_be_empty():
    with pytest.raises(ConfigException, match="String must be non-empty"):
        TopicNameMatches().configure({"pattern": ""})


def test_pattern_must_be_a_valid_regex():
    with pytest.raises(ConfigException, match="Invalid regex"):
        TopicNameMatches().configure({"pattern": "["})
    values = TopicNameMatches().config().validate({"pattern": "*"})
    errors = [m for v in values for m in v.error_messages if v.name == "pattern"]
    assert len(errors) == 1 and "Invalid regex" in errors[0]


def test_topic_name_matches_whole_topic():
    predicate = TopicNameMatches()
    predicate.configure({"pattern": "my-prefix-.*"})
    assert predicate.test(source_record(topic="my-prefix-"))
    assert predicate.test(source_record(topic="my-prefix-foo"))
    assert not predicate.test(source_record(topic="x-my-prefix-"))
    assert not predicate.test(source_record(topic="x-my-prefix-foo"))
    assert not predicate.test(source_record(topic="your-prefix-"))
    assert not predicate.test(source_record(topic=None))


# -- HasHeaderKey -----------------------------------------------------------------------------
def test_name_required():
    with pytest.raises(ConfigException, match='Missing required configuration "name"'):
        HasHeaderKey().configure({})


def test_name_may_not_be_empty():
    values = HasHeaderKey().config().validate({"name": ""})
    errors = [m for v in values for m in v.error_messages if v.name == "name"]
    assert errors == ["Invalid value  for configuration name: String must be non-empty"]


def with_headers(*keys):
    return source_record(headers=[Header(k, None) for k in keys])


def test_has_header_key():
    predicate = HasHeaderKey()
    predicate.configure({"name": "foo"})
    assert predicate.test(with_headers("foo"))
    assert predicate.test(with_headers("foo", "bar"))
    assert predicate.test(with_headers("bar", "foo", "bar", "foo"))
    assert not predicate.test(with_headers("bar"))
    assert not predicate.test(with_headers("bar", "bar"))
    assert not predicate.test(with_headers())


# -- RecordIsTombstone ------------------------------------------------------------------------
def test_record_is_tombstone():
    predicate = RecordIsTombstone()
    predicate.configure({})
    assert predicate.test(source_record(None, None, key="k"))
    assert not predicate.test(source_record(None, "value"))
    assert repr(predicate) == "RecordIsTombstone{}"
