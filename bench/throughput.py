"""ReadRecords throughput against the raw driver, same query, same run: SQLite, PostgreSQL (JDBC), Snowflake.

    python -m bench.throughput sqlite|postgres|snowflake [--rows N] [--repeat 3] [--bucket B]

For one source, every path reads the same rows of the same table (best of ``repeat``):

* raw references: the driver alone, into Arrow where it can (``sqlite3`` ``fetchmany`` -> Arrow; ADBC
  ``fetch_arrow_table``, psycopg ``fetchmany`` -> Arrow, jaydebeapi and a JPype ``getString`` loop; Snowflake
  ``fetch_arrow_all``);
* ``adapter -> Arrow``: the adapter's ``read_split`` through ``connector.scan.rows_of`` (logical batches);
* ``ReadRecords inline``: Athena's calls (GetTable, GetTableLayout, GetSplits, ReadRecords for every split)
  through ``FederationService.handle``, with splits small enough to be answered inline, each response
  JSON-encoded as the Lambda runtime does;
* ``ReadRecords spill local`` / ``spill S3``: one split, the whole table, AES-GCM blocks of ``maxBlockSize``
  16 MB to the local spill directory or to SeaweedFS S3 (``--bucket``, with ``AWS_ENDPOINT_URL_S3`` set);
* ``framework only``: the same events answered from the adapter's batches prefetched into memory, so the
  figure is the framework's own cost (parse, residual, conform, wire types, cutting, IPC, encryption, JSON);
* ``metadata calls only``: GetTable, GetTableLayout and GetSplits, the fixed cost included in every
  ReadRecords figure.

Prints one JSON line (``bench.run`` puts it in the report).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from bench.common import (
    CATALOG,
    ReadPath,
    emit,
    figures,
    interleaved,
    prefetched_adapter,
    read_all,
    read_events,
    service,
    split_key,
)


@dataclass
class Source:
    """One database prepared for the run: how to reach it, how to split it, and its raw references."""

    name: str
    table: Any  # TableName
    env: dict[str, str]  # connection settings of the service
    inline_env: dict[str, str]  # settings that cut the table into inline-sized splits
    raw: list[tuple[str, str, Callable[[], int]]] = field(default_factory=list)  # (label, kind, fn)
    reference: str = ""  # the raw path ratios are computed against
    notes: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------ SQLite


def sqlite_raw_arrow(path: str, query: str, schema: pa.Schema, fetch_rows: int = 2048) -> Callable[[], int]:
    """``sqlite3`` ``fetchmany`` -> Arrow, hand-written the fastest way found: fetches of 2048 rows (faster than
    larger ones: the rows stay in the CPU cache), columns by list comprehension (faster than ``zip(*rows)``),
    one typed ``pa.array`` per column and Arrow's vectorized casts where SQLite's storage differs from the
    declared type (text timestamps and dates, 0/1 booleans)."""
    import sqlite3

    def storage(t: pa.DataType) -> pa.DataType:
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            return pa.string()
        if pa.types.is_boolean(t):
            return pa.int64()
        return t

    types = [(i, f.type, storage(f.type)) for i, f in enumerate(schema)]

    def run() -> int:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            cursor = connection.execute(query)
            rows = 0
            while chunk := cursor.fetchmany(fetch_rows):
                arrays = []
                for i, wanted, stored in types:
                    array = pa.array([r[i] for r in chunk], stored)
                    arrays.append(array if stored == wanted else array.cast(wanted))
                rows += pa.RecordBatch.from_arrays(arrays, schema=schema).num_rows
            return rows
        finally:
            connection.close()

    return run


def sqlite_raw_rows(path: str, query: str, fetch_rows: int = 2048) -> Callable[[], int]:
    import sqlite3

    def run() -> int:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            cursor = connection.execute(query)
            rows = 0
            while chunk := cursor.fetchmany(fetch_rows):
                rows += len(chunk)
            return rows
        finally:
            connection.close()

    return run


@contextmanager
def sqlite_source(rows: int, work: Path) -> Iterator[Source]:
    from connector.protocol import TableName
    from tests.spill_athena import create_events_db

    path = str(create_events_db(work / "events.db", rows))
    query = "SELECT id, name, amount, flag, created, day, note, blob FROM events"
    schema = pa.schema([("id", pa.int64()), ("name", pa.string()), ("amount", pa.float64()), ("flag", pa.bool_()),
                        ("created", pa.timestamp("ms")), ("day", pa.date32()), ("note", pa.string()),
                        ("blob", pa.binary())])
    per_split = 25_000  # ~2.7 MB of Arrow per split: answered inline
    yield Source(
        "sqlite", TableName("main", "events"), {"default": f"sqlite://jdbc:sqlite:{path}"},
        {"sqlite_rows_per_split": str(per_split)},
        [("sqlite3 fetchmany -> Arrow", "raw", sqlite_raw_arrow(path, query, schema)),
         ("sqlite3 fetchmany (tuples, no Arrow)", "raw-rows", sqlite_raw_rows(path, query))],
        "sqlite3 fetchmany -> Arrow",
        {"table": f"{rows:,} rows x 8 columns (integer, text, real, boolean as 0/1, timestamp and date as ISO "
                  f"text, nullable text 0-110 chars, nullable blob); inline splits of {per_split:,} rows"})


# ------------------------------------------------------------------------------------------ PostgreSQL

PG_QUERY = 'SELECT "id", "f", "d", "s", "dt", "ts" FROM "public"."bench"'
PG_SCHEMA = pa.schema([("id", pa.int64()), ("f", pa.float64()), ("d", pa.decimal128(12, 3)), ("s", pa.string()),
                       ("dt", pa.date32()), ("ts", pa.timestamp("ms"))])


def psycopg_arrow(conninfo: str) -> Callable[[], int]:
    """psycopg 3 (binary protocol off: text is its default) ``fetchmany`` -> typed Arrow arrays per column."""
    import psycopg

    def run() -> int:
        with psycopg.connect(conninfo) as connection:
            cursor = connection.cursor()
            cursor.execute(PG_QUERY)
            rows = 0
            while chunk := cursor.fetchmany(10_000):
                columns = list(zip(*chunk, strict=True))
                arrays = [pa.array(values, f.type) for values, f in zip(columns, PG_SCHEMA, strict=True)]
                rows += pa.RecordBatch.from_arrays(arrays, schema=PG_SCHEMA).num_rows
            return rows

    return run


def adbc_arrow(uri: str) -> Callable[[], int]:
    """ADBC's libpq driver: COPY in binary format, straight into Arrow (no Python object per value)."""
    import adbc_driver_postgresql.dbapi as adbc

    def run() -> int:
        with adbc.connect(uri) as connection, connection.cursor() as cursor:
            cursor.execute(PG_QUERY)
            return int(cursor.fetch_arrow_table().num_rows)

    return run


