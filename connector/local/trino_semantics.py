"""Make DuckDB compute what Athena (Trino) returns, where the two engines disagree.

The planner hands over the qualified query; before it is written as DuckDB SQL, every node whose DuckDB meaning
differs from Trino's is rewritten, using Trino's own typing rules (``TrinoTyper``), not sqlglot's approximations:

* decimal arithmetic has Trino's result types (``decimal(10,2) * decimal(10,2)`` is ``decimal(20,4)``; DuckDB
  keeps it in 18 digits and overflows); decimal division and ``avg`` of a decimal are decimals rounded half up at
  Trino's scale (DuckDB returns a double) - computed exactly on 128-bit integers;
* integer division truncates and keeps the integer type (``7 / 2`` is ``3``, an ``integer``);
* ``sum`` of integers is ``bigint`` (DuckDB: a 128-bit integer), ``sum``/``avg`` of ``real`` are ``real``;
* ``date_add`` and ``date +/- interval`` on a date give a date (DuckDB: a timestamp); ``date_diff`` counts
  whole units elapsed (DuckDB's ``date_diff`` counts boundaries crossed);
* casting a double to an integer rounds half away from zero (DuckDB: half to even);
* ``typeof`` prints Trino's type names (``decimal(12,2)``, ``varchar(3)``, ``integer``);
* NULLs sort last in both directions (set on the connection, whatever DuckDB's default becomes).

``install`` registers the helper macro on the DuckDB connection that runs the query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

DIVIDE_ROUNDED = "__afq_divide_rounded"
TYPE_NAME = "__afq_trino_type_name"
MAX_PRECISION = 38

_INTEGER_WIDTH = {"tinyint": 8, "smallint": 16, "integer": 32, "bigint": 64}
#: Trino's decimal view of an integer type (the digits it can hold).
_INTEGER_DIGITS = {"tinyint": 3, "smallint": 5, "integer": 10, "bigint": 19}
_DATE_UNITS = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


@dataclass(frozen=True)
class TrinoType:
    """A Trino type: ``name`` as Trino spells it, with precision/scale (decimal) or length/precision."""

    name: str
    precision: int | None = None
    scale: int | None = None

    @property
    def is_integer(self) -> bool:
        return self.name in _INTEGER_WIDTH

    @property
    def is_decimal(self) -> bool:
        return self.name == "decimal"

    @property
    def is_exact(self) -> bool:
        return self.is_integer or self.is_decimal

    @property
    def is_floating(self) -> bool:
        return self.name in ("real", "double")

    def as_decimal(self) -> TrinoType:
        if self.is_integer:
            return decimal(_INTEGER_DIGITS[self.name], 0)
        return self

    @property
    def sql(self) -> str:
        """The name ``typeof`` prints."""
        if self.name == "decimal":
            return f"decimal({self.precision},{self.scale})"
        if self.name in ("varchar", "char") and self.precision is not None:
            return f"{self.name}({self.precision})"
        if self.name == "timestamp":
            return f"timestamp({3 if self.precision is None else self.precision})"
        return self.name

    def duckdb(self) -> exp.DataType | None:
        """The DuckDB type that holds this type's values exactly (None: no cast needed or possible)."""
        names = {"tinyint": "TINYINT", "smallint": "SMALLINT", "integer": "INT", "bigint": "BIGINT",
                 "real": "FLOAT", "double": "DOUBLE", "date": "DATE", "boolean": "BOOLEAN"}
        if self.is_decimal:
            return exp.DataType.build(f"DECIMAL({self.precision}, {self.scale})")
        if self.name in names:
            return exp.DataType.build(names[self.name])
        return None


def decimal(precision: int, scale: int) -> TrinoType:
    return TrinoType("decimal", min(MAX_PRECISION, precision), scale)


BIGINT = TrinoType("bigint")
DOUBLE = TrinoType("double")
REAL = TrinoType("real")
BOOLEAN = TrinoType("boolean")
DATE = TrinoType("date")
UNKNOWN = TrinoType("unknown")  # the type of NULL

_SIMPLE = {
    exp.DType.TINYINT: "tinyint", exp.DType.SMALLINT: "smallint", exp.DType.INT: "integer",
    exp.DType.BIGINT: "bigint", exp.DType.FLOAT: "real", exp.DType.DOUBLE: "double", exp.DType.BOOLEAN: "boolean",
    exp.DType.DATE: "date", exp.DType.VARBINARY: "varbinary", exp.DType.BINARY: "varbinary",
    exp.DType.UNKNOWN: "unknown", exp.DType.NULL: "unknown", exp.DType.JSON: "json", exp.DType.TIME: "time",
}


