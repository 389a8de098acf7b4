"""The local Athena returns what Athena (Trino) returns - values *and* types - not what DuckDB would.

Every expected value below is Athena's documented behaviour (Trino's type rules and functions), written out by
hand: DuckDB computes the final result locally, and on each of these it would answer differently on its own
(a double for a decimal avg, 3.5 for 7 / 2, a timestamp for date_add on a date, 'INTEGER' from typeof, an
overflow for decimal(10,2) * decimal(10,2), a banker's rounding cast, a query that runs with a trailing comma).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.local.engine import LocalAthena, QueryOptions
from connector.local.errors import QueryError, SqlSyntaxError
from connector.local.targets import InProcessTarget


@pytest.fixture
def athena(lambda_env: Callable[..., None], tmp_path: Path) -> Callable[[str], pa.Table]:
    path = tmp_path / "semantics.db"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE t (id INTEGER, price DECIMAL(10,2), qty INTEGER, d DATE, name VARCHAR(10), f DOUBLE,
                        big DECIMAL(10,2));
        INSERT INTO t VALUES (1, 1.00, 7, '2020-01-31', 'a', 2.5, 99999999.99),
                             (2, 2.01, 2, '2020-02-28', 'B', -2.5, 99999999.99),
                             (3, NULL, NULL, NULL, NULL, NULL, NULL);
    """)
    db.commit()
    db.close()
    lambda_env(s_connection_string=f"sqlite://jdbc:sqlite:{path}")

    def run(sql: str) -> pa.Table:
        engine = LocalAthena(InProcessTarget("connector.handler.lambda_handler"), QueryOptions(default_catalog="s"))
        try:
            return engine.run(sql).table
        finally:
            engine.close()
    return run


def one(table: pa.Table) -> dict[str, Any]:
    rows = table.to_pylist()
    assert len(rows) == 1, rows
    return rows[0]


def test_avg_of_a_decimal_is_that_decimal_rounded_half_up(athena: Callable[[str], pa.Table]) -> None:
    table = athena("SELECT avg(price) AS a, typeof(avg(price)) AS t, avg(qty) AS q, typeof(avg(qty)) AS qt "
                   "FROM main.t")
    # (1.00 + 2.01) / 2 = 1.505: Athena says decimal(10,2) 1.51 (half up); DuckDB alone says double 1.505
    assert one(table) == {"a": Decimal("1.51"), "t": "decimal(10,2)", "q": 4.5, "qt": "double"}
    assert table.schema.field("a").type == pa.decimal128(10, 2)


def test_avg_of_a_decimal_over_a_window_and_with_distinct(athena: Callable[[str], pa.Table]) -> None:
    rows = athena("SELECT id, avg(price) OVER () AS w, avg(DISTINCT price) OVER () AS dw FROM main.t "
                  "ORDER BY id").to_pylist()
    assert [r["w"] for r in rows] == [Decimal("1.51")] * 3
    assert [r["dw"] for r in rows] == [Decimal("1.51")] * 3
    # no rows at all: NULL, not a division by zero
    assert one(athena("SELECT avg(price) AS a FROM main.t WHERE id > 5")) == {"a": None}


def test_sum_types(athena: Callable[[str], pa.Table]) -> None:
    table = athena("SELECT sum(price) AS p, typeof(sum(price)) AS pt, sum(qty) AS q, typeof(sum(qty)) AS qt, "
                   "typeof(sum(f)) AS ft FROM main.t")
    assert one(table) == {"p": Decimal("3.01"), "pt": "decimal(38,2)", "q": 9, "qt": "bigint", "ft": "double"}
    assert table.schema.field("q").type == pa.int64()


def test_integer_division_truncates_toward_zero(athena: Callable[[str], pa.Table]) -> None:
    table = athena("SELECT 7 / 2 AS a, -7 / 2 AS b, typeof(7 / 2) AS t, qty / 2 AS c, typeof(id / qty) AS u, "
                   "7 % 3 AS m, -7 % 3 AS n FROM main.t WHERE id = 1")
    assert one(table) == {"a": 3, "b": -3, "t": "integer", "c": 3, "u": "bigint", "m": 1, "n": -1}
    assert table.schema.field("a").type == pa.int32()


def test_division_by_zero_fails_as_in_athena(athena: Callable[[str], pa.Table]) -> None:
    for sql in ("SELECT id / (qty - qty) FROM main.t WHERE id = 1", "SELECT price / 0 FROM main.t WHERE id = 1"):
        with pytest.raises(QueryError, match="Division by zero"):
            athena(sql)
    # NULL / 0 is NULL, as in Athena
    assert one(athena("SELECT price / 0 AS x FROM main.t WHERE id = 3")) == {"x": None}


