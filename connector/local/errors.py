"""Errors of the local Athena, each naming what the user can fix."""

from __future__ import annotations

from typing import Any

from connector.errors import ConnectorError


class QueryError(ConnectorError):
    """The SQL cannot be run locally as written (unknown catalog or column, unsupported construct...)."""

    error_code = "INVALID_INPUT_EXCEPTION"


class LambdaFunctionError(ConnectorError):
    """The connector answered with a function error, as Lambda reports it (``errorType``, ``errorMessage``)."""

    def __init__(self, error_type: str, message: str, request_type: str = "", stack: tuple[str, ...] = (),
                 payload: dict[str, Any] | None = None) -> None:
        self.error_type = error_type
        self.message = message
        self.request_type = request_type
        self.stack = stack
        self.payload = payload  # the runtime's error document as it arrived, when there was one
        where = f" answering {request_type}" if request_type else ""
        super().__init__(f"the connector failed{where}: {error_type}: {message}")


class ProtocolViolation(ConnectorError):
    """A response the connector sent does not follow the federation protocol."""

    error_code = "INVALID_RESPONSE_EXCEPTION"


class SqlSyntaxError(QueryError):
    """The query is not valid Athena SQL: ``message`` at ``line``:``column`` (1-based) of the query text."""

    def __init__(self, message: str, line: int, column: int) -> None:
        self.message = message
        self.line = line
        self.column = column
        super().__init__(f"syntax error at line {line}:{column}: {message}")
