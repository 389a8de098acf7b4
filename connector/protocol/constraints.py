"""Constraints: per-column value sets (``summary``), expressions, ORDER BY, LIMIT, passthrough, query plan.

Values are held as Python objects of the column's *logical* type (``Decimal``, ``datetime``...), so pushdown
compilers can bind them and evaluators can compare them without knowing about wire encodings. Blocks are
rebuilt on serialization.
"""

from __future__ import annotations

import contextvars
import enum
from collections.abc import Mapping
from dataclasses import field
from typing import Any

import pyarrow as pa

from connector.errors import first_line
from connector.lazy_dataclass import lazy_dataclass
from connector.protocol.block import Block
from connector.protocol.errors import ProtocolError
from connector.protocol.fields import (
    as_object,
    get_bool,
    get_int,
    get_list,
    get_object,
    get_str,
    get_str_map,
    join,
)
from connector.protocol.types import (
    to_logical_type,
    to_wire_type,
    type_from_json,
    type_to_json,
    unsupported_reason,
)

VALUE_COLUMN = "col1"  # the SDK's name for the single column of value blocks
#: Most values one value block may hold. Values become Python objects, so a block claiming millions of rows
#: (null-typed columns carry no bytes, so a few bytes can claim any count) would cost unbounded memory.
MAX_VALUE_ROWS = 1_000_000
#: Deepest expression tree accepted; real predicates are a few levels deep, and parsing recurses.
MAX_EXPRESSION_DEPTH = 64
#: Most values (every value block together) and nodes (expression nodes, ranges) one request's constraints may
#: hold: each is a Python object, and a 6 MB request of booleans could otherwise carry tens of millions.
MAX_REQUEST_VALUES = 1_000_000
MAX_EXPRESSION_NODES = 100_000


class _Budget:
    """What is left of one request's ``MAX_REQUEST_VALUES`` and ``MAX_EXPRESSION_NODES`` while it is parsed."""

    def __init__(self) -> None:
        self.values = MAX_REQUEST_VALUES
        self.nodes = MAX_EXPRESSION_NODES


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("afq_constraints_budget", default=None)


def _charge(path: str, *, values: int = 0, nodes: int = 0) -> None:
    budget = _budget.get()
    if budget is None:
        return
    budget.values -= values
    budget.nodes -= nodes
    if budget.values < 0:
        raise ProtocolError(path, f"the constraints hold more than {MAX_REQUEST_VALUES} values in all")
    if budget.nodes < 0:
        raise ProtocolError(path, f"the constraints hold more than {MAX_EXPRESSION_NODES} expression nodes and "
                                  f"ranges in all")


def _values_from_block(value: Any, path: str) -> tuple[pa.DataType, list[Any]]:
    batch = Block.from_wire(value, path).logical_batch(path)
    if batch.num_columns != 1:
        raise ProtocolError(path, f"a value block must have exactly one column, found {batch.num_columns}")
    if batch.num_rows > MAX_VALUE_ROWS:
        raise ProtocolError(path, f"a value block may hold at most {MAX_VALUE_ROWS} values, this one declares "
                                  f"{batch.num_rows}")
    _charge(path, values=batch.num_rows)
    t = batch.schema.field(0).type
    reason = unsupported_reason(t, logical=True)
    if reason:
        raise ProtocolError(path, f"values of type {t}: {reason}")
    try:
        return t, batch.column(0).to_pylist()
    except (pa.ArrowException, ValueError, ArithmeticError) as e:  # dates outside Python's range, bad decimals
        raise ProtocolError(path, f"values cannot be read: {first_line(e, 200)}") from None


def _values_to_block(logical_type: pa.DataType, values: list[Any]) -> dict[str, Any]:
    array = pa.array(values, type=logical_type)
    batch = pa.RecordBatch.from_arrays([array], names=[VALUE_COLUMN])
    return Block.from_logical(batch).to_wire()


# ------------------------------------------------------------------------------------------ value sets

class Bound(enum.Enum):
    BELOW = "BELOW"
    EXACTLY = "EXACTLY"
    ABOVE = "ABOVE"


