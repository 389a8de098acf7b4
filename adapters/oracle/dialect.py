"""What Oracle evaluates exactly as Athena does, how to say it, and Oracle's types.

Oracle differs from Athena in ways that silently change answers if SQL is pushed naively; each is handled here
(anything not provably exact stays in the residual that the framework applies on Arrow batches):

* ``''`` is NULL in Oracle (VARCHAR2): ``x <> ''`` is never true there but true for every non-null string in
  Athena. Constraints that mention an empty string are not pushed.
* ``/`` is exact division: integer division is rendered ``TRUNC(a / b)``. ``MOD(a, 0)`` returns ``a`` instead
  of failing, so ``MOD`` is pushed only for a non-zero constant divisor.
* A Python ``datetime`` binds as DATE (fractional seconds dropped): whole-second values bind as datetimes,
  others as ``TO_TIMESTAMP(:p, 'YYYY-MM-DD HH24:MI:SS.FF6')`` - an explicit format, so no NLS setting applies.
* TIMESTAMP(n > 3) holds more than Athena's milliseconds: Athena sees the value truncated to ms, so the
  framework's millisecond grid applies (``ts = X`` -> ``ts >= X AND ts < X + 1ms``; other comparisons, and
  ORDER BY before another key, stay in the connector - Oracle has no exact truncation to milliseconds).
* TIMESTAMP WITH [LOCAL] TIME ZONE is read and compared as ``SYS_EXTRACT_UTC(col)`` (the instant), because the
  Arrow fetch would give the wall-clock time without its zone.
* FLOAT(b) is a decimal NUMBER in Oracle but a double in Athena: read and compared as ``TO_BINARY_DOUBLE(col)``.
  BINARY_FLOAT/DOUBLE may hold NaN, which Oracle orders above everything and finds equal to itself: range
  filters on them get ``NOT col IS NAN``, and expressions and ORDER BY on them stay in the connector.
* String ordering is binary only with NLS_COMP/NLS_SORT = BINARY (set on every session) and an AL32UTF8
  database character set (checked): then byte order is code point order, as in Athena. NCHAR/NVARCHAR2
  (AL16UTF16) order differently for supplementary characters, so only equality is pushed for them.
* A column collation (12.2+: ``COLLATE BINARY_CI``, a schema's DEFAULT_COLLATION, a linguistic one) overrides
  the session's NLS settings: =, IN, LIKE, ranges and ORDER BY on such a column stay in the connector.
* A string value the database character set cannot hold (a WE8MSWIN1252 database, say) is converted to a
  replacement character when bound, and would then match the rows holding that character: comparisons with
  such values stay in the connector (NCHAR columns included: the value is bound in the database charset).
* A NUMBER whose precision the dictionary does not give may hold 40 digits, 1E-130 or 1E126: it is read as
  Oracle's text (``TO_CHAR(n, 'TM9')``, decimal point pinned) and converted exactly, never through the driver's
  Arrow decimal conversion (which wraps values with more integer digits than decimal(38, s) holds, and fails on
  more decimals). Read as varchar (``oracle_unconstrained_number=varchar``), it is not compared at the source.
* CLOB/BLOB/LONG and unknown types are never compared at the source.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlglot import exp

from adapters.sql.dialect import SourceDialect
from adapters.sql.types import (
    TIMESTAMP,
    TIMESTAMP_TZ,
    VARCHAR,
    ColumnInfo,
    TypeMap,
    decimal,
    normalize,
    parse_arguments,
)
from connector.protocol.constraints import (
    AllOrNoneValueSet,
    Constant,
    Constraints,
    EquatableValueSet,
    Expression,
    FunctionCall,
    SortedRangeSet,
    ValueSet,
    Variable,
    columns_of,
)
from connector.pushdown.sql import Pushdown, SourceColumn, SqlCompiler, is_string

log = logging.getLogger("afq.oracle")

DEFAULT_NUMBER_SCALE = 10
MAX_INTEGER_DIGITS = 18  # NUMBER(p,0) with p <= 18 always fits int64
TIMESTAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS.FF6"


# ------------------------------------------------------------------------------------------ types

def number_type(c: ColumnInfo) -> pa.DataType:
    """NUMBER(p,s) from ALL_TAB_COLUMNS' DATA_PRECISION/DATA_SCALE; never narrower than the column.

    ``query_columns`` fills the scale of an unconstrained NUMBER (both NULL) with the configured default unless
    such columns are read as text (both stay NULL: varchar); otherwise a NULL precision means "up to 38
    digits": NUMBER(*,s) and INTEGER (= NUMBER(*,0)).
    """
    p, s = c.precision, c.scale
    if p is None and s is None:
        return VARCHAR  # oracle_unconstrained_number=varchar: Oracle's exact text
    if p is None or p <= 0:
        return pa.decimal128(38, min(max(s or 0, 0), 38))
    s = s or 0
    if s <= 0:  # NUMBER(5,-2) stores whole hundreds: p - s integer digits
        digits = p - s
        return pa.int64() if digits <= MAX_INTEGER_DIGITS else decimal(digits, 0)
    return decimal(max(p, s), s)  # NUMBER(3,5) holds 0.00xyz: decimal(5,5)


ORACLE_TYPES = TypeMap({
    "NUMBER": number_type,
    "FLOAT": pa.float64(),
    "BINARY_DOUBLE": pa.float64(),
    "BINARY_FLOAT": pa.float32(),
    "DATE": TIMESTAMP,
    "TIMESTAMP": TIMESTAMP,
    "TIMESTAMP WITH TIME ZONE": TIMESTAMP_TZ,
    "TIMESTAMP WITH LOCAL TIME ZONE": TIMESTAMP_TZ,
    "CHAR": VARCHAR, "VARCHAR2": VARCHAR, "NCHAR": VARCHAR, "NVARCHAR2": VARCHAR, "VARCHAR": VARCHAR,
    "CLOB": VARCHAR, "NCLOB": VARCHAR, "LONG": VARCHAR,
    "RAW": pa.binary(), "BLOB": pa.binary(), "LONG RAW": pa.binary(),
    "BOOLEAN": pa.bool_(),
    "BFILE": VARCHAR,  # the locator, BFILENAME('DIR', 'file') (the file itself is outside the database)
}, fallback=lambda c: _other_type(c), source="oracle")


def _other_type(c: ColumnInfo) -> pa.DataType:
    """Object and collection types (``MDSYS.SDO_GEOMETRY``...) are read as JSON text of their attributes."""
    if "." not in c.type_name:
        logging.getLogger("afq.types").warning(
            "oracle column %r has type %r, which has no declared mapping; it is read as varchar", c.name, c.type_name)
    return VARCHAR


@dataclass(frozen=True, slots=True)
class Kind:
    """What an Oracle column is, for deciding what may be evaluated at the source."""

    name: str  # number, float, binary_float, binary_double, date, timestamp, timestamp_tz, char, nchar,
    #            lob, raw, boolean, interval, rowid, other
    fraction: int = 0  # fractional-second digits of a TIMESTAMP

    @property
    def sub_millisecond(self) -> bool:
        return self.name in ("timestamp", "timestamp_tz") and self.fraction > 3

    @property
    def may_be_nan(self) -> bool:
        return self.name in ("binary_float", "binary_double")


_KINDS = {
    "NUMBER": "number", "FLOAT": "float", "BINARY_FLOAT": "binary_float", "BINARY_DOUBLE": "binary_double",
    "DATE": "date", "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamp_tz",
    "TIMESTAMP WITH LOCAL TIME ZONE": "timestamp_tz", "CHAR": "char", "VARCHAR2": "char", "VARCHAR": "char",
    "NCHAR": "nchar", "NVARCHAR2": "nchar", "CLOB": "lob", "NCLOB": "lob", "LONG": "lob", "BLOB": "lob",
    "LONG RAW": "lob", "RAW": "raw", "BOOLEAN": "boolean", "ROWID": "rowid", "UROWID": "rowid",
    "INTERVAL DAY TO SECOND": "interval", "INTERVAL YEAR TO MONTH": "interval",
}


def kind_of(source_type: str) -> Kind:
    name = _KINDS.get(normalize(source_type), "other")
    fraction = 0
    if name in ("timestamp", "timestamp_tz"):
        digits, _ = parse_arguments(source_type)
        fraction = 6 if digits is None else digits  # TIMESTAMP without (n) is TIMESTAMP(6)
    return Kind(name, fraction)


#: Kinds the Arrow fetch (``fetch_df_batches``) reads natively; a query selecting anything else uses DB-API.
ARROW_NATIVE_KINDS = frozenset({"number", "float", "binary_float", "binary_double", "date", "timestamp",
                                "timestamp_tz", "char", "nchar", "lob", "raw", "boolean"})


def unbounded_number(column: SourceColumn) -> bool:
    """A NUMBER of unknown precision (``NUMBER``, a view's computed column): any of Oracle's values may be there."""
    t = column.type
    return (kind_of(column.source_type).name == "number" and "(" not in column.source_type
            and (is_string(t) or (pa.types.is_decimal(t) and t.precision == 38)))


#: Column collations that compare as BINARY in the connector's sessions (NLS_COMP = NLS_SORT = BINARY).
BINARY_COLLATIONS = frozenset({"", "BINARY", "USING_NLS_COMP", "USING_NLS_SORT", "USING_NLS_SORT_CS"})


def binary_collation(column: SourceColumn) -> bool:
    return column.collation.strip().upper() in BINARY_COLLATIONS


#: Oracle database character sets -> the Python codec that holds the same characters. The Unicode sets hold
#: every character (None); an unlisted set is assumed to hold ASCII only.
CHARSET_CODECS: dict[str, str | None] = {
    "AL32UTF8": None, "UTF8": None, "AL16UTF16": None, "UTFE": None,
    "US7ASCII": "ascii", "WE8ISO8859P1": "latin-1", "WE8ISO8859P15": "iso8859_15", "WE8MSWIN1252": "cp1252",
    "EE8ISO8859P2": "iso8859_2", "EE8MSWIN1250": "cp1250", "CL8ISO8859P5": "iso8859_5", "CL8MSWIN1251": "cp1251",
    "CL8KOI8R": "koi8_r", "EL8ISO8859P7": "iso8859_7", "EL8MSWIN1253": "cp1253", "IW8ISO8859P8": "iso8859_8",
    "IW8MSWIN1255": "cp1255", "AR8ISO8859P6": "iso8859_6", "AR8MSWIN1256": "cp1256", "TR8MSWIN1254": "cp1254",
    "WE8ISO8859P9": "iso8859_9", "BLT8MSWIN1257": "cp1257", "BLT8ISO8859P13": "iso8859_13",
    "VN8MSWIN1258": "cp1258", "TH8TISASCII": "tis_620", "JA16SJIS": "shift_jis", "JA16EUC": "euc_jp",
    "ZHS16GBK": "gbk", "ZHS32GB18030": "gb18030", "ZHT16BIG5": "big5", "ZHT16MSWIN950": "cp950",
    "KO16MSWIN949": "cp949", "KO16KSC5601": "euc_kr",
}


def charset_codec(charset: str) -> str | None:
    name = charset.strip().upper()
    return CHARSET_CODECS.get(name, "ascii")


def fetch_type(column: SourceColumn) -> pa.DataType:
    """The Arrow type to request from python-oracledb for a column (then cast to the logical type)."""
    kind = kind_of(column.source_type).name
    if unbounded_number(column):
        return pa.large_string()  # read as TO_CHAR text (select_expression), converted exactly afterwards
    if kind == "timestamp_tz":
        return pa.timestamp("ms")  # SYS_EXTRACT_UTC gives a plain TIMESTAMP holding the UTC instant
    if kind == "lob":
        return pa.large_binary() if pa.types.is_binary(column.type) else pa.large_string()
    return column.type


# ------------------------------------------------------------------------------------------ dialect

class OracleDialect(SourceDialect):
    sqlglot_dialect = "oracle"
    type_map = ORACLE_TYPES
    # Named binds (:p1) - sqlglot's Oracle parser reads them, and python-oracledb binds them by name.
    paramstyle = "named"
    max_in_list = 1000  # ORA-01795 beyond 1000 expressions in a list
    max_bind_parameters = 65535  # ORA-01745 from the 65,536th placeholder
    like_escape = "!"
    sub_millisecond_timestamps = True  # TIMESTAMP(n > 3); see sub_millisecond
    hidden_schemas = frozenset()  # every user's schema is data; ALL_USERS lists them
    #: Sessions or processes exhausted (ORA-00018, ORA-00020, a profile's SESSIONS_PER_USER ORA-02391), or the
    #: listener has no free handler (ORA-12516/12519/12520; thin mode reports these as DPY-6000 "Similar to ...").
    throttle_errors = frozenset({"ORA-00018", "ORA-00020", "ORA-02391", "ORA-12516", "ORA-12519", "ORA-12520"})

    def __init__(self, *, binary_string_order: bool = True, charset: str = "AL32UTF8",
                 row_key: exp.Expression | None = None) -> None:
        self.binary_string_order = binary_string_order
        #: Python codec holding the database character set's characters (None: all of Unicode).
        self.text_codec = charset_codec(charset)
        #: What ORA_HASH splits hash: the ROWID pseudo-column.
        self.row_key = row_key if row_key is not None else exp.column("ROWID")

    # ------------------------------------------------------------------------------- exactness
    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        if is_string(t):
            return self.binary_string_order or not ordering
        return super().can_compare(t, ordering=ordering)

    def can_compare_column(self, column: SourceColumn, *, ordering: bool) -> bool:
        # ``prepare`` already keeps these constraints out; said here too for any caller of plan_select.
        return _compares_as_read(column) and super().can_compare_column(column, ordering=ordering)

    def can_like_column(self, column: SourceColumn) -> bool:
        return _compares_as_read(column) and super().can_like_column(column)

    def can_compute(self, function: str, result: pa.DataType, arguments: Any) -> bool:
        # NUMBER arithmetic is decimal, Athena's double arithmetic is IEEE (and NaN compares differently).
        if any(pa.types.is_floating(t) for t in (result, *arguments)):
            return False
        return super().can_compute(function, result, arguments)

    def sub_millisecond(self, column: SourceColumn) -> bool:
        return kind_of(column.source_type).sub_millisecond

    def can_bind_text(self, value: str) -> bool:
        """The value reaches Oracle unchanged: the database character set holds every character of it."""
        try:
            value.encode(self.text_codec or "utf-8")
        except UnicodeEncodeError:
            return False
        return True

    # ------------------------------------------------------------------------------- rendering
    def column_expression(self, column: SourceColumn) -> exp.Expression:
        plain = exp.column(column.source_name, quoted=True)
        kind = kind_of(column.source_type).name
        if kind == "float":
            return exp.Anonymous(this="TO_BINARY_DOUBLE", expressions=[plain])
        if kind == "timestamp_tz":
            return exp.Anonymous(this="SYS_EXTRACT_UTC", expressions=[plain])
        if kind == "interval":
            return exp.Anonymous(this="TO_CHAR", expressions=[plain])
        if kind == "rowid":
            return exp.Anonymous(this="ROWIDTOCHAR", expressions=[plain])
        return plain

    def select_expression(self, column: SourceColumn) -> exp.Expression:
        if unbounded_number(column):
            # Oracle's own text of the value (TM9: as few characters as it takes), with '.' as the decimal point
            # whatever NLS_NUMERIC_CHARACTERS says.
            return exp.Anonymous(this="TO_CHAR", expressions=[
                self.column_expression(column), exp.Literal.string("TM9"),
                exp.Literal.string("NLS_NUMERIC_CHARACTERS='.,'")])
        return self.column_expression(column)

    def bind_value(self, value: Any, t: pa.DataType) -> Any:
        if isinstance(value, dt.datetime):
            value = _naive_utc(value)
            return value if value.microsecond == 0 else _timestamp_text(value)
        return value

    def bind_expression(self, placeholder: exp.Placeholder, value: Any, t: pa.DataType) -> exp.Expression:
        if isinstance(value, dt.datetime) and _naive_utc(value).microsecond != 0:
            return exp.Anonymous(this="TO_TIMESTAMP", expressions=[placeholder, exp.Literal.string(TIMESTAMP_FORMAT)])
        return placeholder

    def integer_division(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="TRUNC", expressions=[exp.Div(this=a, expression=b)])

    def modulus(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="MOD", expressions=[a, b])

    def apply_limit(self, select: exp.Select, limit: int) -> exp.Select:
        return select.limit(limit)  # FETCH FIRST n ROWS ONLY (12c+; thin mode reaches nothing older)

    def nan_guard(self, column: SourceColumn) -> exp.Expression:
        """``col IS NULL OR NOT col IS NAN``: keeps NaN out of a range filter, as Athena's comparisons do."""
        col = self.column_expression(column)
        return exp.paren(exp.or_(exp.Is(this=col.copy(), expression=exp.Null()),
                                 exp.not_(exp.Is(this=col.copy(), expression=exp.var("NAN")))))

    # ------------------------------------------------------------------------------- what to push
    def split(self, constraints: Constraints, columns: Mapping[str, SourceColumn]) -> Pushdown:
        """Per constraint, whether Oracle evaluates it exactly as Athena would (see the module docstring); a range
        filter on BINARY_FLOAT/DOUBLE gets a NaN guard."""
        pushed_summary: dict[str, ValueSet] = {}
        kept_summary: dict[str, ValueSet] = {}
        guards: list[Callable[[SqlCompiler], exp.Expression]] = []
        for name, value_set in constraints.summary.items():
            column = columns.get(name)
            rewritten = None if column is None else _value_set(self, column, value_set)
            if rewritten is None:
                kept_summary[name] = value_set
                continue
            pushed_summary[name] = rewritten
            if column is not None and kind_of(column.source_type).may_be_nan and _is_range_filter(rewritten):
                guards.append(functools.partial(_nan_guard, self, column))
        pushed_expressions: list[Expression] = []
        kept_expressions: list[Expression] = []
        for e in constraints.expression:
            (pushed_expressions if _expression_ok(self, e, columns) else kept_expressions).append(e)
        order_ok = all(o.column in columns and _orderable(self, columns[o.column]) for o in constraints.order_by)
        pushed = Constraints(summary=pushed_summary, expression=tuple(pushed_expressions),
                             order_by=constraints.order_by if order_ok else (), limit=constraints.limit,
                             passthrough=constraints.passthrough, query_plan=constraints.query_plan)
        kept = Constraints(summary=kept_summary, expression=tuple(kept_expressions),
                           order_by=() if order_ok else constraints.order_by)
        return Pushdown(pushed, kept, tuple(guards))

    def hash_bucket(self, buckets: int, bucket: exp.Expression) -> exp.Expression:
        """``ORA_HASH(ROWID, n - 1) = :k``: each row falls in exactly one of ``n`` buckets."""
        hashed = exp.Anonymous(this="ORA_HASH", expressions=[self.row_key.copy(), exp.Literal.number(buckets - 1)])
        return exp.EQ(this=hashed, expression=bucket)


def _naive_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def _timestamp_text(v: dt.datetime) -> str:
    return (f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}."
            f"{v.microsecond:06d}")


