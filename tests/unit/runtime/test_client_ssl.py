"""Java keystores and truststores (JKS, PKCS12, PEM) become TLS material for librdkafka and
kafka-python: same key and certificates whatever the store, errors naming key and file (never
the password), no key left on disk. The stores are made by the JDK's keytool, as users'
are."""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
import threading
from pathlib import Path

import pytest
from confluent_kafka import Producer
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from kconnect.api.errors import ConfigException
from kconnect.runtime import jks, tls_stores
from kconnect.runtime.distributed.kafka_python_client import kafka_python_config
from kconnect.runtime.states import TaskId
from kconnect.runtime.worker.client_configs import TaskClientSettings, to_librdkafka
from kconnect.testing.kafka_jars import KafkaSetupError
from kconnect.testing.tls import TlsFiles, generate_tls

STORE_TYPES = ["PKCS12", "JKS", "PEM", "PEM-STRINGS"]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    try:
        return generate_tls(tmp_path_factory.mktemp("tls"))
    except KafkaSetupError as error:  # no JDK: keytool makes the JKS stores
        pytest.skip(str(error))


def leaf_and_ca(material: tls_stores.TlsMaterial) -> tuple[x509.Certificate, ...]:
    assert material.chain_pem is not None
    return tuple(x509.load_pem_x509_certificates(material.chain_pem))


@pytest.mark.parametrize("truststore", STORE_TYPES)
@pytest.mark.parametrize("keystore", STORE_TYPES)
def test_every_store_type_gives_the_client_key_its_chain_and_the_ca(tls, keystore, truststore):
    material = tls_stores.load_tls_material(tls.client_props(keystore, truststore))

    assert material.key_pem is not None and material.ca_pem is not None
    key = serialization.load_pem_private_key(material.key_pem, None)
    chain = leaf_and_ca(material)
    assert chain[0].subject.rfc4514_string() == "CN=kconnect-test-client"
    # the key is the certificate's: the JKS key protector was undone, not just parsed
    assert key.public_key().public_numbers() == chain[0].public_key().public_numbers()
    ca = x509.load_pem_x509_certificates(material.ca_pem)
    assert [c.subject.rfc4514_string() for c in ca] == ["CN=kconnect test CA"]
    assert b"ENCRYPTED" not in material.key_pem


def test_librdkafka_gets_in_memory_pem_and_no_java_store_key(tls):
    java = {"bootstrap.servers": "127.0.0.1:1", **tls.client_props("JKS", "PKCS12")}
    java["ssl.endpoint.identification.algorithm"] = "https"

    out = to_librdkafka(java, "producer")

    assert set(out) == {
        "bootstrap.servers",
        "security.protocol",
        "ssl.endpoint.identification.algorithm",
        "ssl.key.pem",
        "ssl.certificate.pem",
        "ssl.ca.pem",
    }
    assert out["ssl.key.pem"].startswith("-----BEGIN PRIVATE KEY-----")
    # librdkafka itself accepts them (it parses key and certificates when the client is made)
    Producer({**out, "socket.timeout.ms": 1000}).flush(0)


def test_librdkafka_own_key_file_keeps_its_password():
    out = to_librdkafka(
        {"ssl.key.location": "/k.pem", "ssl.key.password": "pw", "ssl.ca.location": "/ca.pem"}
    )
    assert out == {
        "ssl.key.location": "/k.pem",
        "ssl.key.password": "pw",
        "ssl.ca.location": "/ca.pem",
    }


@pytest.mark.parametrize("store", ["keystore", "truststore"])
@pytest.mark.parametrize("kind", ["PKCS12", "JKS"])
def test_wrong_store_password_names_the_key_and_file_not_the_password(tls, store, kind):
    props = tls.client_props(kind, kind)
    props[f"ssl.{store}.password"] = "wrong-pw-123"

    with pytest.raises(ConfigException) as raised:
        to_librdkafka(props, "admin client")

    message = str(raised.value)
    assert raised.value.name == f"ssl.{store}.password"
    assert f"ssl.{store}.password" in message and f"ssl.{store}.location" in message
    assert props[f"ssl.{store}.location"] in message
    assert "wrong-pw-123" not in message and tls.password not in message
    assert message.startswith("admin client: Failed to load SSL")


