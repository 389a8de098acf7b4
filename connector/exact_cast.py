"""Arrow casts to DECIMAL that never wrap around.

pyarrow 26 rescales decimals in 128-bit arithmetic without an overflow check on two paths: a decimal cast to a
decimal with more fractional digits, and a string parsed into a decimal. ``pa.array(["4" * 38]).cast(
pa.decimal128(38, 10))`` returns 8404502149839848772495965828.9784221696 instead of raising (``"9" * 38``
raises). Integer and floating-point casts are checked. So these two paths go through decimal256 first: a value
of at most 38 digits rescaled by at most 38 places needs at most 76 digits, which 256 bits hold (10^76 < 2^255),
and narrowing decimal256 to decimal128 checks the precision. A string with more digits than that could still
wrap while it is parsed; such arrays are read value by value with Python's ``Decimal`` instead.

Python values into Arrow (``array``) have the same kind of trap: pyarrow 26's typed conversion truncates floats and
``Decimal``s into integer types (``pa.array([0.5], pa.int64())`` is ``[0]``, ``safe=True`` or not), drops a
datetime's time of day into a date, and reads integers as days or units since the epoch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Context, Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

from connector import kernels

#: Digits decimal256 holds without wrapping.
_WIDE_DIGITS = 76
_EXACT = Context(prec=200)


def cast(array: pa.Array | pa.ChunkedArray, target: pa.DataType, *, safe: bool = True) -> pa.Array:
    """``array.cast(target, safe=safe)``, except that a cast to a decimal is exact or raises ``ArrowInvalid``."""
    if not (safe and pa.types.is_decimal(target)):
        return kernels.cast(array, target, safe=safe)
    source = array.type
    if pa.types.is_decimal(source) and source.scale < target.scale:
        wide = kernels.cast(array, pa.decimal256(_WIDE_DIGITS, target.scale))
        return kernels.cast(wide, target)
    if pa.types.is_string(source) or pa.types.is_large_string(source):
        return _from_text(array, target)
    return kernels.cast(array, target)


def _from_text(array: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array:
    import pyarrow.compute as pc  # only when text becomes a decimal: not on every request's import path

    longest = pc.max(pc.utf8_length(array)).as_py() or 0
    if longest <= _WIDE_DIGITS - target.scale:  # at most that many integer digits: no wrap while rescaling
        wide = kernels.cast(array, pa.decimal256(_WIDE_DIGITS, target.scale))
        return kernels.cast(wide, target)
    values: list[Decimal | None] = []
    for text in array.to_pylist():  # rare: very long texts (leading zeros, long fractions of zeros)
        if text is None:
            values.append(None)
            continue
        try:
            value = _EXACT.create_decimal(text.strip())
        except InvalidOperation:
            raise pa.ArrowInvalid(f"{text[:60]!r} is not a decimal number") from None
        if not value.is_finite():
            raise pa.ArrowInvalid(f"{text[:60]!r} is not a finite decimal number")
        try:
            scaled = value.quantize(Decimal(1).scaleb(-target.scale), context=_EXACT)
        except InvalidOperation:  # more digits than even the exact context holds
            raise pa.ArrowInvalid(f"{text[:60]!r} does not fit in {target}") from None
        if scaled != value:
            raise pa.ArrowInvalid(f"{text[:60]!r} has more than {target.scale} decimals: rescaling would lose data")
        if scaled and scaled.adjusted() >= target.precision - target.scale:
            raise pa.ArrowInvalid(f"{text[:60]!r} does not fit in {target}")
        values.append(scaled)
    return pa.array(values, target)


def _epoch_units(moment: dt.datetime, unit: str) -> int:
    delta = moment - dt.datetime(1970, 1, 1)
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    whole = (delta.days * 86_400 + delta.seconds) * per_second
    return whole + delta.microseconds * per_second // 1_000_000


#: The first and last instants a Python datetime holds, in each Arrow timestamp unit (ns holds fewer years).
_PYTHON_RANGE = {unit: (_epoch_units(dt.datetime.min, unit), _epoch_units(dt.datetime.max, unit))
                 for unit in ("s", "ms", "us", "ns")}


def array(values: Sequence[Any], target: pa.DataType) -> pa.Array:
    """``pa.array(values, type=target)``, except that no value loses a part: for integer targets the values'
    own Arrow type is inferred and cast with Arrow's checked cast (a whole float or Decimal is read as its
    integer, 0.5 raises ``ArrowInvalid``); a date32 target takes only ``date`` values (not datetimes), a
    timestamp target only ``datetime`` values (not integers). Raises
    what ``pa.array`` raises for values it refuses. Inferring first costs about a third more than the typed
    conversion alone."""
    if pa.types.is_integer(target):
        inferred = pa.array(values)
        kind = inferred.type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
                or pa.types.is_boolean(kind) or pa.types.is_null(kind)):
            raise pa.ArrowTypeError(f"{kind} values are not integers")
        return kernels.cast(inferred, target)
    if pa.types.is_date32(target) or pa.types.is_timestamp(target):
        # Arrow infers date32 for dates followed by datetimes too (and drops their time), and takes integers as
        # days or units since the epoch (a Unix time in seconds would be read as milliseconds): look at the kinds.
        wanted = dt.date if pa.types.is_date32(target) else dt.datetime
        kinds = set(map(type, values)) - {type(None)}
        if not kinds <= {wanted}:
            raise pa.ArrowTypeError(f"values of kinds {sorted(k.__name__ for k in kinds)} are not all "
                                    f"{wanted.__name__}s")
    result = pa.array(values, type=target)
    if pa.types.is_timestamp(target) and len(result):
        _within_python_years(result)
    return result


def _within_python_years(result: pa.Array) -> None:
    """An aware datetime near year 1 or 9999 can be an instant outside years 1-9999 in UTC (0001-01-01 00:00 in
    a zone ahead of UTC is year 0): Arrow computes it, Python cannot - and everything downstream reads
    timestamps as Python datetimes. Refused like the value-by-value path refuses it (``astimezone`` overflows)."""
    low, high = kernels.min_max(kernels.cast(result, pa.int64()))
    if low is None:
        return
    first, last = _PYTHON_RANGE[result.type.unit]
    if low < first or high > last:
        raise pa.ArrowInvalid("a timestamp outside years 1-9999 in UTC")
