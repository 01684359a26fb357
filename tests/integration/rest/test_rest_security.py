"""REST security against real ``connect-standalone`` workers: Basic authentication on every
endpoint (Kafka's BasicAuthSecurityRestExtension and JAAS file), ``/admin`` on its own
listener, CORS preflights, HTTPS with a client certificate required, and worker keys that
cannot be honoured stopping the worker."""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from kconnect.rest.app import create_app
from kconnect.rest.http import HerderRef
from kconnect.testing.standalone_worker import StandaloneWorker, free_port, write_properties

KAFKA_EXTENSION = (
    "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
)
MODULE = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
USER = ("connect-admin", "p@ss:w0rd")
WRONG = [None, ("connect-admin", "nope"), ("mallory", "p@ss:w0rd")]


def _worker_props(bootstrap: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "bootstrap.servers": bootstrap,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": str(tmp_path / "offsets"),
        "offset.flush.interval.ms": "500",
        "rest.request.timeout.ms": "10000",
        **extra,
    }


def _routes() -> list[tuple[str, str]]:
    """(method, URI template) of every responder the app registers (OPTIONS aside)."""
    app = create_app(HerderRef())
    routes: list[tuple[str, str]] = []

    def walk(nodes: Any) -> None:
        for node in nodes:
            if node.resource is not None and node.method_map:
                for method, responder in node.method_map.items():
                    if method != "OPTIONS" and responder.__name__ != "method_not_allowed":
                        routes.append((method, node.uri_template))
            walk(node.children)

    walk(app._router._roots)
    # Deletes last, so every other request finds the connector.
    return sorted(routes, key=lambda r: (r[0] == "DELETE", r[1], r[0]))


def _fill(template: str, connector: str) -> str:
    values = {
        "connector": connector,
        "task": "0",
        "logger": "kconnect.rest.app",
        "plugin": "FileStreamSource",
    }
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], template)


def _body(method: str, template: str, source: dict[str, str]) -> Any:
    if template == "/connectors" and method == "POST":
        return {"name": "guarded-posted", "config": source}
    if template.endswith("/config") or template.endswith("/validate"):
        return source
    if template.startswith("/admin/loggers/"):
        return {"level": "INFO"}
    if template.endswith("/offsets"):
        return {"offsets": []}
    if template.endswith("/tasks") and method == "POST":
        return [{"topic": "stolen"}]
    return None


def _jaas(tmp_path: Path) -> Path:
    users = tmp_path / "connect-users.properties"
    users.write_text(f"{USER[0]}: {USER[1]}\nreader: r3ad\n")
    jaas = tmp_path / "connect-jaas.conf"
    jaas.write_text(f'KafkaConnect {{\n  {MODULE} required\n  file="{users}";\n}};\n')
    return jaas


def test_basic_auth_guards_every_endpoint_and_admin_has_its_own_listener(
    tmp_path: Path, bootstrap_servers: str, unique_topic: str, monkeypatch: pytest.MonkeyPatch
):
    admin_port = free_port()
    input_file = tmp_path / "in.txt"
    input_file.write_text("a\nb\n")
    props = _worker_props(
        bootstrap_servers,
        tmp_path,
        **{
            "rest.extension.classes": KAFKA_EXTENSION,
            "admin.listeners": f"http://127.0.0.1:{admin_port}",
            "access.control.allow.origin": "http://ui.example",
            "access.control.allow.methods": "GET,POST,PUT,DELETE",
            # a typo that must be reported, not silently ignored
            "access.control.allow.orgin": "*",
        },
    )
    worker = StandaloneWorker(tmp_path, props)
    # The JAAS file is found as Kafka users point to it: KAFKA_OPTS.
    jaas = _jaas(tmp_path)
    monkeypatch.setenv("KAFKA_OPTS", f"-Xmx256m -Djava.security.auth.login.config={jaas}")
    worker.start()
    url, admin_url = worker.rest_url, f"http://127.0.0.1:{admin_port}"
    session = requests.Session()

    def call(method: str, base: str, path: str, auth: Any, body: Any = None) -> int:
        response = session.request(method, base + path, json=body, auth=auth, timeout=30)
        return response.status_code

    try:
        worker.wait_for(lambda: _answers(url + "/connectors", USER), 90, "the REST API")
        source = {
            "connector.class": "FileStreamSource",
            "tasks.max": "1",
            "file": str(input_file),
            "topic": unique_topic,
        }
        assert call("PUT", url, "/connectors/guarded/config", USER, source) == 201

        checked = 0
        for method, template in _routes():
            admin = template.startswith("/admin")
            base = admin_url if admin else url
            path = _fill(template, "guarded")
            body = _body(method, template, source)
            internal = method == "POST" and template == "/connectors/{connector}/tasks"
            for auth in WRONG:
                status = call(method, base, path, auth, body)
                if internal:
                    # Signed inter-worker request: exempt, as in Kafka (standalone refuses it).
                    assert status == 400, (method, path)
                else:
                    assert status == 401, (method, path, auth, status)
            answer = session.request(method, base + path, json=body, auth=USER, timeout=30)
            # Let in: whatever the resource answers (a STOPPED connector's task is 404), but
            # never 401, and never the 404 of a route not served on this listener.
            assert answer.status_code != 401, (method, path, answer.text)
            assert answer.text != '{"error_code":404,"message":"HTTP 404 Not Found"}', (
                method,
                path,
            )
            checked += 1
        assert checked >= 25

        # /admin only on the admin listener; the admin listener serves nothing else.
        assert call("GET", url, "/admin/loggers", USER) == 404
        assert call("PUT", url, "/admin/loggers/root", USER, {"level": "OFF"}) == 404
        assert call("GET", admin_url, "/connectors", USER) == 404
        assert call("GET", admin_url, "/admin/loggers", USER) == 200

        # A browser's preflight carries no credentials and is answered by the CORS filter.
        preflight = session.options(
            url + "/connectors",
            headers={"Origin": "http://ui.example", "Access-Control-Request-Method": "PUT"},
            timeout=30,
        )
        assert preflight.status_code == 200
        assert preflight.headers["Access-Control-Allow-Methods"] == "GET,POST,PUT,DELETE"
        assert preflight.headers["Access-Control-Allow-Origin"] == "http://ui.example"
        assert (
            session.get(url + "/", auth=USER, timeout=30).headers.get("Access-Control-Allow-Origin")
            is None
        )

        log = worker.log_text()
        assert "Unknown REST configuration 'access.control.allow.orgin'" in log
        assert USER[1] not in log and "r3ad" not in log
    finally:
        worker.stop()


