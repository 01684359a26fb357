"""Reading, altering and resetting a connector's offsets (KIP-875, ``/connectors/{c}/offsets``).

Source connectors: the offsets live in the worker's offset store under Kafka Connect's keys
``["<connector>", {partition}]``. Sink connectors: the offsets are the committed offsets of the
consumer group ``connect-<connector>``, shown as ``{"kafka_topic", "kafka_partition"}`` ->
``{"kafka_offset"}``. The herder checks that the connector is STOPPED before a change.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException
from confluent_kafka import TopicPartition as KafkaTopicPartition
from confluent_kafka.admin import AdminClient

from kconnect.api.connector import SinkConnector, SourceConnector
from kconnect.api.errors import ConnectException
from kconnect.api.storage import freeze
from kconnect.api.topic_partition import TopicPartition
from kconnect.runtime.plugin_calls import PluginTimeoutError, call_with_timeout
from kconnect.runtime.worker import client_configs
from kconnect.storage.offset_storage import (
    ConnectorOffsetReader,
    serialize_key,
    serialize_value,
)

log = logging.getLogger(__name__)

KAFKA_TOPIC_KEY = "kafka_topic"
KAFKA_PARTITION_KEY = "kafka_partition"
KAFKA_OFFSET_KEY = "kafka_offset"

#: (partition, offset or None) pairs as given in a PATCH body
OffsetEntries = Sequence[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]]


class OffsetRequestError(ConnectException):
    """The offsets in the request are malformed (REST answers 400)."""


def consumer_group_id(connector: str) -> str:
    return f"connect-{connector}"


def modified_message(connector_result: bool, reset: bool) -> str:
    """Kafka's wording: definite when the connector confirmed the change, hedged otherwise."""
    kind = "reset" if reset else "altered"
    if connector_result:
        return f"The offsets for this connector have been {kind} successfully"
    return (
        f"The Connect framework-managed offsets for this connector have been {kind} successfully. "
        f"However, if this connector manages offsets externally, they will need to be manually "
        f"{kind} in the system that the connector uses."
    )


