"""Pushdown property test: what the Teradata adapter pushes plus what it leaves to the framework gives exactly
the rows an independent plain-Python evaluation of Athena's semantics (``tests.support.reference_evaluator``) gives.

Hypothesis draws typed rows (NULLs, unicode, quotes, trailing blanks, case variants, sub-millisecond
timestamps), and ``tests.support.strategies`` draws value sets, expression trees, ORDER BY and LIMIT over them. The
generated Teradata SQL is parsed with sqlglot's Teradata dialect and EXECUTED on DuckDB after transpiling
(tests/support/teradata_duckdb.py), with Teradata's comparison rules for character columns (pad semantics, NOT
CASESPECIFIC) emulated there, so the string prefilters really return supersets. The rows then go through the
adapter's value conversion and the framework's residual before they are compared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
import sqlglot
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from adapters.teradata.adapter import TeradataAdapter
from adapters.teradata.dialect import TeradataDialect, plan_query
from adapters.teradata.splits import hash_splits, split_predicates
from connector.adapter import Scan
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.protocol.constraints import (
    Bound,
    Constant,
    Constraints,
    EquatableValueSet,
    FunctionCall,
    Marker,
    OrderByField,
    Range,
    SortDirection,
    SortedRangeSet,
    Variable,
)
from connector.pushdown.sql import SourceColumn
from connector.scan import rows_of
from tests.support.reference_evaluator import check_split, fails_in_athena
from tests.support.strategies import Domain, constraints
from tests.support.teradata_duckdb import FakeTeradata, TdColumn, TdTable

BASE = dt.datetime(2024, 2, 29, 23, 59, 59)
DEC = pa.decimal128(10, 2)
TS = pa.timestamp("ms")

# name -> (Teradata column, Athena type, pool of source values)
COLUMNS: dict[str, tuple[TdColumn, pa.DataType, list[Any]]] = {
    "k": (TdColumn("K", "I", nullable=False), pa.int32(), [0, 1, 2, 5, 13]),
    "i": (TdColumn("I", "I"), pa.int32(), [-7, -2, -1, 0, 1, 2, 3, 5, 12]),
    "b": (TdColumn("B", "I8"), pa.int64(), [-(2**40), -3, 0, 4, 2**40, 10**12]),
    "s": (TdColumn("S", "I2"), pa.int16(), [-300, -1, 0, 2, 300]),
    "d": (TdColumn("D", "D", digits=10, fraction=2), DEC,
          [Decimal("-999.99"), Decimal("-0.01"), Decimal("0.00"), Decimal("0.5"), Decimal("12.34"),
           Decimal("99999999.99")]),
    "f": (TdColumn("F", "F"), pa.float64(), [-1.5, -0.0, 0.0, 0.1, 2.25, 1e10]),
    "day": (TdColumn("Day", "DA"), pa.date32(), [dt.date(2024, 2, 28), dt.date(2024, 2, 29), dt.date(2024, 3, 1),
                                                  dt.date(1900, 1, 1)]),
    "ts": (TdColumn("TS", "TS", fraction=6), TS,
           [BASE + dt.timedelta(microseconds=u) for u in (0, 1, 999, 1000, 1001, 1999, 2000, 500_000)]),
    "v": (TdColumn("V", "CV", length=40, char_type=2), pa.string(),
          ["a", "A", "a ", "b", "ß", "SS", "o'neil", "O'Neil", 'q"t', "Ünï", "", " a", "a%b", "日本"]),
    "cs": (TdColumn("Cs", "CV", length=40, char_type=2, casespecific=True), pa.string(),
           ["x", "X", "x ", "xy", "é", "E"]),
    "c": (TdColumn("C", "CF", length=8, char_type=2), pa.string(), ["x", "X", "xy", "", "x  "]),
}
NAMES = list(COLUMNS)


def logical(name: str, value: Any) -> Any:
    """The value Athena sees: timestamps floored to milliseconds, CHAR without pad blanks."""
    if value is None:
        return None
    if name == "ts":
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if name == "c":
        return value.rstrip(" ")
    return value


#: Constants the constraints use: the values Athena sees in the pools (the stand-in emulates Teradata's rules
#: for these, and the strategies add the millisecond grid's neighbours of the timestamps).
DOMAIN = Domain({n: t for n, (_, t, _) in COLUMNS.items()},
                {n: sorted({logical(n, v) for v in pool}, key=repr) for n, (_, _, pool) in COLUMNS.items()},
                fresh=False, like_patterns=("a%", "%b", "_", "a_b", "%'%", "A%", "%", "a!%", "x%", "日%"))


# ------------------------------------------------------------------------------------------ rows


@st.composite
def rows(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    count = draw(st.integers(0, 14))
    out = []
    for k in range(count):
        row: list[Any] = [k]
        for name in NAMES[1:]:
            pool = COLUMNS[name][2]
            row.append(draw(st.sampled_from([*pool, *[None] * max(1, len(pool) // 3)])))
        out.append(tuple(row))
    return out


# ------------------------------------------------------------------------------------------ the property


ADAPTER = TeradataAdapter(parse_connection_string("teradata://jdbc:teradata://tdhost/TMODE=TERA"), Settings())
SOURCE = {n: SourceColumn(n, col.name, t, _type) for n, (col, t, _), _type in
          ((n, COLUMNS[n], ADAPTER._dictionary_column([COLUMNS[n][0].name, COLUMNS[n][0].code, COLUMNS[n][0].length,
                                                        COLUMNS[n][0].digits, COLUMNS[n][0].fraction, "Y",
                                                        COLUMNS[n][0].char_type]).type_name) for n in NAMES)}
TABLE = exp.table_(exp.to_identifier("Prop", quoted=True), db=exp.to_identifier("P", quoted=True))
SCHEMA = pa.schema([pa.field(n, COLUMNS[n][1]) for n in NAMES])


def run(fake: FakeTeradata, c: Constraints, splits: Sequence[dict[str, str]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The adapter's answer: every split's SQL run on the stand-in, converted, residual applied."""
    out: list[dict[str, Any]] = []
    statements = []
    connection = fake.connection()
    for properties in splits:
        query = plan_query(TeradataDialect(), TABLE, SOURCE, NAMES, c, split_predicates(properties))
        statements.append(query.sql)
        cursor = connection.cursor()
        cursor.execute(query.sql, query.params)
        raw = cursor.fetchall()
        batch = ADAPTER.rows_to_batch(raw, query.columns)
        out += pa.Table.from_batches(list(rows_of(Scan(iter([batch]), query.residual), SCHEMA)),
                                     schema=SCHEMA).to_pylist()
    return out, statements


