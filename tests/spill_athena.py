"""Helpers for the spill tests: a wide SQLite table with known contents, and Athena's call sequence."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from connector.protocol import (
    Constraints,
    GetSplitsRequest,
    GetTableLayoutRequest,
    GetTableRequest,
    Identity,
    ReadRecordsRequest,
    SchemaMessage,
    Split,
    TableName,
    parse_response,
)

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
IDENTITY = Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/spill-test")
CATALOG = "spillcat"
TABLE = TableName("main", "events")
BASE_TIME = dt.datetime(2024, 1, 1)


def event_row(i: int) -> tuple[Any, ...]:
    """Row ``i`` of the events table: varied widths, NULLs and every common type."""
    note = None if i % 11 == 0 else ("x" * (i % 97)) + f"-note-{i}"
    blob = None if i % 13 == 0 else i.to_bytes(4, "little") * (1 + i % 5)
    return (i, f"name-{i:07d}", i * 0.25 - 1000.0, bool(i % 3 == 0),
            (BASE_TIME + dt.timedelta(seconds=37 * i)).isoformat(sep=" "),
            (dt.date(2020, 1, 1) + dt.timedelta(days=i % 2000)).isoformat(), note, blob)


def expected_columns(rows: int) -> dict[str, list[Any]]:
    """The logical values Athena must get back for the first ``rows`` rows."""
    columns: dict[str, list[Any]] = {k: [] for k in ("id", "name", "amount", "flag", "created", "day", "note", "blob")}
    for i in range(rows):
        r = event_row(i)
        columns["id"].append(r[0])
        columns["name"].append(r[1])
        columns["amount"].append(r[2])
        columns["flag"].append(r[3])
        columns["created"].append(dt.datetime.fromisoformat(r[4]))
        columns["day"].append(dt.date.fromisoformat(r[5]))
        columns["note"].append(r[6])
        columns["blob"].append(r[7])
    return columns


def create_events_db(path: Path, rows: int) -> Path:
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount REAL, flag BOOLEAN, "
                   "created TIMESTAMP, day DATE, note TEXT, blob BLOB)")
        db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (event_row(i) for i in range(rows)))
        db.commit()
    finally:
        db.close()
    return path


@dataclass
class Athena:
    """Plays Athena's calls through the Lambda handler for one table."""

    invoke: Invoke
    query_id: str = "spill-query-1"
    identity: Identity = IDENTITY

    def call(self, request: Any) -> Any:
        return parse_response(self.invoke(request.to_wire()))

    def table(self) -> Any:
        return self.call(GetTableRequest(self.identity, self.query_id, CATALOG, TABLE))

    def splits(self) -> tuple[Any, list[Split]]:
        definition = self.table()
        layout = self.call(GetTableLayoutRequest(self.identity, self.query_id, CATALOG, TABLE, Constraints(),
                                                 definition.schema, ()))
        response = self.call(GetSplitsRequest(self.identity, self.query_id, CATALOG, TABLE, layout.partitions, (),
                                              Constraints(), None))
        assert response.continuation_token is None
        return definition, list(response.splits)

    def read(self, definition: Any, split: Split, *, max_block_size: int = 16_000_000,
             max_inline_block_size: int = 5_242_880, columns: list[str] | None = None) -> Any:
        schema = definition.schema
        if columns is not None:
            full = schema.logical_schema()
            schema = SchemaMessage.of_logical(pa.schema([full.field(c) for c in columns], metadata=full.metadata))
        return self.call(ReadRecordsRequest(self.identity, self.query_id, CATALOG, TABLE, schema, split,
                                            Constraints(), max_block_size, max_inline_block_size))
