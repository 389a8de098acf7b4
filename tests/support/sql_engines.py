"""The three real engines the SQL framework is tested on, behind one small interface for tests.

``Engine.create`` makes a table from (source column name, kind) pairs and Python rows, with identifiers quoted
by sqlglot and every value bound as a parameter; ``env`` is the connector configuration that reaches it.
SQLite writes through ``sqlite3``; PostgreSQL and H2 through the JDBC adapter's own driver loading (one JVM
per process: the drivers come in through their own class loaders, so any start order works).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlglot import exp

from connector.config import Settings
from connector.connection import parse_connection_string

# kind -> DDL type per engine; kinds an engine lacks are simply not generated for it
DDL: dict[str, dict[str, str]] = {
    "sqlite": {"int64": "INTEGER", "int32": "INT", "float64": "REAL", "decimal": "DECIMAL(10,2)", "text": "TEXT",
               "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP", "binary": "BLOB"},
    "postgres": {"int64": "BIGINT", "int32": "INTEGER", "int16": "SMALLINT", "float64": "DOUBLE PRECISION",
                 "decimal": "NUMERIC(10,2)", "text": "TEXT", "varchar": "VARCHAR(20)", "char": "CHAR(4)",
                 "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ",
                 "binary": "BYTEA"},
    "h2": {"int64": "BIGINT", "int32": "INTEGER", "int16": "SMALLINT", "float64": "DOUBLE PRECISION",
           "decimal": "NUMERIC(10,2)", "text": "VARCHAR", "char": "CHAR(4)", "bool": "BOOLEAN", "date": "DATE",
           "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMP WITH TIME ZONE", "binary": "VARBINARY"},
}
SQLGLOT = {"sqlite": "sqlite", "postgres": "postgres", "h2": "postgres"}


@dataclass
class Engine:
    name: str
    url: str  # JDBC-form URL the connector uses (without the engine prefix)
    schema: str  # source schema the tests write to
    admin_url: str = ""  # JDBC URL with rights to create tables (PostgreSQL: the superuser)
    extra_env: dict[str, str] = field(default_factory=dict)
    _connection: Any = None

    @property
    def engine(self) -> str:
        return "sqlite" if self.name == "sqlite" else "jdbc"

    @property
    def connection_string(self) -> str:
        return f"{self.engine}://{self.url}"

    def env(self, **extra: str) -> dict[str, str]:
        return {"default": self.connection_string, **self.extra_env, **extra}

    @property
    def athena_schema(self) -> str:
        return self.schema.lower()

    @property
    def kinds(self) -> list[str]:
        return list(DDL[self.name])

    # ------------------------------------------------------------------------------------------ writing

    def connection(self) -> Any:
        if self._connection is None:
            if self.name == "sqlite":
                self._connection = sqlite3.connect(self.url.removeprefix("jdbc:sqlite:"), isolation_level=None)
            else:
                from adapters.jdbc.adapter import JdbcAdapter

                spec = parse_connection_string(f"jdbc://{self.admin_url or self.url}")
                self._connection = JdbcAdapter(spec, Settings.from_env({})).connect()
        return self._connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.connection().cursor()
        try:
            cursor.execute(sql, self._params(params)) if params else cursor.execute(sql)
            return [tuple(r) for r in cursor.fetchall()] if cursor.description else []
        finally:
            cursor.close()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        cursor = self.connection().cursor()
        try:
            if self.name == "sqlite":  # one transaction, not one fsync per row
                cursor.execute("BEGIN")
            cursor.executemany(sql, [self._params(r) for r in rows])
            if self.name == "sqlite":
                cursor.execute("COMMIT")
        finally:
            cursor.close()

    def _params(self, values: Sequence[Any]) -> list[Any]:
        if self.name == "sqlite":
            return [_sqlite_value(v) for v in values]
        from adapters.jdbc.driver import to_java

        return [to_java(v) for v in values]

    def table_sql(self, table: str) -> str:
        return exp.table_(exp.to_identifier(table, quoted=True),
                          db=exp.to_identifier(self.schema, quoted=True)).sql(SQLGLOT[self.name])

    def quote(self, name: str) -> str:
        return exp.to_identifier(name, quoted=True).sql(SQLGLOT[self.name])

    def create(self, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> None:
        ddl = DDL[self.name]
        body = ", ".join(f"{self.quote(name)} {ddl[kind]}" for name, kind in columns)
        self.execute(f"CREATE TABLE {self.table_sql(table)} ({body})")
        if rows:
            marks = ", ".join("?" for _ in columns)
            self.executemany(f"INSERT INTO {self.table_sql(table)} VALUES ({marks})", rows)

    def drop(self, table: str, *, view: bool = False) -> None:
        self.execute(f"DROP {'VIEW' if view else 'TABLE'} IF EXISTS {self.table_sql(table)}")

    @contextmanager
    def temporary(self, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
                  name: str | None = None) -> Iterator[str]:
        table = name or f"t_{uuid.uuid4().hex[:10]}"
        self.create(table, columns, rows)
        try:
            yield table
        finally:
            self.drop(table)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def sqlite_engine(directory: Path) -> Engine:
    path = directory / "engine.db"
    sqlite3.connect(path).close()
    return Engine("sqlite", f"jdbc:sqlite:{path}", "main")


def postgres_engine(server: Any, database: str) -> Engine:
    schema = "afq_test"
    engine = Engine("postgres", f"{server.url(database)}?user=postgres", schema)
    engine.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    return engine


def h2_engine(directory: Path) -> Engine:
    url = f"jdbc:h2:{directory / 'h2db'};USER=sa;PASSWORD="
    engine = Engine("h2", url, "AFQ_TEST")
    engine.execute('CREATE SCHEMA IF NOT EXISTS "AFQ_TEST"')
    return engine
