"""Re-cut a stream of record batches so each serialized IPC message stays under a byte budget.

Sizes are measured on the serialized message (``pyarrow.ipc.get_record_batch_size``), not estimated from
row counts: Athena's limits are on bytes, and rows vary in width.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa
from pyarrow import ipc

from connector.errors import ResultTooLarge
from connector.protocol.types import empty_batch


def message_size(batch: pa.RecordBatch) -> int:
    return int(ipc.get_record_batch_size(batch))


def concat(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(batches) == 1:
        return batches[0]
    if not batches[0].num_columns:
        return empty_batch(sum(b.num_rows for b in batches), batches[0].schema)
    return pa.concat_batches(batches)


def split_to_fit(batch: pa.RecordBatch, limit: int) -> Iterator[pa.RecordBatch]:
    """Slices of ``batch`` whose messages are each at most ``limit`` bytes."""
    start, n = 0, batch.num_rows
    while start < n:
        remaining = batch.slice(start)
        size = message_size(remaining)
        if size <= limit:
            yield remaining
            return
        rows = max(1, int((n - start) * limit / size * 0.95))
        while True:
            piece = batch.slice(start, rows)
            if message_size(piece) <= limit:
                break
            if rows == 1:
                raise ResultTooLarge(
                    f"row {start} alone serializes to {message_size(piece)} bytes, more than the block limit of "
                    f"{limit} bytes; Athena cannot receive it (select fewer or smaller columns)")
            rows = max(1, rows // 2)
        yield piece
        start += rows


def cut_to_size(batches: Iterable[pa.RecordBatch], limit: int) -> Iterator[pa.RecordBatch]:
    """Merge small batches and split large ones so every yielded batch serializes to <= ``limit`` bytes."""
    pending: list[pa.RecordBatch] = []
    pending_size = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        size = message_size(batch)
        if pending and pending_size + size > limit:
            yield from _flush(pending, limit)
            pending, pending_size = [], 0
        tail = batch
        if size > limit:
            pieces = list(split_to_fit(batch, limit))
            yield from pieces[:-1]
            tail, size = pieces[-1], message_size(pieces[-1])
        pending.append(tail)
        pending_size += size
    if pending:
        yield from _flush(pending, limit)


def _flush(pending: list[pa.RecordBatch], limit: int) -> Iterator[pa.RecordBatch]:
    merged = concat(pending)
    # The parts' sizes bound the merged size from above in practice; check rather than trust it.
    if message_size(merged) <= limit:
        yield merged
    else:
        yield from split_to_fit(merged, limit)
