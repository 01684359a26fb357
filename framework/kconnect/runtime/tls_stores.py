"""Java key and trust stores read once, for every TLS user in a worker: Kafka clients, the REST
server's https listeners and the calls workers make to each other.

Users configure TLS with Java's keys (``ssl.keystore.*``, ``ssl.truststore.*``, or their
``listeners.https.``-prefixed forms) naming JKS, PKCS12 or PEM stores, or PEM strings. JKS is
Java-only and neither librdkafka nor Python's ``ssl`` reads a PKCS12 truststore, so every store
is read here, once per file version, into :class:`TlsMaterial` (an unencrypted key, its
certificate chain, the trusted CA certificates) that each user takes in memory.

The key never reaches the disk unencrypted: Python's ``ssl`` can only load a key from a file, so
:func:`load_key_in_memory` writes it encrypted with a random password that exists only in memory
(:func:`one_time_encrypted_key`), to a 0600 file in a private 0700 directory, removed as soon as
the context has loaded it.

A store that cannot be read (missing file, wrong password, unsupported type, no key in a
keystore) raises :class:`ConfigException` naming the key and the file; never the password.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
import secrets
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from kconnect.api.config_types import Password
from kconnect.api.errors import ConfigException
from kconnect.runtime import jks

#: the Java keys read here; none of them is passed to a client as it is
STORE_KEYS = frozenset(
    {
        "ssl.keystore.location",
        "ssl.keystore.password",
        "ssl.keystore.type",
        "ssl.key.password",
        "ssl.keystore.key",
        "ssl.keystore.certificate.chain",
        "ssl.truststore.location",
        "ssl.truststore.password",
        "ssl.truststore.type",
        "ssl.truststore.certificates",
    }
)
_SUPPORTED_TYPES = ("JKS", "PKCS12", "PEM")
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)


@dataclass(frozen=True)
class TlsMaterial:
    """What a client needs for TLS, as PEM: ``key_pem`` is unencrypted PKCS#8 (keep it in
    memory), ``chain_pem`` starts with the client's own certificate."""

    key_pem: bytes | None = None
    chain_pem: bytes | None = None
    ca_pem: bytes | None = None


def text(value: Any) -> str | None:
    """A config value as text; ``None`` and ``""`` are both "not set"."""
    if value is None:
        return None
    if isinstance(value, Password):
        value = value.value
    value = str(value)
    return value if value.strip() else None


def load_tls_material(props: Mapping[str, Any], prefix: str = "ssl.") -> TlsMaterial:
    """The TLS material of the Java client settings ``props`` (keys under ``prefix``, which is
    ``ssl.`` for Kafka clients). Raises :class:`ConfigException` naming the key and file."""
    values = tuple(
        (key, text(props.get(prefix + key[len("ssl.") :]))) for key in sorted(STORE_KEYS)
    )
    files = tuple(
        _file_identity(value)
        for key, value in values
        if key.endswith(".location") and value is not None
    )
    return _load_cached(values, files, prefix)


