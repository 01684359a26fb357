"""Pieces that need no database: URLs, task grouping, offsets, record plans, column types."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from kconnect.api import (
    ConfigException,
    DataException,
    Decimal,
    Schema,
    SchemaBuilder,
    SinkRecord,
    Struct,
)
from kconnect.testing.kit.harness import KitOffsetStore

from kconnect_postgres.catalog import TableRef
from kconnect_postgres.connection import conninfo_params
from kconnect_postgres.querier import TableQuerier, timestamp_from_offset, timestamp_offset
from kconnect_postgres.sink_config import parse_sink_settings
from kconnect_postgres.source import group_tables
from kconnect_postgres.source_config import parse_source_settings
from kconnect_postgres.timezones import parse_time_zone, zone_dumper
from kconnect_postgres.types import numeric_field, sql_type
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


# -- numeric.mapping, db.timezone, timestamp.initial -------------------------------------------
@pytest.mark.parametrize(
    ("precision", "scale", "mapping", "expected"),
    [
        (5, 0, "none", "Decimal(0)"),
        (5, 0, "precision_only", "INT32"),
        (5, 0, "best_fit", "INT32"),
        (5, 0, "best_fit_eager_double", "INT32"),
        (2, 0, "best_fit", "INT8"),
        (4, 0, "best_fit", "INT16"),
        (9, 0, "precision_only", "INT32"),
        (10, 0, "precision_only", "INT64"),
        (18, 0, "best_fit", "INT64"),
        (19, 0, "best_fit", "Decimal(0)"),
        (19, 0, "best_fit_eager_double", "Decimal(0)"),
        (12, 2, "precision_only", "Decimal(2)"),
        (12, 2, "best_fit", "FLOAT64"),
        (18, 2, "best_fit", "FLOAT64"),
        (19, 2, "best_fit", "Decimal(2)"),
        (19, 2, "best_fit_eager_double", "FLOAT64"),
        (40, 10, "best_fit_eager_double", "FLOAT64"),
        # PostgreSQL 15+'s negative scales: p - s integer digits
        (5, -2, "best_fit", "INT32"),
        (9, -2, "best_fit", "INT64"),
        (17, -2, "best_fit", "STRING"),
        (5, -2, "precision_only", "STRING"),
        # unconstrained numeric: exact digits under every mapping
        (None, None, "none", "STRING"),
        (None, None, "precision_only", "STRING"),
        (None, None, "best_fit", "STRING"),
        (None, None, "best_fit_eager_double", "STRING"),
    ],
)
def test_numeric_mapping_picks_the_connect_type(
    precision: int | None, scale: int | None, mapping: str, expected: str
) -> None:
    builder, _ = numeric_field(precision, scale, mapping, "c")
    schema = builder.build()
    if schema.name == Decimal.LOGICAL_NAME:
        assert f"Decimal({schema.parameters['scale']})" == expected
    else:
        assert schema.type.name == expected


def test_numeric_mapping_converts_values_to_the_mapped_type() -> None:
    _, to_int = numeric_field(10, 0, "best_fit", "qty")
    assert to_int is not None
    value = to_int(decimal.Decimal("1234567890"))
    assert value == 1234567890 and type(value) is int
    _, to_int = numeric_field(5, -2, "best_fit", "qty")
    assert to_int is not None and to_int(decimal.Decimal("1.23E+6")) == 1230000
    _, to_float = numeric_field(12, 2, "best_fit", "price")
    assert to_float is not None
    value = to_float(decimal.Decimal("1234567890.12"))
    assert value == 1234567890.12 and type(value) is float
    _, to_text = numeric_field(None, None, "best_fit", "any")
    assert to_text is not None and to_text(decimal.Decimal("3.14159265358979323846")) == (
        "3.14159265358979323846"
    )
    _, to_int = numeric_field(10, 0, "precision_only", "qty")
    assert to_int is not None
    with pytest.raises(DataException, match="'qty'.*NaN|NaN.*'qty'"):
        to_int(decimal.Decimal("NaN"))


def test_numeric_precision_mapping_is_precision_only_unless_numeric_mapping_is_set() -> None:
    def mapping(**extra: str) -> str:
        return parse_source_settings({**BASE, "mode": "bulk", **extra}).numeric_mapping

    assert mapping() == "none"
    assert mapping(**{"numeric.precision.mapping": "true"}) == "precision_only"
    assert mapping(**{"numeric.precision.mapping": "true", "numeric.mapping": "none"}) == "none"
    assert mapping(**{"numeric.mapping": "BEST_FIT"}) == "best_fit"


@pytest.mark.parametrize(
    ("text", "offset_hours", "postgres"),
    [
        ("UTC", 0, "UTC"),
        ("Z", 0, "UTC"),
        ("Europe/Berlin", 1, "Europe/Berlin"),  # in January
        ("PST", -8, "America/Los_Angeles"),  # Java's short id
        ("+02:00", 2, "Etc/GMT-2"),
        ("UTC-5", -5, "Etc/GMT+5"),
        ("+05:30", 5.5, "<+053000>-05:30:00"),
    ],
)
def test_db_timezone_takes_the_jdbc_connectors_zone_ids(
    text: str, offset_hours: float, postgres: str
) -> None:
    zone = parse_time_zone(text)
    january = dt.datetime(2024, 1, 15, 12, tzinfo=zone.tzinfo)
    assert january.utcoffset() == dt.timedelta(hours=offset_hours)
    assert zone.postgres == postgres


@pytest.mark.parametrize("text", ["Mars/Olympus_Mons", "", "+25:00", "../../etc/passwd", "Bogus"])
def test_bad_db_timezone_is_an_error_on_its_key(text: str) -> None:
    with pytest.raises(ConfigException) as error:
        parse_time_zone(text)
    assert error.value.name == "db.timezone"
    assert "Invalid time zone" in str(error.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("numeric.mapping", "closest"),
        ("numeric.precision.mapping", "maybe"),
        ("db.timezone", "Mars/Olympus_Mons"),
        ("timestamp.initial", "yesterday"),
    ],
)
def test_validate_flags_bad_source_values_on_their_own_key(key: str, value: str) -> None:
    from kconnect_postgres.source import PostgresSourceConnector

    props = {**BASE, "mode": "timestamp", "timestamp.column.name": "at", key: value}
    result = PostgresSourceConnector().validate(props)
    errors = {v.name: v.error_messages for v in result.config_values if v.error_messages}
    assert list(errors) == [key]
    assert key in errors[key][0] and value in errors[key][0]


def test_validate_flags_a_bad_sink_db_timezone_on_its_key() -> None:
    from kconnect_postgres.sink import PostgresSinkConnector

    result = PostgresSinkConnector().validate(
        {"connection.url": "postgresql://h/db", "db.timezone": "Nowhere/Land"}
    )
    errors = {v.name: v.error_messages for v in result.config_values if v.error_messages}
    assert list(errors) == ["db.timezone"]


def _querier(offsets: KitOffsetStore, **extra: str) -> TableQuerier:
    settings = parse_source_settings({**BASE, **extra})
    querier = TableQuerier(settings, TableRef("public", "t"))
    querier.load_offset(offsets)
    return querier


def test_timestamp_initial_is_the_start_without_a_stored_offset() -> None:
    ts = {"mode": "timestamp", "timestamp.column.name": "at"}
    millis = 1_700_000_000_123
    querier = _querier(KitOffsetStore(), **ts, **{"timestamp.initial": str(millis)})
    assert querier.timestamp == dt.datetime.fromtimestamp(millis / 1000, dt.UTC)
    # timestamp+incrementing too; the incrementing part starts before every row
    querier = _querier(
        KitOffsetStore(),
        **{**ts, "mode": "timestamp+incrementing", "timestamp.initial": str(millis)},
    )
    assert querier.timestamp is not None and querier.incrementing is None
    # a stored offset wins
    stored = KitOffsetStore()
    stored.commit(
        {"protocol": "1", "table": "db.public.t"}, {"timestamp": 5, "timestamp_nanos": 5_000_000}
    )
    querier = _querier(stored, **ts, **{"timestamp.initial": str(millis)})
    assert querier.timestamp == dt.datetime(1970, 1, 1, 0, 0, 0, 5000, tzinfo=dt.UTC)
    # unset: from the start; incrementing mode: not a timestamp mode
    assert _querier(KitOffsetStore(), **ts).timestamp is None
    querier = _querier(KitOffsetStore(), mode="incrementing", **{"timestamp.initial": "5"})
    assert querier.timestamp is None


def test_zone_dumper_sends_naive_timestamps_as_utc_whatever_the_hosts_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    monkeypatch.setenv("TZ", "America/New_York")  # the worker host's own zone
    time.tzset()
    try:
        dumper = zone_dumper(parse_time_zone("Europe/Berlin").tzinfo)(dt.datetime)
        instant = dt.datetime(2024, 1, 15, 11, 0, tzinfo=dt.UTC)
        expected = b"2024-01-15 12:00:00+01:00"
        assert bytes(dumper.dump(instant)) == expected
        assert bytes(dumper.dump(instant.replace(tzinfo=None))) == expected
    finally:
        monkeypatch.undo()
        time.tzset()