def _answers(url: str, auth: Any, **kwargs: Any) -> bool:
    try:
        return requests.get(url, auth=auth, timeout=2, **kwargs).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            {"rest.extension.classes": "org.example.security.TokenAuthRestExtension"},
            "Invalid value org.example.security.TokenAuthRestExtension for configuration "
            "rest.extension.classes",
        ),
        ({"rest.extension.classes": KAFKA_EXTENSION}, "needs a JAAS configuration file"),
        (
            {"listeners": "http://127.0.0.1:{port}", "admin.listeners": "https://127.0.0.1:0"},
            "cannot serve http and https listeners at the same time",
        ),
    ],
)
def test_rest_settings_that_cannot_be_honoured_stop_the_worker(
    tmp_path: Path, extra: dict[str, str], message: str
):
    port = free_port()
    props = _worker_props("127.0.0.1:9", tmp_path, listeners=f"http://127.0.0.1:{port}")
    props.update({k: v.format(port=port) for k, v in extra.items()})
    worker_file = write_properties(tmp_path / "worker.properties", props)
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_OPTS"}
    done = subprocess.run(
        [sys.executable, "-m", "kconnect.cli", "standalone", str(worker_file)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stdout + done.stderr


# -- HTTPS with client certificates ----------------------------------------------------------------
def _ca(name: str) -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _issue(ca_key: Any, ca_cert: Any, name: str, server: bool) -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return key, builder.sign(ca_key, hashes.SHA256())


def _pem_files(directory: Path, stem: str, key: Any, cert: Any) -> tuple[str, str]:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    cert_file, key_file = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_file.write_bytes(cert.public_bytes(Encoding.PEM))
    key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return str(cert_file), str(key_file)


def test_https_listener_requires_a_client_certificate_signed_by_the_truststore(
    tmp_path: Path, bootstrap_servers: str
):
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    ca_key, ca_cert = _ca("test CA")
    server_key, server_cert = _issue(ca_key, ca_cert, "127.0.0.1", server=True)
    client = _pem_files(tmp_path, "client", *_issue(ca_key, ca_cert, "operator", server=False))
    rogue_key, rogue_cert = _ca("rogue CA")
    rogue = _pem_files(tmp_path, "rogue", *_issue(rogue_key, rogue_cert, "operator", False))
    ca_file, _ = _pem_files(tmp_path, "ca", ca_key, ca_cert)
    # The stores Kafka users have: a PKCS12 keystore and truststore with passwords.
    keystore = tmp_path / "server.p12"
    keystore.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"server", server_key, server_cert, [ca_cert], BestAvailableEncryption(b"ks-secret")
        )
    )
    truststore = tmp_path / "trust.p12"
    truststore.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"trust", None, None, [ca_cert], BestAvailableEncryption(b"ts-secret")
        )
    )
    port = free_port()
    props = _worker_props(
        bootstrap_servers,
        tmp_path,
        **{
            "listeners": f"https://127.0.0.1:{port}",
            "listeners.https.ssl.keystore.location": str(keystore),
            "listeners.https.ssl.keystore.password": "ks-secret",
            "listeners.https.ssl.keystore.type": "PKCS12",
            "listeners.https.ssl.truststore.location": str(truststore),
            "listeners.https.ssl.truststore.password": "ts-secret",
            "listeners.https.ssl.truststore.type": "PKCS12",
            "listeners.https.ssl.client.auth": "required",
        },
    )
    url = f"https://127.0.0.1:{port}"
    with StandaloneWorker(tmp_path, props, rest_port=port) as worker:
        worker.wait_for(
            lambda: _answers(url + "/", None, verify=ca_file, cert=client), 90, "HTTPS API"
        )
        root = requests.get(url + "/", verify=ca_file, cert=client, timeout=10)
        assert root.status_code == 200 and "version" in root.json()
        for cert in (None, rogue):
            with pytest.raises((requests.exceptions.SSLError, requests.ConnectionError)):
                requests.get(url + "/", verify=ca_file, cert=cert, timeout=10)
        # Refused in the handshake itself, with a TLS alert, not after the request was read.
        context = ssl.create_default_context(cafile=ca_file)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                with pytest.raises((ssl.SSLError, ConnectionError)):
                    if not tls.recv(1024):
                        raise ConnectionError("closed")
        assert "ks-secret" not in worker.log_text() and "ts-secret" not in worker.log_text()
