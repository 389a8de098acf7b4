"""Every credential shape, through every way text leaves the process: one scrubber (``connector.redact``) for all.

The shapes are what connection strings, drivers and AWS print (issue 18's misses among them: ``user:password@``,
``password={a;b}``, ``accessToken=``, ``OAuthPvtKey=``); the entry points are the connection string's
``redacted()``, each adapter's ``translate_error`` (and the connect-error paths that name the database), the
error Lambda hands Athena, the CloudWatch log line and the ``--trace`` file. The Athena, log and trace paths run
for real: a SQLite passthrough query naming a table after the shape, which SQLite echoes in its error.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connector import logs
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.errors import ConnectorError
from connector.protocol import GetTableRequest, TableName
from connector.redact import redact_message, scrub
from tests.support.athena import IDENTITY

#: (name, text holding a secret, the secret). Each secret is unique, so finding it anywhere is a leak.
SHAPES = [
    ("url user info", "jdbc:postgresql://alice:S3cret-pw1@db:5432/shop", "S3cret-pw1"),
    ("url user info with @ and :", "postgresql://u:p@ss:w0rd-2@h/db", "ss:w0rd-2"),
    ("url query password", "jdbc:postgresql://db/shop?user=u&password=Hunt3r-3", "Hunt3r-3"),
    ("password in braces", "snowflake://jdbc:snowflake://acct/?user=u&password={a;b-4}c", "{a;b-4}"),
    ("ODBC PWD in braces", "DRIVER=x;PWD={Sec;ret-5};UID=u", "Sec;ret-5"),
    ("ODBC braces with }}", "DRIVER=x;PWD={Se}}c;ret-6};UID=u", "c;ret-6"),
    ("accessToken", "jdbc:snowflake://a/?authenticator=oauth&accessToken=eyJhbGciOi7.abc", "eyJhbGciOi7"),
    ("token", "jdbc:snowflake://a/?token=eyJhbGciOi8.abc", "eyJhbGciOi8"),
    ("OAuthPvtKey", "jdbc:snowflake://a/?OAuthPvtKey=MIIEvQIBADAN9&x=1", "MIIEvQIBADAN9"),
    ("MFA passcode", "jdbc:snowflake://a/?passcode=918273&x=1", "918273"),
    ("private key file password", "jdbc:snowflake://a/?private_key_file_pwd=k3yPw-10&x=1", "k3yPw-10"),
    ("Oracle thin user/password", "jdbc:oracle:thin:scott/Tiger-11@//h:1521/xe", "Tiger-11"),
    ("Oracle quoted password", 'jdbc:oracle:thin:scott/"Ti ger-12"@//h:1521/xe', "Ti ger-12"),
    ("Teradata PASSWORD", "jdbc:teradata://h/USER=u,PASSWORD=Tera-pw13,TMODE=ANSI", "Tera-pw13"),
    ("Teradata LDAP LOGDATA", "jdbc:teradata://h/LOGMECH=LDAP,LOGDATA=authcid=u password=LdapPw-14", "LdapPw-14"),
    ("Teradata LOGDATA", "jdbc:teradata://h/LOGMECH=TD2,LOGDATA=Td2LogData-15", "Td2LogData-15"),
    ("proxy password", "jdbc:teradata://h/https_proxy_password=Pr0xyPw-16", "Pr0xyPw-16"),
    ("JSON password", '{"password": "p w-17"}', "p w-17"),
    ("JSON password with an escaped quote", '{"user": "bob", "password": "a\\"b-18"}', 'b-18'),
    ("dict repr password", "{'password': 'p w-19'}", "p w-19"),
    ("AWS secret access key, JSON", '{"AccessKeyId": "AKIA", "SecretAccessKey": "wJalrXUtnFEMI-20"}',
     "wJalrXUtnFEMI-20"),
    ("AWS secret access key", "aws_secret_access_key=wJalrXUtnFEMI-21", "wJalrXUtnFEMI-21"),
    ("AWS session token", "X-Amz-Security-Token=FwoGZXIvYXdzEJr-22", "FwoGZXIvYXdzEJr-22"),
    ("bearer token", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x-23", "eyJhbGciOiJIUzI1NiJ9"),
    ("single-quoted password", "password = 'quoted secret-24'", "quoted secret-24"),
    ("double-quoted password", 'password="dq secret-25"', "dq secret-25"),
    ("sslpassword", "sslpassword=SslPw-26", "SslPw-26"),
    ("PEM private key", "-----BEGIN PRIVATE KEY-----\nMIIFHzBJBgkqhkiG27\n-----END PRIVATE KEY-----",
     "MIIFHzBJBgkqhkiG27"),
    ("key passphrase", "pem_private_key_passphrase: pHr4se-28", "pHr4se-28"),
    ("forward-access token", '"fas_token": "FAS-T0KEN-29"', "FAS-T0KEN-29"),
    ("client secret", "client_secret=cl1ent-30", "cl1ent-30"),
    ("API key", "apikey=Ap1Key-31", "Ap1Key-31"),
    ("URL-encoded password", "jdbc:x://h/?opts=password%3DEnc0ded-32", "Enc0ded-32"),
    ("mongodb+srv user info", "mongodb+srv://admin:M0ngo-33@cluster/db", "M0ngo-33"),
]
IDS = [name for name, _, _ in SHAPES]


@pytest.mark.parametrize(("name", "text", "secret"), SHAPES, ids=IDS)
def test_the_scrubber(name: str, text: str, secret: str) -> None:
    assert secret not in scrub(text)
    assert secret not in scrub(f"prefix {text} suffix")


@pytest.mark.parametrize(("name", "text", "secret"), SHAPES, ids=IDS)
def test_connection_string_redaction(name: str, text: str, secret: str) -> None:
    assert secret not in parse_connection_string(f"jdbc://{text}").redacted()


def test_what_is_not_a_secret_is_kept() -> None:
    text = ("nextToken=abc123 continuationToken=def456 AccessKeyId=AKIAEXAMPLE user=bob TMODE=ANSI "
            "jdbc:postgresql://db:5432/shop spill key athena-federation-spill/q/0b6f")
    assert scrub(text) == text


# ------------------------------------------------------------------------------------------ adapters

class _DriverError(Exception):
    """A driver error whose message carries the shape (no server here prints one on demand)."""


def _sqlite(path: Path) -> tuple[Any, Callable[[str], Exception]]:
    from adapters.sqlite.adapter import SqliteAdapter

    adapter = SqliteAdapter(parse_connection_string(f"sqlite://jdbc:sqlite:{path}"), Settings(env={}))
    return adapter, sqlite3.OperationalError


def _jdbc(path: Path) -> tuple[Any, Callable[[str], Exception]]:
    from adapters.jdbc.adapter import JdbcAdapter

    adapter = JdbcAdapter(parse_connection_string("jdbc://jdbc:postgresql://127.0.0.1:1/db"), Settings(env={}))
    return adapter, _DriverError


def _oracle(path: Path) -> tuple[Any, Callable[[str], Exception]]:
    oracledb = pytest.importorskip("oracledb")
    from adapters.oracle.adapter import OracleAdapter

    spec = parse_connection_string("oracle://jdbc:oracle:thin:u/p@//127.0.0.1:1/svc")
    adapter = OracleAdapter(spec, Settings(env={}))
    return adapter, lambda text: oracledb.DatabaseError(f"ORA-00604: {text}")


def _snowflake(path: Path) -> tuple[Any, Callable[[str], Exception]]:
    errors = pytest.importorskip("snowflake.connector.errors")
    from adapters.snowflake.adapter import SnowflakeAdapter

    spec = parse_connection_string("snowflake://jdbc:snowflake://acct.snowflakecomputing.com/?user=u&password=p&"
                                   "warehouse=w&db=d")
    return SnowflakeAdapter(spec, Settings.from_env({})), lambda text: errors.ProgrammingError(msg=text, errno=2003)


def _teradata(path: Path) -> tuple[Any, Callable[[str], Exception]]:
    teradatasql = pytest.importorskip("teradatasql")
    from adapters.teradata.adapter import TeradataAdapter

    adapter = TeradataAdapter(parse_connection_string("teradata://jdbc:teradata://db.example/USER=u,PASSWORD=p"),
                              Settings(env={}))
    return adapter, lambda text: teradatasql.OperationalError(f"[Version 20.0.0.72] [Session 0] [Teradata Database] "
                                                              f"[Error 3807] {text}\n at gosqldriver/x.go:84")


ADAPTERS = {"sqlite": _sqlite, "jdbc": _jdbc, "oracle": _oracle, "snowflake": _snowflake, "teradata": _teradata}


@pytest.mark.parametrize("engine", ADAPTERS)
def test_every_adapter_translates_errors_through_the_scrubber(engine: str, tmp_path: Path) -> None:
    adapter, driver_error = ADAPTERS[engine](tmp_path / "db.sqlite")
    for _, text, secret in SHAPES:
        # On one line, as drivers print what they were given: the first line is what a message keeps.
        translated = adapter.translate_error(driver_error(f"cannot use {text.replace(chr(10), ' ')} here"))
        assert isinstance(translated, ConnectorError)
        assert secret not in str(translated), (engine, text, str(translated))
        assert "***" in str(translated)


def test_connect_errors_name_the_database_but_no_secret() -> None:
    oracledb = pytest.importorskip("oracledb")
    from adapters.oracle.connect import connection_error, parse_oracle_url

    url = parse_oracle_url("jdbc:oracle:thin:scott/Tiger-pw-90@//db.example:1521/xe")
    for _, text, secret in SHAPES:
        error = connection_error(oracledb.DatabaseError(f"could not use {text.replace(chr(10), ' ')}"), url, "scott")
        assert secret not in str(error) and "db.example" in str(error)
    error = connection_error(oracledb.DatabaseError("login Tiger-pw-90 refused"), url, "scott")
    assert "Tiger-pw-90" not in str(error)


# ------------------------------------------------------------------------------------------ Athena, logs, trace

@pytest.fixture
def sqlite_catalog(lambda_env: Callable[..., None], tmp_path: Path) -> Iterator[None]:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER)")
    db.close()
    lambda_env(default=f"sqlite://jdbc:sqlite:{path}")
    yield


@pytest.fixture
def cloudwatch() -> Iterator[io.StringIO]:
    """The CloudWatch handler (JSON lines) on the afq loggers, as on Lambda."""
    stream = io.StringIO()
    handler = logs.json_handler(stream)
    logger = logging.getLogger("afq")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(("name", "text", "secret"), SHAPES, ids=IDS)
def test_errors_logs_and_traces_of_a_failed_request(sqlite_catalog: None, cloudwatch: io.StringIO,
                                                    caplog: pytest.LogCaptureFixture, name: str, text: str,
                                                    secret: str) -> None:
    from connector.local.errors import LambdaFunctionError
    from connector.local.targets import InProcessTarget, TraceWriter, TracingTarget

    assert "]" not in text  # SQLite's [name] quoting keeps the shape as it is, in the request too
    request = GetTableRequest(IDENTITY, "q1", "default", TableName("system", "query"),
                              {"query": f"SELECT * FROM [{text}]"})
    trace = io.StringIO()
    target = TracingTarget(InProcessTarget(), TraceWriter(trace))
    with caplog.at_level(logging.DEBUG), pytest.raises(LambdaFunctionError) as failed:
        target.invoke(request.to_wire())
    assert "no such table" in failed.value.message  # SQLite echoed the shape: the scrubber had work to do
    for where, printed in (("error to Athena", failed.value.message), ("log record", caplog.text),
                           ("CloudWatch line", cloudwatch.getvalue()), ("trace", trace.getvalue())):
        assert secret not in printed, (where, printed)
    assert "failed" in cloudwatch.getvalue() and trace.getvalue().count("\n") == 2


def test_trace_messages_hide_the_protocols_keys() -> None:
    message = {"@type": "ReadRecordsRequest", "identity": {"configOptions": {"fas_token": "F4S", "spill_bucket": "b"}},
               "split": {"spillLocation": {"@type": "S3SpillLocation", "bucket": "b", "key": "spill/q/0b6f"},
                         "encryptionKey": {"key": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", "nonce": "MTIz"}},
               "errorMessage": json.dumps({"password": "in-json-text-77"})}
    redacted = json.dumps(redact_message(message))
    for hidden in ("F4S", "spill/q/0b6f", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", "MTIz", "in-json-text-77"):
        assert hidden not in redacted
    assert '"spill_bucket": "b"' in redacted and '"bucket": "b"' in redacted
