"""Every request and response of the federation protocol, with its wire keys in the Java SerDe's order.

Each message class lists its wire fields once (``_wire``); ``from_wire`` reads them by name, tolerating the
absent optional keys of older serde versions and unknown trailing keys, and ``to_wire`` writes them in exactly
the listed order (spec section 2.11) with ``@type`` first and nullable keys written as ``null``.

Blocks, schemas and constraints are Arrow-based: their modules load when a message that carries one is first
read, so a Ping is answered without importing pyarrow (cold start).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any, ClassVar, Self

from connector.lazy_dataclass import lazy_dataclass
from connector.protocol.errors import ProtocolError
from connector.protocol.fields import (
    as_list,
    as_object,
    b64decode,
    b64encode,
    get_bool,
    get_int,
    get_opt_str,
    get_str,
    get_str_list,
    get_str_map,
    join,
)

if TYPE_CHECKING:
    from connector.protocol.block import Block, SchemaMessage
    from connector.protocol.constraints import Constraints

SERDE_VERSION = 6
CAPABILITIES = 24  # FederationCapabilities.CAPABILITIES of the Java SDK
UNLIMITED_PAGE_SIZE = -1

# ------------------------------------------------------------------------------------------ common objects


@lazy_dataclass(slots=True)
class Identity:
    """The caller. Athena may send any subset of these keys (old payloads had only id/principal/account)."""

    account: str | None = None
    arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    config_options: Mapping[str, str] = field(default_factory=dict)
    id: str = "UNKNOWN"
    principal: str = "UNKNOWN"

    @classmethod
    def from_wire(cls, value: Any, path: str) -> Identity:
        if value is None:
            return cls()
        obj = as_object(value, path)
        return cls(
            account=get_opt_str(obj, "account", path),
            arn=get_opt_str(obj, "arn", path),
            tags=get_str_map(obj, "tags", path, {}),
            groups=tuple(get_str_list(obj, "groups", path, []) if obj.get("groups") is not None else []),
            config_options=get_str_map(obj, "configOptions", path, {}),
            id=get_opt_str(obj, "id", path) or "UNKNOWN",
            principal=get_opt_str(obj, "principal", path) or "UNKNOWN",
        )

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "principal": self.principal, "account": self.account, "arn": self.arn,
                "tags": dict(self.tags), "groups": list(self.groups), "configOptions": dict(self.config_options)}


@lazy_dataclass(slots=True)
class TableName:
    schema: str
    table: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}"

    @classmethod
    def from_wire(cls, value: Any, path: str) -> TableName:
        obj = as_object(value, path)
        return cls(get_str(obj, "schemaName", path), get_str(obj, "tableName", path))

    def to_wire(self) -> dict[str, Any]:
        return {"schemaName": self.schema, "tableName": self.table}


@lazy_dataclass(slots=True)
class SpillLocation:
    bucket: str
    key: str
    directory: bool

    @classmethod
    def from_wire(cls, value: Any, path: str) -> SpillLocation:
        obj = as_object(value, path)
        kind = obj.get("@type", "S3SpillLocation")
        if kind != "S3SpillLocation":
            raise ProtocolError(join(path, "@type"), f"unknown spill location type {kind!r}")
        return cls(get_str(obj, "bucket", path), get_str(obj, "key", path), get_bool(obj, "directory", path))

    def to_wire(self) -> dict[str, Any]:
        return {"@type": "S3SpillLocation", "bucket": self.bucket, "key": self.key, "directory": self.directory}


@lazy_dataclass(slots=True)
class EncryptionKey:
    """AES-GCM key and nonce of one split's spilled blocks. ``repr`` never shows them."""

    key: bytes = field(repr=False)
    nonce: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"EncryptionKey(<{len(self.key) * 8}-bit key redacted>)"

    @classmethod
    def from_wire(cls, value: Any, path: str) -> EncryptionKey | None:
        if value is None:
            return None
        obj = as_object(value, path)
        return cls(b64decode(get_str(obj, "key", path), join(path, "key")),
                   b64decode(get_str(obj, "nonce", path), join(path, "nonce")))

    def to_wire(self) -> dict[str, Any]:
        return {"key": b64encode(self.key), "nonce": b64encode(self.nonce)}


