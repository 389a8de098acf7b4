"""``afq query`` exports: 2M rows as CSV (and JSON lines, Parquet), before and after streaming exports.

    python -m bench.export [--rows 2000000] [--small-rows 500000] [--baseline COMMIT] [--repeat 1]

*Before* is the code of ``--baseline`` (the commit before exports streamed: whole result in memory, every value
formatted by Python), unpacked from git into a temporary directory; *after* is this checkout. Both run as
``afq query`` in fresh processes, one after the other, on the same data, on this machine, in this run: wall
time and peak RSS (``ru_maxrss`` of that process alone). Three sources:

* **federated**: the demo's ``orders`` table (id, customer_id, DECIMAL(12,2) amount, TIMESTAMP, status, note)
  with ``--rows`` rows in SQLite, read through the in-process connector (one split, spilled in 16 MB blocks);
  also with ``--small-rows``, to show how the peak grows with the table (or does not);
* **lake**: the same rows as a Parquet file (``lake.bench.orders``), no connector: the export path alone;
* **formatting**: the same Arrow table written by the old and the new CSV writer in one process (no query).

The CSV outputs of before and after are parsed and compared row by row (values equal; only the quoting
differs), so a faster but different export cannot pass for an improvement.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO, emit

#: The last commit whose exports formatted every value in Python and held the whole result in memory.
BASELINE = "beb940d"
QUERY = "SELECT * FROM shop.main.orders"
LAKE_QUERY = "SELECT * FROM lake.bench.orders"
MB = 1024 * 1024


def checkout(commit: str, into: Path) -> Path:
    """The framework as it was at ``commit`` (connector/, adapters/, spill/), unpacked from git."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", commit, "connector", "adapters", "spill"], cwd=REPO,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


#: Run in the child: afq's main, then its own peak RSS. ``VmHWM`` is the high-water mark of the process's memory
#: since exec; ``ru_maxrss`` would also count the benchmark process it was forked from.
_CHILD = """
import sys
sys.path[:0] = [{code!r}, {site!r}]
from connector.cli import main
try:
    code = main({args!r})
finally:
    with open("/proc/self/status") as status, open({peak!r}, "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
sys.exit(code)
"""


def afq(code: Path, args: list[str], env: dict[str, str], out: Path) -> dict[str, Any]:
    """``afq ARGS`` with the framework from ``code`` (python -S: the editable install cannot stand in), stdout to
    ``out``; its wall time and peak RSS."""
    site = sysconfig.get_paths()["purelib"]
    errors, peak = out.with_suffix(".stderr"), out.with_suffix(".peak")
    program = _CHILD.format(code=str(code), site=site, args=args, peak=str(peak))
    with open(out, "wb") as sink, open(errors, "wb") as err:
        start = time.perf_counter()
        returncode = subprocess.run([sys.executable, "-S", "-c", program], env=env, stdout=sink, stderr=err,
                                    cwd=out.parent, check=False).returncode
        seconds = time.perf_counter() - start
    message = errors.read_text(errors="replace")
    errors.unlink()
    if returncode != 0:
        raise RuntimeError(f"afq {' '.join(args)} failed ({returncode}): {message[-2000:]}")
    kib = int(peak.read_text())
    peak.unlink()
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(kib / 1024), "bytes": out.stat().st_size}


def first_difference(before: Path, after: Path) -> str | None:
    """Where two CSV files' values differ (row number and rows), or None; read side by side, not held whole."""
    with open(before, newline="", encoding="utf-8") as b, open(after, newline="", encoding="utf-8") as a:
        rows = enumerate(itertools.zip_longest(csv.reader(b), csv.reader(a)))
        for number, (old, new) in rows:
            if old != new:
                return f"row {number}: {old} vs {new}"
    return None


def make_data(rows: int, work: Path) -> tuple[Path, Path]:
    """The demo's orders with ``rows`` rows in SQLite, and the same rows as a Parquet lake file."""
    import sqlite3

    import pyarrow as pa
    import pyarrow.parquet as pq

    from connector.demo_data import create_demo_database

    db = Path(create_demo_database(str(work / f"shop-{rows}.db"), orders=rows))
    lake = work / f"lake-{rows}" / "bench" / "orders.parquet"
    lake.parent.mkdir(parents=True)
    with sqlite3.connect(db) as con:
        cursor = con.execute("SELECT id, customer_id, amount, ordered_at, status, note FROM orders ORDER BY id")
        names = ["id", "customer_id", "amount", "ordered_at", "status", "note"]
        writer = None
        while chunk := cursor.fetchmany(200_000):
            columns = list(zip(*chunk, strict=True))
            table = pa.table({
                "id": pa.array(columns[0], pa.int64()), "customer_id": pa.array(columns[1], pa.int64()),
                "amount": pa.array([_decimal(v) for v in columns[2]], pa.decimal128(12, 2)),
                "ordered_at": pa.array(columns[3], pa.string()).cast(pa.timestamp("ms")),
                "status": pa.array(columns[4], pa.string()), "note": pa.array(columns[5], pa.string())})
            writer = writer or pq.ParquetWriter(lake, table.schema)
            writer.write_table(table.select(names))
        if writer is not None:
            writer.close()
    return db, lake.parent.parent


