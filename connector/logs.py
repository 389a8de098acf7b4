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


#: Libraries whose DEBUG records carry request and response payloads: botocore prints whole response bodies
#: (a Secrets Manager secret, a KMS data key's plaintext) and signing material. Those records are dropped
#: wherever our filters sit - turning every logger to DEBUG must not print a secret. ``AFQ_LOG_AWS_PAYLOADS=true``
#: keeps them, for debugging an endpoint with throwaway credentials only.
PAYLOAD_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "snowflake.connector.network")


class PayloadFilter(logging.Filter):
    """Drops DEBUG records of ``PAYLOAD_LOGGERS`` (and their children)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG:
            return True
        name = record.name
        return not any(name == p or name.startswith(p + ".") for p in PAYLOAD_LOGGERS)


_payload_filter = PayloadFilter()
_redacting_filter = RedactingFilter()


def json_handler(stream: Any = None) -> logging.Handler:
    """The CloudWatch handler: JSON lines, payload records dropped, secrets scrubbed."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_payload_filter)
    handler.addFilter(_redacting_filter)
    return handler


def protect() -> None:
    """Guard every log destination the process has against secrets (idempotent; call again after imports).

    The root logger's handlers (the Lambda runtime's own, anything a user installed) get the payload and
    redacting filters; so do the payload-printing loggers that exist by now, so their DEBUG records are
    dropped at the source even if someone sets them to DEBUG later.
    """
    import os

    keep_payloads = os.environ.get("AFQ_LOG_AWS_PAYLOADS", "").strip().lower() == "true"
    for handler in logging.getLogger().handlers:
        if not keep_payloads and _payload_filter not in handler.filters:
            handler.addFilter(_payload_filter)
        if _redacting_filter not in handler.filters:
            handler.addFilter(_redacting_filter)
    if keep_payloads:
        return
    for name in [n for n in list(logging.root.manager.loggerDict) if any(
            n == p or n.startswith(p + ".") for p in PAYLOAD_LOGGERS)] + list(PAYLOAD_LOGGERS):
        logger = logging.getLogger(name)
        if _payload_filter not in logger.filters:
            logger.addFilter(_payload_filter)


_configured = False


def configure(level: int = logging.INFO) -> None:
    """Install the JSON handler on the ``afq`` logger once per process (idempotent)."""
    global _configured
    protect()
    if _configured:
        return
    logger = logging.getLogger("afq")
    logger.addHandler(json_handler())
    logger.setLevel(level)
    logger.propagate = False
    _configured = True
