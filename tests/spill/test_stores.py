"""Spill stores against a real S3 server (SeaweedFS) and the local directory stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from connector import aws
from connector.config import LOCAL_SPILL_BUCKET, Settings
from connector.errors import ConfigurationError, SpillError
from spill import stores
from spill.stores import LocalStore, RetryPolicy, S3Store, check_spill_bucket, store_for
from tests.servers.ports import free_port
from tests.servers.s3 import SeaweedFS

FAST_RETRY = RetryPolicy(attempts=3, first_delay=0.01, max_delay=0.02)


@pytest.mark.integration
def test_put_and_get_round_trip(s3_env: SeaweedFS) -> None:
    bucket = s3_env.new_bucket()
    store = S3Store()
    store.put(bucket, "prefix/q/split.0", b"\x00block bytes\xff")
    assert store.get(bucket, "prefix/q/split.0") == b"\x00block bytes\xff"
    assert aws.endpoint_of(store.client()) == s3_env.endpoint  # from AWS_ENDPOINT_URL_S3


@pytest.mark.integration
def test_put_headers_reach_the_server(s3_env: SeaweedFS) -> None:
    bucket = s3_env.new_bucket()
    headers = {"x-amz-server-side-encryption": "AES256", "x-amz-meta-afq-origin": "spill-test"}
    S3Store().put(bucket, "k.0", b"data", headers)
    S3Store().put(bucket, "plain.0", b"data")  # a client without the headers stays without them
    head = boto3.client("s3").head_object(Bucket=bucket, Key="k.0")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["Metadata"] == {"afq-origin": "spill-test"}
    plain = boto3.client("s3").head_object(Bucket=bucket, Key="plain.0")
    assert "ServerSideEncryption" not in plain and plain["Metadata"] == {}


def test_reserved_put_headers_are_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"may not set \['Authorization'\]"):
        S3Store().client({"Authorization": "x"})


@pytest.mark.integration
def test_missing_object_is_named_and_not_retried(s3_env: SeaweedFS) -> None:
    bucket = s3_env.new_bucket()
    with pytest.raises(SpillError, match=rf"could not read spilled block s3://{bucket}/nope\.0 .*NoSuchKey") as e:
        S3Store(RetryPolicy(attempts=50, first_delay=5.0)).get(bucket, "nope.0")  # would take minutes if retried
    assert "attempts" not in str(e.value)


@pytest.mark.integration
def test_unreachable_s3_fails_after_retries_naming_bucket_and_key(monkeypatch: pytest.MonkeyPatch,
                                                                   aws_env: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", dead)
    with pytest.raises(SpillError, match=rf"s3://bucket-x/dir/key\.7 \(endpoint {dead}\) after 3 attempts: "
                                         r"EndpointConnectionError"):
        S3Store(FAST_RETRY).put("bucket-x", "dir/key.7", b"data")


@pytest.mark.integration
def test_head_bucket_names_a_missing_bucket(s3_env: SeaweedFS, tmp_path: Path) -> None:
    settings = Settings(spill_bucket="afq-no-such-bucket-here", local_spill_dir=str(tmp_path))
    with pytest.raises(ConfigurationError, match=r'spill_bucket "afq-no-such-bucket-here" not found under your '
                                                 r"account or not accessible \(HeadBucket answered HTTP 404"):
        check_spill_bucket(settings)


@pytest.mark.integration
def test_head_bucket_succeeds_once_then_is_cached(s3_env: SeaweedFS, tmp_path: Path) -> None:
    bucket = s3_env.new_bucket()
    settings = Settings(spill_bucket=bucket, local_spill_dir=str(tmp_path))
    check_spill_bucket(settings)
    s3_env.client().delete_bucket(Bucket=bucket)
    check_spill_bucket(settings)  # cached for the process: no second HeadBucket
    stores.forget_checked_buckets()
    with pytest.raises(ConfigurationError, match=bucket):
        check_spill_bucket(settings)


def test_local_store_stands_in_for_the_bucket(tmp_path: Path) -> None:
    settings = Settings(local_spill_dir=str(tmp_path / "spill"))
    store = store_for(LOCAL_SPILL_BUCKET, settings)
    assert isinstance(store, LocalStore)
    check_spill_bucket(settings)  # creates the directory
    store.put(LOCAL_SPILL_BUCKET, "athena-federation-spill/q/s.0", b"abc")
    assert (tmp_path / "spill" / "athena-federation-spill" / "q" / "s.0").read_bytes() == b"abc"
    assert store.get(LOCAL_SPILL_BUCKET, "athena-federation-spill/q/s.0") == b"abc"
    assert not list((tmp_path / "spill").rglob(".partial-*"))
    with pytest.raises(SpillError, match="points outside the local spill directory"):
        store.get(LOCAL_SPILL_BUCKET, "../../etc/passwd")
    with pytest.raises(SpillError, match=r"could not read spilled block s3://afq-local-spill/q/missing\.0"):
        store.get(LOCAL_SPILL_BUCKET, "q/missing.0")


def test_invalid_put_headers_json_is_a_configuration_error() -> None:
    settings = Settings(spill_put_request_headers_json=json.dumps(["not", "a", "map"]))
    with pytest.raises(ConfigurationError, match="spill_put_request_headers must be a JSON object"):
        _ = settings.spill_put_request_headers
