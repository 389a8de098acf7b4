"""Pushdown is exact: for random tables and random constraints, the rows the connector returns through the
real handler equal an independent plain-Python evaluation (``tests.support.reference_evaluator``) of the same
constraints over the unfiltered scan. Run on SQLite, PostgreSQL (JDBC, ICU en-US collation) and H2 (JDBC).

Each example also checks the round trip: the unfiltered scan returns exactly the values written, as Athena
holds them (timestamps truncated to milliseconds, CHAR(n) padded, decimals at their scale).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.sql.adapter import SqlAdapter
from connector.protocol.constraints import Constraints
from connector.protocol.messages import Split, TableName
from tests.support.athena import LocalAthena
from tests.support.reference_evaluator import canonical_row, check_result, fails_in_athena
from tests.support.sql_engines import Engine
from tests.support.strategies import Domain, TableSpec, athena_value, constraints, tables

QUERIES_PER_TABLE = 6


def _expected_value(value: Any, kind: str, t: pa.DataType) -> Any:
    if value is None:
        return None
    if kind == "char":
        return value.ljust(4)
    if kind == "bool" and not isinstance(value, bool):
        return bool(value)
    if pa.types.is_floating(t) or pa.types.is_binary(t) or pa.types.is_string(t) or pa.types.is_boolean(t):
        return value
    if pa.types.is_date32(t):
        return value if not isinstance(value, dt.datetime) else value.date()
    return athena_value(value, t)


def _record_pushdown(athena: LocalAthena, engine: Engine, table: str, schema: pa.Schema,
                     constraints_: Constraints) -> None:
    """Label the example with how much went to the source (shown by --hypothesis-show-statistics)."""
    adapter = athena.service.pool.get(athena.catalog)
    assert isinstance(adapter, SqlAdapter)
    with adapter.connection() as connection:
        query = adapter.plan(connection, TableName(engine.athena_schema, table), schema, Split(None, None, {}),
                             constraints_)
    if constraints_.is_empty:
        event("no constraints")
    elif query.residual.is_empty:
        event("everything pushed")
    elif query.residual.summary or query.residual.expression:
        event("filters partly in the framework")
    else:
        event("filters pushed, order/limit in the framework")


def _run(engine: Engine, data: st.DataObject) -> None:
    spec: TableSpec = data.draw(tables(engine.name, engine.kinds), label="table")
    table = f"{spec.name}_{uuid.uuid4().hex[:6]}"
    with engine.temporary(spec.columns, spec.rows, name=table), LocalAthena(engine.env()) as athena:
        athena_table = table.lower()
        message = athena.table(engine.athena_schema, athena_table)
        schema = message.logical_schema()
        columns = {f.name: f.type for f in schema}
        names = list(columns)
        all_rows = [r for split in athena.scan(engine.athena_schema, athena_table, table_schema=message) for r in split]

        kinds = [kind for _, kind in spec.columns]
        written = [dict(zip(names, (_expected_value(v, k, columns[n]) for v, k, n in zip(row, kinds, names,
                                                                                       strict=True)), strict=True))
                   for row in spec.rows]
        assert Counter(canonical_row(r, names) for r in all_rows) == Counter(canonical_row(r, names) for r in written)

        domain = Domain(columns, {n: [r[n] for r in all_rows] for n in names})
        for _ in range(QUERIES_PER_TABLE):
            query = data.draw(constraints(domain), label="constraints")
            if fails_in_athena(all_rows, query):
                event("query fails in Athena (overflow or division by zero): skipped")
                continue
            _record_pushdown(athena, engine, athena_table, schema, query)
            splits = athena.scan(engine.athena_schema, athena_table, query, table_schema=message)
            check_result(all_rows, query, splits, names)


PROPERTY_SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


@pytest.mark.integration
@PROPERTY_SETTINGS
@given(data=st.data())
def test_pushdown_matches_independent_evaluation(engine: Engine, data: st.DataObject) -> None:
    _run(engine, data)


@pytest.mark.slow
@pytest.mark.integration
@settings(PROPERTY_SETTINGS, max_examples=150)
@given(data=st.data())
def test_pushdown_matches_independent_evaluation_thoroughly(engine: Engine, data: st.DataObject) -> None:
    _run(engine, data)
