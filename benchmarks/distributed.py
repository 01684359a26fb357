"""Distributed mode: failover, join rebalance and memory of a kconnect cluster next to Apache
Kafka Connect's own Java workers on the same broker, and the sink throughput of 1, 2 and 3
kconnect workers, in one run.

    python benchmarks/distributed.py [--runs 3] [--skip-java] [--connectors 10] [--tasks 3]
                                     [--records 2000000] [--session-timeout-ms 6000]
                                     [--kill follower|leader] [--skip-rebalance] [--skip-scaling]
                                     [--keep-logs DIR]

Part 1, for kconnect and then for Java (Apache Kafka Connect 4.3.1) on one broker: three workers
run ``--connectors`` VerifiableSource connectors of ``--tasks`` tasks each, with
``scheduled.rebalance.max.delay.ms=0`` so that lost work is reassigned at once. Both sides run
the same connector class: Java's comes from ``connect-test-plugins``, fetched by Maven into the
jar cache and put on the worker's classpath. Each run then

- SIGKILLs a worker holding tasks (a follower unless ``--kill leader``) and times until the
  status API of a survivor (polled every 100 ms) shows every connector and task RUNNING on the
  survivors: *failover*, also less ``session.timeout.ms`` (about when the group coordinator
  notices the loss);
- starts a replacement and lets the cluster settle, then starts a 4th worker and times from its
  first REST answer (``GET /`` -> 200) until every task is RUNNING and the 4th worker holds its
  share (floor(tasks / 4)): *join*; also from its first JoinGroup (read from its log: the
  group phase alone) and from its launch;
- stops the 4th worker (SIGTERM) and lets the 3 settle.

Each worker's memory, RSS and PSS summed over its process tree, is taken once the first
3-worker cluster has settled. Figures are medians (min-max) over the runs; ratios are
kconnect / Java (below 1: kconnect is faster or smaller).

Part 2: a FileStreamSink of 4 tasks over a 4-partition topic pre-filled with ``--records``
records of 100 bytes, run by 1, 2 and 3 kconnect workers (and one Java worker as a reference):
the time from creating the connector until the group ``connect-<name>`` has committed every
offset, the records/s from the first line written to the last and from 10 % to 90 %, the CPU
time of the workers and of the broker, and the ratio to one worker. Best of ``--runs``.

Everything listens on 127.0.0.1; every process and the work directory are removed at the end,
also on Ctrl-C or SIGTERM. The machine's load average is printed: other processes on it
disturb the figures.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime
import os
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import psutil
import requests
from confluent_kafka import Consumer, Producer, TopicPartition
from kconnect.testing import KafkaCluster
from kconnect.testing.distributed_worker import DistributedCluster
from kconnect.testing.java_connect import JavaConnectWorker, connect_version
from kconnect.testing.kafka_jars import maven_libs
from kconnect.testing.standalone_worker import free_port

LINE_BYTES = 100
VERIFIABLE_SOURCE = "org.apache.kafka.connect.tools.VerifiableSourceConnector"
FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"
POLL_S = 0.1

_http = requests.Session()


def rest(url: str, method: str, path: str, body: Any = None, timeout: float = 5) -> Any:
    """One REST call; the decoded body, or None on a connection error or an error status."""
    try:
        response = _http.request(method, url + path, json=body, timeout=timeout)
    except requests.RequestException:
        return None
    if response.status_code >= 400:
        return None
    return response.json() if response.content else {}


def put_connector(url: str, name: str, config: dict[str, str], timeout_s: float = 120) -> None:
    """Create a connector; 409 (a rebalance is under way) and 5xx are retried, as a client must."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            response = _http.put(f"{url}/connectors/{name}/config", json=config, timeout=60)
            if response.status_code in (200, 201):
                return
            error = f"{response.status_code} {response.text}"
            if response.status_code < 500 and response.status_code != 409:
                raise RuntimeError(f"could not create {name}: {error}")
        except requests.RequestException as exc:
            error = str(exc)
        if time.monotonic() >= deadline:
            raise RuntimeError(f"could not create {name}: {error}")
        time.sleep(0.5)


