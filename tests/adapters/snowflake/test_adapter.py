"""The Snowflake adapter against fakesnow's server, through the real snowflake-connector-python over HTTP."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.snowflake.adapter import SnowflakeAdapter
from adapters.snowflake.batches import QUERY_ID, RecentResults, group_batches
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.errors import AccessDenied, InvalidRequest, SchemaNotFound, SourceError, TableNotFound
from connector.protocol.constraints import Constraints, OrderByField, Range, SortDirection, SortedRangeSet
from connector.protocol.messages import Split, TableName
from connector.scan import rows_of
from tests.servers.fakesnow import FakeSnowflake
from tests.support import snowflake_data as data

pytestmark = pytest.mark.integration
PASSWORD = "correct%20horse%20battery%20staple"
ORDERS = TableName("sales", "orders")
ONE_PARTITION = pa.table({"partitionId": pa.array([1], pa.int32())})


@pytest.fixture(scope="module")
def loaded(fakesnow_server: FakeSnowflake) -> FakeSnowflake:
    data.load(fakesnow_server)
    return fakesnow_server


def make_adapter(server: FakeSnowflake, extra: str = f"&user=afq_user&password={PASSWORD}", schema: str | None = None,
                 **env: str) -> SnowflakeAdapter:
    spec = parse_connection_string("snowflake://" + server.url(data.DATABASE, schema, extra))
    return SnowflakeAdapter(spec, Settings.from_env(env))


@pytest.fixture
def adapter(loaded: FakeSnowflake) -> Iterator[SnowflakeAdapter]:
    a = make_adapter(loaded, snowflake_split_mode="batches", snowflake_split_rows="700")
    yield a
    a.close()


def read_all(adapter: SnowflakeAdapter, table: TableName, constraints: Constraints | None = None,
             columns: list[str] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Rows of every split of a scan (the residual applied, as the framework does) and the split properties."""
    constraints = constraints or Constraints()
    schema = adapter.get_table(None, table).schema  # type: ignore[arg-type]
    if columns is not None:
        schema = pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)
    page = adapter.get_splits(None, table, ONE_PARTITION, constraints, None)  # type: ignore[arg-type]
    assert page.next_token is None
    rows: list[dict[str, Any]] = []
    for properties in page.splits:
        scan = adapter.read_split(None, table, schema, Split(None, None, properties), constraints)  # type: ignore
        for batch in rows_of(scan, schema):
            assert batch.schema == schema
            rows.extend(batch.to_pylist())
    return rows, [dict(p) for p in page.splits]


# ------------------------------------------------------------------------------------------ metadata


def test_schemas_tables_views_and_paging(adapter: SnowflakeAdapter) -> None:
    assert adapter.list_schemas(None) == ["empty_schema", "many", "sales"]  # type: ignore[arg-type]
    sales = adapter.list_tables(None, "sales", None, -1)  # type: ignore[arg-type]
    assert [t.table for t in sales.tables] == ["mixedcase", "orders", "positive_qty", "small_orders", "types"]
    pages, token = [], None
    while True:
        page = adapter.list_tables(None, "many", token, 3)  # type: ignore[arg-type]
        pages.append([t.table for t in page.tables])
        token = page.next_token
        if token is None:
            break
    assert pages == [["t0", "t1", "t2"], ["t3", "t4", "t5"], ["t6", "v0"]]
    assert adapter.list_tables(None, "empty_schema", None, -1).tables == []  # type: ignore[arg-type]
    with pytest.raises(SchemaNotFound):
        adapter.list_tables(None, "nope", None, -1)  # type: ignore[arg-type]


def test_schema_in_connection_string_restricts_listing(loaded: FakeSnowflake) -> None:
    a = make_adapter(loaded, schema="sales")
    try:
        assert a.list_schemas(None) == ["sales"]  # type: ignore[arg-type]
    finally:
        a.close()


