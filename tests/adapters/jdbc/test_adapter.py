"""The generic JDBC adapter: configuration, type mapping, typed reads, credentials, errors and key-range splits,
against the real PostgreSQL cluster and embedded H2."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import uuid
from decimal import Decimal
from pathlib import Path

import boto3
import pyarrow as pa
import pytest

from adapters.jdbc.adapter import JdbcAdapter
from adapters.jdbc.dialects.generic import JdbcColumnInfo, JdbcDialect, Types, jdbc_type_rule
from adapters.jdbc.dialects.h2 import H2Dialect
from adapters.jdbc.dialects.lookup import dialect_for
from adapters.jdbc.dialects.postgres import PostgresDialect
from adapters.jdbc.driver import expand_jars
from adapters.sql.keyrange import key_ranges
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.errors import ConfigurationError, InvalidRequest, SecretError, SourceError
from connector.protocol.constraints import Constraints
from tests.servers.ports import free_port
from tests.servers.postgres import PASSWORD, PASSWORD_USER, PostgresServer
from tests.support.athena import LocalAthena
from tests.support.sql_engines import Engine


def adapter(url: str, **env: str) -> JdbcAdapter:
    return JdbcAdapter(parse_connection_string(f"jdbc://{url}", env.pop("catalog", "default")),
                       Settings.from_env(env))


# ------------------------------------------------------------------------------------------ configuration


def test_dialect_follows_the_subprotocol() -> None:
    assert isinstance(dialect_for("jdbc:postgresql://h/db"), PostgresDialect)
    assert isinstance(dialect_for("jdbc:h2:mem:x"), H2Dialect)
    mysql = dialect_for("jdbc:mysql://h/db")
    assert type(mysql) is JdbcDialect and mysql.sqlglot().__class__.__name__ == "MySQL"
    assert not mysql.can_compare(pa.string(), ordering=False)  # collations unknown: strings stay in Athena's hands
    with pytest.raises(ConfigurationError, match=r"jdbc://jdbc:<subprotocol>:"):
        dialect_for("postgresql://h/db")


def test_driver_defaults_and_overrides() -> None:
    pg = adapter("jdbc:postgresql://h/db")
    assert (pg.driver_class, pg.jar_spec) == ("org.postgresql.Driver", "/usr/share/java/postgresql.jar")
    h2 = adapter("jdbc:h2:mem:x", jdbc_driver_jars="/opt/h2.jar")
    assert (h2.driver_class, h2.jar_spec) == ("org.h2.Driver", "/opt/h2.jar")
    mux = adapter("jdbc:mysql://h/db", catalog="sales", jdbc_driver_class="x.Generic",
                  sales_jdbc_driver_class="com.mysql.cj.jdbc.Driver", sales_jdbc_driver_jars="/opt/mysql.jar")
    assert (mux.driver_class, mux.jar_spec) == ("com.mysql.cj.jdbc.Driver", "/opt/mysql.jar")
    with pytest.raises(ConfigurationError, match="jdbc_driver_class"):
        adapter("jdbc:db2://h/db")
    with pytest.raises(ConfigurationError, match="jdbc_fetch_size='0'"):
        adapter("jdbc:h2:mem:x", jdbc_fetch_size="0")
    with pytest.raises(ConfigurationError, match="default_scale='x'"):
        adapter("jdbc:h2:mem:x", default_scale="x")


def test_jar_lists(tmp_path: Path) -> None:
    (tmp_path / "a.jar").write_bytes(b"")
    (tmp_path / "b.jar").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("")
    assert expand_jars(str(tmp_path)) == [str(tmp_path / "a.jar"), str(tmp_path / "b.jar")]
    assert expand_jars(f"{tmp_path}/b*.jar:{tmp_path / 'a.jar'}") == [str(tmp_path / "b.jar"), str(tmp_path / "a.jar")]
    with pytest.raises(ConfigurationError, match=r"'/nowhere/driver.jar' does not exist"):
        expand_jars("/nowhere/driver.jar")


def test_missing_driver_jar_is_reported_on_first_use() -> None:
    broken = adapter("jdbc:h2:mem:x", jdbc_driver_jars="/nowhere/h2.jar")
    with pytest.raises(ConfigurationError, match=r"/nowhere/h2\.jar"):
        broken.connect()


@pytest.mark.parametrize(("code", "name", "precision", "scale", "expected"), [
    (Types.BIT, "bit", 1, 0, pa.bool_()),
    (Types.BIT, "bit", 8, 0, pa.string()),
    (Types.BOOLEAN, "BOOLEAN", None, None, pa.bool_()),
    (Types.TINYINT, "TINYINT", 3, 0, pa.int8()),
    (Types.TINYINT, "TINYINT UNSIGNED", 3, 0, pa.int16()),
    (Types.INTEGER, "INT UNSIGNED", 10, 0, pa.int64()),
    (Types.BIGINT, "BIGINT UNSIGNED", 20, 0, pa.decimal128(20, 0)),
    (Types.REAL, "REAL", 24, 0, pa.float32()),
    (Types.FLOAT, "FLOAT", 53, 0, pa.float64()),
    (Types.NUMERIC, "NUMERIC", 12, 3, pa.decimal128(12, 3)),
    (Types.NUMERIC, "numeric", 131089, 0, pa.decimal128(38, 10)),
    (Types.DECIMAL, "DECIMAL", 50, 4, pa.decimal128(38, 4)),
    (Types.NVARCHAR, "NVARCHAR", 10, 0, pa.string()),
    (Types.CLOB, "CLOB", None, None, pa.string()),
    (Types.DATE, "DATE", None, None, pa.date32()),
    (Types.TIME, "TIME", None, None, pa.string()),
    (Types.TIMESTAMP, "DATETIME", None, None, pa.timestamp("ms")),
    (Types.TIMESTAMP_WITH_TIMEZONE, "TIMESTAMPTZ", None, None, pa.timestamp("ms", "UTC")),
    (Types.BLOB, "BLOB", None, None, pa.binary()),
    (Types.OTHER, "geometry", None, None, pa.string()),
])
def test_generic_type_mapping(code: int, name: str, precision: int | None, scale: int | None,
                              expected: pa.DataType) -> None:
    assert jdbc_type_rule()(JdbcColumnInfo("c", name, precision, scale, jdbc_type=code)) == expected


def test_unknown_types_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="afq"):
        assert jdbc_type_rule()(JdbcColumnInfo("shape", "geometry", jdbc_type=Types.OTHER)) == pa.string()
    assert "'shape'" in caplog.text and "geometry" in caplog.text


def test_key_ranges_cover_every_integer_once() -> None:
    assert key_ranges(1, 10, 3) == [(None, 5), (5, 9), (9, None)]
    assert key_ranges(5, 5, 4) == [(None, None)]
    assert key_ranges(-10, 9, 2) == [(None, 0), (0, None)]
    assert len(key_ranges(0, 10**12, 1000)) == 1000


# ------------------------------------------------------------------------------------------ PostgreSQL types

PG_TYPES = """
CREATE TABLE {table} (
  i2 smallint, i4 integer, i8 bigint, s4 serial, f4 real, f8 double precision, n numeric(20, 6), nu numeric,
  m money, b boolean, t text, v varchar(5), c char(3), d date, ts timestamp(6), tz timestamptz, by bytea,
  u uuid, j jsonb, a integer[], tm time, iv interval, bt bit(3)
)"""


@pytest.mark.integration
def test_postgres_types_arrive_typed(postgres_db: Engine) -> None:
    table = postgres_db.table_sql("types")
    postgres_db.execute(f"DROP TABLE IF EXISTS {table}")
    postgres_db.execute(PG_TYPES.format(table=table))
    postgres_db.execute(
        f"INSERT INTO {table} VALUES (-32768, 2147483647, -9223372036854775808, DEFAULT, 1.5, 0.1, "
        "12345678901234.123456, 1234567890.0123456789, 12.34, true, 'héllo ''x''', 'abc', 'ab', '0001-01-01', "
        "'1969-12-31 23:59:59.999999', '2020-01-01 12:00:00.123456+05:30', '\\x00ff', "
        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"k\": [1]}', '{1,2}', '13:14:15', '1 day', B'101')")
    postgres_db.execute(f"INSERT INTO {table} (s4) VALUES (DEFAULT)")
    with LocalAthena(postgres_db.env()) as athena:
        schema = athena.table(postgres_db.athena_schema, "types").logical_schema()
        # The driver switches to binary transfer once a statement has run a few times (prepareThreshold):
        # values must read the same either way.
        first = athena.scan(postgres_db.athena_schema, "types")
        for _ in range(7):
            assert athena.scan(postgres_db.athena_schema, "types") == first
        assert {f.name: f.type for f in schema} == {
            "i2": pa.int16(), "i4": pa.int32(), "i8": pa.int64(), "s4": pa.int32(), "f4": pa.float32(),
            "f8": pa.float64(), "n": pa.decimal128(20, 6), "nu": pa.decimal128(38, 10), "m": pa.string(),
            "b": pa.bool_(), "t": pa.string(), "v": pa.string(), "c": pa.string(), "d": pa.date32(),
            "ts": pa.timestamp("ms"), "tz": pa.timestamp("ms", "UTC"), "by": pa.binary(), "u": pa.string(),
            "j": pa.string(), "a": pa.string(), "tm": pa.string(), "iv": pa.string(), "bt": pa.string()}
        rows = [r for split in athena.scan(postgres_db.athena_schema, "types") for r in split]
    full, empty = sorted(rows, key=lambda r: r["i2"] is None)
    assert full == {
        "i2": -32768, "i4": 2147483647, "i8": -9223372036854775808, "s4": 1, "f4": 1.5, "f8": 0.1,
        "n": Decimal("12345678901234.123456"), "nu": Decimal("1234567890.0123456789"), "m": "$12.34", "b": True,
        "t": "héllo 'x'", "v": "abc", "c": "ab ", "d": dt.date(1, 1, 1),
        "ts": dt.datetime(1969, 12, 31, 23, 59, 59, 999000),
        "tz": dt.datetime(2020, 1, 1, 6, 30, 0, 123000, tzinfo=dt.UTC), "by": b"\x00\xff",
        "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "j": '{"k": [1]}', "a": "{1,2}", "tm": "13:14:15",
        "iv": "1 day", "bt": "101"}
    assert empty["s4"] == 2 and all(v is None for k, v in empty.items() if k != "s4")
    postgres_db.execute(f"DROP TABLE {table}")


@pytest.mark.integration
def test_decimal_that_does_not_fit_is_an_error_naming_the_column(postgres_db: Engine) -> None:
    with postgres_db.temporary([("x", "int64")], [(1,)]) as table, LocalAthena(postgres_db.env()) as athena:
        postgres_db.execute(f"ALTER TABLE {postgres_db.table_sql(table)} ADD COLUMN nu numeric")
        postgres_db.execute(f"UPDATE {postgres_db.table_sql(table)} SET nu = 1.00000000001")
        with pytest.raises(SourceError, match="column 'nu'"):
            athena.scan(postgres_db.athena_schema, table)


@pytest.mark.integration
def test_h2_types_arrive_typed(h2_db: Engine) -> None:
    table = h2_db.table_sql("TYPES")
    h2_db.execute(f"DROP TABLE IF EXISTS {table}")
    h2_db.execute(f"CREATE TABLE {table} (I TINYINT, N NUMERIC(9, 3), F REAL, D DOUBLE PRECISION, B BOOLEAN, "
                  "V VARCHAR(10), DT DATE, TS TIMESTAMP(9), TZ TIMESTAMP(3) WITH TIME ZONE, BY VARBINARY(4), "
                  "U UUID, T TIME)")
    h2_db.execute(f"INSERT INTO {table} VALUES (-128, 123456.789, 0.5, 1e300, FALSE, 'x', DATE '2024-02-29', "
                  "TIMESTAMP '2024-02-29 23:59:59.999999999', TIMESTAMP WITH TIME ZONE '2024-01-01 00:00:00+01:00', "
                  "X'0102', '00000000-0000-0000-0000-000000000001', TIME '01:02:03')")
    with LocalAthena(h2_db.env()) as athena:
        schema = athena.table(h2_db.athena_schema, "types").logical_schema()
        assert [f.type for f in schema] == [
            pa.int8(), pa.decimal128(9, 3), pa.float32(), pa.float64(), pa.bool_(), pa.string(), pa.date32(),
            pa.timestamp("ms"), pa.timestamp("ms", "UTC"), pa.binary(), pa.string(), pa.string()]
        [[row]] = athena.scan(h2_db.athena_schema, "types")
    assert list(row.values()) == [
        -128, Decimal("123456.789"), 0.5, 1e300, False, "x", dt.date(2024, 2, 29),
        dt.datetime(2024, 2, 29, 23, 59, 59, 999000), dt.datetime(2023, 12, 31, 23, tzinfo=dt.UTC), b"\x01\x02",
        "00000000-0000-0000-0000-000000000001", "01:02:03"]
    h2_db.execute(f"DROP TABLE {table}")


@pytest.mark.integration
def test_large_results_stream_in_many_batches(postgres_db: Engine) -> None:
    table = postgres_db.table_sql("many")
    postgres_db.execute(f"DROP TABLE IF EXISTS {table}")
    postgres_db.execute(f"CREATE TABLE {table} AS SELECT g AS id, round(g / 3.0, 4) AS q, 'row ' || g AS s "
                        "FROM generate_series(1, 30000) AS g")
    try:
        with LocalAthena(postgres_db.env(jdbc_fetch_size="1000")) as athena:
            adapter = athena.service.pool.get(athena.catalog)
            assert isinstance(adapter, JdbcAdapter)
            adapter.target_batch_bytes = 64 * 1024  # type: ignore[misc]
            [rows] = athena.scan(postgres_db.athena_schema, "many")
        assert [r["id"] for r in rows] == list(range(1, 30001))
        assert rows[-1] == {"id": 30000, "q": Decimal("10000.0000000000"), "s": "row 30000"}
    finally:
        postgres_db.execute(f"DROP TABLE {table}")


# ------------------------------------------------------------------------------------------ drivers and JVM


@pytest.mark.integration
def test_both_drivers_work_in_one_jvm(postgres_db: Engine, h2_db: Engine) -> None:
    for engine in (postgres_db, h2_db):
        with LocalAthena(engine.env()) as athena:
            assert engine.athena_schema in athena.schemas()


# ------------------------------------------------------------------------------------------ credentials


def _secret(name: str, value: dict[str, str]) -> str:
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(value))
    return name


@pytest.mark.integration
def test_secret_credentials_against_a_password_checking_server(aws_env: str, postgres_server: PostgresServer,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    good = _secret(f"afq/pg/{uuid.uuid4().hex}", {"Username": PASSWORD_USER, "PASSWORD": PASSWORD, "host": "x"})
    bad = _secret(f"afq/pg/{uuid.uuid4().hex}", {"username": PASSWORD_USER, "password": "not-" + PASSWORD})
    url = postgres_server.url("postgres")
    caplog.set_level(logging.DEBUG)
    with LocalAthena({"default": f"jdbc://{url}?${{{good}}}"}) as athena:
        assert "public" in athena.schemas()
    with LocalAthena({"default": f"jdbc://{url}?ssl=false&${{{bad}}}"}) as athena, \
            pytest.raises(SourceError, match="password authentication failed") as failure:
        athena.schemas()
    assert PASSWORD not in str(failure.value)
    missing = f"afq/missing/{uuid.uuid4().hex}"
    with LocalAthena({"default": f"jdbc://{url}?${{{missing}}}"}) as athena, \
            pytest.raises(SecretError, match=f"cannot read secret '{missing}'.*ResourceNotFoundException"):
        athena.schemas()
    assert PASSWORD not in caplog.text


@pytest.mark.integration
def test_inline_password_never_reaches_an_error(postgres_server: PostgresServer) -> None:
    url = f"jdbc:postgresql://127.0.0.1:{free_port()}/db?user=u&password=Hunter2Secret"
    with LocalAthena({"default": f"jdbc://{url}"}) as athena, pytest.raises(SourceError) as failure:
        athena.schemas()
    message = str(failure.value)
    assert "Hunter2Secret" not in message and "password=***" in message and "refused" in message.lower()


# ------------------------------------------------------------------------------------------ key-range splits


@pytest.fixture
def keyed_table(postgres_db: Engine) -> str:
    name = f"keyed_{uuid.uuid4().hex[:6]}"
    table = postgres_db.table_sql(name)
    postgres_db.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, other integer, v text)")
    postgres_db.execute(f"INSERT INTO {table} SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE g END, 'v' || g "
                        "FROM generate_series(-50, 949) AS g")
    yield name
    postgres_db.execute(f"DROP TABLE {table}")


@pytest.mark.integration
def test_key_range_splits_on_the_primary_key(postgres_db: Engine, keyed_table: str) -> None:
    with LocalAthena(postgres_db.env(key_range_splits="4")) as athena:
        splits = athena.scan(postgres_db.athena_schema, keyed_table)
        assert len(splits) == 4 and all(splits)
        ids = [r["id"] for s in splits for r in s]
        assert sorted(ids) == list(range(-50, 950))  # every row once
        spans = [(min(r["id"] for r in s), max(r["id"] for r in s)) for s in splits]
        assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))
        props = [s.properties for s in athena.splits_seen]
        assert props[0]["key_column"] == "id" and props[0]["key_low"] == "" and props[-1]["key_high"] == ""

        # pushdown and key ranges together
        limited = athena.scan(postgres_db.athena_schema, keyed_table, Constraints(limit=3))
        assert [len(s) for s in limited] == [3, 3, 3, 3]


@pytest.mark.integration
def test_key_range_splits_on_a_nullable_column(postgres_db: Engine, keyed_table: str) -> None:
    with LocalAthena(postgres_db.env(key_range_splits="3", key_range_column="OTHER")) as athena:
        splits = athena.scan(postgres_db.athena_schema, keyed_table)
        assert len(splits) == 3
        assert sorted(r["id"] for s in splits for r in s) == list(range(-50, 950))
        assert sum(r["other"] is None for r in splits[0]) == 100  # NULL keys go with the first range
        assert athena.splits_seen[0].properties["key_column"] == "other"


@pytest.mark.integration
def test_key_range_splits_fall_back_to_one_split(postgres_db: Engine) -> None:
    with postgres_db.temporary([("v", "text")], [("a",), ("b",)]) as table, \
            LocalAthena(postgres_db.env(key_range_splits="8")) as athena:
        assert [len(s) for s in athena.scan(postgres_db.athena_schema, table)] == [2]  # no integer key


@pytest.mark.integration
def test_tampered_split_properties_are_rejected(postgres_db: Engine, keyed_table: str) -> None:
    from connector.protocol.block import SchemaMessage
    from connector.protocol.messages import Split, TableName

    with LocalAthena(postgres_db.env()) as athena:
        message = athena.table(postgres_db.athena_schema, keyed_table)
        name = TableName(postgres_db.athena_schema, keyed_table)
        for properties, error in (({"key_column": "v", "key_low": "1"}, "not an integer column"),
                                  ({"key_column": "id", "key_low": "1; DROP TABLE x"}, "malformed key bound"),
                                  ({"key_column": "nope", "key_low": "1"}, "'nope'")):
            with pytest.raises(InvalidRequest, match=error):
                athena.read(name, SchemaMessage.of_logical(message.logical_schema()), Split(None, None, properties),
                            Constraints())

