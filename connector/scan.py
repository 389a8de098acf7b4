"""Turn an adapter's ``Scan`` into exactly the rows Athena asked for.

Applies the residual (filters the adapter did not push down, then ORDER BY + LIMIT - in bounded memory, see
``connector.topn`` - or LIMIT), drops helper columns, and casts every column once to the requested logical type -
safely: a value that does not fit is an error naming the column, never a silently truncated number.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

from connector.adapter import Scan
from connector.errors import SourceError
from connector.protocol.constraints import Expression, ValueSet
from connector.protocol.types import empty_batch
from connector.pushdown.evaluate import filter_mask
from connector.pushdown.evaluate_sets import scoped
from connector.topn import DEFAULT_MEMORY_BYTES, top_n


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Select ``schema``'s columns from ``batch`` by name, in order, cast to their types."""
    if not len(schema):
        return empty_batch(batch.num_rows, schema)
    columns = []
    for field in schema:
        index = batch.schema.get_field_index(field.name)
        if index < 0:
            raise SourceError(f"the source returned no column {field.name!r} (it returned "
                              f"{', '.join(batch.schema.names) or 'no columns'})")
        column = batch.column(index)
        if column.type != field.type:
            try:
                column = column.cast(field.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise SourceError(f"column {field.name!r}: cannot convert {column.type} to {field.type} "
                                  f"without losing data ({str(e).splitlines()[0][:200]})") from None
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


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
        if residual.order_by:
            keys = [(o.column, o.direction.ascending, o.direction.nulls_first) for o in residual.order_by]
            batches = top_n(batches, keys, residual.limit, memory_bytes=sort_memory_bytes, directory=sort_directory)
        elif residual.has_limit:
            batches = _limited(batches, residual.limit)
        for batch in batches:
            if batch.num_rows:
                yield conform(batch, schema)
    finally:
        if scan.close is not None:
            scan.close()


def _filtered(batches: Iterator[pa.RecordBatch], summary: Mapping[str, ValueSet],
              expressions: Sequence[Expression]) -> Iterator[pa.RecordBatch]:
    cache: dict[Any, Any] = {}  # value lists converted to Arrow once per scan, not once per batch
    for batch in batches:
        with scoped(cache):
            mask = filter_mask(summary, expressions, batch)
        yield batch.filter(mask)


def _limited(batches: Iterator[pa.RecordBatch], limit: int) -> Iterator[pa.RecordBatch]:
    remaining = limit
    if remaining <= 0:
        return
    for batch in batches:
        kept = batch.slice(0, remaining) if batch.num_rows > remaining else batch
        remaining -= kept.num_rows
        yield kept
        if remaining <= 0:  # stop before asking the source for another batch
            return
