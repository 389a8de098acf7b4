"""Rows as multisets, for comparing what a connector returned with what it should have."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

Rows = Counter[tuple[Any, ...]]
SAMPLES = 3


def _key(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, default=str, sort_keys=True)
    return value


def row_counter(table: pa.Table | pa.RecordBatch, columns: Sequence[str] | None = None) -> Rows:
    """The rows of ``columns`` (all by default) as a multiset; with no columns, only the row count counts."""
    names = list(table.schema.names if columns is None else columns)
    if not names:
        return Counter({(): table.num_rows}) if table.num_rows else Counter()
    values = [table.column(name).to_pylist() for name in names]
    return Counter(tuple(_key(col[i]) for col in values) for i in range(table.num_rows))


def samples(rows: Rows, names: Sequence[str], limit: int = SAMPLES) -> str:
    shown = [str(dict(zip(names, row, strict=True))) if names else "(a row)" for row in list(rows)[:limit]]
    return ", ".join(shown) + (", ..." if len(rows) > limit else "")
