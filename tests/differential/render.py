"""A generated query as Athena SQL, and as each engine's SQL computing what Athena computes.

``AthenaRenderer`` writes what a user types into ``afq query``. The engine renderers write the same question for
the engine itself, with Athena's semantics made explicit wherever the engine's differ:

* strings compare by code point and are equal only when identical: SQLite ``COLLATE BINARY``, PostgreSQL
  ``COLLATE "C"`` (citext cast to text, CHAR(n) padded as Athena sees it), H2 the UTF-8 bytes
  (``CAST(x AS VARBINARY)``, compared unsigned; H2 has no per-expression COLLATE);
* LIKE is case-sensitive, ``_`` is one code point and there is no escape character: SQLite with
  ``case_sensitive_like`` and an ESCAPE, PostgreSQL under ``COLLATE "C"``, H2 through REGEXP_LIKE (Java regular
  expressions work on code points where H2's LIKE works on UTF-16 units);
* every comparison with NaN is false except ``<>`` (PostgreSQL and H2 find NaN = NaN and NaN > x): a CASE;
* timestamps are compared as the millisecond values Athena receives (``date_trunc``), SQLite's text dates and
  timestamps through ``date()`` / ``strftime()``, SQLite varchar columns without TEXT affinity as
  ``CAST(x AS TEXT)`` - the documented exposure of such columns.

No LIMIT is sent to the engine: the checker compares Athena's rows with the engine's full ordered answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlglot import exp

from tests.differential.model import (
    Aggregate,
    And,
    Arith,
    AthenaType,
    Between,
    BoolCol,
    Cmp,
    Col,
    Column,
    Distinct,
    Expr,
    InList,
    IsNull,
    IsUnknown,
    Like,
    Lit,
    Neg,
    Not,
    NullIf,
    Or,
    OrderKey,
    Pred,
    Query,
)

_CMP: dict[str, type[exp.Expression]] = {"=": exp.EQ, "<>": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT,
                                          ">=": exp.GTE}
_ARITH: dict[str, type[exp.Expression]] = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul, "%": exp.Mod}


def _timestamp_text(value: dt.datetime) -> str:
    return value.isoformat(sep=" ", timespec="milliseconds")


class Renderer:
    """Athena SQL; the engine renderers below refine the hooks."""

    dialect = "trino"

    def __init__(self, tables: dict[str, str]) -> None:
        self.tables = tables  # alias -> FROM item (already qualified and quoted for this dialect)

    # ------------------------------------------------------------------------------------------ leaves

    def ref(self, c: Col) -> exp.Expression:
        return exp.column(c.column.name, table=c.alias, quoted=True)

    def value(self, c: Col) -> exp.Expression:
        """The select-list expression giving the value Athena sees."""
        return self.ref(c)

    def operand(self, e: Expr) -> exp.Expression:
        """``e`` as it takes part in a comparison with Athena's semantics."""
        return self.expr(e)

    def literal(self, lit: Lit) -> exp.Expression:
        v, t = lit.value, lit.type
        if v is None:
            return exp.Null()
        if t.kind == "boolean":
            return exp.Boolean(this=bool(v))
        if t.kind == "varchar":
            return exp.Literal.string(v)
        if t.kind == "date":
            return exp.cast(exp.Literal.string(v.isoformat()), "DATE")
        if t.kind == "timestamp":
            return exp.cast(exp.Literal.string(_timestamp_text(v)), "TIMESTAMP")
        if t.kind == "double":
            return self.double(v)
        text = str(v) if not isinstance(v, Decimal) else format(v, "f")
        if text.startswith("-"):
            return exp.paren(exp.Neg(this=exp.Literal.number(text[1:])))
        return exp.Literal.number(text)

    def double(self, v: float) -> exp.Expression:
        text = repr(abs(float(v)))
        literal = exp.Literal.number(text if "e" in text else text + "e0")  # an exponent makes it a DOUBLE
        return exp.paren(exp.Neg(this=literal)) if str(v).startswith("-") else literal

    def expr(self, e: Expr) -> exp.Expression:
        if isinstance(e, Col):
            return self.ref(e)
        if isinstance(e, Lit):
            return self.literal(e)
        if isinstance(e, Arith):
            left, right = self.expr(e.left), self.expr(e.right)
            if e.op == "/":
                return exp.paren(exp.Div(this=left, expression=right, typed=True))
            return exp.paren(_ARITH[e.op](this=left, expression=right))
        if isinstance(e, Neg):
            return exp.paren(exp.Neg(this=self.expr(e.operand)))
        if isinstance(e, NullIf):
            return self.nullif(e)
        raise TypeError(e)

    def nullif(self, e: NullIf) -> exp.Expression:
        return exp.Nullif(this=self.expr(e.left), expression=self.expr(e.right))

    # ------------------------------------------------------------------------------------------ predicates

    def pred(self, p: Pred) -> exp.Expression:
        if isinstance(p, Cmp):
            return self.compare(p.op, p.left, p.right)
        if isinstance(p, Distinct):
            kind = exp.NullSafeEQ if p.negate else exp.NullSafeNEQ
            return exp.paren(kind(this=self.operand(p.left), expression=self.operand(p.right)))
        if isinstance(p, Between):
            return self.between(p)
        if isinstance(p, InList):
            found = self.in_list(p.value, p.items)
            return exp.paren(exp.not_(found)) if p.negate else found
        if isinstance(p, Like):
            return self.like(p)
        if isinstance(p, IsNull):
            test = exp.Is(this=self.expr(p.value), expression=exp.Null())
            return exp.paren(exp.not_(test) if p.negate else test)
        if isinstance(p, BoolCol):
            return self.boolean(p.column)
        if isinstance(p, Not):
            return exp.paren(exp.not_(self.pred(p.operand)))
        if isinstance(p, And):
            return exp.paren(exp.and_(*(self.pred(o) for o in p.operands)))
        if isinstance(p, Or):
            return exp.paren(exp.or_(*(self.pred(o) for o in p.operands)))
        if isinstance(p, IsUnknown):
            return exp.paren(exp.Is(this=exp.paren(self.pred(p.operand)), expression=exp.Null()))
        raise TypeError(p)

    def compare(self, op: str, left: Expr, right: Expr) -> exp.Expression:
        return exp.paren(_CMP[op](this=self.operand(left), expression=self.operand(right)))

    def between(self, p: Between) -> exp.Expression:
        node = exp.Between(this=self.operand(p.value), low=self.operand(p.low), high=self.operand(p.high))
        return exp.paren(exp.not_(node) if p.negate else node)

    def in_list(self, value: Expr, items: Sequence[Lit]) -> exp.Expression:
        return exp.paren(exp.In(this=self.operand(value), expressions=[self.operand(i) for i in items]))

    def like(self, p: Like) -> exp.Expression:
        return exp.paren(exp.Like(this=self.expr(p.value), expression=exp.Literal.string(p.pattern),
                                  negate=p.negate or None))

    def boolean(self, c: Col) -> exp.Expression:
        return self.ref(c)

    # ------------------------------------------------------------------------------------------ query

    def order_key(self, key: OrderKey) -> str:
        nulls = "" if key.nulls_first is None else (" NULLS FIRST" if key.nulls_first else " NULLS LAST")
        return f"{self.sort_operand(key.column).sql(self.dialect)} {'DESC' if key.descending else 'ASC'}{nulls}"

    def sort_operand(self, c: Col) -> exp.Expression:
        return self.ref(c)

    def aggregate(self, a: Aggregate) -> exp.Expression:
        if a.column is None:
            return exp.Count(this=exp.Star())
        if a.function == "count":
            return exp.Count(this=self.ref(a.column))
        if a.function == "sum":
            return exp.Sum(this=self.ref(a.column))
        return exp.Min(this=self.ref(a.column)) if a.function == "min" else exp.Max(this=self.ref(a.column))

    def group_value(self, c: Col) -> exp.Expression:
        return self.value(c)

    def group_key(self, c: Col) -> exp.Expression:
        return self.ref(c)

    def query(self, q: Query, *, limit: bool = True) -> str:
        if q.group or q.aggregates:
            items = [self.group_value(c) for c in q.group] + [self.aggregate(a) for a in q.aggregates]
        else:
            items = [self.value(c) for c in q.select]
        names = [exp.alias_(e, f"o{i}", quoted=True) for i, e in enumerate(items)]
        sql = f"SELECT {', '.join(n.sql(self.dialect) for n in names)} FROM {self.tables['t']}"
        if q.join:
            on = self.pred(q.join_on) if q.join_on is not None else exp.true()
            sql += f" {'LEFT ' if q.join == 'left' else ''}JOIN {self.tables['u']} ON {on.sql(self.dialect)}"
        if q.where is not None:
            sql += f" WHERE {self.pred(q.where).sql(self.dialect)}"
        if q.group:
            sql += " GROUP BY " + ", ".join(self.group_key(c).sql(self.dialect) for c in q.group)
        if q.order:
            sql += " ORDER BY " + ", ".join(self.order_key(k) for k in q.order)
        if limit and q.limit is not None:
            sql += f" LIMIT {q.limit}"
        return sql


