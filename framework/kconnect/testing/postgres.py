"""A throwaway PostgreSQL server on loopback, for tests and benchmarks of database connectors.

The server is Debian's ``postgresql`` package (``initdb`` + ``postgres`` from
``/usr/lib/postgresql/<version>/bin``, else from ``pg_config --bindir`` or ``PATH``), started in
a temporary directory on a free port of 127.0.0.1, with password (SCRAM) authentication for
one test user who is the cluster's superuser. It keeps three promises:

* it never runs as root: PostgreSQL refuses to, so when this process is root the server runs as
  the unprivileged system user ``kconnect-pg`` (created with ``useradd`` when missing), which
  owns the data directory;
* it dies with this process: its own session, ``PR_SET_PDEATHSIG`` (SIGQUIT: postgres's
  immediate shutdown) on Linux, and ``atexit``; :meth:`PostgresServer.stop` removes the
  directory;
* starting is bounded: :meth:`PostgresServer.start` gives up after ``start_timeout`` seconds
  with the server's log in the error.

It needs no database driver: :meth:`PostgresServer.psql` runs the package's ``psql``.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

from kconnect.testing import processes
from kconnect.testing.processes import LOOPBACK as _HOST

log = logging.getLogger(__name__)

#: the unprivileged system user the server runs as when this process is root
SERVER_USER = "kconnect-pg"
_START_ATTEMPTS = 3


class PostgresSetupError(RuntimeError):
    """PostgreSQL is not installed, or the server would not start."""


def postgres_bin_dir() -> Path:
    """The directory holding ``initdb``, ``postgres``, ``pg_isready`` and ``psql``."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")],
    )
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if (Path(out) / "initdb").exists():
                return Path(out)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresSetupError(
        "PostgreSQL is not installed: no initdb under /usr/lib/postgresql/*/bin, pg_config or "
        "PATH. Install Debian's package: apt-get install -y postgresql"
    )


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None (this process's own) unless this process is root,
    then ``kconnect-pg``, created as a system user without a home or shell if missing."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresSetupError(
            f"PostgreSQL refuses to run as root and the user {SERVER_USER} could not be created "
            f"(useradd exit {result.returncode}): {result.stderr.strip()}"
        ) from None


def _become(account: pwd.struct_passwd | None) -> Callable[[], None] | None:
    """What the child runs before exec to run as ``account`` (None: as this process)."""
    if account is None:
        return None

    def setup() -> None:
        os.setgroups([])
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)

    return setup


