"""Short builders for hand-written constraints in tests (value sets, expressions, ORDER BY + LIMIT)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from connector.protocol.constraints import (
    Bound,
    Constant,
    Expression,
    FunctionCall,
    Marker,
    OrderByField,
    Range,
    SortDirection,
    SortedRangeSet,
    Variable,
)

BOOL = pa.bool_()


def at_least(value: Any, t: pa.DataType, *, strict: bool = False) -> SortedRangeSet:
    return SortedRangeSet(t, (Range(Marker(value, Bound.ABOVE if strict else Bound.EXACTLY), Marker.above_all()),),
                          False)


def at_most(value: Any, t: pa.DataType, *, strict: bool = False) -> SortedRangeSet:
    return SortedRangeSet(t, (Range(Marker.below_all(), Marker(value, Bound.BELOW if strict else Bound.EXACTLY)),),
                          False)


def points(t: pa.DataType, *values: Any, nulls: bool = False) -> SortedRangeSet:
    return SortedRangeSet(t, tuple(Range.equal(v) for v in values), nulls)


def call(name: str, *args: Expression, t: pa.DataType = BOOL) -> FunctionCall:
    return FunctionCall(t, name, args)


def var(name: str, t: pa.DataType) -> Variable:
    return Variable(name, t)


def const(t: pa.DataType, value: Any) -> Constant:
    return Constant(t, (value,))


def top(limit: int, *keys: tuple[str, SortDirection]) -> dict[str, Any]:
    return {"order_by": tuple(OrderByField(c, d) for c, d in keys), "limit": limit}


ASC_FIRST, ASC_LAST = SortDirection.ASC_NULLS_FIRST, SortDirection.ASC_NULLS_LAST
DESC_FIRST, DESC_LAST = SortDirection.DESC_NULLS_FIRST, SortDirection.DESC_NULLS_LAST
