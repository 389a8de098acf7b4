"""The JDBC adapter's columnar path: the Java helper (built reproducibly, found, loaded) and the batches it reads.

Exactness is checked against the engine itself: PostgreSQL's values read through another driver (psycopg), or
computed by PostgreSQL in SQL (days and milliseconds since the epoch); H2's through its own SQL. The per-value
path (``jdbc_fetch_mode=values``) must give the same answers wherever it gives one.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.jdbc import helper as jdbc_helper
from adapters.jdbc.adapter import JdbcAdapter
from connector.errors import ConfigurationError, SourceError
from tests.servers.postgres import PostgresServer
from tests.support.athena import LocalAthena
from tests.support.sql_engines import Engine

REPO = Path(__file__).resolve().parents[3]
needs_javac = pytest.mark.skipif(jdbc_helper.javac() is None, reason="no javac (apt install default-jdk-headless)")


# ------------------------------------------------------------------------------------------ building the helper


@needs_javac
def test_the_helper_jar_is_byte_identical_across_builds(tmp_path: Path) -> None:
    """Two builds, the second three days later (libfaketime) in another directory, give the same bytes."""
    first = jdbc_helper.build_jar(tmp_path / "a" / "helper.jar")
    code = ("import sys; from pathlib import Path; from adapters.jdbc.helper import build_jar; "
            "build_jar(Path(sys.argv[1]))")
    faketime = shutil.which("faketime")
    command = [sys.executable, "-c", code, str(tmp_path / "b" / "helper.jar")]
    run = subprocess.run([faketime, "-f", "+3d", *command] if faketime else command, cwd=REPO, capture_output=True,
                         text=True, check=False, timeout=300)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "b" / "helper.jar").read_bytes() == first.read_bytes()
    with zipfile.ZipFile(first) as jar:
        infos = jar.infolist()
    names = [i.filename for i in infos]
    assert names[:2] == ["META-INF/", "META-INF/MANIFEST.MF"] and names[2:] == sorted(names[2:])
    assert "afq/jdbc/ColumnarReader.class" in names
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}


def test_the_jar_name_follows_the_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "java"
    shutil.copytree(jdbc_helper.SOURCE_DIR, copy)
    original = jdbc_helper.jar_name()
    jdbc_helper.jar_name.cache_clear()
    monkeypatch.setattr(jdbc_helper, "SOURCE_DIR", copy)
    try:
        assert jdbc_helper.jar_name() == original  # same sources, same name
        jdbc_helper.jar_name.cache_clear()
        source = copy / "ColumnarReader.java"
        source.write_text(source.read_text() + "\n// changed\n")
        assert jdbc_helper.jar_name() != original
    finally:
        jdbc_helper.jar_name.cache_clear()


@needs_javac
def test_first_use_compiles_the_helper_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFQ_CACHE_DIR", str(tmp_path / "cache"))
    jar = jdbc_helper.find_jar()
    assert jar == tmp_path / "cache" / "jdbc" / jdbc_helper.jar_name() and jar.is_file()
    assert jdbc_helper.find_jar(compile_missing=False) == jar  # found, not built again


def test_without_a_compiler_the_helper_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFQ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(jdbc_helper, "javac", lambda: None)
    with pytest.raises(jdbc_helper.HelperUnavailable, match="no javac"):
        jdbc_helper.find_jar()
    with pytest.raises(jdbc_helper.HelperUnavailable, match="make jdbc-helper"):
        jdbc_helper.find_jar(compile_missing=False)


def test_fetch_mode_is_checked() -> None:
    from connector.config import Settings
    from connector.connection import parse_connection_string

    with pytest.raises(ConfigurationError, match="jdbc_fetch_mode='fast' must be one of auto, columnar, values"):
        JdbcAdapter(parse_connection_string("jdbc://jdbc:h2:mem:x"), Settings.from_env({"jdbc_fetch_mode": "fast"}))


# ------------------------------------------------------------------------------------------ PostgreSQL


def _adapter(athena: LocalAthena) -> JdbcAdapter:
    adapter = athena.service.pool.get(athena.catalog)
    assert isinstance(adapter, JdbcAdapter)
    return adapter


def _psycopg(server: PostgresServer, database: str) -> Any:
    import psycopg

    return psycopg.connect(host=server.host, port=server.port, user=server.superuser, dbname=database,
                           autocommit=True)


@pytest.fixture
def pg(postgres_db: Engine, postgres_server: PostgresServer) -> Iterator[tuple[Engine, Any]]:
    database = postgres_db.url.split("/")[-1].split("?")[0]
    with _psycopg(postgres_server, database) as connection:
        yield postgres_db, connection


COLUMNS = ("i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision, n numeric(20, 6), nu numeric, "
           "b boolean, t text, d date, ts timestamp(6), tz timestamptz, by bytea")
#: What PostgreSQL itself says each value is, in the form the connector's Arrow values take.
ORACLE_SELECT = ("i2, i4, i8, f4::float8, f8, n, nu, b, t, d - date '1970-01-01', "
                 "floor(extract(epoch from ts) * 1000)::bigint, floor(extract(epoch from tz) * 1000)::bigint, by")

EDGE_ROWS: list[tuple[Any, ...]] = [
    (-32768, -2147483648, -9223372036854775808, -3.4028234663852886e38, -1.7976931348623157e308,
     Decimal("-99999999999999.999999"), Decimal("-9999999999999999999999999999.9999999999"), False, "",
     dt.date(1, 1, 1), dt.datetime(1, 1, 1), dt.datetime(1, 1, 1, tzinfo=dt.UTC), b""),
    (32767, 2147483647, 9223372036854775807, 1.401298464324817e-45, 5e-324, Decimal("99999999999999.999999"),
     Decimal("9999999999999999999999999999.9999999999"), True, "héllo \U0001f600 ∑ \u00e9\u0301 日本",
     dt.date(9999, 12, 31), dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
     dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC), bytes(range(256))),
    (0, 0, 0, 0.0, -0.0, Decimal("0"), Decimal("0.0000000001"), None, "x" * 5000, dt.date(1970, 1, 1),
     dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
     dt.datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30))), b"\x00"),
    (None,) * 13,
    (1, None, 3, math.inf, math.nan, None, Decimal("-0.5"), True, None, None, None, None, None),
    (None, 2, None, -math.inf, math.inf, Decimal("1.5"), None, None, "tab\tnew\nline", dt.date(2024, 2, 29),
     dt.datetime(2024, 2, 29, 12, 0, 0, 999), None, b"\xff" * 3),
]


def _expected(connection: Any, table: str) -> list[tuple[Any, ...]]:
    rows = connection.execute(f"SELECT {ORACLE_SELECT} FROM {table} ORDER BY k").fetchall()
    return [tuple(_same(v) for v in row) for row in rows]


def _same(value: Any) -> Any:
    """NaN compares equal to itself; -0.0 and 0.0 are told apart (Arrow keeps the sign)."""
    if isinstance(value, float):
        return ("nan",) if math.isnan(value) else (value, math.copysign(1.0, value))
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def _actual(batches: list[pa.RecordBatch]) -> list[tuple[Any, ...]]:
    table = pa.Table.from_batches(batches).sort_by("k").drop_columns(["k"])
    columns = []
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_date32(column.type):
            column = column.cast(pa.int32())
        elif pa.types.is_timestamp(column.type):
            column = column.cast(pa.int64())
        elif pa.types.is_float32(column.type):
            column = column.cast(pa.float64())
        columns.append(column.to_pylist())
    return [tuple(_same(v) for v in row) for row in zip(*columns, strict=True)]


def _read(engine: Engine, table: str, *, small_batches: bool,
          **env: str) -> tuple[list[pa.RecordBatch], dict[str, Any]]:
    """The adapter's own batches for the whole table (one split)."""
    from connector.adapter import RequestContext
    from connector.protocol.constraints import Constraints
    from connector.protocol.messages import Identity, Split, TableName

    with LocalAthena(engine.env(**env)) as athena:
        adapter = _adapter(athena)
        if small_batches:  # small batches: bitmaps and offsets end mid-byte, then start again
            adapter.initial_fetch_rows = 3  # type: ignore[misc]
            adapter.target_batch_bytes = 200  # type: ignore[misc]
        ctx = RequestContext(Identity(), athena.catalog, "q")
        name = TableName(engine.athena_schema, table)
        schema = adapter.get_table(ctx, name).schema
        scan = adapter.read_split(ctx, name, schema, Split(None, None, {}), Constraints())
        try:
            batches = list(scan.batches)
        finally:
            if scan.close is not None:
                scan.close()
        return batches, {f.name: f.type for f in schema}


