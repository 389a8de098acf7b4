"""SQLite: the zero-setup default adapter (``sqlite://jdbc:sqlite:/absolute/path.db``).

SQLite stores values by storage class, not by declared type, so this adapter is careful about what it lets
SQLite evaluate: comparisons of integers, floats, booleans and text are exact; decimals, dates and timestamps
(stored as REAL or TEXT) are compared by the framework on the values actually returned. LIKE is
case-insensitive in SQLite, so patterns go through GLOB instead. Division by zero yields NULL in SQLite but an
error in Athena, so division stays in the framework too.

The database is opened read-only. Tables with a rowid can be read in parallel: ``sqlite_rows_per_split`` rows
of rowid range per split (default: one split per table).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from adapters.sql import CasingMode, SourceTable, SqlAdapter
from adapters.sqlite_guard import open_read_only
from adapters.types import TIMESTAMP, VARCHAR, ColumnInfo, TypeMap, exact_decimal, parse_arguments
from connector.adapter import RequestContext
from connector.config import Settings, int_setting
from connector.connection import ConnectionSpec
from connector.errors import ConfigurationError, InvalidRequest
from connector.lazy_import import lazy_module
from connector.protocol.constraints import Constraints
from connector.protocol.messages import Split
from connector.pushdown.sql import PlainPredicate, SourceColumn, SqlCompiler, SqlDialect
from connector.tokens import read_number

if TYPE_CHECKING:
    from sqlglot import exp
else:  # imported by the first statement built as a tree: catalog queries and plain reads need none
    exp = lazy_module("sqlglot.expressions", globals(), "exp")

_MAX_SPLITS = 256
_EXACT_DOUBLE_DIGITS = 15


def _variable_limit() -> int:
    """Bind parameters this build of SQLite accepts: 32,766 by default since 3.32, 999 before, 250,000 in Debian's.
    More than 32,766 are not used even where allowed (the statement costs time to build and parse)."""
    try:
        with contextlib.closing(sqlite3.connect(":memory:")) as connection:
            return min(32766, int(connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)))
    except (AttributeError, sqlite3.Error):  # no getlimit (Python < 3.11): the oldest default
        return 999


class SqliteDialect(SqlDialect):
    sqlglot_dialect = "sqlite"
    paramstyle = "qmark"
    plain_identifier_quote = '"'
    max_bind_parameters = _variable_limit()
    division_by_zero_errors = False  # x / 0 is NULL in SQLite

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        if pa.types.is_decimal(t):
            # Stored as REAL: rounding to a double keeps the order of distinct decimals of up to 15 digits,
            # so comparing the doubles is comparing the decimals we return. Wider ones stay in the framework.
            return bool(t.precision <= _EXACT_DOUBLE_DIGITS)
        if pa.types.is_date32(t) or pa.types.is_timestamp(t):
            return False  # stored as TEXT in whatever format: compare the values we return, in the framework
        return super().can_compare(t, ordering=ordering)

    def can_compute(self, function: str, result: pa.DataType, arguments: Sequence[pa.DataType]) -> bool:
        # SQLite turns a NaN result (inf - inf) into NULL; Athena keeps NaN. Integer arithmetic is exact.
        if pa.types.is_floating(result) or any(pa.types.is_floating(t) for t in arguments):
            return False
        return super().can_compute(function, result, arguments)

    def like(self, value: exp.Expression, pattern: exp.Expression) -> exp.Expression:
        return exp.Glob(this=value, expression=pattern)

    def like_pattern(self, pattern: str) -> str:
        # GLOB is case-sensitive like Athena's LIKE; escape GLOB's own metacharacters with brackets.
        out = []
        for ch in pattern:
            if ch == "%":
                out.append("*")
            elif ch == "_":
                out.append("?")
            elif ch in "*?[":
                out.append(f"[{ch}]")
            else:
                out.append(ch)
        return "".join(out)

    def bind_value(self, value: Any, t: pa.DataType) -> Any:
        if isinstance(value, bool):
            return int(value)
        return float(value) if isinstance(value, Decimal) else value


def _affinity(c: ColumnInfo) -> pa.DataType | None:
    """SQLite's own affinity rules for declared types the map does not list (None: no rule, read as varchar)."""
    name = c.type_name.upper()
    if "INT" in name:
        return pa.int64()
    if any(k in name for k in ("CHAR", "CLOB", "TEXT")):
        return VARCHAR
    if "BLOB" in name:
        return pa.binary()
    if any(k in name for k in ("REAL", "FLOA", "DOUB")):
        return pa.float64()
    return None