class ConnectorOffsets:
    """Offset operations for one worker; every method runs on the herder's thread."""

    def __init__(self, worker: Any):
        self.worker = worker

    # -- reading -------------------------------------------------------------------------------
    def get(self, name: str, config: Mapping[str, str]) -> dict[str, Any]:
        """``{"offsets": [{"partition": …, "offset": …}]}``."""
        if self._is_sink(config):
            committed = self._sink_committed(name)
            return {
                "offsets": [
                    {
                        "partition": {KAFKA_TOPIC_KEY: tp.topic, KAFKA_PARTITION_KEY: tp.partition},
                        "offset": {KAFKA_OFFSET_KEY: offset},
                    }
                    for tp, offset in sorted(committed.items())
                ]
            }
        reader = ConnectorOffsetReader(name, self.worker.offset_store)
        return {"offsets": [{"partition": p, "offset": o} for p, o in reader.all_partitions()]}

    # -- changing ------------------------------------------------------------------------------
    def alter(self, name: str, config: Mapping[str, str], entries: OffsetEntries) -> str:
        if not entries:
            raise OffsetRequestError(
                "Partitions / offsets need to be provided for an alter offsets request"
            )
        if self._is_sink(config):
            return self._alter_sink(name, config, _parse_sink_offsets(entries), reset=False)
        return self._alter_source(name, config, _validate_source_offsets(entries), reset=False)

    def reset(self, name: str, config: Mapping[str, str]) -> str:
        if self._is_sink(config):
            targets: dict[TopicPartition, int | None] = {
                tp: None for tp in self._sink_committed(name)
            }
            return self._alter_sink(name, config, targets, reset=True)
        reader = ConnectorOffsetReader(name, self.worker.offset_store)
        return self._alter_source(
            name, config, [(p, None) for p, _ in reader.all_partitions()], reset=True
        )

    def _alter_source(
        self,
        name: str,
        config: Mapping[str, str],
        entries: list[tuple[dict[str, Any], dict[str, Any] | None]],
        reset: bool,
    ) -> str:
        connector = self._connector(config)
        assert isinstance(connector, SourceConnector)
        frozen = {freeze(p): o for p, o in entries}
        result = self._call(name, "alter_offsets", connector.alter_offsets, dict(config), frozen)
        if entries:
            self.worker.offset_store.set(
                {serialize_key(name, p): serialize_value(o) for p, o in entries}
            )
        return modified_message(bool(result), reset)

    def _alter_sink(
        self,
        name: str,
        config: Mapping[str, str],
        targets: dict[TopicPartition, int | None],
        reset: bool,
    ) -> str:
        connector = self._connector(config)
        assert isinstance(connector, SinkConnector)
        admin = self._admin()
        # Offsets are committed only for partitions that exist (the broker would take others
        # silently); removing one (null) is allowed for a topic deleted since.
        self._require_partitions(admin, [tp for tp, o in targets.items() if o is not None])
        result = self._call(
            name, "alter_offsets", connector.alter_offsets, dict(config), dict(targets)
        )
        group = consumer_group_id(name)
        if reset:
            self._delete_group(admin, group)
            return modified_message(bool(result), reset)
        to_set = [
            KafkaTopicPartition(tp.topic, tp.partition, o)
            for tp, o in targets.items()
            if o is not None
        ]
        to_delete = [tp for tp, o in targets.items() if o is None]
        if to_set:
            futures = admin.alter_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group, to_set)]
            )
            try:
                for future in futures.values():
                    future.result(timeout=self._timeout_s())
            except KafkaException as error:
                raise ConnectException(
                    f"Failed to alter consumer group offsets for connector {name}: {error}"
                ) from error
        if to_delete:
            self._delete_partition_offsets(name, admin, group, to_delete)
        return modified_message(bool(result), reset)

    # -- sink helpers --------------------------------------------------------------------------
    def _require_partitions(self, admin: AdminClient, partitions: list[TopicPartition]) -> None:
        if not partitions:
            return
        try:
            topics = admin.list_topics(timeout=self._timeout_s()).topics
        except KafkaException as error:
            raise ConnectException(
                f"Failed to list the topics of the Kafka cluster: {error}"
            ) from error
        for tp in sorted(partitions):
            metadata = topics.get(tp.topic)
            if metadata is None or metadata.error is not None:
                raise OffsetRequestError(
                    f"Topic '{tp.topic}' (in '{KAFKA_TOPIC_KEY}') does not exist; offsets can "
                    "only be set for partitions that exist"
                )
            if tp.partition not in metadata.partitions:
                raise OffsetRequestError(
                    f"Partition {tp.partition} (in '{KAFKA_PARTITION_KEY}') of topic "
                    f"'{tp.topic}' does not exist: the topic has {len(metadata.partitions)} "
                    "partition(s)"
                )

    def _sink_committed(self, name: str) -> dict[TopicPartition, int]:
        admin = self._admin()
        futures = admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(consumer_group_id(name))]
        )
        try:
            result = next(iter(futures.values())).result(timeout=self._timeout_s())
        except KafkaException as error:
            if _is_group_missing(error):
                return {}
            raise ConnectException(
                f"Failed to retrieve consumer group offsets for sink connector {name}: {error}"
            ) from error
        return {
            TopicPartition(tp.topic, tp.partition): tp.offset
            for tp in result.topic_partitions or []
            if tp.offset >= 0
        }

    def _delete_group(self, admin: AdminClient, group: str) -> None:
        futures = admin.delete_consumer_groups([group], request_timeout=self._timeout_s())
        try:
            for future in futures.values():
                future.result(timeout=self._timeout_s())
        except KafkaException as error:
            if _is_group_missing(error):
                return
            raise ConnectException(
                f"Failed to reset consumer group offsets for group {group}: {error}"
            ) from error

    def _delete_partition_offsets(
        self, name: str, admin: AdminClient, group: str, partitions: list[TopicPartition]
    ) -> None:
        committed = self._sink_committed(name)
        remaining = set(committed) - set(partitions)
        if not remaining:
            # Nothing would be left: dropping the whole group is the same and needs no extra client.
            self._delete_group(admin, group)
            return
        # confluent-kafka has no OffsetDelete call; kafka-python (already a dependency) has.
        from kafka.admin import KafkaAdminClient
        from kafka.structs import TopicPartition as KpTopicPartition

        from kconnect.runtime.distributed.kafka_python_client import kafka_python_config

        # The worker's admin security settings (SSL stores, SASL), as its other admin clients.
        settings = kafka_python_config(
            client_configs.worker_client_props(self.worker.props, "admin.")
        )
        settings.update(
            bootstrap_servers=list(self.worker.config.get("bootstrap.servers")),
            client_id=f"connect-offsets-{name}",
        )
        client = KafkaAdminClient(
            **{k: v for k, v in settings.items() if k in KafkaAdminClient.DEFAULT_CONFIG}
        )
        try:
            client.delete_group_offsets(
                group, [KpTopicPartition(tp.topic, tp.partition) for tp in partitions]
            )
        except Exception as error:  # noqa: BLE001 - reported to the REST caller
            raise ConnectException(
                f"Failed to delete consumer group offsets for connector {name}: {error}"
            ) from error
        finally:
            client.close()

    # -- plumbing ------------------------------------------------------------------------------
    def _is_sink(self, config: Mapping[str, str]) -> bool:
        return self.worker.connector_type_of(config) == "sink"

    def _connector(self, config: Mapping[str, str]) -> Any:
        return self.worker.connector_class(config["connector.class"])()

    def _call(self, name: str, method: str, fn: Any, *args: Any) -> Any:
        try:
            return call_with_timeout(
                f"Connector {name} {method}()", self.worker.plugin_call_timeout_s, fn, *args
            )
        except NotImplementedError as error:
            raise ConnectException(
                f"Failed to modify offsets for connector {name} because it doesn't "
                "support external modification of offsets"
            ) from error
        except PluginTimeoutError:
            raise
        except ConnectException as error:
            # The plugin API's way to refuse offsets: the request is at fault (400), and the
            # connector's message says which field.
            raise OffsetRequestError(f"Connector {name} refused the offsets: {error}") from error

    def _admin(self) -> AdminClient:
        return client_configs.create_client(AdminClient, self.worker.admin_config(), "admin client")

    def _timeout_s(self) -> float:
        return max(1.0, self.worker.plugin_call_timeout_s)


