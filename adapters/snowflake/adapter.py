"""Snowflake through snowflake-connector-python: Arrow-native reads, parallel splits from result batches.

Connection strings and credentials: ``adapters.snowflake.connect``. Metadata comes from the connection
database's INFORMATION_SCHEMA (tables, views and materialized views alike); Snowflake upper-cases unquoted
names, so Athena's lower-case names are resolved case-insensitively by default (``casing_mode``).

Splits (``snowflake_split_mode``, default ``auto``): Snowflake returns a finished result as a list of
chunks (``cursor.get_result_batches()``). In ``batches`` mode GetSplits runs the pushed-down query once and
hands out contiguous runs of its chunks as splits; each split re-opens that result by query id and reads
only its chunks, as Arrow (a process keeps the batches of the results it ran or re-opened for ten minutes,
so it re-opens a result at most once for all the splits it reads: ``RecentResults``). The table is scanned
once, and no row can appear in two splits. Trade-offs:

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

Types, the dialect and result conversion: ``adapters.snowflake.dialect``; split properties and batch grouping:
``adapters.snowflake.batches``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from adapters.snowflake.batches import (
    QUERY_ID,
    RecentResults,
    group_batches,
    is_query_id,
    parse_split,
    parse_token,
    split_page,
)
from adapters.snowflake.connect import SnowflakeUrl, connect_arguments, parse_snowflake_url
from adapters.snowflake.dialect import (
    TYPE_CODES,
    SnowflakeDialect,
    result_batches,
)
from adapters.snowflake.engine import ENGINE
from adapters.sql.adapter import CasingMode, ErrorRule, SourceTable, SqlAdapter
from adapters.sql.types import VARCHAR, ColumnInfo
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
    first_line,
)
from connector.protocol.constraints import Constraints
from connector.protocol.messages import Split, TableName
from connector.pushdown.sql import SourceColumn, SourceQuery
from connector.redact import scrub

log = logging.getLogger("afq.snowflake")


# ------------------------------------------------------------------------------------------ adapter


class SnowflakeAdapter(SqlAdapter):
    engine = ENGINE
    dialect = SnowflakeDialect()
    default_casing = CasingMode.CASE_INSENSITIVE_SEARCH

    def __init__(self, spec: ConnectionSpec, settings: Settings) -> None:
        super().__init__(spec, settings)
        self.url: SnowflakeUrl = parse_snowflake_url(spec.url)
        if not self.url.database:
            raise ConfigurationError("the Snowflake connection string needs db=<database> (metadata comes from "
                                     "that database's INFORMATION_SCHEMA)")
        options = self.options
        self.split_mode = options.text("snowflake_split_mode")
        self.single_split_bytes = options.number("snowflake_single_split_bytes")
        self.split_bytes = options.number("snowflake_split_bytes")
        self.split_rows = options.number("snowflake_split_rows")
        self.max_splits = options.number("snowflake_max_splits")
        self.session_check_seconds = options.number("snowflake_session_check_seconds")
        self._checked: dict[int, float] = {}  # id(connection) -> when it was last known to be alive
        self.recent_results = RecentResults()

    # ------------------------------------------------------------------------------------- connections

    def connect(self) -> Any:
        import snowflake.connector

        arguments = connect_arguments(self.spec, self.url)
        secrets = [v for k, v in arguments.items() if k in ("password", "private_key") and v]
        try:
            connection = snowflake.connector.connect(**arguments)
        except Exception as e:
            raise self._login_error(e, arguments["user"], secrets) from None
        with self._lock:
            self._checked[id(connection)] = time.monotonic()
        return connection

    def _login_error(self, error: Exception, user: str, secrets: Sequence[Any]) -> ConnectorError:
        errno = getattr(error, "errno", None)
        message = scrub(first_line(error, limit=None), secrets)[:500]
        where = f"account {self.url.account!r} at {self.url.host}:{self.url.port}"
        if errno in (390100, 390101, 390102, 390144, 390190, 390318, 394304) or getattr(error, "sqlstate", "") \
                == "28000":
            return AccessDenied(f"Snowflake rejected the login of user {user!r} to {where}: {message}")
        return SourceError(f"cannot connect to Snowflake {where}: {message}")

    def is_alive(self, connection: Any) -> bool:
        """Closed sessions and sessions whose master token expired (the driver cannot renew them: a statement
        would fail with 390114) are replaced. The driver renews session tokens itself, so a fresh session
        needs no round trip; one idle longer than ``snowflake_session_check_seconds`` is probed once, since the
        server may have ended it (idle timeout, a dropped or altered user)."""
        try:
            if connection.is_closed() or connection.is_expired():
                return False
        except Exception:
            return False
        now = time.monotonic()
        with self._lock:
            checked = self._checked.get(id(connection))
        if checked is not None and now - checked < self.session_check_seconds:
            with self._lock:
                self._checked[id(connection)] = now
            return True
        alive = super().is_alive(connection)
        with self._lock:
            if alive:
                self._checked[id(connection)] = now
            else:
                self._checked.pop(id(connection), None)
        return alive

    #: 000604 statement cancelled, 000630 statement or warehouse timeout reached (the driver's ``errno``).
    error_rules = (ErrorRule(frozenset({"604", "630"}), SourceTimeout, "{source}: the statement timed out: {text}",
                             phrases=("timeout",)),)

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
        # Snowflake rejects a bound LIMIT/OFFSET in some statements ("Invalid row count '?'"): the page bounds
        # are validated integers, written as sqlglot literals.
        return [r[0] for r in self.query(connection, tables_page_sql(limit, offset), (schema, schema))]

    def query_columns(self, connection: Any, schema: str, table: str) -> list[ColumnInfo]:
        rows = self.query(connection,
                          "SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, IS_NULLABLE, "
                          "COLLATION_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
                          "ORDER BY ORDINAL_POSITION", (schema, table))
        return [ColumnInfo(name, str(data_type).upper(), None if precision is None else int(precision),
                           None if scale is None else int(scale), str(nullable).upper() != "NO",
                           str(collation) if collation else None)
                for name, data_type, precision, scale, nullable, collation in rows]

    def query_is_view(self, connection: Any, schema: str, table: str) -> bool:
        rows = self.query(connection, "SELECT COUNT(*) FROM INFORMATION_SCHEMA.VIEWS WHERE TABLE_SCHEMA = ? AND "
                                      "TABLE_NAME = ?", (schema, table))
        return bool(rows and rows[0][0])

    def query_table_bytes(self, connection: Any, schema: str, table: str) -> int | None:
        rows = self.query(connection, "SELECT BYTES FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND "
                                      "TABLE_NAME = ?", (schema, table))
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    # ------------------------------------------------------------------------------------- planning

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
        with self.lease() as connection:
            if next_token:
                query_id, start = parse_token(next_token)
                batches = self._batches(connection, query_id)
            else:
                source = self.source_table(connection, table)
                if self._mode_for(connection, source, constraints) == "single":
                    return SplitPage([{}])
                query = self.plan_source(source, None, [c.name for c in source.columns], constraints)
                cursor = self.execute(connection, query.sql, query.params)
                try:
                    query_id = str(cursor.sfqid)
                    batches = cursor.get_result_batches()
                finally:
                    cursor.close()
                start = 0
                if batches is None or not is_query_id(query_id):
                    log.info("Snowflake returned no describable result batches; reading in one split")
                    return SplitPage([{}])
                self.recent_results.put(query_id, batches)
        groups = group_batches([(b.rowcount, b.uncompressed_size) for b in batches], self.split_bytes,
                               self.split_rows, self.max_splits)
        return SplitPage(*split_page(query_id, groups, len(batches), start))

    def _batches(self, connection: Any, query_id: str) -> list[Any]:
        """The result's batches: kept from this process's own run or re-open of it, else re-opened by id."""
        kept = self.recent_results.get(query_id)
        if kept is not None:
            return kept
        batches = self.reopen(connection, query_id)
        self.recent_results.put(query_id, batches)
        return batches

    def reopen(self, connection: Any, query_id: str) -> list[Any]:
        """The batches of a finished result, fetched again by query id (a round trip to Snowflake)."""
        cursor = connection.cursor()
        try:
            cursor.query_result(query_id)
            batches = cursor.get_result_batches()
        except Exception as e:
            raise SourceError(f"the result of Snowflake query {query_id} cannot be re-opened (results are kept "
                              f"24 hours; re-run the Athena query): {first_line(e)}") from None
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
        query_id, first, last, count = parse_split(split.properties)

        def begin(connection: Any) -> Scan:
            query = self.plan(connection, table, schema, split, constraints)

            def batches() -> Iterator[pa.RecordBatch]:
                available = self._batches(connection, query_id)
                if len(available) != count:
                    raise InvalidRequest(f"split names {count} result batches but Snowflake query {query_id} has "
                                         f"{len(available)}")
                for result in batch_tables(available[first : last + 1], connection, self.translate_error):
                    yield from self._select(result, query.columns)

            return Scan(batches(), query.residual,
                        description=f"result batches {first}..{last} of Snowflake query {query_id}")

        return self.leased_scan(begin)

    def _select(self, result: pa.Table, columns: Sequence[SourceColumn]) -> Iterator[pa.RecordBatch]:
        names = result.column_names
        index = {n: i for i, n in enumerate(names)}
        missing = [c.source_name for c in columns if c.source_name not in index]
        if missing:
            raise SourceError(f"the Snowflake result has no column(s) {missing}")
        yield from result_batches(result, columns, [index[c.source_name] for c in columns])

    def fetch(self, connection: Any, query: SourceQuery) -> Iterator[pa.RecordBatch]:
        """Arrow straight from the driver, one result chunk at a time, each decoded with its own schema.

        Not ``fetch_arrow_batches``: the 5.x driver reads every chunk of a result as one Arrow stream typed by the
        first chunk, and a server picks a NUMBER column's integer width per chunk (int8 where the values fit),
        so a later, wider chunk would be misread."""
        cursor = self.execute(connection, query.sql, query.params)
        try:
            try:
                batches = cursor.get_result_batches()
            except Exception as e:
                raise self.translate_error(e) from None
            if batches is None:
                raise SourceError("Snowflake returned a result without result batches")
            for table in batch_tables(batches, connection, self.translate_error):
                yield from result_batches(table, query.columns)
        finally:
            cursor.close()

    # ------------------------------------------------------------------------------------- passthrough

    def passthrough_columns(self, connection: Any, query: str) -> list[SourceColumn]:
        """Described by Snowflake without running the query (``describeOnly``)."""
        cursor = connection.cursor()
        try:
            description = cursor.describe(query) or []
        except Exception as e:
            raise self.translate_error(e) from None
        finally:
            cursor.close()
        return [SourceColumn(d.name.lower(), d.name, self.description_type(d), TYPE_CODES.get(d.type_code, ""))
                for d in description]

    def description_type(self, description: Sequence[Any]) -> pa.DataType:
        name = TYPE_CODES.get(description[1])
        if name is None:
            return VARCHAR
        precision, scale = description[4], description[5]
        return self.type_map.to_arrow(ColumnInfo(str(description[0]), name, precision, scale))


# ------------------------------------------------------------------------------------------ helpers


_MAX_PAGE_BOUND = 10**9


def tables_page_sql(limit: int, offset: int) -> str:
    """``SnowflakeAdapter._TABLES`` with one page's LIMIT and OFFSET written as integer literals."""
    for name, value in (("limit", limit), ("offset", offset)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_PAGE_BOUND:
            raise InvalidRequest(f"table page {name} {value!r} is not a whole number between 0 and {_MAX_PAGE_BOUND}")
    tree = sqlglot.parse_one(SnowflakeAdapter._TABLES, read="snowflake")
    assert isinstance(tree, exp.Union)
    tree.set("limit", exp.Limit(expression=exp.Literal.number(limit)))
    tree.set("offset", exp.Offset(expression=exp.Literal.number(offset)))
    return tree.sql("snowflake")


def batch_tables(batches: Sequence[Any], connection: Any,
                 translate_error: Callable[[Exception], ConnectorError]) -> Iterator[pa.Table]:
    """Result batches as Arrow tables, NUMBER(p, s > 0) as decimals. The 5.x driver lists a batch for a chunk
    that carries no rows (a schema-only first chunk) and its ``to_arrow()`` is None: nothing to read there."""
    for batch in batches:
        try:
            table = batch.to_arrow(connection, number_to_decimal=True)
        except Exception as e:
            raise translate_error(e) from None
        if table is not None:
            yield table

