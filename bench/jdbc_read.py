"""JDBC read throughput: the JDBC adapter vs raw jaydebeapi vs a raw JPype loop, same query, same run.

Starts a throwaway PostgreSQL (the tests' helper), loads a 100k x 6 table (bigint, double, numeric(12,3),
text, date, timestamp) and times:

- ``adapter``: ``JdbcAdapter.read_split`` -> Arrow batches in the logical types (what ReadRecords streams);
- ``adapter+IPC``: the same, each batch also converted to the wire form and serialized as Arrow IPC;
- ``ReadRecords (spill)``: a whole ReadRecords call of the service, the answer (too big to be inline) spilled
  encrypted to the local spill directory - what a Lambda does, minus S3;
- ``jaydebeapi``: ``cursor.fetchall()`` with jaydebeapi's own converters (lossy: NUMERIC -> float, dates -> str);
- ``jpype getString``: every cell through ``ResultSet.getString`` into Python lists (no typing, no Arrow) -
  about the floor of any per-cell JDBC access from Python.

Run: ``python -m bench.jdbc_read [rows]``. Numbers go in ``bench/jdbc_read.md``, never into tests.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

ROWS = 100_000
QUERY = 'SELECT "id", "f", "d", "s", "dt", "ts" FROM "public"."bench"'


def _time(label: str, rows: int, run: Callable[[], int], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        got = run()
        best = min(best, time.perf_counter() - start)
        assert got == rows, (label, got)
    rate = rows / best
    print(f"{label:<22} {best * 1000:8.0f} ms  {rate:>10,.0f} rows/s")
    return rate


def main(rows: int = ROWS) -> None:
    from adapters.jdbc import JdbcAdapter
    from connector.adapter import RequestContext
    from connector.config import Settings
    from connector.connection import parse_connection_string
    from connector.protocol.block import Block
    from connector.protocol.constraints import Constraints
    from connector.protocol.messages import Identity, Split, TableName
    from connector.scan import rows_of
    from tests.servers.postgres import start_postgres, stop_postgres

    server, process = start_postgres()
    try:
        server.psql(
            "CREATE TABLE bench AS SELECT g AS id, g * 1.5::float8 AS f, (g / 7.0)::numeric(12,3) AS d, "
            "'name ' || g AS s, date '2020-01-01' + (g % 1000) AS dt, "
            f"timestamp '2020-01-01' + g * interval '1.001 second' AS ts FROM generate_series(1, {rows}) AS g")
        url = server.jdbc_url
        env = {"default": f"jdbc://{url}"}
        adapter = JdbcAdapter(parse_connection_string(f"jdbc://{url}"), Settings.from_env(env))
        ctx = RequestContext(Identity(), "default", "bench")
        table = TableName("public", "bench")
        schema = adapter.get_table(ctx, table).schema

        def via_adapter() -> int:
            scan = adapter.read_split(ctx, table, schema, Split(None, None, {}), Constraints())
            return sum(b.num_rows for b in rows_of(scan, schema))

        def via_ipc() -> int:
            scan = adapter.read_split(ctx, table, schema, Split(None, None, {}), Constraints())
            count = 0
            for batch in rows_of(scan, schema):
                block = Block.from_logical(batch)
                assert block.records_bytes
                count += batch.num_rows
            return count

        import json
        import os
        import tempfile

        os.environ.setdefault("AFQ_LOCAL_SPILL_DIR", tempfile.mkdtemp(prefix="afq-bench-spill-"))
        from connector.protocol.block import SchemaMessage
        from connector.protocol.messages import ReadRecordsRequest
        from connector.service import FederationService

        service = FederationService(Settings.from_env({**os.environ, **env}))
        request = ReadRecordsRequest(Identity(), "bench", "default", table, SchemaMessage.of_logical(schema),
                                     Split(None, None, {}), Constraints(), 16_000_000, 5_242_880)

        def via_read_records() -> int:
            response = service.handle(json.loads(json.dumps(request.to_wire())))
            assert response["@type"] == "RemoteReadRecordsResponse", response["@type"]
            return rows

        connection = adapter.connect()
        jconn = connection.jconn

        def via_jaydebeapi() -> int:
            import jaydebeapi

            raw = jaydebeapi.Connection(jconn, jaydebeapi._converters)
            cursor = raw.cursor()
            cursor.execute(QUERY)
            count = len(cursor.fetchall())
            cursor.close()
            return count

        def via_get_string() -> int:
            jconn.setAutoCommit(False)
            statement = jconn.prepareStatement(QUERY)
            statement.setFetchSize(10_000)
            result = statement.executeQuery()
            columns: list[list[Any]] = [[] for _ in range(6)]
            get, advance, count = result.getString, result.next, 0
            while advance():
                for i, column in enumerate(columns, 1):
                    column.append(get(i))
                count += 1
            result.close()
            statement.close()
            jconn.rollback()
            jconn.setAutoCommit(True)
            return count

        print(f"PostgreSQL {server.psql('SHOW server_version')}, {rows:,} rows x 6 columns")
        via_adapter()  # warm the JVM, the driver and the pool
        _time("adapter (typed->Arrow)", rows, via_adapter)
        _time("adapter+IPC", rows, via_ipc)
        _time("ReadRecords (spill)", rows, via_read_records)
        _time("jaydebeapi fetchall", rows, via_jaydebeapi)
        _time("jpype getString", rows, via_get_string)
        connection.close()
        service.pool.close()
        adapter.close()
    finally:
        stop_postgres(process, server.directory)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else ROWS)
