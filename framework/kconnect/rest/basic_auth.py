"""HTTP Basic authentication of the REST API, as Apache Kafka Connect's
``BasicAuthSecurityRestExtension`` does it.

Enabled by ``rest.extension.classes=org.apache.kafka.connect.rest.basic.auth.extension.
BasicAuthSecurityRestExtension``. Users come from the ``KafkaConnect`` entry of a JAAS file in
Kafka's format, found where Kafka users point to it: the ``java.security.auth.login.config``
system property in ``KAFKA_OPTS`` (``-Djava.security.auth.login.config=/path``), or the kconnect
worker key ``rest.basic.auth.jaas.config.file`` (which wins)::

    KafkaConnect {
        org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
        file="/etc/kafka/connect-users.properties";
    };

and the properties file holds ``user: password`` lines.

Invariants:

- every request is authenticated except the signed inter-worker ones Kafka exempts
  (``POST /connectors/{c}/tasks``, ``PUT /connectors/{c}/fence``): the herder checks their
  signature instead, so workers need no user of their own;
- a refused request gets 401 ``User cannot access the resource.``, whatever went wrong, and the
  reason is logged at DEBUG only (a mistyped password must not flood the log);
- passwords are compared in constant time and never logged; an unknown user costs the same
  comparison as a known one;
- the JAAS and credentials files are read once, when the worker starts (Kafka reads the
  credentials on the first request and keeps them too): a missing or malformed file stops the
  worker with a message naming it, instead of a worker that refuses everyone. As in Kafka, an
  empty credentials file lets every request through, with a WARN at start.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import falcon
import javaproperties
from kconnect.api.errors import ConfigException
from kconnect.rest.errors import ConnectRestError

log = logging.getLogger(__name__)

JAAS_FILE_CONFIG = "rest.basic.auth.jaas.config.file"
JAAS_SYSTEM_PROPERTY = "java.security.auth.login.config"
LOGIN_CONTEXT = "KafkaConnect"
PROPERTY_FILE_LOGIN_MODULE = (
    "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
)
#: names the login module may be given by in the JAAS file
_LOGIN_MODULE_NAMES = {
    PROPERTY_FILE_LOGIN_MODULE,
    "PropertyFileLoginModule",
    "kconnect.rest.basic_auth.PropertyFileLoginModule",
}
UNAUTHORIZED_MESSAGE = "User cannot access the resource."
_FLAGS = ("required", "requisite", "sufficient", "optional")

#: signed worker-to-worker requests (method, path) that Kafka's filter lets through
_INTERNAL_REQUESTS = (
    ("POST", re.compile(r"/?connectors/[^/]+/tasks/?")),
    ("PUT", re.compile(r"/?connectors/[^/]+/fence/?")),
)


# -- the JAAS file -----------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginModuleEntry:
    """One ``<class> <flag> key="value" …;`` line of a JAAS login context."""

    module: str
    flag: str
    options: Mapping[str, str] = field(default_factory=dict)


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<comment>//[^\n]*|/\*.*?\*/)
      | "(?P<dq>(?:[^"\\]|\\.)*)"
      | '(?P<sq>(?:[^'\\]|\\.)*)'
      | (?P<punct>[{};=])
      | (?P<word>[^\s{};="']+)
    )""",
    re.VERBOSE | re.DOTALL,
)


