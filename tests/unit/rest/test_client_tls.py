"""The TLS context a worker calls other workers with (``server_tls.client_ssl_context``): the https
listener's keystore as client certificate, its truststore as CAs, host names checked unless
``ssl.endpoint.identification.algorithm`` is empty; and the listener's own settings for
gunicorn (``server_tls.ssl_options``): JKS stores too, the key never on disk unencrypted.
Handshakes against a real TLS socket."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)
from cryptography.x509.oid import NameOID
from gunicorn.config import Config
from gunicorn.sock import ssl_context as gunicorn_ssl_context
from kconnect.api.errors import ConfigException
from kconnect.rest import server_tls
from kconnect.testing.kafka_jars import KafkaSetupError
from kconnect.testing.tls import generate_tls

PASSWORD = "store-secret"


def _cert(name: str, issuer: tuple[Any, Any] | None) -> tuple[Any, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[1].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return key, builder.sign(issuer[0] if issuer else key, hashes.SHA256())


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A CA, a worker's PKCS12 keystore and truststore (with passwords), and PEM files of the
    CA and of a server certificate for 127.0.0.1 the test server presents."""
    directory = tmp_path_factory.mktemp("client-tls")
    ca = _cert("test CA", None)
    worker_key, worker_cert = _cert("worker", ca)
    server_key, server_cert = _cert("server", ca)
    secret = BestAvailableEncryption(PASSWORD.encode())
    keystore = directory / "worker.p12"
    keystore.write_bytes(
        pkcs12.serialize_key_and_certificates(b"w", worker_key, worker_cert, [ca[1]], secret)
    )
    truststore = directory / "trust.p12"
    truststore.write_bytes(pkcs12.serialize_key_and_certificates(b"t", None, None, [ca[1]], secret))
    ca_pem = directory / "ca.pem"
    ca_pem.write_bytes(ca[1].public_bytes(Encoding.PEM))
    server_pem = directory / "server.pem"
    server_pem.write_bytes(
        server_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        + server_cert.public_bytes(Encoding.PEM)
    )
    return {"keystore": keystore, "truststore": truststore, "ca": ca_pem, "server": server_pem}


def _listener_props(stores: dict[str, Any], prefix: str = "listeners.https.") -> dict[str, str]:
    return {
        f"{prefix}ssl.keystore.location": str(stores["keystore"]),
        f"{prefix}ssl.keystore.password": PASSWORD,
        f"{prefix}ssl.keystore.type": "PKCS12",
        f"{prefix}ssl.truststore.location": str(stores["truststore"]),
        f"{prefix}ssl.truststore.password": PASSWORD,
        f"{prefix}ssl.truststore.type": "PKCS12",
    }


