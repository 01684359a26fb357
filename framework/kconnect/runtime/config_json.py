"""A connector config written as JSON, read into strings exactly as Kafka Connect reads it.

Kafka Connect reads a connector config (a REST body or, since 3.8, a JSON file given to
connect-standalone) with Jackson into ``Map<String, String>``: a string stays as it is, ``true``
and ``false`` become ``"true"`` and ``"false"``, and a number becomes the text it was written
with (``1.50`` stays ``"1.50"``, ``1E20`` stays ``"1E20"``), because Jackson hands over the
token's own text. Python's JSON parsers turn numbers into floats first and lose that text
(``1E20`` would come back as ``"1e+20"``), so the document is parsed here with the number
literals kept. ``NaN`` and ``Infinity`` are not JSON, and Jackson refuses them; so does this.

REST (``kconnect.rest.http``) and the CLI both read configs through this module, so a config
gives the same strings whichever way it arrives.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class JsonNumber(str):
    """The text of a JSON number literal, as written in the document."""

    __slots__ = ()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}': only JSON numbers are allowed")


def loads_keeping_numbers(document: bytes | str) -> Any:
    """Parse JSON, giving every number as a :class:`JsonNumber` holding its literal text;
    raises ValueError for malformed JSON (and for NaN or Infinity)."""
    return json.loads(
        document,
        parse_int=JsonNumber,
        parse_float=JsonNumber,
        parse_constant=_refuse_constant,
    )


def config_value_text(value: Any) -> str | None:
    """A config value as the string Kafka stores for it: None stays None (PATCH uses it to
    remove a key); raises TypeError for an object or array, which Jackson cannot read as a
    string either."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str.__str__(value)  # a plain str, also for a JsonNumber
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Only for documents parsed without the number texts (orjson): its shortest repr.
        return repr(value)
    raise TypeError(f"must be a string, not {_json_type(value)}")


def config_strings(config: Mapping[str, Any]) -> dict[str, str | None]:
    """Every value of ``config`` through :func:`config_value_text`; TypeError names the key."""
    out: dict[str, str | None] = {}
    for key, value in config.items():
        try:
            out[str(key)] = config_value_text(value)
        except TypeError as error:
            raise TypeError(f"the value of {key!r} {error}") from None
    return out


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, (list, tuple)):
        return "a JSON array"
    return type(value).__name__