def test_wrong_key_password_of_a_jks_keystore_names_ssl_key_password(tls):
    props = tls.client_props("JKS", "JKS")
    props["ssl.key.password"] = "not-the-key-password"
    with pytest.raises(ConfigException, match=r"ssl\.key\.password\) was incorrect") as raised:
        tls_stores.load_tls_material(props)
    assert raised.value.name == "ssl.key.password"
    assert str(tls.client_jks) in str(raised.value)


def test_wrong_key_password_of_a_pem_key_names_ssl_key_password(tls):
    props = tls.client_props("PEM-STRINGS", "PEM")
    props["ssl.key.password"] = "nope"
    with pytest.raises(ConfigException, match="ssl.key.password") as raised:
        tls_stores.load_tls_material(props)
    assert "nope" not in str(raised.value)


def test_missing_file_names_the_key_and_the_file(tls, tmp_path):
    props = tls.client_props("PKCS12", "JKS")
    props["ssl.truststore.location"] = str(tmp_path / "gone.jks")
    with pytest.raises(ConfigException) as raised:
        tls_stores.load_tls_material(props)
    assert raised.value.name == "ssl.truststore.location"
    assert str(raised.value) == (
        f"Invalid value {tmp_path / 'gone.jks'} for configuration ssl.truststore.location: "
        "cannot read the file (No such file or directory)"
    )


def test_unsupported_store_type_is_named_with_a_way_out(tls):
    props = tls.client_props("PKCS12", "JKS")
    props["ssl.keystore.type"] = "JCEKS"
    with pytest.raises(ConfigException, match="supported store types are JKS, PKCS12, PEM") as e:
        tls_stores.load_tls_material(props)
    assert e.value.name == "ssl.keystore.type"
    assert "keytool -importkeystore" in str(e.value)


def test_a_pem_file_given_as_jks_says_to_set_pem(tls):
    props = tls.client_props("PKCS12", "PEM")
    props["ssl.truststore.type"] = "JKS"
    with pytest.raises(ConfigException, match="is a PEM file; set ssl.truststore.type=PEM"):
        tls_stores.load_tls_material(props)


def test_kafka_default_store_type_opens_pkcs12_and_pem_too(tls):
    """Kafka's default type is JKS; Java opens a PKCS12 file given as JKS, and an unset type on
    a PEM file can only mean PEM."""
    props = tls.client_props("PKCS12", "PEM")
    del props["ssl.keystore.type"], props["ssl.truststore.type"]
    material = tls_stores.load_tls_material(props)
    assert material.key_pem and material.ca_pem


def test_pem_strings_folded_by_properties_line_continuations(tls):
    """A PEM value written over several lines ending in ``\\`` reaches us as one line with
    spaces; Kafka reads it, so must we."""
    props = tls.client_props("PEM-STRINGS", "PEM-STRINGS")
    for key in (
        "ssl.keystore.key",
        "ssl.keystore.certificate.chain",
        "ssl.truststore.certificates",
    ):
        props[key] = " ".join(line.strip() for line in props[key].splitlines())
        assert "\n" not in props[key]
    material = tls_stores.load_tls_material(props)
    assert material.key_pem and len(leaf_and_ca(material)) == 2


