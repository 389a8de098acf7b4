"""The JDBC adapter in a JVM someone else started: another class path, ``convertStrings=False`` (Java strings
come back as ``java.lang.String`` objects, not Python ``str``). A JVM starts once per process, so this runs in a
fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = textwrap.dedent("""
    import datetime as dt, json, sys
    from decimal import Decimal
    import jpype
    jpype.startJVM(classpath=["/usr/share/java/postgresql.jar"], convertStrings=False)  # not ours, no H2

    from adapters.jdbc.adapter import JdbcAdapter
    from connector.adapter import RequestContext
    from connector.config import Settings
    from connector.connection import parse_connection_string
    from connector.protocol.constraints import Constraints
    from connector.protocol.messages import Identity, Split, TableName
    from connector.scan import rows_of

    url = "jdbc:h2:" + sys.argv[1] + ";USER=sa;PASSWORD="
    adapter = JdbcAdapter(parse_connection_string("jdbc://" + url), Settings.from_env({}))
    connection = adapter.connect()
    cursor = connection.cursor()
    cursor.execute('CREATE TABLE "Things" ("Id" BIGINT PRIMARY KEY, "Name" VARCHAR(20) NOT NULL, '
                   '"Price" NUMERIC(8, 2), "At" TIMESTAMP)')
    cursor.execute("INSERT INTO \\"Things\\" VALUES (1, 'one', 1.50, TIMESTAMP '2020-01-01 10:00:00.25')")
    cursor.close()
    ctx = RequestContext(Identity(), "default", "q")
    table = TableName("public", "things")
    schema = adapter.get_table(ctx, table).schema
    scan = adapter.read_split(ctx, table, schema, Split(None, None, {}), Constraints())
    rows = [r for b in rows_of(scan, schema) for r in b.to_pylist()]
    passthrough = adapter.get_passthrough_table(ctx, {"QUERY": 'SELECT "Name" AS n FROM "Things"'}).schema
    out = {"schemas": list(adapter.list_schemas(ctx)), "tables": [t.table for t in adapter.list_tables(
        ctx, "public", None, -1).tables], "types": [str(f.type) for f in schema], "rows": repr(rows),
        "nullable": [c.nullable for c in adapter.query_columns(connection, "PUBLIC", "Things")],
        "passthrough": [f"{f.name}:{f.type}" for f in passthrough]}
    print(json.dumps(out))
""")


def test_adapter_works_in_a_jvm_started_elsewhere(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "db")], capture_output=True, text=True,
                            cwd=repo, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["schemas"] == ["public"]
    assert out["tables"] == ["things"]
    assert out["types"] == ["int64", "string", "decimal128(8, 2)", "timestamp[ms]"]
    assert out["rows"] == repr([{"id": 1, "name": "one", "price": __import__("decimal").Decimal("1.50"),
                                 "at": __import__("datetime").datetime(2020, 1, 1, 10, 0, 0, 250000)}])
    assert out["nullable"] == [False, False, True, True]
    assert out["passthrough"] == ["n:string"]
