"""Casts to DECIMAL are exact or fail: pyarrow's own rescaling wraps some values around (128-bit overflow).

Python's ``Decimal`` is the oracle: a value either equals the cast's result or the cast raises.
"""

from __future__ import annotations

from decimal import Context, Decimal

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector import exact_cast
from connector.errors import ConnectorError
from connector.protocol.constraints import EquatableValueSet
from connector.pushdown.evaluate import summary_mask

WIDE = Context(prec=200)
WRAPS = "4" * 38  # pyarrow 26: decimal128(38, 0) or text -> decimal128(38, 10) gives 8404502149839848772...


def test_pyarrow_itself_wraps_this_value_around() -> None:
    """The reason for the module: if pyarrow ever checks this itself, the guard is merely redundant."""
    raw = pa.array([Decimal(WRAPS)], pa.decimal128(38, 0))
    try:
        wrapped = raw.cast(pa.decimal128(38, 10))[0].as_py()
    except pa.ArrowInvalid:
        pytest.skip("this pyarrow checks decimal rescaling itself")
    assert wrapped != Decimal(WRAPS)


@pytest.mark.parametrize("source", [pa.decimal128(38, 0), pa.string()])
def test_a_value_that_does_not_fit_raises_instead_of_wrapping(source: pa.DataType) -> None:
    array = pa.array([Decimal(WRAPS) if pa.types.is_decimal(source) else WRAPS], source)
    with pytest.raises(pa.ArrowInvalid):
        exact_cast.cast(array, pa.decimal128(38, 10))


def _fits(value: Decimal, target: pa.Decimal128Type) -> bool:
    scaled = value.quantize(Decimal(1).scaleb(-target.scale), context=WIDE)
    return scaled == value and (not scaled or scaled.adjusted() < target.precision - target.scale)


_digits = st.integers(min_value=1, max_value=38)


@st.composite
def _decimal_case(draw: st.DrawFn) -> tuple[Decimal, pa.Decimal128Type, pa.Decimal128Type]:
    precision = draw(_digits)
    scale = draw(st.integers(0, precision))
    unscaled = draw(st.integers(-(10**precision) + 1, 10**precision - 1) | st.sampled_from(
        [10**precision - 1, -(10**precision) + 1, int("4" * precision), 0]))
    value = Decimal(unscaled).scaleb(-scale, context=WIDE)  # the default context rounds to 28 digits
    target_precision = draw(_digits)
    target = pa.decimal128(target_precision, draw(st.integers(0, target_precision)))
    return value, pa.decimal128(precision, scale), target


@given(_decimal_case(), st.booleans())
def test_casts_equal_pythons_decimal_or_raise(case: tuple[Decimal, pa.Decimal128Type, pa.Decimal128Type],
                                              as_text: bool) -> None:
    value, source, target = case
    array = pa.array([str(value)], pa.string()) if as_text else pa.array([value], source)
    try:
        got = exact_cast.cast(array, target)[0].as_py()
    except pa.ArrowInvalid:
        assert not _fits(value, target)
        return
    assert _fits(value, target) and got == value


def test_long_texts_are_read_exactly_or_refused() -> None:
    target = pa.decimal128(38, 30)
    texts = ["0" * 60 + "12.5", "1." + "0" * 60, None, "-" + "0" * 50 + "7.25"]
    assert exact_cast.cast(pa.array(texts), target).to_pylist() == [Decimal("12.5"), Decimal(1), None,
                                                                    Decimal("-7.25")]
    for bad in ("1" * 9 + "." + "1" * 31 + "0" * 40, "1e400", "NaN", "12x"):
        with pytest.raises(pa.ArrowInvalid):
            exact_cast.cast(pa.array(["0" * 50, bad]), target)


def test_a_filter_on_a_decimal_column_never_matches_a_wrapped_constant() -> None:
    """The evaluator casts a value set to the column's type: a wrapped constant would match a real row."""
    column = pa.decimal128(38, 10)
    try:
        wrapped = pa.array([Decimal(WRAPS)], pa.decimal128(38, 0)).cast(column)[0].as_py()
    except pa.ArrowInvalid:
        pytest.skip("this pyarrow checks decimal rescaling itself")
    batch = pa.record_batch({"v": pa.array([wrapped, Decimal(1)], column)})
    values = EquatableValueSet(pa.decimal128(38, 0), (Decimal(WRAPS),), True, False)
    try:
        mask = summary_mask({"v": values}, batch)
    except (pa.ArrowInvalid, ConnectorError):
        return  # refusing the constant is exact too; matching the row is not
    assert mask.to_pylist() == [False, False]
