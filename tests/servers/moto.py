"""moto's server on loopback: real HTTP endpoints for KMS and Secrets Manager (and S3, STS...)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture
def moto_iam_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Callable[..., Any]]]:
    """A private moto server that enforces IAM after a few unauthenticated set-up calls.

    Yields the endpoint and a client factory. The first ``IAM_FREE_ACTIONS`` calls (the test's set-up, with the
    throwaway credentials) are free; every later one must be signed by an IAM user's keys and is authorized by
    that user's policies - so "access denied" comes from a real policy evaluation.
    """
    port = free_port()
    log = tmp_path_factory.mktemp("moto-iam") / "moto.log"
    executable = Path(sys.executable).with_name("moto_server")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "moto.server"]
    with open(log, "wb") as out:
        process = subprocess.Popen([*command, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out,
                                   env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true",
                                        "INITIAL_NO_AUTH_ACTION_COUNT": str(IAM_FREE_ACTIONS)})
    try:
        wait_for_port(port, process, what="moto_server (IAM enforced)")
        endpoint = f"http://127.0.0.1:{port}"

        def client(service: str, key: str = "testing", secret: str = "testing") -> Any:
            import boto3

            return boto3.session.Session().client(service, endpoint_url=endpoint, region_name="us-east-1",
                                                  aws_access_key_id=key, aws_secret_access_key=secret)

        yield endpoint, client
    finally:
        stop(process)


#: Unauthenticated calls a moto_iam_server accepts before it starts enforcing IAM (the tests' set-up calls).
IAM_FREE_ACTIONS = 4
