"""The Oracle adapter end to end through the federation service, with H2 (Oracle mode) playing the database.

H2 holds real tables and a view, plus tables named like Oracle's dictionary views (ALL_USERS, ALL_TABLES,
ALL_VIEWS, ALL_TAB_COLUMNS, ALL_TAB_PARTITIONS, ALL_TAB_SUBPARTITIONS) filled with the rows Oracle would return
for them. So the adapter's own catalog SQL (paging, owner filters, case-insensitive lookup over tables and views),
its split planning and its generated SELECTs all execute on a real engine, and rows come back through
``fetch_df_batches`` -> ``oracledb.from_arrow`` DataFrames -> the Arrow conversion.

Stand-ins, stated plainly: the DB-API connection is a thin shim over H2 that turns ``:name`` binds into ``?``
and answers ``fetch_df_batches`` by building DataFrames with ``oracledb.from_arrow``; a NUMBER requested as an
Arrow decimal goes through the driver's own algorithm (``tests/support/oracle_wire.py``: the server's NUMBER bytes, the
driver's decoding and its decimal conversion, wrap-around included). A string bound against a database whose
character set is not Unicode is converted as Oracle converts it (characters the set lacks become '¿'). ROWID is
H2's ``_ROWID_``; a BINARY_CI column is H2's VARCHAR_IGNORECASE. Partition clauses (``PARTITION ("P1")``) cannot
run on H2: they are checked as SQL text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import oracledb
import pyarrow as pa
import pytest
from sqlglot import exp

from adapters.oracle.adapter import OracleAdapter
from adapters.oracle.dialect import OracleDialect
from adapters.sql.adapter import CasingMode
from connector.adapter import RequestContext
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.errors import InvalidRequest, SourceError, TableNotFound
from connector.protocol import Constraints, Identity, ListSchemasRequest, ListTablesRequest, TableName
from connector.protocol.constraints import (
    Bound,
    Constant,
    EquatableValueSet,
    FunctionCall,
    Marker,
    OrderByField,
    Range,
    SortDirection,
    SortedRangeSet,
    Variable,
)
from connector.protocol.messages import Split
from connector.scan import rows_of
from connector.service import FederationService
from tests.servers.h2 import H2
from tests.support.athena import Athena, in_process
from tests.support.oracle_plans import assert_parses
from tests.support.oracle_wire import decimal_array

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::DeprecationWarning:jaydebeapi")]
ID = Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/test")
CTX = RequestContext(ID, "ora", "q-1")
_BIND = re.compile(r"'(?:[^']|'')*'|:(\w+)")


class H2Cursor:
    """A DB-API cursor over H2 that accepts Oracle's named binds."""

    def __init__(self, h2: H2, charset: str = "AL32UTF8") -> None:
        self.h2, self.rows, self.arraysize, self.description = h2, [], 100, None
        self.charset = charset

    def execute(self, sql: str, params: Any = None, **_: Any) -> None:
        text, values = to_qmark(sql, params, self.charset)
        self.rows = self.h2.query(text, values)

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self.rows = self.rows, []
        return rows

    def fetchmany(self, n: int) -> list[tuple[Any, ...]]:
        rows, self.rows = self.rows[:n], self.rows[n:]
        return rows

    def close(self) -> None:
        self.rows = []


class H2Connection:
    def __init__(self, h2: H2, charset: str = "AL32UTF8") -> None:
        self.h2, self.charset = h2, charset
        self.fetches: list[dict[str, Any]] = []

    def cursor(self) -> H2Cursor:
        return H2Cursor(self.h2, self.charset)

    def ping(self) -> None:
        self.h2.query("SELECT 1 FROM DUAL")

    def close(self) -> None:
        return None

    def fetch_df_batches(self, statement: str, parameters: Any = None, size: int | None = None, *,
                         requested_schema: Any = None) -> Iterator[Any]:
        self.fetches.append({"sql": statement, "size": size})
        text, values = to_qmark(statement, parameters, self.charset)
        rows = self.h2.query(text, values)
        for start in range(0, len(rows), size or 100):
            chunk = rows[start:start + (size or 100)]
            arrays = [decimal_array([r[i] for r in chunk], f.type) if pa.types.is_decimal(f.type)
                      else pa.array([r[i] for r in chunk], type=f.type) for i, f in enumerate(requested_schema)]
            yield oracledb.from_arrow(pa.Table.from_arrays(arrays, schema=requested_schema))


