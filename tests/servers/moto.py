"""moto's server on loopback: real HTTP endpoints for KMS and Secrets Manager (and S3, STS...)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.ports import free_port, stop, wait_for_port


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Endpoint URL of a moto server for the whole session (state is shared: use unique names per test)."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    executable = Path(sys.executable).with_name("moto_server")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "moto.server"]
    with open(log, "wb") as out:
        process = subprocess.Popen([*command, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out,
                                   env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"})
    try:
        wait_for_port(port, process, what="moto_server")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_server: str) -> str:
    """Point boto3 at the moto server with throwaway credentials (no real AWS call can happen)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for service in ("SECRETS_MANAGER", "KMS", "STS", "ATHENA", "LAMBDA"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", moto_server)
    return moto_server
