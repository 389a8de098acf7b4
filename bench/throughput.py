"""ReadRecords throughput against the raw driver, same query, same run: SQLite, PostgreSQL (JDBC), Snowflake.

    python -m bench.throughput sqlite|sqlite_wide|postgres|postgres_wide|snowflake|snowflake_wide [--rows N]
                               [--repeat 3] [--bucket B]

Two table shapes: *narrow* (``sqlite``, ``postgres``, ``snowflake``: 6-8 columns) and *wide*
(``sqlite_wide``, ``postgres_wide``, ``snowflake_wide``: 12 mixed-type columns - integers, doubles, text,
DECIMAL(12,2), DATE, TIMESTAMP, booleans, blobs and NULL-heavy columns). For one source, every path reads the
same rows of the same table (best of ``repeat``):

* raw references: the driver alone, into Arrow where it can (``sqlite3`` ``fetchmany`` -> Arrow; ADBC
  ``fetch_arrow_table``, psycopg ``fetchmany`` -> Arrow, jaydebeapi and a JPype ``getString`` loop; Snowflake
  ``fetch_arrow_all``), and the same written as an Arrow IPC stream (``-> IPC``: what ReadRecords produces too);
  the ratios are computed against the IPC one where it exists; ``-> IPC -> base64 JSON`` adds what every inline
  answer costs on top (the Lambda response's encoding): the floor of any inline ReadRecords, not the reference;
* ``adapter -> Arrow``: the adapter's ``read_split`` through ``connector.scan.rows_of`` (logical batches); for
  PostgreSQL also with ``jdbc_fetch_mode=values``, the JDBC adapter's value-by-value path of before the columnar
  helper;
* ``ReadRecords inline``: Athena's calls (GetTable, GetTableLayout, GetSplits, ReadRecords for every split)
  through ``FederationService.handle``, with splits small enough to be answered inline, each response
  JSON-encoded as the Lambda runtime does;
* ``ReadRecords inline, parallel Lambdas`` (Snowflake): Athena reads splits in concurrent Lambdas, so what a query
  waits for is the metadata calls plus its slowest split. Each split is answered by its own warm service (its own
  adapter and connection, as a warm Lambda that has not seen this query), timed alone; the figure is the
  metadata calls' time plus the longest split's;
* ``ReadRecords spill local`` / ``spill S3``: one split, the whole table, AES-GCM blocks of ``maxBlockSize``
  16 MB to the local spill directory or to SeaweedFS S3 (``--bucket``, with ``AWS_ENDPOINT_URL_S3`` set; narrow
  tables only);
* ``framework only``: the same events answered from the adapter's batches prefetched into memory, so the
  figure is the framework's own cost (parse, residual, conform, wire types, cutting, IPC, encryption, JSON);
* ``metadata calls only``: GetTable, GetTableLayout and GetSplits, the fixed cost included in every
  ReadRecords figure.

Where the raw reference builds the same Arrow types as the adapter, the two results are compared once before
timing (``reference_matches_adapter``). Prints one JSON line (``bench.run`` puts it in the report).
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
    Measured,
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
    shape: str = "narrow"
    s3: bool = True  # also spill to S3 (when a bucket is given)
    #: Other configurations of the same adapter, read the same way: (label, extra env).
    adapter_variants: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    #: The raw reference's Arrow table (same types as the adapter's), for one comparison before timing.
    reference_table: Callable[[], pa.Table] | None = None
    #: Also time the inline splits as Athena's concurrent Lambdas would run them (``parallel_lambdas``).
    parallel_inline: bool = False


def ipc_stream(batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> int:
    """Write batches as one Arrow IPC stream in memory (what ReadRecords does with its blocks); rows written."""
    sink = pa.BufferOutputStream()
    rows = 0
    with pa.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    sink.getvalue()
    return rows


def inline_encoded(batches: Iterator[pa.RecordBatch], schema: pa.Schema, piece: int = 4_000_000) -> int:
    """``ipc_stream`` and then what every inline answer costs on top: the stream base64-encoded and JSON-encoded in
    pieces of about an inline block, as the Lambda runtime encodes a response. Not a reference for the ratios: the
    floor below which no inline ReadRecords of the same rows can go. Rows written."""
    import base64
    import json

    sink = pa.BufferOutputStream()
    rows = 0
    with pa.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    data = memoryview(sink.getvalue())
    for start in range(0, len(data), piece):
        json.dumps({"@type": "ReadRecordsResponse", "records": {"records": base64.b64encode(
            data[start:start + piece]).decode("ascii")}}, separators=(",", ":"))
    return rows


INLINE_FLOOR = "-> IPC -> base64 JSON (every inline answer's encoding; not the reference)"


# ------------------------------------------------------------------------------------------ SQLite


def sqlite_raw_batches(path: str, query: str, schema: pa.Schema, fetch_rows: int = 2048) -> Iterator[pa.RecordBatch]:
    """``sqlite3`` ``fetchmany`` -> Arrow, hand-written the fastest way found: fetches of 2048 rows (faster than
    larger ones: the rows stay in the CPU cache), columns by list comprehension (faster than ``zip(*rows)``),
    one typed ``pa.array`` per column and Arrow's vectorized casts where SQLite's storage differs from the
    declared type (text timestamps and dates, 0/1 booleans, REAL decimals)."""
    import sqlite3

    def storage(t: pa.DataType) -> pa.DataType:
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            return pa.string()
        if pa.types.is_boolean(t):
            return pa.int64()
        if pa.types.is_decimal(t):
            return pa.float64()
        return t

    types = [(i, f.type, storage(f.type)) for i, f in enumerate(schema)]
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cursor = connection.execute(query)
        while chunk := cursor.fetchmany(fetch_rows):
            arrays = []
            for i, wanted, stored in types:
                array = pa.array([r[i] for r in chunk], stored)
                arrays.append(array if stored == wanted else array.cast(wanted))
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)
    finally:
        connection.close()


def sqlite_raw_arrow(path: str, query: str, schema: pa.Schema) -> Callable[[], int]:
    def run() -> int:
        return sum(b.num_rows for b in sqlite_raw_batches(path, query, schema))

    return run


def sqlite_raw_ipc(path: str, query: str, schema: pa.Schema) -> Callable[[], int]:
    return lambda: ipc_stream(sqlite_raw_batches(path, query, schema), schema)


def sqlite_raw_inline(path: str, query: str, schema: pa.Schema) -> Callable[[], int]:
    return lambda: inline_encoded(sqlite_raw_batches(path, query, schema), schema)


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
    from tests.support.spill_data import create_events_db

    path = str(create_events_db(work / "events.db", rows))
    query = "SELECT id, name, amount, flag, created, day, note, blob FROM events"
    schema = pa.schema([("id", pa.int64()), ("name", pa.string()), ("amount", pa.float64()), ("flag", pa.bool_()),
                        ("created", pa.timestamp("ms")), ("day", pa.date32()), ("note", pa.string()),
                        ("blob", pa.binary())])
    per_split = 25_000  # ~2.7 MB of Arrow per split: answered inline
    yield Source(
        "sqlite", TableName("main", "events"), {"default": f"sqlite://jdbc:sqlite:{path}"},
        {"sqlite_rows_per_split": str(per_split)},
        [("sqlite3 fetchmany -> Arrow -> IPC", "raw", sqlite_raw_ipc(path, query, schema)),
         (f"sqlite3 fetchmany -> Arrow {INLINE_FLOOR}", "raw-inline", sqlite_raw_inline(path, query, schema)),
         ("sqlite3 fetchmany -> Arrow", "raw", sqlite_raw_arrow(path, query, schema)),
         ("sqlite3 fetchmany (tuples, no Arrow)", "raw-rows", sqlite_raw_rows(path, query))],
        "sqlite3 fetchmany -> Arrow -> IPC",
        {"table": f"{rows:,} rows x 8 columns (integer, text, real, boolean as 0/1, timestamp and date as ISO "
                  f"text, nullable text 0-110 chars, nullable blob); inline splits of {per_split:,} rows"},
        reference_table=lambda: pa.Table.from_batches(list(sqlite_raw_batches(path, query, schema)), schema))


WIDE_COLUMNS = ("id", "qty", "price", "ratio", "name", "note", "amount", "day", "created", "flag", "payload",
                "maybe")
WIDE_SCHEMA = pa.schema([("id", pa.int64()), ("qty", pa.int32()), ("price", pa.float64()), ("ratio", pa.float64()),
                         ("name", pa.string()), ("note", pa.string()), ("amount", pa.decimal128(12, 2)),
                         ("day", pa.date32()), ("created", pa.timestamp("ms")), ("flag", pa.bool_()),
                         ("payload", pa.binary()), ("maybe", pa.int32())])
#: SQLite's INT is a 64-bit integer.
SQLITE_WIDE_SCHEMA = WIDE_SCHEMA.set(1, pa.field("qty", pa.int64())).set(11, pa.field("maybe", pa.int64()))
WIDE_NOTE = ("12 columns: bigint id, int, double, double 90 % NULL, short text, text 0-79 chars 80 % NULL, "
             "DECIMAL(12,2), DATE, TIMESTAMP (ms), boolean 1/7 NULL, blob 16-63 bytes 1/4 NULL, int 95 % NULL")


@contextmanager
def sqlite_wide_source(rows: int, work: Path) -> Iterator[Source]:
    """The wide mixed-type table as SQLite stores it: ISO text dates and timestamps, 0/1 booleans, REAL decimals."""
    import sqlite3

    from connector.protocol import TableName

    path = str(work / "wide.db")
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE wide (id INTEGER PRIMARY KEY, qty INT, price REAL, ratio REAL, name TEXT, note TEXT, "
                   "amount DECIMAL(12,2), day DATE, created TIMESTAMP, flag BOOLEAN, payload BLOB, maybe INT)")
        db.execute(
            "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
            "INSERT INTO wide SELECT i, i % 1000, i * 0.25, CASE WHEN i % 10 = 0 THEN i / 7.0 END, 'name ' || i, "
            "CASE WHEN i % 5 = 0 THEN substr('lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
            "eiusmod tempor incididunt ut labore', 1, i % 80) END, round((i % 100000) * 0.37 - 1000, 2), "
            "date('2020-01-01', '+' || (i % 3000) || ' days'), "
            "strftime('%Y-%m-%d %H:%M:%f', 1577836800 + i + (i % 1000) / 1000.0, 'unixepoch'), "
            "CASE WHEN i % 7 = 0 THEN NULL ELSE i % 2 END, CASE WHEN i % 4 = 0 THEN NULL ELSE "
            "randomblob(16 + i % 48) END, CASE WHEN i % 20 = 0 THEN i END FROM g", (rows,))
    query = f"SELECT {', '.join(WIDE_COLUMNS)} FROM wide"
    per_split = 20_000
    yield Source(
        "sqlite_wide", TableName("main", "wide"), {"default": f"sqlite://jdbc:sqlite:{path}"},
        {"sqlite_rows_per_split": str(per_split)},
        [("sqlite3 fetchmany -> Arrow -> IPC", "raw", sqlite_raw_ipc(path, query, SQLITE_WIDE_SCHEMA)),
         (f"sqlite3 fetchmany -> Arrow {INLINE_FLOOR}", "raw-inline",
          sqlite_raw_inline(path, query, SQLITE_WIDE_SCHEMA)),
         ("sqlite3 fetchmany -> Arrow", "raw", sqlite_raw_arrow(path, query, SQLITE_WIDE_SCHEMA))],
        "sqlite3 fetchmany -> Arrow -> IPC",
        {"table": f"{rows:,} rows x {WIDE_NOTE}, as SQLite stores them (dates and timestamps as ISO text, booleans "
                  f"as 0/1, decimals as REAL); inline splits of {per_split:,} rows"},
        shape="wide", s3=False,
        reference_table=lambda: pa.Table.from_batches(list(sqlite_raw_batches(path, query, SQLITE_WIDE_SCHEMA)),
                                                      SQLITE_WIDE_SCHEMA))


# ------------------------------------------------------------------------------------------ PostgreSQL

PG_QUERY = 'SELECT "id", "f", "d", "s", "dt", "ts" FROM "public"."bench"'
PG_SCHEMA = pa.schema([("id", pa.int64()), ("f", pa.float64()), ("d", pa.decimal128(12, 3)), ("s", pa.string()),
                       ("dt", pa.date32()), ("ts", pa.timestamp("ms"))])
PG_WIDE_QUERY = f'SELECT {", ".join(WIDE_COLUMNS)} FROM "public"."wide"'


def psycopg_batches(conninfo: str, query: str, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """psycopg 3 (binary protocol off: text is its default) ``fetchmany`` -> typed Arrow arrays per column."""
    import psycopg

    with psycopg.connect(conninfo) as connection:
        cursor = connection.cursor()
        cursor.execute(query)
        while chunk := cursor.fetchmany(10_000):
            columns = list(zip(*chunk, strict=True))
            arrays = [pa.array(values, f.type) for values, f in zip(columns, schema, strict=True)]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def psycopg_arrow(conninfo: str, query: str = PG_QUERY, schema: pa.Schema = PG_SCHEMA) -> Callable[[], int]:
    return lambda: sum(b.num_rows for b in psycopg_batches(conninfo, query, schema))


def psycopg_ipc(conninfo: str, query: str, schema: pa.Schema) -> Callable[[], int]:
    return lambda: ipc_stream(psycopg_batches(conninfo, query, schema), schema)


def adbc_table(uri: str, query: str) -> pa.Table:
    """ADBC's libpq driver: COPY in binary format, straight into Arrow (no Python object per value). Its types are
    its own (NUMERIC as text, timestamps in microseconds)."""
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetch_arrow_table()


def adbc_arrow(uri: str, query: str = PG_QUERY) -> Callable[[], int]:
    return lambda: int(adbc_table(uri, query).num_rows)


def adbc_ipc(uri: str, query: str) -> Callable[[], int]:
    def run() -> int:
        table = adbc_table(uri, query)
        return ipc_stream(iter(table.to_batches()), table.schema)

    return run


def adbc_inline(uri: str, query: str) -> Callable[[], int]:
    def run() -> int:
        table = adbc_table(uri, query)
        return inline_encoded(iter(table.to_batches()), table.schema)

    return run


@contextmanager
def _postgres(create: list[str]) -> Iterator[Any]:
    from tests.servers.postgres import start_postgres, stop_postgres

    server, process = start_postgres()
    try:
        for sql in create:
            server.psql(sql)
        yield server
    finally:
        stop_postgres(process, server.directory)


def _pg_references(server: Any, query: str, schema: pa.Schema) -> list[tuple[str, str, Callable[[], int]]]:
    uri = f"postgresql://{server.superuser}@{server.host}:{server.port}/postgres"
    conninfo = _conninfo(server)
    return [("ADBC fetch_arrow_table -> IPC", "raw", adbc_ipc(uri, query)),
            (f"ADBC fetch_arrow_table {INLINE_FLOOR}", "raw-inline", adbc_inline(uri, query)),
            ("ADBC fetch_arrow_table (Arrow-native, libpq COPY)", "raw", adbc_arrow(uri, query)),
            ("psycopg fetchmany -> Arrow -> IPC", "raw", psycopg_ipc(conninfo, query, schema)),
            ("psycopg fetchmany -> Arrow", "raw", psycopg_arrow(conninfo, query, schema))]


def _conninfo(server: Any) -> str:
    return f"host={server.host} port={server.port} user={server.superuser} dbname=postgres"


@contextmanager
def postgres_source(rows: int, work: Path) -> Iterator[Source]:
    from connector.protocol import TableName

    with _postgres([
            "CREATE TABLE bench AS SELECT g::bigint AS id, g * 1.5::float8 AS f, (g / 7.0)::numeric(12,3) AS d, "
            "'name ' || g AS s, date '2020-01-01' + (g % 1000) AS dt, "
            f"timestamp '2020-01-01' + g * interval '1.001 second' AS ts FROM generate_series(1, {rows}) AS g",
            "ALTER TABLE bench ADD PRIMARY KEY (id)"]) as server:
        env = {"default": f"jdbc://{server.jdbc_url}"}
        per_split = 40_000
        source = Source(
            "postgres", TableName("public", "bench"), env,
            {"key_range_splits": str(max(1, -(-rows // per_split))), "key_range_column": "id"},
            _pg_references(server, PG_QUERY, PG_SCHEMA), "ADBC fetch_arrow_table -> IPC",
            {"table": f"{rows:,} rows x 6 columns (bigint, double precision, numeric(12,3), text, date, timestamp); "
                      f"inline splits: key ranges of ~{per_split:,} rows"},
            adapter_variants=[("adapter read_split -> rows_of, jdbc_fetch_mode=values (one JPype call a value)",
                               {"jdbc_fetch_mode": "values"})],
            reference_table=lambda: pa.Table.from_batches(list(psycopg_batches(_conninfo(server), PG_QUERY,
                                                                               PG_SCHEMA)), PG_SCHEMA))
        source.raw.extend(_jdbc_raw(source))
        yield source


@contextmanager
def postgres_wide_source(rows: int, work: Path) -> Iterator[Source]:
    from connector.protocol import TableName

    with _postgres([
            "CREATE TABLE wide AS SELECT g::bigint AS id, (g % 1000)::integer AS qty, g * 0.25::float8 AS price, "
            "CASE WHEN g % 10 = 0 THEN g / 7.0::float8 END AS ratio, 'name ' || g AS name, "
            "CASE WHEN g % 5 = 0 THEN repeat('x', g % 80) END AS note, "
            "round((g % 100000) * 0.37 - 1000, 2)::numeric(12,2) AS amount, date '2020-01-01' + (g % 3000) AS day, "
            "timestamp '2020-01-01' + g * interval '1.001 second' AS created, "
            "CASE WHEN g % 7 = 0 THEN NULL ELSE g % 2 = 0 END AS flag, "
            "CASE WHEN g % 4 = 0 THEN NULL ELSE substr(decode(md5(g::text) || md5((g + 1)::text), 'hex'), 1, "
            "16 + g % 16) END AS payload, CASE WHEN g % 20 = 0 THEN g END::integer AS maybe "
            f"FROM generate_series(1, {rows}) AS g",
            "ALTER TABLE wide ADD PRIMARY KEY (id)"]) as server:
        per_split = 20_000
        yield Source(
            "postgres_wide", TableName("public", "wide"), {"default": f"jdbc://{server.jdbc_url}"},
            {"key_range_splits": str(max(1, -(-rows // per_split))), "key_range_column": "id"},
            _pg_references(server, PG_WIDE_QUERY, WIDE_SCHEMA), "ADBC fetch_arrow_table -> IPC",
            {"table": f"{rows:,} rows x {WIDE_NOTE}; inline splits: key ranges of ~{per_split:,} rows"},
            shape="wide", s3=False,
            reference_table=lambda: pa.Table.from_batches(list(psycopg_batches(_conninfo(server), PG_WIDE_QUERY,
                                                                               WIDE_SCHEMA)), WIDE_SCHEMA))


def _jdbc_raw(source: Source) -> list[tuple[str, str, Callable[[], int]]]:
    """The raw JDBC driver through the JVM the adapter starts: jaydebeapi's fetch, and a bare getString loop."""
    from adapters.jdbc.adapter import JdbcAdapter
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


