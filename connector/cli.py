"""``afq``: the command line. Subcommands load their modules lazily so ``afq --help`` stays instant.

Exit status: 0 success, 1 findings (``query --verify``, ``validate``), 2 errors. An error is one line on
stderr - what failed, why, and what to do - printed once; ``--debug`` (or ``AFQ_DEBUG=1``) adds the full
traceback, the adapter's frames included, and the connector's log lines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector.local.progress import Progress
    from connector.local.targets import Target

FINDINGS = 1
ERROR = 2
INTERRUPTED = 130
DEFAULT_CATALOG = "default"


class CliError(Exception):
    """A mistake in how afq was called (a bad option value, a file that cannot be written)."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.hint = hint
        super().__init__(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _default_catalog() -> str:
    return os.environ.get("AFQ_CATALOG") or DEFAULT_CATALOG


def _target_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where requests go (default: the handler in this process)")
    group.add_argument("--handler", default="connector.handler.lambda_handler", metavar="MODULE.FUNCTION",
                       help="the Lambda handler to call (in-process or under --runtime)")
    group.add_argument("--runtime", action="store_true",
                       help="run the handler under awslambdaric behind a local Lambda Runtime API")
    group.add_argument("--workers", type=_positive_int, default=2,
                       help="handler processes for --runtime (default 2)")
    group.add_argument("--function", metavar="NAME", help="invoke a deployed Lambda function (boto3 lambda:Invoke)")
    group.add_argument("--region", help="AWS region of --function (default: boto3's configuration)")
    group.add_argument("--trace", metavar="FILE",
                       help="write every request and response as JSON lines (spill and encryption keys redacted; "
                            "read it with `afq trace show FILE`)")


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[Target]:
    from connector.local.targets import FunctionTarget, InProcessTarget, TraceWriter, TracingTarget

    trace: IO[str] | None = None
    if args.trace:
        try:
            trace = open(args.trace, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as e:
            raise CliError(f"cannot write the trace file {args.trace}: {e.strerror or e}",
                           "give --trace a path in a directory that exists and is writable") from None
    target: Target
    try:
        if args.function:
            target = FunctionTarget(args.function, region=args.region)
        elif args.runtime:
            from connector.local.runtime_api import RuntimeTarget

            target = RuntimeTarget(args.handler, workers=args.workers)
        else:
            target = InProcessTarget(args.handler)
    except BaseException:
        if trace is not None:
            trace.close()
        raise
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
            raise CliError(f"--as-tag {item!r} must look like key=value", "e.g. --as-tag team=analytics")
        tags[key] = value
    return Identity(account=args.as_account or LOCAL_IDENTITY.account, arn=args.as_arn or LOCAL_IDENTITY.arn,
                    tags=tags, groups=tuple(args.as_group))


# ------------------------------------------------------------------------------------------ output


def _output_format(args: argparse.Namespace) -> str:
    from connector.local.output import SUFFIXES

    if args.format:
        return str(args.format)
    if args.output:
        return SUFFIXES.get(os.path.splitext(args.output)[1].lower(), "table")
    return "table"


@contextlib.contextmanager
def _output(path: str | None, fmt: str) -> Iterator[IO[bytes]]:
    """Bytes to ``path`` (written to a temporary file beside it and renamed when complete: a failed query leaves
    no half-written file) or to stdout."""
    if path is None:
        if fmt == "parquet" and sys.stdout.isatty():
            raise CliError("--format parquet writes binary data", "give --output FILE.parquet or redirect stdout")
        from connector.local.output import binary_sink

        yield binary_sink(sys.stdout)
        return
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".partial")
    except OSError as e:
        raise CliError(f"cannot write {path}: {e.strerror or e}",
                       "give --output a path in a directory that exists and is writable") from None
    try:
        with os.fdopen(fd, "wb") as sink:
            yield sink
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _write(result: Any, fmt: str, sink: IO[bytes], progress: Progress) -> None:
    from connector.local.output import write_batches, write_table

    if fmt == "table":
        import io

        import pyarrow as pa

        table = pa.Table.from_batches(list(result), schema=result.schema)
        text = io.TextIOWrapper(sink, encoding="utf-8", write_through=True)
        try:
            write_table(table, text)
            text.flush()
        finally:
            text.detach()  # the sink belongs to the caller (stdout)
        progress.rows_written(table.num_rows)
        return
    write_batches(result, result.schema, fmt, sink, progress.rows_written)


class _TableResult:
    """A materialized result (``run``) seen as the stream ``LocalAthena.stream`` yields."""

    def __init__(self, table: Any) -> None:
        self.schema = table.schema
        self._table = table

    def __iter__(self) -> Iterator[Any]:
        return iter(self._table.to_batches(max_chunksize=65536))


# ------------------------------------------------------------------------------------------ subcommands


def _query(args: argparse.Namespace) -> int:
    from connector.local.engine import LocalAthena, QueryOptions
    from connector.local.progress import Progress

    sql = sys.stdin.read() if args.sql == "-" else args.sql
    fmt = _output_format(args)
    options = QueryOptions(default_catalog=args.catalog, lake_dir=args.lake_dir, max_workers=args.parallelism,
                           serde_version=args.serde_version, max_inline_block_size=args.max_inline_block_size,
                           identity=_identity(args))
    progress = Progress(enabled=False if args.quiet else (True if args.progress else None))
    with _target(args) as target, progress:
        athena = LocalAthena(target, options, progress=progress)
        if args.explain:
            from connector.local.explain import explain

            explain(athena, sql, sys.stdout)
            return 0
        if args.verify:  # needs every split's rows: read whole, then checked split by split
            result = athena.run(sql)
            with _output(args.output, fmt) as sink:
                _write(_TableResult(result.table), fmt, sink, progress)
            progress.finish()
            from connector.local.verify import verify

            report = verify(athena, result)
            for line in report.lines:
                print(line, file=sys.stderr)
            if report.findings:
                print(f"afq: --verify: {report.findings} finding(s)", file=sys.stderr)
                return FINDINGS
            return 0
        with athena.stream(sql) as stream, _output(args.output, fmt) as sink:
            _write(stream, fmt, sink, progress)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from connector.local.validate import CHECKS, ValidateOptions, Validator

    unknown = sorted(set(args.skip) - set(CHECKS))
    if unknown:
        raise CliError(f"validate: unknown check(s) {', '.join(unknown)}", f"checks: {', '.join(CHECKS)}")
    if args.table and not args.schema:
        raise CliError("validate: --table needs --schema", "e.g. --schema main --table orders")
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
    if (args.event is None) == (args.replay is None):
        raise CliError("invoke takes one event file (or - for stdin), or --replay TRACE",
                       "e.g. afq invoke event.json, or afq invoke --replay trace.jsonl")
    if args.replay is not None:
        return _replay(args)
    from connector.local.errors import LambdaFunctionError

    try:
        with open(args.event, encoding="utf-8") if args.event != "-" else contextlib.nullcontext(sys.stdin) as f:
            event = json.load(f)
    except json.JSONDecodeError as e:
        raise CliError(f"invoke: {args.event} is not JSON: {e}", "give a request event, e.g. from --trace") from None
    except OSError as e:
        raise CliError(f"invoke: cannot read {args.event}: {e.strerror or e}") from None
    if not isinstance(event, dict):
        raise CliError(f"invoke: {args.event} must hold one JSON object (a request event)")
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


def _replay(args: argparse.Namespace) -> int:
    from connector.local.trace import replay

    with _target(args) as target:
        report = replay(args.replay, target, sys.stdout, only=set(args.seq) if args.seq else None,
                        pretty=args.pretty)
    total = report.answered + report.failed
    parts = [f"{report.answered} answered"] + ([f"{report.failed} failed"] if report.failed else [])
    compared = report.same + len(report.different)
    if compared:
        parts.append(f"{report.same} as traced" + (f", {len(report.different)} different: "
                                                   f"{', '.join(report.different[:10])}" if report.different else ""))
    print(f"afq: replayed {total} request(s) from {args.replay} with fresh keys: {'; '.join(parts)}",
          file=sys.stderr)
    if report.dropped_options:
        print(f"afq: config options redacted in the trace were left out: {', '.join(sorted(report.dropped_options))}",
              file=sys.stderr)
    return ERROR if report.failed else 0


def _trace(args: argparse.Namespace) -> int:
    from connector.local.trace import show_trace

    return show_trace(args.file, sys.stdout, rows=args.rows)


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


def _add_package_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("package", parents=[common],
                       help="build an adapter's Lambda zip (slim, byte-compiled for the runtime)")
    p.add_argument("adapter", help="the bundle an engine declares, e.g. sqlite or generic (jdbc); an unknown name "
                                    "lists them all")
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
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="on errors, show the full traceback (adapter frames included) and the connector's "
                             "log lines (also AFQ_DEBUG=1)")
    parser = argparse.ArgumentParser(prog="afq", description="Athena Federated Query connectors, locally.",
                                     parents=[common],
                                     epilog="Exit status: 0 success, 1 findings (--verify, validate), 2 errors.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("query", parents=[common],
                       help="run Athena SQL against connectors, computing the result with DuckDB",
                       description="Tables are catalog.schema.table (the catalog resolves through "
                                   "<catalog>_connection_string, else default), \"lambda:fn\".schema.table, or "
                                   "TABLE(catalog.system.query(query => '...')); schema.table uses --catalog. "
                                   "lake.<schema>.<table> reads <lake-dir>/<schema>/<table>.parquet (or .csv, "
                                   ".csv.gz, .tsv, .json, .jsonl, .ndjson); read_parquet('file') too.")
    p.add_argument("sql", help="the query (- reads it from stdin)")
    p.add_argument("--format", choices=("table", "csv", "jsonl", "parquet"), default=None,
                   help="table (default), csv (as Athena writes results: values quoted, NULL empty), jsonl, or "
                        "parquet; with --output, the file's suffix chooses when --format is not given")
    p.add_argument("--output", "-o", metavar="FILE", help="write the result to FILE instead of stdout")
    p.add_argument("--explain", action="store_true",
                   help="show each table's constraints and the source query per split; read no rows")
    p.add_argument("--verify", action="store_true",
                   help="re-read every split without pushdown and check the connector applied what it was trusted "
                        "with (exit 1 on findings)")
    p.add_argument("--catalog", default=_default_catalog(),
                   help="catalog of schema.table names without one (default: $AFQ_CATALOG or 'default', the "
                        "catalog the `default` connection string serves)")
    p.add_argument("--lake-dir", default=os.environ.get("AFQ_LAKE_DIR", "."),
                   help="directory of the lake.<schema>.<table> files (default: $AFQ_LAKE_DIR or .)")
    p.add_argument("--parallelism", type=_positive_int, default=8,
                   help="concurrent ReadRecords calls (default 8)")
    p.add_argument("--serde-version", type=int, default=6, choices=range(2, 7), metavar="2..6",
                   help="highest serde version this Athena speaks (default 6)")
    p.add_argument("--max-inline-block-size", type=_positive_int, default=5_242_880, help=argparse.SUPPRESS)
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true",
                       help="show progress on stderr even when it is not a terminal (default: only on a terminal)")
    shown.add_argument("--quiet", action="store_true", help="no progress on stderr")
    _target_options(p)
    _identity_options(p)
    p.set_defaults(run=_query)

    p = sub.add_parser("validate", parents=[common],
                       help="check a connector the way Athena relies on it (exit 1 on findings)")
    p.add_argument("--catalog", default=_default_catalog(),
                   help="catalog name sent in requests (default: $AFQ_CATALOG or 'default')")
    p.add_argument("--schema", help="only this schema")
    p.add_argument("--table", help="only this table (needs --schema)")
    p.add_argument("--max-tables", type=_positive_int, default=10, help="tables to scan when no --table is given")
    p.add_argument("--skip", action="append", default=[], metavar="CHECK",
                   help="skip a check: pagination, projection, filters, expressions, limit, top-n, spill, "
                        "passthrough (repeatable)")
    p.add_argument("--allow-empty", action="store_true", help="empty schemas and tables are not findings")
    p.add_argument("--passthrough-query", help="native query for the passthrough check (default: SELECT 1 AS one)")
    _target_options(p)
    _identity_options(p)
    p.set_defaults(run=_validate)

    p = sub.add_parser("invoke", parents=[common],
                       help="send one raw request event (JSON file, or - for stdin) to the handler, or replay a "
                            "--trace file")
    p.add_argument("event", nargs="?", help="the request event (JSON), or - for stdin")
    p.add_argument("--replay", metavar="TRACE",
                   help="send every request of a --trace file again, with fresh encryption and spill keys")
    p.add_argument("--seq", type=_positive_int, action="append", metavar="N",
                   help="with --replay: only the request with this seq (repeatable; `afq trace show` lists them)")
    p.add_argument("--pretty", action="store_true", help="indent the response")
    _target_options(p)
    p.set_defaults(run=_invoke)

    p = sub.add_parser("trace", parents=[common], help="read a --trace file")
    trace_sub = p.add_subparsers(dest="trace_command", required=True)
    show = trace_sub.add_parser("show", parents=[common],
                                help="every request and response on one line, blocks rendered as rows")
    show.add_argument("file", help="a file written by --trace")
    show.add_argument("--rows", type=int, default=10, help="rows shown per block (default 10; 0: none)")
    show.set_defaults(run=_trace)

    p = sub.add_parser("demo", parents=[common],
                       help="create the demo databases and lake file, and run federated queries on them")
    p.add_argument("--dir", default=os.path.join(os.getcwd(), "demo"), help="where to put the demo files")
    p.set_defaults(run=_demo)

    _add_package_parser(sub, common)
    return parser