def check(data: list[tuple[Any, ...]], c: Constraints, n: int) -> None:
    table = TdTable("P", "Prop", [COLUMNS[name][0] for name in NAMES], data, primary_index=["K"])
    fake = FakeTeradata([table], dictionary=False)
    logical_rows = [{name: logical(name, v) for name, v in zip(NAMES, r, strict=True)} for r in data]
    assume(not fails_in_athena(logical_rows, c))
    # With ORDER BY/LIMIT each split answers for itself; checking the merge is Athena's job: one split.
    splits = hash_splits(["K"], n) if not c.order_by and not c.has_limit else [{}]
    got, statements = run(fake, c, splits)
    for statement in statements:
        assert sqlglot.parse_one(statement, read="teradata").sql("teradata") == statement
        assert "OFFSET" not in statement and "NULLS" not in statement
    check_split(logical_rows, c, got, NAMES)


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(data=rows(), c=constraints(DOMAIN, order_without_limit=True), n=st.integers(1, 4))
def test_pushdown_matches_independent_evaluation(data: list[tuple[Any, ...]], c: Constraints, n: int) -> None:
    check(data, c, n)


@FAST
@given(data=rows(), c=constraints(DOMAIN, focus=("v", "cs", "c"), order_without_limit=True), n=st.integers(1, 4))
def test_string_filters_match_independent_evaluation(data: list[tuple[Any, ...]], c: Constraints, n: int) -> None:
    check(data, c, n)


@FAST
@given(data=rows(), c=constraints(DOMAIN, focus=("ts", "i"), order_without_limit=True), n=st.integers(1, 4))
def test_timestamp_filters_match_independent_evaluation(data: list[tuple[Any, ...]], c: Constraints,
                                                        n: int) -> None:
    check(data, c, n)


@pytest.mark.slow
@THOROUGH
@given(data=rows(), c=constraints(DOMAIN, order_without_limit=True), n=st.integers(1, 4))
def test_pushdown_matches_independent_evaluation_thoroughly(data: list[tuple[Any, ...]], c: Constraints,
                                                            n: int) -> None:
    check(data, c, n)


# ------------------------------------------------------------------------------------------ targeted cases


def _one(c: Constraints, data: list[tuple[Any, ...]]) -> tuple[list[dict[str, Any]], list[str]]:
    table = TdTable("P", "Prop", [COLUMNS[name][0] for name in NAMES], data, primary_index=["K"])
    return run(FakeTeradata([table], dictionary=False), c, [{}])


def _row(k: int, **values: Any) -> tuple[Any, ...]:
    return tuple([k] + [values.get(n) for n in NAMES[1:]])


def test_string_prefilter_is_a_superset_and_the_framework_makes_it_exact() -> None:
    data = [_row(0, v="a"), _row(1, v="A"), _row(2, v="a "), _row(3, v="b"), _row(4)]
    c = Constraints(summary={"v": EquatableValueSet(pa.string(), ("a",), True, False)})
    got, statements = _one(c, data)
    assert [r["k"] for r in got] == [0]
    assert statements[0].endswith('WHERE "V" = ?')  # pushed; in NOT CASESPECIFIC pad semantics it matches 0, 1, 2


