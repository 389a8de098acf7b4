"""Oracle types: dictionary rows (as ALL_TAB_COLUMNS returns them) -> Athena types, and rows -> Arrow.

The Arrow path is fed by ``oracledb.from_arrow``: the driver's own DataFrame class, built from Arrow data the
way ``Connection.fetch_df_batches`` returns it (no Oracle server can run here), so the conversion code under
test consumes the real PyCapsule object.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import oracledb
import pyarrow as pa
import pytest

from adapters.oracle.adapter import OracleAdapter, arrow_batches, column_info, description_info, python_value
from adapters.oracle.dialect import ORACLE_TYPES, fetch_type
from adapters.sql.adapter import SOURCE_TYPE_KEY, SourceTable
from connector.adapter import Scan
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.errors import SourceError
from connector.protocol.messages import TableName
from connector.pushdown.sql import SourceColumn, SourceQuery
from connector.scan import rows_of

TS, TSTZ = pa.timestamp("ms"), pa.timestamp("ms", "UTC")

# (COLUMN_NAME, DATA_TYPE, DATA_PRECISION, DATA_SCALE, NULLABLE, DATA_TYPE_OWNER) -> Athena type
DICTIONARY = [
    (("ID", "NUMBER", 10, 0, "N", None), pa.int64()),
    (("N18", "NUMBER", 18, 0, "Y", None), pa.int64()),
    (("N19", "NUMBER", 19, 0, "Y", None), pa.decimal128(19, 0)),
    (("N38", "NUMBER", 38, 0, "Y", None), pa.decimal128(38, 0)),
    (("AMOUNT", "NUMBER", 12, 2, "Y", None), pa.decimal128(12, 2)),
    (("ANY_NUMBER", "NUMBER", None, None, "Y", None), pa.decimal128(38, 10)),
    (("INT_COL", "NUMBER", None, 0, "Y", None), pa.decimal128(38, 0)),  # INTEGER is NUMBER(*,0)
    (("STAR_2", "NUMBER", None, 2, "Y", None), pa.decimal128(38, 2)),
    (("HUNDREDS", "NUMBER", 5, -2, "Y", None), pa.int64()),  # whole hundreds, 7 digits
    (("TINY", "NUMBER", 3, 5, "Y", None), pa.decimal128(5, 5)),  # 0.00xyz
    (("F", "FLOAT", 126, None, "Y", None), pa.float64()),
    (("R", "FLOAT", 63, None, "Y", None), pa.float64()),  # REAL
    (("BD", "BINARY_DOUBLE", None, None, "Y", None), pa.float64()),
    (("BF", "BINARY_FLOAT", None, None, "Y", None), pa.float32()),
    (("D", "DATE", None, None, "Y", None), TS),
    (("TS", "TIMESTAMP(6)", None, 6, "Y", None), TS),
    (("TS9", "TIMESTAMP(9)", None, 9, "Y", None), TS),
    (("TZ", "TIMESTAMP(6) WITH TIME ZONE", None, 6, "Y", None), TSTZ),
    (("LTZ", "TIMESTAMP(3) WITH LOCAL TIME ZONE", None, 3, "Y", None), TSTZ),
    (("C", "CHAR", None, None, "Y", None), pa.string()),
    (("V", "VARCHAR2", None, None, "Y", None), pa.string()),
    (("NC", "NCHAR", None, None, "Y", None), pa.string()),
    (("NV", "NVARCHAR2", None, None, "Y", None), pa.string()),
    (("CL", "CLOB", None, None, "Y", None), pa.string()),
    (("NCL", "NCLOB", None, None, "Y", None), pa.string()),
    (("R16", "RAW", None, None, "Y", None), pa.binary()),
    (("BL", "BLOB", None, None, "Y", None), pa.binary()),
    (("B", "BOOLEAN", None, None, "Y", None), pa.bool_()),
]
FALLBACK = [
    ("IDS", "INTERVAL DAY(2) TO SECOND(6)", None, 6, "Y", None),
    ("IYM", "INTERVAL YEAR(2) TO MONTH", None, None, "Y", None),
    ("RID", "ROWID", None, None, "Y", None),
    ("X", "XMLTYPE", None, None, "Y", "SYS"),
    ("J", "JSON", None, None, "Y", None),
]


@pytest.mark.parametrize(("row", "expected"), DICTIONARY, ids=[r[0][0] for r in DICTIONARY])
def test_dictionary_rows_map_without_truncation(row: tuple[Any, ...], expected: pa.DataType) -> None:
    info = column_info(row)
    assert ORACLE_TYPES.to_arrow(info) == expected
    assert info.nullable is (row[4] == "Y")


def test_unconstrained_number_scale_is_configurable() -> None:
    row = ("ANY_NUMBER", "NUMBER", None, None, "Y", None)
    assert ORACLE_TYPES.to_arrow(column_info(row, number_scale=4)) == pa.decimal128(38, 4)
    assert ORACLE_TYPES.to_arrow(column_info(row, number_scale=0)) == pa.decimal128(38, 0)
    ora = OracleAdapter(ConnectionSpec("oracle", "jdbc:oracle:thin:u/p@//h:1/s"), Settings(env={"default_scale": "6"}))
    assert ora.number_scale == 6


@pytest.mark.parametrize("row", FALLBACK, ids=[r[0] for r in FALLBACK])
def test_other_types_are_varchar_with_a_warning(row: tuple[Any, ...], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="afq.types"):
        assert ORACLE_TYPES.to_arrow(column_info(row)) == pa.string()
    assert row[0] in caplog.text and "varchar" in caplog.text


def test_object_types_and_bfile_have_a_documented_mapping(caplog: pytest.LogCaptureFixture) -> None:
    """JSON text of an object's attributes; BFILE's locator - no 'unknown type' warning for either."""
    with caplog.at_level(logging.WARNING, logger="afq.types"):
        assert ORACLE_TYPES.to_arrow(column_info(("G", "SDO_GEOMETRY", None, None, "Y", "MDSYS"))) == pa.string()
        assert ORACLE_TYPES.to_arrow(column_info(("BF2", "BFILE", None, None, "Y", None))) == pa.string()
    assert caplog.text == ""


def test_user_defined_types_keep_their_owner() -> None:
    assert column_info(("G", "SDO_GEOMETRY", None, None, "Y", "MDSYS")).type_name == "MDSYS.SDO_GEOMETRY"
    assert column_info(("X", "XMLTYPE", None, None, "Y", "SYS")).type_name == "XMLTYPE"


def test_passthrough_descriptions_map_like_the_dictionary() -> None:
    def d(name: str, t: Any, precision: int | None = None, scale: int | None = None) -> tuple[Any, ...]:
        return (name, t, None, None, precision, scale, True)

    cases = [
        (d("N", oracledb.DB_TYPE_NUMBER, 10, 0), pa.int64()),
        (d("DEC", oracledb.DB_TYPE_NUMBER, 12, 2), pa.decimal128(12, 2)),
        (d("CNT", oracledb.DB_TYPE_NUMBER, 0, -127), pa.decimal128(38, 10)),  # COUNT(*): unconstrained
        (d("F", oracledb.DB_TYPE_NUMBER, 126, -127), pa.float64()),  # FLOAT
        (d("S", oracledb.DB_TYPE_VARCHAR), pa.string()),
        (d("D", oracledb.DB_TYPE_DATE), TS),
        (d("T", oracledb.DB_TYPE_TIMESTAMP, 0, 6), TS),
        (d("TZ", oracledb.DB_TYPE_TIMESTAMP_TZ, 0, 6), TS),  # wall clock: the zone is not known
        (d("BD", oracledb.DB_TYPE_BINARY_DOUBLE), pa.float64()),
        (d("BL", oracledb.DB_TYPE_BLOB), pa.binary()),
    ]
    for description, expected in cases:
        assert ORACLE_TYPES.to_arrow(description_info(description)) == expected, description


def test_source_types_travel_in_the_schema() -> None:
    ora = OracleAdapter(ConnectionSpec("oracle", "jdbc:oracle:thin:u/p@//h:1/s"), Settings())
    columns = (SourceColumn("ts", "TS", TS, "TIMESTAMP(6)"), SourceColumn("tz", "TZ", TSTZ, "TIMESTAMP WITH TIME ZONE"))
    schema = ora.arrow_schema(SourceTable("SALES", "ORDERS", columns))
    back = ora.table_from_schema(TableName("sales", "orders"), schema)
    assert back is not None and back.columns == columns
    stripped = pa.schema([f.remove_metadata() if f.name == "tz" else f for f in schema], metadata=schema.metadata)
    assert ora.table_from_schema(TableName("sales", "orders"), stripped) is None  # look the table up instead
    untyped = pa.schema([f.with_metadata({k: v for k, v in (f.metadata or {}).items() if k != SOURCE_TYPE_KEY})
                         if f.name == "tz" else f for f in schema], metadata=schema.metadata)
    assert ora.table_from_schema(TableName("sales", "orders"), untyped) is None  # the types decide the pushdown


# ------------------------------------------------------------------------------------------ Arrow fetch

class DataFrameConnection:
    """Answers ``fetch_df_batches`` with ``oracledb.from_arrow`` frames of the data, in the requested types,
    the way the thin driver does; records what it was asked (stands in for an Oracle server)."""

    def __init__(self, data: pa.Table) -> None:
        self.data = data
        self.calls: list[dict[str, Any]] = []

    def fetch_df_batches(self, statement: str, parameters: Any = None, size: int | None = None, *,
                         requested_schema: Any = None) -> Iterator[Any]:
        self.calls.append({"sql": statement, "params": parameters, "size": size, "schema": requested_schema})
        table = self.data.rename_columns(requested_schema.names).cast(requested_schema)
        step = size or 100
        for start in range(0, table.num_rows, step):
            yield oracledb.from_arrow(table.slice(start, step))
        # (from_arrow cannot build a zero-row frame, so the driver's empty last frame is not imitated)


COLUMNS = (
    SourceColumn("id", "ID", pa.int64(), "NUMBER"),
    SourceColumn("amount", "AMOUNT", pa.decimal128(38, 10), "NUMBER"),  # no precision: read as TO_CHAR text
    SourceColumn("name", "NAME", pa.string(), "NVARCHAR2"),
    SourceColumn("doc", "DOC", pa.string(), "CLOB"),
    SourceColumn("bytes", "BYTES", pa.binary(), "BLOB"),
    SourceColumn("created", "CREATED", TS, "DATE"),
    SourceColumn("tz", "TZ", TSTZ, "TIMESTAMP(6) WITH TIME ZONE"),
    SourceColumn("bf", "BF", pa.float32(), "BINARY_FLOAT"),
)


def _data(n: int) -> pa.Table:
    """Rows as the driver returns them for the select list (SYS_EXTRACT_UTC gives the UTC wall time)."""
    base = dt.datetime(2024, 5, 6, 7, 8, 9)
    return pa.table({
        "ID": pa.array(range(n), pa.int64()),
        "AMOUNT": pa.array([Decimal(i) / 8 if i % 5 else None for i in range(n)], pa.decimal128(38, 10)),
        "NAME": pa.array([f"név {i}" for i in range(n)], pa.large_string()),
        "DOC": pa.array(["x" * (i % 7) for i in range(n)], pa.large_string()),
        "BYTES": pa.array([bytes([i % 256]) for i in range(n)], pa.large_binary()),
        "CREATED": pa.array([base + dt.timedelta(seconds=i) for i in range(n)], pa.timestamp("s")),
        "TZ": pa.array([base + dt.timedelta(milliseconds=i) for i in range(n)], pa.timestamp("ms")),
        "BF": pa.array([i / 4 for i in range(n)], pa.float32()),
    })


def test_requested_schema_pins_every_column_type() -> None:
    assert [fetch_type(c) for c in COLUMNS] == [
        pa.int64(), pa.large_string(), pa.string(), pa.large_string(), pa.large_binary(), TS,
        pa.timestamp("ms"), pa.float32()]


def test_arrow_fetch_through_oracledb_dataframes() -> None:
    ora = OracleAdapter(ConnectionSpec("oracle", "jdbc:oracle:thin:u/p@//h:1/s"),
                        Settings(env={"oracle_fetch_rows": "1000"}))
    connection = DataFrameConnection(_data(1500))
    query = SourceQuery('SELECT "ID", ... FROM "S"."T" WHERE "ID" >= :p1', {"p1": 0}, columns=COLUMNS)
    batches = list(ora.fetch(connection, query))
    call = connection.calls[0]
    assert call["params"] == {"p1": 0} and call["size"] == 256  # a LOB column: smaller fetches
    assert call["schema"].names == [c.name for c in COLUMNS]
    table = pa.Table.from_batches(batches)
    assert table.schema == pa.schema([pa.field(c.name, c.type) for c in COLUMNS])
    assert table.num_rows == 1500 and sum(b.num_rows for b in batches) == 1500
    first = table.slice(1, 1).to_pylist()[0]
    assert first["amount"] == Decimal("0.125") and first["name"] == "név 1" and first["bytes"] == b"\x01"
    assert first["created"] == dt.datetime(2024, 5, 6, 7, 8, 10)
    assert first["tz"] == dt.datetime(2024, 5, 6, 7, 8, 9, 1000, tzinfo=dt.UTC)  # the UTC instant
    assert first["bf"] == 0.25


def test_arrow_fetch_without_lobs_uses_the_configured_size() -> None:
    ora = OracleAdapter(ConnectionSpec("oracle", "jdbc:oracle:thin:u/p@//h:1/s"),
                        Settings(env={"oracle_fetch_rows": "700"}))
    connection = DataFrameConnection(_data(10).select(["ID", "NAME"]))
    query = SourceQuery("SELECT ...", {}, columns=COLUMNS[:1] + COLUMNS[2:3])
    rows = pa.Table.from_batches(list(ora.fetch(connection, query)))
    assert connection.calls[0]["size"] == 700 and rows.num_rows == 10


def test_values_that_do_not_fit_the_declared_type_fail_loudly() -> None:
    columns = (SourceColumn("amount", "AMOUNT", pa.decimal128(12, 2), "NUMBER"),)
    frames = [oracledb.from_arrow(pa.table({"amount": pa.array([Decimal("1.125")], pa.decimal128(38, 10))}))]
    with pytest.raises(SourceError, match="column 'amount': cannot read Oracle NUMBER as decimal128"):
        list(arrow_batches(frames, columns))


def test_arrow_batches_reach_athena_types_through_the_scan() -> None:
    frames = [oracledb.from_arrow(_data(20))]
    scan = Scan(arrow_batches(frames, COLUMNS))
    schema = pa.schema([pa.field(c.name, c.type) for c in COLUMNS])
    out = pa.Table.from_batches(list(rows_of(scan, schema)))
    assert out.schema == schema and out.num_rows == 20


# ------------------------------------------------------------------------------------------ DB-API fallback

def test_db_api_values_convert_exactly_or_fail() -> None:
    ora = OracleAdapter(ConnectionSpec("oracle", "jdbc:oracle:thin:u/p@//h:1/s"), Settings())
    columns = [SourceColumn("n", "N", pa.decimal128(38, 10), "NUMBER"), SourceColumn("t", "T", TS, "TIMESTAMP(6)"),
               SourceColumn("span", "SPAN", pa.string(), "INTERVAL DAY(2) TO SECOND(6)"),
               SourceColumn("j", "J", pa.string(), "JSON")]
    rows = [(Decimal("1.5"), dt.datetime(2024, 1, 1, 0, 0, 0, 123987), "+01 02:00:00.000000", {"a": [1, 2]}),
            (None, None, None, None)]
    batch = ora.rows_to_batch(rows, columns)
    assert batch.to_pylist()[0] == {"n": Decimal("1.5000000000"), "t": dt.datetime(2024, 1, 1, 0, 0, 0, 123000),
                                    "span": "+01 02:00:00.000000", "j": '{"a": [1, 2]}'}
    with pytest.raises(SourceError, match="more than 10 decimal places"):
        ora.rows_to_batch([(Decimal("0.12345678901"), None, None, None)], columns)
    assert python_value(dt.timedelta(days=1), pa.string()) == "1 day, 0:00:00"
