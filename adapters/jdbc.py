"""Generic JDBC: any database with a JDBC driver, through JPype (and jaydebeapi's DB-API wrapper).

Connection strings::

    jdbc://jdbc:postgresql://host:5432/db?${my-secret}      user/password from Secrets Manager
    jdbc://jdbc:postgresql://host:5432/db?user=u&password=p  inline (not recommended)
    jdbc://jdbc:h2:/var/task/data/demo                        H2, embedded (no server)

Environment variables (``<catalog>_...`` wins over the plain name, so multiplexed catalogs can differ):

``jdbc_driver_class`` / ``<catalog>_jdbc_driver_class``
    Java class of the driver. Default by JDBC subprotocol: ``postgresql`` -> ``org.postgresql.Driver``,
    ``h2`` -> ``org.h2.Driver``; other subprotocols must set it.
``jdbc_driver_jars`` / ``<catalog>_jdbc_driver_jars``
    The driver's jar files, separated by ``:``; an entry may be a directory (every ``*.jar`` in it) or a glob.
    Default: the Debian jars ``/usr/share/java/postgresql.jar`` or ``/usr/share/java/h2.jar``.
``jdbc_jvm_options``
    Extra JVM options (space separated, e.g. ``-Xmx512m``) used when this process starts the JVM.
    The JVM always runs with ``-Duser.timezone=UTC``, as Lambda does.
``jdbc_fetch_size``
    Rows per round trip to the database (default 10000).
``key_range_splits``, ``key_range_column``
    Parallel reads by key ranges (see ``adapters.keyrange``).
``JAVA_HOME``
    Which JVM JPype loads (default: the system's).

A process can start only one JVM, with one class path. Drivers are therefore loaded through their own class
loader when they are not on the JVM's class path, so catalogs with different drivers work side by side.

Values are read with typed getters (``getLong``, ``getBigDecimal``, ``getObject(i, LocalDateTime.class)``...)
straight into Arrow: NUMERIC stays decimal, DATE and TIMESTAMP stay dates and timestamps (jaydebeapi's own
converters would give floats and strings). Timestamps are truncated to Athena's milliseconds, and the
dialects compare them the same way so pushdown stays exact.
"""

from __future__ import annotations

import datetime as dt
import glob
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from adapters.convert import to_arrow
from adapters.keyrange import KeyRangeSplits
from adapters.sql import CasingMode, SqlAdapter
from adapters.types import TIMESTAMP, TIMESTAMP_TZ, VARCHAR, ColumnInfo, TypeMap, decimal
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.credentials import credentials_for
from connector.errors import ConfigurationError, ConnectorError, SourceError
from connector.protocol.types import empty_batch
from connector.pushdown.sql import SourceColumn, SourceQuery, SqlDialect

log = logging.getLogger("afq.jdbc")

DEFAULT_JAR_DIR = "/usr/share/java"
DEFAULT_DRIVERS: dict[str, tuple[str, str]] = {
    "postgresql": ("org.postgresql.Driver", "postgresql.jar"),
    "h2": ("org.h2.Driver", "h2.jar"),
}
DEFAULT_FETCH_SIZE = 10_000
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


_TEXT_CODES = frozenset({Types.CHAR, Types.VARCHAR, Types.LONGVARCHAR, Types.NCHAR, Types.NVARCHAR,
                         Types.LONGNVARCHAR, Types.CLOB, Types.NCLOB})
_BINARY_CODES = frozenset({Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB})
_PADDED_CODES = frozenset({Types.CHAR, Types.NCHAR})


@dataclass(frozen=True, slots=True)
class JdbcColumnInfo(ColumnInfo):
    """A column as ``DatabaseMetaData.getColumns`` or ``ResultSetMetaData`` describes it."""

    jdbc_type: int = Types.OTHER


