"""Values are withheld from every message while a restricted caller's rows are read.

A conversion error that quotes the value it could not read, a driver error that quotes the row it choked on,
an evaluator error that prints an operand: each would hand a restricted caller a value the policy hides (or one
of a row the row filter removes). While ``values_withheld()`` is active, code that would quote a value asks
``shown(value)`` instead, and whatever still fails leaves the service as ``withheld_error``: the error's kind,
the table and the driver's error codes, never its text.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from connector.errors import (
    AccessDenied,
    ConnectorError,
    FederationThrottleException,
    ResultTooLarge,
    SchemaNotFound,
    SourceError,
    SourceThrottled,
    SourceTimeout,
    SpillError,
    TableNotFound,
)

WITHHELD = "(value withheld: the access policy restricts this table)"
_withheld: contextvars.ContextVar[bool] = contextvars.ContextVar("afq_values_withheld", default=False)
# Errors built from names and sizes only, never from values: they keep their message.
_SAFE = (AccessDenied, TableNotFound, SchemaNotFound, FederationThrottleException, ResultTooLarge, SpillError)


@contextmanager
def values_withheld() -> Iterator[None]:
    token = _withheld.set(True)
    try:
        yield
    finally:
        _withheld.reset(token)


def withholding() -> bool:
    return _withheld.get()


def shown(value: Any, limit: int = 80) -> str:
    """How a source value may appear in a message: its repr, or nothing at all while values are withheld."""
    return WITHHELD if _withheld.get() else repr(value)[:limit]


def withheld_error(error: BaseException, source_type: str, table: Any) -> BaseException:
    """``error`` as it may leave a restricted read: same kind (throttling still throttles), no source text."""
    if isinstance(error, _SAFE):
        return error
    text = (f"reading {table} failed; the details are withheld because the access policy restricts this "
            f"table for you - the connector's operator can reproduce it as an unrestricted caller")
    for kind in (SourceThrottled, SourceTimeout, SourceError):
        if isinstance(error, kind):
            return kind(f"{source_type}: {text}")
    if isinstance(error, ConnectorError):
        try:
            return type(error)(text)
        except Exception:  # an error class with its own constructor
            return ConnectorError(text)
    return ConnectorError(text)
