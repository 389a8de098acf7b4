"""Cold start: importing the handler loads no driver, no sqlglot dialect and no boto3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("pyarrow", "sqlglot", "boto3", "botocore", "sqlite3", "oracledb", "snowflake", "teradatasql", "jpype",
         "duckdb", "cryptography")


def _loaded_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    script = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_the_handler_loads_nothing_heavy() -> None:
    loaded = _loaded_after("import connector.handler")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_a_sqlite_ping_and_read_load_only_what_they_need(tmp_path: Path) -> None:
    import os

    db = tmp_path / "t.db"
    import sqlite3

    with sqlite3.connect(db) as c:
        c.execute("create table t(a integer)")
    code = (
        "from connector.handler import lambda_handler\n"
        "from connector.protocol import Identity, PingRequest, ListSchemasRequest\n"
        "lambda_handler(PingRequest(Identity(), 'c', 'q').to_wire())\n"
        "lambda_handler(ListSchemasRequest(Identity(), 'q', 'c').to_wire())\n")
    env = {**os.environ, "default": f"sqlite://jdbc:sqlite:{db}"}
    loaded = _loaded_after(code, env)
    assert "sqlite3" in loaded and "pyarrow" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("boto3", "botocore", "oracledb", "snowflake", "teradatasql",
                                                         "jpype", "duckdb", "cryptography")}
    assert not {m for m in loaded if m.startswith("sqlglot.dialects.") and m.split(".")[2] in (
        "oracle", "snowflake", "teradata", "postgres", "trino")}