def _is_group_missing(error: KafkaException) -> bool:
    code = error.args[0].code() if error.args and isinstance(error.args[0], KafkaError) else None
    return code == KafkaError.GROUP_ID_NOT_FOUND


def _validate_source_offsets(
    entries: OffsetEntries,
) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Kafka's OffsetUtils.validateFormat: string keys, primitive values."""
    out = []
    for partition, offset in entries:
        if partition is None:
            raise OffsetRequestError(
                "The partition for a source connector offset cannot be null or missing"
            )
        for what in (partition, offset):
            if what is None:
                continue
            if not isinstance(what, Mapping):
                raise OffsetRequestError("Offsets must be specified as a Map")
            for key, value in what.items():
                if not isinstance(key, str):
                    raise OffsetRequestError("Offsets may only use String keys")
                if value is not None and not isinstance(value, (str, int, float, bool)):
                    kind = "ARRAY" if isinstance(value, list) else "MAP"
                    raise OffsetRequestError(
                        f"Offsets may only contain primitive types as values, but field "
                        f"{key} contains {kind}"
                    )
        out.append((dict(partition), dict(offset) if offset is not None else None))
    return out


def _parse_sink_offsets(entries: OffsetEntries) -> dict[TopicPartition, int | None]:
    """Kafka's SinkUtils.parseSinkConnectorOffsets, with its messages."""
    parsed: dict[TopicPartition, int | None] = {}
    for partition, offset in entries:
        if partition is None:
            raise OffsetRequestError(
                "The partition for a sink connector offset cannot be null or missing"
            )
        if KAFKA_TOPIC_KEY not in partition or KAFKA_PARTITION_KEY not in partition:
            raise OffsetRequestError(
                f"The partition for a sink connector offset must contain the keys "
                f"'{KAFKA_TOPIC_KEY}' and '{KAFKA_PARTITION_KEY}'"
            )
        if partition[KAFKA_TOPIC_KEY] is None:
            raise OffsetRequestError("Kafka topic names must be valid strings and may not be null")
        if partition[KAFKA_PARTITION_KEY] is None:
            raise OffsetRequestError("Kafka partitions must be valid numbers and may not be null")
        raw_partition = partition[KAFKA_PARTITION_KEY]
        try:
            number = _java_int(raw_partition)
        except ValueError:
            raise OffsetRequestError(
                f"Failed to parse the following Kafka partition value in the provided "
                f"offsets: '{raw_partition}'. Partition values for sink connectors need "
                "to be integers."
            ) from None
        if not 0 <= number <= _INT_MAX:
            raise OffsetRequestError(
                f"Kafka partitions must be between 0 and {_INT_MAX}, but '{KAFKA_PARTITION_KEY}' "
                f"is {number}"
            )
        topic = str(partition[KAFKA_TOPIC_KEY])
        topic_problem = _topic_name_problem(topic)
        if topic_problem is not None:
            raise OffsetRequestError(
                f"Invalid Kafka topic name {topic!r} in '{KAFKA_TOPIC_KEY}': {topic_problem}"
            )
        tp = TopicPartition(topic, number)
        if offset is None:
            parsed[tp] = None
            continue
        if not isinstance(offset, Mapping) or KAFKA_OFFSET_KEY not in offset:
            raise OffsetRequestError(
                f"The offset for a sink connector should either be null or contain "
                f"the key '{KAFKA_OFFSET_KEY}'"
            )
        raw_offset = offset[KAFKA_OFFSET_KEY]
        try:
            value = _java_int(raw_offset)
        except ValueError:
            raise OffsetRequestError(
                f"Failed to parse the following Kafka offset value in the provided "
                f"offsets: '{raw_offset}'. Offset values for sink connectors need "
                "to be integers."
            ) from None
        if not 0 <= value <= _LONG_MAX:
            raise OffsetRequestError(
                f"Kafka offsets must be between 0 and {_LONG_MAX}, but '{KAFKA_OFFSET_KEY}' "
                f"for {tp.topic}-{tp.partition} is {value} (use a null offset to reset it)"
            )
        parsed[tp] = value
    return parsed


_INT_MAX = 2**31 - 1
_LONG_MAX = 2**63 - 1
_TOPIC_CHARS = re.compile(r"[a-zA-Z0-9._-]+")


def _topic_name_problem(topic: str) -> str | None:
    """Kafka's topic name rules (its Topic.validate), in a sentence; None for a valid name."""
    if not topic:
        return "Kafka topic names may not be empty"
    if topic in (".", ".."):
        return "Kafka topic names cannot be '.' or '..'"
    if len(topic) > 249:
        return "Kafka topic names can be at most 249 characters long"
    if not _TOPIC_CHARS.fullmatch(topic):
        return "Kafka topic names may only contain ASCII alphanumerics, '.', '_' and '-'"
    return None


def _java_int(value: Any) -> int:
    """Both 10 and "10" are accepted, as Kafka parses ``String.valueOf(value)``; 1.5 is not."""
    if isinstance(value, bool):
        raise ValueError(value)  # noqa: TRY004 - the callers catch ValueError for every bad value
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        raise ValueError(value)
    return int(text)