def test_lower_case_names_resolve_to_upper_and_quoted_names(adapter: SnowflakeAdapter) -> None:
    view = adapter.get_table(None, TableName("sales", "small_orders")).schema  # type: ignore[arg-type]
    assert view.names == ["id", "name"]
    mixed = adapter.get_table(None, TableName("sales", "mixedcase")).schema  # type: ignore[arg-type]
    assert mixed.names == ["id", "label"]
    rows, _ = read_all(adapter, TableName("sales", "mixedcase"))
    assert sorted((r["id"], r["label"]) for r in rows) == [(1, "one"), (2, "two")]
    rows, _ = read_all(adapter, TableName("sales", "small_orders"))
    assert sorted(r["id"] for r in rows) == list(range(100))
    rows, splits = read_all(adapter, TableName("sales", "positive_qty"))  # a materialized view
    assert sorted(r["id"] for r in rows) == [i for i, row in enumerate(data.orders_rows()) if (row[1] or 0) > 0]
    assert all(QUERY_ID in s for s in splits)
    with pytest.raises(TableNotFound):
        adapter.get_table(None, TableName("sales", "missing"))  # type: ignore[arg-type]


def test_type_mapping(adapter: SnowflakeAdapter) -> None:
    schema = adapter.get_table(None, TableName("sales", "types")).schema  # type: ignore[arg-type]
    assert {f.name: f.type for f in schema} == {
        "n_small": pa.int64(), "n_18": pa.int64(), "n_19": pa.decimal128(19, 0), "n_38": pa.decimal128(38, 0),
        "n_dec": pa.decimal128(10, 3), "n_int": pa.decimal128(38, 0), "f": pa.float64(), "dbl": pa.float64(),
        "s": pa.string(), "vc": pa.string(), "b": pa.binary(), "bo": pa.bool_(), "d": pa.date32(),
        "t": pa.string(), "ts_ntz": pa.timestamp("ms"), "ts_tz": pa.timestamp("ms", "UTC"), "v": pa.string(),
        "o": pa.string(), "a": pa.string()}
    rows, _ = read_all(adapter, TableName("sales", "types"))
    full = next(r for r in rows if r["n_small"] is not None)
    assert full == {
        "n_small": 123456789, "n_18": 123456789012345678, "n_19": Decimal(1234567890123456789),
        "n_38": Decimal(1234567890123456789), "n_dec": Decimal("1234567.125"), "n_int": Decimal(42), "f": 1.5,
        "dbl": -2.25, "s": "text", "vc": "short", "b": b"\xca\xfe", "bo": True, "d": dt.date(2024, 2, 29),
        "t": "13:14:15.000000",
        "ts_ntz": dt.datetime(2024, 2, 29, 13, 14, 15, 123000),  # .123456 floored to Athena's milliseconds
        "ts_tz": dt.datetime(2024, 2, 29, 12, 14, 15, 123000, tzinfo=dt.UTC),
        "v": '{"a":[1,2]}', "o": '{"k":"v"}', "a": '[1,"x"]'}
    empty = next(r for r in rows if r["n_small"] is None)
    assert set(empty.values()) == {None}


# ------------------------------------------------------------------------------------------ splits


def test_splits_are_disjoint_and_complete(adapter: SnowflakeAdapter) -> None:
    rows, splits = read_all(adapter, ORDERS)
    assert len(splits) >= 3  # 2300 rows in 500-row chunks, ~700 rows per split
    assert len({s[QUERY_ID] for s in splits}) == 1  # one query for the whole scan
    ranges = [(int(s["sf_first_batch"]), int(s["sf_last_batch"])) for s in splits]
    assert ranges[0][0] == 0 and all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))
    assert ranges[-1][1] == int(splits[0]["sf_batch_count"]) - 1
    ids = Counter(r["id"] for r in rows)
    assert len(rows) == data.ORDERS_ROWS and set(ids) == set(range(data.ORDERS_ROWS))
    assert max(ids.values()) == 1  # no duplicates


def test_single_split_mode_reads_the_projection(loaded: FakeSnowflake) -> None:
    a = make_adapter(loaded)  # auto: fakesnow reports BYTES 0 for every table, so one split
    try:
        rows, splits = read_all(a, ORDERS, columns=["name", "id"])
        assert splits == [{}]
        assert len(rows) == data.ORDERS_ROWS and list(rows[0]) == ["name", "id"]
        description = a.describe_split(None, ORDERS, a.get_table(None, ORDERS).schema,  # type: ignore[arg-type]
                                       Split(None, None, {}), Constraints())
        assert description.startswith('SELECT "ID", "QTY"')
    finally:
        a.close()


