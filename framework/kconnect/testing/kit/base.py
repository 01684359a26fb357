"""What every kit check class shares: choosing which checks run (``skip_checks``,
``kit_version``), failing with a message that names the check and says what to fix, and the
checks every connector gets (its ConfigDef, start/stop cycles, the worker round trip).

A check is a ``test_<name>`` method, so pytest collects the checks of any ``Test…`` subclass
and reports each under its own name.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import pytest

from kconnect.api.config import ConfigDef
from kconnect.api.connector import Connector
from kconnect.testing.kit import config_checks
from kconnect.testing.kit.catalogue import CHECKS, KIT_VERSION
from kconnect.testing.kit.harness import ResourceSnapshot, leaks_after


def fail(check: str, problems: str | list[str]) -> NoReturn:
    """Fail ``check`` with every problem on its own line, without a traceback into the kit."""
    if isinstance(problems, str):
        problems = [problems]
    lines = "\n".join(f"  - {p}" for p in problems)
    pytest.fail(f"kit check {check!r} failed:\n{lines}", pytrace=False)


def check_name(request: pytest.FixtureRequest) -> str:
    return request.function.__name__.removeprefix("test_")


class PluginChecks:
    """Base of the kit's check classes. Class attributes a subclass may set:

    * ``skip_checks``: ``{"check_name": "why it does not apply"}``;
    * ``kit_version``: run only the checks of that kit version (default: all of this one);
    * ``stop_timeout_s``: how long ``stop()`` may take (the worker's default
      ``task.shutdown.graceful.timeout.ms`` is 5 s).
    """

    kind: ClassVar[str] = ""
    skip_checks: ClassVar[Mapping[str, str]] = {}
    kit_version: ClassVar[int] = KIT_VERSION
    stop_timeout_s: ClassVar[float] = 5.0

    @pytest.fixture(autouse=True)
    def _kit_gate(self, request: pytest.FixtureRequest) -> None:
        """Skips what the class asked to skip; refuses names that are not checks (a typo would
        otherwise silently run the check it meant to skip)."""
        unknown = sorted(set(self.skip_checks) - set(CHECKS))
        if unknown:
            pytest.fail(
                f"skip_checks names no kit check: {', '.join(unknown)}; the checks are: "
                + ", ".join(sorted(CHECKS)),
                pytrace=False,
            )
        name = check_name(request)
        reason = self.skip_checks.get(name)
        if reason is not None:
            pytest.skip(f"{name}: {reason}")
        check = CHECKS[name]
        if check.since > self.kit_version:
            pytest.skip(
                f"{name} came with kit version {check.since}; this class pins kit_version = "
                f"{self.kit_version}"
            )

    @staticmethod
    def topic_for(check: str) -> str:
        return f"kit-{check.replace('_', '-')}-{uuid.uuid4().hex[:8]}"

    @staticmethod
    def bootstrap_servers(request: pytest.FixtureRequest) -> str:
        # Asked for only here, so that skipping the round trip never starts a broker.
        return str(request.getfixturevalue("bootstrap_servers"))


class ConnectorChecks(PluginChecks):
    """Checks every connector gets. Subclasses say how to configure it:

    * ``connector_class``: the connector under test;
    * ``connector_config(workdir, topic)``: a valid config (without ``name``,
      ``connector.class`` and ``tasks.max``) whose data lives under ``workdir``.
    """

    connector_class: ClassVar[type[Connector]]

    def connector_config(self, workdir: Path, topic: str) -> dict[str, str]:
        raise NotImplementedError(
            "define connector_config(self, workdir, topic) returning a valid config"
        )

    # -- helpers ---------------------------------------------------------------------------------
    def full_config(self, workdir: Path, topic: str, name: str = "kit") -> dict[str, str]:
        """The author's config plus what every connector config holds."""
        config = {key: str(value) for key, value in self.connector_config(workdir, topic).items()}
        return {
            "name": name,
            "connector.class": config_checks.python_path(self.connector_class),
            "tasks.max": "1",
            **config,
        }

    def definition(self) -> ConfigDef:
        return self.connector_class().config()

    def exercise_once(self, workdir: Path, config: dict[str, str]) -> None:
        """One start/stop cycle of the connector and its task (kind-specific)."""
        raise NotImplementedError

    def prepare_lifecycle(self, config: dict[str, str]) -> None:
        """Called before the start/stop cycles (a source produces a record here)."""

    # -- checks ----------------------------------------------------------------------------------
    def test_config_documented(self) -> None:
        problems = config_checks.undocumented_keys(self.definition())
        if problems:
            fail("config_documented", problems)

    def test_valid_config_accepted(self, tmp_path: Path) -> None:
        config = self.full_config(tmp_path, self.topic_for("valid"))
        problems = config_checks.invalid_config_problems(self.connector_class, config)
        if problems:
            fail("valid_config_accepted", problems)

    def test_missing_required_reported(self, tmp_path: Path) -> None:
        config = self.full_config(tmp_path, self.topic_for("required"))
        problems = config_checks.missing_required_problems(
            self.connector_class, self.definition(), config
        )
        if problems:
            fail("missing_required_reported", problems)

    def test_validate_never_raises(self, tmp_path: Path) -> None:
        config = self.full_config(tmp_path, self.topic_for("junk"))
        cls = self.connector_class
        problems = config_checks.junk_problems(
            self.definition(),
            config,
            lambda props: config_checks.validate(cls, props),
            "validation (/validate)",
        )
        problems += config_checks.junk_problems(
            self.definition(), {}, lambda props: cls().validate(props), f"{cls.__name__}.validate()"
        )
        if problems:
            fail("validate_never_raises", problems)

    def test_start_stop_repeatedly(self, tmp_path: Path) -> None:
        config = self.full_config(tmp_path, self.topic_for("lifecycle"))
        self.prepare_lifecycle(config)
        # One cycle first: imports, caches and pools a plugin creates once are not leaks.
        self.exercise_once(tmp_path, config)
        before = ResourceSnapshot.take()
        for _ in range(3):
            self.exercise_once(tmp_path, config)
        leaks = leaks_after(before, grace_s=self.stop_timeout_s)
        if leaks:
            fail(
                "start_stop_repeatedly",
                [
                    f"after 3 more start/stop cycles {leak}: release in stop() what start() "
                    "acquired (join threads, close files, connections and clients)"
                    for leak in leaks
                ],
            )


def values_text(values: list[Any], limit: int = 10) -> str:
    shown = ", ".join(repr(v) for v in values[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}] ({len(values)})"
