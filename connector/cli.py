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
