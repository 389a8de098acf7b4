"""The Oracle SQL the adapter generates, executed for real on H2 in Oracle mode, against a plain-Python oracle.

For random constraints (``tests.support.strategies`` - value sets, expressions, ORDER BY, LIMIT - including the cases
Oracle cannot evaluate exactly: '' strings, NVARCHAR2 ordering, sub-millisecond TIMESTAMP(6) values), the rows
H2 returns for the generated WHERE/ORDER BY/FETCH, after the connector applies what it kept, must equal the
independent evaluation of ``tests.support.reference_evaluator`` over the rows as Athena sees them.

What differs from what Oracle receives: H2 cannot bind ``?`` without a type in arithmetic, so the H2 variant of
the dialect writes ``?`` placeholders (Oracle gets ``:p1``... in the same order) and wraps numeric ones in
``CAST(? AS ...)``; ``TO_BINARY_DOUBLE`` is an H2 alias; ``_ROWID_`` stands for ROWID in hash splits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from sqlglot import exp

from adapters.oracle.adapter import OracleAdapter, plan_oracle_select
from adapters.oracle.dialect import OracleDialect
from connector.adapter import Scan
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.protocol.constraints import (
    Constant,
    Constraints,
    FunctionCall,
    Range,
    SortedRangeSet,
    Variable,
)
from connector.protocol.messages import Split
from connector.pushdown.sql import SourceColumn, SqlCompiler
from connector.scan import rows_of
from tests.servers.h2 import H2
from tests.support.oracle_plans import TS, assert_parses
from tests.support.reference_evaluator import check_split, fails_in_athena
from tests.support.strategies import Domain, constraints

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::DeprecationWarning:jaydebeapi")]

I64, F64, STR, BOOL = pa.int64(), pa.float64(), pa.string(), pa.bool_()
DEC = pa.decimal128(12, 2)

COLUMNS = {c.name: c for c in [
    SourceColumn("id", "ID", I64, "NUMBER"),
    SourceColumn("qty", "QTY", I64, "NUMBER"),
    SourceColumn("amount", "AMOUNT", DEC, "NUMBER"),
    SourceColumn("name", "NAME", STR, "VARCHAR2"),
    SourceColumn("nname", "NNAME", STR, "NVARCHAR2"),
    SourceColumn("created", "CREATED", TS, "DATE"),
    SourceColumn("ts", "TS", TS, "TIMESTAMP(6)"),
    SourceColumn("f", "F", F64, "FLOAT"),
]}
NAMES = list(COLUMNS)
DDL = ('CREATE TABLE "SALES"."ORDERS" ("ID" NUMBER(10,0) NOT NULL, "QTY" NUMBER(10,0), "AMOUNT" NUMBER(12,2), '
       '"NAME" VARCHAR2(20), "NNAME" NVARCHAR2(20), "CREATED" DATE, "TS" TIMESTAMP(6), "F" FLOAT)')
BASE = dt.datetime(2024, 3, 1, 12, 0, 0)
QTYS = [None, -5, -3, -1, 0, 1, 2, 3, 5, 7]
AMOUNTS = [None, Decimal("-2.50"), Decimal("0.00"), Decimal("1.25"), Decimal("3.10"), Decimal("99.99")]
STRINGS = [None, "", "a", "b", "ab", "B", "é", "zz", "a%", "中", " a"]
FLOATS = [None, 0.1, 0.2, 0.30000000000000004, -1.5, 2.0]
TIMES = [BASE + dt.timedelta(microseconds=250 * k) for k in range(16)] + [None]
CREATED = [BASE + dt.timedelta(hours=k) for k in range(-3, 4)] + [None]


def _rows() -> list[tuple[Any, ...]]:
    rows = []
    for i in range(80):
        rows.append((i, QTYS[i % len(QTYS)], AMOUNTS[(i * 7) % len(AMOUNTS)], STRINGS[(i * 3) % len(STRINGS)],
                     STRINGS[(i * 5 + 1) % len(STRINGS)], CREATED[(i * 11) % len(CREATED)],
                     TIMES[(i * 13) % len(TIMES)], FLOATS[(i * 17) % len(FLOATS)]))
    return rows


class H2Dialect(OracleDialect):
    """The Oracle dialect as H2 takes it: ``?`` placeholders, typed numeric binds, ``_ROWID_`` for ROWID."""

    paramstyle = "qmark"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(row_key=exp.column("_ROWID_"), **kwargs)

    def bind_expression(self, placeholder: exp.Placeholder, value: Any, t: pa.DataType) -> exp.Expression:
        rendered = super().bind_expression(placeholder, value, t)
        if isinstance(value, bool) or rendered is not placeholder:
            return rendered
        target = {int: "NUMBER(19,0)", float: "DOUBLE PRECISION"}.get(type(value))
        if isinstance(value, Decimal):
            target = "NUMBER(38,10)"
        if target is None:
            return rendered
        return exp.Cast(this=rendered, to=exp.DataType.build(target, dialect="oracle"))


@pytest.fixture
def orders(h2_oracle: H2) -> H2:
    h2_oracle.execute('CREATE SCHEMA "SALES"')
    h2_oracle.execute(DDL)
    h2_oracle.execute("CREATE ALIAS TO_BINARY_DOUBLE FOR 'java.lang.Double.valueOf(double)'")
    for row in _rows():
        h2_oracle.execute('INSERT INTO "SALES"."ORDERS" VALUES (?, ?, ?, ?, ?, ?, ?, ?)', row)
    return h2_oracle


def _adapter() -> OracleAdapter:
    return OracleAdapter(ConnectionSpec("oracle", "jdbc:oracle:thin:u/p@//127.0.0.1:1/none"), Settings())


def _table() -> exp.Table:
    return exp.table_(exp.to_identifier("ORDERS", quoted=True), db=exp.to_identifier("SALES", quoted=True))


def _visible_rows(h2: H2, adapter: OracleAdapter) -> list[dict[str, Any]]:
    """Every row as Athena sees it: through the adapter's conversion ('' is NULL, timestamps in ms)."""
    query = plan_oracle_select(H2Dialect(), _table(), COLUMNS, NAMES, Constraints())
    batch = adapter.rows_to_batch(h2.query(query.sql, list(query.params)), query.columns)
    rows: list[dict[str, Any]] = batch.to_pylist()
    return rows