def test_decimal_division_is_a_decimal_rounded_half_up(athena: Callable[[str], pa.Table]) -> None:
    table = athena("SELECT 1.00 / 3 AS a, -2.00 / 3 AS b, typeof(1.00 / 3) AS t, price / qty AS c, "
                   "typeof(price / qty) AS u, price / 2 AS h FROM main.t WHERE id = 2")
    # decimal(3,2) / integer: Trino's result type decimal(3,2); 2.01 / 2 = 1.005 -> 1.01 (half up, not even)
    assert one(table) == {"a": Decimal("0.33"), "b": Decimal("-0.67"), "t": "decimal(3,2)",
                          "c": Decimal("1.01"), "u": "decimal(10,2)", "h": Decimal("1.01")}
    # decimal(10,2) / decimal(5,4): scale max(2,4) = 4, precision 10 + 4 + 2 = 16
    table = athena("SELECT price / 0.0300 AS q, typeof(price / 0.0300) AS t FROM main.t WHERE id = 1")
    assert one(table) == {"q": Decimal("33.3333"), "t": "decimal(16,4)"}


def test_decimal_multiplication_has_trinos_precision(athena: Callable[[str], pa.Table]) -> None:
    table = athena("SELECT big * big AS p, typeof(big * big) AS t, price + 1 AS s, typeof(price + 1) AS st "
                   "FROM main.t WHERE id = 1")
    # decimal(10,2) * decimal(10,2) is decimal(20,4) in Trino (DuckDB alone keeps 18 digits and overflows)
    assert one(table) == {"p": Decimal("9999999998000000.0001"), "t": "decimal(20,4)", "s": Decimal("2.00"),
                          "st": "decimal(13,2)"}


def test_date_arithmetic_stays_a_date(athena: Callable[[str], pa.Table]) -> None:
    table = athena("SELECT date_add('day', 1, d) AS a, typeof(date_add('day', 1, d)) AS t, "
                   "date_add('month', 1, d) AS m, d + INTERVAL '1' DAY AS i, typeof(d - INTERVAL '1' DAY) AS it, "
                   "date_diff('day', d, DATE '2020-03-01') AS dd, typeof(date_diff('day', d, d)) AS ddt "
                   "FROM main.t WHERE id = 1")
    assert one(table) == {"a": dt.date(2020, 2, 1), "t": "date", "m": dt.date(2020, 2, 29),
                          "i": dt.date(2020, 2, 1), "it": "date", "dd": 30, "ddt": "bigint"}
    assert table.schema.field("a").type == pa.date32()


def test_date_diff_counts_whole_units(athena: Callable[[str], pa.Table]) -> None:
    table = athena("SELECT date_diff('day', TIMESTAMP '2020-01-01 23:00:00', TIMESTAMP '2020-01-02 01:00:00') AS a, "
                   "date_diff('hour', TIMESTAMP '2020-01-01 23:59:00', TIMESTAMP '2020-01-02 00:01:00') AS b, "
                   "date_diff('month', DATE '2020-01-31', DATE '2020-02-29') AS c FROM main.t WHERE id = 1")
    # 2 hours is 0 whole days; 2 minutes is 0 whole hours; Jan 31 + 1 month is Feb 29
    assert one(table) == {"a": 0, "b": 0, "c": 1}


def test_invalid_date_field_and_date_plus_integer_are_errors(athena: Callable[[str], pa.Table]) -> None:
    with pytest.raises(QueryError, match="'hour' is not a valid DATE field"):
        athena("SELECT date_add('hour', 1, d) FROM main.t")
    with pytest.raises(QueryError, match="Cannot apply operator: date \\+ integer"):
        athena("SELECT d + 5 FROM main.t")


def test_comparing_a_number_with_a_string_is_an_error(athena: Callable[[str], pa.Table]) -> None:
    with pytest.raises(QueryError, match="Cannot apply operator: bigint = varchar\\(1\\)"):
        athena("SELECT id FROM main.t WHERE id = '1'")


def test_nulls_sort_last_in_both_directions(athena: Callable[[str], pa.Table]) -> None:
    assert athena("SELECT qty FROM main.t ORDER BY qty").column(0).to_pylist() == [2, 7, None]
    assert athena("SELECT qty FROM main.t ORDER BY qty DESC").column(0).to_pylist() == [7, 2, None]
    assert athena("SELECT qty FROM main.t ORDER BY qty DESC NULLS FIRST").column(0).to_pylist() == [None, 7, 2]
    rows = athena("SELECT id, row_number() OVER (ORDER BY qty DESC) AS r FROM main.t ORDER BY id").to_pylist()
    assert [r["r"] for r in rows] == [1, 2, 3]


def test_typeof_prints_trino_type_names(athena: Callable[[str], pa.Table]) -> None:
    table = athena("SELECT typeof(id) AS a, typeof(qty) AS b, typeof(price) AS c, typeof(name) AS d, "
                   "typeof(f) AS e, typeof('abc') AS g, typeof(1.5) AS h, typeof(1) AS i, "
                   "typeof(10000000000) AS j, typeof(1e0) AS k, typeof(d) AS l, typeof(id > 1) AS m, "
                   "typeof(CAST(f AS real)) AS n FROM main.t WHERE id = 1")
    assert one(table) == {"a": "bigint", "b": "bigint", "c": "decimal(10,2)", "d": "varchar", "e": "double",
                          "g": "varchar(3)", "h": "decimal(2,1)", "i": "integer", "j": "bigint", "k": "double",
                          "l": "date", "m": "boolean", "n": "real"}
    # types the local typer does not model: DuckDB's name, spelled the Trino way
    assert one(athena("SELECT typeof(ARRAY[1, 2]) AS a FROM main.t WHERE id = 1")) == {"a": "array(integer)"}


