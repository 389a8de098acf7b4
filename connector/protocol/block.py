"""Blocks: ``{"aId", "schema", "records"}`` with base64 Arrow IPC messages inside."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import field
from typing import Any

import pyarrow as pa

from connector.lazy_dataclass import lazy_dataclass
from connector.protocol import ipc
from connector.protocol.errors import ProtocolError
from connector.protocol.fields import as_object, b64decode, b64encode, get_str
from connector.protocol.types import (
    batch_to_logical,
    batch_to_wire,
    check_supported,
    empty_batch,
    to_logical_schema,
    to_wire_schema,
)

__all__ = ["Block", "SchemaMessage", "b64decode", "b64encode", "check_wire_types"]


def check_wire_types(schema: pa.Schema, path: str) -> None:
    """Only the types Athena federation supports (the SDK's ``SupportedTypes``) may arrive in a schema."""
    try:
        check_supported(schema, logical=False, what="the schema")
    except TypeError as e:
        raise ProtocolError(path, str(e)) from None


@lazy_dataclass(slots=True)
class Block:
    """One Arrow record batch as the protocol carries it, kept as the raw IPC bytes it arrived in.

    Keeping the bytes means a block read from a request is re-emitted byte for byte, and nothing is decoded
    until someone asks for the rows.
    """

    schema_bytes: bytes
    records_bytes: bytes
    aid: str = field(default_factory=lambda: str(uuid.uuid4()))

    # ------------------------------------------------------------------------------------- building

    @classmethod
    def from_logical(cls, batch: pa.RecordBatch, *, legacy: bool = False, aid: str | None = None) -> Block:
        """A block from a batch in logical types (see ``types.py``), converted to the wire form."""
        wire_schema = to_wire_schema(batch.schema)
        return cls.from_wire_batch(batch_to_wire(batch, wire_schema), legacy=legacy, aid=aid)

    @classmethod
    def from_wire_batch(cls, batch: pa.RecordBatch, *, legacy: bool = False, aid: str | None = None) -> Block:
        schema_bytes = ipc.schema_message(batch.schema, legacy=legacy)
        records = ipc.batch_message(batch, legacy=legacy) if batch.num_rows else b""
        return cls(schema_bytes, records, aid or str(uuid.uuid4()))

    @classmethod
    def with_schema(cls, schema: SchemaMessage, batch: pa.RecordBatch, *, aid: str | None = None) -> Block:
        """A block whose schema is exactly ``schema``'s bytes (answers must echo the schema they were asked)."""
        wire = batch_to_wire(batch, schema.wire_schema())
        records = ipc.batch_message(wire, legacy=schema.is_legacy) if wire.num_rows else b""
        return cls(schema.data, records, aid or str(uuid.uuid4()))

    @classmethod
    def empty(cls, logical_schema: pa.Schema, *, legacy: bool = False) -> Block:
        return cls(ipc.schema_message(to_wire_schema(logical_schema), legacy=legacy), b"")

    # ------------------------------------------------------------------------------------- reading

    def wire_schema(self, path: str = "block.schema") -> pa.Schema:
        return ipc.read_schema(self.schema_bytes, path)

    def wire_batch(self, path: str = "block") -> pa.RecordBatch:
        schema = self.wire_schema(path + ".schema")
        if not self.records_bytes:
            if not schema:
                return empty_batch(0, schema)
            try:
                return pa.RecordBatch.from_pylist([], schema=schema)
            except ipc.ARROW_ERRORS as e:
                raise ProtocolError(path + ".schema", f"cannot hold rows of this schema ({ipc.short(e)})") from None
        return ipc.read_batch(self.records_bytes, schema, path + ".records")

    def logical_batch(self, path: str = "block") -> pa.RecordBatch:
        return batch_to_logical(self.wire_batch(path))

    @property
    def is_legacy(self) -> bool:
        return ipc.is_legacy(self.schema_bytes)

    # ------------------------------------------------------------------------------------- wire

    @classmethod
    def from_wire(cls, value: Any, path: str) -> Block:
        obj = as_object(value, path)
        aid = obj.get("aId")
        schema_b64 = get_str(obj, "schema", path)
        records_b64 = get_str(obj, "records", path, "")
        return cls(
            b64decode(schema_b64, path + ".schema"),
            b64decode(records_b64, path + ".records") if records_b64 else b"",
            aid if isinstance(aid, str) else str(uuid.uuid4()),
        )

    def to_wire(self) -> dict[str, Any]:
        return {"aId": self.aid, "schema": b64encode(self.schema_bytes),
                "records": b64encode(self.records_bytes) if self.records_bytes else ""}


@lazy_dataclass(slots=True)
class SchemaMessage:
    """A top-level ``schema`` field: one base64 Arrow IPC Schema message, kept as the bytes that arrived.

    ReadRecords answers must carry exactly the schema Athena asked for (names, order, metadata), so the
    request's bytes are reused rather than re-encoded.
    """

    data: bytes

    @classmethod
    def of(cls, wire_schema: pa.Schema, *, legacy: bool = False) -> SchemaMessage:
        return cls(ipc.schema_message(wire_schema, legacy=legacy))

    @classmethod
    def of_logical(cls, logical_schema: pa.Schema, *, legacy: bool = False) -> SchemaMessage:
        return cls.of(to_wire_schema(logical_schema), legacy=legacy)

    def wire_schema(self, path: str = "schema") -> pa.Schema:
        return ipc.read_schema(self.data, path)

    def logical_schema(self, path: str = "schema") -> pa.Schema:
        return to_logical_schema(self.wire_schema(path))

    @property
    def is_legacy(self) -> bool:
        return ipc.is_legacy(self.data)

    @classmethod
    def from_wire(cls, value: Any, path: str) -> SchemaMessage:
        # serde v1 wrapped the schema as {"schema": "<b64>"}; accept it, it costs nothing.
        if isinstance(value, Mapping) and "schema" in value:
            value = value["schema"]
        if not isinstance(value, str):
            raise ProtocolError(path, "expected a base64 Arrow schema string")
        message = cls(b64decode(value, path))
        # Fail here, naming the field, rather than deep inside a handler.
        check_wire_types(message.wire_schema(path), path)
        return message

    def to_wire(self) -> str:
        return b64encode(self.data)
