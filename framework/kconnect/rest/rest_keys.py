"""Worker keys that belong to the REST server, and the unknown ones that look like them.

A mistyped REST key (``admin.listener=``, ``listeners.https.ssl.client.authentication=``,
``access.control.allow.orgin=``) would otherwise be ignored without a word, leaving the API
open when the operator meant to close it. Such keys are reported with a WARN naming them, and
no REST key, known or not, is ever handed to a Kafka client (``admin.listeners`` is not an
admin-client setting, though it starts with ``admin.``).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

log = logging.getLogger(__name__)

#: prefixes of keys that configure the REST server (typos of these are what is looked for)
REST_KEY_PREFIXES = (
    "rest.",
    "listeners.",
    "listener.",
    "admin.listener",
    "access.control.",
    "response.http.",
)
_SSL_PREFIXES = ("listeners.https.", "admin.listeners.https.")
#: the SSL keys a Kafka Connect https listener takes (after ``listeners.https.``)
SSL_LISTENER_KEYS = frozenset(
    "ssl." + key
    for key in (
        "keystore.location",
        "keystore.password",
        "keystore.type",
        "keystore.key",
        "keystore.certificate.chain",
        "key.password",
        "truststore.location",
        "truststore.password",
        "truststore.type",
        "truststore.certificates",
        "client.auth",
        "protocol",
        "enabled.protocols",
        "provider",
        "cipher.suites",
        "keymanager.algorithm",
        "trustmanager.algorithm",
        "secure.random.implementation",
        "endpoint.identification.algorithm",
        "engine.factory.class",
    )
)


def is_rest_key(key: str) -> bool:
    """A key of the REST server (or a typo of one): never a Kafka client setting."""
    return key.startswith(REST_KEY_PREFIXES) or key == "listeners"


def unknown_rest_keys(keys: Iterable[str], defined: Iterable[str]) -> list[str]:
    """The keys that look like REST keys but are neither defined nor a listener SSL key."""
    known = set(defined)
    unknown = []
    for key in keys:
        if key in known or not is_rest_key(key):
            continue
        prefix = next((p for p in _SSL_PREFIXES if key.startswith(p)), None)
        if prefix is not None and key[len(prefix) :] in SSL_LISTENER_KEYS:
            continue
        unknown.append(key)
    return sorted(unknown)


def warn_unknown_rest_keys(worker_props: Mapping[str, Any], defined: Iterable[str]) -> list[str]:
    """Log a WARN for each unknown REST-looking key (with the closest known key); returns them."""
    defined = set(defined)
    candidates = sorted(
        {k for k in defined if is_rest_key(k)}
        | {p + k for p in _SSL_PREFIXES for k in SSL_LISTENER_KEYS}
    )
    unknown = unknown_rest_keys(worker_props, defined)
    for key in unknown:
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.75)
        hint = f" Did you mean {close[0]}?" if close else ""
        log.warning(
            "Unknown REST configuration '%s' in the worker config: it is ignored and not passed "
            "to any Kafka client.%s",
            key,
            hint,
        )
    return unknown
