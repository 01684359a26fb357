"""The REST reference page, rendered from the OpenAPI document the worker serves at
``GET /openapi.json`` (``kconnect.rest.openapi.openapi_document``).

That document is checked against real responses by the schemathesis tests, so a page made from
it lists exactly the operations, parameters, status codes and bodies the worker has.
"""

from __future__ import annotations

from typing import Any

import kconnect.rest.openapi as openapi
import markdown_cells as cell

_REF = "#/components/schemas/"
_TAG_TITLES = {
    "worker": "Worker",
    "connectors": "Connectors",
    "plugins": "Connector plugins",
    "admin": "Admin",
}


def _schema_anchor(name: str) -> str:
    return "schema-" + name.lower()


def schema_text(schema: dict[str, Any]) -> str:
    """A JSON schema in a few words, with named schemas as links to their section."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(_REF)
        return f"[{name}](#{_schema_anchor(name)})"
    if "oneOf" in schema:
        return " or ".join(schema_text(s) for s in schema["oneOf"])
    if "enum" in schema:
        return "one of " + ", ".join(cell.code(str(v)) for v in schema["enum"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    if kind == "array":
        return "array of " + schema_text(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "map of string to " + schema_text(schema["additionalProperties"])
    return str(kind)


def _body_schema(part: dict[str, Any]) -> dict[str, Any] | None:
    return part.get("content", {}).get("application/json", {}).get("schema")


def _operation(method: str, path: str, op: dict[str, Any]) -> str:
    out = [f"### {method.upper()} {path}\n\n", cell.text(op.get("summary", "")) + "\n\n"]
    params = op.get("parameters", [])
    if params:
        out.append("| Parameter | In | Schema | Description |\n|---|---|---|---|\n")
        for p in params:
            required = " (required)" if p.get("required") else ""
            out.append(
                f"| {cell.code(p['name'])}{required} | {p['in']} | "
                f"{schema_text(p.get('schema', {}))} | {cell.text(p.get('description', ''))} |\n"
            )
        out.append("\n")
    body = op.get("requestBody")
    if body is not None:
        schema = _body_schema(body)
        out.append(f"Request body (`application/json`): {schema_text(schema or {})}\n\n")
    out.append("| Status | Meaning | Body |\n|---|---|---|\n")
    for status, response in sorted(op.get("responses", {}).items()):
        schema = _body_schema(response)
        shown = schema_text(schema) if schema is not None else ""
        out.append(f"| {status} | {cell.text(response.get('description', ''))} | {shown} |\n")
    return "".join(out) + "\n"


def _schema_section(name: str, schema: dict[str, Any]) -> str:
    out = [f"### {name} {{ #{_schema_anchor(name)} }}\n\n"]
    properties = schema.get("properties")
    if not properties:
        return "".join(out) + schema_text(schema) + "\n\n"
    required = set(schema.get("required", []))
    out.append("| Field | Schema | Required |\n|---|---|---|\n")
    for field, field_schema in properties.items():
        yes = "yes" if field in required else "no"
        out.append(f"| {cell.code(field)} | {schema_text(field_schema)} | {yes} |\n")
    return "".join(out) + "\n"


def rest_page() -> str:
    """Every operation, grouped by tag in the document's order, then every named schema."""
    document = openapi.openapi_document()
    info = document["info"]
    by_tag: dict[str, list[str]] = {}
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            tag = (op.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append(_operation(method, path, op))
    parts = [
        "# REST API reference\n\n",
        "<!-- Generated at build time by docs/hooks/ from kconnect.rest.openapi; "
        "edit the code, not this page. -->\n\n",
        f"{cell.text(info.get('description', ''))} Generated from the OpenAPI "
        f"{document['openapi']} document every worker serves at `GET /openapi.json` "
        f"({info['title']} {info['version']}); the same document is "
        '[here](openapi.json). Every error answers `{"error_code": N, "message": "…"}`. '
        "For examples and the behaviour behind each call see [The REST API](../rest-api.md).\n\n",
    ]
    for tag, operations in by_tag.items():
        parts.append(f"## {_TAG_TITLES.get(tag, tag.title())}\n\n")
        parts.extend(operations)
    parts.append("## Schemas\n\n")
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        parts.append(_schema_section(name, schema))
    return "".join(parts)


def openapi_json() -> str:
    import json

    return json.dumps(openapi.openapi_document(), indent=2) + "\n"
