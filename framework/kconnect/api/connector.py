"""Connectors: the plugin class that a user names in ``connector.class``.

A connector does not copy data itself; it looks at its configuration and splits the work into
task configurations. The runtime then runs one :class:`~kconnect.api.task.Task` per config.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kconnect.api.config import Config, ConfigDef
    from kconnect.api.storage import OffsetStorageReader
    from kconnect.api.task import Task


class ConnectorContext:
    """What the runtime offers a running connector."""

    def request_task_reconfiguration(self) -> None:
        """Ask the runtime to call ``task_configs()`` again (e.g. the source gained a table)."""
        raise NotImplementedError

    def raise_error(self, error: BaseException) -> None:
        """Fail the connector from a background thread of its own."""
        raise NotImplementedError


class SourceConnectorContext(ConnectorContext):
    def offset_storage_reader(self) -> OffsetStorageReader:
        raise NotImplementedError


class SinkConnectorContext(ConnectorContext):
    pass


class Connector:
    """Base class of every connector. Subclass :class:`SourceConnector` or :class:`SinkConnector`."""

    context: ConnectorContext

    def initialize(self, context: ConnectorContext) -> None:
        """Called by the runtime once, before :meth:`start`."""
        self.context = context

    def version(self) -> str:
        """The connector's version, shown in ``/connector-plugins``."""
        return "unknown"

    def start(self, props: Mapping[str, str]) -> None:
        """Start with the user's configuration (string values, as in a properties file)."""
        raise NotImplementedError

    def task_class(self) -> type[Task]:
        raise NotImplementedError

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        """At most ``max_tasks`` configurations, one for each task to run."""
        raise NotImplementedError

    def stop(self) -> None:
        """Release what :meth:`start` acquired."""

    def config(self) -> ConfigDef:
        """The connector's configuration definition."""
        from kconnect.api.config import ConfigDef

        return ConfigDef()

    def validate(self, connector_configs: Mapping[str, str]) -> Config:
        """Check a configuration; the default checks it against :meth:`config`.
        Override to add checks that span several keys."""
        from kconnect.api.config import Config

        return Config(self.config().validate(connector_configs))

    def reconfigure(self, props: Mapping[str, str]) -> None:
        self.stop()
        self.start(props)


class ExactlyOnceSupport(enum.Enum):
    SUPPORTED = "SUPPORTED"
    UNSUPPORTED = "UNSUPPORTED"


class ConnectorTransactionBoundaries(enum.Enum):
    SUPPORTED = "SUPPORTED"
    UNSUPPORTED = "UNSUPPORTED"


class SourceConnector(Connector):
    """A connector that reads from an external system and writes to Kafka."""

    context: SourceConnectorContext

    def exactly_once_support(
        self, connector_config: Mapping[str, str]
    ) -> ExactlyOnceSupport | None:
        return None

    def can_define_transaction_boundaries(
        self, connector_config: Mapping[str, str]
    ) -> ConnectorTransactionBoundaries:
        return ConnectorTransactionBoundaries.UNSUPPORTED

    def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[Any, Mapping[str, Any] | None]
    ) -> bool:
        """Called before offsets are altered or reset through the REST API. ``offsets`` maps a
        source partition (as a frozen tuple of items) to the new offset, or None to reset.
        Return True when the connector checked them; raise to refuse. The default accepts
        nothing it was not told about: it returns False, and the change goes through."""
        return False


class SinkConnector(Connector):
    """A connector that reads from Kafka and writes to an external system."""

    TOPICS_CONFIG = "topics"
    TOPICS_REGEX_CONFIG = "topics.regex"

    context: SinkConnectorContext

    def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[Any, int | None]
    ) -> bool:
        return False


def connector_type(connector_class: type) -> str:
    """'source', 'sink' or 'unknown', as ``/connector-plugins`` says it."""
    if issubclass(connector_class, SourceConnector):
        return "source"
    if issubclass(connector_class, SinkConnector):
        return "sink"
    return "unknown"
