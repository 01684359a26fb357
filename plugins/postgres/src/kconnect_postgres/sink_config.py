"""The sink connector's keys: Confluent's JDBC sink connector's names, defaults and meanings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kconnect.api import ConfigDef, ConfigException
from kconnect.api.config import Range, ValidString

from kconnect_postgres.connection import ConnectionSettings, define_connection_keys
from kconnect_postgres.timezones import define_db_timezone

INSERT_MODE_CONFIG = "insert.mode"
INSERT, UPSERT, UPDATE = "insert", "upsert", "update"
PK_MODE_CONFIG = "pk.mode"
PK_NONE, PK_KAFKA, PK_RECORD_KEY, PK_RECORD_VALUE = "none", "kafka", "record_key", "record_value"
PK_FIELDS_CONFIG = "pk.fields"
AUTO_CREATE_CONFIG = "auto.create"
AUTO_EVOLVE_CONFIG = "auto.evolve"
TABLE_NAME_FORMAT_CONFIG = "table.name.format"
BATCH_SIZE_CONFIG = "batch.size"
DELETE_ENABLED_CONFIG = "delete.enabled"
FIELDS_WHITELIST_CONFIG = "fields.whitelist"
MAX_RETRIES_CONFIG = "max.retries"
RETRY_BACKOFF_CONFIG = "retry.backoff.ms"
#: pk.mode=kafka's default column names
KAFKA_PK_FIELDS = ("__connect_topic", "__connect_partition", "__connect_offset")

_WRITES = "Writes"
_DDL = "DDL Support"
_RETRIES = "Retries"

CONFIG_DEF = (
    define_connection_keys(ConfigDef())
    .define(
        INSERT_MODE_CONFIG,
        ConfigDef.Type.STRING,
        INSERT,
        ValidString.in_(INSERT, UPSERT, UPDATE),
        ConfigDef.Importance.HIGH,
        "insert: plain INSERTs (COPY); upsert: insert or update by primary key "
        "(INSERT ... ON CONFLICT); update: UPDATE by primary key",
        _WRITES,
        1,
    )
    .define(
        BATCH_SIZE_CONFIG,
        ConfigDef.Type.INT,
        3000,
        Range.at_least(1),
        ConfigDef.Importance.MEDIUM,
        "At most this many rows per statement batch (all batches of a put() commit together)",
        _WRITES,
        2,
    )
    .define(
        DELETE_ENABLED_CONFIG,
        ConfigDef.Type.BOOLEAN,
        False,
        None,
        ConfigDef.Importance.MEDIUM,
        "Delete the row whose key a tombstone (null value) carries; needs pk.mode=record_key",
        _WRITES,
        3,
    )
    .define(
        TABLE_NAME_FORMAT_CONFIG,
        ConfigDef.Type.STRING,
        "${topic}",
        None,
        ConfigDef.Importance.MEDIUM,
        "The table a record goes to; ${topic} stands for its topic. May be schema.table",
        "Data Mapping",
        1,
    )
    .define(
        PK_MODE_CONFIG,
        ConfigDef.Type.STRING,
        PK_NONE,
        ValidString.in_(PK_NONE, PK_KAFKA, PK_RECORD_KEY, PK_RECORD_VALUE),
        ConfigDef.Importance.HIGH,
        "Where the primary key comes from: none; kafka (topic, partition, offset); "
        "record_key (the key's fields, or the key itself); record_value (value fields)",
        "Data Mapping",
        2,
    )
    .define(
        PK_FIELDS_CONFIG,
        ConfigDef.Type.LIST,
        "",
        None,
        ConfigDef.Importance.MEDIUM,
        "Primary key column names: with kafka the three column names (default "
        "__connect_topic,__connect_partition,__connect_offset); with record_key the key's "
        "fields (all when empty; the one column name for a primitive key); with record_value "
        "the value's fields (all when empty)",
        "Data Mapping",
        3,
    )
    .define(
        FIELDS_WHITELIST_CONFIG,
        ConfigDef.Type.LIST,
        "",
        None,
        ConfigDef.Importance.MEDIUM,
        "Value fields to write (empty: all); the primary key columns are written regardless",
        "Data Mapping",
        4,
    )
    .define(
        AUTO_CREATE_CONFIG,
        ConfigDef.Type.BOOLEAN,
        False,
        None,
        ConfigDef.Importance.MEDIUM,
        "Create a missing table from the record's schema (CREATE TABLE)",
        _DDL,
        1,
    )
    .define(
        AUTO_EVOLVE_CONFIG,
        ConfigDef.Type.BOOLEAN,
        False,
        None,
        ConfigDef.Importance.MEDIUM,
        "Add columns for new optional fields (ALTER TABLE ... ADD COLUMN, nullable)",
        _DDL,
        2,
    )
    .define(
        MAX_RETRIES_CONFIG,
        ConfigDef.Type.INT,
        10,
        Range.at_least(0),
        ConfigDef.Importance.MEDIUM,
        "How many times a batch that failed for a transient reason (lost connection, "
        "deadlock, serialization failure) is retried before the task fails",
        _RETRIES,
        1,
    )
    .define(
        RETRY_BACKOFF_CONFIG,
        ConfigDef.Type.INT,
        3000,
        Range.at_least(0),
        ConfigDef.Importance.MEDIUM,
        "Milliseconds to wait before a failed batch is retried",
        _RETRIES,
        2,
    )
)
# db.timezone: the same key as the source's (timezones.py), in the sink's words
CONFIG_DEF = define_db_timezone(
    CONFIG_DEF,
    "The zone in which timestamp (without time zone) columns hold their times: Timestamp "
    "values are written as wall clock times in it (sessions run with this TimeZone)",
    "Data Mapping",
    5,
)


@dataclass(frozen=True)
class SinkSettings:
    connection: ConnectionSettings
    insert_mode: str
    batch_size: int
    delete_enabled: bool
    table_name_format: str
    pk_mode: str
    pk_fields: tuple[str, ...]
    fields_whitelist: frozenset[str]
    auto_create: bool
    auto_evolve: bool
    max_retries: int
    retry_backoff_ms: int


def parse_sink_settings(props: Mapping[str, str]) -> SinkSettings:
    config = CONFIG_DEF.parse(props)
    settings = SinkSettings(
        connection=ConnectionSettings.from_config(config),
        insert_mode=config[INSERT_MODE_CONFIG],
        batch_size=config[BATCH_SIZE_CONFIG],
        delete_enabled=config[DELETE_ENABLED_CONFIG],
        table_name_format=config[TABLE_NAME_FORMAT_CONFIG],
        pk_mode=config[PK_MODE_CONFIG],
        pk_fields=tuple(f.strip() for f in config[PK_FIELDS_CONFIG] if f.strip()),
        fields_whitelist=frozenset(f.strip() for f in config[FIELDS_WHITELIST_CONFIG] if f.strip()),
        auto_create=config[AUTO_CREATE_CONFIG],
        auto_evolve=config[AUTO_EVOLVE_CONFIG],
        max_retries=config[MAX_RETRIES_CONFIG],
        retry_backoff_ms=config[RETRY_BACKOFF_CONFIG],
    )
    if settings.delete_enabled and settings.pk_mode != PK_RECORD_KEY:
        raise ConfigException(
            f"Invalid value for configuration {DELETE_ENABLED_CONFIG}: deletes need the key of "
            f"the row, so {PK_MODE_CONFIG} must be {PK_RECORD_KEY} (it is {settings.pk_mode})",
            name=DELETE_ENABLED_CONFIG,
        )
    if settings.insert_mode in (UPSERT, UPDATE) and settings.pk_mode == PK_NONE:
        raise ConfigException(
            f"Invalid value for configuration {PK_MODE_CONFIG}: insert.mode="
            f"{settings.insert_mode} writes by primary key, so pk.mode cannot be none",
            name=PK_MODE_CONFIG,
        )
    if settings.pk_mode == PK_KAFKA and settings.pk_fields and len(settings.pk_fields) != 3:
        raise ConfigException(
            f"Invalid value for configuration {PK_FIELDS_CONFIG}: with pk.mode=kafka it names "
            "three columns (topic, partition, offset) or is empty",
            name=PK_FIELDS_CONFIG,
        )
    if "${topic}" not in settings.table_name_format and not settings.table_name_format.strip():
        raise ConfigException(
            f"Invalid value for configuration {TABLE_NAME_FORMAT_CONFIG}: empty",
            name=TABLE_NAME_FORMAT_CONFIG,
        )
    return settings
