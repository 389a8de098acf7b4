"""One shape for every SQL adapter: ``plan`` is the base's alone, each dialect's rules come through its ``split``,
the LIMIT is decided by the planner, and a scan holds its pooled connection through one ``lease``."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest
from sqlglot import exp

from adapters.jdbc.adapter import JdbcAdapter
from adapters.jdbc.dialects.generic import JdbcColumnInfo, Types
from adapters.oracle.adapter import OracleAdapter
from adapters.snowflake.adapter import SnowflakeAdapter
from adapters.sql.adapter import SqlAdapter
from adapters.sql.types import ColumnInfo
from adapters.sqlite.adapter import SqliteAdapter
from adapters.sqlite.dialect import SqliteDialect
from adapters.teradata.adapter import TeradataAdapter
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.protocol.constraints import Constraints, EquatableValueSet, Range, SortedRangeSet
from connector.pushdown.sql import Pushdown, SourceColumn, SourceQuery, SqlDialect, plan_pushdown

ADAPTERS = (SqliteAdapter, JdbcAdapter, OracleAdapter, SnowflakeAdapter, TeradataAdapter)
COLUMNS = {"id": SourceColumn("id", "id", pa.int64(), "INTEGER"), "s": SourceColumn("s", "s", pa.string(), "TEXT")}
TABLE = exp.table_(exp.to_identifier("t", quoted=True))


def test_no_adapter_overrides_plan() -> None:
    assert getattr(SqlAdapter.plan, "__final__", False)
    for cls in ADAPTERS:
        assert cls.plan is SqlAdapter.plan, cls.__name__
        for base in cls.__mro__[: cls.__mro__.index(SqlAdapter)]:
            assert "plan" not in vars(base), base.__name__


def test_the_jdbc_dialect_is_picked_by_url_not_assigned() -> None:
    adapter = JdbcAdapter(ConnectionSpec("jdbc", "jdbc:h2:mem:x"), Settings())
    assert type(adapter.dialect).__name__ == "H2Dialect"
    assert "dialect" not in vars(adapter) and "type_map" not in vars(adapter)


class _KeepsS(SqlDialect):
    sqlglot_dialect = "sqlite"

    def split(self, constraints: Constraints, columns: object) -> Pushdown:
        kept = {n: v for n, v in constraints.summary.items() if n == "s"}
        pushed = {n: v for n, v in constraints.summary.items() if n != "s"}
        return Pushdown(Constraints(summary=pushed, limit=constraints.limit), Constraints(summary=kept))


def test_no_limit_below_a_filter_the_dialect_kept() -> None:
    s = EquatableValueSet(pa.string(), ("x",), True, False)
    one = SortedRangeSet(pa.int64(), (Range.equal(1),), False)
    query = plan_pushdown(_KeepsS(), TABLE, COLUMNS, ["id"], Constraints(summary={"s": s, "id": one}, limit=3))
    assert "LIMIT" not in query.sql and query.residual.limit == 3 and set(query.residual.summary) == {"s"}
    query = plan_pushdown(_KeepsS(), TABLE, COLUMNS, ["id"], Constraints(summary={"id": one}, limit=3))
    assert "LIMIT 3" in query.sql and query.residual.is_empty


def test_a_scan_closed_early_gives_its_connection_back_to_the_pool(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER)")
        db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(5000)])
    db.close()
    adapter = SqliteAdapter(ConnectionSpec("sqlite", f"jdbc:sqlite:{path}"), Settings())
    query = SourceQuery('SELECT "id" FROM "t"', (), Constraints(), (COLUMNS["id"],))
    scan = adapter.scan(query)
    assert not adapter._idle  # leased as the scan starts
    assert next(iter(scan.batches)).num_rows > 0
    assert scan.close is not None
    scan.close()
    assert len(adapter._idle) == 1  # stopped early: back in the pool, not closed
    unread = adapter.scan(query)
    assert not adapter._idle and unread.close is not None
    unread.close()  # closed before its first batch: the lease ends all the same
    assert len(adapter._idle) == 1


def test_each_dialect_declares_the_type_map_and_no_adapter_does() -> None:
    for cls in ADAPTERS:
        for base in cls.__mro__[: cls.__mro__.index(SqlAdapter)]:
            assert "type_map" not in vars(base), base.__name__
    sqlite = SqliteAdapter(ConnectionSpec("sqlite", "jdbc:sqlite:/nonexistent.db"), Settings())
    assert sqlite.type_map is SqliteDialect.type_map
    assert sqlite.type_map.to_arrow(ColumnInfo("c", "BIGINT")) == pa.int64()


def test_a_settings_dependent_type_map_is_built_once_per_adapter_from_its_settings() -> None:
    spec = ConnectionSpec("jdbc", "jdbc:h2:mem:x", catalog="sales")
    scaled = JdbcAdapter(spec, Settings(env={"default_scale": "4", "sales_default_scale": "6"}))
    unconstrained = JdbcColumnInfo("n", "UNLISTED", None, None, jdbc_type=Types.NUMERIC)  # no declared precision
    assert scaled.type_map.to_arrow(unconstrained) == pa.decimal128(38, 6)
    assert scaled.type_map is scaled.type_map  # one map: it remembers the unmapped types it met
    assert JdbcAdapter(spec, Settings()).type_map.to_arrow(unconstrained) == pa.decimal128(38, 10)


class _Toy(SqliteAdapter):
    engine = replace(SqliteAdapter.engine, name="toy", source_type="toy") if SqliteAdapter.engine else None


def test_source_type_is_the_engine_declarations() -> None:
    for cls in ADAPTERS:
        assert cls.engine is not None and cls.source_type == cls.engine.source_type
    assert _Toy.source_type == "toy"  # its own declaration's, not its parent's
    with pytest.raises(TypeError, match="source_type 'other' differs from its engine declaration's 'toy'"):
        type("Mismatched", (SqliteAdapter,), {"engine": _Toy.engine, "source_type": "other"})

    class Undeclared(SqlAdapter):  # a plugin adapter without a declaration names its own
        source_type = "plugin"

    assert Undeclared.source_type == "plugin"
