"""Plugin discovery: setuptools entry points -> plugin classes (stevedore), and the lifecycle
hooks (pluggy).

Every kind of plugin is an entry-point group. A plugin is found by any of its names:

* its entry-point name (``FileStreamSource``),
* its Python path (``kconnect_builtins.file.source.FileStreamSourceConnector``, ``module:Class``),
* its simple class name (``FileStreamSourceConnector``) and, as Kafka does, that name without
  the kind's suffix (``FileStreamSource``),
* the Java class names it declares in ``java_class_names``, so Apache Kafka's sample files and
  curl examples work unchanged (``org.apache.kafka.connect.file.FileStreamSourceConnector``).

A plugin that fails to import is logged and listed as broken; it never stops the worker.

Names arrive from REST requests and from the config topic, and importing a module runs its code:
a caller who can write a ``.py`` file somewhere on ``sys.path`` (a FileStreamSink can) must not be
able to run it by naming it. So a Python path that is not a registered plugin is imported only
when its module lies under one of the prefixes the operator listed in the worker setting
``plugin.import.allowed.prefixes`` (empty by default: nothing outside the entry points is
imported). The check runs on the name before any import machinery does, because importing
``a.b.c`` (or even ``importlib.util.find_spec``) already runs ``a/__init__.py`` and ``a/b``.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import logging
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy
from stevedore import ExtensionManager

from kconnect.api.errors import ConfigException, ConnectException

log = logging.getLogger(__name__)

#: plugin kind -> entry-point group
PLUGIN_GROUPS: dict[str, str] = {
    "connector": "kconnect.connectors",
    "converter": "kconnect.converters",
    "header_converter": "kconnect.header_converters",
    "transform": "kconnect.transforms",
    "predicate": "kconnect.predicates",
    "storage": "kconnect.storage",
    "config_provider": "kconnect.config_providers",
}

#: suffixes Kafka strips to make a short alias (FileStreamSourceConnector -> FileStreamSource)
_ALIAS_SUFFIXES: dict[str, str] = {
    "connector": "Connector",
    "converter": "Converter",
    "header_converter": "Converter",
    "config_provider": "ConfigProvider",
}

#: the worker setting listing module prefixes whose unregistered classes may be imported by path
ALLOWED_IMPORT_PREFIXES_CONFIG = "plugin.import.allowed.prefixes"

HOOK_NAMESPACE = "kconnect"
hookspec = pluggy.HookspecMarker(HOOK_NAMESPACE)
hookimpl = pluggy.HookimplMarker(HOOK_NAMESPACE)


class PluginNotFoundError(ConnectException):
    """No plugin of that kind goes by that name."""


@dataclass
class PluginDescriptor:
    """One discovered plugin class and the names it answers to."""

    kind: str
    entry_point: str
    plugin_class: type
    aliases: set[str] = field(default_factory=set)

    @property
    def class_name(self) -> str:
        """The Python path, as ``/connector-plugins`` shows it in ``class``."""
        return f"{self.plugin_class.__module__}.{self.plugin_class.__qualname__}"

    @property
    def java_class_names(self) -> tuple[str, ...]:
        return tuple(getattr(self.plugin_class, "java_class_names", ()))

    @property
    def version(self) -> str:
        return plugin_version(self.plugin_class)


@dataclass
class BrokenPlugin:
    """An entry point whose target could not be imported."""

    kind: str
    entry_point: str
    target: str
    error: str


def plugin_version(plugin_class: type) -> str:
    """A plugin's version: its ``version()`` if it answers without arguments, else its
    distribution's version, else ``unknown``."""
    try:
        version = plugin_class().version()  # type: ignore[call-arg]
        if version:
            return str(version)
    except Exception:  # noqa: BLE001 - a plugin that cannot say its version still loads
        pass
    return "unknown"


