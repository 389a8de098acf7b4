"""Test data loaded into the fakesnow server through the real connector (shared by the Snowflake tests)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from tests.servers.fakesnow import FakeSnowflake

DATABASE = "AFQ_DB"
SCHEMA = "SALES"
ORDERS_ROWS = 2300  # several result chunks of tests.servers.fakesnow.CHUNK_ROWS rows
NAMES = ["alpha", "Beta", "gamma", "delta", "al_pha", "a%b", "", "zeta!", "Ωmega", "beta"]

ORDERS_DDL = """CREATE OR REPLACE TABLE ORDERS (
    ID NUMBER(10,0), QTY NUMBER(18,0), AMOUNT NUMBER(12,2), BIG NUMBER(38,0), PRICE FLOAT, NAME VARCHAR(40),
    FLAG BOOLEAN, D DATE, TS TIMESTAMP_NTZ(9), T TIME, V VARIANT)"""


def orders_rows() -> list[tuple[Any, ...]]:
    """Deterministic rows with NULLs, duplicates, negative numbers and sub-millisecond timestamps."""
    rng = random.Random(7)
    base = dt.datetime(2024, 1, 1)
    rows = []
    for i in range(ORDERS_ROWS):
        def maybe(value: Any, rate: float = 0.08) -> Any:
            return None if rng.random() < rate else value

        ts = base + dt.timedelta(seconds=rng.randrange(0, 86400 * 30), microseconds=rng.choice([0, 500, 999, 1000,
                                                                                                 123456]))
        rows.append((
            i,
            maybe(rng.randrange(-50, 50)),
            maybe(Decimal(rng.randrange(-100000, 100000)) / 100),
            maybe(rng.randrange(-(10**15), 10**15)),
            maybe(rng.choice([0.5, -1.25, 3.0, 1e10])),
            maybe(rng.choice(NAMES)),
            maybe(rng.random() < 0.5),
            maybe(dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(0, 60))),
            maybe(ts),
            maybe(dt.time(rng.randrange(24), rng.randrange(60), rng.randrange(60))),
            None,
        ))
    return rows


def _insert(cursor: Any, table: str, rows: list[tuple[Any, ...]], width: int) -> None:
    per_statement = 200
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        row_sql = "(" + ", ".join(["?"] * width) + ")"
        params = [v for row in chunk for v in row]
        cursor.execute(f"INSERT INTO {table} VALUES " + ", ".join([row_sql] * len(chunk)), params)


_loaded: set[int] = set()


def load(server: FakeSnowflake) -> None:
    """Create the test database once per server (test modules share the session's server)."""
    import snowflake.connector

    if server.port in _loaded:
        return
    _loaded.add(server.port)

    with snowflake.connector.connect(**server.connect_kwargs()) as connection:
        cursor = connection.cursor()
        for sql in (f"CREATE DATABASE IF NOT EXISTS {DATABASE}", f"CREATE SCHEMA IF NOT EXISTS {DATABASE}.{SCHEMA}",
                    f"USE SCHEMA {DATABASE}.{SCHEMA}", ORDERS_DDL):
            cursor.execute(sql)
        _insert(cursor, "ORDERS", [(*r[:-1], None) for r in orders_rows()], 11)
        cursor.execute("UPDATE ORDERS SET V = PARSE_JSON('{\"k\": 1}') WHERE ID % 10 = 3")
        cursor.execute("CREATE OR REPLACE VIEW SMALL_ORDERS AS SELECT ID, NAME FROM ORDERS WHERE ID < 100")
        cursor.execute("CREATE OR REPLACE MATERIALIZED VIEW POSITIVE_QTY AS SELECT ID, QTY FROM ORDERS WHERE QTY > 0")
        cursor.execute('CREATE OR REPLACE TABLE "MixedCase" ("Id" NUMBER(5,0), "Label" TEXT)')
        cursor.execute('INSERT INTO "MixedCase" VALUES (1, \'one\'), (2, \'two\')')
        cursor.execute("""CREATE OR REPLACE TABLE TYPES (
            N_SMALL NUMBER(9,0), N_18 NUMBER(18,0), N_19 NUMBER(19,0), N_38 NUMBER(38,0), N_DEC NUMBER(10,3),
            N_INT INTEGER, F FLOAT, DBL DOUBLE, S TEXT, VC VARCHAR(10), B BINARY, BO BOOLEAN, D DATE, T TIME,
            TS_NTZ TIMESTAMP_NTZ, TS_TZ TIMESTAMP_TZ, V VARIANT, O OBJECT, A ARRAY)""")
        cursor.execute("""INSERT INTO TYPES SELECT 123456789, 123456789012345678, 1234567890123456789,
            1234567890123456789, 1234567.125, 42, 1.5, -2.25, 'text', 'short', TO_BINARY('CAFE', 'HEX'), TRUE,
            '2024-02-29', '13:14:15', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.123+01:00',
            PARSE_JSON('{"a": [1, 2]}'), OBJECT_CONSTRUCT('k', 'v'), ARRAY_CONSTRUCT(1, 'x')""")
        cursor.execute("INSERT INTO TYPES (N_SMALL) VALUES (NULL)")
        cursor.execute("CREATE SCHEMA IF NOT EXISTS " + DATABASE + ".EMPTY_SCHEMA")
        cursor.execute("CREATE SCHEMA IF NOT EXISTS " + DATABASE + ".MANY")
        cursor.execute("USE SCHEMA " + DATABASE + ".MANY")
        for i in range(7):
            cursor.execute(f"CREATE OR REPLACE TABLE T{i} (X INT)")
        cursor.execute("CREATE OR REPLACE VIEW V0 AS SELECT X FROM T0")