def from_datatype(t: exp.DataType | None) -> TrinoType | None:
    """A sqlglot type (from the tables' schemas and CAST targets) as a Trino type; None when not modelled."""
    if t is None:
        return None
    params = [int(p.this.this) for p in t.expressions
              if isinstance(p, exp.DataTypeParam) and isinstance(p.this, exp.Literal) and not p.this.is_string]
    if t.this == exp.DType.DECIMAL:
        precision, scale = [*params, 0][:2] if params else (38, 0)
        return decimal(precision, scale if len(params) > 1 else 0)
    if t.this in (exp.DType.VARCHAR, exp.DType.TEXT, exp.DType.NVARCHAR):
        return TrinoType("varchar", params[0] if params else None)
    if t.this in (exp.DType.CHAR, exp.DType.NCHAR):
        return TrinoType("char", params[0] if params else 1)
    if t.this == exp.DType.TIMESTAMP:
        return TrinoType("timestamp", params[0] if params else 3)
    name = _SIMPLE.get(t.this)
    return TrinoType(name) if name else None


def supertype(types: Iterable[TrinoType | None]) -> TrinoType | None:
    """Trino's common supertype of the branches of CASE, COALESCE, UNION... (None when not modelled)."""
    known = [t for t in types if t != UNKNOWN]
    if any(t is None for t in known):
        return None
    result: TrinoType | None = None
    for t in known:
        assert t is not None
        result = t if result is None else _super2(result, t)
        if result is None:
            return None
    return result or UNKNOWN


def _super2(a: TrinoType, b: TrinoType) -> TrinoType | None:
    if a == b:
        return a
    if a.is_integer and b.is_integer:
        return a if _INTEGER_WIDTH[a.name] >= _INTEGER_WIDTH[b.name] else b
    if a.is_exact and b.is_exact:
        x, y = a.as_decimal(), b.as_decimal()
        assert x.precision is not None and x.scale is not None and y.precision is not None and y.scale is not None
        scale = max(x.scale, y.scale)
        return decimal(max(x.precision - x.scale, y.precision - y.scale) + scale, scale)
    if (a.is_floating or a.is_exact) and (b.is_floating or b.is_exact):
        return DOUBLE if DOUBLE in (a, b) else REAL
    if a.name == b.name == "varchar":
        return TrinoType("varchar", None if None in (a.precision, b.precision) else max(a.precision or 0,
                                                                                        b.precision or 0))
    return None


def arithmetic(op: type[exp.Expr], a: TrinoType | None, b: TrinoType | None) -> TrinoType | None:
    """The type of ``a <op> b`` for + - * / % (numbers only), Trino's rules."""
    if a is None or b is None:
        return None
    if UNKNOWN in (a, b):
        other = b if a == UNKNOWN else a
        return other if other.is_exact or other.is_floating else None
    if a.is_integer and b.is_integer:
        return _super2(a, b)
    if a.is_exact and b.is_exact:
        x, y = a.as_decimal(), b.as_decimal()
        p1, s1, p2, s2 = x.precision, x.scale, y.precision, y.scale
        assert p1 is not None and s1 is not None and p2 is not None and s2 is not None
        if op in (exp.Add, exp.Sub):
            scale = max(s1, s2)
            return decimal(1 + scale + max(p1 - s1, p2 - s2), scale)
        if op is exp.Mul:
            return decimal(p1 + p2, s1 + s2)
        if op is exp.Div:
            return decimal(p1 + s2 + max(0, s2 - s1), max(s1, s2))
        if op is exp.Mod:
            scale = max(s1, s2)
            return decimal(min(p2 - s2, p1 - s1) + scale, scale)
        return None
    if (a.is_floating or a.is_exact) and (b.is_floating or b.is_exact):
        return DOUBLE if DOUBLE in (a, b) else REAL  # an exact number meets real as real
    return None


_DECIMAL_LITERAL = re.compile(r"^(\d*)\.(\d*)$")


