"""Memory of a standalone worker while clients post very large bodies to ``/validate``.

    python benchmarks/rest_large_bodies.py [--clients 8] [--body-mb 100] [--bootstrap HOST:PORT]

Starts a broker (unless ``--bootstrap``) and a standalone worker with default settings, then,
twice (bodies with Content-Length, then chunked bodies), has ``--clients`` threads each PUT a
``--body-mb`` MB connector config to ``/connector-plugins/FileStreamSource/config/validate``
at the same time. Prints the worker's RSS (its process tree) before, the peak during (sampled
every 20 ms) and after each round, the answers' status codes, and how long ``GET /connectors``
took right after. With ``rest.request.max.bytes`` (4 MiB by default) the bodies are answered
413 before they are held in memory.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psutil
import requests
from kconnect.testing import KafkaCluster
from kconnect.testing.standalone_worker import StandaloneWorker

PATH = "/connector-plugins/FileStreamSource/config/validate"


def tree_rss_mb(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
        return sum(p.memory_info().rss for p in processes) / 2**20
    except psutil.NoSuchProcess:
        return 0.0


def large_body(size_mb: int) -> bytes:
    head = b'{"connector.class": "FileStreamSource", "topic": "t", "file": "/dev/null", "x": "'
    return head + b"a" * (size_mb * 2**20 - len(head) - 2) + b'"}'


def chunks(body: bytes, size: int = 1 << 20) -> Iterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


def round_of_posts(url: str, pid: int, body: bytes, clients: int, chunked: bool) -> None:
    results: list[str] = []
    lock = threading.Lock()
    peak = [tree_rss_mb(pid)]
    before = peak[0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_mb(pid))
            time.sleep(0.02)

    def post() -> None:
        data = chunks(body) if chunked else body
        try:
            answer = requests.put(
                url + PATH, data=data, headers={"Content-Type": "application/json"}, timeout=300
            )
            outcome = str(answer.status_code)
        except requests.RequestException as error:
            outcome = type(error).__name__
        with lock:
            results.append(outcome)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began = time.monotonic()
    posters = [threading.Thread(target=post) for _ in range(clients)]
    for thread in posters:
        thread.start()
    for thread in posters:
        thread.join()
    elapsed = time.monotonic() - began
    done.set()
    sampler.join()
    time.sleep(1.0)
    after = tree_rss_mb(pid)
    probe_began = time.monotonic()
    probe = requests.get(url + "/connectors", timeout=60).status_code
    probe_ms = (time.monotonic() - probe_began) * 1000
    kind = "chunked" if chunked else "Content-Length"
    print(
        f"{clients} x {len(body) / 2**20:.0f} MB ({kind}) in {elapsed:.1f} s: answers "
        f"{dict(Counter(results))}; RSS before {before:.0f} MB, peak {peak[0]:.0f} MB, "
        f"after {after:.0f} MB; GET /connectors then {probe} in {probe_ms:.0f} ms"
    )


def run(bootstrap: str, clients: int, body_mb: int) -> None:
    with tempfile.TemporaryDirectory(prefix="kconnect-large-bodies-") as workdir:
        props = {
            "bootstrap.servers": bootstrap,
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            "offset.storage.file.filename": str(Path(workdir) / "offsets"),
        }
        with StandaloneWorker(Path(workdir), props) as worker:

            def healthy() -> bool:
                try:
                    return requests.get(worker.rest_url + "/connectors", timeout=2).ok
                except requests.RequestException:
                    return False

            worker.wait_for(healthy, timeout_s=90, what="the REST API")
            assert worker.process is not None
            body = large_body(body_mb)
            for chunked in (False, True):
                round_of_posts(worker.rest_url, worker.process.pid, body, clients, chunked)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--body-mb", type=int, default=100)
    parser.add_argument("--bootstrap", help="an existing broker; default: start one")
    args = parser.parse_args()
    with ExitStack() as stack:
        bootstrap = args.bootstrap
        if not bootstrap:
            bootstrap = stack.enter_context(KafkaCluster()).bootstrap_servers
        run(bootstrap, args.clients, args.body_mb)


if __name__ == "__main__":
    main()
