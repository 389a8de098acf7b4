"""Errors reach Athena as the Java SDK's do: its class names as ``errorType``, its ErrorDetails codes, and the
payload shape of ``LambdaFunctionException.json`` - checked on the real Python runtime (awslambdaric)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from connector import errors, handler
from connector.errors import (
    ATHENA_CONNECTOR_EXCEPTION,
    FEDERATION_THROTTLE_EXCEPTION,
    ConnectorError,
    FederationThrottleException,
    SourceThrottled,
    TableNotFound,
)
from connector.local.errors import LambdaFunctionError
from connector.local.runtime_api import RuntimeTarget
from connector.protocol import Block, GetTableRequest, Identity, SchemaMessage, TableName, UserDefinedFunctionRequest
from connector.protocol.errors import ProtocolError
from connector.udf import udf

#: FederationSourceErrorCode's values (software.amazon.awssdk.services.glue.model), as ErrorDetails carries them.
FEDERATION_SOURCE_ERROR_CODES = {
    "AccessDeniedException", "EntityNotFoundException", "InvalidCredentialsException", "InvalidInputException",
    "InvalidResponseException", "OperationTimeoutException", "OperationNotSupportedException",
    "InternalServiceException", "PartialFailureException", "ThrottlingException"}
JAVA_CLASS = re.compile(r"(?:[a-z][a-z0-9_]*\.)+[A-Z][A-Za-z0-9_$]*")


@udf("afq_test_throttled")
def _throttled(values: pa.Array) -> pa.Array:  # registered in the runtime process through AFQ_UDF_MODULES
    raise SourceThrottled("the source is at its session limit")


def _connector_errors() -> list[type[ConnectorError]]:
    return [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, ConnectorError)]


@pytest.mark.parametrize("cls", _connector_errors(), ids=lambda c: c.__name__)
def test_every_error_has_a_sdk_code_and_a_java_class(cls: type[ConnectorError]) -> None:
    assert cls.error_code in FEDERATION_SOURCE_ERROR_CODES
    assert cls.java_type in (ATHENA_CONNECTOR_EXCEPTION, FEDERATION_THROTTLE_EXCEPTION)
    assert (cls.java_type == FEDERATION_THROTTLE_EXCEPTION) == issubclass(cls, FederationThrottleException)


def test_the_handler_raises_the_java_name_and_keeps_the_python_error(lambda_env: Callable[..., None],
                                                                     demo_db: Path) -> None:
    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}")
    request = GetTableRequest(Identity(), "q", "demo", TableName("main", "nope"), {})
    with pytest.raises(TableNotFound) as raised:
        handler.lambda_handler(request.to_wire())
    assert type(raised.value).__name__ == ATHENA_CONNECTOR_EXCEPTION
    assert raised.value.error_details == {"ErrorCode": "EntityNotFoundException", "ErrorMessage": str(raised.value)}
    assert isinstance(raised.value.__cause__, TableNotFound)  # the Python error, for logs and debuggers
    with pytest.raises(ProtocolError) as bad:
        handler.lambda_handler({"@type": "NoSuchRequest"})
    assert type(bad.value).__name__ == ATHENA_CONNECTOR_EXCEPTION and bad.value.path == "@type"
    assert bad.value.error_details["ErrorCode"] == "InvalidInputException"


def _payload(target: RuntimeTarget, event: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(LambdaFunctionError) as raised:
        target.invoke(event)
    assert raised.value.payload is not None
    return raised.value.payload


def _sdk_view(payload: dict[str, Any]) -> str:
    """What the SDK's LambdaFunctionExceptionSerDe makes of an error payload (the message Athena reads)."""
    stack = [[str(x)] for x in payload.get("stackTrace") or []]
    return f"{payload.get('errorMessage')}. Stack trace: {stack}\nErrorType: {payload.get('errorType')}"


def test_the_runtime_error_payload_has_the_sdk_fixture_shape(shared_fixtures: Path, demo_db: Path,
                                                             runtime_target: Callable[..., RuntimeTarget]) -> None:
    fixture = json.loads((shared_fixtures / "v2" / "LambdaFunctionException.json").read_text())
    target = runtime_target(env={"default": f"sqlite://jdbc:sqlite:{demo_db}"})
    payload = _payload(target, GetTableRequest(Identity(), "q", "demo", TableName("main", "nope"), {}).to_wire())
    for key, value in fixture.items():  # every field of the Java runtime's document, with the same JSON types
        assert type(payload[key]) is type(value), key
    assert set(payload) - set(fixture) == {"requestId"}  # the only key the Python runtime adds
    assert all(isinstance(line, str) for line in payload["stackTrace"])
    assert JAVA_CLASS.fullmatch(fixture["errorType"]) and JAVA_CLASS.fullmatch(payload["errorType"])
    assert payload["errorType"] == ATHENA_CONNECTOR_EXCEPTION
    assert "main.nope" in payload["errorMessage"]
    assert _sdk_view(payload).endswith(f"\nErrorType: {ATHENA_CONNECTOR_EXCEPTION}")


def test_a_throttle_reaches_athena_as_the_sdks_throttle(demo_db: Path,
                                                        runtime_target: Callable[..., RuntimeTarget]) -> None:
    target = runtime_target(env={"default": f"sqlite://jdbc:sqlite:{demo_db}", "AFQ_UDF_MODULES": __name__})
    inputs = Block.from_logical(pa.record_batch({"x": pa.array([1, 2], pa.int64())}))
    request = UserDefinedFunctionRequest(Identity(), inputs, SchemaMessage.of_logical(pa.schema([("r", pa.int64())])),
                                         "afq_test_throttled")
    payload = _payload(target, request.to_wire())
    assert payload["errorType"] == FEDERATION_THROTTLE_EXCEPTION
    assert "session limit" in payload["errorMessage"]
    assert _sdk_view(payload).endswith(f"\nErrorType: {FEDERATION_THROTTLE_EXCEPTION}")
