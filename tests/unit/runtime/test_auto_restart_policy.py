"""Automatic restarts of FAILED tasks: opt-in, exponential backoff, a maximum, and what the
status shows."""

from __future__ import annotations

import threading
import time
from typing import Any

from kconnect.runtime.auto_restart import AutoRestarter, RestartPolicy
from kconnect.runtime.states import State, TaskId

TASK = TaskId("c", 0)


class Harness:
    def __init__(self, config: dict[str, str]):
        self.config: dict[str, str] | None = config
        self.restarts: list[tuple[str, int]] = []
        self.restarted = threading.Event()
        self.restarter = AutoRestarter(lambda name: self.config, self.submit, self.restart)

    def submit(self, fn: Any, *args: Any) -> None:
        fn(*args)  # the herder thread, here the timer's

    def restart(self, name: str, task: int) -> None:
        self.restarts.append((name, task))
        self.restarted.set()

    def fail(self) -> None:
        self.restarter.on_task_state(TASK, State.FAILED, "trace")

    def wait_restart(self, timeout: float = 3.0) -> bool:
        ok = self.restarted.wait(timeout)
        self.restarted.clear()
        return ok


ENABLED = {
    "kconnect.task.restart.auto.enable": "true",
    "kconnect.task.restart.max.attempts": "2",
    "kconnect.task.restart.backoff.initial.ms": "50",
    "kconnect.task.restart.backoff.max.ms": "80",
}


def test_backoff_doubles_up_to_the_maximum() -> None:
    policy = RestartPolicy.of(
        {
            **ENABLED,
            "kconnect.task.restart.backoff.initial.ms": "1000",
            "kconnect.task.restart.backoff.max.ms": "5000",
        }
    )
    assert [policy.backoff_ms(n) for n in range(5)] == [1000, 2000, 4000, 5000, 5000]


def test_off_by_default_nothing_is_restarted_and_the_status_has_no_extra_fields() -> None:
    harness = Harness({})
    harness.fail()
    assert not harness.wait_restart(0.3)
    assert harness.restarter.status_fields(TASK) == {}


def test_a_failed_task_is_restarted_after_the_backoff_and_the_status_shows_it() -> None:
    harness = Harness(
        {
            **ENABLED,
            "kconnect.task.restart.backoff.initial.ms": "300",
            "kconnect.task.restart.backoff.max.ms": "1000",
        }
    )
    started = time.monotonic()
    harness.fail()
    fields = harness.restarter.status_fields(TASK)
    assert fields["restart_attempts"] == 0
    assert fields["next_restart_at"].endswith("Z")
    assert harness.wait_restart()
    assert time.monotonic() - started >= 0.28
    assert harness.restarts == [("c", 0)]
    assert harness.restarter.status_fields(TASK) == {"restart_attempts": 1}


def test_after_max_attempts_the_task_stays_failed() -> None:
    harness = Harness(ENABLED)
    harness.fail()
    assert harness.wait_restart()
    harness.fail()
    assert harness.wait_restart()
    harness.fail()
    assert not harness.wait_restart(0.4)
    assert harness.restarts == [("c", 0), ("c", 0)]
    assert harness.restarter.status_fields(TASK) == {"restart_attempts": 2}


def test_a_task_that_recovered_meanwhile_is_not_restarted() -> None:
    harness = Harness(ENABLED)
    harness.fail()
    harness.restarter.on_task_state(TASK, State.RUNNING)  # e.g. restarted by hand
    assert not harness.wait_restart(0.3)


def test_the_restart_does_not_wait_for_the_status_store_to_read_the_failure_back() -> None:
    # In a cluster the status store still says RUNNING until it reads FAILED back from the
    # status topic; the restarter judges by the state the task reported here (it used to ask
    # the store, skip the restart, and never schedule it again).
    harness = Harness(ENABLED)
    harness.restarter.on_task_state(TASK, State.FAILED, "trace")
    assert harness.wait_restart()


def test_manual_restart_resets_the_count_and_cancels_a_pending_restart() -> None:
    harness = Harness(
        {
            **ENABLED,
            "kconnect.task.restart.backoff.initial.ms": "200",
            "kconnect.task.restart.backoff.max.ms": "1000",
        }
    )
    harness.fail()
    harness.restarter.reset("c", 0)
    assert not harness.wait_restart(0.4)
    assert harness.restarter.status_fields(TASK) == {"restart_attempts": 0}


def test_a_config_change_starts_the_count_again() -> None:
    harness = Harness(dict(ENABLED))
    for _ in range(2):
        harness.fail()
        assert harness.wait_restart()
    harness.config = {**ENABLED, "topic": "other"}
    harness.fail()
    assert harness.wait_restart()
    assert harness.restarter.status_fields(TASK)["restart_attempts"] == 1


def test_close_cancels_pending_restarts() -> None:
    harness = Harness(
        {
            **ENABLED,
            "kconnect.task.restart.backoff.initial.ms": "200",
            "kconnect.task.restart.backoff.max.ms": "1000",
        }
    )
    harness.fail()
    harness.restarter.close()
    assert not harness.wait_restart(0.4)
