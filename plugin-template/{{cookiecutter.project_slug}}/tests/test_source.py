"""{{ cookiecutter.class_name }}'s tests: a unit test of the task, and kconnect's connector test
kit (ConfigDef, lifecycle, offsets and restarts, and a round trip through a real worker and
Kafka broker, which the kit starts)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kconnect.testing.kit import SourceConnectorChecks

from {{ cookiecutter.package_name }}.source import CONFIG_DEF, {{ cookiecutter.class_name }}Connector


def append_lines(directory: Path, lines: list[str]) -> None:
    with open(directory / "data.txt", "a", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


def test_readme_lists_every_key() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert CONFIG_DEF.to_markdown().strip() in readme, "update the README's config table"


class Test{{ cookiecutter.class_name }}Kit(SourceConnectorChecks):
    """The kit's checks, run against this connector."""

    connector_class = {{ cookiecutter.class_name }}Connector

    def connector_config(self, workdir: Path, topic: str) -> dict[str, str]:
        """A valid config whose files live under ``workdir``."""
        return {"directory": str(workdir), "topic": topic, "poll.interval.ms": "100"}

    def produce(self, config: Mapping[str, str], count: int) -> list[Any]:
        """Put ``count`` new lines where the connector reads; return the values it will send."""
        directory = Path(config["directory"])
        file = directory / "data.txt"
        start = len(file.read_text().splitlines()) if file.exists() else 0
        lines = [f"line {n}" for n in range(start, start + count)]
        append_lines(directory, lines)
        return lines
