"""Where ReadRecords spends its time: a pyinstrument profile of one spilled ReadRecords, summarized.

    python -m bench.profile sqlite|postgres|framework [--rows N]

``sqlite`` and ``postgres`` profile Athena's calls for one whole-table split through ``FederationService.handle``
(encrypted spill to the local spill directory); ``framework`` profiles the same for batches already in memory
(the synthetic source of ``bench.spill_bench``), so only the framework's own code is on the stack.

Two views of the samples: the functions with the most *self* time, and every sample charged to the nearest
project function on its stack (``connector/``, ``adapters/``, ``spill/``), so a driver call or a pyarrow kernel
counts for the project code that made it. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.common import REPO, emit, read_all, read_events, service

PROJECT = ("connector/", "adapters/", "spill/")


def _relative(path: str | None) -> str:
    if not path:
        return "<built-in>"
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        marker = "site-packages/"
        return path.split(marker, 1)[1] if marker in path else Path(path).name


def _is_project(path: str | None) -> bool:
    return bool(path) and _relative(path).startswith(PROJECT)


def summarize(root: Any, top: int = 15) -> dict[str, Any]:
    """Self time per function, and time charged to the nearest project function on the stack."""
    own: dict[str, float] = {}
    charged: dict[str, float] = {}

    def walk(frame: Any, owner: str) -> None:
        name = f"{frame.function} ({_relative(frame.file_path)}:{frame.line_no})"
        if _is_project(frame.file_path):
            owner = f"{frame.function} ({_relative(frame.file_path)})"
        for child in frame.children:
            if child.is_synthetic_leaf:
                own[name] = own.get(name, 0.0) + child.time
                charged[owner] = charged.get(owner, 0.0) + child.time
            else:
                walk(child, owner)

    walk(root, "(outside the project)")
    total = root.time or 1.0

    def ranked(table: dict[str, float]) -> list[dict[str, Any]]:
        items = sorted(table.items(), key=lambda kv: -kv[1])[:top]
        return [{"function": k, "seconds": round(v, 4), "share": round(v / total, 3)} for k, v in items]

    return {"total_seconds": round(total, 3), "self": ranked(own), "charged": ranked(charged)}


def profile(run: Any) -> dict[str, Any]:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    run()
    profiler.stop()
    return summarize(profiler.last_session.root_frame())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", choices=["sqlite", "postgres", "framework"])
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--gb", type=float, default=0.25, help="data of the framework target")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="afq-bench-profile-"))
    try:
        env = {"AFQ_LOCAL_SPILL_DIR": str(work / "spill")}
        if args.target == "framework":
            from bench.spill_bench import _synthetic_adapter
            from connector.protocol import TableName

            svc = service(env, _synthetic_adapter(int(args.gb * 1e9)))
            table = TableName("bench", "events")
            rows = 0
            what = f"{args.gb} GB of synthetic Arrow batches (bench.spill_bench's source) -> encrypted local spill"
        else:
            from bench.throughput import SOURCES

            rows = args.rows or {"sqlite": 300_000, "postgres": 100_000}[args.target]
            context = SOURCES[args.target](rows, work)
            source = context.__enter__()
            svc = service({**source.env, **env})
            table = source.table
            what = f"{source.notes['table'].split(';')[0]} -> one split, encrypted local spill"
        try:
            events = read_events(svc.handle, table, query_id="profile-warm")
            read_all(svc.handle, events)  # warm: connections, JVM, metadata

            def run() -> None:
                kinds = read_all(svc.handle, read_events(svc.handle, table, query_id="profile"))
                if "RemoteReadRecordsResponse" not in kinds:
                    raise SystemExit(f"expected a spilled response, got {kinds}")

            result = profile(run)
        finally:
            svc.pool.close()
            if args.target != "framework":
                context.__exit__(None, None, None)
        emit({"target": args.target, "rows": rows, "what": what, **result})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
