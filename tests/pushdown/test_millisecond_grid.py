"""The framework's one mechanism for sources with timestamps finer than Athena's milliseconds.

Every adapter whose source keeps finer timestamps (PostgreSQL, H2, Oracle TIMESTAMP(n > 3), Snowflake, Teradata
TIMESTAMP(n > 3)) relies on ``SqlCompiler`` moving value sets onto the millisecond grid. The property: for any
source value ``x`` and any value set Athena may send, ``x`` satisfies the compiled predicate exactly when
``floor_ms(x)`` - what Athena sees - is in the set. The predicate is evaluated here on the sqlglot tree itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlglot import exp

from adapters.jdbc.dialects.h2 import H2Dialect
from adapters.jdbc.dialects.postgres import PostgresDialect
from adapters.oracle.dialect import OracleDialect
from adapters.snowflake.dialect import SnowflakeDialect
from adapters.teradata.dialect import TeradataDialect
from connector.protocol.constraints import (
    Bound,
    Constant,
    EquatableValueSet,
    FunctionCall,
    Marker,
    OrderByField,
    Range,
    SortDirection,
    SortedRangeSet,
    ValueSet,
    Variable,
)
from connector.pushdown.sql import SourceColumn, SqlCompiler, SqlDialect

TS = pa.timestamp("ms")
BASE = dt.datetime(2024, 1, 1)
MS = dt.timedelta(milliseconds=1)

# (dialect, a column with sub-millisecond values, a column of the same source without them, if it has one)
SOURCES: dict[str, tuple[SqlDialect, SourceColumn, SourceColumn | None]] = {
    "postgres": (PostgresDialect("postgresql"), SourceColumn("ts", "ts", TS, "timestamp"), None),
    "h2": (H2Dialect("h2"), SourceColumn("ts", "TS", TS, "TIMESTAMP"), None),
    "oracle": (OracleDialect(), SourceColumn("ts", "TS", TS, "TIMESTAMP(6)"),
               SourceColumn("ts", "TS", TS, "TIMESTAMP(3)")),
    "snowflake": (SnowflakeDialect(), SourceColumn("ts", "TS", TS, "TIMESTAMP_NTZ"), None),
    "teradata": (TeradataDialect(), SourceColumn("ts", "TS", TS, "TIMESTAMP(6)"),
                 SourceColumn("ts", "TS", TS, "TIMESTAMP(0)")),
}


def evaluate(node: exp.Expression, x: dt.datetime | None, values: list[Any]) -> bool | None:
    """Three-valued SQL evaluation of a compiled single-column predicate with the column holding ``x``."""
    if isinstance(node, exp.Paren):
        return evaluate(node.this, x, values)
    if isinstance(node, exp.And | exp.Or):
        a, b = evaluate(node.left, x, values), evaluate(node.right, x, values)
        if isinstance(node, exp.And):
            return False if False in (a, b) else (None if None in (a, b) else True)
        return True if True in (a, b) else (None if None in (a, b) else False)
    if isinstance(node, exp.Not):
        inner = evaluate(node.this, x, values)
        return None if inner is None else not inner
    if isinstance(node, exp.Is):
        return x is None
    if isinstance(node, exp.EQ) and node.left == exp.Literal.number(1):
        return False  # the dialect's FALSE (1 = 0)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.In):
        members = [operand(m, x, values) for m in node.expressions]
        return None if x is None else x in members
    compare = {exp.EQ: lambda a, b: a == b, exp.NEQ: lambda a, b: a != b, exp.GT: lambda a, b: a > b,
               exp.GTE: lambda a, b: a >= b, exp.LT: lambda a, b: a < b, exp.LTE: lambda a, b: a <= b}
    left, right = operand(node.left, x, values), operand(node.right, x, values)
    return None if left is None or right is None else bool(compare[type(node)](left, right))


def operand(node: exp.Expression, x: dt.datetime | None, values: list[Any]) -> Any:
    if isinstance(node, exp.Placeholder):
        return values[int(node.name)]
    if isinstance(node, exp.Anonymous) and node.name.upper() == "TO_TIMESTAMP":  # Oracle's typed bind
        return operand(node.expressions[0], x, values)
    assert isinstance(node, exp.Column), node.sql()
    return x


def on_grid(draw_ms: int) -> dt.datetime:
    return BASE + draw_ms * MS


@st.composite
def value_sets(draw: st.DrawFn) -> ValueSet:
    points = st.integers(-3, 3).map(on_grid)
    if draw(st.integers(0, 4)) == 0:
        return EquatableValueSet(TS, tuple(draw(st.lists(points, min_size=1, max_size=3, unique=True))),
                                 draw(st.booleans()), draw(st.booleans()))
    ranges = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            ranges.append(Range.equal(draw(points)))
            continue
        low, high = sorted([draw(points), draw(points)])
        ranges.append(Range(
            Marker.below_all() if draw(st.booleans()) else Marker(low, draw(st.sampled_from([Bound.EXACTLY,
                                                                                            Bound.ABOVE]))),
            Marker.above_all() if draw(st.booleans()) else Marker(high, draw(st.sampled_from([Bound.EXACTLY,
                                                                                             Bound.BELOW])))))
    return SortedRangeSet(TS, tuple(ranges), draw(st.booleans()))


def admits(value_set: ValueSet, v: dt.datetime | None) -> bool:
    if v is None:
        return value_set.null_allowed
    if isinstance(value_set, EquatableValueSet):
        return (v in value_set.values) == value_set.white_list
    assert isinstance(value_set, SortedRangeSet)
    for r in value_set.ranges:
        low = r.low.unbounded or (v >= r.low.value if r.low.bound is Bound.EXACTLY else v > r.low.value)
        high = r.high.unbounded or (v <= r.high.value if r.high.bound is Bound.EXACTLY else v < r.high.value)
        if low and high:
            return True
    return False


@pytest.mark.parametrize("source", list(SOURCES))
@given(value_set=value_sets(), micros=st.one_of(st.none(), st.builds(
    lambda ms, fraction: ms * 1000 + fraction, st.integers(-5, 5), st.sampled_from([0, 0, 1, 500, 999]))))
def test_the_source_keeps_exactly_the_rows_athena_keeps(source: str, value_set: ValueSet, micros: int | None) -> None:
    dialect, column, _ = SOURCES[source]
    compiler = SqlCompiler(dialect, {"ts": column})
    predicate = compiler.value_set("ts", value_set)
    assert predicate is not None, "a value set on the millisecond grid is always pushed"
    x = None if micros is None else BASE + dt.timedelta(microseconds=micros)
    seen = None if x is None else x.replace(microsecond=x.microsecond // 1000 * 1000)
    assert (evaluate(predicate, x, [v.value for v in compiler.values]) is True) == admits(value_set, seen)


@pytest.mark.parametrize("source", list(SOURCES))
def test_comparisons_and_order_by_keys_respect_the_truncation(source: str) -> None:
    dialect, column, coarse = SOURCES[source]
    compiler = SqlCompiler(dialect, {"ts": column, "id": SourceColumn("id", "ID", pa.int64(), "INTEGER")})
    ts_first = [OrderByField("ts", SortDirection.ASC_NULLS_LAST), OrderByField("id", SortDirection.ASC_NULLS_LAST)]
    truncates = dialect.truncate_to_millis(exp.column("ts")) is not None
    # Before another key, the finer order would reorder Athena's ties: only a truncated key will do.
    assert (compiler.order_by(ts_first) is not None) == truncates
    assert compiler.order_by(ts_first[::-1]) is not None  # as the last key, it only breaks ties
    comparison = FunctionCall(pa.bool_(), "$less_than", (
        FunctionCall(TS, "$nullif", (Variable("ts", TS), Constant(TS, (BASE,)))), Constant(TS, (BASE,))))
    assert (compiler.expression(comparison) is not None) == truncates
    if coarse is not None:  # a column that holds no finer values is compared and ordered as it is
        plain = SqlCompiler(dialect, {"ts": coarse, "id": SourceColumn("id", "ID", pa.int64(), "INTEGER")})
        assert plain.order_by(ts_first) is not None and plain.expression(comparison) is not None
        above = SortedRangeSet(TS, (Range(Marker(BASE, Bound.ABOVE), Marker.above_all()),), False)
        assert isinstance(plain.value_set("ts", above), exp.GT)  # no move to BASE + 1 ms


def test_a_value_off_the_grid_or_at_the_end_of_time_stays_with_the_framework() -> None:
    compiler = SqlCompiler(SnowflakeDialect(), {"ts": SOURCES["snowflake"][1]})
    off_grid = SortedRangeSet(TS, (Range.equal(BASE + dt.timedelta(microseconds=1)),), False)
    assert compiler.value_set("ts", off_grid) is None
    end = dt.datetime.max.replace(microsecond=999000)
    at_most_end = SortedRangeSet(TS, (Range(Marker.below_all(), Marker(end, Bound.EXACTLY)),), False)
    assert compiler.value_set("ts", at_most_end) == exp.not_(exp.Is(this=exp.column("TS", quoted=True),
                                                                    expression=exp.Null()))
