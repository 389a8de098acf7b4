"""Athena's side of the protocol for one catalog: the calls, in Athena's order, with Athena's parameters.

Ping first (the serde version is the smaller of ours and the connector's), then capabilities (serde v4+),
GetTable, GetTableLayout, every page of GetSplits, and ReadRecords per split - inline blocks decoded here,
spilled blocks read (and decrypted) by ``spill.reader``. Requests are built with the protocol classes and sent
with the negotiated version's shape; responses are parsed with them, so a response Athena could not parse
fails here too.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import pyarrow as pa

from connector.capabilities import COMPLEX_EXPRESSION, FILTER, LIMIT, PASSTHROUGH_SIGNATURE, TOP_N
from connector.config import Settings
from connector.errors import ConnectorError
from connector.local.errors import ProtocolViolation, QueryError
from connector.local.targets import Target
from connector.protocol.block import SchemaMessage
from connector.protocol.constraints import Constraints
from connector.protocol.errors import ProtocolError
from connector.protocol.messages import (
    SERDE_VERSION,
    GetDataSourceCapabilitiesRequest,
    GetDataSourceCapabilitiesResponse,
    GetSplitsRequest,
    GetSplitsResponse,
    GetTableLayoutRequest,
    GetTableLayoutResponse,
    GetTableRequest,
    GetTableResponse,
    Identity,
    ListSchemasRequest,
    ListSchemasResponse,
    ListTablesRequest,
    ListTablesResponse,
    Message,
    OptimizationSubType,
    PingRequest,
    PingResponse,
    ReadRecordsRequest,
    ReadRecordsResponse,
    RemoteReadRecordsResponse,
    Split,
    TableName,
    parse_response,
)

#: What the SDK's validator sends (Athena enforces 16,000,000 as the maximum block size).
MAX_BLOCK_SIZE = 16_000_000
MAX_INLINE_BLOCK_SIZE = 5_242_880
#: Athena's engine speaks every serde version up to the SDK's current one.
ATHENA_SERDE_VERSION = SERDE_VERSION
MAX_SPLIT_PAGES = 100_000

LOCAL_IDENTITY = Identity(account="000000000000", arn="arn:aws:iam::000000000000:user/afq-local")
PASSTHROUGH_TABLE = TableName("system", "query")

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Capabilities:
    """What a connector declared in GetDataSourceCapabilities (nothing before serde v4)."""

    raw: Mapping[str, tuple[OptimizationSubType, ...]] = field(default_factory=dict)

    def _subtypes(self, name: str) -> dict[str, tuple[str, ...]]:
        return {s.sub_type: s.properties for s in self.raw.get(name, ())}

    @property
    def filter(self) -> bool:
        return FILTER in self.raw

    @property
    def nullable_comparison(self) -> bool:
        return "nullable_comparison" in self._subtypes(FILTER)

    @property
    def functions(self) -> frozenset[str]:
        return frozenset(self._subtypes(COMPLEX_EXPRESSION).get("supported_function_expression_types", ()))

    @property
    def limit(self) -> bool:
        return LIMIT in self.raw

    @property
    def top_n(self) -> bool:
        return "SUPPORTS_ORDER_BY" in self._subtypes(TOP_N)

    @property
    def passthrough(self) -> bool:
        return any(name.upper() == PASSTHROUGH_SIGNATURE for name in self.raw)

    def summary(self) -> str:
        parts = []
        if self.filter:
            parts.append("filter" + (" (nullable comparison)" if self.nullable_comparison else ""))
        if self.functions:
            parts.append(f"expressions ({len(self.functions)} functions)")
        if self.top_n:
            parts.append("top-N")
        if self.limit:
            parts.append("limit")
        if self.passthrough:
            parts.append("query passthrough")
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class TableInfo:
    table: TableName
    schema: SchemaMessage
    logical: pa.Schema
    partition_columns: tuple[str, ...]
    passthrough: Mapping[str, str] = field(default_factory=dict)


@dataclass
class SplitResult:
    """One split's rows (logical types) and how they came back."""

    split: Split
    batches: list[pa.RecordBatch]
    spilled_blocks: int = 0

    @property
    def num_rows(self) -> int:
        return sum(b.num_rows for b in self.batches)


