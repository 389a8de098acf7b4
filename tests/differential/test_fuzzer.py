"""Differential fuzzing against the real engines (issue 16): random schemas and random Athena queries, each run
through the local Athena (``afq query`` in process) and on SQLite, PostgreSQL or H2 directly, plus the
metamorphic checks (ternary-logic partition; pushdown on = pushdown off). See ``tests/differential``.

``make test`` replays a fixed sequence of examples (the ``ci`` Hypothesis profile); ``make fuzz`` draws fresh
ones and many more of them (``HYPOTHESIS_PROFILE=dev``). A failure prints the table, its rows and the query;
each bug found this way is a named test in ``tests/differential/test_regressions.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from tests.differential.generate import QueryGen, tables
from tests.differential.model import INT_RANGE, Arith, Col, Neg, Query
from tests.differential.run import Session, unique_name
from tests.support.sql_engines import Engine

FUZZING = os.environ.get("HYPOTHESIS_PROFILE") == "dev"
EXAMPLES = 150 if FUZZING else 20
QUERIES_PER_TABLE = 6
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
# make fuzz runs each engine for many minutes (and shrinks a failure, which takes long too)
pytestmark = [pytest.mark.integration, pytest.mark.timeout(7200 if FUZZING else 300)]


@pytest.fixture(scope="session")
def postgres_fuzz_db(postgres_db: Engine) -> Engine:
    """The ICU en-US database, with citext and a nondeterministic (case-insensitive) ICU collation."""
    postgres_db.execute("CREATE EXTENSION IF NOT EXISTS citext")
    postgres_db.execute("CREATE COLLATION IF NOT EXISTS afq_ci (provider = icu, locale = 'und-u-ks-level2', "
                        "deterministic = false)")
    return postgres_db


@pytest.fixture(scope="session")
def h2_collated_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An H2 database under a collation (case-insensitive, accent-insensitive): set before any table exists."""
    directory: Path = tmp_path_factory.mktemp("h2-collated")
    url = f"jdbc:h2:{directory / 'h2db'};USER=sa;PASSWORD="
    engine = Engine("h2", url, "AFQ_TEST")
    engine.execute("SET COLLATION ENGLISH STRENGTH PRIMARY")
    engine.execute('CREATE SCHEMA IF NOT EXISTS "AFQ_TEST"')
    yield engine
    engine.close()


def overflows(q: Query, session: Session) -> bool:
    """Whether Athena would fail the query on some row (integer overflow): such queries are not compared."""
    nodes: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, Arith | Neg):
            nodes.append(node)
        for value in getattr(node, "__dict__", {}).values():
            for item in value if isinstance(value, tuple | list) else (value,):
                if hasattr(item, "__dataclass_fields__"):
                    walk(item)

    for part in (q.where, q.join_on):
        if part is not None:
            walk(part)
    for node in nodes:
        operand = node.left if isinstance(node, Arith) else node.operand
        if not isinstance(operand, Col):
            continue
        low, high = INT_RANGE.get(node.type.kind, (None, None))
        if low is None:
            continue
        for v in session.values[operand.column.name]:
            if v is None:
                continue
            if isinstance(node, Neg):
                result = -v
            elif node.op in ("/", "%"):
                continue
            else:
                amount = node.right.value
                result = v + amount if node.op == "+" else v - amount if node.op == "-" else v * amount
            if not low <= result <= high:
                return True
    low, high = INT_RANGE["bigint"]
    for aggregate in q.aggregates:
        if aggregate.function == "sum" and aggregate.column is not None:
            # a running sum may overflow in any order of addition, per group: keep far from the edges
            values = [v for v in session.values[aggregate.column.column.name] if v is not None]
            if sum(v for v in values if v > 0) > high or sum(v for v in values if v < 0) < low:
                return True
    return False


def run(engine: Engine, data: st.DataObject, extra_env: dict[str, str] | None = None) -> None:
    table, _kinds = data.draw(tables(engine.name, unique_name()), label="table")
    session = Session(engine, table, extra_env)
    session.create()
    try:
        note(session.describe())
        note(f"rows: {table.rows}")
        generator = QueryGen(data.draw, session.table, session.values, engine.name)
        for _ in range(QUERIES_PER_TABLE):
            query = generator.query()
            if overflows(query, session):
                continue
            note(f"query: {session.athena_sql(query)}")
            session.check(query)
    finally:
        session.drop()


@SETTINGS
@given(data=st.data())
def test_sqlite_answers_as_sqlite_does(sqlite_db: Engine, data: st.DataObject) -> None:
    run(sqlite_db, data, {"sqlite_rows_per_split": "7"})


@SETTINGS
@given(data=st.data())
def test_postgres_answers_as_postgres_does(postgres_fuzz_db: Engine, data: st.DataObject) -> None:
    run(postgres_fuzz_db, data)


@SETTINGS
@given(data=st.data())
def test_h2_answers_as_h2_does(h2_db: Engine, h2_collated_db: Engine, data: st.DataObject) -> None:
    run(h2_collated_db if data.draw(st.booleans(), label="collated database") else h2_db, data)
