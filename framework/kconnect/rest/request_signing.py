"""Signatures on inter-worker REST requests (KIP-507), compatible with Apache Kafka Connect.

With ``connect.protocol=sessioned`` (protocol v2+) the leader distributes a *session key* through
the config topic, and every internal request between workers (``POST /connectors/{c}/tasks``,
``PUT /connectors/{c}/fence``) carries

- ``X-Connect-Authorization``: Base64 of the HMAC of the exact request body bytes under that key;
- ``X-Connect-Request-Signature-Algorithm``: the Java MAC name, e.g. ``HmacSHA256``.

Guarantees of this module:

- signatures are byte-for-byte those a Java worker computes (Java's ``Mac`` over the body,
  standard Base64), so kconnect and Kafka Connect workers can check each other's requests;
- a request is accepted only if it is signed with an algorithm in the verification list and its
  MAC matches; the MAC is compared in constant time;
- refusals are :class:`~kconnect.rest.errors.ConnectRestError` with Kafka's status codes and
  messages, checked in Kafka's order: unknown algorithm or undecodable signature 400, missing
  signature 400, algorithm not permitted 400, no session key yet 503, wrong MAC 403;
- key bytes never appear in a ``repr`` (and so never in a log line).

Pure functions, no I/O: the herder decides *whether* to verify (only when protocol >= v2).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from kconnect.api.errors import ConfigException

# The module, not the class: rest.errors imports forwarding, which imports this module, so the
# class may not exist yet while it loads; it is looked up when an error is raised.
from kconnect.rest import errors

SIGNATURE_HEADER = "X-Connect-Authorization"
SIGNATURE_ALGORITHM_HEADER = "X-Connect-Request-Signature-Algorithm"

DEFAULT_ALGORITHM = "HmacSHA256"

KEY_GENERATION_ALGORITHM_CONFIG = "inter.worker.key.generation.algorithm"
KEY_SIZE_CONFIG = "inter.worker.key.size"
SIGNATURE_ALGORITHM_CONFIG = "inter.worker.signature.algorithm"
VERIFICATION_ALGORITHMS_CONFIG = "inter.worker.verification.algorithms"

#: Java MAC algorithm (SunJCE standard name) -> (hashlib name, default key size in bytes of
#: Java's KeyGenerator for it). SunJCE's HmacMD5/HmacSHA1 generators default to 64-byte keys;
#: the SHA-2/SHA-3 ones to the digest length.
_MAC_ALGORITHMS: dict[str, tuple[str, int]] = {
    "HmacMD5": ("md5", 64),
    "HmacSHA1": ("sha1", 64),
    "HmacSHA224": ("sha224", 28),
    "HmacSHA256": ("sha256", 32),
    "HmacSHA384": ("sha384", 48),
    "HmacSHA512": ("sha512", 64),
    "HmacSHA512/224": ("sha512_224", 28),
    "HmacSHA512/256": ("sha512_256", 32),
    "HmacSHA3-224": ("sha3_224", 28),
    "HmacSHA3-256": ("sha3_256", 32),
    "HmacSHA3-384": ("sha3_384", 48),
    "HmacSHA3-512": ("sha3_512", 64),
}
# Java looks algorithm names up case-insensitively; the name itself is kept as given.
_BY_LOWER = {name.lower(): name for name in _MAC_ALGORITHMS}
# Java's KeyGenerator refuses HMAC keys shorter than this.
_MIN_KEY_BITS = 40

MISSING_SIGNATURE_MESSAGE = "Internal request missing required signature"
NO_SESSION_KEY_MESSAGE = (
    "This worker is still starting up and has not been able to read a session key from the "
    "config topic yet"
)
INVALID_SIGNATURE_MESSAGE = "Internal request contained invalid signature."


def _unsupported_algorithm_message(algorithm: str, allowed: Collection[str]) -> str:
    # Kafka formats the permitted list with Java's List.toString: "[HmacSHA256, HmacSHA1]".
    return (
        f"This worker does not support the '{algorithm}' key signing algorithm used by other "
        f"workers. This worker is currently configured to use: [{', '.join(allowed)}]. "
        "Check that all workers' configuration files permit the same set of signature "
        "algorithms, and correct any misconfigured worker and restart it."
    )


class HasKeyBytes(Protocol):
    """Anything carrying the raw key: :class:`SessionKey` or the config store's record."""

    @property
    def key(self) -> bytes: ...


