"""The internal topics of a distributed cluster: their settings, creation and checks.

Invariant: a store only starts on a topic that keeps its data. The topic is created when
missing, with Kafka Connect's settings (``cleanup.policy=compact``, the configured partitions
and replication factor, extra topic settings from ``<prefix>*`` worker keys); an existing topic
whose cleanup policy is not exactly ``compact`` is refused, because the broker would delete
configs or offsets that the cluster still needs. Every broker call is bounded by
``default.api.timeout.ms`` (60 s) and an unreachable cluster is reported as such, naming
``bootstrap.servers``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    ConfigResource,
    NewTopic,
    OffsetSpec,
    ResourceType,
)

from kconnect.api.errors import ConfigException, ConnectException
from kconnect.runtime.worker.client_configs import (
    SHARED_CLIENT_PREFIXES,
    create_client,
    to_librdkafka,
)

log = logging.getLogger(__name__)
# librdkafka's own log lines go to logging (served by poll(), see _serve_logs).
_client_log = logging.getLogger("kconnect.storage.librdkafka")

DEFAULT_API_TIMEOUT_MS = 60000
_BACKOFF_S = 0.1
# Keys under a storage prefix that are worker settings, not topic settings.
_NOT_TOPIC_SETTINGS = ("topic", "partitions", "replication.factor", "file.filename", "class")


@dataclass(frozen=True)
class InternalTopic:
    """One internal topic as the worker config describes it."""

    name: str
    #: the worker key naming the topic (``config.storage.topic``), for messages
    topic_key: str
    #: what the topic keeps, in Kafka's words ("connector configurations")
    purpose: str
    partitions: int
    replication_factor: int
    replication_factor_key: str
    configs: Mapping[str, str] = field(default_factory=dict)


def _required(worker_props: Mapping[str, Any], key: str) -> str:
    value = str(worker_props.get(key) or "").strip()
    if not value:
        raise ConfigException(
            f'Missing required configuration "{key}" which has no default value.', name=key
        )
    return value


def _int_setting(worker_props: Mapping[str, Any], key: str, default: int) -> int:
    raw = worker_props.get(key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigException(
            f"Invalid value {raw} for configuration {key}: Not a number of type INT", name=key
        ) from None
    # Kafka's validator: a positive number, or -1 for the broker's default.
    if value == 0 or value < -1:
        raise ConfigException(
            f"Invalid value {value} for configuration {key}: Number of partitions and "
            "replication factor must be a positive number, or -1 to use the broker's default",
            name=key,
        )
    return value


def _topic_settings(worker_props: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """``<prefix>*`` worker keys that are topic settings (``config.storage.min.insync.replicas``)."""
    settings: dict[str, str] = {}
    for key, value in worker_props.items():
        if not key.startswith(prefix) or value is None:
            continue
        name = key[len(prefix) :]
        if name in _NOT_TOPIC_SETTINGS:
            continue
        if name == "cleanup.policy":
            log.warning("Ignoring '%s=%s' setting, since compaction is always used", key, value)
            continue
        settings[name] = str(value).lower() if isinstance(value, bool) else str(value)
    if prefix == "config.storage." and "partitions" in {
        k[len(prefix) :] for k in worker_props if k.startswith(prefix)
    }:
        log.warning(
            "Ignoring 'config.storage.partitions' setting: the config topic has 1 partition"
        )
    settings["cleanup.policy"] = "compact"
    return settings


def _internal_topic(
    worker_props: Mapping[str, Any], kind: str, purpose: str, partitions: int | None
) -> InternalTopic:
    """The ``<kind>.storage.*`` topic; ``partitions`` None means ``<kind>.storage.partitions``."""
    prefix = f"{kind}.storage."
    return InternalTopic(
        name=_required(worker_props, prefix + "topic"),
        topic_key=prefix + "topic",
        purpose=purpose,
        partitions=(
            partitions
            if partitions is not None
            else _int_setting(worker_props, prefix + "partitions", _DEFAULT_PARTITIONS[kind])
        ),
        replication_factor=_int_setting(worker_props, prefix + "replication.factor", 3),
        replication_factor_key=prefix + "replication.factor",
        configs=_topic_settings(worker_props, prefix),
    )


#: Kafka's defaults of offset.storage.partitions and status.storage.partitions
_DEFAULT_PARTITIONS = {"offset": 25, "status": 5}


def config_topic(worker_props: Mapping[str, Any]) -> InternalTopic:
    # One partition: the config log is totally ordered.
    return _internal_topic(worker_props, "config", "connector configurations", 1)


def offset_topic(worker_props: Mapping[str, Any]) -> InternalTopic:
    return _internal_topic(worker_props, "offset", "source connector offsets", None)


def status_topic(worker_props: Mapping[str, Any]) -> InternalTopic:
    return _internal_topic(worker_props, "status", "connector and task statuses", None)


def internal_client_props(worker_props: Mapping[str, Any]) -> dict[str, Any]:
    """Java client settings of the internal-topic clients: like Kafka Connect, the worker's
    own top-level connection and security settings (not its ``producer.``/``consumer.`` keys)."""
    props = {k: v for k, v in worker_props.items() if k.startswith(SHARED_CLIENT_PREFIXES)}
    props.setdefault("bootstrap.servers", "localhost:9092")
    return props


def client_id_base(worker_props: Mapping[str, Any]) -> str:
    """Kafka Connect's client id prefix: ``<group.id>[-<client.id>]-``."""
    base = str(worker_props.get("group.id") or "connect")
    user = str(worker_props.get("client.id") or "").strip()
    return f"{base}-{user}-" if user else f"{base}-"


