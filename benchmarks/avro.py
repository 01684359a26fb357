"""AvroConverter and ProtobufConverter next to JsonConverter (schemas on): file -> Kafka and
Kafka -> file through a standalone worker, in one run, on one broker and one schema registry.

    python benchmarks/avro.py [--records 300000] [--runs 2]

The file source's lines become structs with HoistField (``{line: string}``), so both
converters write a schema'd struct per record: JsonConverter in its envelope, AvroConverter and
ProtobufConverter in Confluent's wire format after registering the schema once. Prints
records/s for each and the ratio to JSON (target for Avro: at least 0.8 in both directions). Timing as in file_pipeline.py:
from the first record reaching the topic (or the output file) to the last.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from file_pipeline import (  # noqa: E402 - benchmarks/ is not a package
    make_input,
    measure_until,
    run_worker,
    topic_size,
)
from kconnect.testing import KafkaCluster  # noqa: E402
from kconnect.testing.schema_registry import SchemaRegistry  # noqa: E402

HOIST = (
    "transforms=hoist\n"
    "transforms.hoist.type=org.apache.kafka.connect.transforms.HoistField$Value\n"
    "transforms.hoist.field=line\n"
)


def worker_file(workdir: Path, bootstrap: str, name: str, converter_lines: str) -> Path:
    worker = workdir / f"worker-{name}.properties"
    worker.write_text(
        f"bootstrap.servers={bootstrap}\n"
        f"offset.storage.file.filename={workdir}/offsets-{name}\n"
        "offset.flush.interval.ms=10000\n"
        "listeners=http://127.0.0.1:0\n"
        "key.converter=org.apache.kafka.connect.storage.StringConverter\n" + converter_lines
    )
    return worker


def output_lines(path: Path) -> int:
    """Lines written so far; every line has the length of the first (fixed-width input)."""
    try:
        size = os.path.getsize(path)
        if size == 0:
            return 0
        with open(path, "rb") as f:
            first = f.readline()
        return size // len(first) if first.endswith(b"\n") else 0
    except FileNotFoundError:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=2, help="runs of each; the best is kept")
    args = parser.parse_args()
    n = args.records
    with (
        tempfile.TemporaryDirectory(prefix="kconnect-bench-avro-") as tmp,
        KafkaCluster() as cluster,
        SchemaRegistry() as registry,
    ):
        workdir = Path(tmp)
        input_file = workdir / "input.txt"
        make_input(input_file, n)
        bootstrap = cluster.bootstrap_servers
        converters = {
            "json": "value.converter=org.apache.kafka.connect.json.JsonConverter\n",
            "avro": "value.converter=io.confluent.connect.avro.AvroConverter\n"
            f"value.converter.schema.registry.url={registry.url}\n",
            "protobuf": "value.converter=io.confluent.connect.protobuf.ProtobufConverter\n"
            f"value.converter.schema.registry.url={registry.url}\n",
        }
        print(
            f"{n:,} records (100-byte lines hoisted into a struct), 1 broker, 1 partition, "
            f"best of {args.runs} runs"
        )
        source: dict[str, float] = {}
        sink: dict[str, float] = {}
        for run in range(args.runs):
            for name, lines in converters.items():
                worker = worker_file(workdir, bootstrap, f"{name}-{run}", lines)
                topic = f"bench-{name}-{run}"
                cluster.create_topic(topic, partitions=1)
                props = (
                    f"name=src-{name}-{run}\nconnector.class=FileStreamSource\n"
                    f"file={input_file}\ntopic={topic}\nbatch.size=5000\n" + HOIST
                )
                rate, _ = run_worker(
                    workdir,
                    worker,
                    props,
                    lambda p, t, topic=topic: measure_until(
                        lambda: topic_size(bootstrap, topic), n, p, t
                    ),
                )
                source[name] = max(source.get(name, 0.0), rate)
                output = workdir / f"out-{name}-{run}.txt"
                props = (
                    f"name=sink-{name}-{run}\nconnector.class=FileStreamSink\n"
                    f"file={output}\ntopics={topic}\n"
                )
                rate, _ = run_worker(
                    workdir,
                    worker,
                    props,
                    lambda p, t, output=output: measure_until(
                        lambda: output_lines(output), n, p, t
                    ),
                )
                sink[name] = max(sink.get(name, 0.0), rate)
        for direction, rates in (("file -> Kafka", source), ("Kafka -> file", sink)):
            print(
                f"{direction}: JsonConverter {rates['json']:>10,.0f} rec/s   "
                f"AvroConverter {rates['avro']:>10,.0f} rec/s "
                f"({rates['avro'] / rates['json']:4.2f}x)   "
                f"ProtobufConverter {rates['protobuf']:>10,.0f} rec/s "
                f"({rates['protobuf'] / rates['json']:4.2f}x)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
