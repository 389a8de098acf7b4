"""What the local Athena pushes to a connector, decided from the SQL alone (no connector involved)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from connector import capabilities as declared
from connector.local.errors import QueryError
from connector.local.planner import QueryPlan, TablePlan, parse_query, plan_query
from connector.local.session import Capabilities
from connector.protocol.constraints import (
    Bound,
    Constant,
    FunctionCall,
    Marker,
    OrderByField,
    Range,
    SortDirection,
    SortedRangeSet,
    Variable,
)

ORDERS = pa.schema([("id", pa.int64()), ("customer_id", pa.int32()), ("amount", pa.decimal128(12, 2)),
                    ("status", pa.string()), ("ordered_at", pa.timestamp("ms")), ("day", pa.date32()),
                    ("score", pa.float64()), ("vip", pa.bool_()), ("note", pa.string())])
CUSTOMERS = pa.schema([("id", pa.int64()), ("region", pa.string()), ("name", pa.string())])
SCHEMAS = {"c.s.orders": ORDERS, "c.s.customers": CUSTOMERS, "d.s.customers": CUSTOMERS}

FULL = Capabilities(declared.Capabilities(passthrough=True).to_wire())
NONE = Capabilities()


def plan(sql: str, caps: Capabilities = FULL, serde: int = 6) -> QueryPlan:
    parsed = parse_query(sql)
    for source in parsed.sources:
        source.schema = SCHEMAS.get(source.label, ORDERS)
    return plan_query(parsed, {s.name: (serde, caps) for s in parsed.sources if s.kind == "federated"})


def table(sql: str, caps: Capabilities = FULL, serde: int = 6, index: int = 0) -> TablePlan:
    return plan(sql, caps, serde).tables[index]


def srs(t: pa.DataType, *ranges: Range, nulls: bool = False) -> SortedRangeSet:
    return SortedRangeSet(t, tuple(ranges), nulls)


LOW, HIGH = Marker.below_all(), Marker.above_all()
I64 = pa.int64()


# ------------------------------------------------------------------------------------------ §4.4 idioms

@pytest.mark.parametrize(("where", "expected"), [
    ("id = 5", srs(I64, Range.equal(5))),
    ("5 = id", srs(I64, Range.equal(5))),
    ("id > 5", srs(I64, Range(Marker(5, Bound.ABOVE), HIGH))),
    ("id >= 5", srs(I64, Range(Marker(5, Bound.EXACTLY), HIGH))),
    ("id < 5", srs(I64, Range(LOW, Marker(5, Bound.BELOW)))),
    ("id <= 5", srs(I64, Range(LOW, Marker(5, Bound.EXACTLY)))),
    ("5 < id", srs(I64, Range(Marker(5, Bound.ABOVE), HIGH))),
    ("id BETWEEN 1 AND 10", srs(I64, Range(Marker(1, Bound.EXACTLY), Marker(10, Bound.EXACTLY)))),
    ("id IN (2, 1)", srs(I64, Range.equal(1), Range.equal(2))),
    ("id NOT IN (1, 2)", srs(I64, Range(LOW, Marker(1, Bound.BELOW)),
                             Range(Marker(1, Bound.ABOVE), Marker(2, Bound.BELOW)),
                             Range(Marker(2, Bound.ABOVE), HIGH))),
    ("id <> 3", srs(I64, Range(LOW, Marker(3, Bound.BELOW)), Range(Marker(3, Bound.ABOVE), HIGH))),
    ("id != 3", srs(I64, Range(LOW, Marker(3, Bound.BELOW)), Range(Marker(3, Bound.ABOVE), HIGH))),
    ("id IS NULL", srs(I64, nulls=True)),
    ("id IS NOT NULL", srs(I64, Range(LOW, HIGH))),
    ("NOT id IS NULL", srs(I64, Range(LOW, HIGH))),
    ("id = 5 OR id IS NULL", srs(I64, Range.equal(5), nulls=True)),
    ("id = 5 AND id = 6", srs(I64)),
    ("NOT (id BETWEEN 1 AND 10)", srs(I64, Range(LOW, Marker(1, Bound.BELOW)), Range(Marker(10, Bound.ABOVE), HIGH))),
    ("id < 3 OR id > 7 OR id = 5", srs(I64, Range(LOW, Marker(3, Bound.BELOW)), Range.equal(5),
                                       Range(Marker(7, Bound.ABOVE), HIGH))),
    ("id IS DISTINCT FROM 4", srs(I64, Range(LOW, Marker(4, Bound.BELOW)), Range(Marker(4, Bound.ABOVE), HIGH),
                                  nulls=True)),
    ("id IS NOT DISTINCT FROM 4", srs(I64, Range.equal(4))),
])
def test_single_column_idioms_become_the_summary(where: str, expected: SortedRangeSet) -> None:
    p = table(f"SELECT id FROM c.s.orders WHERE {where}")
    assert dict(p.constraints.summary) == {"id": expected}
    assert p.constraints.expression == ()
    assert p.predicates and all(x.kind == "summary" and x.trusted for x in p.predicates)


def test_the_worked_example_of_the_spec() -> None:
    p = table("SELECT * FROM c.s.orders WHERE customer_id = 5 AND id BETWEEN 1 AND 10 AND status IN ('x', 'y') "
              "AND score IS NULL AND customer_id <> 3 ORDER BY id DESC LIMIT 10")
    i32 = pa.int32()
    assert p.constraints.summary == {
        "customer_id": srs(i32, Range.equal(5)),  # = 5 and <> 3 intersect
        "id": srs(I64, Range(Marker(1, Bound.EXACTLY), Marker(10, Bound.EXACTLY))),
        "status": srs(pa.string(), Range.equal("x"), Range.equal("y")),
        "score": srs(pa.float64(), nulls=True),
    }
    assert p.constraints.expression == ()
    assert p.constraints.order_by == (OrderByField("id", SortDirection.DESC_NULLS_LAST),)
    assert p.constraints.limit == 10


@pytest.mark.parametrize(("where", "column", "value"), [
    ("amount > 990", "amount", Decimal("990.00")),
    ("amount > 990.5", "amount", Decimal("990.50")),
    ("ordered_at >= TIMESTAMP '2024-06-01 10:00:00.250'", "ordered_at", dt.datetime(2024, 6, 1, 10, 0, 0, 250000)),
    ("ordered_at >= DATE '2024-06-01'", "ordered_at", dt.datetime(2024, 6, 1)),
    ("day >= DATE '2024-06-01'", "day", dt.date(2024, 6, 1)),
    ("score > 1", "score", 1.0),
    ("score > 0.1", "score", 0.1),
    ("customer_id > -7", "customer_id", -7),
    ("id > 5.0", "id", 5),
])
def test_literals_take_the_column_type_exactly(where: str, column: str, value: object) -> None:
    p = table(f"SELECT id FROM c.s.orders WHERE {where}")
    value_set = p.constraints.summary[column]
    assert isinstance(value_set, SortedRangeSet)
    marker = value_set.ranges[0].low
    assert marker.value == value and type(marker.value) is type(value)


@pytest.mark.parametrize("where", [
    "amount > 990.555",  # more decimals than the column
    "id > 5.5",  # not an integer
    "customer_id = 3000000000",  # does not fit INTEGER
    "ordered_at > TIMESTAMP '2024-01-01 00:00:00.123456'",  # finer than milliseconds
    "id = NULL",
    "id IN (1, NULL)",
])
def test_inexact_literals_are_not_pushed_as_domains(where: str) -> None:
    p = table(f"SELECT id FROM c.s.orders WHERE {where}")
    assert p.constraints.summary == {}
    assert all(not x.trusted or x.kind == "expression" for x in p.predicates)


def test_a_string_column_compared_with_a_number_is_rejected_as_athena_does() -> None:
    with pytest.raises(QueryError, match="Cannot apply operator: varchar = integer"):
        table("SELECT id FROM c.s.orders WHERE status = 5")


def test_bare_boolean_column_and_its_negation() -> None:
    assert table("SELECT id FROM c.s.orders WHERE vip").constraints.summary == {
        "vip": srs(pa.bool_(), Range.equal(True))}
    assert table("SELECT id FROM c.s.orders WHERE NOT vip").constraints.summary == {
        "vip": srs(pa.bool_(), Range.equal(False))}
    assert table("SELECT id FROM c.s.orders WHERE vip IS NOT NULL").constraints.summary == {
        "vip": srs(pa.bool_(), Range(LOW, HIGH))}
    assert table("SELECT id FROM c.s.orders WHERE vip <> true OR vip IS NULL").constraints.summary == {
        "vip": srs(pa.bool_(), Range.equal(False), nulls=True)}


# ------------------------------------------------------------------------------------------ expressions


def test_multi_column_predicates_become_expressions() -> None:
    p = table("SELECT id FROM c.s.orders WHERE customer_id = 7 OR note IS NULL")
    assert p.constraints.summary == {}
    bool_ = pa.bool_()
    assert p.constraints.expression == (FunctionCall(bool_, "$or", (
        FunctionCall(bool_, "$equal", (Variable("customer_id", pa.int32()), Constant(pa.int32(), (7,)))),
        FunctionCall(bool_, "$is_null", (Variable("note", pa.string()),)))),)
    assert p.predicates[0].kind == "expression" and p.predicates[0].trusted


def test_arithmetic_like_and_in_lists_in_expressions() -> None:
    p = table("SELECT id FROM c.s.orders WHERE id + customer_id > 10 AND note LIKE 'a%' AND (id IN (1, 2) OR vip)")
    names = [e.name for e in p.constraints.expression]
    assert names == ["$greater_than", "$like_pattern", "$or"]
    add = p.constraints.expression[0].arguments[0]
    assert isinstance(add, FunctionCall) and add.name == "$add" and add.type == pa.int64()
    in_list = p.constraints.expression[2].arguments[0]
    assert isinstance(in_list, FunctionCall) and in_list.name == "$in"
    assert in_list.arguments[1] == FunctionCall(pa.list_(I64), "$array", (Constant(I64, (1, 2)),))


def test_decimal_arithmetic_follows_trino_precision_rules() -> None:
    p = table("SELECT id FROM c.s.orders WHERE amount * 2 > score OR amount + customer_id > 5")
    e = p.constraints.expression[0]
    multiply = e.arguments[0].arguments[0]  # type: ignore[union-attr]
    add = e.arguments[1].arguments[0]  # type: ignore[union-attr]
    assert multiply.type == pa.decimal128(22, 2)  # decimal(12,2) * integer(=decimal(10,0))
    assert add.type == pa.decimal128(13, 2)  # 1 + max(2,0) + max(10, 10)


def test_expressions_need_every_function_declared() -> None:
    caps = Capabilities(declared.Capabilities(functions=frozenset({"$or", "$equal"})).to_wire())
    p = table("SELECT id FROM c.s.orders WHERE customer_id = 7 OR note IS NULL", caps)
    assert p.constraints.expression == ()
    assert p.predicates[0].kind == "engine" and "$is_null" in p.predicates[0].reason
    assert "note" in p.columns and "customer_id" in p.columns  # the engine needs them now


@pytest.mark.parametrize("where", ["lower(note) = 'x'", "CAST(id AS varchar) = '1'", "note LIKE 'a!%' ESCAPE '!'",
                                   "CASE WHEN vip THEN 1 ELSE 0 END = 1", "id IN (SELECT id FROM c.s.customers)"])
def test_predicates_without_a_standard_form_stay_with_the_engine(where: str) -> None:
    p = table(f"SELECT id FROM c.s.orders WHERE {where}")
    assert p.constraints.summary == {} and p.constraints.expression == ()
    assert plan(f"SELECT id FROM c.s.orders WHERE {where}").engine_sql.count("WHERE") >= 1


# ------------------------------------------------------------------------------------------ capabilities


def test_without_declared_filters_the_summary_is_sent_and_reapplied() -> None:
    p = plan("SELECT id FROM c.s.orders WHERE amount > 5", NONE)
    t = p.tables[0]
    assert "amount" in t.constraints.summary
    assert not t.predicates[0].trusted
    assert t.columns == ["id", "amount"]  # read for the engine to filter
    assert '"amount" > 5' in p.engine_sql


def test_declared_filters_are_trusted_and_leave_the_engine_query() -> None:
    p = plan("SELECT id FROM c.s.orders WHERE amount > 5")
    assert p.tables[0].columns == ["id"]
    assert "WHERE" not in p.engine_sql


def test_nullable_comparison_is_needed_for_value_or_null() -> None:
    caps = Capabilities({declared.FILTER: FULL.raw[declared.FILTER][:1]})  # sorted_range_set only
    t = table("SELECT id FROM c.s.orders WHERE id = 5 OR id IS NULL", caps)
    assert t.constraints.summary == {}
    assert "nullable_comparison" in t.predicates[0].reason


def test_serde_versions_before_4_push_only_the_summary() -> None:
    t = table("SELECT id FROM c.s.orders WHERE amount > 5 AND (id = 1 OR note = 'x') ORDER BY id LIMIT 3", FULL, 3)
    assert "amount" in t.constraints.summary and t.constraints.expression == ()
    assert not any(p.trusted for p in t.predicates)
    assert t.constraints.limit == -1 and t.constraints.order_by == ()


# ------------------------------------------------------------------------------------------ LIMIT and top-N


def test_top_n_needs_order_keys_that_are_columns() -> None:
    assert table("SELECT id FROM c.s.orders ORDER BY amount DESC NULLS FIRST LIMIT 3").constraints.order_by == (
        OrderByField("amount", SortDirection.DESC_NULLS_FIRST),)
    assert table("SELECT id, amount AS a FROM c.s.orders ORDER BY a LIMIT 3").constraints.order_by == (
        OrderByField("amount", SortDirection.ASC_NULLS_LAST),)
    t = table("SELECT id FROM c.s.orders ORDER BY amount + 1 LIMIT 3")
    assert t.constraints.order_by == () and t.constraints.limit == -1


@pytest.mark.parametrize("sql", [
    "SELECT id FROM c.s.orders WHERE lower(note) = 'x' LIMIT 3",  # a filter the engine still applies
    "SELECT count(*) FROM c.s.orders LIMIT 3",
    "SELECT DISTINCT status FROM c.s.orders LIMIT 3",
    "SELECT status FROM c.s.orders GROUP BY status LIMIT 3",
    "SELECT o.id FROM c.s.orders o JOIN c.s.customers c ON o.id = c.id LIMIT 3",
    "SELECT id FROM c.s.orders OFFSET 2 LIMIT 3",
])
def test_limit_is_not_pushed_when_the_engine_must_see_every_row(sql: str) -> None:
    for t in plan(sql).tables:
        assert not t.constraints.has_limit
        assert t.constraints.order_by == ()


def test_limit_without_order_needs_limit_pushdown() -> None:
    assert table("SELECT id FROM c.s.orders WHERE id > 3 LIMIT 7").constraints.limit == 7
    caps = Capabilities({k: v for k, v in FULL.raw.items() if k != declared.LIMIT})
    assert table("SELECT id FROM c.s.orders LIMIT 7", caps).constraints.limit == -1
    caps = Capabilities({k: v for k, v in FULL.raw.items() if k != declared.TOP_N})
    assert not table("SELECT id FROM c.s.orders ORDER BY id LIMIT 7", caps).constraints.has_limit


# ------------------------------------------------------------------------------------------ joins


def test_outer_joins_push_only_to_the_preserved_side() -> None:
    p = plan("SELECT o.id FROM c.s.orders o LEFT JOIN c.s.customers c ON o.customer_id = c.id "
             "WHERE o.amount > 5 AND c.region IS NULL")
    orders, customers = p.tables
    assert set(orders.constraints.summary) == {"amount"}
    assert customers.constraints.summary == {}  # an anti-join idiom: pushing it would change the result
    assert '"c"."region" IS NULL' in p.engine_sql


def test_left_join_on_conditions_push_to_the_joined_table() -> None:
    p = plan("SELECT o.id FROM c.s.orders o LEFT JOIN c.s.customers c ON o.customer_id = c.id AND c.region = 'x' "
             "AND o.amount > 1")
    orders, customers = p.tables
    assert orders.constraints.summary == {}  # an ON condition does not filter the preserved side
    assert set(customers.constraints.summary) == {"region"}


def test_inner_join_on_conditions_and_cross_catalog_references() -> None:
    p = plan("SELECT o.id, c.name FROM c.s.orders o JOIN d.s.customers c ON o.customer_id = c.id AND c.region = 'x'")
    assert [t.source.catalog for t in p.tables] == ["c", "d"]
    assert set(p.tables[1].constraints.summary) == {"region"}
    assert p.tables[1].columns == ["id", "name"]


def test_count_star_reads_no_column() -> None:
    t = table("SELECT count(*) FROM c.s.orders WHERE id > 3")
    assert t.columns == []


def test_self_join_gives_two_scans_with_their_own_constraints() -> None:
    p = plan("SELECT a.id FROM c.s.orders a JOIN c.s.orders b ON a.id = b.customer_id WHERE a.amount > 1 AND b.vip")
    assert [set(t.constraints.summary) for t in p.tables] == [{"amount"}, {"vip"}]


def test_correlated_subquery_columns_count_for_the_outer_table() -> None:
    p = plan("SELECT o.id FROM c.s.orders o WHERE EXISTS (SELECT 1 FROM c.s.customers c WHERE c.id = o.customer_id)")
    assert p.tables[0].columns == ["id", "customer_id"]


# ------------------------------------------------------------------------------------------ names


def test_catalog_names_and_passthrough_parsing() -> None:
    parsed = parse_query('SELECT * FROM "lambda:MyFn".Sch.TAB')
    assert parsed.sources[0].catalog == "lambda:MyFn" and str(parsed.sources[0].table) == "sch.tab"
    parsed = parse_query("SELECT * FROM TABLE(Demo.system.query(query => 'SELECT 1'))")
    source = parsed.sources[0]
    assert source.catalog == "demo" and source.passthrough == {"QUERY": "SELECT 1"}
    parsed = parse_query("SELECT * FROM TABLE(system.query('SELECT 2'))", default_catalog="x")
    assert parsed.sources[0].passthrough == {"QUERY": "SELECT 2"} and parsed.sources[0].catalog == "x"


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT * FROM orders", "needs a schema and a catalog"),
    ("SELECT * FROM s.orders", "needs a catalog"),
    ("SELECT * FROM TABLE(c.system.other('x'))", "unsupported table function"),
    ("SELECT * FROM TABLE(c.system.query(query => ''))", "non-empty query"),
    ("DELETE FROM c.s.t", "only queries"),
    ("SELECT 1; SELECT 2", "one SQL statement"),
    ("SELEC 1", "line 1:7: mismatched input '1'"),
])
def test_bad_queries_get_clear_errors(sql: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_query(sql)


def test_unknown_columns_are_reported() -> None:
    with pytest.raises(QueryError, match="line 1:8: Column 'nope' cannot be resolved"):
        plan("SELECT nope FROM c.s.orders")


def test_ctes_are_not_tables() -> None:
    p = plan("WITH big AS (SELECT id FROM c.s.orders WHERE amount > 5) SELECT count(*) FROM big")
    assert len(p.tables) == 1 and set(p.tables[0].constraints.summary) == {"amount"}


# ------------------------------------------------------------------------------------------ negated forms

NEGATION_ROWS = pa.table({
    "id": pa.array([1, 2, 3, 4, 5, None], I64),
    "customer_id": pa.array([1, 2, None, 4, 7, 2], pa.int32()),
    "score": pa.array([0.5, float("nan"), None, 2.0, -0.0, 1.0], pa.float64()),
    "vip": pa.array([True, False, None, True, False, None]),
    "note": pa.array(["special requests", "x", None, "Special", "", "specialrequests"]),
    "status": pa.array(["a", "b", "a", None, "c", "b"]),
})
NEGATION_SCHEMA = pa.schema([f for f in ORDERS if f.name in NEGATION_ROWS.column_names])


# Each negated or infix form beside forms whose meaning it shares; every one is planned, its pushed constraints
# evaluated on NEGATION_ROWS, and compared with DuckDB evaluating the SQL itself on the same rows.
NEGATED_FORMS = [
    "note NOT LIKE '%special%requests%'", "NOT (note LIKE '%special%requests%')", "NOT note LIKE 'x'",
    "note NOT LIKE 's%' AND id > 1", "note NOT LIKE 's%' OR customer_id = 2",
    "id NOT IN (1, 3)", "NOT (id IN (1, 3))", "id NOT IN (1, NULL)", "customer_id NOT IN (1, 2) OR id = 1",
    "id NOT BETWEEN 2 AND 4", "NOT (id BETWEEN 2 AND 4)", "id + customer_id NOT BETWEEN 3 AND 8",
    "id IS NOT NULL", "NOT (id IS NULL)", "note IS NOT NULL AND id <> customer_id",
    "id IS NOT DISTINCT FROM customer_id", "NOT (id IS DISTINCT FROM customer_id)", "id IS NOT DISTINCT FROM 2",
    "id IS DISTINCT FROM 2", "score IS DISTINCT FROM 1.0", "score IS NOT DISTINCT FROM 1.0",
    "id <> 2", "id != customer_id", "NOT (id = customer_id)", "score <> 0.5", "NOT (score = 0.5)",
    "NOT (id > 2 AND customer_id < 5)", "NOT (id > 2 OR note LIKE 's%')", "NOT (NOT (note LIKE 's%'))",
    "NOT (id IN (1, 2) OR note NOT LIKE '%e%')", "NOT vip", "NOT (vip AND id > 1)", "vip IS NOT TRUE",
    "NOT (customer_id % 2 = 0)", "NOT (-customer_id < -1)", "NULLIF(customer_id, 2) IS NOT NULL",
]


@pytest.mark.parametrize("where", NEGATED_FORMS)
def test_negated_forms_keep_their_meaning(where: str) -> None:
    import duckdb

    from connector.pushdown.evaluate import filter_mask

    parsed = parse_query(f"SELECT id FROM c.s.orders WHERE {where}")
    parsed.sources[0].schema = NEGATION_SCHEMA
    plan_ = plan_query(parsed, {parsed.sources[0].name: (6, FULL)})
    pushed = plan_.tables[0]
    trusted = [p for p in pushed.predicates if p.trusted]
    if "IS NOT TRUE" not in where:
        assert trusted, f"nothing was pushed for {where}: {[p.reason for p in pushed.predicates]}"
    mask = filter_mask(pushed.constraints.summary, pushed.constraints.expression, NEGATION_ROWS)
    connector_side = NEGATION_ROWS.filter(mask)
    # What DuckDB's engine applies after the trusted part, then the whole predicate by DuckDB alone.
    name = pushed.source.name
    with duckdb.connect() as con:
        con.register(name, connector_side)
        got = sorted(map(str, con.sql(plan_.engine_sql).fetchall()))
        con.unregister(name)
        con.register(name, NEGATION_ROWS)
        expected = sorted(map(str, con.sql(parsed.tree.sql("duckdb")).fetchall()))
    assert got == expected, (where, pushed.constraints)
