"""``afq`` as people run it: the real console script in a subprocess, checked by its output and exit status.

Errors are one line on stderr and exit 2; ``--debug`` / ``AFQ_DEBUG=1`` show the traceback with the adapter's
frames; SQL errors read like Athena's; progress appears on a terminal (or with ``--progress``) and is printed
once; exports stream through Arrow's writers with NULL distinct from ''; tables align CJK and emoji; catalog
defaults agree across subcommands; traces can be shown and replayed. Expected rows come from SQLite itself.
"""

from __future__ import annotations

import csv
import json
import os
import pty
import re
import select
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connector.errors import ATHENA_CONNECTOR_EXCEPTION
from tests.docs.test_writing_an_adapter import install_as_package, published_adapter_code

REPO = Path(__file__).resolve().parents[2]
AFQ = str(Path(sys.executable).with_name("afq"))
#: Variables of the connector and of afq itself: each test sets the ones it means.
_OWN = re.compile(r"^(default|.*_connection_string|AFQ_.*|access_policy|sqlite_rows_per_split|spill_.*|AWS_.*)$")

Run = Callable[..., subprocess.CompletedProcess[str]]


def base_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _OWN.match(k)}
    env.update({"PYTHONPATH": str(REPO), "AFQ_LOCAL_SPILL_DIR": str(tmp / "spill"), "LC_ALL": "C.UTF-8"})
    env.update(extra)
    return env


@pytest.fixture
def shop(demo_db: Path, tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path, shop_connection_string=f"sqlite://jdbc:sqlite:{demo_db}")


@pytest.fixture
def afq(tmp_path: Path) -> Run:
    def run(*args: str, env: Mapping[str, str] | None = None, stdin: str | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([AFQ, *args], env=dict(env) if env is not None else base_env(tmp_path),
                              input=stdin, capture_output=True, text=True, timeout=120, check=False,
                              cwd=cwd or tmp_path)
    return run


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("afq: ") and "Traceback" not in result.stderr
    return lines[0]


# ------------------------------------------------------------------------------------------ errors


def test_a_connector_error_is_one_athena_style_line(afq: Run, shop: dict[str, str]) -> None:
    line = one_error_line(afq("query", "SELECT id FROM shop.main.nope", env=shop))
    assert line.startswith("afq: TABLE_NOT_FOUND: line 1:16: Table 'shop.main.nope' does not exist")
    assert "TableNotFound: table main.nope not found" in line
    assert "LambdaFunctionError" not in line and "GetTableRequest failed" not in line


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT id FROM shop.main.orders WHERE", "afq: SYNTAX_ERROR: line 1:38: mismatched input '<EOF>' after 'WHERE'. "
                                              "Expecting: an expression"),
    ("SELECT id FROM shop.main.orders\nWHERE (id = 1", "afq: SYNTAX_ERROR: line 2:14: mismatched input '<EOF>'. "
                                                    "Expecting: ')'"),
    ("SELECT nope FROM shop.main.orders", "afq: COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"),
    ("SELECT o.id FROM shop.main.orders o\n  WHERE o.wrong > 1", "afq: COLUMN_NOT_FOUND: line 2:11: Column 'wrong' "
                                                                 "cannot be resolved"),
    ("SELECT * FROM orders", "afq: SYNTAX_ERROR: line 1:15: table 'orders' needs a schema and a catalog"),
])
def test_sql_errors_read_like_athenas(afq: Run, shop: dict[str, str], sql: str, expected: str) -> None:
    line = one_error_line(afq("query", sql, env=shop))
    assert line.startswith(expected), line
    assert "sqlglot" not in line and "<class" not in line and "Required keyword" not in line


def test_debug_points_at_the_sql(afq: Run, shop: dict[str, str]) -> None:
    result = afq("query", "--debug", "SELECT id FROM shop.main.orders WHERE id = (1", env=shop)
    assert result.returncode == 2
    assert "  SELECT id FROM shop.main.orders WHERE id = (1\n" + " " * 47 + "^" in result.stderr


