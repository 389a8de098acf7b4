"""Play Athena's side of the protocol: the requests Athena builds, in Athena's order, for any transport.

``Athena`` sends them through ``invoke`` (a JSON object in, a JSON object out): the ``invoke`` fixture's Lambda
handler (which also checks every response's key order), a service in process, a bundle under awslambdaric...
``LocalAthena`` is one over a fresh service for one environment, with shortcuts returning plain rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from connector.config import Settings
from connector.protocol.block import SchemaMessage
from connector.protocol.constraints import Constraints
from connector.protocol.messages import (
    GetSplitsRequest,
    GetTableLayoutRequest,
    GetTableRequest,
    Identity,
    ListSchemasRequest,
    ListTablesRequest,
    ReadRecordsRequest,
    ReadRecordsResponse,
    Split,
    TableName,
    parse_response,
)
from connector.service import FederationService

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
IDENTITY = Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/test")
MAX_BLOCK_SIZE = 16_000_000
MAX_INLINE_BLOCK_SIZE = 5_242_880


def in_process(service: FederationService) -> Invoke:
    """A service called as the Lambda runtime calls the handler: JSON text in between."""
    return lambda event: json.loads(json.dumps(service.handle(json.loads(json.dumps(event)))))


class Athena:
    """One catalog seen from Athena; ``version`` is the serde version of the requests (2 to 6)."""

    def __init__(self, invoke: Invoke, catalog: str, *, query_id: str = "query-1", identity: Identity = IDENTITY,
                 version: int = 6) -> None:
        self.invoke, self.catalog, self.query_id, self.identity, self.version = (invoke, catalog, query_id,
                                                                                identity, version)
        self.splits_seen: list[Split] = []

    def call(self, request: Any) -> Any:
        return parse_response(self.invoke(request.to_wire(self.version)))

    # ------------------------------------------------------------------------------------------ metadata

    def schemas(self) -> list[str]:
        return list(self.call(ListSchemasRequest(self.identity, self.query_id, self.catalog)).schemas)

    def tables(self, schema: str, page_size: int = -1, token: str | None = None) -> tuple[list[str], str | None]:
        response = self.call(ListTablesRequest(self.identity, self.query_id, self.catalog, schema, token, page_size))
        return [t.table for t in response.tables], response.next_token

    def get_table(self, schema: str, table: str, passthrough: Mapping[str, str] | None = None) -> tuple[TableName, Any]:
        """The table's name and its GetTableResponse (``schema``, ``partition_columns``)."""
        name = TableName(schema, table)
        return name, self.call(GetTableRequest(self.identity, self.query_id, self.catalog, name, passthrough or {}))

    # ------------------------------------------------------------------------------------------ scans

    def splits(self, name: TableName, definition: Any, constraints: Constraints | None = None) -> list[Split]:
        """GetTableLayout, then every page of GetSplits. ``definition``: a GetTableResponse or a SchemaMessage."""
        constraints = constraints or Constraints()
        schema, partition_columns = _parts(definition)
        layout = self.call(GetTableLayoutRequest(self.identity, self.query_id, self.catalog, name, constraints, schema,
                                                 partition_columns))
        splits: list[Split] = []
        token: str | None = None
        while True:
            page = self.call(GetSplitsRequest(self.identity, self.query_id, self.catalog, name, layout.partitions,
                                              partition_columns, constraints, token))
            splits.extend(page.splits)
            token = page.continuation_token
            if not token:
                break
        self.splits_seen = splits
        return splits

    def read(self, name: TableName, definition: Any, split: Split, constraints: Constraints | None = None, *,
             columns: Sequence[str] | None = None, max_block_size: int = MAX_BLOCK_SIZE,
             max_inline_block_size: int = MAX_INLINE_BLOCK_SIZE) -> Any:
        """ReadRecords for ``columns`` (default: all), as the response Athena gets (inline or spilled)."""
        schema, _ = _parts(definition)
        if columns is not None:
            full = schema.logical_schema()
            schema = SchemaMessage.of_logical(pa.schema([full.field(c) for c in columns], metadata=full.metadata))
        return self.call(ReadRecordsRequest(self.identity, self.query_id, self.catalog, name, schema, split,
                                            constraints or Constraints(), max_block_size, max_inline_block_size))

    def scan_batches(self, name: TableName, definition: Any, constraints: Constraints | None = None,
                     columns: Sequence[str] | None = None) -> list[pa.RecordBatch]:
        """Every split's (inline) records as a logical batch, in split order."""
        batches = []
        for split in self.splits(name, definition, constraints):
            response = self.read(name, definition, split, constraints, columns=columns)
            assert isinstance(response, ReadRecordsResponse), f"not an inline answer: {type(response).__name__}"
            batches.append(response.records.logical_batch())
        return batches

    def scan_table(self, name: TableName, definition: Any, constraints: Constraints | None = None,
                   columns: Sequence[str] | None = None) -> pa.Table:
        full = _parts(definition)[0].logical_schema()
        schema = full if columns is None else pa.schema([full.field(c) for c in columns])
        return pa.Table.from_batches(self.scan_batches(name, definition, constraints, columns), schema=schema)


def _parts(definition: Any) -> tuple[SchemaMessage, tuple[str, ...]]:
    if isinstance(definition, SchemaMessage):
        return definition, ()
    return definition.schema, tuple(definition.partition_columns)


class LocalAthena(Athena):
    """A fresh service for one configuration; ``close()`` releases its adapters' connections."""

    def __init__(self, env: Mapping[str, str], catalog: str = "test") -> None:
        self.service = FederationService(Settings.from_env(dict(env)))
        super().__init__(in_process(self.service), catalog, query_id=str(uuid.uuid4()))

    def close(self) -> None:
        self.service.pool.close()

    def __enter__(self) -> LocalAthena:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def table(self, schema: str, table: str, passthrough: Mapping[str, str] | None = None) -> SchemaMessage:
        return self.get_table(schema, table, passthrough)[1].schema  # type: ignore[no-any-return]

    def scan(self, schema: str, table: str, constraints: Constraints | None = None,
             columns: Sequence[str] | None = None,
             table_schema: SchemaMessage | None = None) -> list[list[dict[str, Any]]]:
        """The rows of every split (one list per split), as Athena would receive them."""
        message = table_schema or self.table(schema, table)
        batches = self.scan_batches(TableName(schema, table), message, constraints, columns)
        return [batch.to_pylist() for batch in batches]

    def passthrough(self, query: str) -> tuple[pa.Schema, list[list[dict[str, Any]]]]:
        """``SELECT * FROM TABLE(system.query(query => '...'))``: GetTable, one split, ReadRecords."""
        arguments = {"schemaFunctionName": "SYSTEM.QUERY", "QUERY": query}
        name, definition = self.get_table("system", "query", arguments)
        constraints = Constraints(passthrough=arguments)
        batches = self.scan_batches(name, definition.schema, constraints)
        return definition.schema.logical_schema(), [batch.to_pylist() for batch in batches]
