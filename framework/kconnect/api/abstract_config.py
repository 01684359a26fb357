"""Kafka's ``AbstractConfig``: a plugin's parsed configuration, with typed getters.

It parses its settings with a :class:`~kconnect.api.config.ConfigDef` once, remembers which
settings were read (so ``unused()`` and ``log_unused()`` can name the ones nobody asked for),
and hands out the settings as given, by prefix, or with ``<prefix><key>`` overrides.
Importable from :mod:`kconnect.api.config` too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kconnect.api.config_validators import invalid_value, render_value
from kconnect.api.errors import ConfigException

if TYPE_CHECKING:
    from kconnect.api.config import ConfigDef
    from kconnect.api.config_types import Password

log = logging.getLogger(__name__)


class _RecordingDict(dict):  # type: ignore[type-arg]
    """A dict that marks each key read as used by its AbstractConfig (for ``unused()``)."""

    def __init__(
        self,
        config: AbstractConfig,
        data: Mapping[str, Any],
        prefix: str = "",
        fallback: bool = False,
    ):
        super().__init__(data)
        self._config = config
        self._prefix = prefix
        self._fallback = fallback

    def _mark(self, key: Any) -> None:
        if isinstance(key, str):
            self._config.ignore(self._prefix + key)
            if self._fallback:
                self._config.ignore(key)

    def __getitem__(self, key: Any) -> Any:
        self._mark(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._mark(key)
        return super().get(key, default)


class AbstractConfig:
    """Parsed configuration of a plugin: typed getters over ``definition.parse(originals)``.

    Subclass it per plugin (``class FileSourceConfig(AbstractConfig)``) or use it directly.
    """

    def __init__(self, definition: ConfigDef, originals: Mapping[str, Any], do_log: bool = False):
        for key, value in originals.items():
            if not isinstance(key, str):
                raise invalid_value(str(key), value, "Key must be a string.")
        self._definition = definition
        self._originals: dict[str, Any] = dict(originals)
        self._values = definition.parse(self._originals)
        self._used: set[str] = set()
        if do_log:
            self.log_all()

    @property
    def definition(self) -> ConfigDef:
        return self._definition

    def get(self, key: str) -> Any:
        """The typed value of a defined key; raises ConfigException for an unknown one."""
        if key not in self._values:
            raise ConfigException(f"Unknown configuration '{key}'", name=key)
        self._used.add(key)
        return self._values[key]

    def ignore(self, key: str) -> None:
        """Count ``key`` as used, so ``unused()`` does not report it."""
        self._used.add(key)

    def get_boolean(self, key: str) -> bool | None:
        return self.get(key)

    def get_string(self, key: str) -> str | None:
        return self.get(key)

    def get_int(self, key: str) -> int | None:
        return self.get(key)

    def get_short(self, key: str) -> int | None:
        return self.get(key)

    def get_long(self, key: str) -> int | None:
        return self.get(key)

    def get_double(self, key: str) -> float | None:
        return self.get(key)

    def get_list(self, key: str) -> list[Any] | None:
        return self.get(key)

    def get_class(self, key: str) -> str | None:
        """The plugin name a CLASS key holds (resolving it is the runtime's job)."""
        return self.get(key)

    def get_password(self, key: str) -> Password | None:
        return self.get(key)

    def values(self) -> dict[str, Any]:
        """Every defined key's typed value."""
        return _RecordingDict(self, self._values)

    def originals(self, config_overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The settings as given (undefined keys included), optionally with overrides."""
        result = _RecordingDict(self, self._originals)
        if config_overrides:
            result.update(config_overrides)
        return result

    def originals_strings(self) -> dict[str, str]:
        """The settings as given; raises TypeError if any value is not a string."""
        for key, value in self._originals.items():
            if not isinstance(value, str):
                kind = None if value is None else type(value).__name__
                raise TypeError(
                    f"Non-string value found in original settings for key {key}: {kind}"
                )
        return _RecordingDict(self, self._originals)

    def originals_with_prefix(self, prefix: str, strip: bool = True) -> dict[str, Any]:
        """The settings whose key starts with ``prefix`` (and is longer), prefix stripped or not."""
        n = len(prefix)
        selected = {
            (k[n:] if strip else k): v
            for k, v in self._originals.items()
            if k.startswith(prefix) and len(k) > n
        }
        return _RecordingDict(self, selected, prefix if strip else "")

    def values_with_prefix_override(self, prefix: str) -> dict[str, Any]:
        """Typed values, where a ``<prefix><key>`` setting overrides ``<key>``."""
        result = _RecordingDict(self, self._values, prefix, fallback=True)
        n = len(prefix)
        for k, v in self._originals.items():
            if k.startswith(prefix) and len(k) > n:
                key = self._definition.config_keys.get(k[n:])
                if key is not None:
                    dict.__setitem__(result, key.name, self._definition.parse_value(key, v, True))
        return result

    def unused(self) -> set[str]:
        """Settings given but never read."""
        return set(self._originals) - self._used

    def log_unused(self) -> None:
        for key in sorted(self.unused()):
            log.warning("The configuration '%s' was supplied but isn't a known config.", key)

    def log_all(self) -> None:
        lines = [f"\t{k} = {render_value(v)}" for k, v in sorted(self._values.items())]
        log.info("%s values: \n%s", type(self).__name__, "\n".join(lines))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AbstractConfig) or type(other) is not type(self):
            return NotImplemented
        return self._originals == other._originals

    def __hash__(self) -> int:
        return hash(frozenset((k, repr(v)) for k, v in self._originals.items()))