def buggy_adapter_site(tmp_path: Path, data: Path) -> tuple[Path, int]:
    """The documented CSV adapter, installed with its entry point, with a typo in ``read_split``."""
    site = tmp_path / "site"
    site.mkdir()
    install_as_package(site)
    code = published_adapter_code()
    assert "        reader = self._reader(table)\n" in code
    buggy = code.replace("        reader = self._reader(table)\n", "        reader = self._reader(tabel)\n", 1)
    (site / "afq_csvdir.py").write_text(buggy)
    line = buggy.splitlines().index("        reader = self._reader(tabel)") + 1
    (data / "sales").mkdir(parents=True)
    (data / "sales" / "orders.csv").write_text("id,amount\n1,2.5\n")
    return site, line


def test_an_adapter_bug_names_its_file_and_line_and_debug_shows_its_frames(afq: Run, tmp_path: Path) -> None:
    site, line = buggy_adapter_site(tmp_path, tmp_path / "data")
    env = base_env(tmp_path, default=f"csvdir://{tmp_path / 'data'}")
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(REPO)])
    sql = "SELECT * FROM c.sales.orders"
    error = one_error_line(afq("query", sql, env=env))
    assert "failed answering ReadRecords for c.sales.orders: NameError: name 'tabel' is not defined" in error
    assert f"(raised at {site / 'afq_csvdir.py'}:{line} in read_split)" in error or \
        f"afq_csvdir.py:{line} in read_split" in error, error
    assert error.endswith("run with --debug for the full traceback")
    for debug in (["--debug"], []):
        result = afq("query", *debug, sql, env={**env, **({} if debug else {"AFQ_DEBUG": "1"})})
        assert result.returncode == 2
        assert "Traceback (most recent call last)" in result.stderr
        assert f'afq_csvdir.py", line {line}, in read_split' in result.stderr  # the adapter's own frame
        assert result.stderr.splitlines()[-1].startswith("afq: the connector (in-process handler) failed")


@pytest.mark.slow
def test_an_adapter_bug_under_the_lambda_runtime_names_its_line_too(afq: Run, tmp_path: Path) -> None:
    site, line = buggy_adapter_site(tmp_path, tmp_path / "data")
    env = base_env(tmp_path, default=f"csvdir://{tmp_path / 'data'}")
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(REPO)])
    result = afq("query", "--runtime", "--workers", "1", "SELECT * FROM c.sales.orders", env=env)
    error = one_error_line(result)
    assert "under awslambdaric)" in error and f"afq_csvdir.py:{line} in read_split" in error
    result = afq("query", "--runtime", "--workers", "1", "--debug", "SELECT * FROM c.sales.orders", env=env)
    assert f'afq_csvdir.py", line {line}, in read_split' in result.stderr  # from Lambda's stackTrace


@pytest.mark.parametrize(("args", "expected"), [
    (["--trace", "/nonexistent-dir/t.jsonl"],
     "afq: cannot write the trace file /nonexistent-dir/t.jsonl: No such file"),
    (["--as-tag", "bad"], "afq: --as-tag 'bad' must look like key=value"),
    (["--output", "/nonexistent-dir/out.csv"], "afq: cannot write /nonexistent-dir/out.csv: No such file"),
])
def test_bad_options_are_one_line_and_exit_2(afq: Run, shop: dict[str, str], args: list[str], expected: str) -> None:
    assert one_error_line(afq("query", *args, "SELECT 1 AS one", env=shop)).startswith(expected)


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_parallelism_must_be_positive(afq: Run, shop: dict[str, str], value: str) -> None:
    result = afq("query", "--parallelism", value, "SELECT 1 AS one", env=shop)
    assert result.returncode == 2 and "argument --parallelism:" in result.stderr


