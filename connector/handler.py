"""The Lambda entry point: ``connector.handler.lambda_handler``.

Kept tiny and cheap to import: the service (and through it pyarrow) loads on the first invocation, drivers and
boto3 clients only when a request needs them.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector.service import FederationService

_service: FederationService | None = None
_lock = threading.Lock()


def service() -> FederationService:
    """The process-wide service, built on first use and reused by warm invocations."""
    global _service
    if _service is None:
        with _lock:
            if _service is None:
                from connector import logs
                from connector.service import FederationService

                if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or os.environ.get("AFQ_JSON_LOGS"):
                    logs.configure()  # one JSON object per line for CloudWatch
                else:
                    logs.protect()  # whatever handlers exist get the payload and redacting filters
                    logging.getLogger("afq").setLevel(logging.INFO)
                _service = FederationService()
    return _service


def reset() -> None:
    """Forget the service (tests change the environment between cases)."""
    global _service
    with _lock:
        if _service is not None:
            _service.pool.close()
        _service = None


def lambda_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Handle one Athena federation request; returns the response as a dict (never a JSON string).

    A ``ConnectorError`` leaves under the Java SDK's class name (``errors.as_java``): the runtime reports it as
    ``errorType``, which is what Athena matches. Unexpected exceptions (bugs) keep their Python names.
    """
    from connector.errors import ConnectorError, as_java

    try:
        return service().handle(event, context)
    except Exception as e:
        from connector.redact import scrub_exception

        scrub_exception(e)  # also what failed before the service's own scrubbing (building it, parsing the event)
        if not isinstance(e, ConnectorError) or type(e).__name__ == e.java_type:
            raise
        raise as_java(e) from e
