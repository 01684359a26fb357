"""{{ cookiecutter.class_name }}: every line of the ``*.txt`` files in a directory becomes a
record.

Each file is a source partition (``{"file": <name>}``) and the offset is the number of its lines
already sent (``{"line": <n>}``). Kafka Connect stores the offset once Kafka has the record, and
a restarted task asks for it, so it continues after the last line Kafka acknowledged: nothing
is sent twice and nothing is skipped. Replace the reading with your own system's; keep the
partition/offset pattern.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from kconnect.api import ConfigDef, Schema, SourceConnector, SourceRecord, SourceTask
from kconnect.api.config import NonEmptyString, Range

from {{ cookiecutter.package_name }} import __version__

DIRECTORY_CONFIG = "directory"
TOPIC_CONFIG = "topic"
POLL_INTERVAL_CONFIG = "poll.interval.ms"

CONFIG_DEF = (
    ConfigDef()
    .define(
        DIRECTORY_CONFIG,
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        NonEmptyString(),
        ConfigDef.Importance.HIGH,
        "The directory whose *.txt files are read; each line becomes a record",
    )
    .define(
        TOPIC_CONFIG,
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        NonEmptyString(),
        ConfigDef.Importance.HIGH,
        "The topic the records are written to",
    )
    .define(
        POLL_INTERVAL_CONFIG,
        ConfigDef.Type.INT,
        500,
        Range.at_least(1),
        ConfigDef.Importance.LOW,
        "How long to wait for new lines before looking again, in milliseconds",
    )
)


class {{ cookiecutter.class_name }}Connector(SourceConnector):
    """Reads the lines of the *.txt files in ``directory`` into ``topic``. One task."""

    def version(self) -> str:
        return __version__

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def start(self, props: Mapping[str, str]) -> None:
        CONFIG_DEF.parse(props)  # a bad config fails here, with the key's name
        self.props = dict(props)

    def task_class(self) -> type[SourceTask]:
        return {{ cookiecutter.class_name }}Task

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def stop(self) -> None:
        pass


class {{ cookiecutter.class_name }}Task(SourceTask):
    def version(self) -> str:
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        config = CONFIG_DEF.parse(props)
        self.directory = Path(config[DIRECTORY_CONFIG])
        self.topic: str = config[TOPIC_CONFIG]
        self.interval_s = config[POLL_INTERVAL_CONFIG] / 1000
        self.lines_sent: dict[str, int] = {}
        # stop() is called from another thread while poll() waits: the wait ends at once.
        self.stopping = threading.Event()

    def poll(self) -> list[SourceRecord] | None:
        records = []
        for path in sorted(self.directory.glob("*.txt")):
            records.extend(self.new_lines(path))
        if not records:
            self.stopping.wait(self.interval_s)
        return records

    def new_lines(self, path: Path) -> list[SourceRecord]:
        partition = {"file": path.name}
        if path.name not in self.lines_sent:
            stored = self.context.offset_storage_reader().offset(partition)
            self.lines_sent[path.name] = stored["line"] if stored else 0
        # Only complete lines: a line still being written waits for its newline. (Reading the
        # whole file each time keeps the example short; a real source would keep its place.)
        complete = path.read_text(encoding="utf-8").split("\n")[:-1]
        records = []
        for text in complete[self.lines_sent[path.name] :]:
            self.lines_sent[path.name] += 1
            records.append(
                SourceRecord(
                    partition,
                    {"line": self.lines_sent[path.name]},
                    self.topic,
                    value_schema=Schema.STRING_SCHEMA,
                    value=text,
                )
            )
        return records

    def stop(self) -> None:
        self.stopping.set()
