"""A connector whose topic comes from ``${file:…}`` works, and the resolved value is nowhere a
user or operator could read it: not in the herder's config (what REST ``GET
/connectors/{c}/config`` returns), not in the task configs, not in the logs, not in the config
storage file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from kconnect.testing import (
    KafkaCluster,
    herder_worker_props,
    read_topic,
    running_herder,
    wait_until,
)


def consume_values(bootstrap: str, topic: str, count: int) -> list[bytes]:
    return [message.value() for message in read_topic(bootstrap, topic, count)]


def test_topic_from_a_file_provider_is_used_but_never_stored_shown_or_logged(
    kafka_cluster: KafkaCluster,
    bootstrap_servers: str,
    unique_topic: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="kconnect")
    caplog.set_level(logging.DEBUG, logger="kconnect_builtins")
    secret_topic = f"{unique_topic}-secret"
    kafka_cluster.create_topic(secret_topic, partitions=1)
    secrets = tmp_path / "secrets.properties"
    secrets.write_text(f"topic={secret_topic}\n", encoding="utf-8")
    storage = tmp_path / "connectors.json"
    source_file = tmp_path / "input.txt"
    source_file.write_text("first\nsecond\n", encoding="utf-8")
    variable = f"${{file:{secrets}:topic}}"

    worker = herder_worker_props(
        bootstrap_servers,
        tmp_path,
        {
            "config.storage.file.filename": storage,
            "offset.flush.interval.ms": "500",
            "config.providers": "file",
            "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
        },
    )
    with running_herder(worker) as herder:
        herder.put_connector_config(
            "secret-source",
            {
                "connector.class": "FileStreamSource",
                "file": str(source_file),
                "topic": variable,
            },
            allow_replace=False,
        )

        assert consume_values(bootstrap_servers, secret_topic, 2) == [b"first", b"second"]
        assert herder.connector_status("secret-source")["tasks"][0]["state"] == "RUNNING"

        # What REST GET /connectors/{c}/config, /connectors/{c} and /connectors/{c}/tasks return
        assert herder.connector_config("secret-source")["topic"] == variable
        assert herder.connector_info("secret-source")["config"]["topic"] == variable
        [task] = herder.task_configs("secret-source")
        assert task["config"]["topic"] == variable
        for shown in (
            herder.connector_config("secret-source"),
            herder.connector_info("secret-source"),
            herder.task_configs("secret-source"),
            herder.connector_status("secret-source"),
        ):
            assert secret_topic not in repr(shown)
        # /validate checks the resolved config but answers with the variable
        infos = herder.validate(
            {
                "name": "secret-source",
                "connector.class": "FileStreamSource",
                "file": str(source_file),
                "topic": variable,
            }
        )
        assert infos["error_count"] == 0
        assert secret_topic not in repr(infos)

    assert variable in storage.read_text(encoding="utf-8")
    assert secret_topic not in storage.read_text(encoding="utf-8")
    assert caplog.records, "the run logged something"
    leaked = [r.getMessage() for r in caplog.records if secret_topic in r.getMessage()]
    assert leaked == []


def test_a_connector_restarted_from_storage_resolves_the_variable_again(
    kafka_cluster: KafkaCluster,
    bootstrap_servers: str,
    unique_topic: str,
    tmp_path: Path,
) -> None:
    first, second = f"{unique_topic}-a", f"{unique_topic}-b"
    for topic in (first, second):
        kafka_cluster.create_topic(topic, partitions=1)
    secrets = tmp_path / "secrets.properties"
    secrets.write_text(f"topic={first}\n", encoding="utf-8")
    source_file = tmp_path / "input.txt"
    source_file.write_text("one\n", encoding="utf-8")
    worker = herder_worker_props(
        bootstrap_servers,
        tmp_path,
        {
            "config.storage.file.filename": tmp_path / "connectors.json",
            "offset.flush.interval.ms": "200",
            "config.providers": "file",
            "config.providers.file.class": "FileConfigProvider",
        },
    )
    with running_herder(worker) as herder:
        herder.put_connector_config(
            "src",
            {
                "connector.class": "FileStreamSource",
                "file": str(source_file),
                "topic": f"${{file:{secrets}:topic}}",
            },
            allow_replace=False,
        )
        assert consume_values(bootstrap_servers, first, 1) == [b"one"]

    # The secret changes while the worker is down; the stored config still says ${file:...}.
    secrets.write_text(f"topic={second}\n", encoding="utf-8")
    with source_file.open("a", encoding="utf-8") as f:
        f.write("two\n")
    with running_herder(worker) as herder:
        wait_until(lambda: herder.connector_status("src")["tasks"], what="the task to start")
        assert consume_values(bootstrap_servers, second, 1) == [b"two"]
