"""Which connector names a worker accepts. Invariant: every name a worker accepts can be
addressed in a REST URL (read, changed, deleted, by any HTTP client) and written on one log line.

Kafka's rules (ConnectorConfig's name validator): not empty once leading and trailing blanks are
trimmed (so ``" "`` is refused), and no ISO control characters (``\\n``, ``\\t``, ``\\0`` … would
split or corrupt log lines). As in Kafka, ``POST /connectors`` trims the name it is given and
``PUT /connectors/{name}/config`` keeps the name of the URL as it is.

kconnect adds what makes a name unreachable over HTTP:

- no ``/``: the name is one segment of ``/connectors/{name}/…``; servers decode ``%2F`` before
  routing, so ``a/b`` would be read as two segments;
- not ``.`` or ``..``: HTTP clients resolve them as path segments (``/connectors/../config``
  becomes ``/config``) before the request is sent; ``..`` inside a name (``a..b``) is fine;
- at most :data:`MAX_NAME_LENGTH` characters, so that every URL naming the connector fits in
  the server's request line (see there).
"""

from __future__ import annotations

import json

#: The longest connector name. gunicorn refuses request lines longer than 4094 bytes
#: (``limit_request_line``), with 414 and no JSON. A character can take 4 bytes of UTF-8 and
#: each byte 3 characters once percent-encoded (``%F0%9F%98%80``): 12 bytes per character at
#: worst, so 255 characters are at most 3,060 bytes. The rest of the longest request line
#: (``DELETE /connectors/`` … ``/tasks/2147483647/restart`` or ``/restart?includeTasks=true&
#: onlyFailed=true``, the ``forward=true`` another worker adds, `` HTTP/1.1``) is under 150
#: bytes, which leaves room to spare. 255 is also the usual limit of a file name.
MAX_NAME_LENGTH = 255

#: What Java's String.trim() removes: every character up to and including the space.
_JAVA_BLANKS = "".join(chr(c) for c in range(0x21))

_SHOWN = 60


def _is_iso_control(char: str) -> bool:
    code = ord(char)
    return code <= 0x1F or 0x7F <= code <= 0x9F


def render_name(name: str) -> str:
    """``name`` fit for one log line or error message: control characters escaped as in JSON,
    a long name cut short with its length."""
    shown = name if len(name) <= _SHOWN else name[:_SHOWN]
    escaped = json.dumps(shown, ensure_ascii=False)[1:-1]
    if len(name) > _SHOWN:
        escaped += f"... ({len(name)} characters)"
    return escaped


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a connector name, in Kafka's words where it has them; None when
    it can."""
    if not name.strip(_JAVA_BLANKS):
        return "String may not be empty"
    controls = [str(ord(c)) for c in name if _is_iso_control(c)]
    if controls:
        return (
            "String may not contain control sequences but had the following ASCII chars: "
            + ", ".join(controls)
        )
    if "/" in name:
        return "Connector names may not contain '/' (it separates the parts of a REST URL)"
    if name in (".", ".."):
        return (
            "Connector names may not be '.' or '..' (HTTP clients resolve them as parts of a "
            "URL path)"
        )
    if len(name) > MAX_NAME_LENGTH:
        return (
            f"Connector names may be at most {MAX_NAME_LENGTH} characters long, so that every "
            f"REST URL naming the connector fits in an HTTP request line; this one has {len(name)}"
        )
    return None


def invalid_name_message(name: str) -> str | None:
    """Kafka's config error for an invalid name (``Invalid value … for configuration name: …``),
    or None for a valid one."""
    problem = name_problem(name)
    if problem is None:
        return None
    return f"Invalid value {render_name(name)} for configuration name: {problem}"
