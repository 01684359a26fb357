"""A running worker under bounded abuse loses nothing and keeps answering (issue 8).

One real ``connect-standalone`` process moves a file through a topic into another file
(FileStreamSource -> topic -> FileStreamSink) while, for a fixed time, threads on 127.0.0.1
fire what an attacker or a broken client would: sockets that stall inside a request and hold
(more of them than the worker has request threads), slowloris connections dripping a byte a
second, bodies over ``rest.request.max.bytes`` (announced, streamed, chunked, lied about),
malformed and mistyped bodies, connector names and task ids no connector can have, offsets
no partition can have, a huge ``tasks.max``, Python paths that are not plugins, and
``${file:...}`` values. The pipeline's own connectors are only ever *refused* things: nothing
here may legitimately restart, pause, stop or reconfigure them.

Afterwards: no answer was a 5xx and every request was answered (a 4xx, in the shape the
request asked for); the worker is alive; ``GET /connectors`` answers within a second once the
stalled sockets are gone (and promptly while they are still held); the sink file holds every
line exactly once and in order; no connector with an odd name exists; no non-plugin module was
imported and no resolved secret was shown.
"""

from __future__ import annotations

import collections
import random
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
from kconnect.testing.standalone_worker import StandaloneWorker

from tests.integration import abuse_cases
from tests.integration.abuse_clients import (
    ANSWER_TIMEOUT_S,
    HeldSockets,
    Outcomes,
    Slowloris,
    threads_running,
)

LINES = 50_000
BURSTS = 10
ABUSE_S = 16.0
REQUEST_THREADS = 4  # abusing clients sending whole requests, each one at a time
MAX_REQUESTS_PER_THREAD = 3_000
HELD = 40  # stalled sockets: more than the worker's 16 request threads
SLOWLORIS = 4
MAX_BODY = 64 * 1024  # the worker's rest.request.max.bytes here
#: the worker's rest.request.read.timeout.ms: longer than the whole abuse, so that the stalled
#: sockets are still held when the API is timed with them
READ_TIMEOUT_MS = 120_000
#: ``import this`` prints the Zen of Python: had the worker imported it, its log would say so.
ZEN = "Beautiful is better than ugly"


def pipeline_lines() -> list[str]:
    return [f'{i:06d} abuse "line" ünï€ {"x" * (i % 17)}' for i in range(LINES)]


def line_count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def get_connectors_seconds(url: str, when: str, tries: int = 3) -> float:
    """The best of ``tries`` timings of ``GET /connectors``, each on a new connection."""
    best = float("inf")
    for _ in range(tries):
        began = time.monotonic()
        try:
            answer = requests.get(url + "/connectors", timeout=20)
        except requests.RequestException as e:
            raise AssertionError(f"GET /connectors {when}: no answer ({e})") from None
        elapsed = time.monotonic() - began
        assert answer.status_code == 200, f"GET /connectors {when}: {answer.text}"
        best = min(best, elapsed)
    return best


def difference(got: list[str], want: list[str]) -> str:
    """Where the sink file departs from the input, in a few lines."""
    counts = collections.Counter(got)
    repeated = [line for line, n in counts.items() if n > 1]
    missing = [line for line in want if line not in counts]
    pairs = zip(got, want, strict=False)
    first = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(got), len(want)))
    return (
        f"{len(got)} lines for {len(want)}: {len(missing)} missing (e.g. {missing[:2]}), "
        f"{len(repeated)} repeated (e.g. {repeated[:2]}); first difference at line {first}: "
        f"{got[first : first + 2]} for {want[first : first + 2]}"
    )


class Feeder(threading.Thread):
    """Appends the pipeline's input in bursts spread over the abuse, whole lines per write."""

    def __init__(self, path: Path, bursts: list[str], every_s: float):
        super().__init__(name="feeder", daemon=True)
        self.path, self.bursts, self.every_s = path, bursts, every_s

    def run(self) -> None:
        for burst in self.bursts:
            time.sleep(self.every_s)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(burst)


def abuser(
    seed: int, ctx: abuse_cases.Context, deadline: float, outcomes: Outcomes
) -> threading.Thread:
    """A client firing every case in turn (reshuffled each round) until ``deadline``."""

    def run() -> None:
        rnd = random.Random(seed)
        cases = list(abuse_cases.CASES)
        with requests.Session() as session:
            for i in range(MAX_REQUESTS_PER_THREAD):
                if time.monotonic() >= deadline:
                    return
                if i % len(cases) == 0:
                    rnd.shuffle(cases)
                case = cases[i % len(cases)]
                outcome, detail = case.fire(ctx, session, rnd)
                outcomes.add(case.label, outcome, detail)

    return threading.Thread(target=run, name=f"abuser-{seed}", daemon=True)


@dataclass
class AbuseRun:
    outcomes: Outcomes
    still_held: int  # stalled sockets the worker still held when the API was timed
    while_held_s: float  # GET /connectors with them held
    after_s: float  # GET /connectors once they were closed


