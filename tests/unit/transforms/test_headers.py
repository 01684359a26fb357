"""HeaderFrom, InsertHeader and DropHeaders, after Kafka's tests."""

from __future__ import annotations

import pytest
from kconnect.api import ConfigException, Header, Headers, Schema, SchemaBuilder, Struct
from kconnect_builtins.transforms.drop_headers import DropHeaders
from kconnect_builtins.transforms.header_from import HeaderFrom
from kconnect_builtins.transforms.insert_header import InsertHeader

from ._records import source_record


def assert_same_except_headers(original, out):
    assert (out.topic, out.kafka_partition, out.key, out.value, out.timestamp) == (
        original.topic, original.kafka_partition, original.key, original.value, original.timestamp,
    )  # fmt: skip
    assert out.source_partition == original.source_partition
    assert out.source_offset == original.source_offset


def record_with_headers(headers):
    return source_record(None, "value", key="key", timestamp=0, headers=Headers(headers))


# -- InsertHeader -----------------------------------------------------------------------------
def insert(header, literal):
    xform = InsertHeader()
    xform.configure({"header": header, "value.literal": literal})
    return xform


def test_insertion_with_existing_other_header():
    original = record_with_headers([Header("existing", "existing-value", Schema.STRING_SCHEMA)])
    out = insert("inserted", "inserted-value").apply(original)
    assert_same_except_headers(original, out)
    assert list(out.headers) == [
        Header("existing", "existing-value", Schema.STRING_SCHEMA),
        Header("inserted", "inserted-value", Schema.STRING_SCHEMA),
    ]
    assert len(original.headers) == 1


def test_insertion_with_existing_same_header():
    original = record_with_headers([Header("existing", "preexisting-value", Schema.STRING_SCHEMA)])
    out = insert("existing", "inserted-value").apply(original)
    assert [h.value for h in out.headers.all_with_name("existing")] == [
        "preexisting-value",
        "inserted-value",
    ]


@pytest.mark.parametrize(
    ("literal", "schema", "value"),
    [("1", Schema.INT8_SCHEMA, 1), ("1000", Schema.INT16_SCHEMA, 1000), ("true", Schema.BOOLEAN_SCHEMA, True),
     ("1.5", Schema.FLOAT32_SCHEMA, 1.5), ("text", Schema.STRING_SCHEMA, "text")],
)  # fmt: skip
def test_literal_types(literal, schema, value):
    out = insert("h", literal).apply(record_with_headers([]))
    assert list(out.headers) == [Header("h", value, schema)]


@pytest.mark.parametrize("props", [{"value.literal": "1"}, {"header": "inserted"}])
def test_insert_header_rejects_missing_config(props):
    with pytest.raises(ConfigException):
        InsertHeader().configure(props)


# -- DropHeaders ------------------------------------------------------------------------------
def drop(*names):
    xform = DropHeaders()
    xform.configure({"headers": list(names)})
    return xform


def test_drop_existing_header_with_multiple_values():
    existing = Header("existing", "existing-value", Schema.STRING_SCHEMA)
    original = record_with_headers([
        existing, Header("to-drop", "a", Schema.STRING_SCHEMA), Header("to-drop", "b", Schema.STRING_SCHEMA),
    ])  # fmt: skip
    out = drop("to-drop").apply(original)
    assert_same_except_headers(original, out)
    assert list(out.headers) == [existing]
    assert len(original.headers) == 3


def test_drop_non_existing_header():
    existing = Header("existing", "existing-value", Schema.STRING_SCHEMA)
    assert list(drop("to-drop").apply(record_with_headers([existing])).headers) == [existing]


def test_drop_headers_rejects_empty_list():
    with pytest.raises(ConfigException, match="Empty list"):
        drop()


# -- HeaderFrom -------------------------------------------------------------------------------
def header_from(side, fields, headers, operation):
    xform = getattr(HeaderFrom, side)()
    xform.configure({"fields": fields, "headers": headers, "operation": operation})
    return xform


SCHEMA = (
    SchemaBuilder.struct().name("reading")
    .field("field1", Schema.STRING_SCHEMA).field("field2", Schema.INT32_SCHEMA)
    .field("field3", Schema.OPTIONAL_STRING_SCHEMA).build()
)  # fmt: skip


@pytest.mark.parametrize("side", ["Key", "Value"])
def test_header_from_copy_with_schema(side):
    struct = Struct(SCHEMA).put("field1", "a").put("field2", 2)
    kw = (
        {"key_schema": SCHEMA, "key": struct}
        if side == "Key"
        else {"value_schema": SCHEMA, "value": struct}
    )
    original = source_record(**kw, headers=[Header("existing", "x", Schema.STRING_SCHEMA)])
    out = header_from(side, "field1,field2", "h1,h2", "copy").apply(original)
    operated = out.key if side == "Key" else out.value
    assert operated is struct
    assert list(out.headers) == [
        Header("existing", "x", Schema.STRING_SCHEMA),
        Header("h1", "a", Schema.STRING_SCHEMA),
        Header("h2", 2, Schema.INT32_SCHEMA),
    ]
    assert len(original.headers) == 1


def test_header_from_move_with_schema():
    struct = Struct(SCHEMA).put("field1", "a").put("field2", 2).put("field3", "c")
    out = header_from("Value", "field1", "h1", "move").apply(source_record(SCHEMA, struct))
    assert [f.name for f in out.value_schema.fields] == ["field2", "field3"]
    assert out.value_schema.name == "reading"
    assert out.value.get("field2") == 2 and out.value.get("field3") == "c"
    assert list(out.headers) == [Header("h1", "a", Schema.STRING_SCHEMA)]
    out.value.validate()


def test_header_from_schemaless():
    value = {"field1": "a", "field2": 2}
    copied = header_from("Value", "field1,missing", "h1,h2", "copy").apply(
        source_record(None, value)
    )
    assert copied.value == value
    assert list(copied.headers) == [Header("h1", "a"), Header("h2", None)]
    moved = header_from("Value", "field1", "h1", "move").apply(source_record(None, value))
    assert moved.value == {"field2": 2}
    assert value == {"field1": "a", "field2": 2}


def test_header_from_docs_example():
    # connect.html: fields=id,ts headers=record_id,ts operation=copy on the key
    out = header_from("Key", "id,ts", "record_id,ts", "copy").apply(
        source_record(key={"id": 1, "ts": 5})
    )
    assert [(h.key, h.value) for h in out.headers] == [("record_id", 1), ("ts", 5)]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"fields": "a", "headers": "h1,h2", "operation": "copy"},
         "'fields' config must have the same number of elements as 'headers' config."),
        ({"fields": "a,b", "headers": "h1", "operation": "copy"},
         "'fields' config must have the same number of elements as 'headers' config."),
        ({"fields": "", "headers": "", "operation": "copy"}, "Empty list"),
        ({"fields": "a", "headers": "h", "operation": "swap"}, "String must be one of: move, copy"),
    ],
)  # fmt: skip
def test_header_from_invalid_config(props, message):
    with pytest.raises(ConfigException) as e:
        HeaderFrom.Value().configure(props)
    assert message in str(e.value)
