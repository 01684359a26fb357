"""REST API latency under a fixed request rate: a standalone worker with 10 file source
connectors, loaded from a second process on loopback.

    python benchmarks/rest_status_load.py [--rate 500] [--duration 20] [--connectors 10]
                                          [--bootstrap host:port]

The load process sends ``GET /connectors?expand=status`` and ``GET /connectors/{c}/status``
alternately on an open-loop schedule (request i is due at start + i/rate, whatever happened to
the ones before), over keep-alive connections from a few threads. Latency is measured from the
moment a request was due, so a slow server cannot hide its queueing (no coordinated omission).
Prints achieved requests/s and p50/p99/max per endpoint. Target: p99 under 20 ms at 500 req/s.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

LOAD_THREADS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def load(
    port: int,
    paths: list[str],
    rate: float,
    duration: float,
    warmup: float,
    out: multiprocessing.Queue,
) -> None:
    """Runs in its own process: the open-loop client. The first ``warmup`` seconds are sent
    but not counted (connections opening, a fresh broker's first topic metadata)."""
    total = int(rate * (duration + warmup))
    skip = int(rate * warmup)
    counter = itertools.count()
    start = time.perf_counter() + 0.5
    samples: list[tuple[str, float, int]] = []
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        local = []
        while True:
            i = next(counter)
            if i >= total:
                break
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            path = paths[i % len(paths)]
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                status = 0
            if i >= skip:
                local.append((path, (time.perf_counter() - due) * 1000, status))
        with lock:
            samples.extend(local)

    threads = [threading.Thread(target=client) for _ in range(LOAD_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start - warmup
    out.put((samples, elapsed))


def request_json(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, (json.loads(data) if data else None)


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"worker exited with {process.returncode}")
        try:
            if request_json(port, "GET", "/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("worker did not become healthy")


def run(bootstrap: str, rate: float, duration: float, connectors: int, warmup: float = 3.0) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="kconnect-rest-bench-"))
    port = free_port()
    (workdir / "worker.properties").write_text(
        f"bootstrap.servers={bootstrap}\n"
        "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
        "value.converter=org.apache.kafka.connect.storage.StringConverter\n"
        f"offset.storage.file.filename={workdir / 'connect.offsets'}\n"
        f"listeners=http://127.0.0.1:{port}\n"
    )
    log = open(workdir / "worker.log", "wb")  # noqa: SIM115 - closed once the worker is stopped
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kconnect.cli",
            "standalone",
            str(workdir / "worker.properties"),
            "--log-level",
            "WARNING",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(port, worker)
        names = [f"bench-source-{n}" for n in range(connectors)]
        for name in names:
            source = workdir / f"{name}.txt"
            source.write_text("".join(f"{name} line {i}\n" for i in range(100)))
            status, body = request_json(
                port,
                "POST",
                "/connectors",
                {
                    "name": name,
                    "config": {
                        "connector.class": "FileStreamSource",
                        "tasks.max": "1",
                        "file": str(source),
                        "topic": f"rest-bench-{name}",
                    },
                },
            )
            assert status == 201, body
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = request_json(port, "GET", "/connectors?expand=status")[1]
            if all(
                s["status"]["connector"]["state"] == "RUNNING"
                and [t["state"] for t in s["status"]["tasks"]] == ["RUNNING"]
                for s in states.values()
            ):
                break
            time.sleep(0.3)
        paths = []
        for name in names:
            paths += ["/connectors?expand=status", f"/connectors/{name}/status"]
        queue: multiprocessing.Queue = multiprocessing.Queue()
        loader = multiprocessing.Process(
            target=load, args=(port, paths, rate, duration, warmup, queue)
        )
        loader.start()
        samples, elapsed = queue.get(timeout=duration + warmup + 120)
        loader.join()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
    errors = sum(1 for _, _, status in samples if status != 200)
    print(
        f"REST load: {connectors} connectors, target {rate:.0f} req/s for {duration:.0f} s "
        f"(after {warmup:.0f} s warm-up), "
        f"{LOAD_THREADS} client threads in a second process, loopback"
    )
    print(
        f"  achieved: {len(samples) / elapsed:.0f} req/s ({len(samples)} requests, {errors} non-200)"
    )
    groups = {
        "GET /connectors?expand=status": [l for p, l, _ in samples if p.startswith("/connectors?")],
        "GET /connectors/{c}/status": [l for p, l, _ in samples if p.endswith("/status")],
        "all": [l for _, l, _ in samples],
    }
    for label, latencies in groups.items():
        print(
            f"  {label:<32} p50 {percentile(latencies, 50):6.2f} ms   p99 {percentile(latencies, 99):6.2f} ms"
            f"   max {max(latencies):7.2f} ms"
        )
    p99 = percentile(groups["all"], 99)
    print(
        f"  target p99 < 20 ms at {rate:.0f} req/s: {'met' if p99 < 20 else 'NOT met'} (p99 {p99:.2f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--connectors", type=int, default=10)
    parser.add_argument(
        "--warmup", type=float, default=3, help="seconds of load sent first and not counted"
    )
    parser.add_argument(
        "--bootstrap",
        default=os.environ.get("KCONNECT_BENCH_BOOTSTRAP"),
        help="use this Kafka instead of starting a throwaway one",
    )
    args = parser.parse_args()
    if args.bootstrap:
        run(args.bootstrap, args.rate, args.duration, args.connectors, args.warmup)
        return
    from kconnect.testing import KafkaCluster

    with KafkaCluster(brokers=1) as cluster:
        run(cluster.bootstrap_servers, args.rate, args.duration, args.connectors, args.warmup)


if __name__ == "__main__":
    main()
