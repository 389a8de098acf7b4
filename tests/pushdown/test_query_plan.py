"""Serde v6 ``queryPlan``: Substrait plans of real queries restrict the rows a split returns.

The plans come from a real producer (DuckDB's substrait extension, ``tests.servers.substrait_producer``) and,
for Athena's own shape (substrait-java's ``name:any_any`` functions, upper-case names), from the protobuf
classes. The plan is the *only* restriction in these requests, as when Athena puts one only in the plan; the
expected rows are DuckDB's answer to the same SQL on the same data.
"""

from __future__ import annotations

import base64
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import ConnectorError, InvalidRequest, UnsupportedRequest
from connector.protocol.constraints import Constraints, QueryPlan
from connector.protocol.messages import ReadRecordsRequest, ReadRecordsResponse
from connector.pushdown.plan import PlanError, PlanNotSupported, read_plan
from tests.servers.substrait_producer import produce
from tests.support.athena import MAX_BLOCK_SIZE, MAX_INLINE_BLOCK_SIZE, LocalAthena

DDL = "CREATE TABLE t (id INTEGER, name VARCHAR, f DOUBLE, d DATE)"
ROWS: list[list[Any]] = [[i, None if i % 17 == 0 else f"n{i % 40}", None if i % 11 == 0 else (i * 7 % 101) / 2,
                          (dt.date(2024, 1, 1) + dt.timedelta(days=i)).isoformat()] for i in range(300)]

FILTERS = [
    "SELECT id FROM t WHERE id > 100 AND f < 20.5",
    "SELECT id FROM t WHERE id IN (1, 2, 3, 250) OR name IS NULL",
    "SELECT id FROM t WHERE name LIKE 'n1%' AND NOT (id = 10) AND f <> 3.0",
    "SELECT id FROM t WHERE d >= DATE '2024-03-01' AND id BETWEEN 20 AND 200",
    "SELECT id + 1 AS x, name FROM t WHERE id < 5 OR (f IS NULL AND name IS NOT NULL)",
    "SELECT name FROM t WHERE f >= 40 AND f <= 45.5 AND name <> 'n3'",
]
TOP_N = "SELECT id, name FROM t WHERE f IS NOT NULL ORDER BY f DESC, id ASC LIMIT 7"
LIMITED = "SELECT id FROM t WHERE id >= 10 LIMIT 5"
UNLIMITED = "SELECT id FROM t WHERE id >= 10"


@pytest.fixture(scope="module")
def answers() -> dict[str, dict[str, Any]]:
    queries = [*FILTERS, TOP_N, LIMITED, UNLIMITED]
    return dict(zip(queries, produce(DDL, ROWS, queries), strict=True))


@pytest.fixture
def athena(tmp_path: Path) -> Iterator[LocalAthena]:
    path = tmp_path / "plan.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER, name TEXT, f REAL, d DATE)")
        db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ROWS)
    with LocalAthena({"default": f"sqlite://jdbc:sqlite:{path}", "AFQ_LOCAL_SPILL_DIR": str(tmp_path)}) as local:
        yield local


def _request(athena: LocalAthena, plan: str, constraints: Constraints | None = None) -> ReadRecordsRequest:
    name, definition = athena.get_table("main", "t")
    split = athena.splits(name, definition)[0]
    base = constraints or Constraints()
    return ReadRecordsRequest(athena.identity, athena.query_id, athena.catalog, name, definition.schema, split,
                              Constraints(base.summary, base.expression, base.order_by, base.limit,
                                          query_plan=QueryPlan("", plan)), MAX_BLOCK_SIZE, MAX_INLINE_BLOCK_SIZE)


def _ids(athena: LocalAthena, plan: str, constraints: Constraints | None = None) -> list[int]:
    response = athena.call(_request(athena, plan, constraints))
    assert isinstance(response, ReadRecordsResponse)
    return list(response.records.logical_batch().column("id").to_pylist())


@pytest.mark.parametrize("sql", FILTERS)
def test_filters_in_the_plan_restrict_the_rows(athena: LocalAthena, answers: dict[str, Any], sql: str) -> None:
    answer = answers[sql]
    expected = _oracle_ids(sql)
    assert sorted(_ids(athena, answer["plan"])) == expected
    assert len(answer["rows"]) == len(expected)  # DuckDB's own answer has the same size


def _oracle_ids(sql: str) -> list[int]:
    """The ids DuckDB's query keeps, computed by DuckDB itself on the same data (its WHERE, projected to id)."""
    where = sql.split(" WHERE ", 1)[1]
    (result,) = produce(DDL, ROWS, [f"SELECT id FROM t WHERE {where} ORDER BY id"])
    return [row[0] for row in result["rows"]]


def test_a_top_n_plan_is_pushed_and_exact(athena: LocalAthena, answers: dict[str, Any]) -> None:
    answer = answers[TOP_N]
    request = _request(athena, answer["plan"])
    assert [row[0] for row in answer["rows"]] == _ids(athena, answer["plan"])  # same rows, same order
    sql = athena.service.describe_read(request)
    assert "ORDER BY" in sql and "LIMIT" in sql  # pushed to SQLite, not sorted in the Lambda


def test_a_limit_plan_returns_at_most_the_limit_of_matching_rows(athena: LocalAthena,
                                                                 answers: dict[str, Any]) -> None:
    ids = _ids(athena, answers[LIMITED]["plan"])
    matching = {row[0] for row in answers[UNLIMITED]["rows"]}
    assert len(ids) == 5 and set(ids) <= matching
    assert "LIMIT" in athena.service.describe_read(_request(athena, answers[LIMITED]["plan"]))


