"""Snowflake through snowflake-connector-python: Arrow-native reads, parallel splits from result batches.

Connection strings and credentials: ``adapters.snowflake_config``. Metadata comes from the connection
database's INFORMATION_SCHEMA (tables, views and materialized views alike); Snowflake upper-cases unquoted
names, so Athena's lower-case names are resolved case-insensitively by default (``casing_mode``).

Splits (``snowflake_split_mode``, default ``auto``): Snowflake returns a finished result as a list of
chunks (``cursor.get_result_batches()``). In ``batches`` mode GetSplits runs the pushed-down query once and
hands out contiguous runs of its chunks as splits; each split re-opens that result by query id and reads
only its chunks, as Arrow. The table is scanned once, and no row can appear in two splits. Trade-offs:

* GetSplits does not know the projection, so the planning query selects every column of the table;
* the result must outlive the query: Snowflake keeps results 24 hours, and each split fetches fresh chunk
  URLs (presigned, valid for hours) when it re-opens the result, so only the 24 hours bound an Athena query;
* the first chunk is usually inline in the result response: every split re-receives it (small), and only
  the split that owns it decodes it;
* the planning query runs inside GetSplits (the metadata Lambda), so its run time counts against that
  Lambda's timeout: for results that take longer than that to compute, use ``single``.

``single`` runs the projected query inside one split (ReadRecords), the safe fallback. ``auto`` picks
``single`` for tables smaller than ``snowflake_single_split_bytes`` (INFORMATION_SCHEMA.TABLES.BYTES,
default 64 MiB) and for pushed LIMITs up to 100,000 rows, ``batches`` otherwise; it also falls back to
``single`` when the driver cannot describe a result's batches.

Split properties come back in requests that anyone allowed to invoke the Lambda can craft, so they hold no
URL, no key and nothing that is deserialized as code: a query id (validated as a UUID) and chunk indexes
(validated as bounded integers, and against the result's actual chunk count). Re-opening a result by id
only works for the Snowflake user the connector logs in as, and only reaches Snowflake's own endpoint.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from adapters.snowflake_config import SnowflakeUrl, connect_arguments, parse_snowflake_url
from adapters.sql import CasingMode, SourceTable, SqlAdapter
from adapters.types import TIMESTAMP, TIMESTAMP_TZ, VARCHAR, ColumnInfo, TypeMap, decimal_or_integer, normalize
from connector.adapter import RequestContext, Scan, SplitPage
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.errors import (
    AccessDenied,
    ConfigurationError,
    ConnectorError,
    InvalidRequest,
    SourceError,
    SourceTimeout,
)
from connector.protocol.constraints import (
    Bound,
    Constraints,
    EquatableValueSet,
    Expression,
    Marker,
    Range,
    SortedRangeSet,
    ValueSet,
    columns_of,
)
from connector.protocol.messages import Split, TableName
from connector.protocol.types import empty_batch
from connector.pushdown.sql import SourceColumn, SourceQuery, SqlDialect, plan_select

log = logging.getLogger("afq.snowflake")

SOURCE_TYPE_KEY = b"afq.source_type"
QUERY_ID = "sf_query_id"
FIRST = "sf_first_batch"
LAST = "sf_last_batch"
COUNT = "sf_batch_count"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MAX_BATCHES = 10_000_000
_MS = dt.timedelta(milliseconds=1)

# ------------------------------------------------------------------------------------------ types

_NUMBER = decimal_or_integer(18)
_SEMI_STRUCTURED = ("VARIANT", "OBJECT", "ARRAY", "GEOGRAPHY", "GEOMETRY", "VECTOR", "MAP")
SNOWFLAKE_TYPES = TypeMap({
    "NUMBER": _NUMBER, "DECIMAL": _NUMBER, "NUMERIC": _NUMBER, "FIXED": _NUMBER,
    "FLOAT": pa.float64(), "FLOAT4": pa.float64(), "FLOAT8": pa.float64(), "DOUBLE": pa.float64(),
    "DOUBLE PRECISION": pa.float64(), "REAL": pa.float64(),
    "TEXT": VARCHAR, "VARCHAR": VARCHAR, "CHAR": VARCHAR, "CHARACTER": VARCHAR, "STRING": VARCHAR,
    "NCHAR": VARCHAR, "NVARCHAR": VARCHAR, "NVARCHAR2": VARCHAR, "CHAR VARYING": VARCHAR,
    "BINARY": pa.binary(), "VARBINARY": pa.binary(),
    "BOOLEAN": pa.bool_(), "DATE": pa.date32(),
    "TIME": VARCHAR,  # Athena has no TIME column type
    "TIMESTAMP_NTZ": TIMESTAMP, "DATETIME": TIMESTAMP, "TIMESTAMP": TIMESTAMP,
    "TIMESTAMP_LTZ": TIMESTAMP_TZ, "TIMESTAMP_TZ": TIMESTAMP_TZ,
    **dict.fromkeys(_SEMI_STRUCTURED, VARCHAR),  # JSON text
}, fallback=lambda c: _collated(c), source="snowflake")
# Source types whose values Snowflake compares as Athena compares the values we return.
_NATIVE = {"NUMBER", "DECIMAL", "NUMERIC", "FIXED", "FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION",
           "REAL", "TEXT", "VARCHAR", "CHAR", "CHARACTER", "STRING", "NCHAR", "NVARCHAR", "NVARCHAR2",
           "CHAR VARYING", "BINARY", "VARBINARY", "BOOLEAN", "DATE", "TIMESTAMP_NTZ", "DATETIME", "TIMESTAMP",
           "TIMESTAMP_LTZ", "TIMESTAMP_TZ"}
# cursor.description type codes (snowflake.connector constants) -> source type names
_TYPE_CODES = {0: "NUMBER", 1: "FLOAT", 2: "TEXT", 3: "DATE", 4: "TIMESTAMP_NTZ", 5: "VARIANT", 6: "TIMESTAMP_LTZ",
               7: "TIMESTAMP_TZ", 8: "TIMESTAMP_NTZ", 9: "OBJECT", 10: "ARRAY", 11: "BINARY", 12: "TIME",
               13: "BOOLEAN", 14: "GEOGRAPHY", 15: "GEOMETRY", 16: "VECTOR", 17: "MAP"}


def _collated(c: ColumnInfo) -> pa.DataType:
    """``TEXT COLLATE 'en-ci'`` (how ``query_columns`` marks collated text) -> the base type's mapping."""
    base = c.type_name.upper().split(" COLLATE ", 1)[0]
    if base != c.type_name.upper():
        return SNOWFLAKE_TYPES.to_arrow(dataclasses.replace(c, type_name=base))
    log.warning("snowflake column %r has type %r, which has no declared mapping; it is read as varchar",
                c.name, c.type_name)
    return VARCHAR


