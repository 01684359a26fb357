"""TimestampRouter: route records to topics named after their topic and timestamp."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kconnect.api.config import ConfigDef
from kconnect.api.errors import DataException
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._datefmt import JavaDateFormat
from kconnect_builtins.transforms._util import TRANSFORMS_PACKAGE, config_error, plugin_version

TOPIC_FORMAT = "topic.format"
TIMESTAMP_FORMAT = "timestamp.format"

CONFIG_DEF = (
    ConfigDef()
    .define(TOPIC_FORMAT, ConfigDef.Type.STRING, default="${topic}-${timestamp}",
            importance=ConfigDef.Importance.HIGH,
            documentation="Format string which can contain <code>${topic}</code> and "
            "<code>${timestamp}</code> as placeholders for the topic and timestamp, respectively.")
    .define(TIMESTAMP_FORMAT, ConfigDef.Type.STRING, default="yyyyMMdd",
            importance=ConfigDef.Importance.HIGH,
            documentation="Format string for the timestamp that is compatible with "
            "<code>java.text.SimpleDateFormat</code>.")
)  # fmt: skip


class TimestampRouter(Transformation[ConnectRecord]):
    """Update the record's topic field as a function of the original topic value and the
    record timestamp.

    This is mainly useful for sink connectors, since the topic field is often used to
    determine the equivalent entity name in the destination system (e.g. database table or
    search index name)."""

    java_class_names = (f"{TRANSFORMS_PACKAGE}.TimestampRouter",)

    def __init__(self) -> None:
        self._topic_format = "${topic}-${timestamp}"
        self._timestamp_format = JavaDateFormat("yyyyMMdd")

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        config = CONFIG_DEF.parse(configs)
        self._topic_format = config[TOPIC_FORMAT]
        self._last_key: tuple[str, int] | None = None
        self._last_topic = ""
        pattern = config[TIMESTAMP_FORMAT]
        try:
            self._timestamp_format = JavaDateFormat(pattern)
        except ValueError as e:
            raise config_error(TIMESTAMP_FORMAT, pattern, str(e)) from None

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        timestamp = record.timestamp
        if timestamp is None:
            raise DataException(f"Timestamp missing on record: {record}")
        # Records come in runs with the same topic and (often) timestamp: remember the last one.
        key = (record.topic, timestamp)
        if key != self._last_key:
            formatted = self._timestamp_format.format_millis(timestamp)
            self._last_topic = self._topic_format.replace("${topic}", record.topic).replace(
                "${timestamp}", formatted
            )
            self._last_key = key
        return record.new_record(topic=self._last_topic)

    def close(self) -> None:
        pass
