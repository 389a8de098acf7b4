"""Helpers for the spill tests: a wide SQLite table with known contents, and Athena for its catalog."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from connector.protocol import Identity, Split, TableName
from tests.support.athena import Athena, Invoke

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


def events_athena(invoke: Invoke, **options: Any) -> Athena:
    """Athena for the spill catalog (``options``: ``query_id``, ``identity``)."""
    return Athena(invoke, CATALOG, **{"query_id": "spill-query-1", "identity": IDENTITY, **options})


def events_splits(athena: Athena) -> tuple[Any, list[Split]]:
    """The events table's GetTable response and its splits."""
    _, definition = athena.get_table(TABLE.schema, TABLE.table)
    return definition, athena.splits(TABLE, definition)
