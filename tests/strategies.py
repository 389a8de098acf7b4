"""Hypothesis strategies: random typed tables (nasty identifiers and values) and random constraints for them.

Tables are described by *kinds* (``int64``, ``text``, ``timestamp``...) that each engine maps to a DDL type;
constraints are generated afterwards from the Athena types GetTable reported and from values actually read,
so that filters hit rows often enough to be interesting.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


def constants(t: pa.DataType, samples: Sequence[Any]) -> st.SearchStrategy[Any]:
    """Non-null constants of type ``t``: mostly values present in the data, sometimes fresh ones."""
    present = [v for v in samples if v is not None and not (isinstance(v, float) and math.isnan(v))]
    fresh: st.SearchStrategy[Any]
    if pa.types.is_integer(t):
        half = t.bit_width // 2 - 1  # products of two such values still fit the type
        fresh = st.integers(-(2**half), 2**half)
    elif pa.types.is_floating(t):
        fresh = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([math.inf, -math.inf, 0.0]))
    elif pa.types.is_decimal(t):
        fresh = st.decimals(min_value=-99_999_999, max_value=99_999_999, places=t.scale, allow_nan=False,
                            allow_infinity=False)
    elif pa.types.is_string(t):
        fresh = st.text(TEXT_ALPHABET, max_size=6)
    elif pa.types.is_boolean(t):
        fresh = st.booleans()
    elif pa.types.is_date32(t):
        fresh = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(3000, 12, 31))
    elif pa.types.is_timestamp(t):
        fresh = _timestamps(micros=False, tz=bool(t.tz))
    elif pa.types.is_binary(t):
        fresh = st.binary(max_size=5)
    else:
        raise ValueError(t)
    chosen = st.one_of(st.sampled_from(present), fresh) if present else fresh
    return chosen.map(lambda v: athena_value(v, t))


def _orderable(t: pa.DataType) -> bool:
    return True  # every Athena type used here is orderable (booleans: false < true)


@st.composite
def value_sets(draw: st.DrawFn, t: pa.DataType, samples: Sequence[Any]) -> ValueSet:
    null_allowed = draw(st.booleans())
    kind = draw(st.sampled_from(["ranges", "ranges", "ranges", "equatable", "all_or_none"]))
    if kind == "all_or_none":
        return AllOrNoneValueSet(t, draw(st.booleans()), null_allowed)
    if kind == "equatable" or not _orderable(t):
        members = draw(st.lists(constants(t, samples), min_size=0, max_size=4))
        return EquatableValueSet(t, tuple(members), draw(st.booleans()), null_allowed)
    ranges = []
    for _ in range(draw(st.integers(0, 3))):
        shape = draw(st.sampled_from(["point", "range", "below", "above", "all"]))
        if shape == "all":
            ranges.append(Range.all())
        elif shape == "point":
            ranges.append(Range.equal(draw(constants(t, samples))))
        else:
            low_value, high_value = sorted([draw(constants(t, samples)), draw(constants(t, samples))], key=_sort_key)
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


def _var(name: str, t: pa.DataType) -> Variable:
    return Variable(name, t)


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


@st.composite
def predicates(draw: st.DrawFn, columns: Mapping[str, pa.DataType], samples: Mapping[str, Sequence[Any]],
               depth: int = 2) -> Expression:
    """A random boolean expression over the table, with every standard function reachable."""
    if depth > 0 and draw(st.integers(0, 3)) == 0:
        combinator = draw(st.sampled_from(["$and", "$or", "$not"]))
        if combinator == "$not":
            return FunctionCall(BOOLEAN, "$not", (draw(predicates(columns, samples, depth - 1)),))
        parts = draw(st.lists(predicates(columns, samples, depth - 1), min_size=2, max_size=3))
        return FunctionCall(BOOLEAN, combinator, tuple(parts))
    name = draw(st.sampled_from(sorted(columns)))
    t = columns[name]
    column = _var(name, t)
    options = ["compare", "compare", "is_null", "in", "distinct", "nullif"]
    if _numeric(t):
        options += ["arithmetic", "arithmetic"]
    if pa.types.is_string(t):
        options += ["like", "like"]
    if pa.types.is_boolean(t):
        options += ["bare"]
    choice = draw(st.sampled_from(options))
    const = constants(t, samples[name])
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
        pattern = draw(st.text(st.one_of(st.sampled_from("%_%_ab\\!"), TEXT_ALPHABET), max_size=5))
        if samples[name] and draw(st.booleans()):  # a pattern built from a real value
            value = draw(st.sampled_from([v for v in samples[name] if v is not None] or [""]))
            cut = draw(st.integers(0, len(value)))
            pattern = value[:cut] + draw(st.sampled_from(["%", "_", "", "%_"]))
        return FunctionCall(BOOLEAN, "$like_pattern", (column, _const(pa.string(), pattern)))
    other: Expression = _const(t, draw(const))
    same_type = [n for n, ct in columns.items() if ct == t and n != name]
    if same_type and draw(st.booleans()):
        other = _var(draw(st.sampled_from(same_type)), t)
    if choice == "distinct":
        return FunctionCall(BOOLEAN, "$is_distinct_from", (column, other))
    if choice == "nullif":
        nullif = FunctionCall(t, "$nullif", (column, other))
        op = draw(st.sampled_from(COMPARISONS if _orderable(t) else ("$equal", "$not_equal")))
        return FunctionCall(BOOLEAN, op, (nullif, _const(t, draw(const))))
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
    op = draw(st.sampled_from(COMPARISONS if _orderable(t) else ("$equal", "$not_equal")))
    return FunctionCall(BOOLEAN, op, (column, other))


@st.composite
def constraints(draw: st.DrawFn, columns: Mapping[str, pa.DataType],
                samples: Mapping[str, Sequence[Any]]) -> Constraints:
    names = sorted(columns)
    count = min(len(names), draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3])))
    summary_columns = draw(st.lists(st.sampled_from(names), unique=True, min_size=count, max_size=count))
    summary = {n: draw(value_sets(columns[n], samples[n])) for n in summary_columns}
    expressions = tuple(draw(st.lists(predicates(columns, samples), max_size=2)))
    limit = draw(st.one_of(st.just(-1), st.just(-1), st.integers(0, 8)))
    order_by: tuple[OrderByField, ...] = ()
    if limit >= 0 and draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(names), unique=True, min_size=1, max_size=min(2, len(names))))
        order_by = tuple(OrderByField(k, draw(st.sampled_from(list(SortDirection)))) for k in keys)
    return Constraints(summary=summary, expression=expressions, order_by=order_by, limit=limit)
