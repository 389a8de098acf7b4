"""Snowflake results as a real server encodes them, through the real driver's own conversion code.

Two ways in, both ending in snowflake-connector-python 5.2's compiled decoder (Rust core + nanoarrow converter):

* the emulator (``tests/servers/fakesnow_app.py``) now writes chunks in a real server's encoding
  (``tests/servers/snowflake_wire.py``); the first test checks that encoding against the recorded layout;
* offline, a ``ResultBatch`` built from an inline chunk (what ``rowsetBase64`` carries) in the layouts the emulator
  cannot produce (fakesnow only has scale-9 timestamps): ``to_arrow`` runs the same decoder with no network.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from adapters.snowflake.adapter import SnowflakeAdapter
from adapters.snowflake.dialect import SNOWFLAKE_TYPES, SnowflakeDialect, result_batches
from adapters.sql.types import ColumnInfo
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.errors import InvalidRequest, SourceError
from connector.protocol.constraints import Constraints, OrderByField, SortDirection
from connector.protocol.messages import Split, TableName
from connector.pushdown.sql import SourceColumn, plan_select
from connector.scan import rows_of
from tests.servers.fakesnow import FakeSnowflake
from tests.servers.snowflake_wire import RECORDED_LAYOUT, ipc_bytes
from tests.support import snowflake_data as data

pytestmark = pytest.mark.integration
PASSWORD = "correct%20horse%20battery%20staple"
ONE_PARTITION = pa.table({"partitionId": pa.array([1], pa.int32())})
WIDE = TableName("wire", "wide")


@pytest.fixture(scope="module")
def server(fakesnow_server: FakeSnowflake) -> FakeSnowflake:
    import snowflake.connector

    data.load(fakesnow_server)
    with snowflake.connector.connect(**fakesnow_server.connect_kwargs()) as connection:
        cursor = connection.cursor()
        for sql in (f"CREATE SCHEMA IF NOT EXISTS {data.DATABASE}.WIRE", f"USE SCHEMA {data.DATABASE}.WIRE",
                    "CREATE OR REPLACE TABLE WIDE (ID NUMBER(10,0), AMOUNT NUMBER(18,2), RATIO NUMBER(38,12), "
                    "Q NUMBER(38,1))"):
            cursor.execute(sql)
        rows = [(i, Decimal("1234567890123456.78") if i % 3 == 0 else Decimal(i) / 100, None, i * 1000)
                for i in range(1200)]
        for start in range(0, len(rows), 200):
            chunk = rows[start : start + 200]
            cursor.execute("INSERT INTO WIDE VALUES " + ", ".join(["(?, ?, ?, ?)"] * len(chunk)),
                           [v for row in chunk for v in row])
        cursor.execute("CREATE OR REPLACE TABLE ONE (AMOUNT NUMBER(18,2))")
        cursor.execute("INSERT INTO ONE VALUES (1234567890123456.78)")
        # Values needing more than int64 once scaled (SB16 chunks): written in SQL, as binding cannot carry them.
        cursor.execute("UPDATE WIDE SET Q = 100000000000000000000.0 + ID WHERE ID >= 600")
        cursor.execute("UPDATE WIDE SET RATIO = 123456789012345678.123456789 WHERE ID % 5 = 0")
    return fakesnow_server


def make_adapter(server: FakeSnowflake, user: str = "afq_user", **env: str) -> SnowflakeAdapter:
    extra = f"&user={user}&password={PASSWORD}"
    spec = parse_connection_string("snowflake://" + server.url(data.DATABASE, None, extra))
    return SnowflakeAdapter(spec, Settings.from_env(env))


def read(adapter: SnowflakeAdapter, table: TableName, constraints: Constraints | None = None) -> list[dict[str, Any]]:
    constraints = constraints or Constraints()
    schema = adapter.get_table(None, table).schema  # type: ignore[arg-type]
    page = adapter.get_splits(None, table, ONE_PARTITION, constraints, None)  # type: ignore[arg-type]
    rows: list[dict[str, Any]] = []
    for properties in page.splits:
        scan = adapter.read_split(None, table, schema, Split(None, None, properties), constraints)  # type: ignore
        rows.extend(r for batch in rows_of(scan, schema) for r in batch.to_pylist())
    return rows


@pytest.fixture(params=["single", "batches"])
def adapter(server: FakeSnowflake, request: pytest.FixtureRequest) -> Iterator[SnowflakeAdapter]:
    a = make_adapter(server, snowflake_split_mode=request.param, snowflake_split_rows="400")
    yield a
    a.close()


# ------------------------------------------------------------------------------------------ the emulator's chunks


RECORDED_QUERIES = {
    "NUMBER(38,0) 1..3": "SELECT 1 AS C UNION ALL SELECT 2 UNION ALL SELECT 3",
    "NUMBER(38,0) 129..131": "SELECT 129 AS C UNION ALL SELECT 130 UNION ALL SELECT 131",
    "NUMBER(38,0) 100000..100002": "SELECT 100000 AS C UNION ALL SELECT 100001 UNION ALL SELECT 100002",
    "NUMBER(38,0) 10000000000..": "SELECT 10000000000 AS C UNION ALL SELECT 10000000001",
    "NUMBER(38,2) 10**20": "SELECT CAST(100000000000000000000 AS NUMBER(38,2)) AS C",
    "NUMBER(18,2) 1234567890123456.78": "SELECT CAST(1234567890123456.78 AS NUMBER(18,2)) AS C",
    "NUMBER(10,3) 1234567.125": "SELECT CAST(1234567.125 AS NUMBER(10,3)) AS C",
    "TIME(9)": "SELECT CAST('13:14:15.123456' AS TIME) AS C",
    "TIMESTAMP_NTZ(9)": "SELECT CAST('2024-02-29 13:14:15.123456' AS TIMESTAMP_NTZ) AS C",
    "TIMESTAMP_TZ(9)": "SELECT CAST('2024-02-29 13:14:15.123+01:00' AS TIMESTAMP_TZ) AS C",
}


def test_emulator_chunks_agree_with_the_recorded_layout(server: FakeSnowflake) -> None:
    """The bytes the driver receives from the emulator (the inline chunk) have a real server's layout."""
    import snowflake.connector

    assert set(RECORDED_QUERIES) == set(RECORDED_LAYOUT)
    with snowflake.connector.connect(**server.connect_kwargs()) as connection:
        cursor = connection.cursor()
        cursor.execute(f"USE SCHEMA {data.DATABASE}.WIRE")
        for name, sql in RECORDED_QUERIES.items():
            cursor.execute(sql)
            batches = cursor.get_result_batches()
            assert batches is not None and len(batches) == 1
            chunk = pa.ipc.open_stream(base64.b64decode(batches[0]._chunk.inline))  # what the server sent
            field = chunk.schema.field(0)
            expected_type, expected_metadata = RECORDED_LAYOUT[name]
            metadata = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
            assert field.type == expected_type, name
            assert {k: metadata.get(k) for k in expected_metadata} == expected_metadata, name