SF_WIDE_SELECT = (
    "SELECT range AS ID, (range % 1000)::NUMBER(9,0) AS QTY, (range * 0.25)::FLOAT AS PRICE, "
    "CASE WHEN range % 10 = 0 THEN range / 7.0 END::FLOAT AS RATIO, 'name ' || range AS NAME, "
    "CASE WHEN range % 5 = 0 THEN REPEAT('x', range % 80) END AS NOTE, "
    "ROUND((range % 100000) * 0.37 - 1000, 2)::NUMBER(12,2) AS AMOUNT, "
    "DATEADD(day, range % 3000, DATE '2020-01-01') AS DAY, "
    "DATEADD(millisecond, range * 1001, TIMESTAMP '2020-01-01') AS CREATED, "
    "CASE WHEN range % 7 = 0 THEN NULL ELSE range % 2 = 0 END AS FLAG, "
    "CASE WHEN range % 4 = 0 THEN NULL ELSE TO_BINARY(SUBSTR(MD5(range::VARCHAR) || MD5((range + 1)::VARCHAR), 1, "
    "32 + 2 * (range % 16)), 'HEX') END AS PAYLOAD, "
    "CASE WHEN range % 20 = 0 THEN range END::NUMBER(9,0) AS MAYBE FROM range({rows})")


