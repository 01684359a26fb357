"""A standalone worker's state files: an empty offsets or config file stops the worker with a
message naming the file (kconnect never writes an empty one, so its content was lost outside
the worker); a worker with no state files yet starts, and starts again from the files it wrote."""

from __future__ import annotations

from pathlib import Path

import requests
from kconnect.testing.standalone_worker import StandaloneWorker

EXIT_BAD_CONFIG = 1


def _worker_props(bootstrap: str, tmp_path: Path) -> dict:
    return {
        "bootstrap.servers": bootstrap,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": tmp_path / "connect.offsets",
        "config.storage.file.filename": tmp_path / "connect.configs",
        "offset.flush.interval.ms": 500,
    }


def _run_to_exit(worker: StandaloneWorker, timeout_s: float = 60) -> tuple[int | None, str]:
    worker.start()
    code = worker.wait(timeout_s)
    if code is None:
        worker.stop()
    return code, worker.log_text()


def _connectors(worker: StandaloneWorker) -> list[str] | None:
    try:
        response = requests.get(f"{worker.rest_url}/connectors", timeout=2)
    except requests.ConnectionError:
        return None
    return response.json() if response.status_code == 200 else None


def test_empty_offsets_file_stops_the_worker_naming_the_file(tmp_path, bootstrap_servers):
    offsets = tmp_path / "connect.offsets"
    offsets.touch()
    code, log = _run_to_exit(StandaloneWorker(tmp_path, _worker_props(bootstrap_servers, tmp_path)))
    assert code == EXIT_BAD_CONFIG, log
    assert f"Offsets file {offsets} is empty (0 bytes)" in log
    assert "delete it to start afresh" in log
    assert offsets.read_bytes() == b""  # left for the operator to look at


def test_empty_config_file_stops_the_worker_naming_the_file(tmp_path, bootstrap_servers):
    configs = tmp_path / "connect.configs"
    configs.write_bytes(b"\n")
    code, log = _run_to_exit(StandaloneWorker(tmp_path, _worker_props(bootstrap_servers, tmp_path)))
    assert code == EXIT_BAD_CONFIG, log
    assert f"Config storage file {configs} is empty (1 bytes)" in log
    assert "delete it to start afresh" in log


def test_new_worker_starts_without_state_files_and_again_from_those_it_wrote(
    tmp_path, bootstrap_servers, unique_topic
):
    props = _worker_props(bootstrap_servers, tmp_path)
    source = tmp_path / "in.txt"
    source.write_text("a\nb\n")
    with StandaloneWorker(tmp_path, props) as worker:
        worker.wait_for(lambda: _connectors(worker) == [], timeout_s=60, what="the REST API")
        response = requests.post(
            f"{worker.rest_url}/connectors",
            json={
                "name": "src",
                "config": {
                    "connector.class": "FileStreamSource",
                    "file": str(source),
                    "topic": unique_topic,
                },
            },
            timeout=30,
        )
        assert response.status_code == 201, response.text
        offsets = tmp_path / "connect.offsets"
        worker.wait_for(
            lambda: offsets.exists() and b"position" in offsets.read_bytes(),
            what="the source's offsets in the file",
        )
        # Deleting the only connector leaves a config file that holds none: still not empty.
        assert requests.delete(f"{worker.rest_url}/connectors/src", timeout=30).status_code == 204
    assert (tmp_path / "connect.configs").read_bytes().strip() not in (b"", b"{}")
    with StandaloneWorker(tmp_path, props) as again:
        again.wait_for(lambda: _connectors(again) == [], timeout_s=60, what="the REST API")