# ------------------------------------------------------------------------------------------ what to push

def _nan_guard(dialect: OracleDialect, column: SourceColumn, compiler: SqlCompiler) -> exp.Expression:
    return dialect.nan_guard(column)


def _compares_as_read(column: SourceColumn) -> bool:
    """Oracle compares the column's values as Athena compares what the connector reads: not for a NUMBER read
    as text, nor for text under a non-binary column collation."""
    kind = kind_of(column.source_type).name
    if kind == "number":
        return not is_string(column.type)
    if kind in ("char", "nchar"):
        return binary_collation(column)
    return True


def _equality_ok(dialect: OracleDialect, column: SourceColumn) -> bool:
    return kind_of(column.source_type).name in (
        "number", "float", "binary_float", "binary_double", "date", "timestamp", "timestamp_tz", "char",
        "nchar", "boolean") and _compares_as_read(column)


def _ordering_ok(dialect: OracleDialect, column: SourceColumn) -> bool:
    kind = kind_of(column.source_type).name
    if not _compares_as_read(column):
        return False
    if kind == "char":
        return dialect.binary_string_order
    return kind in ("number", "float", "binary_float", "binary_double", "date", "timestamp", "timestamp_tz",
                    "boolean")


def _orderable(dialect: OracleDialect, column: SourceColumn) -> bool:
    """ORDER BY at the source, or the column inside a pushed expression: NaN placement differs for BINARY_*
    (Oracle sorts NaN above +Inf)."""
    return _ordering_ok(dialect, column) and not kind_of(column.source_type).may_be_nan


