"""H2 in Oracle mode, in-process through JPype + jaydebeapi: a real engine that executes generated Oracle SQL.

No Oracle server can run here; H2's ``MODE=Oracle;DEFAULT_NULL_ORDERING=HIGH`` understands Oracle's syntax
(FETCH FIRST, ROWNUM, TO_TIMESTAMP with Oracle formats, MOD, TRUNC, ORA_HASH, ESCAPE) and treats '' as NULL
like Oracle, so the pushdown property test runs the SQL the adapter generates instead of only parsing it.

The JVM can start only once per process and other tests (the JDBC adapter's) share it: it is started only if it
is not running yet, with a class path that holds both the H2 and the PostgreSQL drivers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import pytest

H2_JAR = "/usr/share/java/h2.jar"
POSTGRESQL_JAR = "/usr/share/java/postgresql.jar"
_counter = itertools.count()


def start_jvm() -> None:
    import jpype

    if not jpype.isJVMStarted():
        jpype.startJVM(classpath=[H2_JAR, POSTGRESQL_JAR], convertStrings=False)


class H2:
    """One in-memory H2 database in Oracle mode, with typed reads and writes (jaydebeapi's are lossy)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection  # jaydebeapi connection; .jconn is the java.sql.Connection
        self.jconn = connection.jconn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        statement = self.jconn.prepareStatement(sql)
        try:
            self._bind(statement, params)
            statement.execute()
        finally:
            statement.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        statement = self.jconn.prepareStatement(sql)
        try:
            self._bind(statement, params)
            results = statement.executeQuery()
            try:
                meta = results.getMetaData()
                n = int(meta.getColumnCount())
                kinds = [str(meta.getColumnTypeName(i + 1)).upper() for i in range(n)]
                rows = []
                while results.next():
                    rows.append(tuple(_read(results, i + 1, kinds[i]) for i in range(n)))
                return rows
            finally:
                results.close()
        finally:
            statement.close()

    def _bind(self, statement: Any, params: Sequence[Any]) -> None:
        import jpype

        types = jpype.JClass("java.sql.Types")
        for i, value in enumerate(params, 1):
            if value is None:
                statement.setNull(i, types.NULL)
            elif isinstance(value, bool):
                statement.setBoolean(i, value)
            elif isinstance(value, int):
                statement.setLong(i, value)
            elif isinstance(value, float):
                statement.setDouble(i, value)
            elif isinstance(value, Decimal):
                statement.setBigDecimal(i, jpype.JClass("java.math.BigDecimal")(str(value)))
            elif isinstance(value, str):
                statement.setString(i, value)
            elif isinstance(value, dt.datetime):
                local = jpype.JClass("java.time.LocalDateTime").of(
                    value.year, value.month, value.day, value.hour, value.minute, value.second,
                    value.microsecond * 1000)
                statement.setTimestamp(i, jpype.JClass("java.sql.Timestamp").valueOf(local))
            elif isinstance(value, dt.date):
                local_date = jpype.JClass("java.time.LocalDate").of(value.year, value.month, value.day)
                statement.setDate(i, jpype.JClass("java.sql.Date").valueOf(local_date))
            elif isinstance(value, bytes):
                statement.setBytes(i, value)
            else:
                raise TypeError(f"cannot bind {type(value).__name__} to H2")


def _read(results: Any, i: int, kind: str) -> Any:
    if kind in ("NUMERIC", "DECIMAL", "DECFLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT"):
        value = results.getBigDecimal(i)
        if value is None:
            return None
        number = Decimal(str(value.toPlainString()))
        return number if kind in ("NUMERIC", "DECIMAL", "DECFLOAT") else int(number)
    if kind in ("DOUBLE PRECISION", "DOUBLE", "REAL", "FLOAT"):
        value = results.getObject(i)
        return None if value is None else float(value)
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        stamp = results.getTimestamp(i)
        if stamp is None:
            return None
        local = stamp.toLocalDateTime()
        return dt.datetime(int(local.getYear()), int(local.getMonthValue()), int(local.getDayOfMonth()),
                           int(local.getHour()), int(local.getMinute()), int(local.getSecond()),
                           int(local.getNano()) // 1000)
    if kind == "BOOLEAN":
        value = results.getObject(i)
        return None if value is None else bool(value)
    value = results.getString(i)
    return None if value is None else str(value)


@pytest.fixture(scope="session")
def h2_jvm() -> None:
    if not os.path.exists(H2_JAR):
        pytest.skip(f"{H2_JAR} is not installed (apt-get install libh2-java)")
    try:
        import jaydebeapi  # noqa: F401
        import jpype  # noqa: F401
    except ImportError:
        pytest.skip("JPype1 and jaydebeapi are not installed")
    start_jvm()


@pytest.fixture
def h2_oracle(h2_jvm: None) -> Iterator[H2]:
    """A fresh in-memory H2 database in Oracle mode for one test (dropped when its connection closes)."""
    import jaydebeapi

    name = f"afq_oracle_{os.getpid()}_{next(_counter)}"
    connection = jaydebeapi.connect("org.h2.Driver", f"jdbc:h2:mem:{name};MODE=Oracle;DEFAULT_NULL_ORDERING=HIGH",
                                    ["sa", ""], H2_JAR)
    try:
        yield H2(connection)
    finally:
        connection.close()
