"""SQLite: the zero-setup default adapter (``sqlite://jdbc:sqlite:/absolute/path.db``).

SQLite stores values by storage class, not by declared type, so this adapter is careful about what it lets
SQLite evaluate: comparisons of integers, floats, booleans and text are exact; decimals, dates and timestamps
(stored as REAL or TEXT) are compared by the framework on the values actually returned. LIKE is
case-insensitive in SQLite, so patterns go through GLOB instead. Division by zero yields NULL in SQLite but an
error in Athena, so division stays in the framework too.

Types and storage classes. A declared type gives a column its affinity, but any value can still be stored in
any column; a pushed comparison is exact only on values of the storage class the exposed type expects
(integer 3 never equals text '3'). So values are read strictly: a value of another storage class (text in an
INTEGER column, a BLOB in a TEXT column, text 'true' in a BOOLEAN column) is an error naming the column, never
converted into something the pushed predicates did not see. Columns with no declared type (a view's computed
columns, ``CREATE TABLE t (x)``) take their type from the storage classes of their first rows
(``_UNDECLARED_SAMPLE``): integers -> bigint, integers and reals -> double, blobs -> varbinary, anything else
(text, a mix, no values) -> varchar read as ``CAST(x AS TEXT)`` - SQLite's own text of each value, which is
what comparisons then see. Varchar columns without TEXT affinity (``JSON``, ``STRING``...) are read the same
way: NUMERIC affinity turns numeric-looking text into numbers. Varbinary columns are read as
``CAST(x AS BLOB)``.

Collations. Athena compares strings by code point; SQLite by the column's collation (``NOCASE``, ``RTRIM``...).
Every pushed string comparison, IN list and ORDER BY says ``COLLATE BINARY`` (code point order for UTF-8,
and indexes with the default collation still apply); GLOB ignores collations.

The database is opened read-only. Tables with a rowid can be read in parallel: ``sqlite_rows_per_split`` rows
of rowid range per split (default: one split per table).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from adapters.sql.adapter import CasingMode, SourceTable, SqlAdapter
from adapters.sql.convert import iso_text_column
from adapters.sql.decimal_columns import decimals_from_numbers
from adapters.sql.types import VARCHAR, ColumnInfo, parse_arguments
from adapters.sqlite.connect import parse_sqlite_url
from adapters.sqlite.dialect import SqliteColumnInfo, SqliteDialect
from adapters.sqlite.engine import ENGINE
from adapters.sqlite.guard import open_read_only
from connector import kernels
from connector.adapter import RequestContext
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.errors import ConfigurationError, InvalidRequest, SourceError
from connector.lazy_import import lazy_module
from connector.protocol.constraints import Constraints
from connector.protocol.messages import Split
from connector.protocol.types import athena_type_name
from connector.pushdown.sql import PlainPredicate, SourceColumn, SqlCompiler, is_string
from connector.tokens import read_number

if TYPE_CHECKING:
    from sqlglot import exp
else:  # imported by the first statement built as a tree: catalog queries and plain reads need none
    exp = lazy_module("sqlglot.expressions", globals(), "exp")

_MAX_SPLITS = 256
#: Rows whose storage classes decide the type of a column with no declared type.
_UNDECLARED_SAMPLE = 1000
_EXACT_DOUBLE_INTEGER = 2**53


class SqliteAdapter(SqlAdapter):
    engine = ENGINE
    dialect = SqliteDialect()
    default_casing = CasingMode.CASE_INSENSITIVE_SEARCH

    def __init__(self, spec: ConnectionSpec, settings: Settings) -> None:
        super().__init__(spec, settings)
        self.path = parse_sqlite_url(spec.url)
        self.rows_per_split = self.options.optional_number("sqlite_rows_per_split")

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
        undeclared = [name for name, declared, _ in rows if not (declared or "").strip()]
        classes = self._storage_classes(connection, schema, table, undeclared) if undeclared else {}
        out: list[ColumnInfo] = []
        for name, declared, notnull in rows:
            precision, scale = parse_arguments(declared or "")
            out.append(SqliteColumnInfo(name, declared or "", precision, scale, not notnull,
                                        storage_classes=classes.get(name, frozenset())))
        return out

    def _storage_classes(self, connection: Any, schema: str, table: str,
                         columns: Sequence[str]) -> dict[str, frozenset[str]]:
        """``typeof()`` of each column over the table's first rows (a bounded read, also for a view)."""
        source = exp.table_(exp.to_identifier(table, quoted=True), db=exp.to_identifier(schema, quoted=True))
        sample = exp.select(*(exp.func("typeof", exp.column(c, quoted=True)) for c in columns)).from_(source)
        rows = self.query(connection, sample.limit(_UNDECLARED_SAMPLE).sql("sqlite"))
        return {c: frozenset(r[i] for r in rows) for i, c in enumerate(columns)}

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

    # ------------------------------------------------------------------------------------- records

    def column_to_arrow(self, values: list[Any], column: SourceColumn) -> pa.Array:
        t = column.type
        stored = _from_storage(values, column)
        if stored is not None:
            return stored
        if _allowed(t) is None:
            return super().column_to_arrow(values, column)
        # The usual case converts in one Arrow pass that also proves the storage classes right: Arrow's typed
        # conversion refuses text and blobs for numbers, and its inference tells text from blobs (which it
        # would otherwise take as UTF-8 text). Anything else gets the value-by-value check.
        try:
            # Inferred, not typed, for integers too: pyarrow's typed conversion truncates a REAL 0.5 into 0.
            fast = pa.array(values) if is_string(t) or pa.types.is_integer(t) else pa.array(values, type=t)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            fast = None
        if fast is not None and fast.type == t:
            return fast
        if fast is not None and pa.types.is_null(fast.type):
            return pa.nulls(len(values), t)
        _check_storage_classes(values, column)
        return super().column_to_arrow(values, column)

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


