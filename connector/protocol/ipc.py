"""Arrow IPC messages as the protocol carries them: one bare Schema or RecordBatch message, no stream.

Two framings exist. Serde v2 (and every spilled block) uses the *legacy* framing: an int32 metadata length and
then the flatbuffer. v3+ uses the *modern* framing with a ``0xFFFFFFFF`` continuation marker first. pyarrow
reads both and writes the modern one; ``to_legacy`` rewrites the prefix for callers that want v2 bytes.
"""

from __future__ import annotations

import pyarrow as pa
from pyarrow import ipc

from connector.protocol.errors import ProtocolError

_CONTINUATION = b"\xff\xff\xff\xff"


def is_legacy(message: bytes) -> bool:
    return len(message) >= 4 and message[:4] != _CONTINUATION


def to_legacy(message: bytes | pa.Buffer) -> bytes:
    """Rewrite a modern-framed message to the legacy framing (the body is unchanged)."""
    return b"".join(legacy_parts(message))


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


def read_schema(data: bytes, path: str) -> pa.Schema:
    if not data:
        raise ProtocolError(path, "the schema is empty")
    try:
        return ipc.read_schema(pa.py_buffer(data))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, ValueError) as e:
        raise ProtocolError(path, f"not an Arrow IPC schema message ({_short(e)})") from None


def read_batch(data: bytes, schema: pa.Schema, path: str) -> pa.RecordBatch:
    try:
        batch = ipc.read_record_batch(pa.py_buffer(data), schema)
        batch.validate()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, ValueError, IndexError) as e:
        raise ProtocolError(path, f"not an Arrow IPC record batch of the block's schema ({_short(e)})") from None
    return batch


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]
