"""``/validate`` that looks at the database: after the per-key checks pass, connect once and
put what went wrong on the key a user must change (``connection.url`` for an unreachable
server, ``connection.user``/``connection.password`` for refused credentials, ``mode`` and the
column keys for a table without the configured incrementing or timestamp column).

Validation never raises: whatever goes wrong becomes an error message on a key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import psycopg
from kconnect.api import Config, ConfigDef, ConfigException, ConfigValue, ConnectException

from kconnect_postgres.connection import (
    CONNECTION_KEYS,
    URL_CONFIG,
    ConnectionSettings,
    close_quietly,
    connection_problem,
)

log = logging.getLogger(__name__)

#: one attempt, soon given up: a REST request is waiting
VALIDATE_CONNECT_TIMEOUT_S = 5


def validate_with_database(
    config_def: ConfigDef,
    props: Mapping[str, str],
    parse: Callable[[Mapping[str, str]], Any],
    check: Callable[[psycopg.Connection, Any], list[tuple[tuple[str, ...], str]]],
) -> Config:
    """Per-key validation, then ``parse(props)`` for the cross-key rules, then — when the
    connection keys are fine — ``check(conn, settings)``'s (keys, message) problems."""
    values = config_def.validate_all(props)
    if any(v.error_messages for v in values.values()):
        return Config(values.values())
    try:
        settings = parse(props)
    except ConfigException as error:
        _add(values, (getattr(error, "name", None) or URL_CONFIG,), str(error))
        return Config(values.values())
    except Exception as error:  # noqa: BLE001 - validation reports, never raises
        _add(values, (URL_CONFIG,), f"Invalid configuration: {error}")
        return Config(values.values())
    connection: ConnectionSettings = settings.connection
    try:
        conn = connection.connect_once("kconnect-validate", VALIDATE_CONNECT_TIMEOUT_S)
    except psycopg.Error as error:
        keys, message = connection_problem(error)
        _add(values, keys, f"{message} (at {connection.describe()})")
        return Config(values.values())
    try:
        for keys, message in check(conn, settings):
            _add(values, keys, message)
    except (psycopg.Error, ConnectException) as error:
        _add(values, (URL_CONFIG,), f"Could not inspect the database: {error}")
    finally:
        close_quietly(conn)
    return Config(values.values())


def _add(values: dict[str, ConfigValue], keys: tuple[str, ...], message: str) -> None:
    for key in keys:
        value = values.get(key)
        if value is None:
            value = values[key] = ConfigValue(key)
        value.add_error_message(message)


__all__ = ["CONNECTION_KEYS", "validate_with_database"]