SQLITE_TYPES = TypeMap({
    "INTEGER": pa.int64(), "INT": pa.int64(), "BIGINT": pa.int64(), "SMALLINT": pa.int64(),
    "TINYINT": pa.int64(), "MEDIUMINT": pa.int64(),
    "REAL": pa.float64(), "DOUBLE": pa.float64(), "DOUBLE PRECISION": pa.float64(), "FLOAT": pa.float64(),
    "TEXT": VARCHAR, "VARCHAR": VARCHAR, "CHAR": VARCHAR, "NVARCHAR": VARCHAR, "NCHAR": VARCHAR, "CLOB": VARCHAR,
    "CHARACTER": VARCHAR, "VARYING CHARACTER": VARCHAR, "STRING": VARCHAR,
    "BLOB": pa.binary(),
    "DECIMAL": exact_decimal, "NUMERIC": exact_decimal,
    "DATE": pa.date32(),
    "DATETIME": TIMESTAMP, "TIMESTAMP": TIMESTAMP,
    "BOOLEAN": pa.bool_(), "BOOL": pa.bool_(),
}, fallback=_affinity, source="sqlite")


class SqliteAdapter(SqlAdapter):
    source_type = "sqlite"
    dialect: ClassVar[SqlDialect] = SqliteDialect()
    type_map = SQLITE_TYPES
    default_casing = CasingMode.CASE_INSENSITIVE_SEARCH
    hidden_schemas = frozenset({"temp"})

    def __init__(self, spec: ConnectionSpec, settings: Settings) -> None:
        super().__init__(spec, settings)
        self.path = parse_sqlite_url(spec.url)
        self.rows_per_split = int_setting(settings.env, "sqlite_rows_per_split", 0) or None

    def connect(self) -> sqlite3.Connection:
        try:
            connection = open_read_only(self.path)  # no statement, passthrough included, can write or persist
            connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.Error as e:
            raise ConfigurationError(f"cannot open SQLite database {self.path}: {e}") from None
        return connection

    # ------------------------------------------------------------------------------------- catalog

    def query_schemas(self, connection: Any) -> list[str]:
        return [r[1] for r in self.query(connection, "SELECT seq, name FROM pragma_database_list")]

    # Catalog queries are fixed text around the schema's quoted name (SqliteDialect.quote): no sqlglot for them.

    def _master(self, schema: str) -> str:
        return f"{self.dialect.quote(schema)}.sqlite_master"

    def _tables_select(self, schema: str) -> str:
        return (f"SELECT name FROM {self._master(schema)} WHERE type IN ('table', 'view') "  # noqa: S608 - quoted
                f"AND NOT name LIKE 'sqlite^_%' ESCAPE '^' ORDER BY name")

    def query_tables(self, connection: Any, schema: str) -> list[str]:
        return [r[0] for r in self.query(connection, self._tables_select(schema))]

    def query_tables_page(self, connection: Any, schema: str, limit: int, offset: int) -> list[str]:
        return [r[0] for r in self.query(connection, f"{self._tables_select(schema)} LIMIT ? OFFSET ?",
                                         (limit, offset))]

    def query_columns(self, connection: Any, schema: str, table: str) -> list[ColumnInfo]:
        rows = self.query(connection, 'SELECT name, type, "notnull" FROM pragma_table_info(?, ?) ORDER BY cid',
                          (table, schema))
        out = []
        for name, declared, notnull in rows:
            precision, scale = parse_arguments(declared or "")
            out.append(ColumnInfo(name, declared or "", precision, scale, not notnull))
        return out

    def query_is_view(self, connection: Any, schema: str, table: str) -> bool:
        rows = self.query(connection, f"SELECT type FROM {self._master(schema)} WHERE name = ?",  # noqa: S608
                          (table,))
        return bool(rows) and rows[0][0] == "view"

    # ------------------------------------------------------------------------------------- splits

    def plan_splits(self, ctx: RequestContext, connection: Any, source: SourceTable, partitions: pa.Table,
                    constraints: Constraints) -> list[dict[str, str]]:
        if self.rows_per_split is None or source.is_view:
            return [{}]
        table = f"{self.dialect.quote(source.schema)}.{self.dialect.quote(source.table)}"
        # Two scalar subqueries: SQLite answers a lone min() or max() of the rowid from the b-tree's ends, but
        # "SELECT min(rowid), max(rowid)" scans the whole table (0.3 s for 4M rows, bench/README.md).
        bounds = f"SELECT (SELECT min(rowid) FROM {table}), (SELECT max(rowid) FROM {table})"  # noqa: S608
        try:
            low, high = self.query(connection, bounds)[0]
        except Exception:  # WITHOUT ROWID tables have no rowid: read them in one split
            return [{}]
        if low is None:
            return [{}]
        span = high - low + 1
        count = min(_MAX_SPLITS, max(1, -(-span // self.rows_per_split)))
        step = -(-span // count)
        return [{"rowid_from": str(low + i * step), "rowid_to": str(min(high + 1, low + (i + 1) * step))}
                for i in range(count)]

    def split_where(self, source: SourceTable, split: Split, compiler: SqlCompiler) -> list[exp.Expression]:
        return [getattr(exp, {">=": "GTE", "<": "LT"}[p.op])(this=exp.column(p.column), expression=compiler.bind(
            p.value, p.type)) for p in self.split_where_plain(source, split)]

    def split_where_plain(self, source: SourceTable, split: Split) -> list[PlainPredicate]:
        start, stop = split.properties.get("rowid_from"), split.properties.get("rowid_to")
        if start is None or stop is None:
            return []
        low, high = read_number(start, signed=True), read_number(stop, signed=True)
        if low is None or high is None:
            raise InvalidRequest(f"split has a malformed rowid range {start[:40]!r}..{stop[:40]!r}")
        return [PlainPredicate("rowid", ">=", low, pa.int64()), PlainPredicate("rowid", "<", high, pa.int64())]

    # ------------------------------------------------------------------------------------- passthrough

    def passthrough_columns(self, connection: Any, query: str) -> list[SourceColumn]:
        """SQLite reports no result types: infer them from a sample of the rows (NULL-only -> varchar)."""
        cursor = self.execute(connection, query)
        try:
            names = [d[0] for d in cursor.description or []]
            sample = cursor.fetchmany(1000)
        finally:
            cursor.close()
        return [SourceColumn(n.lower(), n, _infer([r[i] for r in sample])) for i, n in enumerate(names)]


def _infer(values: Sequence[Any]) -> pa.DataType:
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return VARCHAR
    if kinds <= {int}:
        return pa.int64()
    if kinds <= {int, float}:
        return pa.float64()
    if kinds <= {bytes}:
        return pa.binary()
    return VARCHAR


def parse_sqlite_url(url: str) -> str:
    """``jdbc:sqlite:/abs/path.db`` (the JDBC form) -> ``/abs/path.db``."""
    prefix = "jdbc:sqlite:"
    if not url.startswith(prefix):
        raise ConfigurationError(
            "a SQLite connection string looks like sqlite://jdbc:sqlite:/absolute/path/to/file.db")
    path = url[len(prefix):]
    if path.startswith("//"):
        path = path[1:]
    if not path.startswith("/"):
        raise ConfigurationError(f"the SQLite database path must be absolute, got {path!r}")
    if "?" in path or "#" in path:
        raise ConfigurationError("the SQLite database path must not contain '?' or '#'")
    return path
