"""Evaluate constraints on Arrow batches with Athena's (Trino's) semantics.

This is how the framework keeps every declared pushdown exact: whatever an adapter cannot apply at the source
is applied here, on the batches it returns. It also prunes partitions and backs the local Athena's
``--verify``. SQL three-valued logic throughout: a row passes a filter only when the predicate is TRUE.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from connector import exact_cast
from connector.errors import InvalidRequest
from connector.protocol.constraints import (
    AllOrNoneValueSet,
    Bound,
    Constant,
    EquatableValueSet,
    Expression,
    FunctionCall,
    Range,
    SortedRangeSet,
    ValueSet,
    Variable,
)
from connector.pushdown import evaluate_sets

Datum: TypeAlias = pa.Array | pa.ChunkedArray | pa.Scalar


class EvaluationError(InvalidRequest):
    """An expression cannot be evaluated (unknown function, wrong arity, arithmetic error)."""


def _scalar(value: Any, t: pa.DataType) -> pa.Scalar:
    return pa.scalar(value, type=t)


def _array(datum: Datum, length: int) -> pa.Array:
    if isinstance(datum, pa.Scalar):
        return pa.array([datum.as_py()] * length, type=datum.type) if datum.is_valid else pa.nulls(length, datum.type)
    if isinstance(datum, pa.ChunkedArray):
        return datum.combine_chunks()
    return datum


def _true_only(mask: Datum, length: int) -> pa.BooleanArray:
    """NULL -> FALSE: a filter keeps only rows whose predicate is TRUE."""
    result: pa.BooleanArray = pc.fill_null(_array(mask, length), False)
    return result


# ------------------------------------------------------------------------------------------ value sets


def _in_range(column: pa.Array, r: Range, t: pa.DataType) -> pa.Array:
    parts = []
    if not r.low.unbounded:
        op = pc.greater_equal if r.low.bound is Bound.EXACTLY else pc.greater
        parts.append(op(*comparable(column, _scalar(r.low.value, t))))
    if not r.high.unbounded:
        op = pc.less_equal if r.high.bound is Bound.EXACTLY else pc.less
        parts.append(op(*comparable(column, _scalar(r.high.value, t))))
    if not parts:
        return pc.is_valid(column)
    return parts[0] if len(parts) == 1 else pc.and_kleene(parts[0], parts[1])


def value_set_mask(value_set: ValueSet, column: pa.Array) -> pa.BooleanArray:
    """Rows of ``column`` that the value set admits (never null)."""
    column = _array(column, len(column))
    n = len(column)
    nulls = pc.is_null(column)
    if isinstance(value_set, AllOrNoneValueSet):
        non_null = pa.array([value_set.all] * n, pa.bool_())
    elif isinstance(value_set, EquatableValueSet):
        members = evaluate_sets.members(value_set, lambda: [v for v in value_set.values if v is not None],
                                        value_set.type, column.type)
        hit = _true_only(pc.is_in(column, value_set=members), n)
        non_null = hit if value_set.white_list else pc.invert(hit)
    else:
        non_null = _ranges_mask(value_set, column)
    allow_null = pa.array([value_set.null_allowed] * n, pa.bool_())
    result: pa.BooleanArray = pc.if_else(nulls, allow_null, _true_only(non_null, n))
    return result


def _ranges_mask(value_set: SortedRangeSet, column: pa.Array) -> pa.Array:
    n = len(column)
    points = [r.low.value for r in value_set.ranges if r.is_single_value]
    others = [r for r in value_set.ranges if not r.is_single_value]
    mask = pa.array([False] * n, pa.bool_())
    if points:
        members = evaluate_sets.members(value_set, lambda: points, value_set.type, column.type)
        mask = _true_only(pc.is_in(column, value_set=members), n)
    many = evaluate_sets.ranges_mask(value_set, others, value_set.type, column) if len(
        others) >= evaluate_sets.MANY_RANGES else None
    if many is not None:
        return pc.or_(mask, many)
    for r in others:
        mask = pc.or_(mask, _true_only(_in_range(column, r, value_set.type), n))
    return mask


def summary_mask(summary: Mapping[str, ValueSet], batch: pa.RecordBatch | pa.Table) -> pa.BooleanArray:
    mask = pa.array([True] * batch.num_rows, pa.bool_())
    for name, value_set in summary.items():
        mask = pc.and_(mask, value_set_mask(value_set, _column(batch, name)))
    return mask


def _column(batch: pa.RecordBatch | pa.Table, name: str) -> pa.Array:
    index = batch.schema.get_field_index(name)
    if index < 0:
        raise EvaluationError(f"constraint on column {name!r}, which the rows do not have")
    return _array(batch.column(index), batch.num_rows)


# ------------------------------------------------------------------------------------------ expressions


def expression_mask(expressions: Sequence[Expression], batch: pa.RecordBatch | pa.Table) -> pa.BooleanArray:
    """Rows for which every expression (a conjunction) is TRUE."""
    mask = pa.array([True] * batch.num_rows, pa.bool_())
    for e in expressions:
        value = _array(evaluate(e, batch), batch.num_rows)
        if not pa.types.is_boolean(value.type):
            raise EvaluationError(f"a filter expression must be boolean, {describe(e)} is {value.type}")
        mask = pc.and_(mask, _true_only(value, batch.num_rows))
    return mask


def filter_mask(summary: Mapping[str, ValueSet], expressions: Sequence[Expression],
                batch: pa.RecordBatch | pa.Table) -> pa.BooleanArray:
    mask = summary_mask(summary, batch)
    if expressions:
        mask = pc.and_(mask, expression_mask(expressions, batch))
    return mask


def evaluate(expression: Expression, batch: pa.RecordBatch | pa.Table) -> Datum:
    if isinstance(expression, Variable):
        return _column(batch, expression.column)
    if isinstance(expression, Constant):
        if len(expression.values) != 1:
            raise EvaluationError("a constant with several values is only valid inside $array")
        return _scalar(expression.values[0], expression.type)
    handler = _FUNCTIONS.get(expression.name)
    if handler is None:
        raise EvaluationError(f"unsupported function {expression.name!r}")
    try:
        return handler(expression, batch)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
        raise EvaluationError(f"cannot evaluate {describe(expression)}: {e}") from None


def _args(call: FunctionCall, batch: pa.RecordBatch | pa.Table, arity: int | None = None) -> list[Datum]:
    if arity is not None and len(call.arguments) != arity:
        raise EvaluationError(f"{call.name} takes {arity} argument(s), got {len(call.arguments)}")
    return [evaluate(a, batch) for a in call.arguments]


def _binary(kernel: Callable[..., Datum]) -> Callable[[FunctionCall, Any], Datum]:
    def run(call: FunctionCall, batch: Any) -> Datum:
        a, b = _args(call, batch, 2)
        return kernel(*comparable(a, b))
    return run


_INTEGER_DIGITS = {8: 3, 16: 5, 32: 10, 64: 19}


def comparable(a: Datum, b: Datum) -> tuple[Datum, Datum]:
    """Operands cast to one type where Arrow's own common type would fail or round.

    Two decimals of different scales compare exactly in their common type, which may need more than 38 digits
    (DECIMAL(38,10) against the literal 0.00000000005, a DECIMAL(11,11), needs 39): Arrow's implicit cast
    stops at decimal128 and fails, so such pairs compare as decimal256 (up to 76 digits). An integer next to a
    decimal is a decimal with no scale, as in Trino."""
    ta, tb = a.type, b.type
    if ta == tb or not (pa.types.is_decimal(ta) or pa.types.is_decimal(tb)):
        return a, b
    if pa.types.is_floating(ta) or pa.types.is_floating(tb):
        return a, b  # decimal against double compares as double, in Trino and in Arrow
    pa_, sa = _digits(ta)
    pb, sb = _digits(tb)
    if pa_ is None or pb is None:
        return a, b
    scale = max(sa, sb)
    precision = max(pa_ - sa, pb - sb) + scale
    common = pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)
    return a.cast(common), b.cast(common)


def _digits(t: pa.DataType) -> tuple[int | None, int]:
    if pa.types.is_decimal(t):
        return t.precision, t.scale
    if pa.types.is_integer(t):
        return _INTEGER_DIGITS[t.bit_width], 0
    return None, 0


def _logical(kernel: Callable[..., Datum]) -> Callable[[FunctionCall, Any], Datum]:
    def run(call: FunctionCall, batch: Any) -> Datum:
        args = _args(call, batch)
        if not args:
            raise EvaluationError(f"{call.name} needs at least one argument")
        result = args[0]
        for other in args[1:]:
            result = kernel(result, other)
        return result
    return run


def _nullif(call: FunctionCall, batch: Any) -> Datum:
    a, b = _args(call, batch, 2)
    n = batch.num_rows
    same = _true_only(pc.equal(*comparable(a, b)), n)
    a_array = _array(a, n)
    return pc.if_else(same, pa.nulls(n, a_array.type), a_array)


def _is_distinct_from(call: FunctionCall, batch: Any) -> Datum:
    a, b = _args(call, batch, 2)
    n = batch.num_rows
    a_null, b_null = _array(pc.is_null(a), n), _array(pc.is_null(b), n)
    either = pc.or_(a_null, b_null)
    differs = _true_only(pc.not_equal(*comparable(a, b)), n)
    if pa.types.is_floating(_array(a, n).type):
        # Trino's IS DISTINCT FROM treats NaN as identical to NaN (plain equality does not).
        both_nan = _true_only(pc.and_(pc.is_nan(a), pc.is_nan(b)), n)
        differs = pc.and_(differs, pc.invert(both_nan))
    return pc.if_else(either, pc.xor(a_null, b_null), differs)


def _arithmetic(checked: Callable[..., Datum], name: str) -> Callable[[FunctionCall, Any], Datum]:
    def run(call: FunctionCall, batch: Any) -> Datum:
        a, b = _args(call, batch, 2)
        if pa.types.is_decimal(call.type):
            return _decimal_arithmetic(name, a, b, call.type, batch.num_rows)
        try:
            result = checked(a, b)
        except pa.ArrowInvalid as e:
            raise EvaluationError(f"{call.name}: {e}") from None
        return _cast_result(result, call.type)
    return run


def _cast_result(result: Datum, t: pa.DataType) -> Datum:
    if result.type == t or pa.types.is_boolean(t):
        return result
    try:
        return exact_cast.cast(result, t)
    except pa.ArrowInvalid as e:
        raise EvaluationError(f"result does not fit {t}: {e}") from None


def _divide(call: FunctionCall, batch: Any) -> Datum:
    a, b = _args(call, batch, 2)
    n = batch.num_rows
    if pa.types.is_decimal(call.type):
        return _decimal_arithmetic("divide", a, b, call.type, n)
    if pa.types.is_integer(call.type) and _has_zero(b, n):
        raise EvaluationError("$divide: division by zero")
    # Integer division truncates toward zero in Trino and in Arrow alike.
    return _cast_result(pc.divide_checked(a, b) if pa.types.is_integer(call.type) else pc.divide(a, b), call.type)


def _has_zero(datum: Datum, n: int) -> bool:
    return bool(pc.any(_true_only(pc.equal(datum, 0), n)).as_py())


def _modulus(call: FunctionCall, batch: Any) -> Datum:
    a, b = _args(call, batch, 2)
    n = batch.num_rows
    xs, ys = _array(a, n).to_pylist(), _array(b, n).to_pylist()
    out: list[Any] = []
    for x, y in zip(xs, ys, strict=True):
        if x is None or y is None:
            out.append(None)
        elif isinstance(x, float) or isinstance(y, float):
            # IEEE remainder: NaN for x / 0 and for an infinite x (Python's fmod raises there instead).
            out.append(math.nan if y == 0 or math.isinf(x) or math.isnan(x) or math.isnan(y) else math.fmod(x, y))
        elif y == 0:
            raise EvaluationError("$modulus: division by zero")
        elif isinstance(x, Decimal) or isinstance(y, Decimal):
            # Decimal's % keeps the dividend's sign, as Trino does; 80 digits hold any two 38-digit operands
            # (in the default 28 the integer quotient of a wide dividend by a small divisor does not fit).
            out.append(_WIDE.remainder(Decimal(x), Decimal(y)))
        else:
            out.append(int(math.fmod(x, y)) if abs(x) < 2**52 and abs(y) < 2**52 else _int_mod(x, y))
    return pa.array(out, type=call.type)


def _int_mod(x: int, y: int) -> int:
    r = abs(x) % abs(y)
    return -r if x < 0 else r


def _decimal_arithmetic(name: str, a: Datum, b: Datum, t: pa.DataType, n: int) -> pa.Array:
    """Decimal arithmetic in Python's decimal module: exact, rounded HALF_UP to the declared scale like Trino.

    The context holds 80 digits (two 38-digit operands multiply exactly; the default 28 would fail first)."""
    context = _WIDE
    quantum = Decimal(1).scaleb(-t.scale)
    xs, ys = _array(a, n).to_pylist(), _array(b, n).to_pylist()
    out: list[Decimal | None] = []
    for left, right in zip(xs, ys, strict=True):
        if left is None or right is None:
            out.append(None)
            continue
        x, y = Decimal(left), Decimal(right)
        try:
            if name == "add":
                value = context.add(x, y)
            elif name == "subtract":
                value = context.subtract(x, y)
            elif name == "multiply":
                value = context.multiply(x, y)
            else:
                if y == 0:
                    raise EvaluationError("$divide: division by zero")
                value = context.divide(x, y)
            out.append(value.quantize(quantum, rounding=ROUND_HALF_UP, context=context))
        except InvalidOperation:
            raise EvaluationError(f"decimal {name} overflows {t}") from None
    try:
        return pa.array(out, type=t)
    except (pa.ArrowInvalid, OverflowError):
        raise EvaluationError(f"decimal {name} overflows {t}") from None


_WIDE = Context(prec=80)


def _negate(call: FunctionCall, batch: Any) -> Datum:
    (a,) = _args(call, batch, 1)
    return pc.negate_checked(a)


def _not(call: FunctionCall, batch: Any) -> Datum:
    (a,) = _args(call, batch, 1)
    return pc.invert(a)


def _is_null(call: FunctionCall, batch: Any) -> Datum:
    (a,) = _args(call, batch, 1)
    return pc.is_null(a)


def like_to_arrow(pattern: str) -> str:
    """Athena's LIKE has no escape character unless ESCAPE is given; Arrow's ``match_like`` treats ``\\`` as one."""
    return pattern.replace("\\", "\\\\")


def _like(call: FunctionCall, batch: Any) -> Datum:
    if len(call.arguments) != 2 or not isinstance(call.arguments[1], Constant):
        raise EvaluationError("$like_pattern needs a column and a constant pattern")
    value = evaluate(call.arguments[0], batch)
    pattern = call.arguments[1].value
    if pattern is None:
        return pa.nulls(batch.num_rows, pa.bool_())
    return pc.match_like(value, like_to_arrow(str(pattern)))


def array_values(expression: Expression) -> list[Any]:
    """The literal values of an ``$array(...)`` (or of a multi-row constant)."""
    if isinstance(expression, Constant):
        return list(expression.values)
    if isinstance(expression, FunctionCall) and expression.name == "$array":
        values: list[Any] = []
        for arg in expression.arguments:
            if not isinstance(arg, Constant):
                raise EvaluationError("$array elements must be constants")
            values.extend(arg.values)
        return values
    raise EvaluationError("the second argument of $in must be an $array of constants")


def _in(call: FunctionCall, batch: Any) -> Datum:
    if len(call.arguments) != 2:
        raise EvaluationError(f"$in takes 2 arguments, got {len(call.arguments)}")
    n = batch.num_rows
    value = _array(evaluate(call.arguments[0], batch), n)
    members = array_values(call.arguments[1])
    non_null = [m for m in members if m is not None]
    found = _true_only(pc.is_in(value, value_set=evaluate_sets.members(call, lambda: non_null, None, value.type)),
                       n) if non_null else pa.array([False] * n, pa.bool_())
    # SQL: x IN (...) is NULL when x is NULL, or when nothing matched and the list holds a NULL.
    unknown = pc.or_(pc.is_null(value), pa.array([len(non_null) != len(members)] * n, pa.bool_()))
    return pc.if_else(found, True, pc.if_else(unknown, pa.nulls(n, pa.bool_()), False))


def _or(call: FunctionCall, batch: Any) -> Datum:
    if len(call.arguments) >= evaluate_sets.MANY_EQUALITIES:  # c = 1 OR c = 2 OR ...: one membership test
        call = FunctionCall(call.type, call.name, tuple(evaluate_sets.or_of_equalities(call)))
    return _logical(pc.or_kleene)(call, batch)


def _array_call(call: FunctionCall, batch: Any) -> Datum:
    raise EvaluationError("$array is only valid as the second argument of $in")


_FUNCTIONS: dict[str, Callable[[FunctionCall, Any], Datum]] = {
    "$and": _logical(pc.and_kleene),
    "$or": _or,
    "$not": _not,
    "$is_null": _is_null,
    "$nullif": _nullif,
    "$equal": _binary(pc.equal),
    "$not_equal": _binary(pc.not_equal),
    "$less_than": _binary(pc.less),
    "$less_than_or_equal": _binary(pc.less_equal),
    "$greater_than": _binary(pc.greater),
    "$greater_than_or_equal": _binary(pc.greater_equal),
    "$is_distinct_from": _is_distinct_from,
    "$add": _arithmetic(pc.add_checked, "add"),
    "$subtract": _arithmetic(pc.subtract_checked, "subtract"),
    "$multiply": _arithmetic(pc.multiply_checked, "multiply"),
    "$divide": _divide,
    "$modulus": _modulus,
    "$negate": _negate,
    "$like_pattern": _like,
    "$in": _in,
    "$array": _array_call,
}


def describe(expression: Expression) -> str:
    """A short SQL-like rendering for messages and ``--explain``."""
    if isinstance(expression, Variable):
        return expression.column
    if isinstance(expression, Constant):
        shown = ", ".join(repr(v) for v in expression.values[:5])
        return shown if len(expression.values) == 1 else f"[{shown}{', ...' if len(expression.values) > 5 else ''}]"
    args = ", ".join(describe(a) for a in expression.arguments)
    return f"{expression.name}({args})"


# ------------------------------------------------------------------------------------------ order and limit


def sort_indices(table: pa.Table, order_by: Iterable[tuple[str, bool, bool]]) -> pa.Array:
    """Row order for (column, ascending, nulls_first) keys; NaN sorts above every number, as in Trino."""
    keys = list(order_by)
    if not keys:
        return pa.array(range(table.num_rows), pa.int64())
    # Arrow supports one null placement for all keys; sort key by key from the last (a stable sort).
    indices = pa.array(range(table.num_rows), pa.int64())
    for name, ascending, nulls_first in reversed(keys):
        column = table.column(name).take(indices)
        order = pc.array_sort_indices(column, order="ascending" if ascending else "descending",
                                      null_placement="at_start" if nulls_first else "at_end")
        indices = indices.take(order)
        if pa.types.is_floating(column.type):
            # Arrow keeps NaN next to the nulls; move it to the top end of the numbers with a stable sort on
            # a rank (numbers 0, NaN 1 ascending or -1 descending, null stays null).
            values = table.column(name).take(indices)
            nan = pc.is_nan(values)
            if pc.any(nan).as_py():
                rank = pc.if_else(nan, 1 if ascending else -1, 0)
                order = pc.array_sort_indices(rank, order="ascending",
                                              null_placement="at_start" if nulls_first else "at_end")
                indices = indices.take(order)
    return indices