def _create(engine: Engine, connection: Any, rows: list[tuple[Any, ...]]) -> str:
    name = f"col_{uuid.uuid4().hex[:8]}"
    table = engine.table_sql(name)
    connection.execute(f"CREATE TABLE {table} (k integer PRIMARY KEY, {COLUMNS})")
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} VALUES ({', '.join(['%s'] * 14)})",
                           [(i, *row) for i, row in enumerate(rows)])
    return name


@pytest.mark.integration
@pytest.mark.parametrize("small_batches", [False, True])
def test_postgres_values_are_what_postgres_says(pg: tuple[Engine, Any], small_batches: bool) -> None:
    engine, connection = pg
    name = _create(engine, connection, EDGE_ROWS * 30)  # 180 rows: 3, then batches of at least 64
    try:
        expected = _expected(connection, engine.table_sql(name))
        columnar, types = _read(engine, name, small_batches=small_batches, jdbc_fetch_mode="columnar")
        assert _actual(columnar) == expected
        assert types["n"] == pa.decimal128(20, 6) and types["nu"] == pa.decimal128(38, 10)
        assert types["ts"] == pa.timestamp("ms") and types["tz"] == pa.timestamp("ms", "UTC")
        if small_batches:
            assert [b.num_rows for b in columnar] == [3, 64, 64, 49]
        values, _ = _read(engine, name, small_batches=small_batches, jdbc_fetch_mode="values")
        assert pa.Table.from_batches(values).schema == pa.Table.from_batches(columnar).schema
        assert _actual(values) == expected
    finally:
        connection.execute(f"DROP TABLE {engine.table_sql(name)}")


