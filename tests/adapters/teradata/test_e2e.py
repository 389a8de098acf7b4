"""Athena's call sequence through the service and the real Teradata adapter, against a DuckDB stand-in.

The stand-in (tests/support/teradata_duckdb.py) executes the adapter's Teradata SQL after parsing it with sqlglot's
Teradata dialect and transpiling it; the DBC dictionary views are tables filled with Teradata's type codes.
What this proves: the catalog queries, type mapping, pagination, split planning from the dictionary,
split predicates (each row read exactly once), pushdown and value conversion all work end to end. What it
cannot prove: Teradata's own behaviour (see docs/teradata.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from adapters.teradata.adapter import TeradataAdapter
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.errors import SchemaNotFound, SourceError, TableNotFound
from connector.protocol import (
    Bound,
    Constraints,
    GetTableRequest,
    ListSchemasRequest,
    ListTablesRequest,
    Marker,
    OrderByField,
    Range,
    ReadRecordsRequest,
    SchemaMessage,
    SortDirection,
    SortedRangeSet,
    TableName,
)
from connector.protocol.constraints import EquatableValueSet
from connector.service import FederationService
from tests.support.athena import IDENTITY, Athena, in_process
from tests.support.teradata_duckdb import FakeTeradata, TdColumn, TdTable

ID = IDENTITY
Q = "query-td"
CATALOG = "tdcat"

ORDER_COLUMNS = [
    TdColumn("OrderId", "I", nullable=False), TdColumn("Customer", "CV", length=160, char_type=2),
    TdColumn("Code", "CF", length=10, char_type=2), TdColumn("Amount", "D", digits=10, fraction=2),
    TdColumn("Exact", "D", digits=38, fraction=10), TdColumn("Whole", "D", digits=18, fraction=0),
    TdColumn("Ratio", "F"), TdColumn("Placed", "DA"), TdColumn("At", "TS", fraction=6),
    TdColumn("Tiny", "I1"), TdColumn("Small", "I2"), TdColumn("Huge", "I8"),
    TdColumn("Num", "N", digits=-128, fraction=-128), TdColumn("Raw", "BV", length=16),
    TdColumn("Clock", "AT", fraction=3), TdColumn("Span", "DS", digits=2, fraction=6), TdColumn("Doc", "JN"),
]


BIG = Decimal("12345678901234567890.0123456789")  # 30 digits: more than a double or Python's default context


def order_row(i: int) -> tuple[Any, ...]:
    return (
        i, None if i % 7 == 0 else ["Bob", "bob", "O'Neil", "Zoë", "bob  "][i % 5], ["ab", "AB", "x"][i % 3],
        Decimal(i * 37 % 500) + Decimal("0.25"), [-BIG, Decimal(0), BIG][i % 3],
        Decimal(10**17 + i), None if i % 11 == 0 else i / 8, dt.date(2020, 1, 1) + dt.timedelta(days=i),
        dt.datetime(2021, 3, 4, 5, 6, 7, 123456) + dt.timedelta(milliseconds=i * 250, microseconds=i),
        i % 100 - 50, i * 100 - 3000, 2**40 + i, Decimal(i) / Decimal(4), bytes([i % 256, 0, 255]),
        dt.time(12, 30, i % 60, 500000), f" {i % 9} 12:30:00.000000", f'{{"k": {i}}}',
    )


def event_row(i: int) -> tuple[Any, ...]:
    return (i, dt.date(2022, 1 + i % 12, 1 + i % 28), f"e{i}")


def tables() -> list[TdTable]:
    many = [TdTable("Many", f"T{n:03d}", [TdColumn("X", "I")], [(n,)]) for n in range(25)]
    return [
        TdTable("Sales", "Orders", ORDER_COLUMNS, [order_row(i) for i in range(60)], primary_index=["OrderId"]),
        TdTable("Sales", "Events", [TdColumn("EventId", "I"), TdColumn("Day", "DA"), TdColumn("Name", "CV", 20)],
                [event_row(i) for i in range(48)], primary_index=["EventId"], partitions=12,
                partition_of=lambda r: r[1].month),
        TdTable("Sales", "Staging", [TdColumn("K", "I"), TdColumn("Note", "CV", 50), TdColumn("Body", "CO")],
                [(i, f"n{i}" if i % 4 else None, "x" * i) for i in range(30)], kind="O"),
        TdTable("Sales", "BigOrders", [TdColumn("OrderId", "I"), TdColumn("Amount", "D", digits=10, fraction=2)],
                kind="V", view_sql='SELECT "OrderId", "Amount" FROM "Sales"."Orders" WHERE "Amount" > 300'),
        *many,
    ]


class ShimAdapter(TeradataAdapter):
    """The real adapter with connect() answered by the DuckDB stand-in instead of teradatasql."""

    fake: FakeTeradata

    def connect(self) -> Any:
        self.connect_parameters()
        return self.fake.connection()


@pytest.fixture
def fake() -> FakeTeradata:
    return FakeTeradata(tables())


def make_service(fake: FakeTeradata, tmp_path: Path, **env: str) -> tuple[Athena, ShimAdapter]:
    settings = Settings.from_env({"AFQ_LOCAL_SPILL_DIR": str(tmp_path / "spill"), **env})
    spec = parse_connection_string("teradata://jdbc:teradata://tdhost/TMODE=ANSI,CHARSET=UTF8,USER=athena,"
                                   "PASSWORD=not-a-real-one", CATALOG)
    adapter = ShimAdapter(spec, settings)
    adapter.fake = fake
    service = FederationService(settings, adapters=lambda catalog: adapter)
    return Athena(in_process(service), CATALOG, query_id=Q), adapter


@pytest.fixture
def athena(fake: FakeTeradata, tmp_path: Path) -> Iterator[Athena]:
    service, adapter = make_service(fake, tmp_path)
    yield service
    adapter.close()


def test_schemas_hide_system_databases(athena: Athena) -> None:
    assert athena.call(ListSchemasRequest(ID, Q, CATALOG)).schemas == ("many", "sales")


def test_tables_are_paginated_in_sql_and_match_the_unpaged_listing(athena: Athena, fake: FakeTeradata) -> None:
    names, token, pages = [], None, 0
    while True:
        page = athena.call(ListTablesRequest(ID, Q, CATALOG, "many", token, 10))
        assert len(page.tables) <= 10
        names += [t.table for t in page.tables]
        token, pages = page.next_token, pages + 1
        if token is None:
            break
    assert pages == 3 and names == [f"t{n:03d}" for n in range(25)]
    unpaged = athena.call(ListTablesRequest(ID, Q, CATALOG, "many", None, -1))
    assert [t.table for t in unpaged.tables] == names
    assert any("QUALIFY ROW_NUMBER()" in s for s in fake.statements)
    sales = athena.call(ListTablesRequest(ID, Q, CATALOG, "sales", None, -1))
    assert [t.table for t in sales.tables] == ["bigorders", "events", "orders", "staging"]


def test_types_come_from_the_dictionary_without_loss(athena: Athena) -> None:
    _, definition = athena.get_table("sales", "orders")
    schema = definition.schema.logical_schema()
    expected = {
        "orderid": pa.int32(), "customer": pa.string(), "code": pa.string(), "amount": pa.decimal128(10, 2),
        "exact": pa.decimal128(38, 10), "whole": pa.decimal128(18, 0), "ratio": pa.float64(),
        "placed": pa.date32(), "at": pa.timestamp("ms"), "tiny": pa.int8(), "small": pa.int16(),
        "huge": pa.int64(), "num": pa.decimal128(38, 10), "raw": pa.binary(), "clock": pa.string(),
        "span": pa.string(), "doc": pa.string(),
    }
    assert {f.name: f.type for f in schema} == expected


def test_values_are_converted_exactly(athena: Athena) -> None:
    name, definition = athena.get_table("sales", "orders")
    table = athena.scan_table(name, definition)
    rows = {r["orderid"]: r for r in table.to_pylist()}
    assert sorted(rows) == list(range(60))
    r = rows[13]
    assert r["amount"] == Decimal("481.25")  # DECIMAL(10,2): never a bigint
    assert r["exact"] == 0 and rows[14]["exact"] == BIG and rows[12]["exact"] == -BIG
    assert r["at"] == dt.datetime(2021, 3, 4, 5, 6, 10, 373000)  # 7.123456 + 3.250013 s, floored to ms
    assert r["code"] == "AB"  # CHAR(5) pad and UTF8 export-width blanks removed
    assert rows[4]["customer"] == "bob  "  # VARCHAR keeps its blanks
    assert r["clock"] == "12:30:13.500"  # TIME(3) as Teradata writes it
    assert r["span"] == "4 12:30:00.000000"
    assert r["raw"] == bytes([13, 0, 255]) and r["tiny"] == -37 and r["huge"] == 2**40 + 13
    assert r["num"] == Decimal("3.25")


def test_case_insensitive_names_and_clear_not_found_errors(athena: Athena) -> None:
    _, definition = athena.get_table("SALES", "ORDERS")
    assert "orderid" in definition.schema.logical_schema().names
    with pytest.raises(TableNotFound, match=r"sales\.nope"):
        athena.get_table("sales", "nope")
    with pytest.raises(SchemaNotFound, match="'elsewhere'"):
        athena.call(ListTablesRequest(ID, Q, CATALOG, "elsewhere", None, -1))


def test_primary_index_table_reads_through_hash_bucket_splits(athena: Athena, fake: FakeTeradata) -> None:
    name, definition = athena.get_table("sales", "orders")
    table = athena.scan_table(name, definition, columns=["orderid"])
    splits = athena.splits_seen
    assert len(splits) == 4
    assert {s.properties["split"] for s in splits} == {"hash"}
    assert sorted(table.column("orderid").to_pylist()) == list(range(60))  # each row exactly once
    hashed = [s for s in fake.statements if "HASHBUCKET(HASHROW(\"OrderId\")) MOD 4 = " in s]
    assert len(hashed) == 4


def test_ppi_table_reads_through_row_partition_splits(athena: Athena, fake: FakeTeradata) -> None:
    name, definition = athena.get_table("sales", "events")
    table = athena.scan_table(name, definition, columns=["eventid"])
    splits = athena.splits_seen
    assert [(s.properties["partition_low"], s.properties["partition_high"]) for s in splits] == [
        ("", "3"), ("4", "6"), ("7", "9"), ("10", "")]
    assert sorted(table.column("eventid").to_pylist()) == list(range(48))
    assert not any("DISTINCT" in s.upper() for s in fake.statements)


def test_nopi_table_hashes_every_hashable_column(athena: Athena, fake: FakeTeradata) -> None:
    name, definition = athena.get_table("sales", "staging")
    table = athena.scan_table(name, definition)
    splits = athena.splits_seen
    assert len(splits) == 4
    assert all(s.properties["hash_columns"] == '["K", "Note"]' for s in splits)  # the CLOB is not hashed
    assert sorted(table.column("k").to_pylist()) == list(range(30))


def test_view_is_one_split_with_types_from_columnsq(athena: Athena) -> None:
    name, definition = athena.get_table("sales", "bigorders")
    assert definition.schema.logical_schema().field("amount").type == pa.decimal128(10, 2)
    table = athena.scan_table(name, definition)
    splits = athena.splits_seen
    assert len(splits) == 1 and not splits[0].properties
    assert sorted(table.column("orderid").to_pylist()) == sorted(
        i for i in range(60) if Decimal(i * 37 % 500) + Decimal("0.25") > 300)


def test_view_types_fall_back_to_a_prepared_select(tmp_path: Path) -> None:
    fake = FakeTeradata(tables(), hide_columnsq=True)
    athena, _ = make_service(fake, tmp_path)
    _, definition = athena.get_table("sales", "bigorders")
    assert definition.schema.logical_schema().field("amount").type == pa.decimal128(10, 2)
    assert any(s.startswith("{fn teradata_rpo(S)}SELECT * FROM \"Sales\".\"BigOrders\"") for s in fake.statements)


def test_split_count_is_configurable(fake: FakeTeradata, tmp_path: Path) -> None:
    athena, _ = make_service(fake, tmp_path, teradata_split_count="1")
    name, definition = athena.get_table("sales", "orders")
    assert [s.properties for s in athena.splits(name, definition, Constraints())] == [{}]
    athena, _ = make_service(fake, tmp_path, teradata_split_count="7")
    name, definition = athena.get_table("sales", "orders")
    table = athena.scan_table(name, definition, columns=["orderid"])
    splits = athena.splits_seen
    assert len(splits) == 7 and sorted(table.column("orderid").to_pylist()) == list(range(60))


def test_pushdown_with_top_n_matches_python(athena: Athena, fake: FakeTeradata) -> None:
    name, definition = athena.get_table("sales", "orders")
    constraints = Constraints(
        summary={"amount": SortedRangeSet(pa.decimal128(10, 2), (Range(Marker(Decimal("100"), Bound.ABOVE),
                                                                        Marker.above_all()),), False),
                 "customer": EquatableValueSet(pa.string(), ("bob", "Zoë"), True, False)},
        order_by=(OrderByField("amount", SortDirection.DESC_NULLS_LAST),), limit=3)
    table = athena.scan_table(name, definition, constraints, ["orderid", "amount", "customer"])
    rows = [order_row(i) for i in range(60)]
    wanted = sorted((r for r in rows if r[3] > 100 and r[1] in ("bob", "Zoë")), key=lambda r: -r[3])
    # Each split returns its own top 3; Athena merges them. Together they hold the global top 3.
    got = sorted(table.to_pylist(), key=lambda r: -r["amount"])[:3]
    assert [(r["orderid"], r["customer"]) for r in got] == [(r[0], r[1]) for r in wanted[:3]]
    statements = [s for s in fake.statements if '"Customer" IN (?, ?)' in s]
    assert statements and all(" TOP " not in s for s in statements)  # the string set is re-checked: no TOP
    # "Bob" and "bob  " match the prefilter in Teradata's NOT CASESPECIFIC pad semantics; the framework drops them.
    assert {r["customer"] for r in table.to_pylist()} <= {"bob", "Zoë"}


def test_top_n_is_pushed_as_top_with_case_null_ordering(athena: Athena, fake: FakeTeradata) -> None:
    name, definition = athena.get_table("sales", "orders")
    constraints = Constraints(order_by=(OrderByField("ratio", SortDirection.ASC_NULLS_LAST),
                                        OrderByField("orderid", SortDirection.DESC_NULLS_FIRST)), limit=5)
    table = athena.scan_table(name, definition, constraints, ["orderid", "ratio"])
    got = sorted(table.to_pylist(), key=lambda r: (r["ratio"] is None, r["ratio"] or 0, -r["orderid"]))[:5]
    assert [r["orderid"] for r in got] == [1, 2, 3, 4, 5]
    top = [s for s in fake.statements if s.startswith("SELECT TOP 5 ")]
    assert len(top) == 4 and all("CASE WHEN \"Ratio\" IS NULL THEN 1 ELSE 0 END" in s for s in top)
    assert not any("NULLS" in s or "OFFSET" in s for s in fake.statements)


def test_timestamp_ranges_are_exact_on_the_millisecond_grid(athena: Athena) -> None:
    name, definition = athena.get_table("sales", "orders")
    at = dt.datetime(2021, 3, 4, 5, 6, 10, 373000)  # order 13 is 10.373013 s: floored to this value
    constraints = Constraints(summary={"at": SortedRangeSet(pa.timestamp("ms"), (Range.equal(at),), False)})
    table = athena.scan_table(name, definition, constraints, ["orderid", "at"])
    assert table.to_pylist() == [{"orderid": 13, "at": at}]


def test_passthrough_prepares_then_reads(athena: Athena, fake: FakeTeradata) -> None:
    query = 'SELECT "OrderId", "Amount" FROM "Sales"."Orders" WHERE "OrderId" < 3'
    name = TableName("system", "query")
    definition = athena.call(GetTableRequest(ID, Q, CATALOG, name, {"QUERY": query}))
    schema = definition.schema.logical_schema()
    assert {f.name: f.type for f in schema} == {"orderid": pa.int32(), "amount": pa.decimal128(10, 2)}
    assert fake.statements[-1] == "{fn teradata_rpo(S)}" + query
    from connector.protocol import Split

    constraints = Constraints(passthrough={"QUERY": query})
    response = athena.call(ReadRecordsRequest(ID, Q, CATALOG, name, SchemaMessage.of_logical(schema),
                                              Split(None, None, {}), constraints, 16_000_000, 5_242_880))
    rows = response.records.logical_batch().to_pylist()
    assert rows == [{"orderid": i, "amount": Decimal(i * 37 % 500) + Decimal("0.25")} for i in range(3)]


def test_database_errors_are_source_errors_with_the_teradata_code(athena: Athena) -> None:
    query = "SELECT no_such_column FROM \"Sales\".\"Orders\""
    with pytest.raises(SourceError, match=r"Teradata error 3706"):
        athena.call(GetTableRequest(ID, Q, CATALOG, TableName("system", "query"), {"QUERY": query}))


def test_every_statement_parses_as_teradata(athena: Athena, fake: FakeTeradata) -> None:
    import sqlglot

    name, definition = athena.get_table("sales", "events")
    athena.scan_table(name, definition, Constraints(order_by=(OrderByField("day", SortDirection.DESC_NULLS_FIRST),),
                                              limit=2))
    assert fake.statements
    for statement in fake.statements:
        text = statement.removeprefix("{fn teradata_rpo(S)}")
        tree = sqlglot.parse_one(text, read="teradata")
        assert type(tree).__name__ == "Select", statement
        assert "OFFSET" not in statement.upper() and "NULLS" not in statement.upper()
