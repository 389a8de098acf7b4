"""Pushdown is exact: rows read with any constraints == the unfiltered rows filtered by plain Python.

The constraints go through the adapter (SQL with bind parameters to fakesnow, the rest as the framework's
residual) in both split modes; the expectation is computed here, independently, with Athena's semantics:
three-valued logic, LIKE without an escape character, integer division truncating toward zero, NULL
ordering as asked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.snowflake import SnowflakeAdapter
from connector.protocol.constraints import (
    AllOrNoneValueSet,
    Bound,
    Constant,
    Constraints,
    EquatableValueSet,
    Expression,
    FunctionCall,
    Marker,
    OrderByField,
    Range,
    SortDirection,
    SortedRangeSet,
    ValueSet,
    Variable,
)
from connector.protocol.messages import Split, TableName
from connector.scan import rows_of
from tests import snowflake_data as data
from tests.servers.fakesnow import FakeSnowflake
from tests.test_snowflake import ONE_PARTITION, PASSWORD, make_adapter

pytestmark = pytest.mark.integration
ORDERS = TableName("sales", "orders")
BASE_TS = dt.datetime(2024, 1, 1)


@pytest.fixture(scope="module")
def adapters(fakesnow_server: FakeSnowflake) -> Iterator[dict[str, SnowflakeAdapter]]:
    data.load(fakesnow_server)
    extra = f"&user=afq_user&password={PASSWORD}"
    made = {"batches": make_adapter(fakesnow_server, extra, snowflake_split_mode="batches",
                                    snowflake_split_rows="600"),
            "single": make_adapter(fakesnow_server, extra, snowflake_split_mode="single")}
    yield made
    for a in made.values():
        a.close()


@pytest.fixture(scope="module")
def table(adapters: dict[str, SnowflakeAdapter]) -> Table:
    a = adapters["single"]
    schema = a.get_table(None, ORDERS).schema  # type: ignore[arg-type]
    return Table(schema, read(a, schema, Constraints()))


def read_splits(adapter: SnowflakeAdapter, schema: pa.Schema, constraints: Constraints) -> list[list[dict[str, Any]]]:
    page = adapter.get_splits(None, ORDERS, ONE_PARTITION, constraints, None)  # type: ignore[arg-type]
    out = []
    for properties in page.splits:
        scan = adapter.read_split(None, ORDERS, schema, Split(None, None, properties), constraints)  # type: ignore
        out.append([r for batch in rows_of(scan, schema) for r in batch.to_pylist()])
    return out


def read(adapter: SnowflakeAdapter, schema: pa.Schema, constraints: Constraints) -> list[dict[str, Any]]:
    return [r for rows in read_splits(adapter, schema, constraints) for r in rows]


class Table:
    """The unfiltered rows (a small repr keeps Hypothesis' failure reports readable)."""

    def __init__(self, schema: pa.Schema, rows: list[dict[str, Any]]) -> None:
        self.schema, self.rows = schema, rows

    def __repr__(self) -> str:
        return f"Table({len(self.rows)} rows)"


# ------------------------------------------------------------------------------------------ strategies

def _ts(ms: int) -> dt.datetime:
    return BASE_TS + dt.timedelta(milliseconds=ms)


VALUES: dict[str, tuple[pa.DataType, st.SearchStrategy[Any]]] = {
    "id": (pa.int64(), st.integers(-5, data.ORDERS_ROWS + 5)),
    "qty": (pa.int64(), st.integers(-55, 55)),
    "amount": (pa.decimal128(12, 2), st.integers(-100100, 100100).map(lambda c: Decimal(c) / 100)),
    "big": (pa.decimal128(38, 0), st.sampled_from([-(10**15), -1, 0, 1, 10**14]).map(Decimal)),
    "price": (pa.float64(), st.sampled_from([-1.25, 0.5, 1.0, 3.0, 1e10])),
    "name": (pa.string(), st.sampled_from([*data.NAMES, "b", "gamma0", "Alpha"])),
    "flag": (pa.bool_(), st.booleans()),
    "d": (pa.date32(), st.integers(-3, 63).map(lambda n: dt.date(2024, 1, 1) + dt.timedelta(days=n))),
    # Whole seconds and their neighbours: the data has .000, .0005, .000999, .001 and .123456 s.
    "ts": (pa.timestamp("ms"), st.tuples(st.integers(0, 86400 * 30), st.sampled_from([-1, 0, 1, 123, 124])).map(
        lambda p: _ts(p[0] * 1000 + p[1]))),
    "t": (pa.string(), st.sampled_from(["00:00:00.000000", "12:00:00.000000", "23:59:59.000000"])),
}


def _marker_low(draw: Callable[[Any], Any], values: st.SearchStrategy[Any]) -> Marker:
    if draw(st.booleans()):
        return Marker.below_all()
    return Marker(draw(values), draw(st.sampled_from([Bound.EXACTLY, Bound.ABOVE])))


def _marker_high(draw: Callable[[Any], Any], values: st.SearchStrategy[Any]) -> Marker:
    if draw(st.booleans()):
        return Marker.above_all()
    return Marker(draw(values), draw(st.sampled_from([Bound.EXACTLY, Bound.BELOW])))


@st.composite
def value_sets(draw: Callable[[Any], Any], column: str) -> ValueSet:
    t, values = VALUES[column]
    kind = draw(st.sampled_from(["range", "range", "points", "equatable", "all_or_none"]))
    null_allowed = draw(st.booleans())
    if kind == "all_or_none":
        return AllOrNoneValueSet(t, draw(st.booleans()), null_allowed)
    if kind == "equatable":
        return EquatableValueSet(t, tuple(draw(st.lists(values, max_size=4, unique=True))), draw(st.booleans()),
                                 null_allowed)
    if kind == "points":
        return SortedRangeSet(t, tuple(Range.equal(v) for v in draw(st.lists(values, min_size=1, max_size=4,
                                                                             unique=True))), null_allowed)
    ranges = tuple(Range(_marker_low(draw, values), _marker_high(draw, values))
                   for _ in range(draw(st.integers(1, 2))))
    return SortedRangeSet(t, ranges, null_allowed)


def _var(column: str) -> Variable:
    return Variable(column, VALUES[column][0])


def _const(t: pa.DataType, value: Any) -> Constant:
    return Constant(t, (value,))


BOOL = pa.bool_()
I64 = pa.int64()


@st.composite
def expressions(draw: Callable[[Any], Any], depth: int = 0) -> Expression:
    choice = draw(st.sampled_from(["like", "arith", "divide", "compare", "is_null", "ts"]
                                  + (["not", "or"] if depth < 2 else [])))
    if choice == "like":
        pattern = draw(st.text(alphabet="a%_!BΩle", max_size=5))
        return FunctionCall(BOOL, "$like_pattern", (_var("name"), _const(pa.string(), pattern)))
    if choice == "arith":
        op = draw(st.sampled_from(["$add", "$subtract", "$multiply"]))
        cmp = draw(st.sampled_from(["$greater_than", "$less_than_or_equal", "$equal", "$not_equal"]))
        inner = FunctionCall(I64, op, (_var("qty"), _const(I64, draw(st.integers(-5, 5)))))
        return FunctionCall(BOOL, cmp, (inner, _const(I64, draw(st.integers(-60, 60)))))
    if choice == "divide":
        divisor = draw(st.sampled_from([-7, -2, 3, 4]))
        inner = FunctionCall(I64, "$divide", (_var("qty"), _const(I64, divisor)))
        return FunctionCall(BOOL, "$equal", (inner, _const(I64, draw(st.integers(-10, 10)))))
    if choice == "compare":
        column = draw(st.sampled_from(["id", "amount", "name", "d", "qty", "price"]))
        t, values = VALUES[column]
        cmp = draw(st.sampled_from(["$less_than", "$greater_than_or_equal", "$equal", "$is_distinct_from"]))
        return FunctionCall(BOOL, cmp, (_var(column), _const(t, draw(values))))
    if choice == "is_null":
        return FunctionCall(BOOL, "$is_null", (_var(draw(st.sampled_from(["qty", "name", "ts"]))),))
    if choice == "ts":
        t, values = VALUES["ts"]
        return FunctionCall(BOOL, draw(st.sampled_from(["$greater_than", "$less_than_or_equal"])),
                            (_var("ts"), _const(t, draw(values))))
    if choice == "not":
        return FunctionCall(BOOL, "$not", (draw(expressions(depth + 1)),))
    return FunctionCall(BOOL, "$or", (draw(expressions(depth + 1)), draw(expressions(depth + 1))))


@st.composite
def constraints(draw: Callable[[Any], Any]) -> Constraints:
    columns = draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=3, unique=True))
    summary = {c: draw(value_sets(c)) for c in columns}
    exprs = tuple(draw(st.lists(expressions(), max_size=2)))
    order: tuple[OrderByField, ...] = ()
    limit = -1
    if draw(st.booleans()):
        limit = draw(st.integers(1, 40))
        if draw(st.booleans()):
            key = draw(st.sampled_from(["id", "qty", "name", "ts", "d", "amount", "t"]))
            order = (OrderByField(key, draw(st.sampled_from(list(SortDirection)))),)
    return Constraints(summary=summary, expression=exprs, order_by=order, limit=limit)