def _tokens(text: str, source: str) -> list[tuple[str, str]]:
    """(kind, value) pairs: kind is "word", "string" or the punctuation itself."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            line = text.count("\n", 0, pos) + 1
            raise ConfigException(f"Malformed JAAS configuration in {source}, line {line}")
        pos = match.end()
        if match.group("comment") is not None:
            continue
        if match.group("dq") is not None or match.group("sq") is not None:
            raw = match.group("dq") if match.group("dq") is not None else match.group("sq")
            out.append(("string", re.sub(r"\\(.)", r"\1", raw)))
        elif match.group("punct") is not None:
            out.append((match.group("punct"), match.group("punct")))
        else:
            out.append(("word", match.group("word")))
    return out


def parse_jaas(
    text: str, source: str = "the JAAS configuration"
) -> dict[str, list[LoginModuleEntry]]:
    """A JAAS configuration file (Java's ``ConfigFile`` syntax) -> {login context: modules}.
    ConfigException naming ``source`` and what was expected when it is malformed."""
    tokens = _tokens(text, source)
    contexts: dict[str, list[LoginModuleEntry]] = {}
    i = 0

    def expect(kind: str, what: str) -> str:
        nonlocal i
        if i >= len(tokens) or tokens[i][0] != kind:
            found = "end of file" if i >= len(tokens) else repr(tokens[i][1])
            raise ConfigException(
                f"Malformed JAAS configuration in {source}: expected {what}, found {found}"
            )
        i += 1
        return tokens[i - 1][1]

    while i < len(tokens):
        name = expect("word", "a login context name")
        expect("{", f"'{{' after {name}")
        modules: list[LoginModuleEntry] = []
        while i < len(tokens) and tokens[i][0] != "}":
            module = expect("word", f"a login module class in {name}")
            flag = expect("word", f"a control flag after {module}")
            if flag.lower() not in _FLAGS:
                raise ConfigException(
                    f"Malformed JAAS configuration in {source}: control flag {flag!r} of "
                    f"{module} must be one of {', '.join(_FLAGS)}"
                )
            options: dict[str, str] = {}
            while i < len(tokens) and tokens[i][0] != ";":
                key = expect("word", f"an option name or ';' after {module}")
                expect("=", f"'=' after option {key}")
                if i < len(tokens) and tokens[i][0] in ("string", "word"):
                    options[key] = tokens[i][1]
                    i += 1
                else:
                    expect("string", f"a value for option {key}")
            expect(";", f"';' after the options of {module}")
            modules.append(LoginModuleEntry(module, flag.lower(), options))
        expect("}", f"'}}' closing {name}")
        expect(";", f"';' after the '}}' of {name}")
        # Java keeps the modules of a context named twice, in order.
        contexts.setdefault(name, []).extend(modules)
    return contexts


def jaas_file_location(
    worker_props: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> tuple[str, str] | None:
    """(path, where it was found) of the JAAS file: the worker key, else
    ``-Djava.security.auth.login.config=`` in ``KAFKA_OPTS``; None when neither is set."""
    configured = str(worker_props.get(JAAS_FILE_CONFIG) or "").strip()
    if configured:
        return configured, JAAS_FILE_CONFIG
    env = os.environ if environ is None else environ
    opts = env.get("KAFKA_OPTS", "")
    try:
        words = shlex.split(opts)
    except ValueError:
        words = opts.split()
    prefix = f"-D{JAAS_SYSTEM_PROPERTY}="
    for word in reversed(words):  # the JVM lets the last -D win
        if word.startswith(prefix):
            # "==" makes Java ignore other JAAS files; there is only one here.
            return word[len(prefix) :].lstrip("="), f"KAFKA_OPTS ({prefix[2:-1]})"
    return None


# -- users -------------------------------------------------------------------------------------
class PropertyFileLoginModule:
    """Checks a user and password against a ``user: password`` properties file, read once."""

    def __init__(self, options: Mapping[str, str], jaas_source: str):
        location = str(options.get("file") or "").strip()
        if not location:
            raise ConfigException(
                f"The {LOGIN_CONTEXT} entry in {jaas_source} gives PropertyFileLoginModule no "
                'file="…" option: Property Credentials file must be specified'
            )
        self.location = location
        try:
            raw = Path(location).read_bytes()
        except OSError as error:
            raise ConfigException(
                f"Error loading Property Credentials file {location} (named in {jaas_source}): "
                f"{error.strerror or error}"
            ) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")  # what Java's Properties.load reads
        users = javaproperties.loads(text)
        self._users = {str(user): str(password).encode() for user, password in users.items()}
        if not self._users:
            log.warning(
                "Credential properties file '%s' is empty; all requests will be permitted",
                location,
            )

    @property
    def users(self) -> list[str]:
        return sorted(self._users)

    def login(self, username: str | None, password: str | None) -> bool:
        if not self._users:
            return True
        if username is None or password is None:
            return False
        expected = self._users.get(username)
        given = password.encode()
        # Unknown users are compared against a value of their own, so the time taken says
        # nothing about which user names exist.
        matches = hmac.compare_digest(given, expected if expected is not None else b"\0" + given)
        return matches and expected is not None


class JaasLogin:
    """The ``KafkaConnect`` login context: its modules applied with JAAS control flags."""

    def __init__(self, modules: list[tuple[str, PropertyFileLoginModule]]):
        self.modules = modules

    @classmethod
    def from_file(cls, location: str, found_in: str) -> JaasLogin:
        source = f"{location} (from {found_in})"
        try:
            text = Path(location).read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigException(
                f"Cannot read the JAAS configuration file {source}: {error.strerror or error}",
                name=JAAS_FILE_CONFIG,
            ) from None
        entries = parse_jaas(text, source).get(LOGIN_CONTEXT)
        if not entries:
            raise ConfigException(
                f"The JAAS configuration file {source} has no {LOGIN_CONTEXT} entry: "
                f"add one naming {PROPERTY_FILE_LOGIN_MODULE}",
                name=JAAS_FILE_CONFIG,
            )
        modules = []
        for entry in entries:
            if entry.module not in _LOGIN_MODULE_NAMES:
                raise ConfigException(
                    f"Unsupported login module {entry.module} in the {LOGIN_CONTEXT} entry of "
                    f"{source}: kconnect supports {PROPERTY_FILE_LOGIN_MODULE}",
                    name=JAAS_FILE_CONFIG,
                )
            modules.append((entry.flag, PropertyFileLoginModule(entry.options, source)))
        return cls(modules)

    def login(self, username: str | None, password: str | None) -> bool:
        """JAAS's rules: every required/requisite module must succeed (a requisite failure
        stops at once); a sufficient success ends the check unless a required one failed; with
        no required/requisite module, one sufficient/optional success is needed."""
        failed_mandatory = False
        any_success = False
        has_mandatory = False
        for flag, module in self.modules:
            ok = module.login(username, password)
            if flag in ("required", "requisite"):
                has_mandatory = True
                if not ok:
                    if flag == "requisite":
                        return False
                    failed_mandatory = True
            elif ok:
                any_success = True
                if flag == "sufficient" and not failed_mandatory:
                    return True
        if has_mandatory:
            return not failed_mandatory
        return any_success


def basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    """(username, password) of an ``Authorization: Basic …`` header; (None, None) when it is
    absent, another scheme or malformed."""
    if not header:
        return None, None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None, None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        return None, None
    return username, password


def is_internal_request(method: str, path: str) -> bool:
    """A signed worker-to-worker request, which Kafka's filter does not authenticate."""
    relative = path.lstrip("/")
    return any(method == m and pattern.fullmatch(relative) for m, pattern in _INTERNAL_REQUESTS)


