"""Where requests go: the handler in this process, a Lambda Runtime API endpoint, or a deployed function.

Every target takes the request as the JSON object Athena would send and returns the JSON object the function
answered, or raises ``LambdaFunctionError`` for a function error - the same contract as ``lambda:Invoke``.
The in-process target round-trips through JSON text so a handler that returns something the Lambda runtime
could not serialize fails here too.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Protocol

from connector.errors import ConfigurationError
from connector.local.errors import InvokeError, LambdaFunctionError, ProtocolViolation
from connector.redact import redact_message, scrub

DEFAULT_HANDLER = "connector.handler.lambda_handler"
#: Lambda's synchronous payload limit, both ways.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024

Handler = Callable[[dict[str, Any], Any], Any]


class Target(Protocol):
    #: What the user sees in messages ("in-process handler", "function my-connector"...).
    description: str

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """Send one request; the response object, or ``LambdaFunctionError``."""

    def close(self) -> None:
        """Stop anything the target started."""


def load_handler(name: str) -> Handler:
    """``package.module.function`` (Lambda's handler syntax; ``module:function`` also accepted)."""
    module_name, sep, attr = name.replace(":", ".").rpartition(".")
    if not sep or not module_name:
        raise ConfigurationError(f"handler {name!r} must look like package.module.function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigurationError(f"cannot import the handler module {module_name!r}: {e}") from None
    handler = getattr(module, attr, None)
    if not callable(handler):
        raise ConfigurationError(f"{module_name} has no function {attr!r}")
    return handler


def decode_response(body: bytes | str, request_type: str) -> dict[str, Any]:
    """A function's response payload as a JSON object, or a clear error saying what it was instead."""
    try:
        value = json.loads(body)
    except ValueError as e:
        raise ProtocolViolation(f"the response to {request_type} is not JSON: {e}") from None
    if isinstance(value, str):
        raise ProtocolViolation(f"the response to {request_type} is a JSON string, not an object: the handler "
                                f"must return a dict (a pre-serialized string gets encoded twice)")
    if not isinstance(value, dict):
        raise ProtocolViolation(f"the response to {request_type} is a JSON {type(value).__name__}, not an object")
    return value


def subject_of(event: dict[str, Any]) -> str:
    """What a request is about, for messages: ``catalog.schema.table`` (or just the catalog)."""
    catalog = str(event.get("catalogName") or "")
    table = event.get("tableName")
    if isinstance(table, dict) and table.get("schemaName") is not None:
        name = f"{table.get('schemaName')}.{table.get('tableName')}"
        return f"{catalog}.{name}" if catalog else name
    return catalog


def function_error(payload: Any, request_type: str, *, target: str = "",
                   event: dict[str, Any] | None = None) -> LambdaFunctionError:
    """Lambda's error payload (``errorType``, ``errorMessage``, ``stackTrace``) as an exception."""
    subject = subject_of(event) if event is not None else ""
    if not isinstance(payload, dict):
        return LambdaFunctionError("Unknown", str(payload)[:2000], request_type, target=target, subject=subject)
    stack = payload.get("stackTrace") or ()
    lines = tuple(str(s) for s in stack) if isinstance(stack, list) else ()
    return LambdaFunctionError(str(payload.get("errorType", "Unknown")), str(payload.get("errorMessage", "")),
                               request_type, lines, target=target, subject=subject, payload=payload)


@dataclass
class LocalContext:
    """The parts of Lambda's context object that handlers use."""

    function_name: str = "afq-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:afq-local"
    memory_limit_in_mb: str = "3008"
    deadline: float = field(default_factory=lambda: time.monotonic() + 900)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class InProcessTarget:
    """The handler called directly, with JSON text in between as the Lambda runtime has."""

    def __init__(self, handler: str = DEFAULT_HANDLER) -> None:
        self.handler_name = handler
        self.function: Handler = load_handler(handler)
        self.description = "in-process handler" if handler == DEFAULT_HANDLER else f"in-process handler {handler}"

    @property
    def is_default_handler(self) -> bool:
        return self.handler_name == DEFAULT_HANDLER

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        request_type = str(event.get("@type", ""))
        payload = json.loads(json.dumps(event))
        try:
            response = self.function(payload, LocalContext())
        except Exception as e:  # the runtime turns any exception into a function error
            raise LambdaFunctionError(type(e).__name__, str(e), request_type, target=self.description,
                                      subject=subject_of(event)) from e
        try:
            text = json.dumps(response)
        except (TypeError, ValueError) as e:
            raise ProtocolViolation(f"the handler's response to {request_type} is not JSON-serializable: {e}") from None
        return decode_response(text, request_type)

    def describe(self, event: dict[str, Any]) -> str | None:
        """The source query the default handler would run for a ReadRecords event (None for other handlers)."""
        if not self.is_default_handler:
            return None
        from connector import handler
        from connector.protocol.messages import ReadRecordsRequest, parse_request

        request = parse_request(json.loads(json.dumps(event)))
        if not isinstance(request, ReadRecordsRequest):
            return None
        return handler.service().describe_read(request)

    def close(self) -> None:
        pass


class FunctionTarget:
    """A deployed Lambda function, through ``lambda:Invoke`` (boto3's standard configuration and endpoints)."""

    def __init__(self, function_name: str, *, region: str | None = None, client: Any = None) -> None:
        self.function_name = function_name
        self.region = region
        self._client = client
        self._lock = threading.Lock()
        self.description = f"Lambda function {function_name}"

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                # Athena waits for a split up to Lambda's 15 minutes; so do we.
                config = Config(read_timeout=900, connect_timeout=10, retries={"max_attempts": 2})
                self._client = boto3.client("lambda", region_name=self.region, config=config)
            return self._client

    def request(self, event: dict[str, Any]) -> dict[str, Any]:
        """The ``Invoke`` parameters for one event (kept separate so it can be checked on its own)."""
        payload = json.dumps(event, separators=(",", ":")).encode()
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise ProtocolViolation(f"the {event.get('@type')} request is {len(payload)} bytes, over Lambda's "
                                    f"{MAX_PAYLOAD_BYTES}-byte payload limit")
        return {"FunctionName": self.function_name, "InvocationType": "RequestResponse", "Payload": payload}

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

        request_type = str(event.get("@type", ""))
        call = f"cannot call the Lambda function {self.function_name}"
        try:
            response = self.client().invoke(**self.request(event))
            body = response["Payload"].read()
        except NoCredentialsError:
            # The function never ran: this is the caller's AWS set-up, not a connector failure.
            raise InvokeError(f"{call}: no AWS credentials were found on this machine",
                              "configure them (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                              "AWS_SECRET_ACCESS_KEY), or leave out --function to run the handler in this process",
                              "NoCredentialsError") from None
        except NoRegionError:
            raise InvokeError(f"{call}: no AWS region is configured", "pass --region or set AWS_REGION",
                              "NoRegionError") from None
        except ClientError as e:
            error = e.response.get("Error", {})
            code = str(error.get("Code", "ClientError"))
            hint = {"ResourceNotFoundException": "check the function name and --region",
                    "AccessDeniedException": "the caller needs lambda:InvokeFunction on the function",
                    "TooManyRequestsException": "the function is throttled: retry later or raise its concurrency",
                    }.get(code, "")
            raise InvokeError(f"{call}: {code}: {error.get('Message', e)}", hint, code) from None
        except BotoCoreError as e:
            raise InvokeError(f"{call}: {type(e).__name__}: {e}", "", type(e).__name__) from None
        if response.get("FunctionError"):
            try:
                payload = json.loads(body)
            except ValueError:
                payload = body.decode("utf-8", "replace")
            raise function_error(payload, request_type, target=self.description, event=event)
        return decode_response(body, request_type)

    def close(self) -> None:
        pass


# ------------------------------------------------------------------------------------------ tracing

class TraceWriter:
    """``--trace FILE``: one JSON line per request, response or function error, secrets redacted."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self._lock = threading.Lock()
        self._seq = 0

    def write(self, kind: str, catalog: str, message: Any, **extra: Any) -> int:
        """Append one record; its sequence number."""
        with self._lock:
            self._seq += 1
            record = {"seq": self._seq, "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                      "direction": kind, "catalog": catalog, **extra, "message": redact_message(message)}
            # Error messages and values pass through the log scrubber too (registered secrets, passwords).
            self.stream.write(scrub(json.dumps(record, separators=(",", ":"))) + "\n")
            self.stream.flush()
            return self._seq


class TracingTarget:
    """Wraps a target and records every exchange."""

    def __init__(self, inner: Target, writer: TraceWriter) -> None:
        self.inner = inner
        self.writer = writer
        self.description = inner.description

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        catalog = str(event.get("catalogName", ""))
        request_type = str(event.get("@type", ""))
        seq = self.writer.write("request", catalog, event)
        start = time.monotonic()
        try:
            response = self.inner.invoke(event)
        except (LambdaFunctionError, InvokeError) as e:
            self.writer.write("error", catalog, {"errorType": e.error_type, "errorMessage": e.message},
                              request=request_type, millis=round((time.monotonic() - start) * 1000, 1),
                              **{"for": seq})
            raise
        self.writer.write("response", catalog, response, request=request_type,
                          millis=round((time.monotonic() - start) * 1000, 1), **{"for": seq})
        return response

    def close(self) -> None:
        self.inner.close()
