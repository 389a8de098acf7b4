"""Compile constraints to SQL through sqlglot, for any dialect, with every value a bind parameter.

The compiler builds a sqlglot tree; identifiers are quoted by the dialect, values become placeholders whose
Python values are collected in the order the generator writes them, and ``SqlDialect`` - subclassed by each
adapter - says what the source evaluates exactly as Athena would. Anything it cannot render exactly comes back
as ``None`` and stays in the residual that the framework applies on Arrow batches.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from connector.errors import InvalidRequest
from connector.lazy_dataclass import lazy_dataclass
from connector.lazy_import import lazy_module
from connector.protocol.constraints import (
    AllOrNoneValueSet,
    Bound,
    Constant,
    Constraints,
    EquatableValueSet,
    Expression,
    FunctionCall,
    OrderByField,
    Range,
    SortedRangeSet,
    ValueSet,
    Variable,
)
from connector.pushdown.sql_budget import plan_degradation

# sqlglot (and the node classes built on it) load with the first statement that needs a tree: a read that pushes
# nothing down is written without one (plan_plain_select), so a cold Lambda's first query never imports it.
if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect

    from connector.pushdown import sql_values
else:
    exp = lazy_module("sqlglot.expressions", globals(), "exp")
    sql_values = lazy_module("connector.pushdown.sql_values", globals(), "sql_values")


@dataclass(frozen=True, slots=True)
class SourceColumn:
    """An Athena column (lower-case ``name``) and what it is at the source."""

    name: str
    source_name: str
    type: pa.DataType
    source_type: str = ""
    #: The column's collation as the source's catalog names it ("" when it names none: the source's default,
    #: or a source without column collations). Dialects read it in ``compare_operand``, ``like_operand``,
    #: ``can_compare_column`` and ``can_like_column`` to keep comparisons binary (code point order, exact
    #: equality) as in Athena, or to leave them to the framework.
    collation: str = ""


@dataclass(slots=True)
class BoundValue:
    value: Any
    type: pa.DataType


@dataclass(frozen=True, slots=True)
class SourceQuery:
    """A statement ready for a DB-API ``execute``: SQL text, parameters in order, and what it leaves undone."""

    sql: str
    params: Sequence[Any]
    residual: Constraints = field(default_factory=Constraints)
    columns: tuple[SourceColumn, ...] = ()  # the select list, in order (may exceed the projection)


@dataclass(frozen=True, slots=True)
class Pushdown:
    """A dialect's split of one request's constraints (``SqlDialect.split``): what may be compiled for the source
    (``pushed``, possibly rewritten), what the framework must apply whatever the compiler does (``kept``), and
    predicates of the dialect's own that the source evaluates as well (a NaN guard, a superset prefilter). The
    planner, not the dialect, decides where the LIMIT goes: never below a filter or sort applied later."""

    pushed: Constraints
    kept: Constraints = field(default_factory=Constraints)
    predicates: tuple[Callable[[SqlCompiler], exp.Expression], ...] = ()


def is_string(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


class SqlDialect:
    """What one database evaluates exactly as Athena does, and how to say it. Adapters subclass this.

    The defaults describe an ANSI database with binary string collation that errors on division by zero.
    """

    #: sqlglot dialect name used to generate SQL.
    sqlglot_dialect: ClassVar[str] = ""
    #: DB-API paramstyle of the driver: qmark (?), numeric (:1), named (:p1), format (%s).
    paramstyle: ClassVar[str] = "qmark"
    #: String ``<``/``>``/ORDER BY follow code point order (binary collation). Equality is assumed exact.
    exact_string_ordering: ClassVar[bool] = True
    #: ``x / 0`` raises an error, as in Athena (otherwise division is left to the framework).
    division_by_zero_errors: ClassVar[bool] = True
    #: ``int / int`` truncates toward zero, as in Athena.
    integer_division_truncates: ClassVar[bool] = True
    #: The dialect renders ``NULLS FIRST/LAST`` (sqlglot writes it only when the default differs).
    supports_null_ordering: ClassVar[bool] = True
    #: Write ``NULLS FIRST/LAST`` on every ORDER BY key, even where sqlglot assumes it is the default: a source
    #: whose default can be changed by a setting (Snowflake's DEFAULT_NULL_ORDERING) must be told every time.
    explicit_null_ordering: ClassVar[bool] = False
    #: Longest IN list the database accepts; longer lists are split into OR-ed chunks.
    max_in_list: ClassVar[int] = 1000
    #: Most bind parameters one statement may carry (SQL Server's 2,100 is the smallest common limit). Value
    #: sets that would pass it are pushed as their enclosing range and applied exactly by the framework
    #: (``connector.pushdown.sql_budget``).
    max_bind_parameters: ClassVar[int] = 2000
    #: The ESCAPE character used to make LIKE patterns literal except ``%`` and ``_``.
    like_escape: ClassVar[str] = "!"
    #: The source may keep timestamps finer than Athena's milliseconds (PostgreSQL, Oracle TIMESTAMP(6),
    #: Snowflake, Teradata...). Values reach Athena truncated to the millisecond, so predicates must compare the
    #: truncated value: value sets are moved onto the millisecond grid (still sargable), other comparisons use
    #: ``truncate_to_millis``, and such a column is an ORDER BY key only in last place. ``sub_millisecond``
    #: says which columns (by default every timestamp column when this is set).
    sub_millisecond_timestamps: ClassVar[bool] = False
    #: The source orders NaN above every number and finds NaN = NaN (PostgreSQL, H2), where Athena finds every
    #: comparison with NaN false. Ranges open at the top then exclude NaN explicitly, and floating-point
    #: comparisons inside expressions stay in the framework.
    nan_is_largest: ClassVar[bool] = False
    #: Driver error codes (SQLSTATEs, vendor codes) that mean "the source is refusing work for now" and "the
    #: statement ran out of time at the source" on this database; the adapter adds its own
    #: (``SqlAdapter.throttle_errors``), and its ``translate_error`` turns them into ``SourceThrottled`` and
    #: ``SourceTimeout``.
    throttle_errors: ClassVar[frozenset[str]] = frozenset()
    timeout_errors: ClassVar[frozenset[str]] = frozenset()
    #: Schemas of the database's own (catalog views, temporary objects) that are never listed to Athena.
    hidden_schemas: ClassVar[frozenset[str]] = frozenset({"information_schema"})

    def sqlglot(self) -> Dialect:
        from sqlglot.dialects.dialect import Dialect

        return Dialect.get_or_raise(self.sqlglot_dialect or None)

    # ------------------------------------------------------------------------------- exactness hooks

    def split(self, constraints: Constraints, columns: Mapping[str, SourceColumn]) -> Pushdown:
        """The database's own rules about what may be pushed at all, before anything is compiled: which
        constraints the framework must apply (``Pushdown.kept``), which are rewritten, which predicates of the
        dialect's own join them. Everything goes to the compiler by default, whose per-value hooks below decide
        the rest. A dialect keeps the LIMIT only when it cannot say it (``kept.limit``); keeping it below kept
        filters or sorts is the planner's job (``plan_select``)."""
        return Pushdown(constraints)


    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        """Comparisons of values of this logical type match Athena's (``ordering``: <, >, ORDER BY too)."""
        if is_string(t):
            return self.exact_string_ordering or not ordering
        return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
                    or pa.types.is_decimal(t) or pa.types.is_date32(t) or pa.types.is_timestamp(t))

    def can_compute(self, function: str, result: pa.DataType, arguments: Sequence[pa.DataType]) -> bool:
        """Arithmetic (``$add``...) on these types gives Athena's result."""
        if any(pa.types.is_decimal(t) for t in (result, *arguments)):
            return False  # result precision/scale rules differ between databases
        if function in ("$divide", "$modulus") and not self.division_by_zero_errors:
            return False
        numeric = all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in arguments)
        return numeric and (pa.types.is_integer(result) or pa.types.is_floating(result))

    def can_like(self, t: pa.DataType) -> bool:
        return is_string(t)

    def can_like_pattern(self, pattern: str) -> bool:
        """The source matches this (Athena) pattern exactly (e.g. ``_`` is one code point, not one UTF-16 unit)."""
        return True

    def can_like_column(self, column: SourceColumn) -> bool:
        """LIKE on this source column matches Athena's on the values it reads (not for CHAR(n) padding...)."""
        return True

    def can_compare_column(self, column: SourceColumn, *, ordering: bool) -> bool:
        """Comparisons of this source column match Athena's on the values it reads (not for CHAR(n) padding...)."""
        return self.can_compare(column.type, ordering=ordering)

    def compare_operand(self, e: exp.Expression, t: pa.DataType, *, ordering: bool,
                        column: SourceColumn | None = None) -> exp.Expression | None:
        """How a value of type ``t`` takes part in a comparison: ``e`` itself, ``e`` rewritten so the source
        compares as Athena does (a COLLATE clause, a truncation), or None when that is impossible and the
        comparison stays in the framework. ``ordering``: <, >, ranges, ORDER BY (else =, <>, IN).
        ``column`` is the source column when ``e`` is a plain column reference.
        """
        exact = self.can_compare_column(column, ordering=ordering) if column else self.can_compare(t, ordering=ordering)
        if not exact:
            return None
        finer = self.sub_millisecond(column) if column else self.sub_millisecond_timestamps
        if pa.types.is_timestamp(t) and finer:
            return self.truncate_to_millis(e)
        return e

    def like_operand(self, e: exp.Expression, column: SourceColumn | None = None) -> exp.Expression | None:
        """How a string takes part in LIKE (``e`` itself by default; a cast or COLLATE clause where the column's
        type or collation changes LIKE at the source), or None to leave that LIKE to the framework.
        ``column`` is the source column when ``e`` is a plain column reference."""
        return e

    def sub_millisecond(self, column: SourceColumn) -> bool:
        """Values of this column may be finer than milliseconds (Oracle: TIMESTAMP(n > 3) only, say)."""
        return self.sub_millisecond_timestamps and pa.types.is_timestamp(column.type)

    def truncate_to_millis(self, e: exp.Expression) -> exp.Expression | None:
        """``e`` (a timestamp) truncated to the millisecond, or None if the source cannot say it."""
        return None

    # ------------------------------------------------------------------------------- rendering hooks

    def bind_value(self, value: Any, t: pa.DataType) -> Any:
        """The driver parameter for a logical value (drivers differ on dates, decimals, booleans)."""
        return value

    def bind_expression(self, placeholder: exp.Placeholder, value: Any, t: pa.DataType) -> exp.Expression:
        """The SQL around a placeholder (``TO_TIMESTAMP(:p1, '...')`` where a driver cannot bind a type exactly)."""
        return placeholder

    def column_expression(self, column: SourceColumn) -> exp.Expression:
        """How a column is read and compared (``SYS_EXTRACT_UTC("TS")`` for instance); plainly quoted by default.

        The select list aliases a non-plain expression back to the column's source name.
        """
        return exp.column(column.source_name, quoted=True)

    def select_expression(self, column: SourceColumn) -> exp.Expression:
        """How a column is read in the select list: ``column_expression`` unless reading it exactly needs another
        form than comparing it (Oracle reads a NUMBER of unknown precision as text, converted exactly)."""
        return self.column_expression(column)

    # ------------------------------------------------------------------------------- statements without sqlglot

    #: The character this dialect's identifiers are quoted with (doubled inside a name) as sqlglot writes them,
    #: which lets ``plan_plain_select`` write a read that pushes nothing without sqlglot; "" keeps every
    #: statement on sqlglot. tests/pushdown/test_plain_select.py checks the two agree.
    plain_identifier_quote: ClassVar[str] = ""

    def plain_select_item(self, column: SourceColumn) -> str | None:
        """The select-list item of ``column`` written as sqlglot writes ``plan_select``'s (``select_expression``,
        aliased to the source name unless it is the plain column), or None when only sqlglot can write it. By
        default the quoted name, unless the dialect reads columns through expressions of its own: such a dialect
        says here what it writes, or its reads stay on sqlglot."""
        if (type(self).select_expression is not SqlDialect.select_expression
                or type(self).column_expression is not SqlDialect.column_expression):
            return None
        return self.quote(column.source_name)

    def quote(self, name: str) -> str:
        """``name`` as a quoted identifier, as sqlglot writes it (``plain_identifier_quote`` must be set)."""
        quote = self.plain_identifier_quote
        if not quote:
            raise ValueError(f"{type(self).__name__} writes its identifiers through sqlglot only")
        return f"{quote}{name.replace(quote, quote * 2)}{quote}"


    def integer_division(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        return exp.Div(this=a, expression=b, typed=True)

    def modulus(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        return exp.Mod(this=a, expression=b)

    def like(self, value: exp.Expression, pattern: exp.Expression) -> exp.Expression:
        return exp.Escape(this=exp.Like(this=value, expression=pattern),
                          expression=exp.Literal.string(self.like_escape))

    def like_pattern(self, pattern: str) -> str:
        """Athena's LIKE has no escape character; make ours literal in the bound pattern."""
        return pattern.replace(self.like_escape, self.like_escape * 2)

    def is_distinct_from(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        # Portable: databases without IS DISTINCT FROM (Oracle < 23, Teradata) understand this form. Every
        # disjunct is TRUE or FALSE (never NULL), so NOT(...) keeps the rows where both sides are NULL.
        both = exp.and_(exp.NEQ(this=a, expression=b), exp.not_(_is_null(a)), exp.not_(_is_null(b)))
        one_null = exp.or_(exp.and_(_is_null(a), exp.not_(_is_null(b))), exp.and_(exp.not_(_is_null(a)), _is_null(b)))
        return exp.paren(exp.or_(both, one_null))

    def order_key(self, column: exp.Expression, ascending: bool, nulls_first: bool) -> list[exp.Ordered]:
        if self.supports_null_ordering:
            return [exp.Ordered(this=column, desc=not ascending, nulls_first=nulls_first)]
        # No NULLS FIRST/LAST (older Teradata releases reject it): a CASE key places the NULLs, and each key
        # keeps the database's own null placement, so that no NULLS clause is written.
        null_rank = exp.Case(ifs=[exp.If(this=_is_null(column), true=exp.Literal.number(0 if nulls_first else 1))],
                             default=exp.Literal.number(1 if nulls_first else 0))
        return [exp.Ordered(this=null_rank, desc=False, nulls_first=self._natural_nulls_first(desc=False)),
                exp.Ordered(this=column, desc=not ascending, nulls_first=self._natural_nulls_first(desc=not ascending))]

    def _natural_nulls_first(self, *, desc: bool) -> bool:
        """Where the database puts NULLs when no NULLS clause is written."""
        ordering = type(self.sqlglot()).NULL_ORDERING
        if ordering == "nulls_are_last":
            return False
        return (ordering == "nulls_are_small") != desc

    def apply_limit(self, select: exp.Select, limit: int) -> exp.Select:
        return select.limit(limit)

    def false(self) -> exp.Expression:
        return exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0))

    # ------------------------------------------------------------------------------- generation

    def render(self, tree: exp.Expression, values: Sequence[BoundValue]) -> tuple[str, list[Any]]:
        """SQL text and the driver parameters in the order the placeholders appear in it.

        sqlglot does not generate a statement left to right (``x * ? IN (?, ?)`` renders the list before
        ``x * ?``), so each placeholder is first written as a marker naming its value, and the parameters
        follow the markers' order in the finished text."""
        dialect = self.sqlglot()
        generator_class = bound_generator(type(dialect).generator_class, self.explicit_null_ordering)
        generator = generator_class(dialect=dialect)
        marked = generator.generate(tree, copy=False)
        pieces = marked.split(_MARKER)
        order: list[int] = []
        out: list[str] = []
        for i, piece in enumerate(pieces):
            if i % 2 == 0:
                out.append(piece)
                continue
            tag, _, index = piece.partition("_")
            if tag != generator.afq_nonce:
                raise ValueError("a placeholder marker was not generated by this render")
            order.append(int(index))
            out.append(self._placeholder(len(order)))
        params = [self.bind_value(values[i].value, values[i].type) for i in order]
        sql = "".join(out)
        if self.paramstyle == "named":
            return sql, {f"p{n}": v for n, v in enumerate(params, 1)}  # type: ignore[return-value]
        return sql, params

    def _placeholder(self, n: int) -> str:
        """The driver's placeholder for the n-th parameter (from 1)."""
        style = self.paramstyle
        if style == "numeric":
            return f":{n}"
        if style == "named":
            return f":p{n}"
        if style == "format":
            return "%s"
        return "?"


#: Delimits placeholder markers while a statement is generated (a control character no identifier or
#: generated literal holds: values are never in the text).
_MARKER = "\x1f"


@functools.cache
def bound_generator(base: type[Any], explicit_null_ordering: bool = False) -> type[Any]:
    """``base`` generating each placeholder as a marker naming its bound value (``render`` turns the markers into
    the driver's placeholders in text order); with ``explicit_null_ordering`` every ORDER BY key spells out
    NULLS FIRST/LAST.

    One class per generator and options: sqlglot caches a dispatch table per generator class for the life of the
    process, so a class made per statement would keep a few tens of kilobytes per request alive forever.
    """

    def init(gen: Any, *args: Any, **kwargs: Any) -> None:
        base.__init__(gen, *args, **kwargs)
        gen.afq_nonce = os.urandom(8).hex()  # an identifier holding the marker cannot forge a placeholder

    def marker(gen: Any, index: int) -> str:
        return f"{_MARKER}{gen.afq_nonce}_{index}{_MARKER}"

    def placeholder_sql(gen: Any, expression: exp.Placeholder) -> str:
        return marker(gen, int(expression.name))

    def boundvalues_sql(gen: Any, expression: sql_values.BoundValues) -> str:
        first, count = int(expression.args["first"]), int(expression.args["count"])
        return ", ".join(marker(gen, i) for i in range(first, first + count))

    methods: dict[str, Any] = {"__init__": init, "placeholder_sql": placeholder_sql,
                               "TRANSFORMS": {**base.TRANSFORMS, sql_values.BoundValues: boundvalues_sql}}
    if explicit_null_ordering:
        methods["ordered_sql"] = _explicit_ordered_sql
    return type(f"Bound{base.__name__}", (base,), methods)


_MILLISECOND = dt.timedelta(milliseconds=1)


def _explicit_ordered_sql(gen: Any, expression: exp.Ordered) -> str:
    direction = "DESC" if expression.args.get("desc") else "ASC"
    nulls = "FIRST" if expression.args.get("nulls_first") else "LAST"
    return f"{gen.sql(expression, 'this')} {direction} NULLS {nulls}"


def _select_item(dialect: SqlDialect, column: SourceColumn) -> exp.Expression:
    item = dialect.select_expression(column)
    if isinstance(item, exp.Column) and item.name == column.source_name:
        return item
    return exp.Alias(this=item, alias=exp.to_identifier(column.source_name, quoted=True))


def _is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e.copy(), expression=exp.Null())