def _in_charset(value: Any, charset: str) -> Any:
    """A bound string as the database stores it: characters its character set lacks become '¿' (as Oracle's
    conversion to, say, WE8MSWIN1252 does)."""
    codec = {"WE8MSWIN1252": "cp1252", "US7ASCII": "ascii"}.get(charset)
    if codec is None or not isinstance(value, str):
        return value
    return "".join(ch if ch.encode(codec, "ignore") else "¿" for ch in value)


def to_qmark(sql: str, params: Any, charset: str = "AL32UTF8") -> tuple[str, list[Any]]:
    values: list[Any] = []

    def replace(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return m.group(0)  # a string literal ('... HH24:MI:SS ...' is not a bind)
        values.append(_in_charset(params[m.group(1)], charset))
        return "?"

    return _BIND.sub(replace, sql), values


class H2OracleAdapter(OracleAdapter):
    """The real adapter; only the connection comes from H2, and ROWID is spelled ``_ROWID_`` there."""

    h2: H2
    charset = "AL32UTF8"
    version = "19.3.0.0.0"

    def connect(self) -> Any:
        self._session.setdefault("charset", self.charset)
        self._session.setdefault("version", self.version)
        return H2Connection(self.h2, self.charset)

    @property
    def dialect(self) -> OracleDialect:
        return OracleDialect(row_key=exp.column("_ROWID_"), charset=self.charset,
                             binary_string_order=self.charset == "AL32UTF8")


DICTIONARY = """
CREATE TABLE ALL_USERS (USERNAME VARCHAR2(128), ORACLE_MAINTAINED VARCHAR2(1));
CREATE TABLE ALL_SYNONYMS (OWNER VARCHAR2(128), SYNONYM_NAME VARCHAR2(128), TABLE_OWNER VARCHAR2(128),
  TABLE_NAME VARCHAR2(128), DB_LINK VARCHAR2(128));
CREATE TABLE ALL_TABLES (OWNER VARCHAR2(128), TABLE_NAME VARCHAR2(128), NESTED VARCHAR2(3), SECONDARY VARCHAR2(1),
  DROPPED VARCHAR2(3), IOT_TYPE VARCHAR2(12), NUM_ROWS NUMBER);
CREATE TABLE ALL_VIEWS (OWNER VARCHAR2(128), VIEW_NAME VARCHAR2(128));
CREATE TABLE ALL_TAB_COLUMNS (OWNER VARCHAR2(128), TABLE_NAME VARCHAR2(128), COLUMN_NAME VARCHAR2(128),
  DATA_TYPE VARCHAR2(128), DATA_PRECISION NUMBER, DATA_SCALE NUMBER, NULLABLE VARCHAR2(1),
  DATA_TYPE_OWNER VARCHAR2(128), COLUMN_ID NUMBER, COLLATION VARCHAR2(100));
CREATE TABLE ALL_TAB_PARTITIONS (TABLE_OWNER VARCHAR2(128), TABLE_NAME VARCHAR2(128), PARTITION_NAME VARCHAR2(128),
  PARTITION_POSITION NUMBER);
CREATE TABLE ALL_TAB_SUBPARTITIONS (TABLE_OWNER VARCHAR2(128), TABLE_NAME VARCHAR2(128),
  PARTITION_NAME VARCHAR2(128), SUBPARTITION_NAME VARCHAR2(128), SUBPARTITION_POSITION NUMBER);
CREATE SCHEMA "SALES";
CREATE SCHEMA "HR";
CREATE TABLE "SALES"."ORDERS" ("ID" NUMBER(10,0), "AMOUNT" NUMBER(12,2), "NOTE" VARCHAR2(40), "PLACED" DATE,
  "TS" TIMESTAMP(6), "TOTAL" NUMBER);
CREATE VIEW "SALES"."BIG_ORDERS" AS SELECT "ID", "AMOUNT" FROM "SALES"."ORDERS" WHERE "AMOUNT" >= 50;
CREATE TABLE "SALES"."MixedCase" ("Id" NUMBER(10,0));
CREATE TABLE "SALES"."EVENTS" ("ID" NUMBER(10,0));
CREATE TABLE "SALES"."READINGS" ("ID" NUMBER(10,0));
"""
TABLES = [("SALES", "ORDERS", 40), ("SALES", "MixedCase", 1), ("SALES", "EVENTS", 3), ("SALES", "READINGS", 2),
          ("SALES", "BIN$abc==$0", 0)]
COLUMNS = [
    ("SALES", "ORDERS", "ID", "NUMBER", 10, 0, "N", 1), ("SALES", "ORDERS", "AMOUNT", "NUMBER", 12, 2, "Y", 2),
    ("SALES", "ORDERS", "NOTE", "VARCHAR2", None, None, "Y", 3),
    ("SALES", "ORDERS", "PLACED", "DATE", None, None, "Y", 4),
    ("SALES", "ORDERS", "TS", "TIMESTAMP(6)", None, 6, "Y", 5),
    ("SALES", "ORDERS", "TOTAL", "NUMBER", None, None, "Y", 6),  # unconstrained: decimal(38, 10)
    ("SALES", "BIG_ORDERS", "ID", "NUMBER", 10, 0, "Y", 1), ("SALES", "BIG_ORDERS", "AMOUNT", "NUMBER", 12, 2, "Y", 2),
    ("SALES", "MixedCase", "Id", "NUMBER", 10, 0, "Y", 1), ("SALES", "EVENTS", "ID", "NUMBER", 10, 0, "Y", 1),
    ("SALES", "READINGS", "ID", "NUMBER", 10, 0, "Y", 1),
]
BASE = dt.datetime(2024, 6, 1, 9, 30)


@pytest.fixture
def oracle_h2(h2_oracle: H2) -> H2:
    for statement in DICTIONARY.split(";"):
        if statement.strip():
            h2_oracle.execute(statement)
    for user in ("HR", "SALES", "SYS"):
        h2_oracle.execute("INSERT INTO ALL_USERS VALUES (?, ?)", [user, "Y" if user == "SYS" else "N"])
    for owner, name, rows in TABLES:
        dropped = "YES" if name.startswith("BIN$") else "NO"
        h2_oracle.execute("INSERT INTO ALL_TABLES VALUES (?, ?, 'NO', 'N', ?, NULL, ?)", [owner, name, dropped, rows])
    h2_oracle.execute("INSERT INTO ALL_VIEWS VALUES ('SALES', 'BIG_ORDERS')")
    for row in COLUMNS:
        h2_oracle.execute("INSERT INTO ALL_TAB_COLUMNS VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                          [*row[:8], row[8] if len(row) > 8 else None])
    for i, p in enumerate(["P2023", "P2024"], 1):
        h2_oracle.execute("INSERT INTO ALL_TAB_PARTITIONS VALUES ('SALES', 'EVENTS', ?, ?)", [p, i])
        h2_oracle.execute("INSERT INTO ALL_TAB_PARTITIONS VALUES ('SALES', 'READINGS', ?, ?)", [p, i])
        for j, sub in enumerate(["EU", "US"], 1):
            h2_oracle.execute("INSERT INTO ALL_TAB_SUBPARTITIONS VALUES ('SALES', 'READINGS', ?, ?, ?)",
                              [p, f"{p}_{sub}", j])
    for i in range(40):
        h2_oracle.execute('INSERT INTO "SALES"."ORDERS" VALUES (?, ?, ?, ?, ?, ?)',
                          [i, Decimal(i * 5) / 2, None if i % 4 == 0 else f"note {i}", BASE + dt.timedelta(days=i),
                           BASE + dt.timedelta(microseconds=i * 300), Decimal(i) / 8 if i % 3 else None])
    return h2_oracle


def make_adapter(h2: H2, **env: str) -> H2OracleAdapter:
    ora = H2OracleAdapter(ConnectionSpec("oracle", "jdbc:oracle:thin:app/pw@//db.example:1521/svc", "ora"),
                          Settings(env=env))
    ora.h2 = h2
    return ora


def athena(ora: OracleAdapter, tmp_path: Path) -> Athena:
    service = FederationService(Settings(local_spill_dir=str(tmp_path)), adapters=lambda catalog: ora)
    return Athena(in_process(service), "ora")


def test_schemas_and_paged_tables_from_the_dictionary(oracle_h2: H2, tmp_path: Path) -> None:
    client = athena(make_adapter(oracle_h2), tmp_path)
    assert client.call(ListSchemasRequest(ID, "q", "ora")).schemas == ("hr", "sales", "sys")
    pages, token = [], None
    while True:
        page = client.call(ListTablesRequest(ID, "q", "ora", "sales", token, 2))
        pages.append([t.table for t in page.tables])
        token = page.next_token
        if token is None:
            break
    # tables and views, sorted in SQL, paged with OFFSET/FETCH; the recycle bin is left out
    assert pages == [["big_orders", "events"], ["mixedcase", "orders"], ["readings"]]


def test_types_and_rows_end_to_end(oracle_h2: H2, tmp_path: Path) -> None:
    ora = make_adapter(oracle_h2)
    client = athena(ora, tmp_path)
    name, definition = client.get_table("sales", "orders")
    schema = definition.schema.logical_schema()
    assert [(f.name, f.type) for f in schema] == [
        ("id", pa.int64()), ("amount", pa.decimal128(12, 2)), ("note", pa.string()), ("placed", pa.timestamp("ms")),
        ("ts", pa.timestamp("ms")), ("total", pa.decimal128(38, 10))]
    constraints = Constraints(
        summary={"amount": SortedRangeSet(pa.decimal128(12, 2), (Range(Marker(Decimal("20"), Bound.EXACTLY),
                                                                        Marker.above_all()),), False)},
        order_by=(OrderByField("ts", SortDirection.DESC_NULLS_LAST),), limit=3)
    result = client.scan_table(name, definition, constraints, ["id", "note", "ts", "total"])
    assert result.column("id").to_pylist() == [39, 38, 37]
    assert result.column("ts").to_pylist()[0] == BASE + dt.timedelta(microseconds=39 * 300 // 1000 * 1000)
    assert result.column("total").to_pylist() == [None, Decimal("4.75"), Decimal("4.625")]
    everything = client.scan_table(name, definition)
    assert everything.num_rows == 40
    assert everything.column("note").null_count == 10


def test_views_resolve_and_case_insensitive_search_finds_mixed_case(oracle_h2: H2, tmp_path: Path) -> None:
    ora = make_adapter(oracle_h2)
    client = athena(ora, tmp_path)
    name, definition = client.get_table("sales", "big_orders")
    assert client.scan_table(name, definition, columns=["id"]).num_rows == 20  # AMOUNT = 2.5 * ID >= 50
    with pytest.raises(TableNotFound):
        ora.get_table(CTX, TableName("sales", "mixedcase"))  # upper case by default: "MIXEDCASE" is not there
    insensitive = make_adapter(oracle_h2, casing_mode="case_insensitive_search")
    assert insensitive.casing is CasingMode.CASE_INSENSITIVE_SEARCH
    definition = insensitive.get_table(CTX, TableName("sales", "mixedcase"))
    assert definition.schema.names == ["id"]
    assert insensitive.get_table(CTX, TableName("sales", "big_orders")).schema.names == ["id", "amount"]


def test_partition_and_subpartition_splits_are_named_quoted_and_checked(oracle_h2: H2) -> None:
    ora = make_adapter(oracle_h2)
    partitions = ora.get_partitions(CTX, TableName("sales", "events"), None, Constraints())  # type: ignore[arg-type]
    splits = ora.get_splits(CTX, TableName("sales", "events"), partitions, Constraints(), None).splits
    assert [dict(s) for s in splits] == [{"partition": "P2023"}, {"partition": "P2024"}]
    subsplits = ora.get_splits(CTX, TableName("sales", "readings"), partitions, Constraints(), None).splits
    assert [s["subpartition"] for s in subsplits] == ["P2023_EU", "P2023_US", "P2024_EU", "P2024_US"]
    definition = ora.get_table(CTX, TableName("sales", "readings"))
    sql = ora.describe_split(CTX, TableName("sales", "readings"), definition.schema,
                             Split(None, None, dict(subsplits[1])), Constraints())
    assert sql.startswith('SELECT "ID" FROM "SALES"."READINGS" SUBPARTITION("P2023_US")')
    assert_parses(sql.splitlines()[0])
    with pytest.raises(InvalidRequest, match="has no partition 'P1999'"):
        ora.describe_split(CTX, TableName("sales", "events"), definition.schema,
                           Split(None, None, {"partition": "P1999"}), Constraints())


def test_big_tables_read_in_hash_buckets_disjoint_and_complete(oracle_h2: H2, tmp_path: Path) -> None:
    ora = make_adapter(oracle_h2, oracle_splits="4", oracle_split_min_rows="10")
    client = athena(ora, tmp_path)
    name, definition = client.get_table("sales", "orders")
    splits = ora.get_splits(CTX, name, None, Constraints(), None).splits  # type: ignore[arg-type]
    assert [s["bucket"] for s in splits] == ["0", "1", "2", "3"]
    ids = client.scan_table(name, definition, columns=["id"]).column("id").to_pylist()
    assert sorted(ids) == list(range(40))  # four splits, every row once
    small = make_adapter(oracle_h2, oracle_splits="4", oracle_split_min_rows="41")
    assert len(small.get_splits(CTX, name, None, Constraints(), None).splits) == 1  # type: ignore[arg-type]


def test_rows_arrive_through_fetch_df_batches_in_bounded_batches(oracle_h2: H2) -> None:
    ora = make_adapter(oracle_h2, oracle_fetch_rows="16")
    definition = ora.get_table(CTX, TableName("sales", "orders"))
    scan = ora.read_split(CTX, TableName("sales", "orders"), definition.schema, Split(None, None, {}), Constraints())
    batches: Sequence[pa.RecordBatch] = list(scan.batches)
    assert [b.num_rows for b in batches] == [16, 16, 8]
    assert pa.Table.from_batches(batches).schema == pa.schema(
        [pa.field(f.name, f.type) for f in definition.schema])


# ------------------------------------------------------------------------------------------ issue 17: as Oracle is

MORE = """
CREATE TABLE "SALES"."RATIOS" ("ID" NUMBER(10,0), "R" NUMBER);
CREATE TABLE "SALES"."PEOPLE" ("ID" NUMBER(10,0), "NAME" VARCHAR_IGNORECASE(20), "CODE" VARCHAR2(20));
"""
#: NUMBER without precision holds up to 40 digits: 29-38 integer digits, more than 10 decimals.
RATIOS = [Decimal("1234.5"), Decimal("2E+28"), Decimal("12345678901234567890123456789012345678"),
          Decimal("1.00000000001"), Decimal("0.333333333333333333333333333333333333"), None,
          Decimal("1234567890123456789012345678.123456789")]
PEOPLE = [(1, "bob", "x"), (2, "BOB", "Ω"), (3, "alice", "¿"), (4, "Bob", "y")]


@pytest.fixture
def oracle_more(oracle_h2: H2) -> H2:
    for statement in MORE.split(";"):
        if statement.strip():
            oracle_h2.execute(statement)
    for name in ("RATIOS", "PEOPLE"):
        oracle_h2.execute("INSERT INTO ALL_TABLES VALUES ('SALES', ?, 'NO', 'N', 'NO', NULL, 10)", [name])
    for row in [("SALES", "RATIOS", "ID", "NUMBER", 10, 0, "N", 1),
                ("SALES", "RATIOS", "R", "NUMBER", None, None, "Y", 2),
                ("SALES", "PEOPLE", "ID", "NUMBER", 10, 0, "N", 1),
                ("SALES", "PEOPLE", "NAME", "VARCHAR2", None, None, "Y", 2, "BINARY_CI"),
                ("SALES", "PEOPLE", "CODE", "VARCHAR2", None, None, "Y", 3, "USING_NLS_COMP")]:
        oracle_h2.execute("INSERT INTO ALL_TAB_COLUMNS VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                          [*row[:8], row[8] if len(row) > 8 else None])
    for i, r in enumerate(RATIOS):
        oracle_h2.execute('INSERT INTO "SALES"."RATIOS" VALUES (?, ?)', [i, r])
    for row in PEOPLE:
        oracle_h2.execute('INSERT INTO "SALES"."PEOPLE" VALUES (?, ?, ?)', list(row))
    for synonym in [("HR", "ORDERS_SYN", "SALES", "ORDERS", None), ("HR", "CHAIN", "HR", "ORDERS_SYN", None),
                    ("HR", "REMOTE", "SALES", "ORDERS", "FAR.EXAMPLE"),
                    ("PUBLIC", "PUB_ORDERS", "SALES", "ORDERS", None), ("PUBLIC", "DUAL", "SYS", "DUAL", None)]:
        oracle_h2.execute("INSERT INTO ALL_SYNONYMS VALUES (?, ?, ?, ?, ?)", list(synonym))
    return oracle_h2


def _ids(ora: OracleAdapter, table: str, constraints: Constraints | None = None,
         columns: Sequence[str] = ("id",)) -> list[Any]:
    definition = ora.get_table(CTX, TableName("sales", table))
    schema = pa.schema([definition.schema.field(c) for c in columns], metadata=definition.schema.metadata)
    scan = ora.read_split(CTX, TableName("sales", table), schema, Split(None, None, {}), constraints or Constraints())
    return [r for b in rows_of(scan, schema) for r in b.to_pylist()]


def test_number_without_precision_is_exact_or_a_clear_error(oracle_more: H2) -> None:
    """Item 5. The driver's Arrow conversion of decimal(38,10) wraps 2E28 to -1.40E28 silently and fails the query
    (DPY-4042) on 1.00000000001; the column is read as Oracle's text instead and converted exactly."""
    ora = make_adapter(oracle_more)
    assert ora.get_table(CTX, TableName("sales", "ratios")).schema.field("r").type == pa.decimal128(38, 10)
    one = Constraints(summary={"id": SortedRangeSet(pa.int64(), (Range.equal(0),), False)})
    assert _ids(ora, "ratios", one, ("id", "r")) == [{"id": 0, "r": Decimal("1234.5")}]
    fits = Constraints(summary={"id": SortedRangeSet(pa.int64(), (Range.equal(5), Range.equal(6)), False)})
    assert sorted(_ids(ora, "ratios", fits, ("id", "r")), key=lambda r: r["id"]) == [
        {"id": 5, "r": None}, {"id": 6, "r": Decimal("1234567890123456789012345678.123456789")}]
    for i, reason in ((1, "more than 28 integer digits"), (2, "more than 28 integer digits"),
                      (3, "more than 10 decimal places"), (4, "more than 10 decimal places")):
        only = Constraints(summary={"id": SortedRangeSet(pa.int64(), (Range.equal(i),), False)})
        with pytest.raises(SourceError, match=f"column 'r' is an Oracle NUMBER without precision.*{reason}.*"
                                              f"oracle_unconstrained_number=varchar"):
            _ids(ora, "ratios", only, ("id", "r"))

    text = make_adapter(oracle_more, oracle_unconstrained_number="varchar")
    assert text.get_table(CTX, TableName("sales", "ratios")).schema.field("r").type == pa.string()
    rows = sorted(_ids(text, "ratios", None, ("id", "r")), key=lambda r: r["id"])
    assert [r["r"] for r in rows] == [None if v is None else format(v, "f") for v in RATIOS]
    # Text does not compare as numbers do: a filter on it is the connector's.
    r = Constraints(summary={"r": SortedRangeSet(pa.string(), (Range.equal("1234.5"),), False)})
    definition = text.get_table(CTX, TableName("sales", "ratios"))
    sql = text.describe_split(CTX, TableName("sales", "ratios"), definition.schema, Split(None, None, {}), r)
    assert "WHERE" not in sql.splitlines()[0] and "applied in the connector" in sql
    assert "TO_CHAR(\"R\", 'TM9', 'NLS_NUMERIC_CHARACTERS=''.,''')" in sql
    assert_parses(sql.splitlines()[0])


def test_column_collation_keeps_comparisons_in_the_connector(oracle_more: H2) -> None:
    """Item 6. NAME is COLLATE BINARY_CI (H2: VARCHAR_IGNORECASE): a pushed NAME = 'bob' also returns BOB and
    Bob, and ORDER BY NAME puts 'alice' first where Athena's binary order puts 'BOB' first."""
    ora = make_adapter(oracle_more)
    string = pa.string()
    bob = Constraints(summary={"name": SortedRangeSet(string, (Range.equal("bob"),), False)})
    assert [r["id"] for r in _ids(ora, "people", bob)] == [1]
    listed = Constraints(summary={"name": EquatableValueSet(string, ("BOB", "Bob"), True, False)})
    assert sorted(r["id"] for r in _ids(ora, "people", listed)) == [2, 4]
    like = Constraints(expression=(FunctionCall(pa.bool_(), "$like_pattern", (
        Variable("name", string), Constant(string, ("b%",)))),))
    assert [r["id"] for r in _ids(ora, "people", like)] == [1]
    first = Constraints(order_by=(OrderByField("name", SortDirection.ASC_NULLS_LAST),), limit=1)
    assert [r["name"] for r in _ids(ora, "people", first, ("name",))] == ["BOB"]
    # CODE compares as the session does (USING_NLS_COMP, NLS_COMP=BINARY): still pushed.
    definition = ora.get_table(CTX, TableName("sales", "people"))
    code = Constraints(summary={"code": SortedRangeSet(string, (Range.equal("x"),), False)})
    sql = ora.describe_split(CTX, TableName("sales", "people"), definition.schema, Split(None, None, {}), code)
    assert 'WHERE "CODE" = :p1' in sql


def test_values_the_database_charset_cannot_hold_are_not_bound(oracle_more: H2) -> None:
    """Item 9. On a WE8MSWIN1252 database 'Ω' is bound as '¿', and CODE = 'Ω' would return the '¿' row."""
    class Latin(H2OracleAdapter):
        charset = "WE8MSWIN1252"

    ora = Latin(ConnectionSpec("oracle", "jdbc:oracle:thin:app/pw@//db.example:1521/svc", "ora"), Settings(env={}))
    ora.h2 = oracle_more
    string = pa.string()
    omega = Constraints(summary={"code": SortedRangeSet(string, (Range.equal("Ω"),), False)})
    assert [r["id"] for r in _ids(ora, "people", omega)] == [2]
    inverted = Constraints(summary={"code": SortedRangeSet(string, (Range.equal("¿"),), False)})
    assert [r["id"] for r in _ids(ora, "people", inverted)] == [3]  # a character the charset holds: pushed
    definition = ora.get_table(CTX, TableName("sales", "people"))
    sql = ora.describe_split(CTX, TableName("sales", "people"), definition.schema, Split(None, None, {}), omega)
    assert "WHERE" not in sql.splitlines()[0]


def test_synonyms_resolve_as_tables_of_their_owner(oracle_more: H2, tmp_path: Path) -> None:
    """Item 8. HR.ORDERS_SYN (private) and PUBLIC.PUB_ORDERS name SALES.ORDERS; HR.CHAIN names the synonym.
    Synonyms over a database link and PUBLIC synonyms for Oracle's own objects are not listed."""
    ora = make_adapter(oracle_more)
    client = athena(ora, tmp_path)
    assert client.call(ListSchemasRequest(ID, "q", "ora")).schemas == ("hr", "public", "sales", "sys")
    hr = client.call(ListTablesRequest(ID, "q", "ora", "hr", None, 50))
    assert [t.table for t in hr.tables] == ["chain", "orders_syn"]
    public = client.call(ListTablesRequest(ID, "q", "ora", "public", None, 50))
    assert [t.table for t in public.tables] == ["pub_orders"]
    for schema, table in (("hr", "orders_syn"), ("hr", "chain"), ("public", "pub_orders")):
        name, definition = client.get_table(schema, table)
        assert definition.schema.logical_schema().names == ["id", "amount", "note", "placed", "ts", "total"]
        assert client.scan_table(name, definition, columns=["id"]).num_rows == 40
    with pytest.raises(TableNotFound):
        ora.get_table(CTX, TableName("hr", "remote"))
