"""A Lambda Runtime API on loopback, so a real runtime client (awslambdaric) can run a handler here.

It implements what the client calls: ``GET /2018-06-01/runtime/invocation/next`` (blocks until an event is
queued), ``POST .../invocation/<id>/response``, ``POST .../invocation/<id>/error`` and ``POST .../init/error``.
Every reply carries a Content-Type header: awslambdaric's native client crashes without one.

(Minimal on purpose; the local Athena in ``connector/local/`` has its own Runtime API server, and the two may be
unified later.)
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API = "/2018-06-01/runtime"


@dataclass(frozen=True)
class Outcome:
    """What the function returned: ``kind`` is ``response`` or ``error`` (an unhandled exception)."""

    kind: str
    body: dict[str, Any]
    error_type: str | None = None


class RuntimeApi:
    """Queue events with :meth:`invoke`; the runtime client in another process fetches and answers them."""

    def __init__(self, function_name: str = "afq-bundle-test") -> None:
        self.function_name = function_name
        self._events: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._outcomes: dict[str, queue.Queue[Outcome]] = {}
        self.init_errors: queue.Queue[dict[str, Any]] = queue.Queue()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="runtime-api", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._server.server_port}"

    def invoke(self, event: dict[str, Any], process: subprocess.Popen[bytes] | None = None,
               timeout: float = 120.0) -> Outcome:
        """Send one event and wait for its outcome (fails fast if the runtime process dies or reports init errors)."""
        request_id = str(uuid.uuid4())
        outcome: queue.Queue[Outcome] = queue.Queue()
        self._outcomes[request_id] = outcome
        self._events.put((request_id, json.dumps(event).encode()))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return outcome.get(timeout=0.1)
            except queue.Empty:
                if not self.init_errors.empty():
                    raise RuntimeError(f"the function failed to initialise: {self.init_errors.get()}") from None
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"the runtime process exited with {process.returncode}") from None
        raise TimeoutError(f"no answer to the {event.get('@type')} event within {timeout} s")

    def close(self) -> None:
        self._events.put(None)
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != f"{API}/invocation/next":
                    self._reply(404, b'{"errorMessage": "unknown path"}')
                    return
                item = api._events.get()
                if item is None:  # shutting down
                    api._events.put(None)
                    self._reply(500, b'{"errorMessage": "runtime API closed"}')
                    return
                request_id, body = item
                deadline = int((time.time() + 300) * 1000)
                self._reply(200, body, {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Invoked-Function-Arn":
                        f"arn:aws:lambda:us-east-1:123456789012:function:{api.function_name}",
                    "Lambda-Runtime-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0",
                })

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else {}
                parts = self.path[len(API):].strip("/").split("/")
                if parts == ["init", "error"]:
                    api.init_errors.put(body)
                elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error") \
                        and parts[1] in api._outcomes:
                    error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
                    api._outcomes.pop(parts[1]).put(Outcome(parts[2], body, error_type))
                else:
                    self._reply(404, b'{"errorMessage": "unknown path or request id"}')
                    return
                self._reply(202, b'{"status": "OK"}')

        return Handler