class PostgresServer(processes.Service):
    """One PostgreSQL cluster in a temporary directory; a context manager.

    ``dsn`` (a libpq URI), ``jdbc_url``, ``host``, ``port``, ``user``, ``password`` and
    ``database`` say how to reach it once started.
    """

    def __init__(
        self,
        user: str = "kconnect",
        password: str = "kconnect-secret",
        database: str = "kconnect",
        start_timeout: float = 60.0,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.user = user
        self.password = password
        self.database = database
        self.host = _HOST
        self.port = 0
        self.start_timeout = start_timeout
        # Throwaway data: durability only costs time. Benchmarks compare against COPY on the
        # same server, so both sides run under the same settings.
        self.settings = {
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
            **(settings or {}),
        }
        self.directory: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._bin: Path | None = None
        self._account: pwd.struct_passwd | None = None

    # -- addresses ----------------------------------------------------------------------------
    @property
    def dsn(self) -> str:
        return self.url()

    def url(self, database: str | None = None) -> str:
        """A libpq URI with the test user's credentials."""
        db = database or self.database
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{db}"

    def jdbc_url(self, database: str | None = None) -> str:
        """The URL as Confluent's JDBC connector is given it (credentials kept apart)."""
        return f"jdbc:postgresql://{self.host}:{self.port}/{database or self.database}"

    @property
    def log_file(self) -> Path:
        assert self.directory is not None, "the server was never started"
        return self.directory / "postgres.log"

    def log_tail(self, lines: int = 40) -> str:
        if self.directory is None:
            return "(no log)"
        return processes.file_tail(self.log_file, lines)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Self:
        """Create the cluster and start the server; returns once it accepts the test user."""
        if processes.is_running(self.process):
            return self
        self._bin = postgres_bin_dir()
        self._account = _server_account()
        # Under /tmp, not $TMPDIR: the server's user must be able to reach it.
        base = "/tmp" if self._account is not None and os.path.isdir("/tmp") else None
        self.directory = Path(tempfile.mkdtemp(prefix="kconnect-pg-", dir=base))
        if self._account is not None:
            os.chown(self.directory, self._account.pw_uid, self._account.pw_gid)
        processes.stop_at_exit(self, PostgresServer.stop)
        try:
            self._initdb()
            for attempt in range(1, _START_ATTEMPTS + 1):
                self.port = processes.free_port()
                self._launch()
                try:
                    self._wait_until_ready(time.monotonic() + self.start_timeout)
                    break
                except PostgresSetupError:
                    self._terminate()
                    # Another process may have taken the port between choosing and binding.
                    if attempt == _START_ATTEMPTS or "already in use" not in self.log_tail(80):
                        raise
            self.psql(f'CREATE DATABASE "{self.database}"', database="postgres")
        except BaseException:
            self.stop()
            raise
        log.info("PostgreSQL started on %s:%d in %s", self.host, self.port, self.directory)
        return self

    def _run_as_server(self, cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # type: ignore[call-overload,no-any-return]
            cmd,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            cwd=self.directory,
            preexec_fn=_become(self._account),  # noqa: PLW1509
            check=False,
            **kwargs,
        )

    def _initdb(self) -> None:
        assert self._bin is not None and self.directory is not None
        pwfile = self.directory / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._account is not None:
            os.chown(pwfile, self._account.pw_uid, self._account.pw_gid)
        pwfile.chmod(0o600)
        result = self._run_as_server(
            [
                str(self._bin / "initdb"),
                "-D",
                str(self.directory / "data"),
                "-U",
                self.user,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            timeout=self.start_timeout,
        )
        pwfile.unlink()
        if result.returncode != 0:
            raise PostgresSetupError(
                f"initdb failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )

    def _launch(self) -> None:
        assert self._bin is not None and self.directory is not None
        cmd = [
            str(self._bin / "postgres"),
            "-D",
            str(self.directory / "data"),
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-k",
            str(self.directory),  # the Unix socket stays in our directory
        ]
        for key, value in self.settings.items():
            cmd += ["-c", f"{key}={value}"]
        self.process = processes.launch(
            cmd,
            log_file=self.log_file,
            cwd=self.directory,
            # SIGQUIT: postgres's immediate shutdown.
            death_signal=signal.SIGQUIT,
            before_exec=_become(self._account),
        )

    def _wait_until_ready(self, deadline: float) -> None:
        assert self._bin is not None and self.process is not None
        process, pg_isready = self.process, str(self._bin / "pg_isready")

        def check_alive() -> None:
            if process.poll() is not None:
                raise PostgresSetupError(
                    f"postgres exited with {process.returncode}:\n{self.log_tail()}"
                )

        def probe() -> str | None:
            ready = subprocess.run(
                [pg_isready, "-q", "-h", self.host, "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=10,
                check=False,
            )
            return None if ready.returncode == 0 else f"pg_isready exit {ready.returncode}"

        def timed_out(_last_reason: str) -> PostgresSetupError:
            return PostgresSetupError(
                f"postgres did not accept connections within {self.start_timeout:g}s:\n"
                + self.log_tail()
            )

        processes.wait_until_ready(
            probe, deadline, check_alive=check_alive, timed_out=timed_out, interval=0.1
        )

    def _terminate(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if not processes.is_running(process):
            return
        assert process is not None
        # SIGINT to the postmaster alone is postgres's "fast" shutdown: abort sessions,
        # checkpoint, exit. (To its backends, too, it would only cancel their queries.)
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        processes.reap(process, time.monotonic() + timeout)

    def stop(self) -> None:
        """Stop the server and remove its directory; safe to call twice."""
        self._terminate()
        directory, self.directory = self.directory, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL the postmaster (its backends notice and exit); :meth:`restart` brings the
        cluster back on the same port with its data."""
        processes.stop(self.process, signum=signal.SIGKILL)

    def pause(self) -> None:
        """Stop accepting connections and end every session (the server keeps its data)."""
        self._terminate()

    def restart(self) -> None:
        """Start the server again on the same port after :meth:`pause` or :meth:`kill`."""
        if processes.is_running(self.process):
            return
        deadline = time.monotonic() + self.start_timeout
        while True:
            self._launch()
            try:
                self._wait_until_ready(deadline)
                return
            except PostgresSetupError:
                # A killed server's port or shared memory may need a moment to be released.
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)

    # -- helpers ------------------------------------------------------------------------------
    def psql(self, sql: str, database: str | None = None) -> str:
        """Run ``sql`` with ``psql`` as the test user; its unaligned output, or
        PostgresSetupError with psql's message."""
        assert self._bin is not None, "the server was never started"
        env = {**os.environ, "PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "10"}
        result = subprocess.run(
            [
                str(self._bin / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                database or self.database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env=env,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresSetupError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, name: str) -> str:
        """Create database ``name`` (dropping one of that name first); its libpq URI."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', database="postgres")
        self.psql(f'CREATE DATABASE "{name}"', database="postgres")
        return self.url(name)