def _rows() -> st.SearchStrategy[list[tuple[Any, ...]]]:
    def nullable(s: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(st.none(), s)

    text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
    micros = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31))
    row = st.tuples(
        nullable(st.integers(-(2**15), 2**15 - 1)), nullable(st.integers(-(2**31), 2**31 - 1)),
        nullable(st.integers(-(2**63), 2**63 - 1)), nullable(st.floats(width=32)), nullable(st.floats()),
        nullable(st.decimals(min_value=Decimal("-1e14") + 1, max_value=Decimal("1e14") - 1, places=6,
                             allow_nan=False)),
        nullable(st.decimals(min_value=Decimal("-1e28") + 1, max_value=Decimal("1e28") - 1, places=10,
                             allow_nan=False)),
        nullable(st.booleans()), nullable(text), nullable(st.dates()), nullable(micros),
        nullable(micros.map(lambda d: d.replace(tzinfo=dt.UTC))), nullable(st.binary(max_size=20)))
    return st.lists(row, max_size=40)


@pytest.mark.integration
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(rows=_rows())
def test_random_postgres_rows_read_exactly(pg: tuple[Engine, Any], rows: list[tuple[Any, ...]]) -> None:
    engine, connection = pg
    name = _create(engine, connection, rows)
    try:
        batches, _ = _read(engine, name, small_batches=True)
        assert (_actual(batches) if batches else []) == _expected(connection, engine.table_sql(name))
    finally:
        connection.execute(f"DROP TABLE {engine.table_sql(name)}")


@pytest.mark.integration
def test_postgres_dates_before_year_one_are_read_as_postgres_counts_them(pg: tuple[Engine, Any]) -> None:
    """BC dates: the per-value text path cannot parse PostgreSQL's ``0044-03-15 BC``; typed reads can."""
    engine, connection = pg
    with engine.temporary([("k", "int32"), ("d", "date"), ("ts", "timestamp")], []) as name:
        table = engine.table_sql(name)
        connection.execute(f"INSERT INTO {table} VALUES (1, '0044-03-15 BC', '0044-03-15 12:00:00.5 BC'), "
                           "(2, '4713-01-01 BC', NULL)")
        expected = _expected_sql(connection, f"SELECT k, d - date '1970-01-01', "
                                 f"floor(extract(epoch from ts) * 1000)::bigint FROM {table} ORDER BY k")
        batches, _ = _read(engine, name, small_batches=False)
        table_read = pa.Table.from_batches(batches).sort_by("k")
        assert list(zip(table_read.column("k").to_pylist(), table_read.column("d").cast(pa.int32()).to_pylist(),
                        table_read.column("ts").cast(pa.int64()).to_pylist(), strict=True)) == expected


