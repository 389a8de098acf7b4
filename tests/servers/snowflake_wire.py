"""Snowflake's Arrow result chunks as a real server encodes them, for the emulator and for driver-level tests.

No Snowflake server can run here, so the layout is taken from the sources that describe what a real server sends:

* snowflake-connector-python 5.2's converter (``_internal/nanoarrow_cpp/ArrowIterator/ArrowTableConverter.cpp``,
  installed in .venv): it reads each field's ``logicalType``/``scale``/``byteLength`` metadata and accepts FIXED as
  int8/int16/int32/int64 *scaled integers* (converted only when ``scale > 0``) or decimal128 (left alone);
  TIMESTAMP_NTZ/LTZ as a scaled int64 or a struct ``{epoch: int64, fraction: int32}``; TIMESTAMP_TZ as a struct
  ``{epoch, timezone}`` (``byteLength`` 8: epoch scaled) or ``{epoch, fraction, timezone}`` (``byteLength`` 16:
  epoch in seconds, fraction in nanoseconds), ``timezone`` being the UTC offset in minutes + 1440; TIME as a
  scaled integer.
* the connector's own unit test ``test/unit/test_arrow_force_microsecond_precision.py``: "TIMESTAMP_NTZ/LTZ at
  scale 7 are sent by the server as a plain int64".
* snowflake-jdbc's ``ArrowBatchesIT`` (run against a real account): the integer width is chosen from the values -
  ``SELECT 1 UNION ...`` arrives as TinyInt, ``129`` as SmallInt, ``100000`` as Int, ``10000000000`` as BigInt -
  and ``1.1`` is a scaled integer the JDBC driver turns into a decimal.

Not documented anywhere, so assumed the stricter way: the width is chosen per chunk (a server writes the chunks of
a result independently), so it may differ between the chunks of one result.

fakesnow (DuckDB underneath) sends every NUMBER as decimal128, which the driver passes through untouched: the
float64 conversion of scaled FIXED integers (the driver's default) can then never show. ``encode`` rewrites a
fakesnow table into the real encoding; ``RECORDED_LAYOUT`` is the expected layout per column type, checked against
the emulator's actual chunks in tests/adapters/snowflake/test_wire.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa

#: (Snowflake type, values in its chunk) -> (Arrow type of the chunk column, metadata that matters to the driver).
RECORDED_LAYOUT: dict[str, tuple[pa.DataType, dict[str, str]]] = {
    "NUMBER(38,0) 1..3": (pa.int8(), {"logicalType": "FIXED", "precision": "38", "scale": "0"}),
    "NUMBER(38,0) 129..131": (pa.int16(), {"logicalType": "FIXED", "precision": "38", "scale": "0"}),
    "NUMBER(38,0) 100000..100002": (pa.int32(), {"logicalType": "FIXED", "precision": "38", "scale": "0"}),
    "NUMBER(38,0) 10000000000..": (pa.int64(), {"logicalType": "FIXED", "precision": "38", "scale": "0"}),
    "NUMBER(38,2) 10**20": (pa.decimal128(38, 2), {"logicalType": "FIXED", "precision": "38", "scale": "2"}),
    "NUMBER(18,2) 1234567890123456.78": (pa.int64(), {"logicalType": "FIXED", "precision": "18", "scale": "2"}),
    "NUMBER(10,3) 1234567.125": (pa.int32(), {"logicalType": "FIXED", "precision": "10", "scale": "3"}),
    "TIME(9)": (pa.int64(), {"logicalType": "TIME", "scale": "9"}),
    "TIMESTAMP_NTZ(9)": (pa.struct([pa.field("epoch", pa.int64(), False), pa.field("fraction", pa.int32(), False)]),
                         {"logicalType": "TIMESTAMP_NTZ", "scale": "9"}),
    "TIMESTAMP_TZ(9)": (pa.struct([pa.field("epoch", pa.int64(), False), pa.field("fraction", pa.int32(), False),
                                   pa.field("timezone", pa.int32(), False)]),
                        {"logicalType": "TIMESTAMP_TZ", "scale": "9", "byteLength": "16"}),
}

_INTEGERS = (pa.int8(), pa.int16(), pa.int32(), pa.int64())


def _unscaled(value: Any, scale: int) -> int:
    exact = Decimal(value).scaleb(scale)
    if exact != exact.to_integral_value():
        raise ValueError(f"{value!r} has more than {scale} decimal places")
    return int(exact)


def fixed_column(array: pa.Array, scale: int) -> pa.Array:
    """A NUMBER column as the server sends it: unscaled integers in the narrowest width that holds this chunk's
    values (SB1..SB8), or decimal128(38, scale) (SB16) when int64 cannot."""
    values = [None if v is None else _unscaled(v, scale) for v in array.to_pylist()]
    present = [v for v in values if v is not None]
    for t in _INTEGERS:
        bits = t.bit_width - 1
        if all(-(1 << bits) <= v < (1 << bits) for v in present):
            return pa.array(values, t)
    return pa.array([None if v is None else Decimal(v).scaleb(-scale) for v in values], pa.decimal128(38, scale))


def encode(table: pa.Table) -> pa.Table:
    """A result table in fakesnow's encoding -> the same values in a real server's chunk encoding."""
    fields, columns = [], []
    for field, column in zip(table.schema, table.columns, strict=True):
        metadata = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        logical = metadata.get("logicalType", "")
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if logical == "FIXED":
            array = fixed_column(array, int(metadata.get("scale") or 0))
        elif logical == "TIMESTAMP_TZ":
            # The driver defaults a missing byteLength to 16; a real server always says which struct it sends.
            metadata["byteLength"] = "16" if pa.types.is_struct(array.type) and array.type.num_fields == 3 else "8"
        fields.append(pa.field(field.name, array.type, field.nullable, metadata))
        columns.append(array)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=table.schema.metadata))


def ipc_bytes(table: pa.Table) -> bytes:
    """One result chunk: an Arrow IPC stream (what ``rowsetBase64`` and the chunk URLs carry)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())
