"""Errors of the local Athena, each naming what the user can fix, and how they read on one line.

SQL errors read like Athena's (``line 1:22: mismatched input '<EOF>'. Expecting: an expression``): the
position is where the problem is, 1-based, and the wording never shows the parser's internals. A function
error names the request, the table, what the connector raised and - for an exception nobody raised on purpose
(a bug in an adapter) - the file and line it came from, so the one line is enough to start fixing it.
"""

from __future__ import annotations

import re
import sysconfig
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from connector.errors import ConnectorError, first_line


class QueryError(ConnectorError):
    """The SQL cannot be run locally as written (unknown catalog or column, unsupported construct...)."""

    error_code = "INVALID_INPUT_EXCEPTION"


class SqlError(QueryError):
    """A problem at a place in the SQL text, reported as Athena does: ``line L:C: message``."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, *, sql: str = "",
                 kind: str = "SYNTAX_ERROR") -> None:
        self.message = message
        self.line = line
        self.column = column
        self.sql = sql
        self.kind = kind
        where = f"line {line}:{column}: " if line is not None and column is not None else ""
        super().__init__(f"{where}{message}")

    def pointer(self) -> str:
        """The SQL line at fault with a caret under the column (for --debug), or ''."""
        if self.line is None or self.column is None or not self.sql:
            return ""
        lines = self.sql.splitlines() or [""]
        if not 1 <= self.line <= len(lines):
            return ""
        text = lines[self.line - 1].replace("\t", " ")
        return f"  {text}\n  {' ' * (max(self.column, 1) - 1)}^"


#: How the framework words a missing schema or table (``connector.errors`` messages).
_NOT_FOUND = re.compile(r"^(schema|table) .+ not found\b")


class SqlSyntaxError(SqlError):
    """The query is not valid Athena SQL (Athena's ``SYNTAX_ERROR``); ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, *, sql: str = "") -> None:
        super().__init__(message, line, column, sql=sql, kind="SYNTAX_ERROR")


class LambdaFunctionError(ConnectorError):
    """The connector answered with a function error, as Lambda reports it (``errorType``, ``errorMessage``).

    ``stack`` is Lambda's ``stackTrace`` (lines of text) for a remote function; in-process the original
    exception is this one's ``__cause__``.
    """

    def __init__(self, error_type: str, message: str, request_type: str = "", stack: tuple[str, ...] = (),
                 *, target: str = "", subject: str = "", payload: dict[str, Any] | None = None) -> None:
        self.error_type = error_type
        self.message = message
        self.request_type = request_type
        self.stack = stack
        self.payload = payload  # the runtime's error document as it arrived, when there was one
        self.target = target
        self.subject = subject
        #: The table reference in the SQL this answer was about (label, line, column), when known.
        self.reference: tuple[str, int, int] | None = None
        super().__init__(error_type, message)

    def __str__(self) -> str:  # computed when shown: in-process, ``__cause__`` is set after construction
        who = f"the connector ({self.target})" if self.target else "the connector"
        request = _request_name(self.request_type)
        where = f" answering {request}" if request else ""
        subject = f" for {self.subject}" if self.subject else ""
        return f"{who} failed{where}{subject}: {self.display_type}: {self.message}"

    @property
    def display_type(self) -> str:
        """The error's name for people. Errors reach Athena under the Java SDK's class name (``errorType``); in
        process the framework's own class is known (``TableNotFound``), remotely Java's simple name is shown."""
        cause = self.__cause__
        while isinstance(cause, ConnectorError) and type(cause).__name__ == cause.java_type:
            cause = cause.__cause__  # the handler re-raised it under the Java name, from the original
        if isinstance(cause, ConnectorError):
            return type(cause).__name__
        return self.error_type.rsplit(".", 1)[-1]

    def origin(self) -> str:
        """``file:line in function`` of the code that raised an unexpected exception (an adapter's bug), or ''."""
        cause = self.__cause__
        if isinstance(cause, ConnectorError):
            return ""  # raised on purpose: the message says what is wrong
        if cause is not None and cause.__traceback__ is not None:
            frames = [(f.filename, f.lineno or 0, f.name) for f in traceback.extract_tb(cause.__traceback__)]
        else:
            frames = list(_stack_frames(self.stack))
        frame = innermost_own_frame(frames)
        if frame is None:
            return ""
        filename, line, function = frame
        return f"{_short_path(filename)}:{line} in {function}"

    @property
    def is_not_found(self) -> bool:
        """The connector said the schema or table does not exist. Errors reach Athena under the Java SDK's one
        class name, so a remote function's error is told by its message; in-process, by the original class."""
        from connector.errors import SchemaNotFound, TableNotFound

        if self.__cause__ is not None:
            return isinstance(self.__cause__, SchemaNotFound | TableNotFound)
        return self.error_type in ("TableNotFound", "SchemaNotFound") or (
            self.error_type.endswith("AthenaConnectorException") and _NOT_FOUND.match(self.message) is not None)

    def as_sql_error(self) -> SqlError | None:
        """A table the connector does not know, as Athena words it: ``line 1:15: Table 'c.s.t' does not exist``."""
        if self.reference is None:
            return None
        label, line, column = self.reference
        return SqlError(f"Table '{label}' does not exist (the connector answered {self.display_type}: {self.message})",
                        line, column, kind="TABLE_NOT_FOUND")


class InvokeError(ConnectorError):
    """The function could not be called at all (no credentials, no such function, network): not its failure."""

    def __init__(self, message: str, hint: str = "", error_type: str = "") -> None:
        self.message = message
        self.hint = hint
        self.error_type = error_type or type(self).__name__
        super().__init__(message)


class ProtocolViolation(ConnectorError):
    """A response the connector sent does not follow the federation protocol."""

    error_code = "INVALID_RESPONSE_EXCEPTION"


# ------------------------------------------------------------------------------------------ SQL errors


_MISSING = re.compile(r"Required keyword: '(\w+)' missing for <class '[\w.]*?(\w+)'>")
_EXPECTING = re.compile(r"Expecting (.+)")
_RESOLVE = re.compile(r"Column '(.+?)' could not be resolved(?: for table: '(.+?)')?\. Line: (\d+), Col: (\d+)",
                      re.DOTALL)
_POSITION = re.compile(r"\.?\s*Line:? (\d+), Col: (\d+)\.?", re.IGNORECASE)


@dataclass(frozen=True)
class _ParseProblem:
    description: str
    line: int
    col: int  # sqlglot: the 1-based column of the highlighted token's last character
    highlight: str
    end_context: str


def syntax_error(error: Exception, sql: str) -> SqlSyntaxError:
    """A sqlglot ``ParseError`` as Athena words it, at the first offending token."""
    problems = [_ParseProblem(str(e.get("description") or ""), int(e.get("line") or 1), int(e.get("col") or 1),
                              str(e.get("highlight") or ""), str(e.get("end_context") or ""))
                for e in getattr(error, "errors", None) or []]
    if not problems:
        text = first_line(error, limit=None)
        match = _POSITION.search(text)
        if match:
            return SqlSyntaxError(_POSITION.sub("", text).strip(), int(match.group(1)), int(match.group(2)), sql=sql)
        return SqlSyntaxError(text, sql=sql)
    p = problems[0]
    start = max(1, p.col - len(p.highlight) + 1) if "\n" not in p.highlight else p.col
    following, following_col = _next_token(p.end_context, p.line, p.col)
    if match := _MISSING.match(p.description):
        what = match.group(2).upper()
        clause = f" after {p.highlight!r}" if p.highlight else ""
        expected = "an expression" if match.group(1) in ("this", "expression", "expressions") else match.group(1)
        return SqlSyntaxError(f"mismatched input {following!r}{clause}. Expecting: {expected} ({what} is incomplete)",
                        p.line, following_col, sql=sql)
    if match := _EXPECTING.match(p.description):
        return SqlSyntaxError(f"mismatched input {following!r}. Expecting: {_quote(match.group(1))}", p.line,
                        following_col, sql=sql)
    if p.description.startswith("Invalid expression / Unexpected token"):
        return SqlSyntaxError(f"mismatched input {p.highlight!r}", p.line, start, sql=sql)
    return SqlSyntaxError(_POSITION.sub("", p.description).strip() or "syntax error", p.line, start, sql=sql)


_UNKNOWN = re.compile(r"^(Unknown column|Ambiguous column|Unknown table|Unknown output column): '?([^']+?)'?$")


def resolve_error(error: Exception, sql: str, tree: Any = None) -> SqlError:
    """sqlglot's qualify errors (``Column 'x' could not be resolved. Line: 1, Col: 8``, ``Unknown column: x``) as
    Athena's, at the column's place in the SQL (found in ``tree`` when sqlglot did not say)."""
    text = str(error).strip()
    if match := _UNKNOWN.match(first_line(error, limit=None)):
        kind, name = match.group(1), match.group(2)
        position = _find(tree, name, table=kind == "Unknown table")
        message = {"Unknown column": f"Column '{name}' cannot be resolved",
                   "Unknown output column": f"Column '{name}' cannot be resolved",
                   "Ambiguous column": f"Column '{name}' is ambiguous",
                   "Unknown table": f"Table '{name}' cannot be resolved"}[kind]
        code = "COLUMN_NOT_FOUND" if "column" in kind and "Ambiguous" not in kind else (
            "AMBIGUOUS_NAME" if "Ambiguous" in kind else "TABLE_NOT_FOUND")
        return SqlError(message, *(position or (None, None)), sql=sql, kind=code)
    if match := _RESOLVE.search(text):
        name, table, line, col = match.group(1), match.group(2), int(match.group(3)), int(match.group(4))
        line, start = _find(tree, name, table=False) or (line, max(1, col - len(name) + 1))
        message = f"Column '{name}' cannot be resolved" + (f" in table {table!r}" if table else "")
        return SqlError(message, line, start, sql=sql, kind="COLUMN_NOT_FOUND")
    if isinstance(error, Exception) and getattr(error, "errors", None):
        return syntax_error(error, sql)
    first = first_line(error)
    match = _POSITION.search(first)
    if match:
        return SqlError(_POSITION.sub("", first).strip(), int(match.group(1)), int(match.group(2)), sql=sql,
                        kind="SEMANTIC_ERROR")
    return SqlError(first, sql=sql, kind="SEMANTIC_ERROR")


def _find(tree: Any, name: str, *, table: bool) -> tuple[int, int] | None:
    """Where a column (or a column's table qualifier) named ``name`` first appears in the parsed SQL."""
    if tree is None:
        return None
    from sqlglot import exp

    for column in tree.find_all(exp.Column):
        part = column.args.get("table") if table else column.args.get("this")
        if part is not None and getattr(part, "name", "").lower() == name.lower():
            return node_position(part)
    return None


def node_position(node: Any) -> tuple[int, int] | None:
    """Line and (1-based, first character) column of a parsed table reference or column, when sqlglot kept it."""
    from sqlglot import exp

    parts = [node.args.get(k) for k in ("catalog", "db", "this")] if isinstance(node, exp.Table) else [node]
    for part in parts:
        meta = getattr(part, "meta", None) or {}
        if "line" in meta and "col" in meta:
            name = getattr(part, "name", "") or ""
            quoted = 2 if getattr(part, "args", {}).get("quoted") else 0
            return int(meta["line"]), max(1, int(meta["col"]) - len(name) - quoted + 1)
    return None


def _next_token(end_context: str, line: int, col: int) -> tuple[str, int]:
    """The token after the highlighted one, and its column ('<EOF>' one past the end)."""
    stripped = end_context.lstrip(" \t")
    if not stripped or stripped.startswith(("\n", "\r")):
        return ("<EOF>" if not stripped.strip() else stripped.split()[0]), col + 1
    skipped = len(end_context) - len(stripped)
    token = re.match(r"\w+|'[^']*'?|\"[^\"]*\"?|\S", stripped)
    return (token.group(0) if token else stripped[:1]), col + 1 + skipped


def _quote(expected: str) -> str:
    return expected if expected.startswith(("'", "<")) else f"'{expected}'"


# ------------------------------------------------------------------------------------------ tracebacks


_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')
#: Libraries the framework calls: an exception raised inside them is reported at the caller's line.
_LIBRARIES = ("pyarrow", "sqlglot", "duckdb", "boto3", "botocore", "cryptography", "awslambdaric", "urllib3")


def _stack_frames(lines: Iterable[str]) -> Iterable[tuple[str, int, str]]:
    for line in lines:
        for match in _FRAME.finditer(line):
            yield match.group(1), int(match.group(2)), match.group(3)


def _is_library(filename: str) -> bool:
    path = filename.replace("\\", "/")
    stdlib = (sysconfig.get_paths().get("stdlib") or "").replace("\\", "/")
    if stdlib and path.startswith(stdlib + "/") and "/site-packages/" not in path:
        return True
    if re.search(r"/python3\.\d+/(?!site-packages/)[^/]+\.py$", path) or path.startswith("<frozen"):
        return True
    return any(f"/{name}/" in path for name in _LIBRARIES)


def innermost_own_frame(frames: Sequence[tuple[str, int, str]]) -> tuple[str, int, str] | None:
    """The innermost frame that is neither the standard library nor a library the framework uses: where an
    adapter's (or the framework's) own code raised or called into the failing library."""
    for frame in reversed(frames):
        if not _is_library(frame[0]):
            return frame
    return frames[-1] if frames else None


def _short_path(filename: str) -> str:
    path = filename.replace("\\", "/")
    for marker in ("/site-packages/", "/var/task/"):
        if marker in path:
            return path.split(marker, 1)[1]
    import os

    try:
        relative = os.path.relpath(filename)
    except ValueError:
        return filename
    return filename if relative.startswith("../..") else relative


def _request_name(request_type: str) -> str:
    return request_type.removesuffix("Request")