@lazy_dataclass(slots=True)
class Marker:
    """One end of a range. ``unbounded`` markers (wire ``nullValue:true``) carry no value: -inf or +inf."""

    value: Any
    bound: Bound
    unbounded: bool = False

    @classmethod
    def below_all(cls) -> Marker:
        return cls(None, Bound.ABOVE, True)

    @classmethod
    def above_all(cls) -> Marker:
        return cls(None, Bound.BELOW, True)

    @classmethod
    def from_wire(cls, value: Any, path: str) -> tuple[Marker, pa.DataType]:
        obj = as_object(value, path)
        bound_text = get_str(obj, "bound", path)
        try:
            bound = Bound(bound_text)
        except ValueError:
            raise ProtocolError(join(path, "bound"), f"unknown bound {bound_text!r}") from None
        unbounded = get_bool(obj, "nullValue", path)
        t, values = _values_from_block(obj.get("valueBlock"), join(path, "valueBlock"))
        if unbounded:
            return cls(None, bound, True), t
        if len(values) != 1 or values[0] is None:
            raise ProtocolError(join(path, "valueBlock"), "a bounded marker needs exactly one non-null value")
        return cls(values[0], bound), t

    def to_wire(self, logical_type: pa.DataType) -> dict[str, Any]:
        values = [] if self.unbounded else [self.value]
        return {"valueBlock": _values_to_block(logical_type, values), "bound": self.bound.value,
                "nullValue": self.unbounded}


@lazy_dataclass(slots=True)
class Range:
    low: Marker
    high: Marker

    @classmethod
    def equal(cls, value: Any) -> Range:
        return cls(Marker(value, Bound.EXACTLY), Marker(value, Bound.EXACTLY))

    @classmethod
    def all(cls) -> Range:
        return cls(Marker.below_all(), Marker.above_all())

    @property
    def is_single_value(self) -> bool:
        return (not self.low.unbounded and not self.high.unbounded and self.low.bound is Bound.EXACTLY
                and self.high.bound is Bound.EXACTLY and self.low.value == self.high.value)

    @property
    def is_all(self) -> bool:
        return self.low.unbounded and self.high.unbounded


@lazy_dataclass(slots=True)
class SortedRangeSet:
    """Value in the set iff (non-null and inside one of the ranges) or (null and ``null_allowed``)."""

    type: pa.DataType
    ranges: tuple[Range, ...]
    null_allowed: bool

    def to_wire(self) -> dict[str, Any]:
        return {"@type": "SortedRangeSet", "type": type_to_json(to_wire_type(self.type)),
                "ranges": [{"low": r.low.to_wire(self.type), "high": r.high.to_wire(self.type)}
                           for r in self.ranges],
                "nullAllowed": self.null_allowed}


@lazy_dataclass(slots=True)
class EquatableValueSet:
    """``white_list``: value in ``values``; otherwise value not in ``values``. Null iff ``null_allowed``."""

    type: pa.DataType
    values: tuple[Any, ...]
    white_list: bool
    null_allowed: bool

    def to_wire(self) -> dict[str, Any]:
        return {"@type": "EquatableValueSet", "valueBlock": _values_to_block(self.type, list(self.values)),
                "whiteList": self.white_list, "nullAllowed": self.null_allowed}


@lazy_dataclass(slots=True)
class AllOrNoneValueSet:
    type: pa.DataType
    all: bool
    null_allowed: bool

    def to_wire(self) -> dict[str, Any]:
        return {"@type": "AllOrNoneValueSet", "type": type_to_json(to_wire_type(self.type)), "all": self.all,
                "nullAllowed": self.null_allowed}


ValueSet = SortedRangeSet | EquatableValueSet | AllOrNoneValueSet


def value_set_from_wire(value: Any, path: str) -> ValueSet:
    obj = as_object(value, path)
    kind = get_str(obj, "@type", path)
    if kind == "SortedRangeSet":
        declared = to_logical_type(type_from_json(get_object(obj, "type", path), join(path, "type")))
        ranges = []
        block_type: pa.DataType | None = None
        for i, item in enumerate(get_list(obj, "ranges", path)):
            rpath = join(join(path, "ranges"), i)
            _charge(rpath, nodes=1)
            robj = as_object(item, rpath)
            low, low_type = Marker.from_wire(robj.get("low"), join(rpath, "low"))
            high, high_type = Marker.from_wire(robj.get("high"), join(rpath, "high"))
            if low.bound is Bound.BELOW or high.bound is Bound.ABOVE:
                raise ProtocolError(rpath, "a range's low bound cannot be BELOW nor its high bound ABOVE")
            # As the Java SDK does: every marker of a set has one type, the set's (values compare later).
            for end, end_type in (("low", low_type), ("high", high_type)):
                expected = block_type or declared
                if not _same_kind(end_type, expected):
                    raise ProtocolError(join(rpath, end), f"marker of type {end_type} in a set of type {expected}")
                block_type = block_type or end_type
            if not low.unbounded and not high.unbounded and _above(low.value, high.value):
                raise ProtocolError(rpath, "the range's low end is above its high end")
            ranges.append(Range(low, high))
        # Value blocks carry the full type (decimal precision, timestamp zone); the JSON type may not.
        return SortedRangeSet(block_type or declared, tuple(ranges), get_bool(obj, "nullAllowed", path))
    if kind == "EquatableValueSet":
        t, values = _values_from_block(obj.get("valueBlock"), join(path, "valueBlock"))
        return EquatableValueSet(t, tuple(values), get_bool(obj, "whiteList", path),
                                 get_bool(obj, "nullAllowed", path))
    if kind == "AllOrNoneValueSet":
        t = to_logical_type(type_from_json(get_object(obj, "type", path), join(path, "type")))
        return AllOrNoneValueSet(t, get_bool(obj, "all", path), get_bool(obj, "nullAllowed", path))
    raise ProtocolError(join(path, "@type"), f"unknown value set type {kind!r}")