AthenaRenderer = Renderer


# ------------------------------------------------------------------------------------------ engines


class EngineRenderer(Renderer):
    """What every engine shares: NaN-aware float comparisons, NULLIF through the Athena equality, NULL
    placement always written (Athena's default is NULLS LAST in both directions)."""

    def order_key(self, key: OrderKey) -> str:
        written = OrderKey(key.column, key.descending, bool(key.nulls_first))
        return super().order_key(written)

    def expr(self, e: Expr) -> exp.Expression:
        # a column inside an expression takes the value Athena sees (a truncated timestamp, SQLite's text...)
        return self.value(e) if isinstance(e, Col) else super().expr(e)

    #: The engine finds NaN = NaN and NaN > x (PostgreSQL, H2); SQLite cannot store NaN at all.
    nan_is_a_value = True

    def _is_nan(self, e: exp.Expression) -> exp.Expression:
        return exp.EQ(this=e, expression=exp.cast(exp.Literal.string("NaN"), "DOUBLE PRECISION"))

    def double(self, v: float) -> exp.Expression:
        return exp.cast(exp.Literal.string(repr(float(v))), "DOUBLE PRECISION")

    def compare(self, op: str, left: Expr, right: Expr) -> exp.Expression:
        plain = super().compare(op, left, right)
        if not (self.nan_is_a_value and left.type.kind == "double"):
            return plain
        a, b = self.operand(left), self.operand(right)
        unknown = exp.or_(exp.Is(this=a.copy(), expression=exp.Null()), exp.Is(this=b.copy(), expression=exp.Null()))
        nan = exp.or_(self._is_nan(a.copy()), self._is_nan(b.copy()))
        ifs = [exp.If(this=unknown, true=exp.Null()), exp.If(this=nan, true=exp.Boolean(this=op == "<>"))]
        return exp.Case(ifs=ifs, default=plain)

    def between(self, p: Between) -> exp.Expression:
        both = exp.and_(self.compare(">=", p.value, p.low), self.compare("<=", p.value, p.high))
        return exp.paren(exp.not_(exp.paren(both)) if p.negate else exp.paren(both))

    def in_list(self, value: Expr, items: Sequence[Lit]) -> exp.Expression:
        if not (self.nan_is_a_value and value.type.kind == "double"):
            return super().in_list(value, items)
        # x IN (a, b) is x = a OR x = b, each with Athena's NaN rule
        return exp.paren(exp.or_(*(self.compare("=", value, i) for i in items)))

    def nullif(self, e: NullIf) -> exp.Expression:
        same = self.compare("=", e.left, e.right)
        return exp.Case(ifs=[exp.If(this=same, true=exp.Null())], default=self.expr(e.left))

    # Sorting, min/max and grouping work on the operand Athena compares (binary text, truncated timestamps).
    def sort_operand(self, c: Col) -> exp.Expression:
        return self.operand(c)

    def aggregate(self, a: Aggregate) -> exp.Expression:
        if a.column is not None and a.function in ("min", "max"):
            inner = self.operand(a.column)
            return exp.Min(this=inner) if a.function == "min" else exp.Max(this=inner)
        return super().aggregate(a)

    def group_value(self, c: Col) -> exp.Expression:
        # every value of a group is the same string byte for byte: any of them (MIN) is the group's value
        return exp.Min(this=self.operand(c)) if c.type.kind == "varchar" else self.operand(c)

    def group_key(self, c: Col) -> exp.Expression:
        return self.operand(c)


