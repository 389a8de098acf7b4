"""The framework's Arrow evaluator keeps Athena's semantics (three-valued logic, LIKE, IN with NULLs...)."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from connector.protocol import (
    AllOrNoneValueSet,
    Bound,
    Constant,
    EquatableValueSet,
    FunctionCall,
    Marker,
    Range,
    SortedRangeSet,
    Variable,
)
from connector.pushdown.evaluate import EvaluationError, evaluate, expression_mask, value_set_mask

BATCH = pa.record_batch({
    "i": pa.array([1, None, 3, -7, 0], pa.int64()),
    "s": pa.array(["x%y", None, "ab", "a\\b", "AB"]),
    "d": pa.array([Decimal("1.50"), Decimal("2.25"), None, Decimal("-3.10"), Decimal("0.00")], pa.decimal128(5, 2)),
    "f": pa.array([1.0, float("nan"), None, -2.5, 0.0]),
})
COL_I, S, D, F = (Variable("i", pa.int64()), Variable("s", pa.string()), Variable("d", pa.decimal128(5, 2)),
              Variable("f", pa.float64()))
BOOL = pa.bool_()


def call(name: str, *args: object, t: pa.DataType = BOOL) -> FunctionCall:
    return FunctionCall(t, name, tuple(args))  # type: ignore[arg-type]


def c(value: object, t: pa.DataType | None = None) -> Constant:
    return Constant(t or pa.int64(), (value,))


def values(expression: FunctionCall) -> list[object]:
    return evaluate(expression, BATCH).to_pylist()


def test_sorted_range_set_with_nulls() -> None:
    vs = SortedRangeSet(pa.int64(), (Range.equal(1), Range(Marker(2, Bound.ABOVE), Marker.above_all())), True)
    assert value_set_mask(vs, BATCH.column("i")).to_pylist() == [True, True, True, False, False]


def test_not_in_as_ranges_excludes_nulls_unless_allowed() -> None:
    vs = SortedRangeSet(pa.int64(), (Range(Marker.below_all(), Marker(1, Bound.BELOW)),
                                     Range(Marker(1, Bound.ABOVE), Marker.above_all())), False)
    assert value_set_mask(vs, BATCH.column("i")).to_pylist() == [False, False, True, True, True]


def test_equatable_black_list_and_all_or_none() -> None:
    black = EquatableValueSet(pa.string(), ("ab",), white_list=False, null_allowed=False)
    assert value_set_mask(black, BATCH.column("s")).to_pylist() == [True, False, False, True, True]
    only_null = AllOrNoneValueSet(pa.int64(), all=False, null_allowed=True)
    assert value_set_mask(only_null, BATCH.column("i")).to_pylist() == [False, True, False, False, False]


def test_like_has_no_escape_character_and_is_case_sensitive() -> None:
    assert values(call("$like_pattern", S, c("a\\%", pa.string()))) == [False, None, False, True, False]
    assert values(call("$like_pattern", S, c("a_", pa.string()))) == [False, None, True, False, False]


def test_in_with_null_member_is_unknown_when_nothing_matches() -> None:
    members = call("$array", c(1), c(None), t=pa.list_(pa.int64()))
    assert values(call("$in", COL_I, members)) == [True, None, None, None, None]


def test_is_distinct_from_and_nullif() -> None:
    assert values(call("$is_distinct_from", COL_I, c(None))) == [True, False, True, True, True]
    assert values(call("$nullif", COL_I, c(3), t=pa.int64())) == [1, None, None, -7, 0]


def test_three_valued_and_or() -> None:
    gt0 = call("$greater_than", COL_I, c(0))
    is_null = call("$is_null", COL_I)
    assert values(call("$or", gt0, is_null)) == [True, True, True, False, False]
    assert values(call("$and", gt0, call("$not", is_null))) == [True, False, True, False, False]
    assert values(call("$and", gt0, call("$not", call("$equal", COL_I, c(3))))) == [True, None, False, False, False]


def test_integer_division_and_modulus_truncate_toward_zero() -> None:
    assert values(call("$divide", COL_I, c(2), t=pa.int64())) == [0, None, 1, -3, 0]
    assert values(call("$modulus", COL_I, c(2), t=pa.int64())) == [1, None, 1, -1, 0]
    with pytest.raises(EvaluationError, match="division by zero"):
        evaluate(call("$divide", c(1), COL_I, t=pa.int64()), BATCH)


def test_decimal_arithmetic_is_exact_at_the_declared_scale() -> None:
    result = values(call("$multiply", D, c(Decimal("1.5"), pa.decimal128(2, 1)), t=pa.decimal128(8, 3)))
    assert result == [Decimal("2.250"), Decimal("3.375"), None, Decimal("-4.650"), Decimal("0.000")]


def test_decimal_arithmetic_keeps_38_digits() -> None:
    big = pa.decimal128(38, 0)
    batch = pa.record_batch({"b": pa.array([Decimal(10**15), Decimal(-(10**19)), None], big)})
    product = call("$multiply", Variable("b", big), c(Decimal(-(10**15)), big), t=big)
    assert evaluate(product, batch).to_pylist() == [Decimal(-(10**30)), Decimal(10**34), None]
    too_big = call("$multiply", Variable("b", big), c(Decimal(10**19), big), t=big)
    with pytest.raises(EvaluationError, match="overflows"):
        evaluate(too_big, batch)


def test_nan_compares_false() -> None:
    assert values(call("$greater_than", F, c(-10.0, pa.float64()))) == [True, False, None, True, True]


def test_filter_mask_keeps_only_true() -> None:
    mask = expression_mask([call("$greater_than", COL_I, c(0))], BATCH)
    assert mask.to_pylist() == [True, False, True, False, False]


def test_unknown_function_is_named() -> None:
    with pytest.raises(EvaluationError, match=r"\$frobnicate"):
        evaluate(call("$frobnicate", COL_I), BATCH)


WIDE = pa.decimal128(38, 10)
WIDE_BATCH = pa.record_batch({
    "w": pa.array([Decimal(10**27), Decimal("0.0000000001"), Decimal(0), Decimal(-(10**27)), None], WIDE),
    "i": pa.array([1, 2, 0, -5, 4], pa.int64()),
})
W = Variable("w", WIDE)


@pytest.mark.parametrize(("name", "expected"), [
    ("$greater_than", [True, True, False, False, None]), ("$less_than", [False, False, True, True, None]),
    ("$equal", [False, False, False, False, None]), ("$not_equal", [True, True, True, True, None]),
])
def test_wide_decimals_compare_exactly_with_a_literal_of_larger_scale(name: str, expected: list[object]) -> None:
    """Issue 16: DECIMAL(38,10) against 0.00000000005 (a DECIMAL(11,11)) needs 39 digits in common: Arrow's
    implicit cast failed with 'precision out of range: 39'."""
    literal = c(Decimal("0.00000000005"), pa.decimal128(11, 11))
    assert evaluate(call(name, W, literal), WIDE_BATCH).to_pylist() == expected


def test_wide_decimals_compare_with_integers_and_other_scales() -> None:
    assert evaluate(call("$equal", W, Variable("i", pa.int64())), WIDE_BATCH).to_pylist() == [
        False, False, True, False, None]
    whole = c(Decimal(10**27), pa.decimal128(38, 0))  # 38 integer digits beside 10 decimals: 48 digits
    assert evaluate(call("$is_distinct_from", W, whole), WIDE_BATCH).to_pylist() == [False, True, True, True, True]
    assert evaluate(call("$nullif", W, whole, t=WIDE), WIDE_BATCH).to_pylist() == [
        None, Decimal("0.0000000001"), Decimal(0), Decimal(-(10**27)), None]
    ranges = SortedRangeSet(WIDE, (Range(Marker(Decimal("0E-10"), Bound.ABOVE), Marker.above_all()),), False)
    assert value_set_mask(ranges, WIDE_BATCH.column(0)).to_pylist() == [True, True, False, False, False]


def test_modulus_of_wide_decimals_does_not_run_out_of_digits() -> None:
    """The default 28-digit context cannot hold the integer quotient of 10**27 by 0.3."""
    remainder = call("$modulus", W, c(Decimal("0.3"), pa.decimal128(1, 1)), t=pa.decimal128(10, 10))
    assert evaluate(remainder, WIDE_BATCH).to_pylist() == [
        Decimal("0.1"), Decimal("1E-10"), Decimal(0), Decimal("-0.1"), None]
