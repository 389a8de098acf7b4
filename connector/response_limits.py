"""The sizes a ReadRecords request controls, bounded: block sizes, and how many blocks one response can list.

``maxBlockSize`` decides how many S3 objects a split becomes. The protocol gives it no lower bound and the Java
SDK applies none, so a request asking for 210-byte blocks makes one object per row (120,000 objects in 44 s,
then a response listing them that Lambda cannot return). Here it must be at least ``MIN_BLOCK_BYTES``, and
values above Athena's own maximum (16,000,000 bytes - larger blocks are rejected by Athena) are lowered to it:
smaller blocks are always acceptable, and memory is a few blocks.

``maxInlineBlockSize`` needs no floor: a small value only means "spill" (``afq validate`` sends 1 on purpose),
and its ceiling is Lambda's 6 MB response, which ``connector.records`` enforces on the serialized JSON.

A spilled answer lists one location per block. ReadRecords has no continuation (a split is answered by exactly
one response), so the response cannot be ended early: the number of blocks is bounded instead, by what fits in
6,000,000 bytes of JSON as the Lambda runtime writes it, and a split that would need more fails before the block
that would not fit is written, saying how to split it further.
"""

from __future__ import annotations

import json
from typing import Any

from connector.errors import ConfigurationError, InvalidRequest, ResultTooLarge
from connector.protocol.messages import SpillLocation

#: Lambda's synchronous response limit is 6 MB; every response stays under it as the runtime serializes it.
MAX_RESPONSE_BYTES = 6_000_000
#: Smallest spilled block: a split of N bytes is at most N / 256 KiB objects.
MIN_BLOCK_BYTES = 256 << 10
#: Athena rejects blocks larger than this ("exceeded the max block size ... Expected <= 16000000 bytes").
MAX_BLOCK_BYTES = 16_000_000


def block_size_for(requested: int, override: int | None) -> int:
    """The block size a ReadRecords spills with: ``MAX_BLOCK_SIZE_BYTES`` if set, else the request's
    ``maxBlockSize``; too small is an error naming which, too large is lowered to Athena's maximum."""
    value, name = (override, "MAX_BLOCK_SIZE_BYTES") if override is not None else (requested, "maxBlockSize")
    if value < MIN_BLOCK_BYTES:
        message = (f"{name} is {value} bytes; the smallest block this connector spills is {MIN_BLOCK_BYTES} bytes "
                   f"(smaller blocks turn a result into one S3 object per few rows). Athena sends 16000000")
        raise ConfigurationError(message) if override is not None else InvalidRequest(message)
    return min(value, MAX_BLOCK_BYTES)


def json_size(wire: Any) -> int:
    """Bytes of ``wire`` as the Lambda runtime sends it (Python's default separators, non-ASCII escaped: the
    larger of the runtime's two encodings)."""
    return len(json.dumps(wire).encode())


def remote_block_capacity(envelope: Any, location: SpillLocation, *, index_digits: int = 9) -> int:
    """How many block locations under ``location`` fit into a RemoteReadRecordsResponse ``envelope`` (the wire
    dict with no blocks) within ``MAX_RESPONSE_BYTES``. Each entry is counted as long as the longest index."""
    sample = SpillLocation(location.bucket, f"{location.key}.{'9' * index_digits}", False)
    per_block = json_size(sample.to_wire()) + len(", ")
    room = MAX_RESPONSE_BYTES - json_size(envelope)
    return max(0, room // per_block)


def check_response_size(wire: Any, what: str) -> int:
    """The serialized size of a response, or ``ResultTooLarge`` if Lambda could not return it."""
    size = json_size(wire)
    if size > MAX_RESPONSE_BYTES:
        raise ResultTooLarge(f"the {what} would be {size:,} bytes of JSON, more than Lambda's response limit of "
                             f"{MAX_RESPONSE_BYTES:,} bytes")
    return size
