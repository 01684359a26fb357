"""TLS of the REST server's https listeners and of the calls workers make to each other, from
Kafka Connect's keys.

Which keys: Kafka reads the ``listeners.https.`` prefixed SSL keys when any of them is set,
otherwise the worker's top-level ``ssl.*`` keys (all or nothing, never a mix), and
``admin.listeners.https.`` ones for admin listeners. gunicorn has one TLS setting for every
socket, so admin listeners with settings of their own that differ are refused at start rather
than served with the wrong certificate. The stores themselves (JKS, PKCS12, PEM files or
strings) are read by :mod:`kconnect.runtime.tls_stores`, as for Kafka clients and with the
same messages, naming the key as configured (``listeners.https.ssl.keystore.password``).

Key material on disk: gunicorn loads the key pair from a file in each worker process it forks,
possibly long after start (a worker it replaces). That file holds the key encrypted with a
random password that lives only in this process's memory (and so in its forked workers'), then
the certificate chain; it is 0600 in a private 0700 directory, removed at exit by the process
that made it, never by a forked worker that exits (the arbiter may fork another). gunicorn's
``ssl_context`` hook loads it with that password: nothing asks for a password on a terminal,
and a file left behind by a killed process is of no use. The trusted CAs are loaded from
memory. ``ssl.client.auth=required`` makes the TLS handshake refuse clients without a
certificate signed by the truststore's CAs.

The same settings make the client side a worker calls other workers with
(:func:`client_ssl_context`, as Kafka's RestClient): its keystore is the client certificate, its
truststore the CAs, so a cluster whose listeners require client certificates still forwards.
Its key is never written unencrypted either.
"""

from __future__ import annotations

import atexit
import os
import shutil
import ssl
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

from kconnect.api.errors import ConfigException
from kconnect.runtime import tls_stores
from kconnect.runtime.worker.client_ssl import python_ssl_context

LISTENERS_HTTPS_PREFIX = "listeners.https."
ADMIN_LISTENERS_HTTPS_PREFIX = "admin.listeners.https."
_CLIENT_AUTH = {
    "required": ssl.CERT_REQUIRED,
    "requested": ssl.CERT_OPTIONAL,
    "none": ssl.CERT_NONE,
}
_private_dir: str | None = None


