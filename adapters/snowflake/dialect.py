"""What Snowflake evaluates exactly as Athena does, Snowflake's types, and results as Athena's logical types.

* Text with a collation (``SourceColumn.collation``), TIME, VARIANT and the other semi-structured types are
  read as text and never compared at the source (``SnowflakeDialect.split`` keeps their filters for the framework).
* Floating-point comparisons stay in the framework (Snowflake finds NaN = NaN and NaN above every number), as do
  MOD and integer division (``7/2`` is 3.5 there).
* Timestamps keep nanoseconds: the framework's millisecond grid applies, and values are floored to milliseconds
  when read.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator, Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from adapters.sql.dialect import SourceDialect
from adapters.sql.types import TIMESTAMP, TIMESTAMP_TZ, VARCHAR, ColumnInfo, TypeMap, decimal_or_integer, normalize
from connector import exact_cast
from connector.errors import SourceError, first_line
from connector.protocol.constraints import Constraints, Expression, ValueSet, columns_of
from connector.protocol.types import empty_batch
from connector.pushdown.sql import Pushdown, SourceColumn

log = logging.getLogger("afq.snowflake")


# ------------------------------------------------------------------------------------------ types

_NUMBER = decimal_or_integer(18)
_SEMI_STRUCTURED = ("VARIANT", "OBJECT", "ARRAY", "GEOGRAPHY", "GEOMETRY", "VECTOR", "MAP")
SNOWFLAKE_TYPES = TypeMap({
    "NUMBER": _NUMBER, "DECIMAL": _NUMBER, "NUMERIC": _NUMBER, "FIXED": _NUMBER,
    "FLOAT": pa.float64(), "FLOAT4": pa.float64(), "FLOAT8": pa.float64(), "DOUBLE": pa.float64(),
    "DOUBLE PRECISION": pa.float64(), "REAL": pa.float64(),
    "TEXT": VARCHAR, "VARCHAR": VARCHAR, "CHAR": VARCHAR, "CHARACTER": VARCHAR, "STRING": VARCHAR,
    "NCHAR": VARCHAR, "NVARCHAR": VARCHAR, "NVARCHAR2": VARCHAR, "CHAR VARYING": VARCHAR,
    "BINARY": pa.binary(), "VARBINARY": pa.binary(),
    "BOOLEAN": pa.bool_(), "DATE": pa.date32(),
    "TIME": VARCHAR,  # Athena has no TIME column type
    "TIMESTAMP_NTZ": TIMESTAMP, "DATETIME": TIMESTAMP, "TIMESTAMP": TIMESTAMP,
    "TIMESTAMP_LTZ": TIMESTAMP_TZ, "TIMESTAMP_TZ": TIMESTAMP_TZ,
    **dict.fromkeys(_SEMI_STRUCTURED, VARCHAR),  # JSON text
}, fallback=lambda c: _collated(c), source="snowflake")
# Source types whose values Snowflake compares as Athena compares the values we return.
_NATIVE = {"NUMBER", "DECIMAL", "NUMERIC", "FIXED", "FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION",
           "REAL", "TEXT", "VARCHAR", "CHAR", "CHARACTER", "STRING", "NCHAR", "NVARCHAR", "NVARCHAR2",
           "CHAR VARYING", "BINARY", "VARBINARY", "BOOLEAN", "DATE", "TIMESTAMP_NTZ", "DATETIME", "TIMESTAMP",
           "TIMESTAMP_LTZ", "TIMESTAMP_TZ"}
# cursor.description type codes (snowflake.connector constants) -> source type names
TYPE_CODES = {0: "NUMBER", 1: "FLOAT", 2: "TEXT", 3: "DATE", 4: "TIMESTAMP_NTZ", 5: "VARIANT", 6: "TIMESTAMP_LTZ",
               7: "TIMESTAMP_TZ", 8: "TIMESTAMP_NTZ", 9: "OBJECT", 10: "ARRAY", 11: "BINARY", 12: "TIME",
               13: "BOOLEAN", 14: "GEOGRAPHY", 15: "GEOMETRY", 16: "VECTOR", 17: "MAP"}


def _collated(c: ColumnInfo) -> pa.DataType:
    """``TEXT COLLATE 'en-ci'`` (how ``query_columns`` marks collated text) -> the base type's mapping."""
    base = c.type_name.upper().split(" COLLATE ", 1)[0]
    if base != c.type_name.upper():
        return SNOWFLAKE_TYPES.to_arrow(dataclasses.replace(c, type_name=base))
    log.warning("snowflake column %r has type %r, which has no declared mapping; it is read as varchar",
                c.name, c.type_name)
    return VARCHAR


#: Collation specifications that compare as Snowflake does without one (byte order of UTF-8 = code point order).
BINARY_COLLATIONS = frozenset({"", "utf8"})


def is_native(source_type: str, collation: str = "") -> bool:
    """Whether pushing a comparison on a column of this source type is exact: not for text with a collation
    (``en-ci``, ``upper``, ``rtrim``... from COLUMNS.COLLATION_NAME; ``TEXT COLLATE x`` in older schemas)."""
    return (bool(source_type) and "COLLATE" not in source_type.upper() and normalize(source_type) in _NATIVE
            and collation.strip().lower() in BINARY_COLLATIONS)