# sqlglot's node classes, by name (read from ``exp`` when used: no sqlglot import at module level).
_COMPARISONS: dict[str, str] = {
    "$equal": "EQ", "$not_equal": "NEQ", "$less_than": "LT", "$less_than_or_equal": "LTE",
    "$greater_than": "GT", "$greater_than_or_equal": "GTE",
}
_ARITHMETIC: dict[str, str] = {"$add": "Add", "$subtract": "Sub", "$multiply": "Mul"}


class SqlCompiler:
    """Renders one request's constraints against one table for one dialect."""

    def __init__(self, dialect: SqlDialect, columns: Mapping[str, SourceColumn]) -> None:
        self.dialect = dialect
        self.columns = columns
        self.values: list[BoundValue] = []

    # ------------------------------------------------------------------------------- leaves

    def source_column(self, name: str) -> SourceColumn:
        column = self.columns.get(name)
        if column is None:
            raise InvalidRequest(f"the constraints name column {name!r}, which the table does not have")
        return column

    def column(self, name: str) -> exp.Expression:
        return self.dialect.column_expression(self.source_column(name))

    def bind(self, value: Any, t: pa.DataType) -> exp.Expression:
        self.values.append(BoundValue(value, t))
        return self.dialect.bind_expression(exp.Placeholder(this=str(len(self.values) - 1)), value, t)

    def bind_all(self, values: Sequence[Any], t: pa.DataType) -> list[exp.Expression]:
        """Placeholders for ``values`` in order: one ``BoundValues`` node unless the dialect wraps some of them."""
        if type(self.dialect).bind_expression is not SqlDialect.bind_expression:
            probe = exp.Placeholder(this="0")
            if not all(self.dialect.bind_expression(probe, v, t) is probe for v in values):
                return [self.bind(v, t) for v in values]
        first = len(self.values)
        self.values.extend(BoundValue(v, t) for v in values)
        return [sql_values.BoundValues(first=first, count=len(values))]

    # ------------------------------------------------------------------------------- value sets

    def value_set(self, name: str, value_set: ValueSet) -> exp.Expression | None:
        """A predicate equivalent to the value set, or None when the source cannot evaluate it exactly.

        Returns ``exp.true()`` for a value set that admits everything.
        """
        source = self.source_column(name)
        t = source.type
        col = self.column(name)
        if isinstance(value_set, AllOrNoneValueSet):
            return self._all_or_none(col, value_set.all, value_set.null_allowed)
        if isinstance(value_set, EquatableValueSet):
            values = [v for v in value_set.values if v is not None]
            if not values:
                return self._all_or_none(col, not value_set.white_list, value_set.null_allowed)
            if self._on_millis_grid(source):
                core = self._grid_ranges(col, source, [Range.equal(v) for v in values], value_set.type)
                if core is not None and not value_set.white_list:
                    core = exp.paren(exp.not_(core))
            else:
                operand = self.dialect.compare_operand(col, t, ordering=False, column=source)
                member = None if operand is None else self._in_list(operand, values, value_set.type)
                core = member if member is None or value_set.white_list else exp.paren(exp.not_(member))
            return None if core is None else self._with_nulls(col, core, value_set.null_allowed)
        return self._ranges(col, source, value_set)

    def _all_or_none(self, col: exp.Expression, all_values: bool, null_allowed: bool) -> exp.Expression:
        if all_values and null_allowed:
            return exp.true()
        if all_values:
            return exp.not_(_is_null(col))
        return _is_null(col) if null_allowed else self.dialect.false()

    def _with_nulls(self, col: exp.Expression, core: exp.Expression, null_allowed: bool) -> exp.Expression:
        return exp.paren(exp.or_(core, _is_null(col))) if null_allowed else core

    def _in_list(self, col: exp.Expression, values: Sequence[Any], t: pa.DataType) -> exp.Expression:
        if len(values) == 1:
            return exp.EQ(this=col.copy(), expression=self.bind(values[0], t))
        size = self.dialect.max_in_list
        chunks = [values[i : i + size] for i in range(0, len(values), size)]
        parts = [exp.In(this=col.copy(), expressions=self.bind_all(chunk, t)) for chunk in chunks]
        return parts[0] if len(parts) == 1 else exp.paren(sql_values.balanced(parts, disjunction=True), copy=False)

    def _ranges(self, col: exp.Expression, source: SourceColumn, value_set: SortedRangeSet) -> exp.Expression | None:
        ranges = value_set.ranges
        if any(r.is_all for r in ranges):
            return self._all_or_none(col, True, value_set.null_allowed)
        if not ranges:
            return self._all_or_none(col, False, value_set.null_allowed)
        if self._on_millis_grid(source):
            core = self._grid_ranges(col, source, ranges, value_set.type)
            return None if core is None else self._with_nulls(col, core, value_set.null_allowed)
        points = [r.low.value for r in ranges if r.is_single_value]
        others = [r for r in ranges if not r.is_single_value]
        operand = self.dialect.compare_operand(col, source.type, ordering=bool(others), column=source)
        if operand is None:
            return None
        parts: list[exp.Expression] = []
        if points:
            parts.append(self._in_list(operand, points, value_set.type))
        for r in others:
            part = self._range(operand, r, value_set.type)
            if self.dialect.nan_is_largest and pa.types.is_floating(source.type) and r.high.unbounded:
                # NaN sorts above every number at the source but fails every comparison in Athena.
                nan = exp.NEQ(this=operand.copy(), expression=self.bind(math.nan, value_set.type))
                part = exp.paren(exp.and_(part, nan, copy=False), copy=False)
            parts.append(part)
        core = parts[0] if len(parts) == 1 else exp.paren(sql_values.balanced(parts, disjunction=True), copy=False)
        return self._with_nulls(col, core, value_set.null_allowed)

    def _range(self, col: exp.Expression, r: Range, t: pa.DataType) -> exp.Expression:
        conditions: list[exp.Expression] = []
        if not r.low.unbounded:
            low = exp.GTE if r.low.bound is Bound.EXACTLY else exp.GT
            conditions.append(low(this=col.copy(), expression=self.bind(r.low.value, t)))
        if not r.high.unbounded:
            high = exp.LTE if r.high.bound is Bound.EXACTLY else exp.LT
            conditions.append(high(this=col.copy(), expression=self.bind(r.high.value, t)))
        return conditions[0] if len(conditions) == 1 else exp.paren(exp.and_(*conditions, copy=False), copy=False)

    # ------------------------------------------------------------------------------- millisecond grid

    def _on_millis_grid(self, source: SourceColumn) -> bool:
        return bool(pa.types.is_timestamp(source.type) and self.dialect.sub_millisecond(source))

    def _grid_ranges(self, col: exp.Expression, source: SourceColumn, ranges: Sequence[Range],
                     t: pa.DataType) -> exp.Expression | None:
        """Ranges of a timestamp read truncated to the millisecond, as ranges of the finer source value.

        ``trunc(c) >= v`` is ``c >= v``; ``trunc(c) > v`` is ``c >= v + 1ms``; ``trunc(c) <= v`` is
        ``c < v + 1ms``; ``trunc(c) < v`` is ``c < v`` (v is a whole millisecond) - so indexes still apply.
        """
        if not self.dialect.can_compare_column(source, ordering=True):
            return None
        parts: list[exp.Expression] = []
        for r in ranges:
            conditions: list[exp.Expression] = []
            for marker, is_low in ((r.low, True), (r.high, False)):
                if marker.unbounded:
                    continue
                value = marker.value
                if not isinstance(value, dt.datetime) or value.microsecond % 1000:
                    return None  # not a millisecond value: leave it to the framework
                if (marker.bound is Bound.ABOVE) if is_low else (marker.bound is Bound.EXACTLY):
                    try:
                        value = value + _MILLISECOND
                    except OverflowError:
                        if is_low:
                            conditions.append(self.dialect.false())
                        continue
                op = exp.GTE if is_low else exp.LT
                conditions.append(op(this=col.copy(), expression=self.bind(value, t)))
            if not conditions:
                return exp.not_(_is_null(col))
            parts.append(conditions[0] if len(conditions) == 1 else exp.paren(exp.and_(*conditions, copy=False),
                                                                               copy=False))
        return parts[0] if len(parts) == 1 else exp.paren(sql_values.balanced(parts, disjunction=True), copy=False)

    # ------------------------------------------------------------------------------- expressions

    def expression(self, e: Expression) -> exp.Expression | None:
        """A SQL rendering of an expression, or None when any part of it is not exact at the source."""
        mark = len(self.values)
        result = self._expression(e)
        if result is None:
            del self.values[mark:]  # drop parameters bound for a rendering we abandon
        return result

    def _expression(self, e: Expression) -> exp.Expression | None:
        if isinstance(e, Variable):
            return self.column(e.column)
        if isinstance(e, Constant):
            if len(e.values) != 1:
                return None
            return exp.Null() if e.values[0] is None else self.bind(e.values[0], e.type)
        return self._call(e)

    def _args(self, call: FunctionCall, arity: int | None = None) -> list[exp.Expression] | None:
        if arity is not None and len(call.arguments) != arity:
            return None
        rendered = [self._expression(a) for a in call.arguments]
        if any(r is None for r in rendered):
            return None
        return [r for r in rendered if r is not None]

    def _type_of(self, e: Expression) -> pa.DataType:
        if isinstance(e, Variable):
            return self.source_column(e.column).type
        return e.type

    def _operand(self, e: Expression, rendered: exp.Expression, ordering: bool) -> exp.Expression | None:
        t = self._type_of(e)
        if isinstance(e, Constant) and pa.types.is_timestamp(t):
            # Athena's constants are whole milliseconds already (and a bare parameter has no type to truncate).
            return rendered if self.dialect.can_compare(t, ordering=ordering) else None
        return self.dialect.compare_operand(rendered, t, ordering=ordering, column=self._source_of(e))

    def _source_of(self, e: Expression) -> SourceColumn | None:
        """The source column whose values ``e`` takes: a column, or NULLIF of one (its precision, say)."""
        if isinstance(e, Variable):
            return self.source_column(e.column)
        if isinstance(e, FunctionCall) and e.name == "$nullif" and e.arguments:
            return self._source_of(e.arguments[0])
        return None

    def _call(self, call: FunctionCall) -> exp.Expression | None:
        name = call.name
        if name in ("$and", "$or"):
            args = self._args(call)
            if not args:
                return None
            return exp.paren(sql_values.balanced(args, disjunction=name == "$or"), copy=False)
        if name == "$not":
            args = self._args(call, 1)
            return None if args is None else exp.paren(exp.not_(args[0]))
        if name == "$is_null":
            args = self._args(call, 1)
            return None if args is None else exp.paren(_is_null(args[0]))
        if name in _COMPARISONS or name in ("$is_distinct_from", "$nullif"):
            if len(call.arguments) != 2:
                return None
            ordering = name in ("$less_than", "$less_than_or_equal", "$greater_than", "$greater_than_or_equal")
            if self.dialect.nan_is_largest and any(pa.types.is_floating(self._type_of(a)) for a in call.arguments):
                return None  # NaN = NaN and NaN > x are true at the source, false in Athena
            rendered = self._args(call, 2)
            if rendered is None:
                return None
            operands = [self._operand(a, r, ordering) for a, r in zip(call.arguments, rendered, strict=True)]
            args = [o for o in operands if o is not None]
            if len(args) != 2:
                return None
            if name == "$is_distinct_from":
                return self.dialect.is_distinct_from(args[0], args[1])
            if name == "$nullif":
                return exp.Nullif(this=args[0], expression=args[1])
            return exp.paren(getattr(exp, _COMPARISONS[name])(this=args[0], expression=args[1]))
        if name in _ARITHMETIC or name in ("$divide", "$modulus", "$negate"):
            return self._arithmetic(call)
        if name == "$like_pattern":
            return self._like(call)
        if name == "$in":
            return self._in(call)
        return None

    def _arithmetic(self, call: FunctionCall) -> exp.Expression | None:
        types = [self._type_of(a) for a in call.arguments]
        if not self.dialect.can_compute(call.name, call.type, types):
            return None
        if call.name == "$negate":
            args = self._args(call, 1)
            return None if args is None else exp.paren(exp.Neg(this=args[0]))
        args = self._args(call, 2)
        if args is None:
            return None
        a, b = args
        if call.name in _ARITHMETIC:
            return exp.paren(getattr(exp, _ARITHMETIC[call.name])(this=a, expression=b))
        integral = pa.types.is_integer(call.type)
        if call.name == "$divide":
            if integral and not self.dialect.integer_division_truncates:
                return None
            return exp.paren(self.dialect.integer_division(a, b) if integral else exp.Div(this=a, expression=b))
        return exp.paren(self.dialect.modulus(a, b))

    def _like(self, call: FunctionCall) -> exp.Expression | None:
        if len(call.arguments) != 2 or not isinstance(call.arguments[1], Constant):
            return None
        subject = call.arguments[0]
        if not self.dialect.can_like(self._type_of(subject)):
            return None
        if isinstance(subject, Variable) and not self.dialect.can_like_column(self.source_column(subject.column)):
            return None
        rendered = self._expression(subject)
        value = None if rendered is None else self.dialect.like_operand(rendered, self._source_of(subject))
        pattern = call.arguments[1].value
        if value is None or not isinstance(pattern, str) or not self.dialect.can_like_pattern(pattern):
            return None
        return exp.paren(self.dialect.like(value, self.bind(self.dialect.like_pattern(pattern), pa.string())))

    def _in(self, call: FunctionCall) -> exp.Expression | None:
        if len(call.arguments) != 2:
            return None
        t = self._type_of(call.arguments[0])
        rendered = self._expression(call.arguments[0])
        value = None if rendered is None else self._operand(call.arguments[0], rendered, False)
        try:
            from connector.pushdown.evaluate import array_values

            members = array_values(call.arguments[1])
        except InvalidRequest:
            return None
        if value is None or not members:
            return None
        if self.dialect.nan_is_largest and any(isinstance(m, float) and math.isnan(m) for m in members):
            return None
        # NULL members keep SQL's semantics: no match + a NULL in the list -> NULL (one NULL says it).
        values = [m for m in members if m is not None]
        size = self.dialect.max_in_list
        chunks: list[list[exp.Expression]] = [self.bind_all(values[i : i + size], t)
                                               for i in range(0, len(values), size)] or [[]]
        if len(values) < len(members):
            chunks[-1].append(exp.Null())
        parts = [exp.In(this=value.copy(), expressions=chunk) for chunk in chunks]
        return exp.paren(parts[0] if len(parts) == 1 else sql_values.balanced(parts, disjunction=True), copy=False)

    # ------------------------------------------------------------------------------- ORDER BY

    def order_by(self, fields: Iterable[OrderByField]) -> list[exp.Ordered] | None:
        keys: list[exp.Ordered] = []
        fields = list(fields)
        for i, f in enumerate(fields):
            source = self.source_column(f.column)
            col = self.column(f.column)
            operand: exp.Expression | None
            if i == len(fields) - 1 and self._on_millis_grid(source) and self.dialect.can_compare_column(
                    source, ordering=True):
                # The finer value refines the truncated order; only ties (any order is right) differ. Sorting
                # by the bare column keeps index-ordered top-N possible.
                operand = col
            else:
                operand = self.dialect.compare_operand(col, source.type, ordering=True, column=source)
            if operand is None:
                return None
            keys.extend(self.dialect.order_key(operand, f.direction.ascending, f.direction.nulls_first))
        return keys


