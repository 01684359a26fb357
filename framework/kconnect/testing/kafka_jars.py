"""Obtain Apache Kafka's jars for a local test cluster.

The jars come from one of two places:

* ``$KAFKA_HOME/libs`` when ``KAFKA_HOME`` points at an unpacked Apache Kafka distribution;
* otherwise Maven resolves ``org.apache.kafka:kafka_2.13:<version>`` (and a logging backend)
  into a cache outside the repository: ``$KCONNECT_CACHE/kafka-<version>/libs`` or
  ``~/.cache/kconnect/kafka-<version>/libs``.

:func:`maven_libs` does the fetching and caching for any set of artifacts;
:mod:`kconnect.testing.java_connect` uses it for Apache Kafka Connect's own worker.

Maven is used rather than downloading a release tarball because it already knows the user's
mirrors, proxies and credentials (``~/.m2/settings.xml``) and shares its local repository with
every other build on the machine.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

try:  # POSIX only; without it two racing fetches still cannot corrupt the cache (see below).
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: The Apache Kafka release the test cluster runs, unless ``KCONNECT_KAFKA_VERSION`` says otherwise.
KAFKA_VERSION = "4.4.0"
SCALA_VERSION = "2.13"
#: Kafka 4.x logs through slf4j 1.7; this binds it to log4j2, which Kafka already depends on.
LOG4J_VERSION = "2.25.5"
#: The slf4j binding and log4j2 itself, for a JVM (broker or Connect worker) that should log.
LOG4J_ARTIFACTS: tuple[tuple[str, str, str], ...] = (
    ("org.apache.logging.log4j", "log4j-slf4j-impl", LOG4J_VERSION),
    ("org.apache.logging.log4j", "log4j-core", LOG4J_VERSION),
)
#: Kafka 4.x brokers need Java 17 or newer.
MIN_JAVA_MAJOR = 17

_MAVEN_TIMEOUT_S = 900
_COMPLETE_MARKER = ".complete"


class KafkaSetupError(RuntimeError):
    """A local Kafka cluster cannot be set up or did not start; the message says what to do."""


def kafka_version() -> str:
    """Return the Apache Kafka version the test cluster will run.

    ``KAFKA_HOME`` wins (the version is read from its ``kafka_2.13-<v>.jar``), then
    ``KCONNECT_KAFKA_VERSION``, then the pinned :data:`KAFKA_VERSION`.
    """
    home = os.environ.get("KAFKA_HOME")
    if home:
        for jar in sorted((Path(home) / "libs").glob("kafka_*-*.jar")):
            match = re.fullmatch(r"kafka_[0-9.]+-(.+)\.jar", jar.name)
            if match and not re.search(r"-(test|sources|javadoc|scaladoc)$", match.group(1)):
                return match.group(1)
        return "unknown"
    return os.environ.get("KCONNECT_KAFKA_VERSION") or KAFKA_VERSION


def cache_dir() -> Path:
    """The directory holding fetched Kafka jars: ``$KCONNECT_CACHE`` or ``~/.cache/kconnect``."""
    configured = os.environ.get("KCONNECT_CACHE")
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "kconnect"


def java_executable() -> str:
    """Path of the ``java`` to run Kafka with; ``$JAVA_HOME/bin/java`` first, as Kafka's scripts do.

    Raises :class:`KafkaSetupError` if there is none or it is older than Java 17.
    """
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    if candidate is not None and candidate.is_file() and os.access(candidate, os.X_OK):
        java = str(candidate)
    else:
        found = shutil.which("java")
        if found is None:
            raise KafkaSetupError(
                "Java was not found: the local Kafka cluster needs a Java runtime "
                f"(java, version {MIN_JAVA_MAJOR} or newer) on PATH or in JAVA_HOME. "
                "Install a JDK, e.g. 'apt-get install openjdk-17-jre-headless' or "
                "'brew install openjdk@17'."
            )
        java = found
    _check_java_version(java)
    return java


@functools.cache
def _check_java_version(java: str) -> None:
    try:
        result = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError as exc:
        raise KafkaSetupError(f"Could not run {java} -version: {exc}") from exc
    # "java -version" prints e.g. 'openjdk version "17.0.15" 2025-04-15' (or "1.8.0_392").
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        return  # an unfamiliar format: let Kafka itself complain if it must
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    if major < MIN_JAVA_MAJOR:
        raise KafkaSetupError(
            f"{java} is Java {major}; Apache Kafka 4.x needs Java {MIN_JAVA_MAJOR} or newer. "
            "Install a newer JDK and put it on PATH or in JAVA_HOME."
        )


def _maven_executable() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaSetupError(
            "Maven (mvn) was not found: it is needed once to fetch Apache Kafka's jars into "
            f"{cache_dir()}. Install Maven (e.g. 'apt-get install maven' or 'brew install "
            "maven'), or set KAFKA_HOME to an unpacked Apache Kafka distribution."
        )
    return mvn


def kafka_libs(version: str | None = None) -> Path:
    """Return a directory of jars that can run a Kafka broker (``java -cp <dir>/*``).

    Fetches them with Maven on first use. Idempotent and safe when several processes (e.g.
    pytest-xdist workers) call it at once: they serialize on a lock file, and the jars are
    resolved into a temporary directory that is renamed into place only when complete.
    """
    home = os.environ.get("KAFKA_HOME")
    if home:
        libs = Path(home) / "libs"
        if not any(libs.glob("kafka_*.jar")):
            raise KafkaSetupError(
                f"KAFKA_HOME={home} has no libs/kafka_*.jar; point it at an unpacked Apache "
                "Kafka distribution or unset it to fetch the jars with Maven."
            )
        return libs

    version = version or kafka_version()
    return maven_libs(
        f"kafka-{version}",
        _kafka_artifacts(version),
        expect_glob="kafka_*.jar",
        what=f"Apache Kafka {version}",
    )


def maven_libs(
    name: str, artifacts: Sequence[tuple[str, str, str]], *, expect_glob: str, what: str
) -> Path:
    """Return ``<cache>/<name>/libs``: the jars of ``artifacts`` and everything they need.

    ``artifacts`` are ``(groupId, artifactId, version)``; Maven resolves their compile and
    runtime dependencies on first use. The cache entry counts as complete only when a marker
    file exists, so an interrupted fetch is redone. Safe when several processes (e.g.
    pytest-xdist workers) call it at once: they serialize on a lock file, and the jars are
    resolved into a temporary directory that is renamed into place only when complete.
    ``expect_glob`` names a jar that must be among the results; ``what`` names them in errors.
    """
    target = cache_dir() / name
    libs = target / "libs"
    if (target / _COMPLETE_MARKER).exists():
        return libs

    mvn = _maven_executable()
    cache_dir().mkdir(parents=True, exist_ok=True)
    with _file_lock(cache_dir() / f"{name}.lock"):
        if (target / _COMPLETE_MARKER).exists():  # another process fetched while we waited
            return libs
        staging = Path(tempfile.mkdtemp(prefix=f"{name}.", dir=cache_dir()))
        try:
            _resolve_with_maven(mvn, artifacts, staging / "libs", expect_glob, what)
            (staging / _COMPLETE_MARKER).write_text(
                "".join(f"{g}:{a}:{v}\n" for g, a, v in artifacts)
            )
            if target.exists():  # an incomplete leftover of an interrupted fetch
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return libs


def _resolve_with_maven(
    mvn: str,
    artifacts: Sequence[tuple[str, str, str]],
    output_dir: Path,
    expect_glob: str,
    what: str,
) -> None:
    with tempfile.TemporaryDirectory(prefix="kconnect-maven-pom.") as project:
        Path(project, "pom.xml").write_text(_pom(artifacts))
        cmd = [
            mvn,
            "-q",
            "-B",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={output_dir}",
            # compile + runtime scopes: everything needed to run, none of the test jars.
            "-DincludeScope=runtime",
        ]
        try:
            result = subprocess.run(
                cmd,
                cwd=project,
                capture_output=True,
                text=True,
                timeout=_MAVEN_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise KafkaSetupError(
                f"Maven did not fetch {what} within {_MAVEN_TIMEOUT_S} s."
            ) from exc
        if result.returncode != 0 or not any(output_dir.glob(expect_glob)):
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
            raise KafkaSetupError(
                f"Maven could not fetch {what} (exit {result.returncode}). "
                "Check that Maven can reach its repository (proxy/mirror settings in "
                f"~/.m2/settings.xml), or set KAFKA_HOME.\n{tail}"
            )


def _kafka_artifacts(version: str) -> list[tuple[str, str, str]]:
    # kafka_2.13 pulls in the server, raft, metadata, storage and coordinator modules and
    # log4j-core; StorageTool and kafka.Kafka both live in kafka_2.13 itself. Only the slf4j
    # binding is missing, without which the broker would log nothing at all.
    return [
        ("org.apache.kafka", f"kafka_{SCALA_VERSION}", version),
        *LOG4J_ARTIFACTS,
    ]


def _pom(artifacts: Sequence[tuple[str, str, str]]) -> str:
    dep_xml = "\n".join(
        f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId>"
        f"<version>{v}</version></dependency>"
        for g, a, v in artifacts
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kconnect.testing</groupId>
  <artifactId>kafka-jars</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
{dep_xml}
  </dependencies>
</project>
"""


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)
