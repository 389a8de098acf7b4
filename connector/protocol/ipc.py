"""Arrow IPC messages as the protocol carries them: one bare Schema or RecordBatch message, no stream.

Two framings exist. Serde v2 (and every spilled block) uses the *legacy* framing: an int32 metadata length and
then the flatbuffer. v3+ uses the *modern* framing with a ``0xFFFFFFFF`` continuation marker first. pyarrow
reads both and writes the modern one; ``to_legacy`` rewrites the prefix for callers that want v2 bytes.

Inline answers are always modern, whatever framing the request used: the Java SDK resolves a v2-shaped request
to the newest serde that parses it (v3 for every request whose JSON did not change, v4 for GetTable), and those
write the modern framing.
"""

from __future__ import annotations

import pyarrow as pa
from pyarrow import ipc

from connector.errors import first_line
from connector.protocol.errors import ProtocolError
from connector.protocol.types import map_type

_CONTINUATION = b"\xff\xff\xff\xff"


def is_legacy(message: bytes) -> bool:
    return len(message) >= 4 and message[:4] != _CONTINUATION


def to_legacy(message: bytes | pa.Buffer) -> bytes:
    """Rewrite a modern-framed message to the legacy framing (the body is unchanged)."""
    return b"".join(legacy_parts(message))


def to_modern(message: bytes) -> bytes:
    """Rewrite a legacy-framed message to the modern framing (the flatbuffer and body are unchanged)."""
    if not is_legacy(message):
        return message
    length = int.from_bytes(message[:4], "little")
    padding = (8 - length % 8) % 8  # modern: the body starts 8-aligned after 8 bytes of prefix
    head = b"".join((_CONTINUATION, (length + padding).to_bytes(4, "little"), message[4 : 4 + length],
                     b"\0" * padding))
    return head + message[4 + length :]


def legacy_parts(message: bytes | pa.Buffer) -> tuple[bytes, memoryview]:
    """A message in the legacy framing as (length + flatbuffer + padding, body), the body a view of ``message``
    rather than a copy (spilled blocks are encrypted piece by piece, and each block-sized copy counts)."""
    data = memoryview(message).cast("B")  # pyarrow exports signed chars; byte consumers want "B"
    if bytes(data[:4]) != _CONTINUATION:
        return b"", data
    length = int.from_bytes(data[4:8], "little")
    padding = (8 - (4 + length) % 8) % 8
    head = b"".join(((length + padding).to_bytes(4, "little"), data[8 : 8 + length], b"\0" * padding))
    return head, data[8 + length :]


def schema_message(schema: pa.Schema, *, legacy: bool = False) -> bytes:
    data = schema.serialize().to_pybytes()
    return to_legacy(data) if legacy else data


def batch_message(batch: pa.RecordBatch, *, legacy: bool = False) -> bytes:
    buffer = batch.serialize()
    return to_legacy(buffer) if legacy else buffer.to_pybytes()


# Whatever pyarrow raises on hostile bytes (ArrowInvalid, ArrowKeyError for a missing dictionary, ArrowIndexError,
# ArrowMemoryError for absurd sizes, OSError or EOFError for short reads...) becomes a ProtocolError naming the field.
ARROW_ERRORS = (pa.ArrowException, ValueError, TypeError, KeyError, IndexError, OSError, MemoryError, OverflowError,
                EOFError)


def read_schema(data: bytes, path: str) -> pa.Schema:
    if not data:
        raise ProtocolError(path, "the schema is empty")
    try:
        schema = ipc.read_schema(pa.py_buffer(data))
        _check_schema(schema)
    except ARROW_ERRORS as e:  # UnicodeDecodeError is a ValueError
        raise ProtocolError(path, f"not an Arrow IPC schema message ({short(e)})") from None
    return schema


def _check_schema(schema: pa.Schema) -> None:
    """What pyarrow's reader lets through but fails later, far from the field that carried it: names and time
    zones that are not UTF-8 (decoded lazily), decimals whose scale exceeds their precision."""
    pending = [schema.field(i) for i in range(len(schema))]
    while pending:
        field = pending.pop()
        _ = field.name
        t = field.type
        if pa.types.is_timestamp(t):
            _ = t.tz
        if pa.types.is_decimal(t) and not 0 <= t.scale <= t.precision:
            raise ValueError(f"field {field.name!r}: decimal scale {t.scale} is outside 0..{t.precision}")
        pending.extend(t.field(i) for i in range(t.num_fields))


def read_batch(data: bytes, schema: pa.Schema, path: str) -> pa.RecordBatch:
    """One record batch message, checked in full before anyone reads it.

    Reading is zero-copy, so a message that claims more rows or larger buffers than it carries allocates
    nothing; full validation then rejects it (offsets outside the data, invalid UTF-8, lengths that do not
    match) before a value is ever read from a bad offset.
    """
    try:
        batch = ipc.read_record_batch(pa.py_buffer(data), schema)
        batch.validate()
        _validate_values(batch)
    except ARROW_ERRORS as e:
        raise ProtocolError(path, f"not an Arrow IPC record batch of the block's schema ({short(e)})") from None
    return batch


def _without_date64(t: pa.DataType) -> pa.DataType:
    return map_type(t, lambda leaf: pa.int64() if pa.types.is_date64(leaf) else leaf)


def _validate_values(batch: pa.RecordBatch) -> None:
    """Full validation, with date64 seen as int64: the protocol's TIMESTAMP travels as date64 holding any
    millisecond, which Arrow's own check would reject as "not a whole number of days"."""
    columns = [c if _without_date64(c.type) == c.type else c.view(_without_date64(c.type)) for c in batch.columns]
    for column in columns:
        column.validate(full=True)


def short(error: Exception) -> str:
    return first_line(error, 200)