def test_number_with_a_scale_is_read_exactly(adapter: SnowflakeAdapter) -> None:
    """NUMBER(18,2) 1234567890123456.78 arrives as a scaled int64; the driver's default turns it into float64
    (...456.75). NUMBER(38,12) 123456789012345678.123456789 arrives as decimal128 (SB16). Exact in both split
    modes, also when a column's integer width changes between the chunks of one result (Q: int32, then SB16)."""
    rows = sorted(read(adapter, WIDE), key=lambda r: r["id"])
    assert [r["id"] for r in rows] == list(range(1200))
    assert rows[0]["amount"] == Decimal("1234567890123456.78")
    assert rows[1]["amount"] == Decimal("0.01")
    assert rows[0]["ratio"] == Decimal("123456789012345678.123456789")
    assert rows[1]["ratio"] is None
    assert [r["q"] for r in rows] == [Decimal(i * 1000 if i < 600 else 10**20 + i) for i in range(1200)]


def test_number_with_a_scale_in_one_chunk(server: FakeSnowflake) -> None:
    """The smallest case: one row, one chunk, NUMBER(18,2) 1234567890123456.78 (the driver's float64 gives
    1234567890123456.75)."""
    a = make_adapter(server, snowflake_split_mode="single")
    try:
        rows = read(a, TableName("wire", "one"))
        assert rows == [{"amount": Decimal("1234567890123456.78")}]
    finally:
        a.close()


