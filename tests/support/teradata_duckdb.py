"""A stand-in for a Teradata database: DuckDB running the adapter's Teradata SQL after transpiling it.

No Teradata engine or wire-protocol emulator exists on this machine. This module lets the real adapter code -
its DBC catalog queries, split predicates, pushed filters, ``TOP n`` and CASE null ordering - run on a real
SQL engine through the same DB-API calls teradatasql receives. Every statement is first parsed with sqlglot's
Teradata dialect (so an unparseable statement fails the test), then rewritten for DuckDB:

* the DBC views (DatabasesVX, TablesVX, ColumnsVX, ColumnsqVX, IndicesVX, PartitioningConstraintsVX) are
  tables filled from the declared ``TdTable`` specs, with Teradata's type codes;
* ``PARTITION`` is a hidden column holding each row's partition number;
* ``HASHBUCKET(HASHROW(c1, ...))`` is DuckDB's ``hash(c1, ...) % 1048576`` (defined for NULLs too);
* ``a / b`` (only ever integer division here) truncates like Teradata's;
* ``=`` and ``IN`` on character columns follow Teradata's rules - trailing blanks ignored, and case ignored
  for NOT CASESPECIFIC columns - so the adapter's string prefilters are really supersets here too;
* ``{fn teradata_rpo(S)}`` (prepare only) returns the result description without rows, with teradatasql's
  ``columntypename``.

It is a test harness for SQL the adapter generates, not a Teradata emulator: what Teradata does differently
(collations, error codes...) is out of its reach and documented as unverified.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

PREPARE = "{fn teradata_rpo(S)}"
_COLUMNS = ("DatabaseName VARCHAR, TableName VARCHAR, ColumnName VARCHAR, ColumnType VARCHAR, ColumnLength INTEGER, "
            "DecimalTotalDigits SMALLINT, DecimalFractionalDigits SMALLINT, Nullable VARCHAR, CharType SMALLINT, "
            "ColumnUDTName VARCHAR, ColumnId SMALLINT")
#: The DBC views the adapter reads, as tables with the columns it uses.
DICTIONARY = {
    "DatabasesVX": "DatabaseName VARCHAR, DBKind VARCHAR",
    "TablesVX": "DatabaseName VARCHAR, TableName VARCHAR, TableKind VARCHAR",
    "ColumnsVX": _COLUMNS,
    "ColumnsqVX": _COLUMNS,
    "IndicesVX": "DatabaseName VARCHAR, TableName VARCHAR, IndexType VARCHAR, ColumnName VARCHAR, "
                 "ColumnPosition SMALLINT",
    "PartitioningConstraintsVX": "DatabaseName VARCHAR, TableName VARCHAR, ConstraintType VARCHAR, "
                                 "DefinedCombinedPartitions BIGINT, ColumnPartitioningLevel SMALLINT",
}


@dataclass(frozen=True)
class TdColumn:
    """A Teradata column: name, DBC type code and its size attributes."""

    name: str
    code: str
    length: int | None = None
    digits: int | None = None  # DecimalTotalDigits
    fraction: int | None = None  # DecimalFractionalDigits
    char_type: int | None = None  # 1 LATIN, 2 UNICODE
    casespecific: bool = False
    nullable: bool = True

    def duckdb_type(self) -> str:
        code = self.code
        if code in ("D", "N"):
            p = self.digits if self.digits and 1 <= self.digits <= 38 else 38
            s = self.fraction if self.fraction is not None and 0 <= self.fraction <= p else 10
            return f"DECIMAL({p},{s})"
        return {"I1": "TINYINT", "I2": "SMALLINT", "I": "INTEGER", "I8": "BIGINT", "F": "DOUBLE",
                "DA": "DATE", "TS": "TIMESTAMP", "SZ": "TIMESTAMPTZ", "AT": "TIME",
                "BF": "BLOB", "BV": "BLOB", "BO": "BLOB"}.get(code, "VARCHAR")

    @property
    def is_character(self) -> bool:
        return self.code in ("CF", "CV")


@dataclass
class TdTable:
    database: str
    name: str
    columns: Sequence[TdColumn]
    rows: Sequence[Sequence[Any]] = ()
    kind: str = "T"  # T table, O NoPI table, V view
    primary_index: Sequence[str] = ()
    partitions: int | None = None  # defined combined row partitions (PPI)
    partition_of: Callable[[Sequence[Any]], int] | None = None
    view_sql: str = ""  # DuckDB SELECT for views


@dataclass
class FakeTeradata:
    """One in-memory DuckDB database playing a Teradata system."""

    tables: Sequence[TdTable]
    statements: list[str] = field(default_factory=list)
    hide_columnsq: bool = False
    dictionary: bool = True  # create the DBC views

    def __post_init__(self) -> None:
        self.db = duckdb.connect(":memory:")
        self.db.execute("SET TimeZone = 'UTC'")
        self.character: dict[str, TdColumn] = {}
        self._build()

    # ------------------------------------------------------------------------------------------ set-up

    def _build(self) -> None:
        db = self.db
        self._rows: dict[str, list[list[Any]]] = {view: [] for view in DICTIONARY}
        for name in sorted({t.database for t in self.tables}):
            db.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
        for table in [t for t in self.tables if t.kind != "V"] + [t for t in self.tables if t.kind == "V"]:
            self._create(table)
        if not self.dictionary:
            return
        db.execute("CREATE SCHEMA DBC")
        for name in sorted({t.database for t in self.tables} | {"DBC", "SYSLIB"}):
            self._rows["DatabasesVX"].append([name, "D"])
        for view, columns in DICTIONARY.items():
            if view == "ColumnsqVX" and self.hide_columnsq:
                continue
            db.execute(f"CREATE TABLE DBC.{view} ({columns})")
            if self._rows[view]:
                marks = ", ".join("?" for _ in self._rows[view][0])
                db.executemany(f"INSERT INTO DBC.{view} VALUES ({marks})", self._rows[view])

    def _create(self, table: TdTable) -> None:
        db = self.db
        qualified = f'"{table.database}"."{table.name}"'
        if table.kind == "V":
            db.execute(f"CREATE VIEW {qualified} AS {table.view_sql}")
        else:
            definitions = [f'"{c.name}" {c.duckdb_type()}' for c in table.columns] + ["td_partition INTEGER"]
            db.execute(f"CREATE TABLE {qualified} ({', '.join(definitions)})")
            placeholders = ", ".join("?" for _ in range(len(table.columns) + 1))
            stored = [[*(_pad(v, c) for v, c in zip(row, table.columns, strict=True)),
                       table.partition_of(row) if table.partition_of else 0] for row in table.rows]
            if stored:
                db.executemany(f"INSERT INTO {qualified} VALUES ({placeholders})", stored)
        rows = self._rows
        rows["TablesVX"].append([table.database, table.name, table.kind])
        for i, c in enumerate(table.columns, 1):
            typed = [c.code, c.length, c.digits, c.fraction, "Y" if c.nullable else "N", c.char_type, None, i]
            untyped = [None, None, None, None, None, None, None, i]
            rows["ColumnsVX"].append([table.database, table.name, c.name,
                                      *(untyped if table.kind == "V" else typed)])
            rows["ColumnsqVX"].append([table.database, table.name, c.name, *typed])
            if c.is_character:
                self.character[c.name.lower()] = c
        for position, name in enumerate(table.primary_index, 1):
            rows["IndicesVX"].append([table.database, table.name, "Q" if table.partitions else "P", name, position])
        if table.partitions:
            rows["PartitioningConstraintsVX"].append([table.database, table.name, "Q", table.partitions, 0])

    # ------------------------------------------------------------------------------------------ DB-API

    def connection(self) -> Connection:
        return Connection(self)

    def translate(self, teradata_sql: str) -> str:
        """The DuckDB statement for a Teradata statement (which must parse as Teradata)."""
        tree = sqlglot.parse_one(teradata_sql, read="teradata")
        return tree.transform(self._rewrite).sql("duckdb")

    def _rewrite(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.upper() == "HASHBUCKET":
            inner = node.expressions[0]
            assert isinstance(inner, exp.Anonymous) and inner.name.upper() == "HASHROW"
            hashed = exp.Anonymous(this="hash", expressions=[e.copy() for e in inner.expressions])
            return exp.paren(exp.Mod(this=hashed, expression=exp.Literal.number(1048576)))
        if isinstance(node, exp.Column) and not node.this.quoted and node.name.upper() == "PARTITION":
            return exp.column("td_partition")
        if isinstance(node, exp.Div):
            return exp.IntDiv(this=node.this.copy(), expression=node.expression.copy())
        if isinstance(node, exp.EQ | exp.In) and isinstance(node.this, exp.Column):
            column = self.character.get(node.this.name.lower())
            if column is not None:
                values = [node.expression] if isinstance(node, exp.EQ) else node.expressions
                left = _teradata_text(node.this, column.casespecific)
                right = [_teradata_text(exp.Cast(this=v.copy(), to=exp.DataType.build("VARCHAR")),
                                        column.casespecific) for v in values]
                if isinstance(node, exp.EQ):
                    return exp.EQ(this=left, expression=right[0])
                return exp.In(this=left, expressions=right)
        return node


def _teradata_text(e: exp.Expression, casespecific: bool) -> exp.Expression:
    trimmed = exp.Anonymous(this="rtrim", expressions=[e.copy()])
    return trimmed if casespecific else exp.Upper(this=trimmed)


def _pad(value: Any, column: TdColumn) -> Any:
    """CHAR(n) values as Teradata returns them in a UTF8 session: padded past n (export width)."""
    if column.code == "CF" and isinstance(value, str) and column.length:
        return value.ljust(column.length * 3)
    return value


class Connection:
    def __init__(self, fake: FakeTeradata) -> None:
        self.fake = fake
        self.closed = False

    def cursor(self) -> Cursor:
        return Cursor(self.fake)

    def close(self) -> None:
        self.closed = True


class Cursor:
    def __init__(self, fake: FakeTeradata) -> None:
        self.fake = fake
        self.cursor = fake.db.cursor()
        self.description: list[tuple[Any, ...]] | None = None
        self.columntypename: list[str] = []
        self._prepared = False

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.fake.statements.append(sql)
        self._prepared = sql.startswith(PREPARE)
        text = sql[len(PREPARE):] if self._prepared else sql
        duck_sql = self.fake.translate(text)
        if self._prepared:
            duck_sql = f"SELECT * FROM ({duck_sql}) AS prepared LIMIT 0"
        try:
            self.cursor.execute(duck_sql, list(params or []))
        except duckdb.Error as e:
            raise TeradataLikeError(f"[Version 20.0.0.0] [Session 1] [Teradata Database] [Error 3706] "
                                    f"{str(e).splitlines()[0]}") from None
        described = self.cursor.description or []
        self.description = [(d[0], d[1], None, None, *_precision(str(d[1])), True) for d in described]
        self.columntypename = [_teradata_type(str(d[1])) for d in described]

    def fetchmany(self, size: int = 1) -> list[tuple[Any, ...]]:
        if self._prepared:
            return []
        return [tuple(r) for r in self.cursor.fetchmany(size)]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [] if self._prepared else [tuple(r) for r in self.cursor.fetchall()]

    def close(self) -> None:
        self.cursor.close()


class TeradataLikeError(Exception):
    """Raised with teradatasql's message layout so the adapter's error mapping is exercised."""


def _precision(duck_type: str) -> tuple[int | None, int | None]:
    match = re.match(r"DECIMAL\((\d+),\s*(\d+)\)", duck_type)
    if match:
        return int(match.group(1)), int(match.group(2))
    if duck_type in ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIME"):
        return None, 6
    return None, None


def _teradata_type(duck_type: str) -> str:
    if duck_type.startswith("DECIMAL"):
        return "DECIMAL"
    return {"TINYINT": "BYTEINT", "SMALLINT": "SMALLINT", "INTEGER": "INTEGER", "BIGINT": "BIGINT",
            "DOUBLE": "FLOAT", "VARCHAR": "VARCHAR", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP",
            "TIMESTAMP WITH TIME ZONE": "TIMESTAMP WITH TIME ZONE", "TIME": "TIME", "BLOB": "VARBYTE"
            }.get(duck_type, "VARCHAR")


__all__ = ["Connection", "Cursor", "FakeTeradata", "TdColumn", "TdTable", "TeradataLikeError"]
