"""Key-range splits: read one table in parallel as N disjoint ranges of an integer key.

A split strategy any ``SqlAdapter`` can use: list ``KeyRangeSplits`` before ``SqlAdapter`` in the bases.
Configuration (environment):

- ``key_range_splits``: how many splits per table (default 1, which turns the strategy off);
- ``key_range_column``: the key to cut on when a table has that column (case-insensitive) with an integer type;
  otherwise a single-column integer primary key is used, and without one the table is read in one split.

Ranges come from the key's MIN and MAX at planning time (one indexed query). The first range is open below and
the last open above, and NULL keys go with the first, so rows written after planning are still read once.
Never LIMIT/OFFSET slicing: each split is a plain range predicate the database can answer from an index.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlglot import exp

from adapters.sql.adapter import SourceTable, SqlAdapter
from connector.adapter import RequestContext
from connector.errors import InvalidRequest
from connector.protocol.constraints import Constraints
from connector.protocol.messages import Split
from connector.pushdown.sql import SourceColumn, SqlCompiler
from connector.tokens import read_number

KEY_COLUMN = "key_column"
KEY_LOW = "key_low"
KEY_HIGH = "key_high"
KEY_NULLS = "key_nulls"


def _integral(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or (pa.types.is_decimal(t) and t.scale == 0))


def key_ranges(low: int, high: int, count: int) -> list[tuple[int | None, int | None]]:
    """``count`` (or fewer) half-open ranges covering every integer; the first and last are unbounded."""
    span = high - low + 1
    count = max(1, min(count, span))
    step = -(-span // count)
    bounds = [low + i * step for i in range(1, count) if low + i * step <= high]
    edges: list[int | None] = [None, *bounds, None]
    return list(itertools.pairwise(edges))


class KeyRangeSplits(SqlAdapter):
    """A split strategy for ``SqlAdapter``: ``plan_splits`` cuts on a key, ``split_where`` turns a split into
    predicates. Listed before another strategy in an adapter's bases, it cuts each of that strategy's splits."""

    def key_range_count(self) -> int:
        count: int = self.options.number("key_range_splits")
        return count

    def key_range_column(self, connection: Any, source: SourceTable) -> SourceColumn | None:
        columns = source.column_map()
        wanted = self.options.text("key_range_column").lower()
        if wanted:
            column = columns.get(wanted)
            if column is not None and _integral(column.type):
                return column
        if source.is_view:
            return None
        key = self.query_primary_key(connection, source.schema, source.table)
        if len(key) != 1:
            return None
        column = columns.get(key[0].lower())
        return column if column is not None and _integral(column.type) else None

    def plan_splits(self, ctx: RequestContext, connection: Any, source: SourceTable, partitions: pa.Table,
                    constraints: Constraints) -> list[dict[str, str]]:
        base: list[dict[str, str]] = super().plan_splits(
            ctx, connection, source, partitions, constraints)
        count = self.key_range_count()
        if count <= 1:
            return base
        key = self.key_range_column(connection, source)
        if key is None:
            return base
        column = exp.column(key.source_name, quoted=True)
        select = exp.select(exp.Min(this=column), exp.Max(this=column.copy())).from_(
            self.split_from(source, None))
        sql, _ = self.dialect.render(select, [])
        rows = self.query(connection, sql)
        low, high = rows[0] if rows else (None, None)
        if low is None or high is None:
            return base
        ranges = key_ranges(int(low), int(high), count)
        splits = []
        for properties in base:
            for i, (start, stop) in enumerate(ranges):
                split = dict(properties)
                split[KEY_COLUMN] = key.name
                split[KEY_LOW] = "" if start is None else str(start)
                split[KEY_HIGH] = "" if stop is None else str(stop)
                if i == 0:
                    split[KEY_NULLS] = "true"
                splits.append(split)
        return splits

    def split_where(self, source: SourceTable, split: Split, compiler: SqlCompiler) -> list[exp.Expression]:
        predicates: list[exp.Expression] = super().split_where(source, split, compiler)
        name = split.properties.get(KEY_COLUMN)
        if not name:
            return predicates
        column = compiler.source_column(name)  # an unknown column is an invalid request
        if not _integral(column.type):
            raise InvalidRequest(f"split key {name!r} is not an integer column")
        col = compiler.column(name)
        conditions: list[exp.Expression] = []
        for key, op in ((KEY_LOW, exp.GTE), (KEY_HIGH, exp.LT)):
            text = split.properties.get(key, "")
            if not text:
                continue
            value = read_number(text, signed=True)
            if value is None:
                raise InvalidRequest(f"split has a malformed key bound {key}={text[:40]!r}")
            bound = Decimal(value) if pa.types.is_decimal(column.type) else value
            conditions.append(op(this=col.copy(), expression=compiler.bind(bound, column.type)))
        if not conditions:
            return predicates
        condition = conditions[0] if len(conditions) == 1 else exp.and_(*conditions)
        if split.properties.get(KEY_NULLS) == "true":
            condition = exp.or_(exp.paren(condition), exp.Is(this=col.copy(), expression=exp.Null()))
        return [*predicates, exp.paren(condition)]