def test_chunk_without_rows_is_skipped(server: FakeSnowflake) -> None:
    """A chunked result's inline part carries the schema only: the 5.x driver lists it as a batch of 0 rows
    whose ``to_arrow()`` is None, which crashed ReadRecords ('NoneType' object has no attribute ...)."""
    import snowflake.connector

    with snowflake.connector.connect(**server.connect_kwargs()) as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT * FROM {data.DATABASE}.WIRE.WIDE")
        batches = cursor.get_result_batches()
        assert batches and batches[0].rowcount == 0 and batches[0].to_arrow(connection) is None
    a = make_adapter(server, snowflake_split_mode="batches", snowflake_split_rows="1")
    try:
        page = a.get_splits(None, WIDE, ONE_PARTITION, Constraints(), None)  # type: ignore[arg-type]
        assert page.splits[0]["sf_first_batch"] == "0"
        assert sorted(r["id"] for r in read(a, WIDE)) == list(range(1200))
    finally:
        a.close()


# ------------------------------------------------------------------------------------------ session parameters


def test_session_pins_parameters_a_user_may_have_changed(server: FakeSnowflake) -> None:
    """User afq_tuned has ROWS_PER_RESULTSET=7, DEFAULT_NULL_ORDERING=FIRST, QUOTED_IDENTIFIERS_IGNORE_CASE=TRUE
    (ALTER USER ... SET): each would change answers unless the session overrides it."""
    a = make_adapter(server, "afq_tuned", snowflake_split_mode="single")
    try:
        orders = TableName("sales", "orders")
        assert len(read(a, orders)) == data.ORDERS_ROWS  # not 7
        top = Constraints(order_by=(OrderByField("qty", SortDirection.ASC_NULLS_LAST),
                                    OrderByField("id", SortDirection.ASC_NULLS_LAST)), limit=3)
        expected = sorted((r for r in enumerate(data.orders_rows()) if r[1][1] is not None),
                          key=lambda r: (r[1][1], r[0]))[:3]
        assert [r["id"] for r in read(a, orders, top)] == [i for i, _ in expected]
        with a.connection() as connection:
            settings = connection._session_parameters  # as the server reported them at login
            assert str(settings["QUOTED_IDENTIFIERS_IGNORE_CASE"]).lower() == "false"
            assert str(settings["ROWS_PER_RESULTSET"]) == "0"
    finally:
        a.close()


def test_every_order_key_spells_out_its_nulls() -> None:
    """Snowflake's DEFAULT_NULL_ORDERING can move NULLs; sqlglot drops NULLS LAST on ASC as 'the default'."""
    columns = {"x": SourceColumn("x", "X", pa.int64(), "NUMBER"), "y": SourceColumn("y", "Y", pa.string(), "TEXT")}
    constraints = Constraints(order_by=tuple(OrderByField(c, d) for c, d in (
        ("x", SortDirection.ASC_NULLS_LAST), ("y", SortDirection.DESC_NULLS_FIRST))), limit=5)
    query = plan_select(SnowflakeDialect(), exp.table_("T"), columns, ["x"], constraints)
    assert query.sql.endswith('ORDER BY "X" ASC NULLS LAST, "Y" DESC NULLS FIRST LIMIT 5')
    ordered = list(sqlglot.parse_one(query.sql, read="snowflake").find_all(exp.Ordered))
    assert [(o.args.get("desc"), o.args.get("nulls_first")) for o in ordered] == [(False, False), (True, True)]


def test_table_pages_use_integer_literals(server: FakeSnowflake) -> None:
    """The emulator rejects a bound LIMIT as Snowflake does ("Invalid row count '?'")."""
    a = make_adapter(server)
    try:
        names = []
        token = None
        while True:
            page = a.list_tables(None, "many", token, 3)  # type: ignore[arg-type]
            names.extend(t.table for t in page.tables)
            if (token := page.next_token) is None:
                break
        assert names == ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "v0"]
    finally:
        a.close()
    from adapters.snowflake.adapter import tables_page_sql

    limit = sqlglot.parse_one(tables_page_sql(3, 6), read="snowflake").args["limit"]
    assert limit.expression == exp.Literal.number(3)
    with pytest.raises(InvalidRequest):
        tables_page_sql(-1, 0)


def test_pooled_session_past_its_token_lifetime_is_renewed(server: FakeSnowflake) -> None:
    """afq_expiring's session tokens expire after one statement (a master token's 4 hours, compressed): the
    next request on the pooled session would fail with 390114; an idle session is probed and replaced."""
    a = make_adapter(server, "afq_expiring", snowflake_session_check_seconds="0")
    try:
        for _ in range(3):
            assert "sales" in a.list_schemas(None)  # type: ignore[arg-type]
    finally:
        a.close()


# ------------------------------------------------------------------------------------------ offline, through the driver


