"""The Athena Federated Query wire protocol (serde v2-v6): messages, blocks, constraints, Arrow types.

The names below load on first use (PEP 562): importing one module of the package - the messages, to answer a
Ping - must not import the Arrow-based ones (blocks, constraints), which cost most of a cold start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector.protocol.block import Block, SchemaMessage
    from connector.protocol.constraints import (
        AllOrNoneValueSet,
        Bound,
        Constant,
        Constraints,
        EquatableValueSet,
        Expression,
        FunctionCall,
        Marker,
        OrderByField,
        QueryPlan,
        Range,
        SortDirection,
        SortedRangeSet,
        ValueSet,
        Variable,
    )
    from connector.protocol.errors import ProtocolError
    from connector.protocol.messages import (
        CAPABILITIES,
        REQUEST_TYPES,
        RESPONSE_TYPES,
        SERDE_VERSION,
        EncryptionKey,
        GetDataSourceCapabilitiesRequest,
        GetDataSourceCapabilitiesResponse,
        GetSplitsRequest,
        GetSplitsResponse,
        GetTableLayoutRequest,
        GetTableLayoutResponse,
        GetTableRequest,
        GetTableResponse,
        Identity,
        ListSchemasRequest,
        ListSchemasResponse,
        ListTablesRequest,
        ListTablesResponse,
        Message,
        OptimizationSubType,
        PingRequest,
        PingResponse,
        ReadRecordsRequest,
        ReadRecordsResponse,
        RemoteReadRecordsResponse,
        Request,
        SpillLocation,
        Split,
        TableName,
        UserDefinedFunctionRequest,
        UserDefinedFunctionResponse,
        parse_request,
        parse_request_json,
        parse_response,
    )

_MODULES = {
    "block": ("Block", "SchemaMessage"),
    "constraints": ("AllOrNoneValueSet", "Bound", "Constant", "Constraints", "EquatableValueSet", "Expression",
                    "FunctionCall", "Marker", "OrderByField", "QueryPlan", "Range", "SortDirection",
                    "SortedRangeSet", "ValueSet", "Variable"),
    "errors": ("ProtocolError",),
    "messages": ("CAPABILITIES", "REQUEST_TYPES", "RESPONSE_TYPES", "SERDE_VERSION", "EncryptionKey",
                 "GetDataSourceCapabilitiesRequest", "GetDataSourceCapabilitiesResponse", "GetSplitsRequest",
                 "GetSplitsResponse", "GetTableLayoutRequest", "GetTableLayoutResponse", "GetTableRequest",
                 "GetTableResponse", "Identity", "ListSchemasRequest", "ListSchemasResponse", "ListTablesRequest",
                 "ListTablesResponse", "Message", "OptimizationSubType", "PingRequest", "PingResponse",
                 "ReadRecordsRequest", "ReadRecordsResponse", "RemoteReadRecordsResponse", "Request",
                 "SpillLocation", "Split", "TableName", "UserDefinedFunctionRequest", "UserDefinedFunctionResponse",
                 "parse_request", "parse_request_json", "parse_response"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

__all__ = ["AllOrNoneValueSet", "Block", "Bound", "CAPABILITIES", "Constant", "Constraints", "EncryptionKey",
    "EquatableValueSet", "Expression", "FunctionCall", "GetDataSourceCapabilitiesRequest",
    "GetDataSourceCapabilitiesResponse", "GetSplitsRequest", "GetSplitsResponse", "GetTableLayoutRequest",
    "GetTableLayoutResponse", "GetTableRequest", "GetTableResponse", "Identity", "ListSchemasRequest",
    "ListSchemasResponse", "ListTablesRequest", "ListTablesResponse", "Marker", "Message", "OptimizationSubType",
    "OrderByField", "PingRequest", "PingResponse", "ProtocolError", "QueryPlan", "REQUEST_TYPES", "RESPONSE_TYPES",
    "Range", "ReadRecordsRequest", "ReadRecordsResponse", "RemoteReadRecordsResponse", "Request", "SERDE_VERSION",
    "SchemaMessage", "SortDirection", "SortedRangeSet", "SpillLocation", "Split", "TableName",
    "UserDefinedFunctionRequest", "UserDefinedFunctionResponse", "ValueSet", "Variable", "parse_request",
    "parse_request_json", "parse_response"]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
