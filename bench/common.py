"""What every benchmark shares: timing, Athena's call sequence through the service, child processes, machine facts.

Benchmarks run each section in a fresh child process (``run_module``) so that imports, JVMs, peak RSS and
caches of one section never colour another; a child prints its figures as one JSON line, the last on stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CATALOG = "default"
MAX_BLOCK_SIZE = 16_000_000  # what Athena sends in ReadRecords (the local Athena uses the same)
MAX_INLINE_BLOCK_SIZE = 5_242_880


# ------------------------------------------------------------------------------------------ timing


@dataclass(frozen=True)
class Timing:
    best: float
    median: float
    runs: int
    value: Any = None
    cpu: float | None = None  # CPU seconds of this process (all threads) in the best run


def timed(fn: Callable[[], Any], repeat: int = 3, check: Callable[[Any], None] | None = None) -> Timing:
    """Best and median wall time of ``repeat`` calls (the best is the least disturbed by other jobs)."""
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
        if check is not None:
            check(value)
    return Timing(min(times), statistics.median(times), repeat, value)


@dataclass(frozen=True)
class Measured:
    """What a path returns when its figure is not its wall time: ``seconds`` is reported instead (the critical
    path of work that would run in parallel elsewhere - Athena's concurrent Lambdas, say)."""

    value: Any
    seconds: float


@dataclass
class ReadPath:
    """One way of reading the same rows, timed among others (``interleaved``)."""

    label: str
    kind: str
    run: Callable[[], Any]
    check: Callable[[Any], None] | None = None
    extra: dict[str, Any] | None = None


def interleaved(paths: Sequence[ReadPath], repeat: int) -> list[Timing]:
    """Time every path ``repeat`` times, round-robin, so a burst of load from other jobs on a shared machine
    hits all paths alike instead of whichever happened to run during it; best and median per path."""
    times: list[list[tuple[float, float | None]]] = [[] for _ in paths]
    values: list[Any] = [None] * len(paths)
    for _ in range(repeat):
        for i, path in enumerate(paths):
            cpu, start = time.process_time(), time.perf_counter()
            values[i] = path.run()
            wall: float = time.perf_counter() - start
            used: float | None = time.process_time() - cpu
            if isinstance(values[i], Measured):  # a critical path, not this process's wall time
                wall, used, values[i] = values[i].seconds, None, values[i].value
            times[i].append((wall, used))
            if path.check is not None:
                path.check(values[i])
    return [Timing(min(t, key=lambda x: x[0])[0], statistics.median(w for w, _ in t), repeat, v,
                   min(t, key=lambda x: x[0])[1]) for t, v in zip(times, values, strict=True)]


def figures(label: str, rows: int, data_bytes: int, timing: Timing, **extra: Any) -> dict[str, Any]:
    return {"label": label, "rows": rows, "bytes": data_bytes, "seconds": round(timing.best, 4),
            "median_seconds": round(timing.median, 4), "runs": timing.runs,
            "cpu_seconds": None if timing.cpu is None else round(timing.cpu, 4),
            "rows_per_s": round(rows / timing.best) if timing.best and rows else None,
            "mb_per_s": round(data_bytes / timing.best / 1e6, 1) if timing.best and data_bytes else None, **extra}


# ------------------------------------------------------------------------------------------ Athena's calls


def read_events(handle: Callable[[dict[str, Any]], dict[str, Any]], table: Any, *, query_id: str,
                catalog: str = CATALOG, max_block_size: int = MAX_BLOCK_SIZE,
                max_inline_block_size: int = MAX_INLINE_BLOCK_SIZE) -> list[dict[str, Any]]:
    """GetTable, GetTableLayout, GetSplits (every page): the ReadRecords events Athena would send, as wire dicts."""
    from connector.protocol import (
        Constraints,
        GetSplitsRequest,
        GetTableLayoutRequest,
        GetTableRequest,
        Identity,
        ReadRecordsRequest,
        parse_response,
    )

    identity = Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/bench")

    def call(request: Any) -> Any:
        return parse_response(handle(request.to_wire()))

    definition = call(GetTableRequest(identity, query_id, catalog, table))
    layout = call(GetTableLayoutRequest(identity, query_id, catalog, table, Constraints(), definition.schema, ()))
    splits, token = [], None
    while True:
        page = call(GetSplitsRequest(identity, query_id, catalog, table, layout.partitions, (), Constraints(), token))
        splits.extend(page.splits)
        token = page.continuation_token
        if not token:
            break
    return [ReadRecordsRequest(identity, query_id, catalog, table, definition.schema, split, Constraints(),
                               max_block_size, max_inline_block_size).to_wire() for split in splits]


def read_all(handle: Callable[[dict[str, Any]], dict[str, Any]], events: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Send every ReadRecords event; each response is JSON-encoded as the Lambda runtime would. Counts by type."""
    kinds: dict[str, int] = {}
    for event in events:
        response = handle(event)
        json.dumps(response, separators=(",", ":"))
        kind = response["@type"]
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == "RemoteReadRecordsResponse":
            kinds["blocks"] = kinds.get("blocks", 0) + len(response["remoteBlocks"])
    return kinds


def service(env: Mapping[str, str], adapter: Any = None) -> Any:
    """A ``FederationService`` configured from ``env`` (plus the process environment), optionally one adapter."""
    from connector.config import Settings
    from connector.service import FederationService

    settings = Settings.from_env({**os.environ, **env})
    return FederationService(settings, adapters=(lambda _catalog: adapter) if adapter is not None else None)


def prefetched_adapter(schema: Any, batches: Mapping[str, Sequence[Any]],
                       splits: Sequence[Mapping[str, str]]) -> Any:
    """An adapter that serves batches already in memory, by split: ReadRecords minus the source.

    ``batches`` maps ``split_key(split properties)`` to that split's logical batches (what the real adapter
    produced) and ``splits`` are the real adapter's split properties, so the same calls cost the framework
    exactly what they cost with the real source.
    """
    from connector.adapter import Adapter, Scan, SplitPage, TableDefinition, TablePage

    class Prefetched(Adapter):
        source_type = "prefetched"

        def list_schemas(self, ctx: Any) -> Sequence[str]:
            return []

        def list_tables(self, ctx: Any, schema: str, next_token: str | None, page_size: int) -> TablePage:
            return TablePage([])

        def get_table(self, ctx: Any, table: Any) -> TableDefinition:
            return TableDefinition(schema)

        def get_splits(self, ctx: Any, table: Any, partitions: Any, constraints: Any, token: str | None) -> SplitPage:
            return SplitPage(splits)

        def read_split(self, ctx: Any, table: Any, requested: Any, split: Any, constraints: Any) -> Scan:
            return Scan(iter(batches[split_key(split.properties)]))

    return Prefetched()


def split_key(properties: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(properties.items())))


# ------------------------------------------------------------------------------------------ processes


def run_module(module: str, args: Sequence[str] = (), env: Mapping[str, str] | None = None,
               timeout: float = 1800, python: str | None = None) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh process; its last stdout line is its JSON result."""
    command = [python or sys.executable, "-m", module, *args]
    out = subprocess.run(command, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                         timeout=timeout, check=False, cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed ({out.returncode}):\n{out.stderr[-4000:]}")
    lines = [line for line in out.stdout.strip().splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{module} printed no JSON result:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def emit(result: Mapping[str, Any]) -> None:
    """A child's result: one JSON line on stdout."""
    print(json.dumps(result, default=str), flush=True)


@contextmanager
def seaweedfs(directory: Path) -> Iterator[dict[str, str]]:
    """A SeaweedFS S3 server (the tests' own starter) and the environment that points boto3 at it."""
    from tests.servers.s3 import ACCESS_KEY, REGION, SECRET_KEY, start_seaweedfs

    server = start_seaweedfs(directory)
    try:
        env = {"AWS_ENDPOINT_URL_S3": server.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
               "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
               "AFQ_BENCH_BUCKET": server.new_bucket("afq-bench")}
        yield env
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------ machine


VERSIONED = ("pyarrow", "sqlglot", "boto3", "cryptography", "duckdb", "JPype1", "JayDeBeApi", "psycopg",
             "adbc-driver-postgresql", "snowflake-connector-python", "oracledb", "awslambdaric", "pyinstrument")


def versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "-"
    return found


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        total = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
        kib = int(total.split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    distro = "?"
    with suppress(OSError, StopIteration):
        distro = next(x for x in Path("/etc/os-release").read_text().splitlines()
                      if x.startswith("PRETTY_NAME=")).split("=", 1)[1].strip('"')
    return {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "platform": platform.platform(),
            "distro": distro, "cpu": cpu, "cores": os.cpu_count(), "memory": memory,
            "python": platform.python_version(), "load": [round(x, 2) for x in os.getloadavg()],
            "versions": versions()}


def git_commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO,
                         check=False)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=REPO, check=False).stdout.strip()
    return out.stdout.strip() + ("+changes" if dirty else "")