def _unconstrained_scale(settings_env: Mapping[str, str]) -> int:
    text = (settings_env.get("default_scale") or "").strip()
    if not text:
        return 10
    if not text.isdigit() or int(text) > 38:
        raise ConfigurationError(f"default_scale={text!r} must be a whole number from 0 to 38")
    return int(text)


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
            return decimal(size, max(0, c.scale or 0))
        if code in _TEXT_CODES:
            return VARCHAR
        if code == Types.DATE:
            return pa.date32()
        if code == Types.TIMESTAMP:
            return TIMESTAMP
        if code == Types.TIMESTAMP_WITH_TIMEZONE:
            return TIMESTAMP_TZ
        if code in _BINARY_CODES:
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
    hidden_schemas: ClassVar[frozenset[str]] = frozenset({"information_schema"})

    def __init__(self, subprotocol: str = "") -> None:
        self.subprotocol = subprotocol

    def sqlglot(self) -> Dialect:
        return Dialect.get_or_raise(_SQLGLOT_BY_SUBPROTOCOL.get(self.subprotocol, "") or None)

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        if pa.types.is_string(t) or pa.types.is_large_string(t):
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


class PostgresDialect(JdbcDialect):
    """PostgreSQL: strings compared with ``COLLATE "C"`` (code point order, whatever the database collation),
    LIKE with an explicit ESCAPE (PostgreSQL's default escape is backslash), timestamps truncated with
    ``date_trunc`` (they keep microseconds), NaN kept out of open ranges (PostgreSQL sorts NaN above all)."""

    sqlglot_dialect = "postgres"
    exact_string_ordering = True
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

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        return SqlDialect.can_compare(self, t, ordering=ordering)

    def compare_operand(self, e: exp.Expression, t: pa.DataType, *, ordering: bool,
                        column: SourceColumn | None = None) -> exp.Expression | None:
        operand = super().compare_operand(e, t, ordering=ordering, column=column)
        if operand is not None and ordering and (pa.types.is_string(t) or pa.types.is_large_string(t)):
            return exp.Collate(this=operand, expression=exp.Identifier(this="C", quoted=True))
        return operand

    def truncate_to_millis(self, e: exp.Expression) -> exp.Expression | None:
        return exp.Anonymous(this="DATE_TRUNC", expressions=[exp.Literal.string("milliseconds"), e])


class H2Dialect(JdbcDialect):
    """H2 (embedded): Java string semantics - equality is exact, but ordering follows UTF-16 code units and
    LIKE's ``_`` matches one UTF-16 unit, so string ordering and ``_`` patterns stay in the framework."""

    exact_string_ordering = False
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


# ------------------------------------------------------------------------------------------ the JVM


_jvm_lock = threading.Lock()
_loaders: dict[tuple[str, ...], Any] = {}


def expand_jars(spec: str) -> list[str]:
    """``a.jar:dir:lib/*.jar`` -> jar paths; a named file that does not exist is a configuration error."""
    jars: list[str] = []
    for entry in (e.strip() for e in spec.split(os.pathsep)):
        if not entry:
            continue
        if any(ch in entry for ch in "*?["):
            jars.extend(sorted(glob.glob(entry)))
        elif os.path.isdir(entry):
            jars.extend(sorted(glob.glob(os.path.join(entry, "*.jar"))))
        elif os.path.isfile(entry):
            jars.append(entry)
        else:
            raise ConfigurationError(f"JDBC driver jar {entry!r} does not exist (set jdbc_driver_jars)")
    return jars


def start_jvm(classpath: Sequence[str] = (), options: Sequence[str] = ()) -> None:
    """Start the process's JVM once (JPype cannot restart it); later calls are no-ops.

    The class path also gets the default driver jars that are installed, so code that reaches drivers through
    ``DriverManager`` (plain jaydebeapi) in the same process finds them whichever adapter started the JVM.
    """
    import jpype

    with _jvm_lock:
        if jpype.isJVMStarted():
            return
        defaults = [os.path.join(DEFAULT_JAR_DIR, jar) for _, jar in DEFAULT_DRIVERS.values()]
        jars = list(dict.fromkeys([*classpath, *(j for j in defaults if os.path.isfile(j))]))
        try:
            jpype.startJVM(*options, "-Duser.timezone=UTC", classpath=jars, convertStrings=True)
        except (OSError, RuntimeError, TypeError) as e:  # no JVM installed, bad options
            raise ConfigurationError(
                f"cannot start the Java VM for JDBC: {e} (install a JRE or set JAVA_HOME)") from None


