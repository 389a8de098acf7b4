"""``afq query`` modes and outputs: --verify, --explain, --trace, formats, progress, spilled answers, invoke."""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import io
import json
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from connector.cli import main
from connector.errors import ATHENA_CONNECTOR_EXCEPTION
from connector.local.output import write_csv, write_jsonl, write_table
from connector.local.progress import Progress

HANDLERS = "tests.local.test_broken_handlers"
TOP = "SELECT id, amount FROM demo.main.orders WHERE amount > 990 AND status = 'shipped' ORDER BY amount DESC LIMIT 3"


@pytest.fixture
def demo(lambda_env: Callable[..., None], demo_db: Path) -> Path:
    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}", sqlite_rows_per_split="2000")
    return demo_db


def afq(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


# ------------------------------------------------------------------------------------------ --verify


@pytest.mark.parametrize(("handler", "sql", "message"), [
    ("ignore_filters", "SELECT id FROM demo.main.orders WHERE amount > 990 AND status = 'shipped'",
     "returned that fail the pushed predicates"),
    ("ignore_limit", TOP, "the top-3 rows by amount are not the ones returned"),
    ("ignore_limit", "SELECT id FROM demo.main.orders WHERE amount > 100 LIMIT 2", "for a pushed LIMIT 2"),
    ("drop_a_row", "SELECT id FROM demo.main.orders WHERE customer_id = 7", "missed that satisfy"),
])
def test_verify_finds_what_a_broken_connector_got_wrong(capsys: pytest.CaptureFixture[str], demo: Path,
                                                        handler: str, sql: str, message: str) -> None:
    code, out, err = afq(capsys, "query", "--quiet", "--verify", "--handler", f"{HANDLERS}.{handler}", sql)
    assert code == 1
    assert "FINDING" in err and message in err, err
    assert out  # the (wrong) result is still printed, as Athena would have returned it


def test_verify_is_quiet_about_a_correct_connector(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    code, _, err = afq(capsys, "query", "--quiet", "--verify", TOP)
    assert code == 0
    assert "every pushed predicate holds on every split" in err and "FINDING" not in err


def test_without_verify_a_broken_connector_gives_wrong_rows_as_athena_would(
        capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    sql = "SELECT count(*) AS n FROM demo.main.orders WHERE amount > 990"
    _, good, _ = afq(capsys, "query", "--quiet", "--format", "jsonl", sql)
    _, bad, _ = afq(capsys, "query", "--quiet", "--format", "jsonl", "--handler", f"{HANDLERS}.ignore_filters", sql)
    assert jsonl(bad)[0]["n"] == 5000 > jsonl(good)[0]["n"]


# ------------------------------------------------------------------------------------------ --explain


def test_explain_shows_constraints_and_source_sql_without_reading(capsys: pytest.CaptureFixture[str], demo: Path,
                                                                  tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    code, out, _ = afq(capsys, "query", "--explain", "--trace", str(trace),
                       "SELECT count(*) FROM demo.main.orders WHERE amount > 990 AND (note IS NULL OR customer_id < 5) "
                       "AND lower(status) = 'shipped'")
    assert code == 0
    for expected in ("demo.main.orders AS orders", "summary (value sets):", "amount > 990.00",
                     "expression: $or($is_null(note), $less_than(customer_id, 5))",
                     "applied by the engine: LOWER(\"orders\".\"status\") = 'shipped'", "columns read: status",
                     "splits: 3", "split 1 (rowid_from=1, rowid_to=1668):",
                     'SELECT "status" FROM "main"."orders" WHERE rowid >= ? AND rowid < ? AND "amount" > ? AND '
                     '(("note" IS NULL) OR ("customer_id" < ?))',
                     "params: [1, 1668, 990.0, 5]",
                     "engine (DuckDB) SQL:"):
        assert expected in out, out
    kinds = [json.loads(line)["message"]["@type"] for line in trace.read_text().splitlines()]
    assert "GetSplitsRequest" in kinds and "ReadRecordsRequest" not in kinds


# ------------------------------------------------------------------------------------------ --trace


def test_trace_records_every_exchange_with_keys_redacted(capsys: pytest.CaptureFixture[str], demo: Path,
                                                         tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    code, _, _ = afq(capsys, "query", "--quiet", "--trace", str(trace), TOP)
    assert code == 0
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    kinds = [(r["direction"], r["message"]["@type"]) for r in records]
    for request, response in [("PingRequest", "PingResponse"),
                              ("GetDataSourceCapabilitiesRequest", "GetDataSourceCapabilitiesResponse"),
                              ("GetTableRequest", "GetTableResponse"),
                              ("GetTableLayoutRequest", "GetTableLayoutResponse"),
                              ("GetSplitsRequest", "GetSplitsResponse"),
                              ("ReadRecordsRequest", "ReadRecordsResponse")]:
        assert ("request", request) in kinds and ("response", response) in kinds
    assert kinds.count(("request", "ReadRecordsRequest")) == 3  # every split
    text = trace.read_text()
    keys = []

    def walk(value: Any, parent: str = "") -> None:
        if isinstance(value, dict):
            if parent == "encryptionKey":
                keys.append(value)
            if value.get("@type") == "S3SpillLocation":
                assert value["key"] == "<redacted>"
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, parent)

    for r in records:
        walk(r["message"])
    assert keys and all(k == {"key": "<redacted>", "nonce": "<redacted>"} for k in keys)
    assert '"seq":1,' in text and all("time" in r for r in records)


def test_trace_of_a_function_error(capsys: pytest.CaptureFixture[str], demo: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    code, _, err = afq(capsys, "query", "--quiet", "--trace", str(trace), "SELECT * FROM demo.main.missing")
    assert code == 2 and "TableNotFound: table main.missing not found" in err
    last = json.loads(trace.read_text().splitlines()[-1])
    assert last["direction"] == "error" and last["message"]["errorType"] == ATHENA_CONNECTOR_EXCEPTION


# ------------------------------------------------------------------------------------------ protocol versions


def test_an_older_connector_gets_older_requests(capsys: pytest.CaptureFixture[str], demo: Path,
                                                tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    code, out, _ = afq(capsys, "query", "--quiet", "--format", "jsonl", "--trace", str(trace),
                       "--handler", f"{HANDLERS}.serde_v3", TOP)
    assert code == 0 and len(jsonl(out)) == 3
    requests = [json.loads(line)["message"] for line in trace.read_text().splitlines()
                if json.loads(line)["direction"] == "request"]
    assert "GetDataSourceCapabilitiesRequest" not in [r["@type"] for r in requests]
    reads = [r for r in requests if r["@type"] == "ReadRecordsRequest"]
    assert reads and all(list(r["constraints"]) == ["summary"] for r in reads)  # v3 shape: no expression/limit
    assert all("queryPassthroughArguments" not in r for r in requests if r["@type"] == "GetTableRequest")


def test_athena_at_serde_v5_sends_no_query_plan(capsys: pytest.CaptureFixture[str], demo: Path,
                                                tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    code, _, _ = afq(capsys, "query", "--quiet", "--serde-version", "5", "--trace", str(trace), TOP)
    assert code == 0
    reads = [json.loads(line)["message"] for line in trace.read_text().splitlines()
             if json.loads(line)["message"]["@type"] == "ReadRecordsRequest"]
    assert list(reads[0]["constraints"]) == ["summary", "expression", "orderByClause", "limit",
                                             "queryPassthroughArguments"]
    assert reads[0]["constraints"]["limit"] == 3


# ------------------------------------------------------------------------------------------ spilled answers


def test_spilled_answers_are_read_and_decrypted(capsys: pytest.CaptureFixture[str], demo: Path,
                                                fake_spill_reader: Callable[[bool], None]) -> None:
    """Through the stand-in spill path (tests.local.test_broken_handlers) until the spill package is merged."""
    sql = "SELECT status, count(*) AS n, sum(amount) AS total FROM demo.main.orders GROUP BY status ORDER BY status"
    _, inline, _ = afq(capsys, "query", "--quiet", "--format", "jsonl", sql)
    code, spilled, err = afq(capsys, "query", "--format", "jsonl", "--verify", "--handler", f"{HANDLERS}.fake_spill",
                             sql)
    assert code == 0, err
    assert spilled == inline


def test_a_spilled_answer_without_a_reader_is_a_clear_error(capsys: pytest.CaptureFixture[str], demo: Path,
                                                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "spill.reader", None)
    monkeypatch.setenv("AFQ_TEST_FAKE_SPILL_DIR", str(tmp_path))
    code, _, err = afq(capsys, "query", "--quiet", "--handler", f"{HANDLERS}.fake_spill",
                       "SELECT count(*) FROM demo.main.orders")
    assert code == 2
    assert "spilled 1 block(s) but this installation cannot read spilled blocks" in err


@pytest.mark.skipif(importlib.util.find_spec("spill.reader") is None, reason="the spill package is not merged yet")
def test_the_real_spill_path(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    sql = "SELECT id, amount, ordered_at, note FROM demo.main.orders WHERE id % 3 = 0"
    _, inline, _ = afq(capsys, "query", "--quiet", "--format", "jsonl", sql)
    code, spilled, err = afq(capsys, "query", "--quiet", "--format", "jsonl", "--max-inline-block-size", "1", sql)
    assert code == 0, err
    assert sorted(spilled.splitlines()) == sorted(inline.splitlines())


# ------------------------------------------------------------------------------------------ formats


def every_type() -> pa.Table:
    ts = dt.datetime(2024, 5, 6, 7, 8, 9, 123000)
    return pa.table({
        "i8": pa.array([1, None], pa.int8()), "i64": pa.array([2**62, -1], pa.int64()),
        "f32": pa.array([1.5, float("nan")], pa.float32()), "f64": pa.array([float("inf"), -0.25], pa.float64()),
        "dec": pa.array([Decimal("12.30"), Decimal("-0.01")], pa.decimal128(10, 2)),
        "s": pa.array(["a\"b", None], pa.string()), "bin": pa.array([b"\x00\xff", b""], pa.binary()),
        "d": pa.array([dt.date(2024, 2, 29), None], pa.date32()),
        "ts": pa.array([ts, dt.datetime(2024, 1, 1)], pa.timestamp("ms")),
        "tz": pa.array([dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC), None], pa.timestamp("ms", "UTC")),
        "b": pa.array([True, False], pa.bool_()),
        "arr": pa.array([[1, 2], []], pa.list_(pa.int32())),
        "st": pa.array([{"x": 1, "y": "z"}, None], pa.struct([("x", pa.int32()), ("y", pa.string())])),
        "m": pa.array([[("k", 1)], None], pa.map_(pa.string(), pa.int64())),
    })


def test_jsonl_encoding_follows_the_contract() -> None:
    stream = io.StringIO()
    write_jsonl(every_type(), stream)
    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert first == {"i8": 1, "i64": 2**62, "f32": 1.5, "f64": "Infinity", "dec": "12.30", "s": 'a"b',
                     "bin": base64.b64encode(b"\x00\xff").decode(), "d": "2024-02-29", "ts": "2024-05-06T07:08:09.123",
                     "tz": "2024-01-01T12:00:00+00:00", "b": True, "arr": [1, 2], "st": {"x": 1, "y": "z"},
                     "m": {"k": 1}}
    assert second == {"i8": None, "i64": -1, "f32": "NaN", "f64": -0.25, "dec": "-0.01", "s": None, "bin": "",
                      "d": None, "ts": "2024-01-01T00:00:00", "tz": None, "b": False, "arr": [], "st": None, "m": None}


def test_csv_and_table_formats() -> None:
    table = pa.table({"id": pa.array([1, 22, 3], pa.int64()), "name": pa.array(["x,y", None, ""]),
                      "at": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5), None, None], pa.timestamp("ms"))})
    out = io.StringIO()
    write_csv(table, out)
    # As Athena writes results: every value quoted, NULL an empty field - so '' ("") and NULL differ.
    assert out.getvalue() == '"id","name","at"\n"1","x,y","2024-01-02 03:04:05"\n"22",,\n"3","",\n'
    out = io.StringIO()
    write_table(table, out)
    assert out.getvalue().splitlines() == [
        "id | name | at", "---+------+--------------------", " 1 | x,y  | 2024-01-02 03:04:05",
        "22 | NULL | NULL", " 3 |      | NULL", "(3 rows)"]


def test_every_demo_type_through_the_cli(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    code, out, _ = afq(capsys, "query", "--quiet", "--format", "jsonl",
                       "SELECT o.id, o.amount, o.ordered_at, c.signup_date, c.vip, o.note FROM demo.main.orders o "
                       "JOIN demo.main.customers c ON c.id = o.customer_id WHERE o.id = 5")
    assert code == 0
    (row,) = jsonl(out)
    assert isinstance(row["id"], int) and isinstance(row["amount"], str) and "." in row["amount"]
    assert dt.datetime.fromisoformat(row["ordered_at"]) and "T" in row["ordered_at"]
    assert dt.date.fromisoformat(row["signup_date"]) and isinstance(row["vip"], bool)


# ------------------------------------------------------------------------------------------ progress


def test_progress_reports_long_scans_only() -> None:
    stream = io.StringIO()
    progress = Progress(stream, delay=0, interval=60, enabled=True)
    progress.add_splits(2)
    progress.split_done(10, 1, nbytes=2_500_000)
    progress.split_done(5)
    progress.rows_written(15)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("afq: 1/2 splits read, 10 rows (2.5 MB), 1 spilled block (")
    assert lines[-1].startswith("afq: 2/2 splits read, 15 rows (2.5 MB), 1 spilled block, 15 rows written (")
    assert len(lines) == 3  # one line per event, the summary once (not the last line again)
    quiet = io.StringIO()
    fast = Progress(quiet)  # off a terminal, progress is off unless asked for
    fast.add_splits(1)
    fast.split_done(3)
    fast.finish()
    assert quiet.getvalue() == ""


# ------------------------------------------------------------------------------------------ invoke


def test_invoke_sends_one_raw_event(capsys: pytest.CaptureFixture[str], demo: Path, tmp_path: Path) -> None:
    from connector.protocol import Identity, PingRequest

    event = tmp_path / "ping.json"
    event.write_text(json.dumps(PingRequest(Identity(), "demo", "q1").to_wire()))
    code, out, _ = afq(capsys, "invoke", str(event), "--pretty")
    assert code == 0
    response = json.loads(out)
    assert list(response) == ["@type", "catalogName", "queryId", "sourceType", "capabilities", "serDeVersion"]
    assert response["sourceType"] == "sqlite"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"@type": "NoSuchRequest"}))
    code, out, _ = afq(capsys, "invoke", str(bad))
    assert code == 2 and json.loads(out)["errorType"] == ATHENA_CONNECTOR_EXCEPTION
    bad.write_text("{not json")
    code, _, err = afq(capsys, "invoke", str(bad))
    assert code == 2 and "is not JSON" in err


def test_every_page_of_splits_is_read(capsys: pytest.CaptureFixture[str], demo: Path, tmp_path: Path) -> None:
    sql = "SELECT count(*) AS n, sum(amount) AS total FROM demo.main.orders WHERE amount > 100"
    _, expected, _ = afq(capsys, "query", "--quiet", "--format", "jsonl", sql)
    trace = tmp_path / "trace.jsonl"
    code, out, err = afq(capsys, "query", "--quiet", "--format", "jsonl", "--verify", "--trace", str(trace),
                         "--handler", f"{HANDLERS}.paged_splits", sql)
    assert code == 0, err
    assert out == expected
    requests = [json.loads(line)["message"] for line in trace.read_text().splitlines()
                if json.loads(line)["direction"] == "request"]
    tokens = [r["continuationToken"] for r in requests if r["@type"] == "GetSplitsRequest"]
    assert tokens == [None, "page-1", "page-2"]
    code, out, _ = afq(capsys, "validate", "--schema", "main", "--table", "orders", "--skip", "spill",
                       "--handler", f"{HANDLERS}.paged_splits")
    assert code == 0 and "ok: GetSplits main.orders: 3 page(s), 3 split(s)" in out