class CatalogSession:
    """One catalog, one query: negotiated version and capabilities are cached for the query's life."""

    def __init__(self, target: Target, catalog: str, *, query_id: str | None = None,
                 identity: Identity = LOCAL_IDENTITY, settings: Settings | None = None,
                 max_serde_version: int = ATHENA_SERDE_VERSION) -> None:
        self.target = target
        self.catalog = catalog
        self.query_id = query_id or str(uuid.uuid4())
        self.identity = identity
        self.settings = settings
        self.max_serde_version = max_serde_version
        self._serde: int | None = None
        self._capabilities: Capabilities | None = None
        self._lock = threading.Lock()
        #: Raw JSON responses by request type, kept for the validator's key-order checks.
        self.observer: Any = None

    # ------------------------------------------------------------------------------------------ transport

    def call(self, request: Message, expected: type[M] | tuple[type[Message], ...], *,
             version: int | None = None) -> Any:
        event = request.to_wire(version if version is not None else self.serde_version)
        raw = self.target.invoke(event)
        if self.observer is not None:
            self.observer(request, raw)
        try:
            response = parse_response(raw)
        except ProtocolError as e:
            raise ProtocolViolation(f"cannot parse the response to {request.type_name()} from "
                                    f"{self.target.description}: {e}") from None
        if not isinstance(response, expected):
            names = expected.__name__ if isinstance(expected, type) else "/".join(t.__name__ for t in expected)
            raise ProtocolViolation(f"{request.type_name()} was answered with {response.type_name()}, "
                                    f"expected {names}")
        return response

    # ------------------------------------------------------------------------------------------ handshake

    def ping(self) -> PingResponse:
        response = self.call(PingRequest(self.identity, self.catalog, self.query_id), PingResponse,
                             version=self.max_serde_version)
        if response.serde_version < 1:
            raise ProtocolViolation(f"Ping answered serDeVersion {response.serde_version}")
        return response

    @property
    def serde_version(self) -> int:
        with self._lock:
            if self._serde is None:
                self._serde = min(self.max_serde_version, self.ping().serde_version)
            return self._serde

    @property
    def capabilities(self) -> Capabilities:
        if self._capabilities is None:
            if self.serde_version < 4:
                self._capabilities = Capabilities()
            else:
                response = self.call(GetDataSourceCapabilitiesRequest(self.identity, self.query_id, self.catalog),
                                     GetDataSourceCapabilitiesResponse)
                self._capabilities = Capabilities(response.capabilities)
        return self._capabilities

    @capabilities.setter
    def capabilities(self, value: Capabilities) -> None:
        self._capabilities = value

    @property
    def legacy_ipc(self) -> bool:
        """Serde v2 frames Arrow messages the legacy way (no continuation marker)."""
        return self.serde_version < 3

    # ------------------------------------------------------------------------------------------ metadata

    def list_schemas(self) -> tuple[str, ...]:
        return self.call(ListSchemasRequest(self.identity, self.query_id, self.catalog), ListSchemasResponse).schemas

    def list_tables(self, schema: str, next_token: str | None = None, page_size: int = -1) -> ListTablesResponse:
        return self.call(ListTablesRequest(self.identity, self.query_id, self.catalog, schema, next_token, page_size),
                         ListTablesResponse)

    def get_table(self, table: TableName) -> TableInfo:
        response = self.call(GetTableRequest(self.identity, self.query_id, self.catalog, table), GetTableResponse)
        return self._table_info(table, response, {})

    def get_passthrough_table(self, arguments: Mapping[str, str]) -> TableInfo:
        if self.serde_version < 5:
            raise QueryError(f"catalog {self.catalog!r} speaks serde v{self.serde_version}; query passthrough "
                             f"needs v5 or later")
        if not self.capabilities.passthrough:
            raise QueryError(f"catalog {self.catalog!r} does not declare query passthrough "
                             f"({PASSTHROUGH_SIGNATURE.lower()})")
        args = {**arguments, "schemaFunctionName": PASSTHROUGH_SIGNATURE}
        response = self.call(GetTableRequest(self.identity, self.query_id, self.catalog, PASSTHROUGH_TABLE, args),
                             GetTableResponse)
        return self._table_info(PASSTHROUGH_TABLE, response, args)

    def _table_info(self, table: TableName, response: GetTableResponse, passthrough: Mapping[str, str]) -> TableInfo:
        try:
            logical = response.schema.logical_schema("GetTableResponse.schema")
        except ProtocolError as e:
            raise ProtocolViolation(str(e)) from None
        return TableInfo(response.table_name, response.schema, logical, response.partition_columns, passthrough)

    # ------------------------------------------------------------------------------------------ planning

    def get_table_layout(self, info: TableInfo, constraints: Constraints) -> GetTableLayoutResponse:
        return self.call(GetTableLayoutRequest(self.identity, self.query_id, self.catalog, info.table, constraints,
                                               info.schema, info.partition_columns), GetTableLayoutResponse)

    def split_pages(self, info: TableInfo, layout: GetTableLayoutResponse,
                    constraints: Constraints) -> Iterator[GetSplitsResponse]:
        """Every GetSplits page: the same request again with each continuation token until it is null."""
        token: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_SPLIT_PAGES):
            page = self.call(GetSplitsRequest(self.identity, self.query_id, self.catalog, info.table,
                                              layout.partitions, info.partition_columns, constraints, token),
                             GetSplitsResponse)
            yield page
            token = page.continuation_token
            if token is None:
                return
            if token in seen:
                raise ProtocolViolation(f"GetSplits returned the continuation token {token[:40]!r} twice: the "
                                        f"split listing would never end")
            seen.add(token)
        raise ProtocolViolation(f"GetSplits did not finish within {MAX_SPLIT_PAGES} pages")

    def get_splits(self, info: TableInfo, constraints: Constraints) -> list[Split]:
        layout = self.get_table_layout(info, constraints)
        return [s for page in self.split_pages(info, layout, constraints) for s in page.splits]

    # ------------------------------------------------------------------------------------------ records

    def read_request(self, info: TableInfo, columns: list[str], split: Split, constraints: Constraints, *,
                     max_block_size: int = MAX_BLOCK_SIZE,
                     max_inline_block_size: int = MAX_INLINE_BLOCK_SIZE) -> ReadRecordsRequest:
        """The ReadRecords request for a projection: the table schema's fields in table order, metadata kept."""
        fields = [info.logical.field(c) for c in columns]
        projected = pa.schema(fields, metadata=info.logical.metadata)
        return ReadRecordsRequest(self.identity, self.query_id, self.catalog, info.table,
                                  SchemaMessage.of_logical(projected, legacy=self.legacy_ipc), split, constraints,
                                  max_block_size, max_inline_block_size)

    def read_response(self, request: ReadRecordsRequest) -> ReadRecordsResponse | RemoteReadRecordsResponse:
        response: ReadRecordsResponse | RemoteReadRecordsResponse = self.call(
            request, (ReadRecordsResponse, RemoteReadRecordsResponse))
        return response

    def read(self, request: ReadRecordsRequest) -> SplitResult:
        response = self.read_response(request)
        result = SplitResult(request.split, *self.decode(request, response))
        discard_local_blocks(response, self.settings or Settings.from_env())
        return result

    def decode(self, request: ReadRecordsRequest,
               response: ReadRecordsResponse | RemoteReadRecordsResponse) -> tuple[list[pa.RecordBatch], int]:
        batches = list(self.batches(request, response))
        return batches, len(response.remote_blocks) if isinstance(response, RemoteReadRecordsResponse) else 0

    def batches(self, request: ReadRecordsRequest,
                response: ReadRecordsResponse | RemoteReadRecordsResponse) -> Iterator[pa.RecordBatch]:
        """The answer's rows (logical types), checked against the request; spilled blocks one at a time."""
        wanted = request.schema.logical_schema()
        if isinstance(response, ReadRecordsResponse):
            try:
                batch = response.records.logical_batch("ReadRecordsResponse.records")
            except ProtocolError as e:
                raise ProtocolViolation(str(e)) from None
            _check_schema(wanted, batch.schema, request)
            yield batch
            return
        try:
            _check_schema(wanted, response.schema.logical_schema("RemoteReadRecordsResponse.schema"), request)
        except ProtocolError as e:
            raise ProtocolViolation(str(e)) from None
        for batch in read_spilled(response, self.settings or Settings.from_env()):
            _check_schema(wanted, batch.schema, request)
            yield batch


