"""Python values from a DB-API driver -> Arrow arrays of a declared logical type, strictly.

The fast path hands the values to pyarrow as they are (through ``connector.exact_cast.array``: pyarrow's typed
conversion alone truncates 0.5 into an integer column). When that fails because the driver stores the type
differently (SQLite's ISO text for timestamps and dates, 0/1 for booleans), Arrow's own parser converts the
whole column if it accepts every value - it accepts a strict subset of what the slow path does and gives the
same values for it. Only then does the slow path coerce value by value - and a value that cannot be
represented exactly is an error naming the column and the value (not the value while a restricted caller reads:
``connector.access.withhold``), never a silent NULL or a rounded number.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

from adapters.sql.decimal_columns import decimals_from_numbers
from connector import exact_cast, kernels
from connector.access.withhold import WITHHELD, shown, withholding
from connector.errors import SourceError, first_line

_FLOAT_DIGITS = Context(prec=15)  # a double holds 15 significant decimal digits reliably
# Room for any decimal128 value at any scale (38 digits) and then some: a value that does not fit its type is
# found by the digit count below, not by the default context's 28 digits (which reject valid DECIMAL(38,s)).
_WIDE = Context(prec=80)


def to_arrow(values: Sequence[Any], t: pa.DataType, column: str) -> pa.Array:
    try:
        return exact_cast.array(values, t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        pass
    whole = _whole_column(values, t)
    if whole is not None:
        return whole
    coerce = _coercer(t)
    out: list[Any] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        try:
            out.append(coerce(v, t))
        except (ValueError, TypeError, ArithmeticError, InvalidOperation) as e:
            if withholding():  # neither the value nor the reason (which may quote it) for a restricted caller
                raise SourceError(f"column {column!r}: a value cannot be read as {t} {WITHHELD}") from None
            raise SourceError(f"column {column!r}: value {shown(v)} cannot be read as {t} ({e})") from None
    try:
        return pa.array(out, type=t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as e:
        reason = WITHHELD if withholding() else f"({first_line(e)})"
        raise SourceError(f"column {column!r}: values cannot be read as {t} {reason}") from None


def _whole_column(values: Sequence[Any], t: pa.DataType) -> pa.Array | None:
    """The column converted by Arrow in one pass, or None when any value needs the slow path.

    Only where Arrow's result is the slow path's: ISO text -> timestamp[ms] without zone or date32 (Arrow
    rejects offsets, surrounding spaces and sub-millisecond digits, which the slow path then handles),
    integers that are all 0 or 1 -> boolean, and floats and integers -> decimal where each value proves its
    exact decimal (``adapters.sql.decimal_columns``). SQLite returns exactly these shapes; value by value they cost
    2-8x more (bench/README.md, "Hot-path profile"), decimals 50x.
    """
    if pa.types.is_decimal(t):
        return decimals_from_numbers(values, t)
    try:
        if pa.types.is_boolean(t):
            numbers = pa.array(values, pa.int64())
            low, high = kernels.min_max(numbers)
            if low is not None and (low < 0 or high > 1):
                return None
            return kernels.cast(numbers, t)
        if (pa.types.is_timestamp(t) and t.tz is None and t.unit == "ms") or pa.types.is_date32(t):
            return iso_text_column(values, t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None
    return None


def iso_text_column(values: Sequence[Any], t: pa.DataType) -> pa.Array | None:
    """ISO text -> timestamp[ms] without zone or date32, parsed by Arrow for the whole column; None when a value
    is not text (inferred, not typed: a typed conversion would take bytes as UTF-8 text, which the per-value
    path refuses). Raises ``ArrowInvalid`` for text Arrow does not parse."""
    text = pa.array(values)
    if pa.types.is_null(text.type):
        return pa.nulls(len(values), t)
    return kernels.cast(text, t) if pa.types.is_string(text.type) else None


def _coercer(t: pa.DataType) -> Callable[[Any, pa.DataType], Any]:
    if pa.types.is_decimal(t):
        return _decimal
    if pa.types.is_integer(t):
        return _integer
    if pa.types.is_floating(t):
        return lambda v, _: float(v)
    if pa.types.is_boolean(t):
        return _boolean
    if pa.types.is_timestamp(t):
        return _timestamp
    if pa.types.is_date32(t):
        return _date
    if pa.types.is_string(t):
        return _text
    if pa.types.is_binary(t):
        return lambda v, _: v.encode("utf-8") if isinstance(v, str) else bytes(v)
    return lambda v, _: v


def _decimal(v: Any, t: pa.DataType) -> Decimal:
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError("not a finite number")
        value = _FLOAT_DIGITS.create_decimal(repr(v))
    else:
        value = Decimal(str(v).strip()) if not isinstance(v, Decimal) else v
    if not value.is_finite():
        raise ValueError("not a finite number")
    exact = value.quantize(Decimal(1).scaleb(-t.scale, _WIDE), rounding=ROUND_HALF_UP, context=_WIDE)
    if exact != value:
        raise ValueError(f"it has more than {t.scale} decimal places")
    if len(exact.as_tuple().digits) > t.precision:
        raise ValueError(f"it has more than {t.precision} digits")
    return exact


def _integer(v: Any, t: pa.DataType) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float):
        if not v.is_integer():
            raise ValueError("it is not a whole number")
        return int(v)
    if isinstance(v, Decimal):
        if v != v.to_integral_value():
            raise ValueError("it is not a whole number")
        return int(v)
    return int(str(v).strip())


def _boolean(v: Any, t: pa.DataType) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float | Decimal) and v in (0, 1):
        return bool(v)
    text = str(v).strip().lower()
    if text in ("true", "t", "1", "yes", "y"):
        return True
    if text in ("false", "f", "0", "no", "n"):
        return False
    raise ValueError("it is not a boolean")


def parse_timestamp(v: Any) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    text = str(v).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return dt.datetime.fromisoformat(text)


def _timestamp(v: Any, t: pa.DataType) -> dt.datetime:
    value = parse_timestamp(v)
    if t.tz is None:
        # A wall-clock column: values written with an offset are converted to UTC, as SQLite's functions do.
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _date(v: Any, t: pa.DataType) -> dt.date:
    if isinstance(v, dt.datetime):
        if v.time() != dt.time():
            raise ValueError("it has a time of day")
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v).strip())


def _text(v: Any, t: pa.DataType) -> str:
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).decode("utf-8")
    return str(v)
