"""Spill end to end: the Lambda handler reads a 200k-row SQLite table into S3 blocks (SeaweedFS), read back as
Athena does. Keys come from the local CSPRNG or from KMS (moto server)."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from connector.config import LOCAL_SPILL_BUCKET, Settings
from connector.errors import ConfigurationError, SpillError
from connector.protocol import Constraints, ReadRecordsRequest, parse_response
from connector.protocol.messages import EncryptionKey, Identity, RemoteReadRecordsResponse
from spill import stores
from spill.reader import read_remote_blocks
from spill.stores import RetryPolicy
from tests.servers.s3 import SeaweedFS
from tests.support.athena import Athena, Invoke
from tests.support.spill_data import CATALOG, TABLE, create_events_db, events_athena, events_splits, expected_columns

ROWS = 200_000
Env = Callable[..., None]


@pytest.fixture(scope="module")
def events_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_events_db(tmp_path_factory.mktemp("events") / "events.db", ROWS)


@pytest.fixture(scope="module")
def expected() -> dict[str, list[Any]]:
    return expected_columns(ROWS)


def _check_rows(response: RemoteReadRecordsResponse, expected: dict[str, list[Any]]) -> None:
    batches = list(read_remote_blocks(response, Settings.from_env()))
    got = pa.Table.from_batches(batches, schema=response.schema.logical_schema())
    assert got.num_rows == ROWS
    assert got.equals(pa.table(expected, schema=got.schema))


def _objects(s3: Any, bucket: str, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.mark.integration
def test_200k_rows_spill_encrypted_and_read_back_exactly(s3_env: SeaweedFS, lambda_env: Env, invoke: Invoke,
                                                         events_db: Path, expected: dict[str, list[Any]]) -> None:
    bucket = s3_env.new_bucket()
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", spill_bucket=bucket, spill_prefix="spill/prefix")
    athena = events_athena(invoke)
    definition, (split,) = events_splits(athena)
    assert split.spill_location.bucket == bucket and split.spill_location.directory is True
    assert split.spill_location.key.startswith(f"spill/prefix/{athena.query_id}/")
    assert len(split.encryption_key.key) == 32 and len(split.encryption_key.nonce) == 12

    response = athena.read(TABLE, definition, split, max_block_size=1_000_000)
    assert isinstance(response, RemoteReadRecordsResponse)
    assert response.schema.data == definition.schema.data  # the request schema, byte for byte
    assert response.encryption_key == split.encryption_key
    n = len(response.remote_blocks)
    assert n >= 10
    base = split.spill_location.key
    assert [(b.bucket, b.key, b.directory) for b in response.remote_blocks] == [
        (bucket, f"{base}.{i}", False) for i in range(n)]
    assert sorted(_objects(s3_env.client(), bucket, base)) == sorted(f"{base}.{i}" for i in range(n))

    aes = AESGCM(split.encryption_key.key)  # decrypt independently of spill.crypto: plain JCE AES-GCM
    wire_schema = definition.schema.wire_schema()
    rows = 0
    for block in response.remote_blocks:
        body = s3_env.client().get_object(Bucket=bucket, Key=block.key)["Body"].read()
        plaintext = aes.decrypt(split.encryption_key.nonce, body, None)
        assert len(body) == len(plaintext) + 16
        assert len(plaintext) <= 1_000_000
        assert plaintext[:4] != b"\xff\xff\xff\xff"  # legacy IPC framing, as RecordBatchSerDe writes it
        rows += pa.ipc.read_record_batch(pa.py_buffer(plaintext), wire_schema).num_rows
    assert rows == ROWS
    _check_rows(response, expected)


@pytest.mark.integration
def test_plaintext_spill_when_encryption_is_disabled(s3_env: SeaweedFS, lambda_env: Env, invoke: Invoke,
                                                     events_db: Path, expected: dict[str, list[Any]]) -> None:
    bucket = s3_env.new_bucket()
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", spill_bucket=bucket, disable_spill_encryption="TRUE")
    athena = events_athena(invoke)
    definition, (split,) = events_splits(athena)
    assert split.encryption_key is None
    raw = invoke(_read_request(athena, definition, split, 2_000_000))
    assert raw["@type"] == "RemoteReadRecordsResponse" and raw["encryptionKey"] is None
    response = parse_response(raw)
    first = s3_env.client().get_object(Bucket=bucket, Key=response.remote_blocks[0].key)["Body"].read()
    assert pa.ipc.read_record_batch(pa.py_buffer(first), definition.schema.wire_schema()).num_rows > 0
    _check_rows(response, expected)


def _read_request(athena: Athena, definition: Any, split: Any, max_block_size: int) -> dict[str, Any]:
    return ReadRecordsRequest(athena.identity, athena.query_id, CATALOG, TABLE, definition.schema, split,
                              Constraints(), max_block_size, 5_242_880).to_wire()


@pytest.mark.integration
def test_kms_data_keys(s3_env: SeaweedFS, lambda_env: Env, invoke: Invoke, events_db: Path,
                       expected: dict[str, list[Any]]) -> None:
    key_id = boto3.client("kms").create_key(Description="afq spill test")["KeyMetadata"]["KeyId"]
    bucket = s3_env.new_bucket()
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", spill_bucket=bucket, kms_key_id=key_id)
    athena = events_athena(invoke)
    definition, (split,) = events_splits(athena)
    assert len(split.encryption_key.key) == 16  # KMS AES_128 data key
    assert len(split.encryption_key.nonce) == 12  # KMS GenerateRandom(12)
    second = events_splits(athena)[1][0]
    assert second.encryption_key != split.encryption_key  # a fresh data key per split
    response = athena.read(TABLE, definition, split, max_block_size=4_000_000)
    assert isinstance(response, RemoteReadRecordsResponse)
    _check_rows(response, expected)


@pytest.mark.integration
def test_unknown_kms_key_is_a_clear_error(aws_env: str, lambda_env: Env, invoke: Invoke, demo_db: Path,
                                          tmp_path: Path) -> None:
    lambda_env(default=f"sqlite://jdbc:sqlite:{demo_db}", kms_key_id="alias/afq-does-not-exist")
    from connector.protocol import Constraints, GetSplitsRequest, GetTableLayoutRequest, GetTableRequest, TableName

    identity = Identity(account="1", arn="arn")
    table = TableName("main", "orders")
    definition = Athena(invoke, "c").call(GetTableRequest(identity, "q", "c", table))
    layout = Athena(invoke, "c").call(GetTableLayoutRequest(identity, "q", "c", table, Constraints(), definition.schema,
                                                            ()))
    with pytest.raises(ConfigurationError, match=r"kms_key_id 'alias/afq-does-not-exist': KMS could not make a "
                                                 r"spill data key \(NotFoundException"):
        invoke(GetSplitsRequest(identity, "q", "c", table, layout.partitions, (), Constraints(), None).to_wire())


@pytest.mark.integration
def test_max_block_size_env_caps_every_spilled_block(s3_env: SeaweedFS, lambda_env: Env, invoke: Invoke,
                                                     events_db: Path, expected: dict[str, list[Any]]) -> None:
    bucket = s3_env.new_bucket()
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", spill_bucket=bucket, MAX_BLOCK_SIZE_BYTES="300000")
    athena = events_athena(invoke)
    definition, (split,) = events_splits(athena)
    response = athena.read(TABLE, definition, split, max_block_size=16_000_000)
    total = 0
    for block in response.remote_blocks:
        size = s3_env.client().head_object(Bucket=bucket, Key=block.key)["ContentLength"] - 16
        assert size <= 300_000
        total += size
    assert len(response.remote_blocks) >= total // 300_000
    _check_rows(response, expected)


@pytest.mark.integration
def test_put_request_headers_are_sent_with_every_block(s3_env: SeaweedFS, lambda_env: Env, invoke: Invoke,
                                                       events_db: Path) -> None:
    bucket = s3_env.new_bucket()
    headers = {"x-amz-server-side-encryption": "AES256", "x-amz-meta-spilled-by": "afq"}
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", spill_bucket=bucket,
               spill_put_request_headers=json.dumps(headers))
    athena = events_athena(invoke)
    definition, (split,) = events_splits(athena)
    response = athena.read(TABLE, definition, split, max_block_size=4_000_000)
    assert len(response.remote_blocks) >= 2
    for block in response.remote_blocks:
        head = s3_env.client().head_object(Bucket=bucket, Key=block.key)
        assert head["ServerSideEncryption"] == "AES256"
        assert head["Metadata"] == {"spilled-by": "afq"}


@pytest.mark.integration
def test_wrong_key_fails_to_decrypt_without_showing_keys(s3_env: SeaweedFS, lambda_env: Env, invoke: Invoke,
                                                         events_db: Path) -> None:
    bucket = s3_env.new_bucket()
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", spill_bucket=bucket)
    athena = events_athena(invoke)
    definition, (split,) = events_splits(athena)
    response = athena.read(TABLE, definition, split, max_block_size=4_000_000)
    wrong = EncryptionKey(bytes(32), split.encryption_key.nonce)
    tampered = RemoteReadRecordsResponse(response.catalog_name, response.schema, response.remote_blocks, wrong)
    with pytest.raises(SpillError, match=rf"s3://{bucket}/.*\.0 failed AES-GCM authentication") as caught:
        list(read_remote_blocks(tampered, Settings.from_env()))
    for material in (split.encryption_key.key, split.encryption_key.nonce, wrong.key):
        assert base64.b64encode(material).decode() not in str(caught.value)


@pytest.mark.integration
def test_missing_spill_bucket_fails_get_splits(s3_env: SeaweedFS, lambda_env: Env, invoke: Invoke,
                                               events_db: Path) -> None:
    missing = f"afq-missing-{uuid.uuid4().hex[:8]}"
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", spill_bucket=missing)
    with pytest.raises(ConfigurationError, match=rf'spill_bucket "{missing}" not found under your account'):
        events_splits(events_athena(invoke))


@pytest.mark.integration
def test_config_options_choose_the_spill_bucket(s3_env: SeaweedFS, lambda_env: Env, invoke: Invoke,
                                                events_db: Path) -> None:
    bucket = s3_env.new_bucket()
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", spill_bucket=f"afq-missing-{uuid.uuid4().hex[:8]}")
    identity = Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/x",
                        config_options={"spill_bucket": bucket, "spill_prefix": "managed/q-9"})
    athena = events_athena(invoke, query_id="q-9", identity=identity)
    definition, (split,) = events_splits(athena)
    assert split.spill_location.bucket == bucket
    assert split.spill_location.key.startswith("managed/q-9/")  # the prefix already holds the query id
    response = athena.read(TABLE, definition, split, max_block_size=4_000_000)
    assert {b.bucket for b in response.remote_blocks} == {bucket}


def test_local_runs_spill_to_the_local_directory(lambda_env: Env, invoke: Invoke, events_db: Path,
                                                 expected: dict[str, list[Any]], tmp_path: Path) -> None:
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", AFQ_LOCAL_SPILL_DIR=str(tmp_path / "local-spill"))
    athena = events_athena(invoke)
    definition, (split,) = events_splits(athena)
    assert split.spill_location.bucket == LOCAL_SPILL_BUCKET
    response = athena.read(TABLE, definition, split, max_block_size=2_000_000)
    files = sorted((tmp_path / "local-spill").rglob("*.*"))
    assert len(files) == len(response.remote_blocks) >= 5
    _check_rows(response, expected)


def test_lambda_without_bucket_is_a_clear_error_at_spill_time(lambda_env: Env, invoke: Invoke,
                                                              events_db: Path) -> None:
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", AWS_LAMBDA_FUNCTION_NAME="afq-fn")
    athena = events_athena(invoke)
    definition, (split,) = events_splits(athena)
    assert split.spill_location is None
    small = athena.read(TABLE, definition, split, columns=["id"], max_block_size=16_000_000)  # 1.6 MB: fits inline
    assert type(small).__name__ == "ReadRecordsResponse"
    with pytest.raises(ConfigurationError, match="must be spilled to S3, but no spill_bucket is configured"):
        athena.read(TABLE, definition, split)


@pytest.mark.integration
def test_s3_dying_mid_spill_fails_the_request(private_seaweedfs: Callable[[], SeaweedFS], aws_env: str,
                                              monkeypatch: pytest.MonkeyPatch, lambda_env: Env, invoke: Invoke,
                                              events_db: Path) -> None:
    """SeaweedFS is killed after three blocks are stored: the request fails naming the block, never succeeds."""
    server = private_seaweedfs()
    bucket = server.new_bucket()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", server.endpoint)
    monkeypatch.setattr(stores, "DEFAULT_RETRY", RetryPolicy(attempts=3, first_delay=0.05, max_delay=0.1))
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", spill_bucket=bucket)
    athena = events_athena(invoke)
    definition, (split,) = events_splits(athena)

    stored = 0
    lock = threading.Lock()
    real_put = stores.S3Store.put

    def put_then_maybe_kill(self: stores.S3Store, *args: Any, **kwargs: Any) -> None:
        nonlocal stored
        real_put(self, *args, **kwargs)
        with lock:
            stored += 1
            if stored == 3:
                server.kill()

    monkeypatch.setattr(stores.S3Store, "put", put_then_maybe_kill)
    with pytest.raises(SpillError, match=rf"could not write spilled block s3://{bucket}/"
                                         rf"{split.spill_location.key}\.\d+ \(endpoint {server.endpoint}\) "
                                         r"after 3 attempts") as caught:
        athena.read(TABLE, definition, split, max_block_size=500_000)
    assert server.process.poll() is not None and stored == 3
    assert base64.b64encode(split.encryption_key.key).decode() not in str(caught.value)


def test_a_failed_spill_leaves_the_source_connection_clean(lambda_env: Env, invoke: Invoke, events_db: Path,
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan is closed before its connection returns to the pool: nothing is left for the GC to close."""
    import gc
    import shutil
    import sys

    spill_dir = tmp_path / "spill-dir"
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", AFQ_LOCAL_SPILL_DIR=str(spill_dir))
    athena = events_athena(invoke)
    definition, (split,) = events_splits(athena)
    shutil.rmtree(spill_dir)
    spill_dir.write_text("a file where the spill directory should be")
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with pytest.raises(SpillError, match=r"could not write spilled block s3://afq-local-spill/.*\.\d+ ") as caught:
        athena.read(TABLE, definition, split, max_block_size=1_000_000)
    del caught  # the traceback holds the request's frames
    from connector import handler

    handler.service().pool.close()  # what a reset or a shutdown does: close the pooled connections
    gc.collect()
    assert unraisable == []  # no cursor was left for the garbage collector to close on a closed connection
    spill_dir.unlink()
    assert isinstance(athena.read(TABLE, definition, split, max_block_size=4_000_000), RemoteReadRecordsResponse)