class PluginRegistry:
    """Every plugin found through entry points, looked up by any of its names."""

    def __init__(self, groups: dict[str, str] | None = None):
        self._groups = groups or PLUGIN_GROUPS
        self._by_kind: dict[str, list[PluginDescriptor]] = {}
        self._index: dict[str, dict[str, PluginDescriptor]] = {}
        self.broken: list[BrokenPlugin] = []
        #: module prefixes whose classes may be imported by Python path (none by default)
        self.allowed_import_prefixes: tuple[str, ...] = ()
        for kind, group in self._groups.items():
            self._load_group(kind, group)

    def with_allowed_imports(self, prefixes: Iterable[str]) -> PluginRegistry:
        """This registry (sharing what was discovered) allowing imports under ``prefixes``;
        raises ConfigException for a prefix that is not a dotted module name."""
        view = copy.copy(self)
        view.allowed_import_prefixes = parse_allowed_prefixes(prefixes)
        return view

    def _load_group(self, kind: str, group: str) -> None:
        def on_failure(_manager: Any, entry_point: Any, error: BaseException) -> None:
            message = f"{type(error).__name__}: {error}"
            log.error(
                "Could not load %s plugin %r (%s): %s",
                kind,
                entry_point.name,
                entry_point.value,
                message,
            )
            self.broken.append(BrokenPlugin(kind, entry_point.name, entry_point.value, message))

        manager = ExtensionManager(
            namespace=group, invoke_on_load=False, on_load_failure_callback=on_failure
        )
        descriptors = [PluginDescriptor(kind, ext.name, ext.plugin) for ext in manager]
        descriptors.sort(key=lambda d: d.entry_point)
        self._by_kind[kind] = descriptors
        self._index[kind] = self._build_index(kind, descriptors)

    @staticmethod
    def _build_index(kind: str, descriptors: list[PluginDescriptor]) -> dict[str, PluginDescriptor]:
        index: dict[str, PluginDescriptor] = {}
        for d in descriptors:
            for name in _exact_names(d):
                index.setdefault(name, d)
                d.aliases.add(name)
        # Short names may collide (Cast.Key and Flatten.Key are both "Key"): an alias is kept
        # only when it names a single class.
        owners: dict[str, set[type]] = {}
        for d in descriptors:
            for name in _short_names(kind, d):
                owners.setdefault(name, set()).add(d.plugin_class)
        for d in descriptors:
            for name in _short_names(kind, d):
                if owners[name] == {d.plugin_class} and name not in index:
                    index[name] = d
                    d.aliases.add(name)
        return index

    # -- queries -------------------------------------------------------------------------------
    def plugins(self, kind: str) -> list[PluginDescriptor]:
        """The plugins of one kind, sorted by entry-point name."""
        return list(self._by_kind.get(kind, ()))

    def descriptor(self, kind: str, name: str) -> PluginDescriptor:
        """The plugin of ``kind`` called ``name``; PluginNotFoundError names the closest ones."""
        name = name.strip()
        found = self._index.get(kind, {}).get(name)
        if found is not None:
            return found
        imported = self.import_class(name)
        if imported is not None and _is_plugin_of_kind(imported, kind):
            return PluginDescriptor(kind, name, imported, {name})
        raise PluginNotFoundError(self._not_found_message(kind, name))

    def import_class(self, path: str) -> type | None:
        """The class a Python path names, imported only when the operator allowed its module;
        None when it is not allowed or not a class."""
        return import_python_path(path, self.allowed_import_prefixes)

    def import_refused(self, path: str) -> bool:
        """Whether ``path`` looks like a Python path that was not imported because no allowed
        prefix covers it."""
        module = _module_of(path)
        return module is not None and not module_allowed(module, self.allowed_import_prefixes)

    def find(self, kind: str, name: str) -> type:
        """The plugin class of ``kind`` called ``name``."""
        return self.descriptor(kind, name).plugin_class

    def _not_found_message(self, kind: str, name: str) -> str:
        names = sorted(self._index.get(kind, {}))
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        if not close:
            tail = name.rsplit(".", 1)[-1]
            close = difflib.get_close_matches(tail, names, n=3, cutoff=0.5)
        label = kind.replace("_", " ")
        message = f"Failed to find any class that implements {label} and which name matches {name}"
        broken = [b for b in self.broken if b.kind == kind and name in (b.entry_point, b.target)]
        if broken:
            message += f"; the plugin is installed but failed to load: {broken[0].error}"
        if self.import_refused(name):
            message += (
                ". Python paths of classes that are not registered plugins (entry points) are not "
                f"imported; an operator can allow a module with the worker setting "
                f"{ALLOWED_IMPORT_PREFIXES_CONFIG}"
            )
        if close:
            message += ". Did you mean: " + ", ".join(close) + "?"
        available = sorted({d.entry_point for d in self._by_kind.get(kind, ())})
        if available:
            message += " Available " + label + "s: " + ", ".join(available)
        return message


