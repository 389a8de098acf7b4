"""Every size a request controls is bounded, with a clear error: block sizes, blocks per response, continuation
tokens and numeric split properties, value-set and expression totals; and the machinery behind the bounds (the
ORDER BY's sorted runs, the sorted range lookup) gives the same answers as the plain evaluation.

The resource measurements themselves (peak RSS, wall time against real engines) are in
tests/protocol/test_resource_bounds.py.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connector import response_limits
from connector.config import LOCAL_SPILL_BUCKET
from connector.errors import ConfigurationError, InvalidRequest, ResultTooLarge
from connector.protocol import Constraints, ReadRecordsRequest, SchemaMessage, Split, TableName
from connector.protocol.block import Block
from connector.protocol.constraints import (
    MAX_REQUEST_VALUES,
    Bound,
    Constant,
    FunctionCall,
    Marker,
    Range,
    SortedRangeSet,
    Variable,
)
from connector.protocol.errors import ProtocolError
from connector.protocol.messages import RemoteReadRecordsResponse, SpillLocation
from connector.pushdown import evaluate, evaluate_sets
from connector.pushdown.evaluate import sort_indices, value_set_mask
from connector.records import respond
from connector.response_limits import MIN_BLOCK_BYTES, block_size_for
from connector.sorted_runs import RunStore
from connector.tokens import parse_count, read_number
from connector.topn import top_n
from spill.stores import LocalStore
from spill.writer import Spiller
from tests.support.athena import IDENTITY, Athena
from tests.support.spill_data import CATALOG, TABLE, create_events_db, events_athena, events_splits

# ------------------------------------------------------------------------------------------ block sizes


@pytest.fixture
def events(tmp_path: Path, lambda_env: Any, invoke: Any) -> tuple[Athena, Any, Split, Path]:
    db = create_events_db(tmp_path / "events.db", 3000)
    lambda_env(**{f"{CATALOG}_connection_string": f"sqlite://jdbc:sqlite:{db}"})
    athena = events_athena(invoke)
    definition, (split,) = events_splits(athena)
    return athena, definition, split, tmp_path / "spill"


@pytest.mark.parametrize("size", [1, 210, 700, MIN_BLOCK_BYTES - 1])
def test_tiny_max_block_sizes_are_refused_before_anything_is_read(events: Any, size: int) -> None:
    athena, definition, split, spill = events
    with pytest.raises(Exception, match=rf"maxBlockSize is {size} bytes; the smallest block this connector "
                                        rf"spills is {MIN_BLOCK_BYTES} bytes") as raised:
        athena.read(TABLE, definition, split, max_block_size=size, max_inline_block_size=1)
    assert isinstance(raised.value, InvalidRequest)  # reaches Athena under the Java SDK's class name
    assert not spill.exists() or not any(spill.rglob("*.*"))  # not one object written


def test_a_tiny_max_block_size_bytes_setting_is_a_configuration_error(events: Any, lambda_env: Any) -> None:
    athena, definition, split, _ = events
    lambda_env(MAX_BLOCK_SIZE_BYTES="700")
    with pytest.raises(ConfigurationError, match="MAX_BLOCK_SIZE_BYTES is 700 bytes"):
        athena.read(TABLE, definition, split)


def test_the_smallest_block_size_is_accepted_and_spills_few_objects(events: Any) -> None:
    athena, definition, split, spill = events
    response = athena.read(TABLE, definition, split, max_block_size=MIN_BLOCK_BYTES, max_inline_block_size=1)
    assert isinstance(response, RemoteReadRecordsResponse)
    objects = [p for p in spill.rglob("*") if p.is_file()]
    assert len(objects) == len(response.remote_blocks) >= 2
    # Every block but the last is at least half full: the count follows the data, not the rows.
    assert len(objects) <= sum(p.stat().st_size for p in objects) // (MIN_BLOCK_BYTES // 2) + 1


def test_block_sizes_above_athenas_maximum_are_lowered_to_it() -> None:
    assert block_size_for(100_000_000_000, None) == 16_000_000
    assert block_size_for(5, 16_000_000) == 16_000_000  # the environment wins over the request, as in Java
    assert block_size_for(MIN_BLOCK_BYTES, None) == MIN_BLOCK_BYTES
    with pytest.raises(InvalidRequest, match="maxBlockSize"):
        block_size_for(MIN_BLOCK_BYTES - 1, None)


# ------------------------------------------------------------------------------------------ blocks per response


SCHEMA = pa.schema([("id", pa.int64()), ("s", pa.string())])


def _request(key: str) -> ReadRecordsRequest:
    split = Split(SpillLocation(LOCAL_SPILL_BUCKET, key, True), None, {})
    return ReadRecordsRequest(IDENTITY, "q", "cat", TableName("s", "t"), SchemaMessage.of(SCHEMA), split,
                              Constraints(), MIN_BLOCK_BYTES, 1)


def _batches(rows: int) -> list[pa.RecordBatch]:
    return [pa.record_batch({"id": pa.array(range(i, i + 1000), pa.int64()),
                             "s": pa.array([f"{j:0300d}" for j in range(i, i + 1000)])})
            for i in range(0, rows, 1000)]


def test_a_split_needing_more_blocks_than_one_response_can_list_stops_before_writing_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ReadRecords has no continuation: the blocks of one split must fit one response. Here the response room is
    shrunk so that a few blocks fill it; the spiller must stop at that count, with an error saying what to do."""
    request = _request("athena-federation-spill/q/split")
    envelope = RemoteReadRecordsResponse("cat", request.schema, (), None).to_wire()
    entry = len(json.dumps(SpillLocation(LOCAL_SPILL_BUCKET, "athena-federation-spill/q/split.999999999",
                                         False).to_wire())) + 2
    monkeypatch.setattr(response_limits, "MAX_RESPONSE_BYTES", response_limits.json_size(envelope) + 3 * entry + 10)
    store = LocalStore(str(tmp_path))
    written: list[Spiller] = []

    def factory(r: ReadRecordsRequest) -> Spiller:
        assert r.split.spill_location is not None
        written.append(Spiller(store, r.split.spill_location, None))
        return written[0]

    with pytest.raises(ResultTooLarge, match=r"needs more than 3 spilled blocks .* no\s+continuation. Read the "
                                             r"table in more splits"):
        respond(request, _batches(5000), max_block_size=MIN_BLOCK_BYTES, spiller_factory=factory)
    assert len(list(tmp_path.rglob("split.*"))) <= 3


