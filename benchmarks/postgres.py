"""PostgreSQL -> Kafka and Kafka -> PostgreSQL through the kconnect-postgres connectors in a
standalone worker, next to ``psql``'s ``\\copy … TO/FROM`` of the same rows on the same server,
in one run.

    pip install -e plugins/postgres
    python benchmarks/postgres.py [--rows 1000000] [--converter json|json-schemas]
                                  [--batch-max-rows 10000] [--runs 1] [--compression lz4]
                                  [--sink-workers 2] [--skip-bare]

Prints rows/s of each and the ratio to COPY (targets: source >= 30 % of COPY-out, sink >= 50 %
of COPY-in). The connectors are timed from the first row reaching the topic (or the table) to
the last, so worker start-up is not counted; COPY is timed around the ``psql`` process. The
sink reads the topic the source wrote (JsonConverter with schemas: the JDBC sink needs them).
The table: bigint key, text, numeric(12,2), timestamptz, boolean, integer.

Also, unless ``--skip-bare``: bare confluent-kafka loops over the very records the source wrote
(consume them, then produce their bytes again), the Kafka part alone, which no connector can
beat on the same broker; and with ``--sink-workers N`` the sink again on N distributed workers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from confluent_kafka import Consumer, Producer, TopicPartition
from kconnect.testing import KafkaCluster
from kconnect.testing.distributed_worker import DistributedCluster
from kconnect.testing.postgres import PostgresServer, postgres_bin_dir
from kconnect.testing.standalone_worker import StandaloneWorker

JSON = "org.apache.kafka.connect.json.JsonConverter"
TABLE = """
CREATE TABLE {name} (
    id bigint PRIMARY KEY, label text NOT NULL, amount numeric(12, 2), created timestamptz,
    flag boolean, quantity integer
)
"""


def psql_timed(server: PostgresServer, command: str) -> float:
    """Seconds ``psql -c command`` took."""
    env = {**os.environ, "PGPASSWORD": server.password}
    started = time.perf_counter()
    subprocess.run(
        [
            str(postgres_bin_dir() / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            server.host,
            "-p",
            str(server.port),
            "-U",
            server.user,
            "-d",
            server.database,
            "-c",
            command,
        ],
        env=env,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


class Progress:
    """How far each connector has got, asked every 50 ms through one long-lived Kafka consumer
    and one database connection: a new client per question (a librdkafka consumer, or a
    ``psql`` process) costs CPU the measured worker would otherwise have."""

    def __init__(self, bootstrap: str, server: PostgresServer) -> None:
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-watermarks"})
        self.conn = psycopg.connect(server.dsn, autocommit=True)

    def topic_size(self, topic: str) -> int:
        """Records in every partition of ``topic`` (0 until it exists)."""
        try:
            metadata = self.consumer.list_topics(topic, timeout=10).topics[topic]
            total = 0
            for partition in metadata.partitions:
                low, high = self.consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=10
                )
                total += high - low
            return int(total)
        except Exception:  # noqa: BLE001 - not created yet
            return 0

    def table_rows(self, table: str) -> int:
        """Rows committed to ``table`` so far, cheaply: the sink writes the ids 1..n in order
        (one partition, one task, one transaction per put), so the largest committed id is the
        count, and the primary key answers it without a scan. (The statistics collector's
        ``n_tup_ins`` is no good here: a backend that goes idle flushes its counts only after
        10 s, which showed up as a 10 s tail that halved the measured rate.)"""
        row = self.conn.execute(f"SELECT COALESCE(max(id), 0) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def table_count(self, table: str, target: int, workers: list[Any], timeout_s: float) -> float:
        """Rows/s from the first committed row to ``target`` rows, for tasks writing in no
        particular order: the first row is seen cheaply (EXISTS, every 20 ms); the count, a scan,
        is taken every 0.5 s and, past 90 % of the rows, every 0.1 s (so the end is known to
        0.1 s, and the scans cost the database little)."""
        deadline = time.monotonic() + timeout_s
        start = None
        count = 0
        while time.monotonic() < deadline:
            for worker in workers:
                if worker.returncode is not None:
                    raise RuntimeError("worker exited:\n" + worker.log_text()[-3000:])
            if start is None:
                row = self.conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()
                if row and row[0]:
                    start = time.perf_counter()
                time.sleep(0.02)
                continue
            row = self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            count = int(row[0]) if row else 0
            if count >= target:
                return target / (time.perf_counter() - start)
            time.sleep(0.1 if count >= target * 0.9 else 0.5)
        raise RuntimeError(f"timed out after {timeout_s}s at {count} rows")

    def close(self) -> None:
        self.consumer.close()
        self.conn.close()


def exact_rows(server: PostgresServer, table: str) -> int:
    return int(server.psql(f"SELECT count(*) FROM {table}").strip())


def measure(progress: Any, target: int, worker: StandaloneWorker, timeout_s: float) -> float:
    """Rows/s from the first row seen to ``target``."""
    start = first = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if worker.returncode is not None:
            raise RuntimeError("worker exited:\n" + worker.log_text()[-3000:])
        count = progress()
        now = time.perf_counter()
        if count > 0 and start is None:
            start, first = now, count
        if count >= target:
            assert start is not None and first is not None
            return (target - first) / (now - start) if now > start else float("inf")
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout_s}s:\n" + worker.log_text()[-3000:])


def bare_kafka_loops(bootstrap: str, topic: str, n: int, compression: str) -> tuple[float, float]:
    """The Kafka part alone, in this process: the records the source wrote, read back with a
    bare confluent-kafka consume loop (no conversion), then produced again as they are into a new
    topic with a bare produce loop (no poll of the database, no conversion), each timed, in
    messages/s. What the connectors cannot beat on this broker and machine."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-bare-{time.time_ns()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    values: list[bytes] = []
    try:
        consumer.subscribe([topic])
        started = None
        deadline = time.monotonic() + 300
        while len(values) < n and time.monotonic() < deadline:
            for message in consumer.consume(10_000, 1.0):
                if message.error() is None:
                    if started is None:
                        started = time.perf_counter()
                    values.append(message.value())
        consume_rate = n / (time.perf_counter() - (started or time.perf_counter()))
    finally:
        consumer.close()
    producer = Producer(
        {"bootstrap.servers": bootstrap, "compression.type": compression, "linger.ms": 5}
    )
    target = f"{topic}-bare-{time.time_ns()}"
    produce = producer.produce
    started = time.perf_counter()
    for value in values:
        while True:
            try:
                produce(target, value)
                break
            except BufferError:
                producer.poll(0.005)
    producer.flush(300)
    return consume_rate, len(values) / (time.perf_counter() - started)