def test_sub_millisecond_timestamps_compare_like_athena_sees_them() -> None:
    data = [_row(k, ts=BASE + dt.timedelta(microseconds=u)) for k, u in enumerate((0, 999, 1000, 1999, 2000))]
    c = Constraints(summary={"ts": SortedRangeSet(TS, (Range(Marker(BASE, Bound.ABOVE),
                                                             Marker(BASE + dt.timedelta(milliseconds=1),
                                                                    Bound.EXACTLY)),), False)})
    got, statements = _one(c, data)
    assert sorted(r["k"] for r in got) == [2, 3]  # floor_ms(ts) in (BASE, BASE + 1ms]
    assert '"TS" >= ? AND "TS" < ?' in statements[0]


def test_order_by_a_fractional_timestamp_before_another_key_is_left_to_the_framework() -> None:
    data = [_row(0, ts=BASE + dt.timedelta(microseconds=500), i=1), _row(1, ts=BASE, i=2)]
    c = Constraints(order_by=(OrderByField("ts", SortDirection.ASC_NULLS_LAST),
                              OrderByField("i", SortDirection.ASC_NULLS_LAST)), limit=1)
    got, statements = _one(c, data)
    assert [r["k"] for r in got] == [0]  # both are BASE in milliseconds; i decides
    assert "ORDER BY" not in statements[0] and "TOP" not in statements[0]


def test_limit_is_top_n_only_when_nothing_is_left_to_the_framework() -> None:
    data = [_row(k, i=k) for k in range(5)]
    pushed, statements = _one(Constraints(summary={"i": SortedRangeSet(pa.int32(), (Range(
        Marker(1, Bound.ABOVE), Marker.above_all()),), False)}, limit=2), data)
    assert statements[0].startswith("SELECT TOP 2 ") and len(pushed) == 2
    like_filter = FunctionCall(pa.bool_(), "$like_pattern", (Variable("v", pa.string()), Constant(pa.string(), ("%",))))
    kept, statements = _one(Constraints(expression=(like_filter,), limit=2), [_row(k, v="z") for k in range(5)])
    assert "TOP" not in statements[0] and len(kept) == 2


def test_huge_in_lists_stay_within_teradatas_parameter_limit() -> None:
    values = tuple(range(-3000, 3000))
    c = Constraints(summary={"i": EquatableValueSet(pa.int32(), values, True, False),
                             "b": SortedRangeSet(pa.int64(), (Range.equal(4),), False)})
    got, statements = _one(c, [_row(0, i=5, b=4), _row(1, i=5, b=3), _row(2, i=9000, b=4)])
    assert [r["k"] for r in got] == [0]
    assert statements[0].count("?") <= 2000 and '"B" = ?' in statements[0]


def test_is_distinct_from_is_two_valued_so_its_negation_is_right() -> None:
    """Found by the thorough property test: NOT (i IS DISTINCT FROM NULL) must keep rows where i is NULL."""
    not_distinct = FunctionCall(pa.bool_(), "$not", (FunctionCall(pa.bool_(), "$is_distinct_from", (
        Variable("i", pa.int32()), Constant(pa.int32(), (None,)))),))
    got, statements = _one(Constraints(expression=(not_distinct,)), [_row(0), _row(1, i=4)])
    assert [r["k"] for r in got] == [0]
    assert "DISTINCT" not in statements[0]  # Teradata has no IS DISTINCT FROM
    both = FunctionCall(pa.bool_(), "$is_distinct_from", (Variable("i", pa.int32()), Variable("b", pa.int64())))
    got, _ = _one(Constraints(expression=(FunctionCall(pa.bool_(), "$not", (both,)),)),
                  [_row(0), _row(1, i=4, b=4), _row(2, i=4), _row(3, i=4, b=5)])
    assert sorted(r["k"] for r in got) == [0, 1]


def test_arithmetic_pushdown_is_limited_to_integer_and_bigint_results() -> None:
    small = FunctionCall(pa.bool_(), "$greater_than", (
        FunctionCall(pa.int16(), "$add", (Variable("s", pa.int16()), Variable("s", pa.int16()))),
        Constant(pa.int16(), (0,))))
    wide = FunctionCall(pa.bool_(), "$equal", (
        FunctionCall(pa.int32(), "$modulus", (Variable("i", pa.int32()), Constant(pa.int32(), (2,)))),
        Constant(pa.int32(), (-1,))))
    data = [_row(0, s=2, i=-7), _row(1, s=-2, i=7), _row(2, s=300, i=-3)]
    got, statements = _one(Constraints(expression=(small, wide)), data)
    assert sorted(r["k"] for r in got) == [0, 2]
    assert '("I" MOD ?) = ?' in statements[0] and '"S" + "S"' not in statements[0]

