"""The cost of metrics: file -> Kafka and Kafka -> file through a standalone worker with
metrics off (``metrics.prometheus.enable=false``) and on, in one run, on one broker.

    python benchmarks/metrics.py [--records 500000] [--runs 3]

"On" is the expensive end of normal use: librdkafka statistics every second
(``metrics.statistics.interval.ms=1000``, ten times the default rate) and ``/metrics`` scraped
every second throughout. The task counters themselves are kept either way (a few attribute
updates per batch), so "off" is the worker without the page, statistics and scraping. Runs
alternate off/on so that drift on a shared machine hits both alike. Printed: the best rate of
each (as in file_pipeline.py) and, the steadier figure on a loaded machine, the median CPU
time the worker spent per record. Target: at most 3% slower with metrics on.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))

import psutil  # noqa: E402
from file_pipeline import (  # noqa: E402 - benchmarks/ is not a package
    LINE_BYTES,
    make_input,
    run_worker,
    topic_size,
)
from kconnect.testing import KafkaCluster  # noqa: E402
from kconnect.testing.standalone_worker import free_port  # noqa: E402


def worker_file(workdir: Path, bootstrap: str, port: int, metrics_on: bool, run: str) -> Path:
    worker = workdir / f"worker-{run}.properties"
    lines = [
        f"bootstrap.servers={bootstrap}",
        f"offset.storage.file.filename={workdir}/offsets-{run}",
        "offset.flush.interval.ms=10000",
        f"listeners=http://127.0.0.1:{port}",
        "key.converter=org.apache.kafka.connect.storage.StringConverter",
        "value.converter=org.apache.kafka.connect.storage.StringConverter",
        f"metrics.prometheus.enable={'true' if metrics_on else 'false'}",
        "metrics.statistics.interval.ms=1000",
    ]
    worker.write_text("\n".join(lines) + "\n")
    return worker


class Scraper(threading.Thread):
    """GET /metrics every ``interval_s`` while the pipeline runs; counts the pages it got."""

    def __init__(self, url: str, interval_s: float = 1.0):
        super().__init__(daemon=True)
        self.url = url
        self.interval_s = interval_s
        self.pages = 0
        self.bytes = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                response = requests.get(self.url, timeout=5)
                if response.status_code == 200:
                    self.pages += 1
                    self.bytes = len(response.content)
            except requests.RequestException:
                pass  # the worker is still starting
            time.sleep(self.interval_s)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the worker's process tree (the arbiter and its gunicorn worker)."""
    total = 0.0
    try:
        process = psutil.Process(pid)
        for p in [process, *process.children(recursive=True)]:
            times = p.cpu_times()
            total += times.user + times.system
    except psutil.Error:
        pass
    return total


def measure_until(progress, target: int, process, timeout_s: float) -> tuple[float, float]:
    """(records/s, worker CPU microseconds per record) from the first record seen to
    ``target``. On a machine shared with the broker (and anything else) wall-clock rates
    swing by tens of percent from run to run; the CPU the worker spends per record does not."""
    start = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}")
        count = progress()
        now = time.perf_counter()
        if count > 0 and start is None:
            start, first, cpu_start = now, count, cpu_seconds(process.pid)
        if start is not None and count >= target:
            moved = target - first
            cpu_us = (cpu_seconds(process.pid) - cpu_start) * 1e6 / moved if moved else 0.0
            return (moved / (now - start) if now > start else float("inf")), cpu_us
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout_s}s")


def measure(workdir: Path, worker: Path, props: str, progress, target: int, scrape_url: str | None):
    scraper = Scraper(scrape_url) if scrape_url else None
    if scraper is not None:
        scraper.start()
    try:
        result, _rss = run_worker(
            workdir, worker, props, lambda p, t: measure_until(progress, target, p, t)
        )
    finally:
        if scraper is not None:
            scraper.running = False
    return result, scraper


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=4, help="runs of each, alternating")
    args = parser.parse_args()
    n = args.records
    with tempfile.TemporaryDirectory(prefix="kconnect-bench-") as tmp, KafkaCluster() as cluster:
        workdir = Path(tmp)
        bootstrap = cluster.bootstrap_servers
        input_file = workdir / "input.txt"
        make_input(input_file, n)
        print(
            f"{n:,} records of {LINE_BYTES} bytes, StringConverter, 1 broker, 1 partition, "
            f"{args.runs} alternating runs each; 'on' = statistics every 1 s + /metrics "
            "scraped every 1 s"
        )
        source: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        sink: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        pages = 0
        page_bytes = 0
        for run in range(args.runs):
            for metrics_on in (False, True) if run % 2 == 0 else (True, False):
                label = f"{run}-{'on' if metrics_on else 'off'}"
                port = free_port()
                worker = worker_file(workdir, bootstrap, port, metrics_on, label)
                url = f"http://127.0.0.1:{port}/metrics" if metrics_on else None
                topic = f"metrics-{label}"
                cluster.create_topic(topic, partitions=1)
                props = (
                    f"name=bench-source-{label}\nconnector.class=FileStreamSource\n"
                    f"file={input_file}\ntopic={topic}\nbatch.size=5000\n"
                )
                source_result, scraper = measure(
                    workdir,
                    worker,
                    props,
                    lambda topic=topic: topic_size(bootstrap, topic),
                    n,
                    url,
                )
                source[metrics_on].append(source_result)
                if scraper is not None:
                    pages += scraper.pages
                    page_bytes = max(page_bytes, scraper.bytes)

                output = workdir / f"output-{label}.txt"
                port = free_port()
                worker = worker_file(workdir, bootstrap, port, metrics_on, label + "-sink")
                url = f"http://127.0.0.1:{port}/metrics" if metrics_on else None
                props = (
                    f"name=bench-sink-{label}\nconnector.class=FileStreamSink\n"
                    f"file={output}\ntopics={topic}\n"
                )

                def output_lines(output: Path = output) -> int:
                    try:
                        return os.path.getsize(output) // LINE_BYTES
                    except FileNotFoundError:
                        return 0

                sink_result, scraper = measure(workdir, worker, props, output_lines, n, url)
                sink[metrics_on].append(sink_result)
                if scraper is not None:
                    pages += scraper.pages
                print(
                    f"  run {label:<7} file->Kafka {source_result[0]:>10,.0f} rec/s "
                    f"{source_result[1]:5.2f} us CPU/rec   Kafka->file {sink_result[0]:>10,.0f} "
                    f"rec/s {sink_result[1]:5.2f} us CPU/rec",
                    flush=True,
                )
        for name, results in (("file -> Kafka", source), ("Kafka -> file", sink)):
            off_rate = max(r for r, _ in results[False])
            on_rate = max(r for r, _ in results[True])
            print(
                f"{name}: best rate off {off_rate:>10,.0f} rec/s, on {on_rate:>10,.0f} rec/s "
                f"(on/off {on_rate / off_rate:5.3f})"
            )
            off_cpu = statistics.median(c for _, c in results[False])
            on_cpu = statistics.median(c for _, c in results[True])
            print(
                f"{name}: median worker CPU off {off_cpu:5.2f} us/rec, on {on_cpu:5.2f} us/rec "
                f"({100 * (on_cpu / off_cpu - 1):+.1f}% CPU per record with metrics on)"
            )
        print(f"/metrics pages scraped during 'on' runs: {pages} (largest {page_bytes:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
