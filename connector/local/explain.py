"""``afq query --explain``: what each connector is asked for, split by split, without reading any rows."""

from __future__ import annotations

from typing import IO

from connector.local.engine import LocalAthena, TableScan
from connector.local.errors import LambdaFunctionError
from connector.local.planner import TablePlan, describe_value_set
from connector.local.targets import InProcessTarget, TracingTarget
from connector.protocol.constraints import SortedRangeSet
from connector.pushdown.evaluate import describe

MAX_SPLITS_SHOWN = 20


def explain(athena: LocalAthena, sql: str, stream: IO[str]) -> None:
    plan, infos = athena.plan(sql)
    stream.write(f"query id: {athena.query_id}\ntarget:   {athena.target.description}\n")
    for table_plan in plan.tables:
        scan = TableScan(table_plan, infos[table_plan.source.name])
        athena.list_splits(scan)
        _table(athena, scan, stream)
    for source in plan.lake:
        stream.write(f"\nlake table {source.label} AS {source.alias}: {source.path} (read by the engine)\n")
    stream.write(f"\nengine (DuckDB) SQL:\n  {plan.engine_sql}\n")


def _table(athena: LocalAthena, scan: TableScan, stream: IO[str]) -> None:
    p: TablePlan = scan.plan
    source = p.source
    stream.write(f"\n{source.label} AS {source.alias}  (catalog {source.catalog}, serde v{p.serde_version}, "
                 f"capabilities: {p.capabilities.summary()})\n")
    stream.write(f"  columns read: {', '.join(p.columns) if p.columns else '(none: only the row count is used)'}\n")
    c = p.constraints
    if c.passthrough:
        stream.write(f"  passthrough query: {c.passthrough.get('QUERY', '')}\n")
    if c.summary:
        stream.write("  summary (value sets):\n")
        for column, value_set in c.summary.items():
            shown = describe_value_set(column, value_set) if isinstance(value_set, SortedRangeSet) else str(value_set)
            stream.write(f"    {shown}\n")
    for e in c.expression:
        stream.write(f"  expression: {describe(e)}\n")
    if c.order_by:
        keys = ", ".join(f"{o.column} {o.direction.value}" for o in c.order_by)
        stream.write(f"  orderByClause: {keys}\n")
    if c.has_limit:
        stream.write(f"  limit: {c.limit}\n")
    for predicate in p.predicates:
        if predicate.trusted:
            stream.write(f"  pushed, applied by the connector only: {predicate.sql}  [{predicate.kind}]\n")
        elif predicate.kind != "engine":
            stream.write(f"  pushed, and applied again by the engine: {predicate.sql}  ({predicate.reason})\n")
        else:
            stream.write(f"  applied by the engine: {predicate.sql}  ({predicate.reason})\n")
    if p.limit_note:
        stream.write(f"  {p.limit_note}\n")
    stream.write(f"  splits: {len(scan.splits)}\n")
    requests = athena.read_requests(scan)
    target = athena.target.inner if isinstance(athena.target, TracingTarget) else athena.target
    session = athena.session(source.catalog)
    for i, (split, request) in enumerate(zip(scan.splits, requests, strict=True), start=1):
        if i > MAX_SPLITS_SHOWN:
            stream.write(f"  ... {len(scan.splits) - MAX_SPLITS_SHOWN} more splits\n")
            break
        props = ", ".join(f"{k}={v}" for k, v in split.properties.items()) or "no properties"
        stream.write(f"  split {i} ({props}):\n")
        text: str | None = None
        if isinstance(target, InProcessTarget):
            try:
                text = target.describe(request.to_wire(session.serde_version))
            except LambdaFunctionError as e:
                text = f"(cannot describe: {e})"
            except Exception as e:  # describing is best effort; the adapter may not support it
                text = f"(cannot describe: {type(e).__name__}: {e})"
        if text is None:
            text = "(the source query is only visible in-process: the connector runs elsewhere)"
        elif not text:
            text = "(the adapter does not describe its source queries)"
        for line in text.splitlines():
            stream.write(f"    {line}\n")
