"""``connect-distributed`` reads Apache Kafka's own sample worker file: the keys of Kafka's
config/connect-distributed.properties are accepted with their meaning, and bad values are named."""

from __future__ import annotations

import pytest
from kconnect.api.errors import ConfigException
from kconnect.cli.distributed import load_distributed_config
from kconnect.runtime.distributed.protocol import ConnectProtocolCompatibility

# The settings (not comments) of Kafka's sample config/connect-distributed.properties.
KAFKA_SAMPLE = """
bootstrap.servers=localhost:9092
group.id=connect-cluster
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.topic=connect-offsets
offset.storage.replication.factor=1
config.storage.topic=connect-configs
config.storage.replication.factor=1
status.storage.topic=connect-status
status.storage.replication.factor=1
offset.flush.interval.ms=10000
"""


def test_kafka_sample_file_is_accepted(tmp_path):
    path = tmp_path / "connect-distributed.properties"
    path.write_text(KAFKA_SAMPLE)
    config = load_distributed_config(str(path))
    assert config.get("group.id") == "connect-cluster"
    assert config.get("offset.storage.partitions") == 25
    assert config.get("status.storage.partitions") == 5
    assert config.get("config.storage.replication.factor") == 1
    assert config.get("session.timeout.ms") == 10000
    assert config.get("heartbeat.interval.ms") == 3000
    assert config.get("rebalance.timeout.ms") == 60000
    assert config.get("scheduled.rebalance.max.delay.ms") == 300000
    assert config.get("worker.sync.timeout.ms") == 3000
    assert config.get("inter.worker.key.ttl.ms") == 3600000
    assert config.get("offset.flush.interval.ms") == 10000
    assert (
        ConnectProtocolCompatibility.from_config(config.get("connect.protocol"))
        is ConnectProtocolCompatibility.SESSIONED
    )
    # Converter settings and client prefixes stay available to the worker.
    assert config.originals()["value.converter.schemas.enable"] == "true"


@pytest.mark.parametrize(
    "line, key",
    [
        ("connect.protocol=fancy", "connect.protocol"),
        ("scheduled.rebalance.max.delay.ms=-1", "scheduled.rebalance.max.delay.ms"),
        ("session.timeout.ms=soon", "session.timeout.ms"),
    ],
)
def test_bad_values_name_the_file_and_the_key(tmp_path, line, key):
    path = tmp_path / "worker.properties"
    path.write_text(KAFKA_SAMPLE + line + "\n")
    with pytest.raises(ConfigException) as raised:
        load_distributed_config(str(path))
    assert str(path) in str(raised.value) and key in str(raised.value)


def test_missing_group_id_is_named(tmp_path):
    path = tmp_path / "worker.properties"
    path.write_text(KAFKA_SAMPLE.replace("group.id=connect-cluster\n", ""))
    with pytest.raises(ConfigException, match="group.id"):
        load_distributed_config(str(path))
