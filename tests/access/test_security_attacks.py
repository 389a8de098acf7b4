"""The caller is an attacker: every way issue 18 broke the access policy, played against SQLite and PostgreSQL.

Each test is an attack that succeeded on the code before issue 18 (forged identity, type-confusion schemas,
error-oracle probes, case and catalog variants of names, a hash mask used as a split signature, listing probes,
credential forms in messages, passthrough writes) and asserts what must hold instead. Requests are built as a
hostile caller builds them - straight into the Lambda handler, not through the local engine's planner.

Answers come from the engines themselves (the rows a caller may see are what the source returns for the row
filter), never from the connector's own evaluator.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from connector.errors import AccessDenied, ConnectorError, SchemaNotFound
from connector.protocol import (
    Constraints,
    GetSplitsRequest,
    GetTableLayoutRequest,
    GetTableRequest,
    Identity,
    ListTablesRequest,
    PingRequest,
    ReadRecordsRequest,
    SchemaMessage,
    Split,
    TableName,
    parse_response,
)
from connector.protocol.constraints import Constant, FunctionCall, Variable
from tests.support.athena import Invoke

ACCOUNT = "123456789012"  # moto's account: forward-access credentials of its IAM users report it
ADMIN = Identity(account=ACCOUNT, arn=f"arn:aws:iam::{ACCOUNT}:user/admin", groups=("admins",))
ANALYST = Identity(account=ACCOUNT, arn=f"arn:aws:iam::{ACCOUNT}:user/ana")
LISTER = Identity(account=ACCOUNT, arn=f"arn:aws:iam::{ACCOUNT}:user/lis")
OUTSIDER = Identity(account=ACCOUNT, arn=f"arn:aws:iam::{ACCOUNT}:user/otto")
SECRET = "0123456789abcdef-attack-secret"
# Keeps the 'emea' rows. PostgreSQL evaluates the cheapest conditions first, so a long IN list runs after a
# caller's predicate (the attack of issue 18); the division keeps the whole filter out of SQLite's WHERE.
ROW_FILTER = ("region IN ('emea', 'apac', 'latam', 'anz', 'mena', 'dach', 'uki', 'cee', 'nordics', 'benelux') "
              "AND score / 10 = id")
CUSTOMERS = 41  # ids 1..41; odd ids are 'amer' (hidden from the analyst), the largest id is hidden
BIG = 9223372036854775807


def policy(schema: str, **overrides: Any) -> dict[str, Any]:
    analyst_tables = overrides.get("analyst_tables") or [
        {"schema": schema, "table": "customers", "masks": {"email": "hash"}, "row_filter": ROW_FILTER},
        {"schema": schema, "table": "accounts", "row_filter": "region = 'emea' AND id / 1 = id"},
        {"schema": schema, "table": "*"},  # everything else in full: a name variant must not land here
    ]
    return {
        "secret": SECRET,
        "rules": [
            {"name": "admins", "match": {"arn": ADMIN.arn}, "access": "all"},
            {"name": "analysts", "match": {"arn": ANALYST.arn}, "tables": analyst_tables},
            {"name": "listers", "match": {"arn": LISTER.arn},
             "tables": [{"schema": schema, "table": "customers"}, {"schema": schema, "table": "orders"}]},
            {"name": "outsiders", "match": {"arn": OUTSIDER.arn}, "tables": [{"schema": "elsewhere", "table": "*"}]},
        ],
    }


# ---------------------------------------------------------------------------------------------- engines

@dataclass
class Source:
    engine: str
    schema: str
    connection: str
    query: Callable[[str], list[tuple[Any, ...]]]
    execute: Callable[[str], None]


ROWS = [(i, "emea" if i % 2 == 0 else "amer", f"customer{i}@example.com", i * 10) for i in range(1, CUSTOMERS + 1)]


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    path = tmp_path_factory.mktemp("attacks") / "shop.db"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE customers (id INTEGER PRIMARY KEY, region TEXT NOT NULL, email TEXT, score INTEGER);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER);
            CREATE TABLE aaa_hidden (id INTEGER);
            CREATE TABLE accounts (id INTEGER PRIMARY KEY, region TEXT NOT NULL, balance INTEGER);
        """)
        db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", ROWS)
        # SQLite keeps text that is not a number as text, even in an INTEGER column: a hidden row holds one.
        db.executemany("INSERT INTO accounts VALUES (?, ?, ?)",
                       [(1, "emea", 100), (2, "amer", "TOPSECRET-4711"), (3, "emea", 300)])
    db.close()

    def query(sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(path) as c:
            return c.execute(sql).fetchall()

    def execute(sql: str) -> None:
        with sqlite3.connect(path) as c:
            c.execute(sql)

    return Source("sqlite", "main", f"sqlite://jdbc:sqlite:{path}", query, execute)


@pytest.fixture(scope="module")
def postgres_source(request: pytest.FixtureRequest) -> Iterator[Source]:
    server = request.getfixturevalue("postgres_server")
    database = server.create_database("afq_attacks")
    values = ", ".join(f"({i}, '{r}', '{e}', {s})" for i, r, e, s in ROWS)
    server.psql(f"""
        CREATE TABLE customers (id BIGINT PRIMARY KEY, region TEXT NOT NULL, email TEXT, score BIGINT);
        CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT);
        CREATE TABLE aaa_hidden (id BIGINT);
        INSERT INTO customers VALUES {values};
    """, database)

    def query(sql: str) -> list[tuple[Any, ...]]:
        out = server.psql(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", database)
        return [tuple(int(v) if v.lstrip("-").isdigit() else v for v in line.split(",")) for line in out.splitlines()]

    def execute(sql: str) -> None:
        server.psql(sql, database)

    yield Source("postgres", "public", f"jdbc://{server.url(database)}?user=postgres", query, execute)
    server.psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def source(request: pytest.FixtureRequest) -> Source:
    return request.getfixturevalue(f"{request.param}_source")  # type: ignore[no-any-return]


@pytest.fixture
def secured(lambda_env: Callable[..., None], source: Source, tmp_path: Path) -> Source:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy(source.schema)))
    lambda_env(default=source.connection, access_policy=str(path), access_identity_protection="unverified_local")
    return source


