"""Predicates that are not single-column domains, as the protocol's expressions (``$and``, ``$add``...).

Athena sends these only when the connector declares ``supports_complex_expression_pushdown`` with every
function the expression uses. Types follow Trino: integer arithmetic keeps the wider integer type, DECIMAL
arithmetic follows Trino's precision and scale rules, literals next to a column take the column's type when
that is exact. Anything else (casts, function calls, CASE, subqueries) is not translated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
from sqlglot import exp

from connector.protocol.constraints import Constant, Expression, FunctionCall, Variable
from connector.pushdown.sql_literals import NotExact, coerce, literal

_COMPARISONS: dict[type[exp.Expr], str] = {
    exp.EQ: "$equal", exp.NEQ: "$not_equal", exp.LT: "$less_than", exp.LTE: "$less_than_or_equal",
    exp.GT: "$greater_than", exp.GTE: "$greater_than_or_equal",
}
_ARITHMETIC: dict[type[exp.Expr], str] = {
    exp.Add: "$add", exp.Sub: "$subtract", exp.Mul: "$multiply", exp.Div: "$divide", exp.Mod: "$modulus",
}
_INT_AS_DECIMAL = {8: 3, 16: 5, 32: 10, 64: 19}
BOOL = pa.bool_()


class NotTranslatable(Exception):
    pass


def _numeric(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def _as_decimal(t: pa.DataType) -> tuple[int, int]:
    if pa.types.is_decimal(t):
        return t.precision, t.scale
    return _INT_AS_DECIMAL[t.bit_width], 0


def arithmetic_type(function: str, a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The Trino result type of ``a <op> b`` for numeric types."""
    if not (_numeric(a) and _numeric(b)):
        raise NotTranslatable(f"{function} of {a} and {b}")
    if pa.types.is_float64(a) or pa.types.is_float64(b):
        return pa.float64()
    if pa.types.is_floating(a) or pa.types.is_floating(b):
        other = b if pa.types.is_floating(a) else a
        return pa.float64() if pa.types.is_decimal(other) else pa.float32()
    if pa.types.is_integer(a) and pa.types.is_integer(b):
        return a if a.bit_width >= b.bit_width else b
    (p1, s1), (p2, s2) = _as_decimal(a), _as_decimal(b)
    if function in ("$add", "$subtract"):
        scale = max(s1, s2)
        precision = 1 + scale + max(p1 - s1, p2 - s2)
    elif function == "$multiply":
        precision, scale = p1 + p2, s1 + s2
    elif function == "$divide":
        scale = max(s1, s2)
        precision = p1 + s2 + max(s2 - s1, 0)
    else:  # $modulus
        scale = max(s1, s2)
        precision = min(p2 - s2, p1 - s1) + scale
    if precision > 38:
        raise NotTranslatable(f"{function} of {a} and {b} needs more than 38 digits")
    return pa.decimal128(precision, scale)