def _handshake(stores: dict[str, Any], client: ssl.SSLContext, server_hostname: str) -> str:
    """Connect ``client`` to a TLS server on 127.0.0.1 that requires a client certificate signed
    by the CA; the common name of the certificate the client presented."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(str(stores["server"]))
    server.load_verify_locations(cafile=str(stores["ca"]))
    server.verify_mode = ssl.CERT_REQUIRED
    return _serve_once(server, client, server_hostname)


def test_presents_the_listener_keystore_and_trusts_its_truststore(stores: dict[str, Any]):
    context = server_tls.client_ssl_context(_listener_props(stores))
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert _handshake(stores, context, "127.0.0.1") == "worker"


def test_falls_back_to_the_top_level_ssl_keys_when_no_listener_key_is_set(
    stores: dict[str, Any],
):
    context = server_tls.client_ssl_context(_listener_props(stores, prefix=""))
    assert _handshake(stores, context, "127.0.0.1") == "worker"


def test_listener_keys_win_over_top_level_ones_all_or_nothing(stores: dict[str, Any]):
    # Top-level ssl.* (for Kafka clients) name a store that does not exist: not used at all.
    props = {**_listener_props(stores), "ssl.truststore.location": "/nonexistent/trust.p12"}
    context = server_tls.client_ssl_context(props)
    assert _handshake(stores, context, "127.0.0.1") == "worker"


def test_host_name_checked_unless_endpoint_identification_is_empty(stores: dict[str, Any]):
    # The server's certificate names 127.0.0.1 only.
    checked = server_tls.client_ssl_context(_listener_props(stores))
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(stores, checked, "worker-2.example")
    unchecked = server_tls.client_ssl_context(
        {**_listener_props(stores), "listeners.https.ssl.endpoint.identification.algorithm": ""}
    )
    assert not unchecked.check_hostname
    assert _handshake(stores, unchecked, "worker-2.example") == "worker"


def test_no_keystore_means_no_client_certificate(stores: dict[str, Any]):
    props = _listener_props(stores)
    del props["listeners.https.ssl.keystore.location"]
    context = server_tls.client_ssl_context(props)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        _handshake(stores, context, "127.0.0.1")


def test_bad_settings_are_config_errors_naming_the_key(stores: dict[str, Any], tmp_path: Path):
    props = {**_listener_props(stores), "listeners.https.ssl.keystore.password": "n0t-it"}
    with pytest.raises(ConfigException) as wrong:
        server_tls.client_ssl_context(props)
    assert "listeners.https.ssl.keystore.password" in str(wrong.value)
    assert "n0t-it" not in str(wrong.value)
    algorithm = "listeners.https.ssl.endpoint.identification.algorithm"
    with pytest.raises(ConfigException, match=algorithm):
        server_tls.client_ssl_context({**_listener_props(stores), algorithm: "ldaps"})
    missing = {**_listener_props(stores), "listeners.https.ssl.keystore.location": "/no/ks.p12"}
    with pytest.raises(ConfigException) as gone:
        server_tls.client_ssl_context(missing)
    assert str(gone.value) == (  # as for the Kafka clients
        "Invalid value /no/ks.p12 for configuration listeners.https.ssl.keystore.location: "
        "cannot read the file (No such file or directory)"
    )


def test_client_context_writes_no_key_material(
    stores: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(server_tls, "_private_dir", None)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    server_tls.client_ssl_context(_listener_props(stores))
    assert os.listdir(tmp_path) == []


def test_listener_key_is_kept_encrypted_0600_in_a_private_directory(
    stores: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """gunicorn loads the key pair from a file, maybe long after start: the file holds the key
    encrypted with a password only the process knows, and gunicorn's ``ssl_context`` hook
    loads it with that password; the server it makes requires client certificates."""
    monkeypatch.setattr(server_tls, "_private_dir", None)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    props = {**_listener_props(stores), "listeners.https.ssl.client.auth": "required"}
    options = server_tls.ssl_options(props)
    certfile = Path(options["certfile"])
    assert certfile.parent.parent == tmp_path
    assert certfile.parent.stat().st_mode & 0o777 == 0o700
    assert certfile.stat().st_mode & 0o777 == 0o600
    content = certfile.read_bytes()
    assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in content
    assert b"-----BEGIN PRIVATE KEY-----" not in content
    assert b"-----BEGIN EC PRIVATE KEY-----" not in content
    with pytest.raises(ssl.SSLError):  # the file alone is no use
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            str(certfile), password=b"guess"
        )

    config = Config()  # gunicorn's own settings, validated as the server sets them
    for key, value in options.items():
        config.set(key, value)
    server = gunicorn_ssl_context(config)
    assert server.verify_mode == ssl.CERT_REQUIRED
    client = server_tls.client_ssl_context(props)
    assert _serve_once(server, client) == "worker"
    no_certificate = server_tls.client_ssl_context(
        {k: v for k, v in props.items() if ".keystore." not in k}
    )
    with pytest.raises((ssl.SSLError, ConnectionError)):
        _serve_once(server, no_certificate)


def _serve_once(
    server: ssl.SSLContext, client: ssl.SSLContext, server_hostname: str = "127.0.0.1"
) -> str:
    """One TLS connection from ``client`` to ``server`` on 127.0.0.1, the client expecting
    ``server_hostname``; the common name of the certificate the client presented."""
    peer: dict[str, Any] = {}
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)

        def serve() -> None:
            conn, _ = listener.accept()
            try:
                with server.wrap_socket(conn, server_side=True) as tls:
                    peer["subject"] = dict(x[0] for x in tls.getpeercert()["subject"])
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError) as error:
                peer["error"] = error

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with client.wrap_socket(raw, server_hostname=server_hostname) as tls:
                    if tls.recv(2) != b"ok":
                        raise ConnectionError("closed by the server")
        finally:
            thread.join(10)
    assert "error" not in peer, peer
    return str(peer["subject"]["commonName"])


def test_listener_reads_jks_stores_with_kafka_client_messages(tmp_path_factory):
    try:
        tls = generate_tls(tmp_path_factory.mktemp("jks"))
    except KafkaSetupError as error:  # no JDK: keytool makes the JKS stores
        pytest.skip(str(error))
    props = {
        "listeners.https.ssl.keystore.location": str(tls.client_jks),
        "listeners.https.ssl.keystore.type": "JKS",
        "listeners.https.ssl.keystore.password": tls.password,
        "listeners.https.ssl.key.password": tls.password,
        "listeners.https.ssl.truststore.location": str(tls.truststore_jks),
        "listeners.https.ssl.truststore.type": "JKS",
        "listeners.https.ssl.truststore.password": tls.password,
        "listeners.https.ssl.client.auth": "required",
    }
    options = server_tls.ssl_options(props)
    config = Config()
    for key, value in options.items():
        config.set(key, value)
    assert _serve_once(gunicorn_ssl_context(config), server_tls.client_ssl_context(props)) == (
        "kconnect-test-client"
    )
    wrong = {**props, "listeners.https.ssl.truststore.password": "n0t-the-one"}
    with pytest.raises(ConfigException) as raised:
        server_tls.ssl_options(wrong)
    message = str(raised.value)
    assert "listeners.https.ssl.truststore.password" in message
    assert str(tls.truststore_jks) in message
    assert "n0t-the-one" not in message and tls.password not in message
