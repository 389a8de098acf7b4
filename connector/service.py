"""The composite connector: one request in, one response out, for every message type.

Dispatch is a fixed table from request class to method. The service resolves the catalog to an adapter
(cached across warm invocations), calls it in Arrow terms, and does everything the protocol needs around it:
partition pruning, split spill locations and keys, residual filtering, inline-or-spill, serialization.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa

from connector.adapter import Adapter, RequestContext, Scan, TableDefinition
from connector.capabilities import PASSTHROUGH_ARGUMENT, PASSTHROUGH_SIGNATURE
from connector.config import Settings
from connector.connection import ConnectionSpec, connection_string_for
from connector.errors import ConnectorError, InvalidRequest
from connector.protocol.block import Block, SchemaMessage
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
    Request,
    Split,
    TableName,
    UserDefinedFunctionRequest,
    parse_request,
)
from connector.protocol.types import check_supported
from connector.pushdown.evaluate import summary_mask
from connector.records import SpillerFactory, respond
from connector.registry import adapter_class
from connector.scan import rows_of
from connector.udf import UdfRegistry
from connector.udf import registry as default_udfs
from spill.locations import new_encryption_key, new_spill_location
from spill.stores import check_spill_bucket
from spill.writer import SpillerFactory as DefaultSpillerFactory

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
        self.udfs = udfs or default_udfs
        self.spiller_factory = spiller_factory if spiller_factory is not None else DefaultSpillerFactory(self.settings)
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

    # ------------------------------------------------------------------------------------------ entry

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        request = parse_request(event)
        response = self._dispatch[type(request)](request)
        return response.to_wire()

    def _context(self, request: Any) -> tuple[RequestContext, Adapter]:
        settings = self.settings.for_request(request.identity.config_options)
        ctx = RequestContext(request.identity, request.catalog_name, request.query_id, settings.env)
        return ctx, self._adapter_for(request.catalog_name)

    # ------------------------------------------------------------------------------------------ metadata

    def ping(self, request: PingRequest) -> PingResponse:
        # A Ping must always succeed (Athena pings before anything else): report the engine without
        # connecting, and "unconfigured" rather than failing if the catalog has no connection string yet.
        try:
            source_type = adapter_class(self.pool.spec(request.catalog_name).engine).source_type
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
        return ListSchemasResponse(request.catalog_name, schemas)

    def list_tables(self, request: ListTablesRequest) -> ListTablesResponse:
        ctx, adapter = self._context(request)
        if request.page_size == 0 or request.page_size < -1:
            raise InvalidRequest(f"pageSize must be -1 (all) or positive, got {request.page_size}")
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
        ctx, adapter = self._context(request)
        if request.passthrough:
            arguments = self._passthrough_arguments(request.passthrough, adapter)
            definition = adapter.get_passthrough_table(ctx, arguments)
        else:
            definition = adapter.get_table(ctx, request.table_name)
        _check_definition(request.table_name, definition)
        return GetTableResponse(request.catalog_name, request.table_name, SchemaMessage.of_logical(definition.schema),
                                definition.partition_columns)

    def _passthrough_arguments(self, arguments: Mapping[str, str], adapter: Adapter) -> dict[str, str]:
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
        ctx, adapter = self._context(request)
        definition = TableDefinition(request.schema.logical_schema(), request.partition_columns)
        if request.constraints.is_passthrough:
            partitions = pa.table({"partitionId": pa.array([1], pa.int32())})
        else:
            partitions = adapter.get_partitions(ctx, request.table_name, definition, request.constraints)
        missing = [c for c in request.partition_columns if c not in partitions.column_names]
        if missing:
            raise ConnectorError(f"{adapter.source_type} adapter returned partitions without the partition "
                                 f"column(s) {missing} of {request.table_name}")
        pruning = {c: vs for c, vs in request.constraints.summary.items() if c in request.partition_columns}
        if pruning and partitions.num_rows:
            partitions = partitions.filter(summary_mask(pruning, partitions))
        batch = partitions.combine_chunks().to_batches()[0] if partitions.num_rows else pa.RecordBatch.from_pylist(
            [], schema=partitions.schema)
        return GetTableLayoutResponse(request.catalog_name, request.table_name,
                                      Block.from_logical(batch, legacy=request.schema.is_legacy))

    def get_splits(self, request: GetSplitsRequest) -> GetSplitsResponse:
        ctx, adapter = self._context(request)
        settings = self.settings.for_request(request.identity.config_options)
        check_spill_bucket(settings)  # as the Java handler does: a missing bucket fails here, not mid-query
        if request.constraints.is_passthrough:
            properties = [dict(request.constraints.passthrough)]
            token = None
        else:
            partitions = pa.Table.from_batches([request.partitions.logical_batch("partitions")])
            page = adapter.get_splits(ctx, request.table_name, partitions, request.constraints,
                                      request.continuation_token)
            properties, token = [dict(p) for p in page.splits], page.next_token
        splits = tuple(Split(new_spill_location(settings, request.query_id), new_encryption_key(settings), p)
                       for p in properties)
        return GetSplitsResponse(request.catalog_name, splits, token)

    # ------------------------------------------------------------------------------------------ records

    def read_records(self, request: ReadRecordsRequest) -> Message:
        ctx, adapter = self._context(request)
        schema = request.schema.logical_schema()
        scan: Scan
        if request.constraints.is_passthrough:
            arguments = self._passthrough_arguments(request.constraints.passthrough, adapter)
            scan = adapter.read_passthrough(ctx, arguments, schema)
        else:
            scan = adapter.read_split(ctx, request.table_name, schema, request.split, request.constraints)
        max_block = self.settings.max_block_size or request.max_block_size
        try:
            return respond(request, rows_of(scan, schema), max_block_size=max_block,
                           spiller_factory=self.spiller_factory)
        finally:
            if scan.close is not None:  # also when respond() fails before reading a single row
                scan.close()

    def describe_read(self, request: ReadRecordsRequest) -> str:
        """What the adapter would ask its source for this ReadRecords request, without reading (``--explain``)."""
        ctx, adapter = self._context(request)
        if request.constraints.is_passthrough:
            return self._passthrough_arguments(request.constraints.passthrough, adapter)[PASSTHROUGH_ARGUMENT]
        return adapter.describe_split(ctx, request.table_name, request.schema.logical_schema(), request.split,
                                      request.constraints)

    def user_defined_function(self, request: UserDefinedFunctionRequest) -> Message:
        self.udfs.load_modules(self.settings.env)
        return self.udfs.call(request)


def _check_lower_case(kind: str, names: Any) -> None:
    bad = [n for n in names if n != n.lower()]
    if bad:
        raise ConnectorError(f"the adapter returned {kind} names that are not lower case: {bad[:5]}; Athena "
                             f"only handles lower-case names")


def _check_definition(table: TableName, definition: TableDefinition) -> None:
    try:
        check_supported(definition.schema, logical=True, what=f"table {table}")
    except TypeError as e:
        raise ConnectorError(str(e)) from None
    _check_lower_case("column", definition.schema.names)
    unknown = [c for c in definition.partition_columns if c not in definition.schema.names]
    if unknown:
        raise ConnectorError(f"table {table}: partition columns {unknown} are not columns of the table")
