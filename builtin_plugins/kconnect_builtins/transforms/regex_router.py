"""RegexRouter: rename topics with a regular expression and a replacement."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from kconnect.api.config import NO_DEFAULT_VALUE, ConfigDef
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._util import (
    TRANSFORMS_PACKAGE,
    RegexValidator,
    compile_java_regex,
    config_error,
    java_replacement,
    plugin_version,
)

log = logging.getLogger(__name__)

REGEX = "regex"
REPLACEMENT = "replacement"

CONFIG_DEF = (
    ConfigDef()
    .define(REGEX, ConfigDef.Type.STRING, default=NO_DEFAULT_VALUE, validator=RegexValidator(),
            importance=ConfigDef.Importance.HIGH,
            documentation="Regular expression to use for matching.")
    .define(REPLACEMENT, ConfigDef.Type.STRING, default=NO_DEFAULT_VALUE,
            importance=ConfigDef.Importance.HIGH, documentation="Replacement string.")
)  # fmt: skip


class RegexRouter(Transformation[ConnectRecord]):
    """Update the record topic using the configured regular expression and replacement string.

    The regex is a Java regular expression. If the pattern matches the whole input topic, the
    first match is replaced with the replacement string (``$1`` or ``${name}`` refer to the
    groups), as ``java.util.regex.Matcher#replaceFirst()`` does, to obtain the new topic."""

    java_class_names = (f"{TRANSFORMS_PACKAGE}.RegexRouter",)

    def __init__(self) -> None:
        self._regex: re.Pattern[str] | None = None
        self._replacement: Callable[[re.Match[str]], str] | None = None
        self._routes: dict[str, str] = {}

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        config = CONFIG_DEF.parse(configs)
        self._regex = compile_java_regex(config[REGEX])
        replacement = config[REPLACEMENT]
        try:
            self._replacement = java_replacement(replacement)
        except ValueError as e:
            raise config_error(REPLACEMENT, replacement, str(e)) from None
        self._routes = {}

    def _route(self, topic: str) -> str:
        regex = self._regex
        if regex is None or regex.fullmatch(topic) is None:
            log.debug("Not rerouting topic '%s' as it does not match the configured regex", topic)
            return topic
        routed = regex.sub(self._replacement, topic, count=1)  # type: ignore[arg-type]
        log.debug("Rerouting from topic '%s' to new topic '%s'", topic, routed)
        return routed

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        topic = record.topic
        # Topics are few and records many: remember each topic's route.
        routed = self._routes.get(topic)
        if routed is None:
            routed = self._route(topic)
            if len(self._routes) < 10_000:
                self._routes[topic] = routed
        if routed == topic:
            return record
        return record.new_record(topic=routed)

    def close(self) -> None:
        self._routes = {}
