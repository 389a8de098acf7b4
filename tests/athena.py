"""Play Athena's side of the protocol against the real service, in process (JSON in, JSON out)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
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
    Message,
    ReadRecordsRequest,
    ReadRecordsResponse,
    Split,
    TableName,
    parse_response,
)
from connector.service import FederationService

IDENTITY = Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/test")


class LocalAthena:
    """A fresh service for one configuration; ``close()`` releases its adapters' connections."""

    def __init__(self, env: Mapping[str, str], catalog: str = "test") -> None:
        self.service = FederationService(Settings.from_env(dict(env)))
        self.catalog = catalog
        self.query_id = str(uuid.uuid4())
        self.splits_seen: list[Split] = []

    def call(self, request: Any) -> Message:
        event = json.loads(json.dumps(request.to_wire()))
        return parse_response(json.loads(json.dumps(self.service.handle(event))))

    def close(self) -> None:
        self.service.pool.close()

    def __enter__(self) -> LocalAthena:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ metadata

    def schemas(self) -> list[str]:
        return list(self.call(ListSchemasRequest(IDENTITY, self.query_id, self.catalog)).schemas)  # type: ignore[attr-defined]

    def tables(self, schema: str, page_size: int = -1, token: str | None = None) -> tuple[list[str], str | None]:
        response: Any = self.call(ListTablesRequest(IDENTITY, self.query_id, self.catalog, schema, token, page_size))
        return [t.table for t in response.tables], response.next_token

    def table(self, schema: str, table: str, passthrough: Mapping[str, str] | None = None) -> SchemaMessage:
        request = GetTableRequest(IDENTITY, self.query_id, self.catalog, TableName(schema, table), passthrough or {})
        response: Any = self.call(request)
        return response.schema  # type: ignore[no-any-return]

    # ------------------------------------------------------------------------------------------ scans

    def scan(self, schema: str, table: str, constraints: Constraints | None = None,
             columns: Sequence[str] | None = None,
             table_schema: SchemaMessage | None = None) -> list[list[dict[str, Any]]]:
        """The rows of every split (one list per split), as Athena would receive them."""
        constraints = constraints or Constraints()
        name = TableName(schema, table)
        message = table_schema or self.table(schema, table)
        logical = message.logical_schema()
        wanted = logical if columns is None else pa.schema([logical.field(c) for c in columns],
                                                           metadata=logical.metadata)
        layout: Any = self.call(GetTableLayoutRequest(IDENTITY, self.query_id, self.catalog, name, constraints,
                                                      message, ()))
        splits: list[Split] = []
        token: str | None = None
        while True:
            page: Any = self.call(GetSplitsRequest(IDENTITY, self.query_id, self.catalog, name, layout.partitions,
                                                   (), constraints, token))
            splits.extend(page.splits)
            token = page.continuation_token
            if not token:
                break
        self.splits_seen = splits
        return [self.read(name, SchemaMessage.of_logical(wanted), split, constraints) for split in splits]

    def read(self, name: TableName, schema: SchemaMessage, split: Split,
             constraints: Constraints) -> list[dict[str, Any]]:
        response = self.call(ReadRecordsRequest(IDENTITY, self.query_id, self.catalog, name, schema, split,
                                                constraints, 16_000_000, 5_242_880))
        assert isinstance(response, ReadRecordsResponse), f"expected an inline answer, got {type(response).__name__}"
        return response.records.logical_batch().to_pylist()  # type: ignore[no-any-return]

    def passthrough(self, query: str) -> tuple[pa.Schema, list[list[dict[str, Any]]]]:
        """``SELECT * FROM TABLE(system.query(query => '...'))``: GetTable, one split, ReadRecords."""
        arguments = {"schemaFunctionName": "SYSTEM.QUERY", "QUERY": query}
        message = self.table("system", "query", arguments)
        constraints = Constraints(passthrough=arguments)
        name = TableName("system", "query")
        layout: Any = self.call(GetTableLayoutRequest(IDENTITY, self.query_id, self.catalog, name, constraints,
                                                      message, ()))
        page: Any = self.call(GetSplitsRequest(IDENTITY, self.query_id, self.catalog, name, layout.partitions, (),
                                               constraints, None))
        return message.logical_schema(), [self.read(name, message, s, constraints) for s in page.splits]