def test_missing_aws_credentials_are_not_a_connector_failure(afq: Run, tmp_path: Path) -> None:
    env = base_env(tmp_path, AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_CONFIG_FILE=str(tmp_path / "none"),
                   AWS_EC2_METADATA_DISABLED="true", AWS_DEFAULT_REGION="us-east-1")
    line = one_error_line(afq("query", "--function", "my-connector", "SELECT * FROM c.main.t", env=env))
    assert line.startswith("afq: cannot call the Lambda function my-connector: no AWS credentials were found")
    assert "or leave out --function" in line and "connector failed" not in line


def test_the_failure_log_line_is_not_printed_besides_the_error(afq: Run, shop: dict[str, str]) -> None:
    result = afq("query", "--debug", "SELECT id FROM shop.main.nope", env=shop)
    assert "GetTableRequest failed: TableNotFound" in result.stderr  # the connector's log, with --debug only
    assert "GetTableRequest failed" not in afq("query", "SELECT id FROM shop.main.nope", env=shop).stderr


# ------------------------------------------------------------------------------------------ catalogs


def test_catalog_defaults_agree_across_subcommands(afq: Run, demo_db: Path, tmp_path: Path) -> None:
    env = base_env(tmp_path, default=f"sqlite://jdbc:sqlite:{demo_db}")
    result = afq("query", "--format", "jsonl", "SELECT count(*) AS n FROM main.customers", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"n": 500}
    result = afq("validate", "--schema", "main", "--table", "customers", "--skip", "spill", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "catalog default" in result.stdout or "ok:" in result.stdout
    # AFQ_CATALOG moves both, and a catalog without configuration says what to set.
    shop_only = base_env(tmp_path, shop_connection_string=f"sqlite://jdbc:sqlite:{demo_db}", AFQ_CATALOG="shop")
    result = afq("query", "--format", "jsonl", "SELECT count(*) AS n FROM main.customers", env=shop_only)
    assert result.returncode == 0 and json.loads(result.stdout) == {"n": 500}, result.stderr
    assert afq("validate", "--schema", "main", "--table", "customers", "--skip", "spill",
               env=shop_only).returncode == 0
    line = one_error_line(afq("query", "SELECT * FROM main.customers",
                              env={k: v for k, v in shop_only.items() if k != "AFQ_CATALOG"}))
    assert "catalog 'default' is not configured: set the environment variable default_connection_string" in line


def test_lake_names_match_in_any_case_and_misses_list_every_format(afq: Run, shop: dict[str, str],
                                                                   tmp_path: Path) -> None:
    lake = tmp_path / "lake" / "Web"
    lake.mkdir(parents=True)
    pq.write_table(pa.table({"Customer_ID": [1, 2, 2]}), lake / "Visits.parquet")
    result = afq("query", "--lake-dir", str(tmp_path / "lake"), "--format", "jsonl",
                 "SELECT count(*) AS n FROM lake.web.visits v JOIN lake.WEB.VISITS w ON v.customer_id = w.customer_id",
                 env=shop)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"n": 5}
    line = one_error_line(afq("query", "--lake-dir", str(tmp_path / "lake"), "SELECT * FROM lake.web.nope",
                              env=shop))
    for suffix in (".parquet", ".csv", ".csv.gz", ".tsv", ".json", ".jsonl", ".ndjson"):
        assert suffix in line


def test_an_unmapped_column_is_warned_about_once_and_only_when_read(afq: Run, tmp_path: Path) -> None:
    db = tmp_path / "raw.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE raw (id INTEGER, odd FANCYTYPE)")
        con.execute("INSERT INTO raw VALUES (1, 'x'), (2, 'y')")
    env = base_env(tmp_path, raw_connection_string=f"sqlite://jdbc:sqlite:{db}")
    quiet = afq("query", "SELECT id FROM raw.main.raw", env=env)
    assert quiet.returncode == 0 and quiet.stderr == ""
    noisy = afq("query", "SELECT a.odd FROM raw.main.raw a JOIN raw.main.raw b ON a.id = b.id WHERE b.odd <> 'z'",
                env=env)
    assert noisy.returncode == 0
    assert noisy.stderr.splitlines() == [
        "afq: warning: sqlite column main.raw.odd has declared type 'FANCYTYPE' with no defined mapping; it is read "
        "as varchar"]


