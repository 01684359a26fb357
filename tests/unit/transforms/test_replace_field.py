"""ReplaceField, after Kafka's ReplaceFieldTest and the connect.html example."""

from __future__ import annotations

import pytest
from kconnect.api import ConfigException, Schema, SchemaBuilder, Struct
from kconnect_builtins.transforms.replace_field import ReplaceField

from ._records import sink_record

SCHEMA = (
    SchemaBuilder.struct()
    .field("dont", Schema.STRING_SCHEMA)
    .field("abc", Schema.INT32_SCHEMA)
    .field("foo", Schema.BOOLEAN_SCHEMA)
    .field("etc", Schema.STRING_SCHEMA)
    .build()
)


def xform(props, side="Value") -> ReplaceField:
    transform = getattr(ReplaceField, side)()
    transform.configure(props)
    return transform


def test_class_names():
    assert ReplaceField.Value.java_class_names == (
        "org.apache.kafka.connect.transforms.ReplaceField$Value",
    )


def test_tombstone_schemaless():
    out = xform({"include": "abc,foo", "renames": "abc:xyz,foo:bar"}).apply(sink_record())
    assert out.value is None and out.value_schema is None


def test_tombstone_with_schema():
    out = xform({"include": "abc,foo", "renames": "abc:xyz,foo:bar"}).apply(
        sink_record(SCHEMA, None)
    )
    assert out.value is None
    assert out.value_schema == SCHEMA


def test_schemaless():
    value = {"dont": "whatever", "abc": 42, "foo": True, "etc": "etc"}
    out = xform({"exclude": "dont", "renames": "abc:xyz,foo:bar"}).apply(sink_record(None, value))
    assert out.value == {"xyz": 42, "bar": True, "etc": "etc"}
    assert value == {"dont": "whatever", "abc": 42, "foo": True, "etc": "etc"}


def test_with_schema():
    value = Struct(SCHEMA).put("dont", "whatever").put("abc", 42).put("foo", True).put("etc", "etc")
    out = xform({"include": "abc,foo", "renames": "abc:xyz,foo:bar"}).apply(
        sink_record(SCHEMA, value)
    )
    assert [f.name for f in out.value_schema.fields] == ["xyz", "bar"]
    assert out.value.get("xyz") == 42
    assert out.value.get("bar") is True
    out.value.validate()


def test_docs_example_exclude_and_rename():
    # connect.html: exclude=c, renames=foo:c,bar:d
    value = {"foo": 1, "bar": 2, "c": 3}
    out = xform({"exclude": "c", "renames": "foo:c,bar:d"}).apply(sink_record(None, value))
    assert out.value == {"c": 1, "d": 2}


def test_exclude_takes_precedence_over_include():
    out = xform({"include": "abc,foo", "exclude": "foo"}).apply(
        sink_record(None, {"abc": 1, "foo": 2, "x": 3})
    )
    assert out.value == {"abc": 1}


@pytest.mark.parametrize(("replace", "expected"), [(False, None), (True, 42)])
@pytest.mark.parametrize("side", ["Key", "Value"])
def test_replace_null_with_default(side, replace, expected):
    schema = (
        SchemaBuilder.struct()
        .field("abc", SchemaBuilder.int32().optional().default_value(42).build())
        .build()
    )
    struct = Struct(schema).put("abc", None)
    record = (
        sink_record(key_schema=schema, key=struct) if side == "Key" else sink_record(schema, struct)
    )
    props = {
        "include": "abc",
        "renames": "abc:optional_with_default",
        "replace.null.with.default": str(replace).lower(),
    }
    out = xform(props, side).apply(record)
    updated = out.key if side == "Key" else out.value
    assert len(updated.schema.fields) == 1
    assert updated.get_without_default("optional_with_default") == expected


def test_legacy_blacklist_and_whitelist():
    value = {"abc": 1, "foo": 2, "x": 3}
    assert xform({"blacklist": "abc"}).apply(sink_record(None, value)).value == {"foo": 2, "x": 3}
    assert xform({"whitelist": "abc,x"}).apply(sink_record(None, value)).value == {"abc": 1, "x": 3}
    # The new key wins over the deprecated one.
    assert xform({"exclude": "foo", "blacklist": "abc"}).apply(sink_record(None, value)).value == {
        "abc": 1,
        "x": 3,
    }


def test_invalid_rename_mapping():
    with pytest.raises(ConfigException) as e:
        xform({"renames": "abc:xyz,foo"})
    assert (
        str(e.value)
        == "Invalid value [abc:xyz, foo] for configuration renames: Invalid rename mapping: foo"
    )
