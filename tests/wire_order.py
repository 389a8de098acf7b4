"""The key order of spec section 2.11, checked on every response the handler produces in the tests."""

from __future__ import annotations

from typing import Any

ORDER: dict[str, list[str]] = {
    "PingResponse": ["@type", "catalogName", "queryId", "sourceType", "capabilities", "serDeVersion"],
    "ListSchemasResponse": ["@type", "catalogName", "schemas"],
    "ListTablesResponse": ["@type", "tables", "catalogName", "nextToken"],
    "GetTableResponse": ["@type", "catalogName", "tableName", "schema", "partitionColumns"],
    "GetTableLayoutResponse": ["@type", "catalogName", "tableName", "partitions"],
    "GetSplitsResponse": ["@type", "catalogName", "splits", "continuationToken"],
    "ReadRecordsResponse": ["@type", "catalogName", "records"],
    "RemoteReadRecordsResponse": ["@type", "catalogName", "schema", "remoteBlocks", "encryptionKey"],
    "UserDefinedFunctionResponse": ["@type", "records", "methodName"],
    "GetDataSourceCapabilitiesResponse": ["@type", "catalogName", "capabilities"],
    "S3SpillLocation": ["@type", "bucket", "key", "directory"],
}
NESTED = {
    "TableName": ["schemaName", "tableName"],
    "Block": ["aId", "schema", "records"],
    "Split": ["spillLocation", "encryptionKey", "properties"],
    "EncryptionKey": ["key", "nonce"],
    "OptimizationSubType": ["subType", "properties"],
}


def _exact(obj: Any, keys: list[str], where: str) -> None:
    assert isinstance(obj, dict), f"{where}: expected an object"
    assert list(obj) == keys, f"{where}: keys {list(obj)} != {keys}"


def assert_wire_order(response: dict[str, Any]) -> None:
    kind = response.get("@type")
    assert kind in ORDER, f"unknown response type {kind!r}"
    _exact(response, ORDER[kind], kind)
    if kind == "ListTablesResponse":
        for t in response["tables"]:
            _exact(t, NESTED["TableName"], "tables[]")
    if kind in ("GetTableResponse", "GetTableLayoutResponse"):
        _exact(response["tableName"], NESTED["TableName"], "tableName")
    if kind in ("GetTableLayoutResponse",):
        _exact(response["partitions"], NESTED["Block"], "partitions")
    if kind in ("ReadRecordsResponse", "UserDefinedFunctionResponse"):
        _exact(response["records"], NESTED["Block"], "records")
    if kind == "GetSplitsResponse":
        for split in response["splits"]:
            _exact(split, NESTED["Split"], "splits[]")
            if split["spillLocation"] is not None:
                _exact(split["spillLocation"], ORDER["S3SpillLocation"], "spillLocation")
            if split["encryptionKey"] is not None:
                _exact(split["encryptionKey"], NESTED["EncryptionKey"], "encryptionKey")
    if kind == "RemoteReadRecordsResponse":
        for block in response["remoteBlocks"]:
            _exact(block, ORDER["S3SpillLocation"], "remoteBlocks[]")
        if response["encryptionKey"] is not None:
            _exact(response["encryptionKey"], NESTED["EncryptionKey"], "encryptionKey")
    if kind == "GetDataSourceCapabilitiesResponse":
        for subtypes in response["capabilities"].values():
            for s in subtypes:
                _exact(s, NESTED["OptimizationSubType"], "capabilities[]")