# ------------------------------------------------------------------------------------------ output


def sqlite_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as con:
        return con.execute(sql).fetchall()


def test_csv_export_is_every_row_as_sqlite_has_it_with_null_apart_from_empty(afq: Run, shop: dict[str, str],
                                                                              demo_db: Path, tmp_path: Path) -> None:
    with sqlite3.connect(demo_db) as con:  # a copy with empty notes besides NULL ones
        con.execute("CREATE TABLE IF NOT EXISTS notes AS SELECT id, CASE WHEN id % 3 = 0 THEN '' ELSE note END "
                    "AS note, amount FROM orders")
    out = tmp_path / "notes.csv"
    result = afq("query", "--output", str(out), "SELECT id, note, amount FROM shop.main.notes", env=shop)
    assert result.returncode == 0 and result.stdout == "", result.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == '"id","note","amount"'
    by_id = {int(line.split(",", 1)[0].strip('"')): line for line in lines[1:]}
    expected = sqlite_rows(demo_db, "SELECT id, note, CAST(amount AS TEXT) FROM notes")
    assert len(by_id) == len(expected) == 5000
    assert {note for _, note, _ in expected} >= {None, ""}
    for i, note, amount in expected:
        line = by_id[i]
        (fields,) = csv.reader([line])
        assert Decimal(fields[2]) == Decimal(amount)
        raw_note = line.split(",")[1]  # the demo's notes hold no commas
        if note is None:
            assert raw_note == "", line  # NULL: an empty field
        elif note == "":
            assert raw_note == '""', line  # the empty string: quoted
        else:
            assert fields[1] == note


def test_parquet_and_jsonl_exports_hold_the_sources_values(afq: Run, shop: dict[str, str], demo_db: Path,
                                                            tmp_path: Path) -> None:
    sql = "SELECT id, customer_id, amount, ordered_at, status, note FROM shop.main.orders"
    parquet = tmp_path / "orders.parquet"
    assert afq("query", "--output", str(parquet), sql, env=shop).returncode == 0
    table = pq.read_table(parquet)
    assert table.schema.field("amount").type == pa.decimal128(12, 2)
    assert table.schema.field("ordered_at").type == pa.timestamp("ms")
    expected = sqlite_rows(demo_db, "SELECT id, customer_id, amount, ordered_at, status, note FROM orders "
                                    "ORDER BY id")
    rows = sorted(table.to_pylist(), key=lambda r: r["id"])
    assert [(r["id"], r["customer_id"], r["amount"], r["ordered_at"].isoformat(sep=" "), r["status"], r["note"])
            for r in rows] == [(i, c, Decimal(str(a)).quantize(Decimal("0.01")), t, s, n)
                               for i, c, a, t, s, n in expected]
    jsonl = afq("query", "--format", "jsonl", sql, env=shop)
    assert jsonl.returncode == 0
    records = sorted((json.loads(line) for line in jsonl.stdout.splitlines()), key=lambda r: r["id"])
    assert [(r["id"], Decimal(r["amount"]), r["ordered_at"].replace("T", " "), r["note"]) for r in records] == [
        (i, Decimal(str(a)).quantize(Decimal("0.01")), t, n) for i, _, a, t, _, n in expected]


