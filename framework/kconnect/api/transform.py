"""Single message transforms and the predicates that guard them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from kconnect.api.config import ConfigDef

R = TypeVar("R")


class Transformation(Generic[R]):
    """Changes one record at a time: ``apply`` returns the new record, or None to drop it."""

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Called once with the transform's settings (``transforms.<alias>.`` stripped)."""

    def apply(self, record: R) -> R | None:
        raise NotImplementedError

    def config(self) -> ConfigDef:
        from kconnect.api.config import ConfigDef

        return ConfigDef()

    def close(self) -> None:
        pass


class Predicate(Generic[R]):
    """Decides whether a transform applies to a record."""

    def configure(self, configs: Mapping[str, Any]) -> None:
        pass

    def test(self, record: R) -> bool:
        raise NotImplementedError

    def config(self) -> ConfigDef:
        from kconnect.api.config import ConfigDef

        return ConfigDef()

    def close(self) -> None:
        pass
