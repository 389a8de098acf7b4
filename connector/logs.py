"""Structured JSON logs for CloudWatch: one object per line with the request's query id, type and split.

Fields that describe the current request are kept in a context variable set by the service, so every log
line - ours or a driver's - carries them. The redacting filter runs on every record first.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from connector.redact import RedactingFilter, scrub

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_request: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("afq_request", default=_EMPTY)


@contextmanager
def request_context(**fields: Any) -> Iterator[dict[str, Any]]:
    """Attach fields (query_id, request, catalog, split...) to every log line inside the block."""
    merged = {**_request.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _request.set(merged)
    try:
        yield merged
    finally:
        _request.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        entry.update(_request.get())
        extra = getattr(record, "afq", None)
        if isinstance(extra, Mapping):
            entry.update(extra)
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = f"{type(record.exc_info[1]).__name__}: {scrub(str(record.exc_info[1]))}"
        return json.dumps(entry, default=str)


_configured = False


def configure(level: int = logging.INFO) -> None:
    """Install the JSON handler on the ``afq`` logger once per process (idempotent)."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("afq")
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    _configured = True
