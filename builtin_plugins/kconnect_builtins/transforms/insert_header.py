"""InsertHeader: add a header with a literal value to every record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kconnect.api.config import NO_DEFAULT_VALUE, ConfigDef, NonNullValidator
from kconnect.api.data import Schema
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.converters.values import parse_string
from kconnect_builtins.transforms._util import TRANSFORMS_PACKAGE, plugin_version

HEADER = "header"
VALUE_LITERAL = "value.literal"

CONFIG_DEF = (
    ConfigDef()
    .define(HEADER, ConfigDef.Type.STRING, default=NO_DEFAULT_VALUE,
            validator=NonNullValidator(), importance=ConfigDef.Importance.HIGH,
            documentation="The name of the header.")
    .define(VALUE_LITERAL, ConfigDef.Type.STRING, default=NO_DEFAULT_VALUE,
            validator=NonNullValidator(), importance=ConfigDef.Importance.HIGH,
            documentation="The literal value that is to be set as the header value on all "
            "records.")
)  # fmt: skip


class InsertHeader(Transformation[ConnectRecord]):
    """Add a header to each record.

    The literal is typed as Kafka's ``Values.parseString`` types it (the parser
    SimpleHeaderConverter reads headers with): ``true``/``false`` are booleans, whole numbers
    the narrowest integer type, other numbers FLOAT32 or FLOAT64, ``2019-08-23`` a Date (and
    times and timestamps likewise), ``[1,2]`` an array and ``{a:1}`` a map, anything else a
    string."""

    java_class_names = (f"{TRANSFORMS_PACKAGE}.InsertHeader",)

    def __init__(self) -> None:
        self._header = ""
        self._schema: Schema | None = None
        self._value: Any = None

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        config = CONFIG_DEF.parse(configs)
        self._header = config[HEADER]
        # The one literal parser (Kafka's Values.parseString), shared with SimpleHeaderConverter.
        parsed = parse_string(config[VALUE_LITERAL])
        self._schema, self._value = (None, None) if parsed is None else parsed

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        headers = record.headers.duplicate()
        headers.add(self._header, self._value, self._schema)
        return record.new_record(headers=headers)

    def close(self) -> None:
        pass
