"""The local Athena: plan a query, play the protocol against each table's connector, compute with DuckDB.

``LocalAthena.run`` returns the result as an Arrow table; ``explain`` plans and lists splits without reading
rows; ``verify`` re-reads each split without pushdown and checks the pushed predicates independently.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pyarrow as pa

from connector.config import Settings
from connector.errors import first_line
from connector.local.errors import LambdaFunctionError, ProtocolViolation, QueryError
from connector.local.planner import (
    LAKE_CATALOG,
    ParsedQuery,
    QueryPlan,
    Source,
    TablePlan,
    parse_query,
    plan_query,
)
from connector.local.progress import Progress
from connector.local.session import (
    ATHENA_SERDE_VERSION,
    LOCAL_IDENTITY,
    MAX_BLOCK_SIZE,
    MAX_INLINE_BLOCK_SIZE,
    CatalogSession,
    SplitResult,
    TableInfo,
    discard_local_blocks,
)
from connector.local.targets import InProcessTarget, Target
from connector.local.trino_semantics import install
from connector.protocol.messages import Identity, ReadRecordsRequest, Split

ROWS_PLACEHOLDER = "__afq_rows"  # DuckDB cannot scan an Arrow table without columns (count(*) reads none)


@dataclass
class QueryOptions:
    default_catalog: str | None = None
    lake_dir: str = "."
    lake_catalog: str = LAKE_CATALOG
    max_workers: int = 8
    max_block_size: int = MAX_BLOCK_SIZE
    max_inline_block_size: int = MAX_INLINE_BLOCK_SIZE
    serde_version: int = ATHENA_SERDE_VERSION
    identity: Identity = LOCAL_IDENTITY  # the caller Athena names in every request (--as-arn, --as-tag...)


@dataclass
class TableScan:
    plan: TablePlan
    info: TableInfo
    splits: list[Split] = field(default_factory=list)
    results: list[SplitResult] = field(default_factory=list)

    def table(self) -> pa.Table:
        schema = pa.schema([self.info.logical.field(c) for c in self.plan.columns])
        batches = [b for r in self.results for b in r.batches if b.num_rows]
        if not self.plan.columns:
            rows = sum(b.num_rows for b in batches)
            return pa.table({ROWS_PLACEHOLDER: pa.nulls(rows, pa.bool_())})
        if not batches:
            return schema.empty_table()
        return pa.Table.from_batches([b.select(self.plan.columns) for b in batches], schema=schema)

    def engine_schema(self) -> pa.Schema:
        """The schema of the batches the engine sees for this table (``conform``)."""
        if not self.plan.columns:
            return pa.schema([(ROWS_PLACEHOLDER, pa.bool_())])
        return pa.schema([self.info.logical.field(c) for c in self.plan.columns])

    def conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """One answered batch as the engine sees it: the projection, or only its row count for ``count(*)``."""
        if not self.plan.columns:
            return pa.record_batch([pa.nulls(batch.num_rows, pa.bool_())], names=[ROWS_PLACEHOLDER])
        return batch.select(self.plan.columns).cast(self.engine_schema())


@dataclass
class QueryResult:
    table: pa.Table
    plan: QueryPlan
    scans: list[TableScan]


class LocalAthena:
    def __init__(self, target: Target, options: QueryOptions | None = None, *, progress: Progress | None = None,
                 settings: Settings | None = None) -> None:
        self.target = target
        self.options = options or QueryOptions()
        self.progress = progress
        self.settings = settings
        self.query_id = str(uuid.uuid4())
        self._sessions: dict[str, CatalogSession] = {}
        self._tables: dict[tuple[str, str, tuple[tuple[str, str], ...]], TableInfo] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ metadata

    def session(self, catalog: str) -> CatalogSession:
        with self._lock:
            session = self._sessions.get(catalog)
            if session is None:
                self._check_catalog(catalog)
                session = CatalogSession(self.target, catalog, query_id=self.query_id, settings=self.settings,
                                         max_serde_version=self.options.serde_version,
                                         identity=self.options.identity)
                self._sessions[catalog] = session
            return session

    def _check_catalog(self, catalog: str) -> None:
        """In-process, a catalog without a connection string fails now, with the variable to set."""
        if isinstance(self.target, InProcessTarget) and self.target.is_default_handler:
            from connector.connection import connection_string_for

            connection_string_for(catalog, os.environ)

    def table_info(self, source: Source) -> TableInfo:
        assert source.table is not None
        key = (source.catalog, str(source.table), tuple(sorted(source.passthrough.items())))
        info = self._tables.get(key)
        if info is None:
            session = self.session(source.catalog)
            session.capabilities  # noqa: B018 - Athena's order: Ping, capabilities, then GetTable
            if source.is_passthrough:
                info = session.get_passthrough_table(source.passthrough)
            else:
                try:
                    info = session.get_table(source.table)
                except LambdaFunctionError as e:
                    if e.is_not_found and source.position is not None:
                        e.reference = (source.label, *source.position)  # for an Athena-style message
                    raise
                if info.table != source.table:
                    raise ProtocolViolation(f"GetTable for {source.table} answered for table {info.table}")
            if not len(info.logical):
                raise ProtocolViolation(f"{source.label} has no columns")
            self._tables[key] = info
        return info

    def plan(self, sql: str, connection: Any = None) -> tuple[QueryPlan, dict[str, TableInfo]]:
        parsed = parse_query(sql, default_catalog=self.options.default_catalog,
                             lake_catalog=self.options.lake_catalog, lake_dir=self.options.lake_dir)
        infos = self._resolve(parsed, connection)
        connectors = {}
        for source in parsed.sources:
            if source.kind == "federated":
                session = self.session(source.catalog)
                connectors[source.name] = (session.serde_version, session.capabilities)
        return plan_query(parsed, connectors), infos

    def _resolve(self, parsed: ParsedQuery, connection: Any) -> dict[str, TableInfo]:
        infos: dict[str, TableInfo] = {}
        federated = [s for s in parsed.sources if s.kind == "federated"]
        for source in federated:
            infos[source.name] = self.table_info(source)
            source.schema = infos[source.name].logical
        lake = [s for s in parsed.sources if s.kind == "lake"]
        if lake:
            con = connection if connection is not None else connect_duckdb()
            for source in lake:
                source.schema = register_lake(con, source)
        return infos

    # ------------------------------------------------------------------------------------------ scanning

    def list_splits(self, scan: TableScan) -> None:
        session = self.session(scan.plan.source.catalog)
        scan.splits = session.get_splits(scan.info, scan.plan.constraints)

    def read_requests(self, scan: TableScan) -> list[ReadRecordsRequest]:
        session = self.session(scan.plan.source.catalog)
        return [session.read_request(scan.info, scan.plan.columns, split, scan.plan.constraints,
                                     max_block_size=self.options.max_block_size,
                                     max_inline_block_size=self.options.max_inline_block_size)
                for split in scan.splits]

    def scan_all(self, scans: list[TableScan]) -> None:
        """Splits of every table, then ReadRecords for every split of every table on one thread pool."""
        for scan in scans:
            self.list_splits(scan)
            if self.progress is not None:
                self.progress.add_splits(len(scan.splits))
        jobs = [(scan, index, request) for scan in scans for index, request in enumerate(self.read_requests(scan))]
        results: dict[int, list[SplitResult | None]] = {id(scan): [None] * len(scan.splits) for scan in scans}
        workers = max(1, min(self.options.max_workers, len(jobs)))
        with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="afq-read") as pool:
            futures = {pool.submit(self._read_one, scan, request): (scan, index) for scan, index, request in jobs}
            try:
                for future in concurrent.futures.as_completed(futures):
                    scan, index = futures[future]
                    results[id(scan)][index] = future.result()
            except BaseException:
                for f in futures:
                    f.cancel()  # the first failure fails the query; splits not started are not read
                raise
        for scan in scans:
            scan.results = [r for r in results[id(scan)] if r is not None]

    def _read_one(self, scan: TableScan, request: ReadRecordsRequest) -> SplitResult:
        result = self.session(scan.plan.source.catalog).read(request)
        if self.progress is not None:
            self.progress.split_done(result.num_rows, result.spilled_blocks, sum(b.nbytes for b in result.batches))
        return result

    # ------------------------------------------------------------------------------------------ queries

    def run(self, sql: str) -> QueryResult:
        duckdb = load_duckdb()
        con = connect_duckdb()
        try:
            plan, infos = self.plan(sql, con)
            scans = [TableScan(p, infos[p.source.name]) for p in plan.tables]
            self.scan_all(scans)
            for scan in scans:
                con.register(scan.plan.source.name, scan.table())
            try:
                table = con.sql(plan.engine_sql).to_arrow_table()
            except duckdb.Error as e:
                raise QueryError(f"the engine (DuckDB) failed: {first_line(e)}\n"
                                 f"  engine SQL: {plan.engine_sql}") from None
            return QueryResult(table, plan, scans)
        finally:
            con.close()

    @contextlib.contextmanager
    def stream(self, sql: str, batch_rows: int = 65_536) -> Iterator[ResultStream]:
        """The result as a stream of batches, for exports of any size.

        Each table's splits are read on the shared pool at most ``max_workers`` splits ahead of the engine and
        handed to DuckDB as an Arrow stream, block by block, in split order; the result comes back batch by
        batch. Memory holds a few blocks per table (inline answers, one spilled block at a time), not the
        tables or the result - unless the query itself needs its input whole (joins, ORDER BY, aggregates),
        which DuckDB keeps in its own memory. ``--verify`` needs every split's rows and uses ``run``.
        """
        duckdb = load_duckdb()
        con = connect_duckdb()
        feeds: list[SplitFeed] = []
        pool: concurrent.futures.ThreadPoolExecutor | None = None
        try:
            plan, infos = self.plan(sql, con)
            scans = [TableScan(p, infos[p.source.name]) for p in plan.tables]
            for scan in scans:
                self.list_splits(scan)
                if self.progress is not None:
                    self.progress.add_splits(len(scan.splits))
            pool = concurrent.futures.ThreadPoolExecutor(max(1, self.options.max_workers),
                                                         thread_name_prefix="afq-read")
            for scan in scans:
                feed = SplitFeed(self, scan, pool, window=max(1, self.options.max_workers))
                feeds.append(feed)
                con.register(scan.plan.source.name, feed.reader())
            result = ResultStream(self._engine_reader(duckdb, con, plan, feeds, batch_rows), feeds, duckdb, plan)
            yield result
        finally:
            con.close()
            for feed in feeds:
                feed.close()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _engine_reader(self, duckdb: Any, con: Any, plan: QueryPlan, feeds: list[SplitFeed],
                       batch_rows: int) -> pa.RecordBatchReader:
        try:
            relation = con.sql(plan.engine_sql)
            to_reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
            return to_reader(batch_rows)
        except duckdb.Error as e:
            raise_engine_error(e, plan, feeds)

    def close(self) -> None:
        self.target.close()


class SplitFeed:
    """One table's splits as one Arrow stream for the engine: ReadRecords run on the pool up to ``window``
    splits ahead of the engine; answers are decoded (spilled blocks fetched) only as the engine reads them."""

    def __init__(self, athena: LocalAthena, scan: TableScan, pool: concurrent.futures.ThreadPoolExecutor, *,
                 window: int) -> None:
        self.athena = athena
        self.scan = scan
        self.session = athena.session(scan.plan.source.catalog)
        self.pool = pool
        self.window = window
        self.error: BaseException | None = None
        self._requests = collections.deque(athena.read_requests(scan))
        self._pending: collections.deque[tuple[ReadRecordsRequest, concurrent.futures.Future[Any]]] = \
            collections.deque()
        self._closed = False
        self._fill()

    def _fill(self) -> None:
        while self._requests and len(self._pending) < self.window and not self._closed:
            request = self._requests.popleft()
            self._pending.append((request, self.pool.submit(self._answer, request)))

    def _answer(self, request: ReadRecordsRequest) -> Any:
        response = self.session.read_response(request)
        if self.athena.progress is not None:
            self.athena.progress.split_answered(len(getattr(response, "remote_blocks", ())))
        return response

    def batches(self) -> Iterator[pa.RecordBatch]:
        progress = self.athena.progress
        settings = self.session.settings or Settings.from_env()
        try:
            while self._pending:
                request, future = self._pending.popleft()
                response = future.result()
                self._fill()
                try:
                    for batch in self.session.batches(request, response):
                        if progress is not None:
                            progress.rows_read(batch.num_rows, batch.nbytes)
                        if batch.num_rows:
                            yield self.scan.conform(batch)
                finally:
                    discard_local_blocks(response, settings)
                if progress is not None:
                    progress.split_done()
        except BaseException as e:
            self.error = e  # DuckDB re-raises it as its own error: ResultStream reports this one
            raise

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.scan.engine_schema(), self.batches())

    def close(self) -> None:
        self._closed = True
        for _, future in self._pending:
            future.cancel()
        for _, future in self._pending:
            if not future.cancelled():
                with contextlib.suppress(BaseException):
                    response = future.result()
                    discard_local_blocks(response, self.session.settings or Settings.from_env())
        self._pending.clear()


class ResultStream:
    """The engine's result batches; an error of a split or of the engine surfaces as this project's error."""

    def __init__(self, reader: pa.RecordBatchReader, feeds: list[SplitFeed], duckdb: Any, plan: QueryPlan) -> None:
        self.reader = reader
        self.schema: pa.Schema = reader.schema
        self.feeds = feeds
        self.duckdb = duckdb
        self.plan = plan

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while True:
            try:
                batch = self.reader.read_next_batch()
            except StopIteration:
                return
            except (self.duckdb.Error, pa.ArrowException) as e:
                raise_engine_error(e, self.plan, self.feeds)
            yield batch


def raise_engine_error(error: Exception, plan: QueryPlan, feeds: Sequence[SplitFeed] = ()) -> NoReturn:
    """A split's own error when reading it failed under the engine (with its cause and traceback intact: the
    adapter's frames), else the engine's error, briefly."""
    for feed in feeds:
        if feed.error is not None and isinstance(feed.error, Exception):
            raise feed.error
    raise QueryError(f"the engine (DuckDB) failed: {first_line(error)}\n"
                     f"  engine SQL: {plan.engine_sql}") from None


def load_duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise QueryError("afq query needs DuckDB: pip install 'athena-federation-py[local]'") from None
    return duckdb


def connect_duckdb() -> Any:
    """An in-memory DuckDB with Athena's semantics installed (``trino_semantics.install``: null order, the
    macros rewritten queries call) and without its progress bar: DuckDB draws it on stdout, into the result being
    exported, once a query runs for two seconds - and a streamed query runs as long as its splits are read."""
    con = load_duckdb().connect()
    con.execute("SET enable_progress_bar = false")
    install(con)
    return con


def register_lake(con: Any, source: Source) -> pa.Schema:
    """A data lake file as a DuckDB view named after the source; its schema in Arrow terms."""
    duckdb = load_duckdb()
    path = source.path
    lower = path.lower()
    try:
        if lower.endswith((".csv", ".csv.gz", ".tsv")) or "read_csv" in source.label.lower():
            relation = con.read_csv(path)
        elif lower.endswith((".json", ".jsonl", ".ndjson")) or "read_json" in source.label.lower():
            relation = con.read_json(path)
        else:
            relation = con.read_parquet(path)
        relation.create_view(source.name)
        schema: pa.Schema = relation.limit(0).to_arrow_table().schema
    except (duckdb.Error, OSError) as e:
        raise QueryError(f"cannot read lake table {source.label} ({path}): "
                         f"{first_line(e, 300)}") from None
    return pa.schema([f.with_name(f.name.lower()) for f in schema])