def test_spilled_responses_fit_with_long_spill_keys(tmp_path: Path) -> None:
    """Keys of any length: the response is measured as the runtime writes it, and stays under the limit."""
    request = _request("p/" + "/".join(["k" * 200] * 4) + "/split")
    store = LocalStore(str(tmp_path))
    response = respond(request, _batches(3000), max_block_size=MIN_BLOCK_BYTES,
                       spiller_factory=lambda r: Spiller(store, r.split.spill_location, None))  # type: ignore[arg-type]
    assert isinstance(response, RemoteReadRecordsResponse) and len(response.remote_blocks) >= 2
    assert response_limits.json_size(response.to_wire()) <= response_limits.MAX_RESPONSE_BYTES


def test_a_metadata_response_over_the_lambda_limit_is_a_clear_error(tmp_path: Path, lambda_env: Any,
                                                                    invoke: Any) -> None:
    """A table of 1,900 columns with 1,500-character names: its GetTableResponse schema is over 6 MB as JSON."""
    import sqlite3

    db = tmp_path / "wide.db"
    columns = ", ".join(f'"c{i:04d}{"x" * 1500}" INTEGER' for i in range(1900))
    with sqlite3.connect(db) as connection:
        try:
            connection.execute(f"CREATE TABLE w ({columns})")
        except sqlite3.OperationalError as e:  # this SQLite build limits columns (SQLITE_MAX_COLUMN)
            pytest.skip(f"cannot create the wide table: {e}")
    lambda_env(default=f"sqlite://jdbc:sqlite:{db}")
    with pytest.raises(ResultTooLarge, match=r"GetTableResponse would be .* bytes of JSON, more than Lambda's "
                                             r"response limit of 6,000,000 bytes"):
        Athena(invoke, "default").get_table("main", "w")