def plan_select(dialect: SqlDialect, table: exp.Expression, columns: Mapping[str, SourceColumn],
                projection: Sequence[str], constraints: Constraints,
                extra_where: Callable[[SqlCompiler], Sequence[exp.Expression]] | None = None,
                kept: Constraints | None = None) -> SourceQuery:
    """The SELECT for one split: what can be pushed is pushed, the rest is returned as the residual.

    ``table`` is the FROM item (a table, possibly with a partition clause); ``extra_where`` builds the split's
    own predicates (partition or hash-bucket ranges, values bound through the compiler), always applied at
    the source. ``kept`` is what a dialect's own rules set aside for the framework before compiling
    (``SqlDialect.split``): it joins the residual, and its columns are read.

    The one place the LIMIT is decided: it goes to the source only when nothing is filtered or sorted after the
    source (by the residual or by ``kept``) and the dialect did not keep it; otherwise the framework applies it.
    """
    kept = kept or Constraints()
    limit = kept.limit if kept.has_limit else constraints.limit
    compiler = SqlCompiler(dialect, columns)
    where: list[exp.Expression] = list(extra_where(compiler)) if extra_where else []
    # Constraints too large for one statement go to the framework, their hull to the source (sql_budget).
    degraded = plan_degradation(dialect, columns, constraints, len(compiler.values))
    residual_summary: dict[str, ValueSet] = {}
    for name, value_set in constraints.summary.items():
        if name in degraded.summary:
            residual_summary[name] = value_set
            pushed = degraded.hulls.get(name)
            rendered = None if pushed is None else compiler.value_set(name, pushed)
            if rendered is not None and rendered != exp.true():
                where.append(rendered)
            continue
        rendered = compiler.value_set(name, value_set)
        if rendered is None:
            residual_summary[name] = value_set
        elif rendered != exp.true():
            where.append(rendered)
    residual_expressions = []
    for i, e in enumerate(constraints.expression):
        if i in degraded.expressions:
            residual_expressions.append(e)
            if i in degraded.in_hulls:
                rendered = compiler.value_set(*degraded.in_hulls[i])
                if rendered is not None and rendered != exp.true():
                    where.append(rendered)
            continue
        rendered = compiler.expression(e)
        if rendered is None:
            residual_expressions.append(e)
        else:
            where.append(rendered)

    filtered_later = bool(residual_summary or residual_expressions or kept.summary or kept.expression)
    order = compiler.order_by(constraints.order_by) if constraints.order_by else []
    residual_order: tuple[OrderByField, ...] = ()
    push_limit = limit > -1 and not filtered_later and not kept.order_by and not kept.has_limit
    if order is None:  # cannot sort at the source: the framework sorts everything it reads
        order, residual_order, push_limit = [], constraints.order_by, False
    residual = merge_residual(Constraints(
        summary=residual_summary,
        expression=tuple(residual_expressions),
        order_by=residual_order,
        limit=limit if limit > -1 and not push_limit else -1,
    ), kept)

    needed = list(dict.fromkeys([*projection, *sorted(residual.columns())]))
    selected = tuple(compiler.source_column(n) for n in needed)
    select_list: list[exp.Expression] = [_select_item(dialect, c) for c in selected]
    if not select_list:
        select_list = [exp.Literal.number(1)]  # zero columns (count(*)): only the row count matters
    select = exp.select(*select_list).from_(table)
    if where:  # every part was built for this statement alone: no copies (they cost seconds for large ones)
        select = select.where(exp.and_(*where, copy=False) if len(where) > 1 else where[0], copy=False)
    if order:
        select = select.order_by(*order)
    if push_limit:
        select = dialect.apply_limit(select, limit)
    sql, params = dialect.render(select, compiler.values)
    return SourceQuery(sql, params, residual, selected)


