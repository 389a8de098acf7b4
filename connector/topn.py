"""ORDER BY [LIMIT n] applied by the framework (when the source cannot sort as Athena does), in bounded memory.

Rows are kept as a running top-n: batches gather until they pass the memory cap (or hold more than twice the
limit), then they are sorted and cut to the limit. What is kept stays in memory while it is at most half the cap;
a larger kept set - a large LIMIT, or ORDER BY without one - is written out as a sorted run
(``connector.sorted_runs``) and the runs are merged at the end, so memory is a few times the cap whatever the
LIMIT and the table size. More than ``FAN_IN`` runs are first merged into one, which bounds the memory of the final
merge too.

The merge reads one chunk per run at a time. Each round sorts what is loaded together with a *sentinel* per run
that has more to read (a copy of the last row loaded from it, placed after equal rows): every row before the first
sentinel is final, since no unread row can sort before it; the run of that sentinel is then read further. Ties may
come out in any order, as Athena allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from connector.config import int_setting

if TYPE_CHECKING:  # loaded by top_n: the settings below are read for every scan, most of which never sort
    from connector.sorted_runs import Run, RunStore

#: Bytes of rows an ORDER BY may hold in memory before it writes sorted runs (``sort_memory_bytes``).
DEFAULT_MEMORY_BYTES = 32 << 20
MIN_MEMORY_BYTES = 1 << 20
MAX_MEMORY_BYTES = 4 << 30
#: Runs merged at once; more are merged into one first.
FAN_IN = 16
#: The private column of the merge: -1 for rows, the run's number for its sentinel.
_SENTINEL = "__afq_run"

SortKeys = Sequence[tuple[str, bool, bool]]  # (column, ascending, nulls_first)


def sort_memory_bytes(env: Mapping[str, str]) -> int:
    """The ``sort_memory_bytes`` setting: the cap on rows an ORDER BY holds in memory."""
    return int_setting(env, "sort_memory_bytes", DEFAULT_MEMORY_BYTES, MIN_MEMORY_BYTES, MAX_MEMORY_BYTES)


def top_n(batches: Iterable[pa.RecordBatch], keys: SortKeys, limit: int, *,
          memory_bytes: int = DEFAULT_MEMORY_BYTES, directory: str | None = None) -> Iterator[pa.RecordBatch]:
    """``batches`` in ``keys`` order, the first ``limit`` rows (all when ``limit`` < 0)."""
    from connector.sorted_runs import RunStore

    store = RunStore(directory)
    try:
        yield from _top_n(batches, keys, limit, memory_bytes, store)
    finally:
        store.close()


def _top_n(batches: Iterable[pa.RecordBatch], keys: SortKeys, limit: int, memory_bytes: int,
           store: RunStore) -> Iterator[pa.RecordBatch]:
    held: list[pa.RecordBatch] = []
    held_bytes = held_rows = 0
    runs: list[Run] = []
    schema: pa.Schema | None = None
    for batch in batches:
        if not batch.num_rows:
            continue
        schema = batch.schema
        held.append(batch)
        held_bytes += batch.nbytes
        held_rows += batch.num_rows
        if held_bytes <= memory_bytes and (limit < 0 or held_rows <= 2 * limit + 1024):
            continue
        kept = _sorted(held, keys, limit)
        held = []
        if kept.nbytes > memory_bytes // 2:
            runs.append(store.write(_chunks(kept.to_batches(), memory_bytes), kept.schema))
            del kept
            held_bytes = held_rows = 0
            if len(runs) >= FAN_IN:
                merged = store.write(_chunks(_merge(runs, keys, limit, store), memory_bytes), runs[0].schema)
                for run in runs:
                    store.delete(run)
                runs = [merged]
        else:
            held, held_bytes, held_rows = kept.to_batches(), kept.nbytes, kept.num_rows
    if schema is None:
        return
    if not runs:
        if held:
            yield from _sorted(held, keys, limit).to_batches()
        return
    if held:
        kept = _sorted(held, keys, limit)
        held = []
        runs.append(store.write(_chunks(kept.to_batches(), memory_bytes), kept.schema))
        del kept
    yield from _merge(runs, keys, limit, store)


def _sorted(batches: list[pa.RecordBatch], keys: SortKeys, limit: int) -> pa.Table:
    from connector.pushdown.evaluate import sort_indices

    table = pa.Table.from_batches(batches)
    indices = sort_indices(table, keys)
    if 0 <= limit < len(indices):
        indices = indices[:limit]
    return table.take(indices).combine_chunks()


def _chunks(batches: Iterable[pa.RecordBatch], memory_bytes: int) -> Iterator[pa.RecordBatch]:
    """Sorted batches cut into the chunks of a run: small enough that ``FAN_IN`` runs' chunks fit the cap together
    (the merge holds one chunk per run)."""
    per_chunk = max(1, memory_bytes // (2 * FAN_IN))
    for batch in batches:
        rows = max(1024, int(batch.num_rows * per_chunk / max(batch.nbytes, 1)))
        for start in range(0, batch.num_rows, rows):
            yield batch.slice(start, rows)


def _merge(runs: list[Run], keys: SortKeys, limit: int, store: RunStore) -> Iterator[pa.RecordBatch]:
    """The runs' rows in order, the first ``limit`` of them (each run is sorted)."""
    import pyarrow.compute as pc

    from connector.pushdown.evaluate import sort_indices

    readers = [store.read(run) for run in runs]
    schema = runs[0].schema
    merge_schema = schema.append(pa.field(_SENTINEL, pa.int32()))
    frontier: dict[int, pa.RecordBatch] = {}  # per run with more to read: the last row read from it
    loaded: list[pa.RecordBatch] = []
    remaining = limit if limit >= 0 else None

    def load(i: int) -> None:
        batch = next(readers[i], None)
        if batch is None:
            frontier.pop(i, None)
            return
        frontier[i] = batch.slice(batch.num_rows - 1)
        loaded.append(_tagged(batch, -1, merge_schema))

    for i in range(len(runs)):
        load(i)
    leftover: pa.Table | None = None
    while True:
        sentinels = [_tagged(frontier[i], i, merge_schema) for i in sorted(frontier)]
        parts = ([] if leftover is None else leftover.to_batches()) + loaded + sentinels
        loaded = []
        table = pa.Table.from_batches(parts, schema=merge_schema)
        order = sort_indices(table, keys)
        tags = table.column(_SENTINEL).take(order).combine_chunks()
        first = int(pc.index(pc.greater_equal(tags, 0), True).as_py()) if sentinels else len(order)
        final = order[:first]
        if remaining is not None and len(final) > remaining:
            final = final[:remaining]
        if len(final):
            yield _untagged(table.take(final), schema)
            if remaining is not None:
                remaining -= len(final)
                if remaining <= 0:
                    return
        if not sentinels:
            return
        run = int(tags[first].as_py())
        rest = order[first + 1:]
        leftover = table.take(rest.filter(pc.less(tags[first + 1:], 0)))
        del table, order, tags, final, rest
        load(run)


def _tagged(batch: pa.RecordBatch, tag: int, schema: pa.Schema) -> pa.RecordBatch:
    column = pa.array([tag] * batch.num_rows, pa.int32())
    return pa.RecordBatch.from_arrays([*batch.columns, column], schema=schema)


def _untagged(table: pa.Table, schema: pa.Schema) -> pa.RecordBatch:
    columns = table.drop_columns([_SENTINEL]).combine_chunks().columns
    return pa.RecordBatch.from_arrays([c.chunk(0) if c.num_chunks else pa.array([], c.type) for c in columns],
                                      schema=schema)
