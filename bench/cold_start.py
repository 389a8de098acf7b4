"""Cold start: handler import time, the first Ping / ListSchemas / ReadRecords and the first whole query of a fresh
process, side by side with a fresh ``import pyarrow`` and with the peer Python SDK.

    python -m bench.cold_start [--runs 7] [--bundle] [--no-peer]

Each measurement is a new interpreter (median of ``runs``): the interpreter alone, ``import pyarrow`` alone
(the floor every Arrow connector pays), ``import connector.handler``, and for each request kind a process that
imports the handler and answers that request first, then the same request again (warm). *first query* answers
Athena's whole sequence for one query - Ping, GetTable, GetTableLayout, GetSplits, ReadRecords for every split -
each request built from the previous responses as Athena does, each response JSON-encoded. The child measures
its own import and call times with ``perf_counter``; the parent measures the whole process. A SQLite table of
500 rows is the source (the ReadRecords answer is inline). ``-X importtime`` of the first-query process says
which packages the time goes to.

``--bundle`` repeats the process measurements from the unzipped slim Lambda bundle of ``afq package sqlite``,
run by the Lambda runtime's Python (3.12) with ``-S`` and only the bundle on ``PYTHONPATH``, as Lambda does.
The peer SDK (``athena-federation`` 0.1.6, ``bench/peer_connector.py`` in its own venv ``.venv-peer``, Python
3.12) answers the same Ping and query from the same table; ``--no-peer`` leaves it out. Prints one JSON line.
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

TABLE_ROWS = 500
PEER_LOCK = REPO / "bench" / "requirements-peer.txt"
PEER_VENV = REPO / ".venv-peer"

# Runs in the fresh process: only the standard library and the handler, never bench/ (absent from a bundle).
# ``{handler}`` imports the handler as ``handle``.
CHILD = r"""
import json, sys, time
start = time.perf_counter()
{handler}
imported = time.perf_counter()
out = {{"import": imported - start}}

def call(event):
    response = handle(event, None)
    json.dumps(response, separators=(",", ":"))  # as the Lambda runtime encodes it
    return response

def query(events):
    call(events["Ping"])
    table = call(events["GetTable"])
    layout = call({{**events["GetTableLayout"], "schema": table["schema"]}})
    splits = call({{**events["GetSplits"], "partitions": layout.get("partitions")}})
    return [call({{**events["ReadRecords"], "schema": table["schema"], "split": split}})["@type"]
            for split in splits["splits"]]

if len(sys.argv) > 2:
    given = json.loads(open(sys.argv[2]).read())
    run = (lambda: [call(given)["@type"]]) if sys.argv[1] == "event" else (lambda: query(given))
    t = time.perf_counter(); kinds = run(); out["first"] = time.perf_counter() - t
    t = time.perf_counter(); run(); out["second"] = time.perf_counter() - t
    out["type"] = ",".join(sorted(set(kinds)))
