"""``afq``: the command line. Subcommands load their modules lazily so ``afq --help`` stays instant."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any


def _invoke(args: argparse.Namespace) -> int:
    from connector.handler import lambda_handler

    with open(args.event, encoding="utf-8") if args.event != "-" else sys.stdin as f:
        event = json.load(f)
    response = lambda_handler(event)
    json.dump(response, sys.stdout, indent=2 if args.pretty else None)
    sys.stdout.write("\n")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from connector.demo import run_demo

    return run_demo(args.dir)


def _package(args: argparse.Namespace) -> int:
    from pathlib import Path

    from connector.packaging import BuildOptions, build_bundle

    result = build_bundle(BuildOptions(
        adapter=args.adapter, out=Path(args.out), arch=args.arch, python=args.python,
        cache=Path(args.cache) if args.cache else None, refresh=args.refresh, interpreter=args.interpreter,
        strip=not args.no_strip, teradata_fips=args.teradata_fips, requirements=tuple(args.requirement)))
    print(result.summary())
    return 0


def _add_package_parser(sub: Any) -> None:
    p = sub.add_parser("package", help="build an adapter's Lambda zip (slim, byte-compiled for the runtime)")
    p.add_argument("adapter", help="sqlite, generic (jdbc), oracle, snowflake or teradata")
    p.add_argument("--out", default="dist", help="directory for the zip and its size report (default: dist)")
    p.add_argument("--arch", default="x86_64", choices=["x86_64", "arm64"], help="Lambda architecture")
    p.add_argument("--python", default="3.12", help="Lambda runtime's Python version (3.12 or later)")
    p.add_argument("--cache", help="wheel/site/zip cache (default: $AFQ_CACHE_DIR or ~/.cache/afq)")
    p.add_argument("--refresh", action="store_true", help="resolve the requirements again (newer releases)")
    p.add_argument("--interpreter", help="python3.X executable to byte-compile with (default: found on PATH/pyenv)")
    p.add_argument("--no-strip", action="store_true", help="keep symbol tables in shared objects")
    p.add_argument("--teradata-fips", action="store_true", help="keep teradatasql's FIPS library too")
    p.add_argument("--requirement", action="append", default=[], metavar="REQ",
                   help="add a distribution (a pure-Python driver, an adapter package); repeatable")
    p.set_defaults(run=_package)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="afq", description="Athena Federated Query connectors, locally.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("invoke", help="send one raw request event (JSON file, or - for stdin) to the handler")
    p.add_argument("event")
    p.add_argument("--pretty", action="store_true", help="indent the response")
    p.set_defaults(run=_invoke)

    p = sub.add_parser("demo", help="create the demo database and run federated queries against it")
    p.add_argument("--dir", default=os.path.join(os.getcwd(), "demo"), help="where to put the demo files")
    p.set_defaults(run=_demo)

    _add_package_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from connector.errors import ConnectorError

    try:
        result: Any = args.run(args)
    except ConnectorError as e:
        print(f"afq: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
