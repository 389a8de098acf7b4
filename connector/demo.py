"""``afq demo``: build the demo database and play Athena's call sequence against it through the handler."""

from __future__ import annotations

import os
import uuid
from typing import Any

from connector.demo_data import create_demo_database


def run_demo(directory: str) -> int:
    import pyarrow as pa

    from connector import handler
    from connector.protocol import (
        Bound,
        Constraints,
        GetSplitsRequest,
        GetTableLayoutRequest,
        GetTableRequest,
        Identity,
        ListSchemasRequest,
        ListTablesRequest,
        Marker,
        OrderByField,
        PingRequest,
        Range,
        ReadRecordsRequest,
        SchemaMessage,
        SortDirection,
        SortedRangeSet,
        TableName,
        parse_response,
    )

    path = create_demo_database(os.path.join(directory, "demo.db"))
    os.environ["default"] = f"sqlite://jdbc:sqlite:{path}"
    handler.reset()
    identity = Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/demo")
    catalog, query = "demo", str(uuid.uuid4())

    def call(request: Any) -> Any:
        return parse_response(handler.lambda_handler(request.to_wire()))

    print(f"demo database: {path}")
    ping = call(PingRequest(identity, catalog, query))
    print(f"Ping: sourceType={ping.source_type} serDeVersion={ping.serde_version}")
    print("schemas:", ", ".join(call(ListSchemasRequest(identity, query, catalog)).schemas))
    tables = call(ListTablesRequest(identity, query, catalog, "main", None, -1)).tables
    print("tables:", ", ".join(t.table for t in tables))

    table = TableName("main", "orders")
    definition = call(GetTableRequest(identity, query, catalog, table))
    schema = definition.schema.logical_schema()
    print("orders:", ", ".join(f"{f.name} {f.type}" for f in schema))

    # SELECT id, amount, status FROM orders WHERE amount > 990 ORDER BY amount DESC LIMIT 5
    wanted = pa.schema([schema.field(n) for n in ("id", "amount", "status")], metadata=schema.metadata)
    from decimal import Decimal

    constraints = Constraints(
        summary={"amount": SortedRangeSet(schema.field("amount").type,
                                          (Range(Marker(Decimal("990"), Bound.ABOVE), Marker.above_all()),), False)},
        order_by=(OrderByField("amount", SortDirection.DESC_NULLS_LAST),), limit=5)
    layout = call(GetTableLayoutRequest(identity, query, catalog, table, constraints, definition.schema, ()))
    splits = call(GetSplitsRequest(identity, query, catalog, table, layout.partitions, (), constraints, None)).splits
    print(f"\nSELECT id, amount, status FROM orders WHERE amount > 990 ORDER BY amount DESC LIMIT 5"
          f"  ({len(splits)} split(s))")
    for split in splits:
        response = call(ReadRecordsRequest(identity, query, catalog, table, SchemaMessage.of_logical(wanted), split,
                                           constraints, 16_000_000, 5_242_880))
        for row in response.records.logical_batch().to_pylist():
            print(f"  {row['id']:>5}  {row['amount']:>8}  {row['status']}")
    return 0
