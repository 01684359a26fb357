"""Documentation of :class:`~kconnect.api.config.ConfigDef` keys, as Kafka renders it.

An HTML table (Kafka's ``toHtmlTable``), a Markdown table, reStructuredText (``toRst``) and
reStructuredText with group headings and dependents (``toEnrichedRst``). Each takes the keys to
document, in docs order; :meth:`ConfigDef.to_rst` and friends pass the non-internal ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from kconnect.api.config_types import convert_to_string

if TYPE_CHECKING:
    from kconnect.api.config import ConfigKey

HEADERS = ("Name", "Description", "Type", "Default", "Valid Values", "Importance")


def doc_value(key: ConfigKey, header: str) -> str:
    """What the docs show for ``key`` under ``header`` (one of :data:`HEADERS`)."""
    if header == "Name":
        return key.name
    if header == "Description":
        return key.documentation or ""
    if header == "Type":
        return key.type.name.lower()
    if header == "Default":
        if key.alternative_string is not None:
            return key.alternative_string
        if not key.has_default():
            return ""
        if key.default_value is None:
            return "null"
        text = convert_to_string(key.default_value, key.type) or ""
        if not text:
            return '""'
        return text + nice_units(key.name, key.default_value)
    if header == "Valid Values":
        return str(key.validator) if key.validator is not None else ""
    if header == "Importance":
        return key.importance.name.lower()
    raise KeyError(f"Can't find value for header '{header}' in {key.name}")


def nice_units(name: str, value: Any) -> str:
    """Kafka's docs suffix: ``1048576`` for a ``.bytes`` key reads ``(1 mebibyte)``."""
    if not isinstance(value, int) or isinstance(value, bool):
        return ""
    if name.endswith(".bytes"):
        steps, units = [1024] * 4, ["kibibyte", "mebibyte", "gibibyte", "tebibyte"]
    elif name.endswith(".ms"):
        steps, units = [1000, 60, 60, 24], ["second", "minute", "hour", "day"]
    else:
        return ""
    i = 0
    while value != 0 and i < 4 and value % steps[i] == 0:
        value //= steps[i]
        i += 1
    if i == 0:
        return ""
    return f" ({value} {units[i - 1]}{'' if value == 1 else 's'})"


def to_html_table(keys: Iterable[ConfigKey], headers: Sequence[str] = HEADERS) -> str:
    """An HTML table of ``keys``, as Kafka's ``toHtmlTable``."""
    rows = ['<table class="data-table"><tbody>', "<tr>"]
    rows += [f"<th>{h}</th>" for h in headers]
    rows.append("</tr>")
    for key in keys:
        cells = "".join(f"<td>{doc_value(key, h)}</td>" for h in headers)
        rows.append(f"<tr>\n{cells}</tr>")
    rows.append("</tbody></table>")
    return "\n".join(rows)


def to_markdown(keys: Iterable[ConfigKey], headers: Sequence[str] = HEADERS) -> str:
    """A Markdown table of ``keys``."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", "<br>")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for key in keys:
        cells = (cell(doc_value(key, h)) for h in headers)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rst_key(key: ConfigKey) -> str:
    """One key in reStructuredText: its name, documentation and a bullet list of facts."""
    out = [f"``{key.name}``\n"]
    if key.documentation is not None:
        out += [f"  {line}\n\n" for line in key.documentation.split("\n") if line]
    else:
        out.append("\n")
    out.append(f"  * Type: {doc_value(key, 'Type')}\n")
    if key.has_default():
        out.append(f"  * Default: {doc_value(key, 'Default')}\n")
    if key.validator is not None:
        out.append(f"  * Valid Values: {doc_value(key, 'Valid Values')}\n")
    out.append(f"  * Importance: {doc_value(key, 'Importance')}\n")
    return "".join(out)


def to_rst(keys: Iterable[ConfigKey]) -> str:
    """reStructuredText for Sphinx, as Kafka's ``toRst``."""
    return "".join(rst_key(key) + "\n" for key in keys)


def to_enriched_rst(keys: Iterable[ConfigKey]) -> str:
    """As :func:`to_rst`, with group headings and dependents."""
    out = []
    last_group = ""
    for key in keys:
        if key.group is not None:
            if last_group.lower() != key.group.lower():
                out.append(f"{key.group}\n{'^' * len(key.group)}\n\n")
            last_group = key.group
        out.append(rst_key(key))
        if key.dependents:
            out.append("  * Dependents: " + ", ".join(f"``{d}``" for d in key.dependents) + "\n")
        out.append("\n")
    return "".join(out)
