"""Query results as text or files: an aligned table, CSV, JSON lines, or Parquet - batch by batch.

Every format but ``table`` streams: a batch is converted with Arrow's compute kernels and written by Arrow's
own writers (``pyarrow.csv``, ``pyarrow.parquet``), so memory stays one batch whatever the result's size and no
value passes through Python one at a time (except VARBINARY's base64 and nested values, which are rare).

``csv`` is written as Athena writes query results: a header, every value in double quotes, NULL as an empty
unquoted field - so NULL and the empty string (``""``) differ. Values are encoded as in ``table``.

``jsonl`` (design contract 4): one JSON object per row, keys = column names; integers and floats as JSON
numbers (NaN and infinities, which JSON cannot hold, as the strings ``"NaN"``, ``"Infinity"``,
``"-Infinity"``), DECIMAL as a string, DATE as ``YYYY-MM-DD``, TIMESTAMP as ISO-8601, VARBINARY as base64,
NULL as null, arrays/structs/maps as JSON arrays/objects (map keys as strings).

``table`` is for people: columns aligned by display width (CJK and emoji take two cells), control characters
such as newlines shown escaped (``\\n``), NULL as ``NULL``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

FORMATS = ("table", "csv", "jsonl", "parquet")
#: Formats whose output is bytes (a file or a pipe), and the file suffixes that select them with --output.
BINARY_FORMATS = ("parquet",)
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet",
            ".pq": "parquet"}
_STRING = pa.string()


# ------------------------------------------------------------------------------------------ per value (nested only)


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
        return json.dumps(encoded, separators=(",", ":"), ensure_ascii=False)
    return str(encoded)


# ------------------------------------------------------------------------------------------ whole columns


def _array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def _decoded(array: pa.Array) -> pa.Array:
    """Dictionary-encoded and view/large string columns (DuckDB ENUM, VARCHAR) as plain arrays."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_large_string(array.type) or getattr(pa.types, "is_string_view", lambda _: False)(array.type):
        array = array.cast(_STRING)
    if pa.types.is_large_binary(array.type) or getattr(pa.types, "is_binary_view", lambda _: False)(array.type):
        array = array.cast(pa.binary())
    return array


_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _shortest_fraction(array: pa.Array, unit: str) -> pa.Array:
    """Arrow's text of each value in the coarsest of s, ms, us, ns that holds it exactly: ``07:08:09`` rather
    than ``07:08:09.000000``, ``.123`` rather than ``.123000`` (as Python's ``isoformat`` chooses)."""
    finest = _PER_SECOND[unit]
    coarser = [u for u in ("s", "ms", "us") if _PER_SECOND[u] < finest]
    if not coarser:
        return array.cast(_STRING)
    ticks = array.cast(pa.int64())
    masks = []
    text = None
    for u in coarser:
        factor = finest // _PER_SECOND[u]
        exact = pc.equal(pc.subtract(ticks, pc.multiply(pc.divide(ticks, factor), factor)), 0)
        if pc.all(exact).as_py():  # the usual case: one unit fits the whole batch, one cast
            text = _cast_text(array, u)
            break
        masks.append((u, exact))
    if text is None:
        text = array.cast(_STRING)
    for u, exact in reversed(masks):  # finest first, so the coarsest fitting unit wins
        if pc.any(exact).as_py():
            text = pc.if_else(exact, _cast_text(array, u), text)
    return text


def _cast_text(array: pa.Array, unit: str) -> pa.Array:
    t = array.type
    if pa.types.is_timestamp(t):
        target = pa.timestamp(unit, t.tz)
    else:
        target = pa.time32(unit) if unit in ("s", "ms") else pa.time64(unit)
    return array.cast(target, safe=False).cast(_STRING)


def _timestamps(array: pa.Array, sep: str) -> pa.Array:
    if pa.types.is_date64(array.type):
        array = array.cast(pa.timestamp("ms"))
    text = _shortest_fraction(array, array.type.unit)  # Arrow's casts are fast; strftime is 30x slower
    if sep != " ":
        text = pc.replace_substring(text, " ", sep, max_replacements=1)
    if array.type.tz:  # Arrow writes the wall time in the value's zone and +0100 or Z; ISO-8601 says +01:00
        text = pc.replace_substring_regex(text, r"Z$", "+00:00")
        text = pc.replace_substring_regex(text, r"([+-]\d\d)(\d\d)$", r"\1:\2")
    return text


