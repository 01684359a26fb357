"""Setting up the local Kafka cluster fails early and clearly when tools are missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kconnect.testing import KafkaCluster, KafkaSetupError, kafka_jars, kafka_libs
from kconnect.testing import kafka_cluster as kafka_cluster_module


@pytest.fixture
def empty_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No KAFKA_HOME, no JAVA_HOME, and an empty jar cache."""
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("KCONNECT_KAFKA_VERSION", raising=False)
    monkeypatch.setenv("KCONNECT_CACHE", str(tmp_path / "cache"))
    return tmp_path


def _hide(monkeypatch: pytest.MonkeyPatch, *missing: str) -> None:
    real_which = shutil.which

    def which(cmd: str, *args: object, **kwargs: object) -> str | None:
        return None if cmd in missing else real_which(cmd, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(shutil, "which", which)


def test_missing_java_is_named(monkeypatch: pytest.MonkeyPatch, empty_environment: Path) -> None:
    _hide(monkeypatch, "java")

    with pytest.raises(KafkaSetupError, match=r"Java was not found.*JDK"):
        KafkaCluster().start()


def test_missing_maven_is_named(monkeypatch: pytest.MonkeyPatch, empty_environment: Path) -> None:
    _hide(monkeypatch, "mvn")

    with pytest.raises(KafkaSetupError, match=r"Maven \(mvn\) was not found.*KAFKA_HOME"):
        kafka_libs()
    assert not (empty_environment / "cache").exists()


def test_start_checks_tools_before_creating_anything(
    monkeypatch: pytest.MonkeyPatch, empty_environment: Path
) -> None:
    _hide(monkeypatch, "java", "mvn")
    cluster = KafkaCluster()

    with pytest.raises(KafkaSetupError):
        cluster.start()
    assert cluster.data_dir is None


def test_kafka_home_libs_are_used_without_maven(
    monkeypatch: pytest.MonkeyPatch, empty_environment: Path
) -> None:
    _hide(monkeypatch, "mvn")
    libs = empty_environment / "kafka" / "libs"
    libs.mkdir(parents=True)
    (libs / "kafka_2.13-4.9.9.jar").touch()
    monkeypatch.setenv("KAFKA_HOME", str(libs.parent))

    assert kafka_libs() == libs
    assert kafka_jars.kafka_version() == "4.9.9"


def test_kafka_home_without_jars_is_an_error(
    monkeypatch: pytest.MonkeyPatch, empty_environment: Path
) -> None:
    monkeypatch.setenv("KAFKA_HOME", str(empty_environment))

    with pytest.raises(KafkaSetupError, match="KAFKA_HOME"):
        kafka_libs()


def test_pinned_version_is_kafka_4() -> None:
    assert kafka_jars.KAFKA_VERSION.startswith("4.")


@pytest.mark.parametrize(
    ("brokers", "rf", "min_isr"), [(1, "1", "1"), (2, "2", "1"), (3, "3", "2")]
)
def test_internal_topic_replication_follows_broker_count(
    brokers: int, rf: str, min_isr: str
) -> None:
    props = kafka_cluster_module.broker_properties(
        0, brokers, list(range(9000, 9000 + brokers)), list(range(9100, 9100 + brokers)), Path("/d")
    )

    assert props["offsets.topic.replication.factor"] == rf
    assert props["transaction.state.log.replication.factor"] == rf
    assert props["transaction.state.log.min.isr"] == min_isr
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9000,CONTROLLER://127.0.0.1:9100"
    voters = ",".join(f"{i}@127.0.0.1:{9100 + i}" for i in range(brokers))
    assert props["controller.quorum.voters"] == voters


def test_broker_config_overrides_defaults() -> None:
    props = kafka_cluster_module.broker_properties(
        0, 1, [9000], [9100], Path("/d"), {"auto.create.topics.enable": False, "num.partitions": 4}
    )

    assert props["auto.create.topics.enable"] == "false"
    assert props["num.partitions"] == "4"


def test_cluster_id_is_22_url_safe_characters() -> None:
    cluster_id = KafkaCluster().cluster_id

    assert len(cluster_id) == 22
    assert set(cluster_id) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