# ------------------------------------------------------------------------------------------ the oracle

def in_value_set(value: Any, vs: ValueSet) -> bool:
    if value is None:
        return vs.null_allowed
    if isinstance(vs, AllOrNoneValueSet):
        return vs.all
    if isinstance(vs, EquatableValueSet):
        return (value in vs.values) == vs.white_list
    for r in vs.ranges:
        low_ok = r.low.unbounded or (value >= r.low.value if r.low.bound is Bound.EXACTLY else value > r.low.value)
        high_ok = r.high.unbounded or (value <= r.high.value if r.high.bound is Bound.EXACTLY
                                       else value < r.high.value)
        if low_ok and high_ok:
            return True
    return False


def _like(value: str, pattern: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def evaluate(e: Expression, row: dict[str, Any]) -> Any:
    if isinstance(e, Variable):
        return row[e.column]
    if isinstance(e, Constant):
        return e.values[0]
    args = [evaluate(a, row) for a in e.arguments]
    name = e.name
    if name == "$not":
        return None if args[0] is None else not args[0]
    if name == "$or":
        if True in args:
            return True
        return None if None in args else False
    if name == "$is_null":
        return args[0] is None
    if name == "$is_distinct_from":
        return args[0] != args[1] if None not in args else (args[0] is None) != (args[1] is None)
    if None in args:
        return None
    a, b = args
    operations: dict[str, Callable[[Any, Any], Any]] = {
        "$add": lambda x, y: x + y, "$subtract": lambda x, y: x - y, "$multiply": lambda x, y: x * y,
        "$divide": lambda x, y: abs(x) // abs(y) * (1 if (x >= 0) == (y > 0) else -1),
        "$equal": lambda x, y: x == y, "$not_equal": lambda x, y: x != y, "$less_than": lambda x, y: x < y,
        "$less_than_or_equal": lambda x, y: x <= y, "$greater_than": lambda x, y: x > y,
        "$greater_than_or_equal": lambda x, y: x >= y, "$like_pattern": _like,
    }
    return operations[name](a, b)


def expected_rows(rows: list[dict[str, Any]], c: Constraints) -> list[dict[str, Any]]:
    return [r for r in rows if all(in_value_set(r[k], vs) for k, vs in c.summary.items())
            and all(evaluate(e, r) is True for e in c.expression)]


def check(adapter: SnowflakeAdapter, schema: pa.Schema, all_rows: list[dict[str, Any]], c: Constraints) -> None:
    per_split = read_splits(adapter, schema, c)
    got = [r for rows in per_split for r in rows]
    want = expected_rows(all_rows, c)
    wanted_ids = Counter(r["id"] for r in want)
    if not c.has_limit:
        assert Counter(r["id"] for r in got) == wanted_ids
        assert sorted(got, key=lambda r: r["id"]) == sorted(want, key=lambda r: r["id"])
        return
    # LIMIT and top-N hold per split; Athena applies the final LIMIT / ORDER BY over all splits itself.
    assert all(len(rows) <= c.limit for rows in per_split)
    assert all(wanted_ids[r["id"]] == 1 for r in got) and len({r["id"] for r in got}) == len(got)
    if not c.order_by:
        assert min(len(got), c.limit) == min(c.limit, len(want))
        return
    f = c.order_by[0]
    assert ordered_keys(got, f)[: c.limit] == ordered_keys(want, f)[: c.limit]


def ordered_keys(rows: list[dict[str, Any]], f: OrderByField) -> list[Any]:
    """The ORDER BY column's values in Athena's order (ties make rows, not keys, ambiguous)."""
    nulls = [None for r in rows if r[f.column] is None]
    values = sorted((r[f.column] for r in rows if r[f.column] is not None), reverse=not f.direction.ascending)
    return nulls + values if f.direction.nulls_first else values + nulls


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=constraints(), mode=st.sampled_from(["batches", "single"]))
def test_pushdown_matches_python(adapters: dict[str, SnowflakeAdapter],
                                 table: Table, c: Constraints, mode: str) -> None:
    schema, rows = table.schema, table.rows
    check(adapters[mode], schema, rows, c)


