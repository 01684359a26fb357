"""No secret in a log line or a status trace.

Secrets reach a worker two ways: as values of password-type settings (``ssl.key.password``,
``sasl.jaas.config``, ``*.password`` …), and as values config providers resolve
(``topic=${file:/etc/secrets:db}``). Configs are never logged with them (password-type keys
print as ``[hidden]``, provider variables keep their ``${...}`` form), but a secret can still
ride along inside an error: a broker's "Invalid topic" names the topic, a plugin's exception
repeats its setting. So every secret value this worker learns is kept in one process-wide
:class:`SecretMasker`, and every log record (through :class:`SecretMaskingFilter`, installed on
the root handlers by the command lines) and every trace written to the status store is passed
through it: each occurrence becomes ``[hidden]``.

Values shorter than :data:`MIN_SECRET_LENGTH` characters are not masked: hiding every ``1`` or
``on`` would make the logs unreadable and a secret that short is no secret. With no secret
known the filter costs one attribute check per record; otherwise a single compiled pattern,
rebuilt only when a new value arrives, finds whether a text holds any secret at all.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

HIDDEN = "[hidden]"
#: shorter values are never masked (see the module docstring)
MIN_SECRET_LENGTH = 4

#: Kafka's password-type client and worker settings (a prefixed form such as
#: ``producer.ssl.key.password`` or ``listeners.https.ssl.keystore.password`` counts too)
PASSWORD_KEYS = frozenset(
    {
        "ssl.key.password",
        "ssl.keystore.password",
        "ssl.truststore.password",
        "ssl.keystore.key",
        "ssl.keystore.certificate.chain",
        "ssl.truststore.certificates",
        # librdkafka's in-memory key, which kconnect itself fills from Java keystores
        "ssl.key.pem",
        "sasl.jaas.config",
        "sasl.password",
        "sasl.oauthbearer.client.secret",
        "sasl.oauthbearer.client.credentials.client.secret",
        "basic.auth.user.info",
    }
)


def is_password_key(key: str) -> bool:
    """Whether ``key`` names a password-type setting: one of Kafka's (possibly prefixed), or
    any key whose last part ends in ``password`` (``connection.password``)."""
    key = key.strip().lower()
    if key.rsplit(".", 1)[-1].endswith("password"):
        return True
    return any(key == name or key.endswith("." + name) for name in PASSWORD_KEYS)


def redacted(config: Mapping[str, Any], hidden_keys: Iterable[str] = ()) -> dict[str, Any]:
    """A copy of ``config`` fit for a log line: password-type values (and those of
    ``hidden_keys``, such as a plugin's PASSWORD keys) are ``[hidden]``."""
    hidden = set(hidden_keys)
    return {k: HIDDEN if k in hidden or is_password_key(str(k)) else v for k, v in config.items()}


def sensitive_keys(definition: Any) -> set[str]:
    """The keys a ConfigDef declares with type PASSWORD."""
    keys = getattr(definition, "config_keys", None) or {}
    return {name for name, key in keys.items() if key.type.is_sensitive()}


def declared_password_keys(plugin: Any, name: str, timeout_s: float) -> set[str]:
    """The keys ``plugin.config()`` declares as PASSWORD; none when it fails (the plugin's
    start then reports what is wrong)."""
    from kconnect.runtime.plugin_calls import call_with_timeout

    try:
        definition = call_with_timeout(f"Connector {name} config()", timeout_s, plugin.config)
    except Exception:  # noqa: BLE001 - only a log line depends on it
        return set()
    return sensitive_keys(definition)


def config_values_message(label: str, config: Any, hidden_keys: Iterable[str] = ()) -> str:
    """Kafka's start-up dump of a config (``StandaloneConfig values:`` then one ``key = value``
    line per setting, sorted), password-type values as ``[hidden]``. ``config`` is an
    AbstractConfig (defined keys with their defaults, plus every other key given) or a mapping."""
    from kconnect.api.config_validators import render_value

    if isinstance(config, Mapping):
        settings: dict[str, Any] = dict(config)
    else:
        settings = {**dict(config.originals().items()), **dict(config.values().items())}
    shown = redacted(settings, hidden_keys)
    lines = [f"\t{k} = {render_value(v)}" for k, v in sorted(shown.items())]
    return f"{label} values: \n" + "\n".join(lines)


def password_values(config: Mapping[str, Any]) -> list[str]:
    """The values of the password-type keys of ``config``."""
    out = []
    for key, value in config.items():
        if value is None or not is_password_key(str(key)):
            continue
        out.append(str(getattr(value, "value", value)))  # a Password keeps its text in .value
    return out


class SecretMasker:
    """A set of secret values and the one pattern that finds them."""

    def __init__(self, min_length: int = MIN_SECRET_LENGTH):
        self.min_length = min_length
        self._secrets: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """Whether any secret is known (nothing to do otherwise)."""
        return self._pattern is not None

    def add(self, values: Iterable[Any]) -> None:
        """Remember ``values`` (and each line of a multi-line value, such as a PEM key)."""
        candidates: set[str] = set()
        for value in values:
            if value is None:
                continue
            text = str(value)
            candidates.add(text)
            candidates.add(text.strip())
            if "\n" in text:
                candidates.update(line.strip() for line in text.splitlines())
        new = {c for c in candidates if len(c) >= self.min_length} - self._secrets
        if not new:
            return
        with self._lock:
            secrets = self._secrets | new
            # Longest first: where one secret contains another, the longer one is matched.
            ordered = sorted(secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
            self._secrets = secrets

    def mask(self, text: str) -> str:
        """``text`` with every occurrence of a secret replaced by ``[hidden]``."""
        pattern = self._pattern
        if pattern is None or not text or pattern.search(text) is None:
            return text
        # Secrets may overlap ("abcdef" and "defgh" in "abcdefgh"): the pattern alone would
        # leave a tail of the second one. Hide the union of every occurrence of every secret.
        spans: list[tuple[int, int]] = []
        for secret in self._secrets:
            start = text.find(secret)
            while start >= 0:
                spans.append((start, start + len(secret)))
                start = text.find(secret, start + 1)
        merged: list[list[int]] = []
        for start, stop in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], stop)
            else:
                merged.append([start, stop])
        out: list[str] = []
        position = 0
        for start, stop in merged:
            out += (text[position:start], HIDDEN)
            position = stop
        out.append(text[position:])
        return "".join(out)

    def mask_optional(self, text: str | None) -> str | None:
        return None if text is None else self.mask(text)

    def clear(self) -> None:
        """Forget every secret (tests)."""
        with self._lock:
            self._secrets = frozenset()
            self._pattern = None