def test_plan_and_request_restrictions_are_both_applied(athena: LocalAthena, answers: dict[str, Any]) -> None:
    import pyarrow as pa

    from connector.protocol.constraints import Bound, Marker, Range, SortedRangeSet

    below_50 = SortedRangeSet(pa.int64(), (Range(Marker.below_all(), Marker(50, Bound.BELOW)),), False)
    ids = _ids(athena, answers[UNLIMITED]["plan"], Constraints(summary={"id": below_50}))
    assert sorted(ids) == list(range(10, 50))


def test_a_plan_that_contradicts_the_limit_is_refused(athena: LocalAthena, answers: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest, match=r"fetches 5 rows but constraints\.limit is 10"):
        _ids(athena, answers[LIMITED]["plan"], Constraints(limit=10))
    assert len(_ids(athena, answers[LIMITED]["plan"], Constraints(limit=5))) == 5


# ------------------------------------------------------------------------------------------ Athena's shape

def _athena_plan(table: str = "T", function: str = "gt:any_any", fetch: int | None = 10) -> str:
    """A scan plan shaped like substrait-java's (Athena's producer): upper-case names, ``name:any_any``."""
    from substrait import algebra_pb2, plan_pb2, type_pb2
    from substrait.extensions import extensions_pb2

    nullable = type_pb2.Type.NULLABILITY_NULLABLE
    read = algebra_pb2.ReadRel(
        base_schema=type_pb2.NamedStruct(names=["ID", "NAME", "F", "D"], struct=type_pb2.Type.Struct(types=[
            type_pb2.Type(i64=type_pb2.Type.I64(nullability=nullable)),
            type_pb2.Type(varchar=type_pb2.Type.VarChar(length=65535, nullability=nullable)),
            type_pb2.Type(fp64=type_pb2.Type.FP64(nullability=nullable)),
            type_pb2.Type(date=type_pb2.Type.Date(nullability=nullable))])),
        named_table=algebra_pb2.ReadRel.NamedTable(names=["MAIN", table]))
    field = algebra_pb2.Expression(selection=algebra_pb2.Expression.FieldReference(
        direct_reference=algebra_pb2.Expression.ReferenceSegment(
            struct_field=algebra_pb2.Expression.ReferenceSegment.StructField(field=0)),
        root_reference=algebra_pb2.Expression.FieldReference.RootReference()))
    literal = algebra_pb2.Expression(literal=algebra_pb2.Expression.Literal(i64=250))
    condition = algebra_pb2.Expression(scalar_function=algebra_pb2.Expression.ScalarFunction(
        function_reference=1, arguments=[algebra_pb2.FunctionArgument(value=field),
                                         algebra_pb2.FunctionArgument(value=literal)]))
    rel = algebra_pb2.Rel(filter=algebra_pb2.FilterRel(input=algebra_pb2.Rel(read=read), condition=condition))
    if fetch is not None:
        rel = algebra_pb2.Rel(fetch=algebra_pb2.FetchRel(input=rel, count=fetch))
    plan = plan_pb2.Plan(
        extension_urns=[extensions_pb2.SimpleExtensionURN(extension_urn_anchor=1,
                                                          urn="extension:io.substrait:functions_comparison")],
        extensions=[extensions_pb2.SimpleExtensionDeclaration(
            extension_function=extensions_pb2.SimpleExtensionDeclaration.ExtensionFunction(
                extension_urn_reference=1, function_anchor=1, name=function))],
        relations=[plan_pb2.PlanRel(root=algebra_pb2.RelRoot(input=rel, names=["ID", "NAME", "F", "D"]))])
    return base64.b64encode(plan.SerializeToString()).decode()


def test_an_athena_shaped_plan_restricts_the_rows(athena: LocalAthena) -> None:
    ids = _ids(athena, _athena_plan())
    assert len(ids) == 10 and all(i > 250 for i in ids)
    assert sorted(_ids(athena, _athena_plan(fetch=None))) == list(range(251, 300))


def test_a_plan_for_another_table_is_refused(athena: LocalAthena) -> None:
    with pytest.raises(InvalidRequest, match="reads table 'OTHER'"):
        _ids(athena, _athena_plan(table="OTHER"))


def test_a_function_the_connector_cannot_evaluate_fails_rather_than_returning_rows(athena: LocalAthena) -> None:
    with pytest.raises(UnsupportedRequest, match="function 'regexp_like'"):
        _ids(athena, _athena_plan(function="regexp_like:any_any"))


def test_the_sdk_fixture_placeholder_plan_is_a_clear_error(athena: LocalAthena) -> None:
    with pytest.raises(InvalidRequest, match="queryPlan"):
        _ids(athena, "TestPlan")  # what Athena's v6 fixture carries: not a plan


@given(st.binary(max_size=300))
def test_any_bytes_are_a_plan_or_a_clear_error(data: bytes) -> None:
    import pyarrow as pa

    try:
        read_plan(base64.b64encode(data).decode(), pa.schema([("id", pa.int64())]))
    except (PlanError, PlanNotSupported):
        pass
    except ConnectorError as e:  # pragma: no cover - a failure message worth seeing
        raise AssertionError(f"unexpected {type(e).__name__}: {e}") from None


def test_a_38_digit_decimal_literal_keeps_every_digit() -> None:
    """Decimal.scaleb in the default 28-digit context rounded a DECIMAL(38,10) literal (issue 16, item 3)."""
    from decimal import Decimal

    from substrait import algebra_pb2

    from connector.pushdown.plan import _literal

    value = Decimal("1234567890123456789012345678.0123456789")
    unscaled = 12345678901234567890123456780123456789
    literal = algebra_pb2.Expression.Literal(decimal=algebra_pb2.Expression.Literal.Decimal(
        value=unscaled.to_bytes(16, "little", signed=True), precision=38, scale=10))
    assert _literal(literal).values == (value,)
