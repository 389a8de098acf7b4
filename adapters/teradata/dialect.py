"""What Teradata evaluates exactly as Athena does, how to say it, and Teradata's types.

* Types come from ``DBC.ColumnsVX`` type codes with their precision and scale: DECIMAL(p,s) is decimal(p,s),
  TIMESTAMP a timestamp; TIME, PERIOD, INTERVAL, JSON... are their Teradata text.
* Strings: Teradata compares with pad semantics (``'a' = 'a '``) and, for NOT CASESPECIFIC columns,
  case-insensitively - no string comparison is exact in any mode. Positive string filters (``=``, ``IN``) are
  pushed as a *prefilter* (a superset) and re-checked exactly by the framework.
* TIMESTAMP(n > 3) values are finer than Athena's milliseconds: the framework's millisecond grid applies
  (``SqlDialect.sub_millisecond``); TIMESTAMP WITH TIME ZONE is not compared at the source.
* Integer arithmetic only in INTEGER/BIGINT; no BOOLEAN; null ordering by a CASE key; ``TOP n`` limits; value
  lists are left to the framework when a request would exceed Teradata's parameter limit.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pyarrow as pa
from sqlglot import exp

from adapters.sql.dialect import SourceDialect
from adapters.sql.types import MAX_PRECISION, TIMESTAMP, TIMESTAMP_TZ, VARCHAR, ColumnInfo, TypeMap, decimal, normalize
from connector.protocol.constraints import Constraints, EquatableValueSet, SortedRangeSet, ValueSet
from connector.pushdown.sql import (
    Pushdown,
    SourceColumn,
    SourceQuery,
    SqlCompiler,
    SqlDialect,
    is_string,
    plan_pushdown,
)

#: Largest ``TOP n`` generated; a larger LIMIT (or LIMIT 0) is applied by the framework.
MAX_TOP = 2**31 - 1
#: Parameters per request before big value lists are left to the framework (Teradata caps USING fields).
MAX_PARAMETERS = 2000


# ============================================================================================ types

#: DBC ``ColumnType`` codes (also HELP COLUMN's ``Type``) -> Teradata type names.
TYPE_CODES: dict[str, str] = {
    "I1": "BYTEINT", "I2": "SMALLINT", "I": "INTEGER", "I8": "BIGINT",
    "D": "DECIMAL", "N": "NUMBER", "F": "FLOAT",
    "CF": "CHAR", "CV": "VARCHAR", "CO": "CLOB", "GF": "GRAPHIC", "GV": "VARGRAPHIC",
    "BF": "BYTE", "BV": "VARBYTE", "BO": "BLOB",
    "DA": "DATE", "AT": "TIME", "TZ": "TIME WITH TIME ZONE", "TS": "TIMESTAMP", "SZ": "TIMESTAMP WITH TIME ZONE",
    "YR": "INTERVAL YEAR", "YM": "INTERVAL YEAR TO MONTH", "MO": "INTERVAL MONTH", "DY": "INTERVAL DAY",
    "DH": "INTERVAL DAY TO HOUR", "DM": "INTERVAL DAY TO MINUTE", "DS": "INTERVAL DAY TO SECOND",
    "HR": "INTERVAL HOUR", "HM": "INTERVAL HOUR TO MINUTE", "HS": "INTERVAL HOUR TO SECOND",
    "MI": "INTERVAL MINUTE", "MS": "INTERVAL MINUTE TO SECOND", "SC": "INTERVAL SECOND",
    "PD": "PERIOD(DATE)", "PT": "PERIOD(TIME)", "PZ": "PERIOD(TIME WITH TIME ZONE)",
    "PS": "PERIOD(TIMESTAMP)", "PM": "PERIOD(TIMESTAMP WITH TIME ZONE)",
    "JN": "JSON", "XM": "XML", "A1": "ARRAY", "AN": "ARRAY", "UT": "UDT", "DT": "DATASET",
}
_CHARACTER = frozenset({"CHAR", "VARCHAR", "GRAPHIC", "VARGRAPHIC", "CHARACTER", "LONG VARCHAR"})
FIXED_CHARACTER_TYPES = frozenset({"CHAR", "GRAPHIC", "CHARACTER"})
#: Types HASHROW takes (LOBs, PERIOD, JSON, XML, ARRAY and UDTs are not hashed).
HASHABLE_TYPES = frozenset({"BYTEINT", "SMALLINT", "INTEGER", "BIGINT", "DECIMAL", "NUMBER", "FLOAT", "CHAR",
                            "VARCHAR", "GRAPHIC", "VARGRAPHIC", "BYTE", "VARBYTE", "DATE", "TIME",
                            "TIME WITH TIME ZONE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE",
                            *(name for name in TYPE_CODES.values() if name.startswith("INTERVAL"))})


def _number(c: ColumnInfo) -> pa.DataType:
    """NUMBER(p,s) is decimal(p,s); NUMBER / NUMBER(*) (reported with p outside 1..38) is decimal(38,s|10)."""
    p, s = c.precision, c.scale
    if p is not None and 1 <= p <= MAX_PRECISION and s is not None and 0 <= s <= p:
        return decimal(p, s)
    return pa.decimal128(MAX_PRECISION, s if s is not None and 0 <= s <= MAX_PRECISION else 10)


def _decimal(c: ColumnInfo) -> pa.DataType:
    """DECIMAL/NUMERIC(p,s) -> decimal(p,s) for every p and s (DECIMAL(10,2) stays decimal(10,2))."""
    if c.precision is None or c.precision <= 0:
        return pa.decimal128(MAX_PRECISION, 10 if c.scale is None or c.scale < 0 else min(c.scale, MAX_PRECISION))
    return decimal(c.precision, max(0, c.scale or 0))


TERADATA_TYPES = TypeMap({
    "BYTEINT": pa.int8(), "SMALLINT": pa.int16(), "INTEGER": pa.int32(), "INT": pa.int32(), "BIGINT": pa.int64(),
    "DECIMAL": _decimal, "NUMERIC": _decimal, "NUMBER": _number,
    # FLOAT, REAL and DOUBLE PRECISION are the same 8-byte IEEE type in Teradata.
    "FLOAT": pa.float64(), "REAL": pa.float64(), "DOUBLE PRECISION": pa.float64(), "DOUBLE": pa.float64(),
    "CHAR": VARCHAR, "CHARACTER": VARCHAR, "VARCHAR": VARCHAR, "LONG VARCHAR": VARCHAR, "CLOB": VARCHAR,
    "GRAPHIC": VARCHAR, "VARGRAPHIC": VARCHAR,
    "BYTE": pa.binary(), "VARBYTE": pa.binary(), "BLOB": pa.binary(),
    "DATE": pa.date32(),
    "TIMESTAMP": TIMESTAMP, "TIMESTAMP WITH TIME ZONE": TIMESTAMP_TZ,
    # Athena has no type for these: their Teradata text form.
    "TIME": VARCHAR, "TIME WITH TIME ZONE": VARCHAR, "PERIOD": VARCHAR, "JSON": VARCHAR, "XML": VARCHAR,
    "ARRAY": VARCHAR, "UDT": VARCHAR, "ST_GEOMETRY": VARCHAR, "MBR": VARCHAR, "DATASET": VARCHAR,
    **{name: VARCHAR for name in TYPE_CODES.values() if name.startswith("INTERVAL")},
}, source="teradata")


def type_name(code: str, length: int | None = None, total_digits: int | None = None,
              fractional_digits: int | None = None, char_type: int | None = None, udt_name: str | None = None) -> str:
    """A dictionary row's type as Teradata writes it: ``DECIMAL(10,2)``, ``TIMESTAMP(6) WITH TIME ZONE``..."""
    code = (code or "").strip().upper()
    base = TYPE_CODES.get(code)
    if base is None:
        return (udt_name or code or "UNKNOWN").strip().upper()
    if code == "UT" and udt_name:
        return udt_name.strip().upper()
    if code in ("D", "N") and total_digits is not None:
        return f"{base}({total_digits},{fractional_digits or 0})"
    if code in ("AT", "TZ", "TS", "SZ") and fractional_digits is not None:
        head, _, tail = base.partition(" ")
        return f"{head}({fractional_digits}){' ' + tail if tail else ''}"
    if code in ("CF", "CV") and length is not None:
        per_char = 2 if char_type in (2, 4) else 1  # UNICODE and GRAPHIC store 2 bytes per character
        return f"{base}({length // per_char})"
    if code in ("BF", "BV") and length is not None:
        return f"{base}({length})"
    return base


