"""The kit's broker-free parts: choosing checks (skip by name with a reason, typos refused,
a pinned kit version), the ConfigDef checks, and the offset store that plays the worker's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from kconnect.api import Config, ConfigDef, SourceConnector
from kconnect.testing.kit import CHECKS, KIT_VERSION, checks_for, config_checks
from kconnect.testing.kit.harness import KitOffsetStore

pytest_plugins = ["pytester"]

GATE_TESTS = """
from kconnect.testing.kit import SinkConnectorChecks
from kconnect_builtins.file.sink import FileStreamSinkConnector

class Base(SinkConnectorChecks):
    connector_class = FileStreamSinkConnector
    def connector_config(self, workdir, topic):
        return {"file": str(workdir / "out.txt")}
    def read_back(self, config):
        return []

class TestTypo(Base):
    skip_checks = {"config_documentd": "typo"}

class TestSkipped(Base):
    skip_checks = {"round_trip_through_worker": "no broker in this test",
                   "sink_delivers_batch_once": "read_back is a stub here"}
"""


def test_skip_by_name_and_typos(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_gate=GATE_TESTS)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-rs", "-k", "documented or round or once"
    )
    outcomes = result.parseoutcomes()
    # TestTypo: every selected check fails at set-up naming the unknown check and the real ones.
    result.stdout.fnmatch_lines(["*skip_checks names no kit check: config_documentd*"])
    assert outcomes["errors"] == 3
    # TestSkipped: skipped with the reason given; the others ran.
    result.stdout.fnmatch_lines(["*round_trip_through_worker: no broker in this test*"])
    result.stdout.fnmatch_lines(["*sink_delivers_batch_once: read_back is a stub here*"])
    assert outcomes["skipped"] == 2 and outcomes["passed"] == 1


def test_pinned_kit_version_skips_newer_checks(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kconnect.testing.kit import catalogue

    newer = catalogue.Check("config_documented", KIT_VERSION + 1, frozenset({"sink"}), "x")
    monkeypatch.setitem(catalogue.CHECKS, "config_documented", newer)
    pytester.makepyfile(test_gate=GATE_TESTS.replace("class TestTypo", "class Typo"))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rs", "-k", "documented")
    result.stdout.fnmatch_lines([f"*config_documented came with kit version {KIT_VERSION + 1}*"])


def test_catalogue_names_each_kind_checks() -> None:
    assert {c.name for c in checks_for("source")} >= {
        "config_documented",
        "missing_required_reported",
        "validate_never_raises",
        "start_stop_repeatedly",
        "stop_while_poll_blocked",
        "source_offsets_json",
        "source_resume_after_restart",
        "round_trip_through_worker",
    }
    assert {c.name for c in checks_for("sink")} >= {
        "stop_while_put_blocked",
        "sink_delivers_batch_once",
        "sink_retriable_redelivered",
        "pre_commit_not_ahead_of_flush",
    }
    assert all(c.since <= KIT_VERSION for c in CHECKS.values())


DEF = (
    ConfigDef()
    .define(
        "path",
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        None,
        ConfigDef.Importance.HIGH,
        "Where",
    )
    .define("size", ConfigDef.Type.INT, 1, None, ConfigDef.Importance.LOW, "  ")
)


class Raising(SourceConnector):
    def config(self) -> ConfigDef:
        return DEF

    def validate(self, connector_configs: Mapping[str, str]) -> Config:
        int(connector_configs.get("size", "1"))  # raises on junk: the fault under test
        return super().validate(connector_configs)


class Forgetful(SourceConnector):
    def config(self) -> ConfigDef:
        return DEF

    def validate(self, connector_configs: Mapping[str, str]) -> Config:
        return Config([])  # drops ConfigDef.validate()'s errors


def test_undocumented_keys_named() -> None:
    [problem] = config_checks.undocumented_keys(DEF)
    assert problem.startswith("key 'size' has no documentation")


def test_junk_that_raises_is_reported_with_key_and_place() -> None:
    problems = config_checks.junk_problems(
        DEF, {"path": "/x"}, lambda props: Raising().validate(props), "Raising.validate()"
    )
    assert len(problems) == 1
    assert "Raising.validate() raised ValueError" in problems[0] and "for size=" in problems[0]
    assert "instead of raising" in problems[0]


def test_required_key_not_reported_is_a_problem() -> None:
    props = {"name": "x", "tasks.max": "1", "path": "/x"}
    assert config_checks.missing_required_problems(Raising, DEF, props) == []
    [problem] = config_checks.missing_required_problems(Forgetful, DEF, props)
    assert problem.startswith("required key 'path' was left out and /validate reported no error")


def test_offset_store_keeps_json_and_only_commits() -> None:
    store = KitOffsetStore()
    assert store.offset({"file": "a"}) is None
    offset: dict[str, Any] = {"line": 3, "pos": (1, 2)}
    store.commit({"file": "a"}, offset)
    assert store.offset({"file": "a"}) == {"line": 3, "pos": [1, 2]}  # as JSON gives it back
