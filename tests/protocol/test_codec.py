"""Blocks, IPC framing, wire/logical types, packed time zones, constraints round trips, malformed input."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.protocol import (
    AllOrNoneValueSet,
    Block,
    Bound,
    Constant,
    Constraints,
    EquatableValueSet,
    FunctionCall,
    Identity,
    Marker,
    OrderByField,
    ProtocolError,
    QueryPlan,
    Range,
    ReadRecordsRequest,
    SchemaMessage,
    SortDirection,
    SortedRangeSet,
    Split,
    TableName,
    Variable,
    ipc,
    parse_request,
    zones,
)
from connector.protocol.types import (
    batch_to_logical,
    batch_to_wire,
    check_supported,
    empty_batch,
    to_wire_schema,
    type_from_json,
    type_to_json,
)

UTC = dt.UTC


def test_tstz_packing_matches_the_spec_examples() -> None:
    millis = pa.array([1704067200000], pa.int64())  # 2024-01-01T00:00:00Z
    assert zones.pack(millis, "UTC").to_pylist() == [6979859251200000]
    assert zones.pack(millis, "America/New_York").to_pylist() == [6979859251201847]
    assert zones.unpack(pa.array([6979859251201847], pa.int64())).to_pylist() == [1704067200000]


@pytest.mark.parametrize(("zone", "key"), [("UTC", 0), ("Z", 0), ("+00:00", 0), ("-14:00", 1), ("-00:01", 840),
                                          ("+00:01", 841), ("+14:00", 1680), ("+05:30", 1170),
                                          ("Africa/Abidjan", 1681), ("Europe/Berlin", 2054), ("Europe/Paris", 2082)])
def test_zone_keys(zone: str, key: int) -> None:
    assert zones.zone_key(zone) == key


def test_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        zones.zone_key("Mars/Olympus")


def test_timestamps_travel_as_date64_and_packed_tz_and_come_back() -> None:
    ts = [dt.datetime(1969, 12, 31, 23, 59, 59, 999000), dt.datetime(2024, 2, 29, 12, 30, 45, 123000), None]
    tz = [dt.datetime(2024, 1, 1, tzinfo=UTC), None, dt.datetime(1950, 6, 1, 8, tzinfo=UTC)]
    logical = pa.record_batch({"ts": pa.array(ts, pa.timestamp("ms")), "tz": pa.array(tz, pa.timestamp("ms", "UTC"))})
    wire = batch_to_wire(logical, to_wire_schema(logical.schema))
    assert wire.schema.field("ts").type == pa.date64()
    assert wire.column("ts").cast(pa.int64()).to_pylist()[1] == 1709209845123  # time of day kept, not a date
    assert wire.column("tz").view(pa.int64()).to_pylist()[0] == 6979859251200000
    assert batch_to_logical(wire).equals(logical)


def test_micros_are_floored_to_millis_on_the_wire() -> None:
    logical = pa.record_batch({"ts": pa.array([-1, 1_500], pa.timestamp("us"))})
    wire = batch_to_wire(logical, pa.schema([pa.field("ts", pa.date64())]))
    assert wire.column("ts").cast(pa.int64()).to_pylist() == [-1, 1]


def test_nested_types_convert_their_timestamp_leaves() -> None:
    t = pa.struct([("at", pa.timestamp("ms")), ("tags", pa.list_(pa.timestamp("ms")))])
    logical = pa.record_batch({"s": pa.array([{"at": dt.datetime(2020, 1, 1, 1), "tags": [dt.datetime(2020, 1, 2)]},
                                              None], t)})
    wire_schema = to_wire_schema(logical.schema)
    assert wire_schema.field("s").type.field("at").type == pa.date64()
    wire = batch_to_wire(logical, wire_schema)
    assert batch_to_logical(wire).equals(logical)


def test_zero_column_batches_keep_their_row_count() -> None:
    block = Block.from_logical(empty_batch(7))
    assert block.records_bytes  # 7 rows are not "no rows"
    assert block.logical_batch().num_rows == 7 and block.logical_batch().num_columns == 0


def test_zero_rows_are_an_empty_records_string() -> None:
    block = Block.from_logical(pa.RecordBatch.from_pylist([], schema=pa.schema([("a", pa.int32())])))
    assert block.to_wire()["records"] == ""
    assert block.logical_batch().num_rows == 0


def test_legacy_framing_round_trip() -> None:
    batch = pa.record_batch({"a": pa.array([1, 2, 3], pa.int32()), "b": ["x", None, "z"]})
    modern = ipc.batch_message(batch)
    legacy = ipc.to_legacy(modern)
    assert modern[:4] == b"\xff\xff\xff\xff" and legacy[:4] != b"\xff\xff\xff\xff"
    assert (4 + int.from_bytes(legacy[:4], "little")) % 8 == 0
    assert ipc.read_batch(legacy, batch.schema, "x").equals(batch)
    block = Block.from_logical(batch, legacy=True)
    assert block.is_legacy and block.logical_batch().equals(batch)


@pytest.mark.parametrize("t", [pa.bool_(), pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.float32(), pa.float64(),
                               pa.string(), pa.binary(), pa.decimal128(38, 10), pa.date32(), pa.date64(),
                               pa.timestamp("ms", "UTC"), pa.timestamp("us", "America/New_York")])
def test_arrow_type_json_round_trip(t: pa.DataType) -> None:
    assert type_from_json(type_to_json(t), "type") == t


def test_unsupported_types_are_named() -> None:
    with pytest.raises(TypeError, match=r"'u'.*uint8"):
        check_supported(pa.schema([("u", pa.uint8())]), logical=True, what="t")
    with pytest.raises(TypeError, match="'big'"):
        check_supported(pa.schema([("big", pa.decimal256(50, 2))]), logical=True, what="t")
    check_supported(pa.schema([("ok", pa.timestamp("ms")), ("m", pa.map_(pa.string(), pa.int64()))]),
                    logical=True, what="t")


# ---------------------------------------------------------------------------------------------- hypothesis

SCALARS = {
    "bigint": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "int": (pa.int32(), st.integers(-(2**31), 2**31 - 1)),
    "double": (pa.float64(), st.floats(allow_nan=False)),
    "varchar": (pa.string(), st.text()),
    "varbinary": (pa.binary(), st.binary()),
    "decimal": (pa.decimal128(20, 4), st.decimals(min_value=Decimal("-9999999999999999.9999"),
                                                   max_value=Decimal("9999999999999999.9999"), places=4)),
    "date": (pa.date32(), st.dates(min_value=dt.date(1, 1, 1))),
    "timestamp": (pa.timestamp("ms"), st.datetimes(min_value=dt.datetime(1900, 1, 1),
                                                   max_value=dt.datetime(2200, 1, 1)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))),
    "tstz": (pa.timestamp("ms", "UTC"), st.datetimes(min_value=dt.datetime(1900, 1, 1),
                                                     max_value=dt.datetime(2200, 1, 1), timezones=st.just(UTC)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))),
    "boolean": (pa.bool_(), st.booleans()),
}


@st.composite
def batches(draw: st.DrawFn) -> pa.RecordBatch:
    names = draw(st.lists(st.sampled_from(sorted(SCALARS)), min_size=0, max_size=5))
    rows = draw(st.integers(0, 20))
    columns = {}
    for i, name in enumerate(names):
        t, values = SCALARS[name]
        drawn = draw(st.lists(st.one_of(st.none(), values), min_size=rows, max_size=rows))
        columns[f"c{i}_{name}"] = pa.array(drawn, t)
    if not columns:
        return empty_batch(rows)
    return pa.record_batch(columns)


@settings(max_examples=150, deadline=None)
@given(batches(), st.booleans())
def test_blocks_round_trip_any_batch(batch: pa.RecordBatch, legacy: bool) -> None:
    block = Block.from_logical(batch, legacy=legacy)
    again = Block.from_wire(json.loads(json.dumps(block.to_wire())), "b")
    decoded = again.logical_batch()
    assert decoded.num_rows == batch.num_rows
    assert decoded.equals(batch) if batch.num_columns else decoded.num_columns == 0


def _value_sets(name: str) -> st.SearchStrategy:
    t, values = SCALARS[name]
    ranges = st.lists(st.one_of(
        values.map(Range.equal),
        st.tuples(values, values).map(lambda p: Range(Marker(min(p), Bound.ABOVE), Marker(max(p), Bound.EXACTLY))),
        values.map(lambda v: Range(Marker.below_all(), Marker(v, Bound.BELOW))),
        st.just(Range.all())), max_size=4)
    return st.one_of(
        st.builds(lambda r, n: SortedRangeSet(t, tuple(r), n), ranges, st.booleans()),
        st.builds(lambda v, w, n: EquatableValueSet(t, tuple(v), w, n), st.lists(values, max_size=4),
                  st.booleans(), st.booleans()),
        st.builds(lambda a, n: AllOrNoneValueSet(t, a, n), st.booleans(), st.booleans()))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SCALARS)).flatmap(_value_sets), st.sampled_from([4, 5, 6]))
def test_constraints_round_trip_through_the_wire(value_set: object, version: int) -> None:
    t = value_set.type  # type: ignore[attr-defined]
    expression = FunctionCall(pa.bool_(), "$is_null", (Variable("c", t),))
    constraints = Constraints(summary={"c": value_set}, expression=(expression,),  # type: ignore[dict-item]
                              order_by=(OrderByField("c", SortDirection.DESC_NULLS_LAST),), limit=10,
                              passthrough={} if version < 5 else {"QUERY": "select 1"},
                              query_plan=QueryPlan("1.0.0", "abc") if version >= 6 else None)
    wire = json.loads(json.dumps(constraints.to_wire(version)))
    assert list(wire) == ["summary", "expression", "orderByClause", "limit", "queryPassthroughArguments",
                          "queryPlan"][: {4: 4, 5: 5, 6: 6}[version]]
    assert Constraints.from_wire(wire, "constraints") == constraints


def test_constant_with_several_rows_round_trips() -> None:
    constant = Constant(pa.string(), ("a", None, "b"))
    wire = json.loads(json.dumps(constant.to_wire()))
    from connector.protocol.constraints import expression_from_wire

    assert expression_from_wire(wire, "e") == constant


# ---------------------------------------------------------------------------------------------- bad input

def _read_records_event() -> dict:
    schema = pa.schema([("a", pa.int32())])
    return ReadRecordsRequest(Identity(), "q", "c", TableName("s", "t"), SchemaMessage.of(schema),
                              Split(None, None, {}), Constraints(), 16_000_000, 5_000_000).to_wire()


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda e: e.pop("@type"), "@type"),
    (lambda e: e.__setitem__("@type", "DropTableRequest"), "unknown request type 'DropTableRequest'"),
    (lambda e: e.__setitem__("@type", 7), "@type"),
    (lambda e: e.pop("tableName"), "tableName: required key is missing"),
    (lambda e: e.__setitem__("tableName", "s.t"), "tableName: expected a JSON object, got a string"),
    (lambda e: e.__setitem__("maxBlockSize", "big"), "maxBlockSize: expected an integer"),
    (lambda e: e.__setitem__("maxBlockSize", True), "maxBlockSize: expected an integer, got a boolean"),
    (lambda e: e.__setitem__("schema", "%%%"), "schema: not valid base64"),
    (lambda e: e.__setitem__("schema", base64.b64encode(b"garbage!").decode()), "schema: not an Arrow IPC schema"),
    (lambda e: e["split"].__setitem__("properties", {"a": 1}), "split.properties.a: expected a string value"),
    (lambda e: e["constraints"].__setitem__("summary", {"a": {"@type": "Wat"}}),
     "constraints.summary.a.@type: unknown value set type 'Wat'"),
    (lambda e: e["constraints"].__setitem__("orderByClause", [{"columnName": "a", "direction": "UP"}]),
     "constraints.orderByClause[0].direction: unknown sort direction 'UP'"),
    (lambda e: e["constraints"].__setitem__("limit", -5), "constraints.limit"),
])
def test_malformed_events_name_the_problem(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    event = _read_records_event()
    mutate(event)
    with pytest.raises(ProtocolError, match=re.escape(message)):
        parse_request(event)


@pytest.mark.parametrize("event", [None, [], "PingRequest", 42])
def test_non_object_events_are_rejected(event: object) -> None:
    with pytest.raises(ProtocolError, match="expected a JSON object"):
        parse_request(event)


def test_records_that_do_not_match_the_schema_are_rejected() -> None:
    batch = pa.record_batch({"a": pa.array([1, 2], pa.int64()), "b": ["x", "y"]})
    other = pa.schema([("a", pa.string())])
    block = Block(ipc.schema_message(other), ipc.batch_message(batch))
    with pytest.raises(ProtocolError, match=r"block\.records"):
        block.logical_batch()
