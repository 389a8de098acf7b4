"""A fault-injecting HTTP proxy in front of the real S3 server (SeaweedFS).

Requests pass through unchanged - the Host header included, so SigV4 signatures still verify at SeaweedFS -
except the PutObjects the test chooses to fail: the first N of them, or all, answered with an S3 error
document (503 SlowDown, 500 InternalError...) as S3 itself would. The proxy runs on a loopback port chosen at
start in a thread of the test process, and is shut down when the test ends.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from tests.servers.s3 import SeaweedFS

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}


@dataclass
class Fault:
    status: int = 503
    code: str = "SlowDown"
    message: str = "Please reduce your request rate."
    remaining: int | None = 0  # PutObjects still to fail; None: every one


@dataclass
class FaultProxy:
    upstream: str
    server: ThreadingHTTPServer | None = None
    fault: Fault = field(default_factory=Fault)
    failed_puts: int = 0
    passed_puts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail_puts(self, count: int | None, status: int = 503, code: str = "SlowDown",
                  message: str = "Please reduce your request rate.") -> None:
        """Fail the next ``count`` PutObjects (``None``: all of them) with this S3 error."""
        with self.lock:
            self.fault = Fault(status, code, message, count)

    def _should_fail(self) -> Fault | None:
        with self.lock:
            if self.fault.remaining is None or self.fault.remaining > 0:
                if self.fault.remaining is not None:
                    self.fault.remaining -= 1
                self.failed_puts += 1
                return self.fault
            self.passed_puts += 1
            return None


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _relay(self) -> None:
            body = self._body()
            is_put_object = self.command == "PUT" and "x-amz-copy-source" not in self.headers and \
                len(urlsplit(self.path).path.strip("/").split("/", 1)) == 2 and "uploadId" not in self.path
            fault = proxy._should_fail() if is_put_object else None
            if fault is not None:
                document = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{fault.code}</Code>'
                            f"<Message>{fault.message}</Message><RequestId>fault-proxy</RequestId></Error>").encode()
                self.send_response(fault.status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(document)))
                self.end_headers()
                self.wfile.write(document)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                headers["Content-Length"] = str(len(body))
            upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
            finally:
                upstream.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

    return Handler


def start_fault_proxy(upstream: str) -> FaultProxy:
    proxy = FaultProxy(upstream)
    proxy.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    proxy.server.daemon_threads = True
    threading.Thread(target=proxy.server.serve_forever, name="s3-fault-proxy", daemon=True).start()
    return proxy


@pytest.fixture
def s3_fault_proxy(seaweedfs: SeaweedFS) -> Iterator[FaultProxy]:
    """A proxy to the session's SeaweedFS that fails the PutObjects a test asks it to."""
    proxy = start_fault_proxy(seaweedfs.endpoint)
    try:
        yield proxy
    finally:
        assert proxy.server is not None
        proxy.server.shutdown()
        proxy.server.server_close()
