"""Deliberately broken connectors (Lambda handlers wrapping the real one), for ``afq validate`` and ``--verify``.

Each is importable by name (``--handler tests.local.test_broken_handlers.drop_a_row``), so the CLI, the in-process
target and ``awslambdaric`` can all run them. The tests here prove each one really is broken.
Also a stand-in spill path (``fake_spill`` + ``FakeSpillReader``) used only until the real ``spill`` package is
merged: it writes and reads spilled blocks as the protocol describes (AES-GCM with the split's key).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from connector.handler import lambda_handler
from connector.protocol import ipc
from connector.protocol.block import Block, SchemaMessage, b64decode
from connector.protocol.messages import RemoteReadRecordsResponse
from connector.protocol.types import batch_to_logical

FAKE_SPILL_DIR = "AFQ_TEST_FAKE_SPILL_DIR"
FAKE_SPILL_PLAIN = "AFQ_TEST_FAKE_SPILL_PLAINTEXT"


def wrong_key_order(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """GetTableResponse with ``tableName`` before ``catalogName``."""
    response = lambda_handler(event, context)
    if response["@type"] == "GetTableResponse":
        order = ["@type", "tableName", "catalogName", "schema", "partitionColumns"]
        return {k: response[k] for k in order}
    return response


def upper_case_names(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Column names in GetTable in upper case (the source's casing leaking through)."""
    response = lambda_handler(event, context)
    if response["@type"] == "GetTableResponse":
        schema = SchemaMessage.from_wire(response["schema"], "schema").wire_schema()
        upper = pa.schema([f.with_name(f.name.upper()) for f in schema], metadata=schema.metadata)
        response["schema"] = SchemaMessage.of(upper).to_wire()
    return response


def drop_a_row(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Loses the first row of every inline answer with rows."""
    response = lambda_handler(event, context)
    if response["@type"] == "ReadRecordsResponse" and response["records"]["records"]:
        block = Block.from_wire(response["records"], "records")
        batch = block.wire_batch()
        rest = batch.slice(1)
        records = ipc.batch_message(rest, legacy=block.is_legacy) if rest.num_rows else b""
        response["records"] = Block(block.schema_bytes, records, block.aid).to_wire()
    return response


def ignore_filters(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Declares filter pushdown but reads splits without their summary and expressions."""
    if event.get("@type") == "ReadRecordsRequest" and event.get("constraints"):
        event = {**event, "constraints": {**event["constraints"], "summary": {}, "expression": []}}
    return lambda_handler(event, context)


def ignore_limit(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Declares LIMIT and top-N but returns every row, unsorted."""
    if event.get("@type") == "ReadRecordsRequest" and event.get("constraints"):
        event = {**event, "constraints": {**event["constraints"], "orderByClause": [], "limit": -1}}
    return lambda_handler(event, context)


def crash(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The process dies while answering ReadRecords (for the runtime target)."""
    if event.get("@type") == "ReadRecordsRequest":
        os._exit(3)
    return lambda_handler(event, context)


def fake_spill(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Answers every non-empty ReadRecords by spilling its block to files (stand-in for the spill package).

    Blocks go to ``$AFQ_TEST_FAKE_SPILL_DIR/<bucket>/<key>.0``, AES-GCM encrypted with the split's key - or in
    plaintext when ``$AFQ_TEST_FAKE_SPILL_PLAINTEXT`` is set (the broken connector).
    """
    if event.get("@type") == "ReadRecordsRequest":  # let the real connector answer inline, then spill that
        event = {**event, "maxInlineBlockSize": "5242880"}
    response = lambda_handler(event, context)
    if response["@type"] != "ReadRecordsResponse" or not response["records"]["records"]:
        return response
    split = event["split"]
    location, key = split["spillLocation"], split["encryptionKey"]
    data = b64decode(response["records"]["records"], "records")
    if key is not None and not os.environ.get(FAKE_SPILL_PLAIN):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        data = AESGCM(b64decode(key["key"], "key")).encrypt(b64decode(key["nonce"], "nonce"), data, None)
    path = Path(os.environ[FAKE_SPILL_DIR]) / location["bucket"] / f"{location['key']}.0"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    block = {"@type": "S3SpillLocation", "bucket": location["bucket"], "key": f"{location['key']}.0",
             "directory": False}
    return {"@type": "RemoteReadRecordsResponse", "catalogName": response["catalogName"],
            "schema": event["schema"], "remoteBlocks": [block], "encryptionKey": key}


def fake_read_remote_blocks(response: RemoteReadRecordsResponse, settings: Any) -> Iterator[pa.RecordBatch]:
    """The reading side of ``fake_spill`` (installed as ``spill.reader`` by ``fake_spill_reader``)."""
    schema = response.schema.wire_schema()
    for block in response.remote_blocks:
        data = (Path(os.environ[FAKE_SPILL_DIR]) / block.bucket / block.key).read_bytes()
        if response.encryption_key is not None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            data = AESGCM(response.encryption_key.key).decrypt(response.encryption_key.nonce, data, None)
        yield batch_to_logical(ipc.read_batch(data, schema, block.key))


# ------------------------------------------------------------------------------------------ self-tests

def _event(kind: str, demo: Path) -> dict[str, Any]:
    from connector.protocol import Identity, TableName
    from connector.protocol.messages import GetTableRequest

    assert kind == "GetTableRequest"
    return GetTableRequest(Identity(), "q", "demo", TableName("main", "orders")).to_wire()


def test_broken_handlers_are_broken(lambda_env: Callable[..., None], demo_db: Path) -> None:
    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}")
    event = _event("GetTableRequest", demo_db)
    good = lambda_handler(event)
    assert list(wrong_key_order(event)) != list(good)
    upper = SchemaMessage.from_wire(upper_case_names(event)["schema"], "s").wire_schema().names
    assert upper and all(n == n.upper() for n in upper) and upper != good and "ID" in upper


def strip_encryption_key(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Spills in plaintext although the split carries a key: the real spiller is asked with the key removed,
    and the answer claims the split's key (what a connector that ignores encryption looks like to Athena)."""
    if event.get("@type") != "ReadRecordsRequest" or event["split"].get("encryptionKey") is None:
        return lambda_handler(event, context)
    key = event["split"]["encryptionKey"]
    response = lambda_handler({**event, "split": {**event["split"], "encryptionKey": None}}, context)
    if response["@type"] == "RemoteReadRecordsResponse":
        response["encryptionKey"] = key
    return response


def serde_v3(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """A connector built on an older SDK: it advertises serde v3 (no capabilities, no expressions)."""
    response = lambda_handler(event, context)
    if response["@type"] == "PingResponse":
        response["serDeVersion"] = 3
    return response


def huge_ping(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """An answer over Lambda's 6 MB response limit."""
    response = lambda_handler(event, context)
    if response["@type"] == "PingResponse":
        response["padding"] = "x" * 7_000_000
    return response


def paged_splits(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Answers GetSplits one split per page (continuation tokens ``page-N``), as connectors with many splits do."""
    if event.get("@type") != "GetSplitsRequest":
        return lambda_handler(event, context)
    token = event.get("continuationToken")
    page = int(token.split("-")[1]) if token else 0
    response = lambda_handler({**event, "continuationToken": None}, context)
    splits = response["splits"]
    response["splits"] = splits[page : page + 1]
    response["continuationToken"] = f"page-{page + 1}" if page + 1 < len(splits) else None
    return response
