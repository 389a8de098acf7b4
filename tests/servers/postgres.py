"""A throwaway PostgreSQL cluster for the test session (Debian's ``postgresql`` package, no system service).

initdb + postgres in a private temporary directory, trust authentication on loopback only, a free port chosen
at start, fsync off. Run as the ``postgres`` user when the tests run as root (the server refuses root). The
server is stopped by its PID when the session ends, also after failures.

One role, ``afq_password_user``, must authenticate with a password (scram), so credential handling is tested
against a server that really checks it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers.ports import free_port

PASSWORD_USER = "afq_password_user"
PASSWORD = "s3cr3t-Pa$$word;with'quote"  # what the tests put in Secrets Manager


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server binaries (``AFQ_PG_BIN`` overrides)."""
    override = os.environ.get("AFQ_PG_BIN")
    if override:
        return Path(override)
    root = Path("/usr/lib/postgresql")
    versions = sorted((p for p in root.glob("*/bin") if (p / "postgres").exists()),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return versions[-1] if versions else None


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    bin: Path
    directory: Path
    superuser: str = "postgres"

    def url(self, database: str = "postgres") -> str:
        """JDBC URL of a database, without credentials."""
        return f"jdbc:postgresql://{self.host}:{self.port}/{database}"

    @property
    def jdbc_url(self) -> str:
        """JDBC URL of the ``postgres`` database as the superuser (trust authentication: no password)."""
        return f"{self.url()}?user={self.superuser}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run trusted set-up SQL (written by the tests, never with generated values) through psql."""
        result = subprocess.run(
            [str(self.bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.host,
             "-p", str(self.port), "-U", self.superuser, "-d", database, "-c", sql],
            capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def create_database(self, name: str, *, icu_locale: str | None = None) -> str:
        """A fresh database; ``icu_locale`` gives it a non-C default collation."""
        options = f" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}'" if icu_locale else ""
        self.psql(f'DROP DATABASE IF EXISTS "{name}"')
        self.psql(f'CREATE DATABASE "{name}"{options}')
        return name


def _as_postgres() -> dict[str, Any]:
    """Subprocess arguments to run a server binary as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


def _chown_for_server(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _wait_ready(server: PostgresServer, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with code {process.returncode}: {log.read_text()[-2000:]}")
        probe = subprocess.run([str(server.bin / "pg_isready"), "-q", "-h", server.host, "-p", str(server.port),
                                "-t", "1"], check=False)
        if probe.returncode == 0:
            return
        time.sleep(0.05)
    raise RuntimeError(f"postgres did not accept connections within {timeout} s: {log.read_text()[-2000:]}")


def start_postgres() -> tuple[PostgresServer, subprocess.Popen[bytes]]:
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found; run `make apt` (Debian package postgresql)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root needs the postgres user (from the postgresql package)") from None
    directory = Path(tempfile.mkdtemp(prefix="afq-pg-"))
    _chown_for_server(directory)
    data = directory / "data"
    init = subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--locale=C.UTF-8", "--no-sync"],
        capture_output=True, text=True, check=False, cwd=directory, **_as_postgres())
    if init.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr.strip()[-2000:]}")
    (data / "pg_hba.conf").write_text(
        "local all all trust\n"
        f"host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n"
        "host all all 127.0.0.1/32 trust\n")
    log = directory / "postgres.log"
    last_error: Exception | None = None
    for _attempt in range(3):  # another process may grab the probed port before the server binds it
        port = free_port()
        server = PostgresServer("127.0.0.1", port, bindir, directory)
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
                 "-c", f"unix_socket_directories={directory}", "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=60", "-c", "shared_buffers=32MB"],
                stdout=out, stderr=subprocess.STDOUT, cwd=directory, **_as_postgres())
        try:
            _wait_ready(server, process, log)
        except RuntimeError as e:
            last_error = e
            stop_postgres(process, None)
            continue
        return server, process
    shutil.rmtree(directory, ignore_errors=True)
    raise RuntimeError(f"could not start postgres: {last_error}")


def stop_postgres(process: subprocess.Popen[bytes], directory: Path | None) -> None:
    """Fast shutdown (SIGINT) by PID, SIGKILL if it hangs; then remove the cluster directory."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server, process = start_postgres()
    except RuntimeError as e:
        pytest.fail(f"cannot start the test PostgreSQL server: {e}")
    try:
        server.psql(f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD.replace(chr(39), chr(39) * 2)}'")
        yield server
    finally:
        stop_postgres(process, server.directory)
