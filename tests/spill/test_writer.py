"""The block spiller and the inline-or-spill decision: object format, ordering, failures, the 6 MB limit."""

from __future__ import annotations

import random
import secrets
import string
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from awslambdaric.lambda_runtime_marshaller import to_json
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from connector.batching import message_size
from connector.config import LOCAL_SPILL_BUCKET
from connector.errors import InvalidRequest, SpillError
from connector.protocol import Constraints, ReadRecordsRequest, SchemaMessage, Split, TableName
from connector.protocol.messages import EncryptionKey, ReadRecordsResponse, RemoteReadRecordsResponse, SpillLocation
from connector.records import MAX_RESPONSE_BYTES, inline_budget, respond
from spill.crypto import decrypt
from spill.reader import decode_block, read_block
from spill.stores import LocalStore, RetryPolicy, S3Store
from spill.writer import Spiller
from tests.servers.ports import free_port
from tests.servers.s3 import SeaweedFS
from tests.support.spill_data import IDENTITY

SCHEMA = pa.schema([("id", pa.int64()), ("s", pa.string())])


def _batch(start: int, rows: int, width: int = 20) -> pa.RecordBatch:
    return pa.record_batch({"id": pa.array(range(start, start + rows), pa.int64()),
                            "s": pa.array([f"{i:0{width}d}" for i in range(start, start + rows)])})


@pytest.mark.integration
def test_blocks_are_named_in_order_with_legacy_framing_and_encryption(s3_env: SeaweedFS) -> None:
    bucket = s3_env.new_bucket()
    key = EncryptionKey(secrets.token_bytes(32), secrets.token_bytes(12))
    location = SpillLocation(bucket, "athena-federation-spill/q1/split-a", True)
    spiller = Spiller(S3Store(), location, key, workers=2, queue_capacity=1)
    batches = [_batch(i * 1000, 1000 + i) for i in range(12)]
    for b in batches:
        spiller.write(b)
    locations = spiller.finish()
    assert [loc.key for loc in locations] == [f"athena-federation-spill/q1/split-a.{i}" for i in range(12)]
    assert all(loc.bucket == bucket and loc.directory is False for loc in locations)
    listed = s3_env.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(loc.key for loc in locations)  # nothing else written
    for loc, batch in zip(locations, batches, strict=True):
        body = s3_env.client().get_object(Bucket=bucket, Key=loc.key)["Body"].read()
        plaintext = decrypt(key, body)
        assert len(body) == len(plaintext) + 16
        assert plaintext[:4] != b"\xff\xff\xff\xff"  # legacy framing: int32 length first, no continuation
        assert int.from_bytes(plaintext[:4], "little") % 8 == 4  # (4 + metadata length) % 8 == 0
        assert pa.ipc.read_record_batch(pa.py_buffer(plaintext), SCHEMA).equals(batch)
        assert read_block(S3Store(), loc, key, SCHEMA).equals(batch)


@pytest.mark.parametrize("rows", [0, 1, 7, 1000])
def test_block_bytes_are_the_legacy_framed_message(rows: int) -> None:
    from connector.protocol import ipc
    from spill.writer import encode_block, legacy_parts

    batch = _batch(0, rows)
    head, body = legacy_parts(batch)
    assert head + bytes(body) == ipc.batch_message(batch, legacy=True) == encode_block(batch, None)
    buffer = batch.serialize()
    assert ipc.legacy_parts(buffer)[1].obj is buffer  # the body is Arrow's buffer, not a copy


def test_split_location_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="must be a directory"):
        Spiller(LocalStore(str(tmp_path)), SpillLocation("b", "k", False), None)


