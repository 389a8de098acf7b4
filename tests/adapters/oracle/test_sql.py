"""Golden SQL for every pushdown form the Oracle adapter generates; every statement parses as Oracle SQL.

No Oracle server runs here: the exact text is pinned (a change to it is a deliberate decision) and parsed with
sqlglot's Oracle dialect; ``test_oracle_h2`` executes the same SQL on H2 in Oracle mode.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from sqlglot import exp

import adapters.oracle.adapter as oracle_adapter
from adapters.oracle.adapter import catalog_sql
from adapters.oracle.dialect import OracleDialect
from connector.protocol.constraints import (
    AllOrNoneValueSet,
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
from tests.support.oracle_plans import COLUMNS, TS, TSTZ, assert_parses, plan

I64 = pa.int64()
F64 = pa.float64()
D1 = pa.decimal128(1, 0)
PLUS_2 = dt.timezone(dt.timedelta(hours=2))
BOOL = pa.bool_()
STR = pa.string()


def call(name: str, *args: object, t: pa.DataType = BOOL) -> FunctionCall:
    return FunctionCall(t, name, tuple(args))  # type: ignore[arg-type]


def var(name: str) -> Variable:
    return Variable(name, COLUMNS[name].type)


def const(value: object, t: pa.DataType = I64) -> Constant:
    return Constant(t, (value,))


def ranges(t: pa.DataType, *rs: Range, nulls: bool = False) -> SortedRangeSet:
    return SortedRangeSet(t, tuple(rs), nulls)


def above(v: object) -> Range:
    return Range(Marker(v, Bound.ABOVE), Marker.above_all())


def at_least(v: object) -> Range:
    return Range(Marker(v, Bound.EXACTLY), Marker.above_all())


def below(v: object) -> Range:
    return Range(Marker.below_all(), Marker(v, Bound.BELOW))


def at_most(v: object) -> Range:
    return Range(Marker.below_all(), Marker(v, Bound.EXACTLY))


T0 = dt.datetime(2024, 1, 2, 3, 4, 5)
T1 = dt.datetime(2024, 1, 2, 3, 4, 5, 678000)
FMT = "'YYYY-MM-DD HH24:MI:SS.FF6'"

# (name, constraints, projection, expected SQL, expected params, residual is empty)
GOLDEN = [
    ("points become IN", Constraints(summary={"id": ranges(I64, Range.equal(1), Range.equal(2))}), ("id",),
     'SELECT "ID" FROM "SALES"."ORDERS" WHERE "ID" IN (:p1, :p2)', {"p1": 1, "p2": 2}, True),
    ("one point is =", Constraints(summary={"amount": ranges(pa.decimal128(12, 2), Range.equal(Decimal("1.50")))}),
     ("id",), 'SELECT "ID" FROM "SALES"."ORDERS" WHERE "AMOUNT" = :p1', {"p1": Decimal("1.50")}, True),
    ("range with nulls",
     Constraints(summary={"qty": ranges(I64, Range(Marker(1, Bound.EXACTLY), Marker(9, Bound.BELOW)), nulls=True)}),
     ("id",),
     'SELECT "ID" FROM "SALES"."ORDERS" WHERE (("QTY" >= :p1 AND "QTY" < :p2) OR "QTY" IS NULL)',
     {"p1": 1, "p2": 9}, True),
    ("NOT IN", Constraints(summary={"name": EquatableValueSet(STR, ("a", "b"), False, False)}), ("id",),
     'SELECT "ID" FROM "SALES"."ORDERS" WHERE (NOT "NAME" IN (:p1, :p2))', {"p1": "a", "p2": "b"}, True),
    ("IS NOT NULL", Constraints(summary={"qty": AllOrNoneValueSet(I64, True, False)}), ("id",),
     'SELECT "ID" FROM "SALES"."ORDERS" WHERE NOT "QTY" IS NULL', {}, True),
    ("nothing matches", Constraints(summary={"qty": AllOrNoneValueSet(I64, False, False)}), ("id",),
     'SELECT "ID" FROM "SALES"."ORDERS" WHERE 1 = 0', {}, True),
    ("whole-second timestamp binds a datetime (a DATE bind is exact)",
     Constraints(summary={"created": ranges(TS, at_least(T0))}), ("id",),
     'SELECT "ID" FROM "SALES"."ORDERS" WHERE "CREATED" >= :p1', {"p1": T0}, True),
    ("fractional timestamp goes through TO_TIMESTAMP with an explicit format",
     Constraints(summary={"ts3": ranges(TS, above(T1))}), ("id",),
     f'SELECT "ID" FROM "SALES"."ORDERS" WHERE "TS3" > TO_TIMESTAMP(:p1, {FMT})',
     {"p1": "2024-01-02 03:04:05.678000"}, True),
    ("TIMESTAMP(6) = X is [X, X+1ms)", Constraints(summary={"ts": ranges(TS, Range.equal(T1))}), ("id",),
     f'SELECT "ID" FROM "SALES"."ORDERS" WHERE ("TS" >= TO_TIMESTAMP(:p1, {FMT}) AND "TS" < TO_TIMESTAMP(:p2, {FMT}))',
     {"p1": "2024-01-02 03:04:05.678000", "p2": "2024-01-02 03:04:05.679000"}, True),
    ("TIMESTAMP(6) > X is >= X+1ms", Constraints(summary={"ts": ranges(TS, above(T0))}), ("id",),
     f'SELECT "ID" FROM "SALES"."ORDERS" WHERE "TS" >= TO_TIMESTAMP(:p1, {FMT})',
     {"p1": "2024-01-02 03:04:05.001000"}, True),
    ("TIMESTAMP(6) <= X is < X+1ms", Constraints(summary={"ts": ranges(TS, at_most(T0))}), ("id",),
     f'SELECT "ID" FROM "SALES"."ORDERS" WHERE "TS" < TO_TIMESTAMP(:p1, {FMT})',
     {"p1": "2024-01-02 03:04:05.001000"}, True),
    ("TIMESTAMP(6) NOT IN is outside [X, X+1ms)",
     Constraints(summary={"ts": EquatableValueSet(TS, (T1,), False, False)}), ("id",),
     f'SELECT "ID" FROM "SALES"."ORDERS" WHERE (NOT ("TS" >= TO_TIMESTAMP(:p1, {FMT}) AND "TS" < TO_TIMESTAMP(:p2, '
     f'{FMT})))', {"p1": "2024-01-02 03:04:05.678000", "p2": "2024-01-02 03:04:05.679000"}, True),
    ("TIMESTAMP WITH TIME ZONE is read and compared as its UTC instant",
     Constraints(summary={"tz": ranges(TSTZ, below(dt.datetime(2024, 1, 2, 5, tzinfo=PLUS_2)))}),
     ("id", "tz"),
     'SELECT "ID", SYS_EXTRACT_UTC("TZ") AS "TZ" FROM "SALES"."ORDERS" WHERE SYS_EXTRACT_UTC("TZ") < :p1',
     {"p1": dt.datetime(2024, 1, 2, 3)}, True),
    ("FLOAT is read and compared as a double", Constraints(summary={"f": ranges(pa.float64(), Range.equal(0.1))}),
     ("f",), 'SELECT TO_BINARY_DOUBLE("F") AS "F" FROM "SALES"."ORDERS" WHERE TO_BINARY_DOUBLE("F") = :p1',
     {"p1": 0.1}, True),
    ("range on BINARY_DOUBLE keeps NaN out", Constraints(summary={"bd": ranges(pa.float64(), above(1.5))}), ("id",),
     'SELECT "ID" FROM "SALES"."ORDERS" WHERE ("BD" IS NULL OR NOT "BD" IS NAN) AND "BD" > :p1', {"p1": 1.5}, True),
    ("integer division truncates", Constraints(expression=(call("$equal", call("$divide", var("qty"), const(3), t=I64),
                                                                 const(1)),)), ("id",),
     'SELECT "ID" FROM "SALES"."ORDERS" WHERE ((TRUNC("QTY" / :p1)) = :p2)', {"p1": 3, "p2": 1}, True),
    ("modulus by a constant is MOD",
     Constraints(expression=(call("$equal", call("$modulus", var("qty"), const(3), t=I64), const(1)),)), ("id",),
     'SELECT "ID" FROM "SALES"."ORDERS" WHERE ((MOD("QTY", :p1)) = :p2)', {"p1": 3, "p2": 1}, True),
    ("IS DISTINCT FROM without the 23ai syntax",
     Constraints(expression=(call("$is_distinct_from", var("qty"), var("id")),)), ("id",),
     'SELECT "ID" FROM "SALES"."ORDERS" WHERE (("QTY" <> "ID" AND NOT "QTY" IS NULL AND NOT "ID" IS NULL) OR '
     '(("QTY" IS NULL AND NOT "ID" IS NULL) OR (NOT "QTY" IS NULL AND "ID" IS NULL)))', {}, True),
    ("LIKE with an escape character", Constraints(expression=(call("$like_pattern", var("name"), const("a!%", STR)),)),
     ("id",), 'SELECT "ID" FROM "SALES"."ORDERS" WHERE ("NAME" LIKE :p1 ESCAPE \'!\')', {"p1": "a!!%"}, True),
    ("NOT and OR", Constraints(expression=(call("$not", call("$or", call("$is_null", var("name")),
                                                            call("$greater_than", var("qty"), const(2)))),)), ("id",),
     'SELECT "ID" FROM "SALES"."ORDERS" WHERE (NOT (("NAME" IS NULL) OR ("QTY" > :p1)))', {"p1": 2}, True),
    ("top-N with FETCH FIRST", Constraints(order_by=(OrderByField("amount", SortDirection.DESC_NULLS_LAST),
                                                     OrderByField("name", SortDirection.ASC_NULLS_FIRST)), limit=5),
     ("id",), 'SELECT "ID" FROM "SALES"."ORDERS" ORDER BY "AMOUNT" DESC NULLS LAST, "NAME" ASC NULLS FIRST '
              'FETCH FIRST 5 ROWS ONLY', {}, True),
    ("plain LIMIT", Constraints(limit=10), ("id",),
     'SELECT "ID" FROM "SALES"."ORDERS" FETCH FIRST 10 ROWS ONLY', {}, True),
    ("zero columns (count(*))", Constraints(), (), 'SELECT 1 FROM "SALES"."ORDERS"', {}, True),
    ("mixed-case column names are quoted", Constraints(summary={"mixedcase": ranges(I64, Range.equal(1))}),
     ("mixedcase",), 'SELECT "MixedCase" FROM "SALES"."ORDERS" WHERE "MixedCase" = :p1', {"p1": 1}, True),
    ("INTERVAL is read as text", Constraints(), ("span",),
     'SELECT TO_CHAR("SPAN") AS "SPAN" FROM "SALES"."ORDERS"', {}, True),
]


@pytest.mark.parametrize(("name", "constraints", "projection", "sql", "params", "exact"), GOLDEN,
                         ids=[g[0] for g in GOLDEN])
def test_golden_sql(name: str, constraints: Constraints, projection: tuple[str, ...], sql: str,
                    params: dict[str, object], exact: bool) -> None:
    query = plan(constraints, projection)
    assert query.sql == sql
    assert dict(query.params) == params
    assert query.residual.is_empty is exact
    assert_parses(query.sql)


def test_limits_are_fetch_first_only() -> None:
    """Thin mode cannot reach Oracle 11g (DPY-3010): the ROWNUM form is gone, and asking for it is an error."""
    constraints = Constraints(order_by=(OrderByField("qty", SortDirection.ASC_NULLS_LAST),), limit=3)
    query = plan(constraints)
    assert query.sql == 'SELECT "ID" FROM "SALES"."ORDERS" ORDER BY "QTY" ASC FETCH FIRST 3 ROWS ONLY'
    assert_parses(query.sql)


def test_in_lists_over_1000_are_split() -> None:
    values = tuple(range(2500))
    query = plan(Constraints(summary={"qty": EquatableValueSet(I64, values, True, False)}))
    tree = assert_parses(query.sql)
    lists = sorted(len(node.expressions) for node in tree.find_all(exp.In))
    assert lists == [500, 1000, 1000]
    assert list(query.params.values()) == list(values)  # type: ignore[union-attr]
    expression = call("$in", var("qty"), Constant(I64, values))
    query = plan(Constraints(expression=(expression,)))
    tree = assert_parses(query.sql)
    assert sorted(len(n.expressions) for n in tree.find_all(exp.In)) == [500, 1000, 1000]


KEPT = [
    ("'' is NULL in Oracle: <> ''", Constraints(summary={"name": EquatableValueSet(STR, ("a", ""), False, False)})),
    ("'' in a range", Constraints(summary={"name": ranges(STR, above(""))})),
    ("'' in an expression", Constraints(expression=(call("$not_equal", var("name"), const("", STR)),))),
    ("'' in an IN list", Constraints(expression=(call("$in", var("name"), Constant(STR, ("x", ""))),))),
    ("NVARCHAR2 ordering (UTF-16 order differs)", Constraints(summary={"nname": ranges(STR, above("m"))})),
    ("NVARCHAR2 in ORDER BY", Constraints(order_by=(OrderByField("nname", SortDirection.ASC_NULLS_LAST),), limit=2)),
    ("CLOB comparisons", Constraints(summary={"doc": ranges(STR, Range.equal("x"))})),
    ("BINARY_DOUBLE in ORDER BY (NaN placement)",
     Constraints(order_by=(OrderByField("bd", SortDirection.DESC_NULLS_LAST),), limit=2)),
    ("BINARY_DOUBLE in expressions", Constraints(expression=(call("$greater_than", var("bd"), const(1.0, F64)),))),
    ("TIMESTAMP(6) in expressions", Constraints(expression=(call("$equal", var("ts"), const(T1, TS)),))),
    ("MOD by a column (MOD(a, 0) is a)",
     Constraints(expression=(call("$equal", call("$modulus", var("qty"), var("id"), t=I64), const(1)),))),
    ("MOD by zero", Constraints(expression=(call("$equal", call("$modulus", var("qty"), const(0), t=I64), const(1)),))),
    ("floating arithmetic",
     Constraints(expression=(call("$greater_than", call("$add", var("f"), const(1.0, F64), t=F64), const(2.0, F64)),))),
    ("decimal arithmetic", Constraints(expression=(call("$greater_than", call(
        "$multiply", var("amount"), var("amount"), t=pa.decimal128(25, 4)), const(Decimal("2"), D1)),))),
    ("NaN bound", Constraints(summary={"f": ranges(pa.float64(), above(float("nan")))})),
    ("TIMESTAMP(6) at the end of time (no X + 1 ms)",
     Constraints(summary={"ts": ranges(TS, at_most(dt.datetime(9999, 12, 31, 23, 59, 59, 999999)))})),
]


@pytest.mark.parametrize(("name", "constraints"), KEPT, ids=[k[0] for k in KEPT])
def test_what_oracle_cannot_evaluate_exactly_stays_in_the_connector(name: str, constraints: Constraints) -> None:
    query = plan(constraints)
    assert not query.residual.is_empty
    assert query.residual.summary.keys() == constraints.summary.keys()
    assert query.residual.expression == constraints.expression
    assert "FETCH" not in query.sql and "ROWNUM" not in query.sql  # a limit after a kept filter is not pushed
    assert query.params in ({}, [])
    residual_columns = query.residual.columns()
    selected = {c.name for c in query.columns}
    assert residual_columns <= selected  # the connector can evaluate what it kept
    assert_parses(query.sql)


def test_kept_filter_with_pushed_order_keeps_the_limit_in_the_connector() -> None:
    constraints = Constraints(summary={"name": EquatableValueSet(STR, ("",), False, False)},
                              order_by=(OrderByField("qty", SortDirection.ASC_NULLS_LAST),), limit=4)
    query = plan(constraints)
    assert query.sql == 'SELECT "ID", "NAME" FROM "SALES"."ORDERS" ORDER BY "QTY" ASC'
    assert query.residual.limit == 4 and not query.residual.order_by
    assert query.residual.summary == constraints.summary


def test_strings_order_only_with_a_code_point_ordered_charset() -> None:
    constraints = Constraints(summary={"name": ranges(STR, above("m"))})
    assert plan(constraints).residual.is_empty
    query = plan(constraints, dialect=OracleDialect(binary_string_order=False))
    assert query.residual.summary == constraints.summary
    equality = Constraints(summary={"name": ranges(STR, Range.equal("m"))})
    assert plan(equality, dialect=OracleDialect(binary_string_order=False)).residual.is_empty


def test_catalog_statements_parse() -> None:
    for kind in ("tables", "page", "lookup"):
        tree = assert_parses(catalog_sql(kind))
        binds = {p.name for p in tree.find_all(exp.Placeholder)}
        assert "owner" in binds
    assert "OFFSET :skip ROWS FETCH FIRST :take ROWS ONLY" in catalog_sql("page")
    assert "ALL_SYNONYMS" in catalog_sql("tables") and "DB_LINK IS NULL" in catalog_sql("tables")
    for statement in (oracle_adapter._SCHEMAS, oracle_adapter._SYNONYM, oracle_adapter._COLUMNS.format(collation=""),
                      oracle_adapter._COLUMNS.format(collation=", COLLATION")):
        assert_parses(statement)
    assert "ALL_VIEWS" in catalog_sql("lookup") and "UPPER(NAME) = UPPER(:name)" in catalog_sql("lookup")


def test_every_value_is_a_bind_never_a_literal() -> None:
    hostile = "x' OR '1'='1"
    query = plan(Constraints(summary={"name": ranges(STR, Range.equal(hostile))},
                             expression=(call("$like_pattern", var("name"), const(hostile, STR)),)))
    assert hostile not in query.sql and "'1'" not in query.sql
    assert hostile in query.params.values()  # type: ignore[union-attr]


def test_collated_and_text_numbers_are_not_compared_by_the_dialect_either() -> None:
    """The dialect hooks say what ``prepare`` decides, for any caller of plan_select."""
    from connector.pushdown.sql import SourceColumn, plan_select

    columns = {"ci": SourceColumn("ci", "CI", STR, "VARCHAR2", "BINARY_CI"),
               "bin": SourceColumn("bin", "BIN", STR, "VARCHAR2", "USING_NLS_COMP"),
               "n": SourceColumn("n", "N", STR, "NUMBER")}
    constraints = Constraints(summary={c: ranges(STR, Range.equal("7")) for c in columns})
    query = plan_select(OracleDialect(), exp.table_("T"), columns, ["bin"], constraints)
    assert set(query.residual.summary) == {"ci", "n"} and '"BIN" = :p1' in query.sql
