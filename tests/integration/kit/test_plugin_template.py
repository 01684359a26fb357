"""The plugin template, as an author meets it: ``kconnect new-plugin`` bakes a source, a sink
and a transform; pip installs them into a fresh virtual environment (which sees kconnect from
this checkout); each generated package's own tests pass there (the kit against a broker of
their own); and a standalone worker run by that environment's Python lists the three plugins,
validates their configs and runs source -> transform -> topic -> sink on the real broker.

The environment is made with ``--system-site-packages`` and packages are built with
``--no-build-isolation --no-index``, so nothing is downloaded; pip still resolves each
package's dependencies (kconnect) against what is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from kconnect.testing.standalone_worker import StandaloneWorker

CHECKOUT = Path(__file__).resolve().parents[3]
KINDS = ("source", "sink", "transform")
NAME = "Template Check"  # -> classes TemplateCheckSource/Sink/Transform


def run(cmd: list[str], cwd: Path | None = None, timeout: float = 300) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{cmd} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


class VenvWorker(StandaloneWorker):
    """connect-standalone run by another Python (the virtual environment's)."""

    def __init__(self, python: Path, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.python = python

    def start(self) -> VenvWorker:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.python), "-m", "kconnect.cli", "standalone", str(self.worker_file)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self


def rest(url: str, method: str = "GET", body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """The baked projects, pip-installed into a new virtual environment."""
    root = tmp_path_factory.mktemp("template")
    projects = {}
    for kind in KINDS:
        out = run(
            [
                sys.executable,
                "-m",
                "kconnect.cli",
                "new-plugin",
                "--no-input",
                "-o",
                str(root),
                f"plugin_kind={kind}",
                f"plugin_name={NAME}",
                "author=Kit Tester",
            ]
        )
        projects[kind] = root / f"kconnect-template-check-{kind}"
        assert f"Created {projects[kind]}" in out
    env_dir = root / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env_dir)])
    python = env_dir / "bin" / "python"
    if sys.prefix != sys.base_prefix:
        # Run from a virtual environment: --system-site-packages gives the new one the base
        # interpreter's packages, not this environment's (kconnect and its dependencies).
        # addsitedir, not a plain path line, so their own .pth files (editable installs) load.
        site_dir = run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        )
        parent = sysconfig.get_path("purelib")
        Path(site_dir.strip(), "kconnect-test-parent.pth").write_text(
            f"import site; site.addsitedir({parent!r})\n"
        )
    where = run([str(python), "-c", "import kconnect; print(kconnect.__file__)"]).strip()
    if not Path(where).is_relative_to(CHECKOUT):
        run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--no-build-isolation",
                "-e",
                str(CHECKOUT),
            ]
        )
    run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-build-isolation",
            *map(str, projects.values()),
        ],
        timeout=600,
    )
    return python, projects


def test_generated_packages_install_and_pass_their_own_tests(
    venv: tuple[Path, dict[str, Path]],
) -> None:
    python, projects = venv
    for kind, project in projects.items():
        package = f"kconnect_template_check_{kind}"
        # Installed in the environment (not this interpreter), from a built wheel, not the tree.
        assert importlib.util.find_spec(package) is None
        location = run([str(python), "-c", f"import {package}; print({package}.__file__)"])
        assert Path(location.strip()).is_relative_to(python.parents[1])
        started = time.monotonic()
        out = run([str(python), "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"], cwd=project)
        elapsed = time.monotonic() - started
        print(f"\n{project.name}: own test suite {elapsed:.1f}s: {out.strip().splitlines()[-1]}")
        assert " passed" in out and "failed" not in out
        assert "round_trip_through_worker" not in out  # -rs lists skips: it was not skipped


def test_worker_from_the_environment_runs_the_generated_plugins(
    venv: tuple[Path, dict[str, Path]], bootstrap_servers: str, tmp_path: Path, unique_topic: str
) -> None:
    python, _ = venv
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    outbox.mkdir()
    worker_props = {
        "bootstrap.servers": bootstrap_servers,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": str(tmp_path / "offsets"),
        "offset.flush.interval.ms": "1000",
    }
    with VenvWorker(python, tmp_path, worker_props) as worker:
        url = worker.rest_url
        worker.wait_for(lambda: _up(f"{url}/connectors"), 60, "the worker to start")
        connectors = {p["class"]: p["type"] for p in rest(f"{url}/connector-plugins")}
        every = {
            p["class"]: p["type"] for p in rest(f"{url}/connector-plugins?connectorsOnly=false")
        }
        prefix = "kconnect_template_check"
        assert connectors[f"{prefix}_source.source.TemplateCheckSourceConnector"] == "source"
        assert connectors[f"{prefix}_sink.sink.TemplateCheckSinkConnector"] == "sink"
        assert every[f"{prefix}_transform.transform.TemplateCheckTransform"] == "transformation"

        source = {
            "connector.class": "TemplateCheckSource",
            "tasks.max": "1",
            "directory": str(inbox),
            "topic": unique_topic,
            "poll.interval.ms": "100",
            "transforms": "mark",
            "transforms.mark.type": "TemplateCheckTransform",
            "transforms.mark.prefix": "via-kafka:",
        }
        sink = {
            "connector.class": "TemplateCheckSink",
            "tasks.max": "1",
            "topics": unique_topic,
            "file": str(outbox / "out.txt"),
        }
        # Named, as Kafka 4.3 counts a missing "name" as an error of /validate.
        named = {**source, "name": "template-check"}
        checked = rest(f"{url}/connector-plugins/TemplateCheckSource/config/validate", "PUT", named)
        assert checked["error_count"] == 0, checked
        missing = {k: v for k, v in named.items() if k != "directory"}
        checked = rest(
            f"{url}/connector-plugins/TemplateCheckSource/config/validate", "PUT", missing
        )
        errors = {c["value"]["name"]: c["value"]["errors"] for c in checked["configs"]}
        assert checked["error_count"] == 1 and errors["directory"], checked

        rest(f"{url}/connectors", "POST", {"name": "files-in", "config": source})
        rest(f"{url}/connectors", "POST", {"name": "files-out", "config": sink})
        lines = [f"line {i}" for i in range(20)]
        (inbox / "a.txt").write_text("".join(f"{line}\n" for line in lines))
        out = outbox / "out.txt"
        worker.wait_for(
            lambda: out.exists() and len(out.read_text().splitlines()) >= len(lines),
            60,
            "the lines to reach the sink's file",
        )
        assert out.read_text().splitlines() == [f"via-kafka:{line}" for line in lines]


def _up(url: str) -> bool:
    try:
        rest(url)
        return True
    except (urllib.error.URLError, OSError):
        return False
