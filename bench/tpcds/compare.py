"""Is the local Athena's answer DuckDB's answer? Exactly, or up to a stated Athena-vs-DuckDB rule, or not.

Values compare exactly (integers, decimals, strings, dates), doubles to 12 significant digits (both engines sum
in parallel, in no fixed order). Where DuckDB's answer has a double and Athena's a decimal or an integer, the
difference is an Athena rule only when DuckDB's double, taken the Athena way, is the local answer (and
``athena`` only when the values differ: a decimal that equals DuckDB's double is exact):

* ``decimal``: avg or division of decimals is a decimal in Athena, rounded half up to the result's scale
  (DuckDB: a double) - the double rounded half up to that scale must be the local value;
* ``integer division``: integer / integer truncates in Athena (DuckDB: a double) - the double truncated must be
  the local value.

Where a rounded quotient is used further (multiplied, compared in WHERE), Athena's answer is derived from
DuckDB's exact columns by a rule written per query (``queries.ATHENA_ANSWERS``).

Rows compare in order when the query has an ORDER BY (a NULL placed first instead of last is a difference),
else as multisets.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pyarrow as pa

from bench.tpcds.queries import AthenaAnswer

EXACT = "exact"
ATHENA = "athena"
DIFFERENT = "different"


@dataclass
class Outcome:
    verdict: str
    rules: set[str] = field(default_factory=set)
    detail: str = ""


def _double_key(value: float) -> Any:
    if math.isnan(value) or math.isinf(value):
        return repr(value)
    return float(f"{value:.12g}")


def _cell(reference: Any, local_type: pa.DataType, rules: set[str]) -> Any:
    """The reference value as the comparison key (taken the Athena way when the types say so), or raise."""
    if reference is None:
        return None
    if isinstance(reference, float) and pa.types.is_decimal(local_type) and math.isfinite(reference):
        rounded = Decimal(repr(reference)).quantize(Decimal(1).scaleb(-local_type.scale), ROUND_HALF_UP)
        if rounded != Decimal(repr(reference)):
            rules.add("decimal")
        return rounded
    if isinstance(reference, float) and pa.types.is_integer(local_type) and math.isfinite(reference):
        if int(reference) != reference:
            rules.add("integer division")
        return int(reference)  # toward zero
    if isinstance(reference, float):
        return _double_key(reference)
    if isinstance(reference, Decimal) and pa.types.is_floating(local_type):
        return _double_key(float(reference))
    if isinstance(reference, dt.datetime) and pa.types.is_date(local_type):
        return reference.date()
    return reference


def _local(value: Any) -> Any:
    if isinstance(value, float):
        return _double_key(value)
    if isinstance(value, Decimal):
        return value.normalize() if value == value.to_integral_value() else value
    return value


def _key(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value.normalize() if value == value.to_integral_value() else value
    return value


def compare(local: pa.Table, reference: pa.Table, ordered: bool, athena: AthenaAnswer | None = None) -> Outcome:
    """``athena``: how Athena's answer follows from DuckDB's, for a query where it is not cell by cell."""
    rules: set[str] = set()
    expected = [list(row.values()) for row in reference.to_pylist()]
    if athena is not None:
        derived = athena.derive(expected)
        if derived != expected:
            rules.add(athena.rule)
        expected = derived
    if local.num_columns != reference.num_columns:
        return Outcome(DIFFERENT, detail=f"{local.num_columns} columns, DuckDB has {reference.num_columns}")
    if local.num_rows != len(expected):
        return Outcome(DIFFERENT, rules, f"{local.num_rows} rows, DuckDB has {len(expected)}")
    types = [f.type for f in local.schema]
    local_rows = [list(row.values()) for row in local.to_pylist()]
    mine = [tuple(_key(_local(v)) for v in row) for row in local_rows]
    theirs = [tuple(_key(_cell(value, types[i], rules)) for i, value in enumerate(row)) for row in expected]
    verdict = ATHENA if rules else EXACT
    if mine == theirs:
        return Outcome(verdict, rules)
    if Counter(map(repr, mine)) == Counter(map(repr, theirs)):
        if not ordered:
            return Outcome(verdict, rules, "same rows in another order")
        return Outcome(DIFFERENT, rules, "same rows in another order, but the query orders them")
    for index, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        if a != b:
            return Outcome(DIFFERENT, rules, f"first difference at row {index}: local {a!r}, DuckDB {b!r}")
    return Outcome(DIFFERENT, rules, "rows differ")
