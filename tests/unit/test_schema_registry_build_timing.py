"""The schema registry's one-time Maven build is not counted against the test that first asks
for the registry: pytest-timeout's timer is paused around it and re-armed with what was left."""

from __future__ import annotations

import signal
import time

from kconnect.testing.fixtures import _test_timeout_paused
from kconnect.testing.schema_registry import main


def test_test_timeout_is_paused_during_the_build_and_rearmed_after():
    before = signal.getitimer(signal.ITIMER_REAL)[0]
    assert before > 0, "pytest-timeout's SIGALRM timer is expected to run this test"
    with _test_timeout_paused():
        assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
        time.sleep(0.3)  # the "build": not taken from the test's time
    after = signal.getitimer(signal.ITIMER_REAL)[0]
    assert before - 0.1 < after <= before


def test_build_command_needs_its_flag():
    assert main([]) == 2
