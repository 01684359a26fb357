"""Reading Java ``.properties`` files (worker and connector configs) with javaproperties."""

from __future__ import annotations

import javaproperties

from kconnect.api.errors import ConfigException


def read_properties(path: str) -> dict[str, str]:
    """The key/value pairs of a Java properties file; ConfigException says what is wrong and
    where when the file is missing, unreadable or malformed."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ConfigException(f"Properties file {path} does not exist") from None
    except OSError as error:
        raise ConfigException(f"Could not read properties file {path}: {error.strerror}") from error
    if b"\x00" in raw:
        raise ConfigException(
            f"Properties file {path} is malformed: it contains NUL bytes (is it a binary file?)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # Java reads properties files as ISO-8859-1 when they are not UTF-8.
        text = raw.decode("latin-1")
    try:
        props = javaproperties.loads(text)
    except javaproperties.InvalidUEscapeError as error:
        line = _line_of(text, error.escape)
        raise ConfigException(
            f"Properties file {path} is malformed{line}: invalid Unicode escape {error.escape!r}"
        ) from error
    except ValueError as error:
        raise ConfigException(f"Properties file {path} is malformed: {error}") from error
    return {key.strip(): value.strip() for key, value in props.items()}


def _line_of(text: str, fragment: str) -> str:
    for number, line in enumerate(text.splitlines(), 1):
        if fragment in line:
            return f" at line {number}"
    return ""
