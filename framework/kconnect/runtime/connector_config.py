"""The settings every connector has (``name``, ``connector.class``, ``tasks.max``, converters,
``transforms``, ``predicates``, ``errors.*``…), with Kafka Connect's keys, groups and defaults."""

from __future__ import annotations

from typing import Any

from kconnect.api.config import ConfigDef, LambdaValidator, Range, ValidString
from kconnect.api.config_validators import invalid_value

T = ConfigDef.Type
I = ConfigDef.Importance  # noqa: E741
W = ConfigDef.Width

COMMON_GROUP = "Common"
TRANSFORMS_GROUP = "Transforms"
PREDICATES_GROUP = "Predicates"
ERROR_GROUP = "Error Handling"
SINK_DLQ_GROUP = "Error Handling"

NAME = "name"
CONNECTOR_CLASS = "connector.class"
CONNECTOR_PLUGIN_VERSION = "connector.plugin.version"
TASKS_MAX = "tasks.max"
KEY_CONVERTER = "key.converter"
VALUE_CONVERTER = "value.converter"
HEADER_CONVERTER = "header.converter"
TRANSFORMS = "transforms"
PREDICATES = "predicates"
TOPICS = "topics"
TOPICS_REGEX = "topics.regex"
ERRORS_TOLERANCE = "errors.tolerance"
DLQ_TOPIC = "errors.deadletterqueue.topic.name"

AUTO_RESTART_GROUP = "Automatic Task Restart"
TASK_RESTART_AUTO_ENABLE = "kconnect.task.restart.auto.enable"
TASK_RESTART_MAX_ATTEMPTS = "kconnect.task.restart.max.attempts"
TASK_RESTART_BACKOFF_INITIAL_MS = "kconnect.task.restart.backoff.initial.ms"
TASK_RESTART_BACKOFF_MAX_MS = "kconnect.task.restart.backoff.max.ms"


def _alias_validator(kind: str) -> LambdaValidator:
    """Kafka's check that ``transforms``/``predicates`` name each alias once."""

    def check(name: str, value: Any) -> None:
        if isinstance(value, list) and len(value) > len(set(value)):
            raise invalid_value(name, value, "Duplicate alias provided.")

    return LambdaValidator(check, f"unique {kind} aliases")


