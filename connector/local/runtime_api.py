"""A small Lambda Runtime API on loopback, serving invocations to handler processes run by ``awslambdaric``.

This is the real Lambda execution path minus AWS: ``python -m awslambdaric connector.handler.lambda_handler``
polls ``GET /2018-06-01/runtime/invocation/next``, runs the handler, and posts the JSON it returns (or the
error the runtime built from an exception) back. Each handler process gets its own endpoint, so an invocation
whose process dies is failed at once with the process's exit code and the end of its log. Every reply carries
a ``Content-Type`` header (the runtime's native HTTP client requires one).
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

from connector.errors import ConfigurationError
from connector.local.errors import LambdaFunctionError
from connector.local.targets import DEFAULT_HANDLER, MAX_PAYLOAD_BYTES, decode_response, function_error

API = "/2018-06-01/runtime"
#: Lambda's documented limit for a synchronous response (a little above 6 MiB).
MAX_RESPONSE_BYTES = 6_291_556
FUNCTION_TIMEOUT_SECONDS = 900.0


@dataclass
class Invocation:
    body: bytes
    request_type: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    done: threading.Event = field(default_factory=threading.Event)
    response: bytes | None = None
    error: dict[str, Any] | None = None
    deadline: float = 0.0


class _Endpoint(ThreadingHTTPServer):
    """The Runtime API of one execution environment (one handler process)."""

    daemon_threads = True

    def __init__(self, pending: queue.Queue[Invocation], timeout: float, function_name: str = "afq-local") -> None:
        super().__init__(("127.0.0.1", 0), _RuntimeHandler)
        self.pending = pending
        self.function_timeout = timeout
        self.function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.in_flight: Invocation | None = None
        self.init_error: dict[str, Any] | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        if sys.exc_info()[0] in (BrokenPipeError, ConnectionResetError):
            return  # a handler process stopped while we answered: nothing to report
        super().handle_error(request, client_address)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def next_invocation(self) -> Invocation | None:
        while not self.stopping.is_set():
            try:
                invocation = self.pending.get(timeout=0.2)
            except queue.Empty:
                continue
            if invocation.done.is_set():  # already failed (timed out while queued)
                continue
            with self.lock:
                self.in_flight = invocation
            invocation.deadline = time.time() + self.function_timeout
            return invocation
        return None

    def finish(self, request_id: str, response: bytes | None, error: dict[str, Any] | None) -> bool:
        with self.lock:
            invocation = self.in_flight
            if invocation is None or invocation.request_id != request_id:
                return False
            self.in_flight = None
        size = len(response) if response is not None else 0
        if size > MAX_RESPONSE_BYTES:
            response, error = None, {
                "errorType": "Function.ResponseSizeTooLarge",
                "errorMessage": f"Response payload size ({size} bytes) exceeded maximum allowed payload "
                                f"size ({MAX_RESPONSE_BYTES} bytes)."}
        invocation.response, invocation.error = response, error
        invocation.done.set()
        return True


class _RuntimeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall
    server: _Endpoint

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the runtime polls constantly; its chatter is not the user's business

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None,
               content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        if self.path != f"{API}/invocation/next":
            self._reply(404, b'{"errorMessage":"unknown path"}')
            return
        invocation = self.server.next_invocation()
        if invocation is None:
            self._reply(503, b'{"errorMessage":"runtime shutting down"}')
            return
        self._reply(200, invocation.body, {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(int(invocation.deadline * 1000)),
            "Lambda-Runtime-Invoked-Function-Arn": self.server.function_arn,
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}",
        })

    def do_POST(self) -> None:
        body = self._body()
        parts = self.path.split("/")
        if self.path == f"{API}/init/error":
            self.server.init_error = _json_or_text(body)
            self._reply(202, b'{"status":"OK"}')
            return
        if len(parts) == 6 and self.path.startswith(f"{API}/invocation/") and parts[5] in ("response", "error"):
            request_id = parts[4]
            error = _json_or_text(body) if parts[5] == "error" else None
            if self.server.finish(request_id, body if error is None else None, error):
                self._reply(202, b'{"status":"OK"}')
            else:
                self._reply(400, b'{"errorMessage":"unknown or finished request id","errorType":"InvalidRequestID"}')
            return
        self._reply(404, b'{"errorMessage":"unknown path"}')


def _json_or_text(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {"errorType": "Unknown", "errorMessage": body.decode("utf-8", "replace")[:2000]}
    return value if isinstance(value, dict) else {"errorType": "Unknown", "errorMessage": str(value)[:2000]}


@dataclass
class _Worker:
    endpoint: _Endpoint
    thread: threading.Thread
    process: subprocess.Popen[bytes]
    log_path: str
    log: IO[bytes]


class RuntimeTarget:
    """Handler processes under ``awslambdaric``, each behind its own Runtime API endpoint on loopback.

    ``workers`` processes serve invocations concurrently (Lambda's concurrency); they inherit this process's
    environment plus ``env`` (with ``inherit_env=False``, ``env`` only). ``python`` is the interpreter command
    (default: this one), e.g. ``["python3.12", "-S"]`` to run an unpacked bundle as the Lambda runtime does. Start
    is lazy (first invocation) and ``close`` stops every process it started.
    """

    def __init__(self, handler: str = DEFAULT_HANDLER, *, workers: int = 2, env: dict[str, str] | None = None,
                 cwd: str | None = None, timeout: float = FUNCTION_TIMEOUT_SECONDS,
                 log_dir: str | None = None, python: Sequence[str] | None = None, inherit_env: bool = True,
                 function_name: str = "afq-local") -> None:
        if workers < 1:
            raise ConfigurationError("the runtime target needs at least one worker")
        self.handler = handler
        self.workers_wanted = workers
        self.env = dict(env or {})
        self.python = list(python) if python else [sys.executable]
        self.inherit_env = inherit_env
        self.function_name = function_name
        self.cwd = cwd or os.getcwd()
        self.timeout = timeout
        self.log_dir = log_dir
        self.pending: queue.Queue[Invocation] = queue.Queue()
        self.workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self._own_log_dir: str | None = None  # removed on close (failures quote the log's end in their message)
        self.description = f"{handler} under awslambdaric"

    def start(self) -> None:
        with self._lock:
            if self._closed:
                raise ConfigurationError("the runtime target is closed")
            if self.workers:
                return
            if self.python == [sys.executable] and importlib.util.find_spec("awslambdaric") is None:
                raise ConfigurationError("the runtime target needs the Lambda runtime client: pip install awslambdaric")
            log_dir = self.log_dir
            if log_dir is None:
                log_dir = self._own_log_dir = tempfile.mkdtemp(prefix="afq-runtime-")
            for i in range(self.workers_wanted):
                self.workers.append(self._start_worker(i, log_dir))

    def _start_worker(self, index: int, log_dir: str) -> _Worker:
        endpoint = _Endpoint(self.pending, self.timeout, self.function_name)
        thread = threading.Thread(target=endpoint.serve_forever, kwargs={"poll_interval": 0.2},
                                  name=f"afq-runtime-api-{index}", daemon=True)
        thread.start()
        env = {**(os.environ if self.inherit_env else {}), **self.env, "AWS_LAMBDA_RUNTIME_API": endpoint.address,
               "_HANDLER": self.handler, "PYTHONUNBUFFERED": "1"}
        log_path = os.path.join(log_dir, f"worker-{index}.log")
        log = open(log_path, "wb")  # noqa: SIM115 - kept open for the process's life, closed in close()
        try:
            process = subprocess.Popen([*self.python, "-m", "awslambdaric", self.handler], cwd=self.cwd, env=env,
                                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        except OSError as e:
            log.close()
            endpoint.shutdown()
            endpoint.server_close()
            raise ConfigurationError(f"cannot start awslambdaric: {e}") from None
        return _Worker(endpoint, thread, process, log_path, log)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        request_type = str(event.get("@type", ""))
        body = json.dumps(event, separators=(",", ":")).encode()
        if len(body) > MAX_PAYLOAD_BYTES:
            raise LambdaFunctionError("RequestEntityTooLargeException",
                                      f"request payload of {len(body)} bytes exceeds {MAX_PAYLOAD_BYTES} bytes",
                                      request_type, target=self.description)
        self.start()
        invocation = Invocation(body, request_type)
        self.pending.put(invocation)
        queued_deadline = time.monotonic() + self.timeout
        while not invocation.done.wait(0.1):
            self._check_workers(invocation)
            if invocation.deadline and time.time() > invocation.deadline:
                self._fail(invocation, "Sandbox.Timedout", f"Task timed out after {self.timeout:.0f} seconds")
            elif not invocation.deadline and time.monotonic() > queued_deadline:
                self._fail(invocation, "Sandbox.Timedout", "no handler process took the invocation in time")
        if invocation.error is not None:
            raise function_error(invocation.error, request_type, target=self.description, event=event)
        assert invocation.response is not None
        return decode_response(invocation.response, request_type)

    def _fail(self, invocation: Invocation, error_type: str, message: str) -> None:
        for worker in self.workers:
            with worker.endpoint.lock:
                if worker.endpoint.in_flight is invocation:
                    worker.endpoint.in_flight = None
        invocation.error = {"errorType": error_type, "errorMessage": message}
        invocation.done.set()

    def _check_workers(self, invocation: Invocation) -> None:
        alive = 0
        for worker in self.workers:
            code = worker.process.poll()
            if code is None:
                alive += 1
                continue
            if worker.endpoint.in_flight is invocation or worker.endpoint.init_error is not None:
                init = worker.endpoint.init_error
                if init is not None:
                    self._fail(invocation, str(init.get("errorType", "Runtime.InitError")),
                               f"the handler failed to initialize: {init.get('errorMessage', '')}")
                else:
                    self._fail(invocation, "Runtime.ExitError",
                               f"the handler process exited with code {code} during the invocation; log "
                               f"{worker.log_path}:\n{_tail(worker.log_path)}")
                return
        if alive == 0 and not invocation.done.is_set():
            worker = self.workers[0]
            self._fail(invocation, "Runtime.ExitError",
                       f"every handler process has exited; log {worker.log_path}:\n{_tail(worker.log_path)}")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self.workers = self.workers, []
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.terminate()
        for worker in workers:
            try:
                worker.process.wait(10)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(10)
            worker.endpoint.stopping.set()
            worker.endpoint.shutdown()
            worker.endpoint.server_close()
            worker.thread.join(5)
            worker.log.close()
        if self._own_log_dir is not None:
            shutil.rmtree(self._own_log_dir, ignore_errors=True)
            self._own_log_dir = None

    def __enter__(self) -> RuntimeTarget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip()
    except OSError:
        return "(no log)"
