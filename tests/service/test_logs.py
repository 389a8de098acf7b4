"""JSON log lines carry the request context and never a registered secret."""

from __future__ import annotations

import json
import logging

from connector.logs import JsonFormatter, request_context
from connector.redact import register_secret


def test_json_lines_carry_context_and_are_scrubbed() -> None:
    register_secret("pa55word-xyz")
    record = logging.LogRecord("afq.x", logging.WARNING, __file__, 1, "rows=%d with %s", (42, "pa55word-xyz"), None)
    with request_context(query_id="q-1", request="ReadRecordsRequest"), request_context(split="s-7"):
        line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["query_id"] == "q-1" and entry["request"] == "ReadRecordsRequest" and entry["split"] == "s-7"
    assert entry["level"] == "WARNING" and entry["message"] == "rows=42 with ***"
    outside = json.loads(JsonFormatter().format(record))
    assert "query_id" not in outside
