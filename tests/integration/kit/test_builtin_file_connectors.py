"""The built-in FileStreamSource and FileStreamSink pass the connector test kit: every check
runs (against the session's real broker for the round trips) except the two whose fault a
local file cannot produce, skipped with the reason."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kconnect.testing.kit import SinkConnectorChecks, SourceConnectorChecks
from kconnect_builtins.file.sink import FileStreamSinkConnector
from kconnect_builtins.file.source import FileStreamSourceConnector


class TestFileStreamSource(SourceConnectorChecks):
    connector_class = FileStreamSourceConnector

    def connector_config(self, workdir: Path, topic: str) -> dict[str, str]:
        return {"file": str(workdir / "input.txt"), "topic": topic}

    def produce(self, config: Mapping[str, str], count: int) -> list[Any]:
        path = Path(config["file"])
        start = len(path.read_text().splitlines()) if path.exists() else 0
        lines = [f"line {i}" for i in range(start, start + count)]
        with open(path, "a") as f:
            f.write("".join(line + "\n" for line in lines))
        return lines


class TestFileStreamSink(SinkConnectorChecks):
    connector_class = FileStreamSinkConnector
    skip_checks = {
        "sink_retriable_redelivered": "FileStreamSink treats every write error as fatal "
        "(ConnectException), as Apache Kafka's does",
        "stop_while_put_blocked": "a write to a local file does not wait on another system",
    }

    def connector_config(self, workdir: Path, topic: str) -> dict[str, str]:
        return {"file": str(workdir / "output.txt")}

    def read_back(self, config: Mapping[str, str]) -> list[Any]:
        path = Path(config["file"])
        return path.read_text().splitlines() if path.exists() else []
