"""``connect-distributed`` workers in subprocesses, and a small REST client, for tests and
benchmarks of a kconnect cluster.

    cluster = DistributedCluster(tmp_path, bootstrap_servers, group_id="g1")
    with cluster.worker() as w1, cluster.worker() as w2:
        w1.wait_until_ready()
        w1.put("/connectors/c1/config", {...})
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests

from kconnect.testing.standalone_worker import WorkerProcess, free_port


class DistributedWorker(WorkerProcess):
    """One worker of a cluster (``kconnect distributed worker.properties``)."""

    mode = "distributed"

    def __init__(
        self,
        workdir: Path,
        worker_props: Mapping[str, Any],
        name: str = "worker",
        scheme: str = "http",
    ):
        super().__init__(workdir, worker_props, (), None, name)
        self.scheme = scheme
        #: set ``session.verify``/``session.cert`` for https listeners
        self.session = requests.Session()

    @property
    def rest_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.rest_port}"

    @property
    def worker_id(self) -> str:
        return f"127.0.0.1:{self.rest_port}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        retry_conflicts_s: float = 60,
        **params: Any,
    ) -> requests.Response:
        """One REST call. A 409 (the cluster is rebalancing, as right after a worker joined) is
        retried for up to ``retry_conflicts_s``, as a client of Kafka Connect must."""
        deadline = time.monotonic() + retry_conflicts_s
        while True:
            response = self.session.request(
                method, self.rest_url + path, json=body, params=params or None, timeout=60
            )
            if response.status_code != 409 or time.monotonic() >= deadline:
                return response
            if "already exists" in response.text:
                return response
            time.sleep(0.5)

    def get(self, path: str, **params: Any) -> Any:
        response = self.request("GET", path, **params)
        response.raise_for_status()
        return response.json()

    def put(self, path: str, body: Any = None) -> requests.Response:
        return self.request("PUT", path, body)

    def post(self, path: str, body: Any = None, **params: Any) -> requests.Response:
        return self.request("POST", path, body, **params)

    def delete(self, path: str) -> requests.Response:
        return self.request("DELETE", path)

    def is_ready(self) -> bool:
        try:
            return self.session.get(self.rest_url + "/connectors", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_until_ready(self, timeout_s: float = 120) -> DistributedWorker:
        self.wait_for(self.is_ready, timeout_s, what=f"worker {self.worker_id} to join")
        return self


class DistributedCluster:
    """Settings shared by the workers of one test cluster; makes workers on free ports."""

    def __init__(
        self,
        workdir: Path,
        bootstrap_servers: str,
        group_id: str,
        extra: Mapping[str, Any] | None = None,
        scheme: str = "http",
    ):
        self.workdir = Path(workdir)
        self.group_id = group_id
        #: the workers' listener scheme; https needs the listeners.https.ssl.* keys in ``extra``
        self.scheme = scheme
        self.props: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            "group.id": group_id,
            "config.storage.topic": f"{group_id}-configs",
            "offset.storage.topic": f"{group_id}-offsets",
            "status.storage.topic": f"{group_id}-status",
            "config.storage.replication.factor": "1",
            "offset.storage.replication.factor": "1",
            "status.storage.replication.factor": "1",
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "offset.flush.interval.ms": "1000",
            "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "1000",
            "scheduled.rebalance.max.delay.ms": "0",
            "rest.request.timeout.ms": "30000",
            **(extra or {}),
        }
        self.workers: list[DistributedWorker] = []

    def worker(self, **overrides: Any) -> DistributedWorker:
        port = free_port()
        props = {
            **self.props,
            "listeners": f"{self.scheme}://127.0.0.1:{port}",
            "rest.advertised.host.name": "127.0.0.1",
            "rest.advertised.port": str(port),
            **overrides,
        }
        worker = DistributedWorker(self.workdir, props, name=f"worker-{port}", scheme=self.scheme)
        worker.rest_port = port
        self.workers.append(worker)
        return worker

    def start_workers(self, count: int, timeout_s: float = 120) -> list[DistributedWorker]:
        workers = [self.worker().start() for _ in range(count)]
        for worker in workers:
            worker.wait_until_ready(timeout_s)
        return workers

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.returncode is None and worker.process is not None:
                worker.stop()


def wait_for(
    condition: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.25
) -> Any:
    """Poll until ``condition()`` is truthy (exceptions count as false); return its value."""
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - retried until the deadline
            last_error = error
        time.sleep(interval_s)
    raise AssertionError(
        f"timed out after {timeout_s}s waiting for {what} (last error: {last_error})"
    )


def verifiable_source_config(
    topic: str, output: str, tasks: int = 3, throughput: int = 20
) -> dict[str, str]:
    """A VerifiableSource (Kafka's class name) that reports committed seqnos to ``output``."""
    return {
        "connector.class": "org.apache.kafka.connect.tools.VerifiableSourceConnector",
        "tasks.max": str(tasks),
        "topic": topic,
        "throughput": str(throughput),
        "output.file": output,
    }


def all_running(worker: DistributedWorker, name: str, tasks: int) -> dict[str, Any] | None:
    """The connector's status if it and exactly ``tasks`` tasks are RUNNING, else None."""
    status = worker.get(f"/connectors/{name}/status")
    states = [t["state"] for t in status["tasks"]]
    if status["connector"]["state"] == "RUNNING" and states == ["RUNNING"] * tasks:
        return dict(status)
    return None
