"""File -> Kafka and Kafka -> file throughput of a standalone worker, next to bare
confluent-kafka produce and consume loops on the same broker, in one run.

    python benchmarks/file_pipeline.py [--records 1000000] [--converter string|json]
                                       [--transforms]

Prints records/s, MB/s, the worker's peak RSS and the ratio to the bare loops. The pipelines
are timed from the first record reaching the topic (or the output file) to the last, so
interpreter start-up and plugin loading are not counted; the bare loops are timed from the
first produce/consume call to the last acknowledgement.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from confluent_kafka import Consumer, Producer, TopicPartition
from kconnect.testing import KafkaCluster

LINE_BYTES = 100


def make_input(path: Path, records: int) -> None:
    body = "x" * (LINE_BYTES - 1 - 9)
    with open(path, "w") as f:
        for i in range(records):
            f.write(f"{i:09d}{body}\n")


def bare_produce(bootstrap: str, topic: str, records: int) -> float:
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "delivery.report.only.error": True,
        }
    )
    value = b"x" * (LINE_BYTES - 1)
    # Acquire the idempotent producer id before timing, as the pipeline is timed from its
    # first record on.
    producer.produce(topic, value)
    producer.flush(30)
    start = time.perf_counter()
    for _ in range(records - 1):
        while True:
            try:
                producer.produce(topic, value)
                break
            except BufferError:
                producer.poll(0.005)
    producer.flush(120)
    return (records - 1) / (time.perf_counter() - start)


def bare_consume(bootstrap: str, topic: str, records: int) -> float:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bare-{time.time()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            # As the worker's consumers: without it librdkafka pauses fetching for 1 s whenever
            # its prefetch queue was full, and a fast loop spends most of its time waiting.
            "fetch.queue.backoff.ms": 10,
        }
    )
    consumer.subscribe([topic])
    seen = 0
    start = None
    deadline = time.monotonic() + 300
    while seen < records and time.monotonic() < deadline:
        batch = consumer.consume(500, 1.0)
        if batch and start is None:
            start = time.perf_counter()
        seen += sum(1 for m in batch if m.error() is None)
    elapsed = time.perf_counter() - (start or time.perf_counter())
    consumer.close()
    return seen / elapsed if elapsed else 0.0


class RssSampler(threading.Thread):
    """Samples the peak resident set size of a process and its children."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                rss = self.process.memory_info().rss + sum(
                    c.memory_info().rss for c in self.process.children(recursive=True)
                )
                self.peak = max(self.peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.1)


def topic_size(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks"})
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        if topic not in metadata.topics or metadata.topics[topic].error is not None:
            return 0
        total = 0
        for partition in metadata.topics[topic].partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            total += high - low
        return total
    finally:
        consumer.close()


def worker_files(workdir: Path, bootstrap: str, converter: str) -> Path:
    worker = workdir / "worker.properties"
    lines = [
        f"bootstrap.servers={bootstrap}",
        f"offset.storage.file.filename={workdir}/offsets",
        "offset.flush.interval.ms=10000",
        "listeners=http://127.0.0.1:0",
    ]
    if converter == "json":
        lines += [
            "key.converter=org.apache.kafka.connect.json.JsonConverter",
            "value.converter=org.apache.kafka.connect.json.JsonConverter",
        ]
    else:
        lines += [
            "key.converter=org.apache.kafka.connect.storage.StringConverter",
            "value.converter=org.apache.kafka.connect.storage.StringConverter",
        ]
    worker.write_text("\n".join(lines) + "\n")
    return worker


def run_worker(workdir: Path, worker: Path, connector_props: str, done, timeout_s: float = 600):
    """Start connect-standalone with one connector; returns (records/s measure fn result, peak RSS)."""
    connector = workdir / f"connector-{time.time_ns()}.properties"
    connector.write_text(connector_props)
    log = open(workdir / "worker.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "kconnect.cli", "standalone", str(worker), str(connector)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    sampler = RssSampler(process.pid)
    sampler.start()
    try:
        return done(process, timeout_s), sampler.peak
    finally:
        sampler.running = False
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def measure_until(progress, target: int, process, timeout_s: float) -> float:
    """Records/s from the first record seen to ``target``."""
    start = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}")
        count = progress()
        now = time.perf_counter()
        if count > 0 and start is None:
            start, first = now, count
        if count >= target:
            return (target - first) / (now - start) if now > start else float("inf")
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout_s}s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--converter", choices=["string", "json"], default="string")
    parser.add_argument(
        "--runs", type=int, default=2, help="runs of each measurement; the best is kept"
    )
    parser.add_argument(
        "--transforms",
        action="store_true",
        help="also compare file -> Kafka with and without InsertField, ReplaceField, TimestampRouter",
    )
    parser.add_argument(
        "--skip-plain", action="store_true", help="with --transforms: only that comparison"
    )
    args = parser.parse_args()
    n = args.records
    with tempfile.TemporaryDirectory(prefix="kconnect-bench-") as tmp, KafkaCluster() as cluster:
        workdir = Path(tmp)
        input_file = workdir / "input.txt"
        make_input(input_file, n)
        print(
            f"{n:,} records of {LINE_BYTES} bytes ({n * LINE_BYTES / 1e6:.0f} MB), "
            f"converter={args.converter}, 1 broker, 1 partition, best of {args.runs} runs"
        )
        worker = worker_files(workdir, cluster.bootstrap_servers, args.converter)
        if not args.skip_plain:
            run_plain_pipelines(args, cluster, workdir, worker, input_file)
        if args.transforms:
            run_transform_comparison(args, cluster, workdir, worker, input_file)
    return 0


