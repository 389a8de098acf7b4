"""Adversarial names and values on real engines: tables whose schema, table and column names hold quotes,
backslashes, comment markers, semicolons, RTL and combining marks, read through the real handler with filters
whose values are just as hostile. The rows that come back are exactly those an independent Python evaluation
keeps (``tests.support.reference_evaluator``), and every table survives (nothing was injected).

SQLite, PostgreSQL and H2 run here. Names carry no NUL (no engine accepts one in an identifier; PostgreSQL
takes none in text either) and fit PostgreSQL's 63-byte identifiers; ``test_sql_safety`` covers those cases
at the SQL level for every dialect.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.config import Settings
from connector.protocol import (
    Constant,
    Constraints,
    EquatableValueSet,
    FunctionCall,
    GetTableRequest,
    Identity,
    ReadRecordsRequest,
    SortedRangeSet,
    Split,
    TableName,
    Variable,
    parse_response,
)
from connector.protocol.constraints import Bound, Marker, Range
from connector.service import FederationService
from tests.pushdown.test_sql_safety import NASTY, PLAIN, VALUE_MARK
from tests.support.reference_evaluator import passes
from tests.support.sql_engines import Engine

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(importlib.util.find_spec("jpype") is None, reason="JPype is not installed")]

PIECES = [p for p in NASTY if "\x00" not in p] + PLAIN


def engine_names() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join).filter(
        lambda s: s.strip() != "" and len(s.encode()) <= 60 and s == s.strip())


def engine_values(nul: bool) -> st.SearchStrategy[str]:
    pieces = [*PIECES, "\x00"] if nul else PIECES
    return st.lists(st.sampled_from(pieces), max_size=5).map(lambda p: VALUE_MARK + "".join(p))


def _read(service: FederationService, table: TableName, constraints: Constraints) -> list[dict[str, Any]]:
    definition = parse_response(service.handle(GetTableRequest(Identity(), "q", "c", table).to_wire()))
    request = ReadRecordsRequest(Identity(), "q", "c", table, definition.schema, Split(None, None, {}),
                                 constraints, 16_000_000, 5_000_000)
    response = parse_response(service.handle(request.to_wire()))
    return response.records.logical_batch().to_pylist()  # type: ignore[no-any-return]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hostile_names_and_values_read_back_exactly(engine: Engine, tmp_path_factory: pytest.TempPathFactory,
                                                    data: st.DataObject) -> None:
    schema = engine.schema if engine.name == "sqlite" else data.draw(engine_names(), label="schema")
    table = data.draw(engine_names(), label="table")
    text_col, num_col = data.draw(st.lists(engine_names(), min_size=2, max_size=2, unique_by=str.lower),
                                  label="columns")
    texts = data.draw(st.lists(engine_values(nul=engine.name != "postgres"), min_size=1, max_size=8, unique=True),
                      label="values")
    rows = [(t, i) for i, t in enumerate(texts)] + [(None, len(texts))]
    wanted = data.draw(st.lists(st.sampled_from(texts), max_size=3), label="wanted")
    target = dataclasses.replace(engine, schema=schema, _connection=engine.connection())
    if engine.name != "sqlite":
        target.execute(f"CREATE SCHEMA {target.quote(schema)}")
    try:
        with target.temporary([(text_col, "text"), (num_col, "int64")], rows, name=table):
            env = target.env(AFQ_LOCAL_SPILL_DIR=str(tmp_path_factory.mktemp("spill")), casing_mode="none")
            service = FederationService(Settings.from_env(env))
            try:
                name = TableName(schema, table)  # casing_mode=none: the names exactly as the source has them
                t, n = text_col.lower(), num_col.lower()
                # The GetTable answer carries lower-case column names; constraints speak those.
                for constraints in _constraint_cases(t, n, texts, wanted):
                    got = _read(service, name, constraints)
                    expected = [{t: v, n: i} for v, i in rows if passes(constraints, {t: v, n: i})]
                    assert sorted(got, key=lambda r: r[n]) == sorted(expected, key=lambda r: r[n]), (
                        constraints, got, expected)
                assert len(_read(service, name, Constraints())) == len(rows)  # the table is intact afterwards
            finally:
                service.pool.close()
    finally:
        if engine.name != "sqlite":
            target.execute(f"DROP SCHEMA {target.quote(schema)} CASCADE")


def _constraint_cases(t: str, n: str, texts: list[str], wanted: list[str]) -> list[Constraints]:
    absent = VALUE_MARK + "'; DELETE FROM x; --"
    summary = {t: EquatableValueSet(pa.string(), (*wanted, absent), True, False),
               n: SortedRangeSet(pa.int64(), (Range(Marker(-1, Bound.ABOVE), Marker(10**6, Bound.BELOW)),), True)}
    pattern = (texts[0][:3] if len(texts[0]) > 1 else VALUE_MARK) + "%"
    expression = (FunctionCall(pa.bool_(), "$or", (
        FunctionCall(pa.bool_(), "$like_pattern", (Variable(t, pa.string()), Constant(pa.string(), (pattern,)))),
        FunctionCall(pa.bool_(), "$not_equal", (Variable(t, pa.string()), Constant(pa.string(), (absent,)))))),)
    return [Constraints(), Constraints(summary), Constraints({}, expression), Constraints(summary, expression)]


@pytest.mark.skipif(importlib.util.find_spec("teradatasql") is None or importlib.util.find_spec("duckdb") is None,
                    reason="teradatasql or duckdb is not installed")
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_teradata_sql_with_hostile_names_runs_on_duckdb(tmp_path_factory: pytest.TempPathFactory,
                                                         data: st.DataObject) -> None:
    """The Teradata adapter's SQL, parsed as Teradata and executed on DuckDB (the stand-in's quoting of its own
    set-up DDL is naive, so names here carry no double quote; ``test_sql_safety`` covers that case)."""
    from tests.adapters.teradata.test_e2e import ShimAdapter
    from tests.support.teradata_duckdb import FakeTeradata, TdColumn, TdTable

    plain_names = engine_names().filter(lambda s: '"' not in s)
    schema, table = data.draw(plain_names, label="schema"), data.draw(plain_names, label="table")
    text_col, num_col = data.draw(st.lists(plain_names, min_size=2, max_size=2, unique_by=str.lower),
                                  label="columns")
    texts = data.draw(st.lists(engine_values(nul=False), min_size=1, max_size=8, unique=True), label="values")
    wanted = data.draw(st.lists(st.sampled_from(texts), max_size=3), label="wanted")
    rows = [(v, i) for i, v in enumerate(texts)] + [(None, len(texts))]
    fake = FakeTeradata([TdTable(schema, table, [TdColumn(text_col, "CV", length=200, char_type=2),
                                                 TdColumn(num_col, "I8")], rows)])
    settings_ = Settings.from_env({"AFQ_LOCAL_SPILL_DIR": str(tmp_path_factory.mktemp("spill")),
                                   "casing_mode": "none"})
    from connector.connection import parse_connection_string

    adapter = ShimAdapter(parse_connection_string("teradata://jdbc:teradata://tdhost/USER=u,PASSWORD=p", "c"),
                          settings_)
    adapter.fake = fake
    service = FederationService(settings_, adapters=lambda _: adapter)
    t, n = text_col.lower(), num_col.lower()
    for constraints in _constraint_cases(t, n, texts, wanted):
        got = _read(service, TableName(schema, table), constraints)
        expected = [{t: v, n: i} for v, i in rows if passes(constraints, {t: v, n: i})]
        assert sorted(got, key=lambda r: r[n]) == sorted(expected, key=lambda r: r[n]), (constraints, got)
    assert any("WHERE" in s for s in fake.statements)
