"""The TPC-DS comparison calls an answer exact, Athena-rule or different for the right reasons."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

from bench.tpcds.compare import ATHENA, DIFFERENT, EXACT, compare


def table(values: list[object], t: pa.DataType) -> pa.Table:
    return pa.table({"c0": pa.array(values, t)})


def test_equal_values_are_exact_and_doubles_compare_to_twelve_digits() -> None:
    assert compare(table([1, 2], pa.int64()), table([Decimal(1), Decimal(2)], pa.decimal128(38, 0)), True).verdict \
        == EXACT
    assert compare(table([0.1 + 0.2], pa.float64()), table([0.3], pa.float64()), True).verdict == EXACT
    assert compare(table([0.3001], pa.float64()), table([0.3], pa.float64()), True).verdict == DIFFERENT


def test_a_decimal_is_athenas_rule_only_when_it_is_duckdbs_double_rounded_half_up() -> None:
    local = table([Decimal("1.51")], pa.decimal128(10, 2))
    outcome = compare(local, table([1.505], pa.float64()), True)
    assert (outcome.verdict, outcome.rules) == (ATHENA, {"decimal"})
    assert compare(table([Decimal("1.50")], pa.decimal128(10, 2)), table([1.505], pa.float64()), True).verdict \
        == DIFFERENT


def test_integer_division_is_athenas_rule_only_when_truncated() -> None:
    assert compare(table([-3], pa.int32()), table([-3.5], pa.float64()), True).verdict == ATHENA
    assert compare(table([-4], pa.int32()), table([-3.5], pa.float64()), True).verdict == DIFFERENT


def test_row_count_and_order() -> None:
    assert compare(table([1], pa.int64()), table([1, 1], pa.int64()), False).verdict == DIFFERENT
    unordered = compare(table([1, 2], pa.int64()), table([2, 1], pa.int64()), False)
    assert unordered.verdict == EXACT and "another order" in unordered.detail
    assert compare(table([1, None], pa.int64()), table([None, 1], pa.int64()), True).verdict == DIFFERENT