def call(invoke: Invoke, request: Any) -> Any:
    return parse_response(invoke(request.to_wire()))


def read_all(invoke: Invoke, identity: Identity, catalog: str, table: TableName, schema: SchemaMessage,
             constraints: Constraints | None = None, query_id: str = "q1") -> pa.Table:
    """What Athena does for one scan: layout, splits, then every split's records."""
    constraints = constraints or Constraints()
    layout = call(invoke, GetTableLayoutRequest(identity, query_id, catalog, table, constraints, schema, ()))
    splits = call(invoke, GetSplitsRequest(identity, query_id, catalog, table, layout.partitions, (), constraints,
                                           None)).splits
    batches = [call(invoke, ReadRecordsRequest(identity, query_id, catalog, table, schema, split, constraints,
                                                16_000_000, 5_000_000)).records.logical_batch() for split in splits]
    return pa.Table.from_batches(batches, schema=schema.logical_schema())


def table_schema(invoke: Invoke, identity: Identity, catalog: str, table: TableName,
                 columns: list[str] | None = None) -> SchemaMessage:
    full = call(invoke, GetTableRequest(identity, "q1", catalog, table)).schema.logical_schema()
    picked = full if columns is None else pa.schema([full.field(c) for c in columns], metadata=full.metadata)
    return SchemaMessage.of_logical(picked)


def visible_ids(source: Source) -> list[int]:
    return [r[0] for r in source.query(f"SELECT id FROM customers WHERE {ROW_FILTER} ORDER BY id")]


INT64 = pa.int64()


def column(name: str, t: pa.DataType = INT64) -> Variable:
    return Variable(name, t)


def const(value: Any, t: pa.DataType = INT64) -> Constant:
    return Constant(t, (value,))


def fn(name: str, *arguments: Any, t: pa.DataType = INT64) -> FunctionCall:
    return FunctionCall(t, name, tuple(arguments))


# ---------------------------------------------------------------------------------------------- 1. identity

def test_a_policy_without_declared_identity_protection_does_not_start(
        lambda_env: Callable[..., None], sqlite_source: Source, tmp_path: Path, invoke: Invoke) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy("main")))
    lambda_env(default=sqlite_source.connection, access_policy=str(path))
    with pytest.raises(ConnectorError, match="access_identity_protection"):
        call(invoke, PingRequest(ANALYST, "q1", "c"))
    lambda_env(access_identity_protection="unverified_local", AWS_LAMBDA_FUNCTION_NAME="shop-connector")
    with pytest.raises(ConnectorError, match="local runs only"):
        call(invoke, PingRequest(ANALYST, "q1", "c"))


