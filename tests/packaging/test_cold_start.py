"""Cold start: what a fresh process imports to answer its first requests (never how long it takes: bench/).

Each test runs a fresh interpreter and lists ``sys.modules`` afterwards, so a module-level import that drags a
heavy package onto a request's path fails here, naming the package.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from connector.registry import adapter_class, builtin_engines

HEAVY = ("pyarrow", "sqlglot", "boto3", "botocore", "sqlite3", "oracledb", "snowflake", "teradatasql", "jpype",
         "duckdb", "cryptography")
DRIVERS = ("boto3", "botocore", "oracledb", "snowflake", "teradatasql", "jpype", "duckdb", "cryptography")
#: The access policy's machinery: loaded only when a policy is configured.
POLICY = ("connector.access.enforce", "connector.access.policy", "connector.access.identity",
          "connector.access.source")


def _loaded_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    script = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _packages(loaded: set[str], names: tuple[str, ...]) -> set[str]:
    return {m for m in loaded if m.split(".")[0] in names}


def _modules(loaded: set[str], names: tuple[str, ...]) -> set[str]:
    return {m for m in loaded if m in names or m.startswith(tuple(f"{n}." for n in names))}


def _events(*kinds: str) -> str:
    """Code that builds the request events with the protocol's own classes, before the handler runs."""
    return ("from connector.protocol.messages import Identity, PingRequest, ListSchemasRequest\n"
            "events = {'ping': PingRequest(Identity(), 'default', 'q').to_wire(),\n"
            "          'schemas': ListSchemasRequest(Identity(), 'q', 'default').to_wire()}\n"
            "from connector.handler import lambda_handler\n"
            + "".join(f"assert lambda_handler(events[{kind!r}])\n" for kind in kinds))


@pytest.fixture
def database(tmp_path: Path) -> Path:
    db = tmp_path / "t.db"
    with sqlite3.connect(db) as c:
        c.execute("create table t(a integer)")
    return db


def test_importing_the_handler_loads_nothing_heavy() -> None:
    loaded = _loaded_after("import connector.handler")
    assert not _packages(loaded, HEAVY)


@pytest.mark.parametrize("connection", ["sqlite://jdbc:sqlite:{db}", "jdbc://jdbc:postgresql://h:5432/d?user=u",
                                        "snowflake://jdbc:snowflake://acct.snowflakecomputing.com/?db=D",
                                        "oracle://jdbc:oracle:thin:@//h:1521/s", "teradata://jdbc:teradata://h/"])
def test_a_ping_needs_no_arrow_no_sql_no_adapter_no_policy(database: Path, connection: str) -> None:
    """Athena pings before anything else: the answer (the engine's source type, the SDK's capabilities) comes from
    the protocol layer and the registry alone."""
    env = {**os.environ, "default": connection.format(db=database)}
    loaded = _loaded_after(_events("ping"), env)
    assert not _packages(loaded, HEAVY)
    # only the engines' small declarations (adapters/<engine>/engine.py and the settings they share)
    assert not {m for m in loaded if m.split(".")[0] == "adapters" and len(m.split(".")) > 2
                and m.split(".")[-1] not in ("engine", "settings")}
    assert not _modules(loaded, POLICY)
    assert not _modules(loaded, ("connector.protocol.block", "connector.protocol.constraints",
                                 "connector.protocol.types", "connector.pushdown", "connector.records",
                                 "spill.writer", "importlib.metadata"))
    assert not _modules(loaded, UNNEEDED_STDLIB)


def test_each_built_in_engine_declares_its_adapters_source_type() -> None:
    """A Ping reports the declared source type without importing the adapter: it must be the adapter's own. The
    adapter takes it from its ``engine``, so that must be the very declaration the registry found."""
    engines = builtin_engines()
    assert set(engines) == {"sqlite", "jdbc", "oracle", "snowflake", "teradata"}
    for name, declared in engines.items():
        adapter = adapter_class(name)
        assert getattr(adapter, "engine", None) is declared  # and the adapter reads the settings this declares
        assert adapter.source_type == declared.source_type


def test_a_sqlite_metadata_request_loads_only_what_it_needs(database: Path) -> None:
    env = {**os.environ, "default": f"sqlite://jdbc:sqlite:{database}"}
    loaded = _loaded_after(_events("ping", "schemas"), env)
    assert "sqlite3" in loaded
    assert not _packages(loaded, DRIVERS)
    assert not _modules(loaded, POLICY)
    assert not {m for m in loaded if m.startswith("sqlglot.dialects.") and m.split(".")[2] in (
        "oracle", "snowflake", "teradata", "postgres", "trino")}


