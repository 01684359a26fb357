"""The source connector's keys: Confluent's JDBC source connector's names, defaults and
meanings, so its users' configs work as they are."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kconnect.api import ConfigDef, ConfigException
from kconnect.api.config import Range, Validator, ValidString

from kconnect_postgres.connection import ConnectionSettings, define_connection_keys
from kconnect_postgres.timezones import define_db_timezone
from kconnect_postgres.types import BEST_FIT, BEST_FIT_EAGER_DOUBLE, NUMERIC_NONE, PRECISION_ONLY

MODE_CONFIG = "mode"
BULK, INCREMENTING, TIMESTAMP, TIMESTAMP_INCREMENTING = (
    "bulk",
    "incrementing",
    "timestamp",
    "timestamp+incrementing",
)
MODES = (BULK, INCREMENTING, TIMESTAMP, TIMESTAMP_INCREMENTING)
INCREMENTING_COLUMN_CONFIG = "incrementing.column.name"
TIMESTAMP_COLUMN_CONFIG = "timestamp.column.name"
VALIDATE_NON_NULL_CONFIG = "validate.non.null"
QUERY_CONFIG = "query"
WHITELIST_CONFIG = "table.whitelist"
BLACKLIST_CONFIG = "table.blacklist"
INCLUDE_LIST_CONFIG = "table.include.list"
EXCLUDE_LIST_CONFIG = "table.exclude.list"
SCHEMA_PATTERN_CONFIG = "schema.pattern"
TABLE_TYPES_CONFIG = "table.types"
POLL_INTERVAL_CONFIG = "poll.interval.ms"
BATCH_MAX_ROWS_CONFIG = "batch.max.rows"
TABLE_POLL_INTERVAL_CONFIG = "table.poll.interval.ms"
TOPIC_PREFIX_CONFIG = "topic.prefix"
TIMESTAMP_DELAY_CONFIG = "timestamp.delay.interval.ms"
TIMESTAMP_INITIAL_CONFIG = "timestamp.initial"
#: timestamp.initial's "the database's current time"
TIMESTAMP_INITIAL_CURRENT = -1
NUMERIC_MAPPING_CONFIG = "numeric.mapping"
NUMERIC_PRECISION_MAPPING_CONFIG = "numeric.precision.mapping"
NUMERIC_MAPPINGS = (NUMERIC_NONE, PRECISION_ONLY, BEST_FIT, BEST_FIT_EAGER_DOUBLE)
#: task-only key: the tables one task reads, as a JSON list of [schema, table]
TABLES_CONFIG = "tables"

_MODE_GROUP = "Mode"
_CONNECTOR_GROUP = "Connector"


class NumericMappingValidator(Validator):
    """One of the numeric mappings, in lower or upper case as the JDBC connector takes them;
    null (unset) too: then ``numeric.precision.mapping`` decides."""

    def _reason(self) -> str:
        return "String must be one of: " + ", ".join(NUMERIC_MAPPINGS)

    def ensure_valid(self, name: str, value: Any) -> None:
        if value is not None and value not in self.json_schema()["enum"]:
            raise ConfigException(
                f"Invalid value {value} for configuration {name}: {self._reason()}",
                name=name,
                value=value,
            )

    def json_schema(self) -> dict[str, Any]:
        return {"enum": [*NUMERIC_MAPPINGS, *(m.upper() for m in NUMERIC_MAPPINGS)]}

    def reason(self, keyword: str, instance: Any) -> str:
        return self._reason()

    def __str__(self) -> str:
        return "[" + ", ".join(NUMERIC_MAPPINGS) + "]"


CONFIG_DEF = (
    define_connection_keys(ConfigDef())
    .define(
        WHITELIST_CONFIG,
        ConfigDef.Type.LIST,
        "",
        None,
        ConfigDef.Importance.MEDIUM,
        "Tables to copy (table or schema.table); empty: every table. Not with "
        "table.blacklist. Same as table.include.list",
        "Database",
        6,
    )
    .define(
        BLACKLIST_CONFIG,
        ConfigDef.Type.LIST,
        "",
        None,
        ConfigDef.Importance.MEDIUM,
        "Tables not to copy (table or schema.table). Same as table.exclude.list",
        "Database",
        7,
    )
    .define(
        INCLUDE_LIST_CONFIG,
        ConfigDef.Type.LIST,
        "",
        None,
        ConfigDef.Importance.MEDIUM,
        "Tables to copy: the newer name of table.whitelist",
        "Database",
        8,
    )
    .define(
        EXCLUDE_LIST_CONFIG,
        ConfigDef.Type.LIST,
        "",
        None,
        ConfigDef.Importance.MEDIUM,
        "Tables not to copy: the newer name of table.blacklist",
        "Database",
        9,
    )
    .define(
        SCHEMA_PATTERN_CONFIG,
        ConfigDef.Type.STRING,
        None,
        None,
        ConfigDef.Importance.MEDIUM,
        "Only tables in schemas whose name matches this LIKE pattern; unset: every schema "
        "but PostgreSQL's own",
        "Database",
        10,
    )
    .define(
        TABLE_TYPES_CONFIG,
        ConfigDef.Type.LIST,
        "TABLE",
        None,
        ConfigDef.Importance.LOW,
        "Kinds of relation to copy: TABLE, VIEW, MATERIALIZED VIEW, PARTITIONED TABLE",
        "Database",
        11,
    )
    .define(
        NUMERIC_PRECISION_MAPPING_CONFIG,
        ConfigDef.Type.BOOLEAN,
        False,
        None,
        ConfigDef.Importance.LOW,
        "Deprecated: numeric.mapping=precision_only when true (numeric.mapping, when set, wins)",
        "Database",
        12,
    )
    .define(
        NUMERIC_MAPPING_CONFIG,
        ConfigDef.Type.STRING,
        None,
        NumericMappingValidator(),
        ConfigDef.Importance.LOW,
        "How numeric(p, s) columns map: none (Decimal); precision_only (numeric(p, 0) with p <= "
        "18 as INT8/16/32/64 by p); best_fit (also numeric(p, s > 0) with p <= 18 as FLOAT64); "
        "best_fit_eager_double (numeric(p, s > 0) of any p as FLOAT64). Other columns stay "
        "Decimal; numeric without precision stays STRING under every mapping. Unset: none, or "
        "precision_only with numeric.precision.mapping=true",
        "Database",
        13,
    )
    .define(
        MODE_CONFIG,
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        ValidString.in_(*MODES),
        ConfigDef.Importance.HIGH,
        "How rows are found: bulk (the whole table on each poll), incrementing (rows whose "
        "incrementing column grew), timestamp (rows whose timestamp column grew), "
        "timestamp+incrementing (both: also changed rows, exactly)",
        _MODE_GROUP,
        1,
    )
    .define(
        INCREMENTING_COLUMN_CONFIG,
        ConfigDef.Type.STRING,
        "",
        None,
        ConfigDef.Importance.MEDIUM,
        "The strictly increasing integer column of the incrementing modes; empty: the "
        "table's serial/identity column",
        _MODE_GROUP,
        2,
    )
    .define(
        TIMESTAMP_COLUMN_CONFIG,
        ConfigDef.Type.LIST,
        "",
        None,
        ConfigDef.Importance.MEDIUM,
        "The timestamp column(s) of the timestamp modes; several are combined with COALESCE",
        _MODE_GROUP,
        3,
    )
    .define(
        VALIDATE_NON_NULL_CONFIG,
        ConfigDef.Type.BOOLEAN,
        True,
        None,
        ConfigDef.Importance.LOW,
        "Refuse incrementing/timestamp columns that allow NULL (such rows would never be read)",
        _MODE_GROUP,
        4,
    )
    .define(
        QUERY_CONFIG,
        ConfigDef.Type.STRING,
        "",
        None,
        ConfigDef.Importance.MEDIUM,
        "Read the result of this SELECT instead of tables (one task; topic.prefix is the "
        "topic). The incremental modes filter and order its result, so it may have its own "
        "WHERE",
        _MODE_GROUP,
        5,
    )
    .define(
        POLL_INTERVAL_CONFIG,
        ConfigDef.Type.INT,
        5000,
        Range.at_least(1),
        ConfigDef.Importance.HIGH,
        "Milliseconds between two polls of a table for new data",
        _CONNECTOR_GROUP,
        1,
    )
    .define(
        BATCH_MAX_ROWS_CONFIG,
        ConfigDef.Type.INT,
        100,
        Range.at_least(1),
        ConfigDef.Importance.LOW,
        "At most this many rows per poll (and per fetch from the server)",
        _CONNECTOR_GROUP,
        2,
    )
    .define(
        TABLE_POLL_INTERVAL_CONFIG,
        ConfigDef.Type.LONG,
        60000,
        Range.at_least(0),
        ConfigDef.Importance.LOW,
        "Milliseconds between looks for tables added or removed; the tasks are reconfigured "
        "when the set changed",
        _CONNECTOR_GROUP,
        3,
    )
    .define(
        TOPIC_PREFIX_CONFIG,
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        None,
        ConfigDef.Importance.HIGH,
        "Prefix of the topic names: a table's rows go to <prefix><table>; with query, the "
        "topic itself",
        _CONNECTOR_GROUP,
        4,
    )
    .define(
        TIMESTAMP_DELAY_CONFIG,
        ConfigDef.Type.LONG,
        0,
        Range.at_least(0),
        ConfigDef.Importance.HIGH,
        "Milliseconds a row's timestamp must lie in the past before it is read, so "
        "transactions still running with earlier timestamps can commit first",
        _CONNECTOR_GROUP,
        5,
    )
    .define(
        TIMESTAMP_INITIAL_CONFIG,
        ConfigDef.Type.LONG,
        None,
        None,
        ConfigDef.Importance.LOW,
        "Where the timestamp modes start reading a table that has no stored offset: epoch "
        "milliseconds (rows with a later timestamp are read), -1 for the database's current "
        "time; unset: from the start",
        _MODE_GROUP,
        6,
    )
)
# db.timezone: the same key as the sink's (timezones.py), in the source's words
CONFIG_DEF = define_db_timezone(
    CONFIG_DEF,
    "The zone in which timestamp (without time zone) columns hold their times: they are "
    "read as instants in it and the timestamp modes compare in it (sessions run with this "
    "TimeZone)",
    _CONNECTOR_GROUP,
    6,
)


@dataclass(frozen=True)
class SourceSettings:
    connection: ConnectionSettings
    mode: str
    incrementing_column: str
    timestamp_columns: tuple[str, ...]
    validate_non_null: bool
    query: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    schema_pattern: str | None
    table_types: tuple[str, ...]
    poll_interval_ms: int
    batch_max_rows: int
    table_poll_interval_ms: int
    topic_prefix: str
    timestamp_delay_ms: int
    #: one of NUMERIC_MAPPINGS
    numeric_mapping: str = NUMERIC_NONE
    #: epoch ms, TIMESTAMP_INITIAL_CURRENT, or None (from the start)
    timestamp_initial: int | None = None

    @property
    def uses_incrementing(self) -> bool:
        return self.mode in (INCREMENTING, TIMESTAMP_INCREMENTING)

    @property
    def uses_timestamp(self) -> bool:
        return self.mode in (TIMESTAMP, TIMESTAMP_INCREMENTING)


def _either(config: Mapping[str, Any], old: str, new: str) -> tuple[str, ...]:
    old_value = [v.strip() for v in config[old] or () if v.strip()]
    new_value = [v.strip() for v in config[new] or () if v.strip()]
    if old_value and new_value:
        raise ConfigException(
            f"Invalid value for configuration {new}: set {old} or {new}, not both "
            f"({new} is the newer name of {old})",
            name=new,
        )
    return tuple(old_value or new_value)


def numeric_mapping(config: Mapping[str, Any]) -> str:
    """``numeric.mapping`` when set, else what the deprecated ``numeric.precision.mapping``
    says (true: precision_only), else none: the JDBC connector's precedence."""
    value = config[NUMERIC_MAPPING_CONFIG]
    if value is not None:
        return str(value).lower()
    return PRECISION_ONLY if config[NUMERIC_PRECISION_MAPPING_CONFIG] else NUMERIC_NONE


