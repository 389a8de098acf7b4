"""The 99 TPC-DS queries as an Athena user writes them: DuckDB's text, tables named catalog.schema.table.

The extension's queries are in DuckDB's dialect; sqlglot writes them as Trino SQL. Where DuckDB accepts
something Athena rejects, the query is patched here, in a form both engines accept (so DuckDB's reference answer
is computed from the same text), with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

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


Rows = list[list[Any]]


@dataclass(frozen=True)
class AthenaAnswer:
    """Athena's answer derived from DuckDB's, by a rule stated in words and applied to DuckDB's exact columns."""

    rule: str
    reason: str
    derive: Callable[[Rows], Rows]


def _half_up(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def _q61(rows: Rows) -> Rows:
    # promotions, total, cast(promotions AS decimal(15,4)) / cast(total AS decimal(15,4)) * 100
    return [[p, t, None if p is None or t is None else _half_up(Decimal(p) / Decimal(t), 4) * 100]
            for p, t, _ratio in rows]


def _q75(rows: Rows) -> Rows:
    # WHERE cast(curr_cnt AS decimal(17,2)) / cast(prev_cnt AS decimal(17,2)) < 0.9; prev/curr are columns 6, 7
    return [row for row in rows if _half_up(Decimal(row[7]) / Decimal(row[6]), 2) < Decimal("0.9")]


#: Queries whose Athena answer is not DuckDB's cell by cell: a decimal quotient rounded *before* it is used.
ATHENA_ANSWERS: dict[int, AthenaAnswer] = {
    61: AthenaAnswer("decimal", "decimal(15,4) / decimal(15,4) is rounded half up to 4 places before * 100: "
                     "Athena's percentage has 2 significant decimals fewer than DuckDB's double", _q61),
    75: AthenaAnswer("decimal", "the ratio cast(... AS decimal(17,2)) / cast(... AS decimal(17,2)) is a "
                     "decimal(19,2) rounded half up: a ratio in [0.895, 0.9) is 0.90 in Athena, not < 0.9, so "
                     "those rows are not in Athena's answer (DuckDB's double keeps them)", _q75),
}
