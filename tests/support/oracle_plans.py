"""Shared pieces of the Oracle tests: a table as the dictionary describes it, and helpers to plan SQL for it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from adapters.oracle.adapter import plan_oracle_select
from adapters.oracle.dialect import OracleDialect
from connector.protocol.constraints import Constraints
from connector.pushdown.sql import SourceColumn, SourceQuery

TS = pa.timestamp("ms")
TSTZ = pa.timestamp("ms", "UTC")

COLUMNS: dict[str, SourceColumn] = {c.name: c for c in [
    SourceColumn("id", "ID", pa.int64(), "NUMBER"),
    SourceColumn("qty", "QTY", pa.int64(), "NUMBER"),
    SourceColumn("amount", "AMOUNT", pa.decimal128(12, 2), "NUMBER"),
    SourceColumn("name", "NAME", pa.string(), "VARCHAR2"),
    SourceColumn("code", "CODE", pa.string(), "CHAR"),
    SourceColumn("nname", "NNAME", pa.string(), "NVARCHAR2"),
    SourceColumn("created", "CREATED", TS, "DATE"),
    SourceColumn("ts", "TS", TS, "TIMESTAMP(6)"),
    SourceColumn("ts3", "TS3", TS, "TIMESTAMP(3)"),
    SourceColumn("tz", "TZ", TSTZ, "TIMESTAMP(6) WITH TIME ZONE"),
    SourceColumn("ltz", "LTZ", TSTZ, "TIMESTAMP(6) WITH LOCAL TIME ZONE"),
    SourceColumn("f", "F", pa.float64(), "FLOAT"),
    SourceColumn("bd", "BD", pa.float64(), "BINARY_DOUBLE"),
    SourceColumn("bf", "BF", pa.float32(), "BINARY_FLOAT"),
    SourceColumn("doc", "DOC", pa.string(), "CLOB"),
    SourceColumn("raw", "RAW", pa.binary(), "RAW"),
    SourceColumn("span", "SPAN", pa.string(), "INTERVAL DAY(2) TO SECOND(6)"),
    SourceColumn("MixedCase".lower(), "MixedCase", pa.int64(), "NUMBER"),
]}


def table(schema: str = "SALES", name: str = "ORDERS") -> exp.Table:
    return exp.table_(exp.to_identifier(name, quoted=True), db=exp.to_identifier(schema, quoted=True))


def plan(constraints: Constraints, projection: Sequence[str] = ("id",), dialect: OracleDialect | None = None,
         columns: dict[str, SourceColumn] | None = None, from_: exp.Expression | None = None,
         split_where: Any = None) -> SourceQuery:
    return plan_oracle_select(dialect or OracleDialect(), from_ if from_ is not None else table(),
                              columns or COLUMNS, list(projection), constraints, split_where)


def assert_parses(sql: str) -> exp.Expression:
    """Every generated statement must parse with sqlglot's Oracle dialect (and round-trip to itself)."""
    tree = sqlglot.parse_one(sql, read="oracle")
    assert tree is not None
    assert sqlglot.parse_one(tree.sql("oracle"), read="oracle") == tree
    return tree