def load_driver(class_name: str, jars: Sequence[str]) -> Any:
    """An instance of the driver class, from the JVM class path or else from its own class loader."""
    import jpype

    try:
        driver_class = jpype.JClass(class_name)
    except Exception:  # not on the JVM's class path (a JVM started earlier with other jars)
        key = tuple(jars)
        with _jvm_lock:
            loader = _loaders.get(key)
            if loader is None:
                url_class = jpype.JClass("java.net.URL")
                urls = jpype.JArray(url_class)([jpype.JClass("java.io.File")(j).toURI().toURL() for j in jars])
                loader = jpype.JClass("java.net.URLClassLoader")(urls, jpype.JClass("java.lang.ClassLoader")
                                                                 .getSystemClassLoader())
                _loaders[key] = loader
        try:
            driver_class = jpype.JClass(class_name, loader=loader)
        except Exception:
            raise ConfigurationError(f"JDBC driver class {class_name!r} is not in {list(jars)} (set "
                                     f"jdbc_driver_class and jdbc_driver_jars)") from None
    return driver_class()


def to_java(value: Any) -> Any:
    """A bind parameter as the Java object ``setObject`` should get (JDBC 4.2 java.time types)."""
    import jpype

    if value is None or isinstance(value, bool | int | float | str):
        return value  # JPype boxes these (Boolean, Long, Double, String)
    if isinstance(value, Decimal):
        return jpype.JClass("java.math.BigDecimal")(str(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return jpype.JArray(jpype.JByte)(bytes(value))
    if isinstance(value, dt.datetime):
        fields = (value.year, value.month, value.day, value.hour, value.minute, value.second,
                  value.microsecond * 1000)
        if value.tzinfo is None:
            return jpype.JClass("java.time.LocalDateTime").of(*fields)
        offset = value.utcoffset() or dt.timedelta()
        zone = jpype.JClass("java.time.ZoneOffset").ofTotalSeconds(int(offset.total_seconds()))
        return jpype.JClass("java.time.OffsetDateTime").of(*fields, zone)
    if isinstance(value, dt.date):
        return jpype.JClass("java.time.LocalDate").of(value.year, value.month, value.day)
    raise TypeError(f"cannot bind a {type(value).__name__} as a JDBC parameter")


# ------------------------------------------------------------------------------------------ reading values


_EPOCH = dt.date(1970, 1, 1)


@cache
def _java_classes() -> dict[str, Any]:
    import jpype

    return {
        "LocalDate": jpype.JClass("java.time.LocalDate").class_,
        "LocalDateTime": jpype.JClass("java.time.LocalDateTime").class_,
        "OffsetDateTime": jpype.JClass("java.time.OffsetDateTime").class_,
        "UTC": jpype.JClass("java.time.ZoneOffset").UTC,
    }


def _millis(seconds: int, nanos: int) -> int:
    return int(seconds) * 1000 + int(nanos) // 1_000_000  # nanos are never negative: this floors


def text_readable(t: pa.DataType) -> bool:
    """Types read as the driver's text when the dialect allows it (one JNI call a value, parsed by Arrow)."""
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
                or pa.types.is_date32(t) or (pa.types.is_timestamp(t) and t.tz is None))


def make_reader(rs: Any, index: int, t: pa.DataType, *, text: bool = False) -> Callable[[], Any]:
    """A function returning column ``index`` (1-based) of the current row in the form ``build_array`` takes.

    ``text``: read numbers, decimals, dates and timestamps with ``getString`` (the driver's canonical text) -
    one call into the JVM per value instead of two or three - and let Arrow parse them.
    """
    classes = _java_classes()
    was_null = rs.wasNull
    if text and text_readable(t):
        get_text = rs.getString

        def read_text() -> Any:
            v = get_text(index)
            return None if v is None else str(v)
        return read_text
    if pa.types.is_integer(t):
        get_long = rs.getLong

        def read_long() -> Any:
            v = get_long(index)
            return None if was_null() else v
        return read_long
    if pa.types.is_floating(t):
        get_double = rs.getDouble

        def read_double() -> Any:
            v = get_double(index)
            return None if was_null() else v
        return read_double
    if pa.types.is_boolean(t):
        get_boolean = rs.getBoolean

        def read_boolean() -> Any:
            v = get_boolean(index)
            return None if was_null() else v
        return read_boolean
    if pa.types.is_decimal(t):
        get_decimal = rs.getBigDecimal

        def read_decimal() -> Any:
            v = get_decimal(index)
            return None if v is None else str(v.toPlainString())
        return read_decimal
    if pa.types.is_date32(t):
        get_object, local_date = rs.getObject, classes["LocalDate"]

        def read_date() -> Any:
            v = get_object(index, local_date)
            return None if v is None else v.toEpochDay()
        return read_date
    if pa.types.is_timestamp(t) and t.tz is None:
        get_object, local_date_time, utc = rs.getObject, classes["LocalDateTime"], classes["UTC"]

        def read_timestamp() -> Any:
            v = get_object(index, local_date_time)
            return None if v is None else _millis(v.toEpochSecond(utc), v.getNano())
        return read_timestamp
    if pa.types.is_timestamp(t):
        get_object, offset_date_time = rs.getObject, classes["OffsetDateTime"]

        def read_instant() -> Any:
            v = get_object(index, offset_date_time)
            return None if v is None else _millis(v.toEpochSecond(), v.getNano())
        return read_instant
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        get_bytes = rs.getBytes

        def read_bytes() -> Any:
            v = get_bytes(index)
            return None if v is None else bytes(v)
        return read_bytes
    get_string = rs.getString

    def read_string() -> Any:
        v = get_string(index)
        return None if v is None else str(v)
    return read_string


def build_array(values: list[Any], column: SourceColumn, *, text: bool = False) -> pa.Array:
    """The values ``make_reader`` produced -> an Arrow array of the column's type (strictly: no rounding)."""
    t = column.type
    try:
        if text and text_readable(t):
            strings = pa.array(values, pa.string())
            if pa.types.is_timestamp(t):
                # "YYYY-MM-DD HH:MM:SS.fff" is 23 characters: cutting the finer digits floors to milliseconds.
                return pc.utf8_slice_codeunits(strings, 0, 23).cast(pa.timestamp("ms")).cast(t)
            return strings.cast(t)
        if pa.types.is_decimal(t):
            return pa.array(values, pa.string()).cast(t)
        if pa.types.is_date32(t):
            return pa.array(values, pa.int32()).view(pa.date32())
        if pa.types.is_timestamp(t):
            millis = pa.array(values, pa.int64()).view(pa.timestamp("ms", t.tz and "UTC"))
            return millis if t.unit == "ms" and t.tz in (None, "UTC") else millis.cast(t)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError) as e:
        hint = ("; declare the column's precision and scale, or set default_scale for NUMERIC without them"
                if pa.types.is_decimal(t) else "")
        raise SourceError(f"column {column.name!r}: values cannot be read as {t} "
                          f"({str(e).splitlines()[0][:200]}){hint}") from None
    return to_arrow(values, t, column.name)


