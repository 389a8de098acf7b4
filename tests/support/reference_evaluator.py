"""An independent, plain-Python evaluation of Athena's (Trino's) semantics for constraints.

Deliberately shares no code with ``connector.pushdown.evaluate``: it works row by row on Python values, so a
mistake in the Arrow evaluator or in the SQL compiler shows up as a disagreement. Semantics implemented:
three-valued logic; every comparison with NaN is false (``<>`` true) and NaN is identical to NaN for IS
DISTINCT FROM; NaN sorts above every number; integer division truncates toward zero and ``%`` takes the sign
of the dividend; decimal results are rounded half up to the declared scale; LIKE has no escape character.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import cmp_to_key
from typing import Any

import pyarrow as pa

from connector.protocol.constraints import (
    AllOrNoneValueSet,
    Bound,
    Constant,
    Constraints,
    EquatableValueSet,
    Expression,
    FunctionCall,
    Range,
    SortedRangeSet,
    ValueSet,
    Variable,
)

Row = Mapping[str, Any]


class OracleError(Exception):
    """The query would fail in Athena (overflow, division by zero)."""


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _norm(v: Any) -> Any:
    """Comparable form: aware datetimes in UTC."""
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.UTC)
    return v


def compare(a: Any, b: Any) -> int | None:
    """-1/0/1, or None when the comparison is false whatever the operator (NaN)."""
    if _nan(a) or _nan(b):
        return None
    a, b = _norm(a), _norm(b)
    return (a > b) - (a < b)


# ------------------------------------------------------------------------------------------ value sets


def _in_range(r: Range, v: Any) -> bool:
    if not r.low.unbounded:
        c = compare(v, r.low.value)
        if c is None or c < 0 or (c == 0 and r.low.bound is Bound.ABOVE):
            return False
    if not r.high.unbounded:
        c = compare(v, r.high.value)
        if c is None or c > 0 or (c == 0 and r.high.bound is Bound.BELOW):
            return False
    return True


def admits(value_set: ValueSet, v: Any) -> bool:
    if v is None:
        return value_set.null_allowed
    if isinstance(value_set, AllOrNoneValueSet):
        return value_set.all
    if isinstance(value_set, EquatableValueSet):
        found = any(m is not None and compare(v, m) == 0 for m in value_set.values)
        return found if value_set.white_list else not found
    assert isinstance(value_set, SortedRangeSet)
    return any(_in_range(r, v) for r in value_set.ranges)


# ------------------------------------------------------------------------------------------ expressions


def _int_range(t: pa.DataType) -> tuple[int, int]:
    bits = t.bit_width
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _fit(value: Any, t: pa.DataType) -> Any:
    if pa.types.is_integer(t):
        low, high = _int_range(t)
        if not low <= value <= high:
            raise OracleError(f"{value} overflows {t}")
        return value
    if pa.types.is_decimal(t):
        quantum = Decimal(1).scaleb(-t.scale)
        with localcontext() as ctx:
            ctx.prec = 80
            rounded = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
        if len(rounded.as_tuple().digits) > t.precision and rounded != 0:
            raise OracleError(f"{value} overflows {t}")
        return rounded
    if pa.types.is_floating(t):
        return float(value)
    return value


def _arithmetic(name: str, a: Any, b: Any, t: pa.DataType) -> Any:
    if pa.types.is_floating(t):
        a, b = float(a), float(b)
        if name == "$add":
            return a + b
        if name == "$subtract":
            return a - b
        if name == "$multiply":
            return a * b
        if name == "$divide":
            if b == 0:
                return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b)
            return a / b
        if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
            return math.nan
        return math.fmod(a, b)
    if pa.types.is_decimal(t):
        with localcontext() as ctx:
            ctx.prec = 80
            x, y = Decimal(a), Decimal(b)
            if name == "$add":
                return _fit(x + y, t)
            if name == "$subtract":
                return _fit(x - y, t)
            if name == "$multiply":
                return _fit(x * y, t)
            if y == 0:
                raise OracleError("division by zero")
            if name == "$divide":
                return _fit(x / y, t)
            return _fit(x - y * (x / y).to_integral_value(rounding="ROUND_DOWN"), t)
    x, y = int(a), int(b)
    if name == "$add":
        return _fit(x + y, t)
    if name == "$subtract":
        return _fit(x - y, t)
    if name == "$multiply":
        return _fit(x * y, t)
    if y == 0:
        raise OracleError("division by zero")
    quotient = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)
    if name == "$divide":
        return _fit(quotient, t)
    return _fit(x - y * quotient, t)


def _like(value: str, pattern: str) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _array_members(e: Expression) -> list[Any]:
    if isinstance(e, Constant):
        return list(e.values)
    assert isinstance(e, FunctionCall) and e.name == "$array"
    out: list[Any] = []
    for arg in e.arguments:
        assert isinstance(arg, Constant)
        out.extend(arg.values)
    return out


def evaluate(e: Expression, row: Row) -> Any:
    if isinstance(e, Variable):
        return row[e.column]
    if isinstance(e, Constant):
        return e.values[0]
    name = e.name
    if name == "$and":
        values = [evaluate(a, row) for a in e.arguments]
        return False if False in values else (None if None in values else True)
    if name == "$or":
        values = [evaluate(a, row) for a in e.arguments]
        return True if True in values else (None if None in values else False)
    if name == "$not":
        v = evaluate(e.arguments[0], row)
        return None if v is None else not v
    if name == "$is_null":
        return evaluate(e.arguments[0], row) is None
    if name == "$in":
        v = evaluate(e.arguments[0], row)
        members = _array_members(e.arguments[1])
        if v is None:
            return None
        if any(m is not None and compare(v, m) == 0 for m in members):
            return True
        return None if any(m is None for m in members) else False
    if name == "$like_pattern":
        v = evaluate(e.arguments[0], row)
        pattern = evaluate(e.arguments[1], row)
        return None if v is None or pattern is None else _like(v, pattern)
    a = evaluate(e.arguments[0], row)
    if name == "$negate":
        if a is None:
            return None
        return _fit(-a, e.type) if not isinstance(a, float) else -a
    b = evaluate(e.arguments[1], row)
    if name == "$is_distinct_from":
        if a is None or b is None:
            return (a is None) != (b is None)
        if _nan(a) and _nan(b):
            return False
        return compare(a, b) != 0
    if name == "$nullif":
        if a is None:
            return None
        return None if b is not None and compare(a, b) == 0 else a
    if a is None or b is None:
        return None
    if name in ("$add", "$subtract", "$multiply", "$divide", "$modulus"):
        return _arithmetic(name, a, b, e.type)
    c = compare(a, b)
    if name == "$not_equal":
        return c != 0
    if c is None:
        return False
    return {"$equal": c == 0, "$less_than": c < 0, "$less_than_or_equal": c <= 0, "$greater_than": c > 0,
            "$greater_than_or_equal": c >= 0}[name]


# ------------------------------------------------------------------------------------------ whole queries


def passes(constraints: Constraints, row: Row) -> bool:
    if not all(admits(vs, row[c]) for c, vs in constraints.summary.items()):
        return False
    return all(evaluate(e, row) is True for e in constraints.expression)


def _nan_last(a: Any, b: Any) -> int:
    """NaN sorts above every number."""
    return 0 if _nan(a) and _nan(b) else (1 if _nan(a) else -1)


def _key_compare(a: Any, b: Any, ascending: bool, nulls_first: bool) -> int:
    if a is None or b is None:
        if a is None and b is None:
            return 0
        return (-1 if nulls_first else 1) if a is None else (1 if nulls_first else -1)
    c = _nan_last(a, b) if _nan(a) or _nan(b) else (compare(a, b) or 0)
    return c if ascending else -c


def order_keys(constraints: Constraints, row: Row) -> tuple[Any, ...]:
    return tuple(canonical(row[o.column]) for o in constraints.order_by)


def sort_rows(rows: Sequence[Row], constraints: Constraints) -> list[Row]:
    def cmp(x: Row, y: Row) -> int:
        for o in constraints.order_by:
            c = _key_compare(x[o.column], y[o.column], o.direction.ascending, o.direction.nulls_first)
            if c:
                return c
        return 0
    return sorted(rows, key=cmp_to_key(cmp))


def canonical(v: Any) -> Any:
    """A hashable value that compares equal exactly when Athena would show the same value (NaN == NaN)."""
    if _nan(v):
        return ("NaN",)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return ("tz", v.astimezone(dt.UTC).replace(tzinfo=None))
    return v


def canonical_row(row: Row, columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(canonical(row[c]) for c in columns)


def fails_in_athena(rows: Sequence[Row], constraints: Constraints) -> bool:
    """Whether the query fails in Athena: a database may evaluate any predicate on any row, so an overflow or a
    division by zero anywhere fails it (such examples are discarded)."""
    try:
        for row in rows:
            for e in constraints.expression:
                evaluate(e, row)
    except OracleError:
        return True
    return False


def expected_rows(all_rows: Sequence[Row], constraints: Constraints) -> list[Row]:
    """Athena's answer for one split that applies everything itself: filtered, sorted, limited."""
    kept = [r for r in all_rows if passes(constraints, r)]
    if constraints.order_by:
        kept = sort_rows(kept, constraints)
    return kept[: constraints.limit] if constraints.has_limit else kept