def fraction_digits(source_type: str) -> int | None:
    match = re.match(r"^\s*(?:TIME|TIMESTAMP)\s*\(\s*(\d+)\s*\)", source_type, re.IGNORECASE)
    return int(match.group(1)) if match else None


def described_column(described: tuple[str, str, int | None, int | None]) -> ColumnInfo:
    """A prepared statement's column (teradatasql ``columntypename`` + precision/scale) as a ColumnInfo."""
    name, teradata_type, precision, scale = described
    kind = normalize(teradata_type)
    if kind in ("DECIMAL", "NUMERIC", "NUMBER"):
        return ColumnInfo(name, f"{kind}({precision},{scale})" if precision else kind, precision, scale)
    if kind in ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIME", "TIME WITH TIME ZONE") and scale is not None:
        head, _, tail = kind.partition(" ")
        return ColumnInfo(name, f"{head}({scale}){' ' + tail if tail else ''}", None, scale)
    return ColumnInfo(name, teradata_type or "VARCHAR")


# ============================================================================================ dialect


def _is_wall_clock(t: pa.DataType) -> bool:
    return bool(pa.types.is_timestamp(t) and t.tz is None)


class TeradataDialect(SourceDialect):
    """What Teradata evaluates exactly as Athena does (see the module docstring for strings and timestamps)."""

    sqlglot_dialect = "teradata"
    type_map = TERADATA_TYPES
    paramstyle = "qmark"
    exact_string_ordering = False
    supports_null_ordering = False
    division_by_zero_errors = True
    integer_division_truncates = True
    max_in_list = 1000
    max_bind_parameters = MAX_PARAMETERS
    sub_millisecond_timestamps = True  # TIMESTAMP(n > 3): see sub_millisecond
    #: System databases, hidden from SHOW DATABASES (still queryable by name).
    hidden_schemas = frozenset({
        "all", "console", "crashdumps", "dbc", "dbcmngr", "default", "external_ap", "extuser", "locklogshredder",
        "public", "sqlj", "sys_calendar", "sysadmin", "sysbar", "sysjdbc", "syslib", "sysspatial", "systemfe",
        "sysudtlib", "sysxml", "td_server_db", "td_sysfnlib", "td_sysgpl", "td_sysxml", "tdbcmgmt", "tdmaps",
        "tdpuser", "tdqcd", "tdstats", "tdwm", "information_schema",
    })
    #: 2631 transaction aborted due to deadlock, 2639 too many simultaneous transactions, 3130 response limit
    #: exceeded (16 open responses per session): Teradata's CLI reference says to resubmit.
    throttle_errors = frozenset({"2631", "2639", "3130"})

    def split(self, constraints: Constraints, columns: Mapping[str, SourceColumn]) -> Pushdown:
        """String prefilters the framework re-checks, non-finite floats and LIMITs TOP cannot say left to it."""
        pushable: dict[str, ValueSet] = {}
        forced: dict[str, ValueSet] = {}
        predicates: list[Callable[[SqlCompiler], exp.Expression]] = []
        for name, value_set in constraints.summary.items():
            column = columns.get(name)
            if column is None:
                pushable[name] = value_set  # the compiler names the unknown column
                continue
            if pa.types.is_floating(column.type) and not _finite(value_set):
                forced[name] = value_set
                continue
            if is_string(column.type) and normalize(column.source_type) in _CHARACTER:
                prefilter = _string_prefilter(name, value_set)
                if prefilter is not None:
                    predicates.append(prefilter)  # the value set itself stays in the residual (can_compare)
            pushable[name] = value_set
        top = not constraints.has_limit or 1 <= constraints.limit <= MAX_TOP
        return Pushdown(replace(constraints, summary=pushable, limit=constraints.limit if top else -1),
                        Constraints(summary=forced, limit=-1 if top else constraints.limit), tuple(predicates))

    def sub_millisecond(self, column: SourceColumn) -> bool:
        if not _is_wall_clock(column.type):
            return False  # TIMESTAMP WITH TIME ZONE is not compared at the source at all
        digits = fraction_digits(column.source_type)
        return digits is None or digits > 3

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        if is_string(t):
            return False  # pad semantics and NOT CASESPECIFIC: prefiltered by the adapter, checked by the framework
        if pa.types.is_timestamp(t) and t.tz is not None:
            return False  # TIMESTAMP WITH TIME ZONE binding and ordering are left to the framework
        if pa.types.is_boolean(t):
            return False  # Teradata has no BOOLEAN
        return super().can_compare(t, ordering=ordering)

    def can_compute(self, function: str, result: pa.DataType, arguments: Sequence[pa.DataType]) -> bool:
        # Integer arithmetic only, in INTEGER or BIGINT: Teradata widens BYTEINT/SMALLINT results (Athena
        # would overflow), FLOAT division by zero is an error in Teradata (Athena: Infinity), and DECIMAL
        # result scales differ.
        if not (pa.types.is_int32(result) or pa.types.is_int64(result)):
            return False
        return all(pa.types.is_integer(a) for a in arguments) and super().can_compute(function, result, arguments)

    def can_like(self, t: pa.DataType) -> bool:
        return False  # LIKE follows the column's case specificity and pad rules: applied by the framework

    def apply_limit(self, select: exp.Select, limit: int) -> exp.Select:
        return select.limit(limit)  # sqlglot writes TOP n for Teradata

    def bind_value(self, value: Any, t: pa.DataType) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value