@dataclass(frozen=True)
class SessionKey:
    """The cluster's signing key, as the leader writes it to the config topic.

    ``algorithm`` is the key *generation* algorithm (``inter.worker.key.generation.algorithm``);
    the MAC used to sign is chosen per request, and any MAC accepts any key bytes.
    """

    key: bytes = field(repr=False)
    algorithm: str = DEFAULT_ALGORITHM
    creation_timestamp_ms: int = 0

    def expires_at_ms(self, ttl_ms: int) -> int:
        """When the leader must distribute a new key (``inter.worker.key.ttl.ms``)."""
        return self.creation_timestamp_ms + ttl_ms

    def is_expired(self, ttl_ms: int, now_ms: int | None = None) -> bool:
        now = int(time.time() * 1000) if now_ms is None else now_ms
        return self.expires_at_ms(ttl_ms) <= now


@dataclass(frozen=True)
class RequestSignature:
    """A signature read from a request's headers, not yet checked against a key."""

    algorithm: str
    signature: bytes = field(repr=False)
    body: bytes = field(repr=False)

    def is_valid(self, key: bytes | HasKeyBytes) -> bool:
        expected = _mac(self.algorithm, _key_bytes(key), self.body)
        # Constant time: a byte-by-byte early exit would leak how much of a guess is right.
        return hmac.compare_digest(expected, self.signature)


def canonical_algorithm(name: str) -> str | None:
    """The standard spelling of a Java MAC algorithm name, or None if not supported."""
    return _BY_LOWER.get(name.strip().lower())


def supported_algorithms() -> list[str]:
    """The Java MAC names this worker can sign and verify with."""
    return list(_MAC_ALGORITHMS)


def _hash_name(algorithm: str) -> str:
    canonical = canonical_algorithm(algorithm)
    if canonical is None:
        # Java's Mac.getInstance message, which Kafka passes on as the 400's message.
        raise ValueError(f"Algorithm {algorithm} not available")
    return _MAC_ALGORITHMS[canonical][0]


def _key_bytes(key: bytes | HasKeyBytes) -> bytes:
    return key if isinstance(key, (bytes, bytearray)) else key.key


def _mac(algorithm: str, key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, _hash_name(algorithm)).digest()


def generate_session_key(
    algorithm: str = DEFAULT_ALGORITHM, size_bits: int | None = None, now_ms: int | None = None
) -> SessionKey:
    """A fresh random key, as the leader's KeyGenerator makes one.

    ``size_bits`` is ``inter.worker.key.size`` (None: the algorithm's default, e.g. 256 bits for
    HmacSHA256); it is rounded up to whole bytes. Raises ConfigException in Kafka's words when the
    algorithm or the size is not usable.
    """
    canonical = canonical_algorithm(algorithm)
    problem = None
    if canonical is None:
        problem = f"{algorithm} KeyGenerator not available"
    elif size_bits is not None and size_bits < _MIN_KEY_BITS:
        problem = f"Key length must be at least {_MIN_KEY_BITS} bits"
    if problem is not None:
        raise ConfigException(
            # Java prints an unset size as "null".
            f"Unable to create key generator with algorithm {algorithm} and key size "
            f"{'null' if size_bits is None else size_bits}: {problem}",
            name=KEY_GENERATION_ALGORITHM_CONFIG if canonical is None else KEY_SIZE_CONFIG,
            value=algorithm if canonical is None else size_bits,
        )
    assert canonical is not None
    size_bytes = _MAC_ALGORITHMS[canonical][1] if size_bits is None else (size_bits + 7) // 8
    created = int(time.time() * 1000) if now_ms is None else now_ms
    # secrets draws from the OS CSPRNG, as Java's SecureRandom does.
    return SessionKey(secrets.token_bytes(size_bytes), algorithm, created)