def _floats(array: pa.Array) -> pa.Array:
    text = array.cast(_STRING)
    whole = pc.invert(pc.or_(pc.or_(pc.match_substring(text, "."), pc.match_substring(text, "e")),
                             pc.match_substring(text, "n")))
    if pc.any(whole).as_py():  # 2.0 stays a float when read back (Arrow prints it as "2")
        text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
    if pc.any(pc.match_substring(text, "n")).as_py():
        for raw, athena in (("nan", "NaN"), ("-inf", "-Infinity"), ("inf", "Infinity")):
            text = pc.if_else(pc.equal(text, raw), athena, text)
    return text


def _per_value(array: pa.Array, encode: Callable[[Any, pa.DataType], str | None]) -> pa.Array:
    t = array.type
    return pa.array([encode(v, t) for v in array.to_pylist()], _STRING)


def _binary_text(value: Any, t: pa.DataType) -> str | None:
    return None if value is None else base64.b64encode(value).decode("ascii")


def text_column(column: pa.Array | pa.ChunkedArray, sep: str = " ") -> pa.Array:
    """A column as text cells (NULL stays null): the ``table``/``csv`` encoding, vectorized."""
    array = _decoded(_array(column))
    t = array.type
    if pa.types.is_string(t):
        return array
    if pa.types.is_null(t):
        return pa.nulls(len(array), _STRING)
    if pa.types.is_floating(t):
        return _floats(array)
    if pa.types.is_timestamp(t) or pa.types.is_date64(t):
        return _timestamps(array, sep)
    if pa.types.is_time(t):
        return _shortest_fraction(array, t.unit)
    if pa.types.is_binary(t) or pa.types.is_fixed_size_binary(t):
        return _per_value(array, _binary_text)
    if pa.types.is_nested(t):
        return _per_value(array, text_value)
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_date32(t):
        return array.cast(_STRING)
    try:
        return array.cast(_STRING)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # intervals, extension types...
        return _per_value(array, text_value)


_JSON_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROL = re.compile(rb"[\x00-\x1f]")
_QUOTE = re.compile(rb'"')
_BACKSLASH = re.compile(rb"\\")


def _data(array: pa.Array) -> memoryview:
    """The bytes of every value of a string array, back to back (nulls take none)."""
    buffers = array.buffers()
    if buffers[2] is None or not len(array):
        return memoryview(b"")
    offsets = pa.Array.from_buffers(pa.int32(), len(array) + 1, [None, buffers[1]], offset=array.offset)
    return memoryview(buffers[2])[offsets[0].as_py():offsets[-1].as_py()]


