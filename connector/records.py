"""Answer a ReadRecords request: inline when it fits, otherwise spilled to S3 block by block.

The decision is made on serialized bytes. A response is inline only if its records message is smaller than
``maxInlineBlockSize`` *and* the whole JSON response stays under Lambda's 6 MB payload limit (base64 grows the
bytes by a third). Once a result is known not to fit, every block goes to the spiller as soon as it is full,
so memory stays bounded by the block size rather than the result size. A spilled response lists every block,
so the number of blocks is bounded too (``connector.response_limits``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

import pyarrow as pa

from connector.batching import concat, cut_to_size, message_size
from connector.errors import ResultTooLarge
from connector.protocol import ipc
from connector.protocol.block import Block, SchemaMessage
from connector.protocol.messages import (
    ReadRecordsRequest,
    ReadRecordsResponse,
    RemoteReadRecordsResponse,
    SpillLocation,
)
from connector.protocol.types import batch_to_wire
from connector.response_limits import MAX_RESPONSE_BYTES, check_response_size, json_size, remote_block_capacity

__all__ = ["MAX_RESPONSE_BYTES", "BlockSpiller", "SpillerFactory", "inline_budget", "respond"]


class BlockSpiller(Protocol):
    """Writes one split's blocks to its spill location (``spill`` implements it)."""

    location: SpillLocation  # the split's directory: blocks are <key>.0, <key>.1, ...

    def write(self, batch: pa.RecordBatch) -> None:
        """Spill one wire-form batch whose message is within the block limit."""

    def finish(self) -> Sequence[SpillLocation]:
        """Wait for every block to be stored; the locations in block order."""

    def abort(self) -> None:
        """Stop and discard after a failure."""


SpillerFactory = Callable[[ReadRecordsRequest], BlockSpiller]


def inline_budget(request: ReadRecordsRequest) -> int:
    """Largest records message that keeps the inline JSON response under ``MAX_RESPONSE_BYTES``."""
    envelope = ReadRecordsResponse(request.catalog_name, Block(_schema_bytes(request), b"")).to_wire()
    overhead = json_size(envelope)
    base64_room = MAX_RESPONSE_BYTES - overhead - 64
    return min(request.max_inline_block_size - 1, base64_room // 4 * 3)


def respond(request: ReadRecordsRequest, rows: Iterable[pa.RecordBatch], *, max_block_size: int,
            spiller_factory: SpillerFactory | None) -> ReadRecordsResponse | RemoteReadRecordsResponse:
    """Build the response from logical batches that already match the request schema."""
    wire_schema = request.schema.wire_schema("schema")
    wire = (batch_to_wire(b, wire_schema) for b in rows)
    budget = inline_budget(request)

    buffered: list[pa.RecordBatch] = []
    size = 0
    stream: Iterator[pa.RecordBatch] = iter(wire)
    for batch in stream:
        if not batch.num_rows:
            continue
        buffered.append(batch)
        size += message_size(batch)
        if size > budget:
            break
    else:
        # maxInlineBlockSize <= 0 spills everything, even nothing (Java's spiller reports "spilled" for any block
        # of at least that size, the empty one included, and answers with zero remote blocks).
        if not buffered and (budget >= 0 or spiller_factory is None):
            return ReadRecordsResponse(request.catalog_name, Block(_schema_bytes(request), b""))
        if buffered:
            message = ipc.batch_message(concat(buffered))
            if len(message) <= budget:
                return ReadRecordsResponse(request.catalog_name, Block(_schema_bytes(request), message))
        stream = iter(())

    if spiller_factory is None:
        raise ResultTooLarge(
            f"the result of split {dict(request.split.properties)} for {request.table_name} does not fit in an "
            f"inline response ({budget} bytes) and spilling is not available; configure spill_bucket")
    spiller = spiller_factory(request)
    envelope = RemoteReadRecordsResponse(request.catalog_name, request.schema, (), request.split.encryption_key)
    capacity = remote_block_capacity(envelope.to_wire(), spiller.location)
    try:
        for written, block in enumerate(cut_to_size(itertools.chain(buffered, stream), max_block_size)):
            if written >= capacity:
                raise ResultTooLarge(
                    f"split {dict(request.split.properties)} of {request.table_name} needs more than {capacity} "
                    f"spilled blocks of at most {max_block_size} bytes: the RemoteReadRecordsResponse listing them "
                    f"would pass Lambda's {MAX_RESPONSE_BYTES}-byte response limit, and ReadRecords has no "
                    f"continuation. Read the table in more splits (the adapter's split settings), or with larger "
                    f"blocks (maxBlockSize / MAX_BLOCK_SIZE_BYTES)")
            spiller.write(block)
        locations = spiller.finish()
    except BaseException:
        spiller.abort()
        raise
    response = RemoteReadRecordsResponse(request.catalog_name, SchemaMessage(_schema_bytes(request)),
                                         tuple(locations), request.split.encryption_key)
    check_response_size(response.to_wire(), "RemoteReadRecordsResponse")  # holds by construction; never send more
    return response


def _schema_bytes(request: ReadRecordsRequest) -> bytes:
    """The request's own schema message, in the modern framing Java answers every serde version with."""
    return ipc.to_modern(request.schema.data)
