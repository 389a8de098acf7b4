"""The 99 TPC-DS queries as an Athena user writes them: DuckDB's text, tables named catalog.schema.table.

The extension's queries are in DuckDB's dialect; sqlglot writes them as Trino SQL. Where DuckDB accepts
something Athena rejects, the query is patched here, in a form both engines accept (so DuckDB's reference answer
is computed from the same text), with the reason.
"""

from __future__ import annotations

from pathlib import Path

import sqlglot
from sqlglot import exp

#: query number -> (DuckDB text, replacement, why)
PATCHES: dict[int, list[tuple[str, str, str]]] = {
    72: [("d1.d_date + 5", "d1.d_date + INTERVAL '5' DAY",
          "Athena has no date + integer (Cannot apply operator: date + integer); an interval is standard SQL")],
}


def duckdb_text(directory: Path, number: int) -> str:
    """The query as DuckDB runs it for the reference answer (the patches applied: both engines take them)."""
    sql = (directory / "queries" / f"{number}.sql").read_text()
    for old, new, _why in PATCHES.get(number, []):
        if old not in sql:
            raise RuntimeError(f"query {number}: the patched text {old!r} is not in the query any more")
        sql = sql.replace(old, new)
    return sql


def athena_sql(directory: Path, number: int, catalog: str, schema: str) -> str:
    """The query in Trino syntax, every TPC-DS table as ``catalog.schema.table``."""
    tree = sqlglot.parse_one(duckdb_text(directory, number), read="duckdb")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Identifier) and not table.db and table.name.lower() not in ctes:
            table.set("db", exp.to_identifier(schema))
            table.set("catalog", exp.to_identifier(catalog))
    return tree.sql(dialect="trino", pretty=True)


def numbers(directory: Path) -> list[int]:
    return sorted(int(p.stem) for p in (directory / "queries").glob("*.sql"))
