"""The base of every adapter that reaches its source through a DB-API driver.

An adapter for a SQL database is mostly declarations: a ``SourceDialect`` (what the database evaluates exactly,
how to say it, how its types read as Arrow), the catalog queries for schemas, tables and columns, and
optionally a split strategy. This class turns those into the metadata answers, the per-split SELECT with
pushdown through sqlglot, and Arrow batches.

Source names: Athena only speaks lower case. ``casing_mode`` (env, or the adapter's default) says how its
names map to the source's: ``none`` (as given), ``lower``, ``upper``, or ``case_insensitive_search`` (look the
name up in the catalog, case-insensitively - for tables and views alike). The source names found at GetTable
travel inside the Arrow schema's metadata, so ReadRecords needs no catalog query.
"""

from __future__ import annotations

import enum
import json
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, final

import pyarrow as pa

from adapters.sql.convert import to_arrow
from adapters.sql.dialect import SourceDialect
from adapters.sql.settings import CASING_MODE
from adapters.sql.types import ColumnInfo, TypeMap
from connector.adapter import Adapter, RequestContext, Scan, SplitPage, TableDefinition, TablePage
from connector.batching import concat
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.engines import EngineDeclaration, SettingValues
from connector.errors import (
    ConfigurationError,
    ConnectorError,
    InvalidRequest,
    SchemaNotFound,
    SourceError,
    SourceThrottled,
    SourceTimeout,
    TableNotFound,
    first_line,
)
from connector.lazy_import import lazy_module
from connector.protocol.constraints import Constraints
from connector.protocol.messages import Split, TableName
from connector.protocol.types import empty_batch
from connector.pushdown.sql import (
    PlainPredicate,
    SourceColumn,
    SourceQuery,
    SqlCompiler,
    is_string,
    plan_plain_select,
    plan_pushdown,
)
from connector.redact import scrub, scrub_exception
from connector.tokens import read_number

if TYPE_CHECKING:
    from sqlglot import exp
else:  # imported by the first statement built as a tree (connector.lazy_import)
    exp = lazy_module("sqlglot.expressions", globals(), "exp")

log = logging.getLogger("afq.sql")

SOURCE_TABLE_KEY = b"afq.source_table"
SOURCE_NAME_KEY = b"afq.source_name"
SOURCE_TYPE_KEY = b"afq.source_type"
SOURCE_COLLATION_KEY = b"afq.source_collation"
PAGE_TOKEN_PREFIX = "offset:"
_ANSI = SourceDialect()


class CasingMode(enum.Enum):
    NONE = "none"
    LOWER = "lower"
    UPPER = "upper"
    CASE_INSENSITIVE_SEARCH = "case_insensitive_search"

    @classmethod
    def parse(cls, value: str) -> CasingMode:
        try:
            return cls(value.strip().lower())
        except ValueError:
            options = ", ".join(m.value for m in cls)
            raise ConfigurationError(f"casing_mode={value!r} is not one of {options}") from None


@dataclass(frozen=True, slots=True)
class SourceTable:
    """A table or view resolved at the source: its real names and its columns."""

    schema: str
    table: str
    columns: tuple[SourceColumn, ...]
    is_view: bool = False

    def column_map(self) -> dict[str, SourceColumn]:
        return {c.name: c for c in self.columns}


