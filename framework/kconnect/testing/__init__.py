"""A real Apache Kafka cluster (KRaft, loopback only) for tests, benchmarks and the quickstart.

``KafkaCluster`` starts one or more brokers from Apache Kafka's own jars, fetched once with
Maven into ``$KCONNECT_CACHE`` (default ``~/.cache/kconnect``) or taken from ``$KAFKA_HOME``.
Pytest fixtures built on it live in :mod:`kconnect.testing.fixtures`; helpers for end-to-end
tests (``wait_until``, ``read_topic``, ``committed_offset``, ``running_herder``) in
:mod:`kconnect.testing.helpers`.
"""

from kconnect.testing.helpers import (
    committed_offset,
    herder_worker_props,
    read_topic,
    running_herder,
    wait_until,
)
from kconnect.testing.kafka_cluster import KafkaCluster
from kconnect.testing.kafka_jars import KafkaSetupError, kafka_libs, kafka_version

__all__ = [
    "KafkaCluster",
    "KafkaSetupError",
    "committed_offset",
    "herder_worker_props",
    "kafka_libs",
    "kafka_version",
    "read_topic",
    "running_herder",
    "wait_until",
]