def _value_set(dialect: OracleDialect, column: SourceColumn, value_set: ValueSet) -> ValueSet | None:
    """The value set to push (maybe rewritten), or None to keep it in the connector."""
    if isinstance(value_set, AllOrNoneValueSet):
        return value_set
    if not _equality_ok(dialect, column) or any(_unsafe_value(dialect, v) for v in _values(value_set)):
        return None
    if isinstance(value_set, EquatableValueSet):
        return value_set
    needs_order = any(not r.is_single_value and not r.is_all for r in value_set.ranges)
    if needs_order and not _ordering_ok(dialect, column):
        return None
    return value_set


def _is_range_filter(value_set: ValueSet) -> bool:
    return isinstance(value_set, SortedRangeSet) and not any(r.is_all for r in value_set.ranges) and bool(
        value_set.ranges)


def _values(value_set: ValueSet) -> Iterable[Any]:
    if isinstance(value_set, EquatableValueSet):
        yield from value_set.values
    elif isinstance(value_set, SortedRangeSet):
        for r in value_set.ranges:
            for m in (r.low, r.high):
                if not m.unbounded:
                    yield m.value


def _unsafe_value(dialect: OracleDialect, value: Any) -> bool:
    """'' is NULL in Oracle; text the database charset cannot hold is altered when bound; NaN and infinities
    have no NUMBER bind."""
    if isinstance(value, str):
        return value == "" or not dialect.can_bind_text(value)
    return isinstance(value, float) and not math.isfinite(value)


def _expression_ok(dialect: OracleDialect, e: Expression, columns: Mapping[str, SourceColumn]) -> bool:
    for name in columns_of(e):
        column = columns.get(name)
        if column is None or not _orderable(dialect, column):
            return False
    return _constants_ok(dialect, e)


def _constants_ok(dialect: OracleDialect, e: Expression) -> bool:
    if isinstance(e, Constant):
        return not any(_unsafe_value(dialect, v) for v in e.values)
    if isinstance(e, Variable):
        return True
    if not all(_constants_ok(dialect, a) for a in e.arguments):
        return False
    if e.name == "$modulus":  # MOD(a, 0) is a in Oracle, an error in Athena: only non-zero constants
        divisor = e.arguments[1] if len(e.arguments) == 2 else None
        return (isinstance(divisor, Constant) and len(divisor.values) == 1
                and isinstance(divisor.value, int) and divisor.value != 0)
    return isinstance(e, FunctionCall)
