"""Local Athena throughput: a full scan through the protocol vs the raw driver, in the same run.

    .venv/bin/python bench/local_athena.py [--rows 200000]

Measures (best of 3): sqlite3 fetchall of the table; ``afq query`` in-process with 1 and 4 splits; the same
through awslambdaric (2 handler processes); the per-query overhead of a one-row query. Numbers go to
bench/local-athena.md by hand - they are never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable


def build(path: str, rows: int) -> None:
    rng = random.Random(7)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v DOUBLE, s TEXT, d DECIMAL(12, 2), "
               "ts TIMESTAMP)")
    db.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                   ((i, rng.randrange(1000), rng.random(), f"name-{i % 977}", f"{rng.randrange(100000) / 100:.2f}",
                     f"2024-01-{1 + i % 28:02d} 10:{i % 60:02d}:00") for i in range(rows)))
    db.commit()
    db.close()


def best(label: str, run: Callable[[], int], repeat: int = 3) -> float:
    times = []
    result = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    seconds = min(times)
    print(f"{label:<55} {seconds * 1000:9.1f} ms   ({result:,} rows)")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="afq-bench-")
    path = os.path.join(directory, "bench.db")
    build(path, args.rows)
    # The connector's own (lower-case) variable names, as on Lambda.
    os.environ.update({"default": f"sqlite://jdbc:sqlite:{path}",
                       "AFQ_LOCAL_SPILL_DIR": os.path.join(directory, "spill")})

    from connector import handler
    from connector.local.engine import LocalAthena
    from connector.local.runtime_api import RuntimeTarget
    from connector.local.targets import InProcessTarget

    def raw() -> int:
        db = sqlite3.connect(path)
        try:
            return len(db.execute("SELECT id, k, v, s, d, ts FROM t").fetchall())
        finally:
            db.close()

    scan = "SELECT count(*) AS n, sum(k) AS k, max(s) AS s, sum(d) AS d, max(ts) AS ts, avg(v) AS v FROM b.main.t"

    def afq(target: object) -> Callable[[], int]:
        def run() -> int:
            athena = LocalAthena(target)  # type: ignore[arg-type]
            result = athena.run(scan)
            return sum(r.num_rows for s in result.scans for r in s.results)
        return run

    print(f"{args.rows:,} rows x 6 columns (int, int, double, text, decimal, timestamp), SQLite file")
    base = best("sqlite3 fetchall (raw driver)", raw)
    for splits in ("", str(args.rows // 4 + 1)):
        os.environ.update({"sqlite_rows_per_split": splits})
        handler.reset()
        label = f"afq query in-process, {4 if splits else 1} split(s)"
        seconds = best(label, afq(InProcessTarget()))
        print(f"{'':<55} {seconds / base:9.2f} x raw")
    os.environ.update({"sqlite_rows_per_split": str(args.rows // 4 + 1)})
    with RuntimeTarget(workers=2) as target:
        target.start()
        seconds = best("afq query via awslambdaric (2 processes), 4 splits", afq(target))
        print(f"{'':<55} {seconds / base:9.2f} x raw")
        best("one-row query via awslambdaric (all protocol calls)",
             lambda: LocalAthena(target).run("SELECT id FROM b.main.t WHERE id = 7").table.num_rows, 5)
    handler.reset()
    best("one-row query in-process (all protocol calls)",
         lambda: LocalAthena(InProcessTarget()).run("SELECT id FROM b.main.t WHERE id = 7").table.num_rows, 5)


if __name__ == "__main__":
    main()