@lazy_dataclass(slots=True)
class Split:
    spill_location: SpillLocation | None
    encryption_key: EncryptionKey | None
    properties: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_wire(cls, value: Any, path: str) -> Split:
        obj = as_object(value, path)
        location = obj.get("spillLocation")
        return cls(
            None if location is None else SpillLocation.from_wire(location, join(path, "spillLocation")),
            EncryptionKey.from_wire(obj.get("encryptionKey"), join(path, "encryptionKey")),
            get_str_map(obj, "properties", path, {}),
        )

    def to_wire(self) -> dict[str, Any]:
        return {"spillLocation": None if self.spill_location is None else self.spill_location.to_wire(),
                "encryptionKey": None if self.encryption_key is None else self.encryption_key.to_wire(),
                "properties": dict(self.properties)}


@lazy_dataclass(slots=True)
class OptimizationSubType:
    sub_type: str
    properties: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------ field codecs


@lazy_dataclass(slots=True)
class _Field:
    key: str
    attr: str
    read: Callable[[Mapping[str, Any], str, str], Any]
    write: Callable[[Any, int], Any]
    since: int = 2  # first serde version that writes this key


def _plain(value: Any, version: int) -> Any:
    return value


def _str(key: str, attr: str, default: Any = ...) -> _Field:
    if default is ...:
        return _Field(key, attr, lambda o, k, p: get_str(o, k, p), _plain)
    return _Field(key, attr, lambda o, k, p: get_str(o, k, p, default), _plain)


def _opt_str(key: str, attr: str) -> _Field:
    return _Field(key, attr, lambda o, k, p: get_opt_str(o, k, p), _plain)


def _int(key: str, attr: str, default: Any = ...) -> _Field:
    if default is ...:
        return _Field(key, attr, lambda o, k, p: get_int(o, k, p), _plain)
    return _Field(key, attr, lambda o, k, p: get_int(o, k, p, default), _plain)


def _size_as_string(key: str, attr: str, *, positive: bool = True) -> _Field:
    # The Java SDK writes maxBlockSize / maxInlineBlockSize as JSON strings holding decimal longs.
    def read(o: Mapping[str, Any], k: str, p: str) -> int:
        value = get_int(o, k, p)
        if positive and value <= 0:
            raise ProtocolError(join(p, k), f"must be a positive number of bytes, got {value}")
        return value
    return _Field(key, attr, read, lambda v, _: str(v))


def _str_list(key: str, attr: str, default: Any = ...) -> _Field:
    def read(o: Mapping[str, Any], k: str, p: str) -> tuple[str, ...]:
        return tuple(get_str_list(o, k, p) if default is ... else get_str_list(o, k, p, default))
    return _Field(key, attr, read, lambda v, _: list(v))


def _str_map(key: str, attr: str, since: int = 2) -> _Field:
    return _Field(key, attr, lambda o, k, p: get_str_map(o, k, p, {}), lambda v, _: dict(v), since)


def _obj(key: str, attr: str, cls: Any, nullable: bool = False) -> _Field:
    """A nested object read by ``cls.from_wire``; ``cls`` may be a function returning the class (loaded late)."""
    def read(o: Mapping[str, Any], k: str, p: str) -> Any:
        if k not in o:
            if nullable:
                return None
            raise ProtocolError(join(p, k), "required key is missing")
        if o[k] is None and nullable:
            return None
        kind: Any = cls if isinstance(cls, type) else cls()
        return kind.from_wire(o[k], join(p, k))
    return _Field(key, attr, read, lambda v, _: None if v is None else v.to_wire())


def _block() -> type[Block]:
    from connector.protocol.block import Block

    return Block


def _schema() -> type[SchemaMessage]:
    from connector.protocol.block import SchemaMessage

    return SchemaMessage