def literal_type(node: exp.Literal) -> TrinoType | None:
    text = str(node.this)
    if node.is_string:
        return TrinoType("varchar", len(text))
    if text.isdigit():
        value = int(text)
        if value <= 2**31 - 1:
            return TrinoType("integer")
        if value <= 2**63 - 1:
            return BIGINT
        return decimal(len(text.lstrip("0")) or 1, 0)
    match = _DECIMAL_LITERAL.match(text)
    if match:
        whole, fraction = match.group(1).lstrip("0"), match.group(2)
        return decimal(max(len(whole) + len(fraction), 1), len(fraction))
    return DOUBLE  # 1e3, 1.5E0: Trino's double literals


class TrinoTyper:
    """The Trino type of every expression of a qualified query, computed bottom-up (memoized per node)."""

    def __init__(self) -> None:
        self.types: dict[int, TrinoType | None] = {}
        self.scopes: dict[int, Scope] = {}

    def bind(self, scope: Scope) -> None:
        for node in scope.walk():
            self.scopes.setdefault(id(node), scope)

    def of(self, node: exp.Expr) -> TrinoType | None:
        key = id(node)
        if key not in self.types:
            self.types[key] = None  # a cycle (it cannot happen in a tree) would end here
            self.types[key] = self._compute(node)
        return self.types[key]

    def _compute(self, node: exp.Expr) -> TrinoType | None:
        if isinstance(node, exp.Alias | exp.Paren):
            return self.of(node.this)
        if isinstance(node, exp.Column):
            return self._column(node)
        if isinstance(node, exp.Literal):
            return literal_type(node)
        if isinstance(node, exp.Null):
            return UNKNOWN
        if isinstance(node, exp.Boolean | exp.Predicate | exp.Not | exp.And | exp.Or):
            return BOOLEAN
        if isinstance(node, exp.Cast | exp.TryCast):
            return from_datatype(node.to)
        if isinstance(node, exp.Neg | exp.Abs):
            return self.of(node.this)
        if isinstance(node, exp.Add | exp.Sub):
            left, right = self.of(node.this), self.of(node.expression)
            if left is not None and left.name in ("date", "timestamp") and isinstance(node.expression,
                                                                                      exp.Interval):
                return left
            return arithmetic(type(node), left, right)
        if isinstance(node, exp.Mul | exp.Div | exp.Mod):
            return arithmetic(type(node), self.of(node.this), self.of(node.expression))
        if isinstance(node, exp.Window | exp.Filter):
            return self.of(node.this)
        if isinstance(node, exp.Distinct) and len(node.expressions) == 1:
            return self.of(node.expressions[0])
        if isinstance(node, exp.Count):
            return BIGINT
        if isinstance(node, exp.Sum):
            t = self.of(node.this)
            if t is None:
                return None
            if t.is_integer:
                return BIGINT
            if t.is_decimal:
                return decimal(MAX_PRECISION, t.scale or 0)
            return t if t.is_floating else None
        if isinstance(node, exp.Avg):
            t = self.of(node.this)
            if t is None:
                return None
            if t.is_integer:
                return DOUBLE
            return t if t.is_decimal or t.is_floating else None
        if isinstance(node, exp.Min | exp.Max | exp.AnyValue):
            return self.of(node.this)
        if isinstance(node, exp.Stddev | exp.StddevPop | exp.StddevSamp | exp.Variance | exp.VariancePop |
                      exp.Corr | exp.CovarPop | exp.CovarSamp | exp.Sqrt | exp.Pow | exp.Ln | exp.Exp):
            return DOUBLE
        if isinstance(node, exp.Case):
            branches = [i.args.get("true") for i in node.args.get("ifs") or []] + [node.args.get("default")]
            return supertype(self.of(b) if b is not None else UNKNOWN for b in branches)
        if isinstance(node, exp.If):
            return supertype(self.of(b) if b is not None else UNKNOWN
                             for b in (node.args.get("true"), node.args.get("false")))
        if isinstance(node, exp.Coalesce):
            return supertype(self.of(e) for e in [node.this, *node.expressions])
        if isinstance(node, exp.Nullif):
            return self.of(node.this)
        if isinstance(node, exp.DateAdd | exp.DateSub):
            return self.of(node.this)
        if isinstance(node, exp.DateDiff | exp.Length | exp.RowNumber | exp.Rank | exp.DenseRank):
            return BIGINT
        if isinstance(node, exp.Floor | exp.Ceil) and not node.args.get("decimals"):
            t = self.of(node.this)
            if t is not None and t.is_decimal:
                assert t.precision is not None and t.scale is not None
                return decimal(t.precision - t.scale + min(t.scale, 1), 0)
            return t
        if isinstance(node, exp.CurrentDate):
            return DATE
        if isinstance(node, exp.Subquery):
            query = node.this
            return self.of(query.selects[0]) if isinstance(query, exp.Select) and len(query.selects) == 1 else None
        if isinstance(node, exp.Typeof | exp.Lower | exp.Upper | exp.Concat | exp.DPipe | exp.Substring |
                      exp.Trim | exp.Replace):
            return TrinoType("varchar")
        return None

    def _column(self, column: exp.Column) -> TrinoType | None:
        scope = self.scopes.get(id(column))
        alias, name = column.table, column.name
        current = scope
        while current is not None:
            if alias:
                source = current.sources.get(alias)
            else:  # an output name (ORDER BY total): the projection of the same SELECT
                source = None
                select = current.expression
                if isinstance(select, exp.Select):
                    for projection in select.selects:
                        if projection.alias_or_name == name and projection is not column.parent:
                            return self.of(projection)
            if isinstance(source, Scope):
                return self._output(source.expression, name)
            if source is not None:
                return from_datatype(column.type)
            current = current.parent
        return from_datatype(column.type)

    def _output(self, query: exp.Expr, name: str) -> TrinoType | None:
        if isinstance(query, exp.SetOperation):
            left, right = query.left, query.right
            index = next((i for i, s in enumerate(left.selects) if s.alias_or_name == name), None)
            if index is None:
                return None
            types = [self.of(left.selects[index])]
            if index < len(right.selects):
                types.append(self._nth_output(right, index))
            return supertype(types)
        if isinstance(query, exp.Select):
            for projection in query.selects:
                if projection.alias_or_name == name:
                    return self.of(projection)
        return None

    def _nth_output(self, query: exp.Expr, index: int) -> TrinoType | None:
        if isinstance(query, exp.SetOperation):
            return supertype([self._nth_output(query.left, index), self._nth_output(query.right, index)])
        if isinstance(query, exp.Select) and index < len(query.selects):
            return self.of(query.selects[index])
        if isinstance(query, exp.Subquery):
            return self._nth_output(query.this, index)
        return None