def test_constraints_limit_and_top_n_with_batches(adapter: SnowflakeAdapter) -> None:
    qty = SortedRangeSet(pa.int64(), (Range.equal(7),), False)
    rows, _ = read_all(adapter, ORDERS, Constraints(summary={"qty": qty}))
    expected = [r for r in read_all(adapter, ORDERS)[0] if r["qty"] == 7]
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in expected) and rows
    top = Constraints(order_by=(OrderByField("id", SortDirection.DESC_NULLS_LAST),), limit=5)
    rows, splits = read_all(adapter, ORDERS, top)
    assert sorted(r["id"] for r in rows) == list(range(data.ORDERS_ROWS - 5, data.ORDERS_ROWS))
    assert len(splits) == 1


def test_continuation_token_reopens_the_result(adapter: SnowflakeAdapter) -> None:
    first = adapter.get_splits(None, ORDERS, ONE_PARTITION, Constraints(), None)  # type: ignore[arg-type]
    query_id = first.splits[0][QUERY_ID]
    rest = adapter.get_splits(None, ORDERS, ONE_PARTITION, Constraints(), f"{query_id}/1")  # type: ignore[arg-type]
    assert [dict(s) for s in rest.splits] == [dict(s) for s in first.splits[1:]]


@pytest.mark.parametrize(("properties", "message"), [
    ({QUERY_ID: "https://attacker.example/x", "sf_first_batch": "0", "sf_last_batch": "0", "sf_batch_count": "1"},
     "not a Snowflake query id"),
    ({QUERY_ID: "01234567-89ab-cdef-0123-456789abcdef", "sf_first_batch": "2", "sf_last_batch": "1",
      "sf_batch_count": "3"}, "does not fit"),
    ({QUERY_ID: "01234567-89ab-cdef-0123-456789abcdef", "sf_first_batch": "-1", "sf_last_batch": "1",
      "sf_batch_count": "3"}, "not a valid batch number"),
    ({QUERY_ID: "01234567-89ab-cdef-0123-456789abcdef", "sf_first_batch": "0", "sf_last_batch": "0"},
     "sf_batch_count is missing"),
])
def test_crafted_split_properties_are_rejected(adapter: SnowflakeAdapter, properties: dict[str, str],
                                               message: str) -> None:
    schema = adapter.get_table(None, ORDERS).schema  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match=message):
        adapter.read_split(None, ORDERS, schema, Split(None, None, properties), Constraints())  # type: ignore


def test_split_of_another_result_shape_or_unknown_query_fails(adapter: SnowflakeAdapter) -> None:
    schema = adapter.get_table(None, ORDERS).schema  # type: ignore[arg-type]
    page = adapter.get_splits(None, ORDERS, ONE_PARTITION, Constraints(), None)  # type: ignore[arg-type]
    wrong_count = {**page.splits[0], "sf_batch_count": "99"}
    with pytest.raises(InvalidRequest, match="names 99 result batches"):
        list(adapter.read_split(None, ORDERS, schema, Split(None, None, wrong_count), Constraints()).batches)  # type: ignore
    unknown = {**page.splits[0], QUERY_ID: "01234567-89ab-cdef-0123-456789abcdef"}
    with pytest.raises(SourceError, match="cannot be re-opened"):
        list(adapter.read_split(None, ORDERS, schema, Split(None, None, unknown), Constraints()).batches)  # type: ignore


def test_pruned_partitions_mean_no_splits(adapter: SnowflakeAdapter) -> None:
    empty = ONE_PARTITION.slice(0, 0)
    assert adapter.get_splits(None, ORDERS, empty, Constraints(), None).splits == []  # type: ignore[arg-type]


