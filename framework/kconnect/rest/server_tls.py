"""TLS settings of the REST server's https listeners, from Kafka Connect's keys.

Kafka reads the ``listeners.https.`` prefixed SSL keys when any of them is set, otherwise the
worker's top-level ``ssl.*`` keys (all or nothing, never a mix), and ``admin.listeners.https.``
ones for admin listeners. gunicorn has one TLS setting for every socket, so admin listeners
with settings of their own that differ are refused at start rather than served with the wrong
certificate.

Keystores may be PEM (key and chain in one file) or PKCS12; truststores PEM or PKCS12. PKCS12
material and password-protected PEM keys are written, unencrypted, to files readable by this
user only, in a private directory removed when the process exits: Python's ssl module (under
gunicorn) loads files, and must never stop to ask for a key password on the terminal.
``ssl.client.auth=required`` makes the TLS handshake refuse clients without a certificate
signed by the truststore's CAs.

The same settings make the client side a worker calls other workers with
(:func:`client_ssl_context`, as Kafka's RestClient): its keystore is the client certificate, its
truststore the CAs, so a cluster whose listeners require client certificates still forwards.
"""

from __future__ import annotations

import atexit
import os
import shutil
import ssl
import tempfile
from collections.abc import Mapping
from typing import Any

from kconnect.api.errors import ConfigException

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


def _key_name(props: Mapping[str, Any], prefix: str, key: str) -> str:
    """The key a setting came from, for messages."""
    return prefix + key if any(k.startswith(prefix + "ssl.") for k in props) else key


def ssl_options(props: Mapping[str, Any], admin_separate: bool = False) -> dict[str, Any]:
    """gunicorn's TLS settings (certfile, keyfile, ca_certs, cert_reqs) for https listeners;
    ConfigException naming the key when they cannot be built. Passwords never appear in
    messages."""
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

    def name(key: str) -> str:
        return _key_name(props, LISTENERS_HTTPS_PREFIX, key)

    location = str(settings.get("ssl.keystore.location") or "").strip()
    if not location:
        raise ConfigException(
            "An https listener needs a keystore: set listeners.https.ssl.keystore.location "
            "(PEM or PKCS12)",
            name=LISTENERS_HTTPS_PREFIX + "ssl.keystore.location",
        )
    if not os.path.isfile(location):
        raise ConfigException(
            f"Keystore {location} ({name('ssl.keystore.location')}) does not exist",
            name=name("ssl.keystore.location"),
        )
    certfile = _keystore_pem(settings, location, name)
    options: dict[str, Any] = {"certfile": certfile, "keyfile": certfile}

    client_auth = str(settings.get("ssl.client.auth") or "none").strip().lower()
    if client_auth not in _CLIENT_AUTH:
        raise ConfigException(
            f"Invalid value {client_auth} for configuration {name('ssl.client.auth')}: "
            "String must be one of: required, requested, none",
            name=name("ssl.client.auth"),
        )
    options["cert_reqs"] = _CLIENT_AUTH[client_auth]
    truststore = str(settings.get("ssl.truststore.location") or "").strip()
    if truststore:
        options["ca_certs"] = _truststore_pem(settings, truststore, name)
    elif client_auth != "none":
        raise ConfigException(
            f"{name('ssl.client.auth')}={client_auth} needs a truststore holding the CA that "
            f"signs client certificates: set {name('ssl.truststore.location')}",
            name=name("ssl.truststore.location"),
        )
    return options