# ------------------------------------------------------------------------------------------ DB-API converters


def _dbapi_converters() -> dict[int, Callable[[Any, int], Any]]:
    """jaydebeapi converters that lose nothing (its defaults turn NUMERIC into float and dates into text)."""

    def typed(t: pa.DataType, to_python: Callable[[Any], Any]) -> Callable[[Any, int], Any]:
        def convert(rs: Any, col: int) -> Any:
            v = make_reader(rs, col, t)()
            return None if v is None else to_python(v)
        return convert

    def timestamp(v: int) -> dt.datetime:
        return dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=v)

    def instant(v: int) -> dt.datetime:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=v)

    integer = typed(pa.int64(), int)
    converters: dict[int, Callable[[Any, int], Any]] = {
        Types.TINYINT: integer, Types.SMALLINT: integer, Types.INTEGER: integer, Types.BIGINT: integer,
        Types.REAL: typed(pa.float64(), float), Types.FLOAT: typed(pa.float64(), float),
        Types.DOUBLE: typed(pa.float64(), float), Types.BOOLEAN: typed(pa.bool_(), bool),
        Types.NUMERIC: typed(pa.decimal128(38, 0), Decimal), Types.DECIMAL: typed(pa.decimal128(38, 0), Decimal),
        Types.DATE: typed(pa.date32(), lambda d: _EPOCH + dt.timedelta(days=d)),
        Types.TIMESTAMP: typed(TIMESTAMP, timestamp), Types.TIMESTAMP_WITH_TIMEZONE: typed(TIMESTAMP_TZ, instant),
    }
    for code in _BINARY_CODES:
        converters[code] = typed(pa.binary(), bytes)
    for code in (*_TEXT_CODES, Types.TIME, Types.TIME_WITH_TIMEZONE, Types.OTHER, Types.BIT, Types.ARRAY):
        converters[code] = typed(VARCHAR, str)
    return converters