def test_plaintext_blocks_when_the_split_has_no_key(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path))
    spiller = Spiller(store, SpillLocation(LOCAL_SPILL_BUCKET, "p/q/s", True), None)
    spiller.write(_batch(0, 10))
    (location,) = spiller.finish()
    assert location == SpillLocation(LOCAL_SPILL_BUCKET, "p/q/s.0", False)
    raw = (tmp_path / "p" / "q" / "s.0").read_bytes()
    assert pa.ipc.read_record_batch(pa.py_buffer(raw), SCHEMA).num_rows == 10
    assert decode_block(raw, None, SCHEMA).equals(_batch(0, 10))
    encrypted_view = EncryptionKey(secrets.token_bytes(32), secrets.token_bytes(12))
    with pytest.raises(SpillError, match="failed AES-GCM authentication"):
        decode_block(raw, encrypted_view, SCHEMA)


def test_reading_an_encrypted_block_as_plaintext_is_a_clear_error() -> None:
    from spill.writer import encode_block

    key = EncryptionKey(secrets.token_bytes(32), secrets.token_bytes(12))
    with pytest.raises(SpillError, match=r"is it encrypted while the response has no encryptionKey\?\): s3://b/k\.0"):
        decode_block(encode_block(_batch(0, 5), key), None, SCHEMA, "s3://b/k.0")


def _spill_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("afq-spill")]


