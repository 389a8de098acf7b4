"""A minimal connector on the peer Python SDK (``athena-federation`` 0.1.6 on PyPI) for ``bench.cold_start``.

It serves the same SQLite table as this project's cold-start run, the way that SDK's README shows: an
``AthenaDataSource`` (databases, tables, schema, records) behind its ``AthenaLambdaHandler``. It runs in the
peer's own venv (``.venv-peer``, Python 3.12, from ``bench/requirements-peer.txt``), never in this project's:
only the standard library and the peer SDK are imported here.

    lambda_handler(event, context)  # what a Lambda would call; the table comes from $default
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from typing import Any

import pyarrow as pa
from athena_federation import AthenaDataSource, AthenaLambdaHandler

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string()), ("amount", pa.float64()),
                    ("created", pa.timestamp("us"))])


class SqliteSource(AthenaDataSource):  # type: ignore[misc]
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def databases(self) -> list[str]:
        return ["main"]

    def tables(self, database_name: str) -> list[str]:
        with sqlite3.connect(self.path) as connection:
            return [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]

    def schema(self, database_name: str, table_name: str) -> pa.Schema:
        return SCHEMA

    def records(self, database_name: str, table_name: str, split: Any) -> dict[str, list[Any]]:
        with sqlite3.connect(self.path) as connection:
            rows = connection.execute("SELECT id, name, amount, created FROM t").fetchall()
        return {"id": [r[0] for r in rows], "name": [r[1] for r in rows], "amount": [r[2] for r in rows],
                "created": [dt.datetime.fromisoformat(r[3]) for r in rows]}


_handler: Any = None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _handler
    if _handler is None:
        path = os.environ["default"].split("jdbc:sqlite:", 1)[1]
        _handler = AthenaLambdaHandler(SqliteSource(path), spill_bucket="afq-peer-spill")
    result: dict[str, Any] = _handler.process_event(event)
    return result
