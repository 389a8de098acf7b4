"""Fuzzing the request parser and the block decoder: malformed input is a ``ProtocolError`` naming the problem.

Mutations are structure-aware - they start from real request events of every type and serde shape
(``tests.support.protocol_events``) and change one place: drop or retype a key, put random JSON there, put random or
truncated or re-framed bytes in a base64 field, make an IPC message claim more than it has. Whatever comes
out must either parse (and then decode completely) or fail with ``ProtocolError`` - never another exception, a
hang, or unbounded memory. Hostile sizes (huge row counts, deep nesting, huge buffers) have their own tests
with memory measured.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import time
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.errors import InvalidRequest
from connector.protocol import Block, Constraints, ProtocolError, SchemaMessage, parse_request
from connector.protocol.constraints import Constant, FunctionCall
from tests.support.protocol_events import events


def _fixture_requests() -> list[dict[str, Any]]:
    """The reference SDK's request fixtures too, when ../shared is present."""
    from tests.conftest import FIXTURES

    if not FIXTURES.is_dir():
        return []
    found = [json.loads(p.read_text()) for p in sorted(FIXTURES.rglob("*Request*.json"))]
    return [e for e in found if isinstance(e, dict)]


SEEDS = events() + _fixture_requests()
FUZZ = settings(max_examples=400, deadline=timedelta(seconds=10), suppress_health_check=list(HealthCheck))


# ------------------------------------------------------------------------------------------ harness


def decode_all(value: Any, depth: int = 0) -> None:
    """Decode everything a parsed request holds lazily (blocks, schemas), as the handler eventually does."""
    if depth > 50:
        return
    if isinstance(value, Block):
        value.logical_batch()
        return
    if isinstance(value, SchemaMessage):
        value.logical_schema()
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            decode_all(getattr(value, f.name), depth + 1)
    elif isinstance(value, tuple | list):
        for item in value:
            decode_all(item, depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            decode_all(item, depth + 1)


def accepts_or_rejects_clearly(event: Any) -> ProtocolError | None:
    """Parse and fully decode ``event``; the only failure allowed is a ProtocolError with a short message."""
    started = time.monotonic()
    try:
        decode_all(parse_request(event))
    except ProtocolError as e:
        text = str(e)
        assert text and len(text) < 2000, text
        assert e.problem, "a ProtocolError must say what was wrong"
        assert isinstance(e, InvalidRequest)  # what the Athena user sees as INVALID_INPUT
        return e
    finally:
        assert time.monotonic() - started < 10, "parsing one event must not take seconds"
    return None


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, (*prefix, i))


