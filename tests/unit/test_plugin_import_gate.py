"""Names in configs never import a module that is not a registered plugin, unless the operator
allowed its prefix (``plugin.import.allowed.prefixes``): the check runs before any import, so
not even a parent package's ``__init__`` runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from kconnect.api.errors import ConfigException
from kconnect.plugins import (
    ALLOWED_IMPORT_PREFIXES_CONFIG,
    PluginNotFoundError,
    import_python_path,
    registry,
    worker_registry,
)
from kconnect.runtime.states import State, TargetState, TaskId
from kconnect.runtime.worker.worker import Worker
from kconnect.runtime.worker_config import WorkerConfig
from kconnect.storage.memory_offset_store import MemoryOffsetBackingStore

CONNECTOR_CODE = """
import pathlib
pathlib.Path({marker!r}).write_text("imported")
from kconnect.api.connector import SourceConnector
from kconnect.api.task import SourceTask

class Planted(SourceConnector):
    def task_class(self):
        return PlantedTask

class PlantedTask(SourceTask):
    pass
"""


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A package on sys.path whose ``__init__`` and module each leave a marker when imported:
    (package name, marker directory)."""
    package = f"planted_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / "site"
    (root / package).mkdir(parents=True)
    markers = tmp_path / "markers"
    markers.mkdir()
    (root / package / "__init__.py").write_text(
        f"import pathlib\npathlib.Path({str(markers / 'package')!r}).write_text('imported')\n"
    )
    (root / package / "evil.py").write_text(CONNECTOR_CODE.format(marker=str(markers / "module")))
    monkeypatch.syspath_prepend(str(root))
    yield package, markers
    import sys

    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


def test_an_unregistered_python_path_is_not_imported_by_default(planted) -> None:
    package, markers = planted
    for kind in (
        "connector",
        "converter",
        "header_converter",
        "transform",
        "predicate",
        "config_provider",
        "storage",
    ):
        with pytest.raises(PluginNotFoundError) as error:
            registry().find(kind, f"{package}.evil.Planted")
        assert "are not imported" in str(error.value)
        assert ALLOWED_IMPORT_PREFIXES_CONFIG in str(error.value)
    with pytest.raises(PluginNotFoundError):
        registry().find("connector", f"{package}.evil:Planted")
    assert list(markers.iterdir()) == []


def test_an_allowed_prefix_imports_and_nothing_outside_it(planted) -> None:
    package, markers = planted
    assert import_python_path(f"{package}.evil.Planted", [f"{package}x"]) is None
    assert import_python_path(f"{package}.evil.Planted", [f"{package}.other"]) is None
    assert list(markers.iterdir()) == []
    allowed = registry().with_allowed_imports([f"{package}.evil"])
    assert allowed.find("connector", f"{package}.evil.Planted").__name__ == "Planted"
    assert (markers / "module").exists()
    # The process-wide registry keeps its own (empty) allow-list.
    assert registry().allowed_import_prefixes == ()


def test_the_worker_setting_reaches_the_registry_and_is_checked() -> None:
    base = {"key.converter": "Json", "value.converter": "Json", "offset.storage.file.filename": "x"}
    assert worker_registry(WorkerConfig(base)).allowed_import_prefixes == ()
    config = WorkerConfig({**base, ALLOWED_IMPORT_PREFIXES_CONFIG: "acme.connectors, acme.sinks.*"})
    assert worker_registry(config).allowed_import_prefixes == ("acme.connectors", "acme.sinks")
    with pytest.raises(ConfigException, match=ALLOWED_IMPORT_PREFIXES_CONFIG):
        worker_registry(WorkerConfig({**base, ALLOWED_IMPORT_PREFIXES_CONFIG: "../site"}))


def test_the_standard_library_is_never_imported_even_when_listed() -> None:
    assert import_python_path("antigravity.Thing", ["antigravity"]) is None
    assert import_python_path("os.path.Thing", ["os"]) is None


class _Listener:
    def __init__(self) -> None:
        self.tasks: list[tuple[TaskId, State, str | None]] = []

    def on_task_state(self, task_id: TaskId, state: State, trace: str | None = None) -> None:
        self.tasks.append((task_id, state, trace))

    def on_connector_state(self, connector: str, state: State, trace: str | None = None) -> None:
        pass


def _worker(extra: dict[str, str]) -> tuple[Worker, _Listener]:
    props = {
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": "unused",
        **extra,
    }
    config = WorkerConfig(props)
    listener = _Listener()
    return Worker(config, worker_registry(config), MemoryOffsetBackingStore(), listener), listener


def test_a_task_class_from_the_config_store_is_not_imported(planted) -> None:
    package, markers = planted
    worker, listener = _worker({})
    connector = {"name": "c", "connector.class": "FileStreamSource", "topic": "t"}
    task = TaskId("c", 0)
    started = worker.start_task(
        task, connector, {"task.class": f"{package}.evil.PlantedTask"}, TargetState.STARTED
    )
    assert not started
    assert list(markers.iterdir()) == []
    [(_, state, trace)] = listener.tasks
    assert state is State.FAILED
    assert f"Task class {package}.evil.PlantedTask is not the task class" in (trace or "")
    assert ALLOWED_IMPORT_PREFIXES_CONFIG in (trace or "")