def sign_request(
    key: bytes | HasKeyBytes, signature_algorithm: str, body: bytes | None
) -> dict[str, str]:
    """The two headers that sign ``body`` (None is signed as empty, as Java's Mac does)."""
    try:
        digest = _mac(signature_algorithm, _key_bytes(key), body or b"")
    except ValueError as error:
        # Our own configuration is wrong, not the peer's request: not a 4xx.
        raise ConfigException(
            str(error), name=SIGNATURE_ALGORITHM_CONFIG, value=signature_algorithm
        ) from None
    return {
        SIGNATURE_HEADER: base64.b64encode(digest).decode("ascii"),
        SIGNATURE_ALGORITHM_HEADER: signature_algorithm,
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    # WSGI/Falcon header maps are upper-cased; http.server's are as sent. Match either.
    lowered = name.lower()
    for key, item in headers.items():
        if key.lower() == lowered:
            return item
    return None


def signature_from_headers(headers: Mapping[str, str], body: bytes) -> RequestSignature | None:
    """The request's signature; None if either header is absent.

    Raises 400 for an algorithm this worker does not know or a signature that is not Base64:
    Kafka does so while reading the request, even when verification is off.
    """
    algorithm = _header(headers, SIGNATURE_ALGORITHM_HEADER)
    encoded = _header(headers, SIGNATURE_HEADER)
    if algorithm is None or encoded is None:
        return None
    try:
        _hash_name(algorithm)
    except ValueError as error:
        raise errors.ConnectRestError(400, str(error)) from None
    try:
        # Java's basic decoder does not require padding; Python's does, so restore it.
        text = encoded.strip()
        signature = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise errors.ConnectRestError(400, f"Illegal base64 signature: {error}") from None
    return RequestSignature(algorithm, signature, body)


def verify_request(
    headers: Mapping[str, str],
    body: bytes,
    key: bytes | HasKeyBytes | None,
    allowed_algorithms: Collection[str],
) -> None:
    """Accept a signed internal request or raise ConnectRestError as Kafka answers it.

    ``key`` is the session key this worker last read (None: none yet); ``allowed_algorithms`` is
    ``inter.worker.verification.algorithms``. Call only when request validation is on
    (protocol >= v2). Returns None when the request may proceed.
    """
    signature = signature_from_headers(headers, body)
    if signature is None:
        raise errors.ConnectRestError(400, MISSING_SIGNATURE_MESSAGE)
    # Exact match, as Kafka's List.contains: the name must be spelled as configured.
    if signature.algorithm not in allowed_algorithms:
        raise errors.ConnectRestError(
            400, _unsupported_algorithm_message(signature.algorithm, allowed_algorithms)
        )
    if key is None:
        raise errors.ConnectRestError(503, NO_SESSION_KEY_MESSAGE)
    if not signature.is_valid(key):
        raise errors.ConnectRestError(403, INVALID_SIGNATURE_MESSAGE)


def validate_algorithm_configs(
    key_generation_algorithm: str,
    key_size_bits: int | None,
    signature_algorithm: str,
    verification_algorithms: Collection[str],
) -> None:
    """The checks Kafka's DistributedConfig makes on the ``inter.worker.*`` keys; raises
    ConfigException naming the offending key."""
    supported = ", ".join(_MAC_ALGORITHMS)

    def unsupported(name: str, value: object) -> ConfigException:
        return ConfigException(
            f"Invalid value {value} for configuration {name}: the algorithm is not supported by "
            f"this worker; the supported algorithms are: {supported}",
            name=name,
            value=value,
        )

    if canonical_algorithm(key_generation_algorithm) is None:
        raise unsupported(KEY_GENERATION_ALGORITHM_CONFIG, key_generation_algorithm)
    if canonical_algorithm(signature_algorithm) is None:
        raise unsupported(SIGNATURE_ALGORITHM_CONFIG, signature_algorithm)
    if not verification_algorithms:
        raise ConfigException(
            f"Invalid value [] for configuration {VERIFICATION_ALGORITHMS_CONFIG}: "
            "At least one signature verification algorithm must be provided",
            name=VERIFICATION_ALGORITHMS_CONFIG,
            value=[],
        )
    for algorithm in verification_algorithms:
        if canonical_algorithm(algorithm) is None:
            raise unsupported(VERIFICATION_ALGORITHMS_CONFIG, algorithm)
    # Generating a key also checks the size, with Kafka's message.
    generate_session_key(key_generation_algorithm, key_size_bits, now_ms=0)
    if signature_algorithm not in verification_algorithms:
        raise ConfigException(
            f"Invalid value {signature_algorithm} for configuration {SIGNATURE_ALGORITHM_CONFIG}: "
            f"Signature algorithm must be present in {VERIFICATION_ALGORITHMS_CONFIG} list",
            name=SIGNATURE_ALGORITHM_CONFIG,
            value=signature_algorithm,
        )


__all__ = [
    "DEFAULT_ALGORITHM",
    "INVALID_SIGNATURE_MESSAGE",
    "MISSING_SIGNATURE_MESSAGE",
    "NO_SESSION_KEY_MESSAGE",
    "SIGNATURE_ALGORITHM_HEADER",
    "SIGNATURE_HEADER",
    "RequestSignature",
    "SessionKey",
    "canonical_algorithm",
    "generate_session_key",
    "sign_request",
    "signature_from_headers",
    "supported_algorithms",
    "validate_algorithm_configs",
    "verify_request",
]