def is_native(source_type: str) -> bool:
    """Whether pushing a comparison on a column of this source type is exact (collated text is not)."""
    return bool(source_type) and "COLLATE" not in source_type.upper() and normalize(source_type) in _NATIVE


# ------------------------------------------------------------------------------------------ dialect


class SnowflakeDialect(SqlDialect):
    sqlglot_dialect = "snowflake"
    paramstyle = "qmark"  # bound server-side by Snowflake
    # int / int is a decimal in Snowflake (7/2 = 3.5), and rounding its scale-6 quotient before a TRUNC
    # can cross an integer: integer division stays with the framework.
    integer_division_truncates = False
    like_escape = "!"

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        if pa.types.is_floating(t):
            return False  # Snowflake: NaN = NaN and NaN > every number; Athena: neither
        return super().can_compare(t, ordering=ordering)

    def can_compute(self, function: str, result: pa.DataType, arguments: Sequence[pa.DataType]) -> bool:
        if function == "$modulus":
            return False  # MOD by zero is not an error in every Snowflake context; Athena's always is
        return super().can_compute(function, result, arguments)

# ------------------------------------------------------------------------------------------ constraints


def _shift(value: Any) -> Any:
    return value + _MS


def _timestamp_value_set(value_set: ValueSet) -> ValueSet | None:
    """The same set over full-precision source values for a column Athena sees truncated to milliseconds.

    ``trunc(x) > v`` is ``x >= v + 1ms`` and ``trunc(x) <= v`` is ``x < v + 1ms``; both forms agree on
    millisecond values too, so the result is also right where the framework evaluates it. None when the
    set cannot be restated (a NOT IN list) and must stay with the framework.
    """
    if isinstance(value_set, EquatableValueSet):
        if not value_set.white_list:
            return None
        ranges = tuple(Range(Marker(v, Bound.EXACTLY), Marker(v, Bound.EXACTLY)) for v in value_set.values
                       if v is not None)
        value_set = SortedRangeSet(value_set.type, ranges, value_set.null_allowed)
    if not isinstance(value_set, SortedRangeSet):
        return value_set
    out = []
    for r in value_set.ranges:
        low, high = r.low, r.high
        if not low.unbounded and low.bound is Bound.ABOVE:
            low = Marker(_shift(low.value), Bound.EXACTLY)
        if not high.unbounded and high.bound is Bound.EXACTLY:
            high = Marker(_shift(high.value), Bound.BELOW)
        out.append(Range(low, high))
    return SortedRangeSet(value_set.type, tuple(out), value_set.null_allowed)


