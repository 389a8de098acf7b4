"""What databases behind JDBC evaluate exactly as Athena does, and their types.

``JdbcDialect`` is the cautious default for any database (no string comparisons, floating-point arithmetic
and timestamp expressions left to the framework); ``PostgresDialect`` and ``H2Dialect`` know more. Types map by
type name first (per dialect), then by the ``java.sql.Types`` code a driver reports - no JVM needed for either.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, ClassVar

import pyarrow as pa
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from adapters.types import TIMESTAMP, TIMESTAMP_TZ, VARCHAR, ColumnInfo, TypeMap, decimal
from connector.errors import ConfigurationError
from connector.pushdown.sql import SourceColumn, SqlDialect, is_string

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


@cache
def h2_sqlglot_dialect() -> type[Dialect]:
    """sqlglot has no H2 dialect: PostgreSQL's syntax, with NULLS FIRST/LAST always written out (H2's default
    null ordering is configurable per database, so it is never assumed)."""
    from sqlglot.dialects.postgres import Postgres

    class H2(Postgres):
        NULL_ORDERING = "nulls_are_small"

        class Generator(Postgres.Generator):  # type: ignore[misc,valid-type]
            def ordered_sql(self, expression: exp.Ordered) -> str:
                direction = " DESC" if expression.args.get("desc") else " ASC"
                nulls = " NULLS FIRST" if expression.args.get("nulls_first") else " NULLS LAST"
                return f"{self.sql(expression, 'this')}{direction}{nulls}"

    return H2


_SQLGLOT_BY_SUBPROTOCOL = {
    "postgresql": "postgres", "pgsql": "postgres", "redshift": "redshift", "mysql": "mysql", "mariadb": "mysql",
    "sqlserver": "tsql", "jtds": "tsql", "oracle": "oracle", "snowflake": "snowflake", "teradata": "teradata",
    "sqlite": "sqlite", "duckdb": "duckdb", "trino": "trino", "presto": "presto", "db2": "", "clickhouse": "clickhouse",
    "databricks": "databricks", "spark": "spark", "hive2": "hive", "bigquery": "bigquery",
}


class JdbcDialect(SqlDialect):
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

    def type_map(self, default_scale: int) -> TypeMap:
        return TypeMap(self.type_names, fallback=jdbc_type_rule(default_scale), source=self.subprotocol or "jdbc")


_NUMERIC_SCALE_SIGN = 1024  # the sign bit of NUMERIC's 11-bit scale field

#: PostgreSQL collations that compare UTF-8 text bytewise, i.e. by code point as Athena does.
POSTGRES_BINARY_COLLATIONS = frozenset({"C", "POSIX", "ucs_basic", "pg_c_utf8"})
#: PostgreSQL types whose =, < and LIKE ignore case whatever the collation (the citext extension).
POSTGRES_CASE_INSENSITIVE_TYPES = frozenset({"citext"})


class PostgresDialect(JdbcDialect):
    """PostgreSQL: strings ordered with ``COLLATE "C"`` (code point order, whatever the database collation),
    LIKE with an explicit ESCAPE (PostgreSQL's default escape is backslash), timestamps truncated with
    ``date_trunc`` (they keep microseconds), NaN kept out of open ranges (PostgreSQL sorts NaN above all).

    Equality is exact under the database's default collation (PostgreSQL's defaults are deterministic: equal
    means bytewise equal) and keeps indexes; a column with its own collation (possibly nondeterministic, e.g. an
    ICU ``ks-level2`` case-insensitive one) is compared with ``COLLATE "C"`` for equality and LIKE too, and a
    ``citext`` column through ``CAST(x AS TEXT)`` (citext's operators ignore case)."""

    sqlglot_dialect = "postgres"
    exact_string_ordering = True
    max_bind_parameters = 65535  # the protocol's limit; pgjdbc refuses more ("at most 65,535 parameters")
    stream_in_transaction = True
    text_values = True
    native_distinct = True
    # After a statement has run a few times the driver switches some types to binary transfer, and then
    # renders arrays and other types read as text differently ({"1","2"} instead of {1,2}): stay in text.
    connection_properties: ClassVar[dict[str, str]] = {"binaryTransfer": "false"}
    type_names: ClassVar[dict[str, Any]] = {
        "int2": pa.int16(), "smallserial": pa.int16(), "int4": pa.int32(), "serial": pa.int32(),
        "int8": pa.int64(), "bigserial": pa.int64(), "oid": pa.int64(),
        "float4": pa.float32(), "float8": pa.float64(), "bool": pa.bool_(),
        "text": VARCHAR, "varchar": VARCHAR, "bpchar": VARCHAR, "name": VARCHAR, "citext": VARCHAR,
        "money": VARCHAR,  # locale-formatted text ("$1,000.00"): reading it as a number would guess
        "date": pa.date32(), "timestamp": TIMESTAMP, "timestamptz": TIMESTAMP_TZ, "bytea": pa.binary(),
        "uuid": VARCHAR, "json": VARCHAR, "jsonb": VARCHAR, "xml": VARCHAR, "inet": VARCHAR, "cidr": VARCHAR,
        "time": VARCHAR, "timetz": VARCHAR, "interval": VARCHAR,
    }
    tables_sql = ('SELECT t.name FROM (SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables '
                  'WHERE table_schema = ? UNION SELECT CAST(matviewname AS TEXT) FROM pg_catalog.pg_matviews '
                  'WHERE schemaname = ?) AS t ORDER BY t.name COLLATE "C"')
    tables_page_sql = tables_sql + " LIMIT ? OFFSET ?"
    tables_schema_params = 2
    hidden_schemas = frozenset({"information_schema", "pg_catalog", "pg_toast"})
    #: too_many_connections (max_connections, a role's or database's CONNECTION LIMIT), configuration_limit_exceeded
    throttle_errors: ClassVar[frozenset[str]] = frozenset({"53300", "53400"})
    #: query_canceled: statement_timeout (or a cancel request)
    timeout_errors: ClassVar[frozenset[str]] = frozenset({"57014"})

    def sqlglot(self) -> Dialect:
        return Dialect.get_or_raise("postgres")

    def type_map(self, default_scale: int) -> TypeMap:
        generic = jdbc_type_rule(default_scale)

        def numeric(c: ColumnInfo) -> pa.DataType:
            # PostgreSQL 15+ packs NUMERIC(p, s)'s scale into 11 bits of the type modifier, so that s may be
            # negative (NUMERIC(5,-2) holds whole hundreds); the driver and information_schema read the bits
            # unsigned and report -2 as 2046.
            scale = c.scale
            if scale is not None and scale >= _NUMERIC_SCALE_SIGN:
                scale -= 2 * _NUMERIC_SCALE_SIGN
            return generic(replace(c, scale=scale))

        return TypeMap({**self.type_names, "numeric": numeric, "decimal": numeric}, fallback=generic,
                       source=self.subprotocol or "jdbc")

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        return SqlDialect.can_compare(self, t, ordering=ordering)

    collations_sql = ("SELECT a.attname, COALESCE(co.collname, '') FROM pg_catalog.pg_attribute a "
                      "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                      "LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation "
                      "WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped")

    def compare_operand(self, e: exp.Expression, t: pa.DataType, *, ordering: bool,
                        column: SourceColumn | None = None) -> exp.Expression | None:
        operand = super().compare_operand(e, t, ordering=ordering, column=column)
        if operand is None or not is_string(t):
            return operand
        return self._binary_text(operand, column, ordering=ordering)

    def like_operand(self, e: exp.Expression, column: SourceColumn | None = None) -> exp.Expression | None:
        # PostgreSQL 12-17 refuse LIKE under a nondeterministic collation; citext's LIKE ignores case.
        return self._binary_text(e, column, ordering=False)

    def _binary_text(self, e: exp.Expression, column: SourceColumn | None, *, ordering: bool) -> exp.Expression:
        """``e`` compared as Athena compares varchar: by code point, and equal only when bytewise equal."""
        collation = column.collation if column is not None else ""
        binary = exp.Identifier(this="C", quoted=True)
        if column is not None and column.source_type.lower() in POSTGRES_CASE_INSENSITIVE_TYPES:
            return exp.Collate(this=exp.Cast(this=e, to=exp.DataType.build("TEXT")), expression=binary)
        if collation in POSTGRES_BINARY_COLLATIONS:
            return e
        if ordering or collation not in ("", "default"):
            return exp.Collate(this=e, expression=binary)
        return e

    def truncate_to_millis(self, e: exp.Expression) -> exp.Expression | None:
        return exp.Anonymous(this="DATE_TRUNC", expressions=[exp.Literal.string("milliseconds"), e])


class H2Dialect(JdbcDialect):
    """H2 (embedded): Java string semantics - equality is exact, but ordering follows UTF-16 code units and
    LIKE's ``_`` matches one UTF-16 unit, so string ordering and ``_`` patterns stay in the framework."""

    exact_string_ordering = False
    max_bind_parameters = 65535  # H2 sets no limit of its own (100,000 measured); kept at PostgreSQL's
    native_distinct = True
    text_values = True
    type_names: ClassVar[dict[str, Any]] = {
        "TINYINT": pa.int8(), "SMALLINT": pa.int16(), "INTEGER": pa.int32(), "BIGINT": pa.int64(),
        "REAL": pa.float32(), "DOUBLE PRECISION": pa.float64(), "BOOLEAN": pa.bool_(),
        "CHARACTER VARYING": VARCHAR, "VARCHAR_IGNORECASE": VARCHAR, "CHARACTER LARGE OBJECT": VARCHAR,
        "DATE": pa.date32(), "TIMESTAMP": TIMESTAMP, "TIMESTAMP WITH TIME ZONE": TIMESTAMP_TZ,
        "BINARY VARYING": pa.binary(), "BINARY LARGE OBJECT": pa.binary(),
        "UUID": VARCHAR, "JSON": VARCHAR, "TIME": VARCHAR, "TIME WITH TIME ZONE": VARCHAR,
    }
    padded_type_names = frozenset({"character", "char", "varchar_ignorecase"})
    tables_sql = ("SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? "
                  "ORDER BY TABLE_NAME")
    tables_page_sql = tables_sql + " LIMIT ? OFFSET ?"
    # H2 has one collation per database (SET COLLATION ...), reported on every column; OFF is Java's
    # String.equals / compareTo. Under any other one, = and LIKE follow the collator ('bob' = 'BOB' at
    # STRENGTH PRIMARY), so string comparisons stay in the framework.
    collations_sql = ("SELECT COLUMN_NAME, COLLATION_NAME FROM INFORMATION_SCHEMA.COLUMNS "
                      "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")

    def can_compare_column(self, column: SourceColumn, *, ordering: bool) -> bool:
        if is_string(column.type) and column.collation.upper() not in ("", "OFF"):
            return False
        return super().can_compare_column(column, ordering=ordering)

    def can_like_column(self, column: SourceColumn) -> bool:
        return column.collation.upper() in ("", "OFF") and super().can_like_column(column)

    def sqlglot(self) -> Dialect:
        return h2_sqlglot_dialect()()

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        return SqlDialect.can_compare(self, t, ordering=ordering)

    def can_like_pattern(self, pattern: str) -> bool:
        return "_" not in pattern

    def truncate_to_millis(self, e: exp.Expression) -> exp.Expression | None:
        return exp.Anonymous(this="DATE_TRUNC", expressions=[exp.Literal.string("MILLISECOND"), e])


DIALECTS: dict[str, type[JdbcDialect]] = {"postgresql": PostgresDialect, "h2": H2Dialect}


def subprotocol_of(url: str) -> str:
    match = _URL.match(url)
    if not match:
        raise ConfigurationError("a JDBC connection string looks like jdbc://jdbc:<subprotocol>:..., e.g. "
                                 "jdbc://jdbc:postgresql://host:5432/db?${secret}")
    return match.group(1).lower()


def dialect_for(url: str) -> JdbcDialect:
    subprotocol = subprotocol_of(url)
    return DIALECTS.get(subprotocol, JdbcDialect)(subprotocol)
