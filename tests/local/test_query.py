"""End to end: ``afq query`` on SQLite through the whole protocol, compared with the same SQL run on SQLite.

Each query runs through the CLI (``--format jsonl --verify``): Ping, capabilities, GetTable, layout, every
GetSplits page, ReadRecords for every split (several per table), DuckDB for the rest. ``--verify`` re-reads each
split without pushdown and must find nothing. Values are compared after a normalization both sides share
(numbers rounded, ISO timestamps with a space), rows as ordered lists when the query orders them fully.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.demo_data import create_demo_database, create_support_database


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("local-query")
    return (Path(create_demo_database(str(directory / "shop.db"))),
            Path(create_support_database(str(directory / "support.db"))))


@pytest.fixture
def catalogs(lambda_env: Callable[..., None], databases: tuple[Path, Path]) -> tuple[Path, Path]:
    shop, support = databases
    lambda_env(shop_connection_string=f"sqlite://jdbc:sqlite:{shop}",
               support_connection_string=f"sqlite://jdbc:sqlite:{support}",
               sqlite_rows_per_split="700")
    return shop, support


def afq(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]], str]:
    capsys.readouterr()
    code = main(["query", "--format", "jsonl", "--quiet", *args])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?$")
_NUMBER = re.compile(r"^-?\d+\.\d+$")


def normalize(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, str):
        if _TIMESTAMP.match(value):
            return value.replace("T", " ")
        if _NUMBER.match(value):
            return round(float(value), 4)
    return value


def sqlite_rows(shop: Path, support: Path, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(shop)
    try:
        db.execute("ATTACH DATABASE ? AS support", (str(support),))
        return [tuple(normalize(v) for v in row) for row in db.execute(sql).fetchall()]
    finally:
        db.close()


def strip_catalogs(sql: str) -> str:
    return sql.replace("shop.main.", "").replace("support.main.", "support.")


# (Athena SQL, SQLite SQL when it differs, ordered)
CASES: list[tuple[str, str | None, bool]] = [
    ("SELECT id FROM shop.main.orders WHERE amount > 990", None, False),
    ("SELECT id, amount FROM shop.main.orders WHERE amount >= 100.5 AND amount < 103", None, False),
    ("SELECT id FROM shop.main.orders WHERE amount BETWEEN 500 AND 500.99", None, False),
    ("SELECT id FROM shop.main.orders WHERE ordered_at BETWEEN TIMESTAMP '2024-03-01 00:00:00' "
     "AND TIMESTAMP '2024-03-02 12:00:00'",
     "SELECT id FROM orders WHERE ordered_at BETWEEN '2024-03-01 00:00:00' AND '2024-03-02 12:00:00'", False),
    ("SELECT count(*) FROM shop.main.orders WHERE status IN ('shipped', 'returned')", None, False),
    ("SELECT count(*) FROM shop.main.orders WHERE status NOT IN ('shipped', 'returned')", None, False),
    ("SELECT count(*) FROM shop.main.orders WHERE customer_id <> 7 AND customer_id <= 20", None, False),
    ("SELECT id, note FROM shop.main.orders WHERE note IS NOT NULL AND id < 200", None, False),
    ("SELECT count(*) FROM shop.main.orders WHERE note IS NULL", None, False),
    ("SELECT id FROM shop.main.orders WHERE (note = 'gift' OR note IS NULL) AND id < 100", None, False),
    ("SELECT id, note FROM shop.main.orders WHERE note LIKE '%off'", None, False),
    ("SELECT id, note FROM shop.main.orders WHERE note LIKE 'it_s%' AND id < 500", None, False),
    ("SELECT count(*) FROM shop.main.orders WHERE note LIKE 'r%' OR note LIKE 'g_ft'", None, False),
    ("SELECT id FROM shop.main.orders WHERE customer_id * 2 + 1 > 990", None, False),
    ("SELECT id FROM shop.main.orders WHERE customer_id % 7 = 3 AND id < 300", None, False),
    ("SELECT id FROM shop.main.orders WHERE -customer_id < -497", None, False),
    ("SELECT id FROM shop.main.orders WHERE customer_id / 3 = 10", None, False),
    ("SELECT id FROM shop.main.orders WHERE (customer_id < 10 OR status = 'pending') AND amount < 150", None, False),
    ("SELECT id FROM shop.main.orders WHERE note IS DISTINCT FROM 'gift' AND id < 60",
     "SELECT id FROM orders WHERE note IS NOT 'gift' AND id < 60", False),
    ("SELECT id, signup_date FROM shop.main.customers WHERE signup_date >= DATE '2024-11-01'",
     "SELECT id, signup_date FROM customers WHERE signup_date >= '2024-11-01'", False),
    ("SELECT id, vip FROM shop.main.customers WHERE vip", "SELECT id, vip FROM customers WHERE vip = 1", False),
    ("SELECT count(*) FROM shop.main.customers WHERE NOT vip", "SELECT count(*) FROM customers WHERE vip = 0", False),
    ('SELECT id, "email address" FROM shop.main.customers WHERE "email address" LIKE \'customer1%\'', None, False),
    ("SELECT id, amount FROM shop.main.orders ORDER BY amount DESC, id LIMIT 7", None, True),
    ("SELECT id, amount FROM shop.main.orders WHERE status = 'pending' ORDER BY amount LIMIT 5", None, True),
    ("SELECT id, note FROM shop.main.orders ORDER BY note, id LIMIT 5",
     "SELECT id, note FROM orders ORDER BY note IS NULL, note, id LIMIT 5", True),
    ("SELECT id, note FROM shop.main.orders ORDER BY note DESC NULLS FIRST, id LIMIT 5",
     "SELECT id, note FROM orders ORDER BY note IS NOT NULL, note DESC, id LIMIT 5", True),
    ("SELECT count(*) FROM (SELECT id FROM shop.main.orders LIMIT 17) AS sub", None, False),
    ("SELECT count(*) FROM (SELECT id FROM shop.main.orders WHERE amount > 500 LIMIT 9) AS sub", None, False),
    ("SELECT status, count(*), sum(amount), min(ordered_at), max(customer_id) FROM shop.main.orders "
     "GROUP BY status ORDER BY status", None, True),
    ("SELECT status, avg(amount) FROM shop.main.orders WHERE ordered_at >= TIMESTAMP '2024-07-01 00:00:00' "
     "GROUP BY status ORDER BY status",
     # Athena: avg of DECIMAL(12,2) is DECIMAL(12,2), rounded half up (SQLite's avg is a double)
     "SELECT status, round(avg(amount), 2) FROM orders WHERE ordered_at >= '2024-07-01 00:00:00' GROUP BY status "
     "ORDER BY status", True),
    ("SELECT count(*) FROM shop.main.orders", None, False),
    ("SELECT count(*), count(note) FROM shop.main.orders WHERE amount < 200", None, False),
    ("SELECT c.region, count(*), sum(o.amount) FROM shop.main.orders o JOIN shop.main.customers c "
     "ON o.customer_id = c.id WHERE c.vip AND o.amount > 900 GROUP BY c.region ORDER BY c.region",
     "SELECT c.region, count(*), sum(o.amount) FROM orders o JOIN customers c ON o.customer_id = c.id "
     "WHERE c.vip = 1 AND o.amount > 900 GROUP BY c.region ORDER BY c.region", True),
    ("SELECT c.region, t.priority, count(*) FROM support.main.tickets t JOIN shop.main.customers c "
     "ON c.id = t.customer_id WHERE t.status = 'open' AND t.satisfaction IS NULL GROUP BY 1, 2 ORDER BY 1, 2",
     None, True),
    ("SELECT count(*) FROM shop.main.customers c LEFT JOIN shop.main.orders o ON o.customer_id = c.id "
     "AND o.amount > 995 WHERE o.id IS NULL", None, False),
    ("SELECT count(*) FROM shop.main.orders WHERE customer_id IN (SELECT id FROM shop.main.customers WHERE vip)",
     "SELECT count(*) FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE vip = 1)", False),
    ("SELECT DISTINCT status FROM shop.main.orders WHERE amount > 998", None, False),
    ("SELECT customer_id, count(*) AS n FROM shop.main.orders GROUP BY customer_id HAVING count(*) > 17", None,
     False),
    ("SELECT id FROM shop.main.orders WHERE id < 5 UNION ALL SELECT id FROM shop.main.customers WHERE id > 497",
     None, False),
    ("SELECT id, CASE WHEN amount > 500 THEN 'big' ELSE 'small' END FROM shop.main.orders WHERE id <= 20", None,
     False),
    ("SELECT count(*) FROM shop.main.big_orders WHERE status = 'shipped'", None, False),
    ("SELECT * FROM TABLE(shop.system.query(query => 'SELECT status, count(*) AS n FROM orders GROUP BY status')) "
     "WHERE n > 0", "SELECT status, count(*) AS n FROM orders GROUP BY status", False),
]


@pytest.mark.parametrize(("athena", "native", "ordered"), CASES, ids=[c[0][:60] for c in CASES])
def test_query_matches_sqlite(capsys: pytest.CaptureFixture[str], catalogs: tuple[Path, Path], athena: str,
                              native: str | None, ordered: bool) -> None:
    code, rows, err = afq(capsys, "--verify", athena)
    assert code == 0, err
    assert "FINDING" not in err
    got = [tuple(normalize(v) for v in row.values()) for row in rows]
    expected = sqlite_rows(*catalogs, native or strip_catalogs(athena))
    if not ordered:
        got, expected = sorted(got, key=repr), sorted(expected, key=repr)
    assert got == expected


@pytest.mark.parametrize("version", [2, 3, 4, 5])
def test_older_serde_versions_give_the_same_rows(capsys: pytest.CaptureFixture[str], catalogs: tuple[Path, Path],
                                                 version: int) -> None:
    sql = ("SELECT o.id, o.amount FROM shop.main.orders o WHERE o.amount > 980 AND (o.note IS NULL OR "
           "o.customer_id < 100) ORDER BY o.amount DESC LIMIT 4")
    code, rows, err = afq(capsys, "--serde-version", str(version), sql)
    assert code == 0, err
    _, rows6, _ = afq(capsys, sql)
    assert rows == rows6 and len(rows) == 4


def test_lake_file_joins_a_federated_table(capsys: pytest.CaptureFixture[str], catalogs: tuple[Path, Path],
                                           tmp_path: Path) -> None:
    from connector.demo_data import write_lake_visits

    write_lake_visits(str(tmp_path / "web" / "visits.parquet"))
    sql = ("SELECT c.region, sum(v.page_views) AS views FROM lake.web.visits v JOIN shop.main.customers c "
           "ON c.id = v.customer_id WHERE c.id < 100 GROUP BY c.region ORDER BY c.region")
    code, rows, err = afq(capsys, "--lake-dir", str(tmp_path), sql)
    assert code == 0, err
    import duckdb

    con = duckdb.connect()
    visits = con.read_parquet(str(tmp_path / "web" / "visits.parquet")).to_arrow_table()
    by_id = dict(sqlite_rows(*catalogs, "SELECT id, region FROM customers WHERE id < 100"))
    totals: dict[str, int] = {}
    for row in visits.to_pylist():
        if row["customer_id"] in by_id:
            region = by_id[row["customer_id"]]
            totals[region] = totals.get(region, 0) + row["page_views"]
    assert rows == [{"region": r, "views": totals[r]} for r in sorted(totals)]
    code, rows2, err = afq(capsys, f"SELECT count(*) AS n FROM read_parquet('{tmp_path}/web/visits.parquet')")
    assert code == 0, err
    assert rows2 == [{"n": visits.num_rows}]


def test_unconfigured_catalog_names_the_variable(capsys: pytest.CaptureFixture[str],
                                                 catalogs: tuple[Path, Path]) -> None:
    code, _, err = afq(capsys, "SELECT * FROM nowhere.main.orders")
    assert code == 2
    assert "nowhere_connection_string" in err


def test_unknown_table_is_the_connectors_error(capsys: pytest.CaptureFixture[str],
                                               catalogs: tuple[Path, Path]) -> None:
    code, _, err = afq(capsys, "SELECT * FROM shop.main.nope")
    assert code == 2
    # Athena sees the Java SDK's class name (errorType); afq names the framework's own class for people.
    assert "TableNotFound: table main.nope not found" in err
