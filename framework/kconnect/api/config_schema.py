"""A :class:`~kconnect.api.config.ConfigDef` compiled to JSON Schema, and its errors in Kafka's words.

Each key becomes a property (draft 2020-12) with its type, integer bounds, default, docs, an
``allOf`` of the validators that can say what they accept as JSON Schema, and an ``x-kconnect``
object (importance, group, order, width, dependents). jsonschema checks a whole configuration at
once; :meth:`CompiledSchema.evaluate` maps each failure back to the key and validator it belongs
to, and runs the validators jsonschema cannot express as plain Python, so the messages read as
Kafka Connect's (``Missing required configuration "file" which has no default value.``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from kconnect.api.config_types import INT_BOUNDS, Password, _Type, coerce
from kconnect.api.config_validators import Validator, flatten, invalid_value, schema_checked
from kconnect.api.errors import ConfigException

if TYPE_CHECKING:
    from kconnect.api.config import ConfigKey

_JSON_TYPES = {
    _Type.BOOLEAN: "boolean",
    _Type.STRING: "string",
    _Type.INT: "integer",
    _Type.SHORT: "integer",
    _Type.LONG: "integer",
    _Type.DOUBLE: "number",
    _Type.LIST: "array",
    _Type.CLASS: "string",
    _Type.PASSWORD: "string",
}


def missing_required(name: str) -> ConfigException:
    """Kafka's error for a required key left unset."""
    return ConfigException(
        f'Missing required configuration "{name}" which has no default value.', name=name
    )


class CompiledSchema:
    """A ConfigDef compiled once: its JSON Schema, the jsonschema validator and, per key, the
    validators in order with their place in the key's ``allOf`` (None: checked in Python)."""

    __slots__ = ("_by_name", "checker", "keys", "leaves", "schema")

    def __init__(self, keys: tuple[ConfigKey, ...]):
        self.keys = keys
        self._by_name = {key.name: key for key in keys}
        self.leaves: dict[str, list[tuple[Validator, int, int | None]]] = {}
        properties: dict[str, Any] = {}
        required = []
        for key in keys:
            leaves: list[tuple[Validator, int, int | None]] = []
            all_of: list[dict[str, Any]] = []
            for validator, strip in flatten(key.validator):
                if schema_checked(validator):
                    leaves.append((validator, strip, len(all_of)))
                    all_of.append(validator.json_schema() or {})
                else:
                    leaves.append((validator, strip, None))
            self.leaves[key.name] = leaves
            properties[key.name] = _property_schema(key, all_of)
            if not key.has_default():
                required.append(key.name)
        self.schema: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": properties,
            "required": required,
        }
        self.checker = Draft202012Validator(self.schema)

    def evaluate(
        self, props: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[ConfigException]]]:
        """Parse and check every key: the typed values (None where unparseable or missing) and,
        per key, its errors in the order Kafka reports them."""
        parsed: dict[str, Any] = {}
        errors: dict[str, list[ConfigException]] = {}
        instance: dict[str, Any] = {}
        for key in self.keys:
            name = key.name
            problems = errors[name] = []
            if name in props:
                try:
                    value = coerce(name, props[name], key.type)
                except ConfigException as e:
                    problems.append(e)
                    value = None
            else:
                value = key.default_value if key.has_default() else None
                if isinstance(value, list):
                    value = list(value)  # callers may change their copy, never the default
            parsed[name] = value
            if value is not None:
                instance[name] = value.value if isinstance(value, Password) else value

        failed_checks: dict[tuple[str, int], Any] = {}
        for error in self.checker.iter_errors(instance):
            if error.validator == "required":
                for name in error.validator_value:
                    if name not in props and not errors[name]:
                        errors[name].append(missing_required(name))
                continue
            schema_path = error.absolute_schema_path
            name = schema_path[1]
            if len(schema_path) > 3 and schema_path[2] == "allOf":
                failed_checks.setdefault((name, schema_path[3]), error)
            elif parsed[name] is not None:
                # The type's own constraint: an integer too wide for INT/SHORT/LONG is what
                # Java's parser rejects as "Not a number".
                key = self._by_name[name]
                reason = f"Not a number of type {key.type.name}"
                if error.validator == "type":
                    reason = f"Expected value of type {key.type.name}"
                errors[name].append(invalid_value(name, props.get(name, parsed[name]), reason))
                parsed[name] = None

        for key in self.keys:
            name = key.name
            value = parsed[name]
            for validator, strip, check in self.leaves[name]:
                label = name[strip:]
                if check is None or value is None:
                    try:
                        validator.ensure_valid(label, value)
                    except ConfigException as e:
                        errors[name].append(e)
                        break
                    continue
                error = failed_checks.get((name, check))
                if error is not None:
                    # The key's own value is shown as parsed (a Password stays hidden); a list
                    # item that failed is shown by itself.
                    shown = value if len(error.absolute_path) == 1 else error.instance
                    reason = validator.reason(error.validator, error.instance)
                    errors[name].append(invalid_value(label, shown, reason))
                    break
        return parsed, errors


def _json_default(key: ConfigKey) -> Any:
    value = key.default_value
    if isinstance(value, Password):
        return Password.HIDDEN
    return list(value) if isinstance(value, (list, tuple)) else value


def _property_schema(key: ConfigKey, all_of: list[dict[str, Any]]) -> dict[str, Any]:
    json_type: Any = _JSON_TYPES[key.type]
    if key.has_default() and key.default_value is None:
        json_type = [json_type, "null"]
    prop: dict[str, Any] = {"type": json_type}
    if key.type in INT_BOUNDS:
        prop["minimum"], prop["maximum"] = INT_BOUNDS[key.type]
    if all_of:
        prop["allOf"] = all_of
    if key.has_default():
        prop["default"] = _json_default(key)
    prop["title"] = key.display_name
    if key.documentation:
        prop["description"] = key.documentation
    if key.type is _Type.PASSWORD:
        prop["writeOnly"] = True
    prop["x-kconnect"] = {
        "type": key.type.name,
        "importance": key.importance.name,
        "group": key.group,
        "order_in_group": key.order_in_group,
        "width": key.width.name,
        "display_name": key.display_name,
        "dependents": list(key.dependents),
        "valid_values": str(key.validator) if key.validator is not None else "",
        "internal": key.internal,
    }
    return prop
