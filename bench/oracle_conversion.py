"""Oracle adapter: cost of the connector's own work on rows, without a database (none can run here).

Compares, for the same 1M rows x 6 columns:
* the Arrow path: python-oracledb DataFrames (built with ``oracledb.from_arrow``, as ``fetch_df_batches``
  yields them) -> ``adapters.oracle.adapter.arrow_batches`` (PyCapsule import + one cast per column);
* the DB-API fallback: Python tuples -> ``OracleAdapter.rows_to_batch``.
The database and the network are the real bottleneck; this shows the connector adds little on top.

Run: ``.venv/bin/python -m bench.oracle_conversion [rows] [--json]``
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from decimal import Decimal

import oracledb
import pyarrow as pa

from adapters.oracle.adapter import OracleAdapter, arrow_batches
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.pushdown.sql import SourceColumn

COLUMNS = (
    SourceColumn("id", "ID", pa.int64(), "NUMBER"),
    SourceColumn("amount", "AMOUNT", pa.decimal128(12, 2), "NUMBER"),
    SourceColumn("name", "NAME", pa.string(), "VARCHAR2"),
    SourceColumn("created", "CREATED", pa.timestamp("ms"), "DATE"),
    SourceColumn("ratio", "RATIO", pa.float64(), "BINARY_DOUBLE"),
    SourceColumn("total", "TOTAL", pa.decimal128(38, 10), "NUMBER"),
)


def data(rows: int) -> pa.Table:
    base = dt.datetime(2024, 1, 1)
    return pa.table({
        "id": pa.array(range(rows), pa.int64()),
        "amount": pa.array([Decimal(i % 100000) / 100 for i in range(rows)], pa.decimal128(12, 2)),
        "name": pa.array([f"customer {i % 5000}" for i in range(rows)], pa.string()),
        "created": pa.array([base + dt.timedelta(seconds=i) for i in range(rows)], pa.timestamp("s")),
        "ratio": pa.array([i / 7 for i in range(rows)], pa.float64()),
        "total": pa.array([Decimal(i % 1000) / 8 for i in range(rows)], pa.decimal128(38, 10)),
    })


def main(rows: int = 1_000_000, batch: int = 10_000, as_json: bool = False) -> None:
    table = data(rows)
    frames = [oracledb.from_arrow(table.slice(i, batch)) for i in range(0, rows, batch)]
    started = time.perf_counter()
    converted = sum(b.num_rows for b in arrow_batches(frames, COLUMNS))
    arrow_s = time.perf_counter() - started
    tuples = list(zip(*(c.to_pylist() for c in table.columns), strict=True))
    adapter = OracleAdapter(ConnectionSpec("oracle", "jdbc:oracle:thin:u/p@//h:1/s"), Settings())
    started = time.perf_counter()
    fallback = sum(adapter.rows_to_batch(tuples[i:i + batch], COLUMNS).num_rows for i in range(0, rows, batch))
    rows_s = time.perf_counter() - started
    assert converted == fallback == rows
    if as_json:
        print(json.dumps({"rows": rows, "columns": len(COLUMNS), "batch": batch, "oracledb": oracledb.__version__,
                          "arrow_seconds": round(arrow_s, 3), "fallback_seconds": round(rows_s, 3)}))
        return
    print(f"{rows:,} rows x {len(COLUMNS)} columns, {batch:,} rows per batch")
    for label, seconds in (("Arrow path (from_arrow DataFrames -> arrow_batches)", arrow_s),
                           ("DB-API fallback (tuples -> rows_to_batch)", rows_s)):
        print(f"  {label:52} {seconds:.3f} s = {rows / seconds / 1e6:.2f} M rows/s")


if __name__ == "__main__":
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    main(int(numbers[0]) if numbers else 1_000_000, as_json="--json" in sys.argv)