def _like_regex(pattern: str) -> str:
    """A LIKE pattern (no escape character) as a Java regular expression over code points."""
    out = []
    for ch in pattern:
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch.isascii() and not ch.isalnum():
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "^" + "".join(out) + "\\z"


class SqliteRenderer(EngineRenderer):
    dialect = "sqlite"
    nan_is_a_value = False  # SQLite stores NaN as NULL

    def value(self, c: Col) -> exp.Expression:
        ref = self.ref(c)
        if c.column.form == "text":
            return exp.Cast(this=ref, to=exp.DataType.build("TEXT"))
        if c.column.form == "blob":
            return exp.Cast(this=ref, to=exp.DataType.build("BLOB"))
        if c.type.kind == "date":
            return exp.func("date", ref)
        if c.type.kind == "timestamp":
            return exp.func("strftime", exp.Literal.string("%Y-%m-%d %H:%M:%f"), ref)
        return ref

    def operand(self, e: Expr) -> exp.Expression:
        rendered = self.value(e) if isinstance(e, Col) else self.expr(e)
        if e.type.kind == "varchar":
            return exp.Collate(this=rendered, expression=exp.var("BINARY"))
        return rendered

    def literal(self, lit: Lit) -> exp.Expression:
        v, t = lit.value, lit.type
        if v is None:
            return exp.Null()
        if t.kind == "boolean":
            return exp.Literal.number(int(bool(v)))
        if t.kind == "date":
            return exp.Literal.string(v.isoformat())
        if t.kind == "timestamp":
            return exp.Literal.string(_timestamp_text(v))
        if t.kind == "double":
            literal = exp.Literal.number(repr(abs(float(v))))
            return exp.paren(exp.Neg(this=literal)) if str(v).startswith("-") else literal
        return super().literal(lit)

    def like(self, p: Like) -> exp.Expression:
        # case_sensitive_like is set on the oracle's connection; '\' escapes the pattern's own backslashes.
        pattern = p.pattern.replace("\\", "\\\\")
        node = exp.Escape(this=exp.Like(this=self.operand(p.value), expression=exp.Literal.string(pattern)),
                          expression=exp.Literal.string("\\"))
        return exp.paren(exp.not_(node) if p.negate else node)

    def boolean(self, c: Col) -> exp.Expression:
        return exp.paren(exp.EQ(this=self.ref(c), expression=exp.Literal.number(1)))


