"""Text from the code, made safe for a Markdown table cell.

Documentation strings come from ConfigDefs and the OpenAPI document, written as plain text: a
``*``, ``_``, ``|`` or ``<`` in them must show as itself, never start emphasis, split a table
cell or open an HTML tag. Every such character becomes a numeric entity, which Python-Markdown
passes through untouched and the browser shows as the character.
"""

from __future__ import annotations

import html

_SPECIAL = "\\`*_{}[]|~"
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in _SPECIAL}


def text(value: str) -> str:
    """Plain text for a table cell: nothing in it is read as Markdown or HTML."""
    escaped = html.escape(value, quote=False).translate(_ENTITIES)
    return escaped.replace("\r\n", "\n").replace("\n", "<br>")


def text_keeping_code(value: str) -> str:
    """As :func:`text`, but ``<code>`` tags stay tags: Kafka's validators describe themselves
    with them (``e.g. <code>foo:bar,abc:xyz</code>``), as in Kafka's own docs tables."""
    return text(value).replace("&lt;code&gt;", "<code>").replace("&lt;/code&gt;", "</code>")


def code(value: str) -> str:
    """``value`` as inline code in a table cell."""
    return f"<code>{text(value)}</code>" if value else ""


def anchor_id(value: str) -> str:
    """An HTML id for ``value`` (a config key name keeps its dots, so links read as the key)."""
    return "".join(c if c.isalnum() or c in ".-_" else "-" for c in value)