class SqlAdapter(Adapter):
    """The DB-API adapter. ``source_type`` comes from the engine declaration (``engine``) when there is one."""

    default_casing: ClassVar[CasingMode] = CasingMode.CASE_INSENSITIVE_SEARCH
    #: The engine's declaration (``adapters/<engine>/engine.py``): its settings are parsed into ``options``.
    engine: ClassVar[EngineDeclaration | None] = None
    #: Statement that checks a pooled connection is still alive before reuse.
    validation_sql: ClassVar[str] = "SELECT 1"
    #: Rows of the first fetch; later fetches are about ``fetch_chunk_bytes`` of Arrow each, merged into
    #: batches of about ``target_batch_bytes``.
    initial_fetch_rows: ClassVar[int] = 2048
    fetch_chunk_bytes: ClassVar[int] = 256 << 10
    target_batch_bytes: ClassVar[int] = 4 << 20
    metadata_ttl_seconds: ClassVar[float] = 300.0
    #: Pushdown depends on each column's source type (CHAR vs VARCHAR, TIMESTAMP(n)...): a request schema without
    #: them (one built elsewhere) is not trusted, the table is looked up instead.
    source_types_required: ClassVar[bool] = False
    #: Driver error codes (SQLSTATEs, vendor codes: whatever ``error_codes`` finds) that mean "the source is
    #: refusing work for now" - too many sessions, a full queue. They become ``SourceThrottled``, which Athena
    #: sees as its throttle signal (it backs off and retries) rather than a failed query. The database's own
    #: codes are its dialect's (``SqlDialect.throttle_errors``); these are what the adapter's driver adds.
    throttle_errors: ClassVar[frozenset[str]] = frozenset()
    #: Codes that mean "the statement ran out of time at the source" (a statement timeout): ``SourceTimeout``.
    timeout_errors: ClassVar[frozenset[str]] = frozenset()

    # An adapter for one database declares its dialect as a class attribute (``dialect = SqliteDialect()``);
    # one that learns its database from the connection (JDBC by URL, Oracle by character set) overrides this
    # property. Nothing assigns it per instance.
    @property
    def dialect(self) -> SourceDialect:
        """What the database evaluates exactly as Athena does and how to say it, and what it declares: its type
        map, hidden schemas, throttle/timeout codes, the pushdown split (``SqlDialect.split``)."""
        return _ANSI

    _type_map: TypeMap | None

    @final
    @property
    def type_map(self) -> TypeMap:
        """Source types -> Arrow types: the dialect's, under this catalog's settings (``type_map_for``), built
        once per adapter - it remembers the unmapped types it met, for ``warn_unmapped``."""
        if self._type_map is None:
            self._type_map = self.dialect.type_map_for(self.options)
        return self._type_map

    #: What the driver's own code for an error (``error_fields``' ``code``) means, first match wins; an error no
    #: rule matches is a ``SourceError`` worded ``"{source} error: {text}"``.
    error_rules: ClassVar[tuple[ErrorRule, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A Ping answers with the declaration's source_type without importing the adapter: the adapter's must
        # be the same, so it is the declaration's (an adapter without one names its own).
        declared = cls.__dict__.get("engine")
        if declared is not None:
            if "source_type" in cls.__dict__ and cls.source_type != declared.source_type:
                raise TypeError(f"{cls.__name__}.source_type {cls.source_type!r} differs from its engine "
                                f"declaration's {declared.source_type!r}: declare it once, in the engine")
            cls.source_type = declared.source_type

    def __init__(self, spec: ConnectionSpec, settings: Settings) -> None:
        self.spec = spec
        self.settings = settings
        #: Every declared setting, validated once, ``<catalog>_`` prefixes honoured.
        self.options = (self.engine.read_settings(settings.env, spec.catalog) if self.engine is not None
                        else SettingValues.none())
        casing = CASING_MODE.read(settings.env, spec.catalog)
        self.casing = CasingMode.parse(casing) if isinstance(casing, str) else self.default_casing
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._tables: dict[tuple[str, str], tuple[float, SourceTable]] = {}
        self._warned: set[tuple[str, str, str]] = set()
        self._type_map = None
        #: Secrets this adapter knows (an inline password...): scrubbed from its errors with every registered one.
        self._secret_values: tuple[str, ...] = ()

    @classmethod
    def from_connection(cls, spec: ConnectionSpec, settings: Settings) -> Adapter:
        return cls(spec, settings)

    # ------------------------------------------------------------------------------------- connections

    def connect(self) -> Any:
        """A new DB-API connection."""
        raise NotImplementedError

    def is_alive(self, connection: Any) -> bool:
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self.validation_sql)
                cursor.fetchall()
            finally:
                cursor.close()
            return True
        except Exception:  # any driver error means "do not reuse"
            return False

    @contextmanager
    def lease(self) -> Iterator[Any]:
        """A pooled connection: reused across warm invocations, validated before reuse, never shared. It goes
        back to the pool when the block ends or is stopped early (``GeneratorExit``: a scan closed once its LIMIT
        was satisfied), and is closed when the block fails."""
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is not None and not self.is_alive(connection):
            _close_quietly(connection)
            connection = None
        if connection is None:
            try:
                connection = self.connect()
            except ConnectorError as e:
                # Adapters raise their connect errors "from None" inside the handler of the driver's error;
                # that error is still the context, and says whether the source is throttling.
                raise self.throttled(e.__context__, e) from None
        healthy = False
        try:
            yield connection
            healthy = True
        except GeneratorExit:  # the holder stopped reading: its cursors are closed, the connection is sound
            healthy = True
            raise
        finally:
            if healthy:
                with self._lock:
                    self._idle.append(connection)
            else:
                _close_quietly(connection)

    def connection(self) -> AbstractContextManager[Any]:
        """``lease`` under the name callers outside the adapters use."""
        return self.lease()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            _close_quietly(connection)

    def execute(self, connection: Any, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        cursor = connection.cursor()
        try:
            cursor.execute(sql, params) if params else cursor.execute(sql)
        except Exception as e:
            cursor.close()
            raise self.translate_error(e) from None
        return cursor

    def query(self, connection: Any, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.execute(connection, sql, params)
        try:
            return [tuple(r) for r in cursor.fetchall()]
        finally:
            cursor.close()

    def translate_error(self, error: BaseException) -> ConnectorError:
        """A driver error as the error the Athena user can act on: classified by ``error_rules``, then by
        ``throttle_errors``/``timeout_errors``, worded from ``error_fields``, scrubbed of every secret."""
        if isinstance(error, ConnectorError):  # raised by the adapter's own code inside a driver call
            return self.throttled(error, scrub_exception(error, self._secret_values))
        fields = _ErrorFields({k: scrub(v, self._secret_values)[:_TEXT_LIMIT]
                               for k, v in self.error_fields(error).items()})
        rule = next((r for r in self.error_rules if r.matches(fields["code"], fields["text"])), _UNMATCHED)
        message = scrub(rule.message.format_map(fields), self._secret_values)
        return self.throttled(error, rule.kind(message))

    def error_fields(self, error: BaseException) -> dict[str, str]:
        """What a driver error says, as the fields ``error_rules`` word messages with: ``source`` (the source's
        name), ``code`` (the driver's own code for it, what the rules match; '' if none), ``text`` (its first
        line) and ``detail`` (more that helps, if the driver says it). Adapters whose driver puts its code or
        text elsewhere (in the message, in a wrapped Java exception) override this."""
        text = first_line(error, limit=None)
        return {"source": self.source_type, "code": _own_code(error), "text": text, "detail": text}

    def error_codes(self, error: BaseException) -> set[str]:
        """The codes a driver error carries, as strings: DB-API ``sqlstate``/``pgcode``/``errno``, oracledb's
        ``full_code``, JDBC's ``getSQLState()``/``getErrorCode()``, through causes and wrapped exceptions.
        Adapters whose driver puts its codes elsewhere (in the message text) add them."""
        codes: set[str] = set()
        pending: list[Any] = [error]
        seen: set[int] = set()
        while pending and len(seen) < 16:
            item = pending.pop()
            if item is None or id(item) in seen or isinstance(item, str | bytes | int | float):
                continue
            seen.add(id(item))
            for name in ("sqlstate", "pgcode", "errno", "full_code", "code"):
                value = getattr(item, name, None)
                if isinstance(value, str | int) and not isinstance(value, bool) and str(value) not in ("", "-1"):
                    codes.add(str(value))
            for name in ("getSQLState", "getErrorCode", "getCause"):
                getter = getattr(item, name, None)
                if not callable(getter):
                    continue
                try:
                    value = getter()
                except Exception:  # a broken or foreign exception object: nothing to learn from it
                    continue
                if name == "getCause":
                    pending.append(value)
                elif value not in (None, "", 0):
                    codes.add(str(value))
            pending.extend(getattr(item, "args", ())[:3])
            pending.append(getattr(item, "__cause__", None))
            pending.append(getattr(item, "__context__", None))
        return codes

    def throttled(self, driver_error: BaseException | None, translated: ConnectorError) -> ConnectorError:
        """``translated`` as ``SourceThrottled`` (or ``SourceTimeout``) if the driver error carries one of the
        declared throttle (or timeout) codes; otherwise unchanged."""
        if driver_error is None or isinstance(translated, SourceThrottled):
            return translated
        throttle = self.throttle_errors | self.dialect.throttle_errors
        timeout = self.timeout_errors | self.dialect.timeout_errors
        if not throttle and not timeout:
            return translated
        codes = self.error_codes(driver_error)
        if hits := sorted(codes & throttle):
            return SourceThrottled(f"{translated} (code {', '.join(hits)}: the source is refusing work for now)")
        if (hits := sorted(codes & timeout)) and not isinstance(translated, SourceTimeout):
            return SourceTimeout(f"{translated} (code {', '.join(hits)}: the statement ran out of time at the "
                                 f"source; raise its statement timeout, or narrow the query)")
        return translated

    # ------------------------------------------------------------------------------------- catalog queries

    def query_schemas(self, connection: Any) -> list[str]:
        """Source schema names."""
        raise NotImplementedError

    def query_tables(self, connection: Any, schema: str) -> list[str]:
        """Source names of the tables and views of a (source) schema, sorted."""
        raise NotImplementedError

    def query_tables_page(self, connection: Any, schema: str, limit: int, offset: int) -> list[str]:
        """One page of ``query_tables``; adapters with SQL pagination override this."""
        return self.query_tables(connection, schema)[offset : offset + limit]

    def query_columns(self, connection: Any, schema: str, table: str) -> list[ColumnInfo]:
        """The columns of a table or view, in order; empty if it does not exist."""
        raise NotImplementedError

    def query_is_view(self, connection: Any, schema: str, table: str) -> bool:
        return False

    def query_primary_key(self, connection: Any, schema: str, table: str) -> list[str]:
        """Source names of the primary key columns, in key order; empty when unknown (split strategies use it)."""
        return []

    # ------------------------------------------------------------------------------------- name resolution

    def _pick(self, wanted: str, candidates: Sequence[str], kind: str, where: str) -> str | None:
        if self.casing is CasingMode.NONE:
            return wanted if wanted in candidates else None
        if self.casing is CasingMode.LOWER:
            name = wanted.lower()
            return name if name in candidates else None
        if self.casing is CasingMode.UPPER:
            name = wanted.upper()
            return name if name in candidates else None
        matches = [c for c in candidates if c.lower() == wanted.lower()]
        if len(matches) > 1:
            if wanted in matches:
                return wanted
            raise SourceError(f"{kind} {wanted!r}{where} is ambiguous: the source has {sorted(matches)}; use "
                              f"casing_mode or query passthrough to pick one")
        return matches[0] if matches else None

    def resolve_schema(self, connection: Any, schema: str) -> str:
        found = self._pick(schema, self.query_schemas(connection), "schema", "")
        if found is None:
            raise SchemaNotFound(f"schema {schema!r} not found in catalog (casing_mode={self.casing.value})")
        return found

    def resolve_table(self, connection: Any, table: TableName) -> tuple[str, str]:
        schema = self.resolve_schema(connection, table.schema)
        found = self._pick(table.table, self.query_tables(connection, schema), "table", f" in {schema}")
        if found is None:
            raise TableNotFound(f"table {table} not found (casing_mode={self.casing.value})")
        return schema, found

    def source_table(self, connection: Any, table: TableName) -> SourceTable:
        cached = self._tables.get((table.schema, table.table))
        if cached and time.monotonic() - cached[0] < self.metadata_ttl_seconds:
            return cached[1]
        schema, name = self.resolve_table(connection, table)
        infos = self.query_columns(connection, schema, name)
        if not infos:
            raise TableNotFound(f"table {table} has no columns visible to this connection")
        columns: dict[str, SourceColumn] = {}
        for info in infos:
            lower = info.name.lower()
            if lower in columns:
                raise SourceError(f"table {table}: columns {columns[lower].source_name!r} and {info.name!r} "
                                  f"differ only in case, which Athena cannot tell apart")
            columns[lower] = SourceColumn(lower, info.name, self.type_map.to_arrow(info), info.type_name,
                                          info.collation or "")
        resolved = SourceTable(schema, name, tuple(columns.values()), self.query_is_view(connection, schema, name))
        self._tables[(table.schema, table.table)] = (time.monotonic(), resolved)
        return resolved

    # ------------------------------------------------------------------------------------- metadata answers

    def list_schemas(self, ctx: RequestContext) -> Sequence[str]:
        with self.lease() as connection:
            names = self.query_schemas(connection)
        return sorted({n.lower() for n in names if n.lower() not in self.dialect.hidden_schemas})

    def list_tables(self, ctx: RequestContext, schema: str, next_token: str | None, page_size: int) -> TablePage:
        with self.lease() as connection:
            source_schema = self.resolve_schema(connection, schema)
            if page_size < 0:  # -1: every table from the token on (Java continues from the token too)
                names = self.query_tables(connection, source_schema)[_offset(next_token):]
                token = None
            else:  # 0 answers an empty page carrying the same position, as Java's manual pagination does
                offset = _offset(next_token)
                names = self.query_tables_page(connection, source_schema, page_size + 1, offset)
                token = f"{PAGE_TOKEN_PREFIX}{offset + page_size}" if len(names) > page_size else None
                names = names[:page_size]
        return TablePage([TableName(schema, n.lower()) for n in names], token)

    def get_table(self, ctx: RequestContext, table: TableName) -> TableDefinition:
        with self.lease() as connection:
            source = self.source_table(connection, table)
        return TableDefinition(self.arrow_schema(source))

    def arrow_schema(self, source: SourceTable) -> pa.Schema:
        fields = [pa.field(c.name, c.type, metadata={SOURCE_NAME_KEY: c.source_name.encode(),
                                                     SOURCE_TYPE_KEY: c.source_type.encode(),
                                                     SOURCE_COLLATION_KEY: c.collation.encode()})
                  for c in source.columns]
        return pa.schema(fields, metadata={SOURCE_TABLE_KEY: json.dumps([source.schema, source.table]).encode()})

    def table_from_schema(self, table: TableName, schema: pa.Schema) -> SourceTable | None:
        """The source table named in a request schema's metadata, if it is present and consistent."""
        raw = (schema.metadata or {}).get(SOURCE_TABLE_KEY)
        if raw is None:
            return None
        try:
            source_schema, source_table = json.loads(raw)
        except (ValueError, TypeError):
            return None
        # Only trust metadata that names the table being read (it travels through the caller).
        if str(source_schema).lower() != table.schema or str(source_table).lower() != table.table:
            return None
        columns = []
        for f in schema:
            metadata = f.metadata or {}
            source_name = metadata.get(SOURCE_NAME_KEY, b"").decode() or None
            if source_name is None or source_name.lower() != f.name:
                return None
            source_type = metadata.get(SOURCE_TYPE_KEY, b"").decode()
            if not source_type and self.source_types_required:
                return None  # a schema from elsewhere: look the table up rather than guess its types
            collation = metadata.get(SOURCE_COLLATION_KEY)
            if collation is None and is_string(f.type):
                return None  # what is pushed on a string column depends on its collation: look it up
            columns.append(SourceColumn(f.name, source_name, f.type, source_type, (collation or b"").decode()))
        return SourceTable(source_schema, source_table, tuple(columns))

    # ------------------------------------------------------------------------------------- splits

    def plan_splits(self, ctx: RequestContext, connection: Any, source: SourceTable, partitions: pa.Table,
                    constraints: Constraints) -> list[dict[str, str]]:
        """Split properties for a table; one split by default. Strategies override this."""
        return [{}]

    def split_from(self, source: SourceTable, split: Split | None) -> exp.Expression:
        """The FROM item of a split (a partition clause, for instance)."""
        return exp.table_(exp.to_identifier(source.table, quoted=True),
                          db=exp.to_identifier(source.schema, quoted=True) if source.schema else None)

    def split_where(self, source: SourceTable, split: Split, compiler: SqlCompiler) -> list[exp.Expression]:
        """Predicates that restrict the scan to a split (values bound through ``compiler``)."""
        return []

    def check_split(self, connection: Any, source: SourceTable, split: Split) -> None:
        """Refuse a split whose properties do not name a part of ``source``: they came back through Athena."""

    def split_where_plain(self, source: SourceTable, split: Split) -> list[PlainPredicate] | None:
        """``split_from`` and ``split_where`` said without sqlglot (``plan_plain_select``): the predicates, or None
        when they cannot be (the statement is then built with sqlglot). An adapter that overrides either of them
        overrides this too, or its reads stay on sqlglot."""
        if type(self).split_from is not SqlAdapter.split_from or type(self).split_where is not SqlAdapter.split_where:
            return None
        return []

    def get_splits(self, ctx: RequestContext, table: TableName, partitions: pa.Table, constraints: Constraints,
                   next_token: str | None) -> SplitPage:
        with self.lease() as connection:
            source = self.source_table(connection, table)
            splits = self.plan_splits(ctx, connection, source, partitions, constraints)
        start = _offset(next_token)
        end = min(start + 1000, len(splits))
        return SplitPage(splits[start:end], f"{PAGE_TOKEN_PREFIX}{end}" if end < len(splits) else None)

    # ------------------------------------------------------------------------------------- records

    def request_source(self, connection: Any, table: TableName, schema: pa.Schema,
                       constraints: Constraints) -> SourceTable:
        """The source table of a read: from the request schema's metadata when that describes every column the
        constraints mention (columns outside the projection need their source names too), else looked up."""
        source = self.table_from_schema(table, schema) if len(schema) else None
        if source is None or not constraints.columns() <= source.column_map().keys():
            source = self.source_table(connection, table)
        return source

    @final
    def plan(self, connection: Any, table: TableName, schema: pa.Schema, split: Split,
             constraints: Constraints) -> SourceQuery:
        """The statement of one split. The same for every adapter: what differs per database is declared by its
        dialect (``SqlDialect.split`` and the compiler's hooks) and its split strategy (``split_from``,
        ``split_where``, ``check_split``)."""
        source = self.request_source(connection, table, schema, constraints)
        self.check_split(connection, source, split)
        return self.plan_source(source, split, schema.names, constraints)

    @final
    def plan_source(self, source: SourceTable, split: Split | None, projection: Sequence[str],
                    constraints: Constraints) -> SourceQuery:
        """``plan`` for a source table already resolved (``split`` None: the whole table)."""
        columns = source.column_map()
        plain = (self.split_where_plain(source, split) if split is not None else []) if constraints.is_empty else None
        if plain is not None:  # nothing pushed: the statement is written without sqlglot where the dialect can
            query = plan_plain_select(self.dialect, (source.schema, source.table), columns, projection,
                                      constraints, plain)
            if query is not None:
                return query

        def where(compiler: SqlCompiler) -> list[exp.Expression]:
            return self.split_where(source, split, compiler) if split is not None else []

        return plan_pushdown(self.dialect, self.split_from(source, split), columns, projection, constraints, where)

    def describe_split(self, ctx: RequestContext, table: TableName, schema: pa.Schema, split: Split,
                       constraints: Constraints) -> str:
        with self.lease() as connection:
            query = self.plan(connection, table, schema, split, constraints)
        text = f"{query.sql}\n  params: {list(query.params) if not isinstance(query.params, Mapping) else query.params}"
        if not query.residual.is_empty:
            text += f"\n  applied in the connector: {_describe_residual(query.residual)}"
        return text

    def read_split(self, ctx: RequestContext, table: TableName, schema: pa.Schema, split: Split,
                   constraints: Constraints) -> Scan:
        with self.lease() as connection:
            query = self.plan(connection, table, schema, split, constraints)
            self.warn_unmapped(connection, table, set(schema.names) | constraints.columns())
        return self.scan(query)

    def warn_unmapped(self, connection: Any, table: TableName, used: set[str]) -> None:
        """Once per column and process: a column this query reads or filters has a type without a mapping."""
        if not self.type_map.unmapped:
            return
        for column in self.source_table(connection, table).columns:
            key = (table.schema, table.table, column.name)
            if column.name in used and key not in self._warned and self.type_map.is_unmapped(column.source_type):
                self._warned.add(key)
                log.warning("%s column %s.%s has declared type %r with no defined mapping; it is read as varchar",
                            self.type_map.source, table, column.name, column.source_type)

    def scan(self, query: SourceQuery) -> Scan:
        """Run a planned query on a pooled connection and stream its rows as Arrow batches."""
        return self.leased_scan(lambda connection: Scan(self.fetch(connection, query), query.residual,
                                                        description=query.sql))

    def leased_scan(self, begin: Callable[[Any], Scan]) -> Scan:
        """The one scan lifecycle: a connection ``lease``d now and held until the scan's batches end, fail or are
        closed. ``begin`` runs at once on the connection (a planning error is raised here, not at the first
        batch) and returns the scan to stream; closing it closes its batches (their cursor) before the
        connection goes back to the pool."""
        with ExitStack() as setup:
            connection = setup.enter_context(self.lease())
            scan = begin(connection)
            held = setup.pop_all()  # from here on the scan owns the lease

        def batches() -> Generator[pa.RecordBatch, None, None]:
            with held:
                yield from scan.batches

        generator = batches()

        def close() -> None:
            generator.close()  # its cursor first (and the lease, if it started)
            held.close()  # a scan closed before its first batch: the lease still ends

        return Scan(generator, scan.residual, close, scan.description)

    def fetch(self, connection: Any, query: SourceQuery) -> Iterator[pa.RecordBatch]:
        """Rows of a query as logical batches (column per ``query.columns``). DB-API by default.

        The first batch (``initial_fetch_rows``) is yielded at once, so a small LIMIT never waits for more.
        After that, rows are fetched and converted in chunks of about ``fetch_chunk_bytes`` and merged into
        batches of about ``target_batch_bytes``: turning Python rows into Arrow is fastest while the rows fit
        in the CPU cache, and the rest of the pipeline is fastest with few, large batches (bench/README.md).
        """
        cursor = self.execute(connection, query.sql, query.params)
        try:
            rows_per_fetch = self.initial_fetch_rows
            chunk_bytes = min(self.fetch_chunk_bytes, self.target_batch_bytes)
            pending: list[pa.RecordBatch] = []
            pending_bytes = 0
            first = True
            while True:
                try:
                    rows = cursor.fetchmany(rows_per_fetch)
                except Exception as e:
                    raise self.translate_error(e) from None
                if not rows:
                    break
                batch = self.rows_to_batch(rows, query.columns)
                pending.append(batch)
                pending_bytes += batch.nbytes
                if first or pending_bytes >= self.target_batch_bytes:
                    yield concat(pending)
                    pending, pending_bytes, first = [], 0, False
                if batch.nbytes and len(rows) == rows_per_fetch:
                    per_row = batch.nbytes / len(rows)
                    rows_per_fetch = max(64, min(1_000_000, int(chunk_bytes / max(per_row, 1.0))))
            if pending:
                yield concat(pending)
        finally:
            cursor.close()

    def rows_to_batch(self, rows: Sequence[Sequence[Any]], columns: Sequence[SourceColumn]) -> pa.RecordBatch:
        if not columns:
            return empty_batch(len(rows))
        arrays = [self.column_to_arrow([r[i] for r in rows], c) for i, c in enumerate(columns)]
        return pa.RecordBatch.from_arrays(arrays, names=[c.name for c in columns])

    def column_to_arrow(self, values: list[Any], column: SourceColumn) -> pa.Array:
        return to_arrow(values, column.type, column.name)

    # ------------------------------------------------------------------------------------- passthrough

    def passthrough_columns(self, connection: Any, query: str) -> list[SourceColumn]:
        """The result columns of a native query, without running it to completion."""
        cursor = self.execute(connection, query)
        try:
            description = cursor.description or []
            return [SourceColumn(d[0].lower(), d[0], self.description_type(d)) for d in description]
        finally:
            cursor.close()

    def description_type(self, description: Sequence[Any]) -> pa.DataType:
        """A DB-API ``cursor.description`` entry -> logical type (drivers override)."""
        return pa.string()

    def get_passthrough_table(self, ctx: RequestContext, arguments: Mapping[str, str]) -> TableDefinition:
        with self.lease() as connection:
            columns = self.passthrough_columns(connection, arguments["QUERY"])
        names = [c.name for c in columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise SourceError(f"the passthrough query returns several columns named {duplicates}; alias them")
        return TableDefinition(pa.schema([pa.field(c.name, c.type) for c in columns]))

    def read_passthrough(self, ctx: RequestContext, arguments: Mapping[str, str], schema: pa.Schema) -> Scan:
        query = arguments["QUERY"]
        with self.lease() as connection:
            columns = self.passthrough_columns(connection, query)
        wanted = {f.name: f.type for f in schema}
        selected = tuple(SourceColumn(c.name, c.source_name, wanted.get(c.name, c.type)) for c in columns)
        return self.scan(SourceQuery(query, (), Constraints(), selected))


@dataclass(frozen=True, slots=True)
class ErrorRule:
    """Driver errors whose code is one of ``codes`` (``ANY_CODE``: any code at all) - or whose first line holds
    one of ``phrases``, in any case - become ``kind``, worded by ``message``: a template of ``error_fields``
    (``{source}``, ``{code}``, ``{text}``, ``{detail}`` and whatever the adapter's fields add)."""

    codes: frozenset[str]
    kind: type[ConnectorError] = SourceError
    message: str = "{source} error: {text}"
    phrases: tuple[str, ...] = ()

    def matches(self, code: str, text: str) -> bool:
        if code and (code in self.codes or "*" in self.codes):
            return True
        return any(p in text.lower() for p in self.phrases)


#: ``ErrorRule.codes`` for "any error that carries a code".
ANY_CODE = frozenset({"*"})
_UNMATCHED = ErrorRule(frozenset())
_TEXT_LIMIT = 500


class _ErrorFields(dict[str, str]):
    def __missing__(self, key: str) -> str:  # a template naming a field this driver error does not have
        return ""


def _own_code(error: BaseException) -> str:
    """The code a DB-API driver puts on its exception (or on the error object it wraps): oracledb's
    ``full_code``, an ``errno`` (Snowflake, MySQL), ``sqlstate``/``pgcode`` (PostgreSQL); '' if none."""
    for item in (error, *getattr(error, "args", ())[:1]):
        for name in ("full_code", "errno", "sqlstate", "pgcode"):
            value = getattr(item, name, None)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value) not in ("", "-1"):
                return str(value)
    return ""


def _offset(token: str | None) -> int:
    if not token:
        return 0
    text = token[len(PAGE_TOKEN_PREFIX):] if token.startswith(PAGE_TOKEN_PREFIX) else token
    offset = read_number(text)
    if offset is None:
        raise InvalidRequest(f"invalid continuation token {token[:40]!r}: this connector writes offset:<digits>")
    return offset


def _describe_residual(residual: Constraints) -> str:
    from connector.pushdown.evaluate import describe

    parts = [f"{c} in {type(v).__name__}" for c, v in residual.summary.items()]
    parts += [describe(e) for e in residual.expression]
    if residual.order_by:
        parts.append("ORDER BY " + ", ".join(f"{o.column} {o.direction.value}" for o in residual.order_by))
    if residual.has_limit:
        parts.append(f"LIMIT {residual.limit}")
    return "; ".join(parts)


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except Exception as e:  # closing a broken connection may fail; nothing to do about it
        log.debug("closing a connection failed: %s", type(e).__name__)