def split_constraints(constraints: Constraints, columns: dict[str, SourceColumn]) -> tuple[Constraints, Constraints]:
    """(what may be compiled for Snowflake, what the framework must apply whatever the compiler does)."""
    held = {n for n, c in columns.items() if not is_native(c.source_type)}
    summary: dict[str, ValueSet] = {}
    kept_summary: dict[str, ValueSet] = {}
    for name, value_set in constraints.summary.items():
        column = columns.get(name)
        if name in held or column is None:
            kept_summary[name] = value_set
            continue
        if pa.types.is_timestamp(column.type):
            restated = _timestamp_value_set(value_set)
            if restated is None:
                kept_summary[name] = value_set
                continue
            summary[name] = restated
            continue
        summary[name] = value_set
    timestamps = {n for n, c in columns.items() if pa.types.is_timestamp(c.type)}
    expressions: list[Expression] = []
    kept_expressions: list[Expression] = []
    for e in constraints.expression:
        # Expressions compare Athena's (truncated) timestamps: only the framework sees those.
        (kept_expressions if columns_of(e) & (held | timestamps) else expressions).append(e)
    filters_kept = bool(kept_summary or kept_expressions)
    order_held = any(f.column in held for f in constraints.order_by)
    if filters_kept or order_held:
        pushed = Constraints(summary=summary, expression=tuple(expressions))
        kept = Constraints(summary=kept_summary, expression=tuple(kept_expressions),
                           order_by=constraints.order_by, limit=constraints.limit)
    else:
        pushed = Constraints(summary=summary, expression=tuple(expressions), order_by=constraints.order_by,
                             limit=constraints.limit)
        kept = Constraints()
    return pushed, kept


def merge_residual(kept: Constraints, residual: Constraints) -> Constraints:
    if kept.is_empty:
        return residual
    return Constraints(summary={**residual.summary, **kept.summary},
                       expression=residual.expression + kept.expression,
                       order_by=kept.order_by or residual.order_by,
                       limit=kept.limit if kept.has_limit else residual.limit)


# ------------------------------------------------------------------------------------------ Arrow


