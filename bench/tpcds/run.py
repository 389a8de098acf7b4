"""Run the TPC-DS queries through ``afq query`` (the local Athena) and compare each answer with DuckDB's.

    python -m bench.tpcds.run [--source sqlite|postgres|all] [--sf 0.01] [--queries 1-99] [--json FILE]

SQLite: one database file, catalog ``tpcds`` (``tpcds.main.store_sales``). PostgreSQL: a throwaway server
(tests/servers/postgres.py) through the generic JDBC adapter, catalog ``pg`` (``pg.public.store_sales``).
Each query runs in a fresh ``LocalAthena`` (the whole protocol: Ping, capabilities, GetTable, layout, splits,
ReadRecords per split, DuckDB for the rest). Prints one line per query and a summary; ``--json`` keeps them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from bench.tpcds import data, queries
from bench.tpcds.compare import ATHENA, DIFFERENT, EXACT, Outcome, compare

FAILED = "failed"


@dataclass
class QueryRun:
    source: str
    query: int
    verdict: str
    rules: list[str]
    detail: str
    seconds: float
    rows: int


@dataclass
class Source:
    name: str
    catalog: str
    schema: str
    env: dict[str, str]


@contextmanager
def sqlite_source(directory: Path) -> Iterator[Source]:
    path = data.sqlite_database(directory)
    yield Source("sqlite", "tpcds", "main", {"tpcds_connection_string": f"sqlite://jdbc:sqlite:{path}"})


@contextmanager
def postgres_source(directory: Path) -> Iterator[Source]:
    from tests.servers.postgres import start_postgres, stop_postgres

    server, process = start_postgres()
    try:
        data.load_postgres(server, directory)
        yield Source("postgres", "pg", "public", {"pg_connection_string": f"jdbc://{server.jdbc_url}"})
    finally:
        stop_postgres(process, server.directory)


def run_query(directory: Path, source: Source, number: int) -> QueryRun:
    from connector.local.engine import LocalAthena, QueryOptions
    from connector.local.targets import InProcessTarget

    sql = queries.athena_sql(directory, number, source.catalog, source.schema)
    reference = pq.read_table(directory / "answers" / f"{number}.parquet")
    started = time.perf_counter()
    athena = LocalAthena(InProcessTarget("connector.handler.lambda_handler"), QueryOptions())
    try:
        result = athena.run(sql)
    except Exception as e:  # a failed query is a result of the run, with its message
        message = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
        return QueryRun(source.name, number, FAILED, [], f"{type(e).__name__}: {message}",
                        round(time.perf_counter() - started, 3), 0)
    finally:
        athena.close()
    seconds = round(time.perf_counter() - started, 3)
    outcome: Outcome = compare(result.table, reference, ordered="ORDER BY" in sql.upper(),
                               athena=queries.ATHENA_ANSWERS.get(number))
    return QueryRun(source.name, number, outcome.verdict, sorted(outcome.rules), outcome.detail, seconds,
                    result.table.num_rows)


def run_source(directory: Path, source: Source, numbers: list[int], spill: Path) -> Iterator[QueryRun]:
    """Each query's result as it completes; the spilled blocks of a query are removed after it."""
    from connector import handler

    saved = {k: os.environ.get(k) for k in source.env}
    os.environ.update(source.env)
    handler.reset()
    try:
        for number in numbers:
            yield run_query(directory, source, number)
            for child in spill.iterdir():
                shutil.rmtree(child, ignore_errors=True)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        handler.reset()


def summary(runs: list[QueryRun]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for run in runs:
        counts = out.setdefault(run.source, {EXACT: 0, ATHENA: 0, DIFFERENT: 0, FAILED: 0})
        counts[run.verdict] += 1
    return out


def _numbers(text: str) -> list[int]:
    chosen: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        chosen.extend(range(int(low), int(high or low) + 1))
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--sf", type=float, default=0.01)
    parser.add_argument("--queries", default="1-99", help="e.g. 1-99 or 3,7,10-12")
    parser.add_argument("--json", type=Path, help="write every query's result here")
    args = parser.parse_args(argv)
    directory = data.dataset(args.sf)
    spill = Path(tempfile.mkdtemp(prefix="afq-tpcds-spill-"))
    os.environ["AFQ_LOCAL_SPILL_DIR"] = str(spill)
    try:
        runs = _run(directory, args.source, _numbers(args.queries), spill)
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    totals = summary(runs)
    for name, counts in totals.items():
        print(f"{name}: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + f" of {len(_numbers(args.queries))}")
    if args.json:
        meta: dict[str, Any] = {"manifest": data.manifest(directory), "summary": totals}
        args.json.write_text(json.dumps({**meta, "runs": [asdict(r) for r in runs]}, indent=1) + "\n")
    return 0 if all(c[DIFFERENT] == 0 and c[FAILED] == 0 for c in totals.values()) else 1


def _run(directory: Path, which: str, numbers: list[int], spill: Path) -> list[QueryRun]:
    sources = {"sqlite": sqlite_source, "postgres": postgres_source}
    chosen = list(sources) if which == "all" else [which]
    runs: list[QueryRun] = []
    for name in chosen:
        with sources[name](directory) as source:
            for run in run_source(directory, source, numbers, spill):
                runs.append(run)
                rules = f" ({', '.join(run.rules)})" if run.rules else ""
                print(f"{run.source:8} q{run.query:<3} {run.verdict}{rules} {run.seconds:.2f}s {run.rows} rows"
                      f"{' - ' + run.detail if run.detail else ''}", flush=True)
    return runs


if __name__ == "__main__":
    sys.exit(main())
