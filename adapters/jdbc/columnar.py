"""Columnar JDBC reads: the Java helper fills Arrow buffers per batch, Python wraps them without touching a value.

Reading value by value costs one or two JPype calls per value (~1 us each), which caps the adapter at the speed of
a bare ``getString`` loop. ``afq.jdbc.ColumnarReader`` (``adapters/jdbc/java/ColumnarReader.java``, built and loaded by
``adapters.jdbc.helper``) runs the typed getters inside the JVM and lays the values out as Arrow buffers; each batch
then crosses with three calls - ``fill``, ``buffers`` (one ``byte[]``, copied once through JPype's buffer protocol)
and ``layout`` - and becomes arrays through ``pyarrow.Array.from_buffers``.

The getters and the strictness are those of the per-value readers in ``adapters.jdbc.driver`` (``getLong``,
``getBigDecimal``, ``getObject(i, LocalDate.class)``...): decimals are set to the column's scale without rounding
and checked against its precision, dates and timestamps are checked against the Arrow type's range, timestamps are
floored to milliseconds. A value that does not fit is a ``SourceError`` naming the column.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from connector import exact_cast
from connector.errors import SourceError, first_line
from connector.protocol.types import empty_batch
from connector.pushdown.sql import SourceColumn

# The kind constants of ColumnarReader.java.
INT64, FLOAT64, FLOAT32, BOOL, DECIMAL, DATE32, TIMESTAMP_MS, TIMESTAMP_MS_TZ, BINARY, UTF8 = range(10)
LAYOUT_WIDTH = 7
#: Rows of the largest batch (the byte budget usually ends a batch first), and of the smallest after the first.
MAX_BATCH_ROWS = 1_000_000
MIN_BATCH_ROWS = 64
BAD_VALUE_CLASS = "afq.jdbc.ColumnarReader$BadValue"


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """How one column is read: the helper's kind, the Arrow type it produces, and the column's own type."""

    column: SourceColumn
    kind: int
    read_type: pa.DataType
    precision: int = 0
    scale: int = 0
    width: int = 0


def plan_column(column: SourceColumn) -> ColumnPlan:
    t = column.type
    if pa.types.is_integer(t):
        return ColumnPlan(column, INT64, pa.int64())
    if pa.types.is_float32(t):
        return ColumnPlan(column, FLOAT32, pa.float32())
    if pa.types.is_floating(t):
        return ColumnPlan(column, FLOAT64, pa.float64())
    if pa.types.is_boolean(t):
        return ColumnPlan(column, BOOL, pa.bool_())
    if pa.types.is_decimal(t):
        return ColumnPlan(column, DECIMAL, t, t.precision, t.scale, t.byte_width)
    if pa.types.is_date(t):
        return ColumnPlan(column, DATE32, pa.date32())
    if pa.types.is_timestamp(t):
        if t.tz is None:
            return ColumnPlan(column, TIMESTAMP_MS, pa.timestamp("ms"))
        return ColumnPlan(column, TIMESTAMP_MS_TZ, pa.timestamp("ms", "UTC"))
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return ColumnPlan(column, BINARY, pa.binary())
    return ColumnPlan(column, UTF8, pa.string())  # text, and the driver's text for everything else


class ColumnarReader:
    """One open result set read in Arrow batches through the helper class ``reader_class``."""

    def __init__(self, reader_class: Any, result_set: Any, columns: Sequence[SourceColumn]) -> None:
        import jpype

        self.columns = list(columns)
        self.plans = [plan_column(c) for c in self.columns]
        ints = jpype.JArray(jpype.JInt)
        self._reader = reader_class(result_set, ints([p.kind for p in self.plans]),
                                    ints([p.precision for p in self.plans]), ints([p.scale for p in self.plans]),
                                    ints([p.width for p in self.plans]))
        self._names = [c.name for c in self.columns]

    def batches(self, first_rows: int, target_bytes: int) -> Iterator[pa.RecordBatch]:
        """Batches of about ``target_bytes`` (at least 64 rows); the first has ``first_rows`` rows (or fewer, when
        the result has fewer), so a small LIMIT never waits for more rows than it needs."""
        rows, least = first_rows, first_rows
        while True:
            try:
                n = int(self._reader.fill(rows, least, target_bytes))
                batch = self._batch(n) if n else None
            except Exception as e:
                bad = self._bad_value(e)
                if bad is not None:
                    raise bad from None
                raise
            if batch is None:
                return
            yield batch
            if bool(self._reader.exhausted()):
                return
            rows, least = MAX_BATCH_ROWS, MIN_BATCH_ROWS

    def _bad_value(self, error: BaseException) -> SourceError | None:
        get_class = getattr(error, "getClass", None)
        if get_class is None or str(get_class().getName()) != BAD_VALUE_CLASS:
            return None
        index = int(error.column())  # type: ignore[attr-defined]
        plan = self.plans[index] if 0 <= index < len(self.plans) else None
        message = str(error.getMessage())  # type: ignore[attr-defined]
        if plan is None:
            return SourceError(f"cannot read the result: {message}")
        return _column_error(plan, message)

    def _batch(self, n: int) -> pa.RecordBatch:
        if not self.plans:
            return empty_batch(n)
        blob = pa.py_buffer(memoryview(self._reader.buffers()))
        layout = memoryview(self._reader.layout()).cast("B").cast("q").tolist()  # JPype's format is "=q"
        arrays = []
        for i, plan in enumerate(self.plans):
            nulls, v_at, v_len, d_at, d_len, o_at, o_len = layout[i * LAYOUT_WIDTH:(i + 1) * LAYOUT_WIDTH]
            validity = blob.slice(v_at, v_len) if nulls else None
            data = blob.slice(d_at, d_len)
            buffers = [validity, blob.slice(o_at, o_len), data] if plan.kind in (BINARY, UTF8) else [validity, data]
            array = pa.Array.from_buffers(plan.read_type, n, buffers, null_count=nulls)
            arrays.append(_to_column_type(array, plan))
        return pa.RecordBatch.from_arrays(arrays, names=self._names)


def _to_column_type(array: pa.Array, plan: ColumnPlan) -> pa.Array:
    """The helper's array -> the column's type: narrower integers, other units; a value that does not fit fails."""
    t = plan.column.type
    if array.type == t:
        return array
    try:
        return exact_cast.cast(array, t)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError) as e:
        raise _column_error(plan, first_line(e, 200)) from None


def _column_error(plan: ColumnPlan, message: str) -> SourceError:
    t = plan.column.type
    hint = ("; declare the column's precision and scale, or set default_scale for NUMERIC without them"
            if pa.types.is_decimal(t) else "")
    return SourceError(f"column {plan.column.name!r}: values cannot be read as {t} ({message[:300]}){hint}")
