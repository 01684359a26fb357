"""An https REST listener from the JKS stores Kafka users have (made with the JDK's keytool),
against a real ``connect-standalone`` worker: it serves with client authentication, keeps its
key only encrypted on disk, in a private directory, still serves after gunicorn replaces its
worker process, and removes that directory when it stops."""

from __future__ import annotations

import http.client
import os
import signal
import ssl
from pathlib import Path

import psutil
import pytest
from kconnect.testing.kafka_jars import KafkaSetupError
from kconnect.testing.standalone_worker import StandaloneWorker, free_port
from kconnect.testing.tls import TlsFiles, generate_tls


def _get_root(port: int, context: ssl.SSLContext) -> int | None:
    """Status of ``GET /`` over TLS, or None if the connection or handshake failed."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _client_context(tls: TlsFiles, with_certificate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(tls.ca_pem))
    if with_certificate:
        context.load_cert_chain(str(tls.client_pem), password=tls.password)
    return context


def test_https_listener_with_jks_stores_requires_client_certificates(
    tmp_path: Path, bootstrap_servers: str, monkeypatch: pytest.MonkeyPatch
):
    try:
        tls = generate_tls(tmp_path / "tls")
    except KafkaSetupError as error:  # no JDK: keytool makes the JKS stores
        pytest.skip(str(error))
    worker_tmp = tmp_path / "worker-tmp"
    worker_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(worker_tmp))  # where the worker's private directory goes
    port = free_port()
    props = {
        "bootstrap.servers": bootstrap_servers,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": str(tmp_path / "offsets"),
        "listeners": f"https://127.0.0.1:{port}",
        # Kafka's default store type is JKS: no listeners.https.ssl.keystore.type needed.
        "listeners.https.ssl.keystore.location": str(tls.client_jks),
        "listeners.https.ssl.keystore.password": tls.password,
        "listeners.https.ssl.key.password": tls.password,
        "listeners.https.ssl.truststore.location": str(tls.truststore_jks),
        "listeners.https.ssl.truststore.type": "JKS",
        "listeners.https.ssl.truststore.password": tls.password,
        "listeners.https.ssl.client.auth": "required",
    }
    trusted = _client_context(tls, with_certificate=True)
    anonymous = _client_context(tls, with_certificate=False)
    with StandaloneWorker(tmp_path, props, rest_port=port) as worker:
        worker.wait_for(lambda: _get_root(port, trusted) == 200, 90, "the HTTPS API")
        assert _get_root(port, anonymous) is None  # refused in the handshake

        private = list(worker_tmp.glob("kconnect-rest-tls-*"))
        assert len(private) == 1 and private[0].stat().st_mode & 0o777 == 0o700
        files = list(private[0].iterdir())
        assert files
        for file in files:
            assert file.stat().st_mode & 0o777 == 0o600
            assert b"-----BEGIN PRIVATE KEY-----" not in file.read_bytes()

        # gunicorn replaces a worker process that ended (here: told to stop); the new one loads
        # the same key file, which the old one must not have removed on its way out.
        assert worker.process is not None
        arbiter = psutil.Process(worker.process.pid)
        (first,) = arbiter.children()
        os.kill(first.pid, signal.SIGTERM)
        first.wait(60)

        def replaced_and_serving() -> bool:
            children = arbiter.children()
            return (
                bool(children)
                and children[0].pid != first.pid
                and (_get_root(port, trusted) == 200)
            )

        worker.wait_for(replaced_and_serving, 90, "a replacement worker process serving HTTPS")
        assert _get_root(port, anonymous) is None
        assert list(worker_tmp.glob("kconnect-rest-tls-*")) == private
    assert worker.returncode == 0
    assert list(worker_tmp.glob("kconnect-rest-tls-*")) == []
    assert tls.password not in worker.log_text()
