"""Kafka client TLS from the Java settings users already have: ``ssl.keystore.*`` and
``ssl.truststore.*`` with JKS, PKCS12 or PEM stores, and PEM strings.

The stores are read by :mod:`kconnect.runtime.tls_stores` into :class:`TlsMaterial`, handed to
each client in memory:

- librdkafka gets ``ssl.key.pem``, ``ssl.certificate.pem`` and ``ssl.ca.pem``: no key file is
  written for it, and the Java keys read (:func:`consumed_keys`) are not passed on;
- kafka-python's ``ssl`` gets a context from :func:`python_ssl_context`, its key loaded without
  ever being written unencrypted.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

from kconnect.runtime.tls_stores import STORE_KEYS, TlsMaterial, load_key_in_memory, text

_KEYSTORE_SOURCES = ("ssl.keystore.location", "ssl.keystore.key", "ssl.keystore.certificate.chain")
_TRUSTSTORE_SOURCES = ("ssl.truststore.location", "ssl.truststore.certificates")


def consumed_keys(props: Mapping[str, Any]) -> frozenset[str]:
    """The keys of ``props`` that :func:`load_tls_material` reads and that must therefore not
    reach a client as they are: none without a store; ``ssl.key.password`` only with a
    keystore (without one it belongs to librdkafka's own ``ssl.key.location``)."""
    keystore = any(text(props.get(key)) is not None for key in _KEYSTORE_SOURCES)
    truststore = any(text(props.get(key)) is not None for key in _TRUSTSTORE_SOURCES)
    if not (keystore or truststore):
        return frozenset()
    return STORE_KEYS if keystore else STORE_KEYS - {"ssl.key.password"}


# --- Python's ssl -------------------------------------------------------------------------------


def python_ssl_context(
    material: TlsMaterial,
    *,
    check_hostname: bool = True,
    cafile: str | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
    key_password: str | None = None,
    crlfile: str | None = None,
) -> ssl.SSLContext:
    """A client ``SSLContext`` for ``material``; the ``*file`` arguments (PEM files, librdkafka's
    ``ssl.*.location`` keys) apply where ``material`` has no CA or no key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = check_hostname
    if material.ca_pem is not None:
        context.load_verify_locations(cadata=material.ca_pem.decode("ascii"))
    elif cafile is not None:
        context.load_verify_locations(cafile=cafile)
    else:
        context.load_default_certs()
    if material.key_pem is not None and material.chain_pem is not None:
        load_key_in_memory(context, material.key_pem, material.chain_pem)
    elif certfile is not None:
        context.load_cert_chain(certfile, keyfile, password=key_password)
    if crlfile is not None:
        context.load_verify_locations(cafile=crlfile)
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return context