def test_passthrough_query(adapter: SnowflakeAdapter) -> None:
    sql = "SELECT ID AS THE_ID, NAME, TS FROM SALES.ORDERS WHERE ID < 5 ORDER BY ID"
    definition = adapter.get_passthrough_table(None, {"QUERY": sql})  # type: ignore[arg-type]
    assert {f.name: f.type for f in definition.schema} == {"the_id": pa.int64(), "name": pa.string(),
                                                          "ts": pa.timestamp("ms")}
    scan = adapter.read_passthrough(None, {"QUERY": sql}, definition.schema)  # type: ignore[arg-type]
    rows = [r for b in rows_of(scan, definition.schema) for r in b.to_pylist()]
    assert [r["the_id"] for r in rows] == [0, 1, 2, 3, 4]
    with pytest.raises(SourceError, match="snowflake error"):
        adapter.get_passthrough_table(None, {"QUERY": "SELECT * FROM NO_SUCH_TABLE"})  # type: ignore[arg-type]


def test_group_batches_caps_split_count(adapter: SnowflakeAdapter) -> None:
    sizes = [(100, 1000), (1, 10**9)] * 5 + [(100, None)] * 7  # rows and bytes both close runs
    groups = group_batches(sizes, adapter.split_bytes, adapter.split_rows, max_splits=4)
    assert len(groups) <= 4 and groups[0][0] == 0 and groups[-1][1] == len(sizes) - 1
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(groups))


# ------------------------------------------------------------------------------------------ credentials


def _rsa_pem(key: rsa.RSAPrivateKey, passphrase: bytes | None = None) -> str:
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def test_key_pair_secret_logs_in_with_a_verified_jwt(loaded: FakeSnowflake, aws_env: str) -> None:
    """The server verifies the JWT's signature against the registered public key, as Snowflake does."""
    registered = serialization.load_pem_private_key(loaded.private_keys["afq_keypair"], None)
    assert isinstance(registered, rsa.RSAPrivateKey)
    client = boto3.client("secretsmanager")
    headless = "".join(_rsa_pem(registered).strip().splitlines()[1:-1])
    client.create_secret(Name="sf-it/plain", SecretString=json.dumps({"sfUser": "afq_keypair",
                                                                      "pem_private_key": headless}))
    client.create_secret(Name="sf-it/encrypted", SecretString=json.dumps({
        "username": "afq_keypair", "pem_private_key": _rsa_pem(registered, b"s3cret-phrase"),
        "pem_private_key_passphrase": "s3cret-phrase"}))
    for secret in ("sf-it/plain", "sf-it/encrypted"):
        a = make_adapter(loaded, extra=f"&${{{secret}}}")
        try:
            assert "sales" in a.list_schemas(None)  # type: ignore[arg-type]
        finally:
            a.close()

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client.create_secret(Name="sf-it/wrong-key", SecretString=json.dumps({"sfUser": "afq_keypair",
                                                                          "pem_private_key": _rsa_pem(other)}))
    a = make_adapter(loaded, extra="&${sf-it/wrong-key}")
    with pytest.raises(AccessDenied, match="rejected the login of user 'afq_keypair'") as info:
        a.list_schemas(None)  # type: ignore[arg-type]
    assert "PRIVATE KEY" not in str(info.value) and "390144" in str(info.value)


def test_bad_password_is_access_denied_without_the_password(loaded: FakeSnowflake) -> None:
    a = make_adapter(loaded, extra="&user=afq_user&password=Wr0ngPassw0rd")
    with pytest.raises(AccessDenied, match="Snowflake rejected the login of user 'afq_user'") as info:
        a.list_schemas(None)  # type: ignore[arg-type]
    assert "Wr0ngPassw0rd" not in str(info.value) and "390100" in str(info.value)


@pytest.mark.timeout(60)
def test_unreachable_account_is_a_clear_source_error(loaded: FakeSnowflake) -> None:
    from tests.servers.ports import free_port

    spec = parse_connection_string(f"snowflake://jdbc:snowflake://127.0.0.1:{free_port()}/?account=gone&ssl=off&db=D"
                                   "&loginTimeout=5&user=u&password=NotShown123")
    a = SnowflakeAdapter(spec, Settings.from_env({}))
    with pytest.raises(SourceError, match=r"cannot connect to Snowflake account 'gone' at 127\.0\.0\.1") as info:
        a.list_schemas(None)  # type: ignore[arg-type]
    assert "NotShown123" not in str(info.value)


# ------------------------------------------------------------------------------------------ through the Lambda