# ------------------------------------------------------------------------------------------ checking

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
_SYMBOLS = {exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=",
            exp.NullSafeEQ: "IS NOT DISTINCT FROM", exp.NullSafeNEQ: "IS DISTINCT FROM", exp.Add: "+",
            exp.Sub: "-"}


def check_operators(tree: exp.Expr) -> None:
    """Reject what Trino's analyzer rejects and DuckDB would run by casting implicitly (run before pushdown).

    ``integer_column = '3'`` and ``date + 5`` fail in Athena ("Cannot apply operator"); DuckDB casts the string
    or adds days, so the local engine would answer a query Athena refuses.
    """
    from connector.local.errors import QueryError

    typer = TrinoTyper()
    for scope in traverse_scope(tree):
        typer.bind(scope)
    for node in tree.find_all(*_COMPARISONS, exp.Add, exp.Sub):
        left, right = typer.of(node.this), typer.of(node.expression)
        if left is None or right is None:
            continue
        numeric = {t.name for t in (left, right) if t.is_exact or t.is_floating}
        text = {t.name for t in (left, right) if t.name in ("varchar", "char")}
        dated = {t.name for t in (left, right) if t.name in ("date", "timestamp")}
        if (isinstance(node, _COMPARISONS) and numeric and text) or (
                isinstance(node, exp.Add | exp.Sub) and dated and numeric):
            raise QueryError(f"Cannot apply operator: {left.sql} {_SYMBOLS[type(node)]} {right.sql} "
                             f"(in {node.sql('trino')[:200]})")


# ------------------------------------------------------------------------------------------ rewriting


def follow_trino(tree: exp.Expr) -> None:
    """Rewrite, in place, a qualified and type-annotated query so DuckDB returns Athena's values and types."""
    typer = TrinoTyper()
    scopes = list(traverse_scope(tree))
    for scope in scopes:
        typer.bind(scope)
    # Types first (on the query as written), rewrites after: a rewritten child must not change its parent's type.
    nodes = [node for scope in scopes for node in scope.walk()]
    for node in nodes:
        typer.of(node)
    for node in reversed(list(tree.walk(bfs=False))):
        replacement = _rewrite(node, typer)
        if replacement is not None:
            # An aggregate's rewrite replaces its FILTER / OVER too.
            target = _outer(node) if isinstance(node, exp.AggFunc) else node
            typer.types[id(replacement)] = typer.types.get(id(node))
            target.replace(replacement)


