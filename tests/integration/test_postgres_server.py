"""kconnect.testing.postgres: a throwaway PostgreSQL server that never runs as root, wants the
test user's password, and leaves nothing behind."""

from __future__ import annotations

import os
import pwd

import psutil
import pytest
from kconnect.testing.postgres import SERVER_USER, PostgresServer, PostgresSetupError


def test_server_runs_unprivileged_with_password_auth_and_is_removed() -> None:
    with PostgresServer(password="s3cret") as server:
        assert server.process is not None and server.directory is not None
        process = psutil.Process(server.process.pid)
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVER_USER)
            assert process.uids().real == account.pw_uid != 0
            assert server.directory.stat().st_uid == account.pw_uid
        assert server.psql("SELECT current_user").strip() == server.user
        assert "127.0.0.1" in server.psql("SHOW listen_addresses")
        wrong = PostgresServer(password="not-it")
        wrong.host, wrong.port, wrong._bin = server.host, server.port, server._bin
        with pytest.raises(PostgresSetupError, match="password authentication failed"):
            wrong.psql("SELECT 1")
        server.pause()
        server.restart()
        assert server.psql("SELECT 41 + 1").strip() == "42"
        directory, pid = server.directory, server.process.pid
    assert not directory.exists()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
