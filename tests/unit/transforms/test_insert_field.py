"""InsertField, after Kafka's InsertFieldTest and the connect.html example."""

from __future__ import annotations

import datetime as dt

import pytest
from kconnect.api import ConfigException, DataException, Schema, SchemaBuilder, Struct, Timestamp
from kconnect_builtins.transforms.insert_field import InsertField

from ._records import sink_record, source_record

PROPS = {
    "topic.field": "topic_field!",
    "partition.field": "partition_field",
    "timestamp.field": "timestamp_field?",
    "static.field": "instance_id",
    "static.value": "my-instance-id",
}


def value_xform(props=PROPS) -> InsertField:
    xform = InsertField.Value()
    xform.configure(props)
    return xform


def test_class_names_and_version():
    assert InsertField.Key.java_class_names == (
        "org.apache.kafka.connect.transforms.InsertField$Key",
    )
    assert InsertField.Value.java_class_names == (
        "org.apache.kafka.connect.transforms.InsertField$Value",
    )
    assert InsertField.Key().version() == InsertField.Value().version()
    assert set(InsertField.Value().config().names()) >= {"topic.field", "static.value"}


def test_top_level_struct_required():
    xform = value_xform({"topic.field": "topic_field"})
    with pytest.raises(
        DataException, match=r"Only Struct objects supported for \[field insertion\]"
    ):
        xform.apply(source_record(Schema.INT32_SCHEMA, 42))


def test_copy_schema_and_insert_configured_fields():
    xform = value_xform()
    schema = (
        SchemaBuilder.struct().name("name").version(1).doc("doc")
        .field("magic", Schema.OPTIONAL_INT64_SCHEMA).build()
    )  # fmt: skip
    record = source_record(schema, Struct(schema).put("magic", 42), timestamp=789)
    out = xform.apply(record)
    assert (out.value_schema.name, out.value_schema.version, out.value_schema.doc) == (
        "name",
        1,
        "doc",
    )
    assert out.value_schema.field("magic").schema == Schema.OPTIONAL_INT64_SCHEMA
    assert out.value.get("magic") == 42
    assert out.value_schema.field("topic_field").schema == Schema.STRING_SCHEMA
    assert out.value.get("topic_field") == "test"
    assert out.value_schema.field("partition_field").schema == Schema.OPTIONAL_INT32_SCHEMA
    assert out.value.get("partition_field") == 0
    assert (
        out.value_schema.field("timestamp_field").schema == Timestamp.builder().optional().build()
    )
    assert Timestamp.from_logical(Timestamp.SCHEMA, out.value.get("timestamp_field")) == 789
    assert out.value_schema.field("instance_id").schema == Schema.OPTIONAL_STRING_SCHEMA
    assert out.value.get("instance_id") == "my-instance-id"
    out.value.validate()

    again = xform.apply(source_record(schema, Struct(schema), partition=1))
    assert again.value_schema is out.value_schema  # cached per input schema


def test_schemaless_insert_configured_fields():
    out = value_xform().apply(source_record(None, {"magic": 42}, timestamp=123))
    assert out.value == {
        "magic": 42,
        "topic_field": "test",
        "partition_field": 0,
        "timestamp_field": 123,
        "instance_id": "my-instance-id",
    }


def test_docs_example_insert_data_source():
    # connect.html: transforms.InsertSource.static.field=data_source, static.value=test-file-source
    xform = value_xform({"static.field": "data_source", "static.value": "test-file-source"})
    schema = SchemaBuilder.struct().field("line", Schema.STRING_SCHEMA).build()
    out = xform.apply(source_record(schema, Struct(schema).put("line", "foo")))
    assert out.value.to_dict() == {"line": "foo", "data_source": "test-file-source"}


@pytest.mark.parametrize(
    "schema", [None, SchemaBuilder.struct().field("magic", Schema.OPTIONAL_INT64_SCHEMA).build()]
)
def test_tombstone_value_is_left_unchanged(schema):
    record = source_record(schema, None)
    out = value_xform().apply(record)
    assert out.value is None
    assert out.value_schema == schema


def test_key_fields_into_tombstone_event():
    xform = InsertField.Key()
    xform.configure(PROPS)
    out = xform.apply(source_record(key={"magic": 42}))
    assert out.key == {
        "magic": 42,
        "topic_field": "test",
        "partition_field": 0,
        "instance_id": "my-instance-id",
    }
    assert out.value is None


def test_insert_into_null_key_leaves_record_unchanged():
    xform = InsertField.Key()
    xform.configure(PROPS)
    record = source_record(None, {"magic": 42})
    assert xform.apply(record) is record


@pytest.mark.parametrize(("replace", "expected"), [(False, None), (True, 42)])
def test_unset_optional_field(replace, expected):
    xform = value_xform({**PROPS, "replace.null.with.default": replace})
    field_schema = SchemaBuilder.int64().optional().default_value(42).build()
    schema = SchemaBuilder.struct().field("magic_with_default", field_schema).build()
    out = xform.apply(
        source_record(schema, Struct(schema).put("magic_with_default", None), timestamp=789)
    )
    assert out.value_schema.field("magic_with_default").schema == field_schema
    assert out.value.get_without_default("magic_with_default") == expected


def test_offset_field_for_sink_records_only():
    xform = value_xform({"offset.field": "offset!"})
    schema = SchemaBuilder.struct().field("a", Schema.INT32_SCHEMA).build()
    out = xform.apply(sink_record(schema, Struct(schema).put("a", 1), offset=77))
    assert out.value.get("offset") == 77
    assert out.value_schema.field("offset").schema == Schema.INT64_SCHEMA
    assert out.kafka_offset == 77
    with pytest.raises(DataException, match=r"Only SinkRecord supported for \[field insertion\]"):
        xform.apply(source_record(None, {"a": 1}))


def test_timestamp_is_a_datetime_in_structs():
    xform = value_xform({"timestamp.field": "ts"})
    schema = SchemaBuilder.struct().field("a", Schema.INT32_SCHEMA).build()
    out = xform.apply(source_record(schema, Struct(schema).put("a", 1), timestamp=86_400_000))
    assert out.value.get("ts") == dt.datetime(1970, 1, 2, tzinfo=dt.UTC)


def test_no_insertion_configured():
    with pytest.raises(ConfigException, match="No field insertion configured"):
        InsertField.Value().configure({})


def test_static_field_without_value():
    with pytest.raises(ConfigException) as e:
        InsertField.Value().configure({"static.field": "instance_id"})
    assert str(e.value) == (
        "Invalid value null for configuration static.value: "
        "No value specified for static field: instance_id"
    )
