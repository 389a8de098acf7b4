"""The composite connector: one request in, one response out, for every message type.

Dispatch is a fixed table from request class to method. The service resolves the catalog to an adapter
(cached across warm invocations), calls it in Arrow terms, and does everything the protocol needs around it:
partition pruning, split spill locations and keys, residual filtering, inline-or-spill, serialization.
"""

from __future__ import annotations

import contextvars
import dataclasses
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from connector import aws
from connector.access.control import AccessControl
from connector.config import Settings
from connector.connection import ConnectionSpec, connection_string_for
from connector.deadline import Deadline
from connector.errors import (
    AccessDenied,
    ConnectorError,
    FederationThrottleException,
    InvalidRequest,
    SourceError,
    SourceThrottled,
)
from connector.forward_access import FAS_TOKEN, ForwardAccess
from connector.logs import request_context
from connector.protocol.messages import (
    CAPABILITIES,
    SERDE_VERSION,
    GetDataSourceCapabilitiesRequest,
    GetDataSourceCapabilitiesResponse,
    GetSplitsRequest,
    GetSplitsResponse,
    GetTableLayoutRequest,
    GetTableLayoutResponse,
    GetTableRequest,
    GetTableResponse,
    ListSchemasRequest,
    ListSchemasResponse,
    ListTablesRequest,
    ListTablesResponse,
    Message,
    PingRequest,
    PingResponse,
    ReadRecordsRequest,
    ReadRecordsResponse,
    RemoteReadRecordsResponse,
    Request,
    Split,
    TableName,
    UserDefinedFunctionRequest,
    parse_request,
)
from connector.query_status import QueryStatusChecker
from connector.redact import scrub_exception
from connector.registry import source_type_of
from connector.response_limits import block_size_for, check_response_size
from spill.locations import new_encryption_key, new_spill_location
from spill.stores import check_spill_bucket

# Everything Arrow-based (and the access policy's machinery, pushdown, spilling) loads on the first request that
# needs it, not at import: a Ping needs none of it, and it is most of a cold start (bench/README.md, section 3).
if TYPE_CHECKING:
    import pyarrow as pa

    from connector.access.enforce import Authorized
    from connector.access.policy import CallerAccess
    from connector.adapter import Adapter, RequestContext, Scan, TableDefinition
    from connector.protocol.block import Block
    from connector.records import BlockSpiller, SpillerFactory
    from connector.udf import UdfRegistry

log = logging.getLogger("afq")


