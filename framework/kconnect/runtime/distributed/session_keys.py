"""The cluster's session key: what signs the requests workers send each other
(``POST /connectors/{c}/tasks``), as Kafka Connect's sessioned protocol does.

The leader writes a new key to the config topic when there is none or the last one is older than
``inter.worker.key.ttl.ms``; every worker reads it back. Signing and checking happen only while
the group runs the ``sessioned`` sub-protocol (a group with an older worker runs unsigned).
The key itself is never logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from kconnect.rest import request_signing
from kconnect.runtime.distributed.protocol import ConnectProtocolCompatibility
from kconnect.storage.config_backing_store import ClusterConfigState, SessionKeyRecord

log = logging.getLogger(__name__)


class SessionKeys:
    """The current key, its rotation (leader) and request signing and checking."""

    def __init__(
        self,
        worker_config: Any,
        snapshot: Callable[[], ClusterConfigState],
        write: Callable[[SessionKeyRecord], None],
    ):
        self.generation_algorithm = str(worker_config.get("inter.worker.key.generation.algorithm"))
        self.key_size_bits = worker_config.get("inter.worker.key.size")
        self.ttl_ms = int(worker_config.get("inter.worker.key.ttl.ms"))
        self.signature_algorithm = str(worker_config.get("inter.worker.signature.algorithm"))
        self.verification_algorithms = list(
            worker_config.get("inter.worker.verification.algorithms")
        )
        # Refuse a bad setting at start, not when the leader first needs a key.
        request_signing.validate_algorithm_configs(
            self.generation_algorithm,
            self.key_size_bits,
            self.signature_algorithm,
            self.verification_algorithms,
        )
        self._snapshot = snapshot
        self._write = write
        self._latest: SessionKeyRecord | None = None
        #: the sub-protocol of the group's current generation
        self.protocol: ConnectProtocolCompatibility | None = None

    @property
    def required(self) -> bool:
        return self.protocol is ConnectProtocolCompatibility.SESSIONED

    def current(self) -> SessionKeyRecord | None:
        # A key written before this worker started is only in the snapshot: the store tells its
        # listener only of records read after start.
        return self._latest or self._snapshot().session_key

    def on_update(self, key: SessionKeyRecord) -> None:
        """Config store listener (any thread)."""
        self._latest = key

    def rotate_if_due(self) -> None:
        """Leader, herder thread: write a new key when there is none or it expired."""
        if not self.required:
            return
        key = self.current()
        now_ms = int(time.time() * 1000)
        if key is not None and now_ms < key.creation_timestamp_ms + self.ttl_ms:
            return
        new = request_signing.generate_session_key(
            self.generation_algorithm, self.key_size_bits, now_ms
        )
        record = SessionKeyRecord(new.key, new.algorithm, now_ms)
        log.info("Writing a new session key to the config topic")
        self._write(record)
        self._latest = record

    def key_for_signing(self) -> SessionKeyRecord | None:
        """The key to sign an outgoing internal request with (None: send it unsigned)."""
        return self.current() if self.required else None

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Check an incoming internal request; raises Kafka's 400/403/503 REST errors."""
        if self.required:
            request_signing.verify_request(
                headers, body, self.current(), self.verification_algorithms
            )