# ------------------------------------------------------------------------------------------ errors


class _CliLogFilter(logging.Filter):
    """Without --debug: the connector's warnings once each, and not the failure line of a request whose error
    afq reports itself (it would say the same thing twice)."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        extra = getattr(record, "afq", None)
        if isinstance(extra, dict) and "error_type" in extra:
            return False
        message = record.getMessage()
        if message in self._seen:
            return False
        self._seen.add(message)
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (tests swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class _LowerLevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace(f": {record.levelname}: ", f": {record.levelname.lower()}: ", 1)


_log_handler: logging.Handler | None = None


def _configure_logging(debug: bool) -> None:
    from connector.logs import PayloadFilter
    from connector.redact import RedactingFilter

    global _log_handler
    root = logging.getLogger()
    if _log_handler is not None:  # main() called again in one process (tests)
        root.removeHandler(_log_handler)
    handler = _log_handler = _StderrHandler()
    if debug:
        handler.setFormatter(logging.Formatter("afq: %(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.DEBUG)
    else:
        handler.setFormatter(_LowerLevelFormatter("afq: %(levelname)s: %(message)s"))
        handler.setLevel(logging.WARNING)
        handler.addFilter(_CliLogFilter())
    handler.addFilter(PayloadFilter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(logging.INFO if debug else logging.WARNING)


def error_line(error: BaseException) -> str:
    """One line: what failed, why, what to do."""
    from connector.errors import ConnectorError
    from connector.local.errors import InvokeError, LambdaFunctionError, SqlError
    from connector.redact import scrub

    hint = ""
    if isinstance(error, CliError):
        text, hint = str(error), error.hint
    elif isinstance(error, LambdaFunctionError) and error.as_sql_error() is not None:
        sql_error = error.as_sql_error()
        text = f"{sql_error.kind}: {sql_error}"  # type: ignore[union-attr]
    elif isinstance(error, LambdaFunctionError):
        origin = error.origin()
        text = f"{error} (raised at {origin})" if origin else str(error)
        hint = "run with --debug for the full traceback" if origin else ""
    elif isinstance(error, InvokeError):
        text, hint = str(error), error.hint
    elif isinstance(error, SqlError):
        text = f"{error.kind}: {error}"
    elif isinstance(error, ConnectorError):
        text = str(error)
    elif isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        text = f"{error.strerror or error}{':' + where if where else ''}"
    else:
        import traceback

        from connector.local.errors import innermost_own_frame

        frames = [(f.filename, f.lineno or 0, f.name) for f in traceback.extract_tb(error.__traceback__)]
        frame = innermost_own_frame(frames)
        at = f" (at {os.path.basename(frame[0])}:{frame[1]} in {frame[2]})" if frame else ""
        text = f"internal error: {type(error).__name__}: {error}{at}"
        hint = "run with --debug for the full traceback, and please report it"
    first, *rest = str(text).strip().splitlines() or [type(error).__name__]
    # Multi-line messages (a worker's log tail, the engine's SQL) keep their first line here; --debug shows all.
    more = " (--debug shows the rest)" if rest and not hint else ""
    return scrub(f"afq: {first}{more}" + (f"; {hint}" if hint else ""))


def _print_debug(error: BaseException) -> None:
    import traceback

    from connector.local.errors import LambdaFunctionError, SqlError

    traceback.print_exception(error, file=sys.stderr)
    if isinstance(error, LambdaFunctionError) and error.stack:
        print("afq: the function's stack trace:", file=sys.stderr)
        for line in error.stack:
            sys.stderr.write(line if line.endswith("\n") else line + "\n")
    if isinstance(error, SqlError) and error.pointer():
        print(error.pointer(), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = bool(getattr(args, "debug", False)) or os.environ.get("AFQ_DEBUG", "").strip().lower() in (
        "1", "true", "yes", "on")
    _configure_logging(debug)
    try:
        result: Any = args.run(args)
    except KeyboardInterrupt:
        print("afq: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`afq query ... | head`): nothing to report, and no error at exit either.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return ERROR
    except Exception as e:
        if debug:
            _print_debug(e)
        print(error_line(e), file=sys.stderr)
        return ERROR
    finally:
        sys.stderr.flush()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