# ------------------------------------------------------------------------------------------ tokens


@given(st.text(max_size=30))
@example("\u0663")  # ARABIC-INDIC DIGIT THREE: str.isdigit() is true and int() accepts it
@example("1_000")
@example(" 12")
@example("9" * 19)
@example("9" * 4301)  # int() raises a bare ValueError past 4,300 digits
@example("-5")
def test_numbers_in_tokens_are_ascii_digits_that_fit_a_long(text: str) -> None:
    value = read_number(text)
    if value is None:
        assert not (text.isascii() and text.isdigit() and len(text) <= 19 and int(text) < 2**63)
    else:
        assert text.isascii() and text.isdigit() and value == int(text) < 2**63
    signed = read_number(text, signed=True)
    if signed is not None:
        assert str(signed) == text.lstrip("0") or text.strip("0-") == "" or int(text) == signed


@pytest.mark.parametrize("token", ["offset:" + "9" * 4301, "offset:\u0661\u0662", "offset:-1", "offset:1_0",
                                   "offset: 3", "offset:" + "9" * 20])
def test_list_tables_refuses_tokens_it_never_wrote(events: Any, invoke: Any, token: str) -> None:
    athena = events[0]
    with pytest.raises(Exception, match="invalid continuation token") as raised:
        athena.tables("main", page_size=1, token=token)
    assert isinstance(raised.value, InvalidRequest)  # reaches Athena under the Java SDK's class name


def test_list_tables_page_sizes_are_java_ints(events: Any) -> None:
    athena = events[0]
    assert athena.tables("main", page_size=2**31 - 1)[0] == ["events"]
    with pytest.raises(InvalidRequest, match=r"pageSize must be -1 .* up to 2147483647"):
        athena.tables("main", page_size=2**63 - 1)


def test_get_splits_refuses_tokens_it_never_wrote(events: Any) -> None:
    athena, definition, _, _ = events
    from connector.protocol.messages import GetSplitsRequest, GetTableLayoutRequest

    layout = athena.call(GetTableLayoutRequest(athena.identity, athena.query_id, athena.catalog, TABLE,
                                               Constraints(), definition.schema, ()))
    for token in ("9" * 4301, "\u0661", "x"):
        with pytest.raises(Exception, match="invalid continuation token") as raised:
            athena.call(GetSplitsRequest(athena.identity, athena.query_id, athena.catalog, TABLE, layout.partitions,
                                         (), Constraints(), token))
        assert isinstance(raised.value, InvalidRequest)  # reaches Athena under the Java SDK's class name


@pytest.mark.parametrize("bounds", [("\u0661", "9"), ("0", "9" * 4301), ("0x1", "5"), ("1_0", "20"), (" 1", "5")])
def test_rowid_split_properties_are_ascii_numbers(events: Any, bounds: tuple[str, str]) -> None:
    athena, definition, split, _ = events
    forged = Split(split.spill_location, split.encryption_key, {"rowid_from": bounds[0], "rowid_to": bounds[1]})
    with pytest.raises(Exception, match="malformed rowid range") as raised:
        athena.read(TABLE, definition, forged)
    assert isinstance(raised.value, InvalidRequest)  # reaches Athena under the Java SDK's class name


def test_base_adapter_split_tokens_are_bounded_offsets() -> None:
    assert parse_count("3", "token", high=5) == 3
    for bad in ("6", "٣", "9" * 4301, "-1"):
        with pytest.raises(InvalidRequest):
            parse_count(bad, "token", high=5)


# ------------------------------------------------------------------------------------------ value totals


def _value_block(t: pa.DataType, values: list[Any]) -> dict[str, Any]:
    return Block.from_logical(pa.record_batch({"col1": pa.array(values, t)})).to_wire()