# ------------------------------------------------------------------------------------------ dialect


class SnowflakeDialect(SourceDialect):
    sqlglot_dialect = "snowflake"
    type_map = SNOWFLAKE_TYPES
    paramstyle = "qmark"  # bound server-side by Snowflake
    # int / int is a decimal in Snowflake (7/2 = 3.5), and rounding its scale-6 quotient before a TRUNC
    # can cross an integer: integer division stays with the framework.
    integer_division_truncates = False
    like_escape = "!"
    # DEFAULT_NULL_ORDERING (account, user or session) moves NULLs: every pushed key says where they go.
    explicit_null_ordering = True
    # TIMESTAMP_NTZ/LTZ/TZ default to nanoseconds: ranges go on the millisecond grid, other timestamp
    # comparisons (and ORDER BY one before another key) stay with the framework.
    sub_millisecond_timestamps = True
    #: 000625: "... aborted because the number of waiters for this lock exceeds the N statements limit".
    throttle_errors = frozenset({"625"})

    def split(self, constraints: Constraints, columns: Mapping[str, SourceColumn]) -> Pushdown:
        """Filters on columns Snowflake does not compare as Athena does (collated text, semi-structured values read
        as JSON text) stay with the framework, which then sorts too."""
        held = {n for n, c in columns.items() if not is_native(c.source_type, c.collation)}
        summary: dict[str, ValueSet] = {}
        kept_summary: dict[str, ValueSet] = {}
        for name, value_set in constraints.summary.items():
            (kept_summary if name in held or name not in columns else summary)[name] = value_set
        expressions: list[Expression] = []
        kept_expressions: list[Expression] = []
        for e in constraints.expression:
            (kept_expressions if columns_of(e) & held else expressions).append(e)
        sort_later = bool(kept_summary or kept_expressions) or any(f.column in held for f in constraints.order_by)
        pushed = Constraints(summary=summary, expression=tuple(expressions),
                             order_by=() if sort_later else constraints.order_by, limit=constraints.limit)
        kept = Constraints(summary=kept_summary, expression=tuple(kept_expressions),
                           order_by=constraints.order_by if sort_later else ())
        return Pushdown(pushed, kept)

    def can_compare(self, t: pa.DataType, *, ordering: bool) -> bool:
        if pa.types.is_floating(t):
            return False  # Snowflake: NaN = NaN and NaN > every number; Athena: neither
        return super().can_compare(t, ordering=ordering)

    def can_compute(self, function: str, result: pa.DataType, arguments: Sequence[pa.DataType]) -> bool:
        if function == "$modulus":
            return False  # MOD by zero is not an error in every Snowflake context; Athena's always is
        return super().can_compute(function, result, arguments)


# ------------------------------------------------------------------------------------------ constraints


# ------------------------------------------------------------------------------------------ Arrow


def to_logical(array: pa.Array | pa.ChunkedArray, column: SourceColumn) -> pa.Array | pa.ChunkedArray:
    """A result column as Athena's logical type: timestamps floored to milliseconds, TIME and structured
    values as text; every other conversion is a safe cast that fails loudly rather than lose data."""
    target = column.type
    source = array.type
    if source == target:
        return array
    try:
        if pa.types.is_timestamp(source) and pa.types.is_timestamp(target):
            # Athena's timestamps are milliseconds: floor (as the JDBC driver's getTime() does), then cast.
            if source.unit != "ms":
                array = pc.floor_temporal(array, unit="millisecond")
            if source.tz is None and target.tz is not None:
                array = array.cast(pa.timestamp(source.unit, "UTC"))  # a wall clock read as UTC
            return array.cast(target, safe=True)
        if pa.types.is_string(target) and (pa.types.is_nested(source) or pa.types.is_dictionary(source)):
            return pa.array([None if v is None else json.dumps(v, default=str) for v in array.to_pylist()],
                            VARCHAR)
        return exact_cast.cast(array, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
        raise SourceError(f"column {column.name!r}: cannot read Snowflake {column.source_type or source} as "
                          f"{target} without losing data ({first_line(e, 200)})") from None


def result_batches(table: pa.Table, columns: Sequence[SourceColumn], positions: Sequence[int] | None = None
                   ) -> Iterator[pa.RecordBatch]:
    """A result table's batches with the planned columns under Athena's names and types."""
    if positions is None:
        names = table.column_names
        if len(names) != len(columns):
            raise SourceError(f"Snowflake returned {len(names)} columns where {len(columns)} were selected")
        positions = range(len(columns))
    if not columns:
        if table.num_rows:
            yield empty_batch(table.num_rows)  # zero columns (count(*)): only the row count matters
        return
    converted = [to_logical(table.column(i), c) for i, c in zip(positions, columns, strict=True)]
    out = pa.Table.from_arrays(converted, names=[c.name for c in columns])
    yield from out.to_batches()
