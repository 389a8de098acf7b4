"""DECIMAL columns a driver returns as floats and integers (SQLite's REAL storage), converted a column at a time.

``adapters.sql.convert`` reads such a value as the decimal its shortest ``repr`` names, rounded to the 15 significant
digits a double holds, and refuses it unless that decimal has at most the column's scale and precision: one
``Decimal`` per value, most of the time of a wide SQLite read (bench/README.md). Here Arrow computes, for the
whole column, each value's candidate unscaled integer ``C = round(v * 10**s)`` and keeps the column only if
every candidate *proves* itself:

* ``|C| < 10**min(p, 15)``: the decimal ``c = C / 10**s`` has at most 15 significant digits and fits ``p``;
* ``C / 10**s == v``, an IEEE division of two exactly represented doubles (``|C| < 2**53``, ``s <= 22``), so
  correctly rounded: ``c`` is a decimal of at most 15 digits that rounds to ``v``.

Two different decimals of at most 15 significant digits never round to the same double (``DBL_DIG``), so ``c``
is ``repr(v)``'s value, the per-value path's decimal, and it has scale ``s``: the per-value path accepts ``v`` and
returns ``c``. Any value that does not prove itself (NaN, infinities, a 16th digit, more scale than ``s``, more
digits than ``p``, an integer beyond ``2**53``, text) sends the whole column back to the per-value path, which
converts it or names the bad value. The candidates come from Arrow's float arithmetic, but only the check decides
- no string or decimal rescaling cast is involved (those wrap silently when a rescaled value overflows).
``tests/adapters/sql/test_decimal_columns.py`` compares both paths on adversarial values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from connector import kernels

#: Significant decimal digits every double round-trips (DBL_DIG).
DOUBLE_DIGITS = 15
#: 10**22 is the largest power of ten a double holds exactly.
MAX_SCALE = 22
_NEAREST = kernels.round_options(0, "half_to_even")


def decimals_from_numbers(values: Sequence[Any], t: pa.DataType) -> pa.Array | None:
    """``values`` (floats, integers, None) as a ``decimal128`` array of type ``t``, exactly as the per-value path
    reads them; None when any value needs the per-value path (which then decides)."""
    if not pa.types.is_decimal128(t) or not 0 <= t.scale <= MAX_SCALE:
        return None
    try:  # floats as they are; integers only where a double holds them exactly (pyarrow refuses the others)
        numbers = pa.array(values, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None
    # Kernels called directly (``connector.kernels``): a fetch converts ~2,000 rows at a time, where the
    # ``pyarrow.compute`` wrappers' own overhead was most of this function's time.
    factor = pa.scalar(float(10**t.scale))  # exact
    units = kernels.call("round", kernels.call("multiply", numbers, factor), options=_NEAREST)
    low, high = kernels.min_max(units)  # NaN is skipped here and refused by the equality below
    if low is None:  # no values, or only NULLs
        return pa.nulls(len(numbers), t)
    bound = float(10 ** min(t.precision, DOUBLE_DIGITS))
    if not -bound < low <= high < bound:
        return None
    if kernels.call("all", kernels.call("equal", kernels.call("divide", units, factor), numbers)).as_py() is False:
        return None
    unscaled = kernels.cast(units, pa.int64())  # whole numbers below 10**15: exact
    # decimal128(38, 0) of C holds C as its unscaled integer, the layout decimal128(p, s) reads as C / 10**s.
    return kernels.cast(unscaled, pa.decimal128(38, 0)).view(t)
