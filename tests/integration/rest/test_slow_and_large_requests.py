"""Slow and oversized clients against a real worker over raw sockets on 127.0.0.1: requests are
read whole before a request thread serves them, within ``rest.request.read.timeout.ms``; bodies
over ``rest.request.max.bytes`` are refused with 413 before they are read; the errors gunicorn
answers itself are JSON in Kafka Connect's shape."""

from __future__ import annotations

import datetime
import json
import select
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from kconnect.testing.standalone_worker import StandaloneWorker, free_port

from tests.integration.rest.conftest import Worker

HALF_SENT = 32  # twice the worker's request threads


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _half_sent_post(port: int) -> socket.socket:
    """The head of a POST announcing 1000 bytes of body, and one byte of it."""
    sock = _connect(port)
    sock.sendall(
        b"POST /connectors HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{"
    )
    return sock


class _Responses:
    """Responses read off a raw socket, in order; bytes of the next one are kept for it."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.data = b""

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed in the middle of a response: {self.data!r}")
        self.data += chunk

    def next(self, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body); the body by Content-Length."""
        self.sock.settimeout(timeout)
        while b"\r\n\r\n" not in self.data:
            self._more()
        head, _, self.data = self.data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
        }
        length = int(headers.get("content-length", "0"))
        while len(self.data) < length:
            self._more()
        body, self.data = self.data[:length], self.data[length:]
        return status, headers, body