# -- the REST extension --------------------------------------------------------------------------
class BasicAuthMiddleware:
    """Falcon middleware: 401 unless the request carries a known user and password."""

    def __init__(self, login: JaasLogin):
        self.login = login

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if is_internal_request(req.method, req.path):
            return
        username, password = basic_credentials(req.get_header("Authorization"))
        if self.login.login(username, password):
            req.context.user = username
            return
        log.debug("Request %s %s failed authentication", req.method, req.path)
        raise ConnectRestError(
            401, UNAUTHORIZED_MESSAGE, headers={"WWW-Authenticate": 'Basic realm="Kafka Connect"'}
        )


class BasicAuthSecurityRestExtension:
    """Kafka's ``BasicAuthSecurityRestExtension``: listed in ``rest.extension.classes``."""

    java_class_names = (
        "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension",
    )

    def __init__(self) -> None:
        self.login: JaasLogin | None = None

    def version(self) -> str:
        from kconnect import __version__

        return str(__version__)

    def configure(self, worker_props: Mapping[str, Any]) -> None:
        location = jaas_file_location(worker_props)
        if location is None:
            raise ConfigException(
                "BasicAuthSecurityRestExtension needs a JAAS configuration file with a "
                f"{LOGIN_CONTEXT} entry: set {JAAS_FILE_CONFIG} in the worker config, or "
                f"-D{JAAS_SYSTEM_PROPERTY}=/path/to/jaas.conf in KAFKA_OPTS",
                name=JAAS_FILE_CONFIG,
            )
        self.login = JaasLogin.from_file(*location)
        users = sum(len(m.users) for _, m in self.login.modules)
        log.info(
            "REST API Basic authentication on: %d user(s) from %s (via %s)",
            users,
            ", ".join(m.location for _, m in self.login.modules),
            location[1],
        )

    def register(self, app: falcon.App, herder: Any) -> None:
        if self.login is None:
            raise ConfigException("BasicAuthSecurityRestExtension was not configured")
        app.add_middleware(BasicAuthMiddleware(self.login))
