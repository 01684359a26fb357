"""Two small, correct connectors (a line-file source and a line-file sink) and four variants
with one deliberate fault each, for the kit's own tests: the kit should pass the correct ones
and fail each variant on exactly the check that names its fault.

They are written here, against ``kconnect.api`` only, rather than borrowed from the built-ins,
so the faults stay exactly what their docstrings say whatever the built-ins become.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Collection, Mapping

from kconnect.api import (
    ConfigDef,
    RetriableException,
    Schema,
    SinkConnector,
    SinkRecord,
    SinkTask,
    SourceConnector,
    SourceRecord,
    SourceTask,
    TopicPartition,
)

SOURCE_CONFIG = (
    ConfigDef()
    .define(
        "file",
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        None,
        ConfigDef.Importance.HIGH,
        "The file whose lines become records",
    )
    .define(
        "topic",
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        None,
        ConfigDef.Importance.HIGH,
        "The topic to write to",
    )
)
SINK_CONFIG = ConfigDef().define(
    "file",
    ConfigDef.Type.STRING,
    ConfigDef.NO_DEFAULT_VALUE,
    None,
    ConfigDef.Importance.HIGH,
    "The file the record values are appended to, one per line",
)


class LinesSourceTask(SourceTask):
    """Each line of ``file`` is a record; the offset is the number of lines read."""

    def start(self, props: Mapping[str, str]) -> None:
        self.file, self.topic = props["file"], props["topic"]
        self.partition = {"file": self.file}
        self.stopped = threading.Event()
        self.line = self.resume_line()

    def resume_line(self) -> int:
        stored = self.context.offset_storage_reader().offset(self.partition)
        return int(stored["line"]) if stored else 0

    def read_new_lines(self) -> list[SourceRecord]:
        try:
            with open(self.file) as f:
                lines = f.read().splitlines()[self.line :]
        except FileNotFoundError:
            return []
        records = []
        for text in lines:
            self.line += 1
            records.append(
                SourceRecord(
                    self.partition,
                    {"line": self.line},
                    self.topic,
                    value_schema=Schema.STRING_SCHEMA,
                    value=text,
                )
            )
        return records

    def poll(self) -> list[SourceRecord] | None:
        records = self.read_new_lines()
        if not records:
            self.stopped.wait(0.2)
        return records

    def stop(self) -> None:
        self.stopped.set()


class LinesSource(SourceConnector):
    def start(self, props: Mapping[str, str]) -> None:
        self.props = dict(props)

    def task_class(self) -> type[SourceTask]:
        return LinesSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def config(self) -> ConfigDef:
        return SOURCE_CONFIG


class LinesSinkTask(SinkTask):
    """put() buffers; flush() appends the buffer to ``file``."""

    def start(self, props: Mapping[str, str]) -> None:
        self.file = props["file"]
        self.buffer: list[str] = []
        self.lock = threading.Lock()

    def put(self, records: Collection[SinkRecord]) -> None:
        with self.lock:
            self.buffer.extend(str(r.value) for r in records)

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        with self.lock:
            lines, self.buffer = self.buffer, []
            if lines:
                with open(self.file, "a") as f:
                    f.write("".join(line + "\n" for line in lines))

    def stop(self) -> None:
        pass


class LinesSink(SinkConnector):
    def start(self, props: Mapping[str, str]) -> None:
        self.props = dict(props)

    def task_class(self) -> type[SinkTask]:
        return LinesSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def config(self) -> ConfigDef:
        return SINK_CONFIG


# -- one fault each -------------------------------------------------------------------------------
class UndocumentedKeySink(LinesSink):
    """Fault: a key without documentation."""

    def config(self) -> ConfigDef:
        return ConfigDef(SINK_CONFIG).define(
            "flush.size", ConfigDef.Type.INT, 100, None, ConfigDef.Importance.LOW, ""
        )


class BlockingStopSourceTask(LinesSourceTask):
    """Fault: poll() waits for data holding a lock, and stop() needs that lock."""

    def start(self, props: Mapping[str, str]) -> None:
        super().start(props)
        self.lock = threading.Lock()

    def poll(self) -> list[SourceRecord] | None:
        with self.lock:
            records = self.read_new_lines()
            if not records:
                time.sleep(6)  # waits for new lines without looking at stop()
            return records

    def stop(self) -> None:
        with self.lock:
            super().stop()


class BlockingStopSource(LinesSource):
    def task_class(self) -> type[SourceTask]:
        return BlockingStopSourceTask


class RedeliveringSourceTask(LinesSourceTask):
    """Fault: every start reads the file from its first line, whatever was committed."""

    def resume_line(self) -> int:
        return 0


class RedeliveringSource(LinesSource):
    def task_class(self) -> type[SourceTask]:
        return RedeliveringSourceTask


class EagerCommitSinkTask(LinesSinkTask):
    """Fault: pre_commit() reports the offsets at once and flushes a moment later."""

    def start(self, props: Mapping[str, str]) -> None:
        super().start(props)
        self.late_flush: threading.Thread | None = None

    def pre_commit(
        self, current_offsets: Mapping[TopicPartition, int]
    ) -> Mapping[TopicPartition, int]:
        def flush_later() -> None:
            time.sleep(0.5)
            self.flush(current_offsets)

        if self.late_flush is not None:
            self.late_flush.join()
        self.late_flush = threading.Thread(target=flush_later, name="eager-commit-flush")
        self.late_flush.start()
        return current_offsets

    def stop(self) -> None:
        if self.late_flush is not None:
            self.late_flush.join()


class EagerCommitSink(LinesSink):
    def task_class(self) -> type[SinkTask]:
        return EagerCommitSinkTask


class TupleOffsetSourceTask(LinesSourceTask):
    """Fault: the record offset holds a tuple, which comes back from JSON as a list."""

    def read_new_lines(self) -> list[SourceRecord]:
        records = super().read_new_lines()
        for record in records:
            line = record.source_offset["line"]
            record.source_offset = {"line": line, "position": (line, 0)}
        return records


class TupleOffsetSource(LinesSource):
    def task_class(self) -> type[SourceTask]:
        return TupleOffsetSourceTask


class DoubleWriteSinkTask(LinesSinkTask):
    """Fault: put() buffers the batch before finding the sink system unavailable and raising
    RetriableException, so the batch offered again is written twice.

    The sink system is unavailable while a file named like ``file`` plus ``.down`` exists.
    """

    def put(self, records: Collection[SinkRecord]) -> None:
        super().put(records)
        if os.path.exists(self.file + ".down"):
            raise RetriableException(f"{self.file} is unavailable")


class DoubleWriteSink(LinesSink):
    def task_class(self) -> type[SinkTask]:
        return DoubleWriteSinkTask


class ThreadLeakSourceTask(LinesSourceTask):
    """Fault: every start() starts a watcher thread that stop() never ends."""

    def start(self, props: Mapping[str, str]) -> None:
        super().start(props)
        forever = threading.Event()
        threading.Thread(target=forever.wait, name="lines-watcher", daemon=True).start()


class ThreadLeakSource(LinesSource):
    def task_class(self) -> type[SourceTask]:
        return ThreadLeakSourceTask
