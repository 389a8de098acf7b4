"""Spill benchmark: ~1 GB of rows through ReadRecords into encrypted S3 blocks (SeaweedFS), rows/s and peak RSS.

    python -m bench.spill_bench [--gb 1.0] [--block-size 16000000] [--sqlite-rows 1000000] [--json]

Each scenario runs in a fresh child process so its peak RSS (``ru_maxrss``) is its own:

* ``serialize``       the synthetic source serialized to Arrow IPC, nothing else (the ceiling);
* ``s3-encrypted``    ReadRecords through the service, spilled to S3 with AES-GCM (the figure that matters);
* ``s3-plaintext``    the same with ``disable_spill_encryption=true``;
* ``local-encrypted`` the same into the local-directory store (S3 cost removed);
* ``s3-read``         reading the encrypted blocks back with ``spill.reader.read_remote_blocks``;
* ``sqlite-raw`` / ``sqlite-s3``  a real driver: the same SQLite query fetched raw (``sqlite3`` ``fetchmany``)
  and through ReadRecords into encrypted S3 blocks.

Two more runs show what bounds memory: ``local-encrypted`` at a quarter of the data (same peak: the result
size does not matter) and at block sizes 4 MB and 32 MB (the peak follows the block size).

The run fails (exit 1) if any scenario's peak RSS reaches 512 MB. ``--json`` prints the figures as one JSON
line for ``bench.run``, which writes them into bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

RSS_LIMIT_MB = 512
CATALOG = "bench"
TEMPLATE_ROWS = 20_000


def _template() -> pa.RecordBatch:
    """~3 MB of varied rows (ids are rewritten per batch); note widths vary from 0 to 200 characters."""
    n = TEMPLATE_ROWS
    base = dt.datetime(2024, 1, 1)
    return pa.record_batch({
        "id": pa.array(range(n), pa.int64()),
        "name": pa.array([f"customer-{i:07d}" for i in range(n)]),
        "amount": pa.array([i * 0.37 for i in range(n)], pa.float64()),
        "created": pa.array([base + dt.timedelta(seconds=17 * i) for i in range(n)], pa.timestamp("ms")),
        "day": pa.array([dt.date(2020, 1, 1) + dt.timedelta(days=i % 3000) for i in range(n)], pa.date32()),
        "flag": pa.array([i % 3 == 0 for i in range(n)]),
        "note": pa.array([None if i % 10 == 0 else "n" * ((i * 7919) % 200) for i in range(n)]),
    })


def synthetic_batches(total_bytes: int) -> Iterator[pa.RecordBatch]:
    """Batches of the template until ``total_bytes`` of Arrow data have been produced (ids keep counting).

    Only the id column is new in each batch; the others share the template's buffers, so the source costs
    next to nothing and the figures measure the framework and the spill, not a data generator.
    """
    template = _template()
    ids = template.column(0)
    produced, start = 0, 0
    while produced < total_bytes:
        batch = template.set_column(0, "id", pc.add(ids, pa.scalar(start, pa.int64())))
        produced += batch.nbytes
        start += batch.num_rows
        yield batch


def synthetic_rows(total_bytes: int) -> int:
    per_batch = _template().nbytes
    return -(-total_bytes // per_batch) * TEMPLATE_ROWS


def _synthetic_adapter(total_bytes: int) -> Any:
    from connector.adapter import Adapter, Scan, TableDefinition, TablePage
    from connector.protocol import TableName

    class SyntheticAdapter(Adapter):
        source_type = "synthetic"

        def list_schemas(self, ctx: Any) -> Sequence[str]:
            return ["bench"]

        def list_tables(self, ctx: Any, schema: str, next_token: str | None, page_size: int) -> TablePage:
            return TablePage([TableName("bench", "events")])

        def get_table(self, ctx: Any, table: Any) -> TableDefinition:
            return TableDefinition(_template().schema)

        def read_split(self, ctx: Any, table: Any, schema: pa.Schema, split: Any, constraints: Any) -> Scan:
            return Scan(synthetic_batches(total_bytes))

    return SyntheticAdapter()


def _read_through_service(service: Any, table: Any, block_size: int) -> tuple[Any, int, float]:
    """GetTable, GetTableLayout, GetSplits, ReadRecords - the calls Athena makes - through ``service.handle``."""
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
    query = f"bench-{time.time_ns()}"

    def call(request: Any) -> Any:
        return parse_response(service.handle(request.to_wire()))

    definition = call(GetTableRequest(identity, query, CATALOG, table))
    layout = call(GetTableLayoutRequest(identity, query, CATALOG, table, Constraints(), definition.schema, ()))
    splits = call(GetSplitsRequest(identity, query, CATALOG, table, layout.partitions, (), Constraints(), None))
    response = None
    started = time.perf_counter()  # the clock covers ReadRecords only: imports and set-up are not spill costs
    for split in splits.splits:
        response = call(ReadRecordsRequest(identity, query, CATALOG, table, definition.schema, split, Constraints(),
                                           block_size, 5_242_880))
    elapsed = time.perf_counter() - started
    if type(response).__name__ != "RemoteReadRecordsResponse":
        raise SystemExit(f"the result fitted inline ({type(response).__name__}); ask for more rows to measure a spill")
    return response, len(response.remote_blocks), elapsed


def _service(env: Mapping[str, str], adapter: Any | None) -> Any:
    from connector.config import Settings
    from connector.service import FederationService

    settings = Settings.from_env({**os.environ, **env})
    return FederationService(settings, adapters=(lambda _catalog: adapter) if adapter is not None else None)


_ARGS = argparse.Namespace(gb=0.0, block_size=0)


def run_child(args: argparse.Namespace) -> dict[str, Any]:
    """One scenario in this (fresh) process; returns its figures."""
    global _ARGS
    _ARGS = args
    total = int(args.gb * 1e9)
    scenario = args.child
    extra: dict[str, Any] = {}
    started = time.perf_counter()
    if scenario == "serialize":
        rows = data = 0
        for batch in synthetic_batches(total):
            rows += batch.num_rows
            data += batch.serialize().size
    elif scenario in ("s3-encrypted", "s3-plaintext", "local-encrypted"):
        from connector.protocol import TableName

        env = {"disable_spill_encryption": "true" if scenario == "s3-plaintext" else "false"}
        if scenario != "local-encrypted":
            env["spill_bucket"] = args.bucket
        else:
            env["AFQ_LOCAL_SPILL_DIR"] = args.local_dir
        service = _service(env, _synthetic_adapter(total))
        response, extra["blocks"], elapsed = _read_through_service(service, TableName("bench", "events"),
                                                                   args.block_size)
        if args.save_response:
            Path(args.save_response).write_text(json.dumps(response.to_wire()))
        return _figures(scenario, synthetic_rows(total), total, elapsed, extra)
    elif scenario == "s3-read":
        from connector.config import Settings
        from connector.protocol import parse_response
        from spill.reader import read_remote_blocks

        response = parse_response(json.loads(Path(args.save_response).read_text()))
        rows = data = 0
        for batch in read_remote_blocks(response, Settings.from_env()):
            rows += batch.num_rows
            data += batch.nbytes
        extra["blocks"] = len(response.remote_blocks)
        if rows != synthetic_rows(total):
            raise SystemExit(f"read back {rows} rows, wrote {synthetic_rows(total)}")
    elif scenario == "sqlite-raw":
        import sqlite3

        connection = sqlite3.connect(f"file:{args.sqlite_db}?mode=ro", uri=True)
        cursor = connection.execute("SELECT * FROM events")
        rows = data = 0
        while chunk := cursor.fetchmany(20_000):
            rows += len(chunk)
        connection.close()
    elif scenario == "sqlite-s3":
        from tests.support.spill_data import TABLE

        service = _service({"spill_bucket": args.bucket, "default": f"sqlite://jdbc:sqlite:{args.sqlite_db}",
                            f"{CATALOG}_connection_string": f"sqlite://jdbc:sqlite:{args.sqlite_db}"}, None)
        response, extra["blocks"], elapsed = _read_through_service(service, TABLE, args.block_size)
        return _figures(scenario, args.sqlite_rows, 0, elapsed, extra)
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    return _figures(scenario, rows, data, time.perf_counter() - started, extra)


def _figures(scenario: str, rows: int, data: int, seconds: float, extra: Mapping[str, Any]) -> dict[str, Any]:
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"scenario": scenario, "rows": rows, "bytes": data, "seconds": round(seconds, 2), "gb": _ARGS.gb,
            "block_size": _ARGS.block_size,
            "rows_per_s": round(rows / seconds) if rows else None,
            "mb_per_s": round(data / seconds / 1e6, 1) if data else None, "peak_rss_mb": round(peak_mb), **extra}


def _child(scenario: str, args: argparse.Namespace, env: Mapping[str, str], *, gb: float | None = None,
           block_size: int | None = None, **options: Any) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.spill_bench", "--child", scenario, "--gb", str(gb or args.gb),
               "--block-size", str(block_size or args.block_size)]
    for key, value in options.items():
        command += [f"--{key.replace('_', '-')}", str(value)] if value is not True else [f"--{key.replace('_', '-')}"]
    out = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"scenario {scenario} failed:\n{out.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(figures), file=sys.stderr if args.json else sys.stdout, flush=True)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=1.0, help="Arrow data per scenario, in GB (default 1)")
    parser.add_argument("--block-size", type=int, default=16_000_000, help="maxBlockSize sent in ReadRecords")
    parser.add_argument("--sqlite-rows", type=int, default=1_000_000,
                        help="rows of the SQLite scenarios (0: skip; enough to exceed an inline response)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--bucket", help=argparse.SUPPRESS)
    parser.add_argument("--local-dir", help=argparse.SUPPRESS)
    parser.add_argument("--save-response", help=argparse.SUPPRESS)
    parser.add_argument("--sqlite-db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args)))
        return 0

    from tests.servers.s3 import ACCESS_KEY, REGION, SECRET_KEY, start_seaweedfs

    work = Path(tempfile.mkdtemp(prefix="afq-spill-bench-"))
    server = start_seaweedfs(work / "seaweedfs")
    results = []
    try:
        env = {"AWS_ENDPOINT_URL_S3": server.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
               "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": REGION}
        bucket = server.new_bucket("afq-bench")
        saved = str(work / "response.json")
        results.append(_child("serialize", args, env))
        results.append(_child("s3-encrypted", args, env, bucket=bucket, save_response=saved))
        results.append(_child("s3-read", args, env, save_response=saved))
        results.append(_child("s3-plaintext", args, env, bucket=bucket))
        for gb, block_size in ((None, None), (args.gb / 4, None), (None, 4_000_000), (None, 32_000_000)):
            results.append(_child("local-encrypted", args, env, gb=gb, block_size=block_size,
                                  local_dir=str(work / "local")))
            shutil.rmtree(work / "local", ignore_errors=True)  # ~1 GB of blocks per run
        if args.sqlite_rows:
            from tests.support.spill_data import create_events_db

            db = create_events_db(work / "events.db", args.sqlite_rows)
            results.append(_child("sqlite-raw", args, env, sqlite_db=db, sqlite_rows=args.sqlite_rows))
            results.append(_child("sqlite-s3", args, env, bucket=bucket, sqlite_db=db, sqlite_rows=args.sqlite_rows))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps({"results": results, "rss_limit_mb": RSS_LIMIT_MB, "seaweedfs": _weed_version()}))
    else:
        print(_report(results, args))
    worst = max(r["peak_rss_mb"] for r in results)
    if worst >= RSS_LIMIT_MB:
        print(f"FAIL: peak RSS {worst} MB >= {RSS_LIMIT_MB} MB", file=sys.stderr)
        return 1
    return 0


def _report(results: Sequence[Mapping[str, Any]], args: argparse.Namespace) -> str:
    import boto3
    import cryptography

    lines = [f"{dt.date.today().isoformat()}, {platform.platform()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, pyarrow {pa.__version__}, boto3 {boto3.__version__}, cryptography "
             f"{cryptography.__version__}, SeaweedFS {_weed_version()}; --gb {args.gb} --block-size {args.block_size}",
             "", "| scenario | GB | block size | rows | seconds | rows/s | MB/s (Arrow) | blocks | peak RSS MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['scenario']} | {r['gb']} | {r['block_size']:,} | {r['rows']:,} | {r['seconds']} | "
                     f"{format(r['rows_per_s'], ',') if r['rows_per_s'] else '-'} | {r['mb_per_s'] or '-'} | "
                     f"{r.get('blocks', '-')} | {r['peak_rss_mb']} |")
    return "\n".join(lines)


def _weed_version() -> str:
    from tests.servers.s3 import weed_executable

    executable = weed_executable()
    if executable is None:
        return "?"
    out = subprocess.run([executable, "version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"\b(\d+\.\d+)\b", out)
    return found.group(1) if found else "?"


if __name__ == "__main__":
    raise SystemExit(main())
