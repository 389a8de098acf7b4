"""SQLite columns whose declared type SQLite stores as another class - 0/1 INTEGER booleans, REAL decimals, ISO
TEXT dates and timestamps - are converted a column at a time (``adapters.sqlite.adapter._from_storage``); they must read
exactly as the value-by-value path reads them (storage-class check, then ``adapters.sql.convert``'s coercers), or be
refused as it refuses them.

The values are written into a real SQLite table of the declared type and read back by ``sqlite3``, so SQLite's own
affinity decides how each is stored (a whole REAL in a NUMERIC column becomes an INTEGER, text that looks like a
number becomes one...), as in users' databases.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.sql import convert
from adapters.sqlite.adapter import SqliteAdapter, _check_storage_classes
from connector.adapter import RequestContext
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.errors import SourceError
from connector.protocol.constraints import Constraints
from connector.protocol.messages import Identity, Split, TableName
from connector.pushdown.sql import SourceColumn
from connector.scan import rows_of

DECLARED = {"BOOLEAN": pa.bool_(), "DECIMAL(12,2)": pa.decimal128(12, 2), "DECIMAL(5,0)": pa.decimal128(5, 0),
            "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("ms"), "INTEGER": pa.int64()}


def _adapter(db: Path) -> SqliteAdapter:
    return SqliteAdapter(parse_connection_string(f"sqlite://jdbc:sqlite:{db}"), Settings.from_env({}))


ADAPTER = _adapter(Path(tempfile.gettempdir()) / "afq-never-opened.db")  # column_to_arrow opens nothing


def stored(declared: str, values: list[Any]) -> list[Any]:
    """``values`` as SQLite stores them in a column of type ``declared`` and ``sqlite3`` returns them."""
    with sqlite3.connect(":memory:") as connection:
        connection.execute(f"CREATE TABLE t (i INTEGER PRIMARY KEY, c {declared})")
        connection.executemany("INSERT INTO t VALUES (?, ?)", enumerate(values))
        read = [r[0] for r in connection.execute("SELECT c FROM t ORDER BY i")]
    connection.close()
    return read


def per_value(values: list[Any], column: SourceColumn) -> pa.Array | None:
    """The oracle: the storage-class check, then each value through ``adapters.sql.convert``'s coercer."""
    try:
        _check_storage_classes(values, column)
    except SourceError:
        return None
    coerce = convert._coercer(column.type)
    out = []
    for v in values:
        try:
            out.append(None if v is None else coerce(v, column.type))
        except (ValueError, TypeError, ArithmeticError):
            return None
    try:
        return pa.array(out, column.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None


def read(values: list[Any], column: SourceColumn) -> pa.Array | None:
    try:
        return ADAPTER.column_to_arrow(values, column)
    except SourceError:
        return None


values = st.one_of(
    st.none(), st.integers(-3, 3), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, width=64),
    st.sampled_from([0.5, 1.0, -0.0, 0.1 + 0.2, 123.45, 1e20, 99999.99, 1234.375, 2.0**53 + 2]),
    st.sampled_from(["2024-01-02", "2024-01-02 10:11:12.123", "2024-01-02T10:11:12", "2024-02-30", " 2024-01-02",
                     "2024-01-02 10:11:12+02:00", "2024-01-02 10:11:12.123456", "true", "1", "1.5", ""]),
    st.sampled_from([b"2024-01-02", b"\x01", b"1"]),
    st.dates().map(str), st.datetimes().map(lambda d: d.isoformat(sep=" ", timespec="milliseconds")),
)


@settings(max_examples=400, deadline=None)
@given(declared=st.sampled_from(sorted(DECLARED)), column=st.lists(values, min_size=1, max_size=6))
@example(declared="BOOLEAN", column=[0, 1, None])
@example(declared="BOOLEAN", column=[0.5, 1])
@example(declared="BOOLEAN", column=[2, 0])
@example(declared="DECIMAL(12,2)", column=[1234.375, 1.5])
@example(declared="DATE", column=[b"2024-01-02"])
@example(declared="TIMESTAMP", column=["2024-01-02 10:11:12.123", None])
@example(declared="INTEGER", column=[1, 0.5])
def test_a_column_reads_as_value_by_value_reading_does(declared: str, column: list[Any]) -> None:
    source = SourceColumn("c", "c", DECLARED[declared], declared)
    values_read = stored(declared, column)
    fast, slow = read(values_read, source), per_value(values_read, source)
    assert (fast is None) == (slow is None), (declared, values_read, fast, slow)
    assert fast is None or (slow is not None and fast.equals(slow)), (declared, values_read, fast, slow)


def test_sqlite_shapes_take_the_column_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """What SQLite stores for these types never reaches the value-by-value path or the storage-class scan."""
    def refuse(*_: Any) -> Any:
        raise AssertionError("the value-by-value path ran")

    monkeypatch.setattr(convert, "to_arrow", refuse)
    monkeypatch.setattr("adapters.sqlite.adapter._check_storage_classes", refuse)
    cases = {"BOOLEAN": [0, 1, None], "DECIMAL(12,2)": [12.5, -3, None, 0.1], "DATE": ["2024-01-02", None],
             "TIMESTAMP": ["2024-01-02 10:11:12.123", None], "INTEGER": [1, None, -(2**63)]}
    for declared, column in cases.items():
        source = SourceColumn("c", "c", DECLARED[declared], declared)
        assert ADAPTER.column_to_arrow(stored(declared, column), source).type == source.type


def test_a_real_in_an_integer_column_is_an_error_not_truncated(tmp_path: Path) -> None:
    """SQLite keeps 0.5 as a REAL in an INTEGER column; pyarrow's typed conversion would read it as 0."""
    db = tmp_path / "t.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, flag BOOLEAN)")
        connection.executemany("INSERT INTO t VALUES (?, ?, ?)", [(1, 2, 1), (2, 0.5, 0)])
        assert connection.execute("SELECT typeof(n) FROM t WHERE id = 2").fetchone() == ("real",)
    connection.close()
    adapter = _adapter(db)
    ctx, table = RequestContext(Identity(), "default", "q"), TableName("main", "t")
    schema = adapter.get_table(ctx, table).schema
    assert schema.field("n").type == pa.int64()
    with pytest.raises(SourceError, match=r"column 'n' .*holds the SQLite REAL value 0\.5"):
        list(rows_of(adapter.read_split(ctx, table, schema, Split(None, None, {}), Constraints()), schema))
    flags = pa.schema([schema.field("id"), schema.field("flag")])
    read_back = pa.Table.from_batches(list(rows_of(adapter.read_split(
        ctx, table, flags, Split(None, None, {}), Constraints()), flags)), flags)
    assert read_back.column("flag").to_pylist() == [True, False]


def test_dates_and_timestamps_keep_their_values() -> None:
    day = SourceColumn("d", "d", pa.date32(), "DATE")
    moment = SourceColumn("t", "t", pa.timestamp("ms"), "TIMESTAMP")
    assert ADAPTER.column_to_arrow(["2024-02-29", None], day).to_pylist() == [dt.date(2024, 2, 29), None]
    assert ADAPTER.column_to_arrow(["2024-02-29 23:59:59.999"], moment).to_pylist() == [
        dt.datetime(2024, 2, 29, 23, 59, 59, 999000)]
