"""{{ cookiecutter.class_name }}'s tests: kconnect's test kit for transforms (ConfigDef, the
examples below, and a round trip through a real worker and Kafka broker, which the kit
starts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kconnect.api import Schema, SinkRecord
from kconnect.testing.kit import TransformChecks

from {{ cookiecutter.package_name }}.transform import CONFIG_DEF, {{ cookiecutter.class_name }}


def test_readme_lists_every_key() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert CONFIG_DEF.to_markdown().strip() in readme, "update the README's config table"


def test_sink_records_keep_their_offsets() -> None:
    transform = {{ cookiecutter.class_name }}()
    transform.configure({"prefix": "pre-"})
    record = SinkRecord("t", 0, None, None, Schema.STRING_SCHEMA, "hello", 42)
    result = transform.apply(record)
    assert result is not None and result.value == "pre-hello" and result.kafka_offset == 42


class Test{{ cookiecutter.class_name }}Kit(TransformChecks):
    """The kit's checks, run against this transform."""

    transform_class = {{ cookiecutter.class_name }}

    def transform_config(self) -> dict[str, str]:
        return {"prefix": "pre-"}

    def examples(self) -> list[tuple[Any, Any]]:
        """(value in, value out) pairs."""
        return [("hello", "pre-hello"), ("", "pre-"), (42, 42), (None, None)]
