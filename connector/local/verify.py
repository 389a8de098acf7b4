"""``afq query --verify``: check, split by split, that each connector applied what it was trusted with.

Athena does not re-apply a filter the connector declared, so a connector bug silently changes results. For
every split of every table with pushed work, the split is read again *without* constraints, the pushed
predicates are evaluated on those rows by DuckDB (independently of the connector's SQL and of the framework's
Arrow evaluator), and the two row multisets are compared: rows the connector returned that fail a predicate
(or do not exist), rows it missed, and for LIMIT / top-N the number of rows and the top sort keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlglot import exp

from connector.local.engine import ROWS_PLACEHOLDER, LocalAthena, QueryResult, TableScan, connect_duckdb
from connector.local.rows import Rows, row_counter, samples
from connector.local.session import SplitResult, without_spill
from connector.local.trino_semantics import follow_trino
from connector.protocol.constraints import Constraints

_TABLE = "__afq_verify"


@dataclass
class VerifyReport:
    lines: list[str] = field(default_factory=list)
    findings: int = 0

    def finding(self, text: str) -> None:
        self.findings += 1
        self.lines.append(f"  FINDING: {text}")


def verify(athena: LocalAthena, result: QueryResult) -> VerifyReport:
    report = VerifyReport()
    for scan in result.scans:
        _verify_table(athena, scan, report)
    return report


def _verify_table(athena: LocalAthena, scan: TableScan, report: VerifyReport) -> None:
    plan = scan.plan
    c = plan.constraints
    label = f"{plan.source.label} AS {plan.source.alias}"
    trusted = plan.trusted
    pushed = [p.sql for p in trusted]
    if c.order_by:
        pushed.append("top-N " + ", ".join(f"{o.column} {o.direction.value}" for o in c.order_by) + f" LIMIT {c.limit}")
    elif c.has_limit:
        pushed.append(f"LIMIT {c.limit}")
    if not pushed:
        report.lines.append(f"verify {label}: nothing was pushed to the connector, nothing to check")
        return
    before = report.findings
    report.lines.append(f"verify {label}: {len(scan.results)} split(s), {sum(r.num_rows for r in scan.results)} "
                        f"row(s) returned; pushed: {'; '.join(pushed)}")
    needed = set(plan.columns) | c.columns()
    read_columns = [f.name for f in scan.info.logical if f.name in needed]
    session = athena.session(plan.source.catalog)
    con = connect_duckdb()
    try:
        for index, returned in enumerate(scan.results, start=1):
            request = session.read_request(scan.info, read_columns, without_spill(returned.split, "verify"),
                                           Constraints(), max_block_size=athena.options.max_block_size,
                                           max_inline_block_size=athena.options.max_inline_block_size)
            everything = session.read(request)
            _check_split(con, scan, index, returned, everything, read_columns, report)
    finally:
        con.close()
    if report.findings == before:
        report.lines.append("  every pushed predicate holds on every split")


def _check_split(con: Any, scan: TableScan, index: int, returned: SplitResult, everything: SplitResult,
                 read_columns: list[str], report: VerifyReport) -> None:
    plan = scan.plan
    c = plan.constraints
    alias = plan.source.alias
    where = f"split {index} ({', '.join(f'{k}={v}' for k, v in returned.split.properties.items()) or 'no properties'})"
    table = _as_table(everything, read_columns)
    con.register(_TABLE, table)
    try:
        source = exp.Table(this=exp.to_identifier(_TABLE),
                           alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        columns: list[exp.Expr] = [exp.column(name, table=alias, quoted=True) for name in plan.columns]
        select = exp.select(*(columns or [exp.Literal.number(1)])).from_(source)
        if plan.trusted:
            select = select.where(exp.and_(*[p.node.copy() for p in plan.trusted]))
            follow_trino(select)  # the predicates mean what they mean in Athena (decimal division, dates...)
        expected = _rows(con.sql(select.sql("duckdb")).to_arrow_table(), bool(plan.columns))
        actual = _rows(_as_table(returned, plan.columns), bool(plan.columns))
        extra = actual - expected
        if extra:
            report.finding(f"{where}: {extra.total()} row(s) returned that fail the pushed predicates or do not "
                           f"exist, e.g. {samples(extra, plan.columns)}")
        if not c.has_limit:
            missing = expected - actual
            if missing:
                report.finding(f"{where}: {missing.total()} row(s) missed that satisfy the pushed predicates, "
                               f"e.g. {samples(missing, plan.columns)}")
            return
        wanted = min(c.limit, expected.total())
        if actual.total() != wanted:
            report.finding(f"{where}: returned {actual.total()} row(s) for a pushed LIMIT {c.limit}; "
                           f"{wanted} row(s) qualify")
        if c.order_by:
            _check_top_n(con, select, scan, where, returned, report)
    finally:
        con.unregister(_TABLE)


def _check_top_n(con: Any, select: exp.Select, scan: TableScan, where: str, returned: SplitResult,
                 report: VerifyReport) -> None:
    c = scan.plan.constraints
    alias = scan.plan.source.alias
    keys = [o.column for o in c.order_by]
    ordered = select.order_by(*[exp.Ordered(this=exp.column(o.column, table=alias, quoted=True),
                                            desc=not o.direction.ascending, nulls_first=o.direction.nulls_first)
                                for o in c.order_by]).limit(c.limit)
    top = con.sql(ordered.sql("duckdb")).to_arrow_table()
    expected_keys = _rows(top.select([scan.plan.columns.index(k) for k in keys]), True)
    actual_keys = _rows(_as_table(returned, scan.plan.columns).select(keys), True)
    if expected_keys != actual_keys:
        report.finding(f"{where}: the top-{c.limit} rows by {', '.join(keys)} are not the ones returned: "
                       f"expected keys {samples(expected_keys, keys)}, got {samples(actual_keys, keys)}")


def _as_table(result: SplitResult, columns: Sequence[str]) -> pa.Table:
    batches = [b for b in result.batches if b.num_rows]
    rows = sum(b.num_rows for b in batches)
    if not columns:
        return pa.table({ROWS_PLACEHOLDER: pa.nulls(rows, pa.bool_())})
    if not batches:
        schema = result.batches[0].schema if result.batches else None
        if schema is not None:
            return pa.Table.from_batches([], schema=schema).select(list(columns))
        return pa.table({name: pa.nulls(0) for name in columns})
    return pa.Table.from_batches(batches).select(list(columns))


def _rows(table: pa.Table, has_columns: bool) -> Rows:
    return row_counter(table, None if has_columns else [])
