"""A real Substrait producer for the v6 query-plan tests: DuckDB's substrait extension, in its own venv.

``produce(ddl, rows, queries)`` creates the table in DuckDB, fills it, and returns for each SQL query the
base64 Substrait plan DuckDB makes of it and DuckDB's own answer - the oracle the connector's rows are compared
with. The optimizer stays on: with it off, DuckDB 1.1.3 references columns its ReadRel does not project. With
it on, a constant outside the data's range makes it plan an empty result it cannot encode, so tests keep their
constants inside the data. One subprocess per call; the venv (``.venv-substrait``, git-ignored) comes from the
hash-pinned ``requirements-substrait.txt``.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.servers import tool_venv

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv-substrait"
LOCK = Path(__file__).with_name("requirements-substrait.txt")

_SCRIPT = r"""
import base64, json, pathlib, sys
import duckdb, duckdb_extension_substrait as package

job = json.load(sys.stdin)
extension = next(pathlib.Path(package.__file__).parent.glob("extensions/*/substrait.duckdb_extension"))
out = []
for query in job["queries"]:
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{extension}'")
    con.execute(job["ddl"])
    if job["rows"]:
        marks = ", ".join("?" * len(job["rows"][0]))
        con.executemany(f"INSERT INTO t VALUES ({marks})", job["rows"])
    quoted = query.replace("'", "''")
    plan = con.execute(f"CALL get_substrait('{quoted}', enable_optimizer=true)").fetchone()[0]
    answer = [list(r) for r in con.execute(query).fetchall()]
    out.append({"plan": base64.b64encode(plan).decode(), "rows": answer})
    con.close()
json.dump(out, sys.stdout, default=str)
"""


def produce(ddl: str, rows: list[list[Any]], queries: list[str]) -> list[dict[str, Any]]:
    """For each query: ``{"plan": base64 Substrait plan, "rows": DuckDB's answer}`` (values JSON-encoded)."""
    python = tool_venv.ensure(LOCK, VENV)
    job = json.dumps({"ddl": ddl, "rows": rows, "queries": queries}, default=str)
    result = subprocess.run([str(python), "-c", _SCRIPT], input=job, capture_output=True, text=True, timeout=300,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"DuckDB's substrait producer failed:\n{result.stderr[-3000:]}")
    answers: list[dict[str, Any]] = json.loads(result.stdout)
    for answer in answers:
        answer["plan"] = with_project_emits(answer["plan"])
    return answers


def with_project_emits(text: str) -> str:
    """DuckDB 1.1.3's ProjectRels output their expressions alone, without saying so; the Substrait spec (and
    substrait-java, Athena's producer, which writes the emit) appends the expressions to the input's fields.
    Add the ``emit`` that makes DuckDB's plans mean what DuckDB meant."""
    from substrait import algebra_pb2, plan_pb2

    plan = plan_pb2.Plan()
    plan.ParseFromString(base64.b64decode(text))

    def width(rel: algebra_pb2.Rel) -> int:
        kind = rel.WhichOneof("rel_type")
        inner = getattr(rel, kind)
        if kind == "read":
            if inner.HasField("projection"):
                return len(inner.projection.select.struct_items)
            return len(inner.base_schema.struct.types)
        below = width(inner.input)
        if kind == "project":
            if not inner.common.HasField("emit"):
                inner.common.emit.output_mapping.extend(range(below, below + len(inner.expressions)))
            return len(inner.common.emit.output_mapping)
        return below

    for relation in plan.relations:
        width(relation.root.input)
    return base64.b64encode(plan.SerializeToString()).decode()
