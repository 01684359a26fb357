"""FileStreamSinkConnector: writes each record's value as a line to a file (or stdout)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Collection, Mapping
from typing import IO, Any

from kconnect import __version__
from kconnect.api.config import ConfigDef
from kconnect.api.connector import SinkConnector
from kconnect.api.data import Struct
from kconnect.api.errors import ConnectException
from kconnect.api.records import SinkRecord
from kconnect.api.task import SinkTask
from kconnect.api.topic_partition import TopicPartition

log = logging.getLogger(__name__)

FILE_CONFIG = "file"

# Unlike Apache Kafka 3.x (where a missing "file" silently means stdout), the key is required,
# as in the Kafka Connect REST examples users learn from; an empty value selects stdout.
CONFIG_DEF = ConfigDef().define(
    FILE_CONFIG,
    ConfigDef.Type.STRING,
    ConfigDef.NO_DEFAULT_VALUE,
    None,
    ConfigDef.Importance.HIGH,
    "Destination filename. If empty, the standard output will be used",
)


class FileStreamSinkConnector(SinkConnector):
    """Writes the values of the records of ``topics`` to a file, one per line. One task."""

    java_class_names = ("org.apache.kafka.connect.file.FileStreamSinkConnector",)

    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        self._props = dict(props)
        CONFIG_DEF.parse(props)

    def task_class(self) -> type[SinkTask]:
        return FileStreamSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        # As Kafka: every task gets the connector's config (they all append to the same file).
        return [dict(self._props) for _ in range(max_tasks)]

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[Any, int | None]
    ) -> bool:
        # Nothing in the file depends on offsets: any change is fine.
        return True


def java_string(value: Any) -> str:
    """The text Java's toString() gives the same Connect value, so output files match Kafka's."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{java_string(k)}={java_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(java_string(v) for v in value) + "]"
    if isinstance(value, Struct):
        return (
            "Struct{"
            + ",".join(
                f"{f.name}={java_string(value.get(f))}"
                for f in value.schema.fields
                if value.get(f) is not None
            )
            + "}"
        )
    return str(value)


class FileStreamSinkTask(SinkTask):
    """Appends lines; ``flush`` pushes them to the operating system before offsets commit."""

    java_class_names = ("org.apache.kafka.connect.file.FileStreamSinkTask",)

    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        self.filename: str | None = CONFIG_DEF.parse(props)[FILE_CONFIG] or None
        if self.filename is None:
            self.stream: IO[str] = sys.stdout
            return
        try:
            self.stream = open(self.filename, "a", encoding="utf-8", newline="\n")
        except OSError as error:
            raise ConnectException(
                f"Couldn't find or create file '{self.filename}' for FileStreamSinkTask: {error}"
            ) from error

    def put(self, records: Collection[SinkRecord]) -> None:
        if not records:
            return
        write = self.stream.write
        values = [r.value for r in records]
        if not all(type(v) is str for v in values):
            values = [v if type(v) is str else java_string(v) for v in values]
        try:
            # One join and one write per batch (records are many, batches few).
            write("\n".join(values) + "\n")
        except OSError as error:
            raise ConnectException(
                f"Could not write to {self.filename or 'stdout'}: {error}"
            ) from error

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        try:
            self.stream.flush()
        except OSError as error:
            raise ConnectException(
                f"Could not flush {self.filename or 'stdout'}: {error}"
            ) from error

    def stop(self) -> None:
        if self.filename is not None and not self.stream.closed:
            self.stream.close()