def common_definition(connector_version: str | None = None) -> ConfigDef:
    """Kafka's ConnectorConfig: the keys of every connector, numbered in their groups as
    Kafka 4.3 numbers them. ``connector_version`` is the default of
    ``connector.plugin.version`` (the installed connector's version, as Kafka shows it)."""
    return (
        ConfigDef()
        .define(
            NAME,
            T.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            None,
            I.HIGH,
            "Globally unique name to use for this connector.",
            COMMON_GROUP,
            1,
            W.MEDIUM,
            "Connector name",
        )
        .define(
            CONNECTOR_CLASS,
            T.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            None,
            I.HIGH,
            "Name or alias of the class for this connector. Must be a subclass of "
            "kconnect.api.Connector. If the connector is "
            "org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify this "
            'full name, or use "FileStreamSink" or "FileStreamSinkConnector" to make the '
            "configuration a bit shorter",
            COMMON_GROUP,
            2,
            W.LONG,
            "Connector class",
        )
        .define(
            CONNECTOR_PLUGIN_VERSION,
            T.STRING,
            connector_version,
            None,
            I.MEDIUM,
            "Version of the connector. A version (1.2.0) or a Maven version range "
            "([1.0,2.0)) the installed connector's version must match; kconnect installs one "
            "version of each plugin, so this can only confirm it.",
            COMMON_GROUP,
            3,
            W.MEDIUM,
            "Connector version",
        )
        .define(
            TASKS_MAX,
            T.INT,
            1,
            Range.at_least(1),
            I.HIGH,
            "Maximum number of tasks to use for this connector.",
            COMMON_GROUP,
            4,
            W.SHORT,
            "Tasks max",
        )
        .define(
            "tasks.max.enforce",
            T.BOOLEAN,
            True,
            None,
            I.LOW,
            "(Deprecated) Whether to enforce that the tasks.max property is respected by the "
            "connector.",
            COMMON_GROUP,
            5,
            W.SHORT,
            "Enforce tasks max",
        )
        .define(
            KEY_CONVERTER,
            T.CLASS,
            None,
            None,
            I.LOW,
            "Converter class used to convert between Kafka Connect format and the serialized form "
            "that is written to Kafka. This controls the format of the keys in messages written "
            "to or read from Kafka. Defaults to the worker's key.converter.",
            COMMON_GROUP,
            6,
            W.SHORT,
            "Key converter class",
        )
        .define(
            VALUE_CONVERTER,
            T.CLASS,
            None,
            None,
            I.LOW,
            "Converter class for the values in messages. Defaults to the worker's value.converter.",
            COMMON_GROUP,
            8,
            W.SHORT,
            "Value converter class",
        )
        .define(
            HEADER_CONVERTER,
            T.CLASS,
            None,
            None,
            I.LOW,
            "HeaderConverter class for header values. Defaults to the worker's header.converter.",
            COMMON_GROUP,
            10,
            W.SHORT,
            "Header converter class",
        )
        .define(
            "config.action.reload",
            T.STRING,
            "restart",
            ValidString.in_("none", "restart"),
            I.LOW,
            "The action that Connect should take on the connector when changes in external "
            "configuration providers result in a change in the connector's configuration "
            "properties.",
            COMMON_GROUP,
            14,
            W.MEDIUM,
            "Reload Action",
        )
        .define(
            TRANSFORMS,
            T.LIST,
            "",
            _alias_validator("transformation"),
            I.LOW,
            "Aliases for the transformations to be applied to records.",
            TRANSFORMS_GROUP,
            12,
            W.LONG,
            "Transforms",
        )
        .define(
            PREDICATES,
            T.LIST,
            "",
            _alias_validator("predicate"),
            I.LOW,
            "Aliases for the predicates used by transformations.",
            PREDICATES_GROUP,
            13,
            W.LONG,
            "Predicates",
        )
        .define(
            "errors.retry.timeout",
            T.LONG,
            0,
            None,
            I.MEDIUM,
            "The maximum duration in milliseconds that a failed operation will be reattempted. The "
            "default is 0, which means no retries will be attempted. Use -1 for infinite retries.",
            ERROR_GROUP,
            1,
            W.MEDIUM,
            "Retry Timeout for Errors",
        )
        .define(
            "errors.retry.delay.max.ms",
            T.LONG,
            60000,
            None,
            I.MEDIUM,
            "The maximum duration in milliseconds between consecutive retry attempts. Jitter will "
            "be added to the delay once this limit is reached to prevent thundering herd issues.",
            ERROR_GROUP,
            2,
            W.MEDIUM,
            "Maximum Delay Between Retries for Errors",
        )
        .define(
            ERRORS_TOLERANCE,
            T.STRING,
            "none",
            ValidString.in_("none", "all"),
            I.MEDIUM,
            "Behavior for tolerating errors during connector operation. 'none' is the default "
            "value and signals that any error will result in an immediate connector task failure; "
            "'all' changes the behavior to skip over problematic records.",
            ERROR_GROUP,
            3,
            W.SHORT,
            "Error Tolerance",
        )
        .define(
            "errors.log.enable",
            T.BOOLEAN,
            False,
            None,
            I.MEDIUM,
            "If true, write each error and the details of the failed operation and problematic "
            "record to the Connect application log.",
            ERROR_GROUP,
            4,
            W.SHORT,
            "Log Errors",
        )
        .define(
            "errors.log.include.messages",
            T.BOOLEAN,
            False,
            None,
            I.MEDIUM,
            "Whether to include in the log the Connect record that resulted in a failure.",
            ERROR_GROUP,
            5,
            W.SHORT,
            "Log Error Details",
        )
        # kconnect only (Apache Kafka Connect has no automatic restart): off by default.
        .define(
            TASK_RESTART_AUTO_ENABLE,
            T.BOOLEAN,
            False,
            None,
            I.MEDIUM,
            "kconnect only: restart a FAILED task of this connector automatically, with "
            "exponential backoff, up to kconnect.task.restart.max.attempts times. The task's status "
            "shows restart_attempts and, while a restart is pending, next_restart_at. Off by default, "
            "so a failed task stays FAILED until restarted through the REST API, as in Kafka.",
            AUTO_RESTART_GROUP,
            1,
            W.SHORT,
            "Automatic Task Restart",
        )
        .define(
            TASK_RESTART_MAX_ATTEMPTS,
            T.INT,
            5,
            Range.at_least(1),
            I.MEDIUM,
            "kconnect only: how many times in a row a failed task is restarted automatically before it "
            "is left FAILED. The count starts again after a manual restart, a config change, or once "
            "the task ran for kconnect.task.restart.backoff.max.ms without failing.",
            AUTO_RESTART_GROUP,
            2,
            W.SHORT,
            "Maximum Automatic Restarts",
        )
        .define(
            TASK_RESTART_BACKOFF_INITIAL_MS,
            T.LONG,
            1000,
            Range.at_least(0),
            I.MEDIUM,
            "kconnect only: the wait before the first automatic restart of a failed task; each "
            "further attempt waits twice as long, up to kconnect.task.restart.backoff.max.ms.",
            AUTO_RESTART_GROUP,
            3,
            W.SHORT,
            "Initial Restart Backoff (ms)",
        )
        .define(
            TASK_RESTART_BACKOFF_MAX_MS,
            T.LONG,
            60000,
            Range.at_least(0),
            I.MEDIUM,
            "kconnect only: the longest wait between automatic restarts of a failed task.",
            AUTO_RESTART_GROUP,
            4,
            W.SHORT,
            "Maximum Restart Backoff (ms)",
        )
    )