def _inline_batch(table: pa.Table) -> Any:
    """A driver ResultBatch over one inline chunk (as ``rowsetBase64`` carries it): decoded by the real core."""
    from snowflake.connector._internal.protobuf_gen import database_driver_v1_pb2 as pb
    from snowflake.connector.result_batch import ResultBatch

    arrow = pb.ResultChunk.DESCRIPTOR.fields_by_name["format"].enum_type.values_by_name["CHUNK_FORMAT_ARROW_IPC"]
    chunk = pb.ResultChunk(format=arrow.number, inline=base64.b64encode(ipc_bytes(table)).decode(),
                           row_count=table.num_rows)
    return ResultBatch(chunk, [], None, [])


def _field(name: str, t: pa.DataType, **metadata: str) -> pa.Field:
    return pa.field(name, t, True, metadata)


def _read_offline(table: pa.Table, columns: list[SourceColumn]) -> list[dict[str, Any]]:
    from adapters.snowflake.adapter import batch_tables

    def error(e: Exception) -> SourceError:
        return SourceError(str(e))

    tables = list(batch_tables([_inline_batch(table)], None, error))
    return [r for t in tables for b in result_batches(t, columns) for r in b.to_pylist()]


def _column(name: str, type_name: str, precision: int | None = None, scale: int | None = None) -> SourceColumn:
    return SourceColumn(name, name.upper(), SNOWFLAKE_TYPES.to_arrow(ColumnInfo(name, type_name, precision, scale)),
                        type_name)


def test_layouts_the_emulator_cannot_send() -> None:
    """TIMESTAMP_TZ(3) (2-field struct, byteLength 8) with a +05:30 offset, TIMESTAMP_NTZ(3) and (7) as scaled
    int64, NUMBER(38,5) as decimal128 (SB16), NUMBER(9,4) as a scaled int16."""
    instant = dt.datetime(2024, 2, 29, 13, 14, 15, 123000, tzinfo=dt.UTC)
    epoch_ms = int(instant.timestamp() * 1000)
    tz3 = pa.StructArray.from_arrays(
        [pa.array([epoch_ms, 0], pa.int64()), pa.array([1440 + 330, 1440], pa.int32())],
        fields=[pa.field("epoch", pa.int64(), False), pa.field("timezone", pa.int32(), False)],
        mask=pa.array([False, True]))
    wall = dt.datetime(2024, 2, 29, 13, 14, 15, 123456)
    wall_ns = int((wall - dt.datetime(1970, 1, 1)) / dt.timedelta(microseconds=1)) * 1000
    table = pa.Table.from_arrays([
        tz3,
        pa.array([wall_ns // 10**6, None], pa.int64()),
        pa.array([wall_ns // 100, None], pa.int64()),
        pa.array([Decimal("123456789012345678901234567890123.45678"), None], pa.decimal128(38, 5)),
        pa.array([12345, -1], pa.int16()),
    ], schema=pa.schema([
        _field("TZ", tz3.type, logicalType="TIMESTAMP_TZ", scale="3", byteLength="8"),
        _field("NTZ3", pa.int64(), logicalType="TIMESTAMP_NTZ", scale="3"),
        _field("NTZ7", pa.int64(), logicalType="TIMESTAMP_NTZ", scale="7"),
        _field("WIDE", pa.decimal128(38, 5), logicalType="FIXED", precision="38", scale="5"),
        _field("SMALL", pa.int16(), logicalType="FIXED", precision="9", scale="4"),
    ]))
    columns = [_column("tz", "TIMESTAMP_TZ"), _column("ntz3", "TIMESTAMP_NTZ"), _column("ntz7", "TIMESTAMP_NTZ"),
               _column("wide", "NUMBER", 38, 5), _column("small", "NUMBER", 9, 4)]
    rows = _read_offline(table, columns)
    assert rows == [
        {"tz": instant, "ntz3": wall.replace(microsecond=123000), "ntz7": wall.replace(microsecond=123000),
         "wide": Decimal("123456789012345678901234567890123.45678"), "small": Decimal("1.2345")},
        {"tz": None, "ntz3": None, "ntz7": None, "wide": None, "small": Decimal("-0.0001")},
    ]


def test_schema_only_chunk_reads_as_nothing() -> None:
    table = pa.table({"N": pa.array([], pa.int8())}).cast(pa.schema([_field("N", pa.int8(), logicalType="FIXED",
                                                                            precision="38", scale="0")]))
    assert _inline_batch(table).to_arrow(None, number_to_decimal=True) is None  # the driver's answer
    assert _read_offline(table, [_column("n", "NUMBER", 38, 0)]) == []
