"""Splits from one Snowflake result: contiguous runs of its result batches, and their validated properties.

A split names a query id (a UUID) and a run of batch indexes; both come back in requests anyone allowed to invoke
the Lambda can craft, so they are validated here - as a UUID, as bounded integers, and (by the adapter) against
the result's actual batch count. Nothing in them is a URL, a key or something deserialized as code.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from connector.errors import InvalidRequest
from connector.tokens import read_number

QUERY_ID = "sf_query_id"
FIRST = "sf_first_batch"
LAST = "sf_last_batch"
COUNT = "sf_batch_count"
#: Splits per GetSplits page; more come with a continuation token.
PAGE_SIZE = 1000
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_MAX_BATCHES = 10_000_000


class RecentResults:
    """The result batches of the results this process ran or re-opened lately, by query id.

    Every split of a result used to re-open it by id (a round trip, and the inline first chunk again) before
    reading its own chunks; when one process reads several splits of a result (the local Athena, a warm Lambda
    that Athena hands the next split), all but the first now skip that. Entries last ``ttl_seconds`` - far
    less than the hours the batches' presigned chunk URLs stay valid - and at most ``capacity`` results are
    kept (a batch list holds URLs and the small inline chunk, not the rows). Only the adapter that opened a
    result (one connection string: one Snowflake user) looks it up, so nothing becomes readable that its own
    re-open would refuse.
    """

    def __init__(self, ttl_seconds: float = 600.0, capacity: int = 16) -> None:
        self.ttl_seconds = ttl_seconds
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[float, list[Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, query_id: str) -> list[Any] | None:
        with self._lock:
            entry = self._entries.get(query_id)
            if entry is None:
                return None
            if time.monotonic() - entry[0] > self.ttl_seconds:
                del self._entries[query_id]
                return None
            self._entries.move_to_end(query_id)
            return entry[1]

    def put(self, query_id: str, batches: Sequence[Any]) -> None:
        with self._lock:
            self._entries[query_id] = (time.monotonic(), list(batches))
            self._entries.move_to_end(query_id)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)


def is_query_id(text: str) -> bool:
    return bool(_UUID.match(text))


def group_batches(sizes: Sequence[tuple[int, int | None]], split_bytes: int, split_rows: int,
                  max_splits: int) -> list[tuple[int, int]]:
    """Contiguous runs of result batches ((rows, bytes) each), each about ``split_bytes`` or ``split_rows``."""
    if not sizes:
        return []
    total_bytes = sum(s or 0 for _, s in sizes)
    total_rows = sum(r for r, _ in sizes)
    # Never more than max_splits: widen the targets so the runs fit.
    target_bytes = max(split_bytes, -(-total_bytes // max_splits))
    target_rows = max(split_rows, -(-total_rows // max_splits))
    groups: list[tuple[int, int]] = []
    first, rows, size = 0, 0, 0
    for i, (count, nbytes) in enumerate(sizes):
        rows += count
        size += nbytes or 0
        if rows >= target_rows or size >= target_bytes:
            groups.append((first, i))
            first, rows, size = i + 1, 0, 0
    if first < len(sizes):
        groups.append((first, len(sizes) - 1))
    while len(groups) > max_splits:  # byte and row targets can each close runs: merge neighbours
        groups = [(groups[i][0], groups[min(i + 1, len(groups) - 1)][1]) for i in range(0, len(groups), 2)]
    return groups


def split_page(query_id: str, groups: Sequence[tuple[int, int]], count: int,
               start: int) -> tuple[list[dict[str, str]], str | None]:
    """One page of split properties from run ``start`` on, and the continuation token for the rest."""
    page = groups[start : start + PAGE_SIZE]
    splits = [{QUERY_ID: query_id, FIRST: str(a), LAST: str(b), COUNT: str(count)} for a, b in page]
    end = start + len(page)
    return splits, f"{query_id}/{end}" if end < len(groups) else None


def _bounded_int(properties: Any, key: str) -> int:
    value = read_number(properties.get(key))
    if value is None or value >= _MAX_BATCHES:
        raise InvalidRequest(f"split property {key} is missing or not a valid batch number")
    return value


def parse_split(properties: Any) -> tuple[str, int, int, int]:
    """Validated (query id, first batch, last batch, batch count) from a split's properties."""
    query_id = properties.get(QUERY_ID)
    if not isinstance(query_id, str) or not _UUID.match(query_id):
        raise InvalidRequest(f"split property {QUERY_ID} is not a Snowflake query id")
    first, last, count = (_bounded_int(properties, k) for k in (FIRST, LAST, COUNT))
    if not first <= last < count:
        raise InvalidRequest(f"split batch range {first}..{last} does not fit {count} batches")
    return query_id, first, last, count


def parse_token(token: str) -> tuple[str, int]:
    query_id, _, start = token.partition("/")
    offset = read_number(start)
    if not _UUID.match(query_id) or offset is None or offset >= _MAX_BATCHES:
        raise InvalidRequest("invalid Snowflake split continuation token")
    return query_id, offset
