"""Exceptions that reach the Athena user.

Lambda reports an unhandled exception as ``errorType`` (the class name) and ``errorMessage``; Athena shows both
to the person who ran the query. So each class names a kind of problem the user can act on, and each message
says what was wrong and where. Messages never carry credentials, secret values or spill keys.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class of every error this framework raises on purpose."""

    #: The Java SDK's ``ErrorDetails.errorCode`` closest to this error, for logs and docs.
    error_code = "INTERNAL_SERVICE_EXCEPTION"


class InvalidRequest(ConnectorError):
    """The request event is malformed or asks for something impossible."""

    error_code = "INVALID_INPUT_EXCEPTION"


class UnsupportedRequest(ConnectorError):
    """A well-formed request this connector does not handle (unknown ``@type``, UDF not registered...)."""

    error_code = "OPERATION_NOT_SUPPORTED_EXCEPTION"


class SchemaNotFound(ConnectorError):
    error_code = "ENTITY_NOT_FOUND_EXCEPTION"


class TableNotFound(ConnectorError):
    error_code = "ENTITY_NOT_FOUND_EXCEPTION"


class ConfigurationError(ConnectorError):
    """The Lambda's environment (connection strings, spill settings...) is wrong."""

    error_code = "INVALID_INPUT_EXCEPTION"


class SecretError(ConfigurationError):
    """A ``${secret}`` could not be resolved or does not hold what the engine needs."""


class AccessDenied(ConnectorError):
    error_code = "ACCESS_DENIED_EXCEPTION"


class SourceError(ConnectorError):
    """The source database failed (unreachable, rejected the query, dropped the connection)."""

    error_code = "INTERNAL_SERVICE_EXCEPTION"


class SourceTimeout(SourceError):
    error_code = "OPERATION_TIMEOUT_EXCEPTION"


class SourceThrottled(SourceError):
    """The source refused work for now (too many sessions or queries); retrying later may succeed.

    Adapters raise it from their driver errors; the service turns it into Athena's throttle signal while
    nothing has been spilled, and retries the split itself afterwards.
    """

    error_code = "THROTTLING_EXCEPTION"


class ResultTooLarge(ConnectorError):
    """A result cannot be returned within Lambda's limits and cannot be spilled."""

    error_code = "INVALID_RESPONSE_EXCEPTION"


class SpillError(ConnectorError):
    """Writing or reading spilled blocks failed; the request fails rather than answering partially."""

    error_code = "INTERNAL_SERVICE_EXCEPTION"


class FederationThrottleException(ConnectorError):
    """The source asked us to slow down before anything was spilled.

    The class name matches the Java SDK's historical throttle exception so Athena's congestion control can
    recognise it by ``errorType``.
    """

    error_code = "THROTTLING_EXCEPTION"