# ------------------------------------------------------------------------------------------ expressions

@lazy_dataclass(slots=True)
class Variable:
    column: str
    type: pa.DataType

    def to_wire(self) -> dict[str, Any]:
        return {"@type": "VariableExpression", "columnName": self.column,
                "type": type_to_json(to_wire_type(self.type))}


@lazy_dataclass(slots=True)
class Constant:
    """A literal; a block may hold several rows (an IN list inside ``$array``)."""

    type: pa.DataType
    values: tuple[Any, ...]

    @property
    def value(self) -> Any:
        return self.values[0] if len(self.values) == 1 else None

    def to_wire(self) -> dict[str, Any]:
        return {"@type": "ConstantExpression", "valueBlock": _values_to_block(self.type, list(self.values)),
                "type": type_to_json(to_wire_type(self.type))}


@lazy_dataclass(slots=True)
class FunctionCall:
    type: pa.DataType
    name: str
    arguments: tuple[Expression, ...]

    def to_wire(self) -> dict[str, Any]:
        return {"@type": "FunctionCallExpression", "type": type_to_json(to_wire_type(self.type)),
                "functionName": {"functionName": self.name},
                "arguments": [a.to_wire() for a in self.arguments]}


Expression = Variable | Constant | FunctionCall

STANDARD_FUNCTIONS = (
    "$and", "$or", "$not", "$is_null", "$nullif", "$equal", "$not_equal", "$less_than",
    "$less_than_or_equal", "$greater_than", "$greater_than_or_equal", "$is_distinct_from", "$add",
    "$subtract", "$multiply", "$divide", "$modulus", "$negate", "$like_pattern", "$in", "$array",
)


def _same_kind(a: pa.DataType, b: pa.DataType) -> bool:
    """Same type, up to what the JSON type form leaves out (decimal digits, zone, nested children)."""
    if a == b:
        return True
    return bool(type_to_json(to_wire_type(a))["@type"] == type_to_json(to_wire_type(b))["@type"]
                and not ((pa.types.is_integer(a) or pa.types.is_floating(a)) and a.bit_width != b.bit_width))


def _above(low: Any, high: Any) -> bool:
    try:
        return bool(low > high)
    except TypeError:  # values of types Python does not order (nested values): nothing to check
        return False


def expression_from_wire(value: Any, path: str, depth: int = 0) -> Expression:
    if depth > MAX_EXPRESSION_DEPTH:
        raise ProtocolError(path, f"the expression is nested more than {MAX_EXPRESSION_DEPTH} levels deep")
    _charge(path, nodes=1)
    obj = as_object(value, path)
    kind = get_str(obj, "@type", path)
    if kind == "VariableExpression":
        t = to_logical_type(type_from_json(get_object(obj, "type", path), join(path, "type")))
        return Variable(get_str(obj, "columnName", path), t)
    if kind == "ConstantExpression":
        declared = to_logical_type(type_from_json(get_object(obj, "type", path), join(path, "type")))
        if obj.get("valueBlock") is None:
            return Constant(declared, (None,))
        t, values = _values_from_block(obj["valueBlock"], join(path, "valueBlock"))
        return Constant(t, tuple(values))
    if kind == "FunctionCallExpression":
        t = to_logical_type(type_from_json(get_object(obj, "type", path), join(path, "type")))
        name = get_str(get_object(obj, "functionName", path), "functionName", join(path, "functionName"))
        args = tuple(expression_from_wire(a, join(join(path, "arguments"), i), depth + 1)
                     for i, a in enumerate(get_list(obj, "arguments", path)))
        return FunctionCall(t, name, args)
    raise ProtocolError(join(path, "@type"), f"unknown expression type {kind!r}")


def columns_of(expression: Expression) -> set[str]:
    if isinstance(expression, Variable):
        return {expression.column}
    if isinstance(expression, FunctionCall):
        return set().union(*(columns_of(a) for a in expression.arguments)) if expression.arguments else set()
    return set()


