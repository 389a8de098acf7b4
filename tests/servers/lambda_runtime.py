"""Lambda on loopback: handler processes under ``awslambdaric`` (through the local Runtime API of
``connector.local.runtime_api``) and a small Lambda *Invoke* API endpoint, so boto3's real ``lambda:Invoke``
path can be exercised without AWS (moto's Lambda needs Docker, which this machine does not have).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from connector.local.runtime_api import RuntimeTarget
from connector.local.targets import load_handler


@pytest.fixture
def runtime_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., RuntimeTarget]]:
    """Start RuntimeTargets (handler processes + their Runtime API endpoints); all are stopped afterwards."""
    started: list[RuntimeTarget] = []
    root = str(Path(__file__).resolve().parents[2])

    def start(handler: str = "connector.handler.lambda_handler", workers: int = 1, **kwargs: Any) -> RuntimeTarget:
        target = RuntimeTarget(handler, workers=workers, cwd=root,
                               log_dir=str(tmp_path_factory.mktemp("runtime-logs")), **kwargs)
        started.append(target)
        target.start()
        return target

    try:
        yield start
    finally:
        for target in started:
            target.close()


class _InvokeApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, functions: dict[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), _InvokeHandler)
        self.functions = functions
        self.calls: list[dict[str, Any]] = []


class _InvokeHandler(BaseHTTPRequestHandler):
    """``POST /2015-03-31/functions/<name>/invocations`` -> the named handler, in this process."""

    server: _InvokeApi

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        parts = self.path.split("?")[0].split("/")
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        if len(parts) != 5 or parts[2] != "functions" or parts[4] != "invocations":
            self._send(404, {"__type": "UnknownOperationException", "message": self.path})
            return
        name = parts[3]
        self.server.calls.append({"function": name, "type": self.headers.get("X-Amz-Invocation-Type"),
                                  "request": payload.get("@type")})
        if name not in self.server.functions:
            self._send(404, {"__type": "ResourceNotFoundException", "message": f"Function not found: {name}"},
                       {"x-amzn-ErrorType": "ResourceNotFoundException"})
            return
        try:
            response = load_handler(self.server.functions[name])(payload, None)
        except Exception as e:
            self._send(200, {"errorMessage": str(e), "errorType": type(e).__name__, "stackTrace": []},
                       {"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "$LATEST"})
            return
        self._send(200, response, {"X-Amz-Executed-Version": "$LATEST"})


@pytest.fixture
def lambda_invoke_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, str]], _InvokeApi]]:
    """A Lambda Invoke endpoint serving ``{function name: handler}``; boto3 is pointed at it."""
    servers: list[tuple[_InvokeApi, threading.Thread]] = []

    def start(functions: dict[str, str]) -> _InvokeApi:
        server = _InvokeApi(functions)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        servers.append((server, thread))
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        return server

    try:
        yield start
    finally:
        for server, thread in servers:
            server.shutdown()
            server.server_close()
            thread.join(5)


@pytest.fixture
def fake_spill_reader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[bool], None]:
    """A stand-in ``spill.reader`` for ``tests.local.test_broken_handlers.fake_spill`` (used until the spill package is
    merged); call the returned function with True to make ``fake_spill`` write plaintext blocks."""
    import sys
    import types

    from tests.local.test_broken_handlers import FAKE_SPILL_DIR, FAKE_SPILL_PLAIN, fake_read_remote_blocks

    module = types.ModuleType("spill.reader")
    module.read_remote_blocks = fake_read_remote_blocks  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "spill.reader", module)
    monkeypatch.setenv(FAKE_SPILL_DIR, str(tmp_path / "fake-spill"))
    monkeypatch.delenv(FAKE_SPILL_PLAIN, raising=False)

    def plaintext(on: bool) -> None:
        if on:
            monkeypatch.setenv(FAKE_SPILL_PLAIN, "1")
    return plaintext
