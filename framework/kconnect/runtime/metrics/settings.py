"""The worker keys of metrics (documented in the user guide's "Monitoring" section).

Metrics are on by default: the counters cost a few attribute updates per batch whether anyone
reads them or not, so "off" only turns off what costs more: the ``/metrics`` page, the own
listener, librdkafka's statistics and the reporter hooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: serve GET /metrics, collect client statistics and call the metrics reporters (default true)
ENABLE_CONFIG = "metrics.prometheus.enable"
#: also serve the metrics page on a port of its own (unset: only on the REST listeners)
PORT_CONFIG = "metrics.prometheus.port"
#: the address that port listens on
HOST_CONFIG = "metrics.prometheus.host"
HOST_DEFAULT = "0.0.0.0"
#: how often librdkafka reports statistics of a task's clients (0: never)
STATISTICS_INTERVAL_CONFIG = "metrics.statistics.interval.ms"
STATISTICS_INTERVAL_DEFAULT_MS = 10000


def metrics_enabled(worker_config: Mapping[str, Any]) -> bool:
    value = worker_config.get(ENABLE_CONFIG, True)
    if isinstance(value, str):
        return value.strip().lower() != "false"
    return value is None or bool(value)


def own_port(worker_config: Mapping[str, Any]) -> int | None:
    value = worker_config.get(PORT_CONFIG)
    if value is None or str(value).strip() == "":
        return None
    return int(value)


def statistics_interval_ms(worker_config: Mapping[str, Any]) -> int:
    value = worker_config.get(STATISTICS_INTERVAL_CONFIG)
    if value is None or str(value).strip() == "":
        return STATISTICS_INTERVAL_DEFAULT_MS
    return int(value)
