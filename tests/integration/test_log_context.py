"""Two connectors side by side in one real standalone worker: every line logged on behalf of one
carries its own ``[connector|task-0] `` (or ``[connector|worker] ``) context, including lines a
plugin logs through its own module logger, from a thread it started itself, from a librdkafka
delivery callback (``commit_record``), and librdkafka's own log lines. With
``KCONNECT_LOG_FORMAT=json`` the same context arrives as ``connector``/``task`` fields."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
import requests
from kconnect.testing.standalone_worker import StandaloneWorker

PLUGIN = """
import logging
import threading
import time

from kconnect.api.connector import SourceConnector
from kconnect.api.records import SourceRecord
from kconnect.api.task import SourceTask

log = logging.getLogger("chatty_plugin")


class ChattyTask(SourceTask):
    def version(self):
        return "1"

    def start(self, props):
        self.who = props["who"]
        self.topic = props["topic"]
        self.sent = 0
        self.committed = False
        log.info("chatty %s task start", self.who)
        thread = threading.Thread(target=lambda: log.info("chatty %s own thread", self.who))
        thread.start()
        thread.join()

    def poll(self):
        time.sleep(0.1)
        if self.sent >= 3:
            return None
        self.sent += 1
        log.info("chatty %s poll", self.who)
        return [SourceRecord({"who": self.who}, {"n": self.sent}, self.topic, value=self.who)]

    def commit_record(self, record, metadata):
        if not self.committed:
            self.committed = True
            log.info("chatty %s commit_record", self.who)

    def stop(self):
        pass


class ChattySource(SourceConnector):
    def version(self):
        return "1"

    def start(self, props):
        self.props = dict(props)
        log.info("chatty %s connector start", props["who"])

    def task_class(self):
        return ChattyTask

    def task_configs(self, max_tasks):
        return [dict(self.props)]

    def stop(self):
        pass
"""


@pytest.fixture
def plugin_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    site = tmp_path / "site"
    site.mkdir()
    (site / "chatty_plugin.py").write_text(PLUGIN)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    )
    return "chatty_plugin"


def _connector(name: str, topic: str) -> dict[str, str]:
    return {
        "name": name,
        "connector.class": "chatty_plugin.ChattySource",
        "who": name,
        "topic": topic,
        # a consumer setting on a producer: librdkafka logs a warning about it
        "producer.override.fetch.max.wait.ms": "100",
    }


def _run(tmp_path: Path, bootstrap_servers: str, topic: str) -> str:
    worker_props = {
        "bootstrap.servers": bootstrap_servers,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": tmp_path / "offsets",
        "offset.flush.interval.ms": "500",
        "plugin.import.allowed.prefixes": "chatty_plugin",
    }
    connectors = [_connector("alpha", topic), _connector("beta", topic)]
    with StandaloneWorker(tmp_path, worker_props, connectors) as worker:
        worker.wait_for(
            lambda: all(
                f"chatty {w} commit_record" in worker.log_text() for w in ("alpha", "beta")
            ),
            timeout_s=120,
            what="both connectors to deliver records",
        )
        status = requests.get(f"{worker.rest_url}/connectors/alpha/status", timeout=10).json()
        assert status["tasks"][0]["state"] == "RUNNING"
        worker.stop()
        return worker.log_text()


EXPECTED = {
    "connector start": "worker",
    "task start": "task-0",
    "own thread": "task-0",
    "poll": "task-0",
    "commit_record": "task-0",
}


def test_lines_carry_their_own_connector_context(
    plugin_on_path: str, tmp_path: Path, bootstrap_servers: str, unique_topic: str
) -> None:
    text = _run(tmp_path, bootstrap_servers, unique_topic)
    lines = text.splitlines()
    for who, other in (("alpha", "beta"), ("beta", "alpha")):
        for event, scope in EXPECTED.items():
            found = [line for line in lines if f"chatty {who} {event}" in line]
            assert found, f"no line for {who} {event}:\n{text[-3000:]}"
            for line in found:
                assert f"[{who}|{scope}] chatty {who} {event}" in line, line
                assert f"[{other}|" not in line, line
        # kconnect's own lines for the task, and librdkafka's log line about its producer
        assert any(f"[{who}|task-0] " in line and "Task started" in line for line in lines)
        librdkafka = [
            line for line in lines if f"connector-producer-{who}-0" in line and "CONFWARN" in line
        ]
        assert librdkafka, f"no librdkafka line for {who}:\n{text[-3000:]}"
        assert all(f"[{who}|task-0] " in line for line in librdkafka), librdkafka


def test_json_lines_name_connector_and_task(
    plugin_on_path: str,
    tmp_path: Path,
    bootstrap_servers: str,
    unique_topic: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KCONNECT_LOG_FORMAT", "json")
    text = _run(tmp_path, bootstrap_servers, unique_topic)
    entries = []
    for line in text.splitlines():
        if line.startswith("{"):
            entries.append(orjson.loads(line))
    assert entries, text[-3000:]
    assert {"timestamp", "level", "logger", "thread", "message"} <= set(entries[0])
    for who in ("alpha", "beta"):
        for event, scope in EXPECTED.items():
            found = [e for e in entries if e["message"] == f"chatty {who} {event}"]
            assert found, f"no JSON line for {who} {event}"
            for entry in found:
                assert (entry.get("connector"), entry.get("task")) == (who, scope), entry
                assert entry["logger"] == "chatty_plugin"
        librdkafka = [e for e in entries if f"connector-producer-{who}-0" in e["message"]]
        assert librdkafka and all(e.get("connector") == who for e in librdkafka)
