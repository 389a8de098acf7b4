"""Golden Teradata SQL for every pushdown form, split kind and catalog query; types; split proofs.

Every statement here is also parsed with sqlglot's Teradata dialect and must print back unchanged.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from adapters.teradata.adapter import TeradataAdapter
from adapters.teradata.dialect import MAX_TOP, TERADATA_TYPES, TeradataDialect, plan_query, type_name
from adapters.teradata.splits import hash_splits, partition_splits, split_predicates
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.errors import InvalidRequest
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
from connector.pushdown.sql import SourceColumn
from tests.support.teradata_duckdb import FakeTeradata, TdColumn, TdTable

B = pa.bool_()
I32, I64, I16 = pa.int32(), pa.int64(), pa.int16()
DEC = pa.decimal128(10, 2)
TS = pa.timestamp("ms")
T0 = dt.datetime(2024, 1, 2, 3, 4, 5, 6000)

COLUMNS = {
    "id": SourceColumn("id", "Id", I32, "INTEGER"),
    "big": SourceColumn("big", "Big", I64, "BIGINT"),
    "small": SourceColumn("small", "Small", I16, "SMALLINT"),
    "amount": SourceColumn("amount", "Amount", DEC, "DECIMAL(10,2)"),
    "ratio": SourceColumn("ratio", "Ratio", pa.float64(), "FLOAT"),
    "day": SourceColumn("day", "Day", pa.date32(), "DATE"),
    "at": SourceColumn("at", "At", TS, "TIMESTAMP(6)"),
    "at0": SourceColumn("at0", "At0", TS, "TIMESTAMP(0)"),
    "zoned": SourceColumn("zoned", "Zoned", pa.timestamp("ms", "UTC"), "TIMESTAMP(6) WITH TIME ZONE"),
    "name": SourceColumn("name", "Name", pa.string(), "VARCHAR(40)"),
    "code": SourceColumn("code", "Code", pa.string(), "CHAR(4)"),
    "clock": SourceColumn("clock", "Clock", pa.string(), "TIME(0)"),
}
TABLE = exp.table_(exp.to_identifier("Orders", quoted=True), db=exp.to_identifier("Sales", quoted=True))


def plan(constraints: Constraints, projection: tuple[str, ...] = ("id",), split: dict[str, str] | None = None,
         ) -> Any:
    query = plan_query(TeradataDialect(), TABLE, COLUMNS, projection, constraints, split_predicates(split or {}))
    assert sqlglot.parse_one(query.sql, read="teradata").sql("teradata") == query.sql
    assert "OFFSET" not in query.sql and "NULLS" not in query.sql and "LIMIT" not in query.sql
    return query


def rng(low: Any = None, high: Any = None, low_bound: Bound = Bound.EXACTLY, high_bound: Bound = Bound.EXACTLY,
        ) -> Range:
    return Range(Marker.below_all() if low is None else Marker(low, low_bound),
                 Marker.above_all() if high is None else Marker(high, high_bound))


def call(name: str, *args: Any, t: pa.DataType = B) -> FunctionCall:
    return FunctionCall(t, name, tuple(args))


def var(name: str) -> Variable:
    return Variable(name, COLUMNS[name].type)


def const(t: pa.DataType, value: Any) -> Constant:
    return Constant(t, (value,))


SELECT = 'SELECT "Id" FROM "Sales"."Orders"'
WITH_NAME = 'SELECT "Id", "Name" FROM "Sales"."Orders"'  # a column the framework filters on is read too

# (constraints, expected SQL, expected parameters, is anything left to the framework?)
GOLDEN: dict[str, tuple[Constraints, str, list[Any], bool]] = {
    "nothing": (Constraints(), SELECT, [], False),
    "range": (Constraints(summary={"id": SortedRangeSet(I32, (rng(3, None, Bound.ABOVE),), False)}),
              f'{SELECT} WHERE "Id" > ?', [3], False),
    "closed range and points": (
        Constraints(summary={"big": SortedRangeSet(I64, (Range.equal(1), Range.equal(5), rng(10, 20)), True)}),
        f'{SELECT} WHERE (("Big" IN (?, ?) OR ("Big" >= ? AND "Big" <= ?)) OR "Big" IS NULL)', [1, 5, 10, 20],
        False),
    "in list": (Constraints(summary={"id": EquatableValueSet(I32, (1, 2, 3), True, False)}),
                f'{SELECT} WHERE "Id" IN (?, ?, ?)', [1, 2, 3], False),
    "not in list": (Constraints(summary={"id": EquatableValueSet(I32, (1, 2), False, False)}),
                    f'{SELECT} WHERE (NOT "Id" IN (?, ?))', [1, 2], False),
    "is null": (Constraints(summary={"amount": AllOrNoneValueSet(DEC, False, True)}),
                f'{SELECT} WHERE "Amount" IS NULL', [], False),
    "is not null": (Constraints(summary={"name": AllOrNoneValueSet(pa.string(), True, False)}),
                    f'{SELECT} WHERE NOT "Name" IS NULL', [], False),
    "nothing matches": (Constraints(summary={"id": AllOrNoneValueSet(I32, False, False)}),
                        f"{SELECT} WHERE 1 = 0", [], False),
    "decimal and date": (
        Constraints(summary={"amount": SortedRangeSet(DEC, (rng(Decimal("9.99"), None, Bound.ABOVE),), False),
                             "day": SortedRangeSet(pa.date32(), (rng(None, dt.date(2024, 1, 1),
                                                                     high_bound=Bound.BELOW),), False)}),
        f'{SELECT} WHERE "Amount" > ? AND "Day" < ?', [Decimal("9.99"), dt.date(2024, 1, 1)], False),
    "timestamp point on the millisecond grid": (
        Constraints(summary={"at": SortedRangeSet(TS, (Range.equal(T0),), False)}),
        f'{SELECT} WHERE ("At" >= ? AND "At" < ?)', [T0, T0 + dt.timedelta(milliseconds=1)], False),
    "timestamp open ranges (the grid only where values are finer than milliseconds)": (
        Constraints(summary={"at": SortedRangeSet(TS, (rng(T0, None, Bound.ABOVE),), True),
                             "at0": SortedRangeSet(TS, (rng(None, T0),), False)}),
        f'{SELECT} WHERE ("At" >= ? OR "At" IS NULL) AND "At0" <= ?',
        [T0 + dt.timedelta(milliseconds=1), T0], False),
    "timestamp with time zone stays in the framework": (
        Constraints(summary={"zoned": SortedRangeSet(pa.timestamp("ms", "UTC"), (rng(T0.replace(tzinfo=dt.UTC)),),
                                                     False)}),
        'SELECT "Id", "Zoned" FROM "Sales"."Orders"', [], True),
    "string equality is a prefilter": (
        Constraints(summary={"name": SortedRangeSet(pa.string(), (Range.equal("O'Neil"),), False)}),
        'SELECT "Id", "Name" FROM "Sales"."Orders" WHERE "Name" = ?', ["O'Neil"], True),
    "string in list with null": (
        Constraints(summary={"code": EquatableValueSet(pa.string(), ("ab", "x y"), True, True)}),
        'SELECT "Id", "Code" FROM "Sales"."Orders" WHERE ("Code" IN (?, ?) OR "Code" IS NULL)', ["ab", "x y"], True),
    "string range is not pushed": (
        Constraints(summary={"name": SortedRangeSet(pa.string(), (rng("a", "m"),), False)}), WITH_NAME, [], True),
    "string not in is not pushed": (
        Constraints(summary={"name": EquatableValueSet(pa.string(), ("a",), False, False)}), WITH_NAME, [], True),
    "string outside the BMP is not prefiltered": (
        Constraints(summary={"name": SortedRangeSet(pa.string(), (Range.equal("emoji \U0001f600"),), False)}),
        WITH_NAME, [], True),
    "TIME text is not compared in Teradata": (
        Constraints(summary={"clock": SortedRangeSet(pa.string(), (Range.equal("12:00:00"),), False)}),
        'SELECT "Id", "Clock" FROM "Sales"."Orders"', [], True),
    "float with a NaN bound stays in the framework": (
        Constraints(summary={"ratio": SortedRangeSet(pa.float64(), (rng(float("nan")),), False)}),
        'SELECT "Id", "Ratio" FROM "Sales"."Orders"', [], True),  # read: the framework filters on it
    "integer arithmetic and MOD": (
        Constraints(expression=(call("$equal", call("$modulus", call("$add", var("id"), const(I32, 1), t=I32),
                                                    const(I32, 3), t=I32), const(I32, 0)),
                                call("$less_than", call("$divide", var("big"), const(I64, 2), t=I64),
                                     call("$negate", var("big"), t=I64)))),
        f'{SELECT} WHERE ((("Id" + ?) MOD ?) = ?) AND (("Big" / ?) < (-"Big"))', [1, 3, 0, 2], False),
    "smallint arithmetic would widen in Teradata": (
        Constraints(expression=(call("$greater_than", call("$multiply", var("small"), var("small"), t=I16),
                                     const(I16, 9)),)), 'SELECT "Id", "Small" FROM "Sales"."Orders"', [], True),
    "float arithmetic stays in the framework": (
        Constraints(expression=(call("$greater_than", call("$divide", var("ratio"), const(pa.float64(), 0.0),
                                                           t=pa.float64()), const(pa.float64(), 1.0)),)),
        'SELECT "Id", "Ratio" FROM "Sales"."Orders"', [], True),
    "nullif, distinct from, in with null, not, or": (
        Constraints(expression=(
            call("$or", call("$equal", call("$nullif", var("id"), const(I32, 0), t=I32), const(I32, 5)),
                 call("$not", call("$is_distinct_from", var("amount"), const(DEC, Decimal("1.50"))))),
            call("$in", var("day"), call("$array", const(pa.date32(), dt.date(2024, 5, 1)), Constant(pa.date32(),
                                                                                                  (None,)),
                                         t=pa.list_(pa.date32()))))),
        f'{SELECT} WHERE ((NULLIF("Id", ?) = ?) OR (NOT (("Amount" <> ? AND NOT "Amount" IS NULL AND NOT ? IS NULL) '
        f'OR (("Amount" IS NULL AND NOT ? IS NULL) OR (NOT "Amount" IS NULL AND ? IS NULL))))) '
        f'AND ("Day" IN (?, NULL))',
        [0, 5, *[Decimal("1.50")] * 4, dt.date(2024, 5, 1)], False),
    "like stays in the framework": (
        Constraints(expression=(call("$like_pattern", var("name"), const(pa.string(), "a%")),)), WITH_NAME, [],
        True),
    "limit is TOP n": (Constraints(limit=10), 'SELECT TOP 10 "Id" FROM "Sales"."Orders"', [], False),
    "top-n with CASE null ordering": (
        Constraints(summary={"id": SortedRangeSet(I32, (rng(0),), False)},
                    order_by=(OrderByField("amount", SortDirection.DESC_NULLS_FIRST),
                              OrderByField("day", SortDirection.ASC_NULLS_LAST)), limit=5),
        'SELECT TOP 5 "Id" FROM "Sales"."Orders" WHERE "Id" >= ? ORDER BY CASE WHEN "Amount" IS NULL THEN 0 ELSE 1 '
        'END ASC, "Amount" DESC, CASE WHEN "Day" IS NULL THEN 1 ELSE 0 END ASC, "Day" ASC', [0], False),
    "order by a fractional timestamp as the last key": (
        Constraints(order_by=(OrderByField("id", SortDirection.ASC_NULLS_FIRST),
                              OrderByField("at", SortDirection.DESC_NULLS_LAST)), limit=2),
        'SELECT TOP 2 "Id" FROM "Sales"."Orders" ORDER BY CASE WHEN "Id" IS NULL THEN 0 ELSE 1 END ASC, "Id" ASC, '
        'CASE WHEN "At" IS NULL THEN 1 ELSE 0 END ASC, "At" DESC', [], False),
    "order by a fractional timestamp before another key": (
        Constraints(order_by=(OrderByField("at", SortDirection.ASC_NULLS_FIRST),
                              OrderByField("id", SortDirection.ASC_NULLS_FIRST)), limit=2),
        'SELECT "Id", "At" FROM "Sales"."Orders"', [], True),  # the framework sorts, so it reads "At"
    "order by TIMESTAMP(0) anywhere": (
        Constraints(order_by=(OrderByField("at0", SortDirection.ASC_NULLS_FIRST),
                              OrderByField("id", SortDirection.ASC_NULLS_FIRST)), limit=2),
        'SELECT TOP 2 "Id" FROM "Sales"."Orders" ORDER BY CASE WHEN "At0" IS NULL THEN 0 ELSE 1 END ASC, "At0" ASC, '
        'CASE WHEN "Id" IS NULL THEN 0 ELSE 1 END ASC, "Id" ASC', [], False),
    "order by a string is the framework's": (
        Constraints(order_by=(OrderByField("name", SortDirection.ASC_NULLS_FIRST),), limit=3), WITH_NAME, [], True),
    "order by without a limit": (
        Constraints(order_by=(OrderByField("id", SortDirection.DESC_NULLS_LAST),)),
        f'{SELECT} ORDER BY CASE WHEN "Id" IS NULL THEN 1 ELSE 0 END ASC, "Id" DESC', [], False),
    "a limit beyond TOP's range": (Constraints(limit=MAX_TOP + 1), SELECT, [], True),
    "limit 0 is the framework's": (Constraints(limit=0), SELECT, [], True),
    "a filter left to the framework keeps the limit there": (
        Constraints(summary={"name": SortedRangeSet(pa.string(), (Range.equal("x"),), False)},
                    order_by=(OrderByField("id", SortDirection.ASC_NULLS_FIRST),), limit=4),
        f'{WITH_NAME} WHERE "Name" = ? ORDER BY CASE WHEN "Id" IS NULL THEN 0 ELSE 1 END ASC, "Id" ASC', ["x"], True),
}


@pytest.mark.parametrize("case", list(GOLDEN))
def test_golden_pushdown_sql(case: str) -> None:
    constraints, sql, params, residual = GOLDEN[case]
    query = plan(constraints)
    assert query.sql == sql
    assert list(query.params) == params
    assert (not query.residual.is_empty) == residual, query.residual
    if constraints.has_limit and "TOP" not in sql:
        assert query.residual.limit == constraints.limit  # the framework applies the limit instead


def test_zero_columns_select_a_constant() -> None:
    assert plan(Constraints(), projection=()).sql == 'SELECT 1 FROM "Sales"."Orders"'


def test_residual_columns_are_selected_for_the_framework() -> None:
    query = plan(Constraints(expression=(call("$like_pattern", var("name"), const(pa.string(), "%a")),)))
    assert query.sql == 'SELECT "Id", "Name" FROM "Sales"."Orders"'


# ------------------------------------------------------------------------------------------ splits


SPLITS = {
    "single": ({}, SELECT),
    "hash on the primary index": (hash_splits(["Id", "Day"], 4)[2],
                                  f'{SELECT} WHERE HASHBUCKET(HASHROW("Id", "Day")) MOD 4 = 2'),
    "hash on an odd name": (hash_splits(['we"ird'], 2)[0], f'{SELECT} WHERE HASHBUCKET(HASHROW("we""ird")) MOD 2 = 0'),
    "first partition range": (partition_splits(10, 4)[0], f"{SELECT} WHERE PARTITION <= 2"),
    "middle partition range": (partition_splits(10, 4)[1], f"{SELECT} WHERE PARTITION >= 3 AND PARTITION <= 5"),
    "last partition range": (partition_splits(10, 4)[3], f"{SELECT} WHERE PARTITION >= 8"),
}


@pytest.mark.parametrize("case", list(SPLITS))
def test_golden_split_sql(case: str) -> None:
    properties, sql = SPLITS[case]
    assert plan(Constraints(), split=properties).sql == sql


def test_split_predicates_combine_with_pushdown_and_top() -> None:
    query = plan(Constraints(summary={"id": SortedRangeSet(I32, (Range.equal(7),), False)}, limit=3),
                 split=partition_splits(100, 4)[1])
    assert query.sql == 'SELECT TOP 3 "Id" FROM "Sales"."Orders" WHERE PARTITION >= 26 AND PARTITION <= 50 AND "Id" = ?'


@pytest.mark.parametrize(("properties", "message"), [
    ({"split": "hash", "hash_columns": "not json", "buckets": "4", "bucket": "1"}, "JSON list of column names"),
    ({"split": "hash", "hash_columns": "[]", "buckets": "4", "bucket": "1"}, "JSON list of column names"),
    ({"split": "hash", "hash_columns": '["A"]', "buckets": "4", "bucket": "4"}, "out of range"),
    ({"split": "hash", "hash_columns": '["A"]', "buckets": "4; DROP", "bucket": "1"}, "is not a non-negative whole"),
    ({"split": "partition", "partition_low": "-1"}, "is not a non-negative whole number"),
    ({"split": "rowid"}, "unknown Teradata split kind"),
])
def test_malformed_split_properties_are_rejected(properties: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        split_predicates(properties)


def _interval(properties: dict[str, str]) -> tuple[float, float]:
    low, high = properties["partition_low"], properties["partition_high"]
    return (float(low) if low else float("-inf"), float(high) if high else float("inf"))


@settings(max_examples=300, deadline=None)
@given(defined=st.integers(1, 10**6), n=st.integers(1, 1024))
def test_partition_ranges_cover_every_partition_number_exactly_once(defined: int, n: int) -> None:
    splits = partition_splits(defined, n)
    assert len(splits) == min(n, defined)
    intervals = [_interval(s) for s in splits]
    assert intervals[0][0] == float("-inf") and intervals[-1][1] == float("inf")  # open at both ends
    for (_, high), (low, _) in itertools.pairwise(intervals):
        assert low == high + 1  # contiguous, no overlap: every integer is in exactly one range
    assert all(low <= high for low, high in intervals)  # no empty range
    sizes = [min(h, defined) - max(lo, 1) + 1 for lo, h in intervals]
    assert max(sizes) - min(sizes) <= 1  # balanced over the defined partitions


def test_eight_byte_partition_numbers_are_valid_split_bounds() -> None:
    """Item 10. Multilevel PPI with 8-byte partitioning numbers combined partitions up to 2^63 - 1 (>= 10^18):
    every split the planner makes must pass the split parser, and bounds past 2^63 - 1 are still refused."""
    defined = 2**63 - 1
    splits = partition_splits(defined, 4)
    assert max(len(s["partition_high"]) for s in splits) == 19
    for properties in splits:
        conditions = split_predicates(dict(properties))
        for condition in conditions:
            assert int(condition.expression.this) <= defined
    assert [c.sql("teradata") for c in split_predicates(dict(splits[-1]))] == [
        f"PARTITION >= {splits[-1]['partition_low']}"]
    with pytest.raises(InvalidRequest, match="fits in a 64-bit integer"):
        split_predicates({"split": "partition", "partition_low": str(2**63)})


def test_partition_predicates_executed_select_each_partition_once() -> None:
    rows = [(p,) for p in range(40)]  # partitions 1..30 defined; 0 and > 30 must still be read
    fake = FakeTeradata([TdTable("S", "T", [TdColumn("P", "I")], rows, partition_of=lambda r: r[0])],
                        dictionary=False)
    seen: list[int] = []
    for properties in partition_splits(30, 7):
        sql = exp.select(exp.column("P", quoted=True)).from_(exp.table_(exp.to_identifier("T", quoted=True),
                                                                        db=exp.to_identifier("S", quoted=True)))
        for condition in split_predicates(properties):
            sql = sql.where(condition)
        seen += [r[0] for r in fake.db.execute(fake.translate(sql.sql("teradata"))).fetchall()]
    assert sorted(seen) == list(range(40))


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.tuples(st.one_of(st.none(), st.integers(-10**6, 10**6)),
                                 st.one_of(st.none(), st.text(max_size=5))), max_size=40),
       n=st.integers(1, 9))
def test_hash_bucket_splits_are_disjoint_and_complete(values: list[tuple[Any, Any]], n: int) -> None:
    """HASHBUCKET(HASHROW(..)) is a non-negative integer for any values, NULLs included, so exactly one
    ``MOD n = k`` holds per row. Executed here with DuckDB's hash in HASHROW's place."""
    rows = [(i, a, b) for i, (a, b) in enumerate(values)]
    fake = FakeTeradata([TdTable("S", "T", [TdColumn("K", "I"), TdColumn("A", "I"), TdColumn("B", "CV", 10)],
                                 rows)], dictionary=False)
    seen: list[int] = []
    for properties in hash_splits(["A", "B"], n):
        sql = exp.select(exp.column("K", quoted=True)).from_(exp.table_(exp.to_identifier("T", quoted=True),
                                                                        db=exp.to_identifier("S", quoted=True)))
        sql = sql.where(*split_predicates(properties))
        seen += [r[0] for r in fake.db.execute(fake.translate(sql.sql("teradata"))).fetchall()]
    assert sorted(seen) == list(range(len(rows)))


# ------------------------------------------------------------------------------------------ catalog SQL


class Recorder:
    """A DB-API connection that records statements and answers with canned rows."""

    def __init__(self, answers: list[list[tuple[Any, ...]]]) -> None:
        self.answers = answers
        self.statements: list[tuple[str, list[Any]]] = []

    def cursor(self) -> Recorder:
        return self

    def execute(self, sql: str, params: Any = None) -> None:
        self.statements.append((sql, list(params or [])))

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.answers.pop(0) if self.answers else []

    def close(self) -> None:
        pass


ADAPTER = TeradataAdapter(parse_connection_string("teradata://jdbc:teradata://h/"), Settings())


@pytest.mark.parametrize(("method", "args", "sql", "params"), [
    ("query_schemas", (), "SELECT DatabaseName FROM DBC.DatabasesVX ORDER BY DatabaseName ASC", []),
    ("query_tables", ("Sales",), "SELECT TableName FROM DBC.TablesVX WHERE DatabaseName = ? AND TableKind IN "
                                 "('T', 'O', 'Q', 'V') ORDER BY TableName ASC", ["Sales"]),
    ("query_tables_page", ("Sales", 11, 20),
     "SELECT TableName FROM DBC.TablesVX WHERE DatabaseName = ? AND TableKind IN ('T', 'O', 'Q', 'V') QUALIFY "
     "ROW_NUMBER() OVER (ORDER BY TableName ASC) BETWEEN ? AND ? ORDER BY TableName ASC", ["Sales", 21, 31]),
    ("query_columns", ("Sales", "Orders"),
     "SELECT ColumnName, ColumnType, ColumnLength, DecimalTotalDigits, DecimalFractionalDigits, Nullable, CharType, "
     "ColumnUDTName FROM DBC.ColumnsVX WHERE DatabaseName = ? AND TableName = ? ORDER BY ColumnId ASC",
     ["Sales", "Orders"]),
    ("query_is_view", ("Sales", "Orders"),
     "SELECT TableKind FROM DBC.TablesVX WHERE DatabaseName = ? AND TableName = ?", ["Sales", "Orders"]),
    ("query_row_partitions", ("Sales", "Orders"),
     "SELECT DefinedCombinedPartitions, ColumnPartitioningLevel FROM DBC.PartitioningConstraintsVX WHERE "
     "DatabaseName = ? AND TableName = ? AND ConstraintType IN ('Q')", ["Sales", "Orders"]),
    ("query_primary_index", ("Sales", "Orders"),
     "SELECT ColumnName FROM DBC.IndicesVX WHERE DatabaseName = ? AND TableName = ? AND IndexType IN ('P', 'Q', "
     "'A') ORDER BY ColumnPosition ASC", ["Sales", "Orders"]),
    ("resolve_schema", ("sales",),
     "SELECT DatabaseName FROM DBC.DatabasesVX WHERE UPPER(DatabaseName) = UPPER(?)", ["sales"]),
])
def test_golden_catalog_sql(method: str, args: tuple[Any, ...], sql: str, params: list[Any]) -> None:
    connection = Recorder([[("Sales", "I", 4, None, None, "N", None, None)]])
    getattr(ADAPTER, method)(connection, *args)
    assert connection.statements[-1] == (sql, params)
    assert sqlglot.parse_one(sql, read="teradata").sql("teradata") == sql


# ------------------------------------------------------------------------------------------ types


@pytest.mark.parametrize(("row", "expected", "declared"), [
    (("I1", None, None, None), pa.int8(), "BYTEINT"),
    (("I2", None, None, None), pa.int16(), "SMALLINT"),
    (("I", None, None, None), pa.int32(), "INTEGER"),
    (("I8", None, None, None), pa.int64(), "BIGINT"),
    (("D", None, 10, 2), pa.decimal128(10, 2), "DECIMAL(10,2)"),  # the reference connector says bigint
    (("D", None, 18, 0), pa.decimal128(18, 0), "DECIMAL(18,0)"),
    (("D", None, 38, 38), pa.decimal128(38, 38), "DECIMAL(38,38)"),
    (("N", None, 12, 4), pa.decimal128(12, 4), "NUMBER(12,4)"),
    (("N", None, -128, -128), pa.decimal128(38, 10), "NUMBER(-128,-128)"),
    (("N", None, -128, 3), pa.decimal128(38, 3), "NUMBER(-128,3)"),
    (("F", None, None, None), pa.float64(), "FLOAT"),
    (("CF", 20, None, None), pa.string(), "CHAR(10)"),  # UNICODE: 2 bytes per character
    (("CV", 100, None, None), pa.string(), "VARCHAR(50)"),
    (("CO", None, None, None), pa.string(), "CLOB"),
    (("BF", 8, None, None), pa.binary(), "BYTE(8)"),
    (("BV", 100, None, None), pa.binary(), "VARBYTE(100)"),
    (("BO", None, None, None), pa.binary(), "BLOB"),
    (("DA", None, None, None), pa.date32(), "DATE"),
    (("TS", None, None, 6), pa.timestamp("ms"), "TIMESTAMP(6)"),
    (("TS", None, None, 0), pa.timestamp("ms"), "TIMESTAMP(0)"),
    (("SZ", None, None, 6), pa.timestamp("ms", "UTC"), "TIMESTAMP(6) WITH TIME ZONE"),
    (("AT", None, None, 6), pa.string(), "TIME(6)"),
    (("TZ", None, None, 0), pa.string(), "TIME(0) WITH TIME ZONE"),
    (("DS", None, 2, 6), pa.string(), "INTERVAL DAY TO SECOND"),
    (("YM", None, 2, None), pa.string(), "INTERVAL YEAR TO MONTH"),
    (("PD", None, None, None), pa.string(), "PERIOD(DATE)"),
    (("PM", None, None, None), pa.string(), "PERIOD(TIMESTAMP WITH TIME ZONE)"),
    (("JN", None, None, None), pa.string(), "JSON"),
    (("XM", None, None, None), pa.string(), "XML"),
    (("A1", None, None, None), pa.string(), "ARRAY"),
])
def test_dictionary_types_map_exactly(row: tuple[Any, ...], expected: pa.DataType, declared: str) -> None:
    code, length, total, fraction = row
    info = ADAPTER._dictionary_column(("Col", code, length, total, fraction, "Y", 2, None))
    assert info.type_name == declared
    assert TERADATA_TYPES.to_arrow(info) == expected


@settings(max_examples=200, deadline=None)
@given(p=st.integers(1, 38), data=st.data())
def test_every_decimal_precision_and_scale_is_kept(p: int, data: st.DataObject) -> None:
    s = data.draw(st.integers(0, p))
    info = ADAPTER._dictionary_column(("Col", "D", None, p, s, "N", None, None))
    assert TERADATA_TYPES.to_arrow(info) == pa.decimal128(p, s)
    assert not info.nullable


def test_unknown_type_codes_are_varchar_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    info = ADAPTER._dictionary_column(("Geo", "UT", None, None, None, "Y", None, "SYSUDTLIB.MYTYPE"))
    assert (info.type_name, TERADATA_TYPES.to_arrow(info)) == ("SYSUDTLIB.MYTYPE", pa.string())
    assert "SYSUDTLIB.MYTYPE" in caplog.text and "varchar" in caplog.text
    assert type_name("ZZ") == "ZZ"


def test_duckdb_is_available_for_execution_checks() -> None:
    assert duckdb.execute("SELECT 7 // 2, -7 // 2, -7 % 2").fetchall() == [(3, -3, -1)]  # Teradata's / and MOD