def scaled_sink(
    args: argparse.Namespace,
    cluster: KafkaCluster,
    server: PostgresServer,
    progress: Progress,
    workdir: Path,
    sink: dict[str, str],
    run: int,
    n: int,
) -> float:
    """The sink as ``--sink-workers`` distributed workers run it, one task each, each task
    with its own partitions of the topic (rows land in no particular order, so they are
    counted, not read off the largest id)."""
    table = f"bench_scaled_sink_{run}"
    server.psql(TABLE.format(name=table))
    group = f"bench-pg-{run}-{time.time_ns()}"
    workers_dir = workdir / group
    workers_dir.mkdir()
    distributed = DistributedCluster(
        workers_dir,
        cluster.bootstrap_servers,
        group,
        {"value.converter.schemas.enable": "true", "offset.flush.interval.ms": "10000"},
    )
    try:
        workers = distributed.start_workers(args.sink_workers)
        config = {**sink, "tasks.max": str(args.sink_workers), "table.name.format": table}
        config.pop("name")
        response = workers[0].put(f"/connectors/{group}-sink/config", config)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"could not create the sink: {response.status_code} {response.text}")
        rate = progress.table_count(table, n, workers, 900)
    finally:
        distributed.stop_all()
    return rate


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--converter",
        choices=["json-schemas", "json"],
        default="json-schemas",
        help="source's value converter (the sink always reads JSON with schemas)",
    )
    parser.add_argument("--batch-max-rows", type=int, default=10_000)
    parser.add_argument("--sink-batch-size", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1, help="runs of each; the best is kept")
    parser.add_argument(
        "--skip-bare",
        action="store_true",
        help="skip the bare confluent-kafka produce and consume loops over the source's records",
    )
    parser.add_argument(
        "--sink-workers",
        type=int,
        default=1,
        help="also run the sink on a cluster of this many distributed workers (tasks.max and the "
        "topic's partitions the same): one worker process is one core of Python",
    )
    parser.add_argument(
        "--compression",
        default="none",
        help="the source worker's producer.compression.type (none, lz4, zstd, …): JSON with "
        "schemas repeats the schema in every record, and the broker's CPU is shared with the "
        "worker on a small machine",
    )
    args = parser.parse_args()
    n = args.rows
    with (
        tempfile.TemporaryDirectory(prefix="kconnect-bench-pg-") as tmp,
        KafkaCluster() as cluster,
        PostgresServer() as server,
    ):
        workdir = Path(tmp)
        os.chmod(workdir, 0o755)  # psql runs as us; the server never touches this directory
        bootstrap = cluster.bootstrap_servers
        server.psql(TABLE.format(name="bench"))
        server.psql(
            "INSERT INTO bench SELECT g, 'label-' || g, (g % 100000) / 100.0, "
            "timestamptz '2024-01-01' + g * interval '1 second', g % 2 = 0, g % 1000 "
            f"FROM generate_series(1, {n}) g"
        )
        server.psql("VACUUM ANALYZE bench")
        dump = workdir / "bench.copy"
        copy_out = copy_in = 0.0
        for _ in range(args.runs):
            copy_out = max(copy_out, n / psql_timed(server, f"\\copy bench TO '{dump}'"))
            server.psql("DROP TABLE IF EXISTS bench_copy; " + TABLE.format(name="bench_copy"))
            copy_in = max(copy_in, n / psql_timed(server, f"\\copy bench_copy FROM '{dump}'"))
        print(
            f"{n:,} rows (bigint, text, numeric(12,2), timestamptz, boolean, integer), 1 broker, "
            f"{args.sink_workers} partition(s), 1 task each, source converter {args.converter}, "
            f"compression {args.compression}, best of {args.runs}"
        )
        print(f"  psql \\copy TO (COPY-out)     {copy_out:>12,.0f} rows/s")
        print(f"  psql \\copy FROM (COPY-in)    {copy_in:>12,.0f} rows/s")

        source_rate = sink_rate = scaled_sink_rate = bare_consume = bare_produce = 0.0
        progress = Progress(bootstrap, server)
        for run in range(args.runs):
            topic_prefix = f"bench-{run}-{time.time_ns()}-"
            topic = topic_prefix + "bench"
            credentials = {
                "connection.url": server.jdbc_url(),
                "connection.user": server.user,
                "connection.password": server.password,
            }
            schemas = "true" if args.converter == "json-schemas" else "false"
            props = {
                "bootstrap.servers": bootstrap,
                "key.converter": JSON,
                "value.converter": JSON,
                "key.converter.schemas.enable": "true",
                "value.converter.schemas.enable": schemas,
                "offset.storage.file.filename": str(workdir / f"offsets-{run}"),
                "offset.flush.interval.ms": "10000",
                "producer.compression.type": args.compression,
            }
            source = {
                "name": "bench-source",
                "connector.class": "PostgresSource",
                "tasks.max": "1",
                **credentials,
                "mode": "incrementing",
                "incrementing.column.name": "id",
                "table.whitelist": "bench",
                "topic.prefix": topic_prefix,
                "batch.max.rows": str(args.batch_max_rows),
            }
            cluster.create_topic(topic, partitions=args.sink_workers)
            with StandaloneWorker(workdir, props, [source], name=f"source-{run}") as worker:
                rate = measure(lambda t=topic: progress.topic_size(t), n, worker, 900)
            source_rate = max(source_rate, rate)
            if not args.skip_bare:
                consume_rate, produce_rate = bare_kafka_loops(bootstrap, topic, n, args.compression)
                bare_consume, bare_produce = (
                    max(bare_consume, consume_rate),
                    max(bare_produce, produce_rate),
                )
            if args.converter != "json-schemas":
                continue
            table = f"bench_sink_{run}"
            server.psql(TABLE.format(name=table))
            sink = {
                "name": "bench-sink",
                "connector.class": "PostgresSink",
                "tasks.max": "1",
                **credentials,
                "topics": topic,
                "table.name.format": table,
                "insert.mode": "insert",
                "batch.size": str(args.sink_batch_size),
                "consumer.override.max.poll.records": "10000",
            }
            sink_props = {**props, "value.converter.schemas.enable": "true"}
            with StandaloneWorker(workdir, sink_props, [sink], name=f"sink-{run}") as worker:
                if args.sink_workers > 1:  # rows of several partitions: counted
                    rate = progress.table_count(table, n, [worker], 900)
                else:
                    rate = measure(lambda t=table: progress.table_rows(t), n, worker, 900)
                worker.wait_for(lambda t=table: exact_rows(server, t) == n, 120, "every row")
            sink_rate = max(sink_rate, rate)
            if args.sink_workers > 1:
                rate = scaled_sink(args, cluster, server, progress, workdir, sink, run, n)
                scaled_sink_rate = max(scaled_sink_rate, rate)
        progress.close()
        print(
            f"  PostgresSource -> Kafka      {source_rate:>12,.0f} rows/s"
            f"  {source_rate / copy_out:6.0%} of COPY-out (target 30%)"
        )
        if sink_rate:
            print(
                f"  Kafka -> PostgresSink        {sink_rate:>12,.0f} rows/s"
                f"  {sink_rate / copy_in:6.0%} of COPY-in (target 50%)"
            )
        if scaled_sink_rate:
            print(
                f"  Kafka -> PostgresSink, {args.sink_workers} workers "
                f"{scaled_sink_rate:>9,.0f} rows/s  {scaled_sink_rate / copy_in:6.0%} of COPY-in"
            )
        if bare_produce:
            print(
                f"  bare confluent-kafka produce {bare_produce:>12,.0f} msgs/s"
                f"  {bare_produce / copy_out:6.0%} of COPY-out (the same records' bytes)"
            )
            print(
                f"  bare confluent-kafka consume {bare_consume:>12,.0f} msgs/s"
                f"  {bare_consume / copy_in:6.0%} of COPY-in"
            )
        figures = {"copy_out": copy_out, "copy_in": copy_in, "source": source_rate}
        figures.update(bare_produce=bare_produce, bare_consume=bare_consume)
        print(json.dumps({**figures, "sink": sink_rate, "scaled_sink": scaled_sink_rate}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