@contextmanager
def _snowflake(work: Path, name: str, create: str, columns: str, table: str, notes: str, shape: str,
               chunk_rows: int = SF_CHUNK_ROWS) -> Iterator[Source]:
    """A fakesnow server with one table, read by the adapter and by the connector's ``fetch_arrow_all``."""
    import snowflake.connector

    from connector.protocol import TableName
    from tests.servers.fakesnow import running_server

    with running_server(work, chunk_rows) as server:
        connection = snowflake.connector.connect(**server.connect_kwargs())
        try:
            cursor = connection.cursor()
            for sql in ("CREATE DATABASE B", "CREATE SCHEMA B.S", "USE SCHEMA B.S", create):
                cursor.execute(sql)
            query = f'SELECT {columns} FROM "S"."{table}"'

            def fetch_all() -> pa.Table:
                c = connection.cursor()
                c.execute(query)
                return c.fetch_arrow_all()

            def ipc() -> int:
                result = fetch_all()
                return ipc_stream(iter(result.to_batches()), result.schema)

            def inline() -> int:
                result = fetch_all()
                return inline_encoded(iter(result.to_batches()), result.schema)

            url = server.url("B", extra="&user=afq_user&password=correct%20horse%20battery%20staple")
            yield Source(
                name, TableName("s", table.lower()),
                {"default": f"snowflake://{url}", "snowflake_split_mode": "single"},
                {"snowflake_split_mode": "batches", "snowflake_split_rows": str(chunk_rows)},
                [("connector fetch_arrow_all -> IPC", "raw", ipc),
                 (f"connector fetch_arrow_all {INLINE_FLOOR}", "raw-inline", inline),
                 ("connector fetch_arrow_all (Arrow-native)", "raw", lambda: int(fetch_all().num_rows))],
                "connector fetch_arrow_all -> IPC",
                {"table": f"{notes}; result chunks of {chunk_rows:,} rows; inline: `batches` split mode, one "
                          f"split per chunk; spill: `single` split mode"},
                shape=shape, s3=shape == "narrow", parallel_inline=True)
        finally:
            connection.close()