class AdapterPool:
    """One adapter per distinct connection string, kept for the life of the process (warm Lambdas)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._adapters: dict[tuple[str, str], Adapter] = {}
        self._lock = threading.Lock()

    def spec(self, catalog: str) -> ConnectionSpec:
        return connection_string_for(catalog, self.settings.env, self.settings.function_name)

    def get(self, catalog: str) -> Adapter:
        spec = self.spec(catalog)
        key = (spec.engine, spec.url)
        with self._lock:
            adapter = self._adapters.get(key)
            if adapter is None:
                from connector.registry import adapter_class

                adapter = adapter_class(spec.engine).from_connection(spec, self.settings)
                self._adapters[key] = adapter
            return adapter

    def close(self) -> None:
        with self._lock:
            for adapter in self._adapters.values():
                adapter.close()
            self._adapters.clear()


class FederationService:
    def __init__(self, settings: Settings | None = None, *, adapters: Callable[[str], Adapter] | None = None,
                 udfs: UdfRegistry | None = None, spiller_factory: SpillerFactory | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.pool = AdapterPool(self.settings)
        self._adapter_for = adapters or self.pool.get
        self._udfs = udfs
        self._spiller_factory = spiller_factory
        self.access = AccessControl(self.settings)
        self._dispatch: dict[type[Request], Callable[[Any], Message]] = {
            PingRequest: self.ping,
            ListSchemasRequest: self.list_schemas,
            ListTablesRequest: self.list_tables,
            GetTableRequest: self.get_table,
            GetTableLayoutRequest: self.get_table_layout,
            GetSplitsRequest: self.get_splits,
            ReadRecordsRequest: self.read_records,
            GetDataSourceCapabilitiesRequest: self.get_capabilities,
            UserDefinedFunctionRequest: self.user_defined_function,
        }

    @property
    def udfs(self) -> UdfRegistry:
        if self._udfs is None:
            from connector.udf import registry

            self._udfs = registry
        return self._udfs

    @property
    def spiller_factory(self) -> SpillerFactory:
        if self._spiller_factory is None:
            from spill.writer import SpillerFactory as DefaultSpillerFactory

            self._spiller_factory = DefaultSpillerFactory(self.settings)
        return self._spiller_factory

    # ------------------------------------------------------------------------------------------ entry

    def handle(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        """One invocation: ``context`` is the Lambda context (its remaining time bounds the work)."""
        started = time.monotonic()
        request = parse_request(event)
        kind = type(request).__name__
        fields = {"request": kind, "query_id": getattr(request, "query_id", None),
                  "catalog": getattr(request, "catalog_name", None), "table": _table_of(request)}
        token = _deadline.set(Deadline.from_context(context))
        try:
            with request_context(**fields), aws.acting_for(_forward_access(request)):
                try:
                    try:
                        response = self._dispatch[type(request)](request)
                    except SourceThrottled as e:  # metadata calls too: Athena backs off and retries them
                        raise FederationThrottleException(f"the source asked to slow down: {e}") from None
                    wire = response.to_wire()
                    if not isinstance(response, ReadRecordsResponse | RemoteReadRecordsResponse):
                        # Records answers are sized as they are built; anything else is checked here, so an answer
                        # Lambda cannot deliver is an error that says so rather than the runtime's.
                        check_response_size(wire, type(response).__name__)
                except ConnectorError as e:
                    scrub_exception(e)  # what Lambda hands Athena is str(e): the same scrubber as the logs
                    log.warning("%s failed: %s: %s", kind, type(e).__name__, e,
                                extra={"afq": {"ms": _ms(started), "error_type": type(e).__name__,
                                                "error_code": e.error_code}})
                    raise
                except Exception as e:
                    scrub_exception(e)
                    raise
                log.info("%s answered", kind, extra={"afq": {"ms": _ms(started), **_summary(response)}})
                return wire
        finally:
            _deadline.reset(token)

    def _context(self, request: Any) -> tuple[RequestContext, Adapter]:
        from connector.adapter import RequestContext

        settings = self.settings.for_request(request.identity.config_options)
        ctx = RequestContext(request.identity, request.catalog_name, request.query_id, settings.env,
                             _deadline.get() or Deadline.unlimited())
        return ctx, self._adapter_for(request.catalog_name)

    def _caller(self, request: Any) -> CallerAccess | None:
        """The caller's access under the policy (None: no policy configured, everything is visible)."""
        return self.access.caller(request.identity, getattr(request, "catalog_name", ""),
                                  getattr(request, "query_id", ""))

    def _authorize(self, request: Any, ctx: RequestContext, adapter: Adapter, caller: CallerAccess,
                   requested: pa.Schema) -> tuple[Authorized, pa.Schema]:
        _enforce().grant_for(caller, request.table_name)  # an invisible table is "not found" before any lookup
        full = adapter.get_table(ctx, request.table_name).schema
        return _enforce().authorize(caller, request.table_name, full, requested, request.constraints), full

    # ------------------------------------------------------------------------------------------ metadata

    def ping(self, request: PingRequest) -> PingResponse:
        # A Ping must always succeed (Athena pings before anything else): report the engine without
        # connecting, and "unconfigured" rather than failing if the catalog has no connection string yet.
        try:
            source_type = source_type_of(self.pool.spec(request.catalog_name).engine)
        except ConnectorError as e:
            log.warning("ping: catalog %r is not usable yet: %s", request.catalog_name, e)
            source_type = "unconfigured"
        return PingResponse(request.catalog_name, request.query_id, source_type, CAPABILITIES, SERDE_VERSION)

    def get_capabilities(self, request: GetDataSourceCapabilitiesRequest) -> GetDataSourceCapabilitiesResponse:
        _, adapter = self._context(request)
        wire = adapter.capabilities().to_wire(passthrough_enabled=self.settings.enable_query_passthrough)
        return GetDataSourceCapabilitiesResponse(request.catalog_name, wire)

    def list_schemas(self, request: ListSchemasRequest) -> ListSchemasResponse:
        ctx, adapter = self._context(request)
        schemas = tuple(adapter.list_schemas(ctx))
        _check_lower_case("schema", schemas)
        caller = self._caller(request)
        if caller is not None:
            schemas = _enforce().visible_schemas(caller, schemas)
        return ListSchemasResponse(request.catalog_name, schemas)

    def list_tables(self, request: ListTablesRequest) -> ListTablesResponse:
        ctx, adapter = self._context(request)
        if request.page_size < -1 or request.page_size > JAVA_INT_MAX:  # as Java: -1 the rest, 0 an empty page
            raise InvalidRequest(f"pageSize must be -1 (all), 0 (an empty page) or up to {JAVA_INT_MAX} (a Java int, "
                                 f"as in the SDK), got {request.page_size}")
        caller = self._caller(request)
        if caller is not None:  # filtered before paging: hidden tables shift no page and count in none
            tables, token = _enforce().list_visible_tables(caller, adapter, ctx, request.schema_name,
                                                           request.next_token, request.page_size)
            return ListTablesResponse(tables, request.catalog_name, token)
        schemas = [request.schema_name] if request.schema_name else list(adapter.list_schemas(ctx))
        if len(schemas) == 1:
            page = adapter.list_tables(ctx, schemas[0], request.next_token, request.page_size)
            tables, token = tuple(page.tables), page.next_token
        else:  # no schema named: every schema's tables, unpaginated
            tables = tuple(t for s in schemas for t in adapter.list_tables(ctx, s, None, -1).tables)
            token = None
        _check_lower_case("table", [t.table for t in tables])
        return ListTablesResponse(tables, request.catalog_name, token)

    def get_table(self, request: GetTableRequest) -> GetTableResponse:
        from connector.protocol.block import SchemaMessage

        ctx, adapter = self._context(request)
        caller = self._caller(request)
        if request.passthrough:
            if caller is not None:
                _enforce().refuse_passthrough(caller)
            arguments = self._passthrough_arguments(request.passthrough, adapter)
            definition = adapter.get_passthrough_table(ctx, arguments)
        else:
            if caller is not None:
                _enforce().grant_for(caller, request.table_name)  # an invisible table is "not found" before any lookup
            definition = adapter.get_table(ctx, request.table_name)
            if caller is not None:
                definition = _enforce().restrict_definition(caller, request.table_name, definition)
        _check_definition(request.table_name, definition)
        return GetTableResponse(request.catalog_name, request.table_name, SchemaMessage.of_logical(definition.schema),
                                definition.partition_columns)

    def _passthrough_arguments(self, arguments: Mapping[str, str], adapter: Adapter) -> dict[str, str]:
        from connector.capabilities import PASSTHROUGH_ARGUMENT, PASSTHROUGH_SIGNATURE

        if not self.settings.enable_query_passthrough or not adapter.capabilities().passthrough:
            raise InvalidRequest("query passthrough (system.query) is not enabled for this connector")
        normalized = {k.upper(): v for k, v in arguments.items()}
        signature = normalized.pop("SCHEMAFUNCTIONNAME", PASSTHROUGH_SIGNATURE)
        if signature.upper() != PASSTHROUGH_SIGNATURE:
            raise InvalidRequest(f"unknown passthrough function {signature!r}; this connector offers "
                                 f"{PASSTHROUGH_SIGNATURE.lower()}(query => '...')")
        if not normalized.get(PASSTHROUGH_ARGUMENT, "").strip():
            raise InvalidRequest("system.query needs a non-empty query argument: system.query(query => 'SELECT ...')")
        return normalized

    def get_table_layout(self, request: GetTableLayoutRequest) -> GetTableLayoutResponse:
        import pyarrow as pa

        from connector.adapter import TableDefinition
        from connector.protocol.block import Block

        ctx, adapter = self._context(request)
        definition = TableDefinition(request.schema.logical_schema(), request.partition_columns)
        constraints = request.constraints
        caller = self._caller(request)
        if caller is not None:
            if constraints.is_passthrough:
                _enforce().refuse_passthrough(caller)
            else:
                constraints = self._authorize(request, ctx, adapter, caller, definition.schema)[0].constraints
        if constraints.is_passthrough:
            partitions = pa.table({"partitionId": pa.array([1], pa.int32())})
        else:
            partitions = adapter.get_partitions(ctx, request.table_name, definition, constraints)
        missing = [c for c in request.partition_columns if c not in partitions.column_names]
        if missing:
            raise ConnectorError(f"{adapter.source_type} adapter returned partitions without the partition "
                                 f"column(s) {missing} of {request.table_name}")
        pruning = {c: vs for c, vs in request.constraints.summary.items() if c in request.partition_columns}
        if pruning and partitions.num_rows:
            from connector.pushdown.evaluate import summary_mask

            partitions = partitions.filter(summary_mask(pruning, partitions))
        batch = partitions.combine_chunks().to_batches()[0] if partitions.num_rows else pa.RecordBatch.from_pylist(
            [], schema=partitions.schema)
        return GetTableLayoutResponse(request.catalog_name, request.table_name,
                                      Block.from_logical(batch))  # modern framing, as Java answers v2 too

    def get_splits(self, request: GetSplitsRequest) -> GetSplitsResponse:
        import pyarrow as pa

        ctx, adapter = self._context(request)
        settings = self.settings.for_request(request.identity.config_options)
        check_spill_bucket(settings)  # as the Java handler does: a missing bucket fails here, not mid-query
        constraints = request.constraints
        caller = self._caller(request)
        if caller is not None:
            if constraints.is_passthrough:
                _enforce().refuse_passthrough(caller)
            else:
                requested = pa.schema([])  # GetSplits carries no projection; constraints are what matter
                constraints = self._authorize(request, ctx, adapter, caller, requested)[0].constraints
        if constraints.is_passthrough:
            properties = [dict(constraints.passthrough)]
            token = None
        else:
            partitions = pa.Table.from_batches([request.partitions.logical_batch("partitions")])
            page = adapter.get_splits(ctx, request.table_name, partitions, constraints, request.continuation_token)
            properties, token = [dict(p) for p in page.splits], page.next_token
        if caller is not None:
            properties = _enforce().sign_splits(caller, request.identity, request.query_id, request.catalog_name,
                                     request.table_name, properties)
        splits = tuple(Split(new_spill_location(settings, request.query_id), new_encryption_key(settings), p)
                       for p in properties)
        return GetSplitsResponse(request.catalog_name, splits, token)

    # ------------------------------------------------------------------------------------------ records

    def read_records(self, request: ReadRecordsRequest) -> Message:
        request = _with_plan(request)
        ctx, adapter = self._context(request)
        caller = self._caller(request)
        if caller is None or caller.unrestricted:
            return self._read_records(request, ctx, adapter, caller)
        from connector.access.withhold import values_withheld, withheld_error

        # A restricted caller: no message about this read may carry a source value, whatever fails where.
        with values_withheld():
            try:
                return self._read_records(request, ctx, adapter, caller)
            except Exception as e:
                raise withheld_error(e, adapter.source_type, request.table_name) from None

    def _read_records(self, request: ReadRecordsRequest, ctx: RequestContext, adapter: Adapter,
                      caller: CallerAccess | None) -> Message:
        from connector.records import respond

        max_block = block_size_for(request.max_block_size, self.settings.max_block_size)
        status = self._query_status(request.query_id)
        for attempt in itertools.count(1):
            spiller = _TrackedSpillerFactory(lambda: self.spiller_factory)
            scan: Scan | None = None
            try:
                # Opening the scan connects: "too many connections" arrives here, so it is inside the try.
                scan, rows = self._open_rows(request, ctx, adapter, caller)
                watched = _watch(rows, ctx.deadline, status, f"reading {request.table_name}")
                return respond(request, watched, max_block_size=max_block, spiller_factory=spiller)
            except SourceThrottled as e:
                if not spiller.used:  # nothing written yet: let Athena slow down and retry the split itself
                    raise FederationThrottleException(f"{adapter.source_type} asked to slow down: {e}") from None
                import random  # jitter, not cryptography; loaded only when the source throttles

                delay = min(THROTTLE_MAX_DELAY, THROTTLE_FIRST_DELAY * 2 ** (attempt - 1)) * (0.5 + random.random())
                left = ctx.deadline.remaining()
                if attempt >= THROTTLE_ATTEMPTS or (left is not None and left < delay + ctx.deadline.margin):
                    raise SourceError(f"{adapter.source_type} kept throttling reads of {request.table_name} after "
                                      f"{attempt} attempts: {e}") from None
                # Blocks already spilled are rewritten from block 0 by the next attempt.
                log.warning("throttled after spilling; retrying the split in %.2f s (attempt %d)", delay, attempt)
                time.sleep(delay)
            finally:
                if scan is not None and scan.close is not None:  # also when respond() fails before any row
                    scan.close()
        raise AssertionError("unreachable")

    def _query_status(self, query_id: str) -> QueryStatusChecker | None:
        """Polls Athena only on Lambda (local query ids are not Athena's) unless turned off."""
        enabled = self.settings.env.get("enable_query_status_check", "true").strip().lower() != "false"
        return QueryStatusChecker(query_id) if enabled and self.settings.in_lambda else None

    def _open_rows(self, request: ReadRecordsRequest, ctx: RequestContext, adapter: Adapter,
                   caller: CallerAccess | None) -> tuple[Scan, Iterable[pa.RecordBatch]]:
        import pyarrow as pa

        from connector.scan import rows_of
        from connector.topn import sort_memory_bytes

        schema = request.schema.logical_schema()
        sort_memory = sort_memory_bytes(self.settings.env)
        scan: Scan
        if request.constraints.is_passthrough:
            if caller is not None:
                _enforce().refuse_passthrough(caller)
            arguments = self._passthrough_arguments(request.constraints.passthrough, adapter)
            scan = adapter.read_passthrough(ctx, arguments, schema)
            rows: Iterable[pa.RecordBatch] = rows_of(scan, schema, sort_memory_bytes=sort_memory)
        elif caller is None:
            scan = adapter.read_split(ctx, request.table_name, schema, request.split, request.constraints)
            rows = rows_of(scan, schema, sort_memory_bytes=sort_memory)
        else:
            enforce = _enforce()
            authorized, full = self._authorize(request, ctx, adapter, caller, schema)
            properties = enforce.verify_split(caller, request.identity, request.query_id, request.catalog_name,
                                              request.table_name, request.split.properties)
            split = Split(request.split.spill_location, request.split.encryption_key, properties)
            # Read the row filter's columns (re-checked here whatever the adapter did) and those of the caller's
            # expressions (applied here, after the row filter) too. Field descriptions are the adapter's own.
            needed = [*enforce.filter_columns(authorized.grant, request.table_name, full),
                      *sorted(authorized.after.columns())]
            extra = [full.field(c) for c in dict.fromkeys(needed) if c not in schema.names]
            wider = pa.schema([*authorized.schema, *extra], metadata=authorized.schema.metadata)
            scan = adapter.read_split(ctx, request.table_name, wider, split, authorized.constraints)
            rows = enforce.guard_rows(rows_of(scan, wider, sort_memory_bytes=sort_memory), authorized,
                                      request.table_name, full, schema, caller.policy, sort_memory_bytes=sort_memory)
        return scan, rows

    def describe_read(self, request: ReadRecordsRequest) -> str:
        """What the adapter would ask its source for this ReadRecords request, without reading (``--explain``)."""
        request = _with_plan(request)
        ctx, adapter = self._context(request)
        if request.constraints.is_passthrough:
            from connector.capabilities import PASSTHROUGH_ARGUMENT

            return self._passthrough_arguments(request.constraints.passthrough, adapter)[PASSTHROUGH_ARGUMENT]
        return adapter.describe_split(ctx, request.table_name, request.schema.logical_schema(), request.split,
                                      request.constraints)

    def user_defined_function(self, request: UserDefinedFunctionRequest) -> Message:
        caller = self._caller(request)
        if caller is not None and not caller.may_call_udf(request.method_name):
            raise AccessDenied(f"calling UDF {request.method_name!r} is denied ({caller.who})")
        self.udfs.load_modules(self.settings.env)
        return self.udfs.call(request)


