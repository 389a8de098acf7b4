"""Hypothesis strategies: random tables shaped like users' real ones, and random Athena queries over them.

Tables mix every kind of column each engine offers for the traps that matter: collations (SQLite NOCASE and
RTRIM; PostgreSQL's ICU default, explicit ICU, C/POSIX/ucs_basic, a nondeterministic case-insensitive one,
citext, CHAR(n); H2's VARCHAR_IGNORECASE and CHAR(n), and a database-wide collation), SQLite columns with no
declared type holding integers, reals, text and blobs (also as a view's computed columns), wide decimals and
negative scales, NaN, infinities and -0.0, empty strings, trailing blanks, unicode (accents, decomposed forms,
astral characters), NULLs, dates around the epoch and in far years, timestamps finer than milliseconds.

Values an engine cannot hold are not generated for it (SQLite cannot store NaN; its REAL keeps 15 significant
digits, so its decimals have at most 15 unless they are integers it stores exactly).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tests.differential.model import (
    BIGINT,
    BOOLEAN,
    DATE,
    DOUBLE,
    INT_RANGE,
    INTEGER,
    TIMESTAMP,
    VARBINARY,
    VARCHAR,
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
    Like,
    Lit,
    Neg,
    Not,
    NullIf,
    Or,
    OrderKey,
    Pred,
    Query,
    Table,
    decimal_type,
    is_nan,
)

Draw = Callable[..., Any]

# ------------------------------------------------------------------------------------------ values

# Letters that collations fold together or order differently (case, accents, decomposed é, German ß and
# Turkish dotted I, the replacement character below an astral emoji in UTF-16 but not in code points), LIKE's
# own wildcards, a backslash, blanks and a newline.
ALPHABET = ["a", "A", "b", "B", "e", "é", "e\u0301", "E", "z", "Z", "ß", "İ", "0", "1", " ", "%", "_", "\\",
            "\ufffd", "\U0001f600", "\n", "-"]
WORDS = ["", "bob", "BOB", "Bob", "x", "x  ", " x", "é", "e\u0301", "straße", "STRASSE", "\U0001f600", "\ufffd",
         "a%b", "a_b", "a\\b", "special requests", "Special", "zz", "10", "9", "3", "3.0"]


def texts(max_size: int = 8) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(WORDS),
                     st.lists(st.sampled_from(ALPHABET), max_size=max_size).map("".join),
                     st.sampled_from(WORDS).map(lambda w: w + " " * 2))


def variants(word: str) -> list[str]:
    """Spellings collations fold together: case, trailing and leading blanks, decomposed accents."""
    import unicodedata

    forms = [word, word.upper(), word.lower(), word.title(), word + "  ", word.upper() + " ", " " + word,
             unicodedata.normalize("NFD", word), unicodedata.normalize("NFC", word)]
    return list(dict.fromkeys(forms))


@st.composite
def text_family(draw: Draw, max_size: int = 8) -> st.SearchStrategy[str]:
    """A column's strings: a few words in many spellings (so that equal-but-for-collation values meet), and
    some others."""
    words = draw(st.lists(texts(max_size), min_size=1, max_size=3))
    spellings = sorted({v for w in words for v in variants(w)})
    return st.one_of(st.sampled_from(spellings), st.sampled_from(spellings), texts(max_size))


def integers(kind: str) -> st.SearchStrategy[int]:
    low, high = INT_RANGE[kind]
    return st.one_of(st.integers(-5, 20), st.sampled_from([low, high, low + 1, high - 1, 0, -1]),
                     st.integers(low, high))


def doubles(*, nan: bool) -> st.SearchStrategy[float]:
    special = [0.0, -0.0, 1.5, -2.25, 0.1, 1e308, -1e308, 5e-324, float("inf"), float("-inf"), 3.0]
    if nan:
        special.append(float("nan"))
    return st.one_of(st.sampled_from(special), st.floats(allow_nan=nan, width=64).filter(lambda f: f == f or nan),
                     st.integers(-100, 100).map(float))


def decimals(precision: int, scale: int, *, max_digits: int = 38) -> st.SearchStrategy[Decimal]:
    """Values of NUMERIC(p, s) (negative s: whole multiples of 10**-s) with at most ``max_digits`` digits."""
    if scale < 0:
        whole = st.integers(-(10**precision) + 1, 10**precision - 1)
        return whole.map(lambda n: Decimal(f"{n}E{-scale}"))
    digits = min(precision, max_digits)
    limit = 10**digits - 1
    special = [n for n in (0, 1, -1, limit, -limit, 5, 50) if abs(n) <= limit]
    coefficient = st.one_of(st.sampled_from(special), st.integers(-limit, limit))
    return coefficient.map(lambda n: Decimal(f"{n}E{-scale}"))  # exact: scaleb would round to 28 digits


def dates() -> st.SearchStrategy[dt.date]:
    epoch = dt.date(1970, 1, 1)
    return st.one_of(st.sampled_from([epoch, dt.date(1969, 12, 31), dt.date(1, 1, 1), dt.date(9999, 12, 31),
                                      dt.date(1582, 10, 4), dt.date(1582, 10, 15), dt.date(2000, 2, 29)]),
                     st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
                     st.integers(-400, 400).map(lambda d: epoch + dt.timedelta(days=d)))


def timestamps(*, micros: bool) -> st.SearchStrategy[dt.datetime]:
    epoch = dt.datetime(1970, 1, 1)
    unit = 1 if micros else 1000
    near = st.integers(-3_000_000, 3_000_000).map(lambda n: epoch + dt.timedelta(microseconds=n * unit))
    far = st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59)).map(
        lambda v: v if micros else v.replace(microsecond=v.microsecond // 1000 * 1000))
    special = [epoch, epoch - dt.timedelta(microseconds=500 * unit if not micros else 500),
               dt.datetime(1969, 12, 31, 23, 59, 59, 999000), dt.datetime(1, 1, 1),
               dt.datetime(9999, 12, 31, 23, 59, 59, 999000)]
    return st.one_of(st.sampled_from(special), near, far)


def with_nulls(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values, values)

# ------------------------------------------------------------------------------------------ columns


class ColumnKind:
    """A way to declare a column on one engine, with the values it may hold (driver-ready)."""

    def __init__(self, ddl: str, athena: AthenaType | None, values: st.SearchStrategy[Any], *, form: str = "plain",
                 length: int = 0, collation: str = "") -> None:
        self.ddl, self.athena, self.values, self.form = ddl, athena, values, form
        self.length, self.collation = length, collation


def _sqlite_decimal(draw: Draw) -> ColumnKind:
    precision = draw(st.sampled_from([5, 10, 15, 18, 38]))
    scale = draw(st.integers(0, min(precision, 10)))
    exact = min(precision, 15)  # SQLite keeps decimals as REAL (15 digits) or INTEGER (exact)
    values = st.one_of(decimals(exact, min(scale, exact)),
                       st.integers(-(10 ** min(precision - scale, 18)) + 1, 10 ** min(precision - scale, 18) - 1))
    return ColumnKind(f"DECIMAL({precision},{scale})", decimal_type(precision, scale),
                      values.map(lambda v: str(v)))


def _sqlite_text(v: dt.date | dt.datetime) -> str:
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ", timespec="milliseconds")
    return v.isoformat()


UNTYPED_MIXES: dict[str, st.SearchStrategy[Any]] = {
    "integers": integers("bigint"),
    "numbers": st.one_of(integers("bigint").filter(lambda v: abs(v) <= 2**53), doubles(nan=False)),
    "text": texts(),
    "mixed": st.one_of(st.integers(-20, 20), st.sampled_from([3.0, 0.5, 1e20, 0.1 + 0.2]), texts(),
                       st.sampled_from(["3", " 3", "3.0", "abc"]).map(lambda s: s.encode())),
    "blobs": st.binary(max_size=4),
}


@st.composite
def sqlite_kind(draw: Draw) -> ColumnKind:
    choice = draw(st.sampled_from(["int", "real", "decimal", "text", "nocase", "rtrim", "json", "bool", "date",
                                   "timestamp", "blob", "untyped", "untyped"]))
    if choice == "int":
        return ColumnKind(draw(st.sampled_from(["INTEGER", "INT", "BIGINT"])), BIGINT, integers("bigint"))
    if choice == "real":
        return ColumnKind(draw(st.sampled_from(["REAL", "DOUBLE"])), DOUBLE, doubles(nan=False))
    if choice == "decimal":
        return _sqlite_decimal(draw)
    if choice in ("text", "nocase", "rtrim"):
        collation = {"text": draw(st.sampled_from(["", "BINARY"])), "nocase": "NOCASE", "rtrim": "RTRIM"}[choice]
        ddl = draw(st.sampled_from(["TEXT", "VARCHAR(20)", "CLOB"])) + (f" COLLATE {collation}" if collation else "")
        return ColumnKind(ddl, VARCHAR, draw(text_family()), collation=collation)
    if choice == "json":  # NUMERIC affinity: numeric-looking text is stored as a number
        return ColumnKind(draw(st.sampled_from(["JSON", "STRING"])), VARCHAR,
                          st.one_of(texts(), st.sampled_from(["3", "3.0", "1e2", "-0", "007"])), form="text")
    if choice == "bool":
        return ColumnKind("BOOLEAN", BOOLEAN, st.sampled_from([0, 1]))
    if choice == "date":
        return ColumnKind("DATE", DATE, dates().map(_sqlite_text))
    if choice == "timestamp":
        return ColumnKind(draw(st.sampled_from(["TIMESTAMP", "DATETIME"])), TIMESTAMP,
                          timestamps(micros=False).map(_sqlite_text))
    if choice == "blob":
        return ColumnKind("BLOB", VARBINARY, st.binary(max_size=4), form="blob")
    mix = draw(st.sampled_from(sorted(UNTYPED_MIXES)))
    return ColumnKind("", None, UNTYPED_MIXES[mix])  # type decided by the stored values


PG_TEXT_COLLATIONS = ["", "", '"C"', '"POSIX"', '"ucs_basic"', '"en-US-x-icu"', '"und-x-icu"', "afq_ci"]


@st.composite
def postgres_kind(draw: Draw) -> ColumnKind:
    choice = draw(st.sampled_from(["bigint", "integer", "double", "numeric", "numeric", "text", "text", "text",
                                   "citext", "citext", "char", "bool", "date", "timestamp"]))
    if choice in ("bigint", "integer"):
        return ColumnKind(choice.upper(), BIGINT if choice == "bigint" else INTEGER, integers(choice))
    if choice == "double":
        return ColumnKind("DOUBLE PRECISION", DOUBLE, doubles(nan=True))
    if choice == "numeric":
        precision = draw(st.sampled_from([1, 3, 5, 12, 20, 28, 38]))
        scale = draw(st.one_of(st.integers(0, precision), st.integers(-3, -1), st.integers(precision, precision + 3)))
        if max(precision - scale, scale) > 38:  # beyond Athena's 38 digits: reading fails, by design
            scale = 0
        athena_precision = max(precision - scale, 1) if scale < 0 else max(precision, scale)
        athena = decimal_type(min(athena_precision, 38), max(scale, 0))
        return ColumnKind(f"NUMERIC({precision},{scale})", athena, decimals(precision, scale))
    if choice == "text":
        collation = draw(st.sampled_from(PG_TEXT_COLLATIONS))
        ddl = draw(st.sampled_from(["TEXT", "VARCHAR(20)"])) + (f" COLLATE {collation}" if collation else "")
        return ColumnKind(ddl, VARCHAR, draw(text_family()), collation=collation)
    if choice == "citext":
        return ColumnKind("CITEXT", VARCHAR, draw(text_family()), form="citext", collation="citext")
    if choice == "char":
        return ColumnKind("CHAR(4)", VARCHAR, draw(text_family(4)).map(lambda s: s[:4].rstrip(" ")), form="char",
                          length=4)
    if choice == "bool":
        return ColumnKind("BOOLEAN", BOOLEAN, st.booleans())
    if choice == "date":
        return ColumnKind("DATE", DATE, dates())
    return ColumnKind("TIMESTAMP", TIMESTAMP, timestamps(micros=True))


@st.composite
def h2_kind(draw: Draw) -> ColumnKind:
    choice = draw(st.sampled_from(["bigint", "integer", "double", "numeric", "varchar", "varchar", "ignorecase",
                                   "ignorecase", "char", "bool", "date", "timestamp"]))
    if choice in ("bigint", "integer"):
        return ColumnKind(choice.upper(), BIGINT if choice == "bigint" else INTEGER, integers(choice))
    if choice == "double":
        return ColumnKind("DOUBLE PRECISION", DOUBLE, doubles(nan=True))
    if choice == "numeric":
        precision = draw(st.sampled_from([1, 5, 12, 20, 38]))
        scale = draw(st.integers(0, precision))
        return ColumnKind(f"NUMERIC({precision},{scale})", decimal_type(precision, scale), decimals(precision, scale))
    if choice == "varchar":
        return ColumnKind("VARCHAR(40)", VARCHAR, draw(text_family()))
    if choice == "ignorecase":
        return ColumnKind("VARCHAR_IGNORECASE(40)", VARCHAR, draw(text_family()), collation="IGNORECASE")
    if choice == "char":  # H2 counts CHAR(n) in UTF-16 units (an emoji takes two)
        return ColumnKind("CHAR(4)", VARCHAR, draw(text_family(4)).map(lambda s: _utf16_prefix(s, 4).rstrip(" ")),
                          form="char", length=4)
    if choice == "bool":
        return ColumnKind("BOOLEAN", BOOLEAN, st.booleans())
    if choice == "date":
        return ColumnKind("DATE", DATE, dates())
    return ColumnKind("TIMESTAMP(6)", TIMESTAMP, timestamps(micros=True))


def _utf16_prefix(text: str, units: int) -> str:
    out = ""
    for ch in text:
        if len((out + ch).encode("utf-16-le")) // 2 > units:
            break
        out += ch
    return out


KINDS: dict[str, Callable[[], st.SearchStrategy[ColumnKind]]] = {
    "sqlite": sqlite_kind, "postgres": postgres_kind, "h2": h2_kind}

# SQLite views: computed columns have no declared type (over base columns of the named kinds)
VIEW_COLUMNS = [
    ("INTEGER", "{c} % 10"), ("INTEGER", "{c} * 2"), ("INTEGER", "CASE WHEN {c} > 0 THEN {c} ELSE 'neg' END"),
    ("TEXT", "{c} || ''"), ("TEXT", "upper({c})"), ("REAL", "{c} / 2"),
]


@st.composite
def tables(draw: Draw, engine: str, name: str) -> tuple[Table, list[ColumnKind]]:
    """A table for ``engine``: columns c0..cN (and, on SQLite sometimes, a view with computed columns)."""
    kinds = draw(st.lists(KINDS[engine](), min_size=2, max_size=6))
    key = ColumnKind("BIGINT" if engine != "sqlite" else "INTEGER", BIGINT, st.integers(0, 6))  # a join key
    kinds = [key, *kinds]
    columns = [Column(f"c{i}", k.athena or VARCHAR, k.ddl, k.form, k.length, k.collation)  # type: ignore[arg-type]
               for i, k in enumerate(kinds)]
    rows = draw(st.lists(st.tuples(*(with_nulls(k.values) for k in kinds)), min_size=3, max_size=30))
    table = Table(name, columns, [tuple(r) for r in rows])
    if engine == "sqlite" and draw(st.booleans()):
        computed = []
        for i, (base_kind, template) in enumerate(draw(st.lists(st.sampled_from(VIEW_COLUMNS), min_size=1,
                                                                max_size=3))):
            base = next((c for c in columns if base_kind in c.ddl.upper() and c.ddl.upper().startswith(base_kind)),
                        None)
            if base is None:
                continue
            computed.append(Column(f"v{i}", VARCHAR, "", computed=template.format(c=f'"{base.name}"')))
        if computed:
            table = Table(name, columns + computed, table.rows, view_of=f"{name}_base")
    return table, kinds

# ------------------------------------------------------------------------------------------ queries


class QueryGen:
    """Random predicates and queries over a table whose exposed types and values are known."""

    def __init__(self, draw: Draw, table: Table, values: dict[str, list[Any]], engine: str) -> None:
        self.draw, self.table, self.values, self.engine = draw, table, values, engine

    # ------------------------------------------------------------------------------------------ literals

    def literal(self, t: AthenaType, column: str | None = None) -> Lit:
        draw = self.draw
        seen = [v for v in self.values.get(column or "", []) if v is not None and not is_nan(v)]
        if seen and draw(st.integers(0, 3)):
            value = draw(st.sampled_from(seen))
            if t.kind == "double" and value in (float("inf"), float("-inf")):
                value = 1e308 if value > 0 else -1e308
            if t.kind == "varchar" and "\x00" in value:
                value = value.replace("\x00", "")
            return self._typed(value, t)
        return self._typed(self._fresh(t), t)

    def _fresh(self, t: AthenaType) -> Any:
        draw = self.draw
        if t.kind in ("bigint", "integer"):
            return draw(st.one_of(st.integers(-5, 20), integers(t.kind)))
        if t.kind == "double":
            return draw(st.sampled_from([0.0, 1.5, -2.25, 0.1, 1e308, 3.0, -1.0]))
        if t.kind == "decimal":
            digits = min(t.precision, 15) if self.engine == "sqlite" else t.precision
            # A literal may have more decimals than the column (issue 16), as long as the comparison's common
            # type still fits 38 digits (beyond, Athena itself fails to cast the column's values).
            extra = draw(st.integers(0, 2))
            scale = min(t.scale + extra, digits, 38 - (t.precision - t.scale))
            return draw(decimals(digits, scale))
        if t.kind == "varchar":
            return draw(texts())
        if t.kind == "boolean":
            return draw(st.booleans())
        if t.kind == "date":
            return draw(dates())
        if t.kind == "timestamp":
            return draw(timestamps(micros=False))
        raise TypeError(t)

    def _typed(self, value: Any, t: AthenaType) -> Lit:
        if t.kind in ("bigint", "integer"):
            low, high = INT_RANGE["integer"]
            return Lit(value, INTEGER if low <= value <= high else BIGINT)
        if t.kind == "decimal":
            value = Decimal(value)
            _sign, digits, exponent = value.as_tuple()
            assert isinstance(exponent, int)
            if exponent > 0:
                value = value.quantize(Decimal(1))
                _sign, digits, exponent = value.as_tuple()
                assert isinstance(exponent, int)
            scale = max(0, -exponent)
            return Lit(value, decimal_type(max(len(digits), scale, 1), scale))
        if t.kind == "timestamp" and isinstance(value, dt.datetime):
            value = value.replace(microsecond=value.microsecond // 1000 * 1000)
        return Lit(value, t)

    # ------------------------------------------------------------------------------------------ predicates

    def columns(self, *kinds: str) -> list[Column]:
        return [c for c in self.table.columns if (not kinds or c.type.kind in kinds)]

    def column_expr(self, column: Column, alias: str = "t") -> Expr:
        draw = self.draw
        ref = Col(column, alias)
        if column.type.integral and draw(st.integers(0, 4)) == 0:
            return self.arithmetic(ref)
        if column.type.numeric and column.type.kind != "decimal" and draw(st.integers(0, 9)) == 0:
            return Neg(ref)
        if draw(st.integers(0, 9)) == 0 and column.type.orderable:
            return NullIf(ref, self.literal(column.type, column.name))
        return ref

    def arithmetic(self, ref: Col) -> Expr:
        draw = self.draw
        op = draw(st.sampled_from(["+", "-", "*", "/", "%"]))
        amount = draw(st.integers(2, 9) if op in ("/", "%") else st.integers(-9, 9))
        lit = Lit(amount, INTEGER)
        result = INTEGER if ref.type.kind == "integer" else BIGINT
        return Arith(op, ref, lit, result)

    def predicate(self, depth: int = 0, alias: str = "t") -> Pred:
        draw = self.draw
        if depth < 2 and draw(st.integers(0, 3)) == 0:
            shape = draw(st.sampled_from(["and", "or", "not"]))
            if shape == "not":
                return Not(self.predicate(depth + 1, alias))
            parts = tuple(self.predicate(depth + 1, alias) for _ in range(draw(st.integers(2, 3))))
            return And(parts) if shape == "and" else Or(parts)
        return self.atom(alias)

    def atom(self, alias: str = "t") -> Pred:
        draw = self.draw
        column = draw(st.sampled_from(self.table.columns))
        t = column.type
        ref = Col(column, alias)
        if t.kind == "varbinary":
            return IsNull(ref, draw(st.booleans()))
        forms = ["cmp", "cmp", "in", "between", "distinct", "null"]
        if t.kind == "varchar":
            forms += ["like", "like", "like"]
        if t.kind == "boolean":
            forms += ["bool", "bool"]
        peers = [c for c in self.table.columns if c is not column and c.type.comparable_with(t) and (
            c.type.kind != "varchar" or t.kind == "varchar")]
        if peers:
            forms.append("columns")
        form = draw(st.sampled_from(forms))
        negate = draw(st.booleans())
        if form == "bool":
            return BoolCol(ref)
        if form == "null":
            return IsNull(self.column_expr(column, alias), negate)
        if form == "like":
            return Like(ref, self.pattern(column), negate)
        if form == "in":
            items = [self.literal(t, column.name) for _ in range(draw(st.integers(1, 4)))]
            if draw(st.integers(0, 4)) == 0:
                items.append(Lit(None, t))
            return InList(self.column_expr(column, alias), tuple(self._same_type(items, t)), negate)
        if form == "between":
            low, high = self.literal(t, column.name), self.literal(t, column.name)
            return Between(self.column_expr(column, alias), low, high, negate)
        if form == "columns":
            other = Col(draw(st.sampled_from(peers)), alias)
            op = draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">=", "distinct"]))
            if op == "distinct":
                return Distinct(ref, other, negate)
            return Cmp(op, ref, other)
        if form == "distinct":
            return Distinct(self.column_expr(column, alias), self.literal(t, column.name), negate)
        op = draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
        lit = self.literal(t, column.name)
        left = self.column_expr(column, alias)
        return Cmp(op, lit, left) if draw(st.booleans()) else Cmp(op, left, lit)

    def _same_type(self, items: list[Lit], t: AthenaType) -> list[Lit]:
        """IN lists of one literal type: Athena coerces them to a common type the planner must then match."""
        if t.kind == "decimal":
            return [i for i in items if i.value is None or i.type.scale <= t.scale] or [Lit(None, t)]
        return items

    def pattern(self, column: Column) -> str:
        draw = self.draw
        seen = [v for v in self.values.get(column.name, []) if isinstance(v, str)]
        base = draw(st.sampled_from(seen)) if seen and draw(st.booleans()) else draw(texts(4))
        if base and draw(st.booleans()):
            start = draw(st.integers(0, len(base)))
            end = draw(st.integers(start, len(base)))
            base = base[start:end]
        shape = draw(st.sampled_from(["%{}%", "{}%", "%{}", "{}", "_{}", "{}_", "%{}_%"]))
        pattern = shape.format(base)
        if draw(st.integers(0, 3)) == 0 and pattern:  # a wildcard inside
            i = draw(st.integers(0, len(pattern) - 1))
            pattern = pattern[:i] + draw(st.sampled_from(["_", "%"])) + pattern[i + 1:]
        return pattern

    # ------------------------------------------------------------------------------------------ queries

    def query(self) -> Query:
        draw = self.draw
        shape = draw(st.sampled_from(["rows", "rows", "topn", "topn", "aggregate", "join"]))
        where = self.predicate() if draw(st.integers(0, 5)) else None
        everything = [Col(c) for c in self.table.columns]
        if shape == "topn":
            orderable = [c for c in self.table.columns if c.type.orderable]
            keys = draw(st.lists(st.sampled_from(orderable), min_size=1, max_size=2, unique_by=lambda c: c.name))
            order = [OrderKey(Col(c), draw(st.booleans()), draw(st.sampled_from([None, True, False]))) for c in keys]
            return Query(everything, where, order, draw(st.integers(1, 6)))
        if shape == "aggregate":
            groupable = [c for c in self.table.columns if c.type.kind in ("bigint", "integer", "varchar", "boolean",
                                                                          "date", "decimal")]
            group = [Col(draw(st.sampled_from(groupable)))] if groupable and draw(st.booleans()) else []
            aggregates = [Aggregate("count", None)]
            for _ in range(draw(st.integers(1, 3))):
                column = draw(st.sampled_from(self.table.columns))
                function = draw(st.sampled_from(["count", "min", "max", "sum"]))
                if function == "sum" and not column.type.integral:
                    function = "count"
                if function in ("min", "max") and column.type.kind in ("double", "varbinary", "boolean"):
                    function = "count"
                aggregates.append(Aggregate(function, Col(column)))
            return Query([], where, group=group, aggregates=aggregates)
        if shape == "join":
            keys = [c for c in self.table.columns if c.type.kind in ("bigint", "integer")]
            key = keys[0]
            kind = draw(st.sampled_from(["inner", "left"]))
            on: Pred = Cmp("=", Col(key, "t"), Col(key, "u"))
            if draw(st.booleans()):
                on = And((on, self.predicate(1, alias="u")))
            picked = draw(st.lists(st.sampled_from(self.table.columns), min_size=1, max_size=3))
            select = [Col(c, "t") for c in picked] + [Col(c, "u") for c in picked[:1]]
            return Query(select, where, join=kind, join_on=on)  # type: ignore[arg-type]
        return Query(everything, where)


def rows_of(values: dict[str, list[Any]], names: Sequence[str]) -> list[tuple[Any, ...]]:
    return list(zip(*(values[n] for n in names), strict=True))