class ExpressionBuilder:
    """Translates one table's predicate to a protocol expression, or says why it cannot."""

    def __init__(self, column_of: Callable[[exp.Expr], tuple[str, pa.DataType] | None]) -> None:
        self.column_of = column_of

    def build(self, node: exp.Expr) -> Expression | None:
        try:
            result = self._build(node)
        except (NotTranslatable, NotExact):
            return None
        return result if pa.types.is_boolean(result.type) else None

    # ------------------------------------------------------------------------------------------ nodes

    def _build(self, node: exp.Expr, want: pa.DataType | None = None) -> Expression:
        if isinstance(node, exp.Paren):
            return self._build(node.this, want)
        positive = without_negation(node)
        if positive is not None:  # x NOT LIKE p, x IS NOT ...: sqlglot marks the node instead of wrapping it
            return FunctionCall(BOOL, "$not", (self._boolean(positive),))
        column = self.column_of(node)
        if column is not None:
            return Variable(column[0], column[1])
        if isinstance(node, exp.Column):
            raise NotTranslatable(f"column {node.sql('trino')} does not belong to this table")
        if isinstance(node, exp.Null):
            if want is None:
                raise NotTranslatable("an untyped NULL")
            return Constant(want, (None,))
        if _is_literal(node):
            return self._constant(node, want)
        if isinstance(node, exp.And | exp.Or):
            name = "$and" if isinstance(node, exp.And) else "$or"
            args = [self._boolean(a) for a in _flatten(node, type(node))]
            return FunctionCall(BOOL, name, tuple(args))
        if isinstance(node, exp.Not):
            return FunctionCall(BOOL, "$not", (self._boolean(node.this),))
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            return FunctionCall(BOOL, "$is_null", (self._build(node.this),))
        if isinstance(node, exp.Binary) and type(node) in _COMPARISONS:
            a, b = self._pair(node.left, node.right)
            return FunctionCall(BOOL, _COMPARISONS[type(node)], (a, b))
        if isinstance(node, exp.NullSafeNEQ | exp.NullSafeEQ):
            a, b = self._pair(node.left, node.right)
            distinct = FunctionCall(BOOL, "$is_distinct_from", (a, b))
            return distinct if isinstance(node, exp.NullSafeNEQ) else FunctionCall(BOOL, "$not", (distinct,))
        if isinstance(node, exp.Between):
            value = node.this
            low = self._pair(value, node.args["low"])
            high = self._pair(value, node.args["high"])
            return FunctionCall(BOOL, "$and", (FunctionCall(BOOL, "$greater_than_or_equal", low),
                                               FunctionCall(BOOL, "$less_than_or_equal", high)))
        if isinstance(node, exp.In):
            return self._in(node)
        if isinstance(node, exp.Like):
            return self._like(node)
        if isinstance(node, exp.Binary) and type(node) in _ARITHMETIC:
            name = _ARITHMETIC[type(node)]
            a, b = self._pair(node.left, node.right, arithmetic=True)
            return FunctionCall(arithmetic_type(name, _type(a), _type(b)), name, (a, b))
        if isinstance(node, exp.Neg):
            inner = self._build(node.this, want)
            if isinstance(inner, Constant):
                return self._constant(node, want)
            if not _numeric(_type(inner)):
                raise NotTranslatable("negation of a non-number")
            return FunctionCall(_type(inner), "$negate", (inner,))
        if isinstance(node, exp.Nullif):
            a, b = self._pair(node.this, node.expression)
            return FunctionCall(_type(a), "$nullif", (a, b))
        raise NotTranslatable(f"{type(node).__name__} has no standard function")

    def _boolean(self, node: exp.Expr) -> Expression:
        result = self._build(node, BOOL)
        if not pa.types.is_boolean(_type(result)):
            raise NotTranslatable("a logical operator needs boolean arguments")
        return result

    def _constant(self, node: exp.Expr, want: pa.DataType | None) -> Constant:
        value, t = literal(node)
        if want is not None and want != t:
            try:
                return Constant(want, (coerce(value, t, want),))
            except NotExact:
                if not (_numeric(want) and _numeric(t)):
                    raise
        return Constant(t, (value,))

    def _pair(self, left: exp.Expr, right: exp.Expr, *, arithmetic: bool = False) -> tuple[Expression, Expression]:
        """Both operands, a literal typed after the other operand where that is exact.

        In arithmetic a literal keeps its own type next to a DECIMAL (Trino computes the result's precision
        from it: ``amount * 2`` is DECIMAL(p+10, s)) and is widened to the other integer or float type.
        """
        def hint(other: Expression) -> pa.DataType | None:
            t = _type(other)
            return None if arithmetic and pa.types.is_decimal(t) else t

        if _is_literal(left) and not _is_literal(right):
            b = self._build(right)
            return self._build(left, hint(b)), b
        a = self._build(left)
        b = self._build(right, hint(a))
        ta, tb = _type(a), _type(b)
        if ta != tb and not (_numeric(ta) and _numeric(tb)):
            raise NotTranslatable(f"cannot compare {ta} with {tb}")
        return a, b

    def _in(self, node: exp.In) -> Expression:
        if node.args.get("query") is not None or node.args.get("unnest") is not None or not node.expressions:
            raise NotTranslatable("IN with a subquery")
        value = self._build(node.this)
        t = _type(value)
        items: list[Any] = []
        for item in node.expressions:
            if isinstance(item, exp.Null):
                items.append(None)
                continue
            constant = self._constant(item, t)
            if constant.type != t:
                raise NotTranslatable("IN list values of another type")
            items.append(constant.values[0])
        array = FunctionCall(pa.list_(t), "$array", (Constant(t, tuple(items)),))
        return FunctionCall(BOOL, "$in", (value, array))

    def _like(self, node: exp.Like) -> Expression:
        value = self._build(node.this)
        if not pa.types.is_string(_type(value)):
            raise NotTranslatable("LIKE on a non-string")
        pattern, t = literal(node.expression)
        if not isinstance(pattern, str):
            raise NotTranslatable("LIKE needs a string pattern")
        return FunctionCall(BOOL, "$like_pattern", (value, Constant(t, (pattern,))))


def without_negation(node: exp.Expr) -> exp.Expr | None:
    """The positive form of a node sqlglot parsed with ``negate`` set (infix ``x NOT LIKE p``, ``x NOT ILIKE p``),
    or None when the node is not negated that way. Its meaning is ``NOT (positive)``: a reader that ignores the
    flag gets the opposite predicate."""
    if not node.args.get("negate"):
        return None
    positive = node.copy()
    positive.set("negate", None)
    return positive


def _type(e: Expression) -> pa.DataType:
    return e.type


def _is_literal(node: exp.Expr) -> bool:
    try:
        literal(node)
    except NotExact:
        return False
    return True


def _flatten(node: exp.Binary, kind: type[exp.Expr]) -> list[exp.Expr]:
    out: list[exp.Expr] = []
    for side in (node.left, node.right):
        inner = side.this if isinstance(side, exp.Paren) and isinstance(side.this, kind) else side
        if isinstance(inner, kind) and isinstance(inner, exp.Binary):
            out.extend(_flatten(inner, kind))
        else:
            out.append(inner)
    return out