def statuses(url: str) -> dict[str, dict] | None:
    """``GET /connectors?expand=status`` as {name: status}."""
    body = rest(url, "GET", "/connectors?expand=status")
    if not isinstance(body, dict):
        return None
    return {name: entry["status"] for name, entry in body.items() if "status" in entry}


def task_owners(status: dict[str, dict]) -> collections.Counter:
    return collections.Counter(t["worker_id"] for s in status.values() for t in s["tasks"])


def all_running_on(
    status: dict[str, dict] | None,
    names: list[str],
    tasks: int,
    live: list[str],
    share_for: Iterable[str] = (),
) -> bool:
    """Every connector and its ``tasks`` tasks RUNNING on the ``live`` workers, and each worker
    of ``share_for`` holding at least floor(all tasks / live workers) of them."""
    if status is None or any(name not in status for name in names):
        return False
    for name in names:
        s = status[name]
        if s["connector"]["state"] != "RUNNING" or s["connector"].get("worker_id") not in live:
            return False
        if len(s["tasks"]) != tasks:
            return False
        if any(t["state"] != "RUNNING" or t.get("worker_id") not in live for t in s["tasks"]):
            return False
    owners = task_owners({n: status[n] for n in names})
    share = len(names) * tasks // len(live)
    return all(owners[w] >= share for w in share_for)