def api_timeout_s(worker_props: Mapping[str, Any]) -> float:
    """How long one admin operation may take: the worker's ``default.api.timeout.ms``, which
    Kafka Connect also uses as the time allowed to create its internal topics."""
    try:
        return (
            max(int(worker_props.get("default.api.timeout.ms", DEFAULT_API_TIMEOUT_MS)), 1) / 1000
        )
    except (TypeError, ValueError):
        return DEFAULT_API_TIMEOUT_MS / 1000


class TopicAdmin:
    """An admin client for the internal topics."""

    def __init__(self, worker_props: Mapping[str, Any], client_id: str):
        props = internal_client_props(worker_props)
        self.bootstrap_servers = str(props["bootstrap.servers"])
        config = to_librdkafka(props, "admin client")
        config["client.id"] = client_id
        config["logger"] = _client_log
        self.admin: AdminClient = create_client(AdminClient, config, f"admin client {client_id}")

    def _serve_logs(self) -> None:
        self.admin.poll(0)

    def brokers(self, timeout_s: float) -> int:
        """The number of brokers; ConnectException naming bootstrap.servers if none answers."""
        self._serve_logs()
        try:
            return len(self.admin.list_topics(timeout=max(timeout_s, 0.1)).brokers)
        except KafkaException as error:
            raise ConnectException(
                f"Could not reach the Kafka cluster at bootstrap.servers={self.bootstrap_servers} "
                f"within {timeout_s:.0f} s ({_text(error)}). Check 'bootstrap.servers' and that "
                "the brokers are running and reachable from this worker."
            ) from error

    def partitions(self, topic: str, timeout_s: float) -> list[int]:
        """The topic's partition ids; empty when the topic does not exist (yet)."""
        try:
            metadata = self.admin.list_topics(topic, timeout=max(timeout_s, 0.1))
        except KafkaException as error:
            raise ConnectException(
                f"Could not read the metadata of topic '{topic}' from the Kafka cluster at "
                f"{self.bootstrap_servers}: {_text(error)}"
            ) from error
        described = metadata.topics.get(topic)
        if described is None or described.error is not None:
            return []
        return sorted(described.partitions)

    def ensure_topic(self, topic: InternalTopic, timeout_s: float) -> int:
        """Create ``topic`` if missing, check it if it exists; its number of partitions."""
        deadline = time.monotonic() + timeout_s
        brokers = self.brokers(timeout_s)
        while True:
            left = deadline - time.monotonic()
            error = self._create(topic, max(left, 0.1))
            if error is None:
                log.info("Created topic %s on brokers at %s", topic.name, self.bootstrap_servers)
                break
            if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                log.debug("Found existing topic '%s'", topic.name)
                self.verify_compacted(topic, max(deadline - time.monotonic(), 0.1))
                break
            # Kafka retries these until its timeout: brokers may still be registering.
            retriable = error.code() in (
                KafkaError.INVALID_REPLICATION_FACTOR,
                KafkaError.REQUEST_TIMED_OUT,
                KafkaError._TIMED_OUT,
            )
            if not retriable or time.monotonic() + 1.0 >= deadline:
                raise self._creation_error(topic, error, brokers)
            log.info(
                "'%s' topic creation failed due to '%s', retrying, %d ms remaining",
                topic.name,
                error.str(),
                (deadline - time.monotonic()) * 1000,
            )
            time.sleep(1.0)
            brokers = self.brokers(max(deadline - time.monotonic(), 0.1))
        while True:
            partitions = self.partitions(topic.name, max(deadline - time.monotonic(), 0.1))
            if partitions:
                return len(partitions)
            if time.monotonic() >= deadline:
                raise ConnectException(
                    f"Could not look up partition metadata for topic '{topic.name}' in the "
                    "allotted period. This could indicate a connectivity issue, unavailable topic "
                    "partitions, or if this is your first use of the topic it may have taken too "
                    "long to create."
                )
            time.sleep(0.1)

    def _create(self, topic: InternalTopic, timeout_s: float) -> KafkaError | None:
        new_topic = NewTopic(
            topic.name,
            num_partitions=topic.partitions,
            replication_factor=topic.replication_factor,
            config=dict(topic.configs),
        )
        futures = self.admin.create_topics(
            [new_topic], operation_timeout=timeout_s, request_timeout=timeout_s
        )
        try:
            futures[topic.name].result(timeout=timeout_s + 1)
            return None
        except KafkaException as error:
            return error.args[0]
        except TimeoutError:
            return KafkaError(KafkaError._TIMED_OUT, f"no answer within {timeout_s:.0f} s")

    def _creation_error(
        self, topic: InternalTopic, error: KafkaError, brokers: int
    ) -> ConnectException:
        reason = str(error.str()).rstrip(".")
        message = f"Unable to create topic '{topic.name}' for {topic.purpose}: {reason}"
        if error.code() == KafkaError.INVALID_REPLICATION_FACTOR:
            return ConfigException(
                f"{message}. The replication factor {topic.replication_factor} set by "
                f"'{topic.replication_factor_key}' is more than the {brokers} broker(s) of the "
                f"Kafka cluster at {self.bootstrap_servers}: set '{topic.replication_factor_key}' "
                f"to at most {brokers}, or to -1 to use the broker's default.replication.factor.",
                name=topic.replication_factor_key,
            )
        if error.code() in (KafkaError.REQUEST_TIMED_OUT, KafkaError._TIMED_OUT):
            return ConnectException(
                f"Timed out while checking for or creating topic(s) '{topic.name}'. This could "
                "indicate a connectivity issue, unavailable topic partitions, or if this is your "
                "first use of the topic it may have taken too long to create."
            )
        return ConnectException(message)

    def verify_compacted(self, topic: InternalTopic, timeout_s: float) -> None:
        """Refuse a topic whose cleanup policy is not exactly ``compact`` (Kafka's message)."""
        resource = ConfigResource(ResourceType.TOPIC, topic.name)
        try:
            future = self.admin.describe_configs([resource], request_timeout=timeout_s)[resource]
            entry = future.result(timeout=timeout_s + 1).get("cleanup.policy")
        except (KafkaException, TimeoutError) as error:
            # As Kafka: without the permission to describe configs, trust the operator.
            log.info(
                "Unable to use admin client to verify the cleanup policy of '%s' topic is "
                "'compact' (%s)",
                topic.name,
                error,
            )
            return
        if entry is None or entry.value is None:
            return
        policies = {p.strip().lower() for p in entry.value.split(",") if p.strip()}
        if policies != {"compact"}:
            found = ",".join(sorted(policies))
            raise ConfigException(
                f"Topic '{topic.name}' supplied via the '{topic.topic_key}' property is required "
                f"to have 'cleanup.policy=compact' to guarantee consistency and durability of "
                f"{topic.purpose}, but found the topic currently has 'cleanup.policy={found}'. "
                f"Continuing would likely result in eventually losing {topic.purpose} and "
                "problems restarting this Connect cluster in the future. Change the "
                f"'{topic.topic_key}' property in the Connect worker configurations to use a "
                "topic with 'cleanup.policy=compact'.",
                name=topic.topic_key,
            )

    def end_offsets(self, topic: str, partitions: list[int], timeout_s: float) -> dict[int, int]:
        """The high watermark of each partition (what a read_uncommitted consumer can reach).
        Retriable errors (a new topic's leaders not yet known, a leader moving) are retried
        until ``timeout_s`` is over, then raised as TimeoutError."""
        deadline = time.monotonic() + timeout_s
        request = {TopicPartition(topic, p): OffsetSpec.latest() for p in partitions}
        while True:
            self._serve_logs()
            left = max(deadline - time.monotonic(), 0.1)
            try:
                futures = self.admin.list_offsets(request, request_timeout=left)
                return {
                    tp.partition: future.result(timeout=left + 1).offset
                    for tp, future in futures.items()
                }
            except (KafkaException, TimeoutError) as error:
                retriable = isinstance(error, TimeoutError) or _retriable(error)
                if not retriable or time.monotonic() + _BACKOFF_S >= deadline:
                    raise TimeoutError(
                        f"Could not read the end offsets of topic '{topic}' from the Kafka "
                        f"cluster at {self.bootstrap_servers} within {timeout_s:.1f} s: "
                        f"{_text(error)}"
                    ) from error
                log.debug("Retrying end offsets of %s after: %s", topic, _text(error))
                time.sleep(_BACKOFF_S)

    def close(self) -> None:
        """AdminClient has no close(); dropping the reference frees it."""
        self.admin = None  # type: ignore[assignment]


# Errors that waiting does not cure; anything else (leaders moving, epochs catching up on a new
# topic, timeouts, brokers restarting) is retried until the caller's deadline, as Kafka does.
_FATAL_CODES = (
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    KafkaError.SASL_AUTHENTICATION_FAILED,
    KafkaError._AUTHENTICATION,
    KafkaError.UNSUPPORTED_VERSION,
    KafkaError.INVALID_REQUEST,
    KafkaError._INVALID_ARG,
)


def _retriable(error: KafkaException) -> bool:
    kafka_error = error.args[0] if error.args else None
    if not isinstance(kafka_error, KafkaError):
        return False
    return kafka_error.code() not in _FATAL_CODES


def _text(error: BaseException) -> str:
    if isinstance(error, KafkaException) and error.args and isinstance(error.args[0], KafkaError):
        return str(error.args[0].str())
    return str(error) or type(error).__name__
