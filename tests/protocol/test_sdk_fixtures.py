"""Conformance with the reference SDK's golden messages (../shared/protocol-fixtures, v2-v6)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from connector.local.wire_check import check_response
from connector.protocol import (
    AllOrNoneValueSet,
    Bound,
    Constant,
    EquatableValueSet,
    FunctionCall,
    GetSplitsRequest,
    GetTableLayoutRequest,
    GetTableRequest,
    ListTablesRequest,
    PingRequest,
    ReadRecordsRequest,
    SortDirection,
    SortedRangeSet,
    UserDefinedFunctionRequest,
    Variable,
    parse_request,
    parse_response,
)

REQUESTS = ["PingRequest.json", "PingRequestForwardsCompatible.json", "v2/GetSplitsRequest.json",
            "v2/GetTableLayoutRequest.json", "v2/GetTableRequest.json", "v2/ListSchemasRequest.json",
            "v2/ListTablesRequest.json", "v2/ReadRecordsRequest.json", "v2/UserDefinedFunctionRequest.json",
            "v4/ReadRecordsRequest.json", "v5/GetTableRequest.json", "v5/ReadRecordsRequest.json",
            "v6/ReadRecordsRequest.json"]
RESPONSES = ["PingResponse.json", "PingResponseForwardsCompatible.json", "v2/GetSplitsResponse.json",
             "v2/GetTableLayoutResponse.json", "v2/GetTableResponse.json", "v2/ListSchemasResponse.json",
             "v2/ListTablesResponse.json", "v2/ReadRecordsResponse.json", "v2/RemoteReadRecordsResponse.json",
             "v2/UserDefinedFunctionResponse.json", "v4/GetDataSourceCapabilitiesResponse.json"]


def load(root: Path, name: str) -> dict:
    return json.loads((root / name).read_text())


def test_the_fixture_list_is_complete(shared_fixtures: Path) -> None:
    on_disk = {str(p.relative_to(shared_fixtures)) for p in shared_fixtures.rglob("*.json")}
    assert on_disk == set(REQUESTS) | set(RESPONSES) | {"v2/LambdaFunctionException.json"}


@pytest.mark.parametrize("name", REQUESTS)
def test_every_request_fixture_parses(shared_fixtures: Path, name: str) -> None:
    event = load(shared_fixtures, name)
    request = parse_request(event)
    assert type(request).__name__ == event["@type"]
    assert request.identity.account == "0123456789"


@pytest.mark.parametrize("name", RESPONSES)
def test_every_response_fixture_round_trips_with_key_order(shared_fixtures: Path, name: str) -> None:
    original = load(shared_fixtures, name)
    rewritten = parse_response(original).to_wire()
    expected = {k: v for k, v in original.items() if k != "newField"}  # unknown trailing keys are dropped
    assert json.dumps(rewritten) == json.dumps(expected)  # same values AND same key order, recursively
    assert check_response(rewritten, exact=True) == []


def test_v2_get_splits_request_content(shared_fixtures: Path) -> None:
    request = parse_request(load(shared_fixtures, "v2/GetSplitsRequest.json"))
    assert isinstance(request, GetSplitsRequest)
    assert request.continuation_token == "test-continuation-token"
    assert request.partition_columns == ("year", "month", "day")
    partitions = request.partitions.logical_batch()
    assert partitions.num_rows == 10
    assert partitions.schema.names == ["year", "month", "day", "col2", "col3", "col4", "col5"]
    assert request.partitions.is_legacy  # v2 uses the legacy IPC framing
    summary = request.constraints.summary
    col4 = summary["col4"]
    assert isinstance(col4, EquatableValueSet)
    assert col4.values == (1.1,) and not col4.white_list and col4.null_allowed
    col5 = summary["col5"]
    assert isinstance(col5, AllOrNoneValueSet) and not col5.all and col5.null_allowed
    col3 = summary["col3"]
    assert isinstance(col3, SortedRangeSet) and not col3.null_allowed
    (only,) = col3.ranges
    assert only.low.value == -10000.0 and only.low.bound is Bound.ABOVE
    assert only.high.unbounded and only.high.bound is Bound.BELOW
    # a v2 request has no v4+ keys: defaults apply
    assert request.constraints.expression == () and request.constraints.limit == -1


def test_v2_list_tables_pagination_fields(shared_fixtures: Path) -> None:
    request = parse_request(load(shared_fixtures, "v2/ListTablesRequest.json"))
    assert isinstance(request, ListTablesRequest)
    assert (request.schema_name, request.next_token, request.page_size) == ("test-schema", "table4", 25)


def test_v2_read_records_sizes_arrive_as_strings(shared_fixtures: Path) -> None:
    request = parse_request(load(shared_fixtures, "v2/ReadRecordsRequest.json"))
    assert isinstance(request, ReadRecordsRequest)
    assert request.max_block_size == 100_000_000_000 and request.max_inline_block_size == 100_000_000_000
    assert request.split.encryption_key is not None
    assert request.split.spill_location is not None and request.split.spill_location.directory
    assert request.schema.logical_schema().names == ["year", "month", "day", "col2", "col3", "col4", "col5"]


def test_v4_expression_order_by_and_limit(shared_fixtures: Path) -> None:
    request = parse_request(load(shared_fixtures, "v4/ReadRecordsRequest.json"))
    assert isinstance(request, ReadRecordsRequest)
    (expression,) = request.constraints.expression
    assert isinstance(expression, FunctionCall) and expression.name == "$greater_than"
    add, col2 = expression.arguments
    assert isinstance(add, FunctionCall) and add.name == "$add"
    assert isinstance(col2, Variable) and col2.column == "col2"
    variable, constant = add.arguments
    assert isinstance(variable, Variable) and variable.column == "col3"
    assert isinstance(constant, Constant) and constant.values == (10,) and constant.type == pa.int32()
    assert [(o.column, o.direction) for o in request.constraints.order_by] == [
        ("col3", SortDirection.ASC_NULLS_FIRST), ("col2", SortDirection.DESC_NULLS_FIRST)]
    assert request.constraints.limit == -1
    assert not request.schema.is_legacy


def test_v5_passthrough_and_v6_query_plan(shared_fixtures: Path) -> None:
    get_table = parse_request(load(shared_fixtures, "v5/GetTableRequest.json"))
    assert isinstance(get_table, GetTableRequest)
    assert get_table.passthrough == {"query": "SELECT * FROM DUMMY_TABLE;"}
    v6 = parse_request(load(shared_fixtures, "v6/ReadRecordsRequest.json"))
    assert isinstance(v6, ReadRecordsRequest)
    assert v6.constraints.query_plan is not None
    assert (v6.constraints.query_plan.substrait_version, v6.constraints.query_plan.substrait_plan) == (
        "1.0.0", "TestPlan")
    assert v6.constraints.is_passthrough


def test_udf_and_layout_requests(shared_fixtures: Path) -> None:
    udf = parse_request(load(shared_fixtures, "v2/UserDefinedFunctionRequest.json"))
    assert isinstance(udf, UserDefinedFunctionRequest)
    assert udf.input_records.logical_batch().to_pylist() == [{"factor1": 2, "factor2": 3}]
    assert udf.output_schema.logical_schema().names == ["product"]
    layout = parse_request(load(shared_fixtures, "v2/GetTableLayoutRequest.json"))
    assert isinstance(layout, GetTableLayoutRequest)
    assert layout.partition_columns == ("month", "year", "day")


def test_forward_compatible_ping_ignores_the_new_field(shared_fixtures: Path) -> None:
    request = parse_request(load(shared_fixtures, "PingRequestForwardsCompatible.json"))
    assert isinstance(request, PingRequest)
    assert (request.catalog_name, request.query_id) == ("test-catalog", "test-query-id")


def test_response_blocks_decode(shared_fixtures: Path) -> None:
    records = parse_response(load(shared_fixtures, "v2/ReadRecordsResponse.json"))
    batch = records.records.logical_batch()
    assert batch.num_rows == 10 and batch.schema.names[:3] == ["year", "month", "day"]
    udf = parse_response(load(shared_fixtures, "v2/UserDefinedFunctionResponse.json"))
    assert udf.records.logical_batch().column("product").to_pylist() == list(range(0, 20, 2))


def test_spec_examples_decode() -> None:
    """The pyarrow-generated examples printed in the spec itself (no ../shared needed)."""
    from connector.protocol import Block

    schema_b64 = (
        "/////6gAAAAQAAAAAAAKAAwABgAFAAgACgAAAAABBAAMAAAACAAIAAAABAAIAAAABAAAAAIAAABEAAAABAAAANT///8AAAEF"
        "EAAAABwAAAAEAAAAAAAAAAQAAABuYW1lAAAAAAQABAAEAAAAEAAUAAgABgAHAAwAAAAQABAAAAAAAAECEAAAABwAAAAEAAAA"
        "AAAAAAIAAABpZAAACAAMAAgABwAIAAAAAAAAASAAAAA="
    )
    records_b64 = (
        "/////8gAAAAUAAAAAAAAAAwAFgAGAAUACAAMAAwAAAAAAwQAGAAAACgAAAAAAAAAAAAKABgADAAEAAgACgAAAGwAAAAQAAAA"
        "AgAAAAAAAAAAAAAABQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAAAAAACAAAAAAAAAABAAAAAAAAABAAAAAAAAAA"
        "DAAAAAAAAAAgAAAAAAAAAAEAAAAAAAAAAAAAAAIAAAACAAAAAAAAAAAAAAAAAAAAAgAAAAAAAAABAAAAAAAAAAEAAAACAAAA"
        "AQAAAAAAAAAAAAAAAQAAAAEAAAAAAAAAYQAAAAAAAAA="
    )
    block = Block.from_wire({"aId": "x", "schema": schema_b64, "records": records_b64}, "records")
    assert block.logical_batch().to_pylist() == [{"id": 1, "name": "a"}, {"id": 2, "name": None}]