def get(value: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        value = value[p]
    return value


def put(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    parent = get(root, path[:-1])
    parent[path[-1]] = new
    return root


def delete(root: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return None
    parent = get(root, path[:-1])
    del parent[path[-1]]
    return root


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


def _is_b64(text: str) -> bool:
    if len(text) < 8:
        return False
    try:
        base64.b64decode(text, validate=True)
    except ValueError:
        return False
    return True


def _rewrite_bytes(data: bytes, draw: st.DrawFn) -> bytes:
    """Byte-level mutations of an IPC message: truncation, bit flips, forged lengths, garbage, re-framing."""
    kind = draw(st.sampled_from(["truncate", "flip", "length", "int", "append", "random", "legacy", "empty"]))
    if kind == "truncate" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if kind == "flip" and data:
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(out) - 1))
            out[i] ^= 1 << draw(st.integers(0, 7))
        return bytes(out)
    if kind == "length" and len(data) >= 8:  # the metadata length prefix claims something else
        claimed = draw(st.sampled_from([0, 1, 7, 2**31 - 1, 2**32 - 1, len(data) * 1000]))
        at = 4 if data[:4] == b"\xff\xff\xff\xff" else 0
        return data[:at] + claimed.to_bytes(4, "little") + data[at + 4:]
    if kind == "int" and len(data) >= 16:  # overwrite any aligned 8 bytes (row counts, buffer offsets...)
        i = draw(st.integers(0, len(data) // 8 - 1)) * 8
        value = draw(st.sampled_from([2**63 - 1, -1, 10**7, 10**9, 2**40, 0]))
        return data[:i] + value.to_bytes(8, "little", signed=True) + data[i + 8:]
    if kind == "append":
        return data + draw(st.binary(min_size=1, max_size=64))
    if kind == "legacy" and data[:4] == b"\xff\xff\xff\xff":
        return data[4:]  # a modern message with the continuation marker cut off
    if kind == "empty":
        return b""
    return draw(st.binary(max_size=256))


@st.composite
def mutated_events(draw: st.DrawFn, kinds: tuple[str, ...] = ("delete", "json", "retype", "bytes", "key",
                                                                 "number", "type"),
                   seeds: list[dict[str, Any]] | None = None) -> Any:
    event = copy.deepcopy(draw(st.sampled_from(seeds or SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(kinds))
        candidates = list(paths(event))
        if kind == "bytes":  # only the base64 fields (schemas, records, keys)
            candidates = [p for p in candidates if isinstance(get(event, p), str) and _is_b64(get(event, p))]
        elif kind == "key":
            candidates = [p for p in candidates if isinstance(get(event, p), dict)]
        elif kind != "json":
            candidates = [p for p in candidates if p] or candidates
        if not candidates:
            continue
        path = draw(st.sampled_from(candidates))
        target = get(event, path)
        if kind == "delete" and path:
            event = delete(event, path)
        elif kind == "bytes" and isinstance(target, str) and _is_b64(target):
            raw = _rewrite_bytes(base64.b64decode(target), draw)
            event = put(event, path, base64.b64encode(raw).decode())
        elif kind == "key" and isinstance(target, dict):
            target[draw(st.text(max_size=12))] = draw(json_values)
        elif kind == "number":
            event = put(event, path, draw(st.sampled_from(
                [-1, 0, 2**63, -(2**63) - 1, 10**30, 1.5, float("inf"), "12", "-5", "1e9", " 7 ", True])))
        elif kind == "type":
            event = put(event, path, draw(st.sampled_from(
                ["SortedRangeSet", "EquatableValueSet", "AllOrNoneValueSet", "FunctionCallExpression",
                 "VariableExpression", "ConstantExpression", "S3SpillLocation", "ReadRecordsRequest", "Int",
                 "Decimal", "Timestamp", "FixedSizeBinary", "FixedSizeList", "Union", "Map", "Nope"])))
        elif kind == "retype":
            event = put(event, path, draw(st.sampled_from([None, [], {}, "", 0, True, "x"])))
        else:
            event = put(event, path, draw(json_values))
    return event


# ------------------------------------------------------------------------------------------ properties


def test_every_seed_event_parses_and_decodes() -> None:
    for event in SEEDS:
        assert accepts_or_rejects_clearly(copy.deepcopy(event)) is None, event["@type"]


@FUZZ
@given(mutated_events())
def test_mutated_events_parse_or_fail_with_a_protocol_error(event: Any) -> None:
    accepts_or_rejects_clearly(event)


@FUZZ
@given(mutated_events(kinds=("bytes",)))
def test_ipc_bytes_mutated_in_blocks_schemas_and_keys_fail_with_a_protocol_error(event: Any) -> None:
    accepts_or_rejects_clearly(event)


@FUZZ
@given(json_values)
def test_random_json_is_rejected_clearly(value: Any) -> None:
    assert accepts_or_rejects_clearly(value) is not None


@FUZZ
@given(st.sampled_from(sorted({e["@type"] for e in SEEDS})), st.dictionaries(st.text(max_size=12), json_values))
def test_random_fields_under_a_real_type_are_rejected_clearly(kind: str, fields: dict[str, Any]) -> None:
    accepts_or_rejects_clearly({"@type": kind, **fields})


@FUZZ
@given(st.binary(max_size=512), st.booleans())
def test_random_bytes_in_blocks_and_schemas_are_rejected_clearly(data: bytes, as_schema: bool) -> None:
    text = base64.b64encode(data).decode()
    if as_schema:
        with pytest.raises(ProtocolError):
            SchemaMessage.from_wire(text, "schema").logical_schema()
    else:
        block = {"aId": "x", "schema": SchemaMessage.of_logical(pa.schema([("a", pa.int64())])).to_wire(),
                 "records": text}
        try:
            Block.from_wire(block, "block").logical_batch()
        except ProtocolError as e:
            assert e.path.startswith("block")


# ------------------------------------------------------------------------------------------ hostile sizes


def _peak_bytes(action: Any) -> tuple[int, BaseException | None]:
    """Peak Python plus Arrow allocation while running ``action`` (and the exception it raised)."""
    arrow_before = pa.total_allocated_bytes()
    tracemalloc.start()
    error: BaseException | None = None
    try:
        action()
    except BaseException as e:
        error = e
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak + max(0, pa.total_allocated_bytes() - arrow_before), error


def _with_rows(message: bytes, old: int, new: int) -> bytes:
    """An IPC record batch message whose row count (and field node lengths) say ``new`` instead of ``old``."""
    return message.replace(old.to_bytes(8, "little"), new.to_bytes(8, "little"))


def _value_block(batch: pa.RecordBatch, rows: int) -> dict[str, Any]:
    wire = Block.from_wire_batch(batch).to_wire()
    records = base64.b64decode(wire["records"])
    wire["records"] = base64.b64encode(_with_rows(records, batch.num_rows, rows)).decode()
    return wire


def _read_records_with(summary_entry: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(next(e for e in SEEDS if e["@type"] == "ReadRecordsRequest"))
    event["constraints"]["summary"] = {"i": summary_entry}
    return event


@pytest.mark.parametrize("rows", [10**7, 10**9, 2**62])
def test_a_zero_column_block_claiming_huge_row_counts_stays_small(rows: int) -> None:
    batch = pa.RecordBatch.from_struct_array(pa.array([{}] * 3, pa.struct([])))
    block = Block.from_wire(_value_block(batch, rows), "partitions")
    peak, error = _peak_bytes(block.logical_batch)
    assert peak < 32 << 20, f"{peak} bytes to decode an empty block"
    assert error is None or isinstance(error, ProtocolError), repr(error)


@pytest.mark.parametrize("type_", [pa.null(), pa.int32(), pa.string(), pa.bool_()])
def test_a_value_block_declaring_ten_million_rows_is_rejected_within_bounded_memory(type_: pa.DataType) -> None:
    batch = pa.record_batch({"col1": pa.array([None, None, None], type_)})
    event = _read_records_with({"@type": "EquatableValueSet", "valueBlock": _value_block(batch, 10**7),
                                "whiteList": True, "nullAllowed": False})
    peak, error = _peak_bytes(lambda: parse_request(event))
    assert isinstance(error, ProtocolError), repr(error)
    assert "constraints.summary.i.valueBlock" in str(error)
    assert peak < 64 << 20, f"{peak} bytes to reject a hostile value block"


def test_an_ipc_message_claiming_a_huge_buffer_is_rejected_without_allocating_it() -> None:
    batch = pa.record_batch({"a": pa.array(["x", "y", "z"])})
    message = batch.serialize().to_pybytes()
    body_length = len(message) - 8 - int.from_bytes(message[4:8], "little")
    forged = message.replace(body_length.to_bytes(8, "little"), (2**40).to_bytes(8, "little"), 1)
    assert forged != message
    block = Block(SchemaMessage.of_logical(batch.schema).data, forged)
    peak, error = _peak_bytes(block.logical_batch)
    assert isinstance(error, ProtocolError), repr(error)
    assert peak < 16 << 20


def test_string_offsets_pointing_outside_the_data_are_rejected_not_read() -> None:
    batch = pa.record_batch({"a": pa.array(["ab", "cd", "ef"])})
    message = batch.serialize().to_pybytes()
    forged = message.replace((6).to_bytes(4, "little") + b"\0\0\0\0", (60000).to_bytes(4, "little") + b"\0\0\0\0")
    assert forged != message
    with pytest.raises(ProtocolError, match="records"):
        Block(SchemaMessage.of_logical(batch.schema).data, forged).logical_batch()


def _nested_expression(depth: int) -> dict[str, Any]:
    leaf = Constant(pa.int32(), (1,)).to_wire()
    node = leaf
    for _ in range(depth):
        node = {"@type": "FunctionCallExpression", "type": {"@type": "Int", "bitWidth": 32, "isSigned": True},
                "functionName": {"functionName": "$negate"}, "arguments": [node]}
    return node


@pytest.mark.parametrize("depth", [200, 10**6])
def test_deeply_nested_expressions_are_rejected_not_a_recursion_error(depth: int) -> None:
    event = copy.deepcopy(next(e for e in SEEDS if e["@type"] == "ReadRecordsRequest"))
    event["constraints"]["expression"] = [_nested_expression(depth)]
    with pytest.raises(ProtocolError, match=r"constraints\.expression\[0\].*nested more than"):
        parse_request(event)


def test_reasonably_nested_expressions_still_parse() -> None:
    event = copy.deepcopy(next(e for e in SEEDS if e["@type"] == "ReadRecordsRequest"))
    event["constraints"]["expression"] = [_nested_expression(40)]
    (expression,) = parse_request(event).constraints.expression  # type: ignore[attr-defined]
    assert isinstance(expression, FunctionCall)


@pytest.mark.parametrize("where", ["tags", "unknown", "summary"])
def test_million_deep_json_anywhere_is_rejected_or_ignored_quickly(where: str) -> None:
    deep: Any = "leaf"
    for _ in range(10**6):
        deep = {"a": deep}
    event = copy.deepcopy(next(e for e in SEEDS if e["@type"] == "ReadRecordsRequest"))
    if where == "tags":
        event["identity"]["tags"] = {"k": deep}
    elif where == "unknown":
        event["newField"] = deep  # unknown top-level keys are ignored, as the Java SDK does
    else:
        event["constraints"]["summary"] = {"i": deep}
    error = accepts_or_rejects_clearly(event)
    assert (error is None) == (where == "unknown")


def test_a_million_deep_json_text_is_a_protocol_error() -> None:
    from connector.protocol import parse_request_json

    text = '{"a":' * 10**6 + "1" + "}" * 10**6
    with pytest.raises(ProtocolError, match="nested"):
        parse_request_json(text)
    assert isinstance(parse_request_json(json.dumps(SEEDS[0])), type(parse_request(SEEDS[0])))


@pytest.mark.parametrize(("key", "value", "message"), [
    ("maxBlockSize", "0", "maxBlockSize"), ("maxBlockSize", "-5", "maxBlockSize"),
    ("maxInlineBlockSize", str(-(2**63) - 1), "maxInlineBlockSize"), ("maxBlockSize", str(2**63), "maxBlockSize"),
])
def test_block_sizes_must_be_positive_64_bit_numbers(key: str, value: str, message: str) -> None:
    event = copy.deepcopy(next(e for e in SEEDS if e["@type"] == "ReadRecordsRequest"))
    event[key] = value
    with pytest.raises(ProtocolError, match=message):
        parse_request(event)


def test_markers_of_different_types_in_one_range_are_rejected() -> None:
    event = copy.deepcopy(next(e for e in SEEDS if e["@type"] == "ReadRecordsRequest"))
    ranges = event["constraints"]["summary"]["i"]["ranges"]
    ranges[0]["high"] = copy.deepcopy(event["constraints"]["summary"]["s"]["valueBlock"])
    ranges[0]["high"] = {"valueBlock": _value_block(pa.record_batch({"col1": pa.array(["z"])}), 1),
                         "bound": "BELOW", "nullValue": False}
    with pytest.raises(ProtocolError, match=r"summary\.i\.ranges\[0\]\.high.*type"):
        parse_request(event)


def test_constraints_from_a_parsed_request_are_usable() -> None:
    request = parse_request(next(e for e in SEEDS if e["@type"] == "ReadRecordsRequest"))
    constraints = request.constraints  # type: ignore[attr-defined]
    assert isinstance(constraints, Constraints) and constraints.limit == 10
    assert constraints.summary["s"].values == ("a", "it's", "\u05d0\u0301")


# ------------------------------------------------------------------------------------------ through the handler


@pytest.fixture(scope="module")
def sqlite_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real service over a SQLite table shaped like the seeds' schema (the columns SQLite can hold)."""
    import sqlite3

    from connector import aws
    from connector.config import Settings
    from connector.service import FederationService

    # Nothing here may reach AWS: any bucket or key a mutation names goes to a closed loopback port.
    patch = pytest.MonkeyPatch()
    patch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        patch.setenv(name, "testing")
    patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws.clear()
    directory = tmp_path_factory.mktemp("fuzz")
    path = directory / "fuzz.db"
    with sqlite3.connect(path) as db:
        db.execute('CREATE TABLE t (i INT, l BIGINT, d REAL, s TEXT, b BOOLEAN, "dec" DECIMAL(12,2), day DATE, '
                   "ts TIMESTAMP, bin BLOB)")
        db.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (i, i * 10, i / 2, f"s{i}", i % 2, f"{i}.25", f"2020-01-{i % 28 + 1:02d}",
             f"2020-01-01 00:00:{i % 60:02d}.000", bytes([i % 256])) for i in range(50)])
    settings = Settings.from_env({"default": f"sqlite://jdbc:sqlite:{path}",
                                  "AFQ_LOCAL_SPILL_DIR": str(directory / "spill")})
    yield FederationService(settings)
    patch.undo()
    aws.clear()


def _handler_seeds() -> list[dict[str, Any]]:
    """The seeds re-aimed at table main.t with the columns it has (so requests get past the catalog)."""
    keep = {"i", "l", "d", "s", "b", "dec", "day", "ts", "bin"}
    out = []
    for seed in SEEDS:
        event = copy.deepcopy(seed)
        if event.get("tableName") == {"schemaName": "s", "tableName": "t"}:
            event["tableName"] = {"schemaName": "main", "tableName": "t"}
        if event.get("schemaName") == "s":
            event["schemaName"] = "main"
        if event.get("tableName") == {"schemaName": "system", "tableName": "query"} and not event.get(
                "queryPassthroughArguments"):
            continue  # before serde v5 there is no passthrough: system.query is just a missing table
        table = event.get("tableName")
        if (table is not None and table not in ({"schemaName": "main", "tableName": "t"},
                                                 {"schemaName": "system", "tableName": "query"})) or event.get(
                "schemaName", "main") != "main":
            continue  # the SDK fixtures name tables this catalog does not have: they seed the parser tests only
        if "identity" in event:
            event["identity"]["configOptions"] = {}
        if "partitionColumns" in event:
            event["partitionColumns"] = []
        constraints = event.get("constraints")
        if isinstance(constraints, dict):
            constraints["summary"] = {k: v for k, v in constraints["summary"].items() if k in keep}
            constraints.pop("queryPlan", None)
        if event["@type"] in ("GetTableLayoutRequest", "ReadRecordsRequest"):
            schema = pa.schema([f for f in parse_request(event).schema.logical_schema()  # type: ignore[attr-defined]
                                if f.name in keep])
            event["schema"] = SchemaMessage.of_logical(schema).to_wire()
        if event["@type"] == "ReadRecordsRequest":
            event["split"]["spillLocation"]["bucket"] = "afq-local-spill"
            event["split"]["properties"] = {}
        out.append(event)
    return out


HANDLER_SEEDS = _handler_seeds()


def test_handler_seeds_are_answered(sqlite_service: Any) -> None:
    answered = 0
    for event in HANDLER_SEEDS:
        if event["@type"] == "UserDefinedFunctionRequest":
            continue
        sqlite_service.handle(copy.deepcopy(event))
        answered += 1
    assert answered == len([e for e in HANDLER_SEEDS if e["@type"] != "UserDefinedFunctionRequest"])


@settings(max_examples=300, deadline=timedelta(seconds=20), suppress_health_check=list(HealthCheck))
@given(st.data())
def test_mutated_events_through_the_handler_fail_only_with_connector_errors(sqlite_service: Any,
                                                                            data: st.DataObject) -> None:
    from connector.errors import ConnectorError

    event = data.draw(mutated_events(seeds=HANDLER_SEEDS))
    try:
        response = sqlite_service.handle(event)
    except ConnectorError as e:
        assert str(e), "an error the Athena user sees must say something"
    else:
        assert isinstance(response, dict) and isinstance(response.get("@type"), str)


def test_a_short_atheris_run_finds_no_crash(tmp_path: Any) -> None:
    """libFuzzer-guided inputs for a bounded number of runs (``make fuzz-atheris`` explores longer)."""
    import subprocess
    import sys

    pytest.importorskip("atheris")
    result = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.atheris_requests", "-runs=3000", "-max_len=20000",
         f"-artifact_prefix={tmp_path}/", str(tmp_path / "corpus")],
        capture_output=True, text=True, timeout=240, check=False,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 3000 runs" in result.stderr
    assert not list(tmp_path.glob("crash-*"))


@pytest.mark.parametrize(("schema", "text"), [
    (pa.schema([("t", pa.timestamp("ms", "ABCUTC"))]), b"ABCUTC"),  # found by atheris: a zone id of bad UTF-8
    (pa.schema([("n", pa.list_(pa.field("itemzz", pa.int32())))]), b"itemzz"),
    (pa.schema([("colname", pa.int32())]), b"colname"),
])
def test_names_and_zones_that_are_not_utf8_are_protocol_errors(schema: pa.Schema, text: bytes) -> None:
    message = schema.serialize().to_pybytes().replace(text, b"\x85" + text[1:])
    assert message != schema.serialize().to_pybytes()
    with pytest.raises(ProtocolError, match="utf-8"):
        SchemaMessage(message).logical_schema()
    event = copy.deepcopy(next(e for e in SEEDS if e["@type"] == "ReadRecordsRequest"))
    event["constraints"]["summary"]["i"]["ranges"][0]["low"]["valueBlock"]["schema"] = base64.b64encode(
        message).decode()
    with pytest.raises(ProtocolError, match=r"constraints\.summary\.i\.ranges\[0\]\.low\.valueBlock"):
        parse_request(event)


def test_a_decimal_whose_scale_exceeds_its_precision_is_a_protocol_error() -> None:
    """Found by atheris: a value block typed decimal128(12, 7340034) reached Python's Decimal."""
    schema = pa.schema([("col1", pa.decimal128(12, 2))])
    forged = schema.serialize().to_pybytes().replace((2).to_bytes(4, "little") + (12).to_bytes(4, "little"),
                                                     (7340034).to_bytes(4, "little") + (12).to_bytes(4, "little"))
    if forged == schema.serialize().to_pybytes():  # flatbuffer field order differs: forge the other layout
        forged = schema.serialize().to_pybytes().replace((12).to_bytes(4, "little") + (2).to_bytes(4, "little"),
                                                         (12).to_bytes(4, "little") + (7340034).to_bytes(4, "little"))
    assert forged != schema.serialize().to_pybytes()
    with pytest.raises(ProtocolError, match=r"decimal scale 7340034 is outside 0\.\.12"):
        SchemaMessage(forged).wire_schema()
