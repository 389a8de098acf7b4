"""Property tests: WHERE clauses turned into constraints select exactly the rows DuckDB's WHERE selects.

The constraints are evaluated with the framework's Arrow evaluator (what a connector applies), the SQL by
DuckDB (an independent engine with SQL's three-valued logic): for any predicate and any data, same rows.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from connector import capabilities as declared
from connector.local.domains import ALL, Interval, complement, intersect, normalize
from connector.local.planner import parse_query, plan_query
from connector.local.session import Capabilities
from connector.pushdown.evaluate import filter_mask

FULL = Capabilities(declared.Capabilities().to_wire())
SCHEMA = pa.schema([("a", pa.int64()), ("b", pa.int64()), ("s", pa.string()), ("d", pa.decimal128(6, 2)),
                    ("v", pa.bool_())])
_DUCK = duckdb.connect()

# ------------------------------------------------------------------------------------------ interval algebra

bounds = st.one_of(st.none(), st.tuples(st.integers(0, 10), st.booleans()))
intervals = st.lists(st.builds(Interval, bounds, bounds), max_size=4)
POINTS = [Fraction(n, 2) for n in range(-4, 25)]


def member(x: Fraction, items: tuple[Interval, ...] | list[Interval]) -> bool:
    def inside(i: Interval) -> bool:
        low_ok = i.low is None or (x > i.low[0] or (x == i.low[0] and i.low[1]))
        high_ok = i.high is None or (x < i.high[0] or (x == i.high[0] and i.high[1]))
        return low_ok and high_ok
    return any(inside(i) for i in items)


@given(intervals, intervals)
def test_interval_algebra_matches_pointwise_membership(a: list[Interval], b: list[Interval]) -> None:
    na, nb = normalize(a), normalize(b)
    for x in POINTS:
        assert member(x, na) == member(x, a)
        assert member(x, intersect(na, nb)) == (member(x, a) and member(x, b))
        assert member(x, complement(na)) == (not member(x, a))
        assert member(x, normalize([*na, *nb])) == (member(x, a) or member(x, b))
    # normalized: sorted, disjoint, not touching
    for left, right in itertools.pairwise(na):
        assert left.high is not None and right.low is not None
        assert left.high[0] < right.low[0] or (left.high[0] == right.low[0] and not (left.high[1] or right.low[1]))
    assert complement(()) == (ALL,) and complement((ALL,)) == ()


# ------------------------------------------------------------------------------------------ predicates

ints = st.integers(-3, 3)
int_literal = ints.map(str)
string_literal = st.sampled_from(["''", "'a'", "'ab'", "'b'", "'B'", "'a%'", "'_b'"])


def comparison(column: str, literal: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    op = st.sampled_from(["=", "<>", "<", "<=", ">", ">=", "IS DISTINCT FROM", "IS NOT DISTINCT FROM"])
    return st.builds(lambda o, v, flip: f"{v} {o} {column}" if flip and "DISTINCT" not in o else f"{column} {o} {v}",
                     op, literal, st.booleans())


def single_column(column: str, literal: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    leaves = st.one_of(
        comparison(column, literal),
        st.builds(lambda lo, hi, neg: f"{column} {'NOT ' if neg else ''}BETWEEN {lo} AND {hi}", literal, literal,
                  st.booleans()),
        st.builds(lambda vs, neg: f"{column} {'NOT ' if neg else ''}IN ({', '.join(vs)})",
                  st.lists(literal, min_size=1, max_size=3), st.booleans()),
        st.sampled_from([f"{column} IS NULL", f"{column} IS NOT NULL"]),
    )
    return st.recursive(leaves, lambda inner: st.one_of(
        st.builds(lambda x, y: f"({x} AND {y})", inner, inner),
        st.builds(lambda x, y: f"({x} OR {y})", inner, inner),
        st.builds(lambda x: f"NOT ({x})", inner)), max_leaves=5)


def multi_column() -> st.SearchStrategy[str]:
    operand = st.one_of(st.sampled_from(["a", "b"]), int_literal,
                        st.builds(lambda x, o, y: f"({x} {o} {y})", st.sampled_from(["a", "b"]),
                                  st.sampled_from(["+", "-", "*"]),
                                  st.one_of(st.sampled_from(["a", "b"]), int_literal)))
    leaves = st.one_of(
        st.builds(lambda x, o, y: f"{x} {o} {y}", operand, st.sampled_from(["=", "<>", "<", ">=", "IS DISTINCT FROM"]),
                  operand),
        st.builds(lambda x, vs: f"{x} IN ({', '.join(vs)})", operand, st.lists(int_literal, min_size=1, max_size=3)),
        st.builds(lambda p: f"s LIKE {p}", string_literal),
        st.builds(lambda x: f"{x} IS NULL", operand),
        single_column("a", int_literal), single_column("s", string_literal),
        single_column("v", st.sampled_from(["TRUE", "FALSE"])), st.sampled_from(["v", "NOT v"]),
        st.builds(lambda o, v: f"d {o} {v}", st.sampled_from(["=", "<", ">="]),
                  st.sampled_from(["0", "1.5", "-2.25", "1.255", "0.1"])),
    )
    return st.recursive(leaves, lambda inner: st.one_of(
        st.builds(lambda x, y: f"({x} AND {y})", inner, inner),
        st.builds(lambda x, y: f"({x} OR {y})", inner, inner),
        st.builds(lambda x: f"NOT ({x})", inner)), max_leaves=4)


rows = st.lists(st.tuples(st.one_of(st.none(), ints), st.one_of(st.none(), ints),
                          st.one_of(st.none(), st.sampled_from(["", "a", "ab", "b", "B", "a%", "xb"])),
                          st.one_of(st.none(), st.sampled_from(["0", "1.50", "-2.25", "1.25", "0.10"])),
                          st.one_of(st.none(), st.booleans())),
                max_size=25)


def check(predicate: str, data: list[tuple[object, ...]]) -> None:
    from decimal import Decimal

    table = pa.table({"a": pa.array([r[0] for r in data], pa.int64()), "b": pa.array([r[1] for r in data], pa.int64()),
                      "s": pa.array([r[2] for r in data], pa.string()),
                      "d": pa.array([None if r[3] is None else Decimal(str(r[3])) for r in data], pa.decimal128(6, 2)),
                      "v": pa.array([r[4] for r in data], pa.bool_())})
    parsed = parse_query(f"SELECT a FROM c.s.t WHERE {predicate}")
    parsed.sources[0].schema = SCHEMA
    plan = plan_query(parsed, {parsed.sources[0].name: (6, FULL)})
    constraints = plan.tables[0].constraints
    # What a connector returns for the constraints, then what the engine still applies.
    pushed = table.filter(filter_mask(constraints.summary, constraints.expression, table)) if table.num_rows else table
    rid = pa.array(range(table.num_rows), pa.int64())
    _DUCK.register("__afq_1", pushed.append_column("rid", rid.filter(
        filter_mask(constraints.summary, constraints.expression, table)) if table.num_rows else rid))
    engine = plan.engine_sql.replace('SELECT "t"."a" AS "a"', 'SELECT "t"."rid"', 1)
    got = sorted(r[0] for r in _DUCK.sql(engine).fetchall())
    _DUCK.register("__afq_1", table.append_column("rid", rid))
    expected = sorted(r[0] for r in _DUCK.sql(f'SELECT "rid" FROM "__afq_1" AS "t" WHERE {predicate}').fetchall())
    assert got == expected, (predicate, constraints, plan.engine_sql)


@settings(max_examples=100, deadline=None)
@given(single_column("a", int_literal), rows)
def test_single_column_predicates_as_value_sets(predicate: str, data: list[tuple[object, ...]]) -> None:
    parsed = parse_query(f"SELECT a FROM c.s.t WHERE {predicate}")
    parsed.sources[0].schema = SCHEMA
    plan = plan_query(parsed, {parsed.sources[0].name: (6, FULL)})
    assert all(p.kind == "summary" or "always true" in p.reason for p in plan.tables[0].predicates)
    check(predicate, data)


@settings(max_examples=100, deadline=None)
@given(single_column("s", string_literal), rows)
def test_string_predicates_as_value_sets(predicate: str, data: list[tuple[object, ...]]) -> None:
    check(predicate, data)


@settings(max_examples=150, deadline=None)
@given(multi_column(), rows)
def test_any_where_clause_keeps_its_rows(predicate: str, data: list[tuple[object, ...]]) -> None:
    check(predicate, data)


def test_check_detects_a_wrong_constraint() -> None:
    """The property above can fail: a constraint that admits NULL where SQL does not is caught."""
    table = pa.table({"a": pa.array([None, 1], pa.int64())})
    from connector.protocol.constraints import Range, SortedRangeSet

    wrong = {"a": SortedRangeSet(pa.int64(), (Range.equal(1),), True)}
    assert pc.sum(filter_mask(wrong, (), table)).as_py() == 2
    right = _DUCK.sql("SELECT count(*) FROM (SELECT * FROM (VALUES (NULL), (1)) v(a)) WHERE a = 1").fetchall()
    assert right == [(1,)]