def source_definition(connector_version: str | None = None) -> ConfigDef:
    """Kafka's SourceConnectorConfig keys on top of the common ones."""
    return (
        common_definition(connector_version)
        .define(
            "topic.creation.groups",
            T.LIST,
            "",
            None,
            I.LOW,
            "Groups of configurations for topics created by source connectors",
            "Topic Creation",
            1,
            W.LONG,
            "Topic Creation Groups",
        )
        .define(
            "exactly.once.support",
            T.STRING,
            "requested",
            ValidString.in_("requested", "required"),
            I.MEDIUM,
            "Permitted values are requested, required.",
            "Exactly Once Support",
            1,
            W.SHORT,
            "Exactly once support",
        )
        .define(
            "transaction.boundary",
            T.STRING,
            "poll",
            ValidString.in_("poll", "interval", "connector"),
            I.MEDIUM,
            "Permitted values are: poll, interval, connector.",
            "Exactly Once Support",
            2,
            W.SHORT,
            "Transaction Boundary",
        )
        .define(
            "offsets.storage.topic",
            T.STRING,
            None,
            None,
            I.LOW,
            "The name of a separate offsets topic to use for this connector.",
            "offsets.storage",
            1,
            W.LONG,
            "Offsets topic",
        )
    )


def sink_definition(connector_version: str | None = None) -> ConfigDef:
    """Kafka's SinkConnectorConfig keys on top of the common ones."""
    return (
        common_definition(connector_version)
        .define(
            TOPICS,
            T.LIST,
            "",
            None,
            I.HIGH,
            "List of topics to consume, separated by commas",
            COMMON_GROUP,
            4,
            W.LONG,
            "Topics",
        )
        .define(
            TOPICS_REGEX,
            T.STRING,
            "",
            None,
            I.HIGH,
            "Regular expression giving topics to consume. Under the hood, the regex is compiled to "
            "a java.util.regex.Pattern. Only one of topics or topics.regex should be specified.",
            COMMON_GROUP,
            4,
            W.LONG,
            "Topics regex",
        )
        .define(
            DLQ_TOPIC,
            T.STRING,
            "",
            None,
            I.MEDIUM,
            "The name of the topic to be used as the dead letter queue (DLQ) for messages that "
            "result in an error when processed by this sink connector, or its transformations or "
            "converters. The topic name is blank by default, which means that no messages are to "
            "be recorded in the DLQ.",
            ERROR_GROUP,
            6,
            W.MEDIUM,
            "Dead Letter Queue Topic Name",
        )
        .define(
            "errors.deadletterqueue.topic.replication.factor",
            T.SHORT,
            3,
            None,
            I.MEDIUM,
            "Replication factor used to create the dead letter queue topic when it doesn't "
            "already exist.",
            ERROR_GROUP,
            7,
            W.MEDIUM,
            "Dead Letter Queue Topic Replication Factor",
        )
        .define(
            "errors.deadletterqueue.context.headers.enable",
            T.BOOLEAN,
            False,
            None,
            I.MEDIUM,
            "If true, add headers containing error context to the messages written to the dead "
            "letter queue. To avoid clashing with headers from the original record, all error "
            "context header keys, all error context header keys will start with __connect.errors.",
            ERROR_GROUP,
            8,
            W.MEDIUM,
            "Enable Error Context Headers",
        )
    )


def definition_for(connector_type: str, connector_version: str | None = None) -> ConfigDef:
    if connector_type == "source":
        return source_definition(connector_version)
    if connector_type == "sink":
        return sink_definition(connector_version)
    return common_definition(connector_version)


#: The worker key bounding every connector's ``tasks.max`` (kconnect only).
TASKS_MAX_LIMIT = "tasks.max.limit"


def tasks_max_limit_message(tasks_max: Any, limit: int) -> str | None:
    """The error for a ``tasks.max`` above this worker's ``tasks.max.limit``, else None (a
    value that is not a number is left to the ConfigDef's own error)."""
    try:
        requested = int(str(tasks_max).strip())
    except ValueError:
        return None
    if requested <= limit:
        return None
    return (
        f"Invalid value {requested} for configuration {TASKS_MAX}: this worker runs at most "
        f"{limit} tasks per connector (worker setting {TASKS_MAX_LIMIT}={limit}; each task is a "
        "thread with its own Kafka client)"
    )
