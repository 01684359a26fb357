"""Keep only the files of the chosen plugin kind (the template holds all three)."""

from pathlib import Path

KIND = "{{ cookiecutter.plugin_kind }}"
PACKAGE = Path("src") / "{{ cookiecutter.package_name }}"

for kind in ("source", "sink", "transform"):
    if kind != KIND:
        (PACKAGE / f"{kind}.py").unlink()
        (Path("tests") / f"test_{kind}.py").unlink()
