"""Connectors with one deliberate fault each fail exactly the kit check that names the fault,
with a message that says what to fix, and pass every other check (including the round trip
through a real worker and broker).

The kit runs in a pytest subprocess (pytester), as an author's suite would; its round trips use
this session's broker through a ``bootstrap_servers`` fixture in the inner conftest.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

HERE = Path(__file__).parent

CONFTEST = """
import os
import pytest

@pytest.fixture(scope="session")
def bootstrap_servers():
    return os.environ["KIT_TEST_BOOTSTRAP_SERVERS"]
"""

TESTS = """
from contextlib import contextmanager
from pathlib import Path

from kconnect.testing.kit import SinkConnectorChecks, SourceConnectorChecks

import broken_plugins

SINK_SKIPS = {
    "sink_retriable_redelivered": "file writes fail for good",
    "stop_while_put_blocked": "file writes do not wait",
}


class FileSource(SourceConnectorChecks):
    # The correct connectors pass everything; each broken one must fail on its fault alone.
    def connector_config(self, workdir, topic):
        return {"file": str(workdir / "input.txt"), "topic": topic}

    def produce(self, config, count):
        path = Path(config["file"])
        start = len(path.read_text().splitlines()) if path.exists() else 0
        lines = [f"line {i}" for i in range(start, start + count)]
        with open(path, "a") as f:
            f.write("".join(line + "\\n" for line in lines))
        return lines


class FileSink(SinkConnectorChecks):
    skip_checks = SINK_SKIPS

    def connector_config(self, workdir, topic):
        return {"file": str(workdir / "output.txt")}

    def read_back(self, config):
        path = Path(config["file"])
        return path.read_text().splitlines() if path.exists() else []


class TestLinesSource(FileSource):
    connector_class = broken_plugins.LinesSource


class TestLinesSink(FileSink):
    connector_class = broken_plugins.LinesSink


class TestUndocumentedKeySink(FileSink):
    connector_class = broken_plugins.UndocumentedKeySink


class TestBlockingStopSource(FileSource):
    connector_class = broken_plugins.BlockingStopSource


class TestRedeliveringSource(FileSource):
    connector_class = broken_plugins.RedeliveringSource


class TestEagerCommitSink(FileSink):
    connector_class = broken_plugins.EagerCommitSink


class TestTupleOffsetSource(FileSource):
    connector_class = broken_plugins.TupleOffsetSource


class TestDoubleWriteSink(FileSink):
    connector_class = broken_plugins.DoubleWriteSink
    skip_checks = {"stop_while_put_blocked": "file writes do not wait"}

    @contextmanager
    def sink_unavailable(self, config):
        down = Path(config["file"] + ".down")
        down.touch()
        try:
            yield
        finally:
            down.unlink()


class TestThreadLeakSource(FileSource):
    connector_class = broken_plugins.ThreadLeakSource
"""

#: class -> (the one check that must fail, words its message must contain)
EXPECTED: dict[str, tuple[str | None, list[str]]] = {
    "TestLinesSource": (None, []),
    "TestLinesSink": (None, []),
    "TestUndocumentedKeySink": (
        "config_documented",
        ["key 'flush.size' has no documentation", "documentation="],
    ),
    "TestBlockingStopSource": (
        "stop_while_poll_blocked",
        ["stop() did not return within 5s while poll() was waiting", "never hold a lock"],
    ),
    "TestRedeliveringSource": (
        "source_resume_after_restart",
        ["delivered again ['line 0', 'line 1', 'line 2', 'line 3']", "offset_storage_reader()"],
    ),
    "TestEagerCommitSink": (
        "pre_commit_not_ahead_of_flush",
        ["pre_commit() reported offset 5", "call self.flush()"],
    ),
    "TestTupleOffsetSource": (
        "source_offsets_json",
        ["changes when written as JSON and read back", "use dicts of str, int"],
    ),
    "TestDoubleWriteSink": (
        "sink_retriable_redelivered",
        [
            "holds ['kit-record-3', 'kit-record-4', 'kit-record-5'] (3) more than once",
            "a put() refused with RetriableException and the same batch put() again",
        ],
    ),
    "TestThreadLeakSource": (
        "start_stop_repeatedly",
        ["thread 'lines-watcher' is still running", "release in stop() what start() acquired"],
    ),
}

#: sink classes that define sink_unavailable() and so run sink_retriable_redelivered
RUNS_RETRIABLE = {"TestDoubleWriteSink"}


def outcomes(junit: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(class, check) -> (outcome, message) from a JUnit XML report."""
    found = {}
    for case in ET.parse(junit).iter("testcase"):
        cls = case.get("classname", "").rsplit(".", 1)[-1]
        check = case.get("name", "").removeprefix("test_")
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome = tag
                message = (element.get("message") or "") + (element.text or "")
                break
        found[(cls, check)] = (outcome, message)
    return found


def test_each_fault_fails_exactly_its_check(
    pytester: pytest.Pytester, bootstrap_servers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(HERE / "broken_plugins.py", pytester.path / "broken_plugins.py")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_broken=TESTS)
    monkeypatch.setenv("KIT_TEST_BOOTSTRAP_SERVERS", bootstrap_servers)
    junit = pytester.path / "report.xml"
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        "--timeout=240",
        "--durations=6",
        timeout=600,
    )
    found = outcomes(junit)
    report = "\n".join(result.outlines[-60:])
    for cls, (failing, words) in EXPECTED.items():
        checks = {check: v for (c, check), v in found.items() if c == cls}
        assert checks, f"{cls} ran no checks:\n{report}"
        failed = sorted(c for c, (outcome, _) in checks.items() if outcome in ("failure", "error"))
        expected = [failing] if failing else []
        assert failed == expected, f"{cls} failed {failed}, expected {expected}:\n{report}"
        if failing:
            message = checks[failing][1]
            assert f"kit check '{failing}' failed" in message
            for word in words:
                assert word in message, f"{cls}: {word!r} not in the failure message:\n{message}"
        skipped = sorted(check for check, (outcome, _) in checks.items() if outcome == "skipped")
        expected_skips = (
            ["sink_retriable_redelivered", "stop_while_put_blocked"] if "Sink" in cls else []
        )
        if cls in RUNS_RETRIABLE:
            expected_skips.remove("sink_retriable_redelivered")
        assert skipped == expected_skips, f"{cls} skipped {skipped}"
