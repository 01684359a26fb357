"""Fixtures every test can use; the Kafka ones start a broker only when a test asks for one."""

from kconnect.testing.fixtures import bootstrap_servers, kafka_cluster, unique_topic

__all__ = ["bootstrap_servers", "kafka_cluster", "unique_topic"]
