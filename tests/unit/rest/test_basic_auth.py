"""Basic authentication as Kafka's BasicAuthSecurityRestExtension: the JAAS file parser, where the
file is found, the users file, JAAS control flags, and the middleware on the Falcon app."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest
from falcon import testing
from kconnect.api.errors import ConfigException
from kconnect.rest.app import create_app
from kconnect.rest.basic_auth import (
    BasicAuthSecurityRestExtension,
    JaasLogin,
    basic_credentials,
    is_internal_request,
    jaas_file_location,
    parse_jaas,
)
from kconnect.rest.extensions import load_rest_extensions

from .conftest import FakeHerder, Settings

KAFKA_EXTENSION = (
    "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
)
MODULE = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _jaas(tmp_path: Path, users: str, entry: str | None = None) -> Path:
    users_file = tmp_path / "users.properties"
    users_file.write_text(users)
    jaas = tmp_path / "jaas.conf"
    jaas.write_text(entry or f'KafkaConnect {{\n  {MODULE} required\n  file="{users_file}";\n}};\n')
    return jaas


# -- the JAAS file parser ------------------------------------------------------------------------
def test_parse_kafka_sample_with_comments_and_several_contexts():
    text = """
    // the broker's own entry
    KafkaServer {
        org.apache.kafka.common.security.plain.PlainLoginModule required
        username="admin" password='admin-secret' user_admin="admin-secret";
    };
    /* Connect's REST users */
    KafkaConnect {
        org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
        file="/etc/kafka/connect users.properties" debug=true;
    };
    """
    contexts = parse_jaas(text)
    assert set(contexts) == {"KafkaServer", "KafkaConnect"}
    [connect] = contexts["KafkaConnect"]
    assert connect.module == MODULE
    assert connect.flag == "required"
    assert connect.options == {"file": "/etc/kafka/connect users.properties", "debug": "true"}
    assert contexts["KafkaServer"][0].options["password"] == "admin-secret"


def test_parse_several_modules_and_escaped_quotes():
    contexts = parse_jaas('KafkaConnect { a.A sufficient file="x\\"y"; b.B Optional; };')
    modules = contexts["KafkaConnect"]
    assert [(m.module, m.flag) for m in modules] == [("a.A", "sufficient"), ("b.B", "optional")]
    assert modules[0].options == {"file": 'x"y'}


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            'KafkaConnect { a.A required file="x" }; ',
            "expected an option name or ';' after a.A, found '}'",
        ),
        ("KafkaConnect { a.A mandatory; };", "control flag 'mandatory'"),
        ("KafkaConnect { a.A required; }", "expected ';' after the '}' of KafkaConnect"),
        ("KafkaConnect  a.A required; };", "expected '{' after KafkaConnect"),
        ("KafkaConnect { a.A required file=; };", "expected a value for option file"),
    ],
)
def test_malformed_jaas_is_refused_with_what_was_expected(text: str, expected: str):
    with pytest.raises(ConfigException) as error:
        parse_jaas(text, "/etc/jaas.conf")
    assert "Malformed JAAS configuration in /etc/jaas.conf" in str(error.value)
    assert expected in str(error.value)


# -- where the JAAS file is found ----------------------------------------------------------------
def test_jaas_file_from_kafka_opts_and_worker_key():
    env = {"KAFKA_OPTS": '-Xmx1g -Djava.security.auth.login.config="/etc/my jaas.conf" -Dx=y'}
    assert jaas_file_location({}, env) == (
        "/etc/my jaas.conf",
        "KAFKA_OPTS (java.security.auth.login.config)",
    )
    # "==" (override every other JAAS file) is accepted too
    env = {"KAFKA_OPTS": "-Djava.security.auth.login.config==/etc/jaas.conf"}
    assert jaas_file_location({}, env)[0] == "/etc/jaas.conf"
    # the worker key wins
    props = {"rest.basic.auth.jaas.config.file": "/opt/connect-jaas.conf"}
    assert jaas_file_location(props, env) == (
        "/opt/connect-jaas.conf",
        "rest.basic.auth.jaas.config.file",
    )
    assert jaas_file_location({}, {}) is None


def test_extension_without_jaas_file_refuses_to_start(monkeypatch):
    monkeypatch.delenv("KAFKA_OPTS", raising=False)
    with pytest.raises(ConfigException) as error:
        load_rest_extensions({"rest.extension.classes": KAFKA_EXTENSION})
    assert "rest.basic.auth.jaas.config.file" in str(error.value)
    assert "KAFKA_OPTS" in str(error.value)


def test_missing_users_file_or_entry_stops_the_worker(tmp_path: Path):
    missing = tmp_path / "nope.properties"
    jaas = tmp_path / "jaas.conf"
    jaas.write_text(f'KafkaConnect {{ {MODULE} required file="{missing}"; }};')
    with pytest.raises(ConfigException) as error:
        JaasLogin.from_file(str(jaas), "test")
    assert f"Error loading Property Credentials file {missing}" in str(error.value)

    jaas.write_text(f'KafkaClient {{ {MODULE} required file="{missing}"; }};')
    with pytest.raises(ConfigException, match="has no KafkaConnect entry"):
        JaasLogin.from_file(str(jaas), "test")

    jaas.write_text("KafkaConnect { com.example.LdapLoginModule required; };")
    with pytest.raises(ConfigException, match="Unsupported login module com.example.Ldap"):
        JaasLogin.from_file(str(jaas), "test")

    with pytest.raises(ConfigException, match="Cannot read the JAAS configuration file"):
        JaasLogin.from_file(str(tmp_path / "absent.conf"), "test")


# -- users and passwords -------------------------------------------------------------------------
def test_users_file_in_java_properties_format(tmp_path: Path):
    jaas = _jaas(tmp_path, "alice: s3cret\nbob=pass word\n# carol: x\nerin:\\u00e9t\\u00e9\n")
    login = JaasLogin.from_file(str(jaas), "test")
    assert login.login("alice", "s3cret")
    assert login.login("bob", "pass word")
    assert login.login("erin", "été")
    assert not login.login("alice", "S3cret")
    assert not login.login("alice", "s3cret ")
    assert not login.login("carol", "x")
    assert not login.login(None, None)
    assert not login.login("alice", None)


def test_empty_users_file_lets_everyone_in_with_a_warning(tmp_path: Path, caplog):
    jaas = _jaas(tmp_path, "# nobody yet\n")
    with caplog.at_level(logging.WARNING):
        login = JaasLogin.from_file(str(jaas), "test")
    assert login.login(None, None)
    assert "is empty; all requests will be permitted" in caplog.text


def test_jaas_control_flags(tmp_path: Path):
    (tmp_path / "a.properties").write_text("alice: a\n")
    (tmp_path / "b.properties").write_text("bob: b\n")

    def login(flag_a: str, flag_b: str) -> JaasLogin:
        jaas = tmp_path / "jaas.conf"
        jaas.write_text(
            f'KafkaConnect {{ {MODULE} {flag_a} file="{tmp_path / "a.properties"}";'
            f' {MODULE} {flag_b} file="{tmp_path / "b.properties"}"; }};'
        )
        return JaasLogin.from_file(str(jaas), "test")

    either = login("sufficient", "sufficient")
    assert either.login("alice", "a") and either.login("bob", "b")
    assert not either.login("mallory", "m")
    both = login("required", "required")
    assert not both.login("alice", "a")
    first_or_stop = login("requisite", "sufficient")
    assert first_or_stop.login("alice", "a") and not first_or_stop.login("bob", "b")
    optional = login("required", "optional")
    assert optional.login("alice", "a") and not optional.login("bob", "b")


def test_basic_credentials_header_parsing():
    assert basic_credentials(_basic("u", "p:w")["Authorization"]) == ("u", "p:w")
    assert basic_credentials("basic " + base64.b64encode(b"u:").decode()) == ("u", "")
    assert basic_credentials(None) == (None, None)
    assert basic_credentials("Bearer abc") == (None, None)
    assert basic_credentials("Basic !!!notbase64") == (None, None)
    assert basic_credentials("Basic " + base64.b64encode(b"nocolon").decode()) == (None, None)
    assert basic_credentials("Basic " + base64.b64encode(b":pw").decode()) == (None, None)


def test_only_signed_internal_requests_are_exempt():
    assert is_internal_request("POST", "/connectors/c1/tasks")
    assert is_internal_request("PUT", "/connectors/c1/fence")
    assert not is_internal_request("GET", "/connectors/c1/tasks")
    assert not is_internal_request("POST", "/connectors/c1/tasks/0/restart")
    assert not is_internal_request("POST", "/connectors/a/b/tasks")
    assert not is_internal_request("PUT", "/connectors/c1/config")


# -- on the app ----------------------------------------------------------------------------------
@pytest.fixture
def auth_client(tmp_path: Path) -> testing.TestClient:
    jaas = _jaas(tmp_path, "alice: s3cret\n")
    settings = Settings(
        {
            "rest.extension.classes": KAFKA_EXTENSION,
            "rest.basic.auth.jaas.config.file": str(jaas),
            "access.control.allow.origin": "http://ui.example",
        }
    )
    return testing.TestClient(create_app(FakeHerder(), settings))


def test_app_answers_401_in_kafkas_shape_without_the_right_user(auth_client, caplog):
    with caplog.at_level(logging.DEBUG):
        for headers in ({}, _basic("alice", "wrong"), _basic("mallory", "s3cret")):
            response = auth_client.simulate_get("/connectors", headers=headers)
            assert response.status_code == 401
            assert response.json == {
                "error_code": 401,
                "message": "User cannot access the resource.",
            }
            assert response.headers["www-authenticate"].startswith("Basic ")
    assert "wrong" not in caplog.text and "s3cret" not in caplog.text
    assert auth_client.simulate_get("/connectors", headers=_basic("alice", "s3cret")).json == []


def test_preflight_needs_no_credentials_and_errors_keep_cors_headers(auth_client):
    preflight = auth_client.simulate_options(
        "/connectors",
        headers={"Origin": "http://ui.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-methods"] == "GET,POST,HEAD"
    refused = auth_client.simulate_get("/connectors", headers={"Origin": "http://ui.example"})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "http://ui.example"


def test_extension_found_by_every_name(tmp_path: Path):
    jaas = _jaas(tmp_path, "alice: s3cret\n")
    for name in (
        KAFKA_EXTENSION,
        "BasicAuthSecurityRestExtension",
        "kconnect.rest.basic_auth.BasicAuthSecurityRestExtension",
    ):
        [extension] = load_rest_extensions(
            {"rest.extension.classes": name, "rest.basic.auth.jaas.config.file": str(jaas)}
        )
        assert isinstance(extension, BasicAuthSecurityRestExtension)


def test_unknown_rest_extension_stops_the_worker():
    with pytest.raises(ConfigException) as error:
        load_rest_extensions(
            {"rest.extension.classes": "org.example.connect.BasicAuthSecurityRestExtensio"}
        )
    message = str(error.value)
    assert (
        "Invalid value org.example.connect.BasicAuthSecurityRestExtensio for configuration "
        "rest.extension.classes" in message
    )
    assert error.value.name == "rest.extension.classes"
