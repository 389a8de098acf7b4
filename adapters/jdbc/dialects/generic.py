"""What databases behind JDBC evaluate exactly as Athena does, and their types.

``JdbcDialect`` is the cautious default for any database (no string comparisons, floating-point arithmetic
and timestamp expressions left to the framework); ``PostgresDialect`` and ``H2Dialect`` know more. Types map by
type name first (per dialect), then by the ``java.sql.Types`` code a driver reports - no JVM needed for either.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from adapters.sql.dialect import SourceDialect
from adapters.sql.types import TIMESTAMP, TIMESTAMP_TZ, VARCHAR, ColumnInfo, TypeMap, decimal
from connector.engines import SettingValues
from connector.errors import ConfigurationError
from connector.pushdown.sql import SourceColumn, is_string

log = logging.getLogger("afq.jdbc")

_URL = re.compile(r"^jdbc:([A-Za-z][A-Za-z0-9_+-]*):", re.IGNORECASE)


# ------------------------------------------------------------------------------------------ java.sql.Types


class Types:
    """``java.sql.Types`` codes (constants of the JDBC specification), so type mapping needs no JVM."""

    BIT, TINYINT, SMALLINT, INTEGER, BIGINT = -7, -6, 5, 4, -5
    FLOAT, REAL, DOUBLE, NUMERIC, DECIMAL = 6, 7, 8, 2, 3
    CHAR, VARCHAR, LONGVARCHAR, NCHAR, NVARCHAR, LONGNVARCHAR, CLOB, NCLOB = 1, 12, -1, -15, -9, -16, 2005, 2011
    DATE, TIME, TIMESTAMP, TIME_WITH_TIMEZONE, TIMESTAMP_WITH_TIMEZONE = 91, 92, 93, 2013, 2014
    BINARY, VARBINARY, LONGVARBINARY, BLOB = -2, -3, -4, 2004
    BOOLEAN, NULL, OTHER, ARRAY, STRUCT, SQLXML = 16, 0, 1111, 2003, 2002, 2009


TEXT_CODES = frozenset({Types.CHAR, Types.VARCHAR, Types.LONGVARCHAR, Types.NCHAR, Types.NVARCHAR,
                         Types.LONGNVARCHAR, Types.CLOB, Types.NCLOB})
BINARY_CODES = frozenset({Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB})


@dataclass(frozen=True, slots=True)
class JdbcColumnInfo(ColumnInfo):
    """A column as ``DatabaseMetaData.getColumns`` or ``ResultSetMetaData`` describes it."""

    jdbc_type: int = Types.OTHER


def jdbc_type_rule(default_scale: int = 10) -> Callable[[ColumnInfo], pa.DataType]:
    """The generic mapping by ``java.sql.Types`` code, for type names a dialect does not list."""

    def rule(c: ColumnInfo) -> pa.DataType:
        code = getattr(c, "jdbc_type", Types.OTHER)
        unsigned = "UNSIGNED" in c.type_name.upper()
        size = c.precision or 0
        if code in (Types.BOOLEAN,) or (code == Types.BIT and size <= 1):
            return pa.bool_()
        if code == Types.TINYINT:
            return pa.int16() if unsigned else pa.int8()
        if code == Types.SMALLINT:
            return pa.int32() if unsigned else pa.int16()
        if code == Types.INTEGER:
            return pa.int64() if unsigned else pa.int32()
        if code == Types.BIGINT:
            return decimal(20, 0) if unsigned else pa.int64()
        if code == Types.REAL:
            return pa.float32()
        if code in (Types.FLOAT, Types.DOUBLE):
            return pa.float64()
        if code in (Types.NUMERIC, Types.DECIMAL):
            if size <= 0 or size > 1000:  # no declared precision (PostgreSQL reports 131089)
                return pa.decimal128(38, default_scale)
            return decimal(size, c.scale or 0)
        if code in TEXT_CODES:
            return VARCHAR
        if code == Types.DATE:
            return pa.date32()
        if code == Types.TIMESTAMP:
            return TIMESTAMP
        if code == Types.TIMESTAMP_WITH_TIMEZONE:
            return TIMESTAMP_TZ
        if code in BINARY_CODES:
            return pa.binary()
        if code in (Types.TIME, Types.TIME_WITH_TIMEZONE):
            return VARCHAR  # Athena federation has no TIME type: the time of day as text
        log.warning("column %r has type %r (java.sql.Types %s), which has no declared mapping; it is read as "
                    "varchar", c.name, c.type_name, code)
        return VARCHAR

    return rule


# ------------------------------------------------------------------------------------------ dialects


_SQLGLOT_BY_SUBPROTOCOL = {
    "postgresql": "postgres", "pgsql": "postgres", "redshift": "redshift", "mysql": "mysql", "mariadb": "mysql",
    "sqlserver": "tsql", "jtds": "tsql", "oracle": "oracle", "snowflake": "snowflake", "teradata": "teradata",
    "sqlite": "sqlite", "duckdb": "duckdb", "trino": "trino", "presto": "presto", "db2": "", "clickhouse": "clickhouse",
    "databricks": "databricks", "spark": "spark", "hive2": "hive", "bigquery": "bigquery",
}


class JdbcDialect(SourceDialect):
    """An unknown database behind JDBC: push only what every SQL database evaluates like Athena.

    String comparisons depend on collations (case-insensitive in MySQL and SQL Server by default), and
    timestamps may be finer than milliseconds with no portable way to truncate them, so strings and timestamp
    expressions stay in the framework; numbers, dates and timestamp ranges (on the millisecond grid) are pushed.
    """

    paramstyle = "qmark"
    exact_string_ordering = False
    sub_millisecond_timestamps = True
    nan_is_largest = True
    #: Stream results inside a transaction (PostgreSQL only honours the fetch size outside autocommit).
    stream_in_transaction: ClassVar[bool] = False
    #: Driver properties set unless the URL sets them.
    connection_properties: ClassVar[dict[str, str]] = {}
    #: The driver's ``getString`` gives canonical text for numbers, decimals, dates and timestamps
    #: (``YYYY-MM-DD HH:MM:SS.fff...``), which Arrow parses faster than typed getters can be called.
    text_values: ClassVar[bool] = False
    #: Name of type (``TYPE_NAME``) -> logical type, ahead of the generic java.sql.Types mapping.
    type_names: ClassVar[dict[str, Any]] = {}
    #: Table listing with SQL pagination (schema bound as the first parameter; LIMIT and OFFSET last).
    tables_sql: ClassVar[str] = ""
    tables_page_sql: ClassVar[str] = ""
    #: How many times the schema parameter appears in ``tables_sql``.
    tables_schema_params: ClassVar[int] = 1
    #: (column name, collation) of a table's columns, schema and table bound in that order; empty when the
    #: database has no column collations worth reading (``SourceColumn.collation``).
    collations_sql: ClassVar[str] = ""
    hidden_schemas: ClassVar[frozenset[str]] = frozenset({"information_schema"})

    def __init__(self, subprotocol: str = "") -> None:
        self.subprotocol = subprotocol

    def sqlglot(self) -> Dialect:
        return Dialect.get_or_raise(_SQLGLOT_BY_SUBPROTOCOL.get(self.subprotocol, "") or None)

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        if is_string(t):
            return False
        return super().can_compare(t, ordering=ordering)

    def can_compare_column(self, column: SourceColumn, *, ordering: bool) -> bool:
        if column.source_type.lower() in self.padded_type_names:
            return False  # CHAR(n): the source compares ignoring the padding that Athena sees
        return self.can_compare(column.type, ordering=ordering)

    padded_type_names: ClassVar[frozenset[str]] = frozenset({"char", "nchar", "character", "bpchar"})

    def can_like_column(self, column: SourceColumn) -> bool:
        return column.source_type.lower() not in self.padded_type_names

    def can_compute(self, function: str, result: pa.DataType, arguments: Sequence[pa.DataType]) -> bool:
        # Floating-point arithmetic: databases raise on overflow and x/0 where Athena returns Infinity or NaN.
        if any(pa.types.is_floating(t) for t in (result, *arguments)):
            return False
        return super().can_compute(function, result, arguments)

    def is_distinct_from(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        if self.native_distinct:
            return exp.paren(exp.NullSafeNEQ(this=a, expression=b))
        return super().is_distinct_from(a, b)

    #: The database understands ``IS DISTINCT FROM`` (PostgreSQL, H2).
    native_distinct: ClassVar[bool] = False

    def type_map_for(self, options: SettingValues) -> TypeMap:
        """``type_names`` ahead of the java.sql.Types mapping, NUMERIC without a scale read at ``default_scale``."""
        return self.scaled_type_map(options.number("default_scale"))

    def scaled_type_map(self, default_scale: int) -> TypeMap:
        return TypeMap(self.type_names, fallback=jdbc_type_rule(default_scale), source=self.subprotocol or "jdbc")


def subprotocol_of(url: str) -> str:
    match = _URL.match(url)
    if not match:
        raise ConfigurationError("a JDBC connection string looks like jdbc://jdbc:<subprotocol>:..., e.g. "
                                 "jdbc://jdbc:postgresql://host:5432/db?${secret}")
    return match.group(1).lower()
