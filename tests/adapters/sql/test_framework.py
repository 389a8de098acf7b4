"""SqlAdapter behaviour through the real handler on SQLite, PostgreSQL and H2: identifier casing for tables and
views, ListTables paged by SQL, query passthrough, and record streaming that stops once a limit is met."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from adapters.sql.adapter import SqlAdapter
from connector.errors import ConnectorError, SchemaNotFound, SourceError, TableNotFound
from connector.protocol.constraints import (
    Bound,
    Constraints,
    Marker,
    OrderByField,
    Range,
    SortDirection,
    SortedRangeSet,
)
from tests.support.athena import LocalAthena
from tests.support.sql_engines import Engine

pytestmark = pytest.mark.integration

CASING_OBJECTS = ("UPPER_T", "lower_t", "Mixed_T")


@pytest.fixture(scope="module")
def casing_schemas(engine: Engine) -> Iterator[Engine]:
    """``casing`` and ``CASING`` schemas (SQLite: ``main``) each with tables and views in three casings."""
    schemas = ["main"] if engine.name == "sqlite" else ["casing", "CASING"]
    created: list[tuple[str, str, bool]] = []
    for schema in schemas:
        if engine.name != "sqlite":
            engine.execute(f"CREATE SCHEMA IF NOT EXISTS {engine.quote(schema)}")
        for name in CASING_OBJECTS:
            view_name = name[:-1] + ("V" if name[-1] == "T" else "v")
            table = f"{engine.quote(schema)}.{engine.quote(name)}"
            view = f"{engine.quote(schema)}.{engine.quote(view_name)}"
            engine.execute(f"CREATE TABLE {table} (id INTEGER, {engine.quote('Val')} INTEGER)")
            engine.execute(f"INSERT INTO {table} VALUES (1, 10)")
            engine.execute(f"CREATE VIEW {view} AS SELECT id, {engine.quote('Val')} FROM {table}")
            created += [(schema, view_name, True), (schema, name, False)]
    yield engine
    for schema, name, view in created:
        engine.execute(f"DROP {'VIEW' if view else 'TABLE'} {engine.quote(schema)}.{engine.quote(name)}")


# athena name -> found under each casing mode (schema "casing"; SQLite's "main" cannot be upper-cased)
EXPECTED = {
    "none": {"lower_t", "lower_v"},
    "lower": {"lower_t", "lower_v"},
    "upper": {"upper_t", "upper_v"},
    "case_insensitive_search": {"upper_t", "lower_t", "mixed_t", "upper_v", "lower_v", "mixed_v"},
}


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_casing_modes_resolve_tables_and_views(casing_schemas: Engine, mode: str) -> None:
    engine = casing_schemas
    schema = "main" if engine.name == "sqlite" else "casing"
    with LocalAthena(engine.env(casing_mode=mode)) as athena:
        if engine.name == "sqlite" and mode == "upper":
            with pytest.raises(SchemaNotFound, match="'main' not found"):
                athena.table(schema, "upper_t")
            return
        found = set()
        for name in ("upper_t", "lower_t", "mixed_t", "upper_v", "lower_v", "mixed_v"):
            try:
                definition = athena.table(schema, name).logical_schema()
            except TableNotFound as e:
                assert name in str(e) and mode in str(e)
                continue
            found.add(name)
            assert definition.names == ["id", "val"]
            rows = [r for split in athena.scan(schema, name, table_schema=None) for r in split]
            assert rows == [{"id": 1, "val": 10}]
        assert found == EXPECTED[mode]
        tables, _ = athena.tables(schema)
        assert {"upper_t", "lower_t", "mixed_t", "upper_v", "lower_v", "mixed_v"} <= set(tables)
        assert all(t == t.lower() for t in tables)


def test_case_insensitive_search_refuses_ambiguous_names(engine: Engine) -> None:
    if engine.name == "sqlite":
        pytest.skip("SQLite table names are case-insensitive: two such tables cannot exist")
    with engine.temporary([("x", "int64")], [], name="Dup"), engine.temporary([("x", "int64")], [], name="DUP"), \
            LocalAthena(engine.env(casing_mode="case_insensitive_search")) as athena, \
            pytest.raises(SourceError, match=r"ambiguous.*DUP.*Dup"):
        athena.table(engine.athena_schema, "dup")


def test_unknown_schema_and_table_are_clear(engine: Engine) -> None:
    with LocalAthena(engine.env()) as athena:
        with pytest.raises(SchemaNotFound, match="'no_such_schema'"):
            athena.tables("no_such_schema")
        with pytest.raises(TableNotFound, match="no_such_table"):
            athena.table(engine.athena_schema, "no_such_table")


def test_bad_casing_mode_is_a_configuration_error(engine: Engine) -> None:
    with LocalAthena(engine.env(casing_mode="sideways")) as athena, pytest.raises(ConnectorError,
                                                                                  match="casing_mode='sideways'"):
        athena.schemas()


# ------------------------------------------------------------------------------------------ pagination


def test_list_tables_is_paged_by_sql(engine: Engine) -> None:
    schema = "paging"
    if engine.name == "sqlite":
        pytest.skip("SQLite has no CREATE SCHEMA: test_sqlite_list_tables_is_paged_by_sql covers it")
    engine.execute(f"CREATE SCHEMA IF NOT EXISTS {engine.quote(schema)}")
    names = [f"t{i}_{'x' * (i % 3)}" for i in range(7)] + ["v_%_1", "v__2"]
    try:
        for name in names[:7]:
            engine.execute(f"CREATE TABLE {engine.quote(schema)}.{engine.quote(name)} (id INTEGER)")
        for name in names[7:]:
            engine.execute(f"CREATE VIEW {engine.quote(schema)}.{engine.quote(name)} AS SELECT 1 AS id")
        _check_paging(engine, schema, names)
    finally:
        for name in names:
            kind = "VIEW" if name.startswith("v") else "TABLE"
            engine.execute(f"DROP {kind} IF EXISTS {engine.quote(schema)}.{engine.quote(name)}")


def test_sqlite_list_tables_is_paged_by_sql(sqlite_db: Engine) -> None:
    names = ["p1", "p2", "p3", "p_4", "p%5"]
    for name in names:
        sqlite_db.execute(f"CREATE TABLE IF NOT EXISTS {sqlite_db.quote(name)} (id INTEGER)")
    try:
        tables_before = _all_tables(sqlite_db, "main")
        _check_paging(sqlite_db, "main", tables_before)
    finally:
        for name in names:
            sqlite_db.drop(name)


def _all_tables(engine: Engine, schema: str) -> list[str]:
    with LocalAthena(engine.env()) as athena:
        return athena.tables(schema)[0]


def _check_paging(engine: Engine, schema: str, names: list[str]) -> None:
    with LocalAthena(engine.env()) as athena:
        adapter = athena.service.pool.get(athena.catalog)
        assert isinstance(adapter, SqlAdapter)
        everything, token = athena.tables(schema)
        assert token is None
        assert set(everything) >= {n.lower() for n in names}

        def not_for_pages(*args: Any) -> Any:
            raise AssertionError("a paged ListTables must not list every table")

        resolve = adapter.query_tables
        pages: list[list[str]] = []
        token = None
        for _ in range(20):
            adapter.query_tables = not_for_pages  # type: ignore[method-assign]
            page, token = athena.tables(schema, page_size=3, token=token)
            adapter.query_tables = resolve  # type: ignore[method-assign]
            assert len(page) <= 3
            pages.append(page)
            if token is None:
                break
        assert [t for p in pages for t in p] == everything
        assert all(len(p) == 3 for p in pages[:-1])


# ------------------------------------------------------------------------------------------ passthrough


def test_query_passthrough(engine: Engine) -> None:
    rows = [(1, "a", Decimal("1.50")), (2, "b", Decimal("2.25")), (3, None, None)]
    with engine.temporary([("Id", "int64"), ("name", "text"), ("amount", "decimal")], rows) as table, \
            LocalAthena(engine.env()) as athena:
        source = engine.table_sql(table)
        query = (f"SELECT {engine.quote('Id')} AS {engine.quote('Key')}, {engine.quote('amount')} FROM {source} "
                 f"WHERE {engine.quote('Id')} >= 2 ORDER BY 1")
        schema, splits = athena.passthrough(query)
        assert schema.names == ["key", "amount"]
        if engine.name != "sqlite":  # SQLite reports no result types: they are inferred from the rows
            assert schema.field("key").type == pa.int64()
            assert schema.field("amount").type == pa.decimal128(10, 2)
        assert len(splits) == 1
        values = [(r["key"], r["amount"]) for r in splits[0]]
        if engine.name == "sqlite":  # DECIMAL affinity stored 2.25 as REAL
            assert values == [(2, 2.25), (3, None)]
        else:
            assert values == [(2, Decimal("2.25")), (3, None)]


def test_passthrough_schema_is_read_without_running_the_query(engine: Engine) -> None:
    if engine.name == "sqlite":
        pytest.skip("SQLite cannot describe a result without stepping the statement")
    with engine.temporary([("z", "int64")], [(0,)]) as table, LocalAthena(engine.env()) as athena:
        query = f"SELECT 1 / {engine.quote('z')} AS boom FROM {engine.table_sql(table)}"
        schema = athena.table("system", "query", {"schemaFunctionName": "SYSTEM.QUERY", "QUERY": query})
        assert schema.logical_schema().names == ["boom"]
        with pytest.raises(SourceError, match=r"(?i)division by zero"):
            athena.passthrough(query)


def test_passthrough_can_be_disabled(engine: Engine) -> None:
    with LocalAthena(engine.env(enable_query_passthrough="false")) as athena, \
            pytest.raises(ConnectorError, match="not enabled"):
        athena.passthrough("SELECT 1 AS x")


# ------------------------------------------------------------------------------------------ streaming


class _Counting:
    """Counts batches an adapter hands out (wraps ``fetch``)."""

    def __init__(self, adapter: SqlAdapter) -> None:
        self.batches = 0
        original = adapter.fetch

        def fetch(connection: Any, query: Any) -> Iterator[pa.RecordBatch]:
            for batch in original(connection, query):
                self.batches += 1
                yield batch

        adapter.fetch = fetch  # type: ignore[method-assign]
        adapter.initial_fetch_rows = 100  # type: ignore[misc]
        adapter.target_batch_bytes = 1  # type: ignore[misc]  # keep batches at 64 rows


def test_streaming_stops_once_a_limit_is_satisfied(engine: Engine) -> None:
    rows = [(i, Decimal(i % 100)) for i in range(5000)]
    with engine.temporary([("id", "int64"), ("d", "decimal")], rows) as table, \
            LocalAthena(engine.env()) as athena:
        adapter = athena.service.pool.get(athena.catalog)
        assert isinstance(adapter, SqlAdapter)
        counter = _Counting(adapter)

        # Pushed LIMIT: the database returns 10 rows.
        result = athena.scan(engine.athena_schema, table, Constraints(limit=10))
        assert sum(len(s) for s in result) == 10
        assert counter.batches == 1

        # A filter the source cannot evaluate exactly (a decimal comparison on SQLite; a decimal sum
        # everywhere) keeps the LIMIT in the framework, which stops reading once it has its rows.
        counter.batches = 0
        d = pa.decimal128(10, 2)
        residual = Constraints(summary={"d": SortedRangeSet(d, (Range(Marker(Decimal("5.00"), Bound.ABOVE),
                                                                      Marker.above_all()),), False)}, limit=150)
        if engine.name != "sqlite":
            from connector.protocol.constraints import Constant, FunctionCall, Variable

            plus = FunctionCall(pa.decimal128(11, 2), "$add", (Variable("d", d), Constant(d, (Decimal("1.00"),))))
            residual = Constraints(expression=(FunctionCall(pa.bool_(), "$greater_than",
                                                            (plus, Constant(pa.decimal128(11, 2),
                                                                            (Decimal("6.00"),)))),), limit=150)
        result = athena.scan(engine.athena_schema, table, residual)
        assert sum(len(s) for s in result) == 150
        assert 1 < counter.batches <= 4, counter.batches  # 150 passing rows of ~94% need 3 batches of 64

        # Top-N the source cannot sort exactly is done in the framework: everything is read, 5 rows returned.
        counter.batches = 0
        top = Constraints(summary=residual.summary, expression=residual.expression,
                          order_by=(OrderByField("d", SortDirection.DESC_NULLS_LAST),
                                    OrderByField("id", SortDirection.ASC_NULLS_LAST)), limit=5)
        result = athena.scan(engine.athena_schema, table, top)
        assert [r["id"] for r in itertools.chain(*result)] == [99, 199, 299, 399, 499]


def test_closing_a_scan_early_finishes_the_statement_before_pooling_the_connection(engine: Engine) -> None:
    from connector.protocol.messages import Split, TableName
    from connector.scan import rows_of

    rows = [(i,) for i in range(3000)]
    with engine.temporary([("id", "int64")], rows) as table, LocalAthena(engine.env()) as athena:
        adapter = athena.service.pool.get(athena.catalog)
        assert isinstance(adapter, SqlAdapter)
        adapter.initial_fetch_rows = 100  # type: ignore[misc]
        finished = []
        original = adapter.fetch

        def fetch(connection: Any, query: Any) -> Iterator[pa.RecordBatch]:
            try:
                yield from original(connection, query)
            finally:
                finished.append(len(adapter._idle))  # connections in the pool when the statement ends

        adapter.fetch = fetch  # type: ignore[method-assign]
        name = TableName(engine.athena_schema, table)
        schema = athena.table(engine.athena_schema, table).logical_schema()
        scan = adapter.read_split(None, name, schema, Split(None, None, {}), Constraints())  # type: ignore[arg-type]
        batches = scan.batches  # keep the generator alive: only close() may finish it
        first = next(rows_of(scan, schema))
        assert first.num_rows == 100 and batches is scan.batches
        assert finished == [0]  # the statement ended while the connection was still checked out
        assert len(adapter._idle) == 1
        if engine.name != "sqlite":
            assert adapter._idle[0].jconn.getAutoCommit()  # the read transaction is over


def test_get_splits_pages_with_continuation_tokens(sqlite_db: Engine) -> None:
    from adapters.sqlite.adapter import SqliteAdapter
    from connector.protocol.messages import GetSplitsRequest, GetTableLayoutRequest, TableName
    from tests.support.athena import IDENTITY

    class ManySplits(SqliteAdapter):
        def plan_splits(self, ctx: Any, connection: Any, source: Any, partitions: Any,
                        constraints: Any) -> list[dict[str, str]]:
            return [{"n": str(i)} for i in range(2500)]

    with sqlite_db.temporary([("id", "int64")], [(1,)]) as table, LocalAthena(sqlite_db.env()) as athena:
        adapter = ManySplits(athena.service.pool.spec(athena.catalog), athena.service.settings)
        athena.service._adapter_for = lambda catalog: adapter
        name = TableName("main", table)
        message = athena.table("main", table)
        layout: Any = athena.call(GetTableLayoutRequest(IDENTITY, athena.query_id, athena.catalog, name,
                                                        Constraints(), message, ()))
        pages, token = [], None
        while True:
            page: Any = athena.call(GetSplitsRequest(IDENTITY, athena.query_id, athena.catalog, name,
                                                     layout.partitions, (), Constraints(), token))
            pages.append([s.properties["n"] for s in page.splits])
            token = page.continuation_token
            if token is None:
                break
        assert [len(p) for p in pages] == [1000, 1000, 500]
        assert [n for p in pages for n in p] == [str(i) for i in range(2500)]
        with pytest.raises(ConnectorError, match="invalid continuation token"):
            athena.call(GetSplitsRequest(IDENTITY, athena.query_id, athena.catalog, name, layout.partitions, (),
                                         Constraints(), "offset:x"))
