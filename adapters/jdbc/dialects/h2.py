"""H2 (embedded) behind JDBC: Java string semantics, its type names and its sqlglot dialect."""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

import pyarrow as pa
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from adapters.jdbc.dialects.generic import JdbcDialect
from adapters.sql.types import TIMESTAMP, TIMESTAMP_TZ, VARCHAR
from connector.pushdown.sql import SourceColumn, SqlDialect, is_string


@cache
def h2_sqlglot_dialect() -> type[Dialect]:
    """sqlglot has no H2 dialect: PostgreSQL's syntax, with NULLS FIRST/LAST always written out (H2's default
    null ordering is configurable per database, so it is never assumed)."""
    from sqlglot.dialects.postgres import Postgres

    class H2(Postgres):
        NULL_ORDERING = "nulls_are_small"

        class Generator(Postgres.Generator):  # type: ignore[misc,valid-type]
            def ordered_sql(self, expression: exp.Ordered) -> str:
                direction = " DESC" if expression.args.get("desc") else " ASC"
                nulls = " NULLS FIRST" if expression.args.get("nulls_first") else " NULLS LAST"
                return f"{self.sql(expression, 'this')}{direction}{nulls}"

    return H2


class H2Dialect(JdbcDialect):
    """H2 (embedded): Java string semantics - equality is exact, but ordering follows UTF-16 code units and
    LIKE's ``_`` matches one UTF-16 unit, so string ordering and ``_`` patterns stay in the framework."""

    exact_string_ordering = False
    max_bind_parameters = 65535  # H2 sets no limit of its own (100,000 measured); kept at PostgreSQL's
    native_distinct = True
    text_values = True
    type_names: ClassVar[dict[str, Any]] = {
        "TINYINT": pa.int8(), "SMALLINT": pa.int16(), "INTEGER": pa.int32(), "BIGINT": pa.int64(),
        "REAL": pa.float32(), "DOUBLE PRECISION": pa.float64(), "BOOLEAN": pa.bool_(),
        "CHARACTER VARYING": VARCHAR, "VARCHAR_IGNORECASE": VARCHAR, "CHARACTER LARGE OBJECT": VARCHAR,
        "DATE": pa.date32(), "TIMESTAMP": TIMESTAMP, "TIMESTAMP WITH TIME ZONE": TIMESTAMP_TZ,
        "BINARY VARYING": pa.binary(), "BINARY LARGE OBJECT": pa.binary(),
        "UUID": VARCHAR, "JSON": VARCHAR, "TIME": VARCHAR, "TIME WITH TIME ZONE": VARCHAR,
    }
    padded_type_names = frozenset({"character", "char", "varchar_ignorecase"})
    tables_sql = ("SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? "
                  "ORDER BY TABLE_NAME")
    tables_page_sql = tables_sql + " LIMIT ? OFFSET ?"
    # H2 has one collation per database (SET COLLATION ...), reported on every column; OFF is Java's
    # String.equals / compareTo. Under any other one, = and LIKE follow the collator ('bob' = 'BOB' at
    # STRENGTH PRIMARY), so string comparisons stay in the framework.
    collations_sql = ("SELECT COLUMN_NAME, COLLATION_NAME FROM INFORMATION_SCHEMA.COLUMNS "
                      "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")

    def can_compare_column(self, column: SourceColumn, *, ordering: bool) -> bool:
        if is_string(column.type) and column.collation.upper() not in ("", "OFF"):
            return False
        return super().can_compare_column(column, ordering=ordering)

    def can_like_column(self, column: SourceColumn) -> bool:
        return column.collation.upper() in ("", "OFF") and super().can_like_column(column)

    def sqlglot(self) -> Dialect:
        return h2_sqlglot_dialect()()

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        return SqlDialect.can_compare(self, t, ordering=ordering)

    def can_like_pattern(self, pattern: str) -> bool:
        return "_" not in pattern

    def truncate_to_millis(self, e: exp.Expression) -> exp.Expression | None:
        return exp.Anonymous(this="DATE_TRUNC", expressions=[exp.Literal.string("MILLISECOND"), e])
