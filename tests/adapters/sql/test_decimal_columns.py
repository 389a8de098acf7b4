"""The whole-column decimal conversion gives exactly what the per-value path gives, or leaves the column to it."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.sql import convert
from adapters.sql.decimal_columns import decimals_from_numbers
from connector.errors import SourceError
from tests.support.value_paths import per_value


@st.composite
def decimal_types(draw: st.DrawFn) -> pa.DataType:
    precision = draw(st.integers(1, 38))
    return pa.decimal128(precision, draw(st.integers(0, min(precision, 26))))


@st.composite
def near_decimals(draw: st.DrawFn) -> float:
    """Floats of short decimals, the doubles next to them, and ties half a unit away: where rounding bites."""
    digits = draw(st.integers(0, 10**draw(st.integers(1, 17)) - 1))
    scale = draw(st.integers(0, 24))
    value = float(Decimal(digits).scaleb(-scale)) * draw(st.sampled_from([1, -1]))
    how = draw(st.sampled_from(["as is", "next up", "next down", "half"]))
    if how == "next up":
        return math.nextafter(value, math.inf)
    if how == "next down":
        return math.nextafter(value, -math.inf)
    if how == "half":
        return value + 0.5 * 10.0**-scale
    return value


values = st.one_of(
    near_decimals(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**64), 2**64),
    st.integers(-(2**53) - 2, -(2**53) + 2) | st.integers(2**53 - 2, 2**53 + 2),
    st.sampled_from([0.0, -0.0, 0.1 + 0.2, 1e15, 1e16 + 2.0, 5e-324, 1.7976931348623157e308]),
    st.none(),
)


@settings(max_examples=1500, deadline=None)
@given(column=st.lists(values, max_size=6), t=decimal_types())
@example(column=[0.1 + 0.2], t=pa.decimal128(38, 20))  # 17 digits: only the per-value path knows what it means
@example(column=[1234.375], t=pa.decimal128(12, 2))  # a tie at the scale: refused, not rounded
@example(column=[2**53 + 1], t=pa.decimal128(38, 0))  # an integer no double holds
@example(column=[99999.99, -0.0, None, 3], t=pa.decimal128(7, 2))
def test_the_column_path_agrees_with_the_per_value_path(column: list[Any], t: pa.DataType) -> None:
    fast = decimals_from_numbers(column, t)
    if fast is not None:
        assert fast.type == t
        slow = per_value(column, t)
        assert slow is not None, f"the column path accepted {column!r} as {t}, the per-value path refuses it"
        assert fast.equals(slow), (column, t, fast, slow)


@settings(max_examples=300, deadline=None)
@given(t=decimal_types(), data=st.data())
def test_clean_columns_take_the_column_path(t: pa.DataType, data: st.DataObject) -> None:
    """Values written with the column's scale and at most 15 digits - what SQLite stores for DECIMAL(p,s) - are
    converted a column at a time (the per-value path is then never needed)."""
    digits = min(t.precision, 15)
    units = data.draw(st.lists(st.integers(-(10**digits) + 1, 10**digits - 1) | st.none(), max_size=20))
    column = [None if u is None else float(Decimal(u).scaleb(-t.scale)) for u in units]
    fast = decimals_from_numbers(column, t)
    if t.scale > 22:
        assert fast is None
        return
    assert fast is not None and fast.equals(per_value(column, t))


@pytest.mark.parametrize("column", [["1.5"], [Decimal("1.5")], [b"1"], [True, 2.5]])
def test_other_kinds_of_values_stay_with_the_per_value_path(column: list[Any]) -> None:
    assert decimals_from_numbers(column, pa.decimal128(10, 2)) is None or column == [True, 2.5]


def test_reading_a_decimal_column_takes_the_column_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """What SQLite returns for DECIMAL(12,2) (REAL and INTEGER storage) never reaches the per-value path; a value
    that does not prove itself sends the column there, which names it."""
    values = [round(i * 0.37 - 1000, 2) for i in range(100_000)] + [None, 12, -0.0]
    t = pa.decimal128(12, 2)
    expected = per_value(values, t)
    real = convert._decimal

    def refuse(v: Any, t: pa.DataType) -> Any:
        raise AssertionError("the per-value path ran")

    monkeypatch.setattr(convert, "_decimal", refuse)
    assert convert.to_arrow(values, t, "amount").equals(expected)
    monkeypatch.setattr(convert, "_decimal", real)
    with pytest.raises(SourceError, match=r"column 'amount': value 1\.375"):
        convert.to_arrow([*values[:10], 1.375], t, "amount")
