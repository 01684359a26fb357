"""``kconnect quickstart``: a throwaway local Kafka, a standalone worker with a file source and a
file sink, and a sample file copied through a topic while you watch. With ``--avro`` a
throwaway schema registry too, and the worker file of Kafka's
``connect-avro-standalone.properties`` (AvroConverter for keys and values).

Everything lives in a temporary directory that is removed on exit (Ctrl-C included).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TOPIC = "connect-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def write_quickstart_files(
    workdir: Path, bootstrap: str, input_file: Path, port: int, registry_url: str | None = None
) -> tuple[Path, Path, Path, Path]:
    """Worker and connector files in the same shape as Apache Kafka's config/ samples (with
    ``registry_url``, Confluent's connect-avro-standalone.properties)."""
    output = workdir / "test.sink.txt"
    if registry_url is None:
        worker = workdir / "connect-standalone.properties"
        converters = (
            "key.converter=org.apache.kafka.connect.json.JsonConverter\n"
            "value.converter=org.apache.kafka.connect.json.JsonConverter\n"
            "key.converter.schemas.enable=true\n"
            "value.converter.schemas.enable=true\n"
        )
    else:
        worker = workdir / "connect-avro-standalone.properties"
        converters = (
            "key.converter=io.confluent.connect.avro.AvroConverter\n"
            f"key.converter.schema.registry.url={registry_url}\n"
            "value.converter=io.confluent.connect.avro.AvroConverter\n"
            f"value.converter.schema.registry.url={registry_url}\n"
        )
    worker.write_text(
        f"bootstrap.servers={bootstrap}\n"
        + converters
        + f"offset.storage.file.filename={workdir / 'connect.offsets'}\n"
        "offset.flush.interval.ms=10000\n"
        f"listeners=http://127.0.0.1:{port}\n"
    )
    source = workdir / "connect-file-source.properties"
    source.write_text(
        "name=local-file-source\n"
        "connector.class=FileStreamSource\n"
        "tasks.max=1\n"
        f"file={input_file}\n"
        f"topic={TOPIC}\n"
    )
    sink = workdir / "connect-file-sink.properties"
    sink.write_text(
        "name=local-file-sink\n"
        "connector.class=FileStreamSink\n"
        "tasks.max=1\n"
        f"file={output}\n"
        f"topics={TOPIC}\n"
    )
    return worker, source, sink, output