def test_value_blocks_of_one_request_hold_at_most_a_million_values_together() -> None:
    block = _value_block(pa.bool_(), [True] * 400_000)  # 50 kB of bits
    summary = {f"c{i}": {"@type": "EquatableValueSet", "valueBlock": block, "whiteList": True, "nullAllowed": False}
               for i in range(3)}
    with pytest.raises(ProtocolError, match=f"more than {MAX_REQUEST_VALUES} values in all"):
        Constraints.from_wire({"summary": summary}, "constraints")
    Constraints.from_wire({"summary": dict(list(summary.items())[:2])}, "constraints")  # 800,000: accepted


def test_expression_nodes_of_one_request_are_bounded() -> None:
    one = {"@type": "VariableExpression", "columnName": "a", "type": {"@type": "Bool"}}
    call = {"@type": "FunctionCallExpression", "type": {"@type": "Bool"}, "functionName": {"functionName": "$or"},
            "arguments": [one] * 100_001}
    with pytest.raises(ProtocolError, match="more than 100000 expression nodes and ranges"):
        Constraints.from_wire({"summary": {}, "expression": [call]}, "constraints")


# ------------------------------------------------------------------------------------------ bounded ORDER BY


def _table(rng: random.Random, n: int) -> pa.Table:
    return pa.table({
        "x": pa.array([rng.choice([None, math.nan, float(rng.randrange(40)), -0.0]) for _ in range(n)], pa.float64()),
        "s": pa.array([rng.choice([None, "a", "b", "é", ""]) for _ in range(n)]),
        "i": pa.array(range(n), pa.int64())})


KEYS = st.lists(st.tuples(st.sampled_from(["x", "s"]), st.booleans(), st.booleans()), min_size=1, max_size=2,
                unique_by=lambda k: k[0])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(0, 6000), limit=st.sampled_from([-1, 0, 1, 17, 999, 5000, 10**6]),
       memory=st.sampled_from([1 << 10, 1 << 14, 1 << 30]), chunk=st.integers(1, 2500), keys=KEYS,
       seed=st.integers(0, 2**16))
def test_top_n_in_bounded_memory_orders_as_the_in_memory_sort(n: int, limit: int, memory: int, chunk: int,
                                                              keys: list[tuple[str, bool, bool]], seed: int) -> None:
    """Whatever the memory cap (1 KiB forces a run per batch and merges of merges), the rows are those of the
    plain sort, in its order up to ties."""
    table = _table(random.Random(seed), n)
    out = pa.Table.from_batches(list(top_n(table.to_batches(max_chunksize=chunk), keys, limit, memory_bytes=memory)),
                                schema=table.schema)
    expected = table.take(sort_indices(table, keys))
    if limit >= 0:
        expected = expected.slice(0, limit)
    names = [k[0] for k in keys]
    assert [tuple(repr(r[c]) for c in names) for r in out.to_pylist()] == [
        tuple(repr(r[c]) for c in names) for r in expected.to_pylist()]
    ids = out.column("i").to_pylist()
    assert len(set(ids)) == len(ids)  # no row twice


def test_sorted_runs_are_encrypted_and_removed(tmp_path: Path) -> None:
    table = pa.table({"secret": pa.array([f"card-4111-{i:06d}" for i in range(50_000)]),
                      "k": pa.array(range(50_000, 0, -1), pa.int64())})
    seen: list[bytes] = []
    original = RunStore.read

    def spy(self: RunStore, run: Any) -> Any:
        seen.append(Path(run.path).read_bytes())
        return original(self, run)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RunStore, "read", spy)
        out = list(top_n(table.to_batches(max_chunksize=4096), [("k", True, False)], -1, memory_bytes=1 << 20,
                         directory=str(tmp_path)))
    assert seen and not any(b"card-4111" in data for data in seen)  # written, and never in plaintext
    assert pa.Table.from_batches(out).column("k").to_pylist() == list(range(1, 50_001))
    assert list(tmp_path.iterdir()) == []  # the sort's directory is gone