def _identity() -> _Field:
    return _Field("identity", "identity", lambda o, k, p: Identity.from_wire(o.get(k), join(p, k)),
                  lambda v, _: v.to_wire())


def _constraints() -> _Field:
    def read(o: Mapping[str, Any], k: str, p: str) -> Constraints:
        from connector.protocol.constraints import Constraints

        return Constraints.from_wire(o.get(k), join(p, k))
    return _Field("constraints", "constraints", read, lambda v, version: v.to_wire(version))


def _tables() -> _Field:
    def read(o: Mapping[str, Any], k: str, p: str) -> tuple[TableName, ...]:
        items = as_list(o.get(k), join(p, k))
        return tuple(TableName.from_wire(t, join(join(p, k), i)) for i, t in enumerate(items))
    return _Field("tables", "tables", read, lambda v, _: [t.to_wire() for t in v])


def _splits() -> _Field:
    def read(o: Mapping[str, Any], k: str, p: str) -> tuple[Split, ...]:
        items = as_list(o.get(k), join(p, k))
        return tuple(Split.from_wire(s, join(join(p, k), i)) for i, s in enumerate(items))
    return _Field("splits", "splits", read, lambda v, _: [s.to_wire() for s in v])


def _remote_blocks() -> _Field:
    def read(o: Mapping[str, Any], k: str, p: str) -> tuple[SpillLocation, ...]:
        items = as_list(o.get(k), join(p, k))
        return tuple(SpillLocation.from_wire(s, join(join(p, k), i)) for i, s in enumerate(items))
    return _Field("remoteBlocks", "remote_blocks", read, lambda v, _: [s.to_wire() for s in v])


def _capabilities() -> _Field:
    def read(o: Mapping[str, Any], k: str, p: str) -> dict[str, tuple[OptimizationSubType, ...]]:
        out = {}
        for name, subtypes in as_object(o.get(k, {}), join(p, k)).items():
            spath = join(join(p, k), name)
            out[name] = tuple(
                OptimizationSubType(get_str(as_object(s, join(spath, i)), "subType", join(spath, i)),
                                    tuple(get_str_list(as_object(s, join(spath, i)), "properties",
                                                       join(spath, i), [])))
                for i, s in enumerate(as_list(subtypes, spath)))
        return out

    def write(v: Mapping[str, tuple[OptimizationSubType, ...]], _: int) -> dict[str, Any]:
        return {name: [{"subType": s.sub_type, "properties": list(s.properties)} for s in subtypes]
                for name, subtypes in v.items()}
    return _Field("capabilities", "capabilities", read, write)


# ------------------------------------------------------------------------------------------ base class


class Message:
    """Shared reading and writing of the declared wire fields."""

    _wire: ClassVar[tuple[_Field, ...]] = ()

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    @classmethod
    def from_wire(cls, value: Any, path: str = "") -> Self:
        obj = as_object(value, path or cls.type_name())
        kwargs = {f.attr: f.read(obj, f.key, path) for f in cls._wire}
        return cls(**kwargs)

    def to_wire(self, serde_version: int = SERDE_VERSION) -> dict[str, Any]:
        out: dict[str, Any] = {"@type": self.type_name()}
        for f in self._wire:
            if serde_version >= f.since:
                out[f.key] = f.write(getattr(self, f.attr), serde_version)
        return out


class Request(Message):
    identity: Identity


# ------------------------------------------------------------------------------------------ requests


@lazy_dataclass
class PingRequest(Request):
    identity: Identity
    catalog_name: str
    query_id: str
    _wire = (_identity(), _str("catalogName", "catalog_name"), _str("queryId", "query_id"))


@lazy_dataclass
class ListSchemasRequest(Request):
    identity: Identity
    query_id: str
    catalog_name: str
    _wire = (_identity(), _str("queryId", "query_id"), _str("catalogName", "catalog_name"))


@lazy_dataclass
class ListTablesRequest(Request):
    identity: Identity
    query_id: str
    catalog_name: str
    schema_name: str | None
    next_token: str | None = None
    page_size: int = UNLIMITED_PAGE_SIZE
    _wire = (_identity(), _str("queryId", "query_id"), _str("catalogName", "catalog_name"),
             _opt_str("schemaName", "schema_name"), _opt_str("nextToken", "next_token"),
             _int("pageSize", "page_size", UNLIMITED_PAGE_SIZE))


