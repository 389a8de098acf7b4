"""Declared type maps: a source column's type name, precision and scale -> a logical Arrow type.

Each dialect declares its map as data (``TypeMap({...})``). There are no lossy defaults: decimals keep
precision and scale, integers wider than int64 become decimal(38,0), floats stay double, timestamps stay
timestamps. A type the map does not know becomes varchar *and is logged*, never silently guessed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import pyarrow as pa

log = logging.getLogger("afq.types")

MAX_PRECISION = 38
VARCHAR = pa.string()
TIMESTAMP = pa.timestamp("ms")
TIMESTAMP_TZ = pa.timestamp("ms", "UTC")


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """A column as the source's catalog describes it."""

    name: str
    type_name: str
    precision: int | None = None
    scale: int | None = None
    nullable: bool = True
    #: The column's collation as the catalog names it (None: the source's binary/default comparison).
    collation: str | None = None


Rule: TypeAlias = pa.DataType | Callable[[ColumnInfo], pa.DataType]


def decimal_or_integer(max_integer_precision: int = 18, integer: pa.DataType | None = None,
                       unconstrained: pa.DataType | None = None) -> Callable[[ColumnInfo], pa.DataType]:
    """NUMBER/DECIMAL(p,s): an integer type when s == 0 and p fits, else decimal(p,s); never truncates."""
    integer = integer or pa.int64()

    def rule(c: ColumnInfo) -> pa.DataType:
        p, s = c.precision, c.scale or 0
        if p is None or p <= 0:
            return unconstrained if unconstrained is not None else pa.decimal128(MAX_PRECISION, min(s, MAX_PRECISION))
        if s == 0 and p <= max_integer_precision:
            return integer
        return decimal(p, s)
    return rule


def decimal(precision: int, scale: int) -> pa.DataType:
    """decimal(p,s) within Athena's 38 digits; wider sources keep their scale and cap the precision.

    A negative scale (PostgreSQL ``NUMERIC(5,-2)``, Oracle ``NUMBER(5,-2)``) stores whole multiples of
    ``10**-s``: ``p - s`` integer digits. A scale above the precision (``NUMERIC(3,5)`` holds ``0.00123``) needs
    ``s`` digits."""
    if scale < 0:
        precision, scale = precision - scale, 0
    precision = max(precision, scale)
    if precision > MAX_PRECISION:
        log.warning("decimal(%s,%s) is wider than Athena's 38 digits; using decimal(38,%s) - values that "
                    "need more digits fail with an error when read", precision, scale, min(scale, MAX_PRECISION))
        precision = MAX_PRECISION
    scale = min(scale, precision)
    return pa.decimal128(max(1, precision), scale)


def exact_decimal(c: ColumnInfo) -> pa.DataType:
    """DECIMAL/NUMERIC(p,s) -> decimal(p,s) for every p and s (unconstrained: decimal(38,10))."""
    if c.precision is None or c.precision <= 0:
        return pa.decimal128(MAX_PRECISION, 10 if c.scale is None else c.scale)
    return decimal(c.precision, c.scale or 0)


def int_or_none(value: Any) -> int | None:
    """A catalog's numeric field (precision, scale, a type code...) as an int; None when absent or not a number."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_NORMALIZE = re.compile(r"\s+")


def normalize(type_name: str) -> str:
    """``'numeric(10, 2)'`` -> ``'NUMERIC'``; ``'timestamp(6) with time zone'`` -> ``'TIMESTAMP WITH TIME ZONE'``."""
    without_args = re.sub(r"\([^)]*\)", "", type_name)
    return _NORMALIZE.sub(" ", without_args).strip().upper()


def parse_arguments(type_name: str) -> tuple[int | None, int | None]:
    """Precision and scale written in a type name: ``DECIMAL(10,2)`` -> (10, 2)."""
    match = re.search(r"\(\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?\)", type_name)
    if not match:
        return None, None
    return int(match.group(1)), int(match.group(2)) if match.group(2) is not None else None


class TypeMap:
    """Declared source types -> Arrow types. A type the rules do not list and the fallback declines (returns
    None) is read as varchar and remembered in ``unmapped``: the adapter warns when such a column is read, not
    every time the table's metadata is built. Without a fallback, such a type is warned about here."""

    def __init__(self, rules: Mapping[str, Rule], *,
                 fallback: Callable[[ColumnInfo], pa.DataType | None] | None = None, source: str = "source") -> None:
        self.rules = {normalize(k): v for k, v in rules.items()}
        self.fallback = fallback
        self.source = source
        self.unmapped: set[str] = set()

    def to_arrow(self, column: ColumnInfo) -> pa.DataType:
        name = normalize(column.type_name)
        rule = self.rules.get(name)
        if rule is None and self.fallback is not None:
            found = self.fallback(column)
            if found is None:
                self.unmapped.add(name)
                return VARCHAR
            return found
        if rule is None:
            log.warning("%s column %r has type %r, which has no declared mapping; it is read as varchar",
                        self.source, column.name, column.type_name)
            return VARCHAR
        return rule if isinstance(rule, pa.DataType) else rule(column)

    def is_unmapped(self, type_name: str) -> bool:
        return normalize(type_name) in self.unmapped
