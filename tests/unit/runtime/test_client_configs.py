"""Java client settings become librdkafka settings."""

from __future__ import annotations

import pytest
from kconnect.api.errors import ConfigException
from kconnect.runtime.worker.client_configs import (
    connector_overrides,
    to_librdkafka,
    worker_client_props,
)


def test_renamed_dropped_and_passed_keys():
    out = to_librdkafka(
        {
            "bootstrap.servers": "a:1",
            "sasl.mechanism": "PLAIN",
            "max.request.size": "2000000",
            "key.serializer": "org.apache.kafka.common.serialization.ByteArraySerializer",
            "linger.ms": "10",
            "sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required "
            'username="u" password="p";',
            "partition.assignment.strategy": "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
        }
    )
    assert out == {
        "bootstrap.servers": "a:1",
        "sasl.mechanisms": "PLAIN",
        "message.max.bytes": "2000000",
        "linger.ms": "10",
        "sasl.username": "u",
        "sasl.password": "p",
        "partition.assignment.strategy": "cooperative-sticky",
    }


def test_worker_prefixes_override_shared_keys():
    worker = {
        "bootstrap.servers": "a:1",
        "security.protocol": "SSL",
        "producer.linger.ms": "5",
        "producer.security.protocol": "PLAINTEXT",
        "consumer.max.poll.records": "10",
        "other": "x",
    }
    assert worker_client_props(worker, "producer.") == {
        "bootstrap.servers": "a:1",
        "security.protocol": "PLAINTEXT",
        "linger.ms": "5",
    }


def test_connector_overrides_follow_the_policy():
    props = {"producer.override.linger.ms": "1", "name": "c"}
    assert connector_overrides(props, "producer.override.", "All", "c") == {"linger.ms": "1"}
    with pytest.raises(ConfigException, match="not allowed to be overridden"):
        connector_overrides(props, "producer.override.", "None", "c")
    with pytest.raises(ConfigException):
        connector_overrides(
            props,
            "producer.override.",
            "org.apache.kafka.connect.connector.policy.PrincipalConnectorClientConfigOverridePolicy",
            "c",
        )