@pytest.fixture
def fas(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], dict[str, str]]:
    """configOptions carrying a forward-access token for an IAM user of the moto server, sealed as Athena seals
    it: the real AWS Encryption SDK under a KMS key."""
    import aws_encryption_sdk
    import boto3
    from aws_encryption_sdk.identifiers import CommitmentPolicy

    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", aws_env)
    iam, kms = boto3.client("iam"), boto3.client("kms")
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    sdk = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[key_arn])

    def options(user: str) -> dict[str, str]:
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_user(UserName=user)
        for old in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:  # IAM allows two keys per user
            iam.delete_access_key(UserName=user, AccessKeyId=old["AccessKeyId"])
        key = iam.create_access_key(UserName=user)["AccessKey"]
        plaintext = json.dumps({"accessToken": key["AccessKeyId"], "secretToken": key["SecretAccessKey"],
                                "securityToken": ""}).encode()
        sealed, _ = sdk.encrypt(source=plaintext, key_provider=provider)
        return {"fas_token": base64.b64encode(sealed).decode(), "service_kms_key_id": key_arn}

    return options


def _as(identity: Identity, options: dict[str, str]) -> Identity:
    return Identity(account=identity.account, arn=identity.arn, tags=identity.tags, groups=identity.groups,
                    config_options=options)


def test_a_forged_identity_is_refused(lambda_env: Callable[..., None], source: Source, tmp_path: Path,
                                      invoke: Invoke, fas: Callable[[str], dict[str, str]]) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy(source.schema)))
    lambda_env(default=source.connection, access_policy=str(path), access_identity_protection="fas_verified")
    table = TableName(source.schema, "customers")
    ana = fas("ana")
    # Ana's own credentials, claiming the administrator's ARN (and group): refused before any data is read.
    with pytest.raises(AccessDenied, match="forward-access credentials belong to"):
        call(invoke, GetTableRequest(_as(ADMIN, ana), "q1", "c", table))
    # No forward-access credentials at all: nothing can be proven, so nothing is answered.
    with pytest.raises(AccessDenied, match="no forward-access credentials"):
        call(invoke, GetTableRequest(ADMIN, "q1", "c", table))
    # A token that is not one sealed for this key.
    with pytest.raises(AccessDenied, match="cannot be opened"):
        call(invoke, GetTableRequest(_as(ANALYST, {**ana, "fas_token": base64.b64encode(b"\x02" * 200).decode()}),
                                     "q1", "c", table))
    # Her true identity works, and gets her view: masked e-mails of the rows the filter keeps.
    schema = table_schema(invoke, _as(ANALYST, ana), "c", table, ["id", "email"])
    rows = read_all(invoke, _as(ANALYST, ana), "c", table, schema)
    assert sorted(rows.column("id").to_pylist()) == visible_ids(source)
    assert not any("@" in e for e in rows.column("email").to_pylist())


def test_forward_access_credentials_are_checked_in_every_mode(
        lambda_env: Callable[..., None], sqlite_source: Source, tmp_path: Path, invoke: Invoke,
        fas: Callable[[str], dict[str, str]]) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy("main")))
    lambda_env(default=sqlite_source.connection, access_policy=str(path),
               access_identity_protection="called_via_athena")
    with pytest.raises(AccessDenied, match="belong to"):
        call(invoke, GetTableRequest(_as(ADMIN, fas("ana")), "q1", "c", TableName("main", "customers")))
    # fas_verified cannot prove tags or groups: a policy matching on them is refused, not half-trusted.
    grouped = policy("main")
    grouped["rules"][0]["match"] = {"groups": ["admins"]}
    path.write_text(json.dumps(grouped))
    lambda_env(access_identity_protection="fas_verified")
    with pytest.raises(AccessDenied, match="cannot prove"):
        call(invoke, GetTableRequest(_as(ANALYST, fas("ana")), "q1", "c", TableName("main", "customers")))


# ---------------------------------------------------------------------------------------------- 2. type confusion

