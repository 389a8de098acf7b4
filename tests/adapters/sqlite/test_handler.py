"""The Lambda handler playing Athena's call sequence against the embedded SQLite adapter."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from connector.protocol import (
    Block,
    Bound,
    Constraints,
    GetDataSourceCapabilitiesRequest,
    GetSplitsRequest,
    GetTableLayoutRequest,
    ListSchemasRequest,
    ListTablesRequest,
    Marker,
    OrderByField,
    PingRequest,
    Range,
    ReadRecordsRequest,
    SchemaMessage,
    SortDirection,
    SortedRangeSet,
    UserDefinedFunctionRequest,
    parse_response,
)
from tests.support.athena import IDENTITY, Athena, Invoke

ID = IDENTITY
Q = "query-1"


CATALOG = "sqlitecat"


@pytest.fixture
def athena(lambda_env: Callable[..., None], demo_db: Path, invoke: Invoke) -> Athena:
    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}")
    return Athena(invoke, CATALOG)


def sqlite_rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def test_ping_and_capabilities(athena: Athena) -> None:
    ping = athena.call(PingRequest(ID, athena.catalog, Q))
    assert (ping.source_type, ping.capabilities, ping.serde_version) == ("sqlite", 24, 6)
    capabilities = athena.call(GetDataSourceCapabilitiesRequest(ID, Q, athena.catalog)).capabilities
    assert {"supports_filter_pushdown", "supports_complex_expression_pushdown", "supports_limit_pushdown",
            "supports_top_n_pushdown", "SYSTEM.QUERY"} <= set(capabilities)
    functions = capabilities["supports_complex_expression_pushdown"][0].properties
    assert "$like_pattern" in functions and "$is_distinct_from" in functions


def test_full_sequence_with_paged_tables_matches_sqlite(athena: Athena, demo_db: Path) -> None:
    assert athena.call(ListSchemasRequest(ID, Q, athena.catalog)).schemas == ("main",)
    tables, token = [], None
    while True:
        page = athena.call(ListTablesRequest(ID, Q, athena.catalog, "main", token, 1))
        assert len(page.tables) <= 1
        tables += [t.table for t in page.tables]
        token = page.next_token
        if token is None:
            break
    assert tables == ["big_orders", "customers", "orders"]
    unpaged = athena.call(ListTablesRequest(ID, Q, athena.catalog, "main", None, -1))
    assert [t.table for t in unpaged.tables] == tables and unpaged.next_token is None

    for table in tables:
        name, definition = athena.get_table("main", table)
        result = athena.scan_table(name, definition)
        expected = sqlite_rows(demo_db, f'SELECT * FROM "{table}" ORDER BY id')
        got = sorted(result.to_pylist(), key=lambda r: r["id"])
        assert len(got) == len(expected) > 100
        for row, raw in zip(got, expected, strict=True):
            assert row["id"] == raw[0]
        if table == "orders":
            assert {str(r["amount"]) for r in got} == {str(Decimal(raw[2]).quantize(Decimal("0.01")))
                                                       for raw in expected}


def test_types_are_mapped_without_loss(athena: Athena) -> None:
    _, definition = athena.get_table("main", "orders")
    schema = definition.schema.logical_schema()
    assert schema.field("amount").type == pa.decimal128(12, 2)
    assert schema.field("ordered_at").type == pa.timestamp("ms")
    assert definition.schema.wire_schema().field("ordered_at").type == pa.date64()  # Athena's TIMESTAMP
    _, customers = athena.get_table("main", "customers")
    c = customers.schema.logical_schema()
    assert (c.field("signup_date").type, c.field("vip").type, c.field("id").type) == (pa.date32(), pa.bool_(),
                                                                                       pa.int64())


def test_projection_returns_exactly_the_requested_columns(athena: Athena, demo_db: Path) -> None:
    name, definition = athena.get_table("main", "customers")
    result = athena.scan_table(name, definition, columns=["region", "id"])
    assert result.column_names == ["region", "id"]
    expected = dict(sqlite_rows(demo_db, "SELECT id, region FROM customers"))
    assert {r["id"]: r["region"] for r in result.to_pylist()} == expected


def test_zero_column_read_counts_rows(athena: Athena, demo_db: Path) -> None:
    name, definition = athena.get_table("main", "orders")
    constraints = Constraints(summary={"status": SortedRangeSet(pa.string(), (Range.equal("shipped"),), False)})
    counts = athena.scan_table(name, definition, constraints, columns=[])
    assert counts.num_rows == sqlite_rows(
        demo_db, "SELECT count(*) FROM orders WHERE status = 'shipped'")[0][0]


def test_mixed_case_and_reserved_word_columns(athena: Athena, demo_db: Path) -> None:
    name, definition = athena.get_table("main", "customers")
    assert "email address" in definition.schema.logical_schema().names
    constraints = Constraints(summary={"email address": SortedRangeSet(pa.string(), (Range.equal(
        "customer8@example.com"),), False)})
    result = athena.scan_table(name, definition, constraints, ["id", "email address"])
    assert result.to_pylist() == [{"id": 8, "email address": "customer8@example.com"}]


def test_filters_top_n_and_limit_match_sqlite(athena: Athena, demo_db: Path) -> None:
    name, definition = athena.get_table("main", "orders")
    amount = pa.decimal128(12, 2)
    constraints = Constraints(
        summary={"amount": SortedRangeSet(amount, (Range(Marker(Decimal("500"), Bound.ABOVE), Marker.above_all()),),
                                          False),
                 "status": SortedRangeSet(pa.string(), (Range.equal("pending"), Range.equal("shipped")), False)},
        order_by=(OrderByField("amount", SortDirection.DESC_NULLS_LAST),
                  OrderByField("id", SortDirection.ASC_NULLS_LAST)),
        limit=7)
    result = athena.scan_table(name, definition, constraints, ["id", "amount"])
    expected = sqlite_rows(demo_db, "SELECT id, CAST(amount AS TEXT) FROM orders WHERE amount > 500 AND status IN "
                                    "('pending', 'shipped') ORDER BY amount DESC, id LIMIT 7")
    assert [(r["id"], r["amount"]) for r in result.to_pylist()] == [(i, Decimal(a).quantize(Decimal("0.01")))
                                                                      for i, a in expected]


def test_v2_shaped_requests_work(athena: Athena, demo_db: Path) -> None:
    name, definition = athena.get_table("main", "customers")
    constraints = Constraints(summary={"region": SortedRangeSet(pa.string(), (Range.equal("apac"),), False)})
    result = Athena(athena.invoke, CATALOG, version=2).scan_table(name, definition, constraints, ["id"])
    assert sorted(r["id"] for r in result.to_pylist()) == [r[0] for r in sqlite_rows(
        demo_db, "SELECT id FROM customers WHERE region = 'apac' ORDER BY id")]


def test_unknown_table_and_schema_errors_name_them(athena: Athena) -> None:
    from connector.errors import SchemaNotFound, TableNotFound

    with pytest.raises(TableNotFound, match=r"main\.nope"):
        athena.get_table("main", "nope")
    with pytest.raises(SchemaNotFound, match="'elsewhere'"):
        athena.call(ListTablesRequest(ID, Q, athena.catalog, "elsewhere", None, -1))


def test_unknown_request_type_is_named(athena: Athena) -> None:
    from connector.protocol import ProtocolError

    with pytest.raises(ProtocolError, match="unknown request type 'FrobnicateRequest'"):
        athena.invoke({"@type": "FrobnicateRequest", "identity": {}})


def test_unconfigured_catalog_is_a_clear_error(lambda_env: Callable[..., None], invoke: Invoke) -> None:
    from connector.errors import ConfigurationError

    lambda_env(other_connection_string="sqlite://jdbc:sqlite:/nonexistent.db")
    with pytest.raises(ConfigurationError, match=r"catalog 'missing' is not configured.*missing_connection_string"):
        Athena(invoke, "missing").call(ListSchemasRequest(ID, Q, "missing"))
    ping = Athena(invoke, "missing").call(PingRequest(ID, "missing", Q))  # Ping still answers
    assert ping.source_type == "unconfigured"


def test_a_result_that_must_spill_without_a_bucket_on_lambda_is_a_clear_error(
        lambda_env: Callable[..., None], demo_db: Path, invoke: Invoke) -> None:
    from connector.errors import ConnectorError

    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}", AWS_LAMBDA_FUNCTION_NAME="fn")
    athena = Athena(invoke, CATALOG)
    name, definition = athena.get_table("main", "orders")
    layout = athena.call(GetTableLayoutRequest(ID, Q, athena.catalog, name, Constraints(), definition.schema, ()))
    (split,) = athena.call(GetSplitsRequest(ID, Q, athena.catalog, name, layout.partitions, (), Constraints(),
                                            None)).splits
    assert split.spill_location is None  # no bucket on Lambda: nowhere to spill
    request = ReadRecordsRequest(ID, Q, athena.catalog, name, definition.schema, split, Constraints(), 16_000_000,
                                 10_000)
    with pytest.raises(ConnectorError, match="spill"):
        athena.call(request)


def test_inline_responses_stay_under_the_inline_limit(athena: Athena) -> None:
    name, definition = athena.get_table("main", "orders")
    layout = athena.call(GetTableLayoutRequest(ID, Q, athena.catalog, name, Constraints(), definition.schema, ()))
    (split,) = athena.call(GetSplitsRequest(ID, Q, athena.catalog, name, layout.partitions, (), Constraints(),
                                            None)).splits
    response = athena.invoke(ReadRecordsRequest(ID, Q, athena.catalog, name, definition.schema, split, Constraints(),
                                                16_000_000, 5_242_880).to_wire())
    assert response["@type"] == "ReadRecordsResponse"
    records = Block.from_wire(response["records"], "records")
    assert 0 < len(records.records_bytes) < 5_242_880
    assert records.schema_bytes == definition.schema.data  # the request's schema, echoed byte for byte


def test_udf_is_vectorized_and_keeps_row_order(lambda_env: Callable[..., None], invoke: Invoke) -> None:
    import pyarrow.compute as pc

    from connector.udf import registry

    registry.register("times_two_plus", lambda a, b: pc.add(pc.multiply(a, 2), b))
    lambda_env()
    inputs = pa.record_batch({"a": pa.array([1, 2, None, 4], pa.int32()), "b": pa.array([10, 20, 30, 40], pa.int32())})
    output = SchemaMessage.of(pa.schema([("r", pa.int32())]))
    request = UserDefinedFunctionRequest(ID, Block.from_logical(inputs), output, "times_two_plus")
    response = parse_response(invoke(request.to_wire()))
    assert response.records.logical_batch().column("r").to_pylist() == [12, 24, None, 48]
    from connector.errors import UnsupportedRequest

    with pytest.raises(UnsupportedRequest, match="no UDF named 'nope'"):
        invoke(UserDefinedFunctionRequest(ID, Block.from_logical(inputs), SchemaMessage.of(
            pa.schema([("r", pa.int32())])), "nope").to_wire())


def test_partition_pruning_applies_summary_to_partition_columns(athena: Athena) -> None:
    """The default single partition row survives constraints on non-partition columns."""
    name, definition = athena.get_table("main", "orders")
    constraints = Constraints(summary={"id": SortedRangeSet(pa.int64(), (Range.equal(3),), False)})
    layout = athena.call(GetTableLayoutRequest(ID, Q, athena.catalog, name, constraints, definition.schema, ()))
    assert layout.partitions.logical_batch().num_rows == 1


def test_not_distinct_from_null_keeps_null_rows(athena: Athena, demo_db: Path) -> None:
    """Regression: the portable IS DISTINCT FROM form must never be NULL, or NOT(...) drops NULL = NULL rows."""
    from connector.protocol import Constant, FunctionCall, Variable

    name, definition = athena.get_table("main", "customers")
    email = Variable("email address", pa.string())
    same_as_null = FunctionCall(pa.bool_(), "$not", (FunctionCall(pa.bool_(), "$is_distinct_from", (
        email, Constant(pa.string(), (None,)))),))
    result = athena.scan_table(name, definition, Constraints(expression=(same_as_null,)), ["id"])
    expected = [r[0] for r in sqlite_rows(demo_db, 'SELECT id FROM customers WHERE "Email Address" IS NULL')]
    assert sorted(r["id"] for r in result.to_pylist()) == expected and expected