def plan_pushdown(dialect: SqlDialect, table: exp.Expression, columns: Mapping[str, SourceColumn],
                  projection: Sequence[str], constraints: Constraints,
                  extra_where: Callable[[SqlCompiler], Sequence[exp.Expression]] | None = None) -> SourceQuery:
    """``plan_select`` after the dialect's own split (``SqlDialect.split``): the one planner of every SQL adapter.

    A statement that still binds more than ``dialect.max_bind_parameters`` (the dialect's own predicates, which
    ``sql_budget`` cannot degrade, used up the room) leaves the value set with the most values to the
    framework, then the next, until it fits.
    """
    demoted: dict[str, ValueSet] = {}
    while True:
        asked = replace(constraints, summary={n: v for n, v in constraints.summary.items() if n not in demoted})
        pushdown = dialect.split(asked, columns)
        kept = pushdown.kept
        if demoted:
            kept = replace(kept, summary={**demoted, **kept.summary})

        def where(compiler: SqlCompiler, pushdown: Pushdown = pushdown) -> list[exp.Expression]:
            own = list(extra_where(compiler)) if extra_where else []
            return own + [predicate(compiler) for predicate in pushdown.predicates]

        query = plan_select(dialect, table, columns, projection, pushdown.pushed, where, kept)
        if len(query.params) <= dialect.max_bind_parameters:
            return query
        counts = {n: _value_count(v) for n, v in asked.summary.items()}
        if not counts or max(counts.values()) == 0:
            raise InvalidRequest(f"the request needs {len(query.params)} bind parameters, more than the source "
                                 f"accepts ({dialect.max_bind_parameters})")
        name = max(counts, key=lambda n: counts[n])
        demoted[name] = constraints.summary[name]