def _exact_names(d: PluginDescriptor) -> list[str]:
    cls = d.plugin_class
    return [
        d.entry_point,
        d.class_name,
        f"{cls.__module__}:{cls.__qualname__}",
        *d.java_class_names,
    ]


def _short_names(kind: str, d: PluginDescriptor) -> set[str]:
    cls = d.plugin_class
    names = {cls.__qualname__, cls.__name__}
    names.update(java.rsplit(".", 1)[-1] for java in d.java_class_names)
    suffix = _ALIAS_SUFFIXES.get(kind)
    if suffix:
        names.update(n[: -len(suffix)] for n in list(names) if n.endswith(suffix) and n != suffix)
    return names


def _kind_base(kind: str) -> type | None:
    """The API class every plugin of ``kind`` extends (None: any class will do)."""
    from kconnect.api import config_provider, connector, converter, transform

    return {
        "connector": connector.Connector,
        "converter": converter.Converter,
        "header_converter": converter.HeaderConverter,
        "transform": transform.Transformation,
        "predicate": transform.Predicate,
        "config_provider": config_provider.ConfigProvider,
    }.get(kind)


def _is_plugin_of_kind(cls: type, kind: str) -> bool:
    base = _kind_base(kind)
    return base is None or issubclass(cls, base)


def parse_allowed_prefixes(prefixes: Iterable[str] | str | None) -> tuple[str, ...]:
    """``plugin.import.allowed.prefixes`` as a tuple of module names (``a.b.`` and ``a.b.*``
    mean ``a.b``); ConfigException for an entry that is not a dotted module name."""
    if prefixes is None:
        return ()
    items = prefixes.split(",") if isinstance(prefixes, str) else list(prefixes)
    out = []
    for item in items:
        prefix = str(item).strip().removesuffix("*").removesuffix(".")
        if not prefix:
            continue
        if not all(part.isidentifier() for part in prefix.split(".")):
            raise ConfigException(
                f"Invalid value {item} for configuration {ALLOWED_IMPORT_PREFIXES_CONFIG}: "
                "expected a comma-separated list of module names such as mycompany.connectors",
                name=ALLOWED_IMPORT_PREFIXES_CONFIG,
            )
        out.append(prefix)
    return tuple(out)


def module_allowed(module: str, prefixes: Iterable[str]) -> bool:
    """Whether ``module`` is one of ``prefixes`` or inside one (``a.b`` covers ``a.b.c``, not
    ``a.bc``), and not part of the standard library."""
    if module.split(".", 1)[0] in sys.stdlib_module_names:
        return False
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _module_of(path: str) -> str | None:
    """The module a Python path names (``a.b`` of ``a.b.C`` or ``a.b:C``); None when ``path``
    is not one."""
    if ":" in path:
        module = path.partition(":")[0]
    elif "." in path and "$" not in path:
        module = path.rpartition(".")[0]
    else:
        return None
    return module if all(part.isidentifier() for part in module.split(".")) else None


def _import_attribute(module_name: str, attr_path: str, prefixes: Iterable[str]) -> Any:
    # The gate: nothing below runs for a module no allowed prefix covers.
    if not module_allowed(module_name, prefixes):
        raise ImportError(f"{module_name} is not an allowed module")
    obj: Any = importlib.import_module(module_name)
    for attr in attr_path.split("."):
        obj = getattr(obj, attr)
    return obj


