"""Arrow casts to DECIMAL that never wrap around.

pyarrow 26 rescales decimals in 128-bit arithmetic without an overflow check on two paths: a decimal cast to a
decimal with more fractional digits, and a string parsed into a decimal. ``pa.array(["4" * 38]).cast(
pa.decimal128(38, 10))`` returns 8404502149839848772495965828.9784221696 instead of raising (``"9" * 38``
raises). Integer and floating-point casts are checked. So these two paths go through decimal256 first: a value
of at most 38 digits rescaled by at most 38 places needs at most 76 digits, which 256 bits hold (10^76 < 2^255),
and narrowing decimal256 to decimal128 checks the precision. A string with more digits than that could still
wrap while it is parsed; such arrays are read value by value with Python's ``Decimal`` instead.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

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