def run_pushdown(h2: H2, adapter: OracleAdapter, constraints: Constraints,
                 dialect: OracleDialect | None = None) -> list[dict[str, Any]]:
    """What the connector returns: H2 runs the generated SQL, the framework applies the residual."""
    query = plan_oracle_select(dialect or H2Dialect(), _table(), COLUMNS, NAMES, constraints)
    oracle_sql = plan_oracle_select(OracleDialect(), _table(), COLUMNS, NAMES, constraints).sql
    assert_parses(oracle_sql)
    rows = h2.query(query.sql, list(query.params))
    batch = adapter.rows_to_batch(rows, query.columns)
    schema = pa.schema([pa.field(n, COLUMNS[n].type) for n in NAMES])
    out = pa.Table.from_batches(list(rows_of(Scan(iter([batch]), query.residual), schema)), schema=schema)
    result: list[dict[str, Any]] = out.to_pylist()
    return result


# ------------------------------------------------------------------------------------------ constraints

#: Constants the constraints use: values near the data (the H2 stand-in takes no others).
DOMAIN = Domain(
    {n: c.type for n, c in COLUMNS.items()},
    {"id": list(range(-2, 82, 7)), "qty": [q for q in QTYS if q is not None],
     "amount": [a for a in AMOUNTS if a is not None] + [Decimal("1.24"), Decimal("-3.00")],
     "name": [s for s in STRINGS if s is not None] + ["aa", "Z"], "nname": [s for s in STRINGS if s is not None],
     "created": [c for c in CREATED if c is not None] + [BASE + dt.timedelta(minutes=30)],
     "ts": [BASE + dt.timedelta(milliseconds=k) for k in range(0, 5, 2)],
     "f": [f for f in FLOATS if f is not None] + [0.3, 1.0]},
    fresh=False, like_patterns=("a%", "%b", "_", "%", "a!%", "", "é%", "%a%", "a_"))