def _decimal(value: Any) -> Any:
    from decimal import Decimal

    return Decimal(str(value)).quantize(Decimal("0.01"))


def formatting(lake_dir: Path, old_code: Path) -> dict[str, Any]:
    """The old and the new CSV writer on the same Arrow table, in this process: formatting alone."""
    import importlib.util

    import pyarrow.parquet as pq

    from connector.local.output import write_csv

    table = pq.read_table(lake_dir / "bench" / "orders.parquet")
    spec = importlib.util.spec_from_file_location("afq_old_output", old_code / "connector" / "local" / "output.py")
    assert spec is not None and spec.loader is not None
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    figures = {}
    for label, write in (("before", old.write_csv), ("after", write_csv)):
        sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        try:
            start = time.perf_counter()
            write(table, sink)
            figures[label] = round(time.perf_counter() - start, 2)
        finally:
            sink.close()
    return {"rows": table.num_rows, "arrow_mb": round(table.nbytes / 1e6, 1), **figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--small-rows", type=int, default=500_000)
    parser.add_argument("--baseline", default=BASELINE, help="commit whose afq is 'before'")
    parser.add_argument("--json", action="store_true", help="(accepted for bench.run; the result is JSON anyway)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="afq-bench-export-"))
    try:
        old_code = checkout(args.baseline, work / "baseline")
        new_code = REPO
        big_db, lake_dir = make_data(args.rows, work)
        small_db, _ = make_data(args.small_rows, work) if args.small_rows else (None, None)
        base_env = {k: v for k, v in os.environ.items()
                    if not (k == "default" or k.endswith("_connection_string") or k.startswith("AFQ_"))}
        base_env["AFQ_LOCAL_SPILL_DIR"] = str(work / "spill")
        runs: list[dict[str, Any]] = []

        def measure(source: str, rows: int, fmt: str, db: Path | None, sql: str) -> None:
            env = {**base_env, "shop_connection_string": f"sqlite://jdbc:sqlite:{db}"} if db else dict(base_env)
            common = ["query", "--quiet", "--format", fmt, "--lake-dir", str(lake_dir), sql]
            for label, code in (("before", old_code), ("after", new_code)):
                out = work / f"{source}-{rows}-{label}.{fmt}"
                print(f"  export: {source} {rows:,} rows {fmt} {label}", file=sys.stderr, flush=True)
                figures = afq(code, common, env, out)
                runs.append({"source": source, "rows": rows, "format": fmt, "version": label, **figures})
            if fmt == "csv":  # the same values, whatever the quoting
                difference = first_difference(work / f"{source}-{rows}-before.csv",
                                              work / f"{source}-{rows}-after.csv")
                if difference is not None:
                    raise RuntimeError(f"{source}: the new CSV holds other values than the old one at {difference}")
                runs[-1]["same_values_as_before"] = True
            for label in ("before", "after"):
                (work / f"{source}-{rows}-{label}.{fmt}").unlink()
            shutil.rmtree(work / "spill", ignore_errors=True)

        measure("federated", args.rows, "csv", big_db, QUERY)
        if small_db is not None:
            measure("federated", args.small_rows, "csv", small_db, QUERY)
        measure("lake", args.rows, "csv", None, LAKE_QUERY)
        measure("lake", args.rows, "jsonl", None, LAKE_QUERY)
        parquet = work / "after.parquet"
        figures = afq(new_code, ["query", "--quiet", "--lake-dir", str(lake_dir), "--output", str(parquet),
                                 LAKE_QUERY], base_env, work / "parquet.out")
        runs.append({"source": "lake", "rows": args.rows, "format": "parquet", "version": "after", **figures,
                     "bytes": parquet.stat().st_size})
        stage = formatting(lake_dir, old_code)
        emit({"baseline": args.baseline, "rows": args.rows, "small_rows": args.small_rows, "runs": runs,
              "formatting": stage, "block_size_mb": 16})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