@pytest.mark.parametrize("as_type", [pa.int64(), pa.date32(), pa.float64(), pa.decimal128(10, 2), pa.bool_()])
def test_type_confusion_never_shows_a_masked_value(secured: Source, invoke: Invoke, as_type: pa.DataType,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    table = TableName(secured.schema, "customers")
    real = table_schema(invoke, ANALYST, "c", table, ["id", "email"]).logical_schema()
    confused = pa.schema([real.field("id"), real.field("email").with_type(as_type)], metadata=real.metadata)
    schema = SchemaMessage.of_logical(confused)
    split = call(invoke, GetSplitsRequest(ANALYST, "q1", "c", table, _partitions(invoke, table, real), (),
                                          Constraints(), None)).splits[0]
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorError) as refused:
        call(invoke, ReadRecordsRequest(ANALYST, "q1", "c", table, schema, split, Constraints(), 16_000_000,
                                        5_000_000))
    assert "@example.com" not in str(refused.value) and "@example.com" not in caplog.text
    assert isinstance(refused.value, AccessDenied)  # refused for the type, before a value is read


def _partitions(invoke: Invoke, table: TableName, schema: pa.Schema) -> Any:
    return call(invoke, GetTableLayoutRequest(ANALYST, "q1", "c", table, Constraints(),
                                              SchemaMessage.of_logical(schema), ())).partitions


def test_a_bad_value_in_a_hidden_row_is_never_quoted(secured: Source, invoke: Invoke,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    if secured.engine != "sqlite":
        pytest.skip("only SQLite stores text in an INTEGER column")
    table = TableName("main", "accounts")
    schema = table_schema(invoke, ANALYST, "c", table)
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorError) as failed:
        read_all(invoke, ANALYST, "c", table, schema)
    assert "TOPSECRET" not in str(failed.value) and "TOPSECRET" not in caplog.text
    assert "withheld" in str(failed.value)


# ---------------------------------------------------------------------------------------------- 3. error oracle

def _probe(invoke: Invoke, source: Source, predicate: FunctionCall) -> tuple[str, list[int]]:
    table = TableName(source.schema, "customers")
    schema = table_schema(invoke, ANALYST, "c", table, ["id"])
    try:
        rows = read_all(invoke, ANALYST, "c", table, schema, Constraints(expression=(predicate,)))
    except ConnectorError as e:
        return type(e).__name__, []
    return "ok", sorted(rows.column("id").to_pylist())


def test_a_division_probe_cannot_tell_hidden_rows_from_missing_ones(secured: Source, invoke: Invoke) -> None:
    visible = visible_ids(secured)

    def divides(x: int) -> FunctionCall:  # 1 / (id - x) > 0: fails on a row with id = x, wherever it is applied
        return fn("$greater_than", fn("$divide", const(1), fn("$subtract", column("id"), const(x))), const(0),
                  t=pa.bool_())

    def expected(x: int) -> list[int]:  # the engine's answer on the visible rows only (CASE fixes the order)
        return [r[0] for r in secured.query(
            f"SELECT id FROM customers WHERE {ROW_FILTER} AND CASE WHEN id = {x} THEN 1 = 0 "
            f"ELSE 1 / (id - {x}) > 0 END ORDER BY id")]

    hidden = 7
    assert hidden not in visible and secured.query(f"SELECT count(*) FROM customers WHERE id = {hidden}") == [(1,)]
    assert _probe(invoke, secured, divides(hidden)) == ("ok", expected(hidden))
    assert _probe(invoke, secured, divides(10_000)) == ("ok", expected(10_000))  # no such row at all
    assert _probe(invoke, secured, divides(visible[0]))[0] != "ok"  # a visible row may fail: the caller sees it


def test_an_overflow_probe_cannot_tell_hidden_rows_from_missing_ones(secured: Source, invoke: Invoke) -> None:
    if secured.engine == "sqlite":
        pytest.skip("SQLite turns an integer overflow into a REAL instead of failing")
    visible = visible_ids(secured)
    top_visible = max(visible)
    assert top_visible < CUSTOMERS  # the largest id is a hidden row
    # (BIG - top_visible) + id overflows exactly for the rows above the largest visible id: hidden ones only.
    probe = fn("$greater_than", fn("$add", const(BIG - top_visible), column("id")), const(0), t=pa.bool_())
    assert _probe(invoke, secured, probe) == ("ok", visible)


