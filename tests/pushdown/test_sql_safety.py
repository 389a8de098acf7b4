"""SQL injection safety: adversarial identifiers and values on every dialect.

Schema, table and column names and constraint values are drawn from quotes, backslashes, comment markers,
semicolons, RTL and combining marks, NUL and very long strings. For each adapter (SQLite, PostgreSQL and H2
through JDBC, Oracle, Snowflake, Teradata) the SELECT it would send is parsed back with sqlglot in its own
dialect: one statement, exactly the intended identifiers, one placeholder per parameter, and no value text
anywhere in the SQL. The catalog queries (schema and table look-ups) are checked the same way: names reach
the database as bind parameters. Where an engine runs here the tables are created with such names and read
through the real handler, returning exactly the rows a Python filter keeps (``test_sql_safety_engines``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from adapters.sql.adapter import SourceTable, SqlAdapter
from connector.config import Settings
from connector.connection import parse_connection_string
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
from connector.protocol.messages import Split, TableName
from connector.pushdown.sql import SourceColumn

#: Every generated value carries this invisible separator; identifiers never do. If it shows up in the SQL
#: text, a value was written into the statement instead of being bound.
VALUE_MARK = "\u2063"
NASTY = ["'", '"', "`", "\\", "--", "/*", "*/", ";", "?", ":1", ":p1", "%s", "$1", "${x}", "\u202e", "\u200f",
         "e\u0301", "\u05d0", "\U0001f600", "\x00", " ", "\n", "\t", "[", "]", "OR 1=1", "'; DROP TABLE t; --"]
PLAIN = ["a", "b", "Z", "col", "x1", "é", "_"]


def names(*, nul: bool = True, max_pieces: int = 6) -> st.SearchStrategy[str]:
    pieces = [p for p in NASTY if nul or "\x00" not in p] + PLAIN
    return st.lists(st.sampled_from(pieces), min_size=1, max_size=max_pieces).map("".join).filter(
        lambda s: s.strip() != "" and VALUE_MARK not in s)


def values() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from([*NASTY, *PLAIN]), max_size=6).map(lambda p: VALUE_MARK + "".join(p))


# ------------------------------------------------------------------------------------------ adapters


def _adapter(kind: str) -> SqlAdapter:
    urls = {
        "sqlite": "sqlite://jdbc:sqlite:/tmp/afq-never-opened.db",
        "postgres": "jdbc://jdbc:postgresql://127.0.0.1:1/db",
        "h2": "jdbc://jdbc:h2:/tmp/afq-never-opened",
        "oracle": "oracle://jdbc:oracle:thin:u/p@//127.0.0.1:1/svc",
        "snowflake": "snowflake://jdbc:snowflake://acct.snowflakecomputing.com/?user=u&password=p&warehouse=w&db=d",
        "teradata": "teradata://jdbc:teradata://127.0.0.1/USER=u,PASSWORD=p",
    }
    pytest.importorskip({"oracle": "oracledb", "snowflake": "snowflake.connector", "teradata": "teradatasql"}.get(
        kind, "sqlglot"))
    from connector.registry import adapter_class

    spec = parse_connection_string(urls[kind], "c")
    adapter = adapter_class(spec.engine).from_connection(spec, Settings.from_env({}))
    assert isinstance(adapter, SqlAdapter)
    return adapter


#: The source type names each adapter maps to (varchar, bigint), as its catalog reports them.
SOURCE_TYPES = {"sqlite": ("TEXT", "INTEGER"), "postgres": ("text", "int8"), "h2": ("CHARACTER VARYING", "BIGINT"),
                "oracle": ("VARCHAR2(200)", "NUMBER(18,0)"), "snowflake": ("TEXT", "NUMBER(18,0)"),
                "teradata": ("VARCHAR(200)", "BIGINT")}
KINDS = tuple(SOURCE_TYPES)
#: How each dialect's sqlglot reader is named (H2 is generated as PostgreSQL syntax).
READERS = {"sqlite": "sqlite", "postgres": "postgres", "h2": "postgres", "oracle": "oracle",
           "snowflake": "snowflake", "teradata": "teradata"}


def _dialect_reader(kind: str, adapter: SqlAdapter) -> Any:
    if kind == "h2":
        return adapter.dialect.sqlglot()
    return READERS[kind]


def _constraints(text: str, number: str, samples: Sequence[str]) -> Constraints:
    summary = {text: EquatableValueSet(pa.string(), tuple(samples), True, False),
               number: SortedRangeSet(pa.int64(), (Range(Marker(-5, Bound.ABOVE), Marker(10**6, Bound.EXACTLY)),),
                                      False)}
    like = FunctionCall(pa.bool_(), "$like_pattern", (Variable(text, pa.string()),
                                                      Constant(pa.string(), (samples[0] + "%",))))
    differs = FunctionCall(pa.bool_(), "$not_equal", (Variable(text, pa.string()),
                                                      Constant(pa.string(), (samples[-1] + "'",))))
    return Constraints(summary, (FunctionCall(pa.bool_(), "$or", (like, differs)),),
                       (OrderByField(text, SortDirection.DESC_NULLS_LAST),), 7)


def _placeholders(tree: exp.Expression) -> int:
    return sum(1 for _ in tree.find_all(exp.Placeholder))


def _param_count(params: Any) -> int:
    return len(params)


def _param_values(params: Any) -> list[Any]:
    return list(params.values()) if isinstance(params, dict) else list(params)


#: Identifiers a dialect adds itself (row-number subqueries, collations...), never from input.
HELPER_IDENTIFIERS = {"C", "afq_rn", "afq_q", "afq_inner", "ROWNUM", "rowid"}


def check_statement(kind: str, adapter: SqlAdapter, sql: str, params: Any, intended: set[str],
                    values_used: Sequence[str]) -> None:
    """``sql`` is one statement of this dialect naming exactly ``intended`` (plus helpers), values all bound."""
    assert VALUE_MARK not in sql, f"a value was written into the SQL: {sql!r}"
    for value in values_used:
        assert value not in sql
    statements = sqlglot.parse(sql, read=_dialect_reader(kind, adapter))
    assert len(statements) == 1 and statements[0] is not None, f"{kind}: {len(statements)} statements in {sql!r}"
    tree = statements[0]
    found = {i.name for i in tree.find_all(exp.Identifier)}
    missing = intended - found
    assert not missing, f"{kind}: identifiers {missing!r} do not survive in {sql!r} (found {found!r})"
    extra = {n for n in found - intended if n not in HELPER_IDENTIFIERS and not n.lower().startswith("afq")}
    assert not extra, f"{kind}: unexpected identifiers {extra!r} in {sql!r}"
    assert _placeholders(tree) == _param_count(params), f"{kind}: {sql!r} with {params!r}"


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_selects_parse_back_to_the_intended_tree(kind: str, data: st.DataObject) -> None:
    adapter = _adapter(kind)
    long = data.draw(st.booleans())
    schema = data.draw(names()) * (40 if long else 1)
    table = data.draw(names())
    text_name, number_name = data.draw(st.lists(names(), min_size=2, max_size=2,
                                                unique_by=lambda s: s.lower()))
    samples = data.draw(st.lists(values(), min_size=1, max_size=4))
    text_type, number_type = SOURCE_TYPES[kind]
    source = SourceTable(schema, table, (SourceColumn(text_name.lower(), text_name, pa.string(), text_type),
                                         SourceColumn(number_name.lower(), number_name, pa.int64(), number_type)))
    arrow = adapter.arrow_schema(source)
    constraints = _constraints(text_name.lower(), number_name.lower(), samples)
    query = adapter.plan(None, TableName(schema.lower(), table.lower()), arrow, Split(None, None, {}), constraints)
    check_statement(kind, adapter, query.sql, query.params, {schema, table, text_name, number_name},
                    [s for s in samples if len(s) > 1])


@pytest.mark.parametrize("kind", KINDS)
def test_a_quote_laden_value_is_pushed_as_a_parameter(kind: str) -> None:
    """Not everything stays in the framework: a plain (if hostile) string equality reaches every source bound."""
    adapter = _adapter(kind)
    value = VALUE_MARK + "x'); DELETE FROM t; --"
    text_type, number_type = SOURCE_TYPES[kind]
    source = SourceTable("S", "T", (SourceColumn("c", "C", pa.string(), text_type),
                                    SourceColumn("n", "N", pa.int64(), number_type)))
    constraints = Constraints({"c": EquatableValueSet(pa.string(), (value,), True, False)})
    query = adapter.plan(None, TableName("s", "t"), adapter.arrow_schema(source), Split(None, None, {}), constraints)
    check_statement(kind, adapter, query.sql, query.params, {"S", "T", "C", "N"}, [value])
    assert value in _param_values(query.params), f"{kind}: {query.sql!r} {query.params!r}"


# ------------------------------------------------------------------------------------------ catalog queries


class RecordingConnection:
    """A DB-API connection that records every statement and answers with no rows."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def cursor(self) -> RecordingConnection:
        return self

    def execute(self, sql: str, params: Any = None) -> None:
        self.statements.append((sql, params))

    description = None

    def fetchall(self) -> list[Any]:
        return []

    def fetchmany(self, size: int = 1) -> list[Any]:
        return []

    def fetchone(self) -> Any:
        return None

    def close(self) -> None:
        pass