JAVA_INT_MAX = 2**31 - 1
THROTTLE_ATTEMPTS = 5
THROTTLE_FIRST_DELAY = 0.5
THROTTLE_MAX_DELAY = 8.0
def _enforce() -> ModuleType:
    """The policy's enforcement (Arrow, sqlglot, the evaluator): loaded only when a policy applies to a request."""
    from connector.access import enforce

    return enforce


def _forward_access(request: Any) -> ForwardAccess | None:
    """The caller's forwarded credentials (managed mode), parsed only when the request carries a token."""
    options = request.identity.config_options
    return ForwardAccess.from_config_options(options) if FAS_TOKEN in options else None


_deadline: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("afq_deadline", default=None)


class _TrackedSpillerFactory:
    """Remembers whether a read started spilling (a throttle is then retried here, not handed to Athena). The
    factory is looked up when a read spills: inline answers never load the spill writer and its encryption."""

    def __init__(self, factory: Callable[[], SpillerFactory]) -> None:
        self.factory = factory
        self.used = False

    def __call__(self, request: ReadRecordsRequest) -> BlockSpiller:
        self.used = True
        return self.factory()(request)


def _watch(rows: Iterable[pa.RecordBatch], deadline: Deadline, status: QueryStatusChecker | None,
           doing: str) -> Iterator[pa.RecordBatch]:
    """Stop before Lambda's timeout (an error), or early once Athena reports the query finished."""
    count = 0
    try:
        for batch in rows:
            deadline.check(f"{doing} after {count} rows")
            if status is not None and not status.is_running():
                log.info("query %s is %s: stopped %s after %d rows", status.query_id, status.state, doing, count)
                return
            count += batch.num_rows
            yield batch
    finally:
        if status is not None:
            status.close()
        log.debug("%s: %d rows", doing, count)