# ============================================================================================ what to push

def plan_query(dialect: SqlDialect, table: exp.Expression, columns: Mapping[str, SourceColumn],
               projection: Sequence[str], constraints: Constraints,
               split_where: Sequence[exp.Expression] = ()) -> SourceQuery:
    """The SELECT for one split of a Teradata table (split predicates given as expressions), and the residual
    the framework applies: the generic planner (``plan_pushdown``) with ``TeradataDialect.split``."""
    return plan_pushdown(dialect, table, columns, projection, constraints,
                         lambda compiler: [e.copy() for e in split_where])


def _finite(value_set: ValueSet) -> bool:
    values: list[Any] = []
    if isinstance(value_set, EquatableValueSet):
        values = list(value_set.values)
    elif isinstance(value_set, SortedRangeSet):
        values = [m.value for r in value_set.ranges for m in (r.low, r.high) if not m.unbounded]
    return all(v is None or math.isfinite(v) for v in values)


def _safe_text(value: Any) -> bool:
    """Text Teradata can compare without a translation error: BMP characters, no control characters."""
    return isinstance(value, str) and all(0x20 <= ord(ch) <= 0xFFFD and not 0xD800 <= ord(ch) <= 0xDFFF
                                          for ch in value)


def _string_prefilter(name: str, value_set: ValueSet) -> Callable[[SqlCompiler], exp.Expression] | None:
    """``col IN (...)``: Teradata's answer is a superset of Athena's (pad semantics, maybe case-insensitive);
    the framework re-checks the value set exactly. Only for positive membership - a negation would not be a
    superset."""
    if isinstance(value_set, EquatableValueSet) and value_set.white_list:
        values = [v for v in value_set.values if v is not None]
    elif isinstance(value_set, SortedRangeSet) and value_set.ranges and all(r.is_single_value
                                                                            for r in value_set.ranges):
        values = [r.low.value for r in value_set.ranges]
    else:
        return None
    if not values or len(values) > TeradataDialect.max_in_list or not all(_safe_text(v) for v in values):
        return None
    null_allowed = value_set.null_allowed

    def build(compiler: SqlCompiler) -> exp.Expression:
        column = compiler.column(name)
        if len(values) == 1:
            core: exp.Expression = exp.EQ(this=column, expression=compiler.bind(values[0], VARCHAR))
        else:
            core = exp.In(this=column, expressions=[compiler.bind(v, VARCHAR) for v in values])
        if null_allowed:
            return exp.paren(exp.or_(core, exp.Is(this=column.copy(), expression=exp.Null())))
        return core

    return build


__all__ = ["MAX_PARAMETERS", "MAX_TOP", "TERADATA_TYPES", "TYPE_CODES", "TeradataDialect", "described_column",
           "plan_query", "type_name"]
