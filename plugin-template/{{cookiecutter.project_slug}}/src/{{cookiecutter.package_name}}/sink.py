"""{{ cookiecutter.class_name }}: appends each record's value to a file, one line per record.

``put()`` writes its whole batch with one append before it returns, so the default
``pre_commit()`` (flush, then commit the offsets ``put()`` was given) never commits a record the
file does not hold. When the file cannot be written for a reason that may pass (its directory
is missing, the disk is full) ``put()`` raises ``RetriableException`` having written nothing,
and Kafka Connect offers the same batch again. Replace the file with your own system; keep
that contract.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from kconnect.api import (
    ConfigDef,
    RetriableException,
    SinkConnector,
    SinkRecord,
    SinkTask,
)
from kconnect.api.config import NonEmptyString

from {{ cookiecutter.package_name }} import __version__

FILE_CONFIG = "file"

CONFIG_DEF = ConfigDef().define(
    FILE_CONFIG,
    ConfigDef.Type.STRING,
    ConfigDef.NO_DEFAULT_VALUE,
    NonEmptyString(),
    ConfigDef.Importance.HIGH,
    "The file the record values are appended to, one line per record",
)


class {{ cookiecutter.class_name }}Connector(SinkConnector):
    """Writes the values of the records of ``topics`` to ``file``. One task."""

    def version(self) -> str:
        return __version__

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def start(self, props: Mapping[str, str]) -> None:
        CONFIG_DEF.parse(props)  # a bad config fails here, with the key's name
        self.props = dict(props)

    def task_class(self) -> type[SinkTask]:
        return {{ cookiecutter.class_name }}Task

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def stop(self) -> None:
        pass


class {{ cookiecutter.class_name }}Task(SinkTask):
    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        self.file: str = CONFIG_DEF.parse(props)[FILE_CONFIG]

    def put(self, records: Collection[SinkRecord]) -> None:
        if not records:
            return
        text = "".join(f"{record.value}\n" for record in records)
        try:
            with open(self.file, "a", encoding="utf-8") as f:
                f.write(text)
        except OSError as error:
            raise RetriableException(f"Could not append to {self.file}: {error}") from error

    def stop(self) -> None:
        pass