CATALOG_CALLS = ("query_tables", "query_tables_page", "query_columns", "query_is_view", "query_primary_key",
                 "resolve_schema", "resolve_table", "query_row_partitions", "query_primary_index",
                 "query_table_bytes")


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "h2", "oracle", "snowflake", "teradata"])
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(drawn_schema=names(), drawn_table=names())
def test_catalog_queries_bind_schema_and_table_names(kind: str, drawn_schema: str, drawn_table: str) -> None:
    from connector.errors import ConnectorError

    # Each name carries a character no catalog statement contains, so finding it in the SQL means it was inlined.
    schema, table = drawn_schema + "\u202e", drawn_table + "\u200f"
    adapter = _adapter(kind)
    if kind in ("postgres", "h2"):  # JDBC catalogs: SQL for tables, DatabaseMetaData (no SQL text) for columns
        calls: tuple[str, ...] = ("query_tables", "query_tables_page")
    else:
        calls = tuple(c for c in CATALOG_CALLS if hasattr(adapter, c))
    connection = RecordingConnection()
    for name in calls:
        arguments: tuple[Any, ...] = {
            "query_tables": (schema,), "query_tables_page": (schema, 10, 20), "resolve_schema": (schema,),
            "resolve_table": (TableName(schema, table),),
        }.get(name, (schema, table))
        with contextlib.suppress(ConnectorError):  # not found: what matters is how it asked
            getattr(adapter, name)(connection, *arguments)
    assert connection.statements, f"{kind}: no catalog statement was issued"
    reader = _dialect_reader(kind, adapter)
    asked_for_schema = 0
    for sql, params in connection.statements:
        statements = sqlglot.parse(sql, read=reader)
        assert len(statements) == 1 and statements[0] is not None, sql
        if kind == "sqlite" and schema in sql:
            # SQLite names an attached database only by identifier: it must be one, quoted, and intact.
            assert schema in {i.name for i in statements[0].find_all(exp.Identifier)}, sql
            continue
        assert schema not in sql and table not in sql, f"{kind}: a name was written into {sql!r}"
        bound = _param_values(params or ())
        asked_for_schema += schema in bound
        if table in bound:
            assert schema in bound or kind == "sqlite", f"{kind}: {sql!r} {bound!r}"
    assert asked_for_schema or kind == "sqlite", f"{kind}: the schema name was never bound"


def test_value_mark_never_appears_in_identifiers() -> None:
    assert all(VALUE_MARK not in n for n in NASTY + PLAIN)
