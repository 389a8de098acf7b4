"""SQLite's dialect and type rules: what SQLite evaluates exactly as Athena does, declared types and
affinity -> Arrow types (see ``adapters.sqlite.adapter`` for storage classes and collations)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from adapters.sql.dialect import SourceDialect
from adapters.sql.types import TIMESTAMP, VARCHAR, ColumnInfo, TypeMap, exact_decimal
from connector.lazy_import import lazy_module
from connector.pushdown.sql import SourceColumn, is_string

if TYPE_CHECKING:
    from sqlglot import exp
else:  # imported by the first statement built as a tree: catalog queries and plain reads need none
    exp = lazy_module("sqlglot.expressions", globals(), "exp")

_EXACT_DOUBLE_DIGITS = 15


def affinity(declared: str) -> str:
    """SQLite's affinity of a declared type (https://sqlite.org/datatype3.html, 3.1), in its order of rules."""
    name = declared.upper()
    if "INT" in name:
        return "INTEGER"
    if any(k in name for k in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in name or not name.strip():
        return "BLOB"
    if any(k in name for k in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def _variable_limit() -> int:
    """Bind parameters this build of SQLite accepts: 32,766 by default since 3.32, 999 before, 250,000 in Debian's.
    More than 32,766 are not used even where allowed (the statement costs time to build and parse)."""
    try:
        with contextlib.closing(sqlite3.connect(":memory:")) as connection:
            return min(32766, int(connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)))
    except (AttributeError, sqlite3.Error):  # no getlimit (Python < 3.11): the oldest default
        return 999


def _affinity(c: ColumnInfo) -> pa.DataType | None:
    """SQLite's own affinity rules for declared types the map does not list; the storage classes seen for a
    column without a declared type. None: NUMERIC affinity and no rule, read as varchar (SQLite's text)."""
    if not c.type_name.strip():
        return _undeclared(getattr(c, "storage_classes", frozenset()))
    kind = affinity(c.type_name)
    if kind == "INTEGER":
        return pa.int64()
    if kind == "REAL":
        return pa.float64()
    if kind == "BLOB":
        return pa.binary()
    if kind == "TEXT":
        return VARCHAR
    return None


def _undeclared(classes: frozenset[str]) -> pa.DataType:
    kinds = classes - {"null"}
    if kinds == {"integer"}:
        return pa.int64()
    if kinds and kinds <= {"integer", "real"}:
        return pa.float64()
    if kinds == {"blob"}:
        return pa.binary()
    return VARCHAR


SQLITE_TYPES = TypeMap({
    "INTEGER": pa.int64(), "INT": pa.int64(), "BIGINT": pa.int64(), "SMALLINT": pa.int64(),
    "TINYINT": pa.int64(), "MEDIUMINT": pa.int64(),
    "REAL": pa.float64(), "DOUBLE": pa.float64(), "DOUBLE PRECISION": pa.float64(), "FLOAT": pa.float64(),
    "TEXT": VARCHAR, "VARCHAR": VARCHAR, "CHAR": VARCHAR, "NVARCHAR": VARCHAR, "NCHAR": VARCHAR, "CLOB": VARCHAR,
    "CHARACTER": VARCHAR, "VARYING CHARACTER": VARCHAR, "STRING": VARCHAR,
    "BLOB": pa.binary(),
    "DECIMAL": exact_decimal, "NUMERIC": exact_decimal,
    "DATE": pa.date32(),
    "DATETIME": TIMESTAMP, "TIMESTAMP": TIMESTAMP,
    "BOOLEAN": pa.bool_(), "BOOL": pa.bool_(),
}, fallback=_affinity, source="sqlite")


class SqliteDialect(SourceDialect):
    sqlglot_dialect = "sqlite"
    type_map = SQLITE_TYPES
    paramstyle = "qmark"
    plain_identifier_quote = '"'
    max_bind_parameters = _variable_limit()
    division_by_zero_errors = False  # x / 0 is NULL in SQLite
    hidden_schemas = frozenset({"temp"})

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        if pa.types.is_decimal(t):
            # Stored as REAL: rounding to a double keeps the order of distinct decimals of up to 15 digits,
            # so comparing the doubles is comparing the decimals we return. Wider ones stay in the framework.
            return bool(t.precision <= _EXACT_DOUBLE_DIGITS)
        if pa.types.is_date32(t) or pa.types.is_timestamp(t):
            return False  # stored as TEXT in whatever format: compare the values we return, in the framework
        return super().can_compare(t, ordering=ordering)

    def can_compute(self, function: str, result: pa.DataType, arguments: Sequence[pa.DataType]) -> bool:
        # SQLite turns a NaN result (inf - inf) into NULL; Athena keeps NaN. Integer arithmetic is exact.
        if pa.types.is_floating(result) or any(pa.types.is_floating(t) for t in arguments):
            return False
        return super().can_compute(function, result, arguments)

    def column_expression(self, column: SourceColumn) -> exp.Expression:
        plain = super().column_expression(column)
        cast = _read_as(column)
        return plain if cast is None else exp.Cast(this=plain, to=exp.DataType.build(cast))

    def plain_select_item(self, column: SourceColumn) -> str | None:
        name = self.quote(column.source_name)
        cast = _read_as(column)
        return name if cast is None else f"CAST({name} AS {cast}) AS {name}"

    def compare_operand(self, e: exp.Expression, t: pa.DataType, *, ordering: bool,
                        column: SourceColumn | None = None) -> exp.Expression | None:
        operand = super().compare_operand(e, t, ordering=ordering, column=column)
        if operand is not None and is_string(t):
            # The column's own collation (NOCASE, RTRIM, a custom one) would decide =, <, IN and ORDER BY.
            return exp.Collate(this=operand, expression=exp.var("BINARY"))
        return operand

    def like(self, value: exp.Expression, pattern: exp.Expression) -> exp.Expression:
        return exp.Glob(this=value, expression=pattern)

    def like_pattern(self, pattern: str) -> str:
        # GLOB is case-sensitive like Athena's LIKE; escape GLOB's own metacharacters with brackets.
        out = []
        for ch in pattern:
            if ch == "%":
                out.append("*")
            elif ch == "_":
                out.append("?")
            elif ch in "*?[":
                out.append(f"[{ch}]")
            else:
                out.append(ch)
        return "".join(out)

    def bind_value(self, value: Any, t: pa.DataType) -> Any:
        if isinstance(value, bool):
            return int(value)
        return float(value) if isinstance(value, Decimal) else value


@dataclass(frozen=True, slots=True)
class SqliteColumnInfo(ColumnInfo):
    """A column and, when it has no declared type, the storage classes of its first rows."""

    storage_classes: frozenset[str] = frozenset()


def _read_as(column: SourceColumn) -> str | None:
    """The type a column is CAST to where it is read (``column_expression``): varchar without TEXT affinity as
    TEXT (one storage class: SQLite's own text of each value), varbinary as BLOB; None: read as stored."""
    if is_string(column.type) and affinity(column.source_type) != "TEXT":
        return "TEXT"
    if pa.types.is_binary(column.type):
        return "BLOB"
    return None