class PostgresRenderer(EngineRenderer):
    dialect = "postgres"

    def text(self, c: Col) -> exp.Expression:
        """The varchar Athena sees: citext as text, CHAR(n) padded (PostgreSQL drops the padding in casts)."""
        ref = self.ref(c)
        if c.column.form == "char":
            return exp.func("rpad", exp.Cast(this=ref, to=exp.DataType.build("TEXT")),
                            exp.Literal.number(c.column.length))
        if c.column.form == "citext":
            return exp.Cast(this=ref, to=exp.DataType.build("TEXT"))
        return ref

    def value(self, c: Col) -> exp.Expression:
        if c.type.kind == "varchar":
            return self.text(c)
        if c.type.kind == "timestamp":
            return exp.func("date_trunc", exp.Literal.string("milliseconds"), self.ref(c))
        return self.ref(c)

    def operand(self, e: Expr) -> exp.Expression:
        rendered = self.value(e) if isinstance(e, Col) else self.expr(e)
        if e.type.kind == "varchar":
            return exp.Collate(this=rendered, expression=exp.Identifier(this="C", quoted=True))
        return rendered

    def literal(self, lit: Lit) -> exp.Expression:
        if lit.value is not None and lit.type.kind == "timestamp":
            return exp.cast(exp.Literal.string(_timestamp_text(lit.value)), "TIMESTAMP")
        return super().literal(lit)

    def like(self, p: Like) -> exp.Expression:
        pattern = p.pattern.replace("\\", "\\\\")
        node = exp.Escape(this=exp.Like(this=self.operand(p.value), expression=exp.Literal.string(pattern)),
                          expression=exp.Literal.string("\\"))
        return exp.paren(exp.not_(node) if p.negate else node)


