"""Reads that push nothing are written without sqlglot (cold start): the text and parameters must be exactly what
``plan_select`` writes through sqlglot, for any names, projections, splits and paramstyles."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sql.adapter import SourceTable
from adapters.sqlite.adapter import SqliteAdapter
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.errors import InvalidRequest
from connector.protocol.constraints import Constraints, Range, SortedRangeSet
from connector.protocol.messages import Split, TableName
from connector.pushdown.sql import PlainPredicate, SourceColumn, SqlDialect, plan_plain_select, plan_select

TYPES = [pa.int64(), pa.float64(), pa.string(), pa.binary(), pa.bool_(), pa.date32(), pa.timestamp("ms"),
         pa.decimal128(12, 2)]
#: Declared types of every SQLite affinity (a varchar column without TEXT affinity is read through a CAST).
DECLARED = st.sampled_from(["", "TEXT", "VARCHAR(10)", "CLOB", "JSON", "STRING", "INTEGER", "BLOB", "REAL",
                            "DECIMAL(12,2)", "DATE", "TIMESTAMP", "BOOLEAN"])
#: Any text SQLite accepts as a name: quotes, brackets, backticks, spaces, newlines, non-BMP characters. Not
#: U+001F: plan_select's renderer marks placeholders with it and refuses a name holding one (a loud error).
names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\x1f"), min_size=1,
                max_size=12)


@st.composite
def source_tables(draw: st.DrawFn) -> SourceTable:
    count = draw(st.integers(0, 6))
    source_names = draw(st.lists(names, min_size=count, max_size=count, unique_by=str.lower))
    columns = tuple(SourceColumn(n.lower(), n, draw(st.sampled_from(TYPES)), draw(DECLARED)) for n in source_names)
    return SourceTable(draw(st.one_of(st.just(""), names)), draw(names), columns)


@st.composite
def projections(draw: st.DrawFn, source: SourceTable) -> list[str]:
    if not source.columns:
        return []
    return draw(st.lists(st.sampled_from([c.name for c in source.columns]), max_size=8))  # repeats, any order


def _sqlglot_query(adapter: SqliteAdapter, source: SourceTable, projection: list[str], split: Split) -> Any:
    return plan_select(adapter.dialect, adapter.split_from(source, split), source.column_map(), projection,
                       Constraints(), lambda compiler: adapter.split_where(source, split, compiler))


@pytest.fixture(scope="module")
def adapter(tmp_path_factory: pytest.TempPathFactory) -> SqliteAdapter:
    db = tmp_path_factory.mktemp("plain") / "t.db"
    sqlite3.connect(db).close()
    return SqliteAdapter(parse_connection_string(f"sqlite://jdbc:sqlite:{db}"), Settings.from_env({}))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), bounds=st.one_of(st.none(), st.tuples(st.integers(-2**63, 2**63 - 1),
                                                              st.integers(-2**63, 2**63 - 1))))
def test_sqlite_reads_are_plan_selects_statement(adapter: SqliteAdapter, data: st.DataObject,
                                                 bounds: tuple[int, int] | None) -> None:
    source = data.draw(source_tables())
    projection = data.draw(projections(source))
    properties = {} if bounds is None else {"rowid_from": str(bounds[0]), "rowid_to": str(bounds[1])}
    split = Split(None, None, properties)
    where = adapter.split_where_plain(source, split)
    plain = plan_plain_select(adapter.dialect, (source.schema, source.table), source.column_map(), projection,
                              Constraints(), where)
    assert plain is not None
    assert plain == _sqlglot_query(adapter, source, projection, split)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), dialect=st.sampled_from(["sqlite", "postgres", "duckdb", "snowflake", "oracle", "trino"]),
       style=st.sampled_from(["qmark", "numeric", "named", "format"]),
       values=st.lists(st.integers(-10**12, 10**12), max_size=3))
def test_any_double_quoting_dialect_and_paramstyle(data: st.DataObject, dialect: str, style: str,
                                                   values: list[int]) -> None:
    """The rule the plain writer relies on (quote doubled inside double quotes; placeholders in text order) holds
    for every dialect that quotes with double quotes, and every paramstyle, with the split's predicates."""
    kind = type("Plain", (SqlDialect,), {"sqlglot_dialect": dialect, "plain_identifier_quote": '"',
                                         "paramstyle": style})()
    source = data.draw(source_tables())
    projection = data.draw(projections(source))
    ops = data.draw(st.lists(st.sampled_from([">=", "<", ">", "<=", "="]), min_size=len(values),
                             max_size=len(values)))
    where = [PlainPredicate("rowid", op, v, pa.int64()) for op, v in zip(ops, values, strict=True)]
    table = (source.schema, source.table)
    plain = plan_plain_select(kind, table, source.column_map(), projection, Constraints(), where)

    def tree(compiler: Any) -> list[Any]:
        from sqlglot import exp

        classes = {">=": exp.GTE, "<": exp.LT, ">": exp.GT, "<=": exp.LTE, "=": exp.EQ}
        return [classes[p.op](this=exp.column(p.column), expression=compiler.bind(p.value, p.type)) for p in where]

    from sqlglot import exp

    frm = exp.table_(exp.to_identifier(source.table, quoted=True),
                     db=exp.to_identifier(source.schema, quoted=True) if source.schema else None)
    assert plain == plan_select(kind, frm, source.column_map(), projection, Constraints(), tree)


