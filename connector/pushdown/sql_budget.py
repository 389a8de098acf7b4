"""What one statement can carry, and what is pushed instead when a request's constraints need more.

Databases bound a statement: SQLite accepts 32,766 bind parameters by default (999 before 3.32), PostgreSQL's
protocol 65,535, SQL Server 2,100 - each dialect says its own (``SqlDialect.max_bind_parameters``). Building the
statement costs too: sqlglot spends tens of microseconds per node, so thousands of ranges or OR terms cost
seconds before the database sees anything. So a statement carries at most ``max_bind_parameters`` values and
``MAX_SQL_TERMS`` terms (a range, an IN list of up to ``max_in_list`` values, an expression node).

Constraints that would pass either bound *degrade*, largest first, never fail:

- a value set is pushed as its *hull* - the one range from its lowest to its highest value, two parameters,
  still using indexes - and applied exactly by the framework on the rows that come back (``pyarrow.compute``
  kernels: ``is_in`` for value lists, a sorted lookup for many ranges); a NOT IN list has no useful hull and is
  left to the framework alone;
- an expression stays in the framework's residual, and a top-level ``x IN (...)`` also pushes its hull.

The cost of the decision is linear in the request: values are counted and their extremes found, nothing is built
for what is not pushed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from connector.lazy_dataclass import lazy_dataclass
from connector.protocol.constraints import (
    Bound,
    Constant,
    Constraints,
    EquatableValueSet,
    Expression,
    FunctionCall,
    Marker,
    Range,
    SortedRangeSet,
    ValueSet,
    Variable,
)

if TYPE_CHECKING:
    from connector.pushdown.sql import SourceColumn, SqlDialect

#: Most terms (ranges, IN lists, expression nodes) one statement is built with.
MAX_SQL_TERMS = 2048


@lazy_dataclass(slots=True)
class Cost:
    binds: int
    terms: int

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.binds + other.binds, self.terms + other.terms)


@lazy_dataclass
class Degraded:
    """What goes to the framework instead of the statement: summary columns and expressions (by position), and
    the hulls pushed in their place."""

    summary: frozenset[str] = frozenset()
    expressions: frozenset[int] = frozenset()
    hulls: Mapping[str, SortedRangeSet] = field(default_factory=dict)
    in_hulls: Mapping[int, tuple[str, SortedRangeSet]] = field(default_factory=dict)


NOTHING = Degraded()


def plan_degradation(dialect: SqlDialect, columns: Mapping[str, SourceColumn], constraints: Constraints,
                     used_binds: int) -> Degraded:
    """The constraints to leave to the framework so that the statement fits, largest first (``used_binds``: what
    the split's own predicates bind). A degraded constraint still costs its hull, if it has one."""
    summary: dict[str, Cost] = {}
    for name, value_set in constraints.summary.items():
        source = columns.get(name)
        if source is None or not dialect.can_compare_column(source, ordering=False):
            continue  # unknown (an error later) or never pushed: costs the statement nothing
        grid = bool(pa.types.is_timestamp(source.type) and dialect.sub_millisecond(source))
        nan = bool(dialect.nan_is_largest and pa.types.is_floating(source.type))
        summary[name] = value_set_cost(value_set, in_list=dialect.max_in_list, grid=grid, nan_extra=nan)
    expressions = [expression_cost(e) for e in constraints.expression]
    total = Cost(used_binds, 0) + sum(summary.values(), Cost(0, 0)) + sum(expressions, Cost(0, 0))
    limit = dialect.max_bind_parameters
    if total.binds <= limit and total.terms <= MAX_SQL_TERMS:
        return NOTHING
    items: list[tuple[int, str | int, Cost]] = [(c.binds + c.terms, n, c) for n, c in summary.items()]
    items += [(c.binds + c.terms, i, c) for i, c in enumerate(expressions)]
    items.sort(key=lambda item: item[0], reverse=True)
    out_summary: set[str] = set()
    out_expressions: set[int] = set()
    hulls: dict[str, SortedRangeSet] = {}
    in_hulls: dict[int, tuple[str, SortedRangeSet]] = {}
    for _, key, cost in items:
        if total.binds <= limit and total.terms <= MAX_SQL_TERMS:
            break
        if isinstance(key, str):
            out_summary.add(key)
            found = hull(constraints.summary[key])
            if found is not None:
                hulls[key] = found
        else:
            out_expressions.add(key)
            pushed = in_hull(constraints.expression[key])
            if pushed is not None:
                in_hulls[key] = pushed
            found = None if pushed is None else pushed[1]
        kept = Cost(2, 1) if found is not None else Cost(0, 0)
        total = Cost(total.binds - cost.binds + kept.binds, total.terms - cost.terms + kept.terms)
    return Degraded(frozenset(out_summary), frozenset(out_expressions), hulls, in_hulls)


def value_set_cost(value_set: ValueSet, *, in_list: int, grid: bool, nan_extra: bool) -> Cost:
    """Upper bounds of what rendering ``value_set`` binds and builds. ``grid``: the column is compared on the
    millisecond grid (every value becomes a range); ``nan_extra``: ranges open at the top bind a NaN too."""
    if isinstance(value_set, EquatableValueSet):
        n = len(value_set.values)
        return Cost(2 * n, n) if grid else Cost(n, 1 + n // max(in_list, 1))
    if isinstance(value_set, SortedRangeSet):
        points = sum(1 for r in value_set.ranges if r.is_single_value)
        others = len(value_set.ranges) - points
        if grid:
            return Cost(2 * len(value_set.ranges), len(value_set.ranges))
        return Cost(points + (3 if nan_extra else 2) * others, 1 + points // max(in_list, 1) + others)
    return Cost(0, 1)


def expression_cost(expression: Expression) -> Cost:
    """Values bound and nodes built for an expression (an upper bound: ``$in`` lists are counted value by value)."""
    binds = terms = 0
    pending = [expression]
    while pending:
        e = pending.pop()
        terms += 1
        if isinstance(e, Constant):
            binds += len(e.values)
        elif isinstance(e, FunctionCall):
            pending.extend(e.arguments)
    return Cost(binds, terms)


# ------------------------------------------------------------------------------------------ hulls


def hull(value_set: ValueSet) -> SortedRangeSet | None:
    """The smallest single range containing every non-null value the set admits (nulls as the set says), or None
    when there is no useful one (a NOT IN list, values Python cannot order, NaN)."""
    if isinstance(value_set, EquatableValueSet):
        if not value_set.white_list:
            return None
        values = [v for v in value_set.values if v is not None]
        if not values:
            return None
        extremes = _extremes(values)
        if extremes is None:
            return None
        low, high = extremes
        return SortedRangeSet(value_set.type, (Range(Marker(low, Bound.EXACTLY), Marker(high, Bound.EXACTLY)),),
                              value_set.null_allowed)
    if isinstance(value_set, SortedRangeSet) and value_set.ranges:
        low, high = value_set.ranges[0].low, value_set.ranges[0].high
        try:
            for r in value_set.ranges[1:]:
                low = _lower(low, r.low)
                high = _higher(high, r.high)
        except TypeError:
            return None
        if any(_is_nan(m.value) for m in (low, high) if not m.unbounded):
            return None
        return SortedRangeSet(value_set.type, (Range(low, high),), value_set.null_allowed)
    return None


def in_hull(expression: Expression) -> tuple[str, SortedRangeSet] | None:
    """For a top-level ``column IN (constants)``: the column and the hull of the non-null members."""
    if not (isinstance(expression, FunctionCall) and expression.name == "$in" and len(expression.arguments) == 2):
        return None
    subject, members = expression.arguments
    if not isinstance(subject, Variable):
        return None
    from connector.pushdown.evaluate import array_values

    try:
        values = [v for v in array_values(members) if v is not None]
    except Exception:  # not a list of constants: nothing to push
        return None
    extremes = _extremes(values) if values else None
    if extremes is None:
        return None
    low, high = extremes
    return subject.column, SortedRangeSet(subject.type, (Range(Marker(low, Bound.EXACTLY),
                                                               Marker(high, Bound.EXACTLY)),), False)


def _extremes(values: Sequence[Any]) -> tuple[Any, Any] | None:
    """(min, max), or None without a useful order. The values come from one Arrow array, so of one kind, and only
    floats can be NaN (decimal128 has no NaN)."""
    if isinstance(values[0], float) and any(map(math.isnan, values)):
        return None
    try:
        return min(values), max(values)
    except TypeError:  # values Python does not order (nested values, mixed kinds)
        return None


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _lower(a: Marker, b: Marker) -> Marker:
    if a.unbounded or b.unbounded:
        return a if a.unbounded else b
    if a.value != b.value:
        return a if a.value < b.value else b
    return a if a.bound is Bound.EXACTLY else b  # EXACTLY reaches lower than ABOVE


def _higher(a: Marker, b: Marker) -> Marker:
    if a.unbounded or b.unbounded:
        return a if a.unbounded else b
    if a.value != b.value:
        return a if a.value > b.value else b
    return a if a.bound is Bound.EXACTLY else b  # EXACTLY reaches higher than BELOW
