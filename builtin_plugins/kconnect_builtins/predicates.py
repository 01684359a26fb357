"""Kafka Connect's built-in predicates, which decide whether a transform applies to a record
(``transforms.<alias>.predicate`` and ``.negate`` are handled by the runtime)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kconnect.api.config import NO_DEFAULT_VALUE, CompositeValidator, ConfigDef, NonEmptyString
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Predicate

from kconnect_builtins.transforms._util import (
    RegexValidator,
    compile_java_regex,
    config_error,
    plugin_version,
)

PREDICATES_PACKAGE = "org.apache.kafka.connect.transforms.predicates"


class TopicNameMatches(Predicate[ConnectRecord]):
    """A predicate which is true for records with a topic name that matches the configured
    regular expression."""

    java_class_names = (f"{PREDICATES_PACKAGE}.TopicNameMatches",)
    PATTERN_CONFIG = "pattern"
    CONFIG_DEF = ConfigDef().define(
        PATTERN_CONFIG,
        ConfigDef.Type.STRING,
        default=NO_DEFAULT_VALUE,
        validator=CompositeValidator.of(NonEmptyString(), RegexValidator()),
        importance=ConfigDef.Importance.MEDIUM,
        documentation="A Java regular expression for matching against the name of a record's "
        "topic.",
    )

    def __init__(self) -> None:
        self._pattern: re.Pattern[str] | None = None

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return self.CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        value = self.CONFIG_DEF.parse(configs)[self.PATTERN_CONFIG]
        try:
            self._pattern = compile_java_regex(value)
        except re.error as e:
            raise config_error(
                self.PATTERN_CONFIG,
                value,
                f"entry must be a Java-compatible regular expression: {e}",
            ) from None

    def test(self, record: ConnectRecord) -> bool:
        topic = record.topic
        return topic is not None and self._pattern.fullmatch(topic) is not None  # type: ignore[union-attr]

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"TopicNameMatches{{pattern={self._pattern.pattern if self._pattern else None}}}"


class HasHeaderKey(Predicate[ConnectRecord]):
    """A predicate which is true for records with at least one header with the configured
    name."""

    java_class_names = (f"{PREDICATES_PACKAGE}.HasHeaderKey",)
    NAME_CONFIG = "name"
    CONFIG_DEF = ConfigDef().define(
        NAME_CONFIG,
        ConfigDef.Type.STRING,
        default=NO_DEFAULT_VALUE,
        validator=NonEmptyString(),
        importance=ConfigDef.Importance.MEDIUM,
        documentation="The header name.",
    )

    def __init__(self) -> None:
        self._name: str | None = None

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return self.CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        self._name = self.CONFIG_DEF.parse(configs)[self.NAME_CONFIG]

    def test(self, record: ConnectRecord) -> bool:
        headers = record.headers
        if not headers:
            return False
        name = self._name
        return any(header.key == name for header in headers)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"HasHeaderKey{{name='{self._name}'}}"


class RecordIsTombstone(Predicate[ConnectRecord]):
    """A predicate which is true for records which are tombstones (i.e. have null value)."""

    java_class_names = (f"{PREDICATES_PACKAGE}.RecordIsTombstone",)
    CONFIG_DEF = ConfigDef()

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return self.CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        pass

    def test(self, record: ConnectRecord) -> bool:
        return record.value is None

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "RecordIsTombstone{}"
