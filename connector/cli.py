"""``afq``: the command line. Subcommands load their modules lazily so ``afq --help`` stays instant.

Exit status: 0 success, 1 findings (``query --verify``, ``validate``), 2 errors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector.local.targets import Target

FINDINGS = 1
ERROR = 2


def _target_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where requests go (default: the handler in this process)")
    group.add_argument("--handler", default="connector.handler.lambda_handler", metavar="MODULE.FUNCTION",
                       help="the Lambda handler to call (in-process or under --runtime)")
    group.add_argument("--runtime", action="store_true",
                       help="run the handler under awslambdaric behind a local Lambda Runtime API")
    group.add_argument("--workers", type=int, default=2, help="handler processes for --runtime (default 2)")
    group.add_argument("--function", metavar="NAME", help="invoke a deployed Lambda function (boto3 lambda:Invoke)")
    group.add_argument("--region", help="AWS region of --function (default: boto3's configuration)")
    group.add_argument("--trace", metavar="FILE",
                       help="write every request and response as JSON lines (spill and encryption keys redacted)")


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[Target]:
    from connector.local.targets import FunctionTarget, InProcessTarget, TraceWriter, TracingTarget

    target: Target
    if args.function:
        target = FunctionTarget(args.function, region=args.region)
    elif args.runtime:
        from connector.local.runtime_api import RuntimeTarget

        target = RuntimeTarget(args.handler, workers=args.workers)
    else:
        target = InProcessTarget(args.handler)
    trace = open(args.trace, "w", encoding="utf-8") if args.trace else None  # noqa: SIM115
    try:
        yield TracingTarget(target, TraceWriter(trace)) if trace is not None else target
    finally:
        target.close()
        if trace is not None:
            trace.close()


def _identity_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the caller Athena names in each request (to try an access policy)")
    group.add_argument("--as-arn", metavar="ARN", help="the caller's IAM ARN")
    group.add_argument("--as-account", metavar="ID", help="the caller's AWS account id")
    group.add_argument("--as-tag", action="append", default=[], metavar="KEY=VALUE",
                       help="a principal tag (repeatable)")
    group.add_argument("--as-group", action="append", default=[], metavar="GROUP", help="an IAM group (repeatable)")


def _identity(args: argparse.Namespace) -> Any:
    from connector.local.session import LOCAL_IDENTITY
    from connector.protocol import Identity

    if not (args.as_arn or args.as_account or args.as_tag or args.as_group):
        return LOCAL_IDENTITY
    tags = {}
    for item in args.as_tag:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"afq: --as-tag {item!r} must look like key=value")
        tags[key] = value
    return Identity(account=args.as_account or LOCAL_IDENTITY.account, arn=args.as_arn or LOCAL_IDENTITY.arn,
                    tags=tags, groups=tuple(args.as_group))


# ------------------------------------------------------------------------------------------ subcommands


def _query(args: argparse.Namespace) -> int:
    from connector.local.engine import LocalAthena, QueryOptions
    from connector.local.output import write_result
    from connector.local.progress import Progress

    sql = sys.stdin.read() if args.sql == "-" else args.sql
    options = QueryOptions(default_catalog=args.catalog, lake_dir=args.lake_dir, max_workers=args.parallelism,
                           serde_version=args.serde_version, max_inline_block_size=args.max_inline_block_size,
                           identity=_identity(args))
    with _target(args) as target:
        athena = LocalAthena(target, options, progress=Progress(enabled=not args.quiet))
        if args.explain:
            from connector.local.explain import explain

            explain(athena, sql, sys.stdout)
            return 0
        result = athena.run(sql)
        write_result(result.table, args.format, sys.stdout)
        sys.stdout.flush()
        if args.verify:
            from connector.local.verify import verify

            report = verify(athena, result)
            for line in report.lines:
                print(line, file=sys.stderr)
            if report.findings:
                print(f"afq: --verify: {report.findings} finding(s)", file=sys.stderr)
                return FINDINGS
    return 0


def _validate(args: argparse.Namespace) -> int:
    from connector.local.validate import CHECKS, ValidateOptions, Validator

    unknown = sorted(set(args.skip) - set(CHECKS))
    if unknown:
        print(f"afq validate: unknown check(s) {unknown}; checks: {', '.join(CHECKS)}", file=sys.stderr)
        return ERROR
    if args.table and not args.schema:
        print("afq validate: --table needs --schema", file=sys.stderr)
        return ERROR
    options = ValidateOptions(catalog=args.catalog, schema=args.schema, table=args.table, max_tables=args.max_tables,
                              skip=frozenset(args.skip), allow_empty=args.allow_empty,
                              passthrough_query=args.passthrough_query, local_environment=not args.function,
                              identity=_identity(args))
    with _target(args) as target:
        findings = Validator(target, options, sys.stdout).run()
        if os.environ.get("access_policy") and not args.function:
            from connector.local.access_report import report_access

            report_access(target, options.catalog, os.environ["access_policy"], sys.stdout)
    return FINDINGS if findings else 0


def _invoke(args: argparse.Namespace) -> int:
    from connector.local.errors import LambdaFunctionError

    with open(args.event, encoding="utf-8") if args.event != "-" else contextlib.nullcontext(sys.stdin) as f:
        try:
            event = json.load(f)
        except json.JSONDecodeError as e:
            print(f"afq invoke: {args.event} is not JSON: {e}", file=sys.stderr)
            return ERROR
    if not isinstance(event, dict):
        print(f"afq invoke: {args.event} must hold one JSON object (a request event)", file=sys.stderr)
        return ERROR
    with _target(args) as target:
        try:
            response: Any = target.invoke(event)
        except LambdaFunctionError as e:
            response = {"errorType": e.error_type, "errorMessage": e.message}
            json.dump(response, sys.stdout, indent=2 if args.pretty else None)
            sys.stdout.write("\n")
            return ERROR
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
        cache=Path(args.cache) if args.cache else None, interpreter=args.interpreter,
        strip=not args.no_strip, teradata_fips=args.teradata_fips,
        requirement_files=tuple(Path(f) for f in args.requirements)))
    print(result.summary())
    return 0


def _add_package_parser(sub: Any) -> None:
    p = sub.add_parser("package", help="build an adapter's Lambda zip (slim, byte-compiled for the runtime)")
    p.add_argument("adapter", help="sqlite, generic (jdbc), oracle, snowflake or teradata")
    p.add_argument("--out", default="dist", help="directory for the zip and its size report (default: dist)")
    p.add_argument("--arch", default="x86_64", choices=["x86_64", "arm64"], help="Lambda architecture")
    p.add_argument("--python", default="3.12", help="Lambda runtime's Python version (3.12 or later)")
    p.add_argument("--cache", help="installed-site and zip cache (default: $AFQ_CACHE_DIR or ~/.cache/afq)")
    p.add_argument("--interpreter", help="python3.X executable to byte-compile with (default: found on PATH/pyenv)")
    p.add_argument("--no-strip", action="store_true", help="keep symbol tables in shared objects")
    p.add_argument("--teradata-fips", action="store_true", help="keep teradatasql's FIPS library too")
    p.add_argument("--requirements", action="append", default=[], metavar="FILE",
                   help="add the distributions of a hash-pinned requirements file (an adapter package and its "
                        "driver, e.g. from `uv pip compile --generate-hashes`); repeatable")
    p.set_defaults(run=_package)


# ------------------------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="afq", description="Athena Federated Query connectors, locally.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("query", help="run Athena SQL against connectors, computing the result with DuckDB",
                       description="Tables are catalog.schema.table (the catalog resolves through "
                                   "<catalog>_connection_string, else default), \"lambda:fn\".schema.table, or "
                                   "TABLE(catalog.system.query(query => '...')). lake.<schema>.<table> reads "
                                   "<lake-dir>/<schema>/<table>.parquet (or .csv/.json); read_parquet('file') too.")
    p.add_argument("sql", help="the query (- reads it from stdin)")
    p.add_argument("--format", choices=("table", "csv", "jsonl"), default="table")
    p.add_argument("--explain", action="store_true",
                   help="show each table's constraints and the source query per split; read no rows")
    p.add_argument("--verify", action="store_true",
                   help="re-read every split without pushdown and check the connector applied what it was trusted "
                        "with (exit 1 on findings)")
    p.add_argument("--catalog", help="catalog of schema.table names without one")
    p.add_argument("--lake-dir", default=os.environ.get("AFQ_LAKE_DIR", "."),
                   help="directory of the lake.<schema>.<table> files (default: $AFQ_LAKE_DIR or .)")
    p.add_argument("--parallelism", type=int, default=8, help="concurrent ReadRecords calls (default 8)")
    p.add_argument("--serde-version", type=int, default=6, choices=range(2, 7), metavar="2..6",
                   help="highest serde version this Athena speaks (default 6)")
    p.add_argument("--max-inline-block-size", type=int, default=5_242_880, help=argparse.SUPPRESS)
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    _target_options(p)
    _identity_options(p)
    p.set_defaults(run=_query)

    p = sub.add_parser("validate", help="check a connector the way Athena relies on it (exit 1 on findings)")
    p.add_argument("--catalog", default=os.environ.get("AFQ_CATALOG", "default"),
                   help="catalog name sent in requests (default: $AFQ_CATALOG or 'default')")
    p.add_argument("--schema", help="only this schema")
    p.add_argument("--table", help="only this table (needs --schema)")
    p.add_argument("--max-tables", type=int, default=10, help="tables to scan when no --table is given")
    p.add_argument("--skip", action="append", default=[], metavar="CHECK",
                   help="skip a check: pagination, projection, filters, expressions, limit, top-n, spill, "
                        "passthrough (repeatable)")
    p.add_argument("--allow-empty", action="store_true", help="empty schemas and tables are not findings")
    p.add_argument("--passthrough-query", help="native query for the passthrough check (default: SELECT 1 AS one)")
    _target_options(p)
    _identity_options(p)
    p.set_defaults(run=_validate)

    p = sub.add_parser("invoke", help="send one raw request event (JSON file, or - for stdin) to the handler")
    p.add_argument("event")
    p.add_argument("--pretty", action="store_true", help="indent the response")
    _target_options(p)
    p.set_defaults(run=_invoke)

    p = sub.add_parser("demo", help="create the demo databases and lake file, and run federated queries on them")
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
        return ERROR
    except BrokenPipeError:
        return ERROR
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
