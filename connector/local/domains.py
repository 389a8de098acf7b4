"""Single-column predicates as value sets - the ``summary`` Athena sends (Trino's TupleDomain).

A predicate on one column (comparisons with literals, BETWEEN, IN, IS [NOT] NULL, and AND/OR/NOT of those)
is turned into a ``Domain``: the non-null values for which it is TRUE (sorted, disjoint intervals) and its
truth value for NULL (TRUE, FALSE or unknown). SQL's three-valued logic is kept exactly, so ``NOT (x = 5)``
does not admit NULL and ``x = 5 OR x IS NULL`` does. The summary entry admits NULL iff the predicate is TRUE
for NULL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlglot import exp

from connector.protocol.constraints import Bound, Marker, Range, SortedRangeSet
from connector.pushdown.sql_expressions import without_negation
from connector.pushdown.sql_literals import NotExact, coerce, literal

# A bound: None is unbounded; otherwise (value, inclusive).
_Bound = tuple[Any, bool] | None


@dataclass(frozen=True, slots=True)
class Interval:
    low: _Bound
    high: _Bound

    def is_empty(self) -> bool:
        if self.low is None or self.high is None:
            return False
        (lo, lo_in), (hi, hi_in) = self.low, self.high
        return bool(lo > hi or (lo == hi and not (lo_in and hi_in)))


ALL = Interval(None, None)


def _low_key(b: _Bound) -> tuple[int, Any, int]:
    # Sort lows: unbounded first; at equal values an inclusive low starts earlier.
    return (0, 0, 0) if b is None else (1, b[0], 0 if b[1] else 1)


def _low_le(a: _Bound, b: _Bound) -> bool:
    return _low_key(a) <= _low_key(b)


def _high_ge(a: _Bound, b: _Bound) -> bool:
    """``a`` reaches at least as far up as ``b``."""
    if a is None:
        return True
    if b is None:
        return False
    return bool(a[0] > b[0] or (a[0] == b[0] and (a[1] or not b[1])))


def _touches(high: _Bound, low: _Bound) -> bool:
    """An interval ending at ``high`` overlaps or abuts one starting at ``low`` (so they merge)."""
    if high is None or low is None:
        return True
    return bool(high[0] > low[0] or (high[0] == low[0] and (high[1] or low[1])))


def normalize(intervals: list[Interval]) -> tuple[Interval, ...]:
    items = sorted((i for i in intervals if not i.is_empty()), key=lambda i: _low_key(i.low))
    out: list[Interval] = []
    for item in items:
        if out and _touches(out[-1].high, item.low):
            last = out[-1]
            out[-1] = Interval(last.low, last.high if _high_ge(last.high, item.high) else item.high)
        else:
            out.append(item)
    return tuple(out)


def intersect(a: tuple[Interval, ...], b: tuple[Interval, ...]) -> tuple[Interval, ...]:
    out = []
    for x in a:
        for y in b:
            low = y.low if _low_le(x.low, y.low) else x.low
            high = y.high if _high_ge(x.high, y.high) else x.high
            out.append(Interval(low, high))
    return normalize(out)


def complement(a: tuple[Interval, ...]) -> tuple[Interval, ...]:
    out = []
    cursor: _Bound = None  # the low bound of the next gap; None means -inf
    start_open = True
    for item in a:
        if item.low is not None:
            high = (item.low[0], not item.low[1])
            out.append(Interval(None if start_open else cursor, high))
        start_open = False
        if item.high is None:
            return normalize(out)
        cursor = (item.high[0], not item.high[1])
    out.append(Interval(None if start_open else cursor, None))
    return normalize(out)


# Three-valued logic on the NULL input: True, False or None (unknown).
def _and3(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or3(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _not3(a: bool | None) -> bool | None:
    return None if a is None else not a


@dataclass(frozen=True, slots=True)
class Domain:
    """Where a single-column predicate is TRUE: ``intervals`` of non-null values, and ``null`` for NULL."""

    intervals: tuple[Interval, ...]
    null: bool | None

    def __and__(self, other: Domain) -> Domain:
        return Domain(intersect(self.intervals, other.intervals), _and3(self.null, other.null))

    def __or__(self, other: Domain) -> Domain:
        return Domain(normalize([*self.intervals, *other.intervals]), _or3(self.null, other.null))

    def __invert__(self) -> Domain:
        return Domain(complement(self.intervals), _not3(self.null))

    @property
    def is_all(self) -> bool:
        return self.intervals == (ALL,) and self.null is True

    @property
    def needs_nullable_comparison(self) -> bool:
        """A value set admitting NULL *and* some values (``x = 5 OR x IS NULL``)."""
        return self.null is True and bool(self.intervals)

    def value_set(self, t: pa.DataType) -> SortedRangeSet:
        if pa.types.is_boolean(t) and self.intervals != (ALL,):
            # Two values only: name them (NOT vip is vip = false, not the ranges around true).
            points = tuple(Range.equal(v) for v in (False, True) if _contains(self.intervals, v))
            return SortedRangeSet(t, points, self.null is True)
        return SortedRangeSet(t, tuple(_range(i) for i in self.intervals), self.null is True)


def _contains(intervals: tuple[Interval, ...], value: Any) -> bool:
    return bool(intersect(intervals, (Interval((value, True), (value, True)),)))


def _range(i: Interval) -> Range:
    low = Marker.below_all() if i.low is None else Marker(i.low[0], Bound.EXACTLY if i.low[1] else Bound.ABOVE)
    high = Marker.above_all() if i.high is None else Marker(i.high[0], Bound.EXACTLY if i.high[1] else Bound.BELOW)
    return Range(low, high)


def point(value: Any) -> Domain:
    return Domain((Interval((value, True), (value, True)),), None)


# ------------------------------------------------------------------------------------------ from SQL

_FLIP: dict[type[exp.Expr], type[exp.Expr]] = {
    exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ, exp.NEQ: exp.NEQ,
    exp.NullSafeEQ: exp.NullSafeEQ, exp.NullSafeNEQ: exp.NullSafeNEQ}


def _comparison(kind: type[exp.Expr], value: Any) -> Domain:
    if kind is exp.EQ:
        return point(value)
    if kind is exp.NEQ:
        return ~point(value)
    if kind is exp.NullSafeEQ:
        return Domain(point(value).intervals, False)
    if kind is exp.NullSafeNEQ:
        return Domain(complement(point(value).intervals), True)
    bounds: dict[type[exp.Expr], Interval] = {
        exp.GT: Interval((value, False), None), exp.GTE: Interval((value, True), None),
        exp.LT: Interval(None, (value, False)), exp.LTE: Interval(None, (value, True))}
    return Domain((bounds[kind],), None)


class DomainBuilder:
    """Turns predicates over one column into a ``Domain``; ``None`` when a predicate is not of that form.

    ``column_of`` says which column (if any) a node refers to; values are converted to the column's
    logical type exactly (see ``literals``), otherwise the predicate is not a domain.
    """

    def __init__(self, column_of: Callable[[exp.Expr], tuple[str, pa.DataType] | None]) -> None:
        self.column_of = column_of

    def build(self, node: exp.Expr) -> tuple[str, pa.DataType, Domain] | None:
        self._column: tuple[str, pa.DataType] | None = None
        try:
            domain = self._build(node)
        except NotExact:
            return None
        if domain is None or self._column is None:
            return None
        return self._column[0], self._column[1], domain

    def _use(self, node: exp.Expr) -> pa.DataType | None:
        found = self.column_of(node)
        if found is None:
            return None
        if self._column is not None and self._column[0] != found[0]:
            raise NotExact("more than one column")
        self._column = found
        return found[1]

    def _value(self, node: exp.Expr, t: pa.DataType) -> Any:
        value, source = literal(node)
        return coerce(value, source, t)

    def _build(self, node: exp.Expr) -> Domain | None:
        if isinstance(node, exp.Paren):
            return self._build(node.this)
        positive = without_negation(node)
        if positive is not None:
            inner = self._build(positive)
            return None if inner is None else self._complement(inner)
        if isinstance(node, exp.And | exp.Or):
            left, right = self._build(node.left), self._build(node.right)
            if left is None or right is None:
                return None
            return left & right if isinstance(node, exp.And) else left | right
        if isinstance(node, exp.Not):
            inner = self._build(node.this)
            return None if inner is None else self._complement(inner)
        if isinstance(node, exp.Binary) and type(node) in _FLIP:
            return self._compare(node)
        if isinstance(node, exp.Between):
            t = self._use(node.this)
            if t is None:
                return None
            low, high = self._value(node.args["low"], t), self._value(node.args["high"], t)
            return Domain(normalize([Interval((low, True), (high, True))]), None)
        if isinstance(node, exp.In):
            t = self._use(node.this)
            if t is None or node.args.get("query") is not None or node.args.get("unnest") is not None:
                return None
            values = [self._value(v, t) for v in node.expressions]
            if not values:
                return None
            return Domain(normalize([Interval((v, True), (v, True)) for v in values]), None)
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            if self._use(node.this) is None:
                return None
            return Domain((), True)
        t = self._use(node)  # a bare boolean column: WHERE vip
        if t is not None and pa.types.is_boolean(t):
            return point(True)
        return None

    def _complement(self, domain: Domain) -> Domain:
        """``NOT`` of a domain. On REAL/DOUBLE, NaN is in no range (every comparison with it is false) yet
        ``NOT (x > 1)`` and ``x <> 1`` are TRUE for it: such a complement is not a range set (an expression
        says it exactly), unless it is all or none of the values."""
        result = ~domain
        t = self._column[1] if self._column is not None else None
        if t is not None and pa.types.is_floating(t) and result.intervals not in ((), (ALL,)):
            raise NotExact("the complement of a range on a floating-point column would lose NaN")
        return result

    def _compare(self, node: exp.Binary) -> Domain | None:
        kind: type[exp.Expr] = type(node)
        left, right = node.left, node.right
        t = self._use(left)
        if t is not None:
            domain = _comparison(kind, self._value(right, t))
        else:
            t = self._use(right)
            if t is None:
                return None
            domain = _comparison(_FLIP[kind], self._value(left, t))
        if kind in (exp.NEQ, exp.NullSafeNEQ) and pa.types.is_floating(t):
            raise NotExact("x <> v is TRUE for NaN, which no range set on a floating-point column holds")
        return domain