@lazy_dataclass
class GetTableRequest(Request):
    identity: Identity
    query_id: str
    catalog_name: str
    table_name: TableName
    passthrough: Mapping[str, str] = field(default_factory=dict)
    _wire = (_identity(), _str("queryId", "query_id"), _str("catalogName", "catalog_name"),
             _obj("tableName", "table_name", TableName), _str_map("queryPassthroughArguments", "passthrough", 5))


@lazy_dataclass
class GetTableLayoutRequest(Request):
    identity: Identity
    query_id: str
    catalog_name: str
    table_name: TableName
    constraints: Constraints
    schema: SchemaMessage
    partition_columns: tuple[str, ...]
    _wire = (_identity(), _str("queryId", "query_id"), _str("catalogName", "catalog_name"),
             _obj("tableName", "table_name", TableName), _constraints(), _obj("schema", "schema", _schema),
             _str_list("partitionColumns", "partition_columns", []))


@lazy_dataclass
class GetSplitsRequest(Request):
    identity: Identity
    query_id: str
    catalog_name: str
    table_name: TableName
    partitions: Block
    partition_columns: tuple[str, ...]
    constraints: Constraints
    continuation_token: str | None = None
    _wire = (_identity(), _str("queryId", "query_id"), _str("catalogName", "catalog_name"),
             _obj("tableName", "table_name", TableName), _obj("partitions", "partitions", _block),
             _str_list("partitionColumns", "partition_columns", []), _constraints(),
             _opt_str("continuationToken", "continuation_token"))


@lazy_dataclass
class ReadRecordsRequest(Request):
    identity: Identity
    query_id: str
    catalog_name: str
    table_name: TableName
    schema: SchemaMessage
    split: Split
    constraints: Constraints
    max_block_size: int
    max_inline_block_size: int
    _wire = (_identity(), _str("queryId", "query_id"), _str("catalogName", "catalog_name"),
             _obj("tableName", "table_name", TableName), _obj("schema", "schema", _schema),
             _obj("split", "split", Split), _constraints(), _size_as_string("maxBlockSize", "max_block_size"),
             _size_as_string("maxInlineBlockSize", "max_inline_block_size", positive=False))


@lazy_dataclass
class GetDataSourceCapabilitiesRequest(Request):
    identity: Identity
    query_id: str
    catalog_name: str
    _wire = (_identity(), _str("queryId", "query_id"), _str("catalogName", "catalog_name"))


@lazy_dataclass
class UserDefinedFunctionRequest(Request):
    identity: Identity
    input_records: Block
    output_schema: SchemaMessage
    method_name: str
    function_type: str = "SCALAR"
    _wire = (_identity(), _obj("inputRecords", "input_records", _block),
             _obj("outputSchema", "output_schema", _schema), _str("methodName", "method_name"),
             _str("functionType", "function_type", "SCALAR"))


# ------------------------------------------------------------------------------------------ responses


@lazy_dataclass
class PingResponse(Message):
    catalog_name: str
    query_id: str
    source_type: str
    capabilities: int
    serde_version: int  # read as 1 when absent: that is what an answer without the key means
    _wire = (_str("catalogName", "catalog_name"), _str("queryId", "query_id"), _str("sourceType", "source_type"),
             _int("capabilities", "capabilities"), _int("serDeVersion", "serde_version", 1))


@lazy_dataclass
class ListSchemasResponse(Message):
    catalog_name: str
    schemas: tuple[str, ...]
    _wire = (_str("catalogName", "catalog_name"), _str_list("schemas", "schemas"))


@lazy_dataclass
class ListTablesResponse(Message):
    tables: tuple[TableName, ...]
    catalog_name: str
    next_token: str | None = None
    _wire = (_tables(), _str("catalogName", "catalog_name"), _opt_str("nextToken", "next_token"))


