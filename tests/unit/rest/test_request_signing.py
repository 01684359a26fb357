"""Inter-worker request signatures: Java-compatible HMACs and Kafka's refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac

import falcon
import pytest
from falcon import testing
from kconnect.api.errors import ConfigException
from kconnect.rest import errors, request_signing
from kconnect.rest.errors import ConnectRestError
from kconnect.rest.request_signing import (
    INVALID_SIGNATURE_MESSAGE,
    MISSING_SIGNATURE_MESSAGE,
    NO_SESSION_KEY_MESSAGE,
    SIGNATURE_ALGORITHM_HEADER,
    SIGNATURE_HEADER,
    SessionKey,
    generate_session_key,
    sign_request,
    signature_from_headers,
    validate_algorithm_configs,
    verify_request,
)
from kconnect.storage.config_backing_store import SessionKeyRecord

KEY = bytes(range(32))
BODY = b'[{"connector.class":"FileStreamSource","task.class":"x.Task","file":"/tmp/in"}]'
ALLOWED = ["HmacSHA256"]


def expected_signature(key: bytes, body: bytes, digest: str = "sha256") -> str:
    return base64.b64encode(hmac.new(key, body, getattr(hashlib, digest)).digest()).decode()


def refusal(headers, body=BODY, key=KEY, allowed=ALLOWED) -> ConnectRestError:
    with pytest.raises(ConnectRestError) as caught:
        verify_request(headers, body, key, allowed)
    return caught.value


# -- signing ------------------------------------------------------------------------------------


def test_sign_request_is_base64_hmac_of_body_and_names_the_algorithm():
    assert sign_request(KEY, "HmacSHA256", BODY) == {
        "X-Connect-Authorization": expected_signature(KEY, BODY),
        "X-Connect-Request-Signature-Algorithm": "HmacSHA256",
    }


def test_sign_request_matches_rfc_4231_vector():
    # RFC 4231 test case 1, as Java's Mac("HmacSHA256") computes it.
    headers = sign_request(b"\x0b" * 20, "HmacSHA256", b"Hi There")
    assert base64.b64decode(headers[SIGNATURE_HEADER]).hex() == (
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    )


@pytest.mark.parametrize(
    ("java_name", "digest"),
    [
        ("HmacMD5", "md5"),
        ("HmacSHA1", "sha1"),
        ("HmacSHA224", "sha224"),
        ("HmacSHA256", "sha256"),
        ("HmacSHA384", "sha384"),
        ("HmacSHA512", "sha512"),
        ("HmacSHA3-256", "sha3_256"),
        ("HmacSHA3-512", "sha3_512"),
    ],
)
def test_java_algorithm_names_map_to_the_same_hash(java_name, digest):
    headers = sign_request(KEY, java_name, BODY)
    assert headers[SIGNATURE_HEADER] == expected_signature(KEY, BODY, digest)
    verify_request(headers, BODY, KEY, [java_name])


def test_sha512_truncated_variants_are_supported():
    for java_name, digest in (("HmacSHA512/224", "sha512_224"), ("HmacSHA512/256", "sha512_256")):
        expected = hmac.new(KEY, BODY, digest).digest()
        assert base64.b64decode(sign_request(KEY, java_name, BODY)[SIGNATURE_HEADER]) == expected


def test_missing_body_is_signed_as_empty():
    assert sign_request(KEY, "HmacSHA256", None)[SIGNATURE_HEADER] == expected_signature(KEY, b"")


def test_signing_with_an_unknown_algorithm_is_a_config_error():
    with pytest.raises(ConfigException, match="Algorithm HmacFoo not available") as caught:
        sign_request(KEY, "HmacFoo", BODY)
    assert caught.value.name == "inter.worker.signature.algorithm"


def test_session_key_objects_and_config_store_records_sign_like_raw_bytes():
    raw = sign_request(KEY, "HmacSHA256", BODY)
    assert sign_request(SessionKey(KEY, "HmacSHA256", 1), "HmacSHA256", BODY) == raw
    assert sign_request(SessionKeyRecord(KEY, "HmacSHA256", 1), "HmacSHA256", BODY) == raw


# -- verification -------------------------------------------------------------------------------


def test_round_trip_with_a_generated_key_is_accepted():
    key = generate_session_key()
    verify_request(sign_request(key, "HmacSHA256", BODY), BODY, key, ALLOWED)


def test_header_names_are_matched_case_insensitively():
    # Falcon/WSGI hand headers over upper-cased.
    headers = {k.upper(): v for k, v in sign_request(KEY, "HmacSHA256", BODY).items()}
    verify_request(headers, BODY, KEY, ALLOWED)


def test_unpadded_base64_is_accepted_as_java_does():
    headers = sign_request(KEY, "HmacSHA1", BODY)
    headers[SIGNATURE_HEADER] = headers[SIGNATURE_HEADER].rstrip("=")
    assert headers[SIGNATURE_HEADER] != sign_request(KEY, "HmacSHA1", BODY)[SIGNATURE_HEADER]
    verify_request(headers, BODY, KEY, ["HmacSHA1"])


def test_verification_algorithms_may_differ_from_the_signing_one():
    headers = sign_request(KEY, "HmacSHA512", BODY)
    verify_request(headers, BODY, KEY, ["HmacSHA256", "HmacSHA512"])


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: expected_signature(KEY, BODY)},
        {SIGNATURE_ALGORITHM_HEADER: "HmacSHA256"},
    ],
    ids=["none", "no-algorithm", "no-signature"],
)
def test_missing_signature_is_400(headers):
    error = refusal(headers)
    assert (error.status_code, error.message) == (400, MISSING_SIGNATURE_MESSAGE)
    assert MISSING_SIGNATURE_MESSAGE == "Internal request missing required signature"


def test_algorithm_unknown_to_the_worker_is_400_with_javas_message():
    error = refusal({SIGNATURE_HEADER: "AAAA", SIGNATURE_ALGORITHM_HEADER: "HmacFoo"})
    assert (error.status_code, error.message) == (400, "Algorithm HmacFoo not available")


def test_algorithm_not_in_verification_list_is_400_with_kafkas_message():
    headers = sign_request(KEY, "HmacSHA1", BODY)
    error = refusal(headers, allowed=["HmacSHA256", "HmacSHA512"])
    assert error.status_code == 400
    assert error.message == (
        "This worker does not support the 'HmacSHA1' key signing algorithm used by other "
        "workers. This worker is currently configured to use: [HmacSHA256, HmacSHA512]. "
        "Check that all workers' configuration files permit the same set of signature "
        "algorithms, and correct any misconfigured worker and restart it."
    )


def test_algorithm_names_must_match_the_verification_list_exactly():
    # Java finds "hmacsha256" as a Mac but List.contains is case-sensitive.
    headers = sign_request(KEY, "hmacsha256", BODY)
    assert headers[SIGNATURE_HEADER] == expected_signature(KEY, BODY)
    assert refusal(headers).status_code == 400


def test_no_session_key_yet_is_503():
    error = refusal(sign_request(KEY, "HmacSHA256", BODY), key=None)
    assert (error.status_code, error.message) == (503, NO_SESSION_KEY_MESSAGE)
    assert NO_SESSION_KEY_MESSAGE == (
        "This worker is still starting up and has not been able to read a session key from "
        "the config topic yet"
    )


def test_missing_signature_is_reported_before_the_missing_key():
    assert refusal({}, key=None).status_code == 400


@pytest.mark.parametrize(
    ("signed_with", "body"),
    [(b"another key of 32 bytes, really!", BODY), (KEY, BODY + b" ")],
    ids=["wrong-key", "tampered-body"],
)
def test_bad_mac_is_403(signed_with, body):
    error = refusal(sign_request(signed_with, "HmacSHA256", BODY), body=body)
    assert (error.status_code, error.message) == (403, INVALID_SIGNATURE_MESSAGE)
    assert INVALID_SIGNATURE_MESSAGE == "Internal request contained invalid signature."


def test_signature_that_is_not_base64_is_400():
    error = refusal({SIGNATURE_HEADER: "not base64!", SIGNATURE_ALGORITHM_HEADER: "HmacSHA256"})
    assert error.status_code == 400
    assert "base64" in error.message


def test_signature_is_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(request_signing.hmac, "compare_digest", spy)
    verify_request(sign_request(KEY, "HmacSHA256", BODY), BODY, KEY, ALLOWED)
    assert len(calls) == 1


def test_signature_from_headers_returns_none_without_headers_and_parses_otherwise():
    assert signature_from_headers({}, BODY) is None
    parsed = signature_from_headers(sign_request(KEY, "HmacSHA384", BODY), BODY)
    assert parsed is not None and parsed.algorithm == "HmacSHA384"
    assert parsed.is_valid(KEY) and not parsed.is_valid(b"x" * 32)


def test_refusals_reach_the_client_in_kafkas_error_shape():
    class TasksResource:
        def on_post(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
            verify_request(req.headers, req.bounded_stream.read(), KEY, ALLOWED)
            resp.status = 204

    app = falcon.App()
    errors.install(app)
    app.add_route("/connectors/{connector}/tasks", TasksResource())
    client = testing.TestClient(app)

    unsigned = client.simulate_post("/connectors/c/tasks", body=BODY)
    assert unsigned.status_code == 400
    assert unsigned.json == {"error_code": 400, "message": MISSING_SIGNATURE_MESSAGE}

    forged = sign_request(b"k" * 32, "HmacSHA256", BODY)
    assert client.simulate_post("/connectors/c/tasks", body=BODY, headers=forged).json == {
        "error_code": 403,
        "message": INVALID_SIGNATURE_MESSAGE,
    }
    signed = sign_request(KEY, "HmacSHA256", BODY)
    assert client.simulate_post("/connectors/c/tasks", body=BODY, headers=signed).status_code == 204


# -- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "size_bits", "size_bytes"),
    [
        ("HmacSHA256", None, 32),
        ("HmacSHA512", None, 64),
        ("HmacSHA1", None, 64),
        ("HmacSHA384", None, 48),
        ("HmacSHA256", 512, 64),
        ("HmacSHA256", 100, 13),
        ("HmacSHA256", 40, 5),
    ],
)
def test_generated_keys_have_javas_default_or_the_configured_size(algorithm, size_bits, size_bytes):
    key = generate_session_key(algorithm, size_bits, now_ms=1234)
    assert len(key.key) == size_bytes
    assert (key.algorithm, key.creation_timestamp_ms) == (algorithm, 1234)


def test_generated_keys_are_random():
    assert generate_session_key().key != generate_session_key().key


def test_key_generation_refuses_unknown_algorithms_and_short_keys():
    with pytest.raises(ConfigException) as unknown:
        generate_session_key("AESGCM")
    assert str(unknown.value) == (
        "Unable to create key generator with algorithm AESGCM and key size null: "
        "AESGCM KeyGenerator not available"
    )
    with pytest.raises(ConfigException, match="Key length must be at least 40 bits") as short:
        generate_session_key("HmacSHA256", 32)
    assert short.value.name == "inter.worker.key.size"


def test_session_key_never_shows_its_bytes_and_knows_its_expiry():
    key = SessionKey(b"secret-bytes", "HmacSHA256", 1_000)
    assert "secret" not in repr(key)
    assert key.expires_at_ms(3_600_000) == 3_601_000
    assert not key.is_expired(3_600_000, now_ms=3_600_999)
    assert key.is_expired(3_600_000, now_ms=3_601_000)


# -- config checks ------------------------------------------------------------------------------


def test_default_algorithm_configs_are_valid():
    validate_algorithm_configs("HmacSHA256", None, "HmacSHA256", ["HmacSHA256"])


def test_signature_algorithm_must_be_a_verification_algorithm():
    with pytest.raises(ConfigException) as caught:
        validate_algorithm_configs("HmacSHA256", None, "HmacSHA512", ["HmacSHA256"])
    assert str(caught.value) == (
        "Invalid value HmacSHA512 for configuration inter.worker.signature.algorithm: "
        "Signature algorithm must be present in inter.worker.verification.algorithms list"
    )


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (("Foo", None, "HmacSHA256", ["HmacSHA256"]), "inter.worker.key.generation.algorithm"),
        (("HmacSHA256", None, "Foo", ["Foo"]), "inter.worker.signature.algorithm"),
        (("HmacSHA256", None, "HmacSHA256", []), "inter.worker.verification.algorithms"),
        (
            ("HmacSHA256", None, "HmacSHA256", ["HmacSHA256", "Foo"]),
            "inter.worker.verification.algorithms",
        ),
        (("HmacSHA256", 8, "HmacSHA256", ["HmacSHA256"]), "inter.worker.key.size"),
    ],
)
def test_invalid_algorithm_configs_name_the_key(args, key):
    with pytest.raises(ConfigException) as caught:
        validate_algorithm_configs(*args)
    assert caught.value.name == key
