"""Pushdown is exact: rows read with any constraints == the unfiltered rows filtered by plain Python.

The constraints (``tests.support.strategies``, with constants from the table's values) go through the adapter
(SQL with bind parameters to fakesnow, the rest as the framework's residual) in both split modes; the expectation
is computed independently by ``tests.support.reference_evaluator`` with Athena's semantics: three-valued logic,
LIKE without an escape character, integer division truncating toward zero, NULL ordering as asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from adapters.snowflake.adapter import SnowflakeAdapter
from connector.protocol.constraints import (
    Bound,
    Constant,
    Constraints,
    EquatableValueSet,
    FunctionCall,
    Marker,
    OrderByField,
    Range,
    SortDirection,
    SortedRangeSet,
    Variable,
)
from connector.protocol.messages import Split, TableName
from connector.scan import rows_of
from tests.adapters.snowflake.test_adapter import ONE_PARTITION, PASSWORD, make_adapter
from tests.servers.fakesnow import FakeSnowflake
from tests.support import snowflake_data as data
from tests.support.reference_evaluator import check_result, fails_in_athena
from tests.support.strategies import Domain, constraints

pytestmark = pytest.mark.integration
ORDERS = TableName("sales", "orders")
BASE_TS = dt.datetime(2024, 1, 1)


@pytest.fixture(scope="module")
def adapters(fakesnow_server: FakeSnowflake) -> Iterator[dict[str, SnowflakeAdapter]]:
    data.load(fakesnow_server)
    extra = f"&user=afq_user&password={PASSWORD}"
    made = {"batches": make_adapter(fakesnow_server, extra, snowflake_split_mode="batches",
                                    snowflake_split_rows="600"),
            "single": make_adapter(fakesnow_server, extra, snowflake_split_mode="single")}
    yield made
    for a in made.values():
        a.close()


@pytest.fixture(scope="module")
def table(adapters: dict[str, SnowflakeAdapter]) -> Table:
    a = adapters["single"]
    schema = a.get_table(None, ORDERS).schema  # type: ignore[arg-type]
    return Table(schema, read(a, schema, Constraints()))


def read_splits(adapter: SnowflakeAdapter, schema: pa.Schema, constraints: Constraints) -> list[list[dict[str, Any]]]:
    page = adapter.get_splits(None, ORDERS, ONE_PARTITION, constraints, None)  # type: ignore[arg-type]
    out = []
    for properties in page.splits:
        scan = adapter.read_split(None, ORDERS, schema, Split(None, None, properties), constraints)  # type: ignore
        out.append([r for batch in rows_of(scan, schema) for r in batch.to_pylist()])
    return out


def read(adapter: SnowflakeAdapter, schema: pa.Schema, constraints: Constraints) -> list[dict[str, Any]]:
    return [r for rows in read_splits(adapter, schema, constraints) for r in rows]


class Table:
    """The unfiltered rows (a small repr keeps Hypothesis' failure reports readable)."""

    def __init__(self, schema: pa.Schema, rows: list[dict[str, Any]]) -> None:
        self.schema, self.rows = schema, rows

    def __repr__(self) -> str:
        return f"Table({len(self.rows)} rows)"


# ------------------------------------------------------------------------------------------ constraints

EXTRA: dict[str, list[Any]] = {  # constants beyond the data: just outside it, other cases, the grid's edges
    "id": [-5, data.ORDERS_ROWS + 5], "qty": [-55, 55], "amount": [Decimal("-1001.00"), Decimal("1001.00")],
    "big": [Decimal(-(10**15)), Decimal(-1), Decimal(0), Decimal(1), Decimal(10**14)],
    "price": [-1.25, 0.5, 1.0, 3.0, 1e10], "name": ["b", "gamma0", "Alpha"],
    "d": [dt.date(2023, 12, 29), dt.date(2024, 3, 4)], "t": ["00:00:00.000000", "23:59:59.000000"],
}


def domain(table: Table) -> Domain:
    """Constants from the values in the table (as Athena holds them) and ``EXTRA``; the VARIANT is left out."""
    types = {f.name: f.type for f in table.schema if f.name != "v"}
    samples = {n: sorted({r[n] for r in table.rows if r[n] is not None} | set(EXTRA.get(n, ())), key=repr)
               for n in types}
    return Domain(types, samples, fresh=False)


def check(adapter: SnowflakeAdapter, table: Table, c: Constraints) -> None:
    check_result(table.rows, c, read_splits(adapter, table.schema, c), table.schema.names)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), mode=st.sampled_from(["batches", "single"]))
def test_pushdown_matches_python(adapters: dict[str, SnowflakeAdapter], table: Table, data: st.DataObject,
                                 mode: str) -> None:
    c = data.draw(constraints(domain(table)), label="constraints")
    assume(not fails_in_athena(table.rows, c))
    check(adapters[mode], table, c)


def test_sub_millisecond_boundaries_are_exact(adapters: dict[str, SnowflakeAdapter],
                                              table: Table) -> None:
    """Athena sees TS floored to milliseconds; a bound on the floored value must not catch .0005 s rows."""
    with_fraction = next(r["ts"] for r in table.rows if r["ts"] is not None and r["ts"].microsecond == 0)
    for bound in (Bound.EXACTLY, Bound.ABOVE):
        for vs in (SortedRangeSet(pa.timestamp("ms"), (Range(Marker(with_fraction, bound), Marker.above_all()),),
                                  False),
                   SortedRangeSet(pa.timestamp("ms"), (Range.equal(with_fraction),), False),
                   EquatableValueSet(pa.timestamp("ms"), (with_fraction,), True, False)):
            check(adapters["batches"], table, Constraints(summary={"ts": vs}))


def test_pushed_sql_uses_bind_parameters(adapters: dict[str, SnowflakeAdapter],
                                         table: Table) -> None:
    schema = table.schema
    name = EquatableValueSet(pa.string(), ("it's'; DROP TABLE ORDERS; --",), True, False)
    c = Constraints(summary={"name": name, "qty": SortedRangeSet(pa.int64(), (Range.equal(3),), True)},
                    expression=(FunctionCall(pa.bool_(), "$like_pattern", (Variable("name", pa.string()),
                                                                         Constant(pa.string(), ("a!%",)))),),
                    order_by=(OrderByField("id", SortDirection.ASC_NULLS_LAST),), limit=3)
    text = adapters["single"].describe_split(None, ORDERS, schema, Split(None, None, {}), c)  # type: ignore[arg-type]
    assert "DROP" not in text.split("params:")[0] and "ESCAPE '!'" in text and "LIMIT 3" in text
    assert "it's'; DROP TABLE ORDERS; --" in text.split("params:")[1]
    assert read(adapters["single"], schema, c) == []