def test_string_comparison_is_by_code_point_without_padding(athena: Callable[[str], pa.Table]) -> None:
    assert athena("SELECT name FROM main.t WHERE name IS NOT NULL ORDER BY name").column(0).to_pylist() == ["B", "a"]
    table = athena("SELECT 'B' < 'a' AS x, 'abc' = 'abc ' AS y, 'é' > 'z' AS z, 'a' < 'ab' AS w "
                   "FROM main.t WHERE id = 1")
    assert one(table) == {"x": True, "y": False, "z": True, "w": True}


def test_casting_a_double_to_an_integer_rounds_half_away_from_zero(athena: Callable[[str], pa.Table]) -> None:
    rows = athena("SELECT CAST(f AS integer) AS i, CAST(f AS bigint) AS b, TRY_CAST(f AS integer) AS t, "
                  "TRY_CAST(f * 1e10 AS integer) AS o FROM main.t ORDER BY id").to_pylist()
    assert rows == [{"i": 3, "b": 3, "t": 3, "o": None}, {"i": -3, "b": -3, "t": -3, "o": None},
                    {"i": None, "b": None, "t": None, "o": None}]


@pytest.mark.parametrize(("sql", "line", "column"), [
    ("SELECT id, FROM main.t", 1, 12),
    ("SELECT id\nFROM main.t\nWHERE id IN (1,,2)", 3, 16),
    ("SELECT abs(id,) FROM main.t", 1, 15),
    ("SELECT id::varchar FROM main.t", 1, 10),
    ("SELECT id FROM main.t GROUP BY id,", 1, 35),
])
def test_invalid_sql_is_rejected_with_its_position(athena: Callable[[str], pa.Table], sql: str, line: int,
                                                   column: int) -> None:
    with pytest.raises(SqlSyntaxError) as caught:
        athena(sql)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert f"line {line}:{column}" in str(caught.value)


def test_verify_evaluates_pushed_predicates_the_athena_way(athena: Callable[[str], pa.Table]) -> None:
    """--verify re-evaluates pushed predicates locally: with Athena's meaning, or it reports false findings."""
    from connector.local.verify import verify

    engine = LocalAthena(InProcessTarget("connector.handler.lambda_handler"), QueryOptions(default_catalog="s"))
    try:
        # 1.00 / 3 is 0.33 in Athena (not > 0.33); 2.01 / 3 is 0.67. DuckDB's double 0.333... would be > 0.33.
        result = engine.run("SELECT id FROM main.t WHERE price / 3 > 0.33")
        assert result.table.to_pylist() == [{"id": 2}]
        assert [p.kind for p in result.plan.tables[0].predicates] == ["expression"]
        report = verify(engine, result)
    finally:
        engine.close()
    assert report.findings == 0, report.lines


def test_output_columns_are_named_as_athena_names_them(athena: Callable[[str], pa.Table]) -> None:
    # a bare column or an alias names its column; anything else is _col<position> (sqlglot would say qty, 1)
    table = athena("SELECT id, CAST(qty AS bigint), t.name, price AS p, 1, upper(name) FROM main.t AS t "
                   "ORDER BY 2 DESC")
    assert table.column_names == ["id", "_col1", "name", "p", "_col4", "_col5"]
    assert table.column("_col1").to_pylist() == [7, 2, None]
    union = athena("SELECT id, CAST(qty AS bigint) FROM main.t UNION ALL SELECT 1, 2 FROM main.t")
    assert union.column_names == ["id", "_col1"]


@given(columns=st.lists(st.sampled_from(["id", "qty", "price", "abs(qty)", "'x'", "1"]), min_size=1, max_size=5),
       where=st.lists(st.integers(-5, 5), min_size=1, max_size=4), empty=st.integers(0, 20), place=st.booleans())
def test_an_empty_list_item_is_rejected_and_the_same_query_without_it_parses(
        columns: list[str], where: list[int], empty: int, place: bool) -> None:
    from connector.local.strict_sql import parse

    items = [", ".join(columns), ", ".join(map(str, where))]
    sql = "SELECT {} FROM main.t WHERE id IN ({})"
    assert len(parse(sql.format(*items))) == 1
    # an empty item: before, between or after the items of one of the two lists
    broken = list(items)
    parts = broken[place].split(", ")
    parts.insert(empty % (len(parts) + 1), "")
    broken[place] = ", ".join(parts)
    with pytest.raises(SqlSyntaxError):
        parse(sql.format(*broken))
