"""Turn an adapter's ``Scan`` into exactly the rows Athena asked for.

Applies the residual (filters the adapter did not push down, then ORDER BY + LIMIT - in bounded memory, see
``connector.topn`` - or LIMIT), drops helper columns, and casts every column once to the requested logical type -
safely: a value that does not fit is an error naming the column, never a silently truncated number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

from connector import exact_cast
from connector.access.withhold import WITHHELD, withholding
from connector.adapter import Scan
from connector.errors import SourceError, first_line
from connector.protocol import zones
from connector.protocol.constraints import NO_LIMIT, Expression, OrderByField, ValueSet
from connector.protocol.types import empty_batch
from connector.topn import DEFAULT_MEMORY_BYTES

# The evaluator and the top-N (pyarrow.compute, sorted runs on disk) load with the first residual that needs
# them: a scan without one - most reads - never imports them (cold start, bench/README.md section 3).


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Select ``schema``'s columns from ``batch`` by name, in order, cast to their types.

    A TIMESTAMP WITH TIME ZONE column with a companion ``zones.zone_column`` comes out packed with each value's
    own zone, its field flagged ``zones.PACKED_KEY`` so the codec keeps the keys.
    """
    if not len(schema):
        return empty_batch(batch.num_rows, schema)
    columns = []
    fields = []
    for field in schema:
        index = batch.schema.get_field_index(field.name)
        if index < 0:
            raise SourceError(f"the source returned no column {field.name!r} (it returned "
                              f"{', '.join(batch.schema.names) or 'no columns'})")
        column = batch.column(index)
        zones_index = batch.schema.get_field_index(zones.zone_column(field.name))
        if zones_index >= 0 and pa.types.is_timestamp(field.type) and field.type.tz and field.type.unit == "ms":
            columns.append(_packed(field, column, batch.column(zones_index)).view(field.type))
            fields.append(field.with_metadata({**(field.metadata or {}), zones.PACKED_KEY: b"1"}))
            continue
        if column.type != field.type:
            try:
                column = exact_cast.cast(column, field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                reason = WITHHELD if withholding() else f"({first_line(e, 200)})"  # Arrow quotes values
                raise SourceError(f"column {field.name!r}: cannot convert {column.type} to {field.type} "
                                  f"without losing data {reason}") from None
        columns.append(column)
        fields.append(field)
    return pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields, metadata=schema.metadata))


def _packed(field: pa.Field, column: pa.Array, zone_ids: pa.Array) -> pa.Array:
    """The column's instants packed with each value's own zone (int64; ``conform`` flags the field)."""
    try:
        instants = column.cast(pa.timestamp("ms", "UTC"), safe=True).cast(pa.int64())
        return zones.pack_each(instants, zone_ids, field.type.tz)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as e:
        raise SourceError(f"column {field.name!r}: {first_line(e, 200)}") from None


def rows_of(scan: Scan, schema: pa.Schema, *, sort_memory_bytes: int = DEFAULT_MEMORY_BYTES,
            sort_directory: str | None = None) -> Iterator[pa.RecordBatch]:
    """The scan's batches with the residual applied, conformed to ``schema``; closes the scan when done.

    A residual ORDER BY holds at most about ``sort_memory_bytes`` of rows in memory; beyond that it writes
    sorted runs under ``sort_directory`` (the temporary directory by default).
    """
    residual = scan.residual
    try:
        batches: Iterator[pa.RecordBatch] = scan.batches
        if residual.summary or residual.expression:
            batches = _filtered(batches, residual.summary, residual.expression)
        batches = ordered_and_limited(batches, residual.order_by, residual.limit,
                                      memory_bytes=sort_memory_bytes, directory=sort_directory)
        for batch in batches:
            if batch.num_rows:
                yield conform(batch, schema)
    finally:
        if scan.close is not None:
            scan.close()


def ordered_and_limited(batches: Iterable[pa.RecordBatch], order_by: Sequence[OrderByField], limit: int, *,
                        memory_bytes: int = DEFAULT_MEMORY_BYTES,
                        directory: str | None = None) -> Iterator[pa.RecordBatch]:
    """ORDER BY (bounded memory: ``connector.topn``) then LIMIT (-1: none), as Athena applies them."""
    if order_by:
        from connector.topn import top_n

        keys = [(o.column, o.direction.ascending, o.direction.nulls_first) for o in order_by]
        return top_n(iter(batches), keys, limit, memory_bytes=memory_bytes, directory=directory)
    return limited(iter(batches), limit) if limit > NO_LIMIT else iter(batches)


def _filtered(batches: Iterator[pa.RecordBatch], summary: Mapping[str, ValueSet],
              expressions: Sequence[Expression]) -> Iterator[pa.RecordBatch]:
    from connector.pushdown.evaluate import filter_mask
    from connector.pushdown.evaluate_sets import scoped

    cache: dict[Any, Any] = {}  # value lists converted to Arrow once per scan, not once per batch
    for batch in batches:
        with scoped(cache):
            mask = filter_mask(summary, expressions, batch)
        yield batch.filter(mask)


def limited(batches: Iterator[pa.RecordBatch], limit: int) -> Iterator[pa.RecordBatch]:
    remaining = limit
    if remaining <= 0:
        return
    for batch in batches:
        kept = batch.slice(0, remaining) if batch.num_rows > remaining else batch
        remaining -= kept.num_rows
        yield kept
        if remaining <= 0:  # stop before asking the source for another batch
            return
