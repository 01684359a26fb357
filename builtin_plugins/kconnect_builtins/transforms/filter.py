"""Filter: drop every record (meant to run under a predicate)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kconnect.api.config import ConfigDef
from kconnect.api.records import ConnectRecord
from kconnect.api.transform import Transformation

from kconnect_builtins.transforms._util import TRANSFORMS_PACKAGE, plugin_version

CONFIG_DEF = ConfigDef()


class Filter(Transformation[ConnectRecord]):
    """Drops all records, filtering them from subsequent transformations in the chain. This is
    intended to be used conditionally to filter out records matching (or not matching) a
    particular Predicate."""

    java_class_names = (f"{TRANSFORMS_PACKAGE}.Filter",)

    def version(self) -> str:
        return plugin_version()

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any]) -> None:
        pass

    def apply(self, record: ConnectRecord) -> None:
        return None

    def close(self) -> None:
        pass
