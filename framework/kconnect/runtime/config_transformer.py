"""Resolving ``${provider:path:key}`` variables in connector configs (Kafka's ConfigTransformer
and WorkerConfigTransformer).

The worker names its providers::

    config.providers=file,env,dir
    config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
    config.providers.dir.class=DirectoryConfigProvider
    config.providers.dir.param.allowed.paths=/run/secrets

and connector configs refer to them: ``${file:/etc/secrets.properties:db.password}``,
``${env:DB_PASSWORD}``, ``${dir:/run/secrets:db-password}``. Variables are resolved only when
a connector or task starts, into a copy handed to the plugin: the config store, the status,
the REST API and the logs keep the ``${...}`` form. A variable whose provider is not configured,
or whose key the provider does not have, stays as written (as in Kafka).

Every value a provider resolved, and every value of a password-type key, is handed to the
worker's :class:`~kconnect.runtime.secret_masking.SecretMasker`, so that an error that repeats
one (a broker naming an invalid topic) shows ``[hidden]`` in the log and the status trace.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kconnect.api.config_provider import ConfigData, ConfigProvider
from kconnect.api.errors import ConfigException
from kconnect.plugins import PluginRegistry
from kconnect.runtime.secret_masking import SecretMasker, password_values, secret_masker

log = logging.getLogger(__name__)

CONFIG_PROVIDERS = "config.providers"

#: ``${provider:path:key}`` or ``${provider:key}`` (Kafka's DEFAULT_PATTERN)
VARIABLE = re.compile(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}")


@dataclass
class TransformResult:
    """The resolved configs and, per path, the smallest TTL (ms) any provider gave for it."""

    data: dict[str, str]
    ttls: dict[str, int] = field(default_factory=dict)
    #: the values providers returned that were put into ``data``
    resolved_values: set[str] = field(default_factory=set)


def has_variables(value: Any) -> bool:
    return isinstance(value, str) and "${" in value and VARIABLE.search(value) is not None


class ConfigTransformer:
    """Replaces the variables of a config map with what the providers return."""

    def __init__(self, providers: Mapping[str, ConfigProvider]):
        self.providers = dict(providers)

    def transform(self, configs: Mapping[str, Any]) -> TransformResult:
        # provider -> path -> keys; one provider call per path, as Kafka does
        wanted: dict[str, dict[str, set[str]]] = {}
        for value in configs.values():
            if not has_variables(value):
                continue
            for provider_name, path, key in _variables(value):
                if provider_name in self.providers:
                    wanted.setdefault(provider_name, {}).setdefault(path, set()).add(key)
        lookups: dict[tuple[str, str], dict[str, str]] = {}
        ttls: dict[str, int] = {}
        for provider_name, paths in wanted.items():
            provider = self.providers[provider_name]
            for path, keys in paths.items():
                data: ConfigData = provider.get(path, keys)
                lookups[(provider_name, path)] = {
                    str(k): str(v) for k, v in data.data.items() if v is not None
                }
                if data.ttl is not None and data.ttl >= 0:
                    ttls[path] = min(ttls.get(path, data.ttl), data.ttl)
        resolved = {}
        used: set[str] = set()
        for name, value in configs.items():
            resolved[name] = _replace(value, lookups, used) if has_variables(value) else value
        return TransformResult(resolved, ttls, used)

    def close(self) -> None:
        for name, provider in self.providers.items():
            try:
                provider.close()
            except Exception:
                log.exception("Error closing config provider %s", name)


def _variables(value: str) -> Iterable[tuple[str, str, str]]:
    for match in VARIABLE.finditer(value):
        yield match.group(1), match.group(3) or "", match.group(4)


def _replace(
    value: str, lookups: Mapping[tuple[str, str], Mapping[str, str]], used: set[str]
) -> str:
    def one(match: re.Match[str]) -> str:
        data = lookups.get((match.group(1), match.group(3) or ""))
        if data is None:
            return match.group(0)
        replacement = data.get(match.group(4))
        if replacement is None:
            return match.group(0)
        used.add(replacement)
        return replacement

    return VARIABLE.sub(one, value)


def providers_from_worker_config(
    worker_props: Mapping[str, Any], registry: PluginRegistry
) -> dict[str, ConfigProvider]:
    """Instantiate and configure the providers ``config.providers`` names (Kafka's
    ``config.providers.<name>.class`` and ``config.providers.<name>.param.*``)."""
    raw = worker_props.get(CONFIG_PROVIDERS) or ""
    names = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    providers: dict[str, ConfigProvider] = {}
    for name in (str(n).strip() for n in names):
        if not name:
            continue
        class_key = f"{CONFIG_PROVIDERS}.{name}.class"
        class_name = worker_props.get(class_key)
        if not class_name:
            raise ConfigException(
                f'Missing required configuration "{class_key}" which has no default value.',
                name=class_key,
            )
        provider_class = registry.find("config_provider", str(class_name))
        provider = provider_class()
        if not isinstance(provider, ConfigProvider) and not hasattr(provider, "get"):
            raise ConfigException(f"{class_name} is not a ConfigProvider", name=class_key)
        prefix = f"{CONFIG_PROVIDERS}.{name}.param."
        provider.configure(
            {k[len(prefix) :]: v for k, v in worker_props.items() if k.startswith(prefix)}
        )
        providers[name] = provider
        log.info("Config provider %s: %s", name, class_name)
    return providers


class WorkerConfigTransformer:
    """The worker's transformer: resolves connector and task configs when they start, and turns
    task configs back into their ``${...}`` form before they are stored."""

    def __init__(self, providers: Mapping[str, ConfigProvider], masker: SecretMasker | None = None):
        self.transformer = ConfigTransformer(providers)
        self.masker = masker or secret_masker()

    @classmethod
    def from_worker_config(
        cls,
        worker_props: Mapping[str, Any],
        registry: PluginRegistry,
        masker: SecretMasker | None = None,
    ) -> WorkerConfigTransformer:
        transformer = cls(providers_from_worker_config(worker_props, registry), masker)
        transformer.masker.add(password_values(worker_props))
        return transformer

    @property
    def enabled(self) -> bool:
        return bool(self.transformer.providers)

    def transform(self, configs: Mapping[str, Any]) -> dict[str, Any]:
        """A resolved copy of ``configs`` (``configs`` itself as a dict when it has no variables).
        The secrets in it (resolved values, password-type values) are masked from now on."""
        if not self.enabled or not any(has_variables(v) for v in configs.values()):
            self.masker.add(password_values(configs))
            return dict(configs)
        result = self.transformer.transform(configs)
        self.masker.add(result.resolved_values)
        self.masker.add(password_values(result.data))
        return result.data

    def reverse_transform(
        self,
        raw_connector_config: Mapping[str, Any],
        resolved_connector_config: Mapping[str, Any],
        task_configs: list[dict[str, str]],
    ) -> list[dict[str, str]]:
        """Task configs with each value that equals a resolved connector value put back in the
        ``${...}`` form the connector config had (Kafka's AbstractHerder.reverseTransform), so
        task configs can be stored and shown without secrets."""
        variables = {k: v for k, v in raw_connector_config.items() if has_variables(v)}
        if not variables:
            return task_configs
        out = []
        for task_config in task_configs:
            config = dict(task_config)
            for key, raw in variables.items():
                if (
                    key in config
                    and config[key] == resolved_connector_config.get(key)
                    and config[key] != raw
                ):
                    config[key] = raw
            out.append(config)
        return out

    def close(self) -> None:
        self.transformer.close()


def hide_resolved_values(
    infos: dict[str, Any], raw: Mapping[str, Any], resolved: Mapping[str, Any]
) -> dict[str, Any]:
    """A ConfigInfos computed from ``resolved`` with each resolved value (and any mention of it
    in an error message) put back in its ``${...}`` form, for the REST API to return."""
    secrets = {
        k: (str(resolved[k]), str(v))
        for k, v in raw.items()
        if has_variables(v) and k in resolved and resolved[k] != v
    }
    if not secrets:
        return infos
    replacements = sorted({s for s in secrets.values() if s[0]}, key=lambda pair: -len(pair[0]))
    for entry in infos.get("configs", []):
        value = entry.get("value", {})
        name = value.get("name")
        if name in secrets:
            value["value"] = secrets[name][1]
        errors = value.get("errors") or []
        for i, message in enumerate(errors):
            for secret, original in replacements:
                message = message.replace(secret, original)
            errors[i] = message
    return infos