def ssl_settings(props: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The ``ssl.*`` keys for listeners configured under ``prefix``: the prefixed ones if any
    is set, else the worker's top-level ones (Kafka's all-or-nothing rule)."""
    prefixed = {k[len(prefix) :]: v for k, v in props.items() if k.startswith(prefix + "ssl.")}
    if prefixed:
        return {k: v for k, v in prefixed.items() if v is not None}
    return {k: v for k, v in props.items() if k.startswith("ssl.") and v is not None}


def _ssl_prefix(props: Mapping[str, Any]) -> str:
    """Where the listeners' ``ssl.*`` keys are read from (Kafka's all-or-nothing rule)."""
    prefixed = LISTENERS_HTTPS_PREFIX + "ssl."
    return prefixed if any(str(k).startswith(prefixed) for k in props) else "ssl."


def ssl_options(props: Mapping[str, Any], admin_separate: bool = False) -> dict[str, Any]:
    """gunicorn's TLS settings (certfile, cert_reqs and the ``ssl_context`` hook that loads
    them) for https listeners; ConfigException naming the key when they cannot be built.
    Passwords never appear in messages."""
    settings = ssl_settings(props, LISTENERS_HTTPS_PREFIX)
    if admin_separate and any(k.startswith(ADMIN_LISTENERS_HTTPS_PREFIX + "ssl.") for k in props):
        admin = ssl_settings(props, ADMIN_LISTENERS_HTTPS_PREFIX)
        differing = sorted(
            k for k in set(admin) | set(settings) if str(admin.get(k)) != str(settings.get(k))
        )
        if differing:
            raise ConfigException(
                "kconnect serves every listener with one TLS setting, but the admin listeners "
                f"have their own: {', '.join(ADMIN_LISTENERS_HTTPS_PREFIX + k for k in differing)} "
                f"differ from the {LISTENERS_HTTPS_PREFIX}* (or ssl.*) settings; remove them or "
                "make them equal",
                name=ADMIN_LISTENERS_HTTPS_PREFIX + differing[0],
            )
    prefix = _ssl_prefix(props)
    keystore = (prefix + "keystore.location", prefix + "keystore.key")
    if all(tls_stores.text(props.get(key)) is None for key in keystore):
        raise ConfigException(
            "An https listener needs a keystore: set listeners.https.ssl.keystore.location "
            "(JKS, PKCS12 or PEM)",
            name=LISTENERS_HTTPS_PREFIX + "ssl.keystore.location",
        )
    client_auth_key = prefix + "client.auth"
    client_auth = str(settings.get("ssl.client.auth") or "none").strip().lower()
    if client_auth not in _CLIENT_AUTH:
        raise ConfigException(
            f"Invalid value {client_auth} for configuration {client_auth_key}: "
            "String must be one of: required, requested, none",
            name=client_auth_key,
        )
    material = tls_stores.load_tls_material(props, prefix)
    assert material.key_pem is not None and material.chain_pem is not None  # a keystore is set
    if material.ca_pem is None and client_auth != "none":
        raise ConfigException(
            f"{client_auth_key}={client_auth} needs a truststore holding the CA that signs "
            f"client certificates: set {prefix}truststore.location",
            name=prefix + "truststore.location",
        )
    encrypted_key, password = tls_stores.one_time_encrypted_key(material.key_pem)
    certfile = _private_file("listener", encrypted_key + material.chain_pem)
    return {
        "certfile": certfile,
        "cert_reqs": _CLIENT_AUTH[client_auth],
        "ssl_context": _server_context_hook(certfile, password, material.ca_pem),
    }


def _server_context_hook(
    certfile: str, password: bytes, ca_pem: bytes | None
) -> Callable[[Any, Any], ssl.SSLContext]:
    """gunicorn's ``ssl_context`` setting: its default factory would load ``certfile`` without
    the password (and prompt for it on the terminal)."""

    def ssl_context(conf: Any, default_factory: Any) -> ssl.SSLContext:
        cadata = ca_pem.decode("ascii") if ca_pem is not None else None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cadata=cadata)
        context.load_cert_chain(certfile, password=password)
        context.verify_mode = conf.cert_reqs
        if conf.ciphers:
            context.set_ciphers(conf.ciphers)
        return context

    return ssl_context


def client_ssl_context(props: Mapping[str, Any]) -> ssl.SSLContext:
    """The context a worker makes requests to other workers' https listeners with, as Kafka's
    RestClient: the listeners' own settings (``listeners.https.ssl.*``, else ``ssl.*``), their
    keystore as client certificate (none if unset), their truststore as the CAs (the system's
    if unset), the host name checked unless ``ssl.endpoint.identification.algorithm`` is empty."""
    prefix = _ssl_prefix(props)
    algorithm_key = prefix + "endpoint.identification.algorithm"
    algorithm = str(
        ssl_settings(props, LISTENERS_HTTPS_PREFIX).get(
            "ssl.endpoint.identification.algorithm", "https"
        )
    ).strip()
    if algorithm.lower() not in ("https", ""):
        raise ConfigException(
            f"Invalid value {algorithm} for configuration {algorithm_key}: use https (check "
            "the host name of the worker called) or an empty value (do not)",
            name=algorithm_key,
        )
    material = tls_stores.load_tls_material(props, prefix)
    try:
        return python_ssl_context(material, check_hostname=bool(algorithm))
    except ssl.SSLError as error:
        location = prefix + "keystore.location"
        raise ConfigException(
            f"The keystore ({location}) cannot be used as a client certificate: {error}",
            name=location,
        ) from None


def _private_file(stem: str, data: bytes) -> str:
    global _private_dir
    if _private_dir is None:
        _private_dir = tempfile.mkdtemp(prefix="kconnect-rest-tls-")  # mode 0700
        atexit.register(_remove_private_dir, _private_dir, os.getpid())
    fd, path = tempfile.mkstemp(prefix=stem + "-", suffix=".pem", dir=_private_dir)  # mode 0600
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path


def _remove_private_dir(path: str, owner: int) -> None:
    # Forked gunicorn workers inherit this handler and run it when they exit; the directory is
    # the arbiter's, which may fork another worker that loads from it.
    if os.getpid() == owner:
        shutil.rmtree(path, ignore_errors=True)