def import_python_path(path: str, allowed_prefixes: Iterable[str] = ()) -> type | None:
    """Import ``pkg.module.Class`` or ``pkg.module:Class.Nested`` when its module is under one
    of ``allowed_prefixes``; None when it is not allowed, not found or not a class.

    Names come from configs and REST requests, and importing runs module code, so a module is
    checked against the allowed prefixes before anything imports it, and the standard library
    (where importing some modules has side effects) is never searched."""
    prefixes = tuple(allowed_prefixes)
    module_name = _module_of(path)
    if module_name is None or not prefixes:
        return None
    attr_path = path.partition(":")[2] if ":" in path else path.rpartition(".")[2]
    try:
        obj = _import_attribute(module_name, attr_path, prefixes)
    except (ImportError, AttributeError, ValueError):
        # Nested classes: module.Outer.Inner -> try a shorter module path once.
        if ":" in path or "." not in module_name:
            return None
        outer_module, _, outer = module_name.rpartition(".")
        try:
            obj = _import_attribute(outer_module, f"{outer}.{attr_path}", prefixes)
        except (ImportError, AttributeError, ValueError):
            return None
    return obj if isinstance(obj, type) else None


def worker_registry(worker_config: Any, registry: PluginRegistry | None = None) -> PluginRegistry:
    """The registry a worker uses: ``registry`` (else the process-wide one) also allowing the
    imports its ``plugin.import.allowed.prefixes`` setting allows."""
    base = registry or default_registry()
    settings = worker_config.originals() if hasattr(worker_config, "originals") else worker_config
    value = (settings or {}).get(ALLOWED_IMPORT_PREFIXES_CONFIG)
    return base.with_allowed_imports(base.allowed_import_prefixes + parse_allowed_prefixes(value))


_registry: PluginRegistry | None = None
_registry_lock = threading.Lock()


def registry() -> PluginRegistry:
    """The process-wide registry, loaded on first use (importing nothing by Python path)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = PluginRegistry()
        return _registry


default_registry = registry


# ---------------------------------------------------------------------------------------------
# Lifecycle hooks (1:N): every registered plugin is called.
# ---------------------------------------------------------------------------------------------
class LifecycleHooks:
    """Hook specifications. Implement any of them in a module or class decorated with
    ``kconnect.plugins.hookimpl`` and register it under the ``kconnect.hooks`` entry-point group."""

    @hookspec
    def kconnect_connector_status_changed(self, connector: str, state: str, worker_id: str) -> None:
        """A connector changed state (RUNNING, PAUSED, STOPPED, FAILED, UNASSIGNED, DESTROYED)."""

    @hookspec
    def kconnect_task_status_changed(
        self, connector: str, task: int, state: str, worker_id: str, trace: str | None
    ) -> None:
        """A task changed state."""

    @hookspec
    def kconnect_rest_extension(self, app: Any, herder: Any) -> None:
        """Add routes or middleware to the Falcon app (Kafka's ConnectRestExtension)."""

    @hookspec
    def kconnect_worker_started(self, worker_config: Any) -> None:
        """The worker started."""

    @hookspec
    def kconnect_metrics_reporter_start(self, metrics: Any, worker_id: str) -> None:
        """A metrics back end (Kafka's MetricsReporter) may start reporting: ``metrics.collect()``
        yields every metric family of the worker as of that moment (prometheus-client's
        ``Metric`` objects: name, documentation, type, samples with ``connector``/``task``
        labels). Call it on your own thread and schedule, never per record; a removed task's
        series are simply absent from the next call. Only when metrics are enabled."""

    @hookspec
    def kconnect_metrics_reporter_stop(self, metrics: Any, worker_id: str) -> None:
        """The worker is stopping: stop reporting and release what the reporter holds."""


_hooks: pluggy.PluginManager | None = None


def hooks() -> pluggy.PluginManager:
    """The process-wide hook manager, with every ``kconnect.hooks`` entry point loaded."""
    global _hooks
    with _registry_lock:
        if _hooks is None:
            manager = pluggy.PluginManager(HOOK_NAMESPACE)
            manager.add_hookspecs(LifecycleHooks)
            try:
                manager.load_setuptools_entrypoints("kconnect.hooks")
            except Exception:  # noqa: BLE001 - a broken hook plugin must not stop the worker
                log.exception("Could not load a kconnect.hooks plugin")
            _hooks = manager
        return _hooks
