"""/validate knows the keys of the transforms and predicates a config names, and reports
Kafka's errors for aliases, types and negate."""

from __future__ import annotations

from typing import Any

from kconnect.plugins import registry
from kconnect.runtime.config_validation import validate_connector_config

BASE = {"name": "src", "connector.class": "FileStreamSource", "topic": "t", "file": "/tmp/in.txt"}


def validate(**extra: str) -> dict[str, Any]:
    return validate_connector_config(
        registry(), {**BASE, **{k.replace("__", "."): v for k, v in extra.items()}}
    )


def errors(infos: dict[str, Any]) -> dict[str, list[str]]:
    return {
        c["value"]["name"]: c["value"]["errors"] for c in infos["configs"] if c["value"]["errors"]
    }


def entry(infos: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in infos["configs"] if c["definition"]["name"] == name)


def test_transform_keys_appear_under_the_alias_prefix_and_group() -> None:
    infos = validate(
        transforms="addSource",
        transforms__addSource__type="org.apache.kafka.connect.transforms.InsertField$Value",
        transforms__addSource__static__field="source",
        transforms__addSource__static__value="file",
    )
    assert infos["error_count"] == 0, errors(infos)
    assert "Transforms: addSource" in infos["groups"]
    type_entry = entry(infos, "transforms.addSource.type")
    assert type_entry["definition"]["required"] is True
    assert type_entry["definition"]["display_name"] == "Transformation type for addSource"
    static = entry(infos, "transforms.addSource.static.field")
    assert static["definition"]["group"] == "Transforms: addSource"
    assert static["value"]["value"] == "source"
    assert entry(infos, "transforms.addSource.negate")["definition"]["default_value"] == "false"
    assert entry(infos, "transforms.addSource.predicate")["definition"]["type"] == "STRING"


def test_transform_own_required_keys_are_checked() -> None:
    infos = validate(transforms="x", transforms__x__type="ExtractField$Value")
    assert errors(infos) == {
        "transforms.x.field": [
            'Missing required configuration "transforms.x.field" which has no default value.'
        ]
    }


def test_duplicate_alias() -> None:
    infos = validate(transforms="a,a", transforms__a__type="ValueToKey", transforms__a__fields="id")
    assert errors(infos)["transforms"] == [
        "Invalid value [a, a] for configuration transforms: Duplicate alias provided."
    ]
    infos = validate(predicates="p,p", predicates__p__type="RecordIsTombstone")
    assert errors(infos)["predicates"] == [
        "Invalid value [p, p] for configuration predicates: Duplicate alias provided."
    ]


def test_unknown_and_wrong_types() -> None:
    infos = validate(transforms="a", transforms__a__type="com.example.Nope")
    assert errors(infos)["transforms.a.type"] == [
        "Invalid value com.example.Nope for configuration transforms.a.type: Class com.example.Nope could not be found."
    ]
    infos = validate(transforms="a", transforms__a__type="TopicNameMatches")
    assert errors(infos)["transforms.a.type"] == [
        "Invalid value TopicNameMatches for configuration transforms.a.type: Not a Transformation"
    ]
    infos = validate(transforms="a")
    assert errors(infos)["transforms.a.type"] == [
        'Missing required configuration "transforms.a.type" which has no default value.'
    ]


def test_negate_without_predicate() -> None:
    infos = validate(transforms="a", transforms__a__type="Filter", transforms__a__negate="true")
    assert errors(infos)["transforms.a.type"] == [
        (
            "Config 'transforms.a.negate' was provided but there is no config 'transforms.a.predicate' defining a "
            "predicate to be negated."
        )
    ]


def test_predicate_alias_must_be_defined() -> None:
    infos = validate(
        transforms="a", transforms__a__type="Filter", transforms__a__predicate="isTombstone"
    )
    assert errors(infos) == {
        "transforms.a.predicate": [
            (
                "Invalid value isTombstone for configuration transforms.a.predicate: Predicate 'isTombstone' is not defined in "
                "predicates"
            )
        ]
    }


def test_predicate_keys_appear_under_their_prefix() -> None:
    infos = validate(
        transforms="drop",
        transforms__drop__type="Filter",
        transforms__drop__predicate="isFoo",
        transforms__drop__negate="true",
        predicates="isFoo",
        predicates__isFoo__type="org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        predicates__isFoo__pattern="foo.*",
    )
    assert infos["error_count"] == 0, errors(infos)
    assert entry(infos, "predicates.isFoo.pattern")["definition"]["group"] == "Predicates: isFoo"
    assert (
        entry(infos, "predicates.isFoo.type")["definition"]["display_name"]
        == "Predicate type for isFoo"
    )
