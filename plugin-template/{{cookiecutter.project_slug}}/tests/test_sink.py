"""{{ cookiecutter.class_name }}'s tests: kconnect's connector test kit (ConfigDef, lifecycle,
delivery once, retries, commits, and a round trip through a real worker and Kafka broker, which
the kit starts)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kconnect.testing.kit import SinkConnectorChecks

from {{ cookiecutter.package_name }}.sink import CONFIG_DEF, {{ cookiecutter.class_name }}Connector


def test_readme_lists_every_key() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert CONFIG_DEF.to_markdown().strip() in readme, "update the README's config table"


class Test{{ cookiecutter.class_name }}Kit(SinkConnectorChecks):
    """The kit's checks, run against this connector."""

    connector_class = {{ cookiecutter.class_name }}Connector
    skip_checks = {
        "stop_while_put_blocked": "appending to a local file does not wait on another system",
    }

    def connector_config(self, workdir: Path, topic: str) -> dict[str, str]:
        """A valid config writing under ``workdir``."""
        (workdir / "out").mkdir(exist_ok=True)
        return {"file": str(workdir / "out" / "records.txt")}

    def read_back(self, config: Mapping[str, str]) -> list[Any]:
        """What the sink wrote, in order."""
        file = Path(config["file"])
        return file.read_text(encoding="utf-8").splitlines() if file.exists() else []

    @contextmanager
    def sink_unavailable(self, config: Mapping[str, str]) -> Iterator[None]:
        """The file's directory is gone for a while (writes fail, then work again)."""
        directory = Path(config["file"]).parent
        away = directory.with_name(directory.name + "-away")
        os.rename(directory, away)
        try:
            yield
        finally:
            os.rename(away, directory)
