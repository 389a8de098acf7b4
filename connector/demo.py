"""``afq demo``: two embedded databases and a Parquet "data lake" file, queried together through the local
Athena - every table read over the federation protocol from the in-process connector, pushdown shown with
``--explain``, the final joins and aggregates computed by DuckDB.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from typing import IO, cast

from connector.demo_data import create_demo_database, create_support_database, write_lake_visits

QUERIES: list[tuple[str, str, bool]] = [
    ("Top-5 large orders: the filters, ORDER BY and LIMIT go to the connector (top-N), per split",
     "SELECT o.id, o.amount, o.status FROM shop.main.orders o "
     "WHERE o.amount > 990 AND o.status IN ('shipped', 'pending') ORDER BY o.amount DESC LIMIT 5", True),
    ("count(*) reads no column at all; the OR across two columns is pushed as an expression",
     "SELECT count(*) AS orders FROM shop.main.orders "
     "WHERE ordered_at >= TIMESTAMP '2024-07-01 00:00:00' AND (note LIKE 'rush%' OR customer_id % 10 = 0)", True),
    ("A join across two catalogs (two SQLite databases), aggregated by the engine",
     "SELECT c.region, t.priority, count(*) AS tickets, round(avg(t.satisfaction), 2) AS satisfaction "
     "FROM support.main.tickets t JOIN shop.main.customers c ON c.id = t.customer_id "
     "WHERE t.status = 'closed' GROUP BY c.region, t.priority ORDER BY c.region, t.priority", False),
    ("The data lake (a local Parquet file) joined with a federated table",
     "SELECT c.region, count(DISTINCT v.customer_id) AS visitors, sum(v.page_views) AS page_views "
     "FROM lake.web.visits v JOIN shop.main.customers c ON c.id = v.customer_id "
     "WHERE v.day >= DATE '2024-03-01' AND c.vip GROUP BY c.region ORDER BY c.region", True),
    ("Query passthrough: the native query runs as is in the source",
     "SELECT * FROM TABLE(shop.system.query(query => 'SELECT status, count(*) AS n FROM orders GROUP BY status')) "
     "ORDER BY n DESC, status", False),
]


HINT_QUERY = ("SELECT c.region, count(*) AS orders FROM shop.main.orders o JOIN shop.main.customers c "
              "ON c.id = o.customer_id GROUP BY c.region ORDER BY c.region")


def afq_command() -> tuple[str, str]:
    """How to run this afq again from the current directory - ``afq`` when that is on PATH and is this one,
    else its path (``.venv/bin/afq`` after ``make demo``) - and the venv's activate script, if any."""
    script = sys.argv[0] if sys.argv else ""
    if os.path.basename(script) != "afq" or not os.path.isfile(script):
        return f"{shlex.quote(sys.executable)} -m connector.cli", ""
    found = shutil.which("afq")
    activate = os.path.join(os.path.dirname(script), "activate")
    activate = os.path.relpath(activate) if os.path.isfile(activate) else ""
    if found and os.path.realpath(found) == os.path.realpath(script):
        return "afq", ""
    relative = os.path.relpath(script)
    command = relative if not relative.startswith("..") else os.path.abspath(script)
    return shlex.quote(command if os.sep in command else os.path.join(".", command)), activate


def run_demo(directory: str, out: IO[str] | None = None) -> int:
    from connector import handler
    from connector.local.engine import LocalAthena, QueryOptions
    from connector.local.explain import explain
    from connector.local.output import write_table
    from connector.local.targets import InProcessTarget

    stream = out or sys.stdout
    indented = cast(IO[str], _Indented(stream))
    shop = create_demo_database(os.path.join(directory, "shop.db"))
    support = create_support_database(os.path.join(directory, "support.db"))
    lake_dir = os.path.join(os.path.abspath(directory), "lake")
    visits = write_lake_visits(os.path.join(lake_dir, "web", "visits.parquet"))
    env = {"shop_connection_string": f"sqlite://jdbc:sqlite:{shop}",
           "support_connection_string": f"sqlite://jdbc:sqlite:{support}",
           "sqlite_rows_per_split": "1000"}
    os.environ.update(env)
    handler.reset()
    stream.write(f"demo files in {os.path.abspath(directory)}:\n  {shop}\n  {support}\n  {visits}\n\n"
                 f"to query them yourself (these commands work as they are, in this shell's directory):\n")
    for key, value in env.items():
        stream.write(f"  export {key}={shlex.quote(value)}\n")
    afq, activate = afq_command()
    stream.write(f"  {afq} query --lake-dir {shlex.quote(lake_dir)} {shlex.quote(HINT_QUERY)}\n")
    if activate:
        stream.write(f"  (or put afq on your PATH first: source {shlex.quote(activate)})\n")
    options = QueryOptions(lake_dir=lake_dir)
    for number, (title, sql, show_plan) in enumerate(QUERIES, start=1):
        stream.write(f"\n{'=' * 100}\n{number}. {title}\n\n  {sql}\n\n")
        if show_plan:
            stream.write("--explain:\n")
            explain(LocalAthena(InProcessTarget(), options), sql, indented)
            stream.write("\nresult:\n")
        result = LocalAthena(InProcessTarget(), options).run(sql)
        write_table(result.table, indented)
    return 0


class _Indented:
    """Indents everything written through it (the demo nests reports under each query)."""

    def __init__(self, stream: IO[str], prefix: str = "  ") -> None:
        self.stream = stream
        self.prefix = prefix
        self._at_line_start = True

    def write(self, text: str) -> int:
        for line in text.splitlines(keepends=True):
            if self._at_line_start and line.strip():
                self.stream.write(self.prefix)
            self.stream.write(line)
            self._at_line_start = line.endswith("\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()
