"""Reaching PostgreSQL: the ``connection.*`` keys (Confluent's JDBC connector's names), the URL
forms they accept, and connecting with bounded retries.

``connection.url`` may be a JDBC URL (``jdbc:postgresql://host:port/db?user=…``) or anything
libpq takes (``postgresql://…`` URI or ``host=… dbname=…``). JDBC query parameters libpq knows
under another name are translated (``ssl``, ``currentSchema``, ``ApplicationName``,
``connectTimeout``); driver-only ones (``prepareThreshold``, ``reWriteBatchedInserts`` …) mean
nothing here and are dropped. The password is never part of a message or log line: errors name
the key to fix, not the URL's value, which may hold credentials.

Every session runs with ``TimeZone`` set to ``db.timezone`` (UTC unless configured; see
:mod:`kconnect_postgres.timezones`): timestamps without a zone are read and written as wall
clock times in it, as the JDBC connector does.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from kconnect.api import ConfigDef, ConfigException, ConnectException, Password
from kconnect.api.config import Range

from kconnect_postgres.timezones import (
    DB_TIMEZONE_CONFIG,
    UTC,
    DbTimeZone,
    apply_to_session,
    parse_time_zone,
)

log = logging.getLogger(__name__)

URL_CONFIG = "connection.url"
USER_CONFIG = "connection.user"
PASSWORD_CONFIG = "connection.password"
ATTEMPTS_CONFIG = "connection.attempts"
BACKOFF_CONFIG = "connection.backoff.ms"
CONNECTION_KEYS = (URL_CONFIG, USER_CONFIG, PASSWORD_CONFIG)
GROUP = "Database"

#: JDBC parameter -> libpq parameter, where only the name differs
_JDBC_RENAMES = {
    "ApplicationName": "application_name",
    "applicationName": "application_name",
    "connectTimeout": "connect_timeout",
    "loginTimeout": "connect_timeout",
    "targetServerType": "target_session_attrs",
}
#: parameters libpq takes under the same name
_LIBPQ_SAME = {
    "user",
    "password",
    "sslmode",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "sslpassword",
    "options",
    "application_name",
    "connect_timeout",
    "target_session_attrs",
    "gssencmode",
    "keepalives",
    "keepalives_idle",
    "channel_binding",
}
_URL_FORMS = (
    "jdbc:postgresql://host:port/database, postgresql://user@host:port/database or "
    "host=... dbname=..."
)


def define_connection_keys(config_def: ConfigDef) -> ConfigDef:
    """Add the ``connection.*`` keys to ``config_def``."""
    return (
        config_def.define(
            URL_CONFIG,
            ConfigDef.Type.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            None,
            ConfigDef.Importance.HIGH,
            "PostgreSQL connection URL: a JDBC URL (jdbc:postgresql://host:port/database) or a "
            "libpq URI (postgresql://host:port/database) or key=value connection string",
            GROUP,
            1,
        )
        .define(
            USER_CONFIG,
            ConfigDef.Type.STRING,
            None,
            None,
            ConfigDef.Importance.HIGH,
            "PostgreSQL user (overrides a user in connection.url)",
            GROUP,
            2,
        )
        .define(
            PASSWORD_CONFIG,
            ConfigDef.Type.PASSWORD,
            None,
            None,
            ConfigDef.Importance.HIGH,
            "PostgreSQL password (never shown by the REST API or in logs; config providers "
            "such as ${file:...} work)",
            GROUP,
            3,
        )
        .define(
            ATTEMPTS_CONFIG,
            ConfigDef.Type.INT,
            3,
            Range.at_least(1),
            ConfigDef.Importance.LOW,
            "How many times to try to connect before giving up",
            GROUP,
            4,
        )
        .define(
            BACKOFF_CONFIG,
            ConfigDef.Type.LONG,
            10000,
            Range.at_least(0),
            ConfigDef.Importance.LOW,
            "Milliseconds to wait between connection attempts",
            GROUP,
            5,
        )
    )


def _jdbc_params(url: str) -> dict[str, str]:
    rest = url[len("jdbc:postgresql:") :]
    if rest.startswith("//"):
        parsed = urllib.parse.urlsplit("postgresql:" + rest)
        # netloc is host[:port][,host[:port]...]
        hosts, ports = [], []
        for spec in filter(None, parsed.netloc.split(",")):
            host, _, port = spec.rpartition(":") if spec.count(":") == 1 else (spec, "", "")
            hosts.append(host or "localhost")
            ports.append(port or "5432")
        params = {
            "host": ",".join(hosts) or "localhost",
            "port": ",".join(ports) or "5432",
            "dbname": urllib.parse.unquote(parsed.path.lstrip("/")),
        }
        query = parsed.query
    else:
        database, _, query = rest.partition("?")
        params = {"host": "localhost", "port": "5432", "dbname": database}
    if not params["dbname"]:
        params.pop("dbname")
    for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if key in _JDBC_RENAMES:
            params[_JDBC_RENAMES[key]] = value
        elif key == "ssl":
            if value.lower() in ("true", "1", ""):
                params.setdefault("sslmode", "require")
        elif key == "currentSchema":
            params["options"] = f"-c search_path={value}"
        elif key in _LIBPQ_SAME:
            params[key] = value
        else:
            log.info("connection.url parameter %s is a JDBC driver setting; ignored", key)
    return params


def conninfo_params(
    url: str, user: str | None = None, password: str | None = None
) -> dict[str, Any]:
    """libpq connection parameters for ``url`` plus the user and password keys (which win).
    ConfigException on ``connection.url`` when the URL is not a PostgreSQL one."""
    text = (url or "").strip()
    if text.startswith("jdbc:postgresql:"):
        params: dict[str, Any] = _jdbc_params(text)
    elif text.startswith(("postgresql://", "postgres://")) or (
        "=" in text and "://" not in text and not text.startswith("jdbc:")
    ):
        try:
            params = psycopg.conninfo.conninfo_to_dict(text)
        except psycopg.ProgrammingError as error:
            raise ConfigException(
                f"Invalid value for configuration {URL_CONFIG}: {_first_line(error)}",
                name=URL_CONFIG,
            ) from None
    elif text.startswith("jdbc:"):
        dialect = text[5:].split(":", 1)[0]
        raise ConfigException(
            f"Invalid value for configuration {URL_CONFIG}: this connector supports PostgreSQL "
            f"only, and the URL is for {dialect!r}; expected {_URL_FORMS}",
            name=URL_CONFIG,
        )
    else:
        raise ConfigException(
            f"Invalid value for configuration {URL_CONFIG}: not a PostgreSQL connection URL; "
            f"expected {_URL_FORMS}",
            name=URL_CONFIG,
        )
    if user:
        params["user"] = user
    if password:
        params["password"] = password
    # Checked now, so a typo fails validation rather than the first connection.
    try:
        psycopg.conninfo.make_conninfo("", **params)
    except psycopg.ProgrammingError as error:
        raise ConfigException(
            f"Invalid value for configuration {URL_CONFIG}: {_first_line(error)}",
            name=URL_CONFIG,
        ) from None
    return params


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


@dataclass(frozen=True)
class ConnectionSettings:
    """How to connect, from a parsed config."""

    #: libpq parameters, the password among them: kept out of repr(), hence out of logs
    params: Mapping[str, Any] = field(repr=False)
    attempts: int
    backoff_ms: int
    #: ``db.timezone``: the session's zone, in which naive timestamps are wall clock times
    time_zone: DbTimeZone = UTC

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ConnectionSettings:
        password = config.get(PASSWORD_CONFIG)
        if isinstance(password, Password):
            password = password.value
        params = conninfo_params(config[URL_CONFIG], config.get(USER_CONFIG), password)
        zone = config.get(DB_TIMEZONE_CONFIG)
        return cls(
            params,
            int(config[ATTEMPTS_CONFIG]),
            int(config[BACKOFF_CONFIG]),
            parse_time_zone(zone) if zone else UTC,
        )

    @property
    def database(self) -> str:
        return str(self.params.get("dbname") or self.params.get("user") or "")

    def describe(self) -> str:
        """Host, port and database, for messages (no credentials)."""
        return (
            f"{self.params.get('host', 'localhost')}:{self.params.get('port', '5432')}"
            f"/{self.database}"
        )

    def connect_once(self, application_name: str, connect_timeout: int = 10) -> psycopg.Connection:
        params = dict(self.params)
        params.setdefault("application_name", application_name)
        params.setdefault("connect_timeout", connect_timeout)
        conn = psycopg.connect(**params, autocommit=True)
        try:
            apply_to_session(conn, self.time_zone)
        except psycopg.Error:
            close_quietly(conn)
            raise
        return conn

    def connect(
        self, application_name: str, stopping: threading.Event | None = None
    ) -> psycopg.Connection:
        """A connection, trying ``connection.attempts`` times ``connection.backoff.ms`` apart;
        ConnectException saying why once every attempt failed (or ``stopping`` was set)."""
        last: BaseException | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                return self.connect_once(application_name)
            except psycopg.Error as error:
                last = error
                log.warning(
                    "Connecting to PostgreSQL at %s failed (attempt %d of %d): %s",
                    self.describe(),
                    attempt,
                    self.attempts,
                    _first_line(error),
                )
            if attempt < self.attempts:
                waiter = stopping or threading.Event()
                if waiter.wait(self.backoff_ms / 1000):
                    break
        raise ConnectException(
            f"Could not connect to PostgreSQL at {self.describe()} after {self.attempts} "
            f"attempt(s): {_first_line(last) if last else 'stopped'}"
        )


def connection_problem(error: BaseException) -> tuple[tuple[str, ...], str]:
    """Which keys a failed connection attempt is about, and the message to put on them."""
    text = _first_line(error)
    lowered = str(error).lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return (USER_CONFIG, PASSWORD_CONFIG), f"Authentication failed: {text}"
    if 'role "' in lowered and "does not exist" in lowered:
        return (USER_CONFIG,), f"Authentication failed: {text}"
    if 'parameter "timezone"' in lowered:
        return (DB_TIMEZONE_CONFIG,), f"PostgreSQL does not know this time zone: {text}"
    return (URL_CONFIG,), f"Could not connect to PostgreSQL: {text}"


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` means the session is gone or could not be made (worth a retry), as
    opposed to a problem with the statement or the data."""
    if isinstance(error, psycopg.errors.QueryCanceled):
        return False
    return isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError))


def close_quietly(conn: psycopg.Connection | None) -> None:
    if conn is not None:
        try:
            conn.close()
        except psycopg.Error:  # already broken: nothing left to release
            pass