def parse_source_settings(props: Mapping[str, str]) -> SourceSettings:
    """Typed settings; ConfigException naming the key for a bad value."""
    config = CONFIG_DEF.parse(props)
    include = _either(config, WHITELIST_CONFIG, INCLUDE_LIST_CONFIG)
    exclude = _either(config, BLACKLIST_CONFIG, EXCLUDE_LIST_CONFIG)
    if include and exclude:
        raise ConfigException(
            f"Invalid value for configuration {BLACKLIST_CONFIG}: a table whitelist "
            "(include list) and blacklist (exclude list) cannot both be set",
            name=BLACKLIST_CONFIG,
        )
    settings = SourceSettings(
        connection=ConnectionSettings.from_config(config),
        mode=config[MODE_CONFIG],
        incrementing_column=(config[INCREMENTING_COLUMN_CONFIG] or "").strip(),
        timestamp_columns=tuple(c.strip() for c in config[TIMESTAMP_COLUMN_CONFIG] if c.strip()),
        validate_non_null=config[VALIDATE_NON_NULL_CONFIG],
        query=(config[QUERY_CONFIG] or "").strip(),
        include=include,
        exclude=exclude,
        schema_pattern=config[SCHEMA_PATTERN_CONFIG],
        table_types=tuple(t.strip().upper() for t in config[TABLE_TYPES_CONFIG] if t.strip()),
        poll_interval_ms=config[POLL_INTERVAL_CONFIG],
        batch_max_rows=config[BATCH_MAX_ROWS_CONFIG],
        table_poll_interval_ms=config[TABLE_POLL_INTERVAL_CONFIG],
        topic_prefix=config[TOPIC_PREFIX_CONFIG],
        timestamp_delay_ms=config[TIMESTAMP_DELAY_CONFIG],
        numeric_mapping=numeric_mapping(config),
        timestamp_initial=config[TIMESTAMP_INITIAL_CONFIG],
    )
    if settings.uses_timestamp and not settings.timestamp_columns:
        raise ConfigException(
            f"Missing value for configuration {TIMESTAMP_COLUMN_CONFIG}: mode "
            f"{settings.mode} needs the timestamp column(s)",
            name=TIMESTAMP_COLUMN_CONFIG,
        )
    if settings.query and (include or exclude):
        raise ConfigException(
            f"Invalid value for configuration {QUERY_CONFIG}: a query cannot be combined with "
            "table include/exclude lists",
            name=QUERY_CONFIG,
        )
    if settings.query and settings.uses_incrementing and not settings.incrementing_column:
        raise ConfigException(
            f"Missing value for configuration {INCREMENTING_COLUMN_CONFIG}: with query, "
            f"mode {settings.mode} needs the incrementing column named",
            name=INCREMENTING_COLUMN_CONFIG,
        )
    return settings
