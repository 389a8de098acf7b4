"""Athena's parser is strict; sqlglot's Trino parser is lenient. Parse as Athena would, or fail.

sqlglot accepts, for every dialect, constructs Trino's grammar rejects - an empty item in a comma list
(``SELECT id, FROM t``, ``SELECT , id``, ``f(a,)``, ``IN (1,,2)``), PostgreSQL's ``x::type`` casts - and the engine
that runs the query (DuckDB) would then run it. ``parse`` uses a Trino parser with those leniencies removed and
raises ``SqlSyntaxError`` (line and column of the offending token) for anything Athena would refuse to parse.
"""

from __future__ import annotations

import typing as t

from sqlglot import exp
from sqlglot.dialects.trino import Trino
from sqlglot.errors import ErrorLevel, ParseError
from sqlglot.parsers.trino import TrinoParser
from sqlglot.tokenizer_core import Token, TokenType

from connector.errors import first_line
from connector.local.errors import SqlSyntaxError, syntax_error

T = t.TypeVar("T")


class _StrictTrinoParser(TrinoParser):
    def _parse_csv(self, parse_method: t.Callable[[], T | None], sep: TokenType = TokenType.COMMA) -> list[T]:
        parse_result = parse_method()
        items = [parse_result] if parse_result is not None else []
        if parse_result is None and self._curr is not None and self._curr.token_type == sep:
            self._fail_at(self._curr, f"an expression must come before {self._curr.text!r}")
        while self._match(sep):
            separator = self._prev
            if isinstance(parse_result, exp.Expr):
                self._add_comments(parse_result)
            parse_result = parse_method()
            if parse_result is None:
                self._fail_at(separator, f"an expression must follow {separator.text!r}")
            else:
                items.append(parse_result)
        return items

    def _fail_at(self, token: Token, message: str) -> None:
        nxt = self._curr
        found = f"{nxt.text!r}" if nxt is not None else "the end of the query"
        at = nxt or token  # at the end of the query: the position just after the separator
        raise ParseError.new(f"{message}, found {found}", description=f"{message}, found {found}", line=at.line,
                             col=at.col, start_context="", highlight=at.text if nxt else "", end_context="")


# Only the parser differs; a subclass of the dialect registers itself under its class name, so none is made.
def _parser(dialect: Trino) -> _StrictTrinoParser:
    return _StrictTrinoParser(error_level=ErrorLevel.IMMEDIATE, dialect=dialect)


_TRINO = Trino()


def parse(sql: str) -> list[exp.Expr]:
    """The statements of ``sql`` as Athena (Trino) parses them; ``SqlSyntaxError`` when it would not."""
    try:
        tokens = _TRINO.tokenize(sql)
    except Exception as e:  # sqlglot's TokenError: an unterminated string or quoted name
        raise SqlSyntaxError(first_line(e), 1, 1, sql=sql) from None
    for token in tokens:
        if token.token_type == TokenType.DCOLON:
            raise SqlSyntaxError("'::' is not Athena SQL: write CAST(value AS type)", token.line,
                                 _start_column(token.col, token.text), sql=sql)
    try:
        statements = _parser(_TRINO).parse(tokens, sql)
    except ParseError as e:
        raise syntax_error(e, sql) from None
    return [s for s in statements if s is not None]


def _start_column(end_column: int, text: str) -> int:
    """sqlglot reports the column of a token's last character; Athena reports its first."""
    return max(1, end_column - len(text) + 1)