def _cast(node: exp.Expr, t: TrinoType | None) -> exp.Expr:
    target = t.duckdb() if t is not None else None
    if target is None:
        return node
    return exp.Cast(this=node, to=target)


def _rewrite(node: exp.Expr, typer: TrinoTyper) -> exp.Expr | None:
    t = typer.types.get(id(node))
    if isinstance(node, exp.Div):
        return _divide(node, t, typer)
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Mod) and t is not None and t.is_decimal:
        left, right = node.this, node.expression
        if isinstance(node, exp.Mul):
            # DuckDB keeps a product of two short decimals in 18 digits and overflows: widen one operand.
            left = exp.Cast(this=left, to=exp.DataType.build(f"DECIMAL(38, {_scale(typer.of(node.this))})"))
        return _cast(type(node)(this=left, expression=right), t)
    if isinstance(node, exp.Sum) and t is not None and t in (BIGINT, REAL):
        return _aggregate_cast(node, t)
    if isinstance(node, exp.Avg) and t is not None:
        if t.is_decimal:
            return _decimal_avg(node, t)
        if t == REAL:
            return _aggregate_cast(node, t)
        return None
    if isinstance(node, exp.DateAdd | exp.DateSub) and t == DATE:
        unit = node.text("unit").upper() or "DAY"
        if unit not in _DATE_UNITS:
            from connector.local.errors import QueryError

            raise QueryError(f"'{unit.lower()}' is not a valid DATE field (in {node.sql('trino')})")
        return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
    if isinstance(node, exp.Add | exp.Sub) and t == DATE and isinstance(node.expression, exp.Interval):
        return exp.Cast(this=type(node)(this=node.this, expression=node.expression), to=exp.DataType.build("DATE"))
    if isinstance(node, exp.DateDiff):
        # Trino counts whole units elapsed (DuckDB's date_sub); DuckDB's date_diff counts boundaries crossed.
        unit = node.text("unit").lower() or "day"
        return exp.Anonymous(this="date_sub", expressions=[exp.Literal.string(unit), node.expression, node.this])
    if isinstance(node, exp.Cast) and t is not None and t.is_integer:
        source = typer.types.get(id(node.this))
        if source is not None and source.is_floating:
            # Trino rounds half away from zero; DuckDB's cast rounds half to even. DuckDB's round() is away.
            rounded = node.copy()  # a TRY_CAST stays a TRY_CAST
            rounded.set("this", exp.Round(this=node.this))
            return rounded
        return None
    if isinstance(node, exp.Typeof):
        argument = typer.types.get(id(node.this))
        if argument is not None:
            return exp.Literal.string(argument.sql)
        return exp.Anonymous(this=TYPE_NAME, expressions=[exp.Typeof(this=node.this)])
    return None


def _scale(t: TrinoType | None) -> int:
    return (t.as_decimal().scale or 0) if t is not None and t.is_exact else 0


def _divide(node: exp.Div, t: TrinoType | None, typer: TrinoTyper) -> exp.Expr | None:
    if t is None:
        return None
    if t.is_integer:
        # Integer division truncates toward zero in Trino; DuckDB's // does the same (and fails on zero).
        return _cast(exp.IntDiv(this=node.this, expression=node.expression), t)
    if t.is_decimal:
        return decimal_quotient(node.this, typer.of(node.this), node.expression, typer.of(node.expression), t)
    if t.is_floating:
        # A typed Trino division of floats is plain division in DuckDB (not the integer form sqlglot writes).
        return _cast(exp.Div(this=node.this, expression=node.expression), t)
    return None


