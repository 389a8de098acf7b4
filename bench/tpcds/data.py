"""The TPC-DS data set: generated once into a cache directory, loaded into SQLite and PostgreSQL from there."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
LOCK = Path(__file__).with_name("requirements-tpcds.txt")
GENERATOR = Path(__file__).with_name("generate.py")
TOOL_VENV = ROOT / ".venv-tpcds"
#: Generated data lives outside git (``.gitignore``); ``AFQ_TPCDS_CACHE`` moves it.
CACHE = Path(os.environ.get("AFQ_TPCDS_CACHE", ROOT / ".tpcds-cache"))


def dataset(sf: float = 0.01) -> Path:
    """The directory with tables, queries and DuckDB's answers at scale factor ``sf``, generated if missing."""
    directory = CACHE / f"sf{sf:g}"
    manifest = directory / "manifest.json"
    if manifest.is_file():
        return directory
    from tests.servers.tool_venv import ensure

    python = ensure(LOCK, TOOL_VENV)
    result = subprocess.run([str(python), str(GENERATOR), str(directory), "--sf", f"{sf:g}"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0 or not manifest.is_file():
        raise RuntimeError(f"TPC-DS generation failed:\n{result.stderr[-3000:]}")
    return directory


def schema(directory: Path) -> dict[str, list[tuple[str, str]]]:
    raw = json.loads((directory / "schema.json").read_text())
    return {table: [(name, kind) for name, kind in columns] for table, columns in raw.items()}


def manifest(directory: Path) -> dict[str, Any]:
    return dict(json.loads((directory / "manifest.json").read_text()))


def table(directory: Path, name: str) -> pa.Table:
    return pq.read_table(directory / "tables" / f"{name}.parquet")


def _sqlite_value(value: Any) -> Any:
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)  # Decimal (stored with NUMERIC affinity), date (ISO text)


def sqlite_database(directory: Path) -> Path:
    """``tpcds.sqlite`` beside the data: every table with the declared types DuckDB generated."""
    path = directory / "tpcds.sqlite"
    if path.is_file():
        return path
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    db = sqlite3.connect(partial)
    try:
        for name, columns in schema(directory).items():
            ddl = ", ".join(f'"{column}" {kind}' for column, kind in columns)
            db.execute(f'CREATE TABLE "{name}" ({ddl})')
            rows = table(directory, name).to_pylist()
            marks = ", ".join("?" for _ in columns)
            db.executemany(f'INSERT INTO "{name}" VALUES ({marks})',
                           ([_sqlite_value(row[c]) for c, _ in columns] for row in rows))
        db.commit()
    finally:
        db.close()
    partial.rename(path)
    return path


_POSTGRES_TYPES = {"INTEGER": "INTEGER", "BIGINT": "BIGINT", "DATE": "DATE", "VARCHAR": "VARCHAR"}


def load_postgres(server: Any, directory: Path, database: str = "postgres") -> None:
    """Every table into PostgreSQL through psql's COPY (CSV: NULL unquoted, empty strings quoted)."""
    with tempfile.TemporaryDirectory(prefix="afq-tpcds-") as scratch:
        for name, columns in schema(directory).items():
            ddl = ", ".join(f'"{c}" {_POSTGRES_TYPES.get(k, k.replace("DECIMAL", "NUMERIC"))}' for c, k in columns)
            server.psql(f'DROP TABLE IF EXISTS "{name}"; CREATE TABLE "{name}" ({ddl})', database)
            csv = Path(scratch) / f"{name}.csv"
            pacsv.write_csv(table(directory, name), csv,
                            pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
            with open(csv, "rb") as data:
                result = subprocess.run(
                    [str(server.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", server.host, "-p",
                     str(server.port), "-U", server.superuser, "-d", database, "-c",
                     f'COPY "{name}" FROM STDIN WITH (FORMAT csv)'],
                    stdin=data, capture_output=True, text=True, timeout=300, check=False)
            if result.returncode != 0:
                raise RuntimeError(f"loading {name} into PostgreSQL failed: {result.stderr.strip()[-2000:]}")
        server.psql("ANALYZE", database)