def test_sub_millisecond_boundaries_are_exact(adapters: dict[str, SnowflakeAdapter],
                                              table: Table) -> None:
    """Athena sees TS floored to milliseconds; a bound on the floored value must not catch .0005 s rows."""
    schema, rows = table.schema, table.rows
    with_fraction = next(r["ts"] for r in rows if r["ts"] is not None and r["ts"].microsecond == 0)
    for bound in (Bound.EXACTLY, Bound.ABOVE):
        for vs in (SortedRangeSet(pa.timestamp("ms"), (Range(Marker(with_fraction, bound), Marker.above_all()),),
                                  False),
                   SortedRangeSet(pa.timestamp("ms"), (Range.equal(with_fraction),), False),
                   EquatableValueSet(pa.timestamp("ms"), (with_fraction,), True, False)):
            check(adapters["batches"], schema, rows, Constraints(summary={"ts": vs}))


def test_pushed_sql_uses_bind_parameters(adapters: dict[str, SnowflakeAdapter],
                                         table: Table) -> None:
    schema = table.schema
    name = EquatableValueSet(pa.string(), ("it's'; DROP TABLE ORDERS; --",), True, False)
    c = Constraints(summary={"name": name, "qty": SortedRangeSet(pa.int64(), (Range.equal(3),), True)},
                    expression=(FunctionCall(BOOL, "$like_pattern", (_var("name"), _const(pa.string(), "a!%"))),),
                    order_by=(OrderByField("id", SortDirection.ASC_NULLS_LAST),), limit=3)
    text = adapters["single"].describe_split(None, ORDERS, schema, Split(None, None, {}), c)  # type: ignore[arg-type]
    assert "DROP" not in text.split("params:")[0] and "ESCAPE '!'" in text and "LIMIT 3" in text
    assert "it's'; DROP TABLE ORDERS; --" in text.split("params:")[1]
    assert read(adapters["single"], schema, c) == []