@pytest.mark.integration
def test_abort_stops_uploads_that_are_backing_off(monkeypatch: pytest.MonkeyPatch, aws_env: str) -> None:
    """Against an endpoint nobody listens on, a retry schedule of ~a minute is cut short by abort()."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")
    slow = RetryPolicy(attempts=8, first_delay=4.0, max_delay=30.0)
    spiller = Spiller(S3Store(slow), SpillLocation("bucket-y", "d/s", True), None, workers=2, queue_capacity=1)
    for i in range(3):
        spiller.write(_batch(i, 5))
    started = time.monotonic()
    spiller.abort()
    for thread in _spill_threads():
        thread.join(10)
    assert not [t for t in _spill_threads() if t.is_alive()]
    assert time.monotonic() - started < 10  # the backoff alone would have taken over a minute


@pytest.mark.integration
def test_first_failure_stops_the_writer_and_finish_never_succeeds(monkeypatch: pytest.MonkeyPatch,
                                                                  aws_env: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")
    spiller = Spiller(S3Store(RetryPolicy(2, 0.01, 0.01)), SpillLocation("bucket-z", "d/s", True), None,
                      workers=1, queue_capacity=1)
    with pytest.raises(SpillError, match=r"could not write spilled block s3://bucket-z/d/s\.\d"):
        for i in range(1000):  # the writer notices the failed upload and raises instead of buffering forever
            spiller.write(_batch(i, 5))
        spiller.finish()
    assert spiller.blocks_written == 0


# ------------------------------------------------------------------------------------- inline or spill


def _request(max_inline: int, max_block: int = 16_000_000, key: EncryptionKey | None = None) -> ReadRecordsRequest:
    split = Split(SpillLocation(LOCAL_SPILL_BUCKET, "athena-federation-spill/q/prop", True), key, {})
    return ReadRecordsRequest(IDENTITY, "q", "cat", TableName("s", "t"), SchemaMessage.of(SCHEMA), split,
                              Constraints(), max_block, max_inline)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(total=st.tuples(st.integers(0, 120), st.integers(0, 99_999)).map(lambda t: t[0] * 100_000 + t[1]),
       rows=st.integers(1, 3000), spread=st.floats(0, 1),
       chunk=st.integers(1, 3000), seed=st.integers(0, 2**32 - 1),
       max_inline=st.sampled_from([5_242_880, 6_000_000, 16_000_000, 1_000_000]))
@example(total=4_499_000, rows=1000, spread=0.0, chunk=100, seed=1, max_inline=5_242_880)
@example(total=4_501_000, rows=1000, spread=0.0, chunk=100, seed=1, max_inline=16_000_000)
@example(total=999_000, rows=1, spread=0.0, chunk=1, seed=1, max_inline=1_000_000)
def test_inline_responses_stay_under_6mb_and_larger_results_spill(
        tmp_path: Path, total: int, rows: int, spread: float, chunk: int, seed: int, max_inline: int) -> None:
    rng = random.Random(seed)
    mean = total // rows
    # One row wider than the 4 MB block limit is a (tested elsewhere) error, not a spill: cap widths below it.
    values = [rng.choice(string.ascii_letters) * min(3_900_000, int(mean * (1 - spread + 2 * spread * rng.random())))
              for _ in range(rows)]
    table = pa.table({"id": pa.array(range(rows), pa.int64()), "s": pa.array(values, pa.string())})
    request = _request(max_inline, max_block=4_000_000)
    store = LocalStore(str(tmp_path / f"spill-{seed}-{total}"))
    response = respond(request, table.to_batches(max_chunksize=chunk), max_block_size=4_000_000,
                       spiller_factory=lambda r: Spiller(store, r.split.spill_location, r.split.encryption_key))
    whole = message_size(table.combine_chunks().to_batches()[0])
    event(f"{type(response).__name__}, {whole // 1_000_000} MB")
    if isinstance(response, ReadRecordsResponse):
        assert len(to_json(response.to_wire()).encode()) < MAX_RESPONSE_BYTES  # as the Lambda runtime emits it
        assert len(response.records.records_bytes) < max_inline
        got = pa.Table.from_batches([response.records.wire_batch()])
    else:
        assert isinstance(response, RemoteReadRecordsResponse)
        assert whole > inline_budget(request)  # spilled only because it could not be inline
        blocks = [read_block(store, loc, None, SCHEMA) for loc in response.remote_blocks]
        for loc in response.remote_blocks:
            assert len(store.get(loc.bucket, loc.key)) <= 4_000_000
        got = pa.Table.from_batches(blocks, schema=SCHEMA)
    assert got.equals(table)


def test_just_over_the_json_limit_spills(tmp_path: Path) -> None:
    """A records message that fits maxInlineBlockSize=16 MB but whose base64 JSON would pass 6 MB spills."""
    table = pa.table({"id": pa.array(range(5), pa.int64()), "s": pa.array(["z" * 1_000_000] * 5)})
    request = _request(16_000_000)
    store = LocalStore(str(tmp_path))
    response = respond(request, table.to_batches(), max_block_size=16_000_000,
                       spiller_factory=lambda r: Spiller(store, r.split.spill_location, None))
    assert isinstance(response, RemoteReadRecordsResponse)
    assert len(to_json(ReadRecordsResponse("cat", _inline_block(table)).to_wire()).encode()) > MAX_RESPONSE_BYTES


def _inline_block(table: pa.Table) -> object:
    from connector.protocol.block import Block

    return Block.from_wire_batch(table.combine_chunks().to_batches()[0])


def test_queue_capacity_comes_from_the_java_variable_names() -> None:
    from connector.config import Settings
    from connector.errors import ConfigurationError
    from spill.writer import SpillerFactory

    assert SpillerFactory(Settings()).queue_capacity == 2
    assert SpillerFactory(Settings(env={"SPILL_QUEUE_CAPACITY": "5"})).queue_capacity == 5
    assert SpillerFactory(Settings(env={"spill_queue_capacity": "3"})).queue_capacity == 3
    with pytest.raises(ConfigurationError, match=r"spill_queue_capacity='0' must be a whole number from 1 to 16"):
        _ = SpillerFactory(Settings(env={"spill_queue_capacity": "0"})).queue_capacity


def test_finish_after_abort_is_an_error_not_a_partial_answer(tmp_path: Path) -> None:
    spiller = Spiller(LocalStore(str(tmp_path)), SpillLocation(LOCAL_SPILL_BUCKET, "p/q/s", True), None)
    spiller.write(_batch(0, 10))
    spiller.abort()
    with pytest.raises(SpillError, match=r"was stopped after [01] of 1 blocks; the result is incomplete"):
        spiller.finish()