def check_split(all_rows: Sequence[Row], constraints: Constraints, got: Sequence[Row],
                columns: Sequence[str]) -> None:
    """Assert that one split answering the whole query returned a correct answer, in a correct order.

    Stricter than ``check_result``: with ORDER BY the rows must come sorted (ties in any order) even without a
    LIMIT. Any rows that pass the filter will do where a LIMIT cuts without or through ties.
    """
    expected = expected_rows(all_rows, constraints)
    allowed = Counter(canonical_row(r, columns) for r in all_rows if passes(constraints, r))
    have = Counter(canonical_row(r, columns) for r in got)
    if constraints.order_by:
        assert [order_keys(constraints, r) for r in got] == [order_keys(constraints, r) for r in expected]
    if constraints.order_by or constraints.has_limit:
        assert len(got) == len(expected), (len(got), len(expected))
        assert not (have - allowed), f"rows that do not pass the filter: {have - allowed}"
    else:
        assert have == allowed, f"rows differ:\n  missing {allowed - have}\n  extra {have - allowed}"


def check_result(all_rows: Sequence[Row], constraints: Constraints, splits: Sequence[Sequence[Row]],
                 columns: Sequence[str]) -> None:
    """Assert that the rows each split returned are a correct answer to ``constraints`` over ``all_rows``.

    Without a LIMIT the splits together return exactly the filtered multiset. With one, each split returns at
    most ``limit`` rows of it, and Athena's final step (sort the union, keep ``limit``) must give the right
    number of rows - with ORDER BY, the expected sort keys (ties may come in any order).
    """
    expected = [r for r in all_rows if passes(constraints, r)]
    got = [r for split in splits for r in split]
    want = Counter(canonical_row(r, columns) for r in expected)
    have = Counter(canonical_row(r, columns) for r in got)
    if not constraints.has_limit:
        assert have == want, f"rows differ:\n  missing {want - have}\n  extra {have - want}"
        return
    assert not (have - want), f"rows that do not pass the filter: {have - want}"
    assert all(len(split) <= constraints.limit for split in splits), "a split returned more rows than the limit"
    final = sort_rows(got, constraints)[: constraints.limit] if constraints.order_by else got[: constraints.limit]
    assert len(final) == min(constraints.limit, len(expected)), (len(final), constraints.limit, len(expected))
    if constraints.order_by:
        ordered = sort_rows(expected, constraints)[: constraints.limit]
        assert [order_keys(constraints, r) for r in final] == [order_keys(constraints, r) for r in ordered]
