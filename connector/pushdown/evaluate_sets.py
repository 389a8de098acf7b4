"""Large value sets evaluated on Arrow in time that does not multiply by their size per batch.

When a value set or an IN list is too large for the source's statement (``sql_budget``), the framework applies
it on every batch that comes back. Done naively that costs, per batch, a Python-to-Arrow conversion of every
member (``is_in``), a kernel call per range (thousands of ranges times every row), or a kernel call per OR term.
Here:

- ``members`` converts a member list once per scan (a cache scoped to the scan with ``scoped``), and
  ``pyarrow.compute.is_in`` does the lookup;
- ``ranges_mask`` finds each value's range with one sort of the values together with the ranges' low ends,
  O((rows + ranges) log) per batch instead of O(rows x ranges);
- ``or_of_equalities`` turns ``c = k1 OR c = k2 OR ...`` into one membership test per column.

Each gives exactly the answer of the plain evaluation (three-valued logic, NaN, NULL members included).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from connector import exact_cast
from connector.protocol.constraints import Bound, Constant, Expression, FunctionCall, Marker, Range, Variable

#: Ranges from which ``ranges_mask`` is used (below, one kernel call per range is cheaper).
MANY_RANGES = 32
#: Equalities on one column from which ``or_of_equalities`` groups them.
MANY_EQUALITIES = 8

_cache: contextvars.ContextVar[dict[tuple[int, str], tuple[object, Any]] | None] = contextvars.ContextVar(
    "afq_member_cache", default=None)


@contextlib.contextmanager
def scoped(cache: dict[tuple[int, str], tuple[object, Any]]) -> Iterator[None]:
    """Use ``cache`` for conversions made inside the block (a scan passes the same dict for each batch; it is
    dropped with the scan, so nothing outlives the request)."""
    token = _cache.set(cache)
    try:
        yield
    finally:
        _cache.reset(token)


def _cached(owner: object, kind: str, build: Callable[[], Any]) -> Any:
    cache = _cache.get()
    if cache is None:
        return build()
    key = (id(owner), kind)
    hit = cache.get(key)
    if hit is not None and hit[0] is owner:  # the owner is kept alive by the entry, so its id is not reused
        return hit[1]
    value = build()
    cache[key] = (owner, value)
    return value


def members(owner: object, values: Callable[[], Sequence[Any]], t: pa.DataType | None,
            target: pa.DataType) -> pa.Array:
    """``values()`` (no NULLs) as an Arrow array of the column's type ``target``, converted once per scan
    (``t``: the members' own type, else inferred)."""
    def build() -> pa.Array:
        items = values()
        array = pa.array(items, type=t) if t is not None else pa.array(items)
        return exact_cast.cast(array, target)
    result: pa.Array = _cached(owner, f"members:{target}", build)
    return result


# ------------------------------------------------------------------------------------------ many ranges


def ranges_mask(owner: object, ranges: Sequence[Range], t: pa.DataType, column: pa.Array) -> pa.Array | None:
    """TRUE where a non-null ``column`` value lies in one of ``ranges`` (any order, overlaps allowed), FALSE
    elsewhere (NULL rows: FALSE, the caller places them); None when the bounds cannot take the column's type
    (then the caller compares range by range).

    A value is in the union iff, among the ranges whose low end admits it - a prefix once the ranges are ordered
    by low end - the highest high end admits it too.
    """
    if any(r.is_all for r in ranges):
        return pc.is_valid(column)  # every non-null value, NaN included (as the plain comparison has it)
    prepared = _cached(owner, f"ranges:{column.type}", lambda: _prepare(ranges, t, column.type))
    if prepared is None:
        return None
    lows, low_ties, unbounded_lows, high_values, high_inclusive, high_unbounded = prepared
    n = len(column)
    valid = pc.is_valid(column)
    if pa.types.is_floating(column.type):
        valid = pc.and_(valid, pc.invert(pc.fill_null(pc.is_nan(column), False)))  # NaN is in no bounded range
    positions = pc.indices_nonzero(valid)
    values = column.take(positions)
    if len(lows) and len(values):
        # One sort of the values among the low ends; a low end sorts before an equal value when it admits it.
        keys = pa.concat_arrays([values, lows])
        ties = pa.concat_arrays([pa.array([1] * len(values), pa.int8()), low_ties])
        order = pc.sort_indices(pa.table({"k": keys, "t": ties}), sort_keys=[("k", "ascending"), ("t", "ascending")])
        is_low = pc.greater_equal(order, len(values))
        admitted = pc.filter(pc.cumulative_sum(pc.cast(is_low, pa.int64())), pc.invert(is_low))
        sorted_values = pc.filter(order, pc.invert(is_low))  # value positions in sorted order
        counts = pc.take(admitted, pc.sort_indices(sorted_values))  # back to the values' order
    else:
        counts = pa.array([0] * len(values), pa.int64())
    counts = pc.add(counts, unbounded_lows)
    has_low = pc.greater(counts, 0)
    slot = pc.max_element_wise(pc.subtract(counts, 1), 0)
    high = pc.take(high_values, slot)
    inclusive = pc.take(high_inclusive, slot)
    unbounded = pc.take(high_unbounded, slot)
    below = pc.fill_null(pc.less(values, high), False)
    equal = pc.and_(pc.fill_null(pc.equal(values, high), False), inclusive)
    inside = pc.and_(has_low, pc.or_(unbounded, pc.or_(below, equal)))
    result = pa.array([False] * n, pa.bool_())
    if len(values):
        result = pc.replace_with_mask(result, valid, inside)
    return result


def _prepare(ranges: Sequence[Range], t: pa.DataType, target: pa.DataType) -> tuple[Any, ...] | None:
    """Ranges ordered by low end (EXACTLY before ABOVE at the same value) with the running highest high end."""
    bounded = [r for r in ranges if not r.low.unbounded]
    unbounded_lows = len(ranges) - len(bounded)
    try:
        bounded.sort(key=lambda r: (r.low.value, r.low.bound is Bound.ABOVE))
    except TypeError:
        return None
    ordered = [r for r in ranges if r.low.unbounded] + bounded
    running: list[Marker] = []
    best: Marker | None = None
    try:
        for r in ordered:
            best = r.high if best is None else _higher(best, r.high)
            running.append(best)
    except TypeError:
        return None
    try:
        lows = exact_cast.cast(pa.array([r.low.value for r in bounded], type=t), target)
        high_values = exact_cast.cast(pa.array([None if m.unbounded else m.value for m in running], type=t),
                                      target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OverflowError):
        return None
    low_ties = pa.array([2 if r.low.bound is Bound.ABOVE else 0 for r in bounded], pa.int8())
    high_inclusive = pa.array([m.bound is Bound.EXACTLY for m in running], pa.bool_())
    high_unbounded = pa.array([m.unbounded for m in running], pa.bool_())
    return lows, low_ties, unbounded_lows, high_values, high_inclusive, high_unbounded


def _higher(a: Marker, b: Marker) -> Marker:
    if a.unbounded or b.unbounded:
        return a if a.unbounded else b
    if a.value != b.value:
        return a if a.value > b.value else b
    return a if a.bound is Bound.EXACTLY else b


# ------------------------------------------------------------------------------------------ OR of equalities


def or_of_equalities(call: FunctionCall) -> list[Expression]:
    """The arguments of an ``$or`` with many ``column = constant`` on one column merged into one
    ``$in(column, constants)`` (the same three-valued answer: a NULL constant, or a NULL column, gives NULL
    where nothing matched). Computed once per scan."""
    def build() -> list[Expression]:
        groups: dict[tuple[str, str], list[Constant]] = {}
        variables: dict[tuple[str, str], Variable] = {}
        for arg in call.arguments:
            pair = _equality(arg)
            if pair is not None:
                key = (pair[0].column, str(pair[0].type))
                groups.setdefault(key, []).append(pair[1])
                variables[key] = pair[0]
        merged = {k for k, v in groups.items() if len(v) >= MANY_EQUALITIES}
        if not merged:
            return list(call.arguments)
        rest: list[Expression] = []
        for arg in call.arguments:
            pair = _equality(arg)
            if pair is None or (pair[0].column, str(pair[0].type)) not in merged:
                rest.append(arg)
        for key in merged:
            constants = groups[key]
            values = tuple(v for c in constants for v in c.values)
            array = FunctionCall(call.type, "$array", (Constant(constants[0].type, values),))
            rest.append(FunctionCall(call.type, "$in", (variables[key], array)))
        return rest
    result: list[Expression] = _cached(call, "or", build)
    return result


def _equality(e: Expression) -> tuple[Variable, Constant] | None:
    if not (isinstance(e, FunctionCall) and e.name == "$equal" and len(e.arguments) == 2):
        return None
    a, b = e.arguments
    if isinstance(a, Constant):
        a, b = b, a
    if isinstance(a, Variable) and isinstance(b, Constant) and len(b.values) == 1 and b.type == a.type:
        return a, b
    return None