def functions_of(expression: Expression) -> set[str]:
    if isinstance(expression, FunctionCall):
        return {expression.name}.union(*(functions_of(a) for a in expression.arguments))
    return set()


# ------------------------------------------------------------------------------------------ constraints

class SortDirection(enum.Enum):
    ASC_NULLS_FIRST = "ASC_NULLS_FIRST"
    ASC_NULLS_LAST = "ASC_NULLS_LAST"
    DESC_NULLS_FIRST = "DESC_NULLS_FIRST"
    DESC_NULLS_LAST = "DESC_NULLS_LAST"

    @property
    def ascending(self) -> bool:
        return self.value.startswith("ASC")

    @property
    def nulls_first(self) -> bool:
        return self.value.endswith("NULLS_FIRST")


@lazy_dataclass(slots=True)
class OrderByField:
    column: str
    direction: SortDirection


@lazy_dataclass(slots=True)
class QueryPlan:
    """A Substrait plan (serde v6), base64. ReadRecords applies it (``connector.pushdown.plan``) on top of the rest."""

    substrait_version: str
    substrait_plan: str


NO_LIMIT = -1


@lazy_dataclass(slots=True)
class Constraints:
    summary: Mapping[str, ValueSet] = field(default_factory=dict)
    expression: tuple[Expression, ...] = ()
    order_by: tuple[OrderByField, ...] = ()
    limit: int = NO_LIMIT
    passthrough: Mapping[str, str] = field(default_factory=dict)
    query_plan: QueryPlan | None = None

    @property
    def has_limit(self) -> bool:
        return self.limit > NO_LIMIT

    @property
    def is_passthrough(self) -> bool:
        return bool(self.passthrough)

    @property
    def is_empty(self) -> bool:
        return not (self.summary or self.expression or self.order_by or self.has_limit)

    def columns(self) -> set[str]:
        names = set(self.summary)
        for e in self.expression:
            names |= columns_of(e)
        return names | {o.column for o in self.order_by}

    @classmethod
    def from_wire(cls, value: Any, path: str) -> Constraints:
        if value is None:
            return cls()
        token = _budget.set(_Budget())
        try:
            return cls._from_wire(value, path)
        finally:
            _budget.reset(token)

    @classmethod
    def _from_wire(cls, value: Any, path: str) -> Constraints:
        obj = as_object(value, path)
        summary_obj = get_object(obj, "summary", path, {})
        summary = {name: value_set_from_wire(vs, join(join(path, "summary"), name))
                   for name, vs in summary_obj.items()}
        expression = tuple(expression_from_wire(e, join(join(path, "expression"), i))
                           for i, e in enumerate(get_list(obj, "expression", path, [])))
        order_by = []
        for i, item in enumerate(get_list(obj, "orderByClause", path, [])):
            opath = join(join(path, "orderByClause"), i)
            oobj = as_object(item, opath)
            direction = get_str(oobj, "direction", opath)
            try:
                order_by.append(OrderByField(get_str(oobj, "columnName", opath), SortDirection(direction)))
            except ValueError:
                raise ProtocolError(join(opath, "direction"), f"unknown sort direction {direction!r}") from None
        limit = get_int(obj, "limit", path, NO_LIMIT)
        if limit < NO_LIMIT:
            raise ProtocolError(join(path, "limit"), f"limit must be -1 or more, got {limit}")
        plan_obj = obj.get("queryPlan")
        plan = None
        if plan_obj is not None:
            ppath = join(path, "queryPlan")
            pobj = as_object(plan_obj, ppath)
            plan = QueryPlan(get_str(pobj, "substraitVersion", ppath, ""), get_str(pobj, "substraitPlan", ppath, ""))
        return cls(summary, expression, tuple(order_by), limit,
                   get_str_map(obj, "queryPassthroughArguments", path, {}), plan)

    def to_wire(self, serde_version: int = 6) -> dict[str, Any]:
        out: dict[str, Any] = {"summary": {name: vs.to_wire() for name, vs in self.summary.items()}}
        if serde_version >= 4:
            out["expression"] = [e.to_wire() for e in self.expression]
            out["orderByClause"] = [{"columnName": o.column, "direction": o.direction.value} for o in self.order_by]
            out["limit"] = self.limit
        if serde_version >= 5:
            out["queryPassthroughArguments"] = dict(self.passthrough)
        if serde_version >= 6:
            out["queryPlan"] = None if self.query_plan is None else {
                "substraitVersion": self.query_plan.substrait_version,
                "substraitPlan": self.query_plan.substrait_plan}
        return out
