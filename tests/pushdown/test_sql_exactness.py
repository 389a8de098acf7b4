"""The known traps of pushing predicates to real databases, each checked against the independent oracle.

Random testing finds these only now and then; here each one is a fixed case: collations (PostgreSQL runs in an
ICU en-US database), NaN, timestamps finer than milliseconds, CHAR(n) padding, LIKE escapes and astral
characters, integer division and modulus signs. Every case also asserts that the part we expect to reach the
database does reach it (a test that passes because nothing was pushed proves nothing).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from adapters.sql.adapter import SqlAdapter
from connector.protocol.constraints import (
    AllOrNoneValueSet,
    Bound,
    Constraints,
    EquatableValueSet,
    Marker,
    Range,
    SortedRangeSet,
)
from connector.protocol.messages import Split, TableName
from tests.support.athena import LocalAthena
from tests.support.constraint_builders import (
    ASC_FIRST,
    ASC_LAST,
    DESC_FIRST,
    DESC_LAST,
    at_least,
    at_most,
    call,
    const,
    points,
    top,
    var,
)
from tests.support.reference_evaluator import check_result
from tests.support.sql_engines import Engine

pytestmark = pytest.mark.integration

TS = pa.timestamp("ms")


def check(engine: Engine, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
          queries: Sequence[Constraints], pushed: Sequence[bool]) -> list[str]:
    """Run each query through the handler, compare with the oracle, and check what reached the database."""
    sql = []
    with engine.temporary(columns, rows) as table, LocalAthena(engine.env()) as athena:
        message = athena.table(engine.athena_schema, table)
        schema = message.logical_schema()
        names = schema.names
        all_rows = [r for s in athena.scan(engine.athena_schema, table, table_schema=message) for r in s]
        adapter = athena.service.pool.get(athena.catalog)
        assert isinstance(adapter, SqlAdapter)
        for query, expect_pushed in zip(queries, pushed, strict=True):
            check_result(all_rows, query, athena.scan(engine.athena_schema, table, query, table_schema=message), names)
            with adapter.connection() as connection:
                planned = adapter.plan(connection, TableName(engine.athena_schema, table), schema,
                                       Split(None, None, {}), query)
            filters_pushed = not (planned.residual.summary or planned.residual.expression)
            assert filters_pushed == expect_pushed, (planned.sql, planned.residual)
            sql.append(planned.sql)
    return sql


# ------------------------------------------------------------------------------------------ strings

STRINGS = ["a", "B", "b", "A", "é", "E", "Z", "\U0001f600", "\ufffd", "ab", "a b", "", "a%", "a_", None]


def test_string_ordering_follows_code_points(engine: Engine) -> None:
    s = pa.string()
    queries = [
        Constraints(summary={"s": at_least("a", s)}),
        Constraints(summary={"s": at_most("b", s, strict=True)}),
        Constraints(summary={"s": SortedRangeSet(s, (Range(Marker("B", Bound.ABOVE), Marker("\ufffd", Bound.EXACTLY)),),
                                                 True)}),
        Constraints(expression=(call("$less_than", var("s", s), const(s, "a")),)),
        Constraints(**top(4, ("s", ASC_LAST))),
        Constraints(**top(4, ("s", DESC_FIRST))),
    ]
    exact_ordering = engine.name in ("sqlite", "postgres")  # H2 orders by UTF-16 units: in the framework
    sql = check(engine, [("s", "text")], [(v,) for v in STRINGS], queries,
                [exact_ordering] * 4 + [True, True])
    if engine.name == "postgres":
        assert all('COLLATE "C"' in q for q in sql), sql


def test_string_equality_is_pushed_everywhere(engine: Engine) -> None:
    s = pa.string()
    queries = [
        Constraints(summary={"s": points(s, "a", "é", "\U0001f600", nulls=True)}),
        Constraints(summary={"s": EquatableValueSet(s, ("a", "B"), False, False)}),
        Constraints(expression=(call("$in", var("s", s), call("$array", const(s, "ab"), const(s, None),
                                                             t=pa.list_(s))),)),
        Constraints(expression=(call("$not", call("$in", var("s", s), call("$array", const(s, "ab"),
                                                                           t=pa.list_(s)))),)),
    ]
    check(engine, [("s", "text")], [(v,) for v in STRINGS], queries, [True, True, True, True])


def test_like_has_no_escape_character_and_counts_code_points(engine: Engine) -> None:
    s = pa.string()
    values = ["a\\b", "a!b", "a%b", "a_b", "ab", "A\U0001f600B", "A\U0001f600\U0001f600B", "a!!b", None]
    patterns = ["a\\b", "a!%", "a_b", "A_B", "%!%", "a%%b", "%\\%", "A__B"]
    queries = [Constraints(expression=(call("$like_pattern", var("s", s), const(s, p)),)) for p in patterns]
    # H2's "_" matches one UTF-16 unit, so patterns with "_" stay in the framework there.
    pushed = [engine.name != "h2" or "_" not in p for p in patterns]
    check(engine, [("s", "text")], [(v,) for v in values], queries, pushed)


def test_char_padding_is_compared_in_the_framework(engine: Engine) -> None:
    if "char" not in engine.kinds:
        pytest.skip(f"{engine.name} has no padded CHAR type")
    s = pa.string()
    queries = [
        Constraints(summary={"c": points(s, "a")}),
        Constraints(summary={"c": points(s, "a   ")}),
        Constraints(summary={"c": at_least("ab", s)}),
    ]
    check(engine, [("c", "char")], [("a",), ("ab",), ("a b",), (None,)], queries, [False, False, False])


# ------------------------------------------------------------------------------------------ numbers


def test_nan_and_infinities(engine: Engine) -> None:
    f = pa.float64()
    values = [1.0, -1.0, 0.0, math.inf, -math.inf, None] + ([] if engine.name == "sqlite" else [math.nan])
    rows = [(v, w) for v, w in zip(values, reversed(values), strict=True)]
    queries = [
        Constraints(summary={"f": at_least(0.0, f, strict=True)}),
        Constraints(summary={"f": at_least(-math.inf, f)}),
        Constraints(summary={"f": at_most(1.0, f)}),
        Constraints(summary={"f": SortedRangeSet(f, (Range.all(),), False)}),
        Constraints(summary={"f": points(f, 1.0, math.inf)}),
        Constraints(**top(3, ("f", DESC_LAST))),
        Constraints(**top(3, ("f", ASC_FIRST))),
        Constraints(**top(10, ("f", ASC_LAST), ("g", DESC_FIRST))),
        Constraints(expression=(call("$greater_than", var("f", f), const(f, 0.0)),)),
        Constraints(expression=(call("$is_distinct_from", var("f", f), var("g", f)),)),
        Constraints(expression=(call("$not", call("$less_than", var("f", f), var("g", f))),)),
    ]
    nan_aware = engine.name != "sqlite"  # float comparisons in expressions stay in the framework on PG and H2
    check(engine, [("f", "float64"), ("g", "float64")], rows, queries,
          [True] * 8 + [not nan_aware] * 3)


def test_integer_division_and_modulus_signs(engine: Engine) -> None:
    i = pa.int64()
    rows = [(-7,), (7,), (-8,), (0,), (None,)]
    queries = [
        Constraints(expression=(call("$equal", call("$divide", var("x", i), const(i, 2), t=i), const(i, -3)),)),
        Constraints(expression=(call("$equal", call("$modulus", var("x", i), const(i, 3), t=i), const(i, -1)),)),
        Constraints(expression=(call("$greater_than", call("$negate", var("x", i), t=i), const(i, 0)),)),
        Constraints(expression=(call("$less_than", call("$multiply", var("x", i), const(i, -3), t=i),
                                     call("$add", var("x", i), const(i, 100), t=i)),)),
    ]
    # SQLite returns NULL for x / 0 where Athena fails: its division stays in the framework.
    pushed = [engine.name != "sqlite", engine.name != "sqlite", True, True]
    check(engine, [("x", "int64")], rows, queries, pushed)


def test_decimals(engine: Engine) -> None:
    d = pa.decimal128(10, 2)
    rows = [(Decimal("1.50"),), (Decimal("-0.01"),), (Decimal("99999999.99"),), (None,), (Decimal("0.00"),)]
    queries = [
        Constraints(summary={"d": at_least(Decimal("0.00"), d)}),
        Constraints(summary={"d": points(d, Decimal("1.50"), Decimal("0.00"), nulls=True)}),
        Constraints(**top(2, ("d", DESC_LAST))),
        Constraints(expression=(call("$greater_than", call("$add", var("d", d), const(d, Decimal("0.50")),
                                                           t=pa.decimal128(11, 2)),
                                     const(pa.decimal128(11, 2), Decimal("2.00"))),)),
    ]
    # SQLite stores decimals as REAL: exact to compare up to 15 digits (wider ones stay in the framework).
    # Decimal arithmetic is never pushed.
    check(engine, [("d", "decimal")], rows, queries, [True, True, True, False])


# ------------------------------------------------------------------------------------------ time


def test_timestamps_finer_than_milliseconds(engine: Engine) -> None:
    if engine.name == "sqlite":
        pytest.skip("SQLite timestamps are text; they are compared in the framework")
    base = dt.datetime(2020, 1, 1)
    micro = dt.timedelta(microseconds=1)
    values = [base, base + 500 * micro, base + 1000 * micro, base + 1500 * micro, base - 500 * micro,
              dt.datetime(1969, 12, 31, 23, 59, 59, 999500), None]
    rows = [(v, values[(i + 1) % len(values)]) for i, v in enumerate(values)]
    ms = dt.timedelta(milliseconds=1)
    queries = [
        Constraints(summary={"t": points(TS, base)}),
        Constraints(summary={"t": at_least(base, TS, strict=True)}),
        Constraints(summary={"t": at_most(base + ms, TS)}),
        Constraints(summary={"t": SortedRangeSet(TS, (Range(Marker(base - ms, Bound.ABOVE),
                                                            Marker(base + ms, Bound.BELOW)),), True)}),
        Constraints(summary={"t": points(TS, dt.datetime(1969, 12, 31, 23, 59, 59, 999000))}),
        Constraints(expression=(call("$equal", var("t", TS), const(TS, base)),)),
        Constraints(expression=(call("$less_than", var("t", TS), var("u", TS)),)),
        Constraints(**top(3, ("t", ASC_LAST), ("u", DESC_LAST))),
        Constraints(**top(2, ("t", DESC_LAST))),
    ]
    sql = check(engine, [("t", "timestamp"), ("u", "timestamp")], rows, queries, [True] * 9)
    assert "DATE_TRUNC" not in sql[0] and "DATE_TRUNC" in sql[5], sql  # value sets stay sargable


def test_timestamps_with_time_zone(engine: Engine) -> None:
    if "timestamptz" not in engine.kinds:
        pytest.skip(f"{engine.name} has no timestamp with time zone")
    tz = pa.timestamp("ms", "UTC")
    base = dt.datetime(2020, 6, 1, 12, tzinfo=dt.UTC)
    values = [base, base + dt.timedelta(microseconds=700), base - dt.timedelta(hours=5), None]
    queries = [
        Constraints(summary={"z": points(tz, base)}),
        Constraints(summary={"z": at_least(base - dt.timedelta(hours=1), tz)}),
        Constraints(**top(2, ("z", DESC_LAST))),
    ]
    check(engine, [("z", "timestamptz")], [(v,) for v in values], queries, [True, True, True])


def test_dates(engine: Engine) -> None:
    d = pa.date32()
    values = [dt.date(2020, 2, 29), dt.date(1000, 1, 1), dt.date(2999, 12, 31), None]
    queries = [
        Constraints(summary={"d": at_least(dt.date(2000, 1, 1), d)}),
        Constraints(summary={"d": AllOrNoneValueSet(d, False, True)}),
        Constraints(**top(2, ("d", ASC_FIRST))),
    ]
    exact = engine.name != "sqlite"  # SQLite dates are text
    check(engine, [("d", "date")], [(v,) for v in values], queries, [exact, True, True])
