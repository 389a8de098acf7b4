"""End to end on PostgreSQL through the generic JDBC adapter: ``afq query`` against running the SQL directly.

Runs once the ``jdbc`` engine (adapters.jdbc.adapter) and a ``postgres_server`` fixture exist in the checkout; skips
otherwise. The fixture is expected to expose ``jdbc_url`` (``jdbc:postgresql://host:port/db?user=...``) and,
optionally, ``connect()`` returning a DB-API connection (else the PostgreSQL JDBC driver is used directly
through jaydebeapi). The demo data is loaded into PostgreSQL, and a join across a PostgreSQL catalog and a
SQLite catalog is checked too.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.local.test_query import CASES, afq, normalize

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(importlib.util.find_spec("adapters.jdbc.adapter") is None,
                                 reason="the jdbc engine (adapters.jdbc.adapter) is not merged yet")]

TABLES = {
    "customers": 'CREATE TABLE customers (id BIGINT PRIMARY KEY, name TEXT NOT NULL, region TEXT NOT NULL, '
                 'signup_date DATE, vip BOOLEAN, "Email Address" TEXT)',
    "orders": "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, "
              "amount NUMERIC(12, 2) NOT NULL, ordered_at TIMESTAMP NOT NULL, status TEXT NOT NULL, note TEXT)",
}


CASTS = {"customers": ["BIGINT", "TEXT", "TEXT", "DATE", "BOOLEAN", "TEXT"],
         "orders": ["BIGINT", "BIGINT", "NUMERIC(12, 2)", "TIMESTAMP", "TEXT", "TEXT"]}


def _commit(connection: Any) -> None:
    jconn = getattr(connection, "jconn", None)  # jaydebeapi: JDBC connections start in autocommit mode
    if jconn is None or not jconn.getAutoCommit():
        connection.commit()


def _paramstyle(connection: Any) -> str:
    module = sys.modules.get(type(connection).__module__.split(".")[0])
    return str(getattr(module, "paramstyle", "qmark"))


@pytest.fixture
def postgres(request: pytest.FixtureRequest) -> Any:
    try:
        server = request.getfixturevalue("postgres_server")
    except pytest.FixtureLookupError:
        pytest.skip("no postgres_server fixture in this checkout")
    if not hasattr(server, "jdbc_url"):
        pytest.skip("the postgres_server fixture exposes no jdbc_url")
    return server


def _connect(server: Any) -> Any:
    if hasattr(server, "connect"):
        return server.connect()
    import jaydebeapi

    from adapters.jdbc.driver import start_jvm

    start_jvm()  # the process's one JVM, with every installed driver jar (H2 tests run in this process too)
    return jaydebeapi.connect("org.postgresql.Driver", server.jdbc_url, jars="/usr/share/java/postgresql.jar")


@pytest.fixture
def pg_catalogs(postgres: Any, lambda_env: Callable[..., None], demo_db: Path) -> Iterator[Any]:
    source = sqlite3.connect(demo_db)
    connection = _connect(postgres)
    try:
        cursor = connection.cursor()
        for name, ddl in TABLES.items():
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(ddl)
            rows = source.execute(f"SELECT * FROM {name}").fetchall()
            mark = "?" if _paramstyle(connection) == "qmark" else "%s"
            marks = ", ".join(f"CAST({mark} AS {t})" for t in CASTS[name])
            if name == "customers":
                rows = [(*r[:4], bool(r[4]), r[5]) for r in rows]
            cursor.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
        _commit(connection)
        lambda_env(pg_connection_string=f"jdbc://{postgres.jdbc_url}",
                   shop_connection_string=f"sqlite://jdbc:sqlite:{demo_db}")
        yield connection
    finally:
        source.close()
        connection.close()


# Athena's avg of a DECIMAL(12,2) is a DECIMAL(12,2) rounded half up: PostgreSQL's exact numeric avg, rounded.
PG_CASES = [(a.replace("shop.main.", "pg.public."),
             a.replace("shop.main.", "").replace('"email address"', '"Email Address"')
             .replace("avg(amount)", "round(avg(amount), 2)"), ordered)
            for a, _, ordered in CASES if "support.main" not in a and "TABLE(" not in a and "big_orders" not in a]
PG_CASES.append(("SELECT c.region, count(*) FROM pg.public.orders o JOIN shop.main.customers c "
                 "ON c.id = o.customer_id WHERE o.amount > 900 GROUP BY c.region ORDER BY c.region",
                 "SELECT c.region, count(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
                 "WHERE o.amount > 900 GROUP BY c.region ORDER BY c.region", True))


@pytest.mark.parametrize(("athena", "native", "ordered"), PG_CASES, ids=[c[0][:60] for c in PG_CASES])
def test_query_matches_postgresql(capsys: pytest.CaptureFixture[str], pg_catalogs: Any, athena: str, native: str,
                                  ordered: bool) -> None:
    code, rows, err = afq(capsys, "--verify", athena)
    assert code == 0, err
    assert "FINDING" not in err
    got = [tuple(normalize(v) for v in row.values()) for row in rows]
    cursor = pg_catalogs.cursor()
    cursor.execute(native)
    expected = [tuple(normalize(str(v) if hasattr(v, "isoformat") else v) for v in row) for row in cursor.fetchall()]
    if not ordered:
        got, expected = sorted(got, key=repr), sorted(expected, key=repr)
    assert got == expected
