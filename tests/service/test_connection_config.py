"""Connection strings, ``${secret}`` resolution against moto's Secrets Manager server, catalog multiplexing and
engine lookup - including the AWS blog forms, parsed generically (engine and secret name out, credentials
resolved, nothing leaked in ``repr`` or errors)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from connector.connection import ConnectionSpec, connection_string_for, parse_connection_string
from connector.credentials import Credentials, SecretCache, credentials_for
from connector.errors import ConfigurationError, SecretError
from connector.registry import adapter_class
from tests.support.athena import LocalAthena

BLOG_FORMS = [
    # (connection string, engine, secret name, URL without the placeholder)
    ("teradata://jdbc:teradata://host/user=u&password=p", "teradata", None,
     "jdbc:teradata://host/user=u&password=p"),
    ("snowflake://jdbc:snowflake://acct.snowflakecomputing.com/?warehouse=W&db=D&schema=S&${snowflake/athena}",
     "snowflake", "snowflake/athena", "jdbc:snowflake://acct.snowflakecomputing.com/?warehouse=W&db=D&schema=S"),
    ("oracle://jdbc:oracle:thin:${OracleAFQ_XE}@//12.345.67.89:1521/xe", "oracle", "OracleAFQ_XE",
     "jdbc:oracle:thin:@//12.345.67.89:1521/xe"),
    ("teradata://jdbc:teradata://host/TMODE=ANSI,CHARSET=UTF8,DATABASE=TEST,${Test/Teradata}", "teradata",
     "Test/Teradata", "jdbc:teradata://host/TMODE=ANSI,CHARSET=UTF8,DATABASE=TEST"),
    ("oracle://jdbc:oracle:thin:${rds!cluster-1234-abcd}@//h:1521/ORCL", "oracle", "rds!cluster-1234-abcd",
     "jdbc:oracle:thin:@//h:1521/ORCL"),
    ("jdbc://jdbc:postgresql://h:5432/db?${arn:aws:secretsmanager:us-east-1:123456789012:secret:pg-AbCdEf}&ssl=true",
     "jdbc", "arn:aws:secretsmanager:us-east-1:123456789012:secret:pg-AbCdEf", "jdbc:postgresql://h:5432/db?ssl=true"),
]


@pytest.mark.parametrize(("text", "engine", "secret", "url"), BLOG_FORMS)
def test_blog_forms_parse_generically(text: str, engine: str, secret: str | None, url: str) -> None:
    spec = parse_connection_string(text, "mycatalog")
    assert (spec.engine, spec.secret_name, spec.url_without_secrets(), spec.catalog) == (engine, secret, url,
                                                                                         "mycatalog")
    assert repr(spec) == f"ConnectionSpec(engine={engine!r}, catalog='mycatalog')"  # no URL, no credentials
    assert "password=p" not in spec.redacted()


def test_inline_credentials_are_masked_when_shown() -> None:
    spec = parse_connection_string("teradata://jdbc:teradata://host/USER=u,PASSWORD=Sup3r;x")
    assert spec.redacted() == "teradata://jdbc:teradata://host/USER=u,PASSWORD=***;x"
    oracle = parse_connection_string("oracle://jdbc:oracle:thin:scott/Tiger42@//h:1521/xe")
    assert "Tiger42" not in oracle.redacted()


@pytest.mark.parametrize("text", ["jdbc:snowflake://acct.snowflakecomputing.com/?db=D", "snowflake:/x",
                                  "://nothing", "user:Hunter2@host", ""])
def test_malformed_connection_strings_are_clear(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"<engine>://<jdbc-url>") as failure:
        parse_connection_string(text, "sales")
    assert "sales" in str(failure.value) and "Hunter2" not in str(failure.value)


# ------------------------------------------------------------------------------------------ secrets (moto)


def _secret(value: Any) -> str:
    name = f"afq/test/{uuid.uuid4().hex}"
    text = value if isinstance(value, str) else json.dumps(value)
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=text)
    return name


@pytest.mark.parametrize(("text", "engine", "secret", "url"), [f for f in BLOG_FORMS if f[2] and ":" not in f[2]])
def test_blog_form_credentials_resolve(aws_env: str, text: str, engine: str, secret: str, url: str) -> None:
    name = _secret({"USERNAME": "athena_user", "Password": "p@ss;w0rd'\"&", "port": "1521"})
    spec = parse_connection_string(text.replace("${" + secret + "}", "${" + name + "}"))
    credentials = credentials_for(spec, SecretCache())
    assert credentials is not None
    assert (credentials.username, credentials.password) == ("athena_user", "p@ss;w0rd'\"&")
    assert credentials.extra("PORT") == "1521"
    assert "p@ss" not in repr(credentials) and "***" in repr(credentials)


def test_snowflake_style_secret_keys(aws_env: str) -> None:
    name = _secret({"sfUser": "SF", "password": "x", "pem_private_key": "-----BEGIN PRIVATE KEY-----..."})
    credentials = credentials_for(parse_connection_string(f"snowflake://jdbc:snowflake://a/?${{{name}}}"),
                                  SecretCache())
    assert credentials == Credentials("SF", "x", {"sfUser": "SF", "pem_private_key": "-----BEGIN PRIVATE KEY-----..."})
    assert "BEGIN" not in repr(credentials)


def test_no_placeholder_means_no_secrets_manager_call() -> None:
    class Exploding:
        def get_secret_value(self, **kwargs: Any) -> Any:
            raise AssertionError("Secrets Manager must not be called")

    spec = parse_connection_string("teradata://jdbc:teradata://host/user=u&password=p")
    assert credentials_for(spec, SecretCache(client=Exploding())) is None


@pytest.mark.parametrize(("value", "message"), [
    ("not json {", "is not JSON"),
    ('["a list"]', "must be a JSON object"),
])
def test_malformed_secrets_are_clear_and_not_echoed(aws_env: str, value: str, message: str) -> None:
    name = _secret(value)
    with pytest.raises(SecretError, match=message) as failure:
        credentials_for(parse_connection_string(f"jdbc://jdbc:h2:mem:x;${{{name}}}"), SecretCache())
    assert name in str(failure.value) and value not in str(failure.value)


def test_missing_secret_names_the_secret(aws_env: str) -> None:
    spec = parse_connection_string("oracle://jdbc:oracle:thin:${afq/does-not-exist}@//h:1521/xe")
    with pytest.raises(SecretError, match=r"'afq/does-not-exist'.*ResourceNotFoundException"):
        credentials_for(spec, SecretCache())


def test_secrets_are_cached_with_a_ttl(aws_env: str) -> None:
    name = _secret({"username": "u", "password": "one"})
    client = boto3.client("secretsmanager")
    calls = []

    class Counting:
        def get_secret_value(self, **kwargs: Any) -> Any:
            calls.append(kwargs["SecretId"])
            return client.get_secret_value(**kwargs)

    spec = parse_connection_string(f"jdbc://jdbc:h2:mem:x;${{{name}}}")
    cache = SecretCache(ttl_seconds=3600, client=Counting())
    assert credentials_for(spec, cache).password == "one"  # type: ignore[union-attr]
    client.put_secret_value(SecretId=name, SecretString=json.dumps({"username": "u", "password": "two"}))
    assert credentials_for(spec, cache).password == "one"  # type: ignore[union-attr]
    assert calls == [name]
    cache.clear()
    assert credentials_for(spec, cache).password == "two"  # type: ignore[union-attr]
    expiring = SecretCache(ttl_seconds=0, client=Counting())
    credentials_for(spec, expiring)
    credentials_for(spec, expiring)
    assert len(calls) == 4


# ------------------------------------------------------------------------------------------ catalogs and engines


def test_catalog_multiplexing() -> None:
    env = {"default": "sqlite://jdbc:sqlite:/d.db", "Sales_connection_string": "jdbc://jdbc:h2:mem:sales",
           "hr_connection_string": "oracle://jdbc:oracle:thin:${hr}@//h:1521/xe"}
    assert connection_string_for("sales", env).url == "jdbc:h2:mem:sales"
    assert connection_string_for("HR", env).engine == "oracle"
    assert connection_string_for("lambda:my-function", env).engine == "sqlite"
    assert connection_string_for("anything_else", env).url == "jdbc:sqlite:/d.db"


def test_unknown_catalog_says_what_to_set() -> None:
    env = {"sales_connection_string": "jdbc://jdbc:h2:mem:sales"}
    with pytest.raises(ConfigurationError) as failure:
        connection_string_for("Marketing", env, function_name="my-connector")
    message = str(failure.value)
    assert "marketing_connection_string" in message and "default" in message and "sales" in message
    assert "lambda:my-connector" in message


def test_unknown_engine_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown engine 'mongo'.*jdbc.*oracle.*sqlite.*afq\.adapters"):
        adapter_class("mongo")
    with LocalAthena({"default": "mongo://jdbc:mongo://h/db"}) as athena, \
            pytest.raises(ConfigurationError, match="unknown engine 'mongo'"):
        athena.schemas()


def test_spec_repr_and_errors_never_show_the_url() -> None:
    spec = ConnectionSpec("jdbc", "jdbc:postgresql://h/db?user=u&password=Hunter2", "c")
    assert "Hunter2" not in repr(spec) and "Hunter2" not in str(spec)
