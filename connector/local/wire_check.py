"""Key order and key sets of responses, as Athena's order-sensitive Java parser needs them (spec §2.11).

Athena reads each field with ``assertFieldName(expected)``: a key out of order, a missing key or an extra key
inside a nested object fails the query. This checks a raw response object and lists every deviation.
"""

from __future__ import annotations

from typing import Any

RESPONSE_KEYS: dict[str, list[str]] = {
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
}
TABLE_NAME = ["schemaName", "tableName"]
BLOCK = ["aId", "schema", "records"]
SPLIT = ["spillLocation", "encryptionKey", "properties"]
SPILL_LOCATION = ["@type", "bucket", "key", "directory"]
ENCRYPTION_KEY = ["key", "nonce"]
OPTIMIZATION = ["subType", "properties"]


def check_response(response: Any, *, exact: bool = False) -> list[str]:
    """Every key-order problem of one raw response (empty when Athena could parse it).

    ``exact``: the top level must also hold exactly the keys of the current serde version, none left out and none
    added - what this framework itself writes (Athena would accept an older Ping or trailing unknown keys).
    """
    if not isinstance(response, dict):
        return ["the response is not a JSON object"]
    kind = response.get("@type")
    if kind not in RESPONSE_KEYS:
        return [f"unknown response @type {kind!r}"]
    problems: list[str] = []
    keys = list(response)
    expected = RESPONSE_KEYS[kind]
    if exact:
        if keys != expected:
            problems.append(f"{kind} keys are {keys}, expected exactly {expected}")
    # Trailing unknown top-level keys are ignored by Athena's parser; anything else must match exactly.
    elif keys[: len(expected)] != expected:
        optional_tail = kind == "PingResponse" and keys == expected[:-1]
        if not optional_tail:
            problems.append(f"{kind} keys are {keys}, Athena expects {expected}")

    def nested(value: Any, want: list[str], where: str, nullable: bool = False) -> None:
        if value is None and nullable:
            return
        if not isinstance(value, dict):
            problems.append(f"{where} is not an object")
        elif list(value) != want:
            problems.append(f"{where} keys are {list(value)}, Athena expects {want}")

    if "tableName" in response:
        nested(response["tableName"], TABLE_NAME, f"{kind}.tableName")
    for t in response.get("tables") or []:
        nested(t, TABLE_NAME, f"{kind}.tables[]")
    for key in ("partitions", "records"):
        if key in response:
            nested(response[key], BLOCK, f"{kind}.{key}")
    for i, split in enumerate(response.get("splits") or []):
        nested(split, SPLIT, f"{kind}.splits[{i}]")
        if isinstance(split, dict):
            nested(split.get("spillLocation"), SPILL_LOCATION, f"{kind}.splits[{i}].spillLocation", nullable=True)
            nested(split.get("encryptionKey"), ENCRYPTION_KEY, f"{kind}.splits[{i}].encryptionKey", nullable=True)
    for i, block in enumerate(response.get("remoteBlocks") or []):
        nested(block, SPILL_LOCATION, f"{kind}.remoteBlocks[{i}]")
    if kind == "RemoteReadRecordsResponse":
        nested(response.get("encryptionKey"), ENCRYPTION_KEY, f"{kind}.encryptionKey", nullable=True)
    if kind == "GetDataSourceCapabilitiesResponse" and isinstance(response.get("capabilities"), dict):
        for name, subtypes in response["capabilities"].items():
            for s in subtypes if isinstance(subtypes, list) else []:
                nested(s, OPTIMIZATION, f"{kind}.capabilities.{name}[]")
    return problems