_masker = SecretMasker()


def secret_masker() -> SecretMasker:
    """The process-wide masker every log line and status trace of this worker goes through."""
    return _masker


class SecretMaskingFilter(logging.Filter):
    """Masks secrets in a record's message, exception text and stack. Installed on handlers, so
    it sees records of every logger that propagates to them. It never drops a record."""

    _formatter = logging.Formatter()

    def __init__(self, masker: SecretMasker | None = None):
        super().__init__()
        self.masker = masker or _masker

    def filter(self, record: logging.LogRecord) -> bool:
        masker = self.masker
        if not masker.active:
            return True
        try:
            message = record.getMessage()
            masked = masker.mask(message)
            if masked != message:
                record.msg, record.args = masked, None
            if record.exc_info and not record.exc_text:
                # What the handler's formatter would render, computed here so it can be masked.
                record.exc_text = self._formatter.formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = masker.mask(record.exc_text)
            if record.stack_info:
                record.stack_info = masker.mask(record.stack_info)
        except Exception:  # noqa: BLE001 - a record the filter cannot read is left to the handler
            pass
        return True


#: loggers that do not propagate to the root but write a worker's log lines (gunicorn's)
_OWN_HANDLER_LOGGERS = ("gunicorn.error", "gunicorn.access")


def install_log_masking(masker: SecretMasker | None = None) -> SecretMaskingFilter:
    """Put the masking filter on every handler of the root logger and on gunicorn's loggers
    (which have handlers of their own, set up later by gunicorn, and do not propagate: a filter
    on the logger itself survives gunicorn replacing its handlers). Idempotent."""
    root = logging.getLogger()
    existing = [f for h in root.handlers for f in h.filters if isinstance(f, SecretMaskingFilter)]
    masking = existing[0] if existing else SecretMaskingFilter(masker)
    for handler in root.handlers:
        if masking not in handler.filters:
            handler.addFilter(masking)
    for name in _OWN_HANDLER_LOGGERS:
        logger = logging.getLogger(name)
        if masking not in logger.filters:
            logger.addFilter(masking)
    return masking
