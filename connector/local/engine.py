"""The local Athena: plan a query, play the protocol against each table's connector, compute with DuckDB.

``LocalAthena.run`` returns the result as an Arrow table; ``explain`` plans and lists splits without reading
rows; ``verify`` re-reads each split without pushdown and checks the pushed predicates independently.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from connector.config import Settings
from connector.local.errors import ProtocolViolation, QueryError
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
                info = session.get_table(source.table)
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
            con = connection if connection is not None else load_duckdb().connect()
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
            self.progress.split_done(result.num_rows, result.spilled_blocks)
        return result

    # ------------------------------------------------------------------------------------------ queries

    def run(self, sql: str) -> QueryResult:
        duckdb = load_duckdb()
        con = duckdb.connect()
        try:
            plan, infos = self.plan(sql, con)
            scans = [TableScan(p, infos[p.source.name]) for p in plan.tables]
            try:
                self.scan_all(scans)
            finally:
                if self.progress is not None:
                    self.progress.finish()
            for scan in scans:
                con.register(scan.plan.source.name, scan.table())
            install(con)
            try:
                table = con.sql(plan.engine_sql).to_arrow_table()
            except duckdb.Error as e:
                raise QueryError(f"the engine (DuckDB) failed: {str(e).strip().splitlines()[0][:500]}\n"
                                 f"  engine SQL: {plan.engine_sql}") from None
            return QueryResult(table, plan, scans)
        finally:
            con.close()

    def close(self) -> None:
        self.target.close()


def load_duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise QueryError("afq query needs DuckDB: pip install 'athena-federation-py[local]'") from None
    return duckdb


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
                         f"{str(e).strip().splitlines()[0][:300]}") from None
    return pa.schema([f.with_name(f.name.lower()) for f in schema])