@cache
def _prepare_jaydebeapi() -> None:
    """jaydebeapi fills its java.sql.Types tables (used by ``cursor.description``) only in its own
    ``connect``; connections made here skip that, so fill them the same way."""
    import jaydebeapi
    import jpype

    if getattr(jaydebeapi, "_jdbc_name_to_const", None) is None and hasattr(jaydebeapi, "_init_types"):
        fields = jpype.JClass("java.sql.Types").class_.getFields()
        jaydebeapi._init_types({str(f.getName()): int(f.get(None)) for f in fields})


# ------------------------------------------------------------------------------------------ the adapter


def _java_message(error: BaseException) -> str:
    """The message of a Java exception (or of jaydebeapi's wrapper around one), first line only."""
    inner = error.args[0] if error.args and not isinstance(error.args[0], str) else error
    message = None
    get_message = getattr(inner, "getMessage", None)
    if callable(get_message):
        try:
            message = get_message()
        except Exception:  # a broken exception object: fall back to its text
            message = None
    text = str(message if message is not None else inner).strip()
    return text.splitlines()[0] if text else type(inner).__name__


class JdbcAdapter(KeyRangeSplits, SqlAdapter):
    source_type = "jdbc"
    default_casing = CasingMode.CASE_INSENSITIVE_SEARCH
    validation_timeout_seconds: ClassVar[int] = 5

    def __init__(self, spec: ConnectionSpec, settings: Settings) -> None:
        super().__init__(spec, settings)
        self.url = spec.url_without_secrets()
        self.subprotocol = subprotocol_of(spec.url)
        jdbc_dialect = dialect_for(spec.url)
        self.dialect = jdbc_dialect  # per connection string, not per class
        self.type_map = jdbc_dialect.type_map(_unconstrained_scale(settings.env))  # type: ignore[misc]
        self.hidden_schemas = jdbc_dialect.hidden_schemas  # type: ignore[misc]
        default_class, default_jar = DEFAULT_DRIVERS.get(self.subprotocol, ("", ""))
        self.driver_class = self._setting("jdbc_driver_class") or default_class
        if not self.driver_class:
            raise ConfigurationError(f"no default JDBC driver for jdbc:{self.subprotocol}: set "
                                     f"jdbc_driver_class (and jdbc_driver_jars) for catalog {spec.catalog!r}")
        self.jar_spec = self._setting("jdbc_driver_jars") or (
            os.path.join(DEFAULT_JAR_DIR, default_jar) if default_jar else "")
        self.jvm_options = (settings.env.get("jdbc_jvm_options") or "").split()
        fetch = (settings.env.get("jdbc_fetch_size") or "").strip()
        if fetch and (not fetch.isdigit() or int(fetch) <= 0):
            raise ConfigurationError(f"jdbc_fetch_size={fetch!r} must be a positive whole number")
        self.fetch_size = int(fetch) if fetch else DEFAULT_FETCH_SIZE
        self._driver: Any = None
        self._secret_values: tuple[str, ...] = ()

    def _setting(self, name: str) -> str:
        env = self.settings.env
        return (env.get(f"{self.spec.catalog}_{name}") or env.get(name) or "").strip()

    # ------------------------------------------------------------------------------------- connections

    def driver(self) -> Any:
        if self._driver is None:
            jars = expand_jars(self.jar_spec) if self.jar_spec else []
            start_jvm(jars, self.jvm_options)
            self._driver = load_driver(self.driver_class, jars)
        return self._driver

    def connect(self) -> Any:
        import jaydebeapi
        import jpype

        driver = self.driver()
        properties = jpype.JClass("java.util.Properties")()
        for key, value in self.dialect.connection_properties.items():
            properties.setProperty(key, value)
        credentials = credentials_for(self.spec)
        if credentials is not None:
            if credentials.username:
                properties.setProperty("user", credentials.username)
            if credentials.password:
                properties.setProperty("password", credentials.password)
            self._secret_values = tuple(v for v in (credentials.password,) if v)
        try:
            jconn = driver.connect(self.url, properties)
        except Exception as e:
            raise SourceError(f"cannot connect to {self._redacted_url()}: {self._scrub(_java_message(e))}") from None
        if jconn is None:
            raise ConfigurationError(f"JDBC driver {self.driver_class} does not accept the URL "
                                     f"{self._redacted_url()}")
        _prepare_jaydebeapi()
        return jaydebeapi.Connection(jconn, _dbapi_converters())

    def is_alive(self, connection: Any) -> bool:
        try:
            return bool(connection.jconn.isValid(self.validation_timeout_seconds))
        except Exception:  # a closed or broken connection
            return False

    def _redacted_url(self) -> str:
        return self.spec.redacted().split("://", 1)[1] if "://" in self.spec.redacted() else "the database"

    def _scrub(self, text: str) -> str:
        for secret in self._secret_values:
            text = text.replace(secret, "***")
        return re.sub(r"(?i)(password|pwd)=([^,;&\s]*)", r"\1=***", text)

    def source_error(self, error: Exception, sql: str = "") -> ConnectorError:
        if isinstance(error, ConnectorError):
            return error
        return SourceError(f"{self.subprotocol} error: {self._scrub(_java_message(error))[:500]}")

    def execute(self, connection: Any, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        values = [to_java(v) for v in params] if isinstance(params, Sequence) else params
        return super().execute(connection, sql, values)

    # ------------------------------------------------------------------------------------- catalog

    def _metadata_rows(self, connection: Any, result_set: Any, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        rows = []
        try:
            while result_set.next():
                rows.append(tuple(result_set.getObject(c) for c in columns))
        finally:
            result_set.close()
        return [tuple(None if v is None else (str(v) if not isinstance(v, int | bool) else v) for v in r)
                for r in rows]

    def _escape(self, connection: Any, name: str) -> str:
        escape = str(connection.jconn.getMetaData().getSearchStringEscape() or "")
        if not escape:
            return name
        return "".join(escape + ch if ch in (escape, "_", "%") else ch for ch in name)

    def query_schemas(self, connection: Any) -> list[str]:
        try:
            result = connection.jconn.getMetaData().getSchemas()
            return [r[0] for r in self._metadata_rows(connection, result, ["TABLE_SCHEM"]) if r[0]]
        except ConnectorError:
            raise
        except Exception as e:
            raise self.source_error(e) from None

    def query_tables(self, connection: Any, schema: str) -> list[str]:
        dialect: JdbcDialect = self.dialect
        if dialect.tables_sql:
            return [r[0] for r in self.query(connection, dialect.tables_sql, [schema] * dialect.tables_schema_params)]
        try:
            result = connection.jconn.getMetaData().getTables(None, self._escape(connection, schema), "%", None)
            rows = self._metadata_rows(connection, result, ["TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE"])
        except Exception as e:
            raise self.source_error(e) from None
        kinds = {"TABLE", "BASE TABLE", "VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE", "PARTITIONED TABLE",
                 "EXTERNAL TABLE", "SYNONYM"}
        return sorted(r[1] for r in rows if r[0] == schema and str(r[2] or "").upper() in kinds)

    def query_tables_page(self, connection: Any, schema: str, limit: int, offset: int) -> list[str]:
        dialect: JdbcDialect = self.dialect
        if not dialect.tables_page_sql:
            return super().query_tables_page(connection, schema, limit, offset)
        params = [schema] * dialect.tables_schema_params + [limit, offset]
        return [r[0] for r in self.query(connection, dialect.tables_page_sql, params)]

    def query_columns(self, connection: Any, schema: str, table: str) -> list[ColumnInfo]:
        try:
            result = connection.jconn.getMetaData().getColumns(
                None, self._escape(connection, schema), self._escape(connection, table), "%")
            rows = self._metadata_rows(connection, result, [
                "TABLE_SCHEM", "TABLE_NAME", "COLUMN_NAME", "DATA_TYPE", "TYPE_NAME", "COLUMN_SIZE",
                "DECIMAL_DIGITS", "NULLABLE", "ORDINAL_POSITION"])
        except Exception as e:
            raise self.source_error(e) from None
        rows = sorted((r for r in rows if r[0] == schema and r[1] == table), key=lambda r: int(r[8]))
        return [JdbcColumnInfo(r[2], str(r[4] or ""), _int_or_none(r[5]), _int_or_none(r[6]), int(r[7]) != 0,
                               jdbc_type=int(r[3])) for r in rows]

    def query_is_view(self, connection: Any, schema: str, table: str) -> bool:
        try:
            result = connection.jconn.getMetaData().getTables(
                None, self._escape(connection, schema), self._escape(connection, table), None)
            rows = self._metadata_rows(connection, result, ["TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE"])
        except Exception as e:
            raise self.source_error(e) from None
        return any(r[0] == schema and r[1] == table and "VIEW" in str(r[2] or "").upper() for r in rows)

    def query_primary_key(self, connection: Any, schema: str, table: str) -> list[str]:
        try:
            result = connection.jconn.getMetaData().getPrimaryKeys(None, schema, table)
            rows = self._metadata_rows(connection, result, ["COLUMN_NAME", "KEY_SEQ"])
        except Exception as e:
            raise self.source_error(e) from None
        return [r[0] for r in sorted(rows, key=lambda r: int(r[1]))]

    # ------------------------------------------------------------------------------------- records

    def fetch(self, connection: Any, query: SourceQuery) -> Iterator[pa.RecordBatch]:
        """Typed getters straight into Arrow, streaming (``fetch_size`` rows per round trip)."""
        jconn = connection.jconn
        dialect: JdbcDialect = self.dialect
        in_transaction = False
        statement = result = None
        try:
            if dialect.stream_in_transaction and jconn.getAutoCommit():
                jconn.setAutoCommit(False)
                in_transaction = True
            statement = jconn.prepareStatement(query.sql)
            statement.setFetchSize(self.fetch_size)
            params = query.params if isinstance(query.params, Sequence) else list(query.params.values())
            for i, value in enumerate(params, 1):
                statement.setObject(i, to_java(value))
            result = statement.executeQuery()
            yield from self._batches(result, query.columns)
        except ConnectorError:
            raise
        except Exception as e:
            raise self.source_error(e, query.sql) from None
        finally:
            for closable in (result, statement):
                if closable is not None:
                    try:
                        closable.close()
                    except Exception as e:  # closing after a failure may fail again
                        log.debug("closing a JDBC resource failed: %s", type(e).__name__)
            if in_transaction:
                try:
                    jconn.rollback()
                    jconn.setAutoCommit(True)
                except Exception as e:  # the connection is broken: the pool drops it on validation
                    log.debug("ending a read transaction failed: %s", type(e).__name__)

    def _batches(self, result: Any, columns: Sequence[SourceColumn]) -> Iterator[pa.RecordBatch]:
        text = self.dialect.text_values
        readers = [make_reader(result, i, c.type, text=text) for i, c in enumerate(columns, 1)]
        next_row = result.next
        rows_per_batch = self.initial_fetch_rows
        while True:
            values: list[list[Any]] = [[] for _ in readers]
            pairs = [(read, out.append) for read, out in zip(readers, values, strict=True)]
            count = 0
            more = True
            while count < rows_per_batch:
                if not next_row():
                    more = False
                    break
                for read, append in pairs:
                    append(read())
                count += 1
            if count:
                if columns:
                    arrays = [build_array(v, c, text=text) for v, c in zip(values, columns, strict=True)]
                    batch = pa.RecordBatch.from_arrays(arrays, names=[c.name for c in columns])
                else:
                    batch = empty_batch(count)
                yield batch
                if batch.nbytes:
                    per_row = batch.nbytes / count
                    rows_per_batch = max(64, min(1_000_000, int(self.target_batch_bytes / max(per_row, 1.0))))
            if not more:
                return

    # ------------------------------------------------------------------------------------- passthrough

    def passthrough_columns(self, connection: Any, query: str) -> list[SourceColumn]:
        """Result columns from the prepared statement's metadata: the query is not run."""
        jconn = connection.jconn
        statement = None
        try:
            statement = jconn.prepareStatement(query)
            meta = statement.getMetaData()
            if meta is None:
                raise SourceError("the driver cannot describe the passthrough query's result without running it; "
                                  "it must be a SELECT")
            columns = []
            for i in range(1, meta.getColumnCount() + 1):
                name = str(meta.getColumnLabel(i) or meta.getColumnName(i))
                info = JdbcColumnInfo(name, str(meta.getColumnTypeName(i) or ""), int(meta.getPrecision(i)),
                                      int(meta.getScale(i)), jdbc_type=int(meta.getColumnType(i)))
                columns.append(SourceColumn(name.lower(), name, self.type_map.to_arrow(info), info.type_name))
            return columns
        except ConnectorError:
            raise
        except Exception as e:
            raise self.source_error(e, query) from None
        finally:
            if statement is not None:
                try:
                    statement.close()
                except Exception as e:  # nothing to do about it
                    log.debug("closing a statement failed: %s", type(e).__name__)


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