@contextmanager
def postgres_source(rows: int, work: Path) -> Iterator[Source]:
    from connector.protocol import TableName
    from tests.servers.postgres import start_postgres, stop_postgres

    server, process = start_postgres()
    try:
        server.psql(
            "CREATE TABLE bench AS SELECT g AS id, g * 1.5::float8 AS f, (g / 7.0)::numeric(12,3) AS d, "
            "'name ' || g AS s, date '2020-01-01' + (g % 1000) AS dt, "
            f"timestamp '2020-01-01' + g * interval '1.001 second' AS ts FROM generate_series(1, {rows}) AS g")
        server.psql("ALTER TABLE bench ADD PRIMARY KEY (id)")
        url = server.jdbc_url
        env = {"default": f"jdbc://{url}"}
        per_split = 40_000
        source = Source(
            "postgres", TableName("public", "bench"), env,
            {"key_range_splits": str(max(1, -(-rows // per_split))), "key_range_column": "id"},
            [("ADBC fetch_arrow_table (Arrow-native, libpq COPY)", "raw", adbc_arrow(
                f"postgresql://{server.superuser}@{server.host}:{server.port}/postgres")),
             ("psycopg fetchmany -> Arrow", "raw", psycopg_arrow(
                 f"host={server.host} port={server.port} user={server.superuser} dbname=postgres"))],
            "ADBC fetch_arrow_table (Arrow-native, libpq COPY)",
            {"table": f"{rows:,} rows x 6 columns (bigint, double precision, numeric(12,3), text, date, timestamp); "
                      f"inline splits: key ranges of ~{per_split:,} rows"})
        source.raw.extend(_jdbc_raw(source))
        yield source
    finally:
        stop_postgres(process, server.directory)


def _jdbc_raw(source: Source) -> list[tuple[str, str, Callable[[], int]]]:
    """The raw JDBC driver through the JVM the adapter starts: jaydebeapi's fetch, and a bare getString loop."""
    from adapters.jdbc import JdbcAdapter
    from connector.config import Settings
    from connector.connection import parse_connection_string

    adapter = JdbcAdapter(parse_connection_string(source.env["default"]), Settings.from_env(source.env))
    jconn = adapter.connect().jconn

    def via_jaydebeapi() -> int:
        import jaydebeapi

        raw = jaydebeapi.Connection(jconn, jaydebeapi._converters)
        cursor = raw.cursor()
        cursor.execute(PG_QUERY)
        count = len(cursor.fetchall())
        cursor.close()
        return count

    def via_get_string() -> int:
        jconn.setAutoCommit(False)
        statement = jconn.prepareStatement(PG_QUERY)
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

    return [("jaydebeapi fetchall (tuples; NUMERIC as float, dates as text)", "raw-rows", via_jaydebeapi),
            ("JPype getString loop (text lists, no Arrow)", "raw-rows", via_get_string)]


# ------------------------------------------------------------------------------------------ Snowflake

SF_CHUNK_ROWS = 50_000


@contextmanager
def snowflake_source(rows: int, work: Path) -> Iterator[Source]:
    import snowflake.connector

    from connector.protocol import TableName
    from tests.servers.fakesnow import running_server

    with running_server(work, SF_CHUNK_ROWS) as server:
        connection = snowflake.connector.connect(**server.connect_kwargs())
        try:
            cursor = connection.cursor()
            for sql in ("CREATE DATABASE B", "CREATE SCHEMA B.S", "USE SCHEMA B.S"):
                cursor.execute(sql)
            cursor.execute(f"CREATE TABLE T AS SELECT range AS ID, range * 7 % 1000 AS QTY, "
                           f"(range % 100000) / 100.0 AS AMOUNT, 'name ' || (range % 977) AS NAME, "
                           f"DATEADD(day, range % 365, DATE '2024-01-01') AS D, "
                           f"DATEADD(second, range, TIMESTAMP '2024-01-01') AS TS FROM range({rows})")

            def raw() -> int:
                c = connection.cursor()
                c.execute('SELECT "ID", "QTY", "AMOUNT", "NAME", "D", "TS" FROM "S"."T"')
                return int(c.fetch_arrow_all().num_rows)

            url = server.url("B", extra="&user=afq_user&password=correct%20horse%20battery%20staple")
            yield Source(
                "snowflake", TableName("s", "t"), {"default": f"snowflake://{url}", "snowflake_split_mode": "single"},
                {"snowflake_split_mode": "batches", "snowflake_split_rows": str(SF_CHUNK_ROWS)},
                [("connector fetch_arrow_all (Arrow-native)", "raw", raw)],
                "connector fetch_arrow_all (Arrow-native)",
                {"table": f"{rows:,} rows x 6 columns (number, number, number(p,2), varchar, date, timestamp_ntz); "
                          f"result chunks of {SF_CHUNK_ROWS:,} rows; inline: `batches` split mode, one split per "
                          f"chunk; spill: `single` split mode"})
        finally:
            connection.close()


SOURCES = {"sqlite": sqlite_source, "postgres": postgres_source, "snowflake": snowflake_source}


# ------------------------------------------------------------------------------------------ measuring


def measure(source: Source, rows: int, repeat: int, bucket: str | None, work: Path) -> dict[str, Any]:
    from connector.adapter import RequestContext
    from connector.protocol import Constraints, Identity, Split, parse_request
    from connector.scan import rows_of

    def expect(n: int) -> Callable[[int], None]:
        def check(value: int) -> None:
            if value != n:
                raise SystemExit(f"{source.name}: read {value} rows, expected {n}")
        return check

    def expect_kind(wanted: str) -> Callable[[dict[str, int]], None]:
        def check(kinds: dict[str, int]) -> None:  # runs outside the timed region
            if set(kinds) - {"blocks"} != {wanted}:
                raise SystemExit(f"{source.name}: expected only {wanted}, got {kinds}")
            shutil.rmtree(spill_dir, ignore_errors=True)  # keep the disk tidy between repeats
        return check

    spill_dir = work / "spill"
    local = {"AFQ_LOCAL_SPILL_DIR": str(spill_dir)}
    services: list[Any] = []

    def athena(env: dict[str, str], adapter_override: Any = None) -> Callable[[], dict[str, int]]:
        """Athena's calls for the whole table (metadata included), as one timed unit."""
        svc = service({**source.env, **env, **local}, adapter_override)
        services.append(svc)

        def run() -> dict[str, int]:
            events = read_events(svc.handle, source.table, query_id=f"bench-{os.urandom(4).hex()}")
            return read_all(svc.handle, events)

        return run

    # The adapter alone (one split): it also gives the logical Arrow size every MB/s figure uses.
    base = service({**source.env, **local})
    services.append(base)
    adapter = base.pool.get(CATALOG)
    ctx = RequestContext(Identity(), CATALOG, "bench")
    schema = adapter.get_table(ctx, source.table).schema
    sizes: list[int] = []

    def via_adapter() -> int:
        scan = adapter.read_split(ctx, source.table, schema, Split(None, None, {}), Constraints())
        n, size = 0, 0
        for batch in rows_of(scan, schema):
            n += batch.num_rows
            size += batch.nbytes
        sizes.append(size)
        return n

    paths = [ReadPath(label, kind, fn, expect(rows)) for label, kind, fn in source.raw]
    paths.append(ReadPath("adapter read_split -> rows_of (Arrow)", "adapter", via_adapter, expect(rows)))
    plans = [("ReadRecords inline (splits answered inline)", source.inline_env, "ReadRecordsResponse"),
             ("ReadRecords spill local (encrypted blocks)", {}, "RemoteReadRecordsResponse")]
    if bucket:
        plans.append(("ReadRecords spill S3 (encrypted, SeaweedFS)", {"spill_bucket": bucket},
                      "RemoteReadRecordsResponse"))
    for label, env, wanted in plans:
        paths.append(ReadPath(label, "readrecords", athena(env), expect_kind(wanted)))

    # Athena's metadata calls alone (GetTable, GetTableLayout, GetSplits): the fixed cost of every query above.
    metadata_svc = service({**source.env, **local})
    services.append(metadata_svc)
    paths.append(ReadPath("metadata calls only (GetTable, GetTableLayout, GetSplits)", "metadata",
                          lambda: len(read_events(metadata_svc.handle, source.table, query_id="bench-metadata"))))

    # The framework alone: the same calls answered from the adapter's own batches, prefetched per split.
    for label, env, wanted in plans[:2]:
        svc = service({**source.env, **env, **local})
        services.append(svc)
        events = read_events(svc.handle, source.table, query_id="bench-prefetch")
        real = svc.pool.get(CATALOG)
        prefetched: dict[str, list[pa.RecordBatch]] = {}
        for event in events:
            request = parse_request(event)
            scan = real.read_split(ctx, source.table, request.schema.logical_schema(), request.split,
                                   request.constraints)
            prefetched[split_key(request.split.properties)] = list(scan.batches)
            if scan.close is not None:
                scan.close()
        splits = [parse_request(e).split.properties for e in events]
        paths.append(ReadPath(f"framework only: {label[len('ReadRecords '):]}", "framework",
                           athena(env, prefetched_adapter(schema, prefetched, splits)), expect_kind(wanted)))

    for path in paths:  # warm every path: connections, JVM classes, metadata caches, boto3 clients
        path.run()
    data_bytes = sizes[-1]
    timings = interleaved(paths, repeat)
    for svc in services:
        svc.pool.close()
    results = []
    for path, timing in zip(paths, timings, strict=True):
        extra = {"responses": timing.value} if isinstance(timing.value, dict) else {}
        results.append(figures(path.label, 0 if path.kind == "metadata" else rows,
                               0 if path.kind in ("raw-rows", "metadata") else data_bytes, timing,
                               kind=path.kind, **extra))
    reference = next(r for r in results if r["label"] == source.reference)
    for r in results:
        r["vs_reference"] = round(reference["seconds"] / r["seconds"], 2) if r["kind"] != "metadata" else None
    return {"source": source.name, "rows": rows, "arrow_bytes": data_bytes, "reference": source.reference,
            "notes": source.notes, "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", choices=sorted(SOURCES))
    parser.add_argument("--rows", type=int, default=0, help="rows of the table (default per source)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bucket", default=os.environ.get("AFQ_BENCH_BUCKET"),
                        help="S3 bucket for the spill-to-S3 path (AWS_ENDPOINT_URL_S3 must point at the server)")
    args = parser.parse_args(argv)
    rows = args.rows or {"sqlite": 1_000_000, "postgres": 200_000, "snowflake": 300_000}[args.source]
    work = Path(tempfile.mkdtemp(prefix=f"afq-bench-{args.source}-"))
    try:
        with SOURCES[args.source](rows, work) as source:
            result = measure(source, rows, args.repeat, args.bucket, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