def test_a_policy_loads_its_machinery(database: Path, tmp_path: Path) -> None:
    """The other side of the rule: with a policy, the same Ping reads it and checks the caller."""
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"secret": "s" * 32, "rules": [{"name": "all", "match": {"account": "1"},
                                                                  "access": "all"}]}))
    env = {**os.environ, "default": f"sqlite://jdbc:sqlite:{database}", "access_policy": f"file://{policy}",
           "access_identity_protection": "unverified_local"}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    loaded = _loaded_after(_events("schemas").replace("Identity()", "Identity(account='1')"), env)
    assert {"connector.access.policy", "connector.access.identity"} <= loaded


FIRST_QUERY = """
import json, sys
from connector.protocol import (Constraints, GetSplitsRequest, GetTableLayoutRequest, GetTableRequest, Identity,
                                PingRequest, ReadRecordsRequest, TableName)
identity, table = Identity(account="1"), TableName("main", "t")
from connector.handler import lambda_handler
from connector.protocol import parse_response
def call(request):
    return parse_response(json.loads(json.dumps(lambda_handler(request.to_wire()))))
call(PingRequest(identity, "default", "q"))
definition = call(GetTableRequest(identity, "q", "default", table))
layout = call(GetTableLayoutRequest(identity, "q", "default", table, Constraints(), definition.schema, ()))
splits = call(GetSplitsRequest(identity, "q", "default", table, layout.partitions, (), Constraints(), None))
answers = [call(ReadRecordsRequest(identity, "q", "default", table, definition.schema, split, Constraints(),
                                   16_000_000, {inline})) for split in splits.splits]
assert [type(a).__name__ for a in answers] == ["{answer}"] * {splits}
"""
#: Standard library modules a plain read answered inline never needs: OpenSSL's hashes (hashlib, hmac, secrets),
#: tempfile with the archive modules shutil loads (a local spill writes through it), random (retries' jitter).
UNNEEDED_STDLIB = ("hashlib", "_hashlib", "hmac", "secrets", "tempfile", "shutil", "bz2", "lzma", "random")


@pytest.mark.parametrize(("splits", "spilled"), [(1, False), (3, False), (1, True)])
def test_a_first_query_loads_only_what_it_needs(tmp_path: Path, splits: int, spilled: bool) -> None:
    """Athena's five calls for a plain read (nothing pushed down) import pyarrow and the driver, and not sqlglot,
    pyarrow.compute (decimals, dates, timestamps and booleans are converted through connector.kernels), the
    evaluator, the top-N, the policy, or boto3 and OpenSSL; answered inline, not the spill writer or encryption
    either. Spilled to the local store, the writer and encryption load, and still no boto3."""
    db = tmp_path / "t.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, amount REAL, created TIMESTAMP, day DATE, "
                  "flag BOOLEAN, payload BLOB, price DECIMAL(12,2))")
        c.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            (i, f"n{i}", i / 2, f"2024-01-01 10:{i % 60:02d}:00", "2024-02-03", i % 2, b"x", i * 0.25)
            for i in range(500)])
    env = {**os.environ, "default": f"sqlite://jdbc:sqlite:{db}", "AFQ_LOCAL_SPILL_DIR": str(tmp_path / "spill")}
    env.pop("spill_bucket", None)
    if splits > 1:
        env["sqlite_rows_per_split"] = str(500 // splits + 1)
    code = FIRST_QUERY.replace("{splits}", str(splits)).replace("{inline}", "0" if spilled else "5_000_000")
    loaded = _loaded_after(code.replace("{answer}", "RemoteReadRecordsResponse" if spilled else
                                        "ReadRecordsResponse"), env)
    assert {"pyarrow", "sqlite3"} <= loaded
    assert not _packages(loaded, ("sqlglot", *(d for d in DRIVERS if not (spilled and d == "cryptography"))))
    assert not _modules(loaded, ("pyarrow.compute", *POLICY, "connector.pushdown.evaluate", "connector.sorted_runs",
                                 "connector.pushdown.sql_values", "connector.udf", "importlib.metadata"))
    assert not _modules(loaded, UNNEEDED_STDLIB if not spilled else ("hashlib", "hmac", "secrets"))
    spill = {"spill.writer", "spill.crypto"}
    assert spill <= loaded if spilled else not spill & loaded
