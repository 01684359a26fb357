"""A reader for Java KeyStore (JKS) files, the format Java's ``keytool`` wrote by default until
Java 9 and that many Kafka deployments still carry.

JKS is Java-only: librdkafka and Python's ``ssl`` cannot read it, so kconnect reads it here and
hands on the keys and certificates. What this module guarantees:

- A store is accepted only when its integrity digest matches the store password (a JKS store
  read without a password is not checked, as Java does); otherwise :class:`JksPasswordError`.
- A private key is returned only when its own digest matches the key password: a wrong key
  password is :class:`JksPasswordError`, never a garbled key.
- Anything that is not a well-formed JKS store is :class:`JksFormatError`; nothing here raises
  another exception for bad input. Neither error ever contains a password.

The format (Sun's, documented in many places): a big-endian header ``FEEDFEED``, a version (1 or
2), an entry count, the entries (private keys protected with Sun's SHA-1 key protector and their
certificate chains, or trusted certificates), and a SHA-1 digest over the password, the words
"Mighty Aphrodite" and everything before it. JCEKS stores (``CECECECE``) use a different key
protection and are refused with a hint to convert them.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass, field

JKS_MAGIC = 0xFEEDFEED
JCEKS_MAGIC = 0xCECECECE
_PRIVATE_KEY_ENTRY = 1
_TRUSTED_CERT_ENTRY = 2
_SECRET_KEY_ENTRY = 3
_DIGEST_SALT = b"Mighty Aphrodite"
_SHA1_LEN = 20
# DER of OID 1.3.6.1.4.1.42.2.17.1.1, Sun's proprietary key protection algorithm
_SUN_KEY_PROTECTOR_OID = bytes.fromhex("2b060104012a02110101")


class JksFormatError(ValueError):
    """The data is not a JKS store this reader understands."""


class JksPasswordError(ValueError):
    """The store or key password does not match (``what`` says which)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} password was incorrect")
        self.what = what


@dataclass(frozen=True)
class JksPrivateKey:
    """A private key entry: the key as PKCS#8 DER, its certificate chain (leaf first) as DER."""

    alias: str
    pkcs8_der: bytes
    chain_der: tuple[bytes, ...]


@dataclass(frozen=True)
class JksStore:
    """The entries of a JKS store, in file order."""

    private_keys: tuple[JksPrivateKey, ...] = field(default_factory=tuple)
    trusted_certs: tuple[tuple[str, bytes], ...] = field(default_factory=tuple)


def is_jks(data: bytes) -> bool:
    """True if ``data`` starts like a JKS or JCEKS store."""
    return len(data) >= 4 and struct.unpack(">I", data[:4])[0] in (JKS_MAGIC, JCEKS_MAGIC)


def _password_bytes(password: str) -> bytes:
    # Java hashes a char[] as two bytes per UTF-16 code unit, high byte first.
    return password.encode("utf-16-be")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise JksFormatError("truncated JKS data")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def utf(self) -> str:
        # Java's modified UTF-8; aliases and certificate types are ASCII in practice.
        raw = self.take(self.u16())
        return raw.decode("utf-8", errors="replace")

    def blob(self) -> bytes:
        return self.take(self.u32())