def run_abuse(ctx: abuse_cases.Context, source_file: Path, bursts: list[str]) -> AbuseRun:
    """ABUSE_S seconds of abuse while ``bursts`` are appended to the pipeline's input; then
    the API is timed with the stalled sockets still held, and again once they are closed."""
    outcomes = Outcomes()
    stop = threading.Event()
    held = HeldSockets(ctx.port, HELD)
    deadline = time.monotonic() + ABUSE_S
    threads: list[threading.Thread] = [
        Feeder(source_file, bursts, ABUSE_S / (len(bursts) + 1)),
        *(Slowloris(ctx.port, stop, outcomes) for _ in range(SLOWLORIS)),
        *(abuser(seed, ctx, deadline, outcomes) for seed in range(REQUEST_THREADS)),
    ]
    try:
        with threads_running(threads, join_s=ABUSE_S + 2 * ANSWER_TIMEOUT_S + 10):
            time.sleep(ABUSE_S)
            stop.set()
        still_held = held.still_open()
        while_held = get_connectors_seconds(ctx.url, f"with {HELD} sockets stalled")
    finally:
        held.close()
    time.sleep(0.5)  # let the worker see them closed
    after = get_connectors_seconds(ctx.url, "after the abuse")
    return AbuseRun(outcomes, still_held, while_held, after)


def test_abuse_while_a_file_pipeline_runs(tmp_path: Path, bootstrap_servers: str, unique_topic):
    lines = pipeline_lines()
    per_burst = LINES // BURSTS
    bursts = [
        "".join(f"{line}\n" for line in lines[i : i + per_burst])
        for i in range(0, LINES, per_burst)
    ]
    source_file, sink_file = tmp_path / "input.txt", tmp_path / "output.txt"
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    secret = f"s3cret-{uuid.uuid4().hex}"
    (secrets / "db.properties").write_text(f"password={secret}\n")
    worker_props = {
        "bootstrap.servers": bootstrap_servers,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": str(tmp_path / "connect.offsets"),
        "offset.flush.interval.ms": "1000",
        "rest.request.max.bytes": str(MAX_BODY),
        "rest.request.read.timeout.ms": str(READ_TIMEOUT_MS),
        "config.providers": "file",
        "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
        "config.providers.file.param.allowed.paths": str(secrets),
    }
    source = {
        "name": "abuse-source",
        "connector.class": "FileStreamSource",
        "tasks.max": "1",
        "file": str(source_file),
        "topic": unique_topic,
    }
    sink = {
        "name": "abuse-sink",
        "connector.class": "FileStreamSink",
        "tasks.max": "1",
        "file": str(sink_file),
        "topics": unique_topic,
    }
    source_file.write_text(bursts[0], encoding="utf-8")
    with StandaloneWorker(tmp_path, worker_props, [source, sink]) as worker:
        # The pipeline runs before the abuse starts: the first burst has gone through.
        worker.wait_for(
            lambda: line_count(sink_file) >= per_burst, 90, "the first burst in the sink file"
        )
        ctx = abuse_cases.Context(
            port=worker.rest_port,
            url=worker.rest_url,
            topic=unique_topic,
            source=source,
            sink=sink,
            secret_ref=f"${{file:{secrets / 'db.properties'}:password}}",
            secret=secret,
            max_body=MAX_BODY,
        )
        run = run_abuse(ctx, source_file, bursts[1:])
        print(
            f"abuse: {run.outcomes.total()} requests in {ABUSE_S:.0f} s; {run.still_held}/{HELD} "
            f"stalled sockets still held at the end; GET /connectors "
            f"{run.while_held_s * 1000:.0f} ms while held, {run.after_s * 1000:.0f} ms after; "
            f"{line_count(sink_file)}/{LINES} lines delivered by then\n"
            f"outcomes: {run.outcomes.summary()}"
        )

        # Every request answered, none with a 5xx; the worker alive and answering.
        assert worker.returncode is None, worker.log_text()[-5000:]
        unexpected = run.outcomes.unexpected(abuse_cases.ALLOWED)
        assert not unexpected, "\n".join(unexpected) + "\n" + worker.log_text()[-3000:]
        missed = [label for label in abuse_cases.ALLOWED if label not in run.outcomes.by_label]
        assert not missed, f"abuse cases never fired: {missed}"
        for label in ("oversized-declared", "oversized-streamed", "oversized-chunked"):
            # refused as too large, not merely cut off
            assert run.outcomes.by_label[label][413] > 0, run.outcomes.by_label[label]
        assert run.still_held == HELD, f"only {run.still_held}/{HELD} stalled sockets were held"
        assert run.while_held_s < 5.0, f"GET /connectors: {run.while_held_s:.2f}s with {HELD} held"
        assert run.after_s < 1.0, f"GET /connectors took {run.after_s:.2f}s after the abuse"

        # Nothing created, nothing of the pipeline changed, nothing lost or repeated.
        connectors = requests.get(worker.rest_url + "/connectors", timeout=30).json()
        assert sorted(connectors) == ["abuse-sink", "abuse-source"], "odd connectors were created"
        for name in ("abuse-source", "abuse-sink"):
            status = requests.get(f"{worker.rest_url}/connectors/{name}/status", timeout=30)
            states = [status.json()["connector"]["state"]]
            states += [task["state"] for task in status.json()["tasks"]]
            assert states == ["RUNNING", "RUNNING"], status.text
        worker.wait_for(
            lambda: line_count(sink_file) >= LINES, 90, f"{LINES} lines in the sink file"
        )
        time.sleep(1.0)  # anything delivered twice would arrive right behind the last line
        delivered = sink_file.read_text(encoding="utf-8").splitlines()
        assert delivered == lines, difference(delivered, lines)

        log = worker.log_text()
        assert ZEN not in log, "a module named in a REST request was imported"
        assert secret not in log, "a resolved secret was logged"