def wait_until(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL_S)
    raise RuntimeError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def tree_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) summed over a process and all its descendants. RSS counts the pages a forked
    child shares with its parent (gunicorn's master and worker) twice; PSS splits them."""
    try:
        process = psutil.Process(pid)
        procs = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    rss = pss = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            info = proc.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
    return rss, pss


def tree_cpu(pids: Iterable[int]) -> float:
    """User + system CPU seconds used so far by processes and their descendants."""
    total = 0.0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            procs = [process, *process.children(recursive=True)]
        except psutil.Error:
            continue
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
    return total


# -- the two implementations behind one small interface --------------------------------------


class Member:
    """One worker of a cluster under test."""

    worker_id: str
    rest_url: str

    def start(self) -> None:
        """Launch it; may return before it is ready (kconnect) or only once it is (Java)."""
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def pid(self) -> int | None:
        raise NotImplementedError

    def is_leader(self) -> bool | None:
        """What its log says about its last assignment; None when it does not say."""
        raise NotImplementedError

    def kill(self) -> None:
        raise NotImplementedError

    def stop(self, timeout_s: float = 20) -> None:
        raise NotImplementedError

    def first_join(self) -> float | None:
        """Wall-clock time its log says it first started joining the group."""
        raise NotImplementedError

    def answers_rest(self) -> bool:
        try:
            return _http.get(self.rest_url + "/", timeout=1).status_code == 200
        except requests.RequestException:
            return False


class KconnectMember(Member):
    _JOINED = re.compile(r"Joined group at generation \d+ as (leader|follower)")
    _JOINING = re.compile(r"^\[([-\d: ,]+)\] INFO Joining group ", re.MULTILINE)

    def __init__(self, cluster: DistributedCluster):
        self.worker = cluster.worker()
        self.worker_id = self.worker.worker_id
        self.rest_url = self.worker.rest_url

    def start(self) -> None:
        self.worker.start()

    def ready(self) -> bool:
        if self.worker.returncode is not None:
            raise RuntimeError(
                f"kconnect worker {self.worker_id} exited:\n{self.worker.log_text()[-3000:]}"
            )
        return self.worker.is_ready()

    def pid(self) -> int | None:
        process = self.worker.process
        return process.pid if process is not None and process.poll() is None else None

    def is_leader(self) -> bool | None:
        found = self._JOINED.findall(self.worker.log_text())
        return found[-1] == "leader" if found else None

    def first_join(self) -> float | None:
        return log_time(self._JOINING, self.worker.log_text())

    def kill(self) -> None:
        self.worker.kill()

    def stop(self, timeout_s: float = 20) -> None:
        if self.worker.process is not None and self.worker.returncode is None:
            self.worker.stop(timeout_s)


class JavaMember(Member):
    _LEADER_URL = re.compile(r"leaderUrl='([^']*)'")
    _JOINING = re.compile(r"^\[([-\d: ,]+)\] INFO .* Rebalance started", re.MULTILINE)

    def __init__(self, worker: JavaConnectWorker, port: int):
        self.worker = worker
        self.worker_id = f"127.0.0.1:{port}"
        self.rest_url = f"http://127.0.0.1:{port}"
        self.error: BaseException | None = None

    def start(self) -> None:
        try:
            self.worker.start()
        except BaseException as error:
            self.error = error
            raise

    def ready(self) -> bool:
        if self.error is not None:
            raise RuntimeError(f"Java worker {self.worker_id} failed: {self.error}")
        return self.worker.is_running() and self.answers_rest() and self._healthy()

    def _healthy(self) -> bool:
        try:
            return _http.get(self.rest_url + "/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def pid(self) -> int | None:
        return self.worker.pid

    def is_leader(self) -> bool | None:
        found = self._LEADER_URL.findall(self.worker.log_text())
        return f"//{self.worker_id}/" in found[-1] if found else None

    def first_join(self) -> float | None:
        return log_time(self._JOINING, self.worker.log_text())

    # JavaConnectWorker.start() holds the worker's lock until the JVM is ready, and stop() and
    # kill() wait for it: signal the process group first, so that a worker still starting (on
    # Ctrl-C) exits, and start() gives the lock up, at once.
    def kill(self) -> None:
        signal_group(self.worker.pid, signal.SIGKILL)
        self.worker.kill()

    def stop(self, timeout_s: float = 20) -> None:
        pid = self.worker.pid
        signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while pid is not None and not exited(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid is not None and not exited(pid):
            signal_group(pid, signal.SIGKILL)
        self.worker.stop(timeout=timeout_s)


def signal_group(pid: int | None, signum: int) -> None:
    if pid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signum)


def exited(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def log_time(pattern: re.Pattern[str], text: str) -> float | None:
    """The epoch time of the first log line matching ``pattern`` (whose group 1 is the
    ``yyyy-mm-dd hh:mm:ss,mmm`` local-time stamp both implementations print)."""
    match = pattern.search(text)
    if match is None:
        return None
    stamp = datetime.datetime.strptime(match.group(1).strip(), "%Y-%m-%d %H:%M:%S,%f")
    return stamp.timestamp()


class Side:
    """Makes the members of one cluster (one group, three internal topics) of one kind."""

    label: str
    session_timeout_ms: int

    def member(self) -> Member:
        raise NotImplementedError


class KconnectSide(Side):
    label = "kconnect"

    def __init__(self, workdir: Path, bootstrap: str, group: str, props: dict[str, str]):
        self.cluster = DistributedCluster(workdir, bootstrap, group, extra=props)
        self.session_timeout_ms = int(self.cluster.props["session.timeout.ms"])

    def member(self) -> Member:
        return KconnectMember(self.cluster)


class JavaSide(Side):
    label = "Java"

    def __init__(
        self,
        workdir: Path,
        bootstrap: str,
        group: str,
        props: dict[str, str],
        heap: str,
        classpath: list[Path],
    ):
        self.workdir, self.bootstrap, self.group, self.heap = workdir, bootstrap, group, heap
        self.props, self.classpath = props, classpath
        self.session_timeout_ms = int(props["session.timeout.ms"])
        self.count = 0

    def member(self) -> Member:
        self.count += 1
        port = free_port()
        worker = JavaConnectWorker(
            self.bootstrap,
            self.workdir / f"{self.group}-{self.count}",
            self.group,
            f"{self.group}-configs",
            f"{self.group}-offsets",
            f"{self.group}-status",
            rest_port=port,
            extra_props=self.props,
            heap=self.heap,
            extra_classpath=self.classpath,
        )
        return JavaMember(worker, port)


class Processes:
    """Every worker started, so that all are gone at the end whatever happened."""

    def __init__(self) -> None:
        self.members: list[Member] = []

    def add(self, member: Member) -> Member:
        self.members.append(member)
        return member

    def stop_all(self) -> None:
        """SIGTERM to all at once, SIGKILL to any still there after 10 s."""

        def stop(member: Member) -> None:
            with contextlib.suppress(Exception):
                member.stop(10)
            with contextlib.suppress(Exception):
                member.kill()

        threads = [threading.Thread(target=stop, args=(m,)) for m in self.members]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.members.clear()


def start_quietly(member: Member) -> None:
    # On a helper thread: a failure shows through member.ready() on the main thread.
    with contextlib.suppress(BaseException):
        member.start()


def start_members(side: Side, procs: Processes, count: int, timeout_s: float = 180) -> list[Member]:
    """Start ``count`` workers at once and wait until each is ready."""
    members = [procs.add(side.member()) for _ in range(count)]
    threads = [threading.Thread(target=start_quietly, args=(m,), daemon=True) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)
    for member in members:
        wait_until(member.ready, timeout_s, f"{side.label} worker {member.worker_id} ready")
    return members


# -- part 1: failover, join, memory ------------------------------------------------------------


def source_config(topic: str, tasks: int, throughput: int) -> dict[str, str]:
    return {
        "connector.class": VERIFIABLE_SOURCE,
        "tasks.max": str(tasks),
        "topic": topic,
        "throughput": str(throughput),
    }


def rebalance_benchmark(side: Side, procs: Processes, args, topic: str) -> dict[str, Any]:
    """Failover and join times (one each per run) and the settled workers' RSS, for one side."""
    names = [f"verifiable-{i}" for i in range(args.connectors)]
    tasks = args.tasks
    members = start_members(side, procs, 3)
    url = members[0].rest_url
    for name in names:
        put_connector(url, name, source_config(topic, tasks, args.throughput))

    def settle(cluster: list[Member], what: str, timeout_s: float = 180) -> None:
        ids = [m.worker_id for m in cluster]
        wait_until(
            lambda: all_running_on(statuses(cluster[0].rest_url), names, tasks, ids, ids),
            timeout_s,
            f"{side.label}: {what} ({len(names)} connectors x {tasks} tasks RUNNING, balanced)",
        )

    settle(members, "the first 3 workers settled")
    time.sleep(args.settle_s)
    memory = [tree_memory(m.pid() or 0) for m in members]
    rss = [r for r, _ in memory]
    result: dict[str, Any] = {
        "rss": rss,
        "pss": [p for _, p in memory],
        "failover": [],
        "join": [],
        "join_from_launch": [],
        "join_from_group": [],
    }
    print(
        f"  {side.label}: 3 workers settled; RSS "
        + ", ".join(f"{r / 2**20:.0f}" for r in rss)
        + " MiB",
        flush=True,
    )

    for run in range(args.runs):
        # Failover: kill a worker that holds tasks; the others must take all its work over.
        status = statuses(url) or {}
        owners = task_owners(status)
        want_leader = args.kill == "leader"
        candidates = [m for m in members if owners[m.worker_id] > 0]
        chosen = [m for m in candidates if m.is_leader() is want_leader] or candidates
        victim = max(chosen, key=lambda m: owners[m.worker_id])
        survivors = [m for m in members if m is not victim]
        live = [m.worker_id for m in survivors]
        watcher = survivors[0].rest_url
        killed = time.perf_counter()
        victim.kill()
        wait_until(
            lambda watcher=watcher, live=live: all_running_on(
                statuses(watcher), names, tasks, live
            ),
            120,
            f"{side.label}: the killed worker's work RUNNING on the survivors",
        )
        failover = time.perf_counter() - killed
        result["failover"].append(failover)
        role = {True: "leader", False: "follower", None: "worker"}[victim.is_leader()]

        # Back to three, settled, before the join that is measured.
        replacement = procs.add(side.member())
        replacement.start()
        wait_until(replacement.ready, 180, f"{side.label} replacement ready")
        members = [*survivors, replacement]
        settle(members, "replacement settled")
        url = members[0].rest_url

        # Join: a 4th worker; from its first REST answer to its share RUNNING.
        fourth = procs.add(side.member())
        marks = join_watch(fourth, members[0].rest_url, names, tasks, members)
        launched = time.perf_counter()
        fourth.start()
        marks.wait()
        result["join"].append(marks.done - marks.answered)
        result["join_from_launch"].append(marks.done - launched)
        joining = fourth.first_join()
        if joining is not None:
            result["join_from_group"].append(marks.done_wall - joining)
        print(
            f"  {side.label} run {run + 1}: failover ({role} killed) {failover:6.2f} s "
            f"({failover - side.session_timeout_ms / 1000:+.2f} s after the session timeout); "
            f"join {marks.done - marks.answered:5.2f} s from REST up "
            f"({marks.done - launched:.1f} s from launch)",
            flush=True,
        )

        # Leave (SIGTERM) and settle, for the next run.
        fourth.stop(30)
        settle(members, "3 workers settled after the 4th left")
    return result


class join_watch(threading.Thread):  # noqa: N801 - used like a function
    """Times a joining worker: the first ``GET /`` answer, then its share RUNNING."""

    def __init__(self, member: Member, watcher: str, names, tasks, old: list[Member]):
        super().__init__(daemon=True)
        self.member, self.watcher, self.names, self.tasks = member, watcher, names, tasks
        self.live = [*(m.worker_id for m in old), member.worker_id]
        self.answered = self.done = self.done_wall = 0.0
        self.error: BaseException | None = None
        self.deadline = time.monotonic() + 300
        self.start()

    def run(self) -> None:
        try:
            while not self.member.answers_rest():
                self._check()
                time.sleep(0.02)
            self.answered = time.perf_counter()
            while not all_running_on(
                statuses(self.watcher), self.names, self.tasks, self.live, [self.member.worker_id]
            ):
                self._check()
                time.sleep(POLL_S)
            self.done, self.done_wall = time.perf_counter(), time.time()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
            self.error = error

    def _check(self) -> None:
        if time.monotonic() > self.deadline:
            raise RuntimeError("the 4th worker did not take its share within 300 s")

    def wait(self) -> None:
        self.join()
        if self.error is not None:
            raise self.error


# -- part 2: sink throughput -------------------------------------------------------------------


def prefill(bootstrap: str, topic: str, records: int, partitions: int) -> dict[int, int]:
    """Produce ``records`` values of LINE_BYTES - 1 bytes round-robin; returns end offsets."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 20, "delivery.report.only.error": True}
    )
    body = "x" * (LINE_BYTES - 1 - 9)
    for i in range(records):
        value = f"{i:09d}{body}".encode()
        while True:
            try:
                producer.produce(topic, value, partition=i % partitions)
                break
            except BufferError:
                producer.poll(0.01)
    producer.flush(120)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "prefill-watermarks"})
    try:
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        }
    finally:
        consumer.close()


def committed_total(consumer: Consumer, topic: str, ends: dict[int, int]) -> int:
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in ends], timeout=5)
    except Exception:  # noqa: BLE001 - the group may not exist yet
        return 0
    return sum(max(tp.offset, 0) for tp in offsets)


def sink_throughput(
    side: Side,
    procs: Processes,
    workers: int,
    topic: str,
    ends: dict[int, int],
    out: Path,
    broker_pids: list[int],
) -> dict[str, Any]:
    """One FileStreamSink of len(ends) tasks over ``topic``, run by ``workers`` workers."""
    records = sum(ends.values())
    tasks = len(ends)
    members = start_members(side, procs, workers)
    url = members[0].rest_url
    name = f"sink-{uuid.uuid4().hex[:8]}"
    config = {
        "connector.class": FILE_SINK,
        "tasks.max": str(tasks),
        "topics": topic,
        "file": str(out),
        "key.converter": STRING_CONVERTER,
        "value.converter": STRING_CONVERTER,
    }
    consumer = Consumer({"bootstrap.servers": _bootstrap(side), "group.id": f"connect-{name}"})
    pids = [m.pid() or 0 for m in members]
    cpu_before, broker_before = tree_cpu(pids), tree_cpu(broker_pids)
    # When the output first held 1 line, 10 %, 90 % and all of the records.
    marks = {1: 0.0, records // 10: 0.0, records * 9 // 10: 0.0, records: 0.0}
    created = time.perf_counter()
    put_connector(url, name, config)
    placement: collections.Counter = collections.Counter()
    deadline = time.monotonic() + 900
    try:
        while True:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{side.label}: sink did not finish within 900 s")
            try:
                lines = out.stat().st_size // LINE_BYTES
            except FileNotFoundError:
                lines = 0
            now = time.perf_counter()
            for mark, seen in marks.items():
                if lines >= mark and not seen:
                    marks[mark] = now
            if marks[records]:
                if not placement:
                    status = statuses(url) or {}
                    placement = task_owners({name: status[name]} if name in status else {})
                if committed_total(consumer, topic, ends) >= records:
                    done = time.perf_counter()
                    break
            time.sleep(0.02)
    finally:
        consumer.close()
    cpu, broker_cpu = tree_cpu(pids) - cpu_before, tree_cpu(broker_pids) - broker_before
    written = out.stat().st_size // LINE_BYTES
    for member in members:
        member.stop(30)
    out.unlink(missing_ok=True)
    first, p10, p90, last = marks.values()
    return {
        "workers": workers,
        "to_committed": done - created,
        "rate": records / (last - first) if last > first else float("inf"),
        "steady": (records * 9 // 10 - records // 10) / (p90 - p10) if p90 > p10 else 0.0,
        "cpu": cpu,
        "broker_cpu": broker_cpu,
        "placement": sorted(placement.values(), reverse=True),
        "duplicates": written - records,
    }


def _bootstrap(side: Side) -> str:
    if isinstance(side, KconnectSide):
        return side.cluster.props["bootstrap.servers"]
    assert isinstance(side, JavaSide)
    return side.bootstrap


# -- output ------------------------------------------------------------------------------------


def fmt_s(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f} s"
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def ratio(a: float | None, b: float | None) -> str:
    """a / b; "-" when either is missing or not positive (a ratio of those means nothing)."""
    return f"{a / b:.2f}" if a is not None and b is not None and a > 0 and b > 0 else "-"


def print_rebalance_table(results: dict[str, dict], session_s: float, args) -> None:
    k, j = results.get("kconnect"), results.get("Java")
    print()
    print(
        f"Rebalance: 3 workers, {args.connectors} connectors x {args.tasks} tasks "
        f"(VerifiableSource, {args.throughput} rec/s per task), session.timeout.ms="
        f"{int(session_s * 1000)}, heartbeat.interval.ms={args.heartbeat_interval_ms}, "
        f"scheduled.rebalance.max.delay.ms=0; median (min-max) of {args.runs} run(s)"
    )
    header = f"{'':38}{'kconnect':>24}{'Java':>24}{'kconnect/Java':>15}  target"
    print(header)
    print("-" * len(header))

    def med(result: dict | None, key: str, offset: float = 0.0) -> float | None:
        values = [v - offset for v in result[key]] if result else []
        return statistics.median(values) if values else None

    def row(label: str, key: str, offset: float, target: str) -> None:
        kv = [v - offset for v in k[key]] if k else []
        jv = [v - offset for v in j[key]] if j else []
        print(
            f"{label:38}{fmt_s(kv):>24}{fmt_s(jv):>24}"
            f"{ratio(med(k, key, offset), med(j, key, offset)):>15}  {target}"
        )

    row("failover: SIGKILL -> all RUNNING", "failover", 0.0, "")
    row("  less session.timeout.ms", "failover", session_s, "< 2 s, <= Java")
    row("join: REST up -> share RUNNING", "join", 0.0, "< 3 s, <= Java")
    row("  from its first JoinGroup (log)", "join_from_group", 0.0, "")
    row("  from process launch", "join_from_launch", 0.0, "")
    for key in ("rss", "pss"):
        for result, label in ((k, "kconnect"), (j, "Java")):
            if result:
                print(
                    f"{key.upper()} per worker (process tree), {label:9}"
                    + ", ".join(f"{r / 2**20:4.0f}" for r in result[key])
                    + f" MiB (mean {statistics.mean(result[key]) / 2**20:.0f})"
                )
        if k and j:
            kr, jr = statistics.mean(k[key]), statistics.mean(j[key])
            print(f"{key.upper()} ratio kconnect/Java {kr / jr:.2f} (target < 0.25)")
    print(
        "Notes: the coordinator times a session from the victim's last heartbeat, up to\n"
        "heartbeat.interval.ms before the kill, so 'less session.timeout.ms' can be below 0.\n"
        "Java answers GET / only once it has read its offset and status topics, kconnect before\n"
        "it reads its internal topics: 'from its first JoinGroup' compares the group phase alone."
    )


def print_scaling_table(results: list[dict], java: dict | None, args) -> None:
    print()
    print(
        f"Sink scaling: FileStreamSink, 4 tasks, 4 partitions, {args.records:,} records of "
        f"{LINE_BYTES} bytes, StringConverter; {os.cpu_count()} CPUs shared with the broker; "
        f"best of {args.runs} run(s) by records/s"
    )
    print(
        "records/s: first line written -> last; steady: 10 % -> 90 % of the records; CPU s: "
        "user+system of the workers' / the broker's processes, connector created -> committed"
    )
    header = (
        f"{'':22}{'tasks/worker':>13}{'to committed':>14}{'records/s':>12}{'ratio':>7}"
        f"{'steady/s':>11}{'ratio':>7}{'CPU s':>7}{'broker':>8}{'dupes':>7}"
    )
    print(header)
    print("-" * len(header))
    base = next((r for r in results if r["workers"] == 1), None)
    for r in [*results, *([java] if java else [])]:
        label = f"{r.get('label', 'kconnect')}, {r['workers']} worker" + (
            "s" if r["workers"] > 1 else ""
        )
        print(
            f"{label:22}{'/'.join(map(str, r['placement'])):>13}{r['to_committed']:>12.1f} s"
            f"{r['rate']:>12,.0f}{ratio(r['rate'], base and base['rate']):>7}"
            f"{r['steady']:>11,.0f}{ratio(r['steady'], base and base['steady']):>7}"
            f"{r['cpu']:>7.1f}{r['broker_cpu']:>8.1f}{r['duplicates']:>7}"
        )
    print("ratio: to kconnect with 1 worker")


# -- main --------------------------------------------------------------------------------------


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--skip-java", action="store_true", help="kconnect only")
    parser.add_argument("--skip-rebalance", action="store_true", help="no part 1")
    parser.add_argument("--skip-scaling", action="store_true", help="no part 2")
    parser.add_argument("--connectors", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=3, help="tasks per connector")
    parser.add_argument("--throughput", type=int, default=10, help="records/s per source task")
    parser.add_argument("--records", type=int, default=2_000_000, help="part 2's topic")
    parser.add_argument("--max-workers", type=int, default=3, help="part 2: 1..N workers")
    parser.add_argument("--session-timeout-ms", type=int, default=6000)
    parser.add_argument("--heartbeat-interval-ms", type=int, default=1000)
    parser.add_argument("--kill", choices=["follower", "leader"], default="follower")
    parser.add_argument("--settle-s", type=float, default=5.0, help="quiet time before RSS")
    parser.add_argument("--java-heap", default="512m", help="-Xmx of each Java worker")
    parser.add_argument(
        "--keep-logs", type=Path, help="work in this directory and keep it (worker logs)"
    )
    args = parser.parse_args()
    # Ctrl-C and SIGTERM both end in the cleanup below (even when started with SIGINT ignored,
    # as a background job of a script is).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)

    group_props = {
        "session.timeout.ms": str(args.session_timeout_ms),
        "heartbeat.interval.ms": str(args.heartbeat_interval_ms),
        "scheduled.rebalance.max.delay.ms": "0",
        "offset.flush.interval.ms": "1000",
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "key.converter.schemas.enable": "false",
        "value.converter.schemas.enable": "false",
    }
    procs = Processes()
    try:
        with (
            keep_or_temporary(args.keep_logs) as workdir,
            KafkaCluster() as broker,
        ):
            bootstrap = broker.bootstrap_servers
            java_classpath = [] if args.skip_java else [test_plugins_libs()]

            def kconnect_side(group: str) -> Side:
                (workdir / group).mkdir()
                return KconnectSide(workdir / group, bootstrap, group, group_props)

            def java_side(group: str) -> Side:
                return JavaSide(
                    workdir, bootstrap, group, group_props, args.java_heap, java_classpath
                )

            if not args.skip_rebalance:
                broker.create_topic("verifiable", partitions=1)
                print(
                    f"Part 1: failover, join rebalance and RSS (load average "
                    f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
                    flush=True,
                )
                results = {}
                sides = [kconnect_side("k-rebalance")]
                if not args.skip_java:
                    sides.append(java_side("j-rebalance"))
                for side in sides:
                    results[side.label] = rebalance_benchmark(side, procs, args, "verifiable")
                    procs.stop_all()
                print_rebalance_table(results, args.session_timeout_ms / 1000, args)

            if not args.skip_scaling:
                print(
                    f"\nPart 2: sink scaling; producing {args.records:,} records (load average "
                    f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
                    flush=True,
                )
                topic = "sink-input"
                broker.create_topic(topic, partitions=4)
                ends = prefill(bootstrap, topic, args.records, 4)
                scaling: list[dict] = []
                for workers in range(1, args.max_workers + 1):
                    runs = []
                    for run in range(args.runs):
                        side = kconnect_side(f"k-sink-{workers}-{run}")
                        r = sink_throughput(
                            side, procs, workers, topic, ends, workdir / "sink.txt", broker.pids
                        )
                        procs.stop_all()
                        print(
                            f"  kconnect, {workers} worker(s), run {run + 1}: "
                            f"{r['rate']:,.0f} records/s, {r['to_committed']:.1f} s to committed",
                            flush=True,
                        )
                        runs.append(r)
                    scaling.append(max(runs, key=lambda r: r["rate"]))
                java = None
                if not args.skip_java:
                    side = java_side("j-sink")
                    java = sink_throughput(
                        side, procs, 1, topic, ends, workdir / "sink.txt", broker.pids
                    )
                    java["label"] = "Java"
                    procs.stop_all()
                print_scaling_table(scaling, java, args)
    except KeyboardInterrupt:
        print("\ninterrupted; stopping every worker", file=sys.stderr)
        return 130
    finally:
        procs.stop_all()
    return 0


@contextlib.contextmanager
def keep_or_temporary(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="kconnect-bench-dist-") as tmp:
        yield Path(tmp)


def test_plugins_libs() -> Path:
    """Apache Kafka's ``connect-test-plugins`` (where Java's VerifiableSourceConnector lives)
    and what it needs beyond the worker's jars, fetched by Maven once into the jar cache. It goes
    on the classpath: Connect never isolates ``org.apache.kafka.connect.tools`` classes, so from
    ``plugin.path`` its tasks could not be loaded."""
    version = connect_version()
    libs = maven_libs(
        f"connect-test-plugins-{version}",
        [("org.apache.kafka", "connect-test-plugins", version)],
        expect_glob="connect-test-plugins-*.jar",
        what=f"Apache Kafka Connect {version} test plugins",
    )
    return libs


if __name__ == "__main__":
    sys.exit(main())
