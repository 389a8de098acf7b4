"""DB-API fetch: small fetches (cache-friendly conversion), merged into large batches, first batch at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa

from adapters.sqlite.adapter import SqliteAdapter
from connector.adapter import RequestContext
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.protocol.constraints import Constraints
from connector.protocol.messages import Identity, Split, TableName


def _adapter(tmp_path: Path, rows: int) -> SqliteAdapter:
    db = tmp_path / "t.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        connection.executemany("INSERT INTO t VALUES (?, ?)", ((i, f"name {i:06d}") for i in range(rows)))
    connection.close()
    return SqliteAdapter(parse_connection_string(f"sqlite://jdbc:sqlite:{db}"), Settings.from_env({}))


def _batches(adapter: SqliteAdapter) -> tuple[list[pa.RecordBatch], list[int]]:
    """The batches of a whole-table read, and the size of every ``fetchmany`` the adapter made."""
    from adapters.sql.adapter import SqlAdapter

    fetched: list[int] = []
    original = SqlAdapter.rows_to_batch

    def counting(self: Any, rows: Any, columns: Any) -> pa.RecordBatch:
        fetched.append(len(rows))
        return original(self, rows, columns)

    adapter.rows_to_batch = counting.__get__(adapter)  # type: ignore[method-assign]
    ctx = RequestContext(Identity(), "default", "q")
    table = TableName("main", "t")
    schema = adapter.get_table(ctx, table).schema
    scan = adapter.read_split(ctx, table, schema, Split(None, None, {}), Constraints())
    return list(scan.batches), fetched


def test_small_fetches_are_merged_into_batches_of_the_target_size(tmp_path: Path) -> None:
    adapter = _adapter(tmp_path, 20_000)
    adapter.initial_fetch_rows = 100  # type: ignore[misc]
    adapter.fetch_chunk_bytes = 8_000  # type: ignore[misc]
    adapter.target_batch_bytes = 100_000  # type: ignore[misc]
    batches, fetched = _batches(adapter)
    ids = [v for b in batches for v in b.column("id").to_pylist()]
    assert ids == list(range(20_000))  # every row once, in order
    assert batches[0].num_rows == 100 == fetched[0]  # the first fetch is yielded on its own, at once
    assert max(fetched[1:-1]) < 1_000  # later fetches are small (~8 kB of Arrow each)...
    middle = batches[1:-1]
    assert middle and all(b.nbytes >= 100_000 for b in middle)  # ...merged into batches of the target size
    assert len(batches) < len(fetched) / 5


def test_a_target_below_the_chunk_size_yields_every_fetch(tmp_path: Path) -> None:
    adapter = _adapter(tmp_path, 1_000)
    adapter.initial_fetch_rows = 100  # type: ignore[misc]
    adapter.target_batch_bytes = 1  # type: ignore[misc]
    batches, fetched = _batches(adapter)
    assert [b.num_rows for b in batches] == fetched
    assert sum(fetched) == 1_000 and fetched[1] == 64  # the smallest fetch the adapter makes


def test_sqlite_split_bounds_come_from_the_rowid_btree_not_a_scan(tmp_path: Path) -> None:
    """GetSplits reads min and max rowid; SQLite must answer them by search, never by scanning the table."""
    adapter = _adapter(tmp_path, 1_000)
    adapter.rows_per_split = 300
    seen: list[str] = []
    original = adapter.query

    def query(connection: Any, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        seen.append(sql)
        return original(connection, sql, params)

    adapter.query = query  # type: ignore[method-assign]
    ctx = RequestContext(Identity(), "default", "q")
    page = adapter.get_splits(ctx, TableName("main", "t"), pa.table({"p": [1]}), Constraints(), None)
    assert [s["rowid_from"] for s in page.splits] == ["0", "250", "500", "750"]  # ids 0..999 are the rowids
    bounds = [sql for sql in seen if "rowid" in sql.lower()]
    assert len(bounds) == 1
    with sqlite3.connect(tmp_path / "t.db") as connection:
        plan = [row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {bounds[0]}")]
    connection.close()
    assert not [step for step in plan if step.startswith("SCAN") and "CONSTANT ROW" not in step], plan