@lazy_dataclass
class GetTableResponse(Message):
    catalog_name: str
    table_name: TableName
    schema: SchemaMessage
    partition_columns: tuple[str, ...] = ()
    _wire = (_str("catalogName", "catalog_name"), _obj("tableName", "table_name", TableName),
             _obj("schema", "schema", _schema), _str_list("partitionColumns", "partition_columns", []))


@lazy_dataclass
class GetTableLayoutResponse(Message):
    catalog_name: str
    table_name: TableName
    partitions: Block
    _wire = (_str("catalogName", "catalog_name"), _obj("tableName", "table_name", TableName),
             _obj("partitions", "partitions", _block))


@lazy_dataclass
class GetSplitsResponse(Message):
    catalog_name: str
    splits: tuple[Split, ...]
    continuation_token: str | None = None
    _wire = (_str("catalogName", "catalog_name"), _splits(), _opt_str("continuationToken", "continuation_token"))


@lazy_dataclass
class ReadRecordsResponse(Message):
    catalog_name: str
    records: Block
    _wire = (_str("catalogName", "catalog_name"), _obj("records", "records", _block))


@lazy_dataclass
class RemoteReadRecordsResponse(Message):
    catalog_name: str
    schema: SchemaMessage
    remote_blocks: tuple[SpillLocation, ...]
    encryption_key: EncryptionKey | None
    _wire = (_str("catalogName", "catalog_name"), _obj("schema", "schema", _schema), _remote_blocks(),
             _obj("encryptionKey", "encryption_key", EncryptionKey, nullable=True))


@lazy_dataclass
class UserDefinedFunctionResponse(Message):
    records: Block
    method_name: str
    _wire = (_obj("records", "records", _block), _str("methodName", "method_name"))


@lazy_dataclass
class GetDataSourceCapabilitiesResponse(Message):
    catalog_name: str
    capabilities: Mapping[str, tuple[OptimizationSubType, ...]]
    _wire = (_str("catalogName", "catalog_name"), _capabilities())


REQUEST_TYPES: dict[str, type[Request]] = {c.__name__: c for c in (
    PingRequest, ListSchemasRequest, ListTablesRequest, GetTableRequest, GetTableLayoutRequest, GetSplitsRequest,
    ReadRecordsRequest, GetDataSourceCapabilitiesRequest, UserDefinedFunctionRequest)}

RESPONSE_TYPES: dict[str, type[Message]] = {c.__name__: c for c in (
    PingResponse, ListSchemasResponse, ListTablesResponse, GetTableResponse, GetTableLayoutResponse,
    GetSplitsResponse, ReadRecordsResponse, RemoteReadRecordsResponse, UserDefinedFunctionResponse,
    GetDataSourceCapabilitiesResponse)}


def _parse(event: Any, table: Mapping[str, type[Message]], what: str) -> Message:
    obj = as_object(event, "")
    kind = obj.get("@type")
    if not isinstance(kind, str):
        raise ProtocolError("@type", f"the {what} has no @type string naming its message type")
    cls = table.get(kind)
    if cls is None:
        known = ", ".join(sorted(table))
        raise ProtocolError("@type", f"unknown {what} type {kind[:80]!r}; expected one of {known}")
    return cls.from_wire(obj, "")


def parse_request(event: Any) -> Request:
    """Parse a request event of any serde version (v2-v6) by key name."""
    message = _parse(event, REQUEST_TYPES, "request")
    assert isinstance(message, Request)
    return message


def parse_request_json(text: str | bytes) -> Request:
    """Parse a request event from its JSON text (``afq invoke``, tests): bad JSON is a ``ProtocolError`` too."""
    try:
        event = json.loads(text)
    except RecursionError:
        raise ProtocolError("", "the event is not JSON this parser accepts: it is nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, and UnicodeDecodeError for bytes
        raise ProtocolError("", f"the event is not valid JSON ({str(e)[:200]})") from None
    return parse_request(event)


def parse_response(payload: Any) -> Message:
    return _parse(payload, RESPONSE_TYPES, "response")
