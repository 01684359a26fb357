"""Checks for single message transforms: a documented ConfigDef that validates junk without
raising (through a connector's ``/validate``, where users meet it), the author's examples, and a
round trip in a worker: lines of a file -> FileStreamSource -> the transform -> a real topic.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from kconnect.api.data import Schema
from kconnect.api.records import SourceRecord
from kconnect.api.transform import Transformation
from kconnect.testing.kit import config_checks
from kconnect.testing.kit.base import PluginChecks, fail, values_text
from kconnect.testing.kit.worker import plugin_name, running_worker

FILE_SOURCE = "FileStreamSource"


class TransformChecks(PluginChecks):
    """Subclass it in a ``Test…`` class and define:

    * ``transform_class``;
    * ``transform_config()``: its settings (without the ``transforms.<alias>.`` prefix);
    * ``examples()``: ``(input value, expected output value)`` pairs of strings; an expected
      None means the transform drops the record.
    """

    kind = "transform"
    transform_class: ClassVar[type[Transformation[Any]]]

    def transform_config(self) -> dict[str, str]:
        return {}

    def examples(self) -> list[tuple[Any, Any]]:
        raise NotImplementedError(
            "define examples(self) returning (input value, expected output) pairs"
        )

    def connector_with_transform(
        self, workdir: Path, topic: str, transform_config: Mapping[str, str], name: str = "kit"
    ) -> dict[str, str]:
        return {
            "name": name,
            "connector.class": FILE_SOURCE,
            "tasks.max": "1",
            "file": str(workdir / "kit-input.txt"),
            "topic": topic,
            "transforms": "kit",
            "transforms.kit.type": plugin_name(self.transform_class, "transform"),
            **{f"transforms.kit.{k}": str(v) for k, v in transform_config.items()},
        }

    # -- checks ----------------------------------------------------------------------------------
    def test_config_documented(self) -> None:
        problems = config_checks.undocumented_keys(self.transform_class().config())
        if problems:
            fail("config_documented", problems)

    def test_validate_never_raises(self, tmp_path: Path) -> None:
        from kconnect.runtime.config_validation import validate_connector_config

        connector = self.connector_with_transform(tmp_path, "kit-junk", {})
        connector["transforms.kit.type"] = config_checks.python_path(self.transform_class)
        reg = config_checks.kit_registry("transform", self.transform_class)
        definition = self.transform_class().config()

        def through_connector(settings: Mapping[str, str]) -> Any:
            props = {**connector, **{f"transforms.kit.{k}": v for k, v in settings.items()}}
            return validate_connector_config(reg, props)

        problems = config_checks.junk_problems(
            definition, self.transform_config(), through_connector, "validation (/validate)"
        )
        problems += config_checks.junk_problems(
            definition,
            self.transform_config(),
            lambda props: definition.validate(props),
            f"{self.transform_class.__name__}.config().validate()",
        )
        if problems:
            fail("validate_never_raises", problems)

    def test_transform_applies(self) -> None:
        transform = self.transform_class()
        transform.configure(self.transform_config())
        problems = []
        try:
            for given, expected in self.examples():
                schema = Schema.STRING_SCHEMA if isinstance(given, str) else None
                record = SourceRecord(None, None, "kit-topic", None, None, None, schema, given)
                result = transform.apply(record)
                got = None if result is None else result.value
                if got != expected:
                    problems.append(f"apply() turned {given!r} into {got!r}, expected {expected!r}")
        finally:
            transform.close()
        if problems:
            fail("transform_applies", problems)

    def test_round_trip_through_worker(
        self, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        from kconnect.testing.helpers import read_topic

        check = "round_trip_through_worker"
        bootstrap = self.bootstrap_servers(request)
        topic = self.topic_for(check)
        examples = [(i, o) for i, o in self.examples() if isinstance(i, str) and "\n" not in i]
        if not examples:
            pytest.skip(f"{check}: no single-line string examples to send through a file")
        config = self.connector_with_transform(
            tmp_path, topic, self.transform_config(), name=f"kit-{topic}"
        )
        with running_worker(tmp_path, bootstrap, config, (self.transform_class,)):
            (tmp_path / "kit-input.txt").write_text("".join(f"{i}\n" for i, _ in examples))
            expected = [str(o) for _, o in examples if o is not None]
            messages = read_topic(bootstrap, topic, expected=len(expected), timeout=60)
        got = [None if (v := m.value()) is None else v.decode("utf-8") for m in messages]
        if got != expected:
            fail(
                check,
                f"{FILE_SOURCE} with the transform wrote {values_text(got)} to {topic}, "
                f"expected {values_text(expected)}",
            )
