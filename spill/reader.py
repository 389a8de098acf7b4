"""Read a ``RemoteReadRecordsResponse`` back the way Athena does: fetch, decrypt, decode each block in order.

The local Athena and the tests use it. Blocks are fetched one at a time (the next one in the background), so
reading a large spilled result needs memory for two blocks, not the result.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import pyarrow as pa

from connector.config import Settings
from connector.errors import SpillError
from connector.protocol import ipc
from connector.protocol.errors import ProtocolError
from connector.protocol.messages import EncryptionKey, RemoteReadRecordsResponse, SpillLocation
from connector.protocol.types import batch_to_logical
from spill.crypto import decrypt
from spill.stores import Store, store_for


def decode_block(data: bytes, key: EncryptionKey | None, wire_schema: pa.Schema,
                 where: str = "a spilled block") -> pa.RecordBatch:
    """The wire-form batch in one spilled object's bytes (decrypted with ``key`` unless it is ``None``)."""
    plaintext = data if key is None else decrypt(key, data, where)
    if not plaintext:
        raise SpillError(f"{where} is empty; a spilled block holds one Arrow record batch message")
    try:
        return ipc.read_batch(plaintext, wire_schema, where)
    except ProtocolError as e:
        hint = " (is it encrypted while the response has no encryptionKey?)" if key is None else ""
        raise SpillError(f"{e.problem}{hint}: {where}") from None


def read_block(store: Store, location: SpillLocation, key: EncryptionKey | None,
               wire_schema: pa.Schema) -> pa.RecordBatch:
    """Fetch and decode one block; returns the wire-form batch (as Athena loads it)."""
    where = store.describe(location.bucket, location.key)
    return decode_block(store.get(location.bucket, location.key), key, wire_schema, where)


def read_remote_wire_blocks(response: RemoteReadRecordsResponse, settings: Settings) -> Iterator[pa.RecordBatch]:
    """The response's blocks in order, in wire form, fetching the next block while the caller uses this one."""
    wire_schema = response.schema.wire_schema("schema")
    blocks = list(response.remote_blocks)
    if not blocks:
        return
    with futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="afq-spill-read") as pool:

        def fetch(location: SpillLocation) -> futures.Future[pa.RecordBatch]:
            return pool.submit(read_block, store_for(location.bucket, settings), location,
                               response.encryption_key, wire_schema)

        pending = fetch(blocks[0])
        for following in [*blocks[1:], None]:
            batch = pending.result()
            if following is not None:
                pending = fetch(following)
            yield batch


def read_remote_blocks(response: RemoteReadRecordsResponse, settings: Settings) -> Iterator[pa.RecordBatch]:
    """The response's rows as LOGICAL batches (TIMESTAMP as ``timestamp[ms]``...), block by block, in order."""
    for batch in read_remote_wire_blocks(response, settings):
        yield batch_to_logical(batch)
