"""Pytest fixtures for a real Kafka cluster, for kconnect's own tests and for plugin authors.

Use them from a ``conftest.py``::

    from kconnect.testing.fixtures import bootstrap_servers, kafka_cluster, unique_topic  # noqa: F401

``kafka_cluster`` starts one broker the first time a test asks for it and stops it when the
session ends; tests that never ask for it never start Java.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from kconnect.testing.kafka_cluster import KafkaCluster


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[KafkaCluster]:
    """A one-broker Kafka cluster shared by the whole test session."""
    with KafkaCluster(brokers=1) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def bootstrap_servers(kafka_cluster: KafkaCluster) -> str:
    """``bootstrap.servers`` of the session's Kafka cluster."""
    return kafka_cluster.bootstrap_servers


@pytest.fixture
def unique_topic(request: pytest.FixtureRequest) -> str:
    """A topic name no other test uses; the topic itself is not created.

    Producers create it on first write (``auto.create.topics.enable=true``); call
    ``kafka_cluster.create_topic(unique_topic, partitions=…)`` for other partition counts.
    """
    # Topic names allow [a-zA-Z0-9._-] and at most 249 characters.
    base = re.sub(r"[^a-zA-Z0-9._-]+", "-", request.node.name).strip("-")[:80]
    return f"test-{base}-{uuid.uuid4().hex[:8]}"
