"""The schema-registry converters without a registry: settings, credentials kept secret,
subject names, plugin names, and the Connect <-> Avro / JSON Schema mapping in Confluent's form."""

from __future__ import annotations

import logging

import pytest
from kconnect.api.data import Date, Decimal, Schema, SchemaBuilder, Struct
from kconnect.api.errors import ConfigException, DataException, RetriableException
from kconnect.plugins import registry
from kconnect_builtins.converters.schema_registry import (
    avro_data,
    avro_schema,
    avro_schema_read,
    json_schema_data,
)
from kconnect_builtins.converters.schema_registry.avro import AvroConverter
from kconnect_builtins.converters.schema_registry.registry import read_header, subject_name
from kconnect_builtins.converters.schema_registry.settings import read_settings

SECRET = "s3cr3t-pa55"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("io.confluent.connect.avro.AvroConverter", "AvroConverter"),
        ("AvroConverter", "AvroConverter"),
        ("io.confluent.connect.json.JsonSchemaConverter", "JsonSchemaConverter"),
    ],
)
def test_found_by_confluent_class_names(name, expected):
    assert registry().find("converter", name).__name__ == expected


def test_settings_read_confluent_keys():
    settings = read_settings(
        {
            "schema.registry.url": "http://a:8081, http://b:8081",
            "basic.auth.credentials.source": "USER_INFO",
            "basic.auth.user.info": f"user:{SECRET}",
            "auto.register.schemas": "false",
            "use.latest.version": "true",
            "value.subject.name.strategy": "io.confluent.kafka.serializers.subject.RecordNameStrategy",
            "key.subject.name.strategy": "TopicRecordNameStrategy",
            "connect.meta.data": "false",
            "enhanced.avro.schema.support": "true",
            "schemas.cache.config": "5",
        }
    )
    assert settings.urls == ("http://a:8081", "http://b:8081")
    assert settings.client_conf["url"] == "http://a:8081,http://b:8081"
    assert settings.client_conf["basic.auth.user.info"] == f"user:{SECRET}"
    assert not settings.auto_register and settings.use_latest_version
    assert settings.strategy(False) == "RecordNameStrategy"
    assert settings.strategy(True) == "TopicRecordNameStrategy"
    assert not settings.connect_meta_data and settings.enhanced_avro
    assert settings.cache_size == 5
    assert SECRET not in repr(settings)


def test_schema_registry_prefixed_user_info_wins():
    settings = read_settings(
        {
            "schema.registry.url": "http://a",
            "basic.auth.credentials.source": "USER_INFO",
            "basic.auth.user.info": "old:one",
            "schema.registry.basic.auth.user.info": "new:two",
        }
    )
    assert settings.client_conf["basic.auth.user.info"] == "new:two"


@pytest.mark.parametrize(
    ("configs", "key"),
    [
        ({}, "schema.registry.url"),
        ({"schema.registry.url": "a:8081"}, "schema.registry.url"),
        (
            {"schema.registry.url": "http://a", "value.subject.name.strategy": "Nope"},
            "value.subject.name.strategy",
        ),
        (
            {
                "schema.registry.url": "http://a",
                "basic.auth.credentials.source": "USER_INFO",
                "basic.auth.user.info": SECRET,
            },
            "basic.auth.user.info",
        ),
        (
            {
                "schema.registry.url": "http://a",
                "schema.registry.ssl.truststore.location": "/x.jks",
            },
            "schema.registry.ssl.truststore.type",
        ),
    ],
)
def test_bad_settings_name_the_key_and_hide_secrets(configs, key):
    with pytest.raises(ConfigException) as failure:
        read_settings(configs)
    assert failure.value.name == key
    assert key in str(failure.value)
    assert SECRET not in str(failure.value)


def test_unreachable_registry_is_retriable_and_hides_credentials(caplog):
    converter = AvroConverter()
    # Port 9 on loopback: nothing listens there, so the connection is refused at once.
    converter.configure({"schema.registry.url": f"http://user:{SECRET}@127.0.0.1:9"}, False)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RetriableException) as failure:
        converter.from_connect_data("t", Schema.STRING_SCHEMA, "x")
    assert "could not be reached" in str(failure.value)
    assert "http://127.0.0.1:9" in str(failure.value)
    assert SECRET not in str(failure.value)
    assert SECRET not in caplog.text


def test_subject_name_strategies():
    assert subject_name("TopicNameStrategy", "orders", False, None) == "orders-value"
    assert subject_name("TopicNameStrategy", "orders", True, None) == "orders-key"
    assert subject_name("RecordNameStrategy", "orders", False, "shop.Order") == "shop.Order"
    assert subject_name("TopicRecordNameStrategy", "o", False, "shop.Order") == "o-shop.Order"
    with pytest.raises(DataException, match="needs a named schema"):
        subject_name("RecordNameStrategy", "orders", False, None)


