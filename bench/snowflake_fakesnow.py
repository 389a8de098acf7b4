"""Snowflake adapter read throughput against the raw connector, on the fakesnow emulator (same run, same query).

    .venv/bin/python -m bench.snowflake_fakesnow [rows]

fakesnow computes results in DuckDB and re-encodes them in Python, so absolute numbers say little about a real
account; the ratios show what the adapter adds on top of the driver (Arrow conversion, split bookkeeping,
re-opening a result by query id per split).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
CHUNK_ROWS = 50_000


def best(fn: Any, repeat: int = 3) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = fn()
        times.append(time.perf_counter() - start)
    return min(times), rows


def main() -> None:
    import snowflake.connector

    from adapters.snowflake import SnowflakeAdapter
    from connector.config import Settings
    from connector.connection import parse_connection_string
    from connector.protocol.constraints import Constraints
    from connector.protocol.messages import Split, TableName
    from connector.scan import rows_of
    from tests.servers.fakesnow import running_server

    table = TableName("s", "t")
    with tempfile.TemporaryDirectory() as directory, running_server(Path(directory), CHUNK_ROWS) as server:
        with snowflake.connector.connect(**server.connect_kwargs()) as connection:
            cursor = connection.cursor()
            for sql in ("CREATE DATABASE B", "CREATE SCHEMA B.S", "USE SCHEMA B.S"):
                cursor.execute(sql)
            cursor.execute(f"CREATE TABLE T AS SELECT range AS ID, range * 7 % 1000 AS QTY, "
                           f"(range % 100000) / 100.0 AS AMOUNT, 'name ' || (range % 977) AS NAME, "
                           f"DATEADD(day, range % 365, DATE '2024-01-01') AS D, "
                           f"DATEADD(second, range, TIMESTAMP '2024-01-01') AS TS FROM range({ROWS})")

            def raw() -> int:
                c = connection.cursor()
                c.execute('SELECT "ID", "QTY", "AMOUNT", "NAME", "D", "TS" FROM "S"."T"')
                return int(c.fetch_arrow_all().num_rows)

            raw_time, raw_rows = best(raw)

        url = server.url("B", extra="&user=afq_user&password=correct%20horse%20battery%20staple")
        results = {}
        for mode in ("single", "batches"):
            adapter = SnowflakeAdapter(parse_connection_string("snowflake://" + url),
                                       Settings.from_env({"snowflake_split_mode": mode,
                                                          "snowflake_split_rows": str(CHUNK_ROWS)}))
            schema = adapter.get_table(None, table).schema  # type: ignore[arg-type]

            def read(adapter: SnowflakeAdapter = adapter, schema: pa.Schema = schema) -> int:
                page = adapter.get_splits(None, table, pa.table({"p": [1]}), Constraints(), None)  # type: ignore
                n = 0
                for properties in page.splits:
                    scan = adapter.read_split(None, table, schema, Split(None, None, properties),  # type: ignore
                                              Constraints())
                    n += sum(b.num_rows for b in rows_of(scan, schema))
                return n

            results[mode] = best(read)
            adapter.close()

    print(f"{ROWS} rows x 6 columns (int, int, decimal, varchar, date, timestamp), result chunks of {CHUNK_ROWS} rows")
    print(f"raw connector fetch_arrow_all: {raw_time:.3f} s  {raw_rows / raw_time:,.0f} rows/s")
    for mode, (seconds, rows) in results.items():
        assert rows == ROWS, (mode, rows)
        print(f"adapter, {mode:7} split mode: {seconds:.3f} s  {rows / seconds:,.0f} rows/s  "
              f"({seconds / raw_time:.2f}x raw; GetSplits + every split read in sequence)")


if __name__ == "__main__":
    main()
