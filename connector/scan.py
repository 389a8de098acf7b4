"""Turn an adapter's ``Scan`` into exactly the rows Athena asked for.

Applies the residual (filters the adapter did not push down, then ORDER BY + LIMIT or LIMIT), drops helper
columns, and casts every column once to the requested logical type - safely: a value that does not fit is an
error naming the column, never a silently truncated number.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import pyarrow as pa

from connector.access.withhold import WITHHELD, withholding
from connector.adapter import Scan
from connector.errors import SourceError
from connector.protocol import zones
from connector.protocol.constraints import Expression, OrderByField, ValueSet
from connector.protocol.types import empty_batch
from connector.pushdown.evaluate import filter_mask, sort_indices


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
                column = column.cast(field.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                reason = WITHHELD if withholding() else f"({str(e).splitlines()[0][:200]})"  # Arrow quotes values
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
        raise SourceError(f"column {field.name!r}: {str(e).splitlines()[0][:200]}") from None


def rows_of(scan: Scan, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The scan's batches with the residual applied, conformed to ``schema``; closes the scan when done."""
    residual = scan.residual
    try:
        batches: Iterator[pa.RecordBatch] = scan.batches
        if residual.summary or residual.expression:
            batches = _filtered(batches, residual.summary, residual.expression)
        if residual.order_by:
            batches = top_n(batches, residual.order_by, residual.limit)
        elif residual.has_limit:
            batches = limited(batches, residual.limit)
        for batch in batches:
            if batch.num_rows:
                yield conform(batch, schema)
    finally:
        if scan.close is not None:
            scan.close()


def _filtered(batches: Iterator[pa.RecordBatch], summary: Mapping[str, ValueSet],
              expressions: Sequence[Expression]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
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


def top_n(batches: Iterator[pa.RecordBatch], order_by: Sequence[OrderByField],
           limit: int) -> Iterator[pa.RecordBatch]:
    """Sort in memory; only reached when the source cannot sort the way Athena does.

    With a limit, only the best ``limit`` rows seen so far are kept (pruned whenever twice that many have
    accumulated), so memory follows the limit rather than the table.
    """
    keys = [(o.column, o.direction.ascending, o.direction.nulls_first) for o in order_by]
    collected: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        collected.append(batch)
        held += batch.num_rows
        if limit >= 0 and held > 2 * limit + 1024:
            table = pa.Table.from_batches(collected)
            best = table.take(sort_indices(table, keys)[:limit])
            collected, held = best.combine_chunks().to_batches() or [], best.num_rows
    if not collected:
        return
    table = pa.Table.from_batches(collected)
    ordered = table.take(sort_indices(table, keys))
    if limit >= 0:
        ordered = ordered.slice(0, limit)
    yield from ordered.combine_chunks().to_batches() or []