# ---------------------------------------------------------------------------------------------- 4. names

@pytest.mark.parametrize("variant", ["CUSTOMERS", "Customers", "customers "])
def test_a_name_variant_does_not_escape_the_rule(secured: Source, invoke: Invoke, variant: str) -> None:
    table = TableName(secured.schema, variant)
    try:
        schema = table_schema(invoke, ANALYST, "c", table, ["id", "email"])
        rows = read_all(invoke, ANALYST, "c", table, schema)
    except ConnectorError:
        return  # refused: as good as the customers rule
    assert not any("@" in (e or "") for e in rows.column("email").to_pylist())
    assert sorted(rows.column("id").to_pylist()) == visible_ids(secured)


@pytest.mark.parametrize("scope", [{"catalog": "shop"}, {"catalog": "lambda:shop-connector"},
                                   {"connection": "default"}])
@pytest.mark.parametrize("catalog", ["shop", "lambda:shop-connector", "anything"])
def test_a_catalog_variant_reads_through_the_same_rule(lambda_env: Callable[..., None], source: Source,
                                                       tmp_path: Path, invoke: Invoke, scope: dict[str, str],
                                                       catalog: str) -> None:
    tables = [{**scope, "schema": source.schema, "table": "customers", "masks": {"email": "hash"},
               "row_filter": ROW_FILTER},
              {"schema": source.schema, "table": "*"}]
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy(source.schema, analyst_tables=tables)))
    # Every catalog name reaches the same database through ``default``.
    lambda_env(default=source.connection, access_policy=str(path), access_identity_protection="unverified_local")
    table = TableName(source.schema, "customers")
    schema = table_schema(invoke, ANALYST, catalog, table, ["id", "email"])
    rows = read_all(invoke, ANALYST, catalog, table, schema)
    assert not any("@" in e for e in rows.column("email").to_pylist())
    assert sorted(rows.column("id").to_pylist()) == visible_ids(source)


# ---------------------------------------------------------------------------------------------- mask as signature

def test_a_hash_mask_is_not_a_split_signature(secured: Source, invoke: Invoke) -> None:
    table = TableName(secured.schema, "customers")
    schema = table_schema(invoke, ANALYST, "c", table, ["id", "email"])
    (split, *_) = call(invoke, GetSplitsRequest(ANALYST, "q1", "c", table, _partitions(
        invoke, table, schema.logical_schema()), (), Constraints(), None)).splits
    properties = {k: v for k, v in split.properties.items() if k != "afq.signature"}
    # The attacker wants that split for another query (a replay); the signed payload's format is public.
    caller = [ANALYST.arn, ANALYST.account, sorted(ANALYST.groups), sorted(ANALYST.tags.items())]
    payload = json.dumps([caller, "q2", "c", str(table), sorted(properties.items())], separators=(",", ":"))
    # ... and can write one value into a hash-masked column (a sign-up form), in a row the filter shows.
    row = visible_ids(secured)[0]
    secured.execute(f"UPDATE customers SET email = '{payload.replace(chr(39), chr(39) * 2)}' WHERE id = {row}")
    try:
        masked = {r["id"]: r["email"] for r in read_all(invoke, ANALYST, "c", table, schema).to_pylist()}[row]
        forged = Split(split.spill_location, split.encryption_key, {**properties, "afq.signature": masked})
        with pytest.raises(AccessDenied, match="not issued"):
            call(invoke, ReadRecordsRequest(ANALYST, "q2", "c", table, schema, forged, Constraints(), 16_000_000,
                                            5_000_000))
    finally:
        secured.execute(f"UPDATE customers SET email = 'customer{row}@example.com' WHERE id = {row}")
    # the mask is still the keyed hash it always was: stable, and not the plain HMAC of the secret
    assert masked != hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------------------------- listing probes

def test_list_tables_filters_before_paging(secured: Source, invoke: Invoke) -> None:
    pages: list[list[str]] = []
    token = None
    while True:
        response = call(invoke, ListTablesRequest(LISTER, "q1", "c", secured.schema, token, 1))
        pages.append([t.table for t in response.tables])
        token = response.next_token
        if not token or len(pages) > 10:
            break
    assert pages == [["customers"], ["orders"]]  # no empty page where aaa_hidden sits, no token past the end


