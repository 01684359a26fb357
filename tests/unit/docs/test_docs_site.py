"""The docs site builds with ``mkdocs build --strict``, and its reference pages come from the code.

The reference tables are rendered by docs/hooks/ at build time from the ConfigDefs and the
OpenAPI document; these tests build the real site (mkdocs.yml at the repository root) and read
the generated HTML.
"""

from __future__ import annotations

import copy
import hashlib
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason="the docs site needs pip install -e '.[docs]'")
pytest.importorskip("material", reason="the docs site needs pip install -e '.[docs]'")

ROOT = Path(__file__).resolve().parents[3]
MKDOCS_YML = ROOT / "mkdocs.yml"
WORKER_KEY = "offset.flush.interval.ms"
# mkdocs-material prints a banner about MkDocs 2.0 on every build; it is not a build warning.
QUIET = {"NO_MKDOCS_2_WARNING": "1"}


def _row_text(page: Path, marker: str) -> str:
    """The text of the table row holding ``marker`` (an id or some text), tags removed."""
    content = page.read_text(encoding="utf-8")
    for row in re.findall(r"<tr>.*?</tr>", content, flags=re.DOTALL):
        # Key names may wrap after their dots (<wbr>): gone from the text, they read whole.
        text = html.unescape(re.sub(r"<[^>]+>", " ", row.replace("<wbr>", "")))
        if marker in row or marker in text:
            return text
    raise AssertionError(f"no table row with {marker!r} in {page}")


def _normalized(text: str) -> str:
    return " ".join(text.split())


def _markdown_digest() -> str:
    """A digest of every file under docs/, to show a build edits none of them."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "docs").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _with_documentation(definition, name: str, documentation: str):  # type: ignore[no-untyped-def]
    """A copy of ``definition`` whose key ``name`` says ``documentation`` (plugins share their
    ConfigDef between calls, so the original is left alone)."""
    from kconnect.api.config import ConfigDef

    changed = ConfigDef(definition)
    key = copy.copy(definition.config_keys[name])
    key.documentation = documentation
    changed.config_keys[name] = key
    return changed


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as CI builds it: ``mkdocs build --strict`` in a process of its own."""
    site = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(MKDOCS_YML),
            "--site-dir",
            str(site),
        ],
        cwd=ROOT,
        env={**os.environ, **QUIET},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}{result.stderr}"
    return site


def test_strict_build_passes_and_has_every_page(built_site: Path) -> None:
    for page in [
        "index.html",
        "quickstart/index.html",
        "concepts/index.html",
        "coming-from-kafka-connect/index.html",
        "operations/security/index.html",
        "reference/worker-config/index.html",
        "reference/connector-config/index.html",
        "reference/connectors/index.html",
        "reference/converters/index.html",
        "reference/transforms/index.html",
        "reference/predicates/index.html",
        "reference/config-providers/index.html",
        "reference/rest-api/index.html",
        "reference/openapi.json",
    ]:
        assert (built_site / page).is_file(), f"{page} missing from the built site"
    assert not (built_site / "hooks").exists(), "the build hooks must not be published"


def test_reference_pages_show_the_configdefs_documentation(built_site: Path) -> None:
    from kconnect.plugins import registry
    from kconnect.rest.openapi import openapi_document
    from kconnect.runtime import connector_config, worker_config

    worker_key = worker_config.standalone_definition().config_keys[WORKER_KEY]
    row = _row_text(built_site / "reference/worker-config/index.html", f'id="worker-{WORKER_KEY}"')
    assert _normalized(worker_key.documentation or "") in _normalized(row)
    assert "60000 (1 minute)" in row

    group_id = worker_config.distributed_definition().config_keys["group.id"]
    row = _row_text(built_site / "reference/worker-config/index.html", 'id="worker-group.id"')
    assert _normalized(group_id.documentation or "") in _normalized(row)

    dlq = connector_config.sink_definition().config_keys["errors.deadletterqueue.topic.name"]
    row = _row_text(
        built_site / "reference/connector-config/index.html",
        'id="sink-errors.deadletterqueue.topic.name"',
    )
    assert _normalized(dlq.documentation or "") in _normalized(row)

    source = registry().find("connector", "FileStreamSource")
    batch = source().config().config_keys["batch.size"]
    row = _row_text(built_site / "reference/connectors/index.html", "batch.size")
    assert _normalized(batch.documentation or "") in _normalized(row)

    rest = (built_site / "reference/rest-api/index.html").read_text(encoding="utf-8")
    for path, operations in openapi_document()["paths"].items():
        for method, op in operations.items():
            assert html.escape(f"{method.upper()} {path}", quote=False) in rest
            assert html.escape(op["summary"], quote=False) in rest


def test_changing_a_configdefs_documentation_changes_the_site_without_markdown_edits(
    built_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kconnect.api.config import ConfigDef
    from kconnect.plugins import registry
    from kconnect.rest import openapi
    from kconnect.runtime import worker_config
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    old_doc = worker_config.standalone_definition().config_keys[WORKER_KEY].documentation or ""
    new_doc = "Changed in the ConfigDef only: commit offsets every so often."

    def with_new_doc(real):  # type: ignore[no-untyped-def]
        def definition() -> ConfigDef:
            return _with_documentation(real(), WORKER_KEY, new_doc)

        return definition

    monkeypatch.setattr(
        worker_config, "standalone_definition", with_new_doc(worker_config.standalone_definition)
    )
    monkeypatch.setattr(
        worker_config, "distributed_definition", with_new_doc(worker_config.distributed_definition)
    )
    # A plugin's own ConfigDef, and the OpenAPI document, feed their pages the same way.
    source = registry().find("connector", "FileStreamSource")
    real_config = source.config

    def plugin_config(self):  # type: ignore[no-untyped-def]
        return _with_documentation(
            real_config(self), "batch.size", "Lines per poll, changed in code."
        )

    monkeypatch.setattr(source, "config", plugin_config)
    real_document = openapi.openapi_document

    def document():  # type: ignore[no-untyped-def]
        changed = real_document()
        changed["paths"]["/connectors"]["get"]["summary"] = "Every connector, changed in code"
        return changed

    monkeypatch.setattr(openapi, "openapi_document", document)
    for key, value in QUIET.items():
        monkeypatch.setenv(key, value)

    before = _markdown_digest()
    site = tmp_path / "site"
    build(load_config(config_file=str(MKDOCS_YML), strict=True, site_dir=str(site)))
    assert _markdown_digest() == before, "the build changed a file under docs/"
    assert not (ROOT / "docs" / "reference").exists(), "reference pages are never written to docs/"

    page = "reference/worker-config/index.html"
    old_row = _normalized(_row_text(built_site / page, f'id="worker-{WORKER_KEY}"'))
    new_row = _normalized(_row_text(site / page, f'id="worker-{WORKER_KEY}"'))
    assert _normalized(old_doc) in old_row and _normalized(old_doc) not in new_row
    assert new_doc in new_row
    assert "Lines per poll, changed in code." in _row_text(
        site / "reference/connectors/index.html", "batch.size"
    )
    rest = (site / "reference/rest-api/index.html").read_text(encoding="utf-8")
    assert "Every connector, changed in code" in rest