print(json.dumps(out))
"""
OURS = "from connector.handler import lambda_handler as handle"
PEER = f"sys.path.insert(0, {str(REPO / 'bench')!r}); from peer_connector import lambda_handler as handle"

KINDS = ("Ping", "ListSchemas", "ReadRecords")
QUERY = "query (Ping, GetTable, GetTableLayout, GetSplits, ReadRecords)"


def _events(directory: Path) -> dict[str, Path]:
    """A 500-row SQLite table, the three single-request events and the query's event templates, built here with
    the protocol classes (the child fills each template in from the previous responses)."""
    import sqlite3

    from bench.common import read_events, service
    from connector.protocol import (
        Constraints,
        GetSplitsRequest,
        GetTableLayoutRequest,
        GetTableRequest,
        Identity,
        ListSchemasRequest,
        PingRequest,
        TableName,
        parse_response,
    )

    db = directory / "cold.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, amount REAL, created TIMESTAMP)")
        connection.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", (
            (i, f"name {i}", i * 0.5, f"2024-01-01 10:{i % 60:02d}:00") for i in range(TABLE_ROWS)))
    env = {"default": f"sqlite://jdbc:sqlite:{db}"}
    os.environ.update(env)
    svc = service(env)
    identity = Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/bench")
    table = TableName("main", "t")
    read = read_events(svc.handle, table, query_id="cold-start")[0]
    definition = parse_response(svc.handle(GetTableRequest(identity, "cold-start", "default", table).to_wire()))
    layout = parse_response(svc.handle(GetTableLayoutRequest(identity, "cold-start", "default", table, Constraints(),
                                                             definition.schema, ()).to_wire()))
    svc.pool.close()
    ping = PingRequest(identity, "default", "cold-start").to_wire()
    events: dict[str, Any] = {
        "Ping": ping, "ListSchemas": ListSchemasRequest(identity, "cold-start", "default").to_wire(),
        "ReadRecords": read,
        "query": {"Ping": ping, "GetTable": GetTableRequest(identity, "cold-start", "default", table).to_wire(),
                  "GetTableLayout": GetTableLayoutRequest(identity, "cold-start", "default", table, Constraints(),
                                                          definition.schema, ()).to_wire(),
                  "GetSplits": GetSplitsRequest(identity, "cold-start", "default", table, layout.partitions, (),
                                                Constraints(), None).to_wire(),
                  "ReadRecords": read}}
    paths = {}
    for kind, event in events.items():
        paths[kind] = directory / f"{kind}.json"
        paths[kind].write_text(json.dumps(event))
    return paths


Command = tuple[list[str], dict[str, str]]


def _round_robin(commands: dict[tuple[str, str], Command], runs: int, cwd: Path) -> dict[tuple[str, str], Any]:
    """Every command ``runs`` times, round-robin (a burst of load from other jobs hits all of them alike, as in
    ``bench.common.interleaved``): the median wall time of the whole process, and the medians of what the
    child printed."""
    walls: dict[tuple[str, str], list[float]] = {key: [] for key in commands}
    outputs: dict[tuple[str, str], list[dict[str, Any]]] = {key: [] for key in commands}
    for _ in range(runs):
        for key, (command, env) in commands.items():
            start = time.perf_counter()
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=cwd)
            walls[key].append(time.perf_counter() - start)
            if out.returncode != 0:
                raise RuntimeError(f"{command[:3]} failed:\n{out.stderr[-3000:]}")
            lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
            if lines:
                outputs[key].append(json.loads(lines[-1]))
    results: dict[tuple[str, str], Any] = {}
    for key in commands:
        result: dict[str, Any] = {"process_ms": round(statistics.median(walls[key]) * 1000, 1)}
        for part in ("import", "first", "second"):
            values = [o[part] for o in outputs[key] if part in o]
            if values:
                result[f"{part}_ms"] = round(statistics.median(values) * 1000, 1)
        if outputs[key] and "type" in outputs[key][-1]:
            result["response"] = outputs[key][-1]["type"]
        results[key] = result
    return results


def _importtime(command: list[str], env: dict[str, str], cwd: Path, top: int = 12, runs: int = 5) -> dict[str, Any]:
    """``-X importtime`` of ``runs`` processes, each module's self time the median of its runs (one process on a
    shared machine charges a burst of load to whichever module was loading): summed by top-level package (largest
    first), the modules with the largest self times, how many modules were imported and their total."""
    samples: dict[str, list[int]] = {}
    for _ in range(runs):
        out = subprocess.run([command[0], "-X", "importtime", *command[1:]], env=env, capture_output=True,
                             text=True, check=False, cwd=cwd)
        for line in out.stderr.splitlines():
            found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| *(\S+)", line)
            if found:
                samples.setdefault(found.group(3), []).append(int(found.group(1)))
    modules = {name: statistics.median(times) for name, times in samples.items()}
    totals: dict[str, float] = {}
    for name, us in modules.items():
        totals[name.split(".")[0]] = totals.get(name.split(".")[0], 0) + us
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    slowest = sorted(modules.items(), key=lambda kv: -kv[1])[:top]
    return {"runs": runs, "packages": [{"package": k, "ms": round(v / 1000, 1)} for k, v in ranked],
            "modules": [{"module": k, "ms": round(v / 1000, 1)} for k, v in slowest],
            "count": len(modules), "total_ms": round(sum(modules.values()) / 1000, 1)}


def commands(python: str, env: dict[str, str], events: dict[str, Path], flags: tuple[str, ...] = (),
             handler: str = OURS, kinds: tuple[str, ...] = KINDS) -> dict[str, Command]:
    """The processes measured for one interpreter and handler, by row label."""
    base = [python, *flags]
    child = CHILD.format(handler=handler)
    label = "import connector.handler" if handler == OURS else "import the peer connector"
    out: dict[str, Command] = {
        "interpreter (python -c pass)": ([*base, "-c", "pass"], env),
        "import pyarrow": ([*base, "-c", "import pyarrow"], env),
        label: ([*base, "-c", child], env),
    }
    for kind in kinds:
        out[f"first {kind}"] = ([*base, "-c", child, "event", str(events[kind])], env)
    out[f"first {QUERY}"] = ([*base, "-c", child, "query", str(events["query"])], env)
    return out


def _peer() -> tuple[str, dict[str, str]] | None:
    """The peer SDK's interpreter (its venv, built from its lock if missing) and versions."""
    from tests.servers.tool_venv import ensure

    try:
        python = ensure(PEER_LOCK, PEER_VENV)
    except Exception as e:  # no Python 3.12, no registry: the report says so
        print(f"no peer SDK measurement: {e}", file=sys.stderr)
        return None
    version = subprocess.run([str(python), "-c", "from importlib.metadata import version; "
                              "print(version('athena-federation'), version('pyarrow'))"],
                             capture_output=True, text=True, check=True).stdout.split()
    return str(python), {"interpreter": str(python), "athena_federation": version[0], "pyarrow": version[1]}


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
    parser.add_argument("--no-peer", action="store_true", help="leave out the peer SDK")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="afq-bench-cold-"))
    try:
        events = _events(work)
        home = work / "home"
        home.mkdir()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
               "default": os.environ["default"], "AFQ_LOCAL_SPILL_DIR": str(work / "spill")}
        result: dict[str, Any] = {"runs": args.runs, "table_rows": TABLE_ROWS, "dev": {}}
        parts: dict[str, dict[str, Command]] = {"dev": commands(sys.executable, env, events)}
        if args.bundle:
            found = _bundle(work)
            if found is not None:
                interpreter, root, info = found
                bundle_env = {**env, "PYTHONPATH": str(root), "LAMBDA_TASK_ROOT": str(root)}
                result["bundle"] = {"interpreter": interpreter, "zip": info["zip"],
                                    "unzipped_bytes": info["unzipped_bytes"]}
                parts["bundle"] = commands(interpreter, bundle_env, events, ("-S",))
        peer = None if args.no_peer else _peer()
        if peer is not None:
            result["peer"] = peer[1]
            parts["peer"] = commands(peer[0], env, events, handler=PEER, kinds=("Ping",))
        # One pool, round-robin: this project's and the peer's processes are measured in the same minutes.
        measured = _round_robin({(part, label): command for part, rows in parts.items()
                                 for label, command in rows.items()}, args.runs, work)
        for part, rows in parts.items():
            query_command, query_env = rows[f"first {QUERY}"]
            ping_command, ping_env = rows["first Ping"]
            query_imports = _importtime(query_command, query_env, work)
            result[part].update({"rows": {label: measured[(part, label)] for label in rows},
                                 "importtime": query_imports["packages"], "importtime_query": query_imports,
                                 "importtime_ping": _importtime(ping_command, ping_env, work)})
        emit(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
