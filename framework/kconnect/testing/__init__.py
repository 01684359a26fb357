"""A real Apache Kafka cluster (KRaft, loopback only) for tests, benchmarks and the quickstart.

``KafkaCluster`` starts one or more brokers from Apache Kafka's own jars, fetched once with
Maven into ``$KCONNECT_CACHE`` (default ``~/.cache/kconnect``) or taken from ``$KAFKA_HOME``.
Pytest fixtures built on it live in :mod:`kconnect.testing.fixtures`.
"""

from kconnect.testing.kafka_cluster import KafkaCluster
from kconnect.testing.kafka_jars import KafkaSetupError, kafka_libs, kafka_version

__all__ = ["KafkaCluster", "KafkaSetupError", "kafka_libs", "kafka_version"]