def test_athena_call_sequence_through_the_handler(loaded: FakeSnowflake, lambda_env: Any,
                                                  invoke: Any) -> None:
    """Ping .. ReadRecords as JSON events, the split properties travelling through the wire format."""
    from connector.protocol import (
        GetSplitsRequest,
        GetTableLayoutRequest,
        GetTableRequest,
        Identity,
        ListSchemasRequest,
        PingRequest,
        ReadRecordsRequest,
        SchemaMessage,
        parse_response,
    )

    lambda_env(default="snowflake://" + loaded.url(data.DATABASE, extra=f"&user=afq_user&password={PASSWORD}"),
               snowflake_split_mode="batches", snowflake_split_rows="1000")
    identity = Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/t")

    def call(request: Any) -> Any:
        return parse_response(invoke(request.to_wire()))

    assert call(PingRequest(identity, "sf", "q1")).source_type == "snowflake"
    assert "sales" in call(ListSchemasRequest(identity, "q1", "sf")).schemas
    definition = call(GetTableRequest(identity, "q1", "sf", ORDERS))
    schema = definition.schema.logical_schema()
    wanted = pa.schema([schema.field(n) for n in ("id", "ts")], metadata=schema.metadata)
    constraints = Constraints(summary={"qty": SortedRangeSet(pa.int64(), (Range.equal(7),), False)})
    layout = call(GetTableLayoutRequest(identity, "q1", "sf", ORDERS, constraints, definition.schema, ()))
    splits = call(GetSplitsRequest(identity, "q1", "sf", ORDERS, layout.partitions, (), constraints, None)).splits
    assert splits and all(QUERY_ID in s.properties for s in splits)
    ids = []
    for split in splits:
        response = call(ReadRecordsRequest(identity, "q1", "sf", ORDERS, SchemaMessage.of_logical(wanted), split,
                                           constraints, 16_000_000, 5_242_880))
        batch = response.records.logical_batch()
        assert batch.schema.names == ["id", "ts"]
        ids.extend(batch.column(0).to_pylist())
    expected = [i for i, row in enumerate(data.orders_rows()) if row[1] == 7]
    assert sorted(ids) == expected and expected


def test_a_process_reopens_a_result_at_most_once_for_its_splits(loaded: FakeSnowflake,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The process that ran the result reads every split without re-opening it; another process (another
    Lambda) re-opens it once for all the splits it reads, and reads the same rows."""
    reopened: list[str] = []
    real_reopen = SnowflakeAdapter.reopen

    def counted(self: SnowflakeAdapter, connection: Any, query_id: str) -> list[Any]:
        reopened.append(query_id)
        return real_reopen(self, connection, query_id)

    monkeypatch.setattr(SnowflakeAdapter, "reopen", counted)
    planner = make_adapter(loaded, snowflake_split_mode="batches", snowflake_split_rows="700")
    reader = make_adapter(loaded, snowflake_split_mode="batches", snowflake_split_rows="700")
    try:
        rows, splits = read_all(planner, ORDERS)
        assert len(splits) >= 3 and reopened == []
        schema = reader.get_table(None, ORDERS).schema  # type: ignore[arg-type]
        again = [row for p in splits for batch in rows_of(reader.read_split(
            None, ORDERS, schema, Split(None, None, p), Constraints()), schema) for row in batch.to_pylist()]  # type: ignore[arg-type]
        assert reopened == [splits[0][QUERY_ID]]
        assert again == rows and len(rows) == data.ORDERS_ROWS
        reader.recent_results.ttl_seconds = -1.0  # kept batches expire: the next split re-opens the result
        list(reader.read_split(None, ORDERS, schema, Split(None, None, splits[0]), Constraints()).batches)  # type: ignore[arg-type]
        assert len(reopened) == 2
    finally:
        planner.close()
        reader.close()


def test_recent_results_are_bounded() -> None:
    recent = RecentResults(capacity=2)
    for query_id in ("a", "b", "c"):
        recent.put(query_id, [query_id])
    assert recent.get("a") is None and recent.get("b") == ["b"] and recent.get("c") == ["c"]
    recent.put("d", ["d"])  # "b" was used longest ago
    assert recent.get("b") is None and recent.get("c") == ["c"]