def client_ssl_context(props: Mapping[str, Any]) -> ssl.SSLContext:
    """The context a worker makes requests to other workers' https listeners with, as Kafka's
    RestClient: the listeners' own settings (``listeners.https.ssl.*``, else ``ssl.*``), their
    keystore as client certificate (none if unset), their truststore as the CAs (the system's
    if unset), the host name checked unless ``ssl.endpoint.identification.algorithm`` is empty.
    Key material converted for loading is removed as soon as the context holds it."""
    settings = ssl_settings(props, LISTENERS_HTTPS_PREFIX)

    def name(key: str) -> str:
        return _key_name(props, LISTENERS_HTTPS_PREFIX, key)

    algorithm = str(settings.get("ssl.endpoint.identification.algorithm", "https")).strip()
    if algorithm.lower() not in ("https", ""):
        raise ConfigException(
            f"Invalid value {algorithm} for configuration "
            f"{name('ssl.endpoint.identification.algorithm')}: use https (check the host name "
            "of the worker called) or an empty value (do not)",
            name=name("ssl.endpoint.identification.algorithm"),
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = bool(algorithm)
    truststore = str(settings.get("ssl.truststore.location") or "").strip()
    if truststore:
        cafile = _truststore_pem(settings, truststore, name)
        try:
            context.load_verify_locations(cafile=cafile)
        finally:
            _remove_private(cafile)
    else:
        context.load_default_certs()
    location = str(settings.get("ssl.keystore.location") or "").strip()
    if location:
        if not os.path.isfile(location):
            raise ConfigException(
                f"Keystore {location} ({name('ssl.keystore.location')}) does not exist",
                name=name("ssl.keystore.location"),
            )
        certfile = _keystore_pem(settings, location, name)
        try:
            context.load_cert_chain(certfile)
        except ssl.SSLError as error:
            raise ConfigException(
                f"Keystore {location} ({name('ssl.keystore.location')}) cannot be used as a "
                f"client certificate: {error}",
                name=name("ssl.keystore.location"),
            ) from None
        finally:
            _remove_private(certfile)
    return context


def _keystore_pem(settings: Mapping[str, Any], location: str, name: Any) -> str:
    """A PEM file with the keystore's unencrypted key and certificate chain."""
    store_type = _store_type(settings, "keystore", location)
    password = settings.get("ssl.keystore.password")
    key_password = settings.get("ssl.key.password")
    if store_type == "PKCS12":
        return _pkcs12_keystore_to_pem(location, password, name("ssl.keystore.password"))
    if store_type == "PEM":
        return _pem_keystore(location, key_password or password, name("ssl.key.password"))
    raise ConfigException(
        f"Unsupported keystore type {store_type} ({name('ssl.keystore.type')}) for {location}: "
        "use PEM or PKCS12 (convert a JKS store with keytool -importkeystore "
        "-deststoretype PKCS12)",
        name=name("ssl.keystore.type"),
    )


def _store_type(settings: Mapping[str, Any], store: str, location: str) -> str:
    configured = settings.get(f"ssl.{store}.type")
    if configured:
        return str(configured).strip().upper()
    return "PEM" if location.lower().endswith((".pem", ".crt", ".cer")) else "PKCS12"


def _truststore_pem(settings: Mapping[str, Any], location: str, name: Any) -> str:
    if not os.path.isfile(location):
        raise ConfigException(
            f"Truststore {location} ({name('ssl.truststore.location')}) does not exist",
            name=name("ssl.truststore.location"),
        )
    store_type = _store_type(settings, "truststore", location)
    if store_type == "PEM":
        return location
    if store_type != "PKCS12":
        raise ConfigException(
            f"Unsupported truststore type {store_type} ({name('ssl.truststore.type')}) for "
            f"{location}: use PEM or PKCS12",
            name=name("ssl.truststore.type"),
        )
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

    password = settings.get("ssl.truststore.password")
    try:
        store = pkcs12.load_pkcs12(_read(location), str(password).encode() if password else None)
    except ValueError:
        raise ConfigException(
            f"Cannot read truststore {location}: wrong {name('ssl.truststore.password')} or not "
            "a PKCS12 file",
            name=name("ssl.truststore.password"),
        ) from None
    certs = [c.certificate for c in store.additional_certs]
    if store.cert is not None:
        certs.append(store.cert.certificate)
    if not certs:
        raise ConfigException(f"Truststore {location} holds no certificate")
    return _private_file("truststore", b"".join(c.public_bytes(Encoding.PEM) for c in certs))


def _pkcs12_keystore_to_pem(location: str, password: Any, password_key: str) -> str:
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        pkcs12,
    )

    try:
        key, cert, extra = pkcs12.load_key_and_certificates(
            _read(location), str(password).encode() if password else None
        )
    except ValueError:
        raise ConfigException(
            f"Cannot read keystore {location}: wrong {password_key} or not a PKCS12 file",
            name=password_key,
        ) from None
    if key is None or cert is None:
        raise ConfigException(f"Keystore {location} holds no private key and certificate")
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    pem += cert.public_bytes(Encoding.PEM)
    pem += b"".join(c.public_bytes(Encoding.PEM) for c in extra or ())
    return _private_file("keystore", pem)


def _pem_keystore(location: str, key_password: Any, password_key: str) -> str:
    """The PEM file itself, or (for an encrypted key) a copy with the key decrypted."""
    data = _read(location)
    if b"ENCRYPTED" not in data:
        return location
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        load_pem_private_key,
    )

    if not key_password:
        raise ConfigException(
            f"The private key in {location} is encrypted: set {password_key}", name=password_key
        )
    try:
        key = load_pem_private_key(data, str(key_password).encode())
    except (ValueError, TypeError):
        raise ConfigException(
            f"Cannot decrypt the private key in {location}: wrong {password_key}",
            name=password_key,
        ) from None
    certs = x509.load_pem_x509_certificates(data)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    pem += b"".join(c.public_bytes(Encoding.PEM) for c in certs)
    return _private_file("keystore", pem)


def _read(location: str) -> bytes:
    try:
        with open(location, "rb") as f:
            return f.read()
    except OSError as error:
        raise ConfigException(f"Cannot read {location}: {error.strerror or error}") from None


def _remove_private(path: str) -> None:
    """Remove ``path`` if it is one of ours (a user's own store is never touched)."""
    if _private_dir is not None and os.path.dirname(path) == _private_dir:
        os.unlink(path)


def _private_file(stem: str, data: bytes) -> str:
    global _private_dir
    if _private_dir is None:
        _private_dir = tempfile.mkdtemp(prefix="kconnect-rest-tls-")  # mode 0700
        atexit.register(shutil.rmtree, _private_dir, True)
    fd, path = tempfile.mkstemp(prefix=stem + "-", suffix=".pem", dir=_private_dir)  # mode 0600
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path