def test_a_sort_that_would_fill_the_disk_stops_with_a_clear_error(tmp_path: Path) -> None:
    table = pa.table({"k": pa.array(range(100_000), pa.int64())})
    store = RunStore(str(tmp_path), reserve_bytes=2**62)
    try:
        with pytest.raises(ResultTooLarge, match=r"needs more local disk than is free .* ephemeral storage"):
            store.write(table.to_batches(), table.schema)
    finally:
        store.close()
    assert list(tmp_path.iterdir()) == []


def test_sort_memory_setting_is_bounded() -> None:
    from connector.topn import sort_memory_bytes

    assert sort_memory_bytes({}) == 32 << 20
    with pytest.raises(ConfigurationError, match="sort_memory_bytes"):
        sort_memory_bytes({"sort_memory_bytes": "1000"})


# ------------------------------------------------------------------------------------------ large value sets


def _markers(draw: st.DrawFn, low: bool) -> Marker:
    if draw(st.integers(0, 19)) == 0:
        return Marker.below_all() if low else Marker.above_all()
    value = draw(st.integers(-30, 30)) / 2
    return Marker(value, draw(st.sampled_from([Bound.EXACTLY, Bound.ABOVE if low else Bound.BELOW])))


@st.composite
def range_sets(draw: st.DrawFn) -> SortedRangeSet:
    ranges = []
    for _ in range(draw(st.integers(evaluate_sets.MANY_RANGES, 80))):
        low, high = _markers(draw, True), _markers(draw, False)
        if not low.unbounded and not high.unbounded and low.value > high.value:
            low, high = Marker(high.value, Bound.EXACTLY), Marker(low.value, Bound.EXACTLY)
        ranges.append(Range(low, high))
    return SortedRangeSet(pa.float64(), tuple(ranges), draw(st.booleans()))


@settings(max_examples=150, deadline=None)
@given(value_set=range_sets(), values=st.lists(st.one_of(st.none(), st.just(math.nan), st.integers(-35, 35).map(
    lambda v: v / 2)), max_size=300))
def test_many_ranges_by_one_sorted_lookup_match_range_by_range_comparisons(value_set: SortedRangeSet,
                                                                           values: list[Any]) -> None:
    column = pa.array(values, pa.float64())
    expected = pa.array([False] * len(column), pa.bool_())
    for r in value_set.ranges:
        expected = pc.or_(expected, evaluate._true_only(evaluate._in_range(column, r, value_set.type), len(column)))
    expected = pc.if_else(pc.is_null(column), value_set.null_allowed, expected)
    assert value_set_mask(value_set, column).to_pylist() == expected.to_pylist()


def test_an_or_of_many_equalities_is_one_membership_test_with_the_same_answer() -> None:
    rng = random.Random(7)
    batch = pa.record_batch({"c": pa.array([rng.choice([None, *range(30)]) for _ in range(2000)], pa.int64())})
    terms = tuple(FunctionCall(pa.bool_(), "$equal", (Variable("c", pa.int64()), Constant(pa.int64(), (k,))))
                  for k in [*range(0, 40, 3), None])
    call = FunctionCall(pa.bool_(), "$or", terms)
    merged = evaluate_sets.or_of_equalities(call)
    assert [e.name for e in merged if isinstance(e, FunctionCall)] == ["$in"]
    plain = evaluate._logical(pc.or_kleene)(call, batch)
    assert evaluate.evaluate(call, batch).to_pylist() == plain.to_pylist()


def test_encoded_in_values_are_not_reconverted_per_batch() -> None:
    """A scan converts a value list once: the cache hands back the same array for every batch."""
    owner = object()
    calls = []
    cache: dict[Any, Any] = {}
    with evaluate_sets.scoped(cache):
        for _ in range(3):
            evaluate_sets.members(owner, lambda: calls.append(1) or [1, 2, 3], pa.int64(), pa.int64())
    assert len(calls) == 1
