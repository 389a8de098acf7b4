"""Exceptions that reach the Athena user.

Lambda reports an unhandled exception as ``errorType`` and ``errorMessage``; Athena shows both to the person who
ran the query. Each message says what was wrong and where, and never carries credentials, secret values or spill
keys. Inside the framework each class names a kind of problem; at the Lambda boundary (``connector.handler``)
the error is re-raised under the Java SDK's class name, ``java_type``, because that is the ``errorType`` Athena
knows: ``...exceptions.FederationThrottleException`` for a throttle (Athena backs off and retries) and
``...exceptions.AthenaConnectorException`` for every other classified error. ``error_code`` is the
``FederationSourceErrorCode`` value the SDK puts in that exception's ``ErrorDetails``.
"""

from __future__ import annotations

from typing import Any

_EXCEPTIONS = "com.amazonaws.athena.connector.lambda.exceptions."
ATHENA_CONNECTOR_EXCEPTION = _EXCEPTIONS + "AthenaConnectorException"
FEDERATION_THROTTLE_EXCEPTION = _EXCEPTIONS + "FederationThrottleException"


class ConnectorError(Exception):
    """Base class of every error this framework raises on purpose."""

    #: The Java SDK's ``ErrorDetails.errorCode`` for this error (a ``FederationSourceErrorCode`` value).
    error_code = "InternalServiceException"
    #: The fully qualified Java class name the error reaches Athena under (``errorType``).
    java_type = ATHENA_CONNECTOR_EXCEPTION

    @property
    def error_details(self) -> dict[str, Any]:
        """``ErrorDetails`` as the SDK's AthenaConnectorException carries it (Glue's ErrorCode/ErrorMessage)."""
        return {"ErrorCode": self.error_code, "ErrorMessage": str(self)}


class InvalidRequest(ConnectorError):
    """The request event is malformed or asks for something impossible."""

    error_code = "InvalidInputException"


class UnsupportedRequest(ConnectorError):
    """A well-formed request this connector does not handle (unknown ``@type``, UDF not registered...)."""

    error_code = "OperationNotSupportedException"


class SchemaNotFound(ConnectorError):
    error_code = "EntityNotFoundException"


class TableNotFound(ConnectorError):
    error_code = "EntityNotFoundException"


class ConfigurationError(ConnectorError):
    """The Lambda's environment (connection strings, spill settings...) is wrong."""

    error_code = "InvalidInputException"


class SecretError(ConfigurationError):
    """A ``${secret}`` could not be resolved or does not hold what the engine needs."""

    error_code = "InvalidCredentialsException"


class AccessDenied(ConnectorError):
    error_code = "AccessDeniedException"


class SourceError(ConnectorError):
    """The source database failed (unreachable, rejected the query, dropped the connection)."""

    error_code = "InternalServiceException"


class SourceTimeout(SourceError):
    error_code = "OperationTimeoutException"


class SourceThrottled(SourceError):
    """The source refused work for now (too many sessions or queries); retrying later may succeed.

    Adapters raise it from their driver errors; the service turns it into Athena's throttle signal while
    nothing has been spilled, and retries the split itself afterwards.
    """

    error_code = "ThrottlingException"


class ResultTooLarge(ConnectorError):
    """A result cannot be returned within Lambda's limits and cannot be spilled."""

    error_code = "InvalidResponseException"


class SpillError(ConnectorError):
    """Writing or reading spilled blocks failed; the request fails rather than answering partially."""

    error_code = "InternalServiceException"


class FederationThrottleException(ConnectorError):
    """The source asked us to slow down before anything was spilled.

    It reaches Athena as the Java SDK's ``FederationThrottleException`` (the ``errorType`` Athena's congestion
    control is documented to recognise) carrying the ``ThrottlingException`` code of the SDK's newer signal,
    ``AthenaConnectorException(ErrorDetails(THROTTLING_EXCEPTION))``.
    """

    error_code = "ThrottlingException"
    java_type = FEDERATION_THROTTLE_EXCEPTION


_java_classes: dict[type[ConnectorError], type[ConnectorError]] = {}


def as_java(error: ConnectorError) -> ConnectorError:
    """The same error as an instance of a subclass named ``error.java_type``.

    The Lambda runtimes report ``type(error).__name__`` as ``errorType``; a subclass keeps ``isinstance`` checks
    and every attribute, so Python callers of the handler see the same error they always did.
    """
    cls = type(error)
    java = _java_classes.get(cls)
    if java is None:
        name = error.java_type
        java = type(name, (cls,), {"__module__": cls.__module__, "__qualname__": name, "__doc__": cls.__doc__})
        _java_classes[cls] = java
    copy = java.__new__(java, *error.args)
    copy.__dict__.update(error.__dict__)
    copy.args = error.args
    return copy


def first_line(error: object, limit: int | None = 500) -> str:
    """The first non-empty line of ``str(error)``, stripped and cut to ``limit`` characters, or the class name
    when the message is empty or only white space: a driver's message can run to pages (stack traces, SQL).

    It never raises: it runs inside ``except`` blocks, where an ``IndexError`` (or a failing ``__str__``)
    would replace the error being reported. ``error`` is usually an exception; a Java exception's message
    object works too.
    """
    try:
        text = str(error)
    except Exception:  # a broken __str__: the class still says something
        text = ""
    for line in text.splitlines():
        if line := line.strip():
            return line if limit is None else line[:limit]
    return type(error).__name__