def _count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def run_quickstart(
    lines: int = 1000,
    input_file: str | None = None,
    exit_when_done: bool = False,
    port: int = 8083,
    avro: bool = False,
) -> int:
    from kconnect.testing import KafkaCluster, KafkaSetupError
    from kconnect.testing.schema_registry import SchemaRegistry, registry_is_built

    workdir = Path(tempfile.mkdtemp(prefix="kconnect-quickstart-"))
    worker_process: subprocess.Popen[bytes] | None = None
    interrupted = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if input_file:
            source_file = Path(input_file).resolve()
        else:
            source_file = workdir / "test.txt"
            with open(source_file, "w") as f:
                for i in range(1, lines + 1):
                    f.write(f"line {i}: hello from kconnect\n")
        expected = _count_lines(source_file)
        print(f"Starting a throwaway Apache Kafka (KRaft) in {workdir} ...", flush=True)
        try:
            cluster = KafkaCluster(brokers=1)
            cluster.start()
        except KafkaSetupError as error:
            print(f"Could not start Kafka: {error}", file=sys.stderr)
            return 1
        registry: SchemaRegistry | None = None
        try:
            if avro:
                first = "" if registry_is_built() else " (built with Maven on first use, ~2 min)"
                print(f"Starting a throwaway schema registry{first} ...", flush=True)
                try:
                    registry = SchemaRegistry().start()
                except KafkaSetupError as error:
                    print(f"Could not start the schema registry: {error}", file=sys.stderr)
                    return 1
                print(f"Schema registry is up at {registry.url}")
            if port and not _port_free(port):
                print(f"Port {port} is taken; using a free one.")
                port = 0
            rest_port = port or _free_port()
            worker, source, sink, output = write_quickstart_files(
                workdir,
                cluster.bootstrap_servers,
                source_file,
                rest_port,
                registry.url if registry is not None else None,
            )
            print(f"Kafka is up at {cluster.bootstrap_servers}")
            print("Starting: connect-standalone", worker.name, source.name, sink.name)
            log_path = workdir / "connect.log"
            with open(log_path, "wb") as log_file:
                worker_process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "kconnect.cli",
                        "standalone",
                        str(worker),
                        str(source),
                        str(sink),
                    ],
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            print(
                f"REST API: http://127.0.0.1:{rest_port}/connectors  (try: curl "
                f"http://127.0.0.1:{rest_port}/connectors?expand=status)"
            )
            print(f"Copying {expected} lines: {source_file} -> topic {TOPIC} -> {output}")
            print("Press Ctrl-C to stop and clean up.\n", flush=True)
            shown = 0
            done_reported = False
            while not interrupted:
                if worker_process.poll() is not None:
                    print(
                        f"The worker exited with code {worker_process.returncode}; its log:",
                        file=sys.stderr,
                    )
                    print(log_path.read_text()[-4000:], file=sys.stderr)
                    return 1
                shown = _show_new_lines(output, shown)
                failure = _failed_task(rest_port)
                if failure:
                    print(f"A task failed; stopping. Its trace:\n{failure}", file=sys.stderr)
                    return 1
                if shown >= expected and not done_reported:
                    print(f"\nAll {expected} lines arrived in {output}.", flush=True)
                    _show_status(rest_port)
                    if registry is not None:
                        _show_subjects(registry.url)
                    done_reported = True
                    if exit_when_done:
                        break
                    print(
                        "The worker keeps running: append lines to the input file to see them "
                        "copied, or press Ctrl-C to stop.",
                        flush=True,
                    )
                    expected = 10**18
                time.sleep(0.5)
            return 0
        finally:
            if worker_process is not None and worker_process.poll() is None:
                print("Stopping the worker ...", flush=True)
                os.killpg(worker_process.pid, signal.SIGTERM)
                try:
                    worker_process.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(worker_process.pid, signal.SIGKILL)
                    worker_process.wait(10)
            if registry is not None:
                print("Stopping the schema registry ...", flush=True)
                registry.stop()
            print("Stopping Kafka ...", flush=True)
            cluster.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        print("Cleaned up.", flush=True)


def _connector_statuses(port: int) -> dict:
    url = f"http://127.0.0.1:{port}/connectors?expand=status"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _failed_task(port: int) -> str | None:
    """The trace of a failed connector or task, if any (None also while REST is starting)."""
    try:
        connectors = _connector_statuses(port)
    except (OSError, ValueError):
        return None
    for entry in connectors.values():
        status = entry["status"]
        for part in [status["connector"], *status["tasks"]]:
            if part["state"] == "FAILED":
                return part.get("trace", "(no trace)")
    return None


def _show_status(port: int) -> None:
    """Ask the worker's REST API what runs, as a user would with curl."""
    url = f"http://127.0.0.1:{port}/connectors?expand=status"
    try:
        connectors = _connector_statuses(port)
    except (OSError, ValueError) as error:
        print(f"REST API at {url} did not answer: {error}")
        return
    print(f"GET {url}")
    for name, entry in sorted(connectors.items()):
        status = entry["status"]
        tasks = ", ".join(f"task {t['id']} {t['state']}" for t in status["tasks"])
        print(f"   {name}: {status['connector']['state']} ({tasks})")


def _show_subjects(url: str) -> None:
    """The subjects the converters registered, as ``curl <registry>/subjects`` shows them."""
    try:
        with urllib.request.urlopen(f"{url}/subjects", timeout=10) as response:
            subjects = json.loads(response.read())
    except (OSError, ValueError) as error:
        print(f"The schema registry at {url} did not answer: {error}")
        return
    print(f"GET {url}/subjects")
    print(f"   {', '.join(sorted(subjects)) or '(none)'}")


def _show_new_lines(output: Path, shown: int, limit: int = 5) -> int:
    """Print a few of the newly arrived lines and a running count; returns the new total."""
    total = _count_lines(output)
    if total > shown:
        with open(output, "rb") as f:
            new = f.read().splitlines()[shown:total]
        for line in new[:limit]:
            print("  ", line.decode("utf-8", "replace"))
        if len(new) > limit:
            print(f"   ... {len(new) - limit} more")
        print(f"   ({total} lines so far)", flush=True)
    return total