# ------------------------------------------------------------------------------------------ tests

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(constraints=constraints(DOMAIN, order_without_limit=True))
def test_pushdown_on_h2_matches_a_plain_python_evaluation(orders: H2, constraints: Constraints) -> None:
    adapter = _adapter()
    rows = _visible_rows(orders, adapter)
    assume(not fails_in_athena(rows, constraints))
    check_split(rows, constraints, run_pushdown(orders, adapter, constraints), NAMES)


def test_sub_millisecond_timestamps_are_filtered_on_what_athena_sees(orders: H2) -> None:
    adapter = _adapter()
    at = BASE + dt.timedelta(milliseconds=1)  # rows at 1.000, 1.250, 1.500, 1.750 ms all read as 1 ms
    constraints = Constraints(summary={"ts": SortedRangeSet(TS, (Range.equal(at),), False)})
    got = run_pushdown(orders, adapter, constraints)
    assert got and all(r["ts"] == at for r in got)
    raw = orders.query('SELECT COUNT(*) FROM "SALES"."ORDERS" WHERE "TS" = ?', [at])
    assert raw[0][0] < len(got)  # a naive TS = X at the source would have lost rows


def test_empty_string_filters_behave_as_in_athena(orders: H2) -> None:
    adapter = _adapter()
    name, empty = Variable("name", STR), Constant(STR, ("",))
    not_empty = Constraints(expression=(FunctionCall(BOOL, "$not_equal", (name, empty)),))
    got = run_pushdown(orders, adapter, not_empty)
    assert len(got) == sum(1 for r in _visible_rows(orders, adapter) if r["name"] is not None) > 0
    naive = orders.query("SELECT COUNT(*) FROM \"SALES\".\"ORDERS\" WHERE \"NAME\" <> ''")
    assert naive[0][0] == 0  # what pushing it would have returned


@pytest.mark.parametrize("buckets", [1, 2, 3, 8])
def test_hash_splits_are_disjoint_and_complete_on_h2(orders: H2, buckets: int) -> None:
    adapter = _adapter()
    dialect = H2Dialect()
    source_columns = {"id": COLUMNS["id"]}
    seen: list[int] = []
    for k in range(buckets):
        split = Split(None, None, {"buckets": str(buckets), "bucket": str(k)})

        def where(compiler: SqlCompiler, split: Split = split) -> list[exp.Expression]:
            return adapter.split_where(None, split, compiler)  # type: ignore[arg-type]

        query = plan_oracle_select(dialect, _table(), source_columns, ["id"], Constraints(), where)
        assert "ORA_HASH(_ROWID_, " in query.sql
        seen.extend(r[0] for r in orders.query(query.sql, list(query.params)))
    assert sorted(seen) == list(range(80))  # complete, and no row twice (disjoint)


def test_bucket_split_properties_cover_every_bucket_once() -> None:
    adapter = OracleAdapter(ConnectionSpec("oracle", "jdbc:oracle:thin:u/p@//127.0.0.1:1/none"),
                            Settings(env={"oracle_splits": "5", "oracle_split_min_rows": "100"}))
    assert adapter.bucket_splits(99) == [{}]
    assert adapter.bucket_splits(None) == [{}]
    splits = adapter.bucket_splits(100)
    assert [int(s["bucket"]) for s in splits] == list(range(5)) and {s["buckets"] for s in splits} == {"5"}
    compiler = SqlCompiler(OracleDialect(), {})
    predicate = adapter.split_where(None, Split(None, None, splits[3]), compiler)[0]  # type: ignore[arg-type]
    assert predicate.sql("oracle") == "ORA_HASH(ROWID, 4) = :p1" or "ORA_HASH(ROWID, 4)" in predicate.sql("oracle")
    for bad in ({"buckets": "5", "bucket": "5"}, {"buckets": "x", "bucket": "1"}, {"bucket": "1"}):
        with pytest.raises(Exception, match="malformed hash bucket"):
            adapter.split_where(None, Split(None, None, bad), SqlCompiler(OracleDialect(), {}))  # type: ignore[arg-type]
