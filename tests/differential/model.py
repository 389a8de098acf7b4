"""What the fuzzer generates: tables (columns as Athena should see them, plus how the engine declares them) and
queries as a small typed tree that renders to Athena SQL and to each engine's SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any, Literal

# ------------------------------------------------------------------------------------------ types


@dataclass(frozen=True)
class AthenaType:
    """An Athena type: bigint, integer, double, decimal(p,s), varchar, boolean, date, timestamp, varbinary."""

    kind: str
    precision: int = 0
    scale: int = 0

    @property
    def sql(self) -> str:
        return f"decimal({self.precision},{self.scale})" if self.kind == "decimal" else self.kind

    @property
    def integral(self) -> bool:
        return self.kind in ("bigint", "integer")

    @property
    def numeric(self) -> bool:
        return self.kind in ("bigint", "integer", "double", "decimal")

    @property
    def orderable(self) -> bool:
        return self.kind != "varbinary"

    def comparable_with(self, other: AthenaType) -> bool:
        if self.numeric and other.numeric:
            # double against decimal is legal in Athena but compares as double: kept out (no exact oracle)
            return (self.kind == "double") == (other.kind == "double")
        return self.kind == other.kind


BIGINT, INTEGER, DOUBLE = AthenaType("bigint"), AthenaType("integer"), AthenaType("double")
VARCHAR, BOOLEAN, DATE = AthenaType("varchar"), AthenaType("boolean"), AthenaType("date")
TIMESTAMP, VARBINARY = AthenaType("timestamp"), AthenaType("varbinary")


def decimal_type(precision: int, scale: int) -> AthenaType:
    return AthenaType("decimal", precision, scale)


INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}

# ------------------------------------------------------------------------------------------ tables

#: How an engine's stored value becomes the value Athena sees: as it is; SQLite's ``CAST(x AS TEXT)`` (a
#: varchar column without TEXT affinity) or ``CAST(x AS BLOB)``; citext read as text; CHAR(n) padded.
Form = Literal["plain", "text", "blob", "citext", "char"]


@dataclass(frozen=True)
class Column:
    name: str
    type: AthenaType  # what Athena should see (SQLite untyped columns: decided from the stored values)
    ddl: str  # the declared type as the engine is told (may carry COLLATE ...); "" for none
    form: Form = "plain"
    length: int = 0  # CHAR(n)
    collation: str = ""  # the collation the engine applies, for messages and the renderers
    computed: str = ""  # SQLite view column: the expression over the base table


@dataclass
class Table:
    name: str
    columns: list[Column]
    rows: list[tuple[Any, ...]]  # values as the engine's driver takes them, in column order
    view_of: str = ""  # SQLite: the table is a view over this base table (computed columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

# ------------------------------------------------------------------------------------------ expressions


@dataclass(frozen=True)
class Col:
    column: Column
    alias: str = "t"

    @property
    def type(self) -> AthenaType:
        return self.column.type


@dataclass(frozen=True)
class Lit:
    value: Any  # None for NULL
    type: AthenaType


@dataclass(frozen=True)
class Arith:
    op: str  # + - * / %
    left: Expr
    right: Expr
    type: AthenaType


@dataclass(frozen=True)
class Neg:
    operand: Expr

    @property
    def type(self) -> AthenaType:
        return self.operand.type


@dataclass(frozen=True)
class NullIf:
    left: Expr
    right: Expr

    @property
    def type(self) -> AthenaType:
        return self.left.type


Expr = Col | Lit | Arith | Neg | NullIf

# ------------------------------------------------------------------------------------------ predicates


@dataclass(frozen=True)
class Cmp:
    op: str  # = <> < <= > >=
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Distinct:
    left: Expr
    right: Expr
    negate: bool  # IS NOT DISTINCT FROM


@dataclass(frozen=True)
class Between:
    value: Expr
    low: Expr
    high: Expr
    negate: bool  # infix NOT BETWEEN


@dataclass(frozen=True)
class InList:
    value: Expr
    items: tuple[Lit, ...]
    negate: bool  # infix NOT IN


@dataclass(frozen=True)
class Like:
    value: Expr
    pattern: str
    negate: bool  # infix NOT LIKE


@dataclass(frozen=True)
class IsNull:
    value: Expr
    negate: bool  # IS NOT NULL


@dataclass(frozen=True)
class BoolCol:
    column: Col


@dataclass(frozen=True)
class Not:
    operand: Pred


@dataclass(frozen=True)
class And:
    operands: tuple[Pred, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Pred, ...]


@dataclass(frozen=True)
class IsUnknown:
    """``(P) IS NULL``: the rows where P is neither true nor false (the third part of a TLP partition)."""

    operand: Pred


Pred = Cmp | Distinct | Between | InList | Like | IsNull | BoolCol | Not | And | Or | IsUnknown

# ------------------------------------------------------------------------------------------ queries


@dataclass(frozen=True)
class OrderKey:
    column: Col
    descending: bool
    nulls_first: bool | None  # None: not written (Athena's default, NULLS LAST)


@dataclass(frozen=True)
class Aggregate:
    function: str  # count, min, max, sum
    column: Col | None  # None: count(*)


@dataclass
class Query:
    """SELECT ... FROM <table> t [JOIN <table in another catalog> u ON ...] [WHERE] [GROUP BY] [ORDER BY LIMIT]."""

    select: list[Col]
    where: Pred | None = None
    order: list[OrderKey] = field(default_factory=list)
    limit: int | None = None
    group: list[Col] = field(default_factory=list)
    aggregates: list[Aggregate] = field(default_factory=list)
    join: Literal["", "inner", "left"] = ""
    join_on: Pred | None = None  # over t and u

    def with_where(self, where: Pred | None) -> Query:
        return Query(self.select, where, self.order, self.limit, self.group, self.aggregates, self.join,
                     self.join_on)


def is_nan(v: Any) -> bool:
    return isinstance(v, float) and v != v


_WIDE = Context(prec=100)


def canonical(v: Any) -> Any:
    """A hashable form equal exactly when Athena shows the same value (NaN == NaN, -0.0 == 0.0, 1.50 == 1.5)."""
    if is_nan(v):
        return ("NaN",)
    if isinstance(v, float) and v == 0:
        return 0.0
    if isinstance(v, Decimal):
        return ("decimal", v.normalize(_WIDE) if v else Decimal(0))  # the default context would round to 28
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return ("tz", v.astimezone(dt.UTC).replace(tzinfo=None))
    if isinstance(v, bytearray | memoryview):
        return bytes(v)
    return v