def test_wire_format_header_is_checked():
    assert read_header(b"\x00\x00\x00\x01\x00rest", "Avro") == 256
    with pytest.raises(DataException, match="Unknown magic byte"):
        read_header(b'{"schema":', "Avro")


def test_null_value_is_a_tombstone_without_asking_the_registry():
    converter = AvroConverter()
    converter.configure({"schema.registry.url": "http://127.0.0.1:9"}, False)
    assert converter.from_connect_data("t", Schema.STRING_SCHEMA, None) is None
    assert converter.to_connect_data("t", None) == (None, None)


def test_avro_schema_in_confluent_form():
    schema = (
        SchemaBuilder.struct()
        .name("com.example.Row")
        .field("small", Schema.INT8_SCHEMA)
        .field("maybe", Schema.OPTIONAL_STRING_SCHEMA)
        .field("amount", Decimal.schema(2))
        .field("day", Date.SCHEMA)
        .field("counts", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build())
        .build()
    )
    assert avro_schema.from_connect_schema(schema, avro_schema.Options()) == {
        "type": "record",
        "name": "Row",
        "namespace": "com.example",
        "fields": [
            {"name": "small", "type": {"type": "int", "connect.type": "int8"}},
            {"name": "maybe", "type": ["null", "string"], "default": None},
            {
                "name": "amount",
                "type": {
                    "type": "bytes",
                    "connect.version": 1,
                    "connect.parameters": {"scale": "2"},
                    "connect.name": "org.apache.kafka.connect.data.Decimal",
                    "logicalType": "decimal",
                    "precision": 64,
                    "scale": 2,
                },
            },
            {
                "name": "day",
                "type": {
                    "type": "int",
                    "connect.version": 1,
                    "connect.name": "org.apache.kafka.connect.data.Date",
                    "logicalType": "date",
                },
            },
            {
                "name": "counts",
                "type": {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "MapEntry",
                        "namespace": "io.confluent.connect.avro",
                        "fields": [
                            {"name": "key", "type": "int"},
                            {"name": "value", "type": "string"},
                        ],
                    },
                },
            },
        ],
        "connect.name": "com.example.Row",
    }
    assert (
        avro_schema_read.to_connect_schema(
            avro_schema.from_connect_schema(schema, avro_schema.Options()), avro_schema.Options()
        )
        == schema
    )


def test_avro_union_and_enum_from_another_producer():
    avro = {
        "type": "record",
        "name": "Event",
        "fields": [
            {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
            {"name": "payload", "type": ["null", "string", "long"], "default": None},
        ],
    }
    schema = avro_schema_read.to_connect_schema(avro, avro_schema.Options())
    payload = schema.field("payload").schema
    assert payload.name == "io.confluent.connect.avro.Union" and payload.optional
    assert [f.name for f in payload.fields] == ["string", "long"]
    assert schema.field("kind").schema.parameters == {
        "io.confluent.connect.avro.Enum": "Kind",
        "io.confluent.connect.avro.Enum.A": "A",
        "io.confluent.connect.avro.Enum.B": "B",
    }
    decoded = avro_data.compile_decoder(schema)({"kind": "B", "payload": 42})
    assert decoded.get("kind") == "B"
    assert decoded.get("payload").get("long") == 42 and decoded.get("payload").get("string") is None
    # and back: the union's set member is what Avro gets
    assert avro_data.compile_encoder(schema)(decoded) == {"kind": "B", "payload": 42}


def test_avro_encoder_writes_defaults_for_unset_fields():
    schema = (
        SchemaBuilder.struct()
        .field("a", SchemaBuilder.string().default_value("x").build())
        .field("b", Schema.OPTIONAL_INT32_SCHEMA)
        .build()
    )
    assert avro_data.compile_encoder(schema)(Struct(schema)) == {"a": "x", "b": None}


def test_json_schema_in_confluent_form():
    schema = (
        SchemaBuilder.struct()
        .name("com.example.Row")
        .field("n", Schema.INT32_SCHEMA)
        .field("maybe", Schema.OPTIONAL_STRING_SCHEMA)
        .build()
    )
    node = json_schema_data.from_connect_schema(schema)
    assert node == {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "connect.type": "int32", "connect.index": 0},
            "maybe": {"oneOf": [{"type": "null"}, {"type": "string"}], "connect.index": 1},
        },
        "title": "com.example.Row",
    }
    assert json_schema_data.to_connect_schema(node) == schema