# Python types of the values sqlite3 returns for each storage class: INTEGER int, REAL float, TEXT str, BLOB bytes.
_STORAGE = {int: "INTEGER", float: "REAL", str: "TEXT", bytes: "BLOB"}
_NONE = type(None)


def _allowed(t: pa.DataType) -> tuple[type, ...] | None:
    """The storage classes a pushed comparison on a column of this type treats as Athena would (None: any)."""
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return (int,)
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return (int, float)
    if is_string(t):
        return (str, int, float)  # numbers occur only in passthrough results (columns are read as text)
    if pa.types.is_binary(t):
        return (bytes, str)
    return None


def _from_storage(values: list[Any], column: SourceColumn) -> pa.Array | None:
    """A column of a type SQLite stores as another (0/1 INTEGER booleans, REAL decimals, ISO TEXT dates and
    timestamps) converted a column at a time, or None for the general path (which also names a bad value).

    Tried first because that is how SQLite holds these types: the general path would first fail a typed
    conversion and scan the storage classes, on every chunk. The storage classes ``_allowed`` demands are proven
    on the way (booleans INTEGER, decimals INTEGER or REAL: their float64 conversion refuses text and blobs), and
    dates and timestamps are read from ISO text as ``adapters.sql.convert``'s whole-column path reads them."""
    t = column.type
    try:
        if pa.types.is_boolean(t):
            numbers = pa.array(values)  # int64 only when every value is an INTEGER (typed, 0.5 would be 0)
            if pa.types.is_null(numbers.type):
                return pa.nulls(len(values), t)
            if numbers.type != pa.int64():
                return None
            low, high = kernels.min_max(numbers)
            return kernels.cast(numbers, t) if low is None or (low >= 0 and high <= 1) else None
        if pa.types.is_decimal(t):
            return decimals_from_numbers(values, t)
        if (pa.types.is_timestamp(t) and t.tz is None and t.unit == "ms") or pa.types.is_date32(t):
            return iso_text_column(values, t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None
    return None


def _check_storage_classes(values: Sequence[Any], column: SourceColumn) -> None:
    allowed = _allowed(column.type)
    if allowed is None:
        return
    kinds = set(map(type, values))
    kinds.discard(_NONE)
    problem = next((v for v in values if v is not None and not isinstance(v, allowed)), None) if (
        not kinds.issubset(allowed)) else None
    if problem is None and pa.types.is_floating(column.type) and int in kinds:
        problem = next((v for v in values if type(v) is int and abs(v) > _EXACT_DOUBLE_INTEGER), None)
    if problem is None:
        return
    shown = repr(problem)[:60]
    kind = _STORAGE.get(type(problem), type(problem).__name__)
    declared = f"declared type {column.source_type!r}" if column.source_type.strip() else "no declared type"
    raise SourceError(
        f"column {column.name!r} ({declared}, read as {athena_type_name(column.type)}) holds the SQLite {kind} "
        f"value {shown}: SQLite compares values of another storage class differently, so it cannot be read "
        f"exactly; store it as the column's type, or read the column through a view that CASTs it")


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
