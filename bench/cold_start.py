"""Cold start: handler import time and the first Ping / ListSchemas / ReadRecords of a fresh process.

    python -m bench.cold_start [--runs 7] [--bundle]

Each measurement is a new interpreter (median of ``runs``): the interpreter alone, ``import pyarrow`` alone
(the floor every Arrow connector pays), ``import connector.handler``, and for each request kind a process that
imports the handler and answers that request first, then the same request again (warm). The child measures
its own import and call times with ``perf_counter``; the parent measures the whole process. A SQLite table of
1,000 rows is the source (the ReadRecords answer is inline). ``-X importtime`` of the ReadRecords process says
which packages the time goes to.

``--bundle`` repeats the process measurements from the unzipped slim Lambda bundle of ``afq package sqlite``,
run by the Lambda runtime's Python (3.12) with ``-S`` and only the bundle on ``PYTHONPATH``, as Lambda does.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.common import REPO, emit

# Runs in the fresh process: only the standard library and the handler, never bench/ (absent from a bundle).
CHILD = r"""
import json, sys, time
start = time.perf_counter()
from connector.handler import lambda_handler
imported = time.perf_counter()
event = json.loads(open(sys.argv[1]).read()) if len(sys.argv) > 1 else None
out = {"import": imported - start}
if event is not None:
    t = time.perf_counter(); first = lambda_handler(event, None); out["first"] = time.perf_counter() - t
    t = time.perf_counter(); lambda_handler(event, None); out["second"] = time.perf_counter() - t
    out["type"] = first["@type"]
print(json.dumps(out))
"""

KINDS = ("Ping", "ListSchemas", "ReadRecords")


def _events(directory: Path) -> dict[str, Path]:
    """A 1,000-row SQLite table and the three request events, built here with the protocol classes."""
    import sqlite3

    from bench.common import read_events, service
    from connector.protocol import Identity, ListSchemasRequest, PingRequest, TableName

    db = directory / "cold.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, amount REAL, created TIMESTAMP)")
        connection.executemany("INSERT INTO t VALUES (?, ?, ?, ?)",
                               ((i, f"name {i}", i * 0.5, f"2024-01-01 10:{i % 60:02d}:00") for i in range(1000)))
    env = {"default": f"sqlite://jdbc:sqlite:{db}"}
    os.environ.update(env)
    svc = service(env)
    read = read_events(svc.handle, TableName("main", "t"), query_id="cold-start")[0]
    svc.pool.close()
    identity = Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/bench")
    events = {"Ping": PingRequest(identity, "default", "cold-start").to_wire(),
              "ListSchemas": ListSchemasRequest(identity, "cold-start", "default").to_wire(),
              "ReadRecords": read}
    paths = {}
    for kind, event in events.items():
        paths[kind] = directory / f"{kind}.json"
        paths[kind].write_text(json.dumps(event))
    return paths


def _process(command: list[str], env: dict[str, str], runs: int, cwd: Path) -> dict[str, Any]:
    """Median wall time of the whole process, and the medians of what the child printed."""
    walls, outputs = [], []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=cwd)
        walls.append(time.perf_counter() - start)
        if out.returncode != 0:
            raise RuntimeError(f"{command[:3]} failed:\n{out.stderr[-3000:]}")
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if lines:
            outputs.append(json.loads(lines[-1]))
    result: dict[str, Any] = {"process_ms": round(statistics.median(walls) * 1000, 1)}
    for key in ("import", "first", "second"):
        values = [o[key] for o in outputs if key in o]
        if values:
            result[f"{key}_ms"] = round(statistics.median(values) * 1000, 1)
    if outputs and "type" in outputs[-1]:
        result["response"] = outputs[-1]["type"]
    return result


def _importtime(command: list[str], env: dict[str, str], cwd: Path, top: int = 12) -> list[dict[str, Any]]:
    """``-X importtime``: self time of every imported module, summed by top-level package (largest first)."""
    out = subprocess.run([command[0], "-X", "importtime", *command[1:]], env=env, capture_output=True, text=True,
                         check=False, cwd=cwd)
    totals: dict[str, int] = {}
    for line in out.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| *(\S+)", line)
        if found:
            name = found.group(3).split(".")[0]
            totals[name] = totals.get(name, 0) + int(found.group(1))
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return [{"package": k, "ms": round(v / 1000, 1)} for k, v in ranked]


def measure(python: str, env: dict[str, str], runs: int, events: dict[str, Path], cwd: Path,
            flags: tuple[str, ...] = ()) -> dict[str, Any]:
    base = [python, *flags]
    rows = {
        "interpreter (python -c pass)": _process([*base, "-c", "pass"], env, runs, cwd),
        "import pyarrow": _process([*base, "-c", "import pyarrow"], env, runs, cwd),
        "import connector.handler": _process([*base, "-c", CHILD], env, runs, cwd),
    }
    for kind in KINDS:
        rows[f"first {kind}"] = _process([*base, "-c", CHILD, str(events[kind])], env, runs, cwd)
    return {"rows": rows, "importtime": _importtime([*base, "-c", CHILD, str(events["ReadRecords"])], env, cwd)}


def _bundle(work: Path) -> tuple[str, Path, dict[str, Any]] | None:
    """The unzipped ``afq package sqlite`` bundle and the runtime's Python, or None if it cannot be built."""
    from connector.packaging.targets import find_interpreter

    try:
        interpreter = find_interpreter("3.12")
    except Exception as e:  # no python3.12 here: the report says so
        print(f"no bundle measurement: {e}", file=sys.stderr)
        return None
    out = subprocess.run([str(Path(sys.executable).with_name("afq")), "package", "sqlite", "--out", str(work / "dist")],
                         capture_output=True, text=True, check=False, cwd=REPO)
    if out.returncode != 0:
        print(f"afq package sqlite failed: {out.stderr[-2000:]}", file=sys.stderr)
        return None
    report = next((work / "dist").glob("afq-sqlite-*.json"))
    info = json.loads(report.read_text())
    root = work / "task"
    with zipfile.ZipFile(work / "dist" / info["zip"]) as archive:
        archive.extractall(root)
    return interpreter, root, info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--bundle", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="afq-bench-cold-"))
    try:
        events = _events(work)
        home = work / "home"
        home.mkdir()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
               "default": os.environ["default"], "AFQ_LOCAL_SPILL_DIR": str(work / "spill")}
        result: dict[str, Any] = {"runs": args.runs, "dev": measure(sys.executable, env, args.runs, events, work)}
        if args.bundle:
            found = _bundle(work)
            if found is not None:
                interpreter, root, info = found
                bundle_env = {**env, "PYTHONPATH": str(root), "LAMBDA_TASK_ROOT": str(root)}
                result["bundle"] = {"interpreter": interpreter, "zip": info["zip"],
                                    "unzipped_bytes": info["unzipped_bytes"],
                                    **measure(interpreter, bundle_env, args.runs, events, work, ("-S",))}
        emit(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
