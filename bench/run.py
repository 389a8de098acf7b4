"""``make bench``: every benchmark, each in fresh processes, then the report ``bench/README.md``.

    python -m bench.run [--quick] [--only throughput,profile,cold,memory,parallel,bundles,oracle,export]
                        [--sources sqlite,sqlite_wide,postgres,postgres_wide,snowflake,snowflake_wide] [--report-only]

Sections run in a fixed order, each as ``python -m bench.<module>`` printing one JSON line; their figures go to
``bench/results.json`` and the report is rendered from that file (``--report-only`` renders it again without
measuring). ``--quick`` uses small sizes (a few minutes) to check that everything still runs; its numbers are
not worth reporting. ``--only`` measures some sections and keeps the others' previous figures; ``--sources``
does the same for the throughput section's sources. The report's plot (``bench/throughput.png``, rows/s per
path and table shape) is drawn by ``bench.plot`` in its own venv (matplotlib).
Servers (PostgreSQL, SeaweedFS, fakesnow) are started on free loopback ports and stopped by PID.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO, git_commit, machine, run_module, seaweedfs

RESULTS = REPO / "bench" / "results.json"
REPORT = REPO / "bench" / "README.md"
PLOT = REPO / "bench" / "throughput.png"
PLOT_LOCK = REPO / "bench" / "requirements-plot.txt"
SECTIONS = ("throughput", "profile", "cold", "memory", "parallel", "bundles", "oracle", "export")

THROUGHPUT_SOURCES = ("sqlite", "sqlite_wide", "postgres", "postgres_wide", "snowflake", "snowflake_wide")
FULL = {"sqlite_rows": 1_000_000, "sqlite_repeat": 4, "postgres_rows": 200_000, "postgres_repeat": 3,
        "sqlite_wide_rows": 1_000_000, "sqlite_wide_repeat": 3, "postgres_wide_rows": 1_000_000,
        "postgres_wide_repeat": 2,
        "snowflake_rows": 300_000, "snowflake_repeat": 3, "snowflake_wide_rows": 200_000, "snowflake_wide_repeat": 3,
        "profile_sqlite_rows": 300_000,
        "profile_postgres_rows": 100_000, "profile_gb": 0.25, "cold_runs": 11, "memory_gb": 1.0,
        "memory_sqlite_rows": 1_000_000, "parallel_rows": 10_000_000, "parallel_repeat": 2,
        "bundle_arch": "x86_64,arm64",
        "oracle_rows": 1_000_000, "export_rows": 2_000_000, "export_small_rows": 500_000}
QUICK = {"sqlite_rows": 100_000, "sqlite_repeat": 2, "postgres_rows": 150_000, "postgres_repeat": 2,
         "sqlite_wide_rows": 100_000, "sqlite_wide_repeat": 2, "postgres_wide_rows": 100_000,
         "postgres_wide_repeat": 2,
         "snowflake_rows": 200_000, "snowflake_repeat": 2, "snowflake_wide_rows": 60_000, "snowflake_wide_repeat": 2,
         "profile_sqlite_rows": 100_000,
         "profile_postgres_rows": 100_000, "profile_gb": 0.05, "cold_runs": 3, "memory_gb": 0.1,
         "memory_sqlite_rows": 100_000, "parallel_rows": 1_000_000, "parallel_repeat": 1,
         "bundle_arch": "x86_64",
         "oracle_rows": 200_000, "export_rows": 100_000, "export_small_rows": 25_000}


def _section(name: str, sizes: dict[str, Any], previous: Any = None,
             sources: tuple[str, ...] = THROUGHPUT_SOURCES) -> Any:
    if name == "throughput":
        out: dict[str, Any] = {k: v for k, v in (previous or {}).items() if k not in sources}
        work = Path(tempfile.mkdtemp(prefix="afq-bench-s3-"))
        try:
            with seaweedfs(work / "seaweedfs") as env:
                for source in sources:
                    print(f"  throughput: {source}", flush=True)
                    out[source] = run_module("bench.throughput", [
                        source, "--rows", str(sizes[f"{source}_rows"]), "--repeat", str(sizes[f"{source}_repeat"]),
                        "--bucket", env["AFQ_BENCH_BUCKET"]], env)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return out
    if name == "profile":
        return {"sqlite": run_module("bench.profile", ["sqlite", "--rows", str(sizes["profile_sqlite_rows"])]),
                "postgres": run_module("bench.profile", ["postgres", "--rows", str(sizes["profile_postgres_rows"])]),
                "framework": run_module("bench.profile", ["framework", "--gb", str(sizes["profile_gb"])])}
    if name == "cold":
        return run_module("bench.cold_start", ["--runs", str(sizes["cold_runs"]), "--bundle"])
    if name == "memory":
        return run_module("bench.spill_bench", ["--json", "--gb", str(sizes["memory_gb"]),
                                                "--sqlite-rows", str(sizes["memory_sqlite_rows"])])
    if name == "parallel":
        return run_module("bench.parallel", ["--rows", str(sizes["parallel_rows"]),
                                             "--repeat", str(sizes["parallel_repeat"])])
    if name == "bundles":
        return run_module("bench.bundles", ["--arch", sizes["bundle_arch"]])
    if name == "oracle":
        return run_module("bench.oracle_conversion", [str(sizes["oracle_rows"]), "--json"])
    if name == "export":
        return run_module("bench.export", ["--rows", str(sizes["export_rows"]),
                                           "--small-rows", str(sizes["export_small_rows"])])
    raise SystemExit(f"unknown section {name!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the benchmarks run, not speed")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"sections to measure ({','.join(SECTIONS)})")
    parser.add_argument("--sources", default=",".join(THROUGHPUT_SOURCES),
                        help=f"throughput sources to measure ({','.join(THROUGHPUT_SOURCES)}); the others keep their "
                             "previous figures")
    parser.add_argument("--report-only", action="store_true", help="render bench/README.md from bench/results.json")
    parser.add_argument("--out", default=None, help="results file (default bench/results.json; --quick: a temp file)")
    args = parser.parse_args(argv)
    from bench.report import render

    out = Path(args.out) if args.out else (Path(tempfile.gettempdir()) / "afq-bench-quick.json" if args.quick
                                           else RESULTS)
    if args.report_only:
        results = json.loads(RESULTS.read_text())
        REPORT.write_text(render(results))
        print(f"wrote {REPORT}")
        print(_plot(RESULTS, PLOT))
        return 0
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {','.join(SECTIONS)}")
    sources = tuple(s.strip() for s in args.sources.split(",") if s.strip())
    if set(sources) - set(THROUGHPUT_SOURCES):
        parser.error(f"unknown sources {sorted(set(sources) - set(THROUGHPUT_SOURCES))}")
    results: dict[str, Any] = json.loads(out.read_text()) if out.exists() and not args.quick else {}
    results.setdefault("sections", {})
    results["machine_start"] = machine()
    results["commit"] = git_commit()
    results["quick"] = args.quick
    sizes = QUICK if args.quick else FULL
    results["sizes"] = sizes
    started = time.perf_counter()
    for name in wanted:
        print(f"[{time.perf_counter() - started:6.0f} s] {name}", flush=True)
        section_start = time.perf_counter()
        at = machine()["date"]
        load = round(os.getloadavg()[0], 2)
        previous = (results["sections"].get(name) or {}).get("data")
        results["sections"][name] = {"seconds": None, "started": at, "load": load, "commit": results["commit"],
                                     "data": _section(name, sizes, previous, sources)}
        results["sections"][name]["seconds"] = round(time.perf_counter() - section_start, 1)
        out.write_text(json.dumps(results, indent=1, default=str) + "\n")  # keep what is done if a later one fails
    results["machine_end"] = machine()
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    report = render(results)
    if args.quick:
        quick_report = out.with_suffix(".md")
        quick_report.write_text(report)
        print(f"quick run: figures in {out}, report in {quick_report} (bench/README.md is left as it is)")
        print(_plot(out, out.with_suffix(".png")))
    else:
        REPORT.write_text(report)
        print(f"wrote {REPORT} and {out} in {results['total_seconds']:.0f} s")
        print(_plot(out, PLOT))
    return 0


def _plot(results: Path, png: Path) -> str:
    """Draw the plot with matplotlib from its own venv (numpy in .venv would change pyarrow's import)."""
    from tests.servers.tool_venv import ensure

    python = ensure(PLOT_LOCK, REPO / ".venv-plot")
    out = subprocess.run([str(python), "-m", "bench.plot", str(results), str(png)], cwd=REPO, capture_output=True,
                         text=True, check=False, env={**os.environ, "MPLBACKEND": "Agg"})
    if out.returncode != 0:
        raise RuntimeError(f"bench.plot failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
