"""TPC-DS data, queries and DuckDB's answers, written once into a cache directory.

Runs in the TPC-DS tool venv (``requirements-tpcds.txt``: DuckDB with its ``tpcds`` extension), not in the
project's venv, and imports nothing from the project:

    .venv-tpcds/bin/python bench/tpcds/generate.py OUT_DIR --sf 0.01

OUT_DIR gets ``tables/<table>.parquet`` (dsdgen's data), ``schema.json`` (each table's columns and DuckDB
types), ``queries/<n>.sql`` (the extension's 99 queries), ``answers/<n>.parquet`` (DuckDB's result of each query
on the same data, columns named c0, c1...) and, last, ``manifest.json`` (versions, scale factor, per-query
reference timings), whose presence marks a complete directory.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import time

import duckdb
import duckdb_extension_tpcds


def extension_path() -> pathlib.Path:
    """The extension file the wheel ships (DuckDB's own INSTALL would download it: no network here)."""
    root = pathlib.Path(duckdb_extension_tpcds.__path__[0]) / "extensions"
    found = sorted(root.glob(f"v{duckdb.__version__}/*.duckdb_extension"))
    if not found:
        raise SystemExit(f"no tpcds extension for DuckDB {duckdb.__version__} under {root}")
    return found[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--sf", type=float, default=0.01)
    args = parser.parse_args()
    out: pathlib.Path = args.out
    if out.exists():
        shutil.rmtree(out)
    for sub in ("tables", "queries", "answers"):
        (out / sub).mkdir(parents=True)
    con = duckdb.connect(config={"allow_unsigned_extensions": True, "autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    con.execute(f"LOAD '{extension_path()}'")
    con.execute(f"CALL dsdgen(sf={args.sf})")
    schema: dict[str, list[list[str]]] = {}
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY table_name").fetchall():
        columns = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                              "ORDER BY column_index", [table]).fetchall()
        schema[table] = [[name, data_type] for name, data_type in columns]
        con.execute(f"COPY {table} TO '{out / 'tables' / table}.parquet' (FORMAT parquet)")
    (out / "schema.json").write_text(json.dumps(schema, indent=1))
    timings: dict[str, float] = {}
    for number, sql in con.execute("SELECT query_nr, query FROM tpcds_queries() ORDER BY query_nr").fetchall():
        (out / "queries" / f"{number}.sql").write_text(sql)
        started = time.perf_counter()
        body = sql.strip().rstrip(";")
        # Parquet has no 128-bit integer (DuckDB would write a double): an integer sum is kept as DECIMAL(38,0).
        # Columns are named by position (c0, c1...): answers compare by position and may repeat a name.
        types = con.sql(body).types
        columns = ", ".join(f"CAST(#{i + 1} AS DECIMAL(38, 0)) AS c{i}" if str(t) == "HUGEINT" else f"#{i + 1} AS c{i}"
                            for i, t in enumerate(types))
        con.execute(f"COPY (SELECT {columns} FROM ({body})) TO '{out / 'answers' / str(number)}.parquet' "
                    f"(FORMAT parquet)")
        timings[str(number)] = round(time.perf_counter() - started, 4)
    manifest = {"duckdb": duckdb.__version__, "sf": args.sf, "tables": len(schema), "queries": len(timings),
                "reference_seconds": timings}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
