"""The value-by-value reading of ``adapters.sql.convert`` - the oracle that whole-column conversion paths are
compared with - and ``to_arrow`` as a test sees it: an array, or None when the value is refused."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from adapters.sql import convert
from connector.errors import SourceError


def per_value(values: list[Any], t: pa.DataType) -> pa.Array | None:
    """Each value through its coercer, then ``pa.array``: the array, or None when it refuses a value."""
    coerce = convert._coercer(t)
    out = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        try:
            out.append(coerce(v, t))
        except (ValueError, TypeError, ArithmeticError):
            return None
    try:
        return pa.array(out, t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None


def read(values: list[Any], t: pa.DataType) -> pa.Array | None:
    """``convert.to_arrow`` (fast paths first): the array, or None when it refuses a value."""
    try:
        return convert.to_arrow(values, t, "c")
    except SourceError:
        return None