def _file_identity(path: str) -> tuple[str, int, int, int]:
    # The cache is keyed on the file's identity, so a store replaced on disk is read again.
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1, -1)
    return (path, st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _load_cached(
    values: tuple[tuple[str, str | None], ...],
    files: tuple[tuple[str, int, int, int], ...],
    prefix: str,
) -> TlsMaterial:
    get = dict(values).get
    key_pem = chain_pem = ca_pem = None
    keystore = read_keystore(
        location=get("ssl.keystore.location"),
        store_type=get("ssl.keystore.type"),
        password=get("ssl.keystore.password"),
        key_password=get("ssl.key.password"),
        key_string=get("ssl.keystore.key"),
        chain_string=get("ssl.keystore.certificate.chain"),
        prefix=prefix,
    )
    if keystore is not None:
        private_key, chain = keystore
        key_pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        chain_pem = _certs_pem(chain)
    trusted = read_truststore(
        location=get("ssl.truststore.location"),
        store_type=get("ssl.truststore.type"),
        password=get("ssl.truststore.password"),
        certificates_string=get("ssl.truststore.certificates"),
        prefix=prefix,
    )
    if trusted is not None:
        ca_pem = _certs_pem(trusted)
    return TlsMaterial(key_pem, chain_pem, ca_pem)


def _certs_pem(certs: list[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


# --- stores -------------------------------------------------------------------------------------


def read_keystore(
    *,
    location: str | None,
    store_type: str | None,
    password: str | None,
    key_password: str | None,
    key_string: str | None = None,
    chain_string: str | None = None,
    prefix: str = "ssl.",
) -> tuple[Any, list[x509.Certificate]] | None:
    """(private key, certificate chain leaf first) of a keystore file or of PEM strings; None if
    neither is configured."""
    location_key = prefix + "keystore.location"
    type_key = prefix + "keystore.type"
    if key_string is not None or chain_string is not None:
        if location is not None:
            raise ConfigException(
                f"Both {location_key} and {prefix}keystore.key are set; use one of them",
                name=location_key,
            )
        if store_type is not None and store_type.upper() != "PEM":
            raise ConfigException(
                f"Invalid value {store_type} for configuration {type_key}: "
                f"{prefix}keystore.key needs the PEM keystore type",
                name=type_key,
            )
        for key, value in (
            (prefix + "keystore.key", key_string),
            (prefix + "keystore.certificate.chain", chain_string),
        ):
            if value is None:
                raise ConfigException(
                    f'Missing required configuration "{key}" which has no default value.',
                    name=key,
                )
        assert key_string is not None and chain_string is not None
        private_key = _pem_private_key(
            key_string,
            key_password,
            f"configuration {prefix}keystore.key",
            prefix,
            prefix + "keystore.key",
        )
        chain_key = prefix + "keystore.certificate.chain"
        chain = _pem_certificates(chain_string, f"configuration {chain_key}", chain_key)
        if not chain:
            raise ConfigException(
                f"{prefix}keystore.certificate.chain holds no PEM certificate",
                name=prefix + "keystore.certificate.chain",
            )
        return private_key, chain
    if location is None:
        return None
    data = _read(location, location_key)
    kind = _store_kind(store_type, type_key, data, location)
    where = f"SSL keystore {location} ({location_key})"
    if kind == "PEM":
        pem = data.decode("ascii", errors="replace")
        private_key = _pem_private_key(pem, key_password, where, prefix, location_key)
        chain = _pem_certificates(pem, where, location_key)
    elif jks.is_jks(data):
        store = _load_jks(data, password, key_password, where, prefix, "keystore")
        if not store.private_keys:
            raise ConfigException(f"{where} holds no private key entry", name=location_key)
        entry = store.private_keys[0]
        private_key = serialization.load_der_private_key(entry.pkcs8_der, None)
        chain = [x509.load_der_x509_certificate(der) for der in entry.chain_der]
    else:
        loaded = _load_pkcs12(data, password, where, prefix, "keystore")
        if loaded.key is None or loaded.cert is None:
            raise ConfigException(f"{where} holds no private key entry", name=location_key)
        private_key = loaded.key
        chain = [loaded.cert.certificate] + [c.certificate for c in loaded.additional_certs]
    if not chain:
        raise ConfigException(f"{where} holds no certificate for its key", name=location_key)
    return private_key, chain


def read_truststore(
    *,
    location: str | None,
    store_type: str | None,
    password: str | None,
    certificates_string: str | None = None,
    prefix: str = "ssl.",
) -> list[x509.Certificate] | None:
    """The trusted certificates of a truststore file or PEM string; None if neither is set."""
    location_key = prefix + "truststore.location"
    type_key = prefix + "truststore.type"
    if certificates_string is not None:
        if location is not None:
            raise ConfigException(
                f"Both {location_key} and {prefix}truststore.certificates are set; use one",
                name=location_key,
            )
        name = prefix + "truststore.certificates"
        where = f"configuration {name}"
        certs = _pem_certificates(certificates_string, where, name)
    elif location is None:
        return None
    else:
        data = _read(location, location_key)
        kind = _store_kind(store_type, type_key, data, location)
        where = f"SSL truststore {location} ({location_key})"
        name = location_key
        if kind == "PEM":
            certs = _pem_certificates(data.decode("ascii", errors="replace"), where, name)
        elif jks.is_jks(data):
            # As Java does: trusted certificate entries, and the certificate of each key entry.
            store = _load_jks(data, password, None, where, prefix, "truststore")
            ders = [der for _, der in store.trusted_certs]
            ders += [entry.chain_der[0] for entry in store.private_keys if entry.chain_der]
            certs = [x509.load_der_x509_certificate(der) for der in ders]
        else:
            loaded = _load_pkcs12(data, password, where, prefix, "truststore")
            certs = [c.certificate for c in loaded.additional_certs]
            if loaded.cert is not None:
                certs.insert(0, loaded.cert.certificate)
    if not certs:
        raise ConfigException(f"{where} holds no trusted certificate", name=name)
    return certs


def _store_kind(value: str | None, key: str, data: bytes, location: str) -> str:
    """PEM, or JKS/PKCS12 (told apart by content: Java 9+ opens a PKCS12 file given as JKS and
    the other way round). Kafka's default for both stores is JKS; an unset type on a PEM file
    is taken as PEM."""
    kind = (value or "JKS").strip().upper()
    if kind not in _SUPPORTED_TYPES:
        hint = (
            "; convert it with keytool -importkeystore -deststoretype PKCS12"
            if kind in ("JCEKS", "BKS", "BCFKS")
            else ""
        )
        raise ConfigException(
            f"Invalid value {value} for configuration {key}: supported store types are "
            f"{', '.join(_SUPPORTED_TYPES)}{hint}",
            name=key,
        )
    is_pem = data.lstrip().startswith(b"-----BEGIN")
    if value is None and is_pem:
        return "PEM"
    if kind != "PEM" and is_pem:
        raise ConfigException(
            f"Invalid value {value} for configuration {key}: {location} is a PEM file; "
            f"set {key}=PEM",
            name=key,
        )
    return kind


def _read(location: str, key: str) -> bytes:
    try:
        return Path(location).read_bytes()
    except OSError as error:
        raise ConfigException(
            f"Invalid value {location} for configuration {key}: cannot read the file "
            f"({error.strerror or error})",
            name=key,
        ) from None


def _load_jks(
    data: bytes,
    password: str | None,
    key_password: str | None,
    where: str,
    prefix: str,
    store: str,
) -> jks.JksStore:
    keys = store == "keystore"
    try:
        return jks.load_jks(data, password, key_password, decrypt_keys=keys)
    except jks.JksPasswordError as error:
        if error.what == "key" and keys:
            raise _password_error(where, prefix + "key.password", "the key") from None
        raise _password_error(where, f"{prefix}{store}.password", f"the {store}") from None
    except jks.JksFormatError as error:
        raise ConfigException(
            f"Failed to load {where} of type JKS: {error}", name=f"{prefix}{store}.location"
        ) from None


def _load_pkcs12(
    data: bytes, password: str | None, where: str, prefix: str, store: str
) -> pkcs12.PKCS12KeyAndCertificates:
    # The store password guards the whole file (its MAC and encrypted bags), as in Java.
    try:
        return pkcs12.load_pkcs12(data, password.encode() if password else None)
    except Exception:  # noqa: BLE001 - ValueError for a wrong password, others for bad data
        pass
    raise ConfigException(
        f"Failed to load {where} of type PKCS12: the {store} password "
        f"({prefix}{store}.password) was incorrect, or the file is not a PKCS12 {store}",
        name=f"{prefix}{store}.password",
    )


def _password_error(where: str, key: str, what: str) -> ConfigException:
    return ConfigException(
        f"Failed to load {where}: {what} password ({key}) was incorrect", name=key
    )


# --- PEM ----------------------------------------------------------------------------------------


def _pem_blocks(pem: str) -> list[tuple[str, str, bytes]]:
    """(label, block text, DER) for each PEM block. Whitespace inside the base64 is ignored,
    so values folded onto one line in a properties file still read."""
    blocks = []
    for match in _PEM_BLOCK.finditer(pem):
        label, body = match.group(1), match.group(2)
        if ":" in body:  # RFC 1421 headers (an OpenSSL-encrypted traditional key): as it is
            blocks.append((label, match.group(0), b""))
            continue
        try:
            der = base64.b64decode("".join(body.split()), validate=True)
        except binascii.Error:
            der = b""
        blocks.append((label, match.group(0), der))
    return blocks


def _pem_certificates(pem: str, where: str, name: str) -> list[x509.Certificate]:
    certs = []
    for label, _, der in _pem_blocks(pem):
        if label != "CERTIFICATE":
            continue
        try:
            certs.append(x509.load_der_x509_certificate(der))
        except ValueError:
            raise ConfigException(
                f"{where} holds a certificate that cannot be read", name=name
            ) from None
    return certs


def _pem_private_key(pem: str, key_password: str | None, where: str, prefix: str, name: str) -> Any:
    keys = [b for b in _pem_blocks(pem) if b[0].endswith("PRIVATE KEY")]
    if not keys:
        raise ConfigException(f"{where} holds no PEM private key", name=name)
    label, block, der = keys[0]
    encrypted = label == "ENCRYPTED PRIVATE KEY" or not der
    if encrypted and key_password is None:
        raise ConfigException(
            f"The private key in {where} is encrypted and {prefix}key.password is not set",
            name=prefix + "key.password",
        )
    secret = key_password.encode() if encrypted and key_password is not None else None
    try:
        if der:
            return serialization.load_der_private_key(der, secret)
        return serialization.load_pem_private_key(block.encode(), secret)
    except (ValueError, TypeError):
        if encrypted:
            raise _password_error(where, prefix + "key.password", "the key") from None
        raise ConfigException(
            f"{where} holds a private key that cannot be read", name=name
        ) from None


# --- Python's ssl -------------------------------------------------------------------------------


def one_time_encrypted_key(key_pem: bytes) -> tuple[bytes, bytes]:
    """(``key_pem`` as PEM encrypted with a fresh random password, that password): what may be
    written to a file for Python's ``ssl``, the password kept in memory only."""
    one_time = secrets.token_bytes(32)
    key = serialization.load_pem_private_key(key_pem, None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(one_time),
    )
    return encrypted, one_time


def load_key_in_memory(context: ssl.SSLContext, key_pem: bytes, chain_pem: bytes) -> None:
    """Load an unencrypted key and its chain into ``context`` without writing the key as it is."""
    # Python's ssl reads keys from files only. The file holds the key encrypted with a password
    # that never leaves this process, lives in a 0700 directory, and is gone before we return.
    encrypted, one_time = one_time_encrypted_key(key_pem)
    with tempfile.TemporaryDirectory(prefix="kconnect-tls-") as directory:
        key_path = os.path.join(directory, "key.pem")
        chain_path = os.path.join(directory, "chain.pem")
        for path, content in ((key_path, encrypted), (chain_path, chain_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(content)
        context.load_cert_chain(chain_path, key_path, password=one_time)
