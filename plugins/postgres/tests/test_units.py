"""Pieces that need no database: URLs, task grouping, offsets, record plans, column types."""

from __future__ import annotations

import datetime as dt

import pytest
from kconnect.api import ConfigException, DataException, Schema, SchemaBuilder, SinkRecord, Struct

from kconnect_postgres.catalog import TableRef
from kconnect_postgres.connection import conninfo_params
from kconnect_postgres.querier import timestamp_from_offset, timestamp_offset
from kconnect_postgres.sink_config import parse_sink_settings
from kconnect_postgres.source import group_tables
from kconnect_postgres.source_config import parse_source_settings
from kconnect_postgres.types import sql_type
from kconnect_postgres.writer import plan_for


def test_jdbc_url_becomes_libpq_parameters() -> None:
    params = conninfo_params(
        "jdbc:postgresql://db1:5433,db2/shop?user=u&password=p&ssl=true&currentSchema=s"
        "&ApplicationName=app&prepareThreshold=0"
    )
    assert params == {
        "host": "db1,db2",
        "port": "5433,5432",
        "dbname": "shop",
        "user": "u",
        "password": "p",
        "sslmode": "require",
        "options": "-c search_path=s",
        "application_name": "app",
    }
    assert conninfo_params("jdbc:postgresql:shop")["host"] == "localhost"


def test_libpq_forms_and_user_keys_win() -> None:
    params = conninfo_params("postgresql://a:b@h:1/d?sslmode=disable", "user", "secret")
    assert (params["host"], params["port"], params["dbname"]) == ("h", "1", "d")
    assert (params["user"], params["password"], params["sslmode"]) == ("user", "secret", "disable")
    assert conninfo_params("host=h dbname=d")["dbname"] == "d"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("jdbc:mysql://h/db", "PostgreSQL only"),
        ("http://h/db", "not a PostgreSQL connection URL"),
        ("", "not a PostgreSQL connection URL"),
        ("postgresql://h/db?nonsense=1", "nonsense"),
    ],
)
def test_bad_urls_are_errors_on_connection_url(url: str, says: str) -> None:
    with pytest.raises(ConfigException) as error:
        conninfo_params(url)
    assert error.value.name == "connection.url"
    assert says in str(error.value)


def test_tables_split_into_at_most_max_tasks_groups() -> None:
    tables = [TableRef("public", f"t{i}") for i in range(5)]
    assert [len(g) for g in group_tables(tables, 2)] == [3, 2]
    assert [len(g) for g in group_tables(tables, 10)] == [1] * 5
    assert group_tables([], 3) == []
    assert sum(group_tables(tables, 3), []) == tables


def test_timestamp_offsets_in_the_jdbc_connectors_form() -> None:
    value = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    millis, nanos = timestamp_offset(value)
    assert millis == int(value.timestamp() * 1000)
    assert nanos == 123456000  # Java's Timestamp.getNanos(): the whole fraction of the second
    assert timestamp_from_offset(millis, nanos) == value
    assert timestamp_from_offset(millis, None) == value.replace(microsecond=123000)


BASE = {"connection.url": "jdbc:postgresql://h/db", "topic.prefix": "p-"}


def test_source_settings_rules() -> None:
    with pytest.raises(ConfigException, match="table.include.list"):
        parse_source_settings(
            {**BASE, "mode": "bulk", "table.whitelist": "a", "table.include.list": "b"}
        )
    with pytest.raises(ConfigException) as error:
        parse_source_settings({**BASE, "mode": "timestamp"})
    assert error.value.name == "timestamp.column.name"
    settings = parse_source_settings({**BASE, "mode": "bulk", "table.exclude.list": "x, y"})
    assert settings.exclude == ("x", "y")


def test_sink_settings_rules() -> None:
    url = {"connection.url": "postgresql://h/db"}
    with pytest.raises(ConfigException) as error:
        parse_sink_settings({**url, "delete.enabled": "true", "pk.mode": "record_value"})
    assert error.value.name == "delete.enabled"
    with pytest.raises(ConfigException) as error:
        parse_sink_settings({**url, "insert.mode": "upsert"})
    assert error.value.name == "pk.mode"


VALUE = (
    SchemaBuilder.struct()
    .field("id", Schema.INT64_SCHEMA)
    .field("name", Schema.OPTIONAL_STRING_SCHEMA)
    .field("extra", Schema.OPTIONAL_STRING_SCHEMA)
    .build()
)


def _record(
    key: object = None, key_schema: Schema | None = None, value: object = None
) -> SinkRecord:
    if value is None:
        value = Struct(VALUE).put("id", 7).put("name", "n").put("extra", "e")
    return SinkRecord("t", 2, key_schema, key, VALUE, value, 41)


def test_plans_follow_pk_mode_and_whitelist() -> None:
    url = {"connection.url": "postgresql://h/db"}
    record = _record(key=7, key_schema=Schema.INT64_SCHEMA)
    plan = plan_for(parse_sink_settings({**url, "pk.mode": "kafka"}), record, "t")
    assert [c.name for c in plan.pk] == [
        "__connect_topic",
        "__connect_partition",
        "__connect_offset",
    ]
    assert plan.extract_pk(record) == ["t", 2, 41]
    assert plan.extract_values(record) == [7, "n", "e"]
    settings = parse_sink_settings(
        {**url, "pk.mode": "record_key", "pk.fields": "id", "fields.whitelist": "name"}
    )
    plan = plan_for(settings, record, "t")
    assert [c.name for c in plan.pk] == ["id"] and [c.name for c in plan.values] == ["name"]
    plan = plan_for(
        parse_sink_settings({**url, "pk.mode": "record_value", "pk.fields": "id"}), record, "t"
    )
    assert plan.extract_pk(record) == [7] and plan.extract_values(record) == ["n", "e"]
    assert [(c.name, c.sql_type, c.not_null) for c in plan.values] == [
        ("name", "text", False),
        ("extra", "text", False),
    ]


def test_records_without_a_struct_value_are_refused_with_where_they_are() -> None:
    settings = parse_sink_settings({"connection.url": "postgresql://h/db"})
    record = SinkRecord("t", 0, None, None, Schema.STRING_SCHEMA, "text", 5)
    with pytest.raises(DataException, match=r"topic='t', partition=0, offset=5\).*a string value"):
        plan_for(settings, record, "t")


def test_struct_and_map_fields_have_no_column_type() -> None:
    assert sql_type(SchemaBuilder.array(Schema.INT32_SCHEMA).build(), "f") == "integer[]"
    with pytest.raises(DataException, match="STRUCT"):
        sql_type(VALUE, "field x")


def test_readme_lists_every_key() -> None:
    from pathlib import Path

    from kconnect_postgres.sink_config import CONFIG_DEF as SINK
    from kconnect_postgres.source_config import CONFIG_DEF as SOURCE

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert SOURCE.to_markdown().strip() in readme, "update the README's source config table"
    assert SINK.to_markdown().strip() in readme, "update the README's sink config table"


def test_settings_never_show_the_password() -> None:
    settings = parse_source_settings(
        {
            **BASE,
            "mode": "bulk",
            "connection.url": "postgresql://u:pw-in-url@h/db",
            "connection.password": "pw-in-key",
        }
    )
    assert settings.connection.params["password"] == "pw-in-key"
    assert "pw-in" not in repr(settings) and "pw-in" not in settings.connection.describe()
