"""Teradata splits planned from the dictionary alone, and the WHERE conditions each split reads.

Row-partitioned (PPI) tables split into contiguous ranges of PARTITION numbers (partition elimination); other
tables into hash buckets of the primary index (``HASHBUCKET(HASHROW(pi)) MOD n = k``), NoPI tables of every
hashable column. Each row falls in exactly one split. Split bounds are integers computed and validated here, so
they are written as literals (Teradata eliminates partitions on literals only).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sqlglot import exp

from adapters.teradata.engine import MAX_SPLITS
from connector.errors import InvalidRequest
from connector.tokens import parse_count


def partition_splits(defined: int, n: int) -> list[dict[str, str]]:
    """Contiguous ranges of row-partition numbers 1..defined. The first range is open below and the last
    open above, so every row's PARTITION (whatever its number) falls in exactly one split."""
    count = max(1, min(n, defined))
    bounds = [1 + (defined * i) // count for i in range(count + 1)]
    splits = []
    for i in range(count):
        low = "" if i == 0 else str(bounds[i])
        high = "" if i == count - 1 else str(bounds[i + 1] - 1)
        splits.append({"split": "partition", "partition_low": low, "partition_high": high})
    return splits


def hash_splits(columns: Sequence[str], n: int) -> list[dict[str, str]]:
    """``HASHBUCKET(HASHROW(columns)) MOD n = k`` for k in 0..n-1: HASHROW returns a hash for any values
    (NULLs included), HASHBUCKET a non-negative integer, so each row is in exactly one split."""
    names = json.dumps(list(columns))
    return [{"split": "hash", "hash_columns": names, "buckets": str(n), "bucket": str(k)} for k in range(n)]


def split_predicates(properties: Mapping[str, str]) -> list[exp.Expression]:
    """The WHERE conditions of one split, from its (validated) properties."""
    kind = properties.get("split", "")
    if not kind:
        return []
    if kind == "partition":
        partition = exp.column("PARTITION")  # the system-derived row-partition number (unquoted keyword)
        conditions: list[exp.Expression] = []
        low, high = properties.get("partition_low", ""), properties.get("partition_high", "")
        if low:
            conditions.append(exp.GTE(this=partition.copy(), expression=exp.Literal.number(_split_int(low, 1))))
        if high:
            conditions.append(exp.LTE(this=partition.copy(), expression=exp.Literal.number(_split_int(high, 1))))
        return conditions
    if kind == "hash":
        try:
            columns = json.loads(properties.get("hash_columns", ""))
        except ValueError:
            columns = None
        if not isinstance(columns, list) or not columns or not all(isinstance(c, str) and 0 < len(c) <= 128
                                                                   for c in columns):
            raise InvalidRequest("a Teradata hash split needs hash_columns: a JSON list of column names")
        buckets = _split_int(properties.get("buckets", ""), 1, MAX_SPLITS)
        bucket = _split_int(properties.get("bucket", ""), 0, buckets - 1)
        row_hash = exp.Anonymous(this="HASHROW", expressions=[exp.column(c, quoted=True) for c in columns])
        hashed = exp.Anonymous(this="HASHBUCKET", expressions=[row_hash])
        return [exp.EQ(this=exp.Mod(this=hashed, expression=exp.Literal.number(buckets)),
                       expression=exp.Literal.number(bucket))]
    raise InvalidRequest(f"unknown Teradata split kind {kind[:40]!r}")


#: Largest row-partition number: 8-byte (multilevel) partitioning numbers partitions up to 2^63 - 1.
MAX_PARTITION = 2**63 - 1


def _split_int(text: str, low: int, high: int = MAX_PARTITION) -> int:
    value = parse_count(text, "split property", high=high)  # ASCII digits only, within a Java long
    if value < low:
        raise InvalidRequest(f"split property {value} is out of range")
    return value


__all__ = ["hash_splits", "partition_splits", "split_predicates"]