def test_a_failed_export_leaves_no_file(afq: Run, shop: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    assert afq("query", "--output", str(out), "SELECT id FROM shop.main.nope", env=shop).returncode == 2
    assert not out.exists() and not list(tmp_path.glob(".out.csv*"))


def test_parquet_to_a_terminal_is_refused(shop: dict[str, str], tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run([AFQ, "query", "--format", "parquet", "SELECT 1 AS one"], env=shop, stdout=terminal,
                                stderr=subprocess.PIPE, text=True, timeout=60, check=False, cwd=tmp_path)
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 2 and "--format parquet writes binary data" in result.stderr


def test_tables_align_by_display_width_and_escape_newlines(afq: Run, shop: dict[str, str]) -> None:
    sql = ("SELECT * FROM (VALUES (1, '日本語', 'a'), (2, 'two\nlines', '😀'), (3, 'x', '🇩🇪'), (4, 'ｱｲ', 'e\u0301'))"
           " AS t(n, word, mark) ORDER BY n")
    result = afq("query", sql, env=shop)
    assert result.returncode == 0, result.stderr
    # Wide characters take two cells: the bars line up on screen, not in code points.
    assert result.stdout.splitlines() == [
        "n | word       | mark",
        "--+------------+-----",
        "1 | 日本語     | a",
        "2 | two\\nlines | 😀",
        "3 | x          | 🇩🇪",
        "4 | ｱｲ         | e\u0301",
        "(4 rows)",
    ]


# ------------------------------------------------------------------------------------------ progress


def slow_reads(event: dict[str, object], context: object = None) -> dict[str, object]:
    """The real handler, with every ReadRecords taking 1.6 s (a large split; AFQ_TEST_READ_SECONDS to change)."""
    import time

    from connector.handler import lambda_handler

    if event.get("@type") == "ReadRecordsRequest":
        time.sleep(float(os.environ.get("AFQ_TEST_READ_SECONDS", "1.6")))
    return lambda_handler(event, context)  # type: ignore[arg-type]


def test_a_long_query_writes_nothing_but_its_result_to_stdout(afq: Run, shop: dict[str, str]) -> None:
    """DuckDB may draw its progress bar on stdout once a query has run for two seconds (seen in the export
    benchmark: a 2M-row CSV began with "100% ▕███...▏"); a streamed export lasts as long as its splits are read,
    so afq's DuckDB connections have the bar off."""
    from connector.local.engine import connect_duckdb

    con = connect_duckdb()
    assert con.sql("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]
    con.close()
    result = afq("query", "--format", "csv", "--handler", "tests.cli.test_afq.slow_reads",
                 "SELECT id FROM shop.main.orders WHERE id <= 3", env={**shop, "AFQ_TEST_READ_SECONDS": "3"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == '"id"\n"1"\n"2"\n"3"\n'  # exactly the CSV


def test_progress_is_off_when_stderr_is_not_a_terminal_and_printed_once_when_asked(
        afq: Run, shop: dict[str, str]) -> None:
    sql = "SELECT count(*) AS n FROM shop.main.orders"
    quiet = afq("query", "--handler", "tests.cli.test_afq.slow_reads", sql, env=shop)
    assert quiet.returncode == 0 and quiet.stderr == ""
    asked = afq("query", "--progress", "--handler", "tests.cli.test_afq.slow_reads", sql, env=shop)
    assert asked.returncode == 0
    lines = asked.stderr.splitlines()
    counts = [re.sub(r" \(\d+\.\d s\)$", "", line) for line in lines]
    assert len(counts) == len(set(counts)), asked.stderr  # no line printed twice
    assert lines[-1].startswith("afq: 1/1 splits read, 5,000 rows (") and "1 row written" in lines[-1]


def test_progress_on_a_terminal_updates_while_one_split_is_read(shop: dict[str, str], tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen([AFQ, "query", "--handler", "tests.cli.test_afq.slow_reads",
                                    "SELECT id FROM shop.main.orders WHERE id < 3"], env=shop, stdout=subprocess.PIPE,
                                   stderr=terminal, cwd=tmp_path)
        os.close(terminal)
        seen = b""
        while True:
            ready, _, _ = select.select([controller], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        out, _ = process.communicate(timeout=60)
    finally:
        os.close(controller)
    assert process.returncode == 0
    text = seen.decode()
    updates = [u for u in re.split(r"[\r\n]+", text) if u.strip()]
    assert any(u.startswith("afq: 0/1 splits read, 0 rows") for u in updates), text  # during the slow split
    assert updates[-1].startswith("afq: 1/1 splits read, 2 rows") and "2 rows written" in updates[-1]
    assert text.endswith("\n") and out.decode().endswith("(2 rows)\n")


# ------------------------------------------------------------------------------------------ traces


def test_trace_show_renders_blocks_as_rows_and_replay_reruns_with_fresh_keys(afq: Run, shop: dict[str, str],
                                                                             tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    sql = "SELECT id, status FROM shop.main.orders WHERE id <= 3"
    assert afq("query", "--trace", str(trace), sql, env=shop).returncode == 0
    shown = afq("trace", "show", str(trace), env=shop)
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"#\d+ +response ReadRecordsResponse +[\d.]+ ms  3 row\(s\) inline", shown.stdout), shown.stdout
    statuses = [r[0] for r in sqlite_rows(Path(shop["shop_connection_string"].split(":", 3)[-1]),
                                          "SELECT status FROM orders WHERE id <= 3 ORDER BY id")]
    for i, status in enumerate(statuses, start=1):
        assert re.search(rf"^ +{i} \| {status}$", shown.stdout, flags=re.MULTILINE), shown.stdout
    assert "GetTableResponse" in shown.stdout and "id bigint" in shown.stdout
    assert "<redacted>" in trace.read_text()

    replayed = afq("invoke", "--replay", str(trace), env=shop)
    assert replayed.returncode == 0, replayed.stderr
    responses = [json.loads(line) for line in replayed.stdout.splitlines()]
    kinds = [r["@type"] for r in responses]
    assert kinds[0] == "PingResponse" and kinds[-1] == "ReadRecordsResponse"
    splits = next(r for r in responses if r["@type"] == "GetSplitsResponse")["splits"]
    assert all(len(s["encryptionKey"]["key"]) == 44 and "<redacted>" not in json.dumps(s) for s in splits)
    assert replayed.stderr.startswith(f"afq: replayed {len(responses)} request(s) from {trace} with fresh keys: "
                                      f"{len(responses)} answered; {len(responses)} as traced")
    read = next(line for line in shown.stdout.splitlines() if "request  ReadRecordsRequest" in line)
    seq = read.split()[0].lstrip("#")
    one = afq("invoke", "--replay", str(trace), "--seq", seq, env=shop)
    assert one.returncode == 0 and [json.loads(x)["@type"] for x in one.stdout.splitlines()] == ["ReadRecordsResponse"]


def test_replaying_a_trace_of_a_failure_fails_again(afq: Run, shop: dict[str, str], tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    assert afq("query", "--trace", str(trace), "SELECT * FROM shop.main.nope", env=shop).returncode == 2
    replayed = afq("invoke", "--replay", str(trace), env=shop)
    assert replayed.returncode == 2
    replayed_error = json.loads(replayed.stdout.splitlines()[-1])
    assert replayed_error["errorType"] == ATHENA_CONNECTOR_EXCEPTION  # as Lambda reports it to Athena
    assert "table main.nope not found" in replayed_error["errorMessage"]
    assert "1 failed" in replayed.stderr and "as traced" in replayed.stderr


def test_a_file_that_is_not_a_trace_is_one_line(afq: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"hello": 1}\n')
    assert one_error_line(afq("trace", "show", str(bad))).startswith(f"afq: {bad}:1 is not a trace record")
    assert one_error_line(afq("invoke", "--replay", str(tmp_path / "missing.jsonl"))).startswith(
        "afq: cannot read the trace")
    assert one_error_line(afq("invoke")).startswith("afq: invoke takes one event file")
