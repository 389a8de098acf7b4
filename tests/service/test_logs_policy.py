"""The logging policy in isolation: payload loggers' DEBUG records are dropped, key-shaped JSON is scrubbed,
trace lines are scrubbed, and guarding a root handler is idempotent."""

from __future__ import annotations

import io
import json
import logging

from connector import logs
from connector.redact import register_secret, scrub


def _record(name: str, level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


def test_payload_loggers_debug_records_are_dropped_and_others_kept() -> None:
    payload = logs.PayloadFilter()
    assert not payload.filter(_record("botocore.parsers", logging.DEBUG, "Response body: {...}"))
    assert not payload.filter(_record("urllib3.connectionpool", logging.DEBUG, "GET /"))
    assert payload.filter(_record("botocore.credentials", logging.INFO, "Found credentials"))
    assert payload.filter(_record("botocorex", logging.DEBUG, "not botocore"))
    assert payload.filter(_record("afq.sql", logging.DEBUG, "planned"))


def test_protect_guards_root_handlers_once() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logs.protect()
        logs.protect()
        kinds = [type(f).__name__ for f in handler.filters]
        assert kinds.count("PayloadFilter") == 1 and kinds.count("RedactingFilter") == 1
        register_secret("root-handler-secret-42")
        logging.getLogger("some.library").warning("connecting with root-handler-secret-42")
        assert "root-handler-secret-42" not in stream.getvalue() and "***" in stream.getvalue()
    finally:
        root.removeHandler(handler)


def test_key_shaped_json_is_scrubbed() -> None:
    text = json.dumps({"encryptionKey": {"key": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", "nonce": "MTIzNDU2Nzg5MDEy"},
                       "spillLocation": {"key": "athena-federation-spill/q/0b6f"}})
    cleaned = scrub(text)
    assert "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY" not in cleaned and "MTIzNDU2Nzg5MDEy" not in cleaned
    assert "athena-federation-spill/q/0b6f" in cleaned  # object keys are not secrets


def test_trace_lines_are_scrubbed() -> None:
    from connector.local.targets import TraceWriter

    register_secret("trace-secret-value-9")
    stream = io.StringIO()
    TraceWriter(stream).write("error", "cat", {"errorType": "SourceError", "errorMessage": "bad trace-secret-value-9"})
    assert "trace-secret-value-9" not in stream.getvalue()
