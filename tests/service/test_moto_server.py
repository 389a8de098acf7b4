"""The moto server fixture answers real Secrets Manager calls over HTTP."""

import json

import boto3


def test_secrets_manager_round_trip(aws_env: str) -> None:
    client = boto3.client("secretsmanager")
    client.create_secret(Name="fixture-check", SecretString=json.dumps({"username": "u"}))
    assert json.loads(client.get_secret_value(SecretId="fixture-check")["SecretString"]) == {"username": "u"}
    assert client.meta.endpoint_url == aws_env