def to_logical(array: pa.Array | pa.ChunkedArray, column: SourceColumn) -> pa.Array | pa.ChunkedArray:
    """A result column as Athena's logical type: timestamps floored to milliseconds, TIME and structured
    values as text; every other conversion is a safe cast that fails loudly rather than lose data."""
    target = column.type
    source = array.type
    if source == target:
        return array
    try:
        if pa.types.is_timestamp(source) and pa.types.is_timestamp(target):
            # Athena's timestamps are milliseconds: floor (as the JDBC driver's getTime() does), then cast.
            if source.unit != "ms":
                array = pc.floor_temporal(array, unit="millisecond")
            if source.tz is None and target.tz is not None:
                array = array.cast(pa.timestamp(source.unit, "UTC"))  # a wall clock read as UTC
            return array.cast(target, safe=True)
        if pa.types.is_string(target) and (pa.types.is_nested(source) or pa.types.is_dictionary(source)):
            return pa.array([None if v is None else json.dumps(v, default=str) for v in array.to_pylist()],
                            VARCHAR)
        return array.cast(target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
        raise SourceError(f"column {column.name!r}: cannot read Snowflake {column.source_type or source} as "
                          f"{target} without losing data ({str(e).splitlines()[0][:200]})") from None


def result_batches(table: pa.Table, columns: Sequence[SourceColumn], positions: Sequence[int] | None = None
                   ) -> Iterator[pa.RecordBatch]:
    """A result table's batches with the planned columns under Athena's names and types."""
    if positions is None:
        names = table.column_names
        if len(names) != len(columns):
            raise SourceError(f"Snowflake returned {len(names)} columns where {len(columns)} were selected")
        positions = range(len(columns))
    if not columns:
        if table.num_rows:
            yield empty_batch(table.num_rows)  # zero columns (count(*)): only the row count matters
        return
    converted = [to_logical(table.column(i), c) for i, c in zip(positions, columns, strict=True)]
    out = pa.Table.from_arrays(converted, names=[c.name for c in columns])
    yield from out.to_batches()


# ------------------------------------------------------------------------------------------ adapter


class SnowflakeAdapter(SqlAdapter):
    source_type = "snowflake"
    dialect: ClassVar[SqlDialect] = SnowflakeDialect()
    type_map = SNOWFLAKE_TYPES
    default_casing = CasingMode.CASE_INSENSITIVE_SEARCH
    hidden_schemas = frozenset({"information_schema"})

    def __init__(self, spec: ConnectionSpec, settings: Settings) -> None:
        super().__init__(spec, settings)
        self.url: SnowflakeUrl = parse_snowflake_url(spec.url)
        if not self.url.database:
            raise ConfigurationError("the Snowflake connection string needs db=<database> (metadata comes from "
                                     "that database's INFORMATION_SCHEMA)")
        env = settings.env
        mode = env.get("snowflake_split_mode", "auto").strip().lower()
        if mode not in ("auto", "batches", "single"):
            raise ConfigurationError(f"snowflake_split_mode={mode!r} is not one of auto, batches, single")
        self.split_mode = mode
        self.single_split_bytes = _positive(env, "snowflake_single_split_bytes", 64 << 20)
        self.split_bytes = _positive(env, "snowflake_split_bytes", 128 << 20)
        self.split_rows = _positive(env, "snowflake_split_rows", 4_000_000)
        self.max_splits = _positive(env, "snowflake_max_splits", 1000)

    # ------------------------------------------------------------------------------------- connections

    def connect(self) -> Any:
        import snowflake.connector

        arguments = connect_arguments(self.spec, self.url)
        secrets = [v for k, v in arguments.items() if k in ("password", "private_key") and v]
        try:
            return snowflake.connector.connect(**arguments)
        except Exception as e:
            raise self._login_error(e, arguments["user"], secrets) from None

    def _login_error(self, error: Exception, user: str, secrets: Sequence[Any]) -> ConnectorError:
        errno = getattr(error, "errno", None)
        message = _first_line(error, secrets)
        where = f"account {self.url.account!r} at {self.url.host}:{self.url.port}"
        if errno in (390100, 390101, 390102, 390144, 390190, 390318, 394304) or getattr(error, "sqlstate", "") \
                == "28000":
            return AccessDenied(f"Snowflake rejected the login of user {user!r} to {where}: {message}")
        return SourceError(f"cannot connect to Snowflake {where}: {message}")

    def is_alive(self, connection: Any) -> bool:
        # The connector renews session tokens itself; a round trip per request would only add latency.
        try:
            return not connection.is_closed()
        except Exception:
            return False

    #: 000625: "... aborted because the number of waiters for this lock exceeds the N statements limit".
    throttle_errors = frozenset({"625"})

    def source_error(self, error: Exception, sql: str = "") -> ConnectorError:
        message = _first_line(error, ())
        if getattr(error, "errno", None) in (604, 630) or "timeout" in message.lower():
            return SourceTimeout(f"snowflake: the statement timed out: {message}")
        return SourceError(f"snowflake error: {message}")

    # ------------------------------------------------------------------------------------- catalog

    def query_schemas(self, connection: Any) -> list[str]:
        names = [r[0] for r in self.query(connection, "SELECT SCHEMA_NAME FROM INFORMATION_SCHEMA.SCHEMATA "
                                                      "ORDER BY SCHEMA_NAME")]
        wanted = self.url.schema
        if wanted:  # the Java connector lists only the connection string's schema when one is given
            exact = wanted[1:-1] if wanted.startswith('"') and wanted.endswith('"') else None
            names = [n for n in names if (n == exact if exact is not None else n.upper() == wanted.upper())]
        return names

    _TABLES = ("SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? "
               "UNION SELECT TABLE_NAME FROM INFORMATION_SCHEMA.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY 1")

    def query_tables(self, connection: Any, schema: str) -> list[str]:
        return [r[0] for r in self.query(connection, self._TABLES, (schema, schema))]

    def query_tables_page(self, connection: Any, schema: str, limit: int, offset: int) -> list[str]:
        return [r[0] for r in self.query(connection, self._TABLES + " LIMIT ? OFFSET ?", (schema, schema, limit,
                                                                                         offset))]

    def query_columns(self, connection: Any, schema: str, table: str) -> list[ColumnInfo]:
        rows = self.query(connection,
                          "SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, IS_NULLABLE, "
                          "COLLATION_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
                          "ORDER BY ORDINAL_POSITION", (schema, table))
        out = []
        for name, data_type, precision, scale, nullable, collation in rows:
            type_name = str(data_type).upper()
            if collation and type_name in ("TEXT", "VARCHAR", "CHAR", "STRING") and str(collation).lower() not in (
                    "", "utf8", "binary"):
                type_name = f"{type_name} COLLATE {collation}"
            out.append(ColumnInfo(name, type_name, None if precision is None else int(precision),
                                  None if scale is None else int(scale), str(nullable).upper() != "NO"))
        return out

    def query_is_view(self, connection: Any, schema: str, table: str) -> bool:
        rows = self.query(connection, "SELECT COUNT(*) FROM INFORMATION_SCHEMA.VIEWS WHERE TABLE_SCHEMA = ? AND "
                                      "TABLE_NAME = ?", (schema, table))
        return bool(rows and rows[0][0])

    def query_table_bytes(self, connection: Any, schema: str, table: str) -> int | None:
        rows = self.query(connection, "SELECT BYTES FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND "
                                      "TABLE_NAME = ?", (schema, table))
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    # Source types travel in the schema metadata, so ReadRecords knows which columns compare natively.

    def arrow_schema(self, source: SourceTable) -> pa.Schema:
        schema = super().arrow_schema(source)
        fields = [f.with_metadata({**(f.metadata or {}), SOURCE_TYPE_KEY: c.source_type.encode()})
                  for f, c in zip(schema, source.columns, strict=True)]
        return pa.schema(fields, metadata=schema.metadata)

    def table_from_schema(self, table: TableName, schema: pa.Schema) -> SourceTable | None:
        source = super().table_from_schema(table, schema)
        if source is None:
            return None
        types = {f.name: (f.metadata or {}).get(SOURCE_TYPE_KEY, b"").decode() for f in schema}
        return dataclasses.replace(source, columns=tuple(dataclasses.replace(c, source_type=types.get(c.name, ""))
                                                         for c in source.columns))

    # ------------------------------------------------------------------------------------- planning

    def _resolve(self, connection: Any, table: TableName, schema: pa.Schema, constraints: Constraints) -> SourceTable:
        source = self.table_from_schema(table, schema) if len(schema) else None
        if source is None or not constraints.columns() <= source.column_map().keys():
            source = self.source_table(connection, table)
        return source

    def _plan(self, source: SourceTable, projection: Sequence[str], constraints: Constraints) -> SourceQuery:
        columns = source.column_map()
        pushed, kept = split_constraints(constraints, columns)
        query = plan_select(self.dialect, self.split_from(source, None), columns, projection, pushed)
        residual = merge_residual(kept, query.residual)
        needed = list(dict.fromkeys([*projection, *sorted(residual.columns())]))
        selected = {c.name: c for c in query.columns}
        if any(n not in selected for n in needed):  # residual columns the pushed part did not need
            query = plan_select(self.dialect, self.split_from(source, None), columns, needed, pushed)
        return dataclasses.replace(query, residual=residual)

    def plan(self, connection: Any, table: TableName, schema: pa.Schema, split: Split,
             constraints: Constraints) -> SourceQuery:
        source = self._resolve(connection, table, schema, constraints)
        return self._plan(source, schema.names, constraints)

    def _mode_for(self, connection: Any, source: SourceTable, constraints: Constraints) -> str:
        if self.split_mode != "auto":
            return self.split_mode
        if constraints.has_limit and constraints.limit <= 100_000:
            return "single"
        size = None if source.is_view else self.query_table_bytes(connection, source.schema, source.table)
        return "single" if size is not None and size <= self.single_split_bytes else "batches"

    def get_splits(self, ctx: RequestContext, table: TableName, partitions: pa.Table, constraints: Constraints,
                   next_token: str | None) -> SplitPage:
        if partitions.num_rows == 0:
            return SplitPage([])  # pruned to nothing
        with self.connection() as connection:
            if next_token:
                query_id, start = _parse_token(next_token)
                batches = self._batches(connection, query_id)
            else:
                source = self.source_table(connection, table)
                if self._mode_for(connection, source, constraints) == "single":
                    return SplitPage([{}])
                query = self._plan(source, [c.name for c in source.columns], constraints)
                cursor = self.execute(connection, query.sql, query.params)
                try:
                    query_id = str(cursor.sfqid)
                    batches = cursor.get_result_batches()
                finally:
                    cursor.close()
                start = 0
                if batches is None or not _UUID.match(query_id):
                    log.info("Snowflake returned no describable result batches; reading in one split")
                    return SplitPage([{}])
        groups = self.group_batches([(b.rowcount, b.uncompressed_size) for b in batches])
        page = groups[start : start + 1000]
        splits = [{QUERY_ID: query_id, FIRST: str(a), LAST: str(b), COUNT: str(len(batches))} for a, b in page]
        end = start + len(page)
        return SplitPage(splits, f"{query_id}/{end}" if end < len(groups) else None)

    def group_batches(self, sizes: Sequence[tuple[int, int | None]]) -> list[tuple[int, int]]:
        """Contiguous runs of result batches, each about ``snowflake_split_bytes`` or ``_rows``."""
        if not sizes:
            return []
        total_bytes = sum(s or 0 for _, s in sizes)
        total_rows = sum(r for r, _ in sizes)
        # Never more than max_splits: widen the targets so the runs fit.
        target_bytes = max(self.split_bytes, -(-total_bytes // self.max_splits))
        target_rows = max(self.split_rows, -(-total_rows // self.max_splits))
        groups: list[tuple[int, int]] = []
        first, rows, size = 0, 0, 0
        for i, (count, nbytes) in enumerate(sizes):
            rows += count
            size += nbytes or 0
            if rows >= target_rows or size >= target_bytes:
                groups.append((first, i))
                first, rows, size = i + 1, 0, 0
        if first < len(sizes):
            groups.append((first, len(sizes) - 1))
        while len(groups) > self.max_splits:  # byte and row targets can each close runs: merge neighbours
            groups = [(groups[i][0], groups[min(i + 1, len(groups) - 1)][1]) for i in range(0, len(groups), 2)]
        return groups

    def _batches(self, connection: Any, query_id: str) -> list[Any]:
        cursor = connection.cursor()
        try:
            cursor.query_result(query_id)
            batches = cursor.get_result_batches()
        except Exception as e:
            raise SourceError(f"the result of Snowflake query {query_id} cannot be re-opened (results are kept "
                              f"24 hours; re-run the Athena query): {_first_line(e, ())}") from None
        finally:
            cursor.close()
        if batches is None:
            raise SourceError(f"the result of Snowflake query {query_id} has no result batches")
        return list(batches)

    # ------------------------------------------------------------------------------------- records

    def read_split(self, ctx: RequestContext, table: TableName, schema: pa.Schema, split: Split,
                   constraints: Constraints) -> Scan:
        if QUERY_ID not in split.properties:
            return super().read_split(ctx, table, schema, split, constraints)
        query_id, first, last, count = _parse_split(split.properties)
        context = self.connection()
        connection = context.__enter__()
        state = {"closed": False}
        try:
            query = self.plan(connection, table, schema, split, constraints)
        except BaseException as e:
            context.__exit__(type(e), e, e.__traceback__)
            raise

        def close(error: BaseException | None = None) -> None:
            if not state["closed"]:
                state["closed"] = True
                context.__exit__(type(error) if error else None, error, error.__traceback__ if error else None)

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                available = self._batches(connection, query_id)
                if len(available) != count:
                    raise InvalidRequest(f"split names {count} result batches but Snowflake query {query_id} has "
                                         f"{len(available)}")
                for batch in available[first : last + 1]:
                    try:
                        result = batch.to_arrow(connection)
                    except Exception as e:
                        raise self.source_error(e) from None
                    yield from self._select(result, query.columns)
            except BaseException as e:
                close(e)
                raise
            close()

        return Scan(batches(), query.residual, close, f"result batches {first}..{last} of Snowflake query {query_id}")

    def _select(self, result: pa.Table, columns: Sequence[SourceColumn]) -> Iterator[pa.RecordBatch]:
        names = result.column_names
        index = {n: i for i, n in enumerate(names)}
        missing = [c.source_name for c in columns if c.source_name not in index]
        if missing:
            raise SourceError(f"the Snowflake result has no column(s) {missing}")
        yield from result_batches(result, columns, [index[c.source_name] for c in columns])

    def fetch(self, connection: Any, query: SourceQuery) -> Iterator[pa.RecordBatch]:
        """Arrow straight from the driver: ``fetch_arrow_batches`` chunk by chunk, converted once."""
        cursor = self.execute(connection, query.sql, query.params)
        try:
            try:
                for table in cursor.fetch_arrow_batches():
                    yield from result_batches(table, query.columns)
            except ConnectorError:
                raise
            except Exception as e:
                raise self.source_error(e, query.sql) from None
        finally:
            cursor.close()

    # ------------------------------------------------------------------------------------- passthrough

    def passthrough_columns(self, connection: Any, query: str) -> list[SourceColumn]:
        """Described by Snowflake without running the query (``describeOnly``)."""
        cursor = connection.cursor()
        try:
            description = cursor.describe(query) or []
        except Exception as e:
            raise self.source_error(e, query) from None
        finally:
            cursor.close()
        return [SourceColumn(d.name.lower(), d.name, self.description_type(d), _TYPE_CODES.get(d.type_code, ""))
                for d in description]

    def description_type(self, description: Sequence[Any]) -> pa.DataType:
        name = _TYPE_CODES.get(description[1])
        if name is None:
            return VARCHAR
        precision, scale = description[4], description[5]
        return self.type_map.to_arrow(ColumnInfo(str(description[0]), name, precision, scale))


# ------------------------------------------------------------------------------------------ helpers


def _positive(env: Any, name: str, default: int) -> int:
    text = str(env.get(name, "")).strip()
    if not text:
        return default
    if not text.isdigit() or int(text) <= 0:
        raise ConfigurationError(f"{name}={text!r} must be a positive whole number")
    return int(text)


def _first_line(error: Exception, secrets: Sequence[Any]) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    for secret in secrets:
        if isinstance(secret, str) and secret:
            line = line.replace(secret, "***")
    return line[:500]


def _bounded_int(properties: Any, key: str) -> int:
    text = properties.get(key)
    if not isinstance(text, str) or not text.isdigit() or len(text) > 9 or int(text) >= _MAX_BATCHES:
        raise InvalidRequest(f"split property {key} is missing or not a valid batch number")
    return int(text)


def _parse_split(properties: Any) -> tuple[str, int, int, int]:
    """Validated (query id, first batch, last batch, batch count) from a split's properties."""
    query_id = properties.get(QUERY_ID)
    if not isinstance(query_id, str) or not _UUID.match(query_id):
        raise InvalidRequest(f"split property {QUERY_ID} is not a Snowflake query id")
    first, last, count = (_bounded_int(properties, k) for k in (FIRST, LAST, COUNT))
    if not first <= last < count:
        raise InvalidRequest(f"split batch range {first}..{last} does not fit {count} batches")
    return query_id, first, last, count


def _parse_token(token: str) -> tuple[str, int]:
    query_id, _, start = token.partition("/")
    if not _UUID.match(query_id) or not start.isdigit() or len(start) > 9:
        raise InvalidRequest("invalid Snowflake split continuation token")
    return query_id, int(start)
