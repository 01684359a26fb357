"""``kconnect new-plugin`` bakes the plugin template with cookiecutter: one kind's files only,
the entry point users name, CI/tox/ruff set up, and no package registry written anywhere."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from kconnect.cli import main


def bake(tmp_path: Path, *overrides: str) -> int:
    return main(["new-plugin", "--no-input", "-o", str(tmp_path), *overrides])


def test_sink_project_has_sink_files_and_entry_point_only(tmp_path: Path) -> None:
    assert bake(tmp_path, "plugin_kind=sink", "plugin_name=Acme Files", "author=A. N. Author") == 0
    project = tmp_path / "kconnect-acme-files-sink"
    package = project / "src" / "kconnect_acme_files_sink"
    assert sorted(p.name for p in package.iterdir()) == ["__init__.py", "sink.py"]
    assert sorted(p.name for p in (project / "tests").iterdir()) == ["conftest.py", "test_sink.py"]
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"] == {
        "kconnect.connectors": {
            "AcmeFilesSink": "kconnect_acme_files_sink.sink:AcmeFilesSinkConnector"
        }
    }
    assert meta["project"]["authors"] == [{"name": "A. N. Author", "email": "you@example.com"}]
    assert "class AcmeFilesSinkConnector(SinkConnector)" in (package / "sink.py").read_text()
    for name in ("tox.ini", ".github/workflows/ci.yml", "README.md"):
        assert (project / name).is_file(), name
    assert "${{ matrix.python }}" in (project / ".github/workflows/ci.yml").read_text()
    assert meta["tool"]["ruff"]["line-length"] == 100


@pytest.mark.parametrize("kind", ["source", "sink", "transform"])
def test_no_registry_host_in_generated_files(tmp_path: Path, kind: str) -> None:
    assert bake(tmp_path, f"plugin_kind={kind}") == 0
    for path in (tmp_path / f"kconnect-example-{kind}").rglob("*"):
        if path.is_file():
            text = path.read_text().lower()
            assert "pypi" not in text and "index-url" not in text, path


def test_transform_registers_in_the_transforms_group(tmp_path: Path) -> None:
    assert bake(tmp_path, "plugin_kind=transform", "class_name=Shout") == 0
    meta = tomllib.loads((tmp_path / "kconnect-example-transform" / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"] == {
        "kconnect.transforms": {"Shout": "kconnect_example_transform.transform:Shout"}
    }


def test_bad_override_and_bad_names_are_refused(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert bake(tmp_path, "plugin_kind") == 2
    assert "expected key=value, got 'plugin_kind'" in capfd.readouterr().err
    assert bake(tmp_path, "package_name=not-a-module") == 1
    assert "package_name 'not-a-module' is not a Python identifier" in capfd.readouterr().err
    assert list(tmp_path.iterdir()) == []