def _read_response(sock: socket.socket, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    return _Responses(sock).next(timeout)


def _assert_json_error(body: bytes, status: int) -> str:
    error = json.loads(body)
    assert set(error) == {"error_code", "message"}, error
    assert error["error_code"] == status, error
    assert error["message"], error
    return str(error["message"])


@pytest.fixture
def held_sockets() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def test_half_sent_requests_do_not_starve_the_api(worker: Worker, held_sockets: ExitStack):
    port = worker.port
    for _ in range(HALF_SENT):
        held_sockets.enter_context(_half_sent_post(port))
    time.sleep(0.5)  # let the worker take them all in
    # New connections and a kept-alive session are answered while all of them stay open.
    with requests.Session() as session:
        for _ in range(5):
            assert session.get(worker.url + "/connectors", timeout=5).json() == []
    # Two requests pipelined on one connection are both answered, in order.
    with _connect(port) as sock:
        sock.sendall(
            b"GET /connectors HTTP/1.1\r\nHost: x\r\n\r\nGET /connector-plugins HTTP/1.1\r\n"
            b"Host: x\r\n\r\n"
        )
        responses = _Responses(sock)
        first = responses.next(timeout=5)
        second = responses.next(timeout=5)
    assert (first[0], json.loads(first[2])) == (200, [])
    assert second[0] == 200 and json.loads(second[2])
    # The half-sent ones were never served: no connector was created from them.
    assert worker.get("/connectors").json() == []


def test_a_slow_client_is_cut_after_the_read_timeout(worker_factory):
    worker = worker_factory({"rest.request.read.timeout.ms": "1500"})
    # Stalled after part of its body: answered 408 in JSON, then the connection is closed.
    with _half_sent_post(worker.port) as stalled:
        began = time.monotonic()
        status, headers, body = _read_response(stalled, timeout=15)
        assert status == 408, body
        assert headers["content-type"] == "application/json"
        assert "rest.request.read.timeout.ms" in _assert_json_error(body, 408)
        assert stalled.recv(100) == b""
        assert 1.0 < time.monotonic() - began < 10
    # Still sending, a byte every 200 ms: the bound is on the whole request, not between bytes.
    with _connect(worker.port) as dribbling:
        head = b"GET /connectors HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
        began = time.monotonic()
        for byte in head:
            if select.select([dribbling], [], [], 0)[0]:
                break  # answered
            dribbling.sendall(bytes([byte]))
            time.sleep(0.2)
        status, _, body = _read_response(dribbling, timeout=10)
        assert status == 408, body
        assert 1.0 < time.monotonic() - began < 10
    # A connection that never sends a byte is closed without an answer.
    with _connect(worker.port) as silent:
        silent.settimeout(10)
        assert silent.recv(100) == b""
    assert worker.get("/connectors").status_code == 200


def test_an_oversized_body_is_refused_with_413_before_it_is_read(worker_factory):
    worker = worker_factory({"rest.request.max.bytes": "100000"})
    big = {"name": "big", "config": {"connector.class": "FileStreamSource", "x": "a" * 200_000}}
    answer = requests.post(worker.url + "/connectors", json=big, timeout=30)
    assert answer.status_code == 413, answer.text
    message = _assert_json_error(answer.content, 413)
    assert "rest.request.max.bytes" in message and "100000" in message
    # A chunked body (no Content-Length) is cut when the bytes received pass the limit.
    payload = json.dumps(big).encode()
    chunks = (payload[i : i + 8192] for i in range(0, len(payload), 8192))
    answer = requests.put(worker.url + "/connectors/big/config", data=chunks, timeout=30)
    assert answer.status_code == 413, answer.text
    _assert_json_error(answer.content, 413)
    # A declared 100 MB body is refused from its head alone: nothing of it is sent.
    with _connect(worker.port) as sock:
        sock.sendall(
            b"PUT /connector-plugins/FileStreamSource/config/validate HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
        )
        status, _, body = _read_response(sock, timeout=5)
        assert status == 413
        assert "104857600" in _assert_json_error(body, 413)
    assert worker.get("/connectors/big").status_code == 404
    assert worker.get("/connectors").json() == []
    # A chunked body under the limit is read whole.
    validate = {"connector.class": "FileStreamSource", "topic": "chunked-topic"}
    payload = json.dumps(validate).encode()
    answer = requests.put(
        worker.url + "/connector-plugins/FileStreamSource/config/validate",
        data=iter([payload[:10], payload[10:]]),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    values = {c["value"]["name"]: c["value"]["value"] for c in answer.json()["configs"]}
    assert values["topic"] == "chunked-topic"
    # Under the limit, through Expect: 100-continue on a kept-alive connection: created.
    small = {"name": "small", "config": {**big["config"], "x": "a" * 1000}}
    small["config"]["file"] = "/dev/null"
    small["config"]["topic"] = "small-topic"
    body = json.dumps(small).encode()
    with _connect(worker.port) as sock:
        sock.sendall(
            b"POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        responses = _Responses(sock)
        assert responses.next(timeout=5)[0] == 100
        sock.sendall(body)
        status, _, answer_body = responses.next()
        assert status == 201, answer_body
        sock.sendall(b"GET /connectors HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, answer_body = responses.next(timeout=5)
        assert (status, json.loads(answer_body)) == (200, ["small"])


def test_errors_gunicorn_answers_are_json(worker: Worker):
    answer = requests.get(worker.url + "/connectors/" + "a" * 10_000, timeout=10)
    assert answer.status_code == 414
    assert answer.headers["Content-Type"] == "application/json"
    assert "Request line too long" in _assert_json_error(answer.content, 414)
    with _connect(worker.port) as sock:
        sock.sendall(b"GET /connectors HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        status, headers, body = _read_response(sock)
    assert status == 400 and headers["content-type"] == "application/json"
    _assert_json_error(body, 400)
    with _connect(worker.port) as sock:
        sock.sendall(
            b"GET /connectors HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n"
        )
        status, _, body = _read_response(sock)
    assert status == 431
    _assert_json_error(body, 431)
    assert worker.get("/connectors").status_code == 200


# -- HTTPS ---------------------------------------------------------------------------------------
def _self_signed_pem(directory: Path) -> tuple[Path, Path]:
    """(key and certificate in one PEM file, the certificate alone) for 127.0.0.1."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    keystore = directory / "server.pem"
    keystore.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + cert_pem
    )
    ca = directory / "ca.pem"
    ca.write_bytes(cert_pem)
    return keystore, ca


def test_https_stalled_handshakes_and_bodies_do_not_starve_the_api(
    tmp_path: Path, bootstrap_servers: str, held_sockets: ExitStack
):
    keystore, ca = _self_signed_pem(tmp_path)
    port = free_port()
    props = {
        "bootstrap.servers": bootstrap_servers,
        "offset.storage.file.filename": str(tmp_path / "offsets"),
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "listeners": f"https://127.0.0.1:{port}",
        "listeners.https.ssl.keystore.location": str(keystore),
        "listeners.https.ssl.keystore.type": "PEM",
        "rest.request.read.timeout.ms": "20000",
    }
    url = f"https://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(url + "/connectors", verify=str(ca), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    with StandaloneWorker(tmp_path, props, rest_port=port) as worker:
        worker.wait_for(healthy, timeout_s=90, what="the https REST API")
        client_context = ssl.create_default_context(cafile=str(ca))
        for i in range(HALF_SENT):
            if i % 2:  # a TLS connection that stalls in its request body
                raw = _connect(port)
                tls = client_context.wrap_socket(raw, server_hostname="127.0.0.1")
                tls.sendall(
                    b"POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"
                )
                held_sockets.enter_context(tls)
            else:  # a TCP connection that sends half a ClientHello and stalls the handshake
                raw = _connect(port)
                raw.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
                held_sockets.enter_context(raw)
        time.sleep(0.5)
        with requests.Session() as session:
            for _ in range(5):
                answer = session.get(url + "/connectors", verify=str(ca), timeout=5)
                assert answer.json() == []
        answer = requests.get(url + "/connectors/" + "a" * 10_000, verify=str(ca), timeout=5)
        assert answer.status_code == 414
        _assert_json_error(answer.content, 414)