def run_plain_pipelines(args, cluster, workdir: Path, worker: Path, input_file: Path) -> None:
    """Bare loops, then file -> Kafka and Kafka -> file through the worker."""
    n, runs, bootstrap = args.records, args.runs, cluster.bootstrap_servers
    cluster.create_topic("bare", partitions=1)
    # Every figure is the best of a few runs: the machine is shared with the broker, and the
    # best run is the one least disturbed. Taking the best bare run keeps the ratios honest.
    bare_p = max(bare_produce(bootstrap, "bare", n) for _ in range(runs))
    print(f"bare produce loop      {bare_p:>12,.0f} rec/s {bare_p * LINE_BYTES / 1e6:8.1f} MB/s")
    bare_c = max(bare_consume(bootstrap, "bare", n) for _ in range(runs))
    print(f"bare consume loop      {bare_c:>12,.0f} rec/s {bare_c * LINE_BYTES / 1e6:8.1f} MB/s")

    source_results = []
    for run in range(runs):
        topic = f"pipeline-{run}"
        cluster.create_topic(topic, partitions=1)
        props = (
            f"name=bench-source-{run}\nconnector.class=FileStreamSource\nfile={input_file}\n"
            f"topic={topic}\nbatch.size=5000\n"
        )
        source_results.append(
            run_worker(
                workdir,
                worker,
                props,
                lambda p, t, topic=topic: measure_until(
                    lambda: topic_size(bootstrap, topic), n, p, t
                ),
            )
        )
    rate, rss = max(source_results)
    print(
        f"file -> Kafka pipeline {rate:>12,.0f} rec/s {rate * LINE_BYTES / 1e6:8.1f} MB/s  "
        f"peak RSS {rss / 2**20:6.0f} MiB  ratio to bare produce {rate / bare_p:5.2f}"
    )

    sink_results = []
    for run in range(runs):
        output = workdir / f"output-{run}.txt"
        props = f"name=bench-sink-{run}\nconnector.class=FileStreamSink\nfile={output}\ntopics=pipeline-0\n"

        def output_lines(output: Path = output) -> int:
            try:
                return os.path.getsize(output) // LINE_BYTES
            except FileNotFoundError:
                return 0

        sink_results.append(
            run_worker(workdir, worker, props, lambda p, t: measure_until(output_lines, n, p, t))
        )
    rate_c, rss_c = max(sink_results)
    print(
        f"Kafka -> file pipeline {rate_c:>12,.0f} rec/s {rate_c * LINE_BYTES / 1e6:8.1f} MB/s  "
        f"peak RSS {rss_c / 2**20:6.0f} MiB  ratio to bare consume {rate_c / bare_c:5.2f}"
    )


def run_transform_comparison(args, cluster, workdir: Path, worker: Path, input_file: Path) -> None:
    """File -> Kafka with HoistField alone and with HoistField + the three transforms. The file
    source emits strings; HoistField makes them structs in both runs, so the ratio isolates the
    cost of InsertField + ReplaceField + TimestampRouter."""
    n, bootstrap = args.records, cluster.bootstrap_servers
    hoist = (
        "transforms.hoist.type=org.apache.kafka.connect.transforms.HoistField$Value\n"
        "transforms.hoist.field=line\n"
    )
    chain = (
        "transforms.insert.type=org.apache.kafka.connect.transforms.InsertField$Value\n"
        "transforms.insert.static.field=source\ntransforms.insert.static.value=bench\n"
        "transforms.replace.type=org.apache.kafka.connect.transforms.ReplaceField$Value\n"
        "transforms.replace.renames=line:text\n"
        "transforms.route.type=org.apache.kafka.connect.transforms.TimestampRouter\n"
        "transforms.route.topic.format=${topic}-routed\n"
    )
    variants = (
        ("HoistField only", "hoist", hoist, "hoisted"),
        ("HoistField + 3 transforms", "hoist,insert,replace,route", hoist + chain, "chained"),
    )
    rates: dict[str, float] = {}
    for run in range(args.runs):
        for label, aliases, extra, topic in variants:
            written = f"{topic}-{run}-routed" if "route" in aliases else f"{topic}-{run}"
            cluster.create_topic(written, partitions=1)
            props = (
                f"name=bench-{topic}-{run}\nconnector.class=FileStreamSource\nfile={input_file}\n"
                f"topic={topic}-{run}\nbatch.size=5000\ntransforms={aliases}\n" + extra
            )
            rate, _ = run_worker(
                workdir,
                worker,
                props,
                lambda p, t, written=written: measure_until(
                    lambda: topic_size(bootstrap, written), n, p, t
                ),
            )
            rates[label] = max(rates.get(label, 0.0), rate)
    for label, _, _, _ in variants:
        print(f"file -> Kafka, {label:<26} {rates[label]:>10,.0f} rec/s")
    base, chained = rates["HoistField only"], rates["HoistField + 3 transforms"]
    print(
        f"transform chain ratio {chained / base:5.2f} (cost {100 * (1 - chained / base):.0f}% of throughput)"
    )


if __name__ == "__main__":
    sys.exit(main())
