"""Managed mode: with Athena's forwarded credentials in a request, its spill, KMS, Athena and Secrets Manager calls
are signed with the *caller's* credentials, as the Java SDK's are (``getRequestOverrideConfig``).

The proof for S3 is the server's: SeaweedFS knows only the caller's access key, not the function's, so a spill
succeeds exactly when it is signed with the forwarded credentials. The token is sealed as Athena seals it: the
real AWS Encryption SDK under a KMS key of the moto server.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector import aws
from connector.credentials import SecretCache
from connector.errors import SpillError
from connector.forward_access import ForwardAccess
from connector.protocol import Identity, RemoteReadRecordsResponse
from connector.query_status import QueryStatusChecker
from spill.locations import kms_encryption_key
from tests.servers.s3 import ACCESS_KEY, SECRET_KEY, SeaweedFS
from tests.support.athena import Invoke
from tests.support.spill_data import IDENTITY, TABLE, create_events_db, events_athena, events_splits

FUNCTION_KEY = "AKIAFUNCTIONROLE0000"  # the Lambda role's credentials: unknown to SeaweedFS


@pytest.fixture
def forwarded(s3_env: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """configOptions with a token holding SeaweedFS's credentials, while the process runs as another principal."""
    import aws_encryption_sdk
    import boto3
    from aws_encryption_sdk.identifiers import CommitmentPolicy

    key_arn = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    sdk = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[key_arn])
    # No session token: SeaweedFS has no STS to check one against.
    plaintext = json.dumps({"accessToken": ACCESS_KEY, "secretToken": SECRET_KEY, "securityToken": ""})
    sealed, _ = sdk.encrypt(source=plaintext.encode(), key_provider=provider)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FUNCTION_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "function-role-secret")
    aws.clear()
    return {"fas_token": base64.b64encode(sealed).decode(), "service_kms_key_id": key_arn}


def _signing_key(client: Any) -> str:
    return str(client._request_signer._credentials.access_key)


@pytest.mark.integration
def test_a_spill_is_signed_with_the_callers_forwarded_credentials(
        forwarded: dict[str, str], s3_env: SeaweedFS, lambda_env: Callable[..., None], invoke: Invoke,
        tmp_path: Path) -> None:
    db = create_events_db(tmp_path / "events.db", 20_000)
    bucket = s3_env.new_bucket()
    lambda_env(default=f"sqlite://jdbc:sqlite:{db}", spill_bucket=bucket, enable_query_status_check="false")
    caller = Identity(account=IDENTITY.account, arn=IDENTITY.arn, config_options=forwarded)

    athena = events_athena(invoke, identity=caller)
    definition, (split,) = events_splits(athena)
    response = athena.read(TABLE, definition, split, max_block_size=262_144, max_inline_block_size=0)
    assert isinstance(response, RemoteReadRecordsResponse) and len(response.remote_blocks) > 1
    stored = s3_env.client().list_objects_v2(Bucket=bucket)["KeyCount"]
    assert stored == len(response.remote_blocks)

    # The same read without forwarded credentials is signed by the function's role, which SeaweedFS refuses:
    # so the spill above really went out under the caller's credentials.
    plain = events_athena(invoke, query_id="spill-query-2")
    definition, (split,) = events_splits(plain)
    with pytest.raises(SpillError, match="could not write spilled block"):
        plain.read(TABLE, definition, split, max_block_size=262_144, max_inline_block_size=0)


@pytest.mark.integration
def test_kms_athena_and_secrets_manager_clients_act_for_the_caller(forwarded: dict[str, str]) -> None:
    access = ForwardAccess.from_config_options(forwarded)
    assert access is not None
    with aws.acting_for(access):
        key = kms_encryption_key(forwarded["service_kms_key_id"])  # a real GenerateDataKey on moto's KMS
        checker = QueryStatusChecker("q-managed")
        secrets = SecretCache().client()
    assert len(key.key) == 16
    assert _signing_key(checker._athena()) == ACCESS_KEY  # the poll thread uses what the request thread saw
    assert _signing_key(secrets) == ACCESS_KEY
    kms_clients = [c for k, c in aws._caller_clients.items() if k[0] == "kms"]
    assert kms_clients and all(_signing_key(c) == ACCESS_KEY for c in kms_clients)
    # Outside the request, nothing acts for the caller: the function's own role signs.
    assert _signing_key(SecretCache().client()) == FUNCTION_KEY
    assert _signing_key(QueryStatusChecker("q-plain")._athena()) == FUNCTION_KEY
