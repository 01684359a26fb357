"""``header.converter`` is wired through both pipelines: SimpleHeaderConverter (the default) and
StringConverter write source record headers as Kafka does, and sink tasks get typed headers back."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

import pytest
from kconnect.api import (
    Headers,
    SinkConnector,
    SinkRecord,
    SinkTask,
    SourceConnector,
    SourceRecord,
    SourceTask,
)
from kconnect.runtime.standalone.herder import StandaloneHerder
from kconnect.testing import (
    KafkaCluster,
    herder_worker_props,
    read_topic,
    running_herder,
    wait_until,
)

RECEIVED: dict[str, list[SinkRecord]] = {}


class HeaderSourceTask(SourceTask):
    def start(self, props: Mapping[str, str]) -> None:
        self.topic = props["topic"]
        self.sent = False

    def poll(self) -> list[SourceRecord] | None:
        if self.sent:
            time.sleep(0.1)
            return None
        self.sent = True
        headers = Headers().add("text", "hello").add("number", 42).add("flag", True)
        return [SourceRecord(None, None, self.topic, None, None, None, "v", headers=headers)]

    def stop(self) -> None:
        pass


class HeaderSourceConnector(SourceConnector):
    def start(self, props: Mapping[str, str]) -> None:
        self.props = dict(props)

    def task_class(self) -> type[SourceTask]:
        return HeaderSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def stop(self) -> None:
        pass


class CollectingSinkTask(SinkTask):
    def start(self, props: Mapping[str, str]) -> None:
        self.name = props["name"]

    def put(self, records: Collection[SinkRecord]) -> None:
        RECEIVED.setdefault(self.name, []).extend(records)

    def stop(self) -> None:
        pass


class CollectingSinkConnector(SinkConnector):
    def start(self, props: Mapping[str, str]) -> None:
        self.props = dict(props)

    def task_class(self) -> type[SinkTask]:
        return CollectingSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def stop(self) -> None:
        pass


@pytest.fixture
def herder(tmp_path: Path, bootstrap_servers: str) -> Iterator[StandaloneHerder]:
    # The test's connectors are named by Python path: this module must be allowed.
    props = herder_worker_props(
        bootstrap_servers, tmp_path, {"plugin.import.allowed.prefixes": __name__}
    )
    with running_herder(props) as running:
        yield running


@pytest.mark.parametrize(
    "header_converter", [None, "org.apache.kafka.connect.storage.StringConverter"]
)
def test_source_headers_are_written_by_the_header_converter(
    kafka_cluster: KafkaCluster,
    bootstrap_servers: str,
    unique_topic: str,
    herder: StandaloneHerder,
    header_converter: str | None,
) -> None:
    kafka_cluster.create_topic(unique_topic, partitions=1)
    config = {"connector.class": f"{__name__}.HeaderSourceConnector", "topic": unique_topic}
    if header_converter:
        config["header.converter"] = header_converter
    herder.put_connector_config("headers-src", config, allow_replace=False)

    [message] = read_topic(bootstrap_servers, unique_topic, 1)
    # SimpleHeaderConverter and StringConverter both write these as their text, as Kafka does.
    assert message.headers() == [("text", b"hello"), ("number", b"42"), ("flag", b"true")]


def test_sink_tasks_get_headers_typed_by_the_simple_header_converter(
    kafka_cluster: KafkaCluster,
    bootstrap_servers: str,
    unique_topic: str,
    herder: StandaloneHerder,
) -> None:
    kafka_cluster.create_topic(unique_topic, partitions=1)
    herder.put_connector_config(
        "headers-src",
        {"connector.class": f"{__name__}.HeaderSourceConnector", "topic": unique_topic},
        allow_replace=False,
    )
    herder.put_connector_config(
        "headers-sink",
        {"connector.class": f"{__name__}.CollectingSinkConnector", "topics": unique_topic},
        allow_replace=False,
    )
    [record] = wait_until(lambda: RECEIVED.get("headers-sink"), what="the record in the sink")
    values = {h.key: h.value for h in record.headers}
    assert values == {"text": "hello", "number": 42, "flag": True}