@contextmanager
def snowflake_source(rows: int, work: Path) -> Iterator[Source]:
    with _snowflake(work, "snowflake",
                    f"CREATE TABLE T AS SELECT range AS ID, range * 7 % 1000 AS QTY, "
                    f"(range % 100000) / 100.0 AS AMOUNT, 'name ' || (range % 977) AS NAME, "
                    f"DATEADD(day, range % 365, DATE '2024-01-01') AS D, "
                    f"DATEADD(second, range, TIMESTAMP '2024-01-01') AS TS FROM range({rows})",
                    '"ID", "QTY", "AMOUNT", "NAME", "D", "TS"', "T",
                    f"{rows:,} rows x 6 columns (number, number, number(p,2), varchar, date, timestamp_ntz)",
                    "narrow") as source:
        yield source


@contextmanager
def snowflake_wide_source(rows: int, work: Path) -> Iterator[Source]:
    with _snowflake(work, "snowflake_wide", "CREATE TABLE W AS " + SF_WIDE_SELECT.format(rows=rows),
                    ", ".join(f'"{c.upper()}"' for c in WIDE_COLUMNS), "W",
                    f"{rows:,} rows x {WIDE_NOTE.replace('bigint id, int', 'number id, number(9,0)')} "
                    f"(NUMBER(12,2), TIMESTAMP_NTZ, BOOLEAN, BINARY)", "wide", 20_000) as source:
        yield source


