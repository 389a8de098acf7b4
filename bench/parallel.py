"""Parallel splits: one scan of a 10M-row SQLite table read by the local Athena with 1, 2, 4 and 8 splits.

    python -m bench.parallel [--rows 10000000] [--splits 1,2,4,8]

``afq query`` semantics (``connector.local.engine.LocalAthena``): GetSplits, then ReadRecords for every split on
a thread pool, each spilled result read back from the encrypted blocks, the aggregate computed by DuckDB.
``sqlite_rows_per_split`` makes the splits (rowid ranges). Two targets:

* in-process: the handler runs on the local Athena's threads (one interpreter: the GIL serializes Python);
* runtime: the handler in ``awslambdaric`` processes behind a loopback Lambda Runtime API, one per split,
  as Lambda runs one execution environment per concurrent invocation (separate interpreters, no shared GIL).

CPU seconds of the local Athena and of every handler process are recorded with each run: CPU over wall time is
the number of cores the run really got on this shared machine. Also: the raw driver (``sqlite3``
``fetchmany``, one thread) on the same rows, and the per-query overhead of the whole protocol on a one-row
query (Ping, capabilities, GetTable, layout, splits, ReadRecords). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import emit

SCAN = "SELECT count(*) AS n, sum(k) AS k, max(s) AS s, sum(v) AS v FROM b.main.t"


def build(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v REAL, s TEXT)")
        db.execute("INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
                   "SELECT x, x % 1000, x * 0.5, 'name-' || (x % 977) FROM c", (rows,))
    db.close()


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = run()
    return time.perf_counter() - start, value


def _cpu(pids: list[int]) -> float:
    """CPU seconds used so far by this process (all threads) and the given child processes."""
    own = os.times()
    total = own.user + own.system
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--splits", default="1,2,4,8")
    parser.add_argument("--targets", default="in-process,runtime")
    parser.add_argument("--repeat", type=int, default=2, help="rounds; the best of each configuration counts")
    args = parser.parse_args(argv)
    splits = [int(s) for s in args.splits.split(",")]
    work = Path(tempfile.mkdtemp(prefix="afq-bench-parallel-"))
    try:
        path = work / "t.db"
        started = time.perf_counter()
        build(path, args.rows)
        build_seconds = time.perf_counter() - started
        os.environ.update({"default": f"sqlite://jdbc:sqlite:{path}", "AFQ_LOCAL_SPILL_DIR": str(work / "spill")})

        from connector import handler
        from connector.local.engine import LocalAthena, QueryOptions
        from connector.local.runtime_api import RuntimeTarget
        from connector.local.targets import InProcessTarget

        def raw() -> int:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                cursor, n = db.execute("SELECT k, v, s FROM t"), 0
                while chunk := cursor.fetchmany(50_000):
                    n += len(chunk)
                return n
            finally:
                db.close()

        def query(target: Any) -> Callable[[], int]:
            def run() -> int:
                result = LocalAthena(target, QueryOptions(max_workers=8)).run(SCAN)
                count = result.table.column("n")[0].as_py()
                if count != args.rows:
                    raise SystemExit(f"the scan counted {count} rows, expected {args.rows}")
                shutil.rmtree(work / "spill", ignore_errors=True)
                return sum(len(s.splits) for s in result.scans)
            return run

        # Every configuration is timed once per round, rounds interleaved, so load from other jobs on this shared
        # machine spreads over all of them; the best round counts. Runtime workers stay up across rounds.
        targets = args.targets.split(",")
        configs: list[tuple[str, int, Any]] = []
        runtimes = []
        try:
            for count in splits:
                per_split = str(-(-args.rows // count))
                if "in-process" in targets:
                    configs.append(("in-process (threads)", count, None))
                if "runtime" in targets:
                    runtime = RuntimeTarget(workers=count, env={"sqlite_rows_per_split": per_split})
                    runtimes.append(runtime)
                    runtime.start()
                    LocalAthena(runtime).run("SELECT id FROM b.main.t WHERE id = 1")  # first requests: imports
                    configs.append((f"awslambdaric ({count} processes)", count, runtime))
            times: dict[int, list[tuple[float, float]]] = {i: [] for i in range(len(configs))}
            got: dict[int, int] = {}
            raw_times: list[float] = []
            loads: list[float] = []
            for _ in range(args.repeat):
                raw_times.append(timed(raw)[0])
                for i, (_label, count, runtime) in enumerate(configs):
                    loads.append(os.getloadavg()[0])
                    pids = [w.process.pid for w in runtime.workers] if runtime is not None else []
                    cpu = _cpu(pids)
                    if runtime is None:
                        os.environ["sqlite_rows_per_split"] = str(-(-args.rows // count))
                        handler.reset()
                        seconds, got[i] = timed(query(InProcessTarget()))
                    else:
                        seconds, got[i] = timed(query(runtime))
                    times[i].append((seconds, _cpu(pids) - cpu))
                    print(configs[i][0], count, round(seconds, 2), file=sys.stderr, flush=True)
        finally:
            for runtime in runtimes:
                runtime.close()
        os.environ.pop("sqlite_rows_per_split", None)
        results: list[dict[str, Any]] = [
            {"target": "raw sqlite3 fetchmany (1 thread, tuples)", "splits": 1, "seconds": round(min(raw_times), 2),
             "median_seconds": round(statistics.median(raw_times), 2), "rows_per_s": round(args.rows / min(raw_times))}]
        for i, (label, _count, _runtime) in enumerate(configs):
            best, cpu = min(times[i])
            results.append({"target": label, "splits": got[i], "seconds": round(best, 2),
                            "median_seconds": round(statistics.median(t for t, _ in times[i]), 2),
                            "rows_per_s": round(args.rows / best), "cpu_seconds": round(cpu, 2),
                            "cores_used": round(cpu / best, 2)})

        overhead: dict[str, float] = {}
        one_row = "SELECT id FROM b.main.t WHERE id = 7"
        handler.reset()
        target_in = InProcessTarget()
        LocalAthena(target_in).run(one_row)
        overhead["in-process"] = min(timed(lambda: LocalAthena(target_in).run(one_row))[0] for _ in range(5))
        with RuntimeTarget(workers=1) as target:
            target.start()
            LocalAthena(target).run(one_row)
            overhead["awslambdaric"] = min(timed(lambda: LocalAthena(target).run(one_row))[0] for _ in range(5))
        emit({"rows": args.rows, "build_seconds": round(build_seconds, 1), "cores": os.cpu_count(),
              "repeat": args.repeat, "load": [round(min(loads), 2), round(max(loads), 2)], "results": results,
              "one_row_query_ms": {k: round(v * 1000, 1) for k, v in overhead.items()}})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
