"""The librdkafka statistics worth a metric: consumer lag per partition, producer queue depth.

librdkafka emits a JSON document every ``statistics.interval.ms`` to the client's
``stats_cb``, which confluent-kafka calls on the thread that polls the client (the task thread).
Only when metrics are on does a task's client get the callback (``client_settings``); it keeps
the few numbers below and drops the document, so the cost is one JSON parse per interval.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson

from kconnect.runtime.metrics.settings import metrics_enabled, statistics_interval_ms

log = logging.getLogger(__name__)


class ClientStatistics:
    """The last statistics of one task's Kafka client."""

    def __init__(self) -> None:
        #: (topic, partition) -> messages between the consumer's position and the high watermark
        self.consumer_lag: dict[tuple[str, int], int] = {}
        #: messages and bytes waiting in the producer's queues to be sent or acknowledged
        self.producer_queue_messages = 0
        self.producer_queue_bytes = 0
        self.updated = False

    def on_stats(self, document: str) -> None:
        """``stats_cb``: keep what the metrics show. A document that cannot be read is logged
        once at debug level and ignored, never raised into librdkafka's poll."""
        try:
            stats = orjson.loads(document)
            if stats.get("type") == "consumer":
                self.consumer_lag = _consumer_lag(stats.get("topics") or {})
            else:
                self.producer_queue_messages = int(stats.get("msg_cnt") or 0)
                self.producer_queue_bytes = int(stats.get("msg_size") or 0)
            self.updated = True
        except Exception as error:  # noqa: BLE001 - statistics must never break a task
            log.debug("Ignoring librdkafka statistics that could not be read: %s", error)


def _consumer_lag(topics: Mapping[str, Any]) -> dict[tuple[str, int], int]:
    lag: dict[tuple[str, int], int] = {}
    for topic, topic_stats in topics.items():
        for key, partition in (topic_stats.get("partitions") or {}).items():
            number = int(key)
            # -1 is librdkafka's "unassigned" pseudo partition; a lag of -1 means not known yet.
            if number < 0 or partition.get("consumer_lag", -1) < 0:
                continue
            if partition.get("fetch_state") in ("none", "stopped"):
                continue  # not (or no longer) ours
            lag[(topic, number)] = int(partition["consumer_lag"])
    return lag


def client_settings(
    worker_config: Mapping[str, Any], statistics: ClientStatistics
) -> dict[str, Any]:
    """Settings that make a task's client report statistics to ``statistics`` when metrics are
    on; none when they are off, so librdkafka does not even gather them."""
    if not metrics_enabled(worker_config):
        return {}
    interval = statistics_interval_ms(worker_config)
    if interval <= 0:
        return {}
    return {"statistics.interval.ms": interval, "stats_cb": statistics.on_stats}