def test_what_is_not_plain_goes_through_sqlglot(adapter: SqliteAdapter) -> None:
    source = SourceTable("main", "t", (SourceColumn("a", "a", pa.int64()),))
    pushed = Constraints(summary={"a": SortedRangeSet(pa.int64(), (Range.equal(1),), False)})
    assert plan_plain_select(adapter.dialect, ("main", "t"), source.column_map(), ["a"], pushed, []) is None
    assert plan_plain_select(SqlDialect(), ("main", "t"), source.column_map(), ["a"], Constraints(), []) is None

    class Wrapping(SqlDialect):  # reads columns through an expression it does not write without sqlglot
        plain_identifier_quote = '"'

        def select_expression(self, column: SourceColumn) -> Any:
            from sqlglot import exp

            return exp.Cast(this=super().select_expression(column), to=exp.DataType.build("TEXT"))

    assert plan_plain_select(Wrapping(), ("main", "t"), source.column_map(), ["a"], Constraints(), []) is None
    with pytest.raises(InvalidRequest, match="'b'"):  # the same error as plan_select's for an unknown column
        plan_plain_select(adapter.dialect, ("main", "t"), source.column_map(), ["b"], Constraints(), [])


def test_a_sqlite_read_with_hostile_names_returns_its_rows(tmp_path: Path) -> None:
    """End to end through the plain statement: names that need quoting, a rowid split."""
    db = tmp_path / "t.db"
    with sqlite3.connect(db) as c:
        c.execute('CREATE TABLE "we""ird ]`t" ("i""d" INTEGER, "na me" TEXT)')
        c.executemany('INSERT INTO "we""ird ]`t" VALUES (?, ?)', [(i, f"n{i}") for i in range(10)])
    adapter = SqliteAdapter(parse_connection_string(f"sqlite://jdbc:sqlite:{db}"), Settings.from_env({}))
    table = TableName("main", 'we"ird ]`t')
    schema = adapter.get_table(None, table).schema  # type: ignore[arg-type]
    split = Split(None, None, {"rowid_from": "3", "rowid_to": "6"})
    scan = adapter.read_split(None, table, schema, split, Constraints())  # type: ignore[arg-type]
    assert scan.description == 'SELECT "i""d", "na me" FROM "main"."we""ird ]`t" WHERE rowid >= ? AND rowid < ?'
    rows = pa.Table.from_batches(list(scan.batches)).to_pylist()
    assert rows == [{'i"d': i - 1, "na me": f"n{i - 1}"} for i in range(3, 6)]
    adapter.close()
