"""Secrets Manager and KMS failures through the handler, on moto's server: each is an error naming the secret or
key and what to do, never the secret's value.

Access denied comes from a moto server that enforces IAM: the Lambda's (IAM user's) policy denies the call.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from connector.config import Settings
from connector.credentials import secrets
from connector.errors import AccessDenied, SecretError
from connector.protocol import (
    Constraints,
    GetSplitsRequest,
    GetTableLayoutRequest,
    GetTableRequest,
    Identity,
    TableName,
    parse_response,
)
from connector.service import FederationService

pytestmark = pytest.mark.integration
SECRET_VALUE = "Sup3r-s3cret-PW-" + uuid.uuid4().hex[:8]


@pytest.fixture(autouse=True)
def fresh_clients() -> Iterator[None]:
    from connector import aws

    aws.clear()
    secrets.clear()
    yield
    aws.clear()
    secrets.clear()


def _get_table_with_secret(name: str, tmp_path: Path) -> None:
    settings = Settings.from_env({"default": f"jdbc://jdbc:postgresql://127.0.0.1:1/db?${{{name}}}",
                                  "AFQ_LOCAL_SPILL_DIR": str(tmp_path)})
    FederationService(settings).handle(GetTableRequest(Identity(), "q", "cat", TableName("s", "t")).to_wire())


@pytest.mark.parametrize(("kind", "message"), [
    ("missing", r"cannot read secret '{name}' from Secrets Manager: ResourceNotFoundException"),
    ("binary", r"secret '{name}' has no SecretString; store the credentials as JSON text"),
    ("text", r"secret '{name}' is not JSON; it must look like"),
])
def test_secret_problems_name_the_secret_and_what_to_do(kind: str, message: str, aws_env: str,
                                                        tmp_path: Path) -> None:
    pytest.importorskip("jpype")
    name = f"afq/fault-{uuid.uuid4().hex[:8]}"
    client = boto3.client("secretsmanager")
    if kind == "binary":
        client.create_secret(Name=name, SecretBinary=SECRET_VALUE.encode())
    elif kind == "text":
        client.create_secret(Name=name, SecretString=f"password={SECRET_VALUE}")
    with pytest.raises(SecretError, match=message.format(name=name)) as raised:
        _get_table_with_secret(name, tmp_path)
    assert SECRET_VALUE not in str(raised.value)


def _iam_lambda_user(client: Callable[..., Any], deny: list[str]) -> dict[str, str]:
    """An IAM user standing for the Lambda's role, whose policy denies ``deny``; its access keys."""
    iam = client("iam")
    iam.create_user(UserName="lambda-role")
    key = iam.create_access_key(UserName="lambda-role")["AccessKey"]
    iam.put_user_policy(UserName="lambda-role", PolicyName="connector", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                      {"Effect": "Deny", "Action": deny, "Resource": "*"}]}))
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def _as_lambda(monkeypatch: pytest.MonkeyPatch, endpoint: str, keys: dict[str, str]) -> None:
    from connector import aws

    for name, value in {**keys, "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    for service in ("SECRETS_MANAGER", "KMS", "STS"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", endpoint)
    aws.clear()


def test_secret_access_denied_by_policy_says_which_permission(moto_iam_server: tuple[str, Callable[..., Any]],
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    pytest.importorskip("jpype")
    endpoint, client = moto_iam_server
    keys = _iam_lambda_user(client, ["secretsmanager:GetSecretValue"])
    client("secretsmanager").create_secret(Name="afq/denied", SecretString=json.dumps(
        {"username": "u", "password": SECRET_VALUE}))
    _as_lambda(monkeypatch, endpoint, keys)
    with pytest.raises(SecretError, match=r"cannot read secret 'afq/denied' from Secrets Manager: access denied "
                                          r".*grant the Lambda's role secretsmanager:GetSecretValue") as raised:
        _get_table_with_secret("afq/denied", tmp_path)
    assert SECRET_VALUE not in str(raised.value)


def _get_splits(demo_db: Path, tmp_path: Path, key_id: str) -> Any:
    settings = Settings.from_env({"default": f"sqlite://jdbc:sqlite:{demo_db}", "kms_key_id": key_id,
                                  "AFQ_LOCAL_SPILL_DIR": str(tmp_path / "spill")})
    service = FederationService(settings)
    identity, table = Identity(account="1", arn="arn"), TableName("main", "orders")
    definition = parse_response(service.handle(GetTableRequest(identity, "q", "c", table).to_wire()))
    layout = parse_response(service.handle(GetTableLayoutRequest(identity, "q", "c", table, Constraints(),
                                                                 definition.schema, ()).to_wire()))
    return service.handle(GetSplitsRequest(identity, "q", "c", table, layout.partitions, (), Constraints(),
                                           None).to_wire())


def test_kms_unreachable_is_a_clear_error(aws_env: str, demo_db: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """(A disabled key cannot be shown here: moto's GenerateDataKey ignores the key state.)"""
    from connector import aws
    from connector.errors import SpillError
    from tests.servers.ports import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", f"http://127.0.0.1:{free_port()}")  # nothing listens
    aws.clear()
    with pytest.raises(SpillError, match=r"kms_key_id 'alias/spill': KMS could not be reached to make a spill data "
                                         r"key \(EndpointConnectionError"):
        _get_splits(demo_db, tmp_path, "alias/spill")


def test_kms_access_denied_by_policy_says_which_permissions(moto_iam_server: tuple[str, Callable[..., Any]],
                                                            monkeypatch: pytest.MonkeyPatch, demo_db: Path,
                                                            tmp_path: Path) -> None:
    endpoint, client = moto_iam_server
    keys = _iam_lambda_user(client, ["kms:GenerateDataKey"])
    key_id = client("kms").create_key()["KeyMetadata"]["KeyId"]
    _as_lambda(monkeypatch, endpoint, keys)
    with pytest.raises(AccessDenied, match=rf"kms_key_id '{key_id}': KMS denied a spill data key .*grant the "
                                           r"Lambda's role kms:GenerateDataKey and kms:GenerateRandom"):
        _get_splits(demo_db, tmp_path, key_id)
