"""Query results as text: an aligned table, CSV, or JSON lines.

``jsonl`` (design contract 4): one JSON object per row, keys = column names; integers and floats as JSON
numbers (NaN and infinities, which JSON cannot hold, as the strings ``"NaN"``, ``"Infinity"``,
``"-Infinity"``), DECIMAL as a string, DATE as ``YYYY-MM-DD``, TIMESTAMP as ISO-8601, VARBINARY as base64,
NULL as null, arrays/structs/maps as JSON arrays/objects (map keys as strings).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import json
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

import pyarrow as pa

FORMATS = ("table", "csv", "jsonl")


def _timestamp(value: dt.datetime, sep: str) -> str:
    spec = "seconds" if value.microsecond == 0 else (
        "milliseconds" if value.microsecond % 1000 == 0 else "microseconds")
    return value.isoformat(sep=sep, timespec=spec)


def json_value(value: Any, t: pa.DataType) -> Any:
    """A value of Arrow type ``t`` (as ``to_pylist`` gives it) in the jsonl encoding."""
    if value is None:
        return None
    if pa.types.is_boolean(t) or pa.types.is_integer(t):
        return value
    if pa.types.is_floating(t):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if pa.types.is_decimal(t):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    if pa.types.is_timestamp(t) or pa.types.is_date64(t):
        return _timestamp(value, "T") if isinstance(value, dt.datetime) else str(value)
    if pa.types.is_date(t) or pa.types.is_time(t):
        return value.isoformat()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return base64.b64encode(value).decode("ascii")
    if pa.types.is_map(t):
        return {str(json_value(k, t.key_type)): json_value(v, t.item_type) for k, v in value}
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return [json_value(v, t.value_type) for v in value]
    if pa.types.is_struct(t):
        return {t.field(i).name: json_value(value.get(t.field(i).name), t.field(i).type)
                for i in range(t.num_fields)}
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def text_value(value: Any, t: pa.DataType) -> str | None:
    """A value as a table or CSV cell (``None`` for NULL)."""
    if value is None:
        return None
    if pa.types.is_timestamp(t) and isinstance(value, dt.datetime):
        return _timestamp(value, " ")
    if pa.types.is_boolean(t):
        return "true" if value else "false"
    encoded = json_value(value, t)
    if isinstance(encoded, list | dict):
        return json.dumps(encoded, separators=(",", ":"))
    return str(encoded)


def _rows(table: pa.Table) -> Iterator[list[Any]]:
    types = [f.type for f in table.schema]
    for batch in table.to_batches(max_chunksize=4096):
        columns = [c.to_pylist() for c in batch.columns]
        for i in range(batch.num_rows):
            yield [(columns[j][i], types[j]) for j in range(len(types))]


def write_jsonl(table: pa.Table, stream: IO[str]) -> None:
    names = table.column_names
    for row in _rows(table):
        record = {name: json_value(v, t) for name, (v, t) in zip(names, row, strict=True)}
        stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


def write_csv(table: pa.Table, stream: IO[str]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in _rows(table):
        writer.writerow(["" if (cell := text_value(v, t)) is None else cell for v, t in row])


def write_table(table: pa.Table, stream: IO[str]) -> None:
    names = table.column_names
    numeric = [pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)
               for f in table.schema]
    cells = [["NULL" if (cell := text_value(v, t)) is None else cell for v, t in row] for row in _rows(table)]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]

    def line(values: list[str]) -> str:
        return " | ".join(v.rjust(w) if num else v.ljust(w)
                          for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    stream.write(line(names) + "\n")
    stream.write("-+-".join("-" * w for w in widths) + "\n")
    for row in cells:
        stream.write(line(row) + "\n")
    stream.write(f"({len(cells)} row{'' if len(cells) == 1 else 's'})\n")


def write_result(table: pa.Table, fmt: str, stream: IO[str]) -> None:
    if fmt == "jsonl":
        write_jsonl(table, stream)
    elif fmt == "csv":
        write_csv(table, stream)
    elif fmt == "table":
        write_table(table, stream)
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