def decimal_quotient(a: exp.Expr, a_type: TrinoType | None, b: exp.Expr, b_type: TrinoType | None,
                     t: TrinoType) -> exp.Expr:
    """``a / b`` as Trino computes a decimal quotient: exactly, rounded half up to the result's scale.

    DuckDB divides decimals in floating point, so the quotient is computed on the unscaled 128-bit integers:
    ``round(A * 10^k / B)`` with ``k = scale - s1 + s2``, then scaled back by an exact decimal product.
    """
    scale = t.scale or 0
    shift = scale - _scale(a_type) + _scale(b_type)
    if shift > MAX_PRECISION:
        from connector.local.errors import QueryError

        raise QueryError(f"decimal division with a scale shift of {shift} digits is beyond 38 digits")
    numerator = _unscaled(a, a_type)
    if shift:
        numerator = exp.Mul(this=numerator, expression=_hugeint(10**shift))
    quotient = exp.Anonymous(this=DIVIDE_ROUNDED, expressions=[numerator, _unscaled(b, b_type)])
    value: exp.Expr = exp.Cast(this=quotient, to=exp.DataType.build("DECIMAL(38, 0)"))
    if scale:
        unit = exp.Cast(this=exp.Literal.string(str(Decimal(1).scaleb(-scale))),
                        to=exp.DataType.build(f"DECIMAL(38, {scale})"))
        value = exp.Mul(this=value, expression=unit)
    return _cast(value, t)


def _hugeint(value: int) -> exp.Expr:
    return exp.Cast(this=exp.Literal.string(str(value)), to=exp.DataType.build("HUGEINT"))


def _unscaled(node: exp.Expr, t: TrinoType | None) -> exp.Expr:
    """The unscaled integer of an exact number (its digits without the decimal point), as HUGEINT."""
    hugeint = exp.DataType.build("HUGEINT")
    if t is None or not t.is_decimal or not t.scale:
        return exp.Cast(this=node, to=hugeint)
    fixed = exp.Cast(this=exp.Cast(this=node, to=exp.DataType.build(f"DECIMAL(38, {t.scale})")),
                     to=exp.DataType.build("VARCHAR"))
    digits = exp.Anonymous(this="replace", expressions=[fixed, exp.Literal.string("."), exp.Literal.string("")])
    return exp.Cast(this=digits, to=hugeint)


def _over(node: exp.Expr, call: exp.Expr) -> exp.Expr:
    """``call`` with the FILTER / OVER that wrap ``node`` (an aggregate) copied around it."""
    result = call
    parent = node.parent
    if isinstance(parent, exp.Filter):
        result = exp.Filter(this=result, expression=parent.expression.copy())
        parent = parent.parent
    if isinstance(parent, exp.Window):
        window = parent.copy()
        window.set("this", result)
        result = window
    return result


def _outer(node: exp.Expr) -> exp.Expr:
    """The aggregate with its FILTER and OVER: what a rewrite replaces."""
    outer = node
    if isinstance(outer.parent, exp.Filter):
        outer = outer.parent
    if isinstance(outer.parent, exp.Window):
        outer = outer.parent
    return outer


def _aggregate_cast(node: exp.Expr, t: TrinoType) -> exp.Expr:
    return _cast(_outer(node).copy(), t)


def _decimal_avg(node: exp.Avg, t: TrinoType) -> exp.Expr:
    """``avg`` of a decimal is Trino's ``decimal(p,s)``: the exact sum / count, rounded half up."""
    argument = node.this
    total = _over(node, exp.Sum(this=argument.copy()))
    count = _over(node, exp.Count(this=argument.copy()))
    return decimal_quotient(total, decimal(MAX_PRECISION, t.scale or 0), count, BIGINT, t)


# ------------------------------------------------------------------------------------------ the connection

#: ``n / d`` for 128-bit integers, rounded half away from zero (Trino's HALF_UP); Trino fails on a zero divisor.
_MACROS = (
    f"CREATE OR REPLACE TEMP MACRO {DIVIDE_ROUNDED}(n, d) AS CASE WHEN d = 0 AND n IS NOT NULL "
    f"THEN error('Division by zero') "
    f"ELSE sign(n) * sign(d) * ((2 * abs(n) + abs(d)) // (2 * abs(d))) END",
    # typeof of what the typer does not model: DuckDB's name spelled the Trino way (INTEGER[] -> array(integer))
    f"CREATE OR REPLACE TEMP MACRO {TYPE_NAME}(t) AS regexp_replace(replace(replace(replace(lower(t), "
    f"'float', 'real'), 'blob', 'varbinary'), 'struct', 'row'), '^(.*)\\[\\]$', 'array(\\1)')",
)


def install(con: Any) -> None:
    """What the rewritten query needs on the DuckDB connection that runs it."""
    con.execute("SET default_null_order = 'nulls_last'")
    for macro in _MACROS:
        con.execute(macro)
