"""Real request events of every type and serde shape, built with the protocol classes, as seeds for fuzzing.

Each event is what Athena would send: blocks with real Arrow IPC (modern and legacy framing), constraints with
every value-set kind over the supported types, expressions, ORDER BY, LIMIT, passthrough and query plans.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa

from connector.protocol import (
    AllOrNoneValueSet,
    Block,
    Bound,
    Constant,
    Constraints,
    EncryptionKey,
    EquatableValueSet,
    FunctionCall,
    GetDataSourceCapabilitiesRequest,
    GetSplitsRequest,
    GetTableLayoutRequest,
    GetTableRequest,
    Identity,
    ListSchemasRequest,
    ListTablesRequest,
    Marker,
    OrderByField,
    PingRequest,
    QueryPlan,
    Range,
    ReadRecordsRequest,
    SchemaMessage,
    SortDirection,
    SortedRangeSet,
    SpillLocation,
    Split,
    TableName,
    UserDefinedFunctionRequest,
    Variable,
)

IDENTITY = Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/fuzz", tags={"team": "a"},
                    groups=("g1",), config_options={"spill_bucket": "b"})
TABLE = TableName("s", "t")
SCHEMA = pa.schema([
    ("i", pa.int32()), ("l", pa.int64()), ("d", pa.float64()), ("s", pa.string()), ("b", pa.bool_()),
    ("dec", pa.decimal128(12, 2)), ("day", pa.date32()), ("ts", pa.timestamp("ms")),
    ("tz", pa.timestamp("ms", "UTC")), ("bin", pa.binary()), ("arr", pa.list_(pa.int32())),
    ("st", pa.struct([("x", pa.int64()), ("y", pa.string())])), ("m", pa.map_(pa.string(), pa.int64())),
])


def _between(t: pa.DataType, low: Any, high: Any) -> SortedRangeSet:
    return SortedRangeSet(t, (Range(Marker(low, Bound.EXACTLY), Marker(high, Bound.BELOW)),), False)


def constraints() -> Constraints:
    summary = {
        "i": _between(pa.int32(), 1, 10),
        "l": SortedRangeSet(pa.int64(), (Range(Marker.below_all(), Marker(5, Bound.BELOW)),
                                          Range(Marker(5, Bound.ABOVE), Marker.above_all())), True),
        "s": EquatableValueSet(pa.string(), ("a", "it's", "\u05d0\u0301"), True, False),
        "dec": _between(pa.decimal128(12, 2), Decimal("1.50"), Decimal("99.99")),
        "day": _between(pa.date32(), dt.date(2020, 1, 1), dt.date(2021, 1, 1)),
        "ts": _between(pa.timestamp("ms"), dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 2)),
        "tz": _between(pa.timestamp("ms", "UTC"), dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
                       dt.datetime(2020, 1, 2, tzinfo=dt.UTC)),
        "b": AllOrNoneValueSet(pa.bool_(), True, False),
        "bin": EquatableValueSet(pa.binary(), (b"\x00\xff",), False, True),
        "d": SortedRangeSet(pa.float64(), (Range.equal(2.5),), False),
    }
    expression = (FunctionCall(pa.bool_(), "$greater_than", (
        FunctionCall(pa.float64(), "$add", (Variable("d", pa.float64()), Constant(pa.int32(), (10,)))),
        Variable("d", pa.float64()))),
        FunctionCall(pa.bool_(), "$in", (Variable("i", pa.int32()), FunctionCall(
            pa.list_(pa.int32()), "$array", (Constant(pa.int32(), (1, 2, 3)),)))),
        FunctionCall(pa.bool_(), "$like_pattern", (Variable("s", pa.string()), Constant(pa.string(), ("a%",)))))
    return Constraints(summary, expression, (OrderByField("i", SortDirection.DESC_NULLS_LAST),), 10,
                       {}, QueryPlan("1.0.0", "cGxhbg=="))


def partitions(legacy: bool) -> Block:
    batch = pa.record_batch({"year": pa.array([2020, 2021], pa.int32()), "name": pa.array(["a", None])})
    return Block.from_logical(batch, legacy=legacy)


def split() -> Split:
    return Split(SpillLocation("bucket", "prefix/q/split-1", True), EncryptionKey(b"k" * 32, b"n" * 12),
                 {"rowid_from": "1", "rowid_to": "100"})


def requests(legacy: bool = False) -> list[Any]:
    schema = SchemaMessage.of_logical(SCHEMA, legacy=legacy)
    inputs = Block.from_logical(pa.record_batch({"a": pa.array([2, 3], pa.int32()),
                                                 "b": pa.array(["x", "y"])}), legacy=legacy)
    return [
        PingRequest(IDENTITY, "cat", "q1"),
        ListSchemasRequest(IDENTITY, "q1", "cat"),
        ListTablesRequest(IDENTITY, "q1", "cat", "s", "offset:3", 25),
        GetTableRequest(IDENTITY, "q1", "cat", TABLE),
        GetTableRequest(IDENTITY, "q1", "cat", TableName("system", "query"),
                        {"QUERY": "SELECT 1", "schemaFunctionName": "SYSTEM.QUERY"}),
        GetTableLayoutRequest(IDENTITY, "q1", "cat", TABLE, constraints(), schema, ("year",)),
        GetSplitsRequest(IDENTITY, "q1", "cat", TABLE, partitions(legacy), ("year",), constraints(), "offset:0"),
        ReadRecordsRequest(IDENTITY, "q1", "cat", TABLE, schema, split(), constraints(), 16_000_000, 5_242_880),
        GetDataSourceCapabilitiesRequest(IDENTITY, "q1", "cat"),
        UserDefinedFunctionRequest(IDENTITY, inputs, SchemaMessage.of_logical(pa.schema([("out", pa.int32())])),
                                   "f", "SCALAR"),
    ]


def events() -> list[dict[str, Any]]:
    """Every request type in serde v6, v4 and v2 shapes (v2 with legacy IPC framing)."""
    out = []
    for version, legacy in ((6, False), (4, False), (2, True)):
        out += [r.to_wire(version) for r in requests(legacy)]
    return out