def _expected_sql(connection: Any, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in connection.execute(sql).fetchall()]


@pytest.mark.integration
@pytest.mark.parametrize(("kind", "value", "error"), [
    ("numeric", "'NaN'", r"column 'v': values cannot be read as decimal128\(38, 10\) \(.*NaN"),
    ("numeric", "1e30", r"column 'v': .*needs more than 38 digits"),
    ("numeric", "0.00000000001", r"column 'v': .*more than 10 digits after the decimal point.*default_scale"),
    ("date", "'infinity'", r"column 'v': values cannot be read as date32"),
    ("timestamp", "'-infinity'", r"column 'v': values cannot be read as timestamp\[ms\]"),
    ("timestamptz", "'infinity'", r"column 'v': values cannot be read as timestamp\[ms, tz=UTC\]"),
])
def test_values_that_do_not_fit_are_errors_naming_the_column(pg: tuple[Engine, Any], kind: str, value: str,
                                                             error: str) -> None:
    engine, connection = pg
    with engine.temporary([("k", "int32")], []) as name:
        table = engine.table_sql(name)
        connection.execute(f"ALTER TABLE {table} ADD COLUMN v {kind}")
        connection.execute(f"INSERT INTO {table} VALUES (1, NULL), (2, {value})")
        with LocalAthena(engine.env()) as athena, pytest.raises(SourceError, match=error):
            athena.scan(engine.athena_schema, name)


@pytest.mark.integration
def test_a_small_limit_reads_a_small_first_batch(pg: tuple[Engine, Any]) -> None:
    engine, connection = pg
    name = f"many_{uuid.uuid4().hex[:8]}"
    connection.execute(f"CREATE TABLE {engine.table_sql(name)} AS SELECT g AS id, 'row ' || g AS s "
                       "FROM generate_series(1, 50000) AS g")
    try:
        batches, _ = _read(engine, name, small_batches=False)
        sizes = [b.num_rows for b in batches]
        assert sizes[0] == JdbcAdapter.initial_fetch_rows and sum(sizes) == 50000
        ids = pa.Table.from_batches(batches).column("id").to_pylist()
        assert sorted(ids) == list(range(1, 50001))
    finally:
        connection.execute(f"DROP TABLE {engine.table_sql(name)}")


# ------------------------------------------------------------------------------------------ H2


@pytest.mark.integration
def test_h2_text_with_an_unpaired_surrogate_is_an_error(h2_db: Engine) -> None:
    """Java strings may hold half a UTF-16 pair; Arrow strings must be UTF-8: an error, never a '?'."""
    with h2_db.temporary([("k", "int32"), ("v", "text")], []) as name:
        table = h2_db.table_sql(name)
        h2_db.execute(f"INSERT INTO {table} VALUES (1, 'ok \U0001f600'), (2, 'bad ' || CHAR(55357) || '!')")
        with LocalAthena(h2_db.env()) as athena, \
                pytest.raises(SourceError, match=r"column 'v': .*unpaired UTF-16 surrogate \(U\+D83D\) at "
                                                 r"character 4"):
            athena.scan(h2_db.athena_schema, name)
        h2_db.execute(f"DELETE FROM {table} WHERE {h2_db.quote('k')} = 2")
        with LocalAthena(h2_db.env()) as athena:
            [[row]] = athena.scan(h2_db.athena_schema, name)
        assert row == {"k": 1, "v": "ok \U0001f600"}