def _quoted(text: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise('"', text, '"', "")


def _json_strings(text: pa.Array) -> pa.Array:
    """Strings as JSON string literals (quotes, backslashes and control characters escaped)."""
    data = _data(text)
    if _BACKSLASH.search(data):
        text = pc.replace_substring(text, "\\", "\\\\")
    if _QUOTE.search(data):
        text = pc.replace_substring(text, '"', '\\"')
    if _CONTROL.search(data):
        for code in range(0x20):
            char = chr(code)
            text = pc.replace_substring(text, char, _JSON_ESCAPES.get(char, f"\\u{code:04x}"))
    return _quoted(text)


def _json_nested(value: Any, t: pa.DataType) -> str:
    return json.dumps(json_value(value, t), ensure_ascii=False, separators=(",", ":"))


def json_column(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as JSON text per row (``null`` for NULL): the ``jsonl`` encoding, vectorized."""
    array = _decoded(_array(column))
    t = array.type
    if pa.types.is_null(t):
        return pa.array(["null"] * len(array), _STRING)
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        text = array.cast(_STRING)
    elif pa.types.is_floating(t):
        text = _floats(array)
        special = pc.is_in(text, pa.array(["NaN", "Infinity", "-Infinity"]))
        if pc.any(special).as_py():  # strings, as JSON has no such numbers
            text = pc.if_else(special, _quoted(text), text)
    elif pa.types.is_nested(t):
        text = pa.array([None if v is None else _json_nested(v, t) for v in array.to_pylist()], _STRING)
    elif pa.types.is_timestamp(t) or pa.types.is_date64(t):
        text = _quoted(_timestamps(array, "T"))
    elif pa.types.is_string(t):
        text = _json_strings(array)
    elif pa.types.is_decimal(t) or pa.types.is_date(t) or pa.types.is_time(t) or pa.types.is_binary(t) or \
            pa.types.is_fixed_size_binary(t):
        text = _quoted(text_column(array))  # digits, dashes, colons, base64: nothing to escape
    else:
        text = _json_strings(text_column(array))
    return text.fill_null("null")


# ------------------------------------------------------------------------------------------ streaming writers


class BatchWriter(Protocol):
    def write(self, batch: pa.RecordBatch) -> None:
        """Write one batch of the result."""

    def close(self) -> None:
        """Finish the output (a Parquet footer...); the sink stays open."""


class JsonLinesWriter:
    def __init__(self, sink: IO[bytes], schema: pa.Schema) -> None:
        self.sink = sink
        self.keys = [json.dumps(name, ensure_ascii=False) + ":" for name in schema.names]

    def write(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        if not self.keys:
            self.sink.write(b"{}\n" * batch.num_rows)
            return
        parts: list[Any] = []
        for i, (key, column) in enumerate(zip(self.keys, batch.columns, strict=True)):
            parts += [pa.scalar(("{" if i == 0 else ",") + key), json_column(column)]
        parts.append(pa.scalar("}\n"))
        self.sink.write(_data(pc.binary_join_element_wise(*parts, "")))

    def close(self) -> None:
        self.sink.flush()


def _csv_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Columns whose Arrow CSV rendering differs from the table encoding (floats, timestamps, binary, nested)
    become text; integers, decimals, dates, booleans and strings are written by Arrow as they are."""
    columns = []
    for column in batch.columns:
        t = _decoded(column).type
        keep = pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_date32(t) or \
            pa.types.is_boolean(t) or pa.types.is_string(t)
        columns.append(_decoded(column) if keep else text_column(column))
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


class CsvWriter:
    """Each batch through ``pyarrow.csv.write_csv`` into memory, then to the sink (which stays open)."""

    def __init__(self, sink: IO[bytes], schema: pa.Schema) -> None:
        from pyarrow import csv

        self.sink = sink
        self._csv = csv
        self._header = True
        self.schema = schema

    def write(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows and not self._header:
            return
        buffer = pa.BufferOutputStream()
        options = self._csv.WriteOptions(quoting_style="all_valid", include_header=self._header)
        self._csv.write_csv(_csv_batch(batch), buffer, write_options=options)
        self._header = False
        self.sink.write(memoryview(buffer.getvalue()))

    def close(self) -> None:
        if self._header:  # no batch at all: the header alone
            self.write(pa.RecordBatch.from_arrays([pa.array([], f.type) for f in self.schema],
                                                  names=self.schema.names))
        self.sink.flush()


class ParquetWriter:
    def __init__(self, sink: IO[bytes], schema: pa.Schema) -> None:
        import pyarrow.parquet as pq

        self.sink = sink
        self._file = pa.PythonFile(sink, mode="w")  # not closed by the writer: the caller owns the sink
        self._writer = pq.ParquetWriter(self._file, schema)

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self._writer.write_batch(batch)

    def close(self) -> None:
        self._writer.close()
        self.sink.flush()


def open_writer(fmt: str, sink: IO[bytes], schema: pa.Schema) -> BatchWriter:
    if fmt == "csv":
        return CsvWriter(sink, schema)
    if fmt == "jsonl":
        return JsonLinesWriter(sink, schema)
    if fmt == "parquet":
        return ParquetWriter(sink, schema)
    raise ValueError(f"{fmt!r} is not a streaming format; choose one of csv, jsonl, parquet")


def write_batches(batches: Iterable[pa.RecordBatch], schema: pa.Schema, fmt: str, sink: IO[bytes],
                  on_rows: Callable[[int], None] | None = None) -> int:
    """Write a stream of batches in ``fmt`` (not ``table``); the number of rows written."""
    writer = open_writer(fmt, sink, schema)
    rows = 0
    for batch in batches:
        writer.write(batch)
        rows += batch.num_rows
        if on_rows is not None:
            on_rows(batch.num_rows)
    writer.close()
    return rows


# ------------------------------------------------------------------------------------------ table


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_cell(text: str) -> str:
    """Control characters as escapes, so every row stays on one line."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        # Joiners stay (emoji sequences); bidi overrides and other format characters are shown escaped.
        if char.isprintable() or char in "\u200c\u200d" or unicodedata.category(char) in ("Mn", "Me"):
            out.append(char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out)


def _char_width(char: str) -> int:
    code = ord(char)
    if 0x20 <= code < 0x7F:
        return 1
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf") or \
            0x1160 <= code <= 0x11FF or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal cells a string takes, as ``wcwidth`` counts them, plus the emoji sequences terminals draw as one
    wide glyph: ZWJ sequences, skin tones, flags (regional indicator pairs) and VS16 presentation."""
    if text.isascii():
        return len(text)
    width = 0
    previous = ""
    regional = False
    for char in text:
        code = ord(char)
        if previous == "\u200d":  # joined onto the emoji before it
            previous = char
            continue
        if 0x1F3FB <= code <= 0x1F3FF and previous:  # skin tone modifier of the previous emoji
            previous = char
            continue
        if char == "\ufe0f" and previous and _char_width(previous) == 1:
            width += 1  # VS16: the previous symbol is drawn as a (wide) emoji
            previous = char
            continue
        if 0x1F1E6 <= code <= 0x1F1FF:
            width += 0 if regional else 2  # a flag is two regional indicators in one wide cell
            regional = not regional
            previous = char
            continue
        regional = False
        width += _char_width(char)
        previous = char
    return width


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def _cells(column: pa.ChunkedArray | pa.Array) -> list[str]:
    return ["NULL" if v is None else escape_cell(v) for v in text_column(column).to_pylist()]


def write_table(table: pa.Table, stream: IO[str]) -> None:
    names = [escape_cell(n) for n in table.column_names]
    numeric = [pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)
               for f in table.schema]
    columns = [_cells(table.column(i)) for i in range(table.num_columns)]
    widths = [max([display_width(n)] + [display_width(c) for c in cells]) for n, cells in zip(names, columns,
                                                                                            strict=True)]

    def line(values: Iterable[str]) -> str:
        return " | ".join(_pad(v, w, num) for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    stream.write(line(names) + "\n")
    stream.write("-+-".join("-" * w for w in widths) + "\n")
    for row in zip(*columns, strict=True):
        stream.write(line(row) + "\n")
    rows = table.num_rows
    stream.write(f"({rows} row{'' if rows == 1 else 's'})\n")


# ------------------------------------------------------------------------------------------ whole results


class _TextSink:
    """A text stream seen as bytes (UTF-8), for writers that produce bytes."""

    closed = False

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, data: bytes | memoryview) -> int:
        self.stream.write(bytes(data).decode("utf-8"))
        return len(data)

    def flush(self) -> None:
        self.stream.flush()


def binary_sink(stream: IO[str]) -> IO[bytes]:
    """The byte stream under a text stream (stdout), flushed first; or an adapter that decodes into it."""
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    return buffer if buffer is not None else _TextSink(stream)  # type: ignore[return-value]


def write_csv(table: pa.Table, stream: IO[str]) -> None:
    _write_whole(table, "csv", stream)


def write_jsonl(table: pa.Table, stream: IO[str]) -> None:
    _write_whole(table, "jsonl", stream)


def _write_whole(table: pa.Table, fmt: str, stream: IO[str]) -> None:
    write_batches(table.to_batches(max_chunksize=65536), table.schema, fmt, binary_sink(stream))


def write_result(table: pa.Table, fmt: str, stream: IO[str]) -> None:
    if fmt == "table":
        write_table(table, stream)
    elif fmt in FORMATS:
        _write_whole(table, fmt, stream)
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
