"""The README's first command: `kconnect quickstart` starts its own Kafka, copies a file through
a topic, and cleans up after itself."""

from __future__ import annotations

import glob
import subprocess
import sys
import tempfile


def run_quickstart(*args: str) -> str:
    """``kconnect quickstart`` with ``args`` on a free port; its output, once it exited 0."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kconnect.cli",
            "quickstart",
            *args,
            "--exit-when-done",
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_quickstart_copies_the_sample_file_and_cleans_up():
    before = set(glob.glob(f"{tempfile.gettempdir()}/kconnect-quickstart-*"))
    output = run_quickstart("--lines", "2000")
    assert "All 2000 lines arrived" in output
    assert "line 1: hello from kconnect" in output
    assert "REST API: http://127.0.0.1:" in output
    assert "local-file-source: RUNNING (task 0 RUNNING)" in output
    assert "local-file-sink: RUNNING (task 0 RUNNING)" in output
    assert "Cleaned up." in output
    assert set(glob.glob(f"{tempfile.gettempdir()}/kconnect-quickstart-*")) == before


def test_quickstart_avro_goes_through_a_schema_registry_and_cleans_up():
    pattern = f"{tempfile.gettempdir()}/kconnect-registry-*"
    before = set(glob.glob(pattern))
    output = run_quickstart("--avro", "--lines", "300")
    assert "Schema registry is up at http://127.0.0.1:" in output
    # Kafka's Avro sample worker file, with Confluent's converter class names
    assert "connect-avro-standalone.properties" in output
    assert "All 300 lines arrived" in output
    assert "line 1: hello from kconnect" in output
    # the AvroConverter registered the value schema under the topic's subject
    assert "connect-test-value" in output
    assert "Stopping the schema registry" in output and "Cleaned up." in output
    assert set(glob.glob(pattern)) == before
