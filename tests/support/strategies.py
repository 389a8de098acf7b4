"""Hypothesis strategies: random typed tables (nasty identifiers and values) and random constraints for them.

Tables are described by *kinds* (``int64``, ``text``, ``timestamp``...) that each engine maps to a DDL type;
constraints are generated afterwards for a ``Domain``: the Athena types of the columns and sample values (read
from the table, or an adapter test's fixed pool), so that filters hit rows often enough to be interesting. Every
adapter's pushdown property test draws its constraints here and checks them with ``tests.support.reference_evaluator``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from connector.protocol.constraints import (
    AllOrNoneValueSet,
    Bound,
    Constant,
    Constraints,
    EquatableValueSet,
    Expression,
    FunctionCall,
    Marker,
    OrderByField,
    Range,
    SortDirection,
    SortedRangeSet,
    ValueSet,
    Variable,
)

# Quotes, SQL comment and placeholder characters, LIKE wildcards, escapes, non-ASCII and an astral character.
NASTY = "\"';-%_?:$\\.é Ωß"
IDENTIFIER_CHARS = "abcXYZ019" + NASTY
TEXT_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
TEXT_ALPHABET = st.one_of(st.sampled_from("aAbB %_\\'\"!*?[]"), st.sampled_from("éÉßΩ\ufffd\U0001f600"), TEXT_CHARS)


def identifiers() -> st.SearchStrategy[str]:
    return st.text(IDENTIFIER_CHARS, min_size=1, max_size=10)


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[tuple[str, str], ...]  # (source name, kind)
    rows: tuple[tuple[Any, ...], ...]


def _timestamps(micros: bool, tz: bool) -> st.SearchStrategy[dt.datetime]:
    base = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1))
    if not micros:
        base = base.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
    if tz:
        base = base.map(lambda d: d.replace(tzinfo=dt.UTC))
    return base


def values(kind: str, engine: str) -> st.SearchStrategy[Any]:
    """Values a column of ``kind`` may hold on ``engine`` (arithmetic on them never overflows)."""
    if kind == "int64":
        return st.integers(-(2**31), 2**31)
    if kind == "int32":
        return st.integers(-(2**15), 2**15)
    if kind == "int16":
        return st.integers(-(2**7), 2**7)
    if kind == "float64":
        finite = st.one_of(st.floats(-1e6, 1e6, allow_nan=False, width=64), st.sampled_from([0.0, -0.0, 1.5, -2.25]))
        specials = [math.inf, -math.inf] + ([] if engine == "sqlite" else [math.nan])  # SQLite stores NaN as NULL
        return st.one_of(finite, st.sampled_from(specials))
    if kind == "decimal":
        return st.decimals(min_value=-99_999_999, max_value=99_999_999, places=2, allow_nan=False,
                           allow_infinity=False)
    if kind in ("text", "varchar"):
        return st.text(TEXT_ALPHABET, max_size=8 if kind == "text" else 6)
    if kind == "char":
        return st.text(st.sampled_from("ab %_"), max_size=4)
    if kind == "bool":
        return st.booleans()
    if kind == "date":
        return st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(3000, 12, 31))
    if kind == "timestamp":
        return _timestamps(micros=engine != "sqlite", tz=False)
    if kind == "timestamptz":
        return _timestamps(micros=True, tz=True)
    if kind == "binary":
        return st.binary(max_size=5)
    raise ValueError(kind)


@st.composite
def tables(draw: st.DrawFn, engine: str, kinds: Sequence[str], max_rows: int = 25) -> TableSpec:
    chosen = draw(st.lists(st.sampled_from(list(kinds)), min_size=1, max_size=5))
    names = draw(st.lists(identifiers(), min_size=len(chosen), max_size=len(chosen), unique_by=str.lower))
    columns = tuple(zip(names, chosen, strict=True))
    row = st.tuples(*(st.one_of(st.none(), values(kind, engine)) for kind in chosen))
    # Duplicate rows on purpose now and then: answers are compared as multisets.
    rows = draw(st.lists(row, max_size=max_rows).flatmap(
        lambda rs: st.just(rs) if not rs else st.lists(st.sampled_from(rs), max_size=len(rs) // 3).map(
            lambda extra: rs + extra)))
    return TableSpec(draw(identifiers()), columns, tuple(rows))


# ------------------------------------------------------------------------------------------ domains


@dataclass(frozen=True)
class Domain:
    """What random constraints may mention: columns with their Athena types, and the constants to use.

    ``samples`` holds values as Athena holds them; constants are mostly drawn from them (timestamps also one
    millisecond either side). With ``fresh`` other values of the type are drawn too; an engine whose stand-in
    takes only certain values (a fixed pool) turns it off. ``like_patterns`` fixes the LIKE patterns (by default
    they are built from samples and ``TEXT_ALPHABET``).
    """

    types: Mapping[str, pa.DataType]
    samples: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    fresh: bool = True
    like_patterns: Sequence[str] = ()

    def __repr__(self) -> str:
        return f"Domain({', '.join(f'{n}: {t}' for n, t in self.types.items())})"  # short Hypothesis reports


# ------------------------------------------------------------------------------------------ constraint values


def athena_value(v: Any, t: pa.DataType) -> Any:
    """How Athena holds a value of type ``t`` (what GetTable's type allows)."""
    if v is None:
        return None
    if pa.types.is_timestamp(t):
        v = v.replace(microsecond=v.microsecond // 1000 * 1000)
        return v.astimezone(dt.UTC) if t.tz else v.replace(tzinfo=None)
    if pa.types.is_decimal(t):
        return Decimal(v).quantize(Decimal(1).scaleb(-t.scale))
    if pa.types.is_integer(t):
        return int(v)
    return v


_MS = dt.timedelta(milliseconds=1)


def _fresh(t: pa.DataType) -> st.SearchStrategy[Any]:
    if pa.types.is_integer(t):
        half = t.bit_width // 2 - 1  # products of two such values still fit the type
        return st.integers(-(2**half), 2**half)
    if pa.types.is_floating(t):
        return st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([math.inf, -math.inf, 0.0]))
    if pa.types.is_decimal(t):
        return st.decimals(min_value=-99_999_999, max_value=99_999_999, places=t.scale, allow_nan=False,
                           allow_infinity=False)
    if pa.types.is_string(t):
        return st.text(TEXT_ALPHABET, max_size=6)
    if pa.types.is_boolean(t):
        return st.booleans()
    if pa.types.is_date32(t):
        return st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(3000, 12, 31))
    if pa.types.is_timestamp(t):
        return _timestamps(micros=False, tz=bool(t.tz))
    if pa.types.is_binary(t):
        return st.binary(max_size=5)
    raise ValueError(t)