def _with_plan(request: ReadRecordsRequest) -> ReadRecordsRequest:
    """The request with its v6 Substrait plan applied as constraints (the plan module loads only for plans)."""
    constraints = request.constraints
    if constraints.query_plan is None or constraints.is_passthrough:
        return request
    from connector.pushdown.plan import apply_plan

    applied = apply_plan(constraints, request.table_name.table, request.schema.logical_schema())
    return dataclasses.replace(request, constraints=applied)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _table_of(request: Any) -> str | None:
    table = getattr(request, "table_name", None)
    return str(table) if table is not None else None


def _summary(response: Message) -> dict[str, Any]:
    """Figures for the request's log line: rows and bytes returned or spilled, splits handed out."""
    if isinstance(response, ReadRecordsResponse):
        return {"rows": _rows(response.records), "bytes": len(response.records.records_bytes), "spilled": 0}
    if isinstance(response, RemoteReadRecordsResponse):
        return {"spilled_blocks": len(response.remote_blocks)}
    if isinstance(response, GetSplitsResponse):
        return {"splits": len(response.splits)}
    return {}


def _rows(block: Block) -> int:
    """Rows of a block this service just built: read from the message header only (no validation pass over
    the values - the bytes are our own, and this runs for every inline answer)."""
    if not block.records_bytes:
        return 0
    import pyarrow as pa
    import pyarrow.ipc

    schema = pyarrow.ipc.read_schema(pa.py_buffer(block.schema_bytes))
    return int(pyarrow.ipc.read_record_batch(pa.py_buffer(block.records_bytes), schema).num_rows)


def _check_lower_case(kind: str, names: Any) -> None:
    bad = [n for n in names if n != n.lower()]
    if bad:
        raise ConnectorError(f"the adapter returned {kind} names that are not lower case: {bad[:5]}; Athena "
                             f"only handles lower-case names")


def _check_definition(table: TableName, definition: TableDefinition) -> None:
    from connector.protocol.types import check_supported

    try:
        check_supported(definition.schema, logical=True, what=f"table {table}")
    except TypeError as e:
        raise ConnectorError(str(e)) from None
    _check_lower_case("column", definition.schema.names)
    unknown = [c for c in definition.partition_columns if c not in definition.schema.names]
    if unknown:
        raise ConnectorError(f"table {table}: partition columns {unknown} are not columns of the table")
