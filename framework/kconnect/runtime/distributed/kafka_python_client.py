"""kafka-python client settings and log quieting for the group member.

What this module guarantees:

- :func:`kafka_python_config` turns a worker's Java client properties into kafka-python client
  keywords: connection, security (SASL username/password; Java keystores and truststores of
  type JKS, PKCS12 or PEM as a ready ``ssl_context``, see
  :mod:`kconnect.runtime.tls_stores`; librdkafka's PEM file keys) and timing keys are
  translated; every other key (the worker's own, Java-only client keys) is ignored. Java's client
  defaults apply where kafka-python's differ in a way that matters to group membership
  (reconnect backoff, request timeout, retry backoff), and every client gets a ``client_id``.
  A non-numeric value for a numeric key raises :class:`ValueError` naming the key; a store that
  cannot be read raises :class:`ConfigException` naming the key and the file.
- :func:`_quiet_kafka_python_logging` keeps kafka-python's loggers to warnings unless someone set
  their level, and lets each warning or error of the loggers that repeat themselves during a
  broker outage through at most once a minute (per message template). It is idempotent.

It only builds keyword arguments and configures loggers: it never imports or calls kafka-python,
so :mod:`kconnect.runtime.distributed.group_member` remains the one place that drives it.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from kconnect.runtime import tls_stores
from kconnect.runtime.worker import client_ssl

log = logging.getLogger(__name__)

__all__ = ["kafka_python_config"]

_client_ids = itertools.count(1)


# --- client configuration -----------------------------------------------------------------------

# Java client key -> kafka-python keyword, for the keys that mean the same thing.
_STRING_KEYS = {
    "bootstrap.servers": "bootstrap_servers",
    "client.id": "client_id",
    "security.protocol": "security_protocol",
    "sasl.mechanism": "sasl_mechanism",
    "sasl.kerberos.service.name": "sasl_kerberos_service_name",
    # without a Java keystore, the password of librdkafka's ssl.key.location
    "ssl.key.password": "ssl_password",
    # librdkafka's spellings, which kconnect users may already have in their files
    "ssl.ca.location": "ssl_cafile",
    "ssl.certificate.location": "ssl_certfile",
    "ssl.key.location": "ssl_keyfile",
    "ssl.crl.location": "ssl_crlfile",
    "sasl.username": "sasl_plain_username",
    "sasl.password": "sasl_plain_password",
}
_INT_KEYS = {
    "request.timeout.ms": "request_timeout_ms",
    "retry.backoff.ms": "retry_backoff_ms",
    "reconnect.backoff.ms": "reconnect_backoff_ms",
    "reconnect.backoff.max.ms": "reconnect_backoff_max_ms",
    "metadata.max.age.ms": "metadata_max_age_ms",
    "connections.max.idle.ms": "connections_max_idle_ms",
    "socket.connection.setup.timeout.ms": "socket_connection_setup_timeout_ms",
    "socket.connection.setup.timeout.max.ms": "socket_connection_setup_timeout_max_ms",
}
# Java's client defaults where kafka-python's differ in a way that matters here: its reconnect
# backoff grows to 30 s, so a member would notice a restarted broker up to 30 s late; Connect's
# request timeout is 40 s.
_DEFAULTS: dict[str, Any] = {
    "reconnect_backoff_max_ms": 1000,
    "request_timeout_ms": 40000,
    "retry_backoff_ms": 100,
}
_JAAS_CREDENTIALS = re.compile(r'username\s*=\s*"([^"]*)"\s+password\s*=\s*"([^"]*)"')


def kafka_python_config(client_config: Mapping[str, Any]) -> dict[str, Any]:
    """kafka-python client keywords for the Java client properties in ``client_config`` (a
    worker's properties): connection, security and timing keys are translated; everything
    else (the worker's own keys, Java-only client keys) is ignored."""
    out: dict[str, Any] = dict(_DEFAULTS)
    consumed = client_ssl.consumed_keys(client_config)
    for key, value in client_config.items():
        if value is None or key in consumed:
            continue
        text = (tls_stores.text(value) or "").strip()
        if key in _STRING_KEYS:
            if text:
                out[_STRING_KEYS[key]] = text
        elif key in _INT_KEYS:
            try:
                out[_INT_KEYS[key]] = int(text)
            except ValueError:
                raise ValueError(f"Invalid value {value} for configuration {key}") from None
        elif key == "sasl.jaas.config":
            match = _JAAS_CREDENTIALS.search(text)
            if match:
                out.setdefault("sasl_plain_username", match.group(1))
                out.setdefault("sasl_plain_password", match.group(2))
            else:
                log.warning(
                    "Group membership: only username/password logins are understood in "
                    "sasl.jaas.config; ignoring it"
                )
        elif key == "ssl.endpoint.identification.algorithm":
            out["ssl_check_hostname"] = text.lower() not in ("", "none")
        elif key == "client.dns.lookup" and text in (
            "use_all_dns_ips",
            "resolve_canonical_bootstrap_servers_only",
        ):
            out["client_dns_lookup"] = text
    if consumed:
        out["ssl_context"] = _ssl_context(client_config, out)
    out.setdefault("client_id", f"connect-{next(_client_ids)}")
    return out


def _ssl_context(client_config: Mapping[str, Any], out: dict[str, Any]) -> Any:
    """The ``ssl_context`` for the Java stores in ``client_config``; kafka-python ignores its
    ``ssl_*`` file keywords once it has one, so librdkafka's file keys go into it too."""
    material = tls_stores.load_tls_material(client_config)
    return client_ssl.python_ssl_context(
        material,
        check_hostname=out.get("ssl_check_hostname", True),
        cafile=out.pop("ssl_cafile", None),
        certfile=out.pop("ssl_certfile", None),
        keyfile=out.pop("ssl_keyfile", None),
        key_password=out.pop("ssl_password", None),
        crlfile=out.pop("ssl_crlfile", None),
    )


class _RepeatLimiter(logging.Filter):
    """Lets each warning or error of a logger through once per ``interval_s`` (by message
    template): while a broker is away, kafka-python repeats several of them at every reconnect
    attempt, i.e. every second. Lower levels pass untouched (someone debugging wants them all)."""

    def __init__(self, interval_s: float = 60.0) -> None:
        super().__init__()
        self._interval_s = interval_s
        self._last: dict[tuple[str, object], float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.msg)
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval_s:
                return False
            self._last[key] = now
        return True


# the kafka-python loggers that repeat themselves during an outage
_REPEATING_LOGGERS = (
    "kafka.cluster",
    "kafka.coordinator",
    "kafka.coordinator.heartbeat",
    "kafka.net.connection",
    "kafka.net.manager",
)
_repeat_limiter = _RepeatLimiter()


def _quiet_kafka_python_logging() -> None:
    # kafka-python narrates every connection, bootstrap and join at INFO. The member logs what an
    # operator needs itself; keep kafka-python to warnings unless someone set its level.
    kafka_logger = logging.getLogger("kafka")
    if kafka_logger.level == logging.NOTSET:
        kafka_logger.setLevel(logging.WARNING)
    for name in _REPEATING_LOGGERS:
        logger = logging.getLogger(name)
        if _repeat_limiter not in logger.filters:
            logger.addFilter(_repeat_limiter)