def test_a_tampered_jks_store_is_refused(tls):
    data = bytearray(tls.truststore_jks.read_bytes())
    data[len(data) // 2] ^= 0x01
    with pytest.raises(jks.JksPasswordError):
        jks.load_jks(bytes(data), tls.password)
    with pytest.raises(jks.JksFormatError):
        jks.load_jks(bytes(data[:40]), tls.password)


def test_worker_prefix_and_connector_override_pick_the_store(tls):
    """``consumer.`` keys beat the worker's, and a connector's ``consumer.override.`` keys
    beat both; the admin client keeps the worker's own."""
    worker = {**tls.client_props("PKCS12", "JKS"), "consumer.ssl.keystore.password": "bad"}
    settings = TaskClientSettings(worker, "All")
    task = TaskId("sink", 0)

    assert "ssl.key.pem" in settings.admin()
    with pytest.raises(ConfigException, match="consumer of sink-0: .*ssl.keystore.password"):
        settings.consumer(task, {"name": "sink"})
    override = {f"consumer.override.{k}": v for k, v in tls.client_props("JKS", "PEM").items()}
    out = settings.consumer(task, {"name": "sink", **override})
    assert "ssl.key.pem" in out and "ssl.ca.pem" in out


def test_kafka_python_gets_an_ssl_context_that_completes_a_mutual_handshake(tls):
    """The group member's client: JKS keystore and PKCS12 truststore as one SSLContext, which
    presents the client certificate to a server that requires one."""
    config = kafka_python_config(
        {"bootstrap.servers": "127.0.0.1:1", **tls.client_props("JKS", "PKCS12")}
    )
    context = config["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert config["security_protocol"] == "SSL"
    assert not {"ssl_cafile", "ssl_certfile", "ssl_password"} & set(config)

    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.verify_mode = ssl.CERT_REQUIRED
    server.load_verify_locations(cafile=str(tls.ca_pem))
    broker_material = _broker_material(tls)
    server_dir = Path(tempfile.mkdtemp())
    try:
        (server_dir / "key.pem").write_bytes(broker_material.key_pem or b"")
        (server_dir / "chain.pem").write_bytes(broker_material.chain_pem or b"")
        server.load_cert_chain(server_dir / "chain.pem", server_dir / "key.pem")
    finally:
        for name in ("key.pem", "chain.pem"):
            (server_dir / name).unlink()
        server_dir.rmdir()
    peer: list[object] = []
    left, right = socket.socketpair()
    with left, right:

        def serve() -> None:
            with server.wrap_socket(right, server_side=True) as conn:
                peer.append(conn.getpeercert())

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with context.wrap_socket(left, server_hostname="127.0.0.1") as client:
            assert client.version() in ("TLSv1.2", "TLSv1.3")
        thread.join(10)
    assert peer and peer[0], "the server saw no client certificate"
    subject = dict(item[0] for item in peer[0]["subject"])  # type: ignore[index]
    assert subject["commonName"] == "kconnect-test-client"


def _broker_material(tls: TlsFiles) -> tls_stores.TlsMaterial:
    return tls_stores.load_tls_material(
        {
            "ssl.keystore.location": str(tls.broker_keystore),
            "ssl.keystore.password": tls.password,
            "ssl.keystore.type": "PKCS12",
        }
    )


def test_kafka_python_context_leaves_no_key_file_behind(tls, tmp_path, monkeypatch):
    modes: list[int] = []
    real_open = os.open

    def recording_open(path, flags, mode=0o777, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).startswith(str(tmp_path)) and flags & os.O_CREAT:
            modes.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(os, "open", recording_open)
    config = kafka_python_config(tls.client_props("PEM", "JKS"))

    assert isinstance(config["ssl_context"], ssl.SSLContext)
    assert modes == [0o600, 0o600]  # the encrypted key and the chain, for the owner only
    assert list(tmp_path.iterdir()) == []


def test_kafka_python_hostname_check_follows_endpoint_identification(tls):
    props = {**tls.client_props("PKCS12", "PEM"), "ssl.endpoint.identification.algorithm": ""}
    assert kafka_python_config(props)["ssl_context"].check_hostname is False