def load_jks(
    data: bytes,
    store_password: str | None,
    key_password: str | None = None,
    *,
    decrypt_keys: bool = True,
) -> JksStore:
    """Read a JKS store; private keys are decrypted with ``key_password`` (default: the store
    password, as Java's and Kafka's defaults are). With ``decrypt_keys=False`` (a truststore)
    key entries keep only their certificate chains and an empty ``pkcs8_der``."""
    reader = _Reader(data)
    magic = reader.u32() if len(data) >= 4 else None
    if magic == JCEKS_MAGIC:
        raise JksFormatError("JCEKS stores are not supported")
    if magic != JKS_MAGIC:
        raise JksFormatError("not a JKS store")
    version = reader.u32()
    if version not in (1, 2):
        raise JksFormatError(f"unsupported JKS version {version}")
    count = reader.u32()
    encrypted_keys: list[tuple[str, bytes, tuple[bytes, ...]]] = []
    trusted: list[tuple[str, bytes]] = []
    for _ in range(count):
        tag = reader.u32()
        alias = reader.utf()
        reader.take(8)  # creation time
        if tag == _PRIVATE_KEY_ENTRY:
            protected = reader.blob()
            chain = tuple(_certificate(reader, version) for _ in range(reader.u32()))
            encrypted_keys.append((alias, protected, chain))
        elif tag == _TRUSTED_CERT_ENTRY:
            trusted.append((alias, _certificate(reader, version)))
        elif tag == _SECRET_KEY_ENTRY:
            raise JksFormatError("secret key entries are not supported")
        else:
            raise JksFormatError(f"unknown JKS entry type {tag}")
    signed_len = reader.pos
    digest = reader.take(_SHA1_LEN)
    if store_password is not None:
        expected = hashlib.sha1(
            _password_bytes(store_password) + _DIGEST_SALT + data[:signed_len]
        ).digest()
        if not hmac.compare_digest(expected, digest):
            raise JksPasswordError("keystore")
    if reader.pos != len(data):
        raise JksFormatError("unexpected data after the JKS digest")
    key_pw = key_password if key_password is not None else store_password
    keys = []
    for alias, protected, chain in encrypted_keys:
        if not decrypt_keys:
            keys.append(JksPrivateKey(alias, b"", chain))
            continue
        if key_pw is None:
            raise JksPasswordError("key")
        keys.append(JksPrivateKey(alias, _unprotect(protected, key_pw), chain))
    return JksStore(tuple(keys), tuple(trusted))


def _certificate(reader: _Reader, version: int) -> bytes:
    if version == 2:
        cert_type = reader.utf()
        if cert_type != "X.509":
            raise JksFormatError(f"unsupported certificate type {cert_type!r}")
    return reader.blob()


def _der_element(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, content, end) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise JksFormatError("truncated DER data in a private key entry")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        octets = length & 0x7F
        if octets == 0 or octets > 4 or pos + octets > len(data):
            raise JksFormatError("bad DER length in a private key entry")
        length = int.from_bytes(data[pos : pos + octets], "big")
        pos += octets
    if pos + length > len(data):
        raise JksFormatError("truncated DER data in a private key entry")
    return tag, data[pos : pos + length], pos + length


def _unprotect(protected: bytes, password: str) -> bytes:
    """The PKCS#8 DER of a key protected by Sun's key protector: an EncryptedPrivateKeyInfo whose
    data is salt (20 bytes) + key XOR a SHA-1 key stream + SHA-1(password + key)."""
    tag, info, _ = _der_element(protected, 0)
    if tag != 0x30:
        raise JksFormatError("a private key entry is not an EncryptedPrivateKeyInfo")
    tag, algorithm, pos = _der_element(info, 0)
    if tag != 0x30:
        raise JksFormatError("a private key entry has no algorithm identifier")
    oid_tag, oid, _ = _der_element(algorithm, 0)
    if oid_tag != 0x06 or oid != _SUN_KEY_PROTECTOR_OID:
        raise JksFormatError("a private key entry uses an unsupported protection algorithm")
    tag, encrypted, _ = _der_element(info, pos)
    if tag != 0x04 or len(encrypted) < 2 * _SHA1_LEN:
        raise JksFormatError("a private key entry has no encrypted key")
    salt = encrypted[:_SHA1_LEN]
    body = encrypted[_SHA1_LEN:-_SHA1_LEN]
    check = encrypted[-_SHA1_LEN:]
    pw = _password_bytes(password)
    stream = bytearray()
    block = salt
    while len(stream) < len(body):
        block = hashlib.sha1(pw + block).digest()
        stream += block
    key = bytes(a ^ b for a, b in zip(body, stream, strict=False))
    if not hmac.compare_digest(hashlib.sha1(pw + key).digest(), check):
        raise JksPasswordError("key")
    return key