class H2Renderer(PostgresRenderer):
    def __init__(self, tables: dict[str, str]) -> None:
        super().__init__(tables)
        from adapters.jdbc.dialects.h2 import h2_sqlglot_dialect

        self.dialect = h2_sqlglot_dialect()()  # type: ignore[assignment]

    def value(self, c: Col) -> exp.Expression:
        if c.type.kind == "timestamp":
            return exp.func("DATE_TRUNC", exp.Literal.string("MILLISECOND"), self.ref(c))
        if c.column.form == "char":
            # H2 keeps CHAR(n) padded, and so does a cast to VARCHAR; a CASE over the CHAR drops the padding
            return exp.Cast(this=self.ref(c), to=exp.DataType.build("VARCHAR"))
        return self.ref(c)

    def operand(self, e: Expr) -> exp.Expression:
        rendered = self.value(e) if isinstance(e, Col) else self.expr(e)
        if e.type.kind == "varchar":
            return exp.Cast(this=rendered, to=exp.DataType.build("VARBINARY"))  # UTF-8, compared unsigned
        if e.type.kind == "double":
            # H2 stores -0.0 as 0.0 already; + 0.0 keeps it so for computed values too
            return rendered
        return rendered

    def like(self, p: Like) -> exp.Expression:
        node = exp.Anonymous(this="REGEXP_LIKE", expressions=[
            self.value(p.value) if isinstance(p.value, Col) else self.expr(p.value),
            exp.Literal.string(_like_regex(p.pattern)), exp.Literal.string("cn")])
        return exp.paren(exp.not_(node) if p.negate else node)

    def aggregate(self, a: Aggregate) -> exp.Expression:
        if a.column is not None and a.function in ("min", "max") and a.column.type.kind == "varchar":
            inner = self.operand(a.column)
            picked = exp.Min(this=inner) if a.function == "min" else exp.Max(this=inner)
            return exp.Anonymous(this="UTF8TOSTRING", expressions=[picked])
        return super().aggregate(a)

    def group_value(self, c: Col) -> exp.Expression:
        if c.type.kind == "varchar":
            return exp.Anonymous(this="UTF8TOSTRING", expressions=[exp.Min(this=self.operand(c))])
        return self.operand(c)


RENDERERS: dict[str, type[Renderer]] = {"sqlite": SqliteRenderer, "postgres": PostgresRenderer, "h2": H2Renderer}


def column_types(q: Query) -> list[AthenaType]:
    """The Athena types of the query's output columns, in order."""
    if q.group or q.aggregates:
        out = [c.type for c in q.group]
        for a in q.aggregates:
            if a.column is None or a.function == "count" or a.function == "sum":
                out.append(AthenaType("bigint"))
            else:
                out.append(a.column.type)
        return out
    return [c.type for c in q.select]


def output_columns(q: Query) -> list[Column | None]:
    if q.group or q.aggregates:
        return [c.column for c in q.group] + [a.column.column if a.column is not None and a.function in
                                               ("min", "max") else None for a in q.aggregates]
    return [c.column for c in q.select]