def _value_count(value_set: ValueSet) -> int:
    if isinstance(value_set, EquatableValueSet):
        return len(value_set.values)
    if isinstance(value_set, SortedRangeSet):
        return 2 * len(value_set.ranges)
    return 0


@lazy_dataclass(slots=True)
class PlainPredicate:
    """One of a split's own predicates, written without sqlglot: ``<column> <op> <placeholder>``. ``column`` is SQL
    text as sqlglot writes the adapter's column (``rowid``, or a name from ``SqlDialect.quote``)."""

    column: str
    op: str  # >=, >, <=, <, =
    value: Any
    type: pa.DataType


def plan_plain_select(dialect: SqlDialect, table: tuple[str, str], columns: Mapping[str, SourceColumn],
                      projection: Sequence[str], constraints: Constraints,
                      where: Sequence[PlainPredicate]) -> SourceQuery | None:
    """``plan_select``'s statement for a read that pushes nothing (no constraints), written without sqlglot, or
    None when it needs sqlglot: the dialect quotes identifiers another way, reads a column through an expression,
    or wraps its bound values. ``table`` is (schema, table) at the source ("" schema: none).

    A cold Lambda's first query then never imports sqlglot (more than pyarrow's import time, bench/README.md
    section 3). ``tests/pushdown/test_plain_select.py`` checks the text and parameters are ``plan_select``'s.
    """
    if not constraints.is_empty or not dialect.plain_identifier_quote:
        return None
    if where and type(dialect).bind_expression is not SqlDialect.bind_expression:
        return None
    compiler = SqlCompiler(dialect, columns)
    selected = tuple(compiler.source_column(n) for n in dict.fromkeys(projection))
    written = [dialect.plain_select_item(c) for c in selected]
    if any(item is None for item in written):
        return None
    items = ", ".join(item for item in written if item is not None) or "1"
    schema, name = table
    source = f"{dialect.quote(schema)}.{dialect.quote(name)}" if schema else dialect.quote(name)
    # Identifiers quoted by the dialect exactly as sqlglot quotes them, every value a bind parameter.
    sql = f"SELECT {items} FROM {source}"  # noqa: S608
    if where:
        sql += " WHERE " + " AND ".join(f"{p.column} {p.op} {dialect._placeholder(i)}" for i, p in enumerate(where, 1))
    params = [dialect.bind_value(p.value, p.type) for p in where]
    if dialect.paramstyle == "named":
        return SourceQuery(sql, {f"p{n}": v for n, v in enumerate(params, 1)}, Constraints(), selected)  # type: ignore[arg-type]
    return SourceQuery(sql, params, Constraints(), selected)


def merge_residual(residual: Constraints, kept: Constraints) -> Constraints:
    """The compiler's residual plus constraints an adapter kept for the framework (whose ORDER BY and LIMIT,
    when it kept them, win: the framework then sorts and limits everything it reads)."""
    if kept.is_empty:
        return residual
    return Constraints(
        summary={**residual.summary, **kept.summary},
        expression=(*residual.expression, *kept.expression),
        order_by=kept.order_by or residual.order_by,
        limit=kept.limit if kept.has_limit else residual.limit,
    )