def constants(t: pa.DataType, samples: Sequence[Any], fresh: bool = True) -> st.SearchStrategy[Any]:
    """Non-null constants of type ``t``: mostly values present in the data, sometimes fresh ones."""
    present = [v for v in samples if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not present:
        return _fresh(t).map(lambda v: athena_value(v, t))
    chosen: st.SearchStrategy[Any] = st.sampled_from(present)
    if pa.types.is_timestamp(t):  # the millisecond grid's boundaries
        chosen = chosen.flatmap(lambda v: st.sampled_from([v, v - _MS, v + _MS]))
    if fresh:
        chosen = st.one_of(chosen, _fresh(t))
    return chosen.map(lambda v: athena_value(v, t))


def _constants(domain: Domain, name: str, t: pa.DataType | None = None) -> st.SearchStrategy[Any]:
    return constants(t or domain.types[name], domain.samples.get(name, ()), domain.fresh)


@st.composite
def value_sets(draw: st.DrawFn, domain: Domain, name: str) -> ValueSet:
    t = domain.types[name]
    values = _constants(domain, name)
    null_allowed = draw(st.booleans())
    kind = draw(st.sampled_from(["ranges", "ranges", "ranges", "equatable", "all_or_none"]))
    if kind == "all_or_none":
        return AllOrNoneValueSet(t, draw(st.booleans()), null_allowed)
    if kind == "equatable":
        members = draw(st.lists(values, min_size=0, max_size=4))
        return EquatableValueSet(t, tuple(members), draw(st.booleans()), null_allowed)
    ranges = []
    for _ in range(draw(st.integers(0, 3))):
        shape = draw(st.sampled_from(["point", "range", "below", "above", "all"]))
        if shape == "all":
            ranges.append(Range.all())
        elif shape == "point":
            ranges.append(Range.equal(draw(values)))
        else:
            low_value, high_value = sorted([draw(values), draw(values)], key=_sort_key)
            low = Marker(low_value, draw(st.sampled_from([Bound.EXACTLY, Bound.ABOVE])))
            high = Marker(high_value, draw(st.sampled_from([Bound.EXACTLY, Bound.BELOW])))
            if shape == "below":
                low = Marker.below_all()
            elif shape == "above":
                high = Marker.above_all()
            ranges.append(Range(low, high))
    return SortedRangeSet(t, tuple(ranges), null_allowed)


def _sort_key(v: Any) -> Any:
    return v.astimezone(dt.UTC) if isinstance(v, dt.datetime) and v.tzinfo else v


# ------------------------------------------------------------------------------------------ expressions


BOOLEAN = pa.bool_()
COMPARISONS = ("$equal", "$not_equal", "$less_than", "$less_than_or_equal", "$greater_than",
               "$greater_than_or_equal")


def _const(t: pa.DataType, v: Any) -> Constant:
    return Constant(t, (v,))


def _numeric(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def _result_type(function: str, t: pa.DataType) -> pa.DataType:
    if not pa.types.is_decimal(t):
        return t
    p, s = t.precision, t.scale
    if function in ("$add", "$subtract"):
        return pa.decimal128(min(38, p + 1), s)
    if function == "$multiply":
        return pa.decimal128(min(38, 2 * p), min(38, 2 * s))
    if function == "$divide":
        return pa.decimal128(min(38, p + s + 1), s)
    return t


def _wider(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    return a if a.bit_width >= b.bit_width else b


@st.composite
def integer_terms(draw: st.DrawFn, domain: Domain, depth: int = 0) -> Expression:
    """Integer arithmetic over the integer columns and small constants, nested (Trino's widening types).

    Every operation involves a column: Athena folds constant-only arithmetic before it reaches a connector.
    """
    columns = [n for n, t in domain.types.items() if pa.types.is_integer(t)]

    def column() -> Variable:
        name = draw(st.sampled_from(columns))
        return Variable(name, domain.types[name])

    if depth >= 2 or draw(st.booleans()):
        if columns and draw(st.booleans()):
            return column()
        t = draw(st.sampled_from([pa.int32(), pa.int64()]))
        return _const(t, draw(st.integers(-9, 9)))
    function = draw(st.sampled_from(["$add", "$subtract", "$multiply", "$divide", "$modulus", "$negate"]))
    a = draw(integer_terms(domain, depth + 1))
    b = a if function == "$negate" else draw(integer_terms(domain, depth + 1))
    if columns and not (_mentions_column(a) or _mentions_column(b)):
        a = column()
    if function == "$negate":
        return FunctionCall(a.type, function, (a,))
    return FunctionCall(_wider(a.type, b.type), function, (a, b))


def _mentions_column(e: Expression) -> bool:
    return isinstance(e, Variable) or (isinstance(e, FunctionCall) and any(_mentions_column(a) for a in e.arguments))


def _like_pattern(draw: st.DrawFn, domain: Domain, name: str) -> str:
    if domain.like_patterns:
        return draw(st.sampled_from(list(domain.like_patterns)))
    samples = [v for v in domain.samples.get(name, ()) if v is not None]
    if samples and draw(st.booleans()):  # a pattern built from a real value
        value = draw(st.sampled_from(samples))
        cut = draw(st.integers(0, len(value)))
        return str(value[:cut] + draw(st.sampled_from(["%", "_", "", "%_"])))
    return draw(st.text(st.one_of(st.sampled_from("%_%_ab\\!"), TEXT_ALPHABET), max_size=5))


@st.composite
def predicates(draw: st.DrawFn, domain: Domain, depth: int = 2) -> Expression:
    """A random boolean expression over the table, with every standard function reachable."""
    columns = domain.types
    if depth > 0 and draw(st.integers(0, 3)) == 0:
        combinator = draw(st.sampled_from(["$and", "$or", "$not"]))
        if combinator == "$not":
            return FunctionCall(BOOLEAN, "$not", (draw(predicates(domain, depth - 1)),))
        parts = draw(st.lists(predicates(domain, depth - 1), min_size=2, max_size=3))
        return FunctionCall(BOOLEAN, combinator, tuple(parts))
    name = draw(st.sampled_from(sorted(columns)))
    t = columns[name]
    column = Variable(name, t)
    options = ["compare", "compare", "is_null", "in", "distinct", "nullif"]
    if _numeric(t):
        options += ["arithmetic", "arithmetic"]
    if pa.types.is_integer(t):
        options += ["integer_terms"]
    if pa.types.is_string(t):
        options += ["like", "like"]
    if pa.types.is_boolean(t):
        options += ["bare"]
    choice = draw(st.sampled_from(options))
    const = _constants(domain, name)
    if choice == "bare":
        return column
    if choice == "is_null":
        return FunctionCall(BOOLEAN, "$is_null", (column,))
    if choice == "in":
        members = draw(st.lists(st.one_of(const, st.none()) if draw(st.booleans()) else const, min_size=1,
                                max_size=4))
        array = FunctionCall(pa.list_(t), "$array", tuple(_const(t, m) for m in members))
        return FunctionCall(BOOLEAN, "$in", (column, array))
    if choice == "like":
        return FunctionCall(BOOLEAN, "$like_pattern", (column, _const(pa.string(), _like_pattern(draw, domain, name))))
    if choice == "integer_terms":
        a, b = draw(integer_terms(domain)), draw(integer_terms(domain))
        if not (_mentions_column(a) or _mentions_column(b)):
            a = column
        if a.type == b.type:
            return FunctionCall(BOOLEAN, draw(st.sampled_from(COMPARISONS)), (a, b))
        wider = _wider(a.type, b.type)
        return FunctionCall(BOOLEAN, "$equal", (FunctionCall(wider, "$add", (a, b)), _const(wider, 0)))
    other: Expression = _const(t, draw(const))
    same_type = [n for n, ct in columns.items() if ct == t and n != name]
    if same_type and draw(st.booleans()):
        other = Variable(draw(st.sampled_from(same_type)), t)
    if choice == "distinct":
        if draw(st.integers(0, 4)) == 0:
            other = _const(t, None)  # IS [NOT] DISTINCT FROM NULL
        return FunctionCall(BOOLEAN, "$is_distinct_from", (column, other))
    if choice == "nullif":
        nullif = FunctionCall(t, "$nullif", (column, other))
        return FunctionCall(BOOLEAN, draw(st.sampled_from(COMPARISONS)), (nullif, _const(t, draw(const))))
    if choice == "arithmetic":
        function = draw(st.sampled_from(["$add", "$subtract", "$multiply", "$divide", "$modulus", "$negate"]))
        result_type = _result_type(function, t)
        if function == "$negate":
            value: Expression = FunctionCall(result_type, "$negate", (column,))
        else:
            operand = draw(const.filter(lambda v: v != 0)) if function in ("$divide", "$modulus") else draw(const)
            if function in ("$divide", "$modulus") and pa.types.is_decimal(t) and abs(operand) < 1:
                operand = Decimal(1)  # keep quotients inside the declared precision
            value = FunctionCall(result_type, function, (column, _const(t, operand)))
        op = draw(st.sampled_from(COMPARISONS))
        target = draw(constants(result_type, []))
        return FunctionCall(BOOLEAN, op, (value, _const(result_type, target)))
    return FunctionCall(BOOLEAN, draw(st.sampled_from(COMPARISONS)), (column, other))


@st.composite
def constraints(draw: st.DrawFn, domain: Domain, *, focus: Sequence[str] = (),
                order_without_limit: bool = False) -> Constraints:
    """Value sets, expressions, ORDER BY and LIMIT over ``domain``.

    ``focus``: value sets and ORDER BY only on those columns, and no expressions (to hit their rules often).
    ``order_without_limit``: ORDER BY also without a LIMIT (a test that checks one split's order).
    """
    names = list(focus) or sorted(domain.types)
    count = min(len(names), draw(st.sampled_from([1, 1, 1, 2, 2, 3] if focus else [0, 1, 1, 1, 2, 2, 3])))
    summary_columns = draw(st.lists(st.sampled_from(names), unique=True, min_size=count, max_size=count))
    summary = {n: draw(value_sets(domain, n)) for n in summary_columns}
    expressions = () if focus else tuple(draw(st.lists(predicates(domain), max_size=2)))
    limit = draw(st.one_of(st.just(-1), st.just(-1), st.integers(0, 8)))
    order_by: tuple[OrderByField, ...] = ()
    if (limit >= 0 or order_without_limit) and draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(names), unique=True, min_size=1, max_size=min(3, len(names))))
        order_by = tuple(OrderByField(k, draw(st.sampled_from(list(SortDirection)))) for k in keys)
    return Constraints(summary=summary, expression=expressions, order_by=order_by, limit=limit)
