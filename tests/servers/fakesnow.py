"""A Snowflake emulator for the test session: fakesnow's HTTP server, reached by the real connector.

fakesnow pins its own sqlglot and DuckDB, and imports modules that only snowflake-connector-python 4.x has,
so it runs from its own venv (``.venv-fakesnow`` in the repository, git-ignored), installed from the hash-pinned
``requirements-fakesnow.txt`` beside this file on first use and reused afterwards (``make fakesnow-venv`` does
the same ahead of time). The server is ``tests/servers/fakesnow_app.py``: fakesnow plus what the connector 5.x
needs from a login reply, credential checks (passwords and key-pair JWTs), chunked results and result retrieval
by query id.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import tool_venv
from tests.servers.ports import stop

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv-fakesnow"
LOCK = Path(__file__).with_name("requirements-fakesnow.txt")
APP = Path(__file__).with_name("fakesnow_app.py")
CHUNK_ROWS = 500  # small, so a few thousand rows come back in several result chunks


def venv_python() -> Path:
    """The fakesnow venv's interpreter, synced with its lock file first when that changed."""
    return tool_venv.ensure(LOCK, VENV)


@dataclass(frozen=True)
class FakeSnowflake:
    host: str
    port: int
    account: str
    users: dict[str, dict[str, Any]]
    private_keys: dict[str, bytes]  # user -> PKCS#8 PEM (unencrypted) of the users registered with a key

    def connect_kwargs(self, user: str = "afq_user") -> dict[str, object]:
        return {"account": self.account, "host": self.host, "port": self.port, "protocol": "http",
                "user": user, "password": self.users[user].get("password"), "paramstyle": "qmark",
                "login_timeout": 20, "enable_server_session_keep_alive_auto_detection": False}

    def url(self, database: str, schema: str | None = None, extra: str = "") -> str:
        """A connection string's JDBC part for this server (``ssl=off``: the emulator speaks plain HTTP)."""
        query = f"account={self.account}&ssl=off&db={database}"
        if schema:
            query += f"&schema={schema}"
        return f"jdbc:snowflake://{self.host}:{self.port}/?{query}{extra}"


def _rsa_key() -> tuple[bytes, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@contextmanager
def running_server(directory: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[FakeSnowflake]:
    """Start the emulator (free port, own directory), yield it, stop it by PID (also on failure)."""
    python = venv_python()
    private, public = _rsa_key()
    users: dict[str, dict[str, Any]] = {
        "afq_user": {"password": "correct horse battery staple"},
        "afq_keypair": {"public_key": public},
        # An account admin's ALTER USER ... SET: parameters that change answers unless the session pins them.
        "afq_tuned": {"password": "correct horse battery staple",
                      "parameters": {"ROWS_PER_RESULTSET": 7, "DEFAULT_NULL_ORDERING": "FIRST",
                                     "QUOTED_IDENTIFIERS_IGNORE_CASE": True}},
        # Sessions whose tokens expire after one statement (a pooled session idle past its master token).
        "afq_expiring": {"password": "correct horse battery staple", "session_queries": 1},
    }
    users_file = directory / "users.json"
    users_file.write_text(json.dumps(users))
    port_file = directory / "port"
    log = directory / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(python), "-P", str(APP), "--port-file", str(port_file), "--users", str(users_file),
             "--chunk-rows", str(chunk_rows)],
            stdout=out, stderr=out, cwd=directory, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if process.poll() is not None:
                raise RuntimeError(f"fakesnow server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"fakesnow server did not start within 60 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield FakeSnowflake("127.0.0.1", int(port_file.read_text()), "fakesnow", users, {"afq_keypair": private})
    finally:
        stop(process)


@pytest.fixture(scope="session")
def fakesnow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeSnowflake]:
    """fakesnow's server on a free loopback port for the whole session, stopped by PID at the end."""
    try:
        venv_python()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        pytest.fail(f"the fakesnow venv could not be prepared: {e}")
    with running_server(tmp_path_factory.mktemp("fakesnow")) as server:
        yield server


if __name__ == "__main__":
    print(venv_python())
