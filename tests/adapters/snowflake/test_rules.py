"""What the Snowflake adapter pushes and how it converts values (no server needed)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from adapters.snowflake.dialect import (
    SNOWFLAKE_TYPES,
    SnowflakeDialect,
    is_native,
    to_logical,
)
from adapters.sql.types import ColumnInfo
from connector.errors import SourceError
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
from connector.pushdown.sql import SourceColumn, merge_residual, plan_pushdown, plan_select

TS = pa.timestamp("ms")
COLUMNS = {
    "id": SourceColumn("id", "ID", pa.int64(), "NUMBER"),
    "s": SourceColumn("s", "S", pa.string(), "TEXT"),
    "ci": SourceColumn("ci", "CI", pa.string(), "TEXT", "en-ci"),
    "t": SourceColumn("t", "T", pa.string(), "TIME"),
    "v": SourceColumn("v", "V", pa.string(), "VARIANT"),
    "ts": SourceColumn("ts", "TS", TS, "TIMESTAMP_NTZ"),
    "f": SourceColumn("f", "F", pa.float64(), "FLOAT"),
}


def test_type_map_rules() -> None:
    def arrow(name: str, p: int | None = None, s: int | None = None) -> pa.DataType:
        return SNOWFLAKE_TYPES.to_arrow(ColumnInfo("c", name, p, s))

    assert arrow("NUMBER", 18, 0) == pa.int64()
    assert arrow("NUMBER", 19, 0) == pa.decimal128(19, 0)
    assert arrow("NUMBER", 38, 0) == pa.decimal128(38, 0)
    assert arrow("NUMBER", 12, 4) == pa.decimal128(12, 4)
    assert arrow("TEXT COLLATE en-ci") == pa.string()
    assert [arrow(n) for n in ("TIME", "VARIANT", "OBJECT", "ARRAY", "GEOGRAPHY")] == [pa.string()] * 5
    assert arrow("TIMESTAMP_NTZ") == TS
    assert arrow("TIMESTAMP_LTZ") == arrow("TIMESTAMP_TZ") == pa.timestamp("ms", "UTC")
    assert (arrow("FLOAT"), arrow("BINARY"), arrow("BOOLEAN"), arrow("DATE")) == (
        pa.float64(), pa.binary(), pa.bool_(), pa.date32())


def test_native_types() -> None:
    assert is_native("NUMBER") and is_native("TEXT") and is_native("TIMESTAMP_TZ")
    assert not any(is_native(t) for t in ("TIME", "VARIANT", "TEXT COLLATE en-ci", "", "GEOGRAPHY"))
    assert is_native("TEXT", "utf8") and is_native("TEXT", "UTF8") and is_native("TEXT", "")
    assert not any(is_native("TEXT", c) for c in ("en-ci", "upper", "utf8-rtrim", "en_US-trim", "binary"))


def test_columns_that_do_not_compare_natively_stay_with_the_framework() -> None:
    eq = EquatableValueSet(pa.string(), ("x",), True, False)
    c = Constraints(summary={"ci": eq, "t": eq, "v": eq, "s": eq},
                    order_by=(OrderByField("s", SortDirection.ASC_NULLS_LAST),), limit=10)
    split = SnowflakeDialect().split(c, COLUMNS)
    assert set(split.pushed.summary) == {"s"} and set(split.kept.summary) == {"ci", "t", "v"}
    assert not split.pushed.order_by and split.kept.order_by == c.order_by
    # A LIMIT below a filter the source cannot apply is wrong: the planner leaves it to the framework.
    query = plan_pushdown(SnowflakeDialect(), pa_table(), COLUMNS, ["id"], c)
    assert "LIMIT" not in query.sql and query.residual.limit == 10 and query.residual.order_by == c.order_by
    # ORDER BY a collated column: sorted by the framework, so no LIMIT at the source either.
    c = Constraints(order_by=(OrderByField("ci", SortDirection.ASC_NULLS_LAST),), limit=3)
    query = plan_pushdown(SnowflakeDialect(), pa_table(), COLUMNS, ["id"], c)
    assert "LIMIT" not in query.sql and "ORDER BY" not in query.sql
    assert query.residual.limit == 3 and query.residual.order_by
    # Everything native: all of it is pushed.
    c = Constraints(summary={"id": SortedRangeSet(pa.int64(), (Range.equal(1),), False)}, limit=5)
    split = SnowflakeDialect().split(c, COLUMNS)
    assert split.pushed == c and split.kept.is_empty and not split.predicates
    query = plan_pushdown(SnowflakeDialect(), pa_table(), COLUMNS, ["id"], c)
    assert "LIMIT 5" in query.sql and query.residual.is_empty


def test_timestamps_are_compared_on_the_millisecond_grid() -> None:
    """Snowflake keeps nanoseconds; Athena sees them floored to milliseconds (the framework's grid applies)."""
    v = dt.datetime(2024, 1, 1, 12, 0, 0)
    ms = dt.timedelta(milliseconds=1)

    def planned(c: Constraints) -> tuple[str, list[object], Constraints]:
        query = plan_select(SnowflakeDialect(), pa_table(), COLUMNS, ["id"], c)
        return query.sql.removeprefix('SELECT "ID" FROM "S"."T"'), list(query.params), query.residual

    vs = SortedRangeSet(TS, (Range(Marker(v, Bound.ABOVE), Marker(v + 5 * ms, Bound.EXACTLY)), Range.equal(v)),
                        True)
    assert planned(Constraints(summary={"ts": vs})) == (
        ' WHERE ((("TS" >= ? AND "TS" < ?) OR ("TS" >= ? AND "TS" < ?)) OR "TS" IS NULL)',
        [v + ms, v + 6 * ms, v, v + ms], Constraints())
    listed = EquatableValueSet(TS, (v,), True, False)
    assert planned(Constraints(summary={"ts": listed})) == (' WHERE ("TS" >= ? AND "TS" < ?)', [v, v + ms],
                                                            Constraints())
    not_in = EquatableValueSet(TS, (v,), False, False)
    assert planned(Constraints(summary={"ts": not_in}))[:2] == (' WHERE (NOT ("TS" >= ? AND "TS" < ?))', [v, v + ms])
    expression = FunctionCall(pa.bool_(), "$greater_than", (Variable("ts", TS), Constant(TS, (v,))))
    assert planned(Constraints(expression=(expression,)))[2].expression == (expression,)
    # ORDER BY TS refines Athena's order: fine as the last key only.
    ts_first = Constraints(order_by=(OrderByField("ts", SortDirection.ASC_NULLS_LAST),
                                     OrderByField("id", SortDirection.ASC_NULLS_LAST)), limit=3)
    assert planned(ts_first)[2].order_by == ts_first.order_by
    ts_last = Constraints(order_by=ts_first.order_by[::-1], limit=3)
    assert planned(ts_last)[0] == ' ORDER BY "ID" ASC NULLS LAST, "TS" ASC NULLS LAST LIMIT 3'


def test_merge_residual_keeps_both_parts() -> None:
    eq = EquatableValueSet(pa.string(), ("x",), True, False)
    merged = merge_residual(Constraints(summary={"f": eq}), Constraints(summary={"t": eq}, limit=4))
    assert set(merged.summary) == {"t", "f"} and merged.limit == 4


def test_dialect_keeps_floats_modulus_and_integer_division_out_of_snowflake() -> None:
    dialect = SnowflakeDialect()
    f = pa.float64()
    i = pa.int64()
    assert not dialect.can_compare(f, ordering=False)
    assert not dialect.can_compute("$modulus", i, [i, i])
    assert dialect.can_compute("$add", i, [i, i])
    division = FunctionCall(pa.bool_(), "$equal", (FunctionCall(i, "$divide", (Variable("id", i), Constant(i, (2,)))),
                                                   Constant(i, (3,))))
    query = plan_select(dialect, pa_table(), COLUMNS, ["id"], Constraints(expression=(division,)))
    assert query.residual.expression == (division,) and "WHERE" not in query.sql


def pa_table() -> object:
    from sqlglot import exp

    return exp.table_(exp.to_identifier("T", quoted=True), db=exp.to_identifier("S", quoted=True))


def test_to_logical_floors_timestamps_and_refuses_lossy_casts() -> None:
    ns = pa.array([1_000_000_500, -1, None], pa.timestamp("ns"))
    assert to_logical(ns, COLUMNS["ts"]).to_pylist() == [dt.datetime(1970, 1, 1, 0, 0, 1),
                                                         dt.datetime(1969, 12, 31, 23, 59, 59, 999000), None]
    aware = pa.array([1_500_000], pa.timestamp("us", "Etc/UTC"))
    column = SourceColumn("x", "X", pa.timestamp("ms", "UTC"), "TIMESTAMP_TZ")
    assert to_logical(aware, column).type == pa.timestamp("ms", "UTC")
    assert to_logical(pa.array([12 * 3600 * 10**6], pa.time64("us")), COLUMNS["t"]).to_pylist() == ["12:00:00.000000"]
    with pytest.raises(SourceError, match="column 'id'"):
        to_logical(pa.array([2**63 - 1], pa.uint64()).cast(pa.decimal128(20, 0)).cast(pa.float64()), COLUMNS["id"])
    nested = pa.array([{"a": 1}, None], pa.struct([("a", pa.int64())]))
    assert to_logical(nested, COLUMNS["v"]).to_pylist() == ['{"a": 1}', None]


def test_a_columns_collation_travels_with_the_table_schema() -> None:
    """The collation read from COLUMNS.COLLATION_NAME survives the round trip through Athena's schema, so the
    ReadRecords plan still keeps comparisons on the collated column in the framework."""
    from adapters.snowflake.adapter import SnowflakeAdapter
    from adapters.sql.adapter import SourceTable
    from connector.config import Settings
    from connector.connection import parse_connection_string
    from connector.protocol.messages import TableName

    spec = parse_connection_string("snowflake://jdbc:snowflake://acct.snowflakecomputing.com/?db=D&user=u&password=p")
    adapter = SnowflakeAdapter(spec, Settings.from_env({}))
    source = SourceTable("S", "T", (COLUMNS["s"], COLUMNS["ci"]))
    back = adapter.table_from_schema(TableName("s", "t"), adapter.arrow_schema(source))
    assert back is not None and back.column_map()["ci"].collation == "en-ci" and back.column_map()["s"].collation == ""
    eq = EquatableValueSet(pa.string(), ("x",), True, False)
    split = SnowflakeDialect().split(Constraints(summary={"ci": eq, "s": eq}), back.column_map())
    assert set(split.pushed.summary) == {"s"} and set(split.kept.summary) == {"ci"}