def _check_schema(wanted: pa.Schema, got: pa.Schema, request: ReadRecordsRequest) -> None:
    if not wanted.equals(got, check_metadata=False):
        raise ProtocolViolation(
            f"ReadRecords for {request.table_name} asked for columns ({_fields(wanted)}) but the answer has "
            f"({_fields(got)})")


def _fields(schema: pa.Schema) -> str:
    return ", ".join(f"{f.name} {f.type}" for f in schema) or "no columns"


def read_spilled(response: RemoteReadRecordsResponse, settings: Settings) -> Iterator[pa.RecordBatch]:
    """Spilled blocks through ``spill.reader`` (imported when first needed)."""
    try:
        from spill.reader import read_remote_blocks
    except ImportError as e:
        raise ConnectorError(
            f"the connector spilled {len(response.remote_blocks)} block(s) but this installation cannot read "
            f"spilled blocks (spill.reader is missing: {e})") from None
    try:
        yield from read_remote_blocks(response, settings)
    except ConnectorError:
        raise
    except Exception as e:  # a corrupt, plaintext-when-encrypted or missing block must not crash the caller
        raise ConnectorError(f"cannot read the spilled blocks of this split: {type(e).__name__}: "
                             f"{str(e)[:300] or 'no detail'} (are they written and encrypted with the split's "
                             f"key?)") from None


def discard_local_blocks(response: ReadRecordsResponse | RemoteReadRecordsResponse, settings: Settings) -> None:
    """Delete spilled blocks that went to the local spill directory once they are read: on a laptop nothing
    expires them (Athena leaves S3 blocks to the bucket's lifecycle rule, and so does this for real buckets)."""
    if not isinstance(response, RemoteReadRecordsResponse):
        return
    import os

    from connector.config import LOCAL_SPILL_BUCKET

    directories = set()
    for block in response.remote_blocks:
        if block.bucket != LOCAL_SPILL_BUCKET:
            continue
        from spill.stores import LocalStore

        try:
            path = LocalStore(settings.spill_directory).path(block.key)
        except ConnectorError:
            continue  # a key outside the directory was never written there
        with contextlib.suppress(OSError):
            os.remove(path)
        directories.add(os.path.dirname(path))
    for directory in directories:
        with contextlib.suppress(OSError):
            os.rmdir(directory)  # only once empty: other splits of the query may still be there


def without_spill(split: Split, suffix: str) -> Split:
    """A copy of a split whose spill location will not collide with the original's (a second read of it)."""
    if split.spill_location is None:
        return split
    location = replace(split.spill_location, key=f"{split.spill_location.key}-{suffix}")
    return Split(location, split.encryption_key, split.properties)
