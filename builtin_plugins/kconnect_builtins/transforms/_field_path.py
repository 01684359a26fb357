"""Field paths of KIP-821 (``field.syntax.version``): ``V1`` names a top-level field, ``V2``
reaches nested fields with dots, and backticks wrap names that contain dots."""

from __future__ import annotations

from typing import Any

from kconnect.api.config import CaseInsensitiveValidString, ConfigDef
from kconnect.api.data import Field, Schema, Struct
from kconnect.api.errors import ConfigException

from kconnect_builtins.transforms._util import (
    config_error,
    require_map_or_null,
    require_struct_or_null,
)

FIELD_SYNTAX_VERSION_CONFIG = "field.syntax.version"
FIELD_SYNTAX_VERSION_DOC = (
    "Defines the version of the syntax to access fields. "
    "If set to `V1`, then the field paths are limited to access the elements at the root level "
    "of the struct or map. "
    "If set to `V2`, the syntax will support accessing nested elements. "
    "To access nested elements, dotted notation is used. "
    "If dots are already included in the field name, "
    "then backtick pairs can be used to wrap field names containing dots. "
    'E.g. to access the subfield `baz` from a field named "foo.bar" in a struct/map '
    'the following format can be used to access its elements: "`foo.bar`.baz".'
)
V1 = "V1"
V2 = "V2"


def append_config_to(config_def: ConfigDef) -> ConfigDef:
    """Add ``field.syntax.version`` to a transform's ConfigDef."""
    return config_def.define(
        FIELD_SYNTAX_VERSION_CONFIG,
        ConfigDef.Type.STRING,
        default=V1,
        validator=CaseInsensitiveValidString.in_(V1, V2),
        importance=ConfigDef.Importance.HIGH,
        documentation=FIELD_SYNTAX_VERSION_DOC,
    )


def syntax_version(parsed: dict[str, Any]) -> str:
    value = parsed[FIELD_SYNTAX_VERSION_CONFIG]
    version = str(value).upper()
    if version not in (V1, V2):
        raise config_error(FIELD_SYNTAX_VERSION_CONFIG, value, "Unrecognized field syntax version")
    return version


def _incomplete_backtick(path: str, at: int) -> ConfigException:
    return ConfigException(
        f"Incomplete backtick pair in path: [{path}], consider adding a backslash before "
        f"backtick at position {at} to escape it"
    )


def parse_v2(path: str) -> list[str]:
    """The steps of a V2 path: dots separate steps; a step starting with a backtick runs to
    the backtick that ends the path or precedes a dot (a backslash before a backtick keeps it
    in the name)."""
    steps: list[str] = []
    i, n = 0, len(path)
    while i < n:
        if path[i] != "`":
            dot = path.find(".", i)
            if dot < 0:
                steps.append(path[i:])
                i = n
            else:
                steps.append(path[i:dot])
                i = dot + 1
            continue
        opened_at = i
        i += 1
        start = i
        name: list[str] = []
        while True:
            close = path.find("`", i)
            if close < 0:
                raise _incomplete_backtick(path, opened_at)
            escaped = path[close - 1] == "\\"
            if close >= n - 1:  # the backtick ends the path
                if escaped:
                    raise _incomplete_backtick(path, opened_at)
                name.append(path[start:close])
                steps.append("".join(name))
                i = close + 1
                break
            if path[close + 1] != ".":  # part of the name; keep looking
                i = close + 1
                continue
            if escaped:  # an escaped backtick before a dot is part of the name
                name.append(path[start : close - 1] + "`")
                i = close + 1
                start = i
                continue
            name.append(path[start:close])
            steps.append("".join(name))
            i = close + 2
            break
    if path.endswith("."):
        steps.append("")
    return steps


class SingleFieldPath:
    """A path to one field of a struct or map."""

    __slots__ = ("steps", "version")

    def __init__(self, path: str, version: str = V1):
        self.version = version
        self.steps: tuple[str, ...] = (path,) if version == V1 else tuple(parse_v2(path))

    def field_from(self, schema: Schema | None) -> Field | None:
        """The field the path names in ``schema``, or None."""
        if schema is None:
            return None
        current = schema
        for step in self.steps[:-1]:
            field = current.field(step)
            if field is None:
                return None
            current = field.schema
        return current.field(self.steps[-1])

    def value_from_struct(self, struct: Struct | None, with_default: bool = True) -> Any:
        if struct is None:
            return None
        current = struct
        for step in self.steps[:-1]:
            if current.schema.field(step) is None:
                return None
            current = require_struct_or_null(current.get(step), "nested field access")
            if current is None:
                return None
        last = self.steps[-1]
        if current.schema.field(last) is None:
            return None
        return current.get(last) if with_default else current.get_without_default(last)

    def value_from_map(self, mapping: dict | None) -> Any:
        if mapping is None:
            return None
        current = mapping
        for step in self.steps[:-1]:
            current = require_map_or_null(current.get(step), "nested field access")
            if current is None:
                return None
        return current.get(self.steps[-1])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SingleFieldPath) and self.steps == other.steps

    def __hash__(self) -> int:
        return hash(self.steps)

    def __repr__(self) -> str:
        return f"SingleFieldPath{{version={self.version}, path={'.'.join(self.steps)}}}"
