"""The kit's round trips: the plugin in a real ``connect-standalone`` process against the real
broker, configured the way a user would configure it.

The worker is a child process, so the plugin must be importable there: an installed plugin is
found by its entry point; a class that is only on the test's ``sys.path`` gets that directory
added to the worker's ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kconnect.testing.kit.config_checks import python_path
from kconnect.testing.standalone_worker import StandaloneWorker

STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"


def plugin_name(cls: type, kind: str) -> str:
    """The entry-point name the class is installed under (what users write), or its Python
    path when it is not installed."""
    from kconnect.plugins import registry

    for descriptor in registry().plugins(kind):
        if descriptor.plugin_class is cls:
            return descriptor.entry_point
    return python_path(cls)


def import_root(cls: type) -> Path | None:
    """The ``sys.path`` entry ``cls``'s module was imported from."""
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None)
    if not file:
        return None
    path = Path(file).resolve()
    depth = cls.__module__.count(".") + (1 if path.name == "__init__.py" else 0)
    return path.parents[depth]


def _rest(worker: StandaloneWorker, path: str) -> Any:
    try:
        with urllib.request.urlopen(worker.rest_url + path, timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


@contextmanager
def running_worker(
    workdir: Path,
    bootstrap_servers: str,
    connector: Mapping[str, str],
    plugin_classes: tuple[type, ...],
    value_converter: str = STRING_CONVERTER,
    timeout_s: float = 60,
) -> Iterator[StandaloneWorker]:
    """A standalone worker running ``connector``, yielded once its tasks are RUNNING; an
    AssertionError with the task's stack trace (or the worker's log) when they fail instead."""
    props = {
        "bootstrap.servers": bootstrap_servers,
        "key.converter": STRING_CONVERTER,
        "value.converter": value_converter,
        "value.converter.schemas.enable": "false",
        "offset.storage.file.filename": str(workdir / "kit-worker.offsets"),
        "offset.flush.interval.ms": "1000",
    }
    # Classes named by Python path (not installed): the worker must be allowed to import their
    # modules, and find them on its PYTHONPATH.
    named = set(connector.values())
    unregistered = [cls for cls in plugin_classes if python_path(cls) in named]
    if unregistered:
        props["plugin.import.allowed.prefixes"] = ",".join(
            sorted({cls.__module__ for cls in unregistered})
        )
    roots = {str(root) for cls in unregistered if (root := import_root(cls)) is not None}
    env_before = os.environ.get("PYTHONPATH")
    paths = [*sorted(roots), *([env_before] if env_before else [])]
    worker = StandaloneWorker(workdir, props, [dict(connector)], name="kit-worker")
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)
    try:
        worker.start()  # the child copies the environment now
    finally:
        if env_before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = env_before
    name = connector["name"]
    try:

        def tasks_running() -> bool:
            status = _rest(worker, f"/connectors/{name}/status")
            if not status:
                return False
            tasks = status.get("tasks") or []
            failed = [t for t in tasks if t.get("state") == "FAILED"]
            if status.get("connector", {}).get("state") == "FAILED" or failed:
                trace = (failed[0] if failed else status["connector"]).get("trace", "")
                raise AssertionError(f"the plugin failed in the worker:\n{trace}")
            return bool(tasks) and all(t.get("state") == "RUNNING" for t in tasks)

        worker.wait_for(tasks_running, timeout_s, f"connector {name}'s tasks to run")
        yield worker
    finally:
        worker.stop()
