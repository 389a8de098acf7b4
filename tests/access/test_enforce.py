"""Identity-aware access on SQLite: what each caller sees, masks, row filters, refused bypasses, fail-closed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.errors import AccessDenied, TableNotFound
from connector.local.engine import LocalAthena, QueryOptions
from connector.local.targets import InProcessTarget
from connector.protocol import (
    Constraints,
    GetSplitsRequest,
    GetTableLayoutRequest,
    GetTableRequest,
    Identity,
    ListSchemasRequest,
    ListTablesRequest,
    ReadRecordsRequest,
    SchemaMessage,
    SortedRangeSet,
    Split,
    TableName,
    parse_response,
)
from connector.protocol import Range as VRange
from tests.support.athena import Invoke

ADMIN = Identity(account="111122223333", arn="arn:aws:iam::111122223333:role/Admin", groups=("admins",))
ANALYST = Identity(account="111122223333", arn="arn:aws:iam::111122223333:user/ana", tags={"team": "analytics"})
SCIENTIST = Identity(account="111122223333", arn="arn:aws:iam::111122223333:user/sam", tags={"team": "science"})
STRANGER = Identity(account="999999999999", arn="arn:aws:iam::999999999999:user/eve")

POLICY = {
    "secret": "0123456789abcdef-test-secret",
    "rules": [
        {"name": "admins", "match": {"groups": ["admins"]}, "access": "all"},
        {"name": "analysts", "match": {"tags": {"team": "analytics"}, "account": "111122223333"},
         "tables": [
             {"schema": "main", "table": "customers", "exclude": ["vip"],
              "masks": {"email address": "hash", "name": {"fixed": "REDACTED"}},
              "row_filter": "region = 'emea'"},
             {"schema": "main", "table": "orders", "columns": ["id", "customer_id", "amount", "status"],
              "row_filter": "amount < 500 AND status <> 'cancelled'"}]},
        {"name": "scientists", "match": {"arn": "arn:aws:iam::111122223333:user/s*"},
         "tables": [{"schema": "main", "table": "*", "masks": {"email address": "hash"}}],
         "udfs": ["times_two"]},
    ],
    "samples": [{"arn": ANALYST.arn, "account": ANALYST.account, "tags": dict(ANALYST.tags)},
                {"arn": STRANGER.arn, "account": STRANGER.account}],
}


@pytest.fixture
def policy_path(tmp_path: Path) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(POLICY))
    return path


@pytest.fixture
def secured(lambda_env: Callable[..., None], demo_db: Path, policy_path: Path) -> Path:
    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}", access_policy=str(policy_path),
              access_identity_protection="unverified_local")
    return demo_db


def call(invoke: Invoke, request: Any) -> Any:
    return parse_response(invoke(request.to_wire()))


def query(sql: str, identity: Identity) -> list[dict[str, Any]]:
    athena = LocalAthena(InProcessTarget(), QueryOptions(default_catalog="c", identity=identity))
    try:
        return athena.run(sql).table.to_pylist()
    finally:
        athena.close()


def sqlite(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as c:
        return c.execute(sql).fetchall()


def test_no_policy_means_everything_is_visible(lambda_env: Callable[..., None], demo_db: Path) -> None:
    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}")
    assert len(query("SELECT * FROM main.customers", STRANGER)) == 500


def test_schemas_and_tables_per_caller(secured: Path, invoke: Invoke) -> None:
    def tables(identity: Identity) -> list[str]:
        schemas = call(invoke, ListSchemasRequest(identity, "q", "c")).schemas
        listed = [call(invoke, ListTablesRequest(identity, "q", "c", s, None, -1)).tables for s in schemas]
        return [t.table for tables in listed for t in tables]

    assert tables(ADMIN) == ["big_orders", "customers", "orders"]
    assert tables(ANALYST) == ["customers", "orders"]
    assert tables(SCIENTIST) == ["big_orders", "customers", "orders"]
    assert call(invoke, ListSchemasRequest(STRANGER, "q", "c")).schemas == ()
    with pytest.raises(TableNotFound, match=r"main\.big_orders"):
        call(invoke, GetTableRequest(ANALYST, "q", "c", TableName("main", "big_orders")))


def test_columns_masks_and_row_filter_for_the_analyst(secured: Path, invoke: Invoke) -> None:
    definition = call(invoke, GetTableRequest(ANALYST, "q", "c", TableName("main", "customers")))
    schema = definition.schema.logical_schema()
    assert "vip" not in schema.names and schema.field("email address").type == pa.string()  # masked keeps type
    rows = query('SELECT id, name, region, "email address" FROM main.customers', ANALYST)
    expected = sqlite(secured, "SELECT id, \"Email Address\" FROM customers WHERE region = 'emea' ORDER BY id")
    assert sorted(r["id"] for r in rows) == [e[0] for e in expected]
    assert {r["region"] for r in rows} == {"emea"} and {r["name"] for r in rows} == {"REDACTED"}
    emails = {r["id"]: r["email address"] for r in rows}
    for customer_id, email in expected:
        if email is None:
            assert emails[customer_id] is None
        else:
            assert len(emails[customer_id]) == 64 and email not in emails[customer_id]
    # the hash is stable: the same value hashes the same for another caller, so masked columns still join
    scientist_rows = query('SELECT id, "email address" FROM main.customers', SCIENTIST)
    scientist = {r["id"]: r["email address"] for r in scientist_rows}
    assert all(scientist[k] == v for k, v in emails.items())


def test_admin_sees_real_values_and_may_use_passthrough(secured: Path) -> None:
    rows = query('SELECT id, name, "email address" FROM main.customers WHERE id = 7', ADMIN)
    assert rows == [{"id": 7, "name": "Customer 0007", "email address": None}]
    passthrough = query("SELECT * FROM TABLE(c.system.query(query => 'SELECT count(*) AS n FROM customers'))", ADMIN)
    assert passthrough == [{"n": 500}]


@pytest.mark.parametrize(("sql", "message"), [
    # hidden columns do not exist for the caller, as in Athena
    ("SELECT vip FROM main.customers", "Column 'vip' cannot be resolved"),
    ("SELECT id FROM main.orders ORDER BY note LIMIT 3", "Column 'note' cannot be resolved"),
    ("SELECT id FROM main.customers WHERE name = 'Customer 0001'", r"filtering or sorting on column\(s\) \['name'\]"),
    ("SELECT id FROM main.customers ORDER BY \"email address\" LIMIT 2", "email address"),
    ("SELECT * FROM TABLE(c.system.query(query => 'SELECT * FROM customers'))", "passthrough is refused"),
    ("SELECT * FROM main.big_orders", r"main\.big_orders not found"),
])
def test_bypass_attempts_are_refused(secured: Path, sql: str, message: str) -> None:
    from connector.errors import ConnectorError

    with pytest.raises(ConnectorError, match=message):
        query(sql, ANALYST)


def test_crafted_requests_are_refused(secured: Path, invoke: Invoke) -> None:
    table = TableName("main", "customers")
    admin_view = call(invoke, GetTableRequest(ADMIN, "q", "c", table))
    constraints = Constraints()
    layout = call(invoke, GetTableLayoutRequest(ANALYST, "q", "c", table, constraints,
                                                call(invoke, GetTableRequest(ANALYST, "q", "c", table)).schema, ()))
    (split,) = call(invoke, GetSplitsRequest(ANALYST, "q", "c", table, layout.partitions, (), constraints, None)).splits
    # the admin's schema (with vip) in a ReadRecords of the analyst
    with pytest.raises(AccessDenied, match="vip"):
        call(invoke, ReadRecordsRequest(ANALYST, "q", "c", table, admin_view.schema, split, constraints, 16_000_000,
                                        5_000_000))
    wanted = SchemaMessage.of_logical(pa.schema([admin_view.schema.logical_schema().field("id")]))
    # the analyst's split replayed by another caller, in another query, or with altered properties
    for identity, query_id, properties in [(SCIENTIST, "q", split.properties), (ANALYST, "other", split.properties),
                                           (ANALYST, "q", {**split.properties, "rowid_from": "1"})]:
        forged = Split(split.spill_location, split.encryption_key, properties)
        with pytest.raises(AccessDenied, match="not issued to this caller"):
            call(invoke, ReadRecordsRequest(identity, query_id, "c", table, wanted, forged, constraints, 16_000_000,
                                            5_000_000))
    # a table the analyst may not see, addressed directly
    with pytest.raises(TableNotFound):
        call(invoke, ReadRecordsRequest(ANALYST, "q", "c", TableName("main", "big_orders"), wanted, split,
                                        constraints, 16_000_000, 5_000_000))
    # the genuine split works, and honours the row filter even with the caller's own constraints
    mine = Constraints(summary={"id": SortedRangeSet(pa.int64(), (VRange.equal(1), VRange.equal(3)), False)})
    ok = call(invoke, ReadRecordsRequest(ANALYST, "q", "c", table, wanted, split, mine, 16_000_000, 5_000_000))
    assert ok.records.logical_batch().column("id").to_pylist() == [3]  # customer 1 is amer, 3 is emea


def test_udfs_need_the_rule_to_list_them(secured: Path, invoke: Invoke) -> None:
    from connector.protocol import Block, UserDefinedFunctionRequest
    from connector.udf import registry

    registry.register("times_two", lambda a: pc.multiply(a, 2))
    inputs = Block.from_logical(pa.record_batch({"a": pa.array([1, 2], pa.int64())}))
    request = UserDefinedFunctionRequest(ANALYST, inputs, SchemaMessage.of(pa.schema([("r", pa.int64())])), "times_two")
    with pytest.raises(AccessDenied, match="times_two"):
        call(invoke, request)
    allowed = UserDefinedFunctionRequest(SCIENTIST, inputs, SchemaMessage.of(pa.schema([("r", pa.int64())])),
                                         "times_two")
    assert call(invoke, allowed).records.logical_batch().column("r").to_pylist() == [2, 4]


@pytest.mark.parametrize("content", ["{not json", json.dumps({"rules": []}),
                                     json.dumps({**POLICY, "rules": [{"match": {"colour": "red"}}]})])
def test_a_broken_policy_denies_everything(lambda_env: Callable[..., None], demo_db: Path, tmp_path: Path,
                                           invoke: Invoke, content: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}", access_policy=str(path),
              access_identity_protection="unverified_local")
    with pytest.raises(AccessDenied, match=f"access policy {path}"):
        call(invoke, ListSchemasRequest(ADMIN, "q", "c"))


def test_an_unreachable_policy_denies_everything(lambda_env: Callable[..., None], demo_db: Path, aws_env: str,
                                                 invoke: Invoke) -> None:
    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}", access_policy="secretsmanager:no-such-policy",
              access_identity_protection="unverified_local")
    with pytest.raises(AccessDenied, match="access policy secretsmanager:no-such-policy cannot be read"):
        call(invoke, ListSchemasRequest(ADMIN, "q", "c"))


def test_policy_from_secrets_manager(lambda_env: Callable[..., None], demo_db: Path, aws_env: str,
                                     invoke: Invoke) -> None:
    import boto3

    boto3.client("secretsmanager").create_secret(Name="afq-policy-test", SecretString=json.dumps(POLICY))
    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}", access_policy="secretsmanager:afq-policy-test",
              access_identity_protection="unverified_local")
    assert call(invoke, ListSchemasRequest(ANALYST, "q", "c")).schemas == ("main",)
    assert call(invoke, ListSchemasRequest(STRANGER, "q", "c")).schemas == ()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.decimals(min_value=0, max_value=1100, places=2), status=st.sampled_from(
    ["shipped", "pending", "returned", "cancelled"]))
def test_row_filtered_rows_are_exactly_the_filtered_rows(secured: Path, limit: Any, status: str) -> None:
    rows = query(f"SELECT id, amount, status FROM main.orders WHERE amount >= {limit} OR status = '{status}'",
                 ANALYST)
    expected = sqlite(secured, "SELECT id FROM orders WHERE CAST(amount AS REAL) < 500 AND status <> 'cancelled' "
                               f"AND (CAST(amount AS REAL) >= {float(limit)} OR status = '{status}') ORDER BY id")
    assert sorted(r["id"] for r in rows) == [e[0] for e in expected]


def test_validate_reports_what_each_sample_identity_sees(secured: Path, policy_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from connector.cli import main

    main(["validate", "--catalog", "c", "--max-tables", "1", "--skip", "spill", "--as-group", "admins"])
    out = capsys.readouterr().out
    assert f"as {ANALYST.arn} (team=analytics)" in out
    assert "main.customers: columns id, name, region, signup_date, email address; masked email address (hash), " \
           "name (fixed); rows where region = 'emea'" in out
    assert f"as {STRANGER.arn}" in out and "sees no tables" in out