@pytest.mark.integration
def test_h2_null_heavy_columns_and_every_kind(h2_db: Engine) -> None:
    """1,000 rows, most of them NULL in every column: bitmaps, and the values H2 computes for the rest."""
    name = f"NULLS_{uuid.uuid4().hex[:8]}".upper()
    table = h2_db.table_sql(name)
    h2_db.execute(f"CREATE TABLE {table} AS SELECT X AS K, "
                  "CASEWHEN(MOD(X, 7) = 0, CAST(X AS TINYINT), NULL) AS I1, "
                  "CASEWHEN(MOD(X, 5) = 0, CAST(X * 1.25 AS REAL), NULL) AS F4, "
                  "CASEWHEN(MOD(X, 3) = 0, MOD(X, 2) = 0, NULL) AS B, "
                  "CASEWHEN(MOD(X, 11) = 0, CAST(X / 8.0 AS NUMERIC(9, 3)), NULL) AS N, "
                  "CASEWHEN(MOD(X, 13) = 0, DATEADD(DAY, X, DATE '2000-01-01'), NULL) AS D, "
                  "CASEWHEN(MOD(X, 17) = 0, DATEADD(MILLISECOND, X * 1001, TIMESTAMP '2000-01-01 00:00:00'), "
                  "NULL) AS TS, "
                  "CASEWHEN(MOD(X, 19) = 0, CAST(X AS VARBINARY), NULL) AS BY, "
                  "CASEWHEN(MOD(X, 23) = 0, 'v' || X, NULL) AS V "
                  "FROM SYSTEM_RANGE(1, 125)")
    try:
        expected = h2_db.execute(
            f"SELECT K, I1, F4, B, CAST(N AS VARCHAR), DATEDIFF(DAY, DATE '1970-01-01', D), "
            f"DATEDIFF(MILLISECOND, TIMESTAMP '1970-01-01 00:00:00', TS), BY, V FROM {table} ORDER BY K")
        with LocalAthena(h2_db.env()) as athena:
            adapter = _adapter(athena)
            adapter.initial_fetch_rows = 5  # type: ignore[misc]
            adapter.target_batch_bytes = 100  # type: ignore[misc]
            rows = [r for split in athena.scan(h2_db.athena_schema, name.lower()) for r in split]
        assert len(rows) == 125
        got = []
        for r in sorted(rows, key=lambda r: r["k"]):
            got.append((r["k"], r["i1"], r["f4"], r["b"], None if r["n"] is None else str(r["n"]),
                        None if r["d"] is None else (r["d"] - dt.date(1970, 1, 1)).days,
                        None if r["ts"] is None else (r["ts"] - dt.datetime(1970, 1, 1)) // dt.timedelta(
                            milliseconds=1), r["by"], r["v"]))
        normalized = [tuple(bytes(v) if isinstance(v, bytes | bytearray) else v for v in row) for row in expected]
        assert got == normalized
    finally:
        h2_db.execute(f"DROP TABLE {table}")


# ------------------------------------------------------------------------------------------ without the helper


@pytest.mark.integration
def test_without_the_helper_values_are_read_one_by_one(h2_db: Engine, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("AFQ_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(jdbc_helper, "javac", lambda: None)
    monkeypatch.setattr(jdbc_helper, "_loaded", {})  # as in a process that has not loaded the class yet
    with h2_db.temporary([("k", "int32"), ("v", "text")], [(1, "a"), (2, None)]) as name:
        with caplog.at_level(logging.WARNING, logger="afq.jdbc"), LocalAthena(h2_db.env()) as athena:
            rows = athena.scan(h2_db.athena_schema, name)
        assert rows == [[{"k": 1, "v": "a"}, {"k": 2, "v": None}]]
        assert "reading JDBC values one at a time" in caplog.text and "no javac" in caplog.text
        with LocalAthena(h2_db.env(jdbc_fetch_mode="columnar")) as athena, \
                pytest.raises(ConfigurationError, match="jdbc_fetch_mode=columnar: no javac"):
            athena.scan(h2_db.athena_schema, name)
    assert not (tmp_path / "empty-cache").exists()


def test_the_helper_kinds_match_the_java_constants() -> None:
    """The kind numbers are declared twice (Java and Python): they must agree."""
    from adapters.jdbc import columnar as jdbc_columnar

    source = (jdbc_helper.SOURCE_DIR / "ColumnarReader.java").read_text()
    for name in ("INT64", "FLOAT64", "FLOAT32", "BOOL", "DECIMAL", "DATE32", "TIMESTAMP_MS", "TIMESTAMP_MS_TZ",
                 "BINARY", "UTF8", "LAYOUT_WIDTH"):
        assert f"public static final int {name} = {getattr(jdbc_columnar, name)};" in source, name
    assert os.path.basename(jdbc_helper.bundled_jar()) == jdbc_helper.jar_name()
