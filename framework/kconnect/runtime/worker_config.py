"""The worker's own settings (worker.properties), with Kafka Connect's keys and defaults.

Keys the worker does not define are kept too: client settings (``producer.*``, ``ssl.*`` …)
and converter settings (``key.converter.schemas.enable``) are read from the originals.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

from kconnect.api.config import AbstractConfig, ConfigDef, Range, ValidString

T = ConfigDef.Type
I = ConfigDef.Importance  # noqa: E741

COMMON_GROUP = "Common"


def _common_definition() -> ConfigDef:
    return (
        ConfigDef()
        .define(
            "bootstrap.servers",
            T.LIST,
            "localhost:9092",
            None,
            I.HIGH,
            "A list of host/port pairs used to establish the initial connection to the Kafka cluster.",
        )
        .define(
            "key.converter",
            T.CLASS,
            ConfigDef.NO_DEFAULT_VALUE,
            None,
            I.HIGH,
            "Converter class used to convert between Kafka Connect format and the serialized form "
            "that is written to Kafka. This controls the format of the keys in messages.",
        )
        .define(
            "value.converter",
            T.CLASS,
            ConfigDef.NO_DEFAULT_VALUE,
            None,
            I.HIGH,
            "Converter class used for the values in messages.",
        )
        .define(
            "header.converter",
            T.CLASS,
            "org.apache.kafka.connect.storage.SimpleHeaderConverter",
            None,
            I.LOW,
            "HeaderConverter class used to convert between Kafka Connect format and "
            "the serialized form that is written to Kafka.",
        )
        .define(
            "offset.flush.interval.ms",
            T.LONG,
            60000,
            Range.at_least(0),
            I.LOW,
            "Interval at which to try committing offsets for tasks.",
        )
        .define(
            "offset.flush.timeout.ms",
            T.LONG,
            5000,
            Range.at_least(0),
            I.LOW,
            "Maximum number of milliseconds to wait for records to flush and partition offset data "
            "to be committed to offset storage before cancelling the process and restoring the "
            "offset data to be committed in a future attempt.",
        )
        .define(
            "task.shutdown.graceful.timeout.ms",
            T.LONG,
            5000,
            Range.at_least(0),
            I.LOW,
            "Amount of time to wait for tasks to shutdown gracefully.",
        )
        .define(
            "plugin.path",
            T.LIST,
            "",
            None,
            I.LOW,
            "Accepted for compatibility; plugins are found through Python entry points.",
        )
        .define(
            "listeners",
            T.LIST,
            "http://:8083",
            None,
            I.LOW,
            "List of comma-separated URIs the REST API will listen on.",
        )
        .define(
            "rest.host.name", T.STRING, None, None, I.LOW, "Deprecated: hostname for the REST API."
        )
        .define("rest.port", T.INT, None, None, I.LOW, "Deprecated: port for the REST API.")
        .define(
            "rest.advertised.host.name",
            T.STRING,
            None,
            None,
            I.LOW,
            "If this is set, this is the hostname that will be given out to other workers.",
        )
        .define(
            "rest.advertised.port",
            T.INT,
            None,
            None,
            I.LOW,
            "If this is set, this is the port that will be given out to other workers.",
        )
        .define(
            "rest.advertised.listener",
            T.STRING,
            None,
            None,
            I.LOW,
            "Sets the advertised listener (HTTP or HTTPS) which will be given to other workers.",
        )
        .define(
            "admin.listeners",
            T.LIST,
            None,
            None,
            I.LOW,
            "List of comma-separated URIs the Admin REST API (/admin) will listen on. Unset: "
            "/admin is served on the listeners. An empty value disables the Admin REST API.",
        )
        .define(
            "rest.extension.classes",
            T.LIST,
            "",
            None,
            I.LOW,
            "Comma-separated names of ConnectRestExtension classes, loaded and called in the "
            "order specified (e.g. Kafka's BasicAuthSecurityRestExtension). An unknown name "
            "stops the worker.",
        )
        .define(
            "rest.basic.auth.jaas.config.file",
            T.STRING,
            None,
            None,
            I.LOW,
            "kconnect only: the JAAS configuration file (with a KafkaConnect entry) that "
            "BasicAuthSecurityRestExtension reads users from. Unset: "
            "-Djava.security.auth.login.config=<file> in KAFKA_OPTS, as for Kafka Connect.",
        )
        .define(
            "access.control.allow.origin",
            T.STRING,
            "",
            None,
            I.LOW,
            "Value to set the Access-Control-Allow-Origin header to for REST API requests.",
        )
        .define(
            "access.control.allow.methods",
            T.STRING,
            "",
            None,
            I.LOW,
            "Sets the methods supported for cross origin requests.",
        )
        .define(
            "response.http.headers.config",
            T.STRING,
            "",
            None,
            I.LOW,
            "Rules for REST API HTTP response headers.",
        )
        .define(
            "rest.request.timeout.ms",
            T.LONG,
            90000,
            Range.at_least(1),
            I.LOW,
            "How long a REST request waits for the herder before it fails with 500.",
        )
        .define(
            "rest.request.max.bytes",
            T.LONG,
            4 * 1024 * 1024,
            Range.at_least(0),
            I.LOW,
            "kconnect only: the largest REST request body accepted, in bytes (for a chunked "
            "body, as sent). A larger one is answered 413 before it is read into memory.",
        )
        .define(
            "rest.request.read.timeout.ms",
            T.LONG,
            30000,
            Range.at_least(1),
            I.LOW,
            "kconnect only: how long a client may take to send a whole REST request, head and "
            "body, from its first byte (from the connection, for a new one). A request not "
            "complete by then is answered 408 and its connection closed. Requests are read "
            "without holding a request thread, so slow clients do not starve others; the "
            "same bound applies to a client reading its answer.",
        )
        .define(
            "connector.client.config.override.policy",
            T.STRING,
            "All",
            None,
            I.MEDIUM,
            "Which client configurations connectors may override: All, None or Principal.",
        )
        .define(
            "topic.tracking.enable",
            T.BOOLEAN,
            True,
            None,
            I.LOW,
            "Enable tracking the set of active topics per connector during runtime.",
        )
        .define(
            "topic.tracking.allow.reset",
            T.BOOLEAN,
            True,
            None,
            I.LOW,
            "If set to true, it allows user requests to reset the set of active topics per connector.",
        )
        .define(
            "tasks.max.limit",
            T.INT,
            256,
            Range.at_least(1),
            I.LOW,
            "kconnect only: the largest tasks.max a connector may have on this worker. Each task "
            "is a thread with its own Kafka client (about five threads in all), so a connector "
            "asking for more is refused with 400 at create, update and validate.",
        )
        .define(
            "config.providers",
            T.LIST,
            "",
            None,
            I.LOW,
            "Comma-separated names of ConfigProvider classes.",
        )
        .define(
            "plugin.import.allowed.prefixes",
            T.LIST,
            "",
            None,
            I.LOW,
            "kconnect only: module prefixes (such as mycompany.connectors) whose classes may be "
            "named by Python path without being registered plugins (entry points). Empty: only "
            "registered plugins load, and no other module is ever imported because of a name in "
            "a connector config or REST request.",
        )
        .define(
            "client.id",
            T.STRING,
            "",
            None,
            I.LOW,
            "An id string to pass to the server when making requests.",
        )
        .define(
            "metrics.prometheus.enable",
            T.BOOLEAN,
            True,
            None,
            I.LOW,
            "kconnect only: serve the worker's metrics in Prometheus' text format at GET /metrics, "
            "collect librdkafka statistics of task clients and call the metrics reporter hooks.",
        )
        .define(
            "metrics.prometheus.port",
            T.INT,
            None,
            None,
            I.LOW,
            "kconnect only: also serve the metrics page on this port (unset: only on the REST "
            "listeners, where REST extensions such as authentication apply).",
        )
        .define(
            "metrics.prometheus.host",
            T.STRING,
            "0.0.0.0",
            None,
            I.LOW,
            "kconnect only: the address metrics.prometheus.port listens on.",
        )
        .define(
            "metrics.statistics.interval.ms",
            T.LONG,
            10000,
            Range.at_least(0),
            I.LOW,
            "kconnect only: how often the Kafka clients of tasks report statistics (consumer "
            "lag, producer queue depth) to the metrics; 0 turns them off.",
        )
        .define(
            "exactly.once.source.support",
            T.STRING,
            "disabled",
            ValidString.in_("disabled", "preparing", "enabled"),
            I.LOW,
            "Whether to enable exactly-once support for source connectors (not implemented: only "
            "'disabled' takes effect).",
        )
    )


def standalone_definition() -> ConfigDef:
    return (
        _common_definition()
        .define(
            "offset.storage.file.filename",
            T.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            None,
            I.HIGH,
            "File to store offset data in.",
        )
        .define(
            "config.storage.file.filename",
            T.STRING,
            "",
            None,
            I.LOW,
            "kconnect only: file to keep connector configs and target states in, so connectors "
            "created or changed through REST survive a restart. Empty: not kept (Kafka's behaviour).",
        )
    )


class WorkerConfig(AbstractConfig):
    """Parsed worker settings. ``originals()`` keeps every key the file had."""

    def __init__(self, props: Mapping[str, Any], definition: ConfigDef | None = None):
        super().__init__(definition or standalone_definition(), props)

    @property
    def worker_id(self) -> str:
        """host:port of the REST listener, as Kafka names workers."""
        host, port = self.rest_host_port()
        if host in ("0.0.0.0", "::"):
            host = ""  # a wildcard listener is not an address other workers can reach
        host = self.get("rest.advertised.host.name") or host or socket.getfqdn()
        return f"{host}:{self.get('rest.advertised.port') or port}"

    def rest_host_port(self) -> tuple[str, int]:
        """The first HTTP listener's host and port (the old rest.host.name/rest.port keys win
        when listeners is left at its default, as in Kafka)."""
        listeners = self.get("listeners") or []
        if self.originals().get("listeners") is None and (
            self.get("rest.port") or self.get("rest.host.name")
        ):
            return self.get("rest.host.name") or "", int(self.get("rest.port") or 8083)
        first = listeners[0] if listeners else "http://:8083"
        rest = first.split("://", 1)[-1]
        host, _, port = rest.rpartition(":")
        return host.strip("[]"), int(port or 8083)


def distributed_definition() -> ConfigDef:
    """``connect-distributed.properties``: Kafka's DistributedConfig keys and defaults."""
    d = _common_definition()
    for key, type_, default, validator, importance, doc in [
        (
            "group.id",
            T.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            None,
            I.HIGH,
            "A unique string that identifies the Connect cluster group this worker belongs to.",
        ),
        (
            "config.storage.topic",
            T.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            None,
            I.HIGH,
            "The name of the Kafka topic where connector configurations are stored",
        ),
        (
            "config.storage.replication.factor",
            T.SHORT,
            3,
            None,
            I.LOW,
            "Replication factor used when creating the configuration storage topic "
            "(-1: the broker's default)",
        ),
        (
            "offset.storage.topic",
            T.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            None,
            I.HIGH,
            "The name of the Kafka topic where source connector offsets are stored",
        ),
        (
            "offset.storage.partitions",
            T.INT,
            25,
            None,
            I.LOW,
            "The number of partitions used when creating the offset storage topic",
        ),
        (
            "offset.storage.replication.factor",
            T.SHORT,
            3,
            None,
            I.LOW,
            "Replication factor used when creating the offset storage topic",
        ),
        (
            "status.storage.topic",
            T.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            None,
            I.HIGH,
            "The name of the Kafka topic where connector and task status are stored",
        ),
        (
            "status.storage.partitions",
            T.INT,
            5,
            None,
            I.LOW,
            "The number of partitions used when creating the status storage topic",
        ),
        (
            "status.storage.replication.factor",
            T.SHORT,
            3,
            None,
            I.LOW,
            "Replication factor used when creating the status storage topic",
        ),
        (
            "session.timeout.ms",
            T.INT,
            10000,
            None,
            I.HIGH,
            "The timeout used to detect worker failures.",
        ),
        (
            "heartbeat.interval.ms",
            T.INT,
            3000,
            None,
            I.HIGH,
            "The expected time between heartbeats to the group coordinator.",
        ),
        (
            "rebalance.timeout.ms",
            T.INT,
            60000,
            None,
            I.HIGH,
            "The maximum allowed time for each worker to join the group once a rebalance has begun.",
        ),
        (
            "worker.sync.timeout.ms",
            T.INT,
            3000,
            None,
            I.MEDIUM,
            "When the worker is out of sync with other workers and needs to resynchronize "
            "configurations, wait up to this amount of time before giving up, leaving the group, "
            "and waiting a backoff period before rejoining.",
        ),
        (
            "worker.unsync.backoff.ms",
            T.INT,
            300000,
            None,
            I.MEDIUM,
            "When the worker is out of sync with other workers and fails to catch up within "
            "worker.sync.timeout.ms, leave the Connect cluster for this long before rejoining.",
        ),
        (
            "scheduled.rebalance.max.delay.ms",
            T.INT,
            300000,
            Range.at_least(0),
            I.LOW,
            "The maximum delay that is scheduled in order to wait for the return of one or more "
            "departed workers before rebalancing and reassigning their connectors and tasks to the "
            "group.",
        ),
        (
            "connect.protocol",
            T.STRING,
            "sessioned",
            ValidString.in_("eager", "compatible", "sessioned"),
            I.LOW,
            "Compatibility mode for Kafka Connect Protocol",
        ),
        (
            "inter.worker.key.generation.algorithm",
            T.STRING,
            "HmacSHA256",
            None,
            I.LOW,
            "The algorithm to use for generating internal request keys.",
        ),
        (
            "inter.worker.key.size",
            T.INT,
            None,
            None,
            I.LOW,
            "The size of the key to use for signing internal requests, in bits.",
        ),
        (
            "inter.worker.key.ttl.ms",
            T.INT,
            3600000,
            Range.between(0, 2**31 - 1),
            I.LOW,
            "The TTL of generated session keys used for internal request validation "
            "(in milliseconds)",
        ),
        (
            "inter.worker.signature.algorithm",
            T.STRING,
            "HmacSHA256",
            None,
            I.LOW,
            "The algorithm used to sign internal requests",
        ),
        (
            "inter.worker.verification.algorithms",
            T.LIST,
            "HmacSHA256",
            None,
            I.LOW,
            "A list of permitted algorithms for verifying internal requests",
        ),
    ]:
        d.define(key, type_, default, validator, importance, doc)
    return d


class DistributedWorkerConfig(WorkerConfig):
    """Settings of a worker in a cluster (``connect-distributed worker.properties``)."""

    def __init__(self, props: Mapping[str, Any]):
        super().__init__(props, distributed_definition())
