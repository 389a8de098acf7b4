"""Lambda bundle sizes per adapter: ``afq package <adapter> --out DIR``, zipped and unzipped, per architecture.

    python -m bench.bundles [--arch x86_64,arm64] [--adapters sqlite,generic,oracle,snowflake,teradata]

Reads the size report ``afq package`` writes next to each zip. Wheels and installed sites come from the
builder's cache (``~/.cache/afq``) after the first run, so a rerun costs a few seconds per bundle.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO, emit

ADAPTERS = ("sqlite", "generic", "oracle", "snowflake", "teradata")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="x86_64,arm64")
    parser.add_argument("--adapters", default=",".join(ADAPTERS))
    args = parser.parse_args(argv)
    afq = str(Path(sys.executable).with_name("afq"))
    work = Path(tempfile.mkdtemp(prefix="afq-bench-bundles-"))
    results: list[dict[str, Any]] = []
    try:
        for arch in args.arch.split(","):
            for adapter in args.adapters.split(","):
                out = work / f"{adapter}-{arch}"
                started = time.perf_counter()
                run = subprocess.run([afq, "package", adapter, "--arch", arch, "--out", str(out)],
                                     capture_output=True, text=True, check=False, cwd=REPO)
                seconds = time.perf_counter() - started
                if run.returncode != 0:
                    results.append({"adapter": adapter, "arch": arch, "error": run.stderr.strip()[-300:]})
                    continue
                report = json.loads(next(out.glob("afq-*.json")).read_text())
                trim = report.get("trim", {})
                results.append({
                    "adapter": adapter, "arch": arch, "python": report["python"],
                    "zipped_bytes": report["zipped_bytes"], "unzipped_bytes": report["unzipped_bytes"],
                    "files": report["files"], "distributions": report["distributions"],
                    "removed_bytes": sum(trim.get("removed_bytes", {}).values()),
                    "stripped_bytes": trim.get("stripped_bytes", 0), "seconds": round(seconds, 1)})
                print(results[-1], file=sys.stderr, flush=True)
                shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    emit({"results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