SOURCES = {"sqlite": sqlite_source, "sqlite_wide": sqlite_wide_source, "postgres": postgres_source,
           "postgres_wide": postgres_wide_source, "snowflake": snowflake_source,
           "snowflake_wide": snowflake_wide_source}
DEFAULT_ROWS = {"sqlite": 1_000_000, "sqlite_wide": 1_000_000, "postgres": 200_000, "postgres_wide": 1_000_000,
                "snowflake": 300_000, "snowflake_wide": 300_000}


# ------------------------------------------------------------------------------------------ measuring


def parallel_lambdas(source: Source, env: dict[str, str], services: list[Any]) -> Callable[[], Measured]:
    """Athena's calls with every split answered by its own warm service - a Lambda execution environment that
    has not seen this query - timed one at a time: the metadata calls plus the slowest split is what a query
    waits for when its splits run concurrently (this machine's two cores cannot run them all at once)."""
    import json
    import time

    planner = service({**source.env, **env})
    services.append(planner)
    lambdas: list[Any] = []

    def run() -> Measured:
        start = time.perf_counter()
        events = read_events(planner.handle, source.table, query_id=f"bench-{os.urandom(4).hex()}")
        metadata = time.perf_counter() - start
        while len(lambdas) < len(events):
            lambdas.append(service({**source.env, **env}))
            services.append(lambdas[-1])
        slowest, kinds = 0.0, {}
        for event, svc in zip(events, lambdas, strict=False):
            start = time.perf_counter()
            response = svc.handle(event)
            json.dumps(response, separators=(",", ":"))
            slowest = max(slowest, time.perf_counter() - start)
            kinds[response["@type"]] = kinds.get(response["@type"], 0) + 1
        return Measured(kinds, metadata + slowest)

    return run


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

    def adapter_reader(env: dict[str, str]) -> Callable[[], int]:
        svc = service({**source.env, **env, **local})
        services.append(svc)
        other = svc.pool.get(CATALOG)

        def run() -> int:
            scan = other.read_split(ctx, source.table, schema, Split(None, None, {}), Constraints())
            return sum(batch.num_rows for batch in rows_of(scan, schema))

        return run

    matches: bool | None = None
    mismatch = ""
    if source.reference_table is not None:  # the reference must compute what the adapter computes
        reference = source.reference_table()
        scan = adapter.read_split(ctx, source.table, schema, Split(None, None, {}), Constraints())
        produced = pa.Table.from_batches(list(rows_of(scan, schema)), schema)
        matches = True
        for name in reference.column_names:
            if not produced.column(name).combine_chunks().equals(reference.column(name).combine_chunks()):
                matches, mismatch = False, name
                break

    paths = [ReadPath(label, kind, fn, expect(rows)) for label, kind, fn in source.raw]
    paths.append(ReadPath("adapter read_split -> rows_of (Arrow)", "adapter", via_adapter, expect(rows)))
    for label, env in source.adapter_variants:
        paths.append(ReadPath(label, "adapter-variant", adapter_reader(env), expect(rows)))
    plans = [("ReadRecords inline (splits answered inline)", source.inline_env, "ReadRecordsResponse"),
             ("ReadRecords spill local (encrypted blocks)", {}, "RemoteReadRecordsResponse")]
    if bucket and source.s3:
        plans.append(("ReadRecords spill S3 (encrypted, SeaweedFS)", {"spill_bucket": bucket},
                      "RemoteReadRecordsResponse"))
    for label, env, wanted in plans:
        paths.append(ReadPath(label, "readrecords", athena(env), expect_kind(wanted)))

    if source.parallel_inline:
        paths.append(ReadPath("ReadRecords inline, parallel Lambdas (metadata calls + the slowest split)",
                              "readrecords-parallel", parallel_lambdas(source, {**source.inline_env, **local},
                                                                       services), expect_kind("ReadRecordsResponse")))

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
    return {"source": source.name, "shape": source.shape, "rows": rows, "arrow_bytes": data_bytes,
            "reference": source.reference, "reference_matches_adapter": matches, "mismatch": mismatch,
            "notes": source.notes, "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", choices=sorted(SOURCES))
    parser.add_argument("--rows", type=int, default=0, help="rows of the table (default per source)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bucket", default=os.environ.get("AFQ_BENCH_BUCKET"),
                        help="S3 bucket for the spill-to-S3 path (AWS_ENDPOINT_URL_S3 must point at the server)")
    args = parser.parse_args(argv)
    rows = args.rows or DEFAULT_ROWS[args.source]
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
