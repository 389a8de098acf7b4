"""``glue_connection``: the connection string and settings read from an AWS Glue connection (moto server)."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import boto3
import pytest

from connector.config import Settings
from connector.errors import ConfigurationError
from connector.glue_connection import _connection_string, _secret_name
from tests.support.athena import LocalAthena


@pytest.fixture
def glue(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", aws_env)
    return boto3.client("glue")


def _connection(glue: object, properties: dict[str, str], athena: dict[str, str]) -> str:
    name = f"afq-{uuid.uuid4().hex[:8]}"
    glue.create_connection(ConnectionInput={  # type: ignore[attr-defined]
        "Name": name, "ConnectionType": "JDBC", "ConnectionProperties": properties, "AthenaProperties": athena})
    return name


def test_the_connection_string_and_settings_come_from_the_glue_connection(glue: object, tmp_path: Path) -> None:
    db = tmp_path / "glue.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE from_glue (id INTEGER)")
    name = _connection(glue, {"default": f"sqlite://jdbc:sqlite:{db}"},
                       {"spill_bucket": "glue-bucket", "spill_prefix": "glue-prefix", "spill_kms_key_id": "alias/k"})
    settings = Settings.from_env({"glue_connection": name, "spill_prefix": "lambda-prefix"})
    assert settings.spill_bucket == "glue-bucket" and settings.kms_key_id == "alias/k"
    assert settings.spill_prefix == "lambda-prefix"  # the Lambda's own variables win, as in Java
    with LocalAthena({"glue_connection": name, "AFQ_LOCAL_SPILL_DIR": str(tmp_path)}) as athena:
        assert athena.tables("main")[0] == ["from_glue"]


def test_a_jdbc_url_property_makes_a_jdbc_connection_string(glue: object) -> None:
    name = _connection(glue, {"JDBC_CONNECTION_URL": "jdbc:postgresql://db.example:5432/sales"}, {})
    settings = Settings.from_env({"glue_connection": name})
    assert settings.env["default"] == "jdbc://jdbc:postgresql://db.example:5432/sales"


def test_a_missing_glue_connection_is_a_configuration_error(glue: object) -> None:
    with pytest.raises(ConfigurationError, match=r"glue_connection 'nope' cannot be read .*EntityNotFound"):
        Settings.from_env({"glue_connection": "nope"})


def test_console_properties_build_the_java_connectors_urls() -> None:
    # moto's GetConnection returns neither ConnectionType nor AuthenticationConfiguration: checked directly.
    secret = _secret_name("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod-db-creds-AbCdEf")
    assert secret == "prod-db-creds"
    postgres = {"HOST": "pg.example", "PORT": "5432", "DATABASE": "sales", "JDBC_PARAMS": "ssl=true"}
    assert _connection_string("c", "POSTGRESQL", postgres, secret) == \
        "jdbc://jdbc:postgresql://pg.example:5432/sales?ssl=true&${prod-db-creds}"
    teradata = {"HOST": "td.example", "DATABASE": "dbc"}
    assert _connection_string("c", "TERADATA", teradata, secret) == \
        "teradata://jdbc:teradata://td.example/DATABASE=dbc,${prod-db-creds}"
    with pytest.raises(ConfigurationError, match="no default or JDBC_CONNECTION_URL"):
        _connection_string("c", "MONGODB", {"HOST": "x"}, None)
