"""Automatic restart of failed tasks, with a real broker and the standalone herder in this
process: a task that fails twice and then recovers ends RUNNING without anyone calling the
REST API; one that keeps failing is left FAILED after the maximum number of attempts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from kconnect.api import SourceConnector, SourceRecord, SourceTask
from kconnect.runtime.standalone.herder import StandaloneHerder
from kconnect.testing import herder_worker_props, running_herder, wait_until

#: connector name -> how many times its task was started
STARTS: dict[str, int] = {}
_lock = threading.Lock()


class FlakySourceTask(SourceTask):
    """Fails in start() the first ``fail.times`` times (-1: always), then idles."""

    def start(self, props: Mapping[str, str]) -> None:
        name = props["name"]
        with _lock:
            STARTS[name] = STARTS.get(name, 0) + 1
            starts = STARTS[name]
        fail_times = int(props["fail.times"])
        if fail_times < 0 or starts <= fail_times:
            raise RuntimeError(f"start number {starts} of {name} fails on purpose")

    def poll(self) -> list[SourceRecord] | None:
        time.sleep(0.1)
        return None

    def stop(self) -> None:
        pass


class FlakySourceConnector(SourceConnector):
    def start(self, props: Mapping[str, str]) -> None:
        self.props = dict(props)

    def task_class(self) -> type[SourceTask]:
        return FlakySourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def stop(self) -> None:
        pass


@pytest.fixture
def herder(tmp_path: Path, bootstrap_servers: str) -> Iterator[StandaloneHerder]:
    # The test's connector is named by Python path: this module must be allowed.
    props = herder_worker_props(
        bootstrap_servers, tmp_path, {"plugin.import.allowed.prefixes": __name__}
    )
    with running_herder(props) as running:
        yield running


def wait_for(condition: Callable[[], Any], what: str = "condition") -> Any:
    # The pending-restart state lasts one backoff (200 ms): poll often enough to see it.
    return wait_until(condition, timeout=30, what=what, interval=0.05)


def connector(name: str, fail_times: int, max_attempts: int) -> dict[str, str]:
    return {
        "name": name,
        "connector.class": f"{__name__}.FlakySourceConnector",
        "topic": "unused",
        "fail.times": str(fail_times),
        "kconnect.task.restart.auto.enable": "true",
        "kconnect.task.restart.max.attempts": str(max_attempts),
        "kconnect.task.restart.backoff.initial.ms": "200",
        "kconnect.task.restart.backoff.max.ms": "1000",
    }


def task_status(herder: StandaloneHerder, name: str) -> dict[str, Any]:
    tasks = herder.connector_status(name)["tasks"]
    return tasks[0] if tasks else {}


def test_a_task_that_fails_twice_then_recovers_ends_running(herder: StandaloneHerder) -> None:
    herder.put_connector_config(
        "flaky", connector("flaky", fail_times=2, max_attempts=5), allow_replace=False
    )

    # While a restart is pending the task is FAILED and the status says when it comes.
    pending = wait_for(
        lambda: (
            (s := task_status(herder, "flaky")).get("state") == "FAILED"
            and "next_restart_at" in s
            and s
        ),
        what="a pending automatic restart",
    )
    assert pending["restart_attempts"] == 0
    assert "fails on purpose" in pending["trace"]
    assert pending["next_restart_at"].endswith("Z")

    final = wait_for(
        lambda: (s := task_status(herder, "flaky")).get("state") == "RUNNING" and s,
        what="the task to run after two automatic restarts",
    )
    assert final["restart_attempts"] == 2
    assert "next_restart_at" not in final
    assert STARTS["flaky"] == 3
    assert herder.task_status("flaky", 0)["restart_attempts"] == 2


def test_a_task_that_keeps_failing_is_left_failed_after_the_maximum(
    herder: StandaloneHerder,
) -> None:
    herder.put_connector_config(
        "broken", connector("broken", fail_times=-1, max_attempts=3), allow_replace=False
    )

    final = wait_for(
        lambda: (
            (s := task_status(herder, "broken")).get("state") == "FAILED"
            and s.get("restart_attempts") == 3
            and "next_restart_at" not in s
            and s
        ),
        what="three automatic restarts, then none pending",
    )
    assert "fails on purpose" in final["trace"]
    time.sleep(1.5)  # longer than the largest backoff: nothing more happens
    assert STARTS["broken"] == 4  # the first start and three restarts
    assert task_status(herder, "broken")["state"] == "FAILED"

    # A manual restart starts the count again.
    herder.restart_task("broken", 0)
    wait_for(lambda: STARTS["broken"] >= 5, what="the manual restart")
    assert wait_for(lambda: task_status(herder, "broken").get("restart_attempts") is not None)
    assert task_status(herder, "broken")["restart_attempts"] <= 1


def test_without_the_setting_a_failed_task_stays_failed_as_in_kafka(
    herder: StandaloneHerder,
) -> None:
    config = connector("plain", fail_times=1, max_attempts=5)
    del config["kconnect.task.restart.auto.enable"]
    herder.put_connector_config("plain", config, allow_replace=False)
    failed = wait_for(
        lambda: (s := task_status(herder, "plain")).get("state") == "FAILED" and s,
        what="the task to fail",
    )
    assert "restart_attempts" not in failed
    time.sleep(1.0)
    assert STARTS["plain"] == 1
    assert task_status(herder, "plain")["state"] == "FAILED"