def test_hidden_and_missing_schemas_answer_alike(secured: Source, invoke: Invoke) -> None:
    answers = []
    for schema in (secured.schema, "no_such_schema"):
        try:
            answers.append(("ok", call(invoke, ListTablesRequest(OUTSIDER, "q1", "c", schema, None, -1)).tables))
        except SchemaNotFound as e:  # the handler re-raises it under the Java SDK's name, as a subclass
            answers.append((type(e).__name__, str(e).replace(schema, "<schema>")))
    assert answers[0] == answers[1] and answers[0][0] != "ok"


# ---------------------------------------------------------------------------------------------- redaction

# Every credential form through every way out (connection strings, adapters, Athena, logs, traces):
# tests/access/test_redaction.py.


def test_errors_returned_to_athena_are_scrubbed(secured: Source, invoke: Invoke,
                                                caplog: pytest.LogCaptureFixture) -> None:
    # A source error that echoes what it was given (the statement text) holds a credential form.
    query = 'SELECT * FROM "accessToken=Zz9secretZz9"'
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorError) as failed:
        call(invoke, GetTableRequest(ADMIN, "q1", "c", TableName("system", "query"), {"query": query}))
    assert "Zz9secretZz9" not in str(failed.value) and "Zz9secretZz9" not in caplog.text


@pytest.mark.integration
def test_a_connection_error_never_shows_the_password_in_the_url(lambda_env: Callable[..., None], invoke: Invoke,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    from tests.servers.ports import free_port

    lambda_env(default=f"jdbc://jdbc:postgresql://alice:Pw-in-url-42@127.0.0.1:{free_port()}/shop")
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorError) as failed:
        call(invoke, ListTablesRequest(ADMIN, "q1", "c", "public", None, -1))
    assert "Pw-in-url-42" not in str(failed.value) and "Pw-in-url-42" not in caplog.text


# ---------------------------------------------------------------------------------------------- passthrough writes

def passthrough(sql: str) -> list[dict[str, Any]]:
    """Rows of a passthrough query, as an unrestricted caller runs it through the local engine."""
    from connector.local.engine import LocalAthena, QueryOptions
    from connector.local.targets import InProcessTarget

    athena = LocalAthena(InProcessTarget(), QueryOptions(default_catalog="c", identity=ADMIN))
    try:
        quoted = sql.replace("'", "''")
        return athena.run(f"SELECT * FROM TABLE(c.system.query(query => '{quoted}'))").table.to_pylist()
    finally:
        athena.close()


@pytest.mark.parametrize("statement", [
    "VACUUM INTO '{dir}/copy.db'",
    "ATTACH 'file:{dir}/attached.db?mode=rwc' AS x",
    "ATTACH '{dir}/attached.db' AS x",
])
def test_sqlite_passthrough_cannot_write_anywhere(lambda_env: Callable[..., None], sqlite_source: Source,
                                                  tmp_path: Path, invoke: Invoke, statement: str) -> None:
    lambda_env(default=sqlite_source.connection)
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(ConnectorError, match="authoriz"):
        call(invoke, GetTableRequest(ADMIN, "q1", "c", TableName("system", "query"),
                                     {"query": statement.format(dir=target)}))
    assert list(target.iterdir()) == []
    # ... and nothing it did stays on the pooled connection the next query gets.
    assert passthrough("SELECT group_concat(name) AS dbs FROM pragma_database_list") == [{"dbs": "main"}]


@pytest.mark.parametrize("statement", ["PRAGMA query_only = OFF", "BEGIN", "CREATE TEMP TABLE t (a)",
                                       "PRAGMA case_sensitive_like = ON"])
def test_sqlite_passthrough_leaves_no_state_on_the_pooled_connection(
        lambda_env: Callable[..., None], sqlite_source: Source, invoke: Invoke, statement: str) -> None:
    lambda_env(default=sqlite_source.connection)
    with pytest.raises(ConnectorError):
        call(invoke, GetTableRequest(ADMIN, "q1", "c", TableName("system", "query"), {"query": statement}))
    state = passthrough("SELECT (SELECT query_only FROM pragma_query_only) AS q, "
                        "(SELECT count(*) FROM temp.sqlite_master) AS temps, 'a' LIKE 'A' AS ci")
    assert state == [{"q": 1, "temps": 0, "ci": 1}]
