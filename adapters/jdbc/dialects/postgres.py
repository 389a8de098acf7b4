"""PostgreSQL behind JDBC: code point string comparisons through ``COLLATE \"C\"``, its type names and
NUMERIC's negative scales, throttling and timeout SQLSTATEs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

import pyarrow as pa
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from adapters.jdbc.dialects.generic import JdbcDialect, jdbc_type_rule
from adapters.sql.types import TIMESTAMP, TIMESTAMP_TZ, VARCHAR, ColumnInfo, TypeMap
from connector.pushdown.sql import SourceColumn, SqlDialect, is_string

_NUMERIC_SCALE_SIGN = 1024  # the sign bit of NUMERIC's 11-bit scale field

#: PostgreSQL collations that compare UTF-8 text bytewise, i.e. by code point as Athena does.
POSTGRES_BINARY_COLLATIONS = frozenset({"C", "POSIX", "ucs_basic", "pg_c_utf8"})
#: PostgreSQL types whose =, < and LIKE ignore case whatever the collation (the citext extension).
POSTGRES_CASE_INSENSITIVE_TYPES = frozenset({"citext"})


class PostgresDialect(JdbcDialect):
    """PostgreSQL: strings ordered with ``COLLATE "C"`` (code point order, whatever the database collation),
    LIKE with an explicit ESCAPE (PostgreSQL's default escape is backslash), timestamps truncated with
    ``date_trunc`` (they keep microseconds), NaN kept out of open ranges (PostgreSQL sorts NaN above all).

    Equality is exact under the database's default collation (PostgreSQL's defaults are deterministic: equal
    means bytewise equal) and keeps indexes; a column with its own collation (possibly nondeterministic, e.g. an
    ICU ``ks-level2`` case-insensitive one) is compared with ``COLLATE "C"`` for equality and LIKE too, and a
    ``citext`` column through ``CAST(x AS TEXT)`` (citext's operators ignore case)."""

    sqlglot_dialect = "postgres"
    exact_string_ordering = True
    max_bind_parameters = 65535  # the protocol's limit; pgjdbc refuses more ("at most 65,535 parameters")
    stream_in_transaction = True
    text_values = True
    native_distinct = True
    # After a statement has run a few times the driver switches some types to binary transfer, and then
    # renders arrays and other types read as text differently ({"1","2"} instead of {1,2}): stay in text.
    connection_properties: ClassVar[dict[str, str]] = {"binaryTransfer": "false"}
    type_names: ClassVar[dict[str, Any]] = {
        "int2": pa.int16(), "smallserial": pa.int16(), "int4": pa.int32(), "serial": pa.int32(),
        "int8": pa.int64(), "bigserial": pa.int64(), "oid": pa.int64(),
        "float4": pa.float32(), "float8": pa.float64(), "bool": pa.bool_(),
        "text": VARCHAR, "varchar": VARCHAR, "bpchar": VARCHAR, "name": VARCHAR, "citext": VARCHAR,
        "money": VARCHAR,  # locale-formatted text ("$1,000.00"): reading it as a number would guess
        "date": pa.date32(), "timestamp": TIMESTAMP, "timestamptz": TIMESTAMP_TZ, "bytea": pa.binary(),
        "uuid": VARCHAR, "json": VARCHAR, "jsonb": VARCHAR, "xml": VARCHAR, "inet": VARCHAR, "cidr": VARCHAR,
        "time": VARCHAR, "timetz": VARCHAR, "interval": VARCHAR,
    }
    tables_sql = ('SELECT t.name FROM (SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables '
                  'WHERE table_schema = ? UNION SELECT CAST(matviewname AS TEXT) FROM pg_catalog.pg_matviews '
                  'WHERE schemaname = ?) AS t ORDER BY t.name COLLATE "C"')
    tables_page_sql = tables_sql + " LIMIT ? OFFSET ?"
    tables_schema_params = 2
    hidden_schemas = frozenset({"information_schema", "pg_catalog", "pg_toast"})
    #: too_many_connections (max_connections, a role's or database's CONNECTION LIMIT), configuration_limit_exceeded
    throttle_errors: ClassVar[frozenset[str]] = frozenset({"53300", "53400"})
    #: query_canceled: statement_timeout (or a cancel request)
    timeout_errors: ClassVar[frozenset[str]] = frozenset({"57014"})

    def sqlglot(self) -> Dialect:
        return Dialect.get_or_raise("postgres")

    def scaled_type_map(self, default_scale: int) -> TypeMap:
        generic = jdbc_type_rule(default_scale)

        def numeric(c: ColumnInfo) -> pa.DataType:
            # PostgreSQL 15+ packs NUMERIC(p, s)'s scale into 11 bits of the type modifier, so that s may be
            # negative (NUMERIC(5,-2) holds whole hundreds); the driver and information_schema read the bits
            # unsigned and report -2 as 2046.
            scale = c.scale
            if scale is not None and scale >= _NUMERIC_SCALE_SIGN:
                scale -= 2 * _NUMERIC_SCALE_SIGN
            return generic(replace(c, scale=scale))

        return TypeMap({**self.type_names, "numeric": numeric, "decimal": numeric}, fallback=generic,
                       source=self.subprotocol or "jdbc")

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        return SqlDialect.can_compare(self, t, ordering=ordering)

    collations_sql = ("SELECT a.attname, COALESCE(co.collname, '') FROM pg_catalog.pg_attribute a "
                      "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                      "LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation "
                      "WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped")

    def compare_operand(self, e: exp.Expression, t: pa.DataType, *, ordering: bool,
                        column: SourceColumn | None = None) -> exp.Expression | None:
        operand = super().compare_operand(e, t, ordering=ordering, column=column)
        if operand is None or not is_string(t):
            return operand
        return self._binary_text(operand, column, ordering=ordering)

    def like_operand(self, e: exp.Expression, column: SourceColumn | None = None) -> exp.Expression | None:
        # PostgreSQL 12-17 refuse LIKE under a nondeterministic collation; citext's LIKE ignores case.
        return self._binary_text(e, column, ordering=False)

    def _binary_text(self, e: exp.Expression, column: SourceColumn | None, *, ordering: bool) -> exp.Expression:
        """``e`` compared as Athena compares varchar: by code point, and equal only when bytewise equal."""
        collation = column.collation if column is not None else ""
        binary = exp.Identifier(this="C", quoted=True)
        if column is not None and column.source_type.lower() in POSTGRES_CASE_INSENSITIVE_TYPES:
            return exp.Collate(this=exp.Cast(this=e, to=exp.DataType.build("TEXT")), expression=binary)
        if collation in POSTGRES_BINARY_COLLATIONS:
            return e
        if ordering or collation not in ("", "default"):
            return exp.Collate(this=e, expression=binary)
        return e

    def truncate_to_millis(self, e: exp.Expression) -> exp.Expression | None:
        return exp.Anonymous(this="DATE_TRUNC", expressions=[exp.Literal.string("milliseconds"), e])
